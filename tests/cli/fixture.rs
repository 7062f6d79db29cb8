//! A temporary host: three roots, the command, and a snapshot of the tree.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::procs::children_of;

pub struct Host {
    pub dir: tempfile::TempDir,
}

impl Host {
    pub fn new() -> Self {
        Host {
            dir: tempfile::Builder::new()
                .prefix("sb-cli.")
                .tempdir()
                .unwrap(),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn config(&self) -> PathBuf {
        self.path("config")
    }
    pub fn staging(&self) -> PathBuf {
        self.path("staging")
    }
    pub fn runit(&self) -> PathBuf {
        self.path("runit")
    }

    /// Writes a file under the host directory and returns its path.
    pub fn file(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    /// The command with the three roots and a runnable interpreter.
    pub fn cmd(&self) -> Command {
        self.cmd_with_finish("/bin/true")
    }

    /// The same, with `finish` as the finish helper.
    pub fn cmd_with_finish(&self, finish: &str) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_servicebuilder"));
        c.arg("--config-root")
            .arg(self.config())
            .arg("--staging-root")
            .arg(self.staging())
            .arg("--runit-root")
            .arg(self.runit())
            .arg("--interpreter")
            .arg("/bin/sh")
            .arg("--finish-default")
            .arg(finish)
            .arg("--log-root")
            .arg(self.path("log"))
            .env_remove("SERVICEBUILDER_CONFIG_ROOT")
            .env_remove("SERVICEBUILDER_STAGING_ROOT")
            .env_remove("SERVICEBUILDER_RUNIT_ROOT");
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    /// Runs and asserts success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "servicebuilder {args:?} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs and asserts failure; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "servicebuilder {args:?} should have failed:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stderr).unwrap()
    }

    /// Every path under the three roots with its type, mode, mtime, link
    /// target and contents: equal snapshots mean nothing changed.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, String> {
        let mut out = BTreeMap::new();
        for root in [self.config(), self.staging(), self.runit()] {
            walk(&root, &mut out);
        }
        out
    }
}

fn walk(p: &Path, out: &mut BTreeMap<PathBuf, String>) {
    let Ok(meta) = std::fs::symlink_metadata(p) else {
        return;
    };
    let desc = if meta.file_type().is_symlink() {
        format!("link -> {}", std::fs::read_link(p).unwrap().display())
    } else if meta.is_dir() {
        let mut names: Vec<_> = std::fs::read_dir(p)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        for n in names {
            walk(&n, out);
        }
        format!("dir {:o}", meta.permissions().mode())
    } else {
        format!(
            "file {:o} {}.{} {:?}",
            meta.permissions().mode(),
            meta.mtime(),
            meta.mtime_nsec(),
            std::fs::read(p).unwrap()
        )
    };
    out.insert(p.to_owned(), desc);
}

pub fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

/// A runsvdir on a directory, killed (with its runsv children, by pid) on
/// drop.
pub struct Runsvdir {
    child: std::process::Child,
    dir: PathBuf,
}

impl Runsvdir {
    pub fn start(dir: &Path, extra_path: Option<&Path>) -> Self {
        // `sv start DEP` in run scripts looks for DEP under $SVDIR.
        Self::spawn(dir, extra_path, Some(dir))
    }

    /// As Debian's /etc/runit/2 starts it: no SVDIR in the environment.
    pub fn start_as_at_boot(dir: &Path) -> Self {
        Self::spawn(dir, None, None)
    }

    fn spawn(dir: &Path, extra_path: Option<&Path>, svdir: Option<&Path>) -> Self {
        let mut cmd = Command::new("runsvdir");
        cmd.arg("-P").arg(dir).env_remove("SVDIR");
        if let Some(svdir) = svdir {
            cmd.env("SVDIR", svdir);
        }
        if let Some(p) = extra_path {
            cmd.env(
                "PATH",
                format!("{}:/usr/sbin:/usr/bin:/sbin:/bin", p.display()),
            );
        }
        Runsvdir {
            child: cmd.spawn().expect("runsvdir (install the runit package)"),
            dir: dir.to_owned(),
        }
    }
}

impl Drop for Runsvdir {
    fn drop(&mut self) {
        // runsvdir's own TERM would leave its runsv children running, and
        // a runsv that exits while runsvdir lives is started again. So:
        // note the children (by parent pid: only what this test started),
        // kill runsvdir, then give each runsv TERM (runit's `exit`).
        let children = children_of(self.child.id());
        let _ = self.child.kill();
        let _ = self.child.wait();
        for pid in &children {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
        // Let them finish before the test's directory goes away.
        wait_until(5, || {
            children
                .iter()
                .all(|p| !Path::new(&format!("/proc/{p}")).exists())
        });
        let _ = &self.dir;
    }
}

/// Polls `f` every 100 ms for up to `secs` seconds.
pub fn wait_until(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    f()
}
