//! Getting runsvdir to see a new or removed link now rather than at its
//! next scan.
//!
//! runsvdir compares its directory's mtime at least every five seconds.
//! Debian's runsvdir (bookworm's 2.1.2 as trixie's and sid's) also catches
//! SIGALRM, which ends that wait at once (it touches `.forced-rescan` in
//! the directory so that the mtime moves on), and runit-helper sends ALRM for
//! the same reason (to PID 1 when runit is init). Signalling the runsvdir
//! that watches the directory works whether or not runit is PID 1, so this
//! finds it in /proc: a process named `runsvdir` whose directory argument,
//! resolved from its own working directory, is the runit root.

use std::fs;
use std::path::{Path, PathBuf};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// The pids of the runsvdir processes that watch `runit_root`.
pub fn runsvdirs_watching(runit_root: &Path) -> Vec<i32> {
    let Ok(want) = fs::canonicalize(runit_root) else {
        return Vec::new();
    };
    let Ok(procs) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids = Vec::new();
    for entry in procs.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        if watched_dir(pid).is_some_and(|d| d == want) {
            pids.push(pid);
        }
    }
    pids
}

/// The directory runsvdir `pid` watches, resolved; `None` for any other
/// process.
fn watched_dir(pid: i32) -> Option<PathBuf> {
    let comm = fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    if comm.trim_end() != "runsvdir" {
        return None;
    }
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    // runsvdir [-P] dir [log]: the first argument that is not an option.
    let dir = cmdline
        .split(|b| *b == 0)
        .skip(1)
        .find(|a| !a.is_empty() && a.first() != Some(&b'-'))?;
    let dir = Path::new(std::str::from_utf8(dir).ok()?);
    let dir = if dir.is_absolute() {
        dir.to_owned()
    } else {
        fs::read_link(format!("/proc/{pid}/cwd")).ok()?.join(dir)
    };
    fs::canonicalize(dir).ok()
}

/// Sends ALRM to every runsvdir watching `runit_root`; returns how many
/// there were. None is not an error: the services then start when one
/// runs.
pub fn poke(runit_root: &Path) -> usize {
    let pids = runsvdirs_watching(runit_root);
    for pid in &pids {
        let _ = kill(Pid::from_raw(*pid), Signal::SIGALRM);
    }
    pids.len()
}

/// What [`come_up`] saw.
#[derive(Debug)]
pub enum CameUp {
    /// runsv supervises it and it runs (its `./check` passes, if any).
    Running(super::Status),
    /// runsv supervises it; it has a `down` file, so nothing was started.
    NormallyDown(super::Status),
    /// Its link went away meanwhile (another run pruned or changed it).
    Gone,
}

/// After a link was made: pokes the runsvdir watching `runit_root` until
/// a runsv supervises `dir` (runsvdir compares mtimes to the second, so a
/// link made in the second of its last scan needs a second poke), then
/// waits until the service runs, stays up for [`STAYS_UP`] and its
/// `./check` passes. A runsv that is still exiting (told to, to pick up a
/// changed log) is waited out. Gives up after `timeout` with the last
/// error or status.
pub fn come_up(
    runit_root: &Path,
    dir: &Path,
    timeout: std::time::Duration,
) -> Result<CameUp, super::SvError> {
    use super::SvError;
    use std::time::{Duration, Instant};
    let start = Instant::now();
    let mut next_poke = start;
    let mut last: Result<super::Status, SvError>;
    loop {
        if Instant::now() >= next_poke {
            poke(runit_root);
            next_poke = Instant::now() + Duration::from_millis(300);
        }
        last = super::Status::read(dir);
        match &last {
            Err(SvError::NotRunning { .. } | SvError::SuperviseOkMissing { .. }) => {}
            Err(SvError::NoSuchService { .. }) => return Ok(CameUp::Gone),
            Err(_) => return last.map(CameUp::Running),
            Ok(st) if !st.normally_up && st.pid == 0 => return Ok(CameUp::NormallyDown(*st)),
            Ok(st)
                if st.pid != 0
                    && st.state == super::State::Run
                    && super::wait::check_passes(dir) =>
            {
                // A daemon that fails at once is "run" for a moment, and
                // runsv starts it again every second: up means still the
                // same process a little later.
                std::thread::sleep(STAYS_UP);
                if let Ok(again) = super::Status::read(dir)
                    && again.pid == st.pid
                    && again.state == super::State::Run
                {
                    return Ok(CameUp::Running(again));
                }
            }
            Ok(_) => {}
        }
        if start.elapsed() >= timeout {
            return match last {
                Ok(st) => Err(SvError::NotRunningTimeout {
                    service: dir.to_owned(),
                    action: "start",
                    timeout,
                    last: Some(st),
                }),
                Err(e) => Err(e),
            };
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How long a started process must keep running to count as up.
pub const STAYS_UP: std::time::Duration = std::time::Duration::from_millis(200);
