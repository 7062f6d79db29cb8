//! Fixtures for tests that run real runit: service directories with plain
//! `#!/bin/sh` run scripts, and guards that start `runsv`/`runsvdir` and
//! stop everything they started, by pid, when dropped.
#![allow(dead_code)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Once;
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;
use servicebuilder::sv::Status;

/// The `servicebuilder` binary under test.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_servicebuilder"))
}

/// Runs a command and returns its output; panics if it cannot start.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Text of stdout.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Text of stderr.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Writes an executable file.
pub fn write_exec(path: &Path, contents: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, contents).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// A service directory being written.
pub struct ServiceDef {
    dir: PathBuf,
}

impl ServiceDef {
    /// `dir/run` = `#!/bin/sh` + `body`.
    pub fn new(dir: impl Into<PathBuf>, body: &str) -> ServiceDef {
        let dir = dir.into();
        write_exec(&dir.join("run"), &format!("#!/bin/sh\n{body}\n"));
        ServiceDef { dir }
    }

    /// A logger that reads until EOF, so runsv can exit when told to.
    pub fn log(self) -> ServiceDef {
        write_exec(
            &self.dir.join("log/run"),
            "#!/bin/sh\nexec cat >/dev/null\n",
        );
        self
    }

    /// `./finish` = `#!/bin/sh` + `body`.
    pub fn finish(self, body: &str) -> ServiceDef {
        write_exec(&self.dir.join("finish"), &format!("#!/bin/sh\n{body}\n"));
        self
    }

    /// A `down` file: runsv does not start it.
    pub fn down(self) -> ServiceDef {
        fs::write(self.dir.join("down"), "").unwrap();
        self
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }
}

/// A long-running daemon body that honours TERM.
pub const DAEMON: &str = "exec sleep 100000";
/// A daemon that ignores TERM (only KILL stops it). The shell itself is
/// the supervised pid; it waits in short sleeps so it notices nothing.
/// It announces its trap in `ready`: see [`wait_ready`].
pub const STUBBORN: &str = "trap '' TERM\necho $$ > ready\nwhile :; do sleep 0.2; done";

/// A running `runsv` or `runsvdir` and everything below it; all of it is
/// stopped by pid on drop.
pub struct Supervisor {
    child: Option<Child>,
    /// What it supervises.
    pub dir: PathBuf,
}

static SUBREAPER: Once = Once::new();

impl Supervisor {
    /// `runsv DIR`.
    pub fn runsv(dir: &Path) -> Supervisor {
        Self::spawn(Command::new("runsv").arg(dir), dir)
    }

    /// `runsvdir -P DIR`.
    pub fn runsvdir(dir: &Path) -> Supervisor {
        Self::spawn(Command::new("runsvdir").arg("-P").arg(dir), dir)
    }

    fn spawn(cmd: &mut Command, dir: &Path) -> Supervisor {
        // runsv processes outlive a stopped runsvdir; as a subreaper this
        // test process inherits them and can reap them by pid.
        SUBREAPER.call_once(|| nix::sys::prctl::set_child_subreaper(true).unwrap());
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start runit's runsv/runsvdir: apt-get install runit");
        Supervisor {
            child: Some(child),
            dir: dir.to_owned(),
        }
    }

    /// The pid of runsv/runsvdir.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // No grace: KILL the supervisor first (so nothing restarts), then
        // everything it had started, and reap them all.
        let tree = descendants(child.id());
        let _ = child.kill();
        let _ = child.wait();
        for &p in &tree {
            let _ = kill(p, Signal::SIGKILL);
        }
        for p in tree {
            let _ = waitpid(p, None);
        }
    }
}

/// True while `p` exists and is not a zombie; reaps it if it is our
/// (adopted) child.
fn alive(p: Pid) -> bool {
    let _ = waitpid(p, Some(WaitPidFlag::WNOHANG));
    match fs::read_to_string(format!("/proc/{p}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Every process below `pid`, from /proc.
fn descendants(pid: u32) -> Vec<Pid> {
    let mut parent_of = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(p) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        if let Some((_, rest)) = stat.rsplit_once(')')
            && let Some(ppid) = rest.split_whitespace().nth(1)
            && let Ok(ppid) = ppid.parse::<i32>()
        {
            parent_of.push((p, ppid));
        }
    }
    let mut out: Vec<i32> = Vec::new();
    let mut frontier = vec![pid as i32];
    while let Some(q) = frontier.pop() {
        for &(p, pp) in &parent_of {
            if pp == q && !out.contains(&p) {
                out.push(p);
                frontier.push(p);
            }
        }
    }
    out.into_iter().map(Pid::from_raw).collect()
}

/// Polls `f` every 10 ms until it holds; panics with `what` after
/// `timeout`.
pub fn wait_until(timeout: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        sleep(Duration::from_millis(10));
    }
}

/// Waits until runsv reports `dir` running (a pid in state run).
pub fn wait_running(dir: &Path) -> Status {
    wait_status(dir, &format!("{} to run", dir.display()), |s| s.pid != 0)
}

/// Waits until the service in `dir` runs and its shell has written its own
/// pid to `ready`, which it does once its signal traps are set. runsv
/// reports `run` from the moment it forks, so a signal sent on that alone
/// can beat the `trap` line on a loaded machine and kill the shell.
pub fn wait_ready(dir: &Path) -> Status {
    let what = format!("{} to set its traps", dir.display());
    wait_status(dir, &what, |s| {
        s.pid != 0
            && fs::read_to_string(dir.join("ready")).is_ok_and(|r| r.trim() == s.pid.to_string())
    })
}

/// Waits until `pred` holds for the status of `dir`.
pub fn wait_status(dir: &Path, what: &str, mut pred: impl FnMut(&Status) -> bool) -> Status {
    let mut last = None;
    wait_until(Duration::from_secs(10), what, || {
        last = Status::read(dir).ok().filter(&mut pred);
        last.is_some()
    });
    last.unwrap()
}

/// True while `pid` exists (and is not a zombie).
pub fn pid_alive(pid: u32) -> bool {
    alive(Pid::from_raw(pid as i32))
}

/// One part of an `sv status` line: `STATE: NAME: (pid N) Ss, flag, …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// down, run, finish.
    pub state: String,
    /// The name as printed.
    pub name: String,
    /// The pid, when shown.
    pub pid: Option<u32>,
    /// Seconds.
    pub secs: u64,
    /// The flags, in order.
    pub flags: Vec<String>,
}

/// Parses one `sv status` line into the main part and the log part.
pub fn parse_status_line(line: &str) -> (Part, Option<Part>) {
    let line = line.trim_end_matches('\n');
    let mut halves = line.splitn(2, "; ");
    let main = parse_part(halves.next().unwrap());
    let log = halves.next().map(parse_part);
    (main, log)
}

fn parse_part(s: &str) -> Part {
    let (state, rest) = s
        .split_once(": ")
        .unwrap_or_else(|| panic!("no state in {s:?}"));
    let (name, rest) = rest
        .split_once(": ")
        .unwrap_or_else(|| panic!("no name in {s:?}"));
    let (pid, rest) = match rest.strip_prefix("(pid ") {
        Some(r) => {
            let (n, r) = r.split_once(") ").unwrap();
            (Some(n.parse().unwrap()), r)
        }
        None => (None, rest),
    };
    let mut items = rest.split(", ");
    let secs = items
        .next()
        .and_then(|t| t.strip_suffix('s'))
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no seconds in {s:?}"));
    Part {
        state: state.to_owned(),
        name: name.to_owned(),
        pid,
        secs,
        flags: items.map(str::to_owned).collect(),
    }
}

/// Asserts two parts are equal except for seconds, which may differ by 1
/// (the two programs read the clock at different moments).
pub fn assert_same_part(ours: &Part, theirs: &Part, context: &str) {
    let mut a = ours.clone();
    let mut b = theirs.clone();
    assert!(
        a.secs.abs_diff(b.secs) <= 1,
        "{context}: seconds differ: ours {ours:?}, sv's {theirs:?}"
    );
    a.secs = 0;
    b.secs = 0;
    assert_eq!(a, b, "{context}: ours vs sv's");
}

/// The 20 bytes runsv writes to `supervise/status`: want up, state run,
/// `pid`, stamped 10⁸ seconds in the future so that every reader prints
/// `0s` (sv and servicebuilder clamp a stamp ahead of the clock to 0), which
/// makes two outputs comparable byte for byte.
pub fn future_status(pid: u32) -> [u8; 20] {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut raw = [0u8; 20];
    raw[0..8].copy_from_slice(&(0x4000_0000_0000_000a + now + 100_000_000u64).to_be_bytes());
    raw[12..16].copy_from_slice(&pid.to_le_bytes());
    raw[17] = b'u';
    raw[19] = 1;
    raw
}

/// A `supervise/` directory as runsv leaves it (`status` holding
/// `status`, or none; an `ok` FIFO), for states that a real runsv cannot be
/// made to show on demand: a truncated status file, a status file missing
/// while runsv runs. With `alive`, the returned handle reads `ok`, which is
/// all that sv and servicebuilder test to decide that runsv is running;
/// dropping it makes runsv "not running".
pub fn supervise_dir(dir: &Path, status: Option<&[u8]>, alive: bool) -> Option<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let sup = dir.join("supervise");
    fs::create_dir_all(&sup).unwrap();
    if let Some(status) = status {
        fs::write(sup.join("status"), status).unwrap();
    }
    nix::unistd::mkfifo(
        &sup.join("ok"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    nix::unistd::mkfifo(
        &sup.join("control"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    alive.then(|| {
        fs::OpenOptions::new()
            .read(true)
            .custom_flags(nix::libc::O_NONBLOCK)
            .open(sup.join("ok"))
            .unwrap()
    })
}
