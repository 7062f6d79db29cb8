//! File-system primitives that never leave anything half-written: atomic
//! writes (temporary name in the same directory, then `rename`),
//! write-if-changed, atomic symlink swaps, exact modes whatever the umask,
//! and an exclusive lock around multi-file changes.
//!
//! Temporary names start with `.`, so runsvdir (which skips dot-names)
//! never sees them.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result, bail};
use nix::fcntl::{Flock, FlockArg};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A temporary sibling of `path`: same directory, dot-prefixed, unique to
/// this process.
pub fn temp_sibling(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.sb-tmp.{}.{n}", std::process::id()))
}

/// True for a name [`temp_sibling`] makes.
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.contains(".sb-tmp.")
}

/// Writes `contents` to `path` with exactly `mode`, atomically.
pub fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    let tmp = temp_sibling(path);
    let result = (|| -> io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(contents)?;
        // fchmod, not the open mode: the umask must not change the result.
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(())
}

/// Writes `path` only if its contents or mode differ. Returns whether it
/// wrote. A symlink or a directory in the way is an error, never followed.
pub fn write_if_changed(path: &Path, contents: &[u8], mode: u32) -> Result<bool> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_file() => {
            if meta.len() == contents.len() as u64
                && meta.permissions().mode() & 0o7777 == mode
                && fs::read(path).is_ok_and(|old| old == contents)
            {
                return Ok(false);
            }
        }
        Ok(meta) if meta.file_type().is_symlink() => {
            bail!(
                "{} is a symbolic link; refusing to write through it (remove it first)",
                path.display()
            )
        }
        Ok(_) => bail!(
            "{} is in the way: it is not a regular file (remove it first)",
            path.display()
        ),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot inspect {}", path.display())),
    }
    write_atomic(path, contents, mode)?;
    Ok(true)
}

/// Makes sure `path` is a real directory (not a symlink) with exactly
/// `mode`. Returns whether it changed anything.
pub fn ensure_dir(path: &Path, mode: u32) -> Result<bool> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => {
            if meta.permissions().mode() & 0o7777 != mode {
                fs::set_permissions(path, fs::Permissions::from_mode(mode))
                    .with_context(|| format!("cannot set the mode of {}", path.display()))?;
                return Ok(true);
            }
            Ok(false)
        }
        Ok(meta) if meta.file_type().is_symlink() => bail!(
            "{} is a symbolic link; refusing to follow it (remove it first)",
            path.display()
        ),
        Ok(_) => bail!("{} exists and is not a directory", path.display()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::create_dir(path).with_context(|| format!("cannot create {}", path.display()))?;
            fs::set_permissions(path, fs::Permissions::from_mode(mode))
                .with_context(|| format!("cannot set the mode of {}", path.display()))?;
            Ok(true)
        }
        Err(e) => Err(e).with_context(|| format!("cannot inspect {}", path.display())),
    }
}

/// Creates `dir` and its missing parents with mode 0755 (for the roots).
pub fn ensure_root(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))
}

/// Points `link` at `target`, atomically: a new link under a temporary name
/// is renamed over the old one.
pub fn symlink_swap(target: &Path, link: &Path) -> Result<()> {
    let tmp = temp_sibling(link);
    std::os::unix::fs::symlink(target, &tmp)
        .with_context(|| format!("cannot create a symbolic link next to {}", link.display()))?;
    if let Err(e) = fs::rename(&tmp, link) {
        let _ = fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot replace {}", link.display()));
    }
    Ok(())
}

/// Removes a file or symlink if present. Returns whether it removed one.
pub fn remove_file_if_exists(path: &Path) -> Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e).with_context(|| format!("cannot remove {}", path.display())),
    }
}

/// Removes a directory tree without following symbolic links inside it:
/// it is first renamed to a temporary dot-name (so runsvdir stops seeing it
/// at once and a crash leaves no half-removed service under its real name).
pub fn remove_tree(path: &Path) -> Result<()> {
    let tmp = temp_sibling(path);
    fs::rename(path, &tmp).with_context(|| format!("cannot move {} away", path.display()))?;
    fs::remove_dir_all(&tmp).with_context(|| format!("cannot remove {}", tmp.display()))
}

/// An exclusive advisory lock, held until dropped.
pub struct Lock {
    _lock: Flock<File>,
}

/// Takes the exclusive lock on `path` (created if needed), waiting for
/// another holder to finish.
pub fn lock(path: &Path) -> Result<Lock> {
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))?;
    let lock = Flock::lock(f, FlockArg::LockExclusive)
        .map_err(|(_, e)| e)
        .with_context(|| format!("cannot lock {}", path.display()))?;
    Ok(Lock { _lock: lock })
}

/// One `syncfs` for the file system holding `dir`: cheaper than an fsync
/// per file, and enough to make a completed run durable.
pub fn syncfs(dir: &Path) -> Result<()> {
    let f = File::open(dir).with_context(|| format!("cannot open {}", dir.display()))?;
    nix::unistd::syncfs(f.as_fd()).with_context(|| format!("syncfs {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_if_changed_writes_once() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("run");
        assert!(write_if_changed(&p, b"a", 0o755).unwrap());
        assert!(!write_if_changed(&p, b"a", 0o755).unwrap());
        assert!(write_if_changed(&p, b"a", 0o644).unwrap());
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o644
        );
        assert!(write_if_changed(&p, b"b", 0o644).unwrap());
    }

    #[test]
    fn writing_through_a_symlink_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("run");
        std::os::unix::fs::symlink("/etc/passwd", &p).unwrap();
        assert!(write_if_changed(&p, b"x", 0o644).is_err());
    }

    #[test]
    fn symlink_swap_replaces_in_place() {
        let d = tempfile::tempdir().unwrap();
        let l = d.path().join("l");
        symlink_swap(Path::new("/a"), &l).unwrap();
        symlink_swap(Path::new("/b"), &l).unwrap();
        assert_eq!(fs::read_link(&l).unwrap(), Path::new("/b"));
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1);
    }
}
