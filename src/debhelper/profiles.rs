//! `Build-Profiles:` restriction formulas, evaluated as dpkg evaluates them
//! (`Dpkg::BuildProfiles::parse_build_profiles` and
//! `evaluate_restriction_formula`).
//!
//! A formula such as `<!nocheck> <pkg.x cross>` is a disjunction of
//! conjunctions: the stanza is built if any `<…>` group has all of its terms
//! true, where `name` is true when the profile is active and `!name` when it
//! is not.

/// Parse a `Build-Profiles` value into its `<…>` groups of terms.
pub fn parse(formula: &str) -> Vec<Vec<String>> {
    let trimmed = formula.trim();
    let inner = match trimmed.strip_prefix('<').and_then(|s| s.strip_suffix('>')) {
        Some(s) => s.trim(),
        None => trimmed,
    };
    if inner.is_empty() {
        return Vec::new();
    }
    // Groups are separated by `>` whitespace `<`, as dpkg splits them.
    let mut groups = Vec::new();
    let mut rest = inner;
    loop {
        match find_separator(rest) {
            Some((start, end)) => {
                groups.push(
                    rest[..start]
                        .split_whitespace()
                        .map(str::to_string)
                        .collect(),
                );
                rest = &rest[end..];
            }
            None => {
                groups.push(rest.split_whitespace().map(str::to_string).collect());
                break;
            }
        }
    }
    groups
}

/// Find `\s*>\s+<\s*` and return its byte span.
fn find_separator(s: &str) -> Option<(usize, usize)> {
    let bytes = s.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b != b'>' {
            continue;
        }
        let mut j = i + 1;
        while j < bytes.len() && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        if j == i + 1 || j >= bytes.len() || bytes[j] != b'<' {
            continue;
        }
        let mut start = i;
        while start > 0 && bytes[start - 1].is_ascii_whitespace() {
            start -= 1;
        }
        let mut end = j + 1;
        while end < bytes.len() && bytes[end].is_ascii_whitespace() {
            end += 1;
        }
        return Some((start, end));
    }
    None
}

/// Is the formula true under the active profiles? An empty formula is true.
pub fn evaluate(groups: &[Vec<String>], active: &[&str]) -> bool {
    if groups.is_empty() {
        return true;
    }
    groups.iter().any(|group| {
        group.iter().all(|term| {
            let (negated, name) = match term.strip_prefix('!') {
                Some(name) if !name.is_empty() => (true, name),
                _ => (false, term.as_str()),
            };
            active.contains(&name) != negated
        })
    })
}

/// Does a stanza with this `Build-Profiles` value take part in the build?
pub fn enabled(formula: &str, active: &[&str]) -> bool {
    evaluate(&parse(formula), active)
}

#[cfg(test)]
mod tests {
    use super::enabled;

    #[test]
    fn formulas_follow_dpkg() {
        assert!(enabled("<!nocheck>", &[]));
        assert!(!enabled("<!nocheck>", &["nocheck"]));
        assert!(!enabled("<pkg.x>", &[]));
        assert!(enabled("<pkg.x> <nocheck>", &["nocheck"]));
        assert!(!enabled("<pkg.x cross>", &["cross"]));
        assert!(enabled("<pkg.x cross>", &["cross", "pkg.x"]));
        assert!(enabled("<!a !b>", &["c"]));
        assert!(!enabled("<!a !b>", &["b"]));
    }
}
