//! `servicebuilder log NAME [-n N] [-f]`: a service's svlogd log, rotated
//! files first (their TAI64N names sort by time), then `current`, with
//! TAI64N stamps (`svlogd -t`) shown as readable UTC times; `-f` follows
//! `current` across rotations.

use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::args::RootArgs;

/// Where `service` logs: `log/main` of its staged directory (the seed's
/// and a template's own `log`), else `LOG_ROOT/NAME` (dh-runit's
/// `logscript`, the `default_log` service). The first that holds a
/// `current`.
pub fn log_dir(roots: &RootArgs, service: &str) -> Option<PathBuf> {
    let candidates = [
        roots.runit_root.join(service).join("log/main"),
        roots.staging_root.join(service).join("log/main"),
        roots.log_root.join(service),
    ];
    candidates.into_iter().find(|d| d.join("current").is_file())
}

/// The log files of `dir` in time order: rotated (`@…`) files, then
/// `current`.
fn files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut rotated: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('@'))
        })
        .collect();
    rotated.sort();
    rotated.push(dir.join("current"));
    Ok(rotated)
}

/// The last `n` lines of the whole log of `dir`, readable.
pub fn last_lines(dir: &Path, n: usize) -> Result<Vec<String>> {
    let mut lines: std::collections::VecDeque<String> = Default::default();
    for file in files(dir)? {
        let Ok(bytes) = fs::read(&file) else { continue };
        for line in String::from_utf8_lossy(&bytes).lines() {
            if lines.len() == n {
                lines.pop_front();
            }
            lines.push_back(readable(line));
        }
        if n == 0 {
            lines.clear();
        }
    }
    Ok(lines.into())
}

/// A line with its leading TAI64N label (`@4000…`, 25 characters) shown as
/// `YYYY-MM-DD HH:MM:SS.nnnnnnnnn` (UTC); other lines as they are.
pub fn readable(line: &str) -> String {
    let Some(label) = line.get(..25).filter(|l| l.starts_with('@')) else {
        return line.to_owned();
    };
    let (Ok(secs), Ok(nanos)) = (
        u64::from_str_radix(&label[1..17], 16),
        u32::from_str_radix(&label[17..25], 16),
    ) else {
        return line.to_owned();
    };
    let unix = secs.wrapping_sub(crate::sv::TAI_UNIX_EPOCH);
    if unix > 1 << 40 {
        return line.to_owned();
    }
    let (days, rem) = (unix / 86_400, unix % 86_400);
    let (y, m, d) = crate::date::civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{nanos:09}{}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        &line[25..]
    )
}

/// `servicebuilder log`.
pub fn log(roots: &RootArgs, service: &str, lines: usize, follow: bool) -> Result<ExitCode> {
    let Some(dir) = log_dir(roots, service) else {
        bail!(
            "no log found for `{service}`: looked for current in {}/{service}/log/main, \
             {}/{service}/log/main and {}/{service}; does the service have a log service?",
            roots.runit_root.display(),
            roots.staging_root.display(),
            roots.log_root.display()
        );
    };
    let mut out = std::io::stdout().lock();
    for line in last_lines(&dir, lines)? {
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    if follow {
        follow_current(&dir, &mut out)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints what is appended to `current`; when svlogd rotates it (a new
/// inode, or a shorter file), the rest of the old one is printed and the
/// new one is read from its start. Runs until interrupted.
fn follow_current(dir: &Path, out: &mut impl Write) -> Result<()> {
    let path = dir.join("current");
    let mut file =
        fs::File::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut ino = file.metadata()?.ino();
    let mut pos = file.seek(SeekFrom::End(0))?;
    let mut pending = Vec::new();
    let mut drain = |file: &mut fs::File, pos: &mut u64, out: &mut dyn Write| -> Result<()> {
        let mut buf = Vec::new();
        file.read_to_end(&mut buf)?;
        *pos += buf.len() as u64;
        pending.extend_from_slice(&buf);
        while let Some(i) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=i).collect();
            let line = String::from_utf8_lossy(&line);
            writeln!(out, "{}", readable(line.trim_end_matches('\n')))?;
        }
        out.flush()?;
        Ok(())
    };
    loop {
        drain(&mut file, &mut pos, out)?;
        std::thread::sleep(Duration::from_millis(200));
        match fs::metadata(&path) {
            Ok(m) if m.ino() != ino || m.len() < pos => {
                // Rotated: what was written to the old file before the
                // rename is read from the descriptor still open on it.
                drain(&mut file, &mut pos, out)?;
                if let Ok(f) = fs::File::open(&path) {
                    ino = f.metadata()?.ino();
                    file = f;
                    pos = 0;
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tai64n_labels_become_utc_times() {
        // 2026-12-05 02:50:23 UTC = Unix 1796439023.
        let label = format!(
            "@{:016x}{:08x}",
            crate::sv::TAI_UNIX_EPOCH + 1_796_439_023,
            5
        );
        assert_eq!(
            readable(&format!("{label} hello")),
            "2026-12-05 02:50:23.000000005 hello"
        );
        assert_eq!(
            readable("2026-12-05_02:50:23.12345 plain"),
            "2026-12-05_02:50:23.12345 plain"
        );
        assert_eq!(readable("@zz"), "@zz");
    }

    #[test]
    fn rotated_files_come_first_and_only_the_last_lines_are_kept() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("@400000006000000000000000.s"), "a\nb\n").unwrap();
        fs::write(d.path().join("@400000006100000000000000.u"), "c\n").unwrap();
        fs::write(d.path().join("current"), "d\ne\n").unwrap();
        fs::write(d.path().join("lock"), "").unwrap();
        assert_eq!(last_lines(d.path(), 3).unwrap(), ["c", "d", "e"]);
        assert_eq!(last_lines(d.path(), 10).unwrap(), ["a", "b", "c", "d", "e"]);
    }
}
