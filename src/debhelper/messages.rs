//! Messages in debhelper's voice.
//!
//! Dh_Lib prints `TOOL: error: MSG` and `TOOL: warning: MSG` on stderr and
//! verbose command lines as `\tCMD` on stdout. Colour follows `DH_COLORS`,
//! then `DPKG_COLORS`, then `NO_COLOR` (debhelper 13.11 `_color`).

use std::fmt;
use std::io::{IsTerminal, Write};
use std::sync::OnceLock;

/// The command name every message starts with.
pub const TOOL: &str = "dh_servicebuilder";

/// A fatal error. Its text is the part after `dh_servicebuilder: error: `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhError(pub String);

impl fmt::Display for DhError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DhError {}

/// Shorthand for building a [`DhError`] from anything printable.
pub fn err<T>(msg: impl Into<String>) -> Result<T, DhError> {
    Err(DhError(msg.into()))
}

fn use_color() -> bool {
    static COLOR: OnceLock<bool> = OnceLock::new();
    *COLOR.get_or_init(|| {
        let mode = std::env::var("DH_COLORS")
            .or_else(|_| std::env::var("DPKG_COLORS"))
            .unwrap_or_else(|_| {
                if std::env::var_os("NO_COLOR").is_some() {
                    "never".into()
                } else {
                    "auto".into()
                }
            });
        match mode.as_str() {
            "always" => true,
            "auto" => std::io::stdout().is_terminal() || std::io::stderr().is_terminal(),
            _ => false,
        }
    })
}

fn paint(text: &str, sgr: &str) -> String {
    if use_color() {
        format!("\x1b[{sgr}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// The full error line, as Dh_Lib's `error()` prints it.
pub fn error_line(msg: &str) -> String {
    format!("{}: {}: {msg}", paint(TOOL, "1"), paint("error", "1;31"))
}

/// Print `dh_servicebuilder: error: MSG` on stderr (without exiting: some
/// errors, such as an unknown `-p` package, are reported and parsing goes on).
pub fn print_error(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{}", error_line(msg));
}

/// Print `dh_servicebuilder: warning: MSG` on stderr.
pub fn warning(msg: &str) {
    let line = format!("{}: {}: {msg}", paint(TOOL, "1"), paint("warning", "1;33"));
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Quote words the way Dh_Lib's `escape_shell` does, so that verbose output
/// is byte-identical to what a Perl helper would print.
pub fn escape_shell<S: AsRef<str>>(words: &[S]) -> String {
    let mut out = Vec::with_capacity(words.len());
    for word in words {
        let word = word.as_ref();
        let mut s = String::with_capacity(word.len() + 2);
        if word.chars().any(char::is_whitespace) {
            s.push('"');
            for c in word.chars() {
                if matches!(c, '\n' | '`' | '$' | '"' | '\\') {
                    s.push('\\');
                }
                s.push(c);
            }
            s.push('"');
        } else {
            for c in word.chars() {
                if matches!(
                    c,
                    '!' | '"'
                        | '$'
                        | '('
                        | ')'
                        | '*'
                        | '+'
                        | '#'
                        | ';'
                        | '<'
                        | '>'
                        | '?'
                        | '@'
                        | '['
                        | ']'
                        | '\\'
                        | '`'
                        | '|'
                        | '~'
                ) {
                    s.push('\\');
                }
                s.push(c);
            }
        }
        out.push(s);
    }
    out.join(" ")
}

/// Where verbose command lines go: stdout, tab-indented, unless not verbose.
#[derive(Debug, Clone, Copy, Default)]
pub struct Verbose(pub bool);

impl Verbose {
    /// Print `\tLINE` when verbose (Dh_Lib's `verbose_print`).
    pub fn print(&self, line: &str) {
        if self.0 {
            let _ = writeln!(std::io::stdout(), "\t{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::escape_shell;

    #[test]
    fn escapes_like_dh_lib() {
        assert_eq!(escape_shell(&["chmod", "+x", "a/b"]), "chmod \\+x a/b");
        assert_eq!(escape_shell(&["a b$c"]), "\"a b\\$c\"");
        assert_eq!(escape_shell(&["x@y#z"]), "x\\@y\\#z");
    }
}
