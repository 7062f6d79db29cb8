//! `/etc/default/*` files: read in-process when they are assignments the
//! reader fully understands, otherwise interpreted by `/bin/sh` with every
//! assignment exported.
//!
//! Debian's invoke-run sources `/etc/default/runit` and `/etc/default/NAME`
//! under `set -a`. Almost every such file holds only comments and
//! `NAME=value` lines, some with references to other variables
//! (`LISTEN="127.0.0.1:${PORT:-80}"`), and a shell costs a fork and an exec
//! at every start. So [`parse`] accepts the subset of sh that can be read
//! without one: comments, blank lines, and assignments (several may share a
//! line) whose values are made of
//!
//! * literal characters, single-quoted strings, and double-quoted strings
//!   without `` ` `` or `\`;
//! * parameter expansions, bare or inside double quotes: `$VAR`, `${VAR}`,
//!   and `${VAR:-word}`, `${VAR-word}`, `${VAR:=word}`, `${VAR=word}`,
//!   `${VAR:+word}`, `${VAR+word}`, where `word` is literal characters,
//!   blanks, `$VAR` and `${VAR}`.
//!
//! In an assignment the shell neither splits fields nor expands globs, so
//! these values need nothing more than the variables: [`evaluate`] performs
//! the assignments in order, as `set -a` does, each one seeing the earlier
//! ones and the inherited environment.
//!
//! Anything else returns `None` and goes to `/bin/sh`: commands, `export`,
//! conditionals, line continuations, command substitution (`$(…)`, backquotes),
//! arithmetic (`$((…))`), `~`, special parameters (`$1`, `$@`, `$*`, `$?`,
//! `$$`, `$#`, `$!`, `$-`), other `${…}` forms (`${#VAR}`, `${VAR%…}`,
//! `${VAR?…}`), quotes or nested operators inside `${…}`, variables the shell
//! itself manages (`PATH`, `IFS`, `PWD`, …) whether assigned or referenced,
//! and, under `set -u`, a reference to an unset variable (the shell reports
//! the error). [`source_with_sh`] lets `/bin/sh` do the work and reports the
//! exported result through `export -p`. The test suite proves that both
//! paths agree on every file the reader accepts.

use std::ffi::{OsStr, OsString};
use std::io::{self, Read};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

use super::env::Env;
use super::spawn::{Redirect, spawn};

/// One `NAME=value` assignment, as bytes.
pub type Assignment = (Vec<u8>, Vec<u8>);

/// Variables the shell itself manages or interprets; assigning or reading
/// them is left to `/bin/sh` so that its special handling applies.
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

/// One assignment as written in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// The variable assigned.
    pub name: Vec<u8>,
    /// Its value, before expansion.
    pub value: Vec<Piece>,
}

/// A piece of a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// Bytes that stand for themselves (quotes already removed).
    Literal(Vec<u8>),
    /// `$NAME` or `${NAME}`.
    Var(Vec<u8>),
    /// `${NAME<op>word}`.
    Op {
        /// The variable tested.
        name: Vec<u8>,
        /// The operator.
        op: Op,
        /// The word: only [`Piece::Literal`] and [`Piece::Var`].
        word: Vec<Piece>,
    },
}

/// The operator of a `${NAME<op>word}` expansion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `-` (`colon` false) or `:-` (`colon` true): the word when unset (or empty).
    Default {
        /// The `:` form also treats an empty value as unset.
        colon: bool,
    },
    /// `=` or `:=`: as `Default`, and the variable is assigned the word.
    Assign {
        /// The `:` form also treats an empty value as unset.
        colon: bool,
    },
    /// `+` or `:+`: the word when set (and not empty), else nothing.
    Alternative {
        /// The `:` form also treats an empty value as unset.
        colon: bool,
    },
}

/// Parse `text` when it consists only of comments, blank lines and
/// assignments the reader understands (see the module documentation),
/// returning them in order; `None` when the file needs a shell.
pub fn parse(text: &[u8]) -> Option<Vec<Statement>> {
    let mut out = Vec::new();
    for line in text.split(|&c| c == b'\n') {
        let mut i = skip_blanks(line, 0);
        while i < line.len() && line[i] != b'#' {
            let (statement, next) = parse_assignment(line, i)?;
            out.push(statement);
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

/// Parse `text` when it holds only assignments of literal values: the
/// subset of [`parse`] whose meaning does not depend on any variable.
pub fn parse_plain(text: &[u8]) -> Option<Vec<Assignment>> {
    parse(text)?
        .into_iter()
        .map(|s| {
            let mut value = Vec::new();
            for piece in s.value {
                match piece {
                    Piece::Literal(bytes) => value.extend_from_slice(&bytes),
                    _ => return None,
                }
            }
            Some((s.name, value))
        })
        .collect()
}

/// Perform `statements` over `env` as `set -a` (and `set -u` when
/// `nounset`) would, and return every assignment made, in order, including
/// those of `${VAR:=word}`. `env` itself is not changed. `None` when a
/// reference to an unset variable would be an error under `set -u`.
pub fn evaluate(statements: &[Statement], env: &Env, nounset: bool) -> Option<Vec<Assignment>> {
    let mut done: Vec<Assignment> = Vec::with_capacity(statements.len());
    for s in statements {
        let mut value = Vec::new();
        expand(&s.value, env, &mut done, nounset, &mut value)?;
        done.push((s.name.clone(), value));
    }
    Some(done)
}

/// [`parse`], then [`evaluate`]: the assignments reading `text` performs,
/// or `None` when the file needs a shell.
pub fn read_in_process(text: &[u8], env: &Env, nounset: bool) -> Option<Vec<Assignment>> {
    evaluate(&parse(text)?, env, nounset)
}

/// The value of `name`: the latest assignment made so far, else the environment.
fn lookup<'a>(name: &[u8], env: &'a Env, done: &'a [Assignment]) -> Option<&'a [u8]> {
    match done.iter().rev().find(|(k, _)| k == name) {
        Some((_, v)) => Some(v),
        None => env.get(OsStr::from_bytes(name)).map(OsStrExt::as_bytes),
    }
}

fn expand(
    pieces: &[Piece],
    env: &Env,
    done: &mut Vec<Assignment>,
    nounset: bool,
    out: &mut Vec<u8>,
) -> Option<()> {
    for piece in pieces {
        match piece {
            Piece::Literal(bytes) => out.extend_from_slice(bytes),
            Piece::Var(name) => match lookup(name, env, done) {
                Some(v) => out.extend_from_slice(v),
                None if nounset => return None,
                None => {}
            },
            Piece::Op { name, op, word } => {
                let value = lookup(name, env, done);
                let colon = match *op {
                    Op::Default { colon } | Op::Assign { colon } | Op::Alternative { colon } => {
                        colon
                    }
                };
                let is_set = value.is_some_and(|v| !(colon && v.is_empty()));
                match (*op, is_set) {
                    (Op::Default { .. } | Op::Assign { .. }, true) => {
                        out.extend_from_slice(value.unwrap_or_default())
                    }
                    (Op::Default { .. }, false) | (Op::Alternative { .. }, true) => {
                        expand(word, env, done, nounset, out)?
                    }
                    (Op::Assign { .. }, false) => {
                        let mut assigned = Vec::new();
                        expand(word, env, done, nounset, &mut assigned)?;
                        out.extend_from_slice(&assigned);
                        done.push((name.clone(), assigned));
                    }
                    (Op::Alternative { .. }, false) => {}
                }
            }
        }
    }
    Some(())
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

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The end of the variable name starting at `start`, if one starts there.
fn name_end(line: &[u8], start: usize) -> Option<usize> {
    if !is_name_start(*line.get(start)?) {
        return None;
    }
    let mut i = start + 1;
    while i < line.len() && is_name_byte(line[i]) {
        i += 1;
    }
    Some(i)
}

/// A name the reader may assign or read: not one the shell manages.
fn ordinary(name: &[u8]) -> Option<Vec<u8>> {
    (!SHELL_SPECIAL.contains(&name)).then(|| name.to_vec())
}

/// Append `bytes` to the value, merging them into a trailing literal.
fn push_literal(value: &mut Vec<Piece>, bytes: &[u8]) {
    if let Some(Piece::Literal(last)) = value.last_mut() {
        last.extend_from_slice(bytes);
    } else {
        value.push(Piece::Literal(bytes.to_vec()));
    }
}

fn parse_assignment(line: &[u8], start: usize) -> Option<(Statement, usize)> {
    let mut i = name_end(line, start)?;
    if line.get(i) != Some(&b'=') {
        return None;
    }
    let name = ordinary(&line[start..i])?;
    i += 1;
    let mut value = Vec::new();
    while i < line.len() && !is_blank(line[i]) {
        match line[i] {
            b'\'' => {
                let end = i + 1 + line[i + 1..].iter().position(|&c| c == b'\'')?;
                push_literal(&mut value, &line[i + 1..end]);
                i = end + 1;
            }
            b'"' => {
                i += 1;
                loop {
                    match *line.get(i)? {
                        b'"' => break,
                        b'`' | b'\\' => return None,
                        b'$' => {
                            let (piece, next) = parse_expansion(line, i)?;
                            value.push(piece);
                            i = next;
                        }
                        c => {
                            push_literal(&mut value, &[c]);
                            i += 1;
                        }
                    }
                }
                i += 1;
            }
            b'$' => {
                let (piece, next) = parse_expansion(line, i)?;
                value.push(piece);
                i = next;
            }
            c if is_plain_word_byte(c) => {
                push_literal(&mut value, &[c]);
                i += 1;
            }
            _ => return None,
        }
    }
    Some((Statement { name, value }, i))
}

/// `$NAME`, `${NAME}` or `${NAME<op>word}` at `line[start] == b'$'`;
/// returns the piece and the index after it. The same text means the same
/// inside double quotes and bare, because the word admits no quotes, no
/// `~` and no glob characters.
fn parse_expansion(line: &[u8], start: usize) -> Option<(Piece, usize)> {
    let (name, mut i, braced) = match line.get(start + 1)? {
        b'{' => {
            let end = name_end(line, start + 2)?;
            (&line[start + 2..end], end, true)
        }
        _ => {
            let end = name_end(line, start + 1)?;
            (&line[start + 1..end], end, false)
        }
    };
    let name = ordinary(name)?;
    if !braced {
        return Some((Piece::Var(name), i));
    }
    let colon = line.get(i) == Some(&b':');
    if colon {
        i += 1;
    }
    let op = match *line.get(i)? {
        b'}' if !colon => return Some((Piece::Var(name), i + 1)),
        b'-' => Op::Default { colon },
        b'=' => Op::Assign { colon },
        b'+' => Op::Alternative { colon },
        _ => return None,
    };
    i += 1;
    let mut word = Vec::new();
    loop {
        match *line.get(i)? {
            b'}' => break,
            b'$' => {
                let (piece, next) = parse_expansion(line, i)?;
                if !matches!(piece, Piece::Var(_)) {
                    return None;
                }
                word.push(piece);
                i = next;
            }
            c if is_plain_word_byte(c) || is_blank(c) => {
                push_literal(&mut word, &[c]);
                i += 1;
            }
            _ => return None,
        }
    }
    Some((Piece::Op { name, op, word }, i + 1))
}

/// Bytes that stand for themselves in an unquoted assignment value.
/// Excluded: sh operators and quoting, expansions, `~` (tilde expansion
/// after `=` and `:`), globbing characters (not expanded in assignments, but
/// kept out to stay on the obviously safe side), braces, and control bytes.
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
    /// The umask or a resource limit the file set could not be taken over.
    Limits {
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
            DefaultsError::Limits { path, source } => write!(
                f,
                "cannot take over the umask or resource limits {path} set: {source}"
            ),
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
                    "{path} failed under /bin/sh ({status}); the shell's message, if any, is on stderr; \
                     it runs under set -e, so a failing command stops it (a last line like \
                     [ -r F ] && . F fails when F is missing); check it with: sh -n {path}; sh -ex {path}"
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
/// `nounset` adds `set -u` (Debian reads `/etc/default/runit` with `-u`
/// and `/etc/default/NAME` with `+u`).
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
    match read_in_process(&text, env, nounset) {
        Some(assignments) => {
            for (k, v) in assignments {
                env.set(OsString::from_vec(k), OsString::from_vec(v));
            }
            Ok(Applied::InProcess)
        }
        None => {
            let (reported, state) = source_with_sh_state(path, env, nounset)?;
            state.adopt().map_err(|source| DefaultsError::Limits {
                path: path.display().to_string(),
                source,
            })?;
            *env = in_assignment_order(env, reported, &text);
            Ok(Applied::Shell)
        }
    }
}

/// The shell's report (`export -p`, sorted by name) put in the order the
/// shell itself keeps: the variables of `before` where they were, then the
/// new ones in the order the file first assigns them (`NAME=` in `text`),
/// then any others (assigned by a sourced file, `read`, …) by name.
///
/// The order reaches the daemon: dash keeps variables that share a hash
/// bucket in the order it received or assigned them, so with a sorted
/// report tor's `RUN_DAEMON` and `CLEANUP_OLD_COREFILES` (one bucket) came
/// out swapped against Debian's interpreter.
pub fn in_assignment_order(before: &Env, reported: Env, text: &[u8]) -> Env {
    let mut out = Env::new();
    for (name, _) in before.iter() {
        if let Some(value) = reported.get(name) {
            out.set(name, value);
        }
    }
    let mut new: Vec<(usize, &OsStr, &OsStr)> = reported
        .iter()
        .filter(|(name, _)| before.get(name).is_none())
        .map(|(name, value)| {
            let at = first_assignment(text, name.as_bytes()).unwrap_or(usize::MAX);
            (at, name, value)
        })
        .collect();
    // Stable: names never assigned in the text keep the report's order.
    new.sort_by_key(|&(at, _, _)| at);
    for (_, name, value) in new {
        out.set(name, value);
    }
    out
}

/// The offset of the first `NAME=` in `text` that is not the tail of a
/// longer name nor in a comment (a `#` earlier on its line).
fn first_assignment(text: &[u8], name: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = text[from..]
        .windows(name.len() + 1)
        .position(|w| &w[..name.len()] == name && w[name.len()] == b'=')
    {
        let at = from + i;
        let line_start = text[..at]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |p| p + 1);
        let commented = text[line_start..at].contains(&b'#');
        if (at == 0 || !is_name_byte(text[at - 1])) && !commented {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The line that ends the shell's report; `export -p` never prints it.
const END_MARK: &[u8] = b"#invoke-run:end\n";

/// Source `path` with `/bin/sh` under `set -e -a` (and `-u` if `nounset`),
/// starting from `env`, and return the environment the shell would pass to
/// its children. The file's own stdout and stderr are left where they are;
/// the report travels on file descriptor 3.
pub fn source_with_sh(path: &Path, env: &Env, nounset: bool) -> Result<Env, DefaultsError> {
    source_with_sh_state(path, env, nounset).map(|(env, _)| env)
}

/// What a sourced file changed in the shell itself, besides variables, that
/// the programs the shell starts inherit.
///
/// Debian's interpreter sources `/etc/default/NAME` in the very shell that
/// then starts the init script and execs the run script, so a `umask 027`
/// or a `ulimit -c unlimited` there (tor's `/etc/default/tor` suggests the
/// latter for core dumps) reaches the daemon. Here the shell is a child, so
/// its umask and limits are read back and taken over.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShellState {
    /// The shell's umask at the end of the file.
    pub umask: Option<u32>,
    /// The resource limits (`RLIMIT_*`, soft, hard) that differ from this
    /// process's.
    pub limits: Vec<(i32, u64, u64)>,
    /// Signals the shell ignores (`trap '' HUP`) and this process does not.
    pub ignored: Vec<i32>,
}

/// The signals ignored by process `pid` (`/proc/PID/status`, `SigIgn`;
/// `self` for this one), as a mask where signal N is bit N-1.
fn ignored_signals(pid: &str) -> Option<u64> {
    let status = std::fs::read(format!("/proc/{pid}/status")).ok()?;
    let line = status
        .split(|&c| c == b'\n')
        .find_map(|l| l.strip_prefix(b"SigIgn:"))?;
    u64::from_str_radix(std::str::from_utf8(line).ok()?.trim(), 16).ok()
}

/// `RLIMIT_CPU` to `RLIMIT_RTTIME`.
const RLIMITS: std::ops::Range<i32> = 0..16;

fn prlimit(pid: i32, resource: i32) -> io::Result<(u64, u64)> {
    let mut old = nix::libc::rlimit64 {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: a null new limit only reads into `old`.
    let rc = unsafe {
        nix::libc::prlimit64(
            pid,
            resource as nix::libc::__rlimit_resource_t,
            std::ptr::null(),
            &mut old,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((old.rlim_cur, old.rlim_max))
}

impl ShellState {
    /// Give this process the shell's umask and limits, so that what it
    /// starts next inherits them as from Debian's shell.
    pub fn adopt(&self) -> io::Result<()> {
        if let Some(mask) = self.umask {
            nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(mask));
        }
        for &(resource, soft, hard) in &self.limits {
            let new = nix::libc::rlimit64 {
                rlim_cur: soft,
                rlim_max: hard,
            };
            // SAFETY: sets this process's limit from a valid struct.
            let rc = unsafe {
                nix::libc::prlimit64(
                    0,
                    resource as nix::libc::__rlimit_resource_t,
                    &new,
                    std::ptr::null_mut(),
                )
            };
            if rc != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        for &sig in &self.ignored {
            // SAFETY: SIG_IGN installs no handler code.
            if unsafe { nix::libc::signal(sig, nix::libc::SIG_IGN) } == nix::libc::SIG_ERR {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(())
    }

    /// Read the umask line `umask` printed and the limits of the live
    /// shell `pid` that differ from ours.
    fn read(umask_line: &[u8], pid: i32) -> ShellState {
        let umask = std::str::from_utf8(umask_line)
            .ok()
            .and_then(|t| u32::from_str_radix(t.trim(), 8).ok());
        let mut limits = Vec::new();
        for resource in RLIMITS {
            // A shell that is already gone (it closed descriptor 4) keeps
            // its limits to itself; so would one that never ran ulimit.
            if let (Ok(theirs), Ok(ours)) = (prlimit(pid, resource), prlimit(0, resource))
                && theirs != ours
            {
                limits.push((resource, theirs.0, theirs.1));
            }
        }
        // Signals the file set to be ignored. Not SIGCHLD (this process
        // must still collect the init script) nor glibc's own 32 and 33.
        let mut ignored = Vec::new();
        if let (Some(theirs), Some(ours)) =
            (ignored_signals(&pid.to_string()), ignored_signals("self"))
        {
            for sig in 1..=64 {
                let bit = 1u64 << (sig - 1);
                let skip = matches!(sig, nix::libc::SIGCHLD | 32 | 33);
                if theirs & bit != 0 && ours & bit == 0 && !skip {
                    ignored.push(sig);
                }
            }
        }
        ShellState {
            umask,
            limits,
            ignored,
        }
    }
}

/// [`source_with_sh`], and the shell's umask and resource limits at the end
/// of the file (read while it waits on descriptor 4).
pub fn source_with_sh_state(
    path: &Path,
    env: &Env,
    nounset: bool,
) -> Result<(Env, ShellState), DefaultsError> {
    let script = if nounset {
        "set -eua; . \"$0\"; set +a; export -p >&3; umask >&3; echo '#invoke-run:end' >&3; read _ <&4 || :"
    } else {
        "set -ea +u; . \"$0\"; set +a; export -p >&3; umask >&3; echo '#invoke-run:end' >&3; read _ <&4 || :"
    };
    let spawn_err = |source| DefaultsError::Spawn {
        path: path.display().to_string(),
        source,
    };
    let cloexec_pipe =
        || nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| spawn_err(e.into()));
    let (read_end, write_end) = cloexec_pipe()?;
    // The shell waits on `hold` until the limits are read: closing our end
    // lets it finish.
    let (hold_read, hold_write) = cloexec_pipe()?;
    let write_end = keep_above_fd4(write_end).map_err(spawn_err)?;
    let hold_read = keep_above_fd4(hold_read).map_err(spawn_err)?;
    let child = spawn(
        super::SH.as_ref(),
        &[
            "-c".as_ref(),
            script.as_ref(),
            path.as_os_str(),
            "./run".as_ref(),
        ],
        env,
        &[
            (3, Redirect::Fd(write_end.as_raw_fd())),
            (4, Redirect::Fd(hold_read.as_raw_fd())),
        ],
    );
    drop(write_end);
    drop(hold_read);
    let child = match child {
        Ok(c) => c,
        Err(e) => return Err(spawn_err(e)),
    };
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
    let complete = report.ends_with(END_MARK);
    let mut state = ShellState::default();
    if complete {
        report.truncate(report.len() - END_MARK.len());
        // The last line is `umask`'s.
        let cut = report[..report.len().saturating_sub(1)]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |p| p + 1);
        state = ShellState::read(&report[cut..], child.pid().as_raw());
        report.truncate(cut);
    }
    drop(hold_write);
    let status = child.wait().map_err(spawn_err)?;
    if !status.success() || !complete {
        return Err(DefaultsError::Shell {
            path: path.display().to_string(),
            code: status.code(),
            early_exit: status.success(),
        });
    }
    Ok((parse_export_p(&report), state))
}

/// Move `fd` above 4 if it is 0 to 4: `dup2(3, 3)` would leave its
/// close-on-exec flag set, and the first redirection must not overwrite the
/// source of the second.
fn keep_above_fd4(fd: OwnedFd) -> io::Result<OwnedFd> {
    if fd.as_raw_fd() > 4 {
        return Ok(fd);
    }
    let new = nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(5))?;
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

    #[test]
    fn a_umask_and_ulimit_set_by_a_shell_file_are_read_back() {
        let path = std::env::temp_dir().join(format!("sb-defaults-ulimit-{}", std::process::id()));
        std::fs::write(&path, "A=1\numask 027\nulimit -S -c 1024\ntrap '' USR2\n").unwrap();
        let mut env = Env::new();
        env.set("PATH", "/usr/bin:/bin");
        let result = source_with_sh_state(&path, &env, false);
        std::fs::remove_file(&path).unwrap();
        let (env, state) = result.unwrap();
        assert_eq!(env.get("A").unwrap(), "1");
        assert_eq!(state.umask, Some(0o027));
        let (_, hard) = prlimit(0, nix::libc::RLIMIT_CORE as i32).unwrap();
        // dash counts RLIMIT_CORE in 512-byte blocks.
        let core = state
            .limits
            .iter()
            .find(|l| l.0 == nix::libc::RLIMIT_CORE as i32);
        if prlimit(0, nix::libc::RLIMIT_CORE as i32).unwrap().0 == 1024 * 512 {
            assert_eq!(core, None, "unchanged limits are not reported");
        } else {
            assert_eq!(
                core,
                Some(&(nix::libc::RLIMIT_CORE as i32, 1024 * 512, hard))
            );
        }
        assert_eq!(state.limits.len(), usize::from(core.is_some()), "{state:?}");
        assert_eq!(state.ignored, [nix::libc::SIGUSR2]);
    }

    #[test]
    fn the_shell_report_is_put_in_assignment_order() {
        let mut before = Env::new();
        before.set("PATH", "/bin");
        before.set("NAME", "tor");
        before.set("GONE", "x");
        // `export -p` is sorted by name.
        let mut reported = Env::new();
        for (k, v) in [
            ("CLEANUP_OLD_COREFILES", "y"),
            ("FROM_ELSEWHERE", "1"),
            ("NAME", "tor"),
            ("PATH", "/bin"),
            ("RUN_DAEMON", "yes"),
        ] {
            reported.set(k, v);
        }
        let text = b"# MY_RUN_DAEMON=no\n# CLEANUP_OLD_COREFILES=n\nRUN_DAEMON=\"yes\"\n\
            CLEANUP_OLD_COREFILES=y\nif :; then . ./x; fi\n";
        let env = in_assignment_order(&before, reported, text);
        let names: Vec<_> = env.iter().map(|(k, _)| k.to_str().unwrap()).collect();
        assert_eq!(
            names,
            [
                "PATH",
                "NAME",
                "RUN_DAEMON",
                "CLEANUP_OLD_COREFILES",
                "FROM_ELSEWHERE"
            ]
        );
    }

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

    fn read(text: &str, env: &[(&str, &str)], nounset: bool) -> Option<Vec<(String, String)>> {
        let mut e = Env::new();
        for (k, v) in env {
            e.set(k, v);
        }
        read_in_process(text.as_bytes(), &e, nounset).map(|v| {
            v.into_iter()
                .map(|(k, v)| (String::from_utf8(k).unwrap(), String::from_utf8(v).unwrap()))
                .collect()
        })
    }

    #[test]
    fn references_see_earlier_assignments_and_the_environment() {
        let text = "PORT=8080\nLISTEN=\"127.0.0.1:${PORT:-80}\"\nOPTS=\"--listen $LISTEN --pid /run/${NAME:-x}.pid\" U=$UNSET\n";
        assert_eq!(
            read(text, &[("NAME", "foo")], false),
            pairs(&[
                ("PORT", "8080"),
                ("LISTEN", "127.0.0.1:8080"),
                ("OPTS", "--listen 127.0.0.1:8080 --pid /run/foo.pid"),
                ("U", "")
            ])
        );
    }

    #[test]
    fn each_operator_follows_sh() {
        let env = [("SET", "v"), ("EMPTY", "")];
        let cases = [
            ("A=${SET:-w}${EMPTY:-w}${UNSET:-w}", "vww"),
            ("A=${SET-w}${EMPTY-w}${UNSET-w}", "vw"),
            ("A=${SET:+w}${EMPTY:+w}${UNSET:+w}", "w"),
            ("A=${SET+w}${EMPTY+w}${UNSET+w}", "ww"),
            ("A=\"${UNSET:-a  b $SET}\"", "a  b v"),
            ("A=${UNSET:-a  b ${SET}}", "a  b v"),
        ];
        for (text, want) in cases {
            assert_eq!(read(text, &env, false), pairs(&[("A", want)]), "{text}");
        }
        assert_eq!(
            read("A=${EMPTY:=x}${U=y} B=$EMPTY$U", &env, false),
            pairs(&[("EMPTY", "x"), ("U", "y"), ("A", "xy"), ("B", "xy")])
        );
    }

    #[test]
    fn nounset_refuses_a_reference_to_an_unset_variable() {
        assert_eq!(read("A=$U", &[], true), None);
        assert_eq!(read("A=${U:-$V}", &[], true), None);
        assert_eq!(read("A=${U:-x}${U+$V}", &[], true), pairs(&[("A", "x")]));
    }

    #[test]
    fn expansions_the_reader_does_not_understand_go_to_sh() {
        for text in [
            "A=$(date)\n",
            "A=$((1+1))\n",
            "A=\"$(date)\"\n",
            "A=$1\n",
            "A=$@\n",
            "A=\"$*\"\n",
            "A=$?\n",
            "A=$$\n",
            "A=$#\n",
            "A=$!\n",
            "A=$-\n",
            "A=$\n",
            "A=\"x$\"\n",
            "A=${#B}\n",
            "A=${B%x}\n",
            "A=${B#x}\n",
            "A=${B?x}\n",
            "A=${B:?x}\n",
            "A=${B:-~}\n",
            "A=${B:-'x'}\n",
            "A=${B:-\"x\"}\n",
            "A=${B:-${C:-x}}\n",
            "A=${B:-*}\n",
            "A=${B:-$(date)}\n",
            "A=${B\n",
            "A=${}\n",
            "A=${1}\n",
            "A=$PATH\n",
            "A=${IFS}\n",
            "A=${PWD:-x}\n",
            "A=${B:=x}${HOME:=y}\n",
            "A=`date`\n",
            "A=\"\\$B\"\n",
        ] {
            assert_eq!(read(text, &[], false), None, "{text:?} must go to /bin/sh");
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
