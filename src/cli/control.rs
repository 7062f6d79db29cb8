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

use std::ffi::OsStr;
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use nix::errno::Errno;
use nix::fcntl::{AT_FDCWD, OFlag};
use nix::sys::stat::Mode;

use super::args::{ControlArgs, RootArgs};
use crate::sv::{
    RunitSv, Service, ServiceStatus, Sv, SvDir, SvError, error_json, open_error, render_error_into,
};

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
///
/// Without arguments, the runit root is listed once (`d_type` says which
/// entries can be services: no `stat` per entry) and every service is then
/// opened relative to that listing's handle; see [`crate::sv`] for what one
/// service costs. The text goes out in blocks of [`OUT_BLOCK`] bytes.
pub fn status(roots: &RootArgs, services: &[String], json: bool) -> anyhow::Result<ExitCode> {
    let root = roots.runit_root.as_path();
    let mut report = Report::new(json);
    if services.is_empty() {
        let cannot = || format!("cannot list the runit root {}", root.display());
        let names = Names::list(root).with_context(cannot)?;
        let dir = open_root(root).with_context(cannot)?;
        for name in names.iter() {
            let rel = Path::new(OsStr::from_bytes(name));
            match SvDir::open(dir.as_fd(), root, rel) {
                Ok(sv) => report.add(name, &|| sv.path(), ServiceStatus::read_dir(&sv))?,
                // A dangling link or a link to a file: not a service.
                Err(Errno::ENOENT | Errno::ENOTDIR) => {}
                Err(e) => {
                    let path = root.join(rel);
                    report.add(name, &|| path.clone(), Err(open_error(e, path.clone())))?
                }
            }
        }
    } else {
        // Names are looked up relative to one handle on the root; when the
        // root cannot be opened, each lookup fails on its own, as in sv.
        let root_fd = open_root(root).ok();
        for label in services {
            let service = Service::lookup(root, label);
            let opened = match &root_fd {
                Some(fd) if Service::is_name(label) => {
                    SvDir::open(fd.as_fd(), root, Path::new(label))
                }
                _ => SvDir::open(AT_FDCWD, Path::new(""), &service.path),
            };
            let result = match &opened {
                Ok(sv) => ServiceStatus::read_dir(sv),
                Err(e) => Err(open_error(*e, service.path.clone())),
            };
            report.add(label.as_bytes(), &|| service.path.clone(), result)?;
        }
    }
    report.finish()
}

/// How much text `status` gathers before one `write`.
pub const OUT_BLOCK: usize = 64 * 1024;

/// The output of `status` as it is produced, and the exit code so far.
struct Report {
    now: SystemTime,
    code: u8,
    out: Vec<u8>,
    stdout: std::io::StdoutLock<'static>,
    json: Option<Vec<serde_json::Value>>,
}

impl Report {
    fn new(json: bool) -> Report {
        Report {
            now: SystemTime::now(),
            code: 0,
            out: Vec::with_capacity(OUT_BLOCK + 4096),
            stdout: std::io::stdout().lock(),
            json: json.then(Vec::new),
        }
    }

    /// One service's line (or JSON object); `path` names it in JSON.
    fn add(
        &mut self,
        label: &[u8],
        path: &dyn Fn() -> PathBuf,
        result: Result<ServiceStatus, SvError>,
    ) -> std::io::Result<()> {
        match &result {
            Ok(ServiceStatus {
                log: Some(Err(e)), ..
            })
            | Err(e) => {
                if self.code == 0 {
                    self.code = exit_code(e);
                }
            }
            Ok(_) => {}
        }
        if let Some(array) = &mut self.json {
            let mut v = match &result {
                Ok(st) => st.to_json(self.now),
                Err(e) => error_json(e),
            };
            v["service"] = String::from_utf8_lossy(label).into();
            v["path"] = path().to_string_lossy().as_ref().into();
            array.push(v);
            return Ok(());
        }
        match &result {
            Ok(st) => st.render_into(label, unix_seconds(self.now), &mut self.out),
            Err(e) => render_error_into(label, e, &mut self.out),
        }
        self.out.push(b'\n');
        if self.out.len() >= OUT_BLOCK {
            self.stdout.write_all(&self.out)?;
            self.out.clear();
        }
        Ok(())
    }

    fn finish(mut self) -> anyhow::Result<ExitCode> {
        if let Some(array) = &self.json {
            serde_json::to_writer_pretty(&mut self.out, array)?;
            self.out.push(b'\n');
        }
        self.stdout.write_all(&self.out)?;
        self.stdout.flush()?;
        Ok(ExitCode::from(self.code))
    }
}

/// A handle on the runit root, to open services relative to it.
fn open_root(root: &Path) -> nix::Result<OwnedFd> {
    nix::fcntl::open(
        root,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
}

fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// The names of a directory's entries that can be services, sorted bytewise
/// (as the shell's glob and runsvdir order them), in one buffer.
struct Names {
    bytes: Vec<u8>,
    spans: Vec<(usize, usize)>,
}

impl Names {
    /// Entries of `root` without a leading dot that are directories,
    /// links (to be followed when opened) or of a type the file system does
    /// not tell (`d_type`: no `stat` per entry).
    fn list(root: &Path) -> std::io::Result<Names> {
        let mut names = Names {
            bytes: Vec::new(),
            spans: Vec::new(),
        };
        for entry in std::fs::read_dir(root)? {
            let entry = entry?;
            let name = entry.file_name();
            let name = name.as_bytes();
            if name.first() == Some(&b'.') {
                continue;
            }
            let candidate = match entry.file_type() {
                Ok(t) => t.is_dir() || t.is_symlink(),
                Err(_) => true,
            };
            if candidate {
                names.spans.push((names.bytes.len(), name.len()));
                names.bytes.extend_from_slice(name);
            }
        }
        let bytes = &names.bytes;
        names
            .spans
            .sort_unstable_by(|&(a, la), &(b, lb)| bytes[a..a + la].cmp(&bytes[b..b + lb]));
        Ok(names)
    }

    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.spans
            .iter()
            .map(|&(at, len)| &self.bytes[at..at + len])
    }
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
