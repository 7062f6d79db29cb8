//! The YAML input, `debian/PACKAGE.runit.yaml` (and `debian/runit.yaml` for
//! the main package): a map from service name to template, rendered by
//! [`crate::render`] into `etc/sv/NAME` (or, with `layout: usr`,
//! `usr/share/runit/sv/NAME`, left to runit's dpkg trigger as dh-runit
//! 2.16 leaves its `usr,bin=` services).
//!
//! YAML files are read as they are: they are neither executed (even when
//! executable) nor subject to debhelper's `${…}` substitution, because the
//! template language has its own quoting and `$` is common in shell lines.

use std::path::Path;

use super::install::{Op, PackagePlan, PlannedService};
use super::messages::{DhError, warning};
use super::mode::DhRunit;
use crate::render::{EntryKind, RenderOptions, render_service};
use crate::template::{Layout, lint, parse_templates};

/// The `run` shebang in packages. lintian (2.116) knows the interpreter
/// basename `invoke-run` only at `/lib/runit` and flags any other direct
/// path as `E: wrong-path-for-interpreter`; through `/usr/bin/env` it does
/// not check the path, which is also how Debian's own runscripts are
/// written. The price is one exec of env(1) per service start.
pub const PACKAGED_INTERPRETER: &str = "/usr/bin/env /usr/lib/servicebuilder/invoke-run";

/// The render options for packaged services.
pub fn render_options() -> RenderOptions {
    RenderOptions {
        interpreter: PACKAGED_INTERPRETER.to_string(),
        ..RenderOptions::debian()
    }
}

/// Plan the services of one YAML file (`rel` is relative to `root`).
pub fn plan_file(
    root: &Path,
    rel: &str,
    dh_runit: DhRunit,
    plan: &mut PackagePlan,
) -> Result<(), DhError> {
    let bytes =
        std::fs::read(root.join(rel)).map_err(|e| DhError(format!("cannot read {rel}: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        DhError(format!(
            "{rel}: not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    let templates = parse_templates(&text, Path::new(rel)).map_err(|e| DhError(e.to_string()))?;
    for w in lint(&templates) {
        warning(&format!("{rel}: service {}: {}", w.service, w.message));
    }
    let tmp = plan.tmp.clone();
    let pkg = plan.package.clone();
    for (name, t) in &templates {
        let usr = t.layout == Layout::Usr;
        if usr && dh_runit == DhRunit::V2_15 {
            return Err(DhError(format!(
                "{rel}: service {name}: `layout: usr` needs runit's dpkg trigger, which \
                 enables /usr/share/runit/sv services (runit 2.2, trixie and later); this \
                 build follows dh-runit 2.15 (bookworm): use the default layout, or build \
                 for trixie or later"
            )));
        }
        plan.add_service(PlannedService {
            name: name.clone(),
            origin: rel.to_string(),
            enable: t.enable,
            onupgrade: t.onupgrade,
            scripts: true,
            // As dh-runit 2.16's usr,bin= services: enabling and upgrade
            // restarts are the trigger's; the postrm cleans up.
            postrm_only: usr,
            in_etc: !usr,
            depends: t.depends.clone(),
        })?;
        let sv = if usr {
            format!("{tmp}/usr/share/runit/sv/{name}")
        } else {
            format!("{tmp}/etc/sv/{name}")
        };
        let entries = render_service(name, t, &render_options());
        let mut has_meta = false;
        let mut has_bin = false;
        for e in entries {
            let rel_path = e.path.to_string_lossy().into_owned();
            let path = if rel_path.is_empty() {
                sv.clone()
            } else {
                format!("{sv}/{rel_path}")
            };
            has_meta |= rel_path == ".meta";
            has_bin |= rel_path == ".meta/bin";
            plan.ops.push(match e.kind {
                EntryKind::Dir { mode } => Op::Dir { path, mode },
                EntryKind::File { contents, mode } => Op::Write {
                    path,
                    contents,
                    mode,
                },
                EntryKind::Symlink { target } => Op::Symlink {
                    path,
                    target: target.to_string_lossy().into_owned(),
                },
            });
        }
        if !has_meta {
            plan.ops.push(Op::Dir {
                path: format!("{sv}/.meta"),
                mode: 0o755,
            });
        }
        let empty = |path: String| Op::Write {
            path,
            contents: Vec::new(),
            mode: 0o644,
        };
        if usr {
            // The trigger's: whose service it is, for its purge.
            plan.ops.push(Op::Write {
                path: format!("{sv}/.meta/pkg"),
                contents: pkg.clone().into_bytes(),
                mode: 0o644,
            });
        } else {
            plan.ops.push(empty(format!("{sv}/.meta/installed")));
        }
        if has_bin {
            // runit's dpkg trigger (trigger_sv, bookworm to sid) links every
            // /etc/sv service with a .meta/bin whose binary exists, unless
            // .meta/enable says otherwise, and restarts it on upgrades
            // unless .meta/onupgrade says otherwise: the same two files
            // dh-runit 2.16 writes, with its defaults left unwritten.
            if !t.enable {
                plan.ops.push(Op::Write {
                    path: format!("{sv}/.meta/enable"),
                    contents: b"no".to_vec(),
                    mode: 0o644,
                });
            }
            if t.onupgrade != crate::template::OnUpgrade::Restart {
                plan.ops.push(Op::Write {
                    path: format!("{sv}/.meta/onupgrade"),
                    contents: t.onupgrade.as_str().as_bytes().to_vec(),
                    mode: 0o644,
                });
            }
        }
        if !usr {
            // As dh-runit, which writes neither for its usr services.
            plan.ops.push(Op::Write {
                path: format!("{sv}/.meta/servicebuilder"),
                contents: format!("package {pkg}\n").into_bytes(),
                mode: 0o644,
            });
            plan.ops.push(empty(format!(
                "{tmp}/usr/share/runit/meta/{name}/installed"
            )));
        }
        if t.default_log {
            plan.ops.push(Op::Dir {
                path: format!("{tmp}/var/log/runit/{name}"),
                mode: 0o755,
            });
        }
        plan.ops.push(Op::Dir {
            path: format!("{tmp}/etc/runit/runsvdir/default"),
            mode: 0o755,
        });
        plan.declared.insert(name.clone(), t.clone());
    }
    Ok(())
}
