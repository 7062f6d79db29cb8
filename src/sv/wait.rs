//! Waiting for a service to reach a state, as `sv -w` does, but polling
//! faster (sv sleeps 420 ms between checks) and on exact predicates.

use std::path::Path;
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::error::SvError;
use super::fifo;
use super::status::Status;

/// First pause between two reads; it doubles up to [`MAX_PAUSE`]. Reading
/// 20 bytes costs a few microseconds, so short pauses cost nothing and
/// make `start`/`stop` return as soon as runsv has acted.
const FIRST_PAUSE: Duration = Duration::from_millis(5);
const MAX_PAUSE: Duration = Duration::from_millis(100);

/// How a wait ended when runsv stayed reachable.
#[derive(Debug)]
pub enum Outcome {
    /// The predicate held for this status.
    Reached(Status),
    /// The timeout passed; the last status read.
    TimedOut(Status),
}

/// Reads the status of `dir` until `pred` holds or `timeout` passes. The
/// first check is immediate. runsv disappearing meanwhile is an error.
pub fn until(
    dir: &Path,
    timeout: Duration,
    mut pred: impl FnMut(&Status) -> bool,
) -> Result<Outcome, SvError> {
    let start = Instant::now();
    let mut pause = FIRST_PAUSE;
    loop {
        let st = Status::read(dir)?;
        if pred(&st) {
            return Ok(Outcome::Reached(st));
        }
        let elapsed = start.elapsed();
        if elapsed >= timeout {
            return Ok(Outcome::TimedOut(st));
        }
        sleep(pause.min(timeout - elapsed));
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

/// Waits until a runsv reads `dir/supervise/ok`, for at most `timeout`.
/// On timeout, the last error (not running, `supervise/ok` missing, …).
pub fn supervised(dir: &Path, timeout: Duration) -> Result<(), SvError> {
    let start = Instant::now();
    let mut pause = FIRST_PAUSE;
    loop {
        match fifo::probe(dir) {
            Ok(()) => return Ok(()),
            Err(e @ (SvError::NotRunning { .. } | SvError::SuperviseOkMissing { .. })) => {
                let elapsed = start.elapsed();
                if elapsed >= timeout {
                    return Err(e);
                }
                sleep(pause.min(timeout - elapsed));
                pause = (pause * 2).min(MAX_PAUSE);
            }
            Err(e) => return Err(e),
        }
    }
}

/// sv's `./check`: when the service directory has a `check` file, the
/// service only counts as up once `./check` exits 0. As in sv, its stdout
/// is closed, stderr passes through, and a check that cannot be executed
/// counts as passing.
pub fn check_passes(dir: &Path) -> bool {
    if std::fs::metadata(dir.join("check")).is_err() {
        return true;
    }
    match Command::new("./check")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
    {
        Ok(st) => st.success(),
        Err(e) => {
            eprintln!("warning: unable to run {}/check: {e}", dir.display());
            true
        }
    }
}
