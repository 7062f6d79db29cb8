//! Which service are we? The directory and its name.
//!
//! Debian's scripts use `$PWD` and `${PWD##*/}`. `/bin/sh` keeps an inherited
//! `PWD` when it names the current directory (same device and inode) and
//! otherwise asks `getcwd()`; under runsv, whose environment carries no `PWD`,
//! that is the physical path (`/etc/sv/foo` even when runsv was started on
//! the `/etc/service/foo` link). The same rule is applied here, so `NAME`
//! and `PWD` come out as they would under Debian's interpreter.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::env::Env;

/// The service directory a runtime program runs in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    /// Absolute path of the current directory, as the shell's `$PWD`.
    pub dir: PathBuf,
    /// The last component of `dir`: the service name (`${PWD##*/}`).
    pub name: OsString,
}

impl Service {
    /// The service whose directory is the current directory, using `PWD`
    /// from `env` when it names the current directory.
    pub fn current(env: &Env) -> io::Result<Service> {
        let dir = match env.get("PWD").filter(|p| same_as_cwd(Path::new(p))) {
            Some(p) => PathBuf::from(p),
            None => std::env::current_dir()?,
        };
        Ok(Service::at(dir))
    }

    /// The service for directory `dir`.
    pub fn at(dir: PathBuf) -> Service {
        let name = last_component(dir.as_os_str()).to_owned();
        Service { dir, name }
    }

    /// `NAME` as UTF-8 text for messages (invalid bytes replaced).
    pub fn name_lossy(&self) -> std::borrow::Cow<'_, str> {
        self.name.to_string_lossy()
    }
}

/// `${P##*/}`: everything after the last slash.
fn last_component(p: &OsStr) -> &OsStr {
    let b = p.as_bytes();
    match b.iter().rposition(|&c| c == b'/') {
        Some(i) => OsStr::from_bytes(&b[i + 1..]),
        None => p,
    }
}

fn same_as_cwd(p: &Path) -> bool {
    if !p.is_absolute() {
        return false;
    }
    match (std::fs::metadata(p), std::fs::metadata(".")) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_is_the_text_after_the_last_slash() {
        assert_eq!(Service::at("/etc/sv/foo".into()).name, "foo");
        assert_eq!(Service::at("/".into()).name, "");
        assert_eq!(Service::at("/etc/sv/a.b@c".into()).name, "a.b@c");
    }
}
