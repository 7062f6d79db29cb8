//! The debhelper side: `dh_servicebuilder`, a Rust debhelper command with
//! the Dh_Lib subset it needs (options and environment, debian/control,
//! compat level, package selection, pkgfile lookup, autoscripts, substvars
//! and the debhelper log), the dh-runit input format and the YAML input.
//!
//! Flow of one run ([`run`]): read debian/control and the compat level,
//! parse the options, select the packages, then *plan* every package
//! (reading and checking all input) before anything is written; then carry
//! out the plans, merge the maintainer-script snippets and substvars, and
//! write the log when debhelper would.

pub mod arch;
pub mod autoscript;
pub mod control;
pub mod install;
pub mod legacy;
pub mod messages;
pub mod mode;
pub mod options;
pub mod packages;
pub mod pkgfile;
pub mod profiles;
pub mod substvars;
pub mod yaml_input;

use std::path::Path;

use arch::{ArchTable, ArchValues};
use autoscript::Script;
use control::Control;
use install::PackagePlan;
use messages::{DhError, TOOL, Verbose};
use options::{Env, Parsed};
use packages::Selection;

/// The dependency every package with services gets in `misc:Depends`.
pub fn runtime_dependency() -> String {
    format!("servicebuilder (>= {})", autoscript::VERSION)
}

/// The outcome of a run that did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Acted on these packages (possibly none had input).
    Done(Vec<String>),
    /// Nothing to act on (a warning was printed); exit 0.
    Nothing,
    /// `--help` was printed; exit 1 as Dh_Getopt does.
    Help,
}

/// The packages debhelper would act on, with the same messages: the logic
/// `dh_listpackages` shares with every debhelper command.
pub fn select_packages(argv: &[String], env: &Env, root: &Path) -> Result<Outcome, DhError> {
    let ctx = Context::load(argv, env, root)?;
    Ok(match ctx {
        Loaded::Ready(ctx) => Outcome::Done(ctx.packages),
        Loaded::Nothing => Outcome::Nothing,
        Loaded::Help => Outcome::Help,
    })
}

struct Context {
    control: Control,
    opts: options::Options,
    compat: control::Compat,
    values: ArchValues,
    packages: Vec<String>,
    mainpackage: String,
}

enum Loaded {
    Ready(Box<Context>),
    Nothing,
    Help,
}

impl Context {
    fn load(argv: &[String], env: &Env, root: &Path) -> Result<Loaded, DhError> {
        let control = Control::load(root)?;
        let compat = control::compat(root, &control, env.get("DH_COMPAT"))?;
        compat.check()?;
        let values = ArchValues::default();
        let lists = packages::package_lists(&control, env, &values, ArchTable::system())?;
        let opts = match options::parse(argv, env, &lists, true, Some(compat.level))? {
            Parsed::Help => return Ok(Loaded::Help),
            Parsed::Run(o) => *o,
        };
        let selection = packages::select(&opts, &lists, &control, root, || {
            values.get(env, "DEB_HOST_ARCH")
        })?;
        let packages = match selection {
            Selection::Nothing => return Ok(Loaded::Nothing),
            Selection::Act(p) => p,
        };
        let mainpackage = opts
            .mainpackage
            .clone()
            .or_else(|| control.packages.first().map(|p| p.name.clone()))
            .unwrap_or_default();
        Ok(Loaded::Ready(Box::new(Context {
            control,
            opts,
            compat,
            values,
            packages,
            mainpackage,
        })))
    }
}

/// Run dh_servicebuilder in the source tree `root`.
pub fn run(argv: &[String], env: &Env, root: &Path) -> Result<Outcome, DhError> {
    let ctx = match Context::load(argv, env, root)? {
        Loaded::Ready(c) => c,
        Loaded::Nothing => return Ok(Outcome::Nothing),
        Loaded::Help => return Ok(Outcome::Help),
    };
    let verbose = Verbose(ctx.opts.verbose);
    let no_act = ctx.opts.no_act;
    let dh_runit = mode::choose(ctx.opts.dh_runit.as_deref(), env, root)?;
    let lookup = pkgfile::Lookup {
        root,
        env,
        values: &ctx.values,
        name: ctx.opts.name.as_deref(),
        mainpackage: &ctx.mainpackage,
    };

    // Plan everything first: bad input must leave debian/PKG/ untouched.
    let mut plans: Vec<PackagePlan> = Vec::new();
    let mut cli_pairs: Option<Vec<String>> = Some(ctx.opts.args.clone());
    for pkg in &ctx.packages {
        let Some(info) = ctx.control.packages.iter().find(|p| p.name == *pkg) else {
            continue;
        };
        if info.is_udeb() {
            continue;
        }
        let mut plan = PackagePlan {
            package: pkg.clone(),
            tmp: ctx
                .opts
                .tmpdir
                .clone()
                .unwrap_or_else(|| format!("debian/{pkg}")),
            ..PackagePlan::default()
        };
        if let Some(rel) = lookup.pkgfile(pkg, &info.cross_type, "runit.yaml")? {
            yaml_input::plan_file(root, &rel, dh_runit, &mut plan)?;
        }
        if let Some(rel) = lookup.pkgfile(pkg, &info.cross_type, "runit")? {
            let lines = pkgfile::filedoublearray(&lookup, &rel, ctx.compat.level, &ctx.packages)?;
            for (i, words) in lines.iter().enumerate() {
                let origin = format!("{rel}, entry {}", i + 1);
                let opts = words.get(1).map(String::as_str).unwrap_or("");
                legacy::plan_entry_for(dh_runit, root, &words[0], opts, &origin, &mut plan)?;
            }
        }
        // Command-line pairs go to the first package acted on, as in dh_runit.
        if let Some(args) = cli_pairs.take() {
            for (i, pair) in args.chunks(2).enumerate() {
                let origin = format!("command-line pair {}", i + 1);
                let opts = pair.get(1).map(String::as_str).unwrap_or("");
                legacy::plan_entry_for(dh_runit, root, &pair[0], opts, &origin, &mut plan)?;
            }
        }
        if !plan.services.is_empty() {
            // A dependency cycle is bad input too: found before writing.
            plan.snippet_order()?;
            plans.push(plan);
        }
    }

    for plan in &mut plans {
        finish_plan(plan);
    }
    for plan in &plans {
        install::execute(&plan.ops, root, verbose, no_act)?;
        write_snippets(root, plan, env, dh_runit, verbose, no_act)?;
        write_substvars(root, plan, &ctx.control, verbose, no_act)?;
    }

    let internal_override = env
        .get("DH_INTERNAL_OVERRIDE")
        .is_some_and(|v| !v.is_empty() && v != "0");
    if !no_act && (ctx.compat.level <= 9 || internal_override) {
        for pkg in &ctx.packages {
            let log = root.join(format!("debian/{pkg}.debhelper.log"));
            use std::io::Write;
            std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(&log)
                .and_then(|mut f| writeln!(f, "{TOOL}"))
                .map_err(|e| {
                    DhError(format!(
                        "failed to write to debian/{pkg}.debhelper.log: {e}"
                    ))
                })?;
        }
    }
    Ok(Outcome::Done(ctx.packages.clone()))
}

/// Add what follows from the whole package: the declared templates file.
fn finish_plan(plan: &mut PackagePlan) {
    if plan.declared.is_empty() {
        return;
    }
    plan.ops.push(install::Op::Write {
        path: format!(
            "{}/usr/share/servicebuilder/{}.yaml",
            plan.tmp, plan.package
        ),
        contents: crate::template::to_yaml(&plan.declared).into_bytes(),
        mode: 0o644,
    });
}

fn write_snippets(
    root: &Path,
    plan: &PackagePlan,
    env: &Env,
    dh_runit: mode::DhRunit,
    verbose: Verbose,
    no_act: bool,
) -> Result<(), DhError> {
    // The order dh_runit adds (and prints) each service's snippets in;
    // each file's contents do not depend on it.
    let scripts = match dh_runit {
        mode::DhRunit::V2_15 => [Script::Postrm, Script::Postinst, Script::Prerm],
        mode::DhRunit::V2_16 => [Script::Postinst, Script::Prerm, Script::Postrm],
    };
    let mut blocks: Vec<(Script, Vec<String>)> = scripts.iter().map(|s| (*s, Vec::new())).collect();
    let mut exists: Vec<bool> = scripts
        .iter()
        .map(|s| root.join(debhelper_file(&plan.package, *s)).exists())
        .collect();
    for svc in plan.snippet_order()?.into_iter().filter(|s| s.scripts) {
        let enable = if svc.enable { "yes" } else { "no" };
        let subst = [
            ("NAME", svc.name.as_str()),
            ("ENABLE", enable),
            ("ONUPGRADE", svc.onupgrade.as_str()),
            ("PACKAGE", plan.package.as_str()),
        ];
        for (i, (script, list)) in blocks.iter_mut().enumerate() {
            let file = debhelper_file(&plan.package, *script);
            let body = autoscript::substitute(
                &autoscript::template(*script, env.get("DH_AUTOSCRIPTDIR")),
                &subst,
            );
            if svc.postrm_only && *script != Script::Postrm {
                continue;
            }
            list.push(autoscript::block(&body));
            if script.prepends() && exists[i] {
                verbose.print(&format!(
                    "[META] Prepend autosnippet \"{}\" to {} [{file}.new]",
                    script.snippet_name(),
                    script.as_str()
                ));
                verbose.print(&format!(
                    "mv {}",
                    messages::escape_shell(&[format!("{file}.new"), file])
                ));
            } else {
                verbose.print(&format!(
                    "[META] Append autosnippet \"{}\" to {} [{file}]",
                    script.snippet_name(),
                    script.as_str()
                ));
            }
            exists[i] = true;
        }
    }
    if no_act {
        return Ok(());
    }
    for (script, list) in blocks {
        if list.is_empty() {
            continue;
        }
        let rel = debhelper_file(&plan.package, script);
        let path = root.join(&rel);
        let old = match std::fs::read_to_string(&path) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(DhError(format!("cannot read {rel}: {e}"))),
        };
        let new = autoscript::merge(old.as_deref(), script, &list);
        if old.as_deref() != Some(new.as_str()) {
            install::write_file(&path, new.as_bytes(), 0o644)
                .map_err(|e| DhError(format!("cannot write {rel}: {e}")))?;
        }
    }
    Ok(())
}

fn debhelper_file(pkg: &str, script: Script) -> String {
    format!("debian/{pkg}.{}.debhelper", script.as_str())
}

fn write_substvars(
    root: &Path,
    plan: &PackagePlan,
    control: &Control,
    verbose: Verbose,
    no_act: bool,
) -> Result<(), DhError> {
    let rel = format!("debian/{}.substvars", plan.package);
    let path = root.join(&rel);
    let mut items = vec![("misc:Depends".to_string(), runtime_dependency())];
    // dh_runit's runit:Breaks/Conflicts, only where debian/control uses
    // them: defined-but-unused substvars make dpkg-gencontrol warn.
    if let Some(info) = control.packages.iter().find(|p| p.name == plan.package) {
        for var in ["runit:Breaks", "runit:Conflicts"] {
            let token = format!("${{{var}}}");
            if info.fields.iter().any(|(_, v)| v.contains(&token)) {
                items.insert(0, (var.to_string(), "runit (<< 2.1.2-51~)".to_string()));
            }
        }
    }
    let mut text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(DhError(format!("cannot read {rel}: {e}"))),
    };
    for (var, item) in items {
        if let Some(new) = substvars::add(&text, &var, &item) {
            verbose.print(&format!(
                "mv {}",
                messages::escape_shell(&[format!("{rel}.new"), rel.clone()])
            ));
            if !no_act {
                install::write_file(&path, new.as_bytes(), 0o644)
                    .map_err(|e| DhError(format!("cannot write {rel}: {e}")))?;
            }
            text = new;
        }
    }
    Ok(())
}

/// The whole command: parse, run, print errors debhelper-style; returns the
/// exit code.
pub fn main(argv: &[String]) -> i32 {
    let env = Env::from_process();
    match run(argv, &env, Path::new(".")) {
        Ok(Outcome::Done(_)) | Ok(Outcome::Nothing) => 0,
        Ok(Outcome::Help) => {
            print!("{}", options::usage());
            1
        }
        Err(e) => {
            messages::print_error(&e.0);
            255
        }
    }
}
