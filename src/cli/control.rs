//! `status`, `start`, `stop`, `restart` and `once`: thin front ends over
//! [`crate::sv`].
//!
//! A SERVICE is a name in the runit root, or a path (it starts with `/` or
//! `.`), as with `sv`.
//!
//! Exit codes (the same for every one of these commands):
//!
//! | code | meaning |
//! |---|---|
//! | 0 | done: the service reached the wanted state (`status`: every status was read) |
//! | 1 | failure: no such service directory, unreadable or malformed `supervise/status`, other I/O errors |
//! | 2 | usage error |
//! | 3 | runsv not running: `supervise/ok` exists but no runsv reads it |
//! | 4 | timeout: the service did not reach the wanted state within `--timeout` (with `--no-kill`, or for `start` and `once`) |
//! | 5 | killed: `stop`/`restart` had to KILL the service after the timeout; the action itself completed |
//! | 6 | `supervise/ok` missing: no runsv has ever supervised the service (or runsvdir did not pick it up in time) |
//!
//! `status` prints one line per service, exactly as `sv status` does
//! (`run: NAME: (pid N) Ss; run: log: (pid N) Ss`), or with `--json` an
//! array of objects; a service that cannot be read gets sv's `fail:` or
//! `warning:` line (or an `error` object) and the exit code of the first
//! such service. Control commands print sv's `ok: …` line on success and
//! the error on standard error otherwise.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::Context;

use super::args::{ControlArgs, RootArgs};
use crate::sv::{RunitSv, Service, ServiceStatus, Sv, SvError, error_json, render_error};

/// Exit code: runsv not running.
pub const EXIT_NOT_RUNNING: u8 = 3;
/// Exit code: timed out.
pub const EXIT_TIMEOUT: u8 = 4;
/// Exit code: the service had to be killed.
pub const EXIT_KILLED: u8 = 5;
/// Exit code: `supervise/ok` missing.
pub const EXIT_SUPERVISE_OK_MISSING: u8 = 6;

/// Which control action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `start`
    Start,
    /// `stop`
    Stop,
    /// `restart`
    Restart,
    /// `once`
    Once,
}

/// The exit code for an error (see the module documentation).
pub fn exit_code(e: &SvError) -> u8 {
    match e {
        SvError::NotRunning { .. } => EXIT_NOT_RUNNING,
        SvError::NotRunningTimeout { .. } => EXIT_TIMEOUT,
        SvError::Killed { .. } => EXIT_KILLED,
        SvError::SuperviseOkMissing { .. } => EXIT_SUPERVISE_OK_MISSING,
        _ => super::EXIT_FAILURE,
    }
}

/// `servicebuilder status`.
pub fn status(roots: &RootArgs, services: &[String], json: bool) -> anyhow::Result<ExitCode> {
    let labels = if services.is_empty() {
        all_services(&roots.runit_root)?
    } else {
        services.to_vec()
    };
    let sv = RunitSv::default();
    let now = SystemTime::now();
    let mut code = 0u8;
    let mut fail = |c: u8| {
        if code == 0 {
            code = c;
        }
    };
    let mut out = String::new();
    let mut array = Vec::new();
    for label in &labels {
        let service = Service::lookup(&roots.runit_root, label);
        let result = sv.status(&service);
        match &result {
            Ok(ServiceStatus {
                log: Some(Err(e)), ..
            })
            | Err(e) => fail(exit_code(e)),
            Ok(_) => {}
        }
        if json {
            let mut v = match &result {
                Ok(st) => st.to_json(now),
                Err(e) => error_json(e),
            };
            v["service"] = label.as_str().into();
            v["path"] = service.path.to_string_lossy().as_ref().into();
            array.push(v);
        } else {
            match &result {
                Ok(st) => out.push_str(&st.render(label, now)),
                Err(e) => out.push_str(&render_error(label, e)),
            }
            out.push('\n');
        }
    }
    if json {
        out = serde_json::to_string_pretty(&array)?;
        out.push('\n');
    }
    std::io::stdout().write_all(out.as_bytes())?;
    Ok(ExitCode::from(code))
}

/// The services of the runit root: entries that are directories (through
/// their links), without dot-names, sorted — what runsvdir would run.
fn all_services(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(root)
        .with_context(|| format!("cannot list the runit root {}", root.display()))?
    {
        let entry = entry.with_context(|| format!("cannot list {}", root.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && entry.path().is_dir() {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// `servicebuilder start|stop|restart|once`.
pub fn control(roots: &RootArgs, action: Action, args: &ControlArgs) -> anyhow::Result<ExitCode> {
    let timeout = Duration::from_secs(args.timeout);
    let sv = RunitSv {
        timeout,
        supervise_ok_timeout: timeout,
        kill: !args.no_kill,
    };
    let mut service = Service::lookup(&roots.runit_root, &args.service);
    service.name = args.service.clone();
    let result = match action {
        Action::Start => sv.start(&service),
        Action::Stop => sv.stop(&service, timeout),
        Action::Restart => sv.restart(&service, timeout),
        Action::Once => sv.once(&service),
    };
    match result {
        Ok(line) => {
            writeln!(std::io::stdout(), "{line}")?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let prefix = match e {
                SvError::Killed { .. } => "kill",
                SvError::NotRunningTimeout { .. } => "timeout",
                _ => "error",
            };
            eprintln!("servicebuilder: {prefix}: {e}");
            if let SvError::Killed { .. } = e
                && let Ok(st) = sv.status(&service)
            {
                writeln!(
                    std::io::stdout(),
                    "ok: {}",
                    st.main.render(&service.name, SystemTime::now())
                )?;
            }
            Ok(ExitCode::from(exit_code(&e)))
        }
    }
}
