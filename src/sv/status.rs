//! Decoding runsv's 20-byte `supervise/status`, and rendering it as
//! `sv status` does (text) or as JSON.
//!
//! Layout (runit 2.1.2 `update_status`): bytes 0–7 TAI64 seconds
//! (big-endian, `2^62 + 10 + unix`), 8–11 nanoseconds (big-endian), 12–15
//! pid (little-endian, 0 when nothing runs), 16 paused, 17 want (`u`/`d`),
//! 18 TERM sent, 19 state (0 down, 1 run, 2 finish).

use std::borrow::Cow;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::error::SvError;
use super::svdir::{Part, Spent, SvDir};

/// Size of `supervise/status`.
pub const STATUS_LEN: usize = 20;
/// TAI64 label of the Unix epoch as runit writes it (2^62 + 10 leap
/// seconds).
pub const TAI_UNIX_EPOCH: u64 = 0x4000_0000_0000_000a;

/// What runsv is doing with the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Nothing runs.
    Down,
    /// `./run` runs.
    Run,
    /// `./finish` runs (the pid is finish's).
    Finish,
}

impl State {
    /// `down`, `run` or `finish`, as `sv status` and the seed's
    /// `STATUS_*` constants spell them.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Down => "down",
            State::Run => "run",
            State::Finish => "finish",
        }
    }
}

/// What the service should be doing. runsv writes `d` for both want=down
/// and want=exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Want {
    /// Keep it running (restart when it exits).
    Up,
    /// Do not (re)start it.
    Down,
}

/// One decoded `supervise/status`, plus whether a `down` file exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// Down, run or finish.
    pub state: State,
    /// The pid of `./run` (or of `./finish` in state finish); 0 when none.
    pub pid: u32,
    /// When the state last changed: when runsv started, when `./run` was
    /// started, or when the service went down. Not updated when finish
    /// starts.
    pub since: SystemTime,
    /// The raw TAI64N label, seconds and nanoseconds: exact enough to tell
    /// two starts within one second apart.
    pub stamp: (u64, u32),
    /// Stopped with `p` (SIGSTOP) and not continued.
    pub paused: bool,
    /// Up or down.
    pub want: Want,
    /// TERM was sent and the process has not exited yet.
    pub got_term: bool,
    /// No `down` file: runsv starts the service when it starts. Read at
    /// the time of the call, as `sv` does.
    pub normally_up: bool,
}

impl Status {
    /// Decodes the 20 bytes runsv writes. `normally_up` comes from the
    /// absence of the `down` file, which is not part of the status.
    ///
    /// ```
    /// use servicebuilder::sv::{State, Status, Want};
    /// // Taken from a real runsv: pid 8665 running since Unix 1795357860.
    /// let raw = [0x40, 0, 0, 0, 0x6b, 0x02, 0xfc, 0xae, 0x01, 0x10, 0x45, 0x2c,
    ///            0xd9, 0x21, 0, 0, 0, b'u', 0, 1];
    /// let st = Status::decode(&raw, true);
    /// assert_eq!((st.state, st.pid, st.want), (State::Run, 8665, Want::Up));
    /// assert_eq!(st.since.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs(),
    ///            1795357860);
    /// ```
    pub fn decode(raw: &[u8; STATUS_LEN], normally_up: bool) -> Status {
        let tai = u64::from_be_bytes(raw[0..8].try_into().unwrap());
        let nanos = u32::from_be_bytes(raw[8..12].try_into().unwrap());
        let pid = u32::from_le_bytes(raw[12..16].try_into().unwrap());
        // A corrupt or hostile stamp must not overflow SystemTime (a
        // panic); 2^40 s is some 35,000 years, far beyond any real one.
        let unix = tai.saturating_sub(TAI_UNIX_EPOCH).min(1 << 40);
        let since = UNIX_EPOCH + Duration::new(unix, nanos.min(999_999_999));
        Status {
            state: match raw[19] {
                1 => State::Run,
                2 => State::Finish,
                _ => State::Down,
            },
            pid,
            since,
            stamp: (tai, nanos),
            paused: raw[16] != 0,
            want: if raw[17] == b'u' {
                Want::Up
            } else {
                Want::Down
            },
            got_term: raw[18] != 0,
            normally_up,
        }
    }

    /// Reads the status of the service in `dir` (or of its logger, with
    /// `dir/log`), first checking that a runsv supervises it, as `sv`
    /// does.
    pub fn read(dir: &Path) -> Result<Status, SvError> {
        let mut spent = Spent::default();
        let dir = SvDir::open_path(dir)?;
        let status = Status::read_part(&dir, Part::Main, &mut spent);
        dir.retire(&mut spent);
        status
    }

    /// Reads the status of `part` of an open service directory: the
    /// `supervise/ok` probe, `supervise/status`, and the `down` file. The
    /// descriptors it opens are left to `spent`.
    pub(crate) fn read_part(
        dir: &SvDir<'_>,
        part: Part,
        spent: &mut Spent,
    ) -> Result<Status, SvError> {
        dir.probe(part, spent)?;
        let raw = dir.read_status(part, spent)?;
        Ok(Status::decode(&raw, dir.normally_up(part)?))
    }

    /// Whole seconds since [`Status::since`] at `now`, clamped at 0 (sv's
    /// `now - tai_sec`).
    pub fn seconds_at(&self, now: SystemTime) -> u64 {
        unix_seconds(now).saturating_sub(unix_seconds(self.since))
    }

    /// How long it has been in this state.
    pub fn uptime(&self) -> Duration {
        SystemTime::now()
            .duration_since(self.since)
            .unwrap_or_default()
    }

    /// The part of an `sv status` line for this status: `run: LABEL: (pid
    /// N) Ss` and the flags, in sv's order and under sv's conditions.
    pub fn render(&self, label: &str, now: SystemTime) -> String {
        let mut out = Vec::new();
        self.render_into(label.as_bytes(), unix_seconds(now), &mut out);
        String::from_utf8(out).expect("a UTF-8 label renders as UTF-8")
    }

    /// [`Status::render`] appended to `out`, for a label of any bytes (a
    /// service's name is a file name, not necessarily UTF-8) and `now` in
    /// Unix seconds.
    pub fn render_into(&self, label: &[u8], now: u64, out: &mut Vec<u8>) {
        out.extend_from_slice(self.state.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(label);
        out.extend_from_slice(b": ");
        if self.state != State::Down {
            out.extend_from_slice(b"(pid ");
            push_decimal(out, self.pid.into());
            out.extend_from_slice(b") ");
        }
        push_decimal(out, now.saturating_sub(unix_seconds(self.since)));
        out.push(b's');
        let running = self.pid != 0;
        let flags = [
            (running && !self.normally_up, "normally down"),
            (!running && self.normally_up, "normally up"),
            (running && self.paused, "paused"),
            (!running && self.want == Want::Up, "want up"),
            (running && self.want == Want::Down, "want down"),
            (running && self.got_term, "got TERM"),
        ];
        for (on, text) in flags {
            if on {
                out.extend_from_slice(b", ");
                out.extend_from_slice(text.as_bytes());
            }
        }
    }

    /// The JSON object for this status at `now`.
    pub fn to_json(&self, now: SystemTime) -> serde_json::Value {
        serde_json::json!({
            "state": self.state,
            "pid": self.pid,
            "seconds": self.seconds_at(now),
            "since": self.since.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs(),
            "want": self.want,
            "paused": self.paused,
            "normally_up": self.normally_up,
            "got_term": self.got_term,
        })
    }
}

/// The status of a service and of its logger.
#[derive(Debug)]
pub struct ServiceStatus {
    /// The main service.
    pub main: Status,
    /// The logger: `None` when the service has no `log/` directory.
    pub log: Option<Result<Status, SvError>>,
}

impl ServiceStatus {
    /// Reads both, as `sv status` does: the main service must be readable;
    /// a logger problem is reported in [`ServiceStatus::log`].
    pub fn read(dir: &Path) -> Result<ServiceStatus, SvError> {
        let mut spent = Spent::default();
        let dir = SvDir::open_path(dir)?;
        let status = ServiceStatus::read_dir(&dir, &mut spent);
        dir.retire(&mut spent);
        status
    }

    /// [`ServiceStatus::read`] of an open service directory; the
    /// descriptors it opens are left to `spent`.
    pub(crate) fn read_dir(dir: &SvDir<'_>, spent: &mut Spent) -> Result<ServiceStatus, SvError> {
        let main = Status::read_part(dir, Part::Main, spent)?;
        let log = match dir.has_log() {
            Ok(true) => Some(Status::read_part(dir, Part::Log, spent)),
            Ok(false) => None,
            Err(e) => Some(Err(e)),
        };
        Ok(ServiceStatus { main, log })
    }

    /// One line exactly as `sv status LABEL` prints it (without the
    /// newline). sv's own output after a logger whose `supervise/ok` is
    /// missing repeats the main status under the name `log`; that quirk is
    /// not reproduced.
    pub fn render(&self, label: &str, now: SystemTime) -> String {
        let mut out = Vec::new();
        self.render_into(label.as_bytes(), unix_seconds(now), &mut out);
        String::from_utf8(out).expect("a UTF-8 label renders as UTF-8")
    }

    /// [`ServiceStatus::render`] appended to `out` (see
    /// [`Status::render_into`]).
    pub fn render_into(&self, label: &[u8], now: u64, out: &mut Vec<u8>) {
        self.main.render_into(label, now, out);
        match &self.log {
            None => {}
            Some(Ok(log)) => {
                out.extend_from_slice(b"; ");
                log.render_into(b"log", now, out);
            }
            Some(Err(e)) => {
                out.extend_from_slice(b"; ");
                let mut log_label = label.to_vec();
                log_label.extend_from_slice(b"/log");
                render_error_into(&log_label, e, out);
            }
        }
    }

    /// The JSON object: the main status's fields, and `log` (an object,
    /// `{"error": …}`, or `null`).
    pub fn to_json(&self, now: SystemTime) -> serde_json::Value {
        let mut v = self.main.to_json(now);
        v["log"] = match &self.log {
            None => serde_json::Value::Null,
            Some(Ok(log)) => log.to_json(now),
            Some(Err(e)) => error_json(e),
        };
        v
    }
}

/// sv's message for a status that cannot be read: `fail: LABEL: runsv not
/// running`, `warning: LABEL: unable to open supervise/ok: file does not
/// exist`, …
pub fn render_error(label: &str, e: &SvError) -> String {
    let mut out = Vec::new();
    render_error_into(label.as_bytes(), e, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// [`render_error`] appended to `out`, for a label of any bytes.
pub fn render_error_into(label: &[u8], e: &SvError, out: &mut Vec<u8>) {
    let (level, text): (&str, Cow<'_, str>) = match e {
        SvError::NotRunning { .. } => ("fail", "runsv not running".into()),
        SvError::SuperviseOkMissing { .. } => (
            "warning",
            "unable to open supervise/ok: file does not exist".into(),
        ),
        SvError::NoSuchService { .. } => (
            "fail",
            "unable to change to service directory: file does not exist".into(),
        ),
        SvError::BadFormat { .. } => (
            "warning",
            "unable to read supervise/status: bad format".into(),
        ),
        SvError::CannotEnter { source, .. } => (
            "fail",
            format!(
                "unable to change to service directory: {}",
                sv_error_str(source)
            )
            .into(),
        ),
        SvError::Io { path, source } => ("warning", sv_io_message(path, source).into()),
        other => ("warning", other.to_string().into()),
    };
    out.extend_from_slice(level.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(label);
    out.extend_from_slice(b": ");
    out.extend_from_slice(text.as_bytes());
}

/// What sv says when it cannot open, read or stat a file of the service
/// directory, or change into `log/`: `unable to open supervise/status: file
/// does not exist`.
fn sv_io_message(path: &Path, e: &std::io::Error) -> String {
    let name = path.file_name().unwrap_or_default();
    let in_supervise = path
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|p| p == "supervise");
    let action = match name.to_str() {
        Some(f @ ("status" | "ok")) if in_supervise => format!("open supervise/{f}"),
        Some("down") => "stat down".to_owned(),
        _ => "change directory".to_owned(),
    };
    format!("unable to {action}: {}", sv_error_str(e))
}

/// runit's wording of the errors a status read can meet; others in the
/// system's words.
fn sv_error_str(e: &std::io::Error) -> Cow<'static, str> {
    let text = match e.raw_os_error() {
        Some(nix::libc::ENOENT) => "file does not exist",
        Some(nix::libc::ENOTDIR) => "not a directory",
        Some(nix::libc::EACCES) => "access denied",
        Some(nix::libc::EPERM) => "permission denied",
        Some(nix::libc::ELOOP) => "symbolic link loop",
        Some(nix::libc::EISDIR) => "is a directory",
        Some(nix::libc::EIO) => "input/output error",
        _ => return e.to_string().into(),
    };
    text.into()
}

/// `{"error": {"kind": …, "message": …}}`.
pub fn error_json(e: &SvError) -> serde_json::Value {
    serde_json::json!({ "error": { "kind": e.kind(), "message": e.to_string() } })
}

/// Whole seconds since the Unix epoch (0 before it).
fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// Appends `n` in decimal, without going through the formatting machinery.
fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pid: u32, paused: u8, want: u8, term: u8, state: u8) -> [u8; 20] {
        let mut r = [0u8; 20];
        r[0..8].copy_from_slice(&(TAI_UNIX_EPOCH + 1000).to_be_bytes());
        r[8..12].copy_from_slice(&500u32.to_be_bytes());
        r[12..16].copy_from_slice(&pid.to_le_bytes());
        r[16] = paused;
        r[17] = want;
        r[18] = term;
        r[19] = state;
        r
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn renders_the_examples_of_the_reference_notes() {
        let now = at(1045);
        let run = Status::decode(&raw(123, 0, b'u', 0, 1), true);
        assert_eq!(run.render("foo", now), "run: foo: (pid 123) 45s");
        let down = Status::decode(&raw(0, 0, b'd', 0, 0), true);
        assert_eq!(down.render("baz", now), "down: baz: 45s, normally up");
        let crashing = Status::decode(&raw(0, 0, b'u', 0, 0), true);
        assert_eq!(
            crashing.render("X", at(999)),
            "down: X: 0s, normally up, want up"
        );
        let stubborn = Status::decode(&raw(9310, 0, b'd', 1, 1), false);
        assert_eq!(
            stubborn.render("X", at(1004)),
            "run: X: (pid 9310) 4s, normally down, want down, got TERM"
        );
        let finishing = Status::decode(&raw(9439, 0, b'd', 0, 2), false);
        assert_eq!(
            finishing.render("X", at(1007)),
            "finish: X: (pid 9439) 7s, normally down, want down"
        );
        let paused = Status::decode(&raw(5, 1, b'u', 0, 1), true);
        assert_eq!(paused.render("p", now), "run: p: (pid 5) 45s, paused");
    }

    #[test]
    fn same_second_starts_differ_in_the_stamp() {
        let mut a = raw(1, 0, b'u', 0, 1);
        let b = Status::decode(&a, true);
        a[8..12].copy_from_slice(&9_000u32.to_be_bytes());
        let c = Status::decode(&a, true);
        assert_eq!(b.seconds_at(at(1000)), c.seconds_at(at(1000)));
        assert!(c.stamp > b.stamp);
    }
}
