//! The dh-runit input format: `debian/PACKAGE.runit` (and command-line
//! pairs), each line `PATH OPTIONS` with comma-separated options.
//!
//! Every option is understood, with its checks and warnings, as the
//! dh-runit release chosen by [`super::mode`] handles it (2.16.7 by
//! default, or bookworm's 2.15.2): `disable`, `name=`, `onupgrade=`,
//! `since=`, `logscript`, `noreplace`, `noscripts`, `presubj`, `usr`,
//! `finish`, `nofinish`, `bin=`, `defaults`. Checks are added: the service
//! name must be a valid name (dh_runit accepts `name=a/b` or a name with a
//! quote, which breaks the generated maintainer scripts), and in 2.16 mode
//! a runscript saying `##bin##` needs `bin=` (dh_runit replaces it by
//! nothing, leaving a service that cannot start).

use std::path::Path;

use super::install::{self, Op, PackagePlan, PlannedService};
use super::messages::{DhError, err, warning};
use super::mode::DhRunit;
use crate::template::{OnUpgrade, ServiceTemplate};

/// The options of one legacy entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyOptions {
    /// `disable` clears it.
    pub enable: bool,
    /// `name=`
    pub name: Option<String>,
    /// `onupgrade=`
    pub onupgrade: OnUpgrade,
    /// `since=` (deprecated, ignored).
    pub since: bool,
    /// `logscript`
    pub logscript: bool,
    /// `noreplace` (deprecated, ignored).
    pub noreplace: bool,
    /// `noscripts`
    pub noscripts: bool,
    /// `presubj`
    pub presubj: bool,
    /// `usr`
    pub usr: bool,
    /// `finish`
    pub finish: bool,
    /// `nofinish` (deprecated, ignored).
    pub nofinish: bool,
    /// `bin=`
    pub bin: Option<String>,
}

impl Default for LegacyOptions {
    fn default() -> Self {
        LegacyOptions {
            enable: true,
            name: None,
            onupgrade: OnUpgrade::Restart,
            since: false,
            logscript: false,
            noreplace: false,
            noscripts: false,
            presubj: false,
            usr: false,
            finish: false,
            nofinish: false,
            bin: None,
        }
    }
}

/// Parse the comma-separated options of one entry. An empty or missing
/// options word means the defaults (dh_runit warns about an undefined value
/// in Perl and then uses them).
pub fn parse_options(opts: &str) -> Result<LegacyOptions, DhError> {
    let mut o = LegacyOptions::default();
    let mut onupgrade: Option<&str> = None;
    for opt in opts.split(',').filter(|s| !s.is_empty()) {
        match opt.split_once('=') {
            _ if opt == "disable" => o.enable = false,
            _ if opt == "logscript" => o.logscript = true,
            _ if opt == "noreplace" => o.noreplace = true,
            _ if opt == "noscripts" => o.noscripts = true,
            _ if opt == "presubj" => o.presubj = true,
            _ if opt == "usr" => o.usr = true,
            _ if opt == "finish" => o.finish = true,
            _ if opt == "nofinish" => o.nofinish = true,
            _ if opt == "defaults" => {}
            Some(("name", v)) => o.name = (!v.is_empty()).then(|| v.to_string()),
            Some(("onupgrade", v)) => onupgrade = Some(v),
            Some(("since", v)) => o.since = !v.is_empty(),
            Some(("bin", v)) => o.bin = (!v.is_empty()).then(|| v.to_string()),
            _ => return err(format!("unknown option `{opt}'")),
        }
    }
    if let Some(v) = onupgrade {
        o.onupgrade = OnUpgrade::parse(v).ok_or_else(|| {
            DhError(format!(
                "unknown onupgrade string `{v}' (expected restart, stop, nostop or reload)"
            ))
        })?;
    }
    Ok(o)
}

/// The deprecation warnings dh_runit prints for an entry.
pub fn warn_deprecated(o: &LegacyOptions) {
    if o.nofinish {
        warning("the nofinish option is deprecated and will be removed in 3.0 release of dh-runit");
    }
    if o.since {
        warning("the since option is deprecated and will be removed in 3.0 release of dh-runit");
    }
    if o.noreplace {
        warning("the noreplace option is deprecated, please use onupgrade=nostop instead");
    }
}

/// The directory name of an entry: `name=` or the path's basename.
pub fn service_name(path: &str, o: &LegacyOptions) -> String {
    if let Some(n) = &o.name {
        return n.clone();
    }
    let trimmed = path.trim_end_matches('/');
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_string()
}

/// dh-runit's `log/run`: svlogd as `_runit-log` into `/var/log/runit/NAME`
/// (the directory is chowned and restricted first, at every start, so a log
/// directory created by the package as root:root works).
pub fn logscript(name: &str) -> String {
    let dir = format!("/var/log/runit/{name}");
    format!(
        "#!/bin/sh\nchown _runit-log:adm '{dir}'\nchmod 750 '{dir}'\nexec chpst -u _runit-log svlogd -tt '{dir}'\n"
    )
}

/// The `finish` the `finish` option installs: our finish-default, which
/// takes the exit code and signal runsv passes.
pub fn finish_script() -> &'static str {
    "#!/bin/sh\nset -e\n\nexec /usr/lib/servicebuilder/finish-default \"$@\"\n"
}

/// The reportbug presubj the `presubj` option installs.
pub fn presubj(pkg: &str) -> String {
    format!(
        "You are about to report a bug in package {pkg}. If it concerns the runit\n\
         service this package ships (its start-up, supervision or logging under\n\
         runit), please add `runit@packages.debian.org' in CC.\n\
         \n\
         If you do not use runit as your init system or service supervisor, the bug\n\
         is most likely not related to it.\n"
    )
}

/// The placeholder dh-runit 2.16 replaces by the `bin=` path in `run`.
pub const BIN_PLACEHOLDER: &str = "##bin##";

/// [`plan_entry_for`] with today's dh-runit (2.16).
pub fn plan_entry(
    root: &Path,
    path: &str,
    opts: &str,
    origin: &str,
    plan: &mut PackagePlan,
) -> Result<(), DhError> {
    plan_entry_for(DhRunit::V2_16, root, path, opts, origin, plan)
}

/// Plan one legacy entry (`PATH OPTIONS`) of package `plan.package`, with
/// the install logic of dh_runit `mode`. `origin` names the entry in errors.
pub fn plan_entry_for(
    mode: DhRunit,
    root: &Path,
    path: &str,
    opts: &str,
    origin: &str,
    plan: &mut PackagePlan,
) -> Result<(), DhError> {
    let v16 = mode == DhRunit::V2_16;
    install::check_readable(root, path).map_err(|e| DhError(format!("{e} [{origin}]")))?;
    let o = parse_options(opts).map_err(|e| DhError(format!("{e} [{origin}]")))?;
    let name = service_name(path, &o);
    crate::template::validate_service_name(&name).map_err(|e| {
        DhError(format!(
            "{e} [{origin}]; use the name= option to choose a valid one"
        ))
    })?;
    if v16 {
        if o.usr && o.bin.is_none() {
            return err(format!(
                "usr must be used together with bin option [{origin}]; add bin=/path/to/the/daemon"
            ));
        }
        if o.onupgrade == OnUpgrade::Stop && o.bin.is_some() {
            return err(format!(
                "onupgrade=stop: not compatible with bin [{origin}]; runit's trigger restarts bin= services after the upgrade: use onupgrade=restart (the default), nostop or reload, or drop bin="
            ));
        }
    } else if o.usr && !o.noscripts {
        return err(format!(
            "usr must be used together with noscripts for now [{origin}]"
        ));
    }
    let pkg = plan.package.clone();
    let tmp = plan.tmp.clone();
    let sv = if o.usr {
        format!("{tmp}/usr/share/runit/sv/{name}")
    } else {
        format!("{tmp}/etc/sv/{name}")
    };
    let meta = format!("{sv}/.meta");
    let src = root.join(path);
    let is_dir = src.is_dir();
    let is_file = src.is_file();
    if o.logscript && is_dir && install::exists(root, &format!("{path}/log/run")) {
        return err(format!(
            "logscript option but log/run already exists (in {path}/log/run) [{origin}]; drop logscript or the log/run"
        ));
    }
    let run_src = if is_dir { src.join("run") } else { src.clone() };
    // 2.16 substitutes ##bin## in the installed run; without bin= it would
    // put nothing there, so that is refused before anything is written.
    let substitute_bin = v16
        && std::fs::read(&run_src).is_ok_and(|b| {
            b.windows(BIN_PLACEHOLDER.len())
                .any(|w| w == BIN_PLACEHOLDER.as_bytes())
        });
    if substitute_bin && o.bin.is_none() {
        return err(format!(
            "{} says {BIN_PLACEHOLDER} but the entry has no bin= option [{origin}]; add bin=/path/to/the/daemon (dh_runit 2.16 would replace it by nothing)",
            if is_dir {
                format!("{path}/run")
            } else {
                path.to_string()
            }
        ));
    }
    plan.add_service(PlannedService {
        name: name.clone(),
        origin: origin.to_string(),
        enable: o.enable,
        onupgrade: o.onupgrade,
        scripts: !o.noscripts,
        postrm_only: v16 && o.bin.is_some(),
        in_etc: !o.usr,
        depends: Vec::new(),
    })?;

    let empty = |path: String| Op::Write {
        path,
        contents: Vec::new(),
        mode: 0o644,
    };
    let ops = &mut plan.ops;
    if o.onupgrade.is_noreplace() {
        ops.push(empty(format!("{meta}/noreplace")));
    }
    if v16 {
        // 2.16: the metafiles runit's trigger reads, only with bin=, and
        // only the values that differ from its defaults.
        if let Some(bin) = &o.bin {
            ops.push(Op::Write {
                path: format!("{meta}/pkg"),
                contents: pkg.clone().into_bytes(),
                mode: 0o644,
            });
            ops.push(Op::Write {
                path: format!("{meta}/bin"),
                contents: bin.clone().into_bytes(),
                mode: 0o644,
            });
            if o.onupgrade != OnUpgrade::Restart {
                ops.push(Op::Write {
                    path: format!("{meta}/onupgrade"),
                    contents: o.onupgrade.as_str().as_bytes().to_vec(),
                    mode: 0o644,
                });
            }
            if !o.enable {
                ops.push(Op::Write {
                    path: format!("{meta}/enable"),
                    contents: b"no".to_vec(),
                    mode: 0o644,
                });
            }
        }
    } else if o.usr {
        ops.push(Op::Write {
            path: format!("{meta}/pkg"),
            contents: pkg.clone().into_bytes(),
            mode: 0o644,
        });
        if let Some(bin) = &o.bin {
            ops.push(Op::Write {
                path: format!("{meta}/bin"),
                contents: bin.clone().into_bytes(),
                mode: 0o644,
            });
        }
    }
    if !o.usr {
        ops.push(empty(format!(
            "{tmp}/usr/share/runit/meta/{name}/installed"
        )));
        ops.push(empty(format!("{meta}/installed")));
        ops.push(Op::Write {
            path: format!("{meta}/servicebuilder"),
            contents: format!("package {pkg}\n").into_bytes(),
            mode: 0o644,
        });
    }
    if is_file {
        ops.push(Op::Dir {
            path: sv.clone(),
            mode: 0o755,
        });
        ops.push(Op::Install {
            src: path.to_string(),
            dst: format!("{sv}/run"),
            mode: 0o755,
        });
    } else if is_dir {
        ops.push(Op::CopyTree {
            src: path.trim_end_matches('/').to_string(),
            dst: sv.clone(),
        });
        for script in install::SCRIPTS {
            if install::is_plain_file(root, &format!("{path}/{script}")) {
                ops.push(Op::MakeExecutable {
                    path: format!("{sv}/{script}"),
                });
            }
        }
    }
    if substitute_bin && let Some(bin) = &o.bin {
        ops.push(Op::Substitute {
            path: format!("{sv}/run"),
            from: BIN_PLACEHOLDER.to_string(),
            to: bin.clone(),
        });
    }
    if (is_file || install::is_plain_file(root, &format!("{path}/run"))) && !o.usr {
        ops.push(Op::UseOurInterpreter {
            path: format!("{sv}/run"),
        });
    }
    ops.push(Op::Dir {
        path: format!("{tmp}/etc/runit/runsvdir/default"),
        mode: 0o755,
    });
    if o.finish && !(is_dir && install::exists(root, &format!("{path}/finish"))) {
        ops.push(Op::Write {
            path: format!("{sv}/finish"),
            contents: finish_script().as_bytes().to_vec(),
            mode: 0o755,
        });
    }
    if o.logscript {
        if o.usr {
            if !v16 {
                ops.push(empty(format!("{meta}/logscript")));
            }
            ops.push(Op::Dir {
                path: format!("{sv}/log"),
                mode: 0o755,
            });
        } else {
            ops.push(Op::Dir {
                path: format!("{sv}/log"),
                mode: 0o755,
            });
            ops.push(Op::Dir {
                path: format!("{tmp}/var/log/runit/{name}"),
                mode: 0o755,
            });
            ops.push(Op::Write {
                path: format!("{sv}/log/run"),
                contents: logscript(&name).into_bytes(),
                mode: 0o755,
            });
        }
    }
    if o.noscripts && !v16 {
        ops.push(empty(format!("{meta}/noscripts")));
        ops.push(Op::Write {
            path: format!("{meta}/onupgrade"),
            contents: o.onupgrade.as_str().as_bytes().to_vec(),
            mode: 0o644,
        });
        ops.push(Op::Write {
            path: format!("{meta}/enable"),
            contents: if o.enable { "yes" } else { "no" }.as_bytes().to_vec(),
            mode: 0o644,
        });
    }
    if o.presubj {
        if root.join(format!("debian/{pkg}.bug-presubj")).exists() {
            warning(&format!(
                "presubj for {pkg} already exists and takes precedence, runit presubj file not installed"
            ));
        } else {
            ops.push(Op::Write {
                path: format!("{tmp}/usr/share/bug/{pkg}/presubj"),
                contents: presubj(&pkg).into_bytes(),
                mode: 0o644,
            });
        }
    }
    warn_deprecated(&o);

    if !o.usr {
        plan.declared
            .insert(name, declared_template(root, path, is_dir, &o));
    }
    Ok(())
}

/// What `usr/share/servicebuilder/PKG.yaml` records for a legacy entry: the
/// runscript's body as `script`, with the entry's enable, onupgrade, log
/// and binary settings, so the file stays loadable by `parse_templates`.
fn declared_template(root: &Path, path: &str, is_dir: bool, o: &LegacyOptions) -> ServiceTemplate {
    let run = if is_dir {
        root.join(path).join("run")
    } else {
        root.join(path)
    };
    let body = std::fs::read(&run)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let mut t = ServiceTemplate {
        script: Some(if body.trim().is_empty() {
            format!("# installed from the dh-runit entry {path}\n")
        } else {
            body
        }),
        enable: o.enable,
        onupgrade: o.onupgrade,
        default_log: o.logscript,
        default_finish: Some(o.finish),
        binary: o.bin.clone(),
        ..ServiceTemplate::default()
    };
    if t.validate().is_err() {
        // A body the template model cannot hold (say, a NUL byte): keep
        // the record, not the text.
        t.script = Some(format!("# installed from the dh-runit entry {path}\n"));
        t.binary = None;
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_follow_dh_runit() {
        let o = parse_options("disable,name=x,onupgrade=reload,logscript,bin=/usr/bin/x").unwrap();
        assert!(!o.enable && o.logscript);
        assert_eq!(o.name.as_deref(), Some("x"));
        assert_eq!(o.onupgrade, OnUpgrade::Reload);
        assert_eq!(o.bin.as_deref(), Some("/usr/bin/x"));
        assert_eq!(parse_options("defaults").unwrap(), LegacyOptions::default());
        assert_eq!(
            parse_options("frob").unwrap_err().0,
            "unknown option `frob'"
        );
        assert!(parse_options("onupgrade=later").is_err());
        assert_eq!(
            service_name("svc/demo-run/", &LegacyOptions::default()),
            "demo-run"
        );
    }
}
