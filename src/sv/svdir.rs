//! An open service directory: one handle per service, and every file that
//! `sv status` looks at (`supervise/ok`, `supervise/status`, `down`, `log/`)
//! reached relative to it.
//!
//! Reading the status of many services costs system calls and path walks,
//! not computation. With a handle, each call resolves one or two short
//! components instead of the whole path (and the root's symlink) again;
//! `O_PATH` makes the handle itself the cheapest open there is. The logger's
//! files are reached as `log/...` from the same handle, so a logger costs
//! no handle of its own.

use std::ffi::{CStr, OsStr};
use std::os::fd::{AsFd, BorrowedFd, IntoRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{AT_FDCWD, AtFlags, OFlag, openat};
use nix::sys::stat::{Mode, SFlag, fstatat};

use super::error::SvError;
use super::status::STATUS_LEN;

/// The main service, or its logger in `log/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// The service itself.
    Main,
    /// Its logger, `log/`.
    Log,
}

impl Part {
    fn ok(self) -> &'static CStr {
        match self {
            Part::Main => c"supervise/ok",
            Part::Log => c"log/supervise/ok",
        }
    }

    fn status(self) -> &'static CStr {
        match self {
            Part::Main => c"supervise/status",
            Part::Log => c"log/supervise/status",
        }
    }

    fn down(self) -> &'static CStr {
        match self {
            Part::Main => c"down",
            Part::Log => c"log/down",
        }
    }

    /// The directory of this part, for messages.
    pub(crate) fn dir(self, service: &Path) -> PathBuf {
        match self {
            Part::Main => service.to_owned(),
            Part::Log => service.join("log"),
        }
    }

    fn file(self, service: &Path, name: &CStr) -> PathBuf {
        service.join(OsStr::from_bytes(name.to_bytes()))
    }
}

/// An open service directory (an `O_PATH` handle: it only serves as the
/// base of other calls), and how to name it in messages: `base` joined
/// with `rel`, built only when an error needs it.
#[derive(Debug)]
pub(crate) struct SvDir<'a> {
    fd: OwnedFd,
    base: &'a Path,
    rel: &'a Path,
}

impl<'a> SvDir<'a> {
    /// Opens `rel` relative to `base_fd`, which is the directory `base`
    /// (`AT_FDCWD` and an empty `base` for a path used as given). Follows
    /// symlinks, as `chdir` does: services in the runit root are links.
    /// ENOENT: no such service; ENOTDIR: not a service directory.
    pub(crate) fn open(
        base_fd: BorrowedFd<'_>,
        base: &'a Path,
        rel: &'a Path,
    ) -> Result<SvDir<'a>, Errno> {
        let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
        openat(base_fd, rel, flags, Mode::empty()).map(|fd| SvDir { fd, base, rel })
    }

    /// Opens the service directory at `path`; failing that, sv's "unable
    /// to change to service directory".
    pub(crate) fn open_path(path: &'a Path) -> Result<SvDir<'a>, SvError> {
        SvDir::open(AT_FDCWD, Path::new(""), path).map_err(|e| open_error(e, path.to_owned()))
    }

    /// Hands the handle over to `spent`, to be closed with others.
    pub(crate) fn retire(self, spent: &mut Spent) {
        spent.push(self.fd);
    }

    /// The service directory's path, for messages.
    pub(crate) fn path(&self) -> PathBuf {
        self.base.join(self.rel)
    }

    /// Checks that a runsv reads `supervise/ok` of `part`: a non-blocking
    /// write-only open of a FIFO without a reader fails with ENXIO.
    pub(crate) fn probe(&self, part: Part, spent: &mut Spent) -> Result<(), SvError> {
        let flags = OFlag::O_WRONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
        match openat(self.fd.as_fd(), part.ok(), flags, Mode::empty()) {
            Ok(fd) => {
                spent.push(fd);
                Ok(())
            }
            Err(Errno::ENXIO) => Err(SvError::NotRunning {
                service: part.dir(&self.path()),
            }),
            Err(Errno::ENOENT) => Err(SvError::SuperviseOkMissing {
                service: part.dir(&self.path()),
            }),
            Err(e) => Err(SvError::io(part.file(&self.path(), part.ok()), e.into())),
        }
    }

    /// Reads `supervise/status` of `part` with one `read` of 20 bytes, as
    /// sv does: runsv renames a complete file into place, and a regular
    /// file only reads short at its end. Fewer bytes is a bad format; bytes
    /// past the 20th are not runsv's and, as for sv, are not looked at.
    pub(crate) fn read_status(
        &self,
        part: Part,
        spent: &mut Spent,
    ) -> Result<[u8; STATUS_LEN], SvError> {
        let path = || part.file(&self.path(), part.status());
        let fd = openat(
            self.fd.as_fd(),
            part.status(),
            OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| SvError::io(path(), e.into()))?;
        let mut raw = [0u8; STATUS_LEN];
        let read = loop {
            match nix::unistd::read(fd.as_fd(), &mut raw) {
                Err(Errno::EINTR) => {}
                other => break other,
            }
        };
        spent.push(fd);
        let len = read.map_err(|e| SvError::io(path(), e.into()))?;
        if len != STATUS_LEN {
            return Err(SvError::BadFormat { path: path(), len });
        }
        Ok(raw)
    }

    /// Whether `part` has no `down` file. Like runsv and sv, `stat`
    /// follows a symlink: a dangling `down` link does not count.
    pub(crate) fn normally_up(&self, part: Part) -> Result<bool, SvError> {
        match fstatat(self.fd.as_fd(), part.down(), AtFlags::empty()) {
            Ok(_) => Ok(false),
            Err(Errno::ENOENT) => Ok(true),
            Err(e) => Err(SvError::io(part.file(&self.path(), part.down()), e.into())),
        }
    }

    /// Whether the service has a logger: `log` is a directory (through a
    /// link). Nothing there (or a dangling link) means no logger; anything
    /// else there is an error about `log`, as sv's `chdir("log")` reports
    /// it.
    pub(crate) fn has_log(&self) -> Result<bool, SvError> {
        let error = |e: Errno| SvError::io(self.path().join("log"), e.into());
        match fstatat(self.fd.as_fd(), c"log", AtFlags::empty()) {
            Ok(st) if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR => {
                Ok(true)
            }
            Ok(_) => Err(error(Errno::ENOTDIR)),
            Err(Errno::ENOENT) => Ok(false),
            Err(e) => Err(error(e)),
        }
    }
}

/// Descriptors done with, closed together: one `close_range` per run of
/// consecutive numbers instead of one `close` each. Reading a service's
/// status opens up to five descriptors, and closing them one by one was a
/// third of the system calls. The kernel hands out the lowest free number,
/// so descriptors opened one after the other form such runs, broken only
/// where an inherited descriptor sits.
#[derive(Debug, Default)]
pub(crate) struct Spent {
    /// Owned: each is closed exactly once, by [`Spent::close`].
    fds: Vec<RawFd>,
}

impl Spent {
    /// At most this many are held open (well under the usual limit of 1024
    /// descriptors per process).
    const BATCH: usize = 256;

    /// Closes `fd` later, with the others.
    pub(crate) fn push(&mut self, fd: OwnedFd) {
        self.fds.push(fd.into_raw_fd());
        if self.fds.len() >= Spent::BATCH {
            self.close();
        }
    }

    /// Closes every held descriptor now.
    pub(crate) fn close(&mut self) {
        self.fds.sort_unstable();
        let mut rest = &self.fds[..];
        while let Some(&first) = rest.first() {
            // The longest run first, first+1, …: all ours, all distinct.
            let run = rest
                .iter()
                .zip(first..)
                .take_while(|&(&fd, want)| fd == want)
                .count();
            let last = rest[run - 1];
            // SAFETY: every descriptor in [first, last] is in `self.fds`,
            // owned by it and closed only here; the list is emptied below.
            unsafe {
                if run == 1 || nix::libc::close_range(first as u32, last as u32, 0) != 0 {
                    for &fd in &rest[..run] {
                        nix::libc::close(fd);
                    }
                }
            }
            rest = &rest[run..];
        }
        self.fds.clear();
    }
}

impl Drop for Spent {
    fn drop(&mut self) {
        self.close();
    }
}

/// The error for a service directory that cannot be opened.
pub(crate) fn open_error(e: Errno, path: PathBuf) -> SvError {
    match e {
        Errno::ENOENT => SvError::NoSuchService { service: path },
        e => SvError::CannotEnter {
            service: path,
            source: e.into(),
        },
    }
}
