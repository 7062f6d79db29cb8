//! What `prune` and `activate` must not destroy: log history and files an
//! admin added to a staged service directory are moved to
//! `STAGING/.kept/SERVICE.STAMP/` (same relative paths) instead of being
//! deleted with the directory. runsvdir and Debian's trigger never look at
//! dot-names, and the move is a rename on the same file system: a svlogd
//! still writing into a moved `log/main` goes on writing into the kept copy.

use std::fs;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::fsx;

/// The directory of the staging root that holds what was kept.
pub const KEPT_DIR: &str = ".kept";

/// What servicebuilder renders or runsv makes at the top of a staged
/// service directory. `.meta/` is servicebuilder's and the runtime's
/// bookkeeping (Debian's trigger writes `.meta/wtime`), not the admin's.
const GENERATED_TOP: &[&str] = &["run", "finish", "down", "conf", ".meta", "supervise"];
/// The same inside `log/`; `main/` is judged by what it holds.
const GENERATED_LOG: &[&str] = &["run", "supervise"];
/// What svlogd writes into a log directory that holds no history yet.
const SVLOGD_BOOKKEEPING: &[&str] = &["lock", "state", "newstate"];

/// The entries of the service directory `dir` that are not
/// servicebuilder's or runsv's, as relative paths: log history
/// (`log/main` once it holds a line) and anything an admin added.
pub fn foreign_entries(dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for name in names(dir)? {
        if GENERATED_TOP.contains(&name.as_str()) || fsx::is_temp_name(&name) {
            continue;
        }
        if name == "log" && is_real_dir(&dir.join("log")) {
            out.extend(foreign_log_entries(&dir.join("log"))?);
            continue;
        }
        out.push(name);
    }
    Ok(out)
}

/// [`foreign_entries`] of a `log/` directory, prefixed with `log/`.
pub fn foreign_log_entries(log: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for name in names(log)? {
        if GENERATED_LOG.contains(&name.as_str()) || fsx::is_temp_name(&name) {
            continue;
        }
        if name == "main" && is_real_dir(&log.join("main")) && !has_history(&log.join("main"))? {
            continue;
        }
        out.push(format!("log/{name}"));
    }
    Ok(out)
}

/// True when a svlogd directory holds log lines (a non-empty `current`,
/// rotated `@…` files) or anything svlogd does not write itself (an
/// admin's `config`).
pub fn has_history(main: &Path) -> Result<bool> {
    for name in names(main)? {
        if SVLOGD_BOOKKEEPING.contains(&name.as_str()) {
            continue;
        }
        if name == "current" {
            let meta = fs::symlink_metadata(main.join(&name))
                .with_context(|| format!("cannot inspect {}", main.join(&name).display()))?;
            if meta.size() == 0 {
                continue;
            }
        }
        return Ok(true);
    }
    Ok(false)
}

/// Moves the entries `rels` of `staging_root/service` into a new
/// `staging_root/.kept/SERVICE.STAMP/`, keeping their relative paths.
/// Returns that directory; nothing is made when `rels` is empty.
pub fn move_aside(staging_root: &Path, service: &str, rels: &[String]) -> Result<Option<PathBuf>> {
    let dir = staging_root.join(service);
    each_into_kept(staging_root, service, rels, |rel, to| {
        fs::rename(dir.join(rel), to).with_context(|| {
            format!(
                "cannot move {} to {}",
                dir.join(rel).display(),
                to.display()
            )
        })
    })
}

/// Copies the files `rels` of `staging_root/service` (local edits about to
/// be overwritten) into a new `staging_root/.kept/SERVICE.STAMP/`.
pub fn copy_aside(staging_root: &Path, service: &str, rels: &[String]) -> Result<Option<PathBuf>> {
    let dir = staging_root.join(service);
    each_into_kept(staging_root, service, rels, |rel, to| {
        let from = dir.join(rel);
        let bytes = fs::read(&from).with_context(|| format!("cannot read {}", from.display()))?;
        let mode = fs::symlink_metadata(&from)
            .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o7777)
            .unwrap_or(0o600);
        fsx::write_atomic(to, &bytes, mode)
    })
}

/// Makes a new `staging_root/.kept/SERVICE.STAMP/` (root only: logs and
/// an admin's env files may hold secrets) and gives `put` each of `rels`
/// with its place there, parents made; nothing when `rels` is empty.
fn each_into_kept(
    staging_root: &Path,
    service: &str,
    rels: &[String],
    mut put: impl FnMut(&str, &Path) -> Result<()>,
) -> Result<Option<PathBuf>> {
    if rels.is_empty() {
        return Ok(None);
    }
    let kept = staging_root.join(KEPT_DIR);
    fsx::ensure_dir(&kept, 0o700)?;
    let dest = unique_dir(&kept, &format!("{service}.{}", crate::date::utc_stamp()))?;
    for rel in rels {
        let to = dest.join(rel);
        if let Some(parent) = to.parent() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        put(rel, &to)?;
    }
    Ok(Some(dest))
}

fn unique_dir(parent: &Path, base: &str) -> Result<PathBuf> {
    for n in 0.. {
        let name = if n == 0 {
            base.to_owned()
        } else {
            format!("{base}.{n}")
        };
        let path = parent.join(name);
        match fs::DirBuilder::new().mode(0o700).create(&path) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
        }
    }
    unreachable!("an unbounded range ends")
}

fn names(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

fn is_real_dir(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_log_is_no_history_and_a_line_is() {
        let d = tempfile::tempdir().unwrap();
        for n in ["lock", "state", "newstate", "current"] {
            fs::write(d.path().join(n), "").unwrap();
        }
        assert!(!has_history(d.path()).unwrap());
        fs::write(d.path().join("current"), "a line\n").unwrap();
        assert!(has_history(d.path()).unwrap());
    }
}
