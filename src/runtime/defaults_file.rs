//! `/etc/default/*` files: read in-process when they are plain assignments,
//! otherwise interpreted by `/bin/sh` with every assignment exported.
//!
//! Debian's invoke-run sources `/etc/default/runit` and `/etc/default/NAME`
//! under `set -a`. Almost every such file holds only comments and
//! `NAME=value` lines (runit itself ships `VERBOSE=0` and `DEBUG=0`), and a
//! shell costs a fork and an exec at every start, so [`parse_plain`] accepts
//! the subset of sh whose meaning does not depend on the shell: comments,
//! blank lines, and assignments whose values use only literal characters,
//! single quotes and double quotes without `$`, `` ` `` or `\`. Anything
//! else (expansions, commands, `export`, conditionals, line continuations,
//! special shell variables) returns `None`, and [`source_with_sh`] lets
//! `/bin/sh` do the work and reports the exported result through
//! `export -p`. The test suite proves that both paths agree on every file
//! that [`parse_plain`] accepts.

use std::ffi::OsString;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::path::Path;

use super::env::Env;
use super::spawn::{Redirect, spawn};

/// One `NAME=value` assignment, as bytes.
pub type Assignment = (Vec<u8>, Vec<u8>);

/// Variables the shell itself manages or interprets; assigning them is left
/// to `/bin/sh` so that its special handling applies.
const SHELL_SPECIAL: &[&[u8]] = &[
    b"IFS",
    b"OPTIND",
    b"OPTARG",
    b"LINENO",
    b"PPID",
    b"PS1",
    b"PS2",
    b"PS4",
    b"PWD",
    b"OLDPWD",
    b"ENV",
    b"MAIL",
    b"MAILPATH",
    b"MAILCHECK",
    b"HISTSIZE",
    b"HOME",
    b"CDPATH",
    b"PATH",
];

/// Parse `text` when it consists only of comments, blank lines and plain
/// assignments (several may share a line), returning them in order; `None`
/// when the file needs a shell.
pub fn parse_plain(text: &[u8]) -> Option<Vec<Assignment>> {
    let mut out = Vec::new();
    for line in text.split(|&c| c == b'\n') {
        let mut i = skip_blanks(line, 0);
        while i < line.len() && line[i] != b'#' {
            let (assignment, next) = parse_assignment(line, i)?;
            out.push(assignment);
            // An assignment must be followed by a blank or the end of line;
            // `A=1;B=2` or `A=1|x` are commands.
            if next < line.len() && !is_blank(line[next]) {
                return None;
            }
            i = skip_blanks(line, next);
        }
    }
    Some(out)
}

fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

fn skip_blanks(line: &[u8], mut i: usize) -> usize {
    while i < line.len() && is_blank(line[i]) {
        i += 1;
    }
    i
}

fn parse_assignment(line: &[u8], start: usize) -> Option<(Assignment, usize)> {
    let mut i = start;
    if !(line.get(i)?.is_ascii_alphabetic() || line[i] == b'_') {
        return None;
    }
    while i < line.len() && (line[i].is_ascii_alphanumeric() || line[i] == b'_') {
        i += 1;
    }
    if line.get(i) != Some(&b'=') {
        return None;
    }
    let name = &line[start..i];
    if SHELL_SPECIAL.contains(&name) {
        return None;
    }
    i += 1;
    let mut value = Vec::new();
    while i < line.len() && !is_blank(line[i]) {
        match line[i] {
            b'\'' => {
                let end = i + 1 + line[i + 1..].iter().position(|&c| c == b'\'')?;
                value.extend_from_slice(&line[i + 1..end]);
                i = end + 1;
            }
            b'"' => {
                let end = i + 1 + line[i + 1..].iter().position(|&c| c == b'"')?;
                let inner = &line[i + 1..end];
                if inner.iter().any(|c| matches!(c, b'$' | b'`' | b'\\')) {
                    return None;
                }
                value.extend_from_slice(inner);
                i = end + 1;
            }
            c if is_plain_word_byte(c) => {
                value.push(c);
                i += 1;
            }
            _ => return None,
        }
    }
    Some(((name.to_vec(), value), i))
}

/// Bytes that stand for themselves in an unquoted assignment value.
/// Excluded: sh operators and quoting, expansions, `~` (tilde expansion
/// after `=` and `:`), globbing characters (not expanded in assignments, but
/// kept out to stay on the obviously safe side), and control bytes.
fn is_plain_word_byte(c: u8) -> bool {
    if c >= 0x80 {
        return true;
    }
    c.is_ascii_graphic()
        && !matches!(
            c,
            b';' | b'&'
                | b'|'
                | b'<'
                | b'>'
                | b'('
                | b')'
                | b'$'
                | b'`'
                | b'\\'
                | b'"'
                | b'\''
                | b'~'
                | b'*'
                | b'?'
                | b'['
                | b'{'
                | b'}'
        )
}

/// Why a defaults file could not be applied.
#[derive(Debug)]
pub enum DefaultsError {
    /// The file exists but could not be read.
    Read {
        /// The file.
        path: String,
        /// The underlying error.
        source: io::Error,
    },
    /// `/bin/sh` could not be started.
    Spawn {
        /// The file.
        path: String,
        /// The underlying error.
        source: io::Error,
    },
    /// The shell reported an error or stopped before the end of the file.
    Shell {
        /// The file.
        path: String,
        /// Exit status of the shell, or `None` when killed by a signal.
        code: Option<i32>,
        /// True when the shell exited 0 without reaching the end of the file
        /// (an `exit` inside it).
        early_exit: bool,
    },
}

impl std::fmt::Display for DefaultsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DefaultsError::Read { path, source } => write!(
                f,
                "cannot read {path}: {source}; make it a readable file or remove it"
            ),
            DefaultsError::Spawn { path, source } => {
                write!(f, "cannot run /bin/sh to read {path}: {source}")
            }
            DefaultsError::Shell {
                path,
                code: _,
                early_exit: true,
            } => write!(
                f,
                "{path} exited before its end under /bin/sh; a defaults file must only assign variables"
            ),
            DefaultsError::Shell { path, code, .. } => {
                let status = match code {
                    Some(c) => format!("exit status {c}"),
                    None => "killed by a signal".to_string(),
                };
                write!(
                    f,
                    "{path} failed under /bin/sh ({status}); the shell's message is on stderr, check it with: sh -n {path}"
                )
            }
        }
    }
}

/// What reading a defaults file did.
#[derive(Debug, PartialEq, Eq)]
pub enum Applied {
    /// The file does not exist: nothing done.
    Absent,
    /// Read in-process; `env` got the assignments.
    InProcess,
    /// Interpreted by `/bin/sh`; `env` was replaced by what the shell exported.
    Shell,
}

/// Apply the defaults file `path` to `env` as `set -a; . path` would.
/// `nounset` adds `set -u` when the shell is needed (Debian reads
/// `/etc/default/runit` with `-u` and `/etc/default/NAME` with `+u`).
///
/// A missing file is skipped. A file that exists but cannot be read (no
/// permission, a directory) is an error: Debian's `[ -r ]` test would skip
/// it silently and start the service without its configuration.
pub fn apply(path: &Path, env: &mut Env, nounset: bool) -> Result<Applied, DefaultsError> {
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(nix::libc::ENOENT | nix::libc::ENOTDIR)
            ) =>
        {
            return Ok(Applied::Absent);
        }
        Err(source) => {
            return Err(DefaultsError::Read {
                path: path.display().to_string(),
                source,
            });
        }
    };
    match parse_plain(&text) {
        Some(assignments) => {
            for (k, v) in assignments {
                env.set(OsString::from_vec(k), OsString::from_vec(v));
            }
            Ok(Applied::InProcess)
        }
        None => {
            *env = source_with_sh(path, env, nounset)?;
            Ok(Applied::Shell)
        }
    }
}

/// The line that ends the shell's report; `export -p` never prints it.
const END_MARK: &[u8] = b"#invoke-run:end\n";

/// Source `path` with `/bin/sh` under `set -e -a` (and `-u` if `nounset`),
/// starting from `env`, and return the environment the shell would pass to
/// its children. The file's own stdout and stderr are left where they are;
/// the report travels on file descriptor 3.
pub fn source_with_sh(path: &Path, env: &Env, nounset: bool) -> Result<Env, DefaultsError> {
    let script = if nounset {
        "set -eua; . \"$0\"; set +a; export -p >&3; echo '#invoke-run:end' >&3"
    } else {
        "set -ea +u; . \"$0\"; set +a; export -p >&3; echo '#invoke-run:end' >&3"
    };
    let spawn_err = |source| DefaultsError::Spawn {
        path: path.display().to_string(),
        source,
    };
    let (read_end, write_end) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| spawn_err(e.into()))?;
    let write_end = keep_off_fd3(write_end).map_err(spawn_err)?;
    let write_fd = write_end.as_raw_fd();
    let child = spawn(
        super::SH.as_ref(),
        &[
            "-c".as_ref(),
            script.as_ref(),
            path.as_os_str(),
            "./run".as_ref(),
        ],
        env,
        &[(3, Redirect::Fd(write_fd))],
    )
    .map_err(spawn_err)?;
    drop(write_end);
    let mut report = Vec::new();
    let mut pipe = std::fs::File::from(read_end);
    // Stop at the end mark rather than at EOF: a background job started by
    // the file would keep the pipe open.
    let mut buf = [0u8; 8192];
    loop {
        match pipe.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                report.extend_from_slice(&buf[..n]);
                if report.ends_with(END_MARK) {
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    drop(pipe);
    let status = child.wait().map_err(spawn_err)?;
    let complete = report.ends_with(END_MARK);
    if !status.success() || !complete {
        return Err(DefaultsError::Shell {
            path: path.display().to_string(),
            code: status.code(),
            early_exit: status.success(),
        });
    }
    report.truncate(report.len() - END_MARK.len());
    Ok(parse_export_p(&report))
}

/// Make sure the pipe's write end is not descriptor 3 itself: `dup2(3, 3)`
/// would leave its close-on-exec flag set.
fn keep_off_fd3(fd: OwnedFd) -> io::Result<OwnedFd> {
    if fd.as_raw_fd() != 3 {
        return Ok(fd);
    }
    let new = nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(4))?;
    // SAFETY: fcntl returned a fresh descriptor that nothing else owns.
    Ok(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(new) })
}

/// Parse dash's `export -p` output: `export NAME='value'` lines, where a
/// value is a sequence of `'…'` and `"…"` pieces and may span lines.
/// `export NAME` without a value (exported but unset) passes nothing to
/// children and is skipped.
pub fn parse_export_p(text: &[u8]) -> Env {
    let mut env = Env::new();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let Some(after) = rest.strip_prefix(b"export ") else {
            // Not dash's format; skip the line.
            i += rest
                .iter()
                .position(|&c| c == b'\n')
                .map_or(rest.len(), |p| p + 1);
            continue;
        };
        i += b"export ".len();
        let name_len = after
            .iter()
            .position(|&c| c == b'=' || c == b'\n')
            .unwrap_or(after.len());
        let name = after[..name_len].to_vec();
        i += name_len;
        if text.get(i) != Some(&b'=') {
            i += 1; // the newline
            continue;
        }
        i += 1;
        let mut value = Vec::new();
        while i < text.len() && text[i] != b'\n' {
            let quote = text[i];
            if quote == b'\'' || quote == b'"' {
                let end = text[i + 1..]
                    .iter()
                    .position(|&c| c == quote)
                    .map_or(text.len(), |p| i + 1 + p);
                value.extend_from_slice(&text[i + 1..end]);
                i = end + 1;
            } else {
                value.push(quote);
                i += 1;
            }
        }
        i += 1;
        env.set(OsString::from_vec(name), OsString::from_vec(value));
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(s: &str) -> Option<Vec<(String, String)>> {
        parse_plain(s.as_bytes()).map(|v| {
            v.into_iter()
                .map(|(k, v)| (String::from_utf8(k).unwrap(), String::from_utf8(v).unwrap()))
                .collect()
        })
    }

    fn pairs(p: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
        Some(
            p.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        )
    }

    #[test]
    fn debian_runit_defaults_are_plain() {
        let text = "# system wide setting for runit services\n\n# print runsv messages\nVERBOSE=0\n\n# debug\nDEBUG=0\n";
        assert_eq!(plain(text), pairs(&[("VERBOSE", "0"), ("DEBUG", "0")]));
    }

    #[test]
    fn quotes_comments_and_several_assignments_per_line_are_plain() {
        assert_eq!(
            plain("  A='x y' B=\"p q\"  # c\nC=a'b'\"c\"d\nD=\nE=''\nF=a#b\n"),
            pairs(&[
                ("A", "x y"),
                ("B", "p q"),
                ("C", "abcd"),
                ("D", ""),
                ("E", ""),
                ("F", "a#b")
            ])
        );
    }

    #[test]
    fn anything_that_needs_a_shell_is_refused() {
        for text in [
            "export A=1\n",
            "A=$B\n",
            "A=\"$B\"\n",
            "A=`date`\n",
            "A=1; B=2\n",
            "A=1 true\n",
            "if true; then A=1; fi\n",
            "A=~/x\n",
            "A=x\\\n",
            "A='unterminated\n",
            "PATH=/bin\n",
            "A=*.conf\n",
            "A=1&\n",
            ". /etc/other\n",
            "A=\x01\n",
            "1A=x\n",
        ] {
            assert_eq!(plain(text), None, "{text:?} must go to /bin/sh");
        }
    }

    #[test]
    fn export_p_output_is_decoded() {
        let env =
            parse_export_p(b"export A='x'\"'\"'y\nz'\nexport B=''\nexport C\nexport PWD='/tmp'\n");
        let got: Vec<_> = env.iter().collect();
        assert_eq!(
            got,
            vec![
                ("A".as_ref(), "x'y\nz".as_ref()),
                ("B".as_ref(), "".as_ref()),
                ("PWD".as_ref(), "/tmp".as_ref())
            ]
        );
    }
}
