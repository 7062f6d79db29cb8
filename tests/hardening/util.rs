//! Shared pieces of the hardening tests: a seeded random generator, root
//! snapshots, the command under test and process guards.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};

/// xorshift64*: small, seeded, reproducible. The seed of a failing run is
/// printed so it can be replayed with `SB_HARDENING_SEED`.
pub struct Rng(pub u64);

impl Rng {
    pub fn from_env(name: &str) -> Rng {
        let seed = std::env::var("SB_HARDENING_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0x5eed_0000_0000_0001);
        eprintln!("{name}: seed {seed} (set SB_HARDENING_SEED to change it)");
        Rng(seed | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Characters sh gives a meaning to, and other troublemakers.
pub const NASTY: &[char] = &[
    '\'',
    '"',
    '$',
    '`',
    '\\',
    '!',
    '*',
    '?',
    '[',
    ']',
    '{',
    '}',
    '(',
    ')',
    '<',
    '>',
    '|',
    '&',
    ';',
    '#',
    '~',
    ' ',
    '\t',
    '\n',
    '\r',
    '=',
    '%',
    '^',
    '-',
    '\u{1}',
    '\u{7f}',
    '\u{a0}',
    '\u{85}',
    '\u{2028}',
    '\u{feff}',
    '\u{10ffff}',
    'é',
    '字',
    '😀',
];

/// Any Unicode scalar value except NUL, weighted towards the nasty ones.
pub fn any_char(rng: &mut Rng) -> char {
    match rng.below(10) {
        0..=3 => *rng.pick(NASTY),
        4..=6 => (b' ' + rng.below(95) as u8) as char,
        _ => loop {
            let c = rng.below(0x11_0000) as u32;
            if let Some(c) = char::from_u32(c).filter(|c| *c != '\0') {
                break c;
            }
        },
    }
}

/// A random string: empty, short, or up to `max` characters, sometimes
/// with a leading `-`.
pub fn any_string(rng: &mut Rng, max: u64) -> String {
    if rng.chance(5) {
        return String::new();
    }
    let len = if rng.chance(90) {
        rng.below(12)
    } else {
        rng.below(max)
    } + 1;
    let mut s: String = (0..len).map(|_| any_char(rng)).collect();
    if rng.chance(10) {
        s.insert(0, '-');
    }
    s
}

/// The servicebuilder binary under test.
pub fn servicebuilder() -> Command {
    Command::new(env!("CARGO_BIN_EXE_servicebuilder"))
}

/// Three roots under one temporary directory, and the command-line flags
/// that name them (scripts rendered for `/bin/sh`, as the library's fake).
pub struct Roots {
    pub dir: tempfile::TempDir,
}

impl Roots {
    pub fn new() -> Roots {
        let dir = tempfile::Builder::new()
            .prefix("sb-hardening.")
            .tempdir()
            .unwrap();
        Roots { dir }
    }
    pub fn config(&self) -> PathBuf {
        self.dir.path().join("config")
    }
    pub fn staging(&self) -> PathBuf {
        self.dir.path().join("staging")
    }
    pub fn runit(&self) -> PathBuf {
        self.dir.path().join("runit")
    }
    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        fs::write(&p, text).unwrap();
        p
    }
    /// `servicebuilder` with the roots as flags.
    pub fn cmd(&self) -> Command {
        let mut c = servicebuilder();
        c.arg("-c")
            .arg(self.config())
            .arg("-s")
            .arg(self.staging())
            .arg("-d")
            .arg(self.runit())
            .args(["--interpreter", "/bin/sh", "--finish-default", "/bin/true"])
            .arg("--log-root")
            .arg(self.dir.path().join("log"))
            .env_remove("SERVICEBUILDER_CONFIG_ROOT")
            .env_remove("SERVICEBUILDER_STAGING_ROOT")
            .env_remove("SERVICEBUILDER_RUNIT_ROOT");
        c
    }
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }
    pub fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "servicebuilder {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

/// One entry of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Dir(u32),
    File(u32, Vec<u8>),
    Link(PathBuf),
    Other,
}

/// Everything under `root` (relative path -> node), not following links.
/// `skip` decides which names are left out (with everything below them).
pub fn snapshot(root: &Path, skip: &dyn Fn(&str) -> bool) -> BTreeMap<PathBuf, Node> {
    let mut out = BTreeMap::new();
    walk(root, Path::new(""), skip, &mut out);
    out
}

fn walk(root: &Path, rel: &Path, skip: &dyn Fn(&str) -> bool, out: &mut BTreeMap<PathBuf, Node>) {
    let Ok(entries) = fs::read_dir(root.join(rel)) else {
        return;
    };
    for e in entries {
        let Ok(e) = e else { continue };
        let name = e.file_name().to_string_lossy().into_owned();
        if skip(&name) {
            continue;
        }
        let rel = rel.join(&name);
        let path = root.join(&rel);
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o7777;
        let node = if meta.file_type().is_symlink() {
            Node::Link(fs::read_link(&path).unwrap_or_default())
        } else if meta.is_dir() {
            walk(root, &rel, skip, out);
            Node::Dir(mode)
        } else if meta.is_file() {
            Node::File(mode, fs::read(&path).unwrap_or_default())
        } else {
            Node::Other
        };
        out.insert(rel, node);
    }
}

/// Every path under `root` with its mode and owner, for before/after
/// comparisons where contents do not matter.
pub fn listing(root: &Path) -> BTreeMap<PathBuf, (u32, u64)> {
    snapshot(root, &|_| false)
        .into_iter()
        .map(|(p, n)| {
            let meta = fs::symlink_metadata(root.join(&p)).unwrap();
            let _ = n;
            (p, (meta.mode(), meta.len()))
        })
        .collect()
}

/// Sends `sig` to the child on drop and reaps it: no test leaves a process
/// behind, and only the process it started is signalled.
pub struct Guard {
    pub child: Option<Child>,
    pub sig: nix::sys::signal::Signal,
}

impl Guard {
    pub fn new(child: Child, sig: nix::sys::signal::Signal) -> Guard {
        Guard {
            child: Some(child),
            sig,
        }
    }
    pub fn pid(&self) -> nix::unistd::Pid {
        nix::unistd::Pid::from_raw(self.child.as_ref().unwrap().id() as i32)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(c.id() as i32), self.sig);
            let _ = c.wait();
        }
    }
}

/// The number from environment variable `name`, or `default`.
pub fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The processes whose working directory is under `root` (runsv and the
/// services it started there).
pub fn processes_under(root: &Path) -> Vec<i32> {
    let mut pids = Vec::new();
    for e in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if fs::read_link(e.path().join("cwd")).is_ok_and(|cwd| cwd.starts_with(root)) {
            pids.push(pid);
        }
    }
    pids
}

/// Waits up to `secs` for every process working under `root` to end (runsv
/// stops its service after runsvdir's TERM), then KILLs the stragglers by
/// pid. Returns how many had to be killed.
pub fn wait_for_processes_under(root: &Path, secs: u64) -> usize {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let left = processes_under(root);
        if left.is_empty() {
            return 0;
        }
        if std::time::Instant::now() > deadline {
            for pid in &left {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(*pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            return left.len();
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// On drop, waits for (and at worst KILLs) every process left working
/// under its directory. Declared before the runsvdir guard, so it runs
/// after runsvdir was told to stop.
pub struct TreeGuard(pub PathBuf);

impl Drop for TreeGuard {
    fn drop(&mut self) {
        wait_for_processes_under(&self.0, 15);
    }
}
