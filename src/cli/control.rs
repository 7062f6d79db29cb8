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
//! | 4 | timeout: the service did not reach the wanted state within `--timeout` (with `--no-kill`, for `start` and `once`, or while `./finish` still runs: runsv's kill would run it twice) |
//! | 5 | killed: `stop`/`restart` had to KILL the service after the timeout; the action itself completed |
//! | 6 | `supervise/ok` missing: no runsv has ever supervised the service (or runsvdir did not pick it up in time) |
//!
//! `status` prints one line per service, exactly as `sv status` does
//! (`run: NAME: (pid N) Ss; run: log: (pid N) Ss`), or with `--json` an
//! array of objects; a service that cannot be read gets sv's `fail:` or
//! `warning:` line (or an `error` object) and the exit code of the first
//! such service. Control commands print sv's `ok: …` line on success and
//! the error on standard error otherwise.

use std::ffi::{OsStr, OsString};
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
    RunitSv, Service, ServiceStatus, Spent, Sv, SvDir, SvError, error_json, open_error,
    render_error_into,
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

/// `servicebuilder status` as the command line says it, when it says it in
/// one of the plain ways that [`status_fast_path`] recognises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusArgs {
    /// The runit root (`-d`, `--runit-root`, `$SERVICEBUILDER_RUNIT_ROOT`,
    /// or the default).
    pub runit_root: PathBuf,
    /// The services named, if any.
    pub services: Vec<String>,
    /// `--json`.
    pub json: bool,
}

/// Recognises `servicebuilder [-d DIR] status [--json] [SERVICE…]` (with
/// `-d DIR`, `--runit-root DIR` or `--runit-root=DIR` before or after
/// `status`), without building the whole clap command: that alone was
/// about a third of the instructions of a `status` call. `args` excludes
/// the program name; `env_root` is `$SERVICEBUILDER_RUNIT_ROOT`.
///
/// Anything else, or anything clap might read differently (another option,
/// a repeated one, `--`, a value starting with `-`, an empty value, a name
/// that is not UTF-8), is `None`: the caller then parses with clap, which
/// also gives the help and the errors. Where this returns `Some`, clap
/// parses the same (tested side by side).
pub fn status_fast_path(args: &[OsString], env_root: Option<&OsStr>) -> Option<StatusArgs> {
    let mut root: Option<PathBuf> = None;
    let mut subcommand = false;
    let mut json = false;
    let mut services = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let bytes = arg.as_bytes();
        let value = if bytes == b"-d" || bytes == b"--runit-root" {
            Some(args.next()?.as_os_str())
        } else {
            bytes.strip_prefix(b"--runit-root=").map(OsStr::from_bytes)
        };
        if let Some(value) = value {
            if root.is_some() || value.is_empty() || value.as_bytes().starts_with(b"-") {
                return None;
            }
            root = Some(PathBuf::from(value));
        } else if bytes.starts_with(b"-") {
            if !subcommand || bytes != b"--json" || json {
                return None;
            }
            json = true;
        } else if !subcommand {
            if bytes != b"status" {
                return None;
            }
            subcommand = true;
        } else {
            services.push(arg.to_str()?.to_owned());
        }
    }
    if !subcommand {
        return None;
    }
    let runit_root = match (root, env_root) {
        (Some(root), _) => root,
        (None, None) => PathBuf::from(crate::builder::DEFAULT_RUNIT_ROOT),
        (None, Some(env)) if !env.is_empty() => PathBuf::from(env),
        (None, Some(_)) => return None,
    };
    Some(StatusArgs {
        runit_root,
        services,
        json,
    })
}

/// [`status_fast_path`] on this process's arguments and environment, and
/// `status` if it recognised them.
pub fn status_if_plain() -> Option<anyhow::Result<ExitCode>> {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let env = std::env::var_os("SERVICEBUILDER_RUNIT_ROOT");
    let a = status_fast_path(&args, env.as_deref())?;
    let format = a.json.then_some(super::args::StatusFormat::Json);
    Some(status_as(&a.runit_root, &a.services, format, None))
}

/// `servicebuilder status`.
///
/// Without arguments, the runit root is listed once (`d_type` says which
/// entries can be services: no `stat` per entry) and every service is then
/// opened relative to a handle on it; see [`crate::sv`] for what one
/// service costs. The text goes out in service order, in blocks of
/// [`OUT_BLOCK`] bytes. One thread does it all: helper threads made the
/// median time of 1000 services under a real runsvdir twice as long (see
/// BENCHMARKS.md).
pub fn status(
    roots: &RootArgs,
    services: &[String],
    format: Option<super::args::StatusFormat>,
    metrics_state: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    status_as(&roots.runit_root, services, format, metrics_state)
}

/// `status` in `format`; without one, a table on a terminal and `sv`'s
/// lines otherwise (scripts parse those).
pub fn status_as(
    root: &Path,
    services: &[String],
    format: Option<super::args::StatusFormat>,
    metrics_state: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    use super::args::StatusFormat;
    use std::io::IsTerminal;
    let format = format.unwrap_or_else(|| {
        if std::io::stdout().is_terminal() {
            StatusFormat::Table
        } else {
            StatusFormat::Sv
        }
    });
    if format == StatusFormat::Sv {
        return status_in(root, services, false);
    }
    let rows = super::overview::rows(root, services)?;
    let code = super::overview::print(&rows, format, metrics_state)?;
    Ok(ExitCode::from(code))
}

/// [`status`] in the runit root `root`.
pub fn status_in(root: &Path, services: &[String], json: bool) -> anyhow::Result<ExitCode> {
    let now = SystemTime::now();
    let mut out = Output::new();
    if services.is_empty() {
        let cannot = || format!("cannot list the runit root {}", root.display());
        let names = Names::list(root).with_context(cannot)?;
        let dir = open_root(root).with_context(cannot)?;
        for chunk in 0..names.chunks() {
            out.append(read_chunk(&names, &dir, root, chunk, json, now))?;
        }
    } else {
        // Names are looked up relative to one handle on the root; when the
        // root cannot be opened, each lookup fails on its own, as in sv.
        let root_fd = open_root(root).ok();
        let mut part = Part::new(json, now);
        let mut spent = Spent::default();
        for label in services {
            let service = Service::lookup(root, label);
            let opened = match &root_fd {
                Some(fd) if Service::is_name(label) => {
                    SvDir::open(fd.as_fd(), root, Path::new(label))
                }
                _ => SvDir::open(AT_FDCWD, Path::new(""), &service.path),
            };
            match opened {
                Ok(sv) => {
                    let status = ServiceStatus::read_dir(&sv, &mut spent);
                    part.add(label.as_bytes(), &|| service.path.clone(), status);
                    sv.retire(&mut spent);
                }
                Err(e) => {
                    let status = Err(open_error(e, service.path.clone()));
                    part.add(label.as_bytes(), &|| service.path.clone(), status);
                }
            }
        }
        out.append(part)?;
    }
    out.finish(json)
}

/// How much text `status` gathers before one `write`.
pub const OUT_BLOCK: usize = 64 * 1024;
/// How many services are read into one piece of output before it is
/// appended to the rest.
pub const CHUNK: usize = 64;

/// Reads run `chunk` of the services listed in `names`, in the runit root
/// `root` open as `dir`.
fn read_chunk(
    names: &Names,
    dir: &OwnedFd,
    root: &Path,
    chunk: usize,
    json: bool,
    now: SystemTime,
) -> Part {
    let mut part = Part::new(json, now);
    let mut spent = Spent::default();
    for name in names.chunk(chunk) {
        let rel = Path::new(OsStr::from_bytes(name));
        match SvDir::open(dir.as_fd(), root, rel) {
            Ok(sv) => {
                let status = ServiceStatus::read_dir(&sv, &mut spent);
                part.add(name, &|| sv.path(), status);
                sv.retire(&mut spent);
            }
            // A link to a file: not a service. A dangling link is reported
            // (as `sv status` does): runsvdir cannot run it either, and it
            // is how a broken activation shows.
            Err(Errno::ENOTDIR) => {}
            Err(e) => {
                let path = root.join(rel);
                part.add(name, &|| path.clone(), Err(open_error(e, path.clone())));
            }
        }
    }
    part
}

/// What a run of services printed (text, or JSON objects), and the exit
/// code of its first failure.
struct Part {
    now: SystemTime,
    code: u8,
    text: Vec<u8>,
    json: Option<Vec<serde_json::Value>>,
}

impl Part {
    fn new(json: bool, now: SystemTime) -> Part {
        Part {
            now,
            code: 0,
            text: Vec::new(),
            json: json.then(Vec::new),
        }
    }

    /// One service's line (or JSON object); `path` names it in JSON.
    fn add(
        &mut self,
        label: &[u8],
        path: &dyn Fn() -> PathBuf,
        result: Result<ServiceStatus, SvError>,
    ) {
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
            return;
        }
        match &result {
            Ok(st) => st.render_into(label, unix_seconds(self.now), &mut self.text),
            Err(e) => render_error_into(label, e, &mut self.text),
        }
        self.text.push(b'\n');
    }
}

/// Standard output, written in blocks; the exit code of the first failure.
struct Output {
    code: u8,
    out: Vec<u8>,
    stdout: std::io::StdoutLock<'static>,
    json: Vec<serde_json::Value>,
}

impl Output {
    fn new() -> Output {
        Output {
            code: 0,
            out: Vec::with_capacity(OUT_BLOCK + 8 * 1024),
            stdout: std::io::stdout().lock(),
            json: Vec::new(),
        }
    }

    fn append(&mut self, part: Part) -> std::io::Result<()> {
        if self.code == 0 {
            self.code = part.code;
        }
        self.json.extend(part.json.into_iter().flatten());
        self.out.extend_from_slice(&part.text);
        if self.out.len() >= OUT_BLOCK {
            self.stdout.write_all(&self.out)?;
            self.out.clear();
        }
        Ok(())
    }

    fn finish(mut self, json: bool) -> anyhow::Result<ExitCode> {
        if json {
            serde_json::to_writer_pretty(&mut self.out, &self.json)?;
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

    /// How many runs of [`CHUNK`] names there are.
    fn chunks(&self) -> usize {
        self.spans.len().div_ceil(CHUNK)
    }

    /// The names of run `i`.
    fn chunk(&self, i: usize) -> impl Iterator<Item = &[u8]> {
        let end = self.spans.len().min((i + 1) * CHUNK);
        self.spans[i * CHUNK..end]
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
    if action != Action::Stop && !service.path.join("supervise/ok").exists() {
        // Linked a moment ago: have runsvdir look now, not at its next
        // scan (up to 5 s later).
        crate::sv::rescan::poke(&roots.runit_root);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<OsString> {
        s.split_whitespace().map(OsString::from).collect()
    }

    /// What clap makes of the same arguments, in the fast path's terms;
    /// `None` when clap fails or means something other than `status`.
    fn clap_reading(args: &[OsString]) -> Option<StatusArgs> {
        use clap::Parser;
        let mut full = vec![OsString::from("servicebuilder")];
        full.extend_from_slice(args);
        match super::super::args::Cli::try_parse_from(full).ok()? {
            super::super::args::Cli {
                roots,
                command:
                    Some(super::super::args::Cmd::Status {
                        services,
                        json,
                        format: None,
                        metrics_state: None,
                    }),
                ..
            } => Some(StatusArgs {
                runit_root: roots.runit_root,
                services,
                json,
            }),
            _ => None,
        }
    }

    #[test]
    fn the_status_fast_path_reads_what_clap_reads_or_leaves_it_to_clap() {
        // The environment of this test process is not ours to change, so
        // clap's side is only compared when it does not set the root.
        let env = std::env::var_os("SERVICEBUILDER_RUNIT_ROOT");
        let cases = [
            ("status", true),
            ("status --json", true),
            ("status a b ./c /d/e", true),
            ("status --json a", true),
            ("status a --json b", true),
            ("-d /r status", true),
            ("--runit-root /r status x", true),
            ("--runit-root=/r status x", true),
            ("status -d /r x", true),
            ("status x --runit-root /r", true),
            ("status x --runit-root=/r --json", true),
            ("-d rel/dir status", true),
            // Left to clap: help, errors, other options and subcommands.
            ("", false),
            ("start x", false),
            ("-d /r", false),
            ("status --help", false),
            ("status -h", false),
            ("--version", false),
            ("status --json --json", false),
            ("-d /r -d /s status", false),
            ("-d /r status -d /s", false),
            ("-d", false),
            ("status -d", false),
            ("-d -x status", false),
            ("-d=/r status", false),
            ("-d/r status", false),
            ("status -- -x", false),
            ("status -x", false),
            ("status -", false),
            ("-c /c status", false),
            ("--prune status", false),
            ("status --runit-root=", false),
            ("--json status", false),
            ("statu", false),
            ("Status", false),
        ];
        for (line, fast) in cases {
            let args = argv(line);
            let ours = status_fast_path(&args, None);
            assert_eq!(ours.is_some(), fast, "{line:?}: {ours:?}");
            if let Some(ours) = ours
                && env.is_none()
            {
                assert_eq!(Some(ours), clap_reading(&args), "{line:?}");
            }
        }
        let not_utf8 = vec![
            OsString::from("status"),
            std::os::unix::ffi::OsStringExt::from_vec(vec![0xff]),
        ];
        assert_eq!(status_fast_path(&not_utf8, None), None);
    }

    #[test]
    fn the_status_fast_path_takes_the_root_from_the_environment_like_clap() {
        let args = argv("status x");
        let root =
            |env: Option<&str>| status_fast_path(&args, env.map(OsStr::new)).map(|a| a.runit_root);
        assert_eq!(root(None), Some(PathBuf::from("/etc/service")));
        assert_eq!(root(Some("/srv/sv")), Some(PathBuf::from("/srv/sv")));
        assert_eq!(root(Some("")), None, "an empty variable is left to clap");
        let with_d = status_fast_path(&argv("-d /r status"), Some(OsStr::new("/srv/sv")));
        assert_eq!(with_d.unwrap().runit_root, PathBuf::from("/r"));
    }
}
