//! Taking a service down without forking `sv`.
//!
//! `sv d NAME` opens `supervise/control` non-blocking and writes `d`; runsv
//! then sets want=down and, when the service is running, sends TERM and CONT
//! to its pid. The same byte is written here, relative to the current
//! directory, which is the service directory under runsv: no `/etc/service`
//! lookup, so it also works for services supervised from another directory.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Why the service could not be taken down.
#[derive(Debug)]
pub struct DownError {
    /// The control FIFO that was tried.
    pub path: String,
    /// The underlying error.
    pub source: io::Error,
}

impl std::fmt::Display for DownError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hint = match self.source.raw_os_error() {
            Some(nix::libc::ENXIO) => "no runsv is reading it (the service is not supervised)",
            Some(nix::libc::ENOENT) => "it does not exist (the service is not supervised by runsv)",
            Some(nix::libc::EAGAIN) => "the FIFO is full (runsv is not reading it)",
            _ => "",
        };
        if hint.is_empty() {
            write!(f, "cannot write to {}: {}", self.path, self.source)
        } else {
            write!(f, "cannot write to {}: {}", self.path, hint)
        }
    }
}

/// Ask the runsv supervising `service_dir` to take the service down
/// (want=down), as `sv d` does.
pub fn take_down(service_dir: &Path) -> Result<(), DownError> {
    send(service_dir, b"d")
}

/// Write `bytes` to `service_dir/supervise/control` in one non-blocking write.
pub fn send(service_dir: &Path, bytes: &[u8]) -> Result<(), DownError> {
    let path = service_dir.join("supervise/control");
    let err = |source| DownError {
        path: path.display().to_string(),
        source,
    };
    let mut fifo = OpenOptions::new()
        .write(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(&path)
        .map_err(err)?;
    match fifo.write(bytes) {
        Ok(n) if n == bytes.len() => Ok(()),
        Ok(_) => Err(err(io::Error::new(io::ErrorKind::WriteZero, "short write"))),
        Err(e) => Err(err(e)),
    }
}
