//! Fixtures: throw-away source trees and commands with a clean environment.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_dh_servicebuilder")
}

/// The repository (for `perl/`).
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A source package in `src/` of a temporary directory (so the `.deb`s
/// dpkg-buildpackage writes into `..` stay inside it).
pub struct Tree {
    dir: TempDir,
    root: PathBuf,
}

/// The result of a command, as text.
#[derive(Debug)]
pub struct Out {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }
}

impl From<Output> for Out {
    fn from(o: Output) -> Out {
        Out {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

pub const CHANGELOG: &str = "rdemo (1.0) unstable; urgency=medium\n\n  * Initial release.\n\n -- Test Maintainer <test@example.org>  Mon, 01 Jan 2024 00:00:00 +0000\n";
pub const COPYRIGHT: &str = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nCopyright: 2024 Test Maintainer\nLicense: MIT\n Permission is hereby granted, free of charge, to any person obtaining a copy\n of this software, to deal in it without restriction.\n";

impl Tree {
    /// A tree with `debian/control` only.
    pub fn new(control: &str) -> Tree {
        let t = Tree::empty();
        t.file("debian/control", control);
        t
    }

    /// A tree that `dpkg-buildpackage` can build (changelog, copyright,
    /// rules running `dh $@ RULES_ARGS`).
    pub fn buildable(control: &str, rules_args: &str) -> Tree {
        let t = Tree::new(control);
        t.file("debian/changelog", CHANGELOG);
        t.file("debian/copyright", COPYRIGHT);
        t.file("debian/source/format", "3.0 (native)\n");
        t.exec_file(
            "debian/rules",
            &format!("#!/usr/bin/make -f\n%:\n\tdh $@ {rules_args}\n"),
        );
        t
    }

    fn empty() -> Tree {
        let dir = tempfile::Builder::new()
            .prefix("dhsb")
            .tempdir()
            .expect("tempdir");
        let root = dir.path().join("src");
        std::fs::create_dir(&root).unwrap();
        Tree { dir, root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory around the source tree, where built packages land.
    pub fn outside(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    pub fn file(&self, rel: &str, contents: &str) -> &Self {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, contents).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        self
    }

    pub fn exec_file(&self, rel: &str, contents: &str) -> &Self {
        self.file(rel, contents);
        std::fs::set_permissions(self.path(rel), std::fs::Permissions::from_mode(0o755)).unwrap();
        self
    }

    pub fn exists(&self, rel: &str) -> bool {
        std::fs::symlink_metadata(self.path(rel)).is_ok()
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    /// A command run in this tree with a clean, fixed environment.
    pub fn cmd(&self, program: &str, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut c = clean_command(program);
        c.args(args).current_dir(self.root());
        for (k, v) in env {
            c.env(k, v);
        }
        c
    }

    pub fn run(&self, program: &str, args: &[&str], env: &[(&str, &str)]) -> Out {
        self.cmd(program, args, env).output().expect(program).into()
    }

    /// `dh_servicebuilder ARGS`.
    pub fn dhsb(&self, args: &[&str], env: &[(&str, &str)]) -> Out {
        self.run(bin(), args, env)
    }

    /// Copy the whole tree into a fresh one (for side-by-side runs).
    pub fn duplicate(&self) -> Tree {
        let t = Tree::empty();
        let status = Command::new("cp")
            .arg("-a")
            .arg(format!("{}/.", self.root().display()))
            .arg(t.root())
            .status()
            .unwrap();
        assert!(status.success());
        t
    }

    /// Every path under `sub` with its type, mode and link target.
    pub fn listing(&self, sub: &str) -> Vec<String> {
        let mut out = Vec::new();
        let base = self.path(sub);
        if base.exists() {
            walk(&base, &base, &mut out);
        }
        out.sort();
        out
    }
}

fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        let m = std::fs::symlink_metadata(&p).unwrap();
        let rel = p.strip_prefix(base).unwrap().display().to_string();
        if m.file_type().is_symlink() {
            out.push(format!(
                "{rel} -> {}",
                std::fs::read_link(&p).unwrap().display()
            ));
        } else if m.is_dir() {
            out.push(format!("{rel}/ {:04o}", m.permissions().mode() & 0o7777));
            walk(base, &p, out);
        } else {
            out.push(format!("{rel} {:04o}", m.permissions().mode() & 0o7777));
        }
    }
}

/// A command with only PATH, LC_ALL and HOME set (no DH_* or DEB_* leaking
/// in from the caller).
pub fn clean_command(program: &str) -> Command {
    let mut c = Command::new(program);
    c.env_clear()
        .env(
            "PATH",
            std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into()),
        )
        .env("LC_ALL", "C.UTF-8")
        .env("HOME", std::env::temp_dir());
    c
}

/// A directory holding `dh_servicebuilder` (a symlink to the binary under
/// test), to put first in PATH for `dh` and `dpkg-buildpackage`.
pub struct ToolDir {
    dir: TempDir,
}

impl ToolDir {
    pub fn new() -> ToolDir {
        let dir = tempfile::Builder::new()
            .prefix("dhsb-bin")
            .tempdir()
            .unwrap();
        std::os::unix::fs::symlink(bin(), dir.path().join("dh_servicebuilder")).unwrap();
        ToolDir { dir }
    }

    /// PATH with this directory first.
    pub fn path_var(&self) -> String {
        format!(
            "{}:{}",
            self.dir.path().display(),
            std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into())
        )
    }

    /// The environment for dh and dpkg-buildpackage: our command on PATH,
    /// our addon on PERL5LIB.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("PATH".into(), self.path_var()),
            ("PERL5LIB".into(), repo().join("perl").display().to_string()),
        ]
    }
}

/// Path (relative to `base`) and contents of every regular file under
/// `base` in `t`.
pub fn contents(t: &Tree, base: &str) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut map = std::collections::BTreeMap::new();
    for line in t.listing(base) {
        let rel = line.split(' ').next().unwrap().to_string();
        let p = t.path(&format!("{base}/{rel}"));
        if std::fs::symlink_metadata(&p).unwrap().is_file() {
            map.insert(rel, std::fs::read(&p).unwrap());
        }
    }
    map
}

/// `(NAME, ENABLE, ONUPGRADE)` of each dh_runit or dh_servicebuilder block
/// of a `.debhelper` file, in order.
pub fn snippet_calls(text: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("NAME='") {
            // dh_runit: NAME='n' ENABLE='yes' ONUPGRADE='restart' …
            let w: Vec<&str> = rest.split('\'').collect();
            out.push((w[0].into(), w[2].into(), w[4].into()));
        } else if line.contains("servicebuilder maint ") {
            let w: Vec<&str> = line.split_whitespace().collect();
            let arg = |k: &str| {
                let i = w.iter().position(|x| *x == k).unwrap();
                w[i + 1].trim_matches('\'').to_string()
            };
            out.push((arg("--name"), arg("--enable"), arg("--onupgrade")));
        }
    }
    out
}
