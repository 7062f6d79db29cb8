//! runit control without forking `sv`: the seed's `SV` interface over
//! runsv's `supervise/` directory.
//!
//! - [`Status`] decodes `supervise/status` and renders it exactly as
//!   `sv status` does, or as JSON;
//! - [`Sv`] is the seed's interface (`start`, `stop`, `stat`, `restart`,
//!   `once`), [`RunitSv`] its real implementation: one non-blocking write
//!   of the command bytes to `supervise/control`, then a wait on
//!   `supervise/status` like `sv -w`, and a KILL when a stop or restart
//!   times out (`sv force-stop`);
//! - [`SvError`] carries the seed's error kinds: runsv not running, timed
//!   out, `supervise/ok` missing, killed.
//!
//! Test doubles live in [`crate::testing`].
//!
//! ```no_run
//! use servicebuilder::sv::{RunitSv, Service, Sv, DEFAULT_TIMEOUT};
//! let svc = Service::new("/etc/service", "ssh");
//! let sv = RunitSv::default();
//! println!("{}", sv.restart(&svc, DEFAULT_TIMEOUT)?);
//! let st = sv.stat(&svc)?;
//! assert_eq!(st.child_status, "run");
//! # Ok::<(), servicebuilder::sv::SvError>(())
//! ```

mod error;
mod fifo;
pub mod rescan;
mod runit;
mod status;
mod svdir;
mod wait;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use error::SvError;
pub use runit::RunitSv;
pub use status::{
    STATUS_LEN, ServiceStatus, State, Status, TAI_UNIX_EPOCH, Want, error_json, render_error,
    render_error_into,
};
pub(crate) use svdir::{Spent, SvDir, open_error};
pub use wait::check_passes;

/// runit's default wait for a command (`sv -w`, the seed's
/// `DefaultTimeout`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(7);
/// How long [`RunitSv`] waits by default for a runsv to appear on a
/// service that has just been linked (the seed's `SuperviseOKTimeout`).
pub const SUPERVISE_OK_TIMEOUT: Duration = Duration::from_secs(30);

/// The seed's `STATUS_DOWN`.
pub const STATUS_DOWN: &str = "down";
/// The seed's `STATUS_RUN`.
pub const STATUS_RUN: &str = "run";
/// runsv's third state: `./finish` runs.
pub const STATUS_FINISH: &str = "finish";

/// A runit service: its directory and its name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Service {
    /// The service directory (usually the link in the runit root).
    pub path: PathBuf,
    /// The service's name (the last component of the path).
    pub name: String,
}

impl Service {
    /// The service `name` in `runit_root` (the directory runsvdir
    /// watches).
    ///
    /// ```
    /// let s = servicebuilder::sv::Service::new("/etc/service", "ssh");
    /// assert_eq!(s.path, std::path::Path::new("/etc/service/ssh"));
    /// ```
    pub fn new(runit_root: impl AsRef<Path>, name: &str) -> Service {
        Service {
            path: runit_root.as_ref().join(name),
            name: name.to_owned(),
        }
    }

    /// The service in directory `path`; its name is the last component.
    pub fn at(path: impl Into<PathBuf>) -> Service {
        let path = path.into();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        Service { path, name }
    }

    /// `sv`'s lookup rule: a plain name (no leading `/` or `.`, not ending
    /// in `/`) is looked up in `runit_root`; anything else is a path.
    ///
    /// ```
    /// use servicebuilder::sv::Service;
    /// assert_eq!(Service::lookup("/etc/service", "ssh").path.to_str(), Some("/etc/service/ssh"));
    /// assert_eq!(Service::lookup("/etc/service", "./ssh").path.to_str(), Some("./ssh"));
    /// assert_eq!(Service::lookup("/etc/service", "/etc/sv/ssh").name, "ssh");
    /// ```
    pub fn lookup(runit_root: impl AsRef<Path>, arg: &str) -> Service {
        if Service::is_name(arg) {
            Service::new(runit_root, arg)
        } else {
            Service::at(arg)
        }
    }

    /// Whether [`Service::lookup`] takes `arg` as a name in the runit root
    /// rather than as a path.
    pub fn is_name(arg: &str) -> bool {
        !arg.is_empty() && !arg.starts_with('/') && !arg.starts_with('.') && !arg.ends_with('/')
    }

    /// The logger of this service (`log/`).
    pub fn log(&self) -> Service {
        Service {
            path: self.path.join("log"),
            name: format!("{}/log", self.name),
        }
    }
}

/// The seed's `StatResult`: state, pid and time in that state of the
/// service and of its logger. Without a `log/` directory, `log_status` is
/// empty and the other log fields are zero.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatResult {
    /// [`STATUS_DOWN`], [`STATUS_RUN`] or [`STATUS_FINISH`].
    pub child_status: String,
    /// The service's pid, 0 when down.
    pub child_pid: u64,
    /// How long it has been in this state.
    pub child_time: Duration,
    /// The logger's state, or empty when there is no logger.
    pub log_status: String,
    /// The logger's pid.
    pub log_pid: u64,
    /// How long the logger has been in this state.
    pub log_time: Duration,
}

impl StatResult {
    /// Builds the seed's view of a [`ServiceStatus`].
    pub fn from_status(st: &ServiceStatus) -> StatResult {
        let mut r = StatResult {
            child_status: st.main.state.as_str().to_owned(),
            child_pid: st.main.pid.into(),
            child_time: st.main.uptime(),
            ..StatResult::default()
        };
        if let Some(Ok(log)) = &st.log {
            r.log_status = log.state.as_str().to_owned();
            r.log_pid = log.pid.into();
            r.log_time = log.uptime();
        }
        r
    }
}

/// The seed's `SV` interface. Every method returns `sv`'s report line on
/// success (`ok: run: NAME: (pid N) 0s`).
pub trait Sv {
    /// Starts the service (want up) and waits until it runs.
    fn start(&self, service: &Service) -> Result<String, SvError>;
    /// Stops the service (want down) and waits up to `timeout` until it
    /// is down.
    fn stop(&self, service: &Service, timeout: Duration) -> Result<String, SvError>;
    /// Reads the status of the service and its logger.
    fn stat(&self, service: &Service) -> Result<StatResult, SvError>;
    /// Restarts the service (TERM, CONT, up) and waits up to `timeout`
    /// until a new process runs.
    fn restart(&self, service: &Service, timeout: Duration) -> Result<String, SvError>;
    /// Runs the service once: starts it if down, and does not restart it
    /// when it exits.
    fn once(&self, service: &Service) -> Result<String, SvError>;
}
