//! [`SvError`]: why a status read or a control command failed.
//!
//! The first four variants are the seed's errors, the ones callers branch
//! on; the others carry the path and the cause of everything else.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

use super::status::Status;

/// Why talking to a service's runsv failed.
#[derive(Debug)]
pub enum SvError {
    /// No runsv supervises the service: `supervise/ok` exists but nobody
    /// reads it (ENXIO), as `sv` reports `runsv not running`.
    NotRunning {
        /// The service directory.
        service: PathBuf,
    },
    /// The service did not reach the wanted state within the timeout (the
    /// seed's `NotRunningTimeout`).
    NotRunningTimeout {
        /// The service directory.
        service: PathBuf,
        /// What was asked: `start`, `stop`, `restart`, `once`.
        action: &'static str,
        /// How long it waited.
        timeout: Duration,
        /// The last status read, when there was one.
        last: Option<Status>,
    },
    /// `supervise/ok` does not exist: runsv has never run on this
    /// directory (or not yet: runsvdir picks a new link up within 5 s).
    SuperviseOkMissing {
        /// The service directory.
        service: PathBuf,
    },
    /// The service ignored TERM until the timeout, so it was sent KILL
    /// (`sv force-stop` / `force-restart`). The action itself completed.
    Killed {
        /// The service directory.
        service: PathBuf,
        /// The pid that was killed.
        pid: u32,
        /// How long it was given to stop.
        timeout: Duration,
    },
    /// The service directory does not exist.
    NoSuchService {
        /// The path that was looked up.
        service: PathBuf,
    },
    /// The service directory exists but cannot be entered: not a
    /// directory, no permission.
    CannotEnter {
        /// The path that was looked up.
        service: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// `supervise/status` is shorter than the 20 bytes runsv writes.
    BadFormat {
        /// The file.
        path: PathBuf,
        /// How many bytes it held.
        len: usize,
    },
    /// Any other I/O error, with the path it concerns.
    Io {
        /// The file or FIFO.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

impl SvError {
    /// The service directory or file the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            SvError::NotRunning { service }
            | SvError::NotRunningTimeout { service, .. }
            | SvError::SuperviseOkMissing { service }
            | SvError::Killed { service, .. }
            | SvError::NoSuchService { service }
            | SvError::CannotEnter { service, .. } => service,
            SvError::BadFormat { path, .. } | SvError::Io { path, .. } => path,
        }
    }

    /// A short, stable name of the kind, used in JSON output.
    pub fn kind(&self) -> &'static str {
        match self {
            SvError::NotRunning { .. } => "not_running",
            SvError::NotRunningTimeout { .. } => "timeout",
            SvError::SuperviseOkMissing { .. } => "supervise_ok_missing",
            SvError::Killed { .. } => "killed",
            SvError::NoSuchService { .. } => "no_such_service",
            SvError::CannotEnter { .. } => "cannot_enter",
            SvError::BadFormat { .. } => "bad_format",
            SvError::Io { .. } => "io",
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> SvError {
        SvError::Io {
            path: path.into(),
            source,
        }
    }
}

impl fmt::Display for SvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SvError::NotRunning { service } => write!(
                f,
                "{}: runsv not running (nothing reads supervise/ok); start runsvdir, or link \
                 the service into the directory it watches",
                service.display()
            ),
            SvError::NotRunningTimeout {
                service,
                action,
                timeout,
                last,
            } => {
                write!(
                    f,
                    "{}: timed out after {}s waiting for {action}",
                    service.display(),
                    timeout.as_secs_f64()
                )?;
                if let Some(st) = last {
                    write!(f, " (it is {}", st.state.as_str())?;
                    if st.pid != 0 {
                        write!(f, ", pid {}", st.pid)?;
                    }
                    write!(f, ")")?;
                    if st.state == super::status::State::Finish {
                        // Exit 4 even without --no-kill: runsv's `k` while
                        // ./finish runs would run finish a second time.
                        write!(
                            f,
                            "; the service itself is down, but its ./finish still runs and \
                             is not killed"
                        )?;
                    }
                }
                Ok(())
            }
            SvError::SuperviseOkMissing { service } => write!(
                f,
                "{}: supervise/ok is missing: no runsv has supervised this service yet; is \
                 it linked into the directory runsvdir watches?",
                service.display()
            ),
            SvError::Killed {
                service,
                pid,
                timeout,
            } => write!(
                f,
                "{}: pid {pid} did not stop within {}s and was killed",
                service.display(),
                timeout.as_secs_f64()
            ),
            SvError::NoSuchService { service } => {
                write!(f, "{}: no such service directory", service.display())
            }
            SvError::CannotEnter { service, source } => {
                write!(
                    f,
                    "{}: cannot enter the service directory: {source}",
                    service.display()
                )
            }
            SvError::BadFormat { path, len } => write!(
                f,
                "{}: bad format: {len} bytes instead of runsv's 20 (not written by runsv?)",
                path.display()
            ),
            SvError::Io { path, source } => write!(f, "{}: {source}", path.display()),
        }
    }
}

impl std::error::Error for SvError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SvError::Io { source, .. } | SvError::CannotEnter { source, .. } => Some(source),
            _ => None,
        }
    }
}
