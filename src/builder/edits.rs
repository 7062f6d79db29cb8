//! Local edits: files of a staged service directory that differ from what
//! its template renders. `activate` and `rebuild` keep such a file (a copy
//! in `STAGING/.kept/`) before they write the template's version over it,
//! and `servicebuilder diff` shows them.
//!
//! `diff` compares with what the template renders now. `activate` and
//! `rebuild` call a file hand-edited when it no longer matches what staging
//! recorded writing there ([`SUMS`]): a template changed in the config root
//! by hand is then not mistaken for an edit of the staged directory.

use std::fs;
use std::path::Path;

use crate::render::{Entry, EntryKind};

/// What staging wrote, relative to the service directory: one
/// `HASH PATH` line per file (FNV-1a, 64 bits: a check against accidents,
/// not against an adversary, who could edit this file too).
pub const SUMS: &str = ".meta/servicebuilder.sums";

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The text of [`SUMS`] for the files among `entries`.
pub fn sums(entries: &[Entry]) -> String {
    entries
        .iter()
        .filter_map(|e| {
            let contents = e.contents()?;
            Some(format!(
                "{:016x} {}\n",
                fnv1a(contents),
                e.path.to_string_lossy()
            ))
        })
        .collect()
}

/// The files of the staged directory `dir` that no longer match what
/// staging recorded writing (none when there is no record: a directory
/// staged by an older version).
pub fn hand_edited(dir: &Path) -> Vec<String> {
    let Ok(text) = fs::read_to_string(dir.join(SUMS)) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| {
            let (hash, rel) = l.split_once(' ')?;
            let full = dir.join(rel);
            // Never through a symlink; a missing file is no edit to keep.
            let meta = fs::symlink_metadata(&full).ok()?;
            if !meta.is_file() || rel.split('/').any(|c| c == "..") {
                return None;
            }
            let now = fs::read(&full).ok()?;
            (format!("{:016x}", fnv1a(&now)) != hash).then(|| rel.to_owned())
        })
        .collect()
}

/// One rendered file whose staged copy differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// Relative to the service directory.
    pub path: String,
    /// What the template renders.
    pub rendered: Vec<u8>,
    /// What the staged directory holds.
    pub staged: Vec<u8>,
}

/// The rendered files of `entries` whose copies in `dir` differ in
/// content (a missing file is not an edit: staging writes it back, and
/// there is nothing to keep).
pub fn edits(dir: &Path, entries: &[Entry]) -> Vec<Edit> {
    let mut out = Vec::new();
    for e in entries {
        let EntryKind::File { contents, .. } = &e.kind else {
            continue;
        };
        let path = e.path.to_string_lossy().into_owned();
        // Never through a symlink: staging refuses those anyway.
        let full = dir.join(&path);
        if !fs::symlink_metadata(&full).is_ok_and(|m| m.is_file()) {
            continue;
        }
        if let Ok(staged) = fs::read(&full)
            && staged != *contents
        {
            out.push(Edit {
                path,
                rendered: contents.clone(),
                staged,
            });
        }
    }
    out
}

/// A line diff of `a` (rendered) and `b` (staged), unified-style without
/// hunk headers: ` ` both, `-` only rendered, `+` only staged. Longest
/// common subsequence: service files are a few lines long.
pub fn line_diff(a: &str, b: &str) -> String {
    let a: Vec<&str> = a.lines().collect();
    let b: Vec<&str> = b.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push_str(&format!(" {}\n", a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            // What goes comes before what replaces it, as in diff -u.
            out.push_str(&format!("-{}\n", a[i]));
            i += 1;
        } else {
            out.push_str(&format!("+{}\n", b[j]));
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_line_shows_as_removed_and_added() {
        assert_eq!(
            line_diff("#!/bin/sh\nexec a\n", "#!/bin/sh\nexec a -v\n"),
            " #!/bin/sh\n-exec a\n+exec a -v\n"
        );
        assert_eq!(line_diff("x\n", "x\ny\n"), " x\n+y\n");
    }
}
