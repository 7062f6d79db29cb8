//! `status` for people and for monitoring: a table (the default on a
//! terminal), JSON with every field, and node_exporter's textfile format.
//! The `sv`-compatible lines, which scripts parse, stay the default when
//! standard output is not a terminal, and are `--format sv`
//! (see [`super::control`]).
//!
//! Every service the runit root holds is covered, whoever made it, and
//! also the services an admin disabled the Debian way: a `.NAME` link with
//! no `NAME` beside it (runit-helper and update-service respect it).

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result};

use crate::sv::{ServiceStatus, State, Status, SvError, Want, check_passes, error_json};

/// Whether a service starts when its runsvdir does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enabled {
    /// Linked into the runit root, no `down` file.
    Yes,
    /// Linked, with a `down` file: supervised, not started by itself.
    DownFile,
    /// Not linked, and a `.NAME` dot-link says the admin disabled it.
    Disabled,
}

impl Enabled {
    fn as_str(self) -> &'static str {
        match self {
            Enabled::Yes => "yes",
            Enabled::DownFile => "down-file",
            Enabled::Disabled => "disabled",
        }
    }
}

/// One service as the operator sees it.
#[derive(Debug)]
pub struct Row {
    /// Its name (or the path given).
    pub name: String,
    /// Its directory.
    pub path: PathBuf,
    /// What supervise/ says (not read for a disabled service).
    pub status: Option<Result<ServiceStatus, SvError>>,
    /// Linked, down file, or disabled by a dot-link.
    pub enabled: Enabled,
    /// `./check` passes (only when the service runs and has one).
    pub ready: Option<bool>,
    /// The running process's command line.
    pub command: Option<String>,
}

/// The rows for `services` in `root`, or for everything `root` holds.
pub fn rows(root: &Path, services: &[String]) -> Result<Vec<Row>> {
    let mut named: Vec<(String, PathBuf, bool)> = Vec::new();
    if services.is_empty() {
        let mut linked = BTreeMap::new();
        let mut dotted = BTreeMap::new();
        for entry in fs::read_dir(root)
            .with_context(|| format!("cannot list the runit root {}", root.display()))?
        {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            match name.strip_prefix('.') {
                Some(base)
                    if !base.is_empty()
                        && fs::symlink_metadata(&path)
                            .is_ok_and(|m| m.file_type().is_symlink()) =>
                {
                    dotted.insert(base.to_owned(), path);
                }
                Some(_) => {}
                None => {
                    // Directories and links (dangling ones are reported);
                    // plain files are not services.
                    let t = entry.file_type()?;
                    if t.is_dir() || t.is_symlink() {
                        linked.insert(name, path);
                    }
                }
            }
        }
        for (name, dot) in dotted {
            if !linked.contains_key(&name) {
                let target = fs::read_link(&dot).map_or(dot.clone(), |t| {
                    if t.is_absolute() { t } else { root.join(t) }
                });
                named.push((name, target, true));
            }
        }
        named.extend(linked.into_iter().map(|(n, p)| (n, p, false)));
        named.sort();
    } else {
        for s in services {
            let svc = crate::sv::Service::lookup(root, s);
            named.push((s.clone(), svc.path, false));
        }
    }
    Ok(named
        .into_iter()
        .map(|(name, path, disabled)| row(name, path, disabled))
        .collect())
}

fn row(name: String, path: PathBuf, disabled: bool) -> Row {
    if disabled {
        return Row {
            name,
            path,
            status: None,
            enabled: Enabled::Disabled,
            ready: None,
            command: None,
        };
    }
    let status = ServiceStatus::read(&path);
    let (enabled, running) = match &status {
        Ok(st) if !st.main.normally_up => (Enabled::DownFile, st.main.pid != 0),
        Ok(st) => (
            Enabled::Yes,
            st.main.pid != 0 && st.main.state == State::Run,
        ),
        Err(_) => (Enabled::Yes, false),
    };
    let ready = (running && path.join("check").exists()).then(|| check_passes(&path));
    let command = match &status {
        Ok(st) if st.main.pid != 0 => cmdline(st.main.pid),
        _ => None,
    };
    Row {
        name,
        path,
        status: Some(status),
        enabled,
        ready,
        command,
    }
}

fn cmdline(pid: u32) -> Option<String> {
    let raw = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let words: Vec<String> = raw
        .split(|b| *b == 0)
        .filter(|w| !w.is_empty())
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

fn seconds(now: SystemTime, since: SystemTime) -> u64 {
    now.duration_since(since).map_or(0, |d| d.as_secs())
}

/// `5s`, `3m12s`, `4h05m`, `12d03h`.
pub fn human(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        s if s < 86_400 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        s => format!("{}d{:02}h", s / 86_400, s % 86_400 / 3600),
    }
}

/// A run that started less than this long ago is shown as a fresh
/// (re)start.
const FRESH: u64 = 10;

/// Whether colour is wanted: on a terminal, and never with `NO_COLOR`
/// (<https://no-color.org>).
pub fn colour_wanted(is_tty: bool) -> bool {
    is_tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

struct Cell {
    text: String,
    colour: Option<&'static str>,
}

fn cell(text: impl Into<String>) -> Cell {
    Cell {
        text: text.into(),
        colour: None,
    }
}

fn coloured(text: impl Into<String>, colour: &'static str) -> Cell {
    Cell {
        text: text.into(),
        colour: Some(colour),
    }
}

const GREEN: &str = "32";
const RED: &str = "31";
const YELLOW: &str = "33";

fn log_state(st: &ServiceStatus) -> String {
    match &st.log {
        None => "-".into(),
        Some(Ok(log)) => log.state.as_str().into(),
        Some(Err(e)) => e.kind().replace('_', " "),
    }
}

fn cells(r: &Row, now: SystemTime) -> Vec<Cell> {
    let ready = cell(match r.ready {
        None => "-",
        Some(true) => "yes",
        Some(false) => "no",
    });
    // state, want, pid, uptime, log: a service without a status to show
    // has only its state cell say why.
    let [state, want, pid, uptime, log] = match &r.status {
        None => [
            coloured("disabled", YELLOW),
            cell("-"),
            cell("-"),
            cell("-"),
            cell("-"),
        ],
        Some(Err(e)) => [
            coloured(e.kind().replace('_', " "), RED),
            cell("-"),
            cell("-"),
            cell("-"),
            cell("-"),
        ],
        Some(Ok(st)) => {
            let m: &Status = &st.main;
            let state = match (m.state, m.want) {
                (State::Run, _) if m.paused => coloured("paused", YELLOW),
                (State::Run, _) => coloured("run", GREEN),
                (State::Finish, _) => coloured("finish", YELLOW),
                (State::Down, Want::Up) => coloured("down", RED),
                (State::Down, Want::Down) => cell("down"),
            };
            let want = match m.want {
                Want::Up => "up",
                Want::Down => "down",
            };
            let secs = seconds(now, m.since);
            let uptime = if m.pid != 0 && secs < FRESH {
                coloured(human(secs), YELLOW)
            } else {
                cell(human(secs))
            };
            let pid = if m.pid == 0 {
                "-".to_string()
            } else {
                m.pid.to_string()
            };
            [state, cell(want), cell(pid), uptime, cell(log_state(st))]
        }
    };
    vec![
        cell(&r.name),
        state,
        want,
        cell(r.enabled.as_str()),
        pid,
        uptime,
        ready,
        log,
        cell(r.command.clone().unwrap_or_else(|| "-".into())),
    ]
}

/// The table: a header and one aligned line per service; the command
/// column is cut to what is left of `width` columns.
pub fn table(rows: &[Row], now: SystemTime, colour: bool, width: usize) -> String {
    const HEADER: [&str; 9] = [
        "SERVICE", "STATE", "WANT", "ENABLED", "PID", "UPTIME", "READY", "LOG", "COMMAND",
    ];
    let body: Vec<Vec<Cell>> = rows.iter().map(|r| cells(r, now)).collect();
    let mut widths: Vec<usize> = HEADER.iter().map(|h| h.len()).collect();
    for line in &body {
        for (i, c) in line.iter().enumerate() {
            widths[i] = widths[i].max(c.text.chars().count());
        }
    }
    let used: usize = widths[..8].iter().map(|w| w + 2).sum();
    let room = width.saturating_sub(used).max(12);
    let mut out = String::new();
    let mut line = |cells: Vec<Cell>| {
        let last = cells.len() - 1;
        for (i, c) in cells.into_iter().enumerate() {
            let mut text = c.text;
            if i == last && text.chars().count() > room {
                text = text.chars().take(room - 1).collect::<String>() + "…";
            }
            let pad = if i == last {
                0
            } else {
                widths[i] + 2 - text.chars().count()
            };
            match c.colour {
                Some(code) if colour => out.push_str(&format!("\x1b[{code}m{text}\x1b[0m")),
                _ => out.push_str(&text),
            }
            out.push_str(&" ".repeat(pad));
        }
        out.push('\n');
    };
    line(HEADER.iter().map(|h| cell(*h)).collect());
    for cells in body {
        line(cells);
    }
    out
}

/// The JSON array: `sv`'s fields (state, pid, seconds, since, want,
/// paused, normally_up, got_term, log) and `service`, `path`, `enabled`,
/// `ready`, `command`.
pub fn json(rows: &[Row], now: SystemTime) -> serde_json::Value {
    let array = rows
        .iter()
        .map(|r| {
            let mut v = match &r.status {
                None => serde_json::json!({ "state": null }),
                Some(Ok(st)) => st.to_json(now),
                Some(Err(e)) => error_json(e),
            };
            v["service"] = r.name.clone().into();
            v["path"] = r.path.to_string_lossy().as_ref().into();
            v["enabled"] = r.enabled.as_str().into();
            v["ready"] = r.ready.into();
            v["command"] = r.command.clone().into();
            v
        })
        .collect();
    serde_json::Value::Array(array)
}

/// Prometheus' text format for node_exporter's textfile collector. With a
/// state file, starts are counted across calls: a service whose start
/// time moved on since the last call restarted.
pub fn metrics(rows: &[Row], now: SystemTime, state: Option<&Path>) -> Result<String> {
    let mut seen = match state {
        Some(p) => read_state(p),
        None => BTreeMap::new(),
    };
    let mut out = String::new();
    let mut family =
        |name: &str, kind: &str, help: &str, values: &mut dyn Iterator<Item = (String, String)>| {
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
            for (service, value) in values {
                out.push_str(&format!(
                    "{name}{{service=\"{}\"}} {value}\n",
                    label(&service)
                ));
            }
        };
    let ok = |r: &Row| match &r.status {
        Some(Ok(st)) => Some(st.main),
        _ => None,
    };
    family(
        "runit_service_up",
        "gauge",
        "1 when the service's ./run runs.",
        &mut rows.iter().map(|r| {
            let up = ok(r).is_some_and(|m| m.pid != 0 && m.state == State::Run);
            (r.name.clone(), u8::from(up).to_string())
        }),
    );
    family(
        "runit_service_uptime_seconds",
        "gauge",
        "Seconds in the current state.",
        &mut rows
            .iter()
            .filter_map(|r| ok(r).map(|m| (r.name.clone(), seconds(now, m.since).to_string()))),
    );
    family(
        "runit_service_ready",
        "gauge",
        "1 when the service runs and its ./check passes (or it has none).",
        &mut rows.iter().map(|r| {
            let up = ok(r).is_some_and(|m| m.pid != 0 && m.state == State::Run);
            (
                r.name.clone(),
                u8::from(up && r.ready != Some(false)).to_string(),
            )
        }),
    );
    family(
        "runit_service_enabled",
        "gauge",
        "1 when the service starts with its runsvdir (linked, no down file).",
        &mut rows.iter().map(|r| {
            (
                r.name.clone(),
                u8::from(r.enabled == Enabled::Yes).to_string(),
            )
        }),
    );
    if let Some(path) = state {
        for r in rows {
            if let Some(m) = ok(r) {
                let stamp = m.stamp.0;
                let e = seen.entry(r.name.clone()).or_insert((stamp, 0));
                if e.0 != stamp {
                    if m.pid != 0 {
                        e.1 += 1;
                    }
                    e.0 = stamp;
                }
            }
        }
        family(
            "runit_service_restarts_seen_total",
            "counter",
            "Starts seen since the state file was made, across calls.",
            &mut rows.iter().filter_map(|r| {
                seen.get(&r.name)
                    .map(|(_, n)| (r.name.clone(), n.to_string()))
            }),
        );
        write_state(path, &seen)?;
    }
    Ok(out)
}

fn label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `NAME STAMP COUNT` per line.
fn read_state(path: &Path) -> BTreeMap<String, (u64, u64)> {
    let text = fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut w = l.split(' ');
            let name = w.next()?.to_owned();
            let stamp = w.next()?.parse().ok()?;
            let count = w.next()?.parse().ok()?;
            Some((name, (stamp, count)))
        })
        .collect()
}

fn write_state(path: &Path, seen: &BTreeMap<String, (u64, u64)>) -> Result<()> {
    let text: String = seen
        .iter()
        .map(|(n, (s, c))| format!("{n} {s} {c}\n"))
        .collect();
    crate::fsx::write_atomic(path, text.as_bytes(), 0o644)
}

/// Prints `rows` in `format` and returns the exit code.
pub fn print(
    rows: &[Row],
    format: super::args::StatusFormat,
    metrics_state: Option<&Path>,
) -> Result<u8> {
    use super::args::StatusFormat;
    let now = SystemTime::now();
    let text = match format {
        StatusFormat::Table => {
            use std::io::IsTerminal;
            let tty = std::io::stdout().is_terminal();
            let width = std::env::var("COLUMNS")
                .ok()
                .and_then(|c| c.parse().ok())
                .unwrap_or(if tty {
                    terminal_width().unwrap_or(80)
                } else {
                    200
                });
            table(rows, now, colour_wanted(tty), width)
        }
        StatusFormat::Json => {
            let mut s = serde_json::to_string_pretty(&json(rows, now))?;
            s.push('\n');
            s
        }
        StatusFormat::Metrics => metrics(rows, now, metrics_state)?,
        StatusFormat::Sv => unreachable!("the sv lines are control::status_in's"),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    // The exit code of the first service that could not be read, as for
    // the `sv` lines (a logger's problem counts too).
    let code = rows.iter().find_map(|r| match &r.status {
        Some(Err(e))
        | Some(Ok(ServiceStatus {
            log: Some(Err(e)), ..
        })) => Some(super::control::exit_code(e)),
        _ => None,
    });
    Ok(code.unwrap_or(0))
}

fn terminal_width() -> Option<usize> {
    // SAFETY: winsize is plain data; all zeroes is a valid value.
    let mut ws: nix::libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ fills the winsize it is given.
    let r = unsafe { nix::libc::ioctl(1, nix::libc::TIOCGWINSZ, &mut ws) };
    (r == 0 && ws.ws_col > 0).then_some(ws.ws_col as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(human(5), "5s");
        assert_eq!(human(192), "3m12s");
        assert_eq!(human(4 * 3600 + 300), "4h05m");
        assert_eq!(human(12 * 86_400 + 3 * 3600), "12d03h");
    }

    #[test]
    fn colour_only_on_a_terminal() {
        assert!(!colour_wanted(false));
    }
}
