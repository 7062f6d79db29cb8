//! runsv's two FIFOs: `supervise/ok` tells whether runsv is alive,
//! `supervise/control` takes command bytes.
//!
//! Both are opened write-only and non-blocking: opening a FIFO that
//! nobody reads then fails at once with ENXIO instead of hanging, which
//! is exactly "runsv not running".

use std::fs::OpenOptions;
use std::io::{self, ErrorKind, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::error::SvError;
use super::svdir::{Part, Spent, SvDir};

fn open_nonblocking(path: &Path) -> io::Result<std::fs::File> {
    OpenOptions::new()
        .write(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_CLOEXEC)
        .open(path)
}

/// Checks that a runsv reads `dir/supervise/ok`.
pub fn probe(dir: &Path) -> Result<(), SvError> {
    let mut spent = Spent::default();
    let dir = SvDir::open_path(dir)?;
    let probed = dir.probe(Part::Main, &mut spent);
    dir.retire(&mut spent);
    probed
}

/// Writes `bytes` to `dir/supervise/control` in one non-blocking write,
/// as `sv` does (runsv reads one byte per loop, so the bytes must all be
/// in the FIFO together).
pub fn send(dir: &Path, bytes: &[u8]) -> Result<(), SvError> {
    let path = dir.join("supervise/control");
    let mut f = open_nonblocking(&path).map_err(|e| classify(dir, &path, e))?;
    match f.write(bytes) {
        Ok(n) if n == bytes.len() => Ok(()),
        Ok(n) => Err(SvError::io(
            &path,
            io::Error::new(
                ErrorKind::WriteZero,
                format!("short write ({n} of {} bytes)", bytes.len()),
            ),
        )),
        Err(e) if e.kind() == ErrorKind::WouldBlock => Err(SvError::io(
            &path,
            io::Error::new(
                ErrorKind::WouldBlock,
                "the FIFO is full: runsv is not reading its commands (is it stopped?)",
            ),
        )),
        Err(e) => Err(SvError::io(&path, e)),
    }
}

fn classify(dir: &Path, path: &Path, e: io::Error) -> SvError {
    match e.raw_os_error() {
        Some(nix::libc::ENXIO) => SvError::NotRunning {
            service: dir.to_owned(),
        },
        Some(nix::libc::ENOENT) if !dir.is_dir() => SvError::NoSuchService {
            service: dir.to_owned(),
        },
        Some(nix::libc::ENOENT) if path.ends_with("supervise/ok") => SvError::SuperviseOkMissing {
            service: dir.to_owned(),
        },
        _ => SvError::io(path, e),
    }
}
