//! [`RunitSv`]: the real [`Sv`], talking to runsv through `supervise/`.

use std::time::{Duration, SystemTime};

use super::error::SvError;
use super::status::{ServiceStatus, State, Status, Want};
use super::wait::{self, Outcome};
use super::{DEFAULT_TIMEOUT, SUPERVISE_OK_TIMEOUT, Service, StatResult, Sv, fifo};

/// After a KILL, how long to wait for runsv to reap the process (and run
/// `./finish`) before giving up.
const AFTER_KILL: Duration = Duration::from_secs(5);

/// The real [`Sv`]: reads `supervise/status`, writes `supervise/control`.
/// Never forks `sv`.
///
/// ```no_run
/// use servicebuilder::sv::{RunitSv, Service, Sv, SvError};
/// use std::time::Duration;
/// let sv = RunitSv { kill: false, ..RunitSv::default() };
/// match sv.stop(&Service::new("/etc/service", "web"), Duration::from_secs(3)) {
///     Ok(line) => println!("{line}"),
///     Err(SvError::NotRunningTimeout { .. }) => eprintln!("still running"),
///     Err(e) => eprintln!("{e}"),
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunitSv {
    /// How long [`Sv::start`] and [`Sv::once`] wait for the service to
    /// run.
    pub timeout: Duration,
    /// How long `start`, `restart` and `once` wait for a runsv to appear
    /// when `supervise/ok` does not exist yet (runsvdir picks up a new
    /// link within about 5 s). `stop` and `stat` never wait for it.
    pub supervise_ok_timeout: Duration,
    /// Whether `stop` and `restart` send KILL when the timeout passes
    /// (then they report [`SvError::Killed`]), as `sv force-stop` and
    /// `sv force-restart` do.
    pub kill: bool,
}

impl Default for RunitSv {
    fn default() -> Self {
        RunitSv {
            timeout: DEFAULT_TIMEOUT,
            supervise_ok_timeout: SUPERVISE_OK_TIMEOUT,
            kill: true,
        }
    }
}

impl RunitSv {
    /// The status of the service and of its logger.
    pub fn status(&self, service: &Service) -> Result<ServiceStatus, SvError> {
        ServiceStatus::read(&service.path)
    }

    /// Sends `bytes` to runsv with sv's skip rule: nothing is written when
    /// the first command is already the wanted state (`u` on a want-up
    /// service; `d` while a TERM is pending). Returns the status read
    /// before, and whether anything was written.
    pub fn send(&self, service: &Service, bytes: &[u8]) -> Result<(Status, bool), SvError> {
        let before = Status::read(&service.path)?;
        let want = match before.want {
            Want::Up => b'u',
            Want::Down => b'd',
        };
        let first = bytes.first().copied().unwrap_or(0);
        if first == want && (first != b'd' || before.got_term) {
            return Ok((before, false));
        }
        fifo::send(&service.path, bytes)?;
        Ok((before, true))
    }

    /// `sv reload`: sends HUP to the running service, without waiting.
    pub fn reload(&self, service: &Service) -> Result<String, SvError> {
        self.send(service, b"h")?;
        Ok(format!("ok: {}", self.line(service)?))
    }

    /// Waits up to `timeout` until a runsv reads the service's
    /// `supervise/ok`, whether the FIFO is missing or nobody reads it yet.
    pub fn wait_supervised(&self, service: &Service, timeout: Duration) -> Result<(), SvError> {
        wait::supervised(&service.path, timeout)
    }

    /// Waits for runsv only when `supervise/ok` does not exist yet: a
    /// service linked a moment ago. A FIFO without a reader fails at once.
    fn await_new_runsv(&self, service: &Service) -> Result<(), SvError> {
        match fifo::probe(&service.path) {
            Err(SvError::SuperviseOkMissing { .. }) => {
                wait::supervised(&service.path, self.supervise_ok_timeout)
            }
            other => other,
        }
    }

    fn line(&self, service: &Service) -> Result<String, SvError> {
        Ok(Status::read(&service.path)?.render(&service.name, SystemTime::now()))
    }

    fn timed_out(
        service: &Service,
        action: &'static str,
        timeout: Duration,
        last: Status,
    ) -> SvError {
        SvError::NotRunningTimeout {
            service: service.path.clone(),
            action,
            timeout,
            last: Some(last),
        }
    }

    /// After a timeout with the old process still in state run: KILL it
    /// and wait for `done`. Reports [`SvError::Killed`] when that worked.
    fn kill_and_wait(
        &self,
        service: &Service,
        action: &'static str,
        timeout: Duration,
        last: Status,
        done: impl FnMut(&Status) -> bool,
    ) -> SvError {
        // runsv's `k` sets state=down even when it kills nothing (while
        // ./finish runs, it would then run finish twice), so only send it
        // to a running ./run.
        if !self.kill || last.state != State::Run || last.pid == 0 {
            return Self::timed_out(service, action, timeout, last);
        }
        if let Err(e) = fifo::send(&service.path, b"k") {
            return e;
        }
        match wait::until(&service.path, AFTER_KILL, done) {
            // A runsv that was already exiting (runsvdir lost its link, or
            // `sv exit`) goes as soon as its service is gone: killed too.
            Ok(Outcome::Reached(_)) | Err(SvError::NotRunning { .. }) => SvError::Killed {
                service: service.path.clone(),
                pid: last.pid,
                timeout,
            },
            Ok(Outcome::TimedOut(st)) => Self::timed_out(service, action, timeout, st),
            Err(e) => e,
        }
    }
}

fn is_up(dir: &std::path::Path, st: &Status) -> bool {
    st.pid != 0 && st.state == State::Run && wait::check_passes(dir)
}

fn is_down(st: &Status) -> bool {
    st.pid == 0 && st.state == State::Down
}

impl Sv for RunitSv {
    fn start(&self, service: &Service) -> Result<String, SvError> {
        self.await_new_runsv(service)?;
        self.send(service, b"u")?;
        let dir = &service.path;
        match wait::until(dir, self.timeout, |st| is_up(dir, st))? {
            Outcome::Reached(st) => Ok(format!(
                "ok: {}",
                st.render(&service.name, SystemTime::now())
            )),
            Outcome::TimedOut(st) => Err(Self::timed_out(service, "start", self.timeout, st)),
        }
    }

    fn stop(&self, service: &Service, timeout: Duration) -> Result<String, SvError> {
        self.send(service, b"d")?;
        match wait::until(&service.path, timeout, is_down) {
            Ok(Outcome::Reached(st)) => Ok(format!(
                "ok: {}",
                st.render(&service.name, SystemTime::now())
            )),
            Ok(Outcome::TimedOut(st)) => {
                Err(self.kill_and_wait(service, "stop", timeout, st, is_down))
            }
            // The runsv was exiting and went once the service stopped: the
            // service is down, which is what was asked.
            Err(SvError::NotRunning { .. }) => {
                Ok(format!("ok: down: {}: runsv exited", service.name))
            }
            Err(e) => Err(e),
        }
    }

    fn stat(&self, service: &Service) -> Result<StatResult, SvError> {
        Ok(StatResult::from_status(&self.status(service)?))
    }

    fn restart(&self, service: &Service, timeout: Duration) -> Result<String, SvError> {
        self.await_new_runsv(service)?;
        let (before, _) = self.send(service, b"tcu")?;
        let dir = &service.path;
        // A new process, not merely "running": sv's own check passes at once
        // when the service started within the same second, before runsv has
        // even read the `t`.
        let renewed = |st: &Status| {
            is_up(dir, st) && !st.got_term && (st.pid != before.pid || st.stamp != before.stamp)
        };
        match wait::until(dir, timeout, renewed)? {
            Outcome::Reached(st) => Ok(format!(
                "ok: {}",
                st.render(&service.name, SystemTime::now())
            )),
            Outcome::TimedOut(st) if st.pid == before.pid => {
                Err(self.kill_and_wait(service, "restart", timeout, st, renewed))
            }
            Outcome::TimedOut(st) => Err(Self::timed_out(service, "restart", timeout, st)),
        }
    }

    fn once(&self, service: &Service) -> Result<String, SvError> {
        self.await_new_runsv(service)?;
        let (before, _) = self.send(service, b"o")?;
        // Running with want=down; or it already ran and exited (its
        // timestamp moved on).
        let ran = |st: &Status| st.want == Want::Down && (st.pid != 0 || st.stamp != before.stamp);
        match wait::until(&service.path, self.timeout, ran)? {
            Outcome::Reached(st) => Ok(format!(
                "ok: {}",
                st.render(&service.name, SystemTime::now())
            )),
            Outcome::TimedOut(st) => Err(Self::timed_out(service, "once", self.timeout, st)),
        }
    }
}
