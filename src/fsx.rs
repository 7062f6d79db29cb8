//! File-system primitives that never leave anything half-written: atomic
//! writes (temporary name in the same directory, then `rename`),
//! write-if-changed, atomic symlink swaps, exact modes whatever the umask,
//! and an exclusive lock (on a directory) around multi-file changes.
//!
//! Temporary names start with `.`, so runsvdir (which skips dot-names)
//! never sees them.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::io::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result, bail};
use nix::errno::Errno;
use nix::fcntl::{AtFlags, Flock, FlockArg, OFlag, RenameFlags};
use nix::sys::stat::{Mode, SFlag};
use nix::unistd::UnlinkatFlags;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A temporary sibling of `path`: same directory, dot-prefixed, unique to
/// this process.
pub fn temp_sibling(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(temp_name(&name))
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

/// Creates `dir` and its missing parents with exactly mode 0755 whatever
/// the umask (for the roots); existing directories are left as they are.
pub fn ensure_root(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let missing: Vec<&Path> = dir
        .ancestors()
        .take_while(|a| !a.as_os_str().is_empty() && !a.is_dir())
        .collect();
    for d in missing.into_iter().rev() {
        match fs::DirBuilder::new().mode(0o755).create(d) {
            Ok(()) => fs::set_permissions(d, fs::Permissions::from_mode(0o755))
                .with_context(|| format!("cannot set the mode of {}", d.display()))?,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && d.is_dir() => {}
            Err(e) => return Err(e).with_context(|| format!("cannot create {}", d.display())),
        }
    }
    Ok(())
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

/// The process id in a name [`temp_sibling`] made, if any.
pub fn temp_name_pid(name: &str) -> Option<u32> {
    let rest = &name[name.find(".sb-tmp.")? + ".sb-tmp.".len()..];
    rest.split('.').next()?.parse().ok()
}

/// True for a temporary name whose creator is gone: another live process
/// may still be about to rename its own temporary file, so only the dead
/// ones are swept.
pub fn is_stale_temp_name(name: &str) -> bool {
    is_temp_name(name)
        && temp_name_pid(name).is_none_or(|pid| {
            pid != std::process::id()
                && i32::try_from(pid).is_ok_and(|p| {
                    nix::sys::signal::kill(nix::unistd::Pid::from_raw(p), None) == Err(Errno::ESRCH)
                })
        })
}

/// A directory opened without following a symbolic link at its last
/// component (the root of a walk may be a symlink: it is the admin's
/// choice). Every operation is relative to the open descriptor and never
/// follows a symlink at the name it is given, so an entry replaced by a
/// link to `/etc` between a check and a write cannot redirect the write.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    path: PathBuf,
}

/// The type of a directory entry, read without following links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink,
    /// Anything else (FIFO, socket, device).
    Other,
}

/// What [`Dir::compare_file`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compared {
    /// A regular file with exactly the expected contents and mode.
    Same,
    /// A regular file whose contents or mode differ.
    Differs,
    /// Nothing there.
    Missing,
    /// Something else there (a symlink is reported, never followed).
    NotAFile(Kind),
}

/// What [`Dir::stat`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// The entry's type.
    pub kind: Kind,
    /// Permission bits (`& 0o7777`).
    pub mode: u32,
    /// Size in bytes.
    pub len: u64,
}

fn errno_io(e: Errno) -> io::Error {
    io::Error::from_raw_os_error(e as i32)
}

const DIR_FLAGS: OFlag = OFlag::O_RDONLY
    .union(OFlag::O_DIRECTORY)
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_CLOEXEC);

impl Dir {
    /// Opens `path` (which may itself be reached through symlinks).
    pub fn open(path: &Path) -> Result<Dir> {
        let fd = nix::fcntl::open(
            path,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(errno_io)
        .with_context(|| format!("cannot open the directory {}", path.display()))?;
        Ok(Dir {
            fd,
            path: path.to_owned(),
        })
    }

    /// The path this handle was opened as (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the subdirectory `name`; `None` when it does not exist. A
    /// symlink or a non-directory there is an error.
    pub fn open_dir(&self, name: &str) -> Result<Option<Dir>> {
        let path = self.path.join(name);
        match nix::fcntl::openat(&self.fd, name, DIR_FLAGS, Mode::empty()) {
            Ok(fd) => Ok(Some(Dir { fd, path })),
            Err(Errno::ENOENT) => Ok(None),
            Err(Errno::ELOOP) | Err(Errno::ENOTDIR) => bail!(
                "{} is a symbolic link or not a directory; refusing to follow it (move it away)",
                path.display()
            ),
            Err(e) => Err(errno_io(e)).with_context(|| format!("cannot open {}", path.display())),
        }
    }

    /// Walks `rel` (components separated by `/`) without following any
    /// symlink; `None` when a component is missing.
    pub fn walk(&self, rel: &str) -> Result<Option<Dir>> {
        let mut dir = Dir {
            fd: self
                .fd
                .try_clone()
                .context("cannot duplicate a descriptor")?,
            path: self.path.clone(),
        };
        for part in rel.split('/').filter(|p| !p.is_empty() && *p != ".") {
            match dir.open_dir(part)? {
                Some(d) => dir = d,
                None => return Ok(None),
            }
        }
        Ok(Some(dir))
    }

    /// The entry `name`, not following a symlink; `None` when missing.
    pub fn stat(&self, name: &str) -> Result<Option<Stat>> {
        match nix::sys::stat::fstatat(&self.fd, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(st) => {
                let kind = match SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT {
                    SFlag::S_IFREG => Kind::File,
                    SFlag::S_IFDIR => Kind::Dir,
                    SFlag::S_IFLNK => Kind::Symlink,
                    _ => Kind::Other,
                };
                Ok(Some(Stat {
                    kind,
                    mode: st.st_mode & 0o7777,
                    len: st.st_size as u64,
                }))
            }
            Err(Errno::ENOENT) => Ok(None),
            Err(e) => Err(errno_io(e))
                .with_context(|| format!("cannot inspect {}", self.path.join(name).display())),
        }
    }

    /// Reads the regular file `name` (a symlink there is an error).
    pub fn read(&self, name: &str) -> Result<Vec<u8>> {
        let fd = nix::fcntl::openat(
            &self.fd,
            name,
            OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(errno_io)
        .with_context(|| format!("cannot read {}", self.path.join(name).display()))?;
        let mut out = Vec::new();
        File::from(fd)
            .read_to_end(&mut out)
            .with_context(|| format!("cannot read {}", self.path.join(name).display()))?;
        Ok(out)
    }

    /// The target of the symlink `name`.
    pub fn read_link(&self, name: &str) -> Result<PathBuf> {
        nix::fcntl::readlinkat(&self.fd, name)
            .map(PathBuf::from)
            .map_err(errno_io)
            .with_context(|| format!("cannot read the link {}", self.path.join(name).display()))
    }

    /// Creates the new file `name` (never an existing one, never through a
    /// symlink) with `contents` and exactly `mode`.
    pub fn create_file(&self, name: &str, contents: &[u8], mode: u32) -> Result<()> {
        let path = self.path.join(name);
        let fd = nix::fcntl::openat(
            &self.fd,
            name,
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o600),
        )
        .map_err(errno_io)
        .with_context(|| format!("cannot create {}", path.display()))?;
        let mut f = File::from(fd);
        f.write_all(contents)
            .and_then(|()| f.set_permissions(fs::Permissions::from_mode(mode)))
            .with_context(|| format!("cannot write {}", path.display()))
    }

    /// Creates the directory `name` with exactly `mode`.
    pub fn create_dir(&self, name: &str, mode: u32) -> Result<()> {
        let path = self.path.join(name);
        nix::sys::stat::mkdirat(&self.fd, name, Mode::from_bits_truncate(0o700))
            .map_err(errno_io)
            .with_context(|| format!("cannot create {}", path.display()))?;
        self.chmod(name, mode)
    }

    /// Creates the symlink `name` pointing to `target`.
    pub fn create_symlink(&self, target: &Path, name: &str) -> Result<()> {
        nix::unistd::symlinkat(target, &self.fd, name)
            .map_err(errno_io)
            .with_context(|| format!("cannot create the link {}", self.path.join(name).display()))
    }

    /// Sets the mode of the file or directory `name` (`.` for this
    /// directory), never through a symlink.
    pub fn chmod(&self, name: &str, mode: u32) -> Result<()> {
        let path = self.path.join(name);
        let fd = nix::fcntl::openat(
            &self.fd,
            name,
            OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK,
            Mode::empty(),
        )
        .map_err(errno_io)
        .with_context(|| format!("cannot open {}", path.display()))?;
        nix::sys::stat::fchmod(&fd, Mode::from_bits_truncate(mode))
            .map_err(errno_io)
            .with_context(|| format!("cannot set the mode of {}", path.display()))
    }

    /// Renames `from` to `to`, both in this directory (replacing `to`,
    /// which is never followed).
    pub fn rename(&self, from: &str, to: &str) -> Result<()> {
        nix::fcntl::renameat(&self.fd, from, &self.fd, to)
            .map_err(errno_io)
            .with_context(|| format!("cannot rename {} to {to}", self.path.join(from).display()))
    }

    /// Renames `from` to `to` only if `to` does not exist.
    pub fn rename_noreplace(&self, from: &str, to: &str) -> Result<()> {
        nix::fcntl::renameat2(&self.fd, from, &self.fd, to, RenameFlags::RENAME_NOREPLACE)
            .map_err(errno_io)
            .with_context(|| format!("cannot rename {} to {to}", self.path.join(from).display()))
    }

    /// Removes the file or symlink `name`; false when it was missing.
    pub fn unlink(&self, name: &str) -> Result<bool> {
        match nix::unistd::unlinkat(&self.fd, name, UnlinkatFlags::NoRemoveDir) {
            Ok(()) => Ok(true),
            Err(Errno::ENOENT) => Ok(false),
            Err(e) => Err(errno_io(e))
                .with_context(|| format!("cannot remove {}", self.path.join(name).display())),
        }
    }

    /// Removes the empty directory `name`; false when it was missing.
    pub fn rmdir(&self, name: &str) -> Result<bool> {
        match nix::unistd::unlinkat(&self.fd, name, UnlinkatFlags::RemoveDir) {
            Ok(()) => Ok(true),
            Err(Errno::ENOENT) => Ok(false),
            Err(e) => Err(errno_io(e))
                .with_context(|| format!("cannot remove {}", self.path.join(name).display())),
        }
    }

    /// Removes the entry `name` and, if it is a real directory, everything
    /// below it, never following a symlink: it is first renamed to a
    /// temporary dot-name relative to this descriptor, then removed by
    /// std's `remove_dir_all`, which walks the tree by descriptors
    /// (`openat`/`unlinkat`, no link followed below it). Only the renamed
    /// entry's own path is resolved again by name, under this directory.
    pub fn remove_tree(&self, name: &str) -> Result<bool> {
        let Some(st) = self.stat(name)? else {
            return Ok(false);
        };
        if st.kind != Kind::Dir {
            return self.unlink(name);
        }
        let tmp = temp_name(name);
        self.rename(name, &tmp)?;
        let path = self.path.join(&tmp);
        fs::remove_dir_all(&path).with_context(|| format!("cannot remove {}", path.display()))?;
        Ok(true)
    }

    /// The names in this directory (not `.` and `..`), unsorted.
    pub fn names(&self) -> Result<Vec<String>> {
        Ok(self.entries()?.into_iter().map(|(n, _)| n).collect())
    }

    /// The entries of this directory (not `.` and `..`) with their types,
    /// unsorted, listed from this very descriptor (a directory swapped for
    /// a link after it was opened is never listed instead): one `lseek` and
    /// `getdents64` until the end, no `stat` unless the file system does
    /// not report types.
    pub fn entries(&self) -> Result<Vec<(String, Kind)>> {
        let fd = self.fd.as_raw_fd();
        let fail = |e: Errno| {
            Err(errno_io(e)).with_context(|| format!("cannot list {}", self.path.display()))
        };
        if let Err(e) = nix::unistd::lseek(&self.fd, 0, nix::unistd::Whence::SeekSet) {
            return fail(e);
        }
        // One buffer per thread: zeroing 32 KiB for every directory listed
        // cost more than the listing itself.
        thread_local! {
            static BUF: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; 32 * 1024]);
        }
        BUF.with(|b| self.entries_into(fd, &mut b.borrow_mut()))
    }

    fn entries_into(&self, fd: i32, buf: &mut [u8]) -> Result<Vec<(String, Kind)>> {
        let fail = |e: Errno| {
            Err(errno_io(e)).with_context(|| format!("cannot list {}", self.path.display()))
        };
        let mut out = Vec::new();
        loop {
            // SAFETY: the kernel writes at most `buf.len()` bytes into
            // `buf`, which lives across the call; `fd` is ours and open.
            let n = unsafe {
                nix::libc::syscall(nix::libc::SYS_getdents64, fd, buf.as_mut_ptr(), buf.len())
            };
            if n < 0 {
                return fail(Errno::last());
            }
            if n == 0 {
                return Ok(out);
            }
            let mut at = 0usize;
            let end = n as usize;
            // struct linux_dirent64: u64 ino, i64 off, u16 reclen, u8 type,
            // then the NUL-terminated name.
            while at + 19 <= end {
                let reclen = u16::from_ne_bytes([buf[at + 16], buf[at + 17]]) as usize;
                if reclen < 19 || at + reclen > end {
                    bail!("{}: a malformed directory entry", self.path.display());
                }
                let d_type = buf[at + 18];
                let raw = &buf[at + 19..at + reclen];
                let raw = &raw[..raw.iter().position(|&b| b == 0).unwrap_or(raw.len())];
                at += reclen;
                if raw == b"." || raw == b".." {
                    continue;
                }
                let name = String::from_utf8_lossy(raw).into_owned();
                let kind = match d_type {
                    nix::libc::DT_REG => Kind::File,
                    nix::libc::DT_DIR => Kind::Dir,
                    nix::libc::DT_LNK => Kind::Symlink,
                    nix::libc::DT_UNKNOWN => match self.stat(&name)? {
                        Some(st) => st.kind,
                        None => continue,
                    },
                    _ => Kind::Other,
                };
                out.push((name, kind));
            }
        }
    }

    /// Compares the entry `name` with a regular file holding exactly
    /// `contents` with mode `mode`, never following a symlink: one
    /// `openat`, one `fstat` and one `read` of the expected length plus one
    /// byte (which shows a file that grew), then `close`.
    pub fn compare_file(&self, name: &str, contents: &[u8], mode: u32) -> Result<Compared> {
        let fd = match nix::fcntl::openat(
            &self.fd,
            name,
            // O_NONBLOCK: a FIFO in the way must not hang the run.
            OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => return Ok(Compared::Missing),
            Err(Errno::ELOOP) => return Ok(Compared::NotAFile(Kind::Symlink)),
            Err(e) => {
                return Err(errno_io(e))
                    .with_context(|| format!("cannot read {}", self.path.join(name).display()));
            }
        };
        let st = nix::sys::stat::fstat(&fd)
            .map_err(errno_io)
            .with_context(|| format!("cannot inspect {}", self.path.join(name).display()))?;
        match SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT {
            SFlag::S_IFREG => {}
            SFlag::S_IFDIR => return Ok(Compared::NotAFile(Kind::Dir)),
            _ => return Ok(Compared::NotAFile(Kind::Other)),
        }
        if st.st_mode & 0o7777 != mode || st.st_size as u64 != contents.len() as u64 {
            return Ok(Compared::Differs);
        }
        let mut buf = vec![0u8; contents.len() + 1];
        let mut got = 0;
        while got < buf.len() {
            match nix::unistd::read(&fd, &mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => {
                    got += n;
                    // A short read of a regular file is its end.
                    if got < buf.len() {
                        break;
                    }
                }
                Err(Errno::EINTR) => {}
                Err(e) => {
                    return Err(errno_io(e)).with_context(|| {
                        format!("cannot read {}", self.path.join(name).display())
                    });
                }
            }
        }
        Ok(if buf[..got] == *contents {
            Compared::Same
        } else {
            Compared::Differs
        })
    }

    /// Writes the file `name` with `contents` and exactly `mode`,
    /// atomically: a new file under a temporary dot-name, renamed over it.
    pub fn write_atomic(&self, name: &str, contents: &[u8], mode: u32) -> Result<()> {
        let tmp = temp_name(name);
        let result = self
            .create_file(&tmp, contents, mode)
            .and_then(|()| self.rename(&tmp, name));
        if result.is_err() {
            let _ = self.unlink(&tmp);
        }
        result
    }

    /// True when a process holds the FIFO `rel` open for reading, as runsv
    /// holds `supervise/ok` while it runs (the test `sv` makes): opening it
    /// for writing without blocking fails with `ENXIO` when nobody reads.
    /// A missing FIFO means no reader.
    pub fn has_reader(&self, rel: &str) -> Result<bool> {
        match nix::fcntl::openat(
            &self.fd,
            rel,
            OFlag::O_WRONLY | OFlag::O_NONBLOCK | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        ) {
            Ok(_) => Ok(true),
            Err(Errno::ENXIO | Errno::ENOENT | Errno::ENOTDIR | Errno::ELOOP) => Ok(false),
            Err(e) => Err(errno_io(e))
                .with_context(|| format!("cannot open {}", self.path.join(rel).display())),
        }
    }

    /// Takes the exclusive lock on this directory itself (`flock`), waiting
    /// for another holder to finish; held until the [`Lock`] is dropped.
    pub fn lock(&self) -> Result<Lock> {
        let fd = self
            .fd
            .try_clone()
            .context("cannot duplicate a descriptor")?;
        let lock = Flock::lock(File::from(fd), FlockArg::LockExclusive)
            .map_err(|(_, e)| e)
            .with_context(|| format!("cannot lock {}", self.path.display()))?;
        Ok(Lock { _lock: lock })
    }

    /// Flushes this directory's file system (one `syncfs`).
    pub fn syncfs(&self) -> Result<()> {
        nix::unistd::syncfs(self.fd.as_fd())
            .map_err(errno_io)
            .with_context(|| format!("syncfs {}", self.path.display()))
    }
}

/// A temporary dot-name for `name` in the same directory, unique to this
/// process (see [`temp_sibling`]).
pub fn temp_name(name: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(".{name}.sb-tmp.{}.{n}", std::process::id())
}

/// An exclusive advisory lock, held until dropped.
pub struct Lock {
    _lock: Flock<File>,
}

/// Takes the exclusive lock on the directory `dir` itself, waiting for
/// another holder to finish: no lock file is left behind in `dir`.
pub fn lock(dir: &Path) -> Result<Lock> {
    Dir::open(dir)?.lock()
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

    #[test]
    fn dir_handles_never_follow_links() {
        let d = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), d.path().join("sub")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("f"), d.path().join("f")).unwrap();
        let dir = Dir::open(d.path()).unwrap();
        assert!(dir.open_dir("sub").is_err());
        assert!(dir.walk("sub/x").is_err());
        assert!(dir.create_file("f", b"x", 0o644).is_err());
        assert!(dir.read("f").is_err());
        assert!(dir.chmod("sub", 0o777).is_err());
        assert!(dir.remove_tree("sub").unwrap());
        assert!(outside.path().is_dir());
        assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
        assert_eq!(dir.stat("f").unwrap().unwrap().kind, Kind::Symlink);
    }

    #[test]
    fn only_the_temporaries_of_dead_processes_are_stale() {
        let mine = temp_name("run");
        assert!(is_temp_name(&mine) && !is_stale_temp_name(&mine));
        assert_eq!(temp_name_pid(&mine), Some(std::process::id()));
        // pid 1 is alive; pid_max + 1 never is.
        assert!(!is_stale_temp_name(".run.sb-tmp.1.0"));
        assert!(is_stale_temp_name(".run.sb-tmp.4194305.0"));
        assert!(!is_stale_temp_name("run"));
    }
}
