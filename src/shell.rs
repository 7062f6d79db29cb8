//! POSIX sh quoting.
//!
//! Every word the renderer puts into a script goes through [`quote`], so a
//! daemon receives exactly the bytes written in the template, whatever they
//! contain: `$`, backticks, quotes, newlines, any Unicode.

/// Quotes `word` for POSIX sh. Plain words stay readable; anything else is
/// put in single quotes, with each `'` written as `'\''`.
///
/// ```
/// use servicebuilder::shell::quote;
/// assert_eq!(quote("--port=80"), "--port=80");
/// assert_eq!(quote("it's $HOME"), r#"'it'\''s $HOME'"#);
/// assert_eq!(quote(""), "''");
/// ```
pub fn quote(word: &str) -> String {
    if !word.is_empty() && word.bytes().all(is_plain) {
        return word.to_owned();
    }
    let mut out = String::with_capacity(word.len() + 2);
    out.push('\'');
    for c in word.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// Bytes that never mean anything to sh, in any position of a word.
/// (`=` is plain too: an `exec` word is never parsed as an assignment.)
fn is_plain(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'_' | b'-' | b'.' | b'/' | b':' | b',' | b'+' | b'@' | b'%' | b'='
        )
}

/// Quotes each word and joins them with spaces.
pub fn join<I, S>(words: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = String::new();
    for (i, w) in words.into_iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&quote(w.as_ref()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignment_lookalikes_stay_arguments() {
        // `exec` is always the first word, so `A=b` is an argument there.
        assert_eq!(join(["exec", "A=b"]), "exec A=b");
    }

    #[test]
    fn metacharacters_are_single_quoted() {
        for w in [
            "a b", "$x", "`x`", "a\nb", "*", "~", "#", "a;b", "!", "{a,b}", "é",
        ] {
            assert!(quote(w).starts_with('\''), "{w:?}");
        }
    }
}
