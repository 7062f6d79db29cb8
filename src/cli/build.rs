//! `activate`, `rebuild`, `prune`, `check` and `render`.

use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

use std::time::Duration;

use anyhow::{Context, Result};

use super::args::RootArgs;
use crate::builder::{Report, ServiceBuilder, absolute};
use crate::render::{EntryKind, RenderOptions, render_service};
use crate::sv::SvError;
use crate::sv::rescan;
use crate::template::{self, Templates};

/// The builder the root options describe.
/// The builder the root options describe. Relative roots are made
/// absolute here: a link written as given (`-s sv`) would resolve from the
/// runit root, not from where the command ran, and dangle.
pub fn builder(roots: &RootArgs) -> Result<ServiceBuilder> {
    Ok(ServiceBuilder {
        config_root: absolute(&roots.config_root)?,
        staging_root: absolute(&roots.staging_root)?,
        runit_root: absolute(&roots.runit_root)?,
        render: render_options(roots),
        ..Default::default()
    })
}

fn render_options(roots: &RootArgs) -> RenderOptions {
    RenderOptions {
        interpreter: roots.interpreter.clone(),
        finish_default: roots.finish_default.clone(),
        log_root: roots.log_root.to_string_lossy().into_owned(),
        runit_root: std::path::absolute(&roots.runit_root)
            .ok()
            .map(|p| p.to_string_lossy().into_owned()),
        host_log: true,
    }
}

fn load(file: &Path) -> Result<Templates> {
    if file == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the templates from standard input")?;
        return Ok(template::parse_templates(&text, Path::new("<stdin>"))?);
    }
    Ok(template::load_file(file)?)
}

fn summary(verb: &str, report: &Report) {
    eprintln!(
        "servicebuilder: {verb} {} service(s): {} path(s) written, {} removed",
        report.services.len(),
        report.written.len(),
        report.removed.len()
    );
    print_kept(report);
    for file in &report.edited {
        eprintln!(
            "servicebuilder: {file} was edited by hand; the template's version replaced it and \
             the edited file is kept (see above); put the change into the template to keep it"
        );
    }
    for service in &report.restarted {
        eprintln!(
            "servicebuilder: told the runsv of `{service}` to exit, so that runsvdir starts \
             one that sees its changed log service (runsv reads log/ only when it starts)"
        );
    }
}

/// Log history and an admin's files are moved, never deleted: say where.
fn print_kept(report: &Report) {
    for p in &report.kept {
        eprintln!(
            "servicebuilder: kept log history and files servicebuilder did not make in {}",
            p.display()
        );
    }
}

fn print_warnings(templates: &Templates, origin: &Path) {
    for w in template::lint(templates) {
        eprintln!(
            "servicebuilder: warning: {}: service `{}`: {}",
            origin.display(),
            w.service,
            w.message
        );
    }
}

/// `servicebuilder activate NAME FILE`; with `wait`, the seconds to wait
/// for each linked service to come up.
pub fn activate(roots: &RootArgs, name: &str, file: &Path, wait: Option<u64>) -> Result<ExitCode> {
    let templates = load(file)?;
    print_warnings(&templates, file);
    let b = builder(roots)?;
    let report = b
        .activate(name, &templates)
        .with_context(|| format!("cannot activate `{name}`"))?;
    summary("activated", &report);
    let Some(secs) = wait else {
        rescan::poke(&b.runit_root);
        return Ok(ExitCode::SUCCESS);
    };
    let enabled: Vec<&String> = templates
        .iter()
        .filter(|(n, t)| t.enable && !b.disabled_by_admin(n))
        .map(|(n, _)| n)
        .collect();
    if enabled.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    if rescan::runsvdirs_watching(&b.runit_root).is_empty() {
        eprintln!(
            "servicebuilder: no runsvdir watches {}: the services start when one does",
            b.runit_root.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut code = ExitCode::SUCCESS;
    for service in enabled {
        let dir = b.runit_root.join(service);
        let came = rescan::come_up(&b.runit_root, &dir, Duration::from_secs(secs));
        let c = report_come_up(roots, service, came);
        if c != ExitCode::SUCCESS {
            code = c;
        }
    }
    Ok(code)
}

/// Says how a service came up, or why not with its last log lines; the
/// exit code (4 when it did not come up in time).
pub fn report_come_up(
    roots: &RootArgs,
    service: &str,
    came: Result<rescan::CameUp, SvError>,
) -> ExitCode {
    match came {
        Ok(rescan::CameUp::Running(st)) => {
            eprintln!("servicebuilder: {service} is up (pid {})", st.pid);
            ExitCode::SUCCESS
        }
        Ok(rescan::CameUp::Gone) => {
            eprintln!(
                "servicebuilder: {service} was unlinked meanwhile (by another run); not waiting for it"
            );
            ExitCode::SUCCESS
        }
        Ok(rescan::CameUp::NormallyDown(_)) => {
            eprintln!(
                "servicebuilder: {service} is supervised; it has a down file, so it was not started"
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("servicebuilder: error: {service} did not come up: {e}");
            if let Some(dir) = super::logs::log_dir(roots, service)
                && let Ok(lines) = super::logs::last_lines(&dir, 5)
                && !lines.is_empty()
            {
                eprintln!(
                    "servicebuilder: the last lines of its log ({}):",
                    dir.display()
                );
                for l in lines {
                    eprintln!("  {l}");
                }
            }
            ExitCode::from(super::control::exit_code(&e))
        }
    }
}

/// `servicebuilder rebuild [--prune]`, and the original's bare `-c -s -d`.
pub fn rebuild(roots: &RootArgs, prune: bool) -> Result<ExitCode> {
    let b = builder(roots)?;
    let mut report = b.rebuild().context("cannot rebuild")?;
    for e in &report.errors {
        eprintln!("servicebuilder: error: {e}");
    }
    let failed = !report.errors.is_empty();
    summary("rebuilt", &report);
    if prune {
        if failed {
            eprintln!("servicebuilder: not pruning, because the rebuild failed");
        } else {
            report = b.prune().context("cannot prune")?;
            eprintln!("servicebuilder: pruned {} path(s)", report.removed.len());
            print_kept(&report);
            print_deferred(&report);
        }
    }
    Ok(if failed {
        ExitCode::from(super::EXIT_FAILURE)
    } else {
        ExitCode::SUCCESS
    })
}

/// Staged directories whose runsv outlived the wait are kept for the next
/// prune; say so, since nothing else shows it.
fn print_deferred(report: &Report) {
    for p in &report.deferred {
        eprintln!(
            "servicebuilder: kept {}: its runsv still runs {} s after its link was \
             removed; the next prune removes it",
            p.display(),
            crate::builder::PRUNE_WAIT.as_secs()
        );
    }
}

/// `servicebuilder prune`.
pub fn prune(roots: &RootArgs) -> Result<ExitCode> {
    let report = builder(roots)?.prune().context("cannot prune")?;
    for p in &report.removed {
        eprintln!("servicebuilder: removed {}", p.display());
    }
    print_kept(&report);
    print_deferred(&report);
    Ok(ExitCode::SUCCESS)
}

/// `servicebuilder diff [SERVICE…]`: local edits of staged directories,
/// as diff(1) says them; exit 1 when there are some.
pub fn diff(roots: &RootArgs, services: &[String]) -> Result<ExitCode> {
    let b = builder(roots)?;
    let mut any = false;
    let mut out = std::io::stdout().lock();
    let mut found = std::collections::BTreeSet::new();
    for file in b.config_files()? {
        let templates = template::load_file(&file)?;
        for (service, t) in &templates {
            if !services.is_empty() && !services.contains(service) {
                continue;
            }
            found.insert(service.clone());
            if !b.staging_root.join(service).is_dir() {
                continue;
            }
            for e in b.local_edits(service, t)? {
                any = true;
                writeln!(
                    out,
                    "--- {service}/{} (rendered from {})",
                    e.path,
                    file.display()
                )?;
                writeln!(out, "+++ {service}/{} (staged)", e.path)?;
                let (a, s) = (
                    String::from_utf8_lossy(&e.rendered),
                    String::from_utf8_lossy(&e.staged),
                );
                out.write_all(crate::builder::edits::line_diff(&a, &s).as_bytes())?;
            }
            for extra in crate::builder::foreign_entries(&b.staging_root.join(service))? {
                any = true;
                writeln!(out, "Only in the staged directory: {service}/{extra}")?;
            }
        }
    }
    for s in services {
        if !found.contains(s) {
            anyhow::bail!("no template in {} declares `{s}`", b.config_root.display());
        }
    }
    Ok(if any {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `servicebuilder check FILE…`.
pub fn check(files: &[std::path::PathBuf]) -> Result<ExitCode> {
    let mut failed = false;
    // As activate, rebuild and prune see them: one service, one file.
    let mut declared: std::collections::BTreeMap<String, &Path> = Default::default();
    for file in files {
        match load(file) {
            Ok(t) => {
                print_warnings(&t, file);
                let mut twice = false;
                for service in t.keys() {
                    match declared.get(service) {
                        Some(first) => {
                            eprintln!(
                                "servicebuilder: error: service `{service}` is declared in both \
                                 {} and {}; remove one",
                                first.display(),
                                file.display()
                            );
                            twice = true;
                        }
                        None => {
                            declared.insert(service.clone(), file);
                        }
                    }
                }
                failed |= twice;
                if !twice {
                    println!("{}: ok ({} service(s))", file.display(), t.len());
                }
            }
            Err(e) => {
                eprintln!("servicebuilder: error: {e:#}");
                failed = true;
            }
        }
    }
    Ok(if failed {
        ExitCode::from(super::EXIT_FAILURE)
    } else {
        ExitCode::SUCCESS
    })
}

/// `servicebuilder render FILE [--to DIR]`.
pub fn render(roots: &RootArgs, file: &Path, to: Option<&Path>) -> Result<ExitCode> {
    let templates = load(file)?;
    print_warnings(&templates, file);
    let opts = render_options(roots);
    if let Some(dir) = to {
        let b = ServiceBuilder {
            staging_root: dir.to_owned(),
            render: opts,
            ..Default::default()
        };
        crate::fsx::ensure_root(dir)?;
        let origin = file.file_name().unwrap_or_default().to_string_lossy();
        for (name, t) in &templates {
            b.stage(name, t, &origin)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = std::io::stdout().lock();
    for (name, t) in &templates {
        for e in render_service(name, t, &opts) {
            let path = Path::new(name).join(&e.path);
            match e.kind {
                EntryKind::Dir { mode } => writeln!(
                    out,
                    "==> {}/ (dir {mode:04o})",
                    path.display().to_string().trim_end_matches('/')
                )?,
                EntryKind::File { contents, mode } => {
                    writeln!(out, "==> {} ({mode:04o})", path.display())?;
                    out.write_all(&contents)?;
                }
                EntryKind::Symlink { target } => {
                    writeln!(out, "==> {} -> {}", path.display(), target.display())?
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
