//! `activate`, `rebuild`, `prune`, `check` and `render`.

use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::args::RootArgs;
use crate::builder::{Report, ServiceBuilder};
use crate::render::{EntryKind, RenderOptions, render_service};
use crate::template::{self, Templates};

/// The builder the root options describe.
pub fn builder(roots: &RootArgs) -> ServiceBuilder {
    ServiceBuilder {
        config_root: roots.config_root.clone(),
        staging_root: roots.staging_root.clone(),
        runit_root: roots.runit_root.clone(),
        render: render_options(roots),
        ..Default::default()
    }
}

fn render_options(roots: &RootArgs) -> RenderOptions {
    RenderOptions {
        interpreter: roots.interpreter.clone(),
        finish_default: roots.finish_default.clone(),
        log_root: roots.log_root.to_string_lossy().into_owned(),
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

/// `servicebuilder activate NAME FILE`.
pub fn activate(roots: &RootArgs, name: &str, file: &Path) -> Result<ExitCode> {
    let templates = load(file)?;
    print_warnings(&templates, file);
    let report = builder(roots)
        .activate(name, &templates)
        .with_context(|| format!("cannot activate `{name}`"))?;
    summary("activated", &report);
    Ok(ExitCode::SUCCESS)
}

/// `servicebuilder rebuild [--prune]`, and the original's bare `-c -s -d`.
pub fn rebuild(roots: &RootArgs, prune: bool) -> Result<ExitCode> {
    let b = builder(roots);
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
    let report = builder(roots).prune().context("cannot prune")?;
    for p in &report.removed {
        eprintln!("servicebuilder: removed {}", p.display());
    }
    print_deferred(&report);
    Ok(ExitCode::SUCCESS)
}

/// `servicebuilder check FILE…`.
pub fn check(files: &[std::path::PathBuf]) -> Result<ExitCode> {
    let mut failed = false;
    for file in files {
        match load(file) {
            Ok(t) => {
                print_warnings(&t, file);
                println!("{}: ok ({} service(s))", file.display(), t.len());
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
                EntryKind::Dir { mode } => {
                    writeln!(out, "==> {}/ (dir {mode:04o})", path.display())?
                }
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
