//! Message output.
//!
//! Messages meant for the service's log go to stdout (runsv connects it to
//! `log/run`); diagnostics about how the program was called go to stderr.
//! Both are written with a single unbuffered `write` so that nothing is lost
//! when the process `exec`s or exits right after.

use std::io::Write;

/// Write one line to stdout, the log pipe under runsv. Errors are ignored:
/// a closed log must never stop a service from starting.
pub fn log(line: &str) {
    write_line(&mut std::io::stdout().lock(), line);
}

/// Write one line to stderr.
pub fn err(line: &str) {
    write_line(&mut std::io::stderr().lock(), line);
}

fn write_line(w: &mut dyn Write, line: &str) {
    let mut buf = Vec::with_capacity(line.len() + 1);
    buf.extend_from_slice(line.as_bytes());
    buf.push(b'\n');
    let _ = w.write_all(&buf);
    let _ = w.flush();
}
