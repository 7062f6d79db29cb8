//! Envdirs (`conf/`, Debian's `env/`) with the rules of `chpst -e`.
//!
//! For each directory entry, in `readdir` order: names starting with `.`
//! are skipped; an empty file (0 bytes) unsets the variable; otherwise the
//! value is the first line (up to the first `\n`), with trailing spaces and
//! tabs cut and every NUL byte turned into a newline.
//!
//! Where chpst behaves badly this reader refuses instead, with a message:
//! a name containing `=` (chpst would set the part before it), a
//! subdirectory (chpst skips it silently), an unreadable file or a dangling
//! symlink (chpst aborts, or reuses the previous entry's value), and a first
//! line too long for `execve` (chpst would fail to exec). Directories and
//! `=` names are warnings and the entry is skipped; the others stop the start.

use std::ffi::{OsStr, OsString};
use std::io::{self, Read};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use super::env::Env;

/// Linux refuses a single environment string longer than this
/// (`MAX_ARG_STRLEN`, 32 pages), counting `NAME=` and the final NUL.
pub const MAX_ENV_STRING: usize = 32 * 4096;

/// One change an envdir makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Set the variable.
    Set(OsString, OsString),
    /// Remove the variable (the file is empty).
    Unset(OsString),
}

/// A fatal problem with an envdir.
#[derive(Debug)]
pub struct EnvdirError {
    /// The directory or file concerned.
    pub path: PathBuf,
    /// What went wrong and how to fix it.
    pub reason: String,
}

impl std::fmt::Display for EnvdirError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

/// The changes that envdir `dir` makes, and warnings about skipped entries.
/// A `dir` that is not a directory gives no changes (as `[ -d ]` in Debian).
pub fn read(dir: &Path) -> Result<(Vec<Change>, Vec<String>), EnvdirError> {
    let mut changes = Vec::new();
    let mut warnings = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.raw_os_error() == Some(nix::libc::ENOENT) => return Ok((changes, warnings)),
        Err(e) if e.raw_os_error() == Some(nix::libc::ENOTDIR) => {
            return Ok((changes, warnings));
        }
        Err(e) => {
            return Err(EnvdirError {
                path: dir.to_owned(),
                reason: format!("cannot list the envdir: {e}"),
            });
        }
    };
    for entry in entries {
        let entry = entry.map_err(|e| EnvdirError {
            path: dir.to_owned(),
            reason: format!("cannot list the envdir: {e}"),
        })?;
        let name = entry.file_name();
        let bytes = name.as_bytes();
        if bytes.first() == Some(&b'.') {
            continue;
        }
        let path = entry.path();
        if bytes.contains(&b'=') {
            warnings.push(format!(
                "{}: a variable name cannot contain '=', entry ignored; rename the file",
                path.display()
            ));
            continue;
        }
        match read_value(&path, &name)? {
            Some(Value::Set(v)) => changes.push(Change::Set(name, v)),
            Some(Value::Unset) => changes.push(Change::Unset(name)),
            None => warnings.push(format!(
                "{}: is a directory, entry ignored; an envdir holds one file per variable",
                path.display()
            )),
        }
    }
    Ok((changes, warnings))
}

/// Apply `changes` to `env` in order.
pub fn apply(changes: &[Change], env: &mut Env) {
    for c in changes {
        match c {
            Change::Set(k, v) => env.set(k.clone(), v.clone()),
            Change::Unset(k) => env.unset(k),
        }
    }
}

enum Value {
    Set(OsString),
    Unset,
}

/// The value of one envdir file; `None` for a directory.
fn read_value(path: &Path, name: &OsStr) -> Result<Option<Value>, EnvdirError> {
    let fail = |reason: String| EnvdirError {
        path: path.to_owned(),
        reason,
    };
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(nix::libc::ENOENT) => {
            return Err(fail(
                "dangling symlink; point it at a file or remove it".to_string(),
            ));
        }
        Err(e) => return Err(fail(format!("cannot open: {e}"))),
    };
    let limit = MAX_ENV_STRING - name.len() - 2;
    let mut value = Vec::new();
    let mut buf = [0u8; 8192];
    let mut total = 0usize;
    loop {
        let n = match file.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.raw_os_error() == Some(nix::libc::EISDIR) => return Ok(None),
            Err(e) => return Err(fail(format!("cannot read: {e}"))),
        };
        if n == 0 {
            break;
        }
        total += n;
        let chunk = &buf[..n];
        if let Some(nl) = chunk.iter().position(|&c| c == b'\n') {
            value.extend_from_slice(&chunk[..nl]);
            break;
        }
        value.extend_from_slice(chunk);
        if value.len() > limit {
            return Err(fail(format!(
                "the first line is longer than {limit} bytes, more than an environment variable can hold; shorten it"
            )));
        }
    }
    if total == 0 {
        return Ok(Some(Value::Unset));
    }
    while matches!(value.last(), Some(b' ' | b'\t')) {
        value.pop();
    }
    if value.len() > limit {
        return Err(fail(format!(
            "the first line is longer than {limit} bytes, more than an environment variable can hold; shorten it"
        )));
    }
    for c in value.iter_mut() {
        if *c == 0 {
            *c = b'\n';
        }
    }
    Ok(Some(Value::Set(OsString::from_vec(value))))
}
