//! `enable` and `disable`, the Debian way: a service is enabled by its
//! link in the runit root (`/etc/service` is `/etc/runit/runsvdir/current`,
//! which is `default`), and an admin's disable is the dot-link `.NAME`
//! beside it, which runit-helper, runit's trigger and update-service leave
//! alone on package upgrades.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::args::RootArgs;
use crate::builder::absolute;
use crate::sv::rescan;
use crate::sv::{RunitSv, Service, Sv};

/// Where Debian's runit 2.2 and later keep packaged services (runit-services'
/// among them): `sv.current` is the trigger's refreshed copy of `sv`.
const PACKAGED_SV: [&str; 2] = ["/usr/share/runit/sv.current", "/usr/share/runit/sv"];

/// The service directory `service` names: where its link (or its disable
/// mark) in the runit root points, else in the staging root (`/etc/sv`),
/// else among the packaged services of runit 2.2 and later; it must be a
/// runit service (a directory with an executable `run`).
fn service_dir(roots: &RootArgs, service: &str) -> Result<PathBuf> {
    crate::template::validate_service_name(service).map_err(anyhow::Error::msg)?;
    let is_service = |dir: &Path| {
        fs::metadata(dir.join("run")).is_ok_and(|m| {
            m.is_file() && std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0
        })
    };
    let mut candidates = Vec::new();
    for l in [
        roots.runit_root.join(service),
        roots.runit_root.join(format!(".{service}")),
    ] {
        if let Ok(t) = fs::read_link(&l) {
            candidates.push(if t.is_absolute() {
                t
            } else {
                roots.runit_root.join(t)
            });
        }
    }
    candidates.push(absolute(&roots.staging_root)?.join(service));
    candidates.extend(PACKAGED_SV.iter().map(|d| Path::new(d).join(service)));
    if let Some(dir) = candidates.into_iter().find(|d| is_service(d)) {
        return Ok(dir);
    }
    bail!(
        "`{service}` is not a runit service: no directory with an executable run file \
         in {}, {} or {}",
        roots.staging_root.display(),
        PACKAGED_SV[0],
        PACKAGED_SV[1]
    );
}

fn is_link(p: &Path) -> bool {
    fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink())
}

/// `servicebuilder enable NAME [--now]`.
pub fn enable(roots: &RootArgs, service: &str, wait: Option<u64>) -> Result<ExitCode> {
    let dir = service_dir(roots, service)?;
    let root = &roots.runit_root;
    let link = root.join(service);
    let dot = root.join(format!(".{service}"));
    match fs::symlink_metadata(&link) {
        Ok(m) if m.file_type().is_symlink() => {
            let target = fs::read_link(&link)?;
            if target != dir && fs::canonicalize(&link).ok() != fs::canonicalize(&dir).ok() {
                bail!(
                    "{} already points to {}; remove it first to enable {}",
                    link.display(),
                    target.display(),
                    dir.display()
                );
            }
        }
        Ok(_) => bail!(
            "{} exists and is not a link; move it away first",
            link.display()
        ),
        Err(_) => {
            crate::fsx::ensure_root(root)?;
            crate::fsx::symlink_swap(&dir, &link)?;
            eprintln!(
                "servicebuilder: linked {} -> {}",
                link.display(),
                dir.display()
            );
        }
    }
    if is_link(&dot) || dot.exists() {
        fs::remove_file(&dot).with_context(|| format!("cannot remove {}", dot.display()))?;
        eprintln!("servicebuilder: removed the disable mark {}", dot.display());
    }
    let Some(secs) = wait else {
        rescan::poke(root);
        return Ok(ExitCode::SUCCESS);
    };
    if rescan::runsvdirs_watching(root).is_empty() {
        eprintln!(
            "servicebuilder: no runsvdir watches {}: {service} starts when one does",
            root.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    Ok(super::build::report_come_up(
        roots,
        service,
        rescan::come_up(root, &link, Duration::from_secs(secs)),
    ))
}

/// `servicebuilder disable NAME [--now]`.
pub fn disable(roots: &RootArgs, service: &str, wait: Option<u64>) -> Result<ExitCode> {
    let dir = service_dir(roots, service)?;
    let root = &roots.runit_root;
    let link = root.join(service);
    let dot = root.join(format!(".{service}"));
    let mut code = ExitCode::SUCCESS;
    if let Some(secs) = wait
        && link.join("supervise/ok").exists()
    {
        let sv = RunitSv {
            kill: true,
            ..RunitSv::default()
        };
        let svc = Service::new(root, service);
        match sv.stop(&svc, Duration::from_secs(secs)) {
            Ok(line) => println!("{line}"),
            Err(e) => {
                eprintln!("servicebuilder: {e}");
                code = ExitCode::from(super::control::exit_code(&e));
            }
        }
    }
    if is_link(&link) {
        fs::remove_file(&link).with_context(|| format!("cannot remove {}", link.display()))?;
        eprintln!("servicebuilder: removed {}", link.display());
    } else if link.exists() {
        bail!(
            "{} is not a link; it cannot be disabled the Debian way (move it to the staging \
             root and link it)",
            link.display()
        );
    }
    if !is_link(&dot) && !dot.exists() {
        crate::fsx::ensure_root(root)?;
        crate::fsx::symlink_swap(&dir, &dot)?;
        eprintln!(
            "servicebuilder: left the disable mark {} (package upgrades keep it disabled)",
            dot.display()
        );
    }
    rescan::poke(root);
    if let Some(secs) = wait {
        // With --now the service's runsv is gone too when this returns, so
        // that an enable right after starts a fresh one.
        let end = std::time::Instant::now() + Duration::from_secs(secs);
        let ok = dir.join("supervise/ok");
        while crate::fsx::Dir::open(&dir)?.has_reader("supervise/ok")? {
            if std::time::Instant::now() >= end {
                eprintln!(
                    "servicebuilder: warning: the runsv of {} still runs ({} has a reader)",
                    dir.display(),
                    ok.display()
                );
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
            rescan::poke(root);
        }
    }
    Ok(code)
}
