//! The staging journal: the renames and removals that turn a service
//! directory into its new version, written before they are applied, so
//! that a run killed half-way is finished (or undone) by the next one.

use anyhow::Result;

use crate::fsx;

use super::plan::split;

/// What a journal is called in the staging root: `.SERVICE` + this.
pub(super) const JOURNAL_SUFFIX: &str = ".sb-journal";
pub(super) const JOURNAL_HEADER: &str = "servicebuilder-journal 1";

pub(super) fn journal_name(service: &str) -> String {
    format!(".{service}{JOURNAL_SUFFIX}")
}

/// One step of a journal; paths are relative to the service directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Step {
    /// Rename the temporary entry to its final name (same directory).
    Rename(String, String),
    Unlink(String),
    Rmdir(String),
    Chmod(String, u32),
}

#[derive(Debug, Default)]
pub(super) struct Journal {
    pub(super) ops: Vec<Step>,
}

/// A journal path must stay inside the service directory.
fn safe_rel(rel: &str) -> bool {
    rel == "."
        || (!rel.is_empty()
            && rel.split('/').all(|c| {
                !c.is_empty() && c != "." && c != ".." && !c.contains(char::is_whitespace)
            }))
}

impl Journal {
    pub(super) fn to_text(&self) -> String {
        let mut s = format!("{JOURNAL_HEADER}\n");
        for op in &self.ops {
            match op {
                Step::Chmod(p, m) => s.push_str(&format!("chmod {p} {m:o}\n")),
                Step::Rename(a, b) => s.push_str(&format!("rename {a} {b}\n")),
                Step::Unlink(p) => s.push_str(&format!("unlink {p}\n")),
                Step::Rmdir(p) => s.push_str(&format!("rmdir {p}\n")),
            }
        }
        s.push_str("end\n");
        s
    }

    /// `None` unless the text is a whole journal whose every path stays
    /// inside the service directory.
    pub(super) fn parse(text: &[u8]) -> Option<Journal> {
        let text = std::str::from_utf8(text).ok()?;
        let mut lines = text.lines();
        if lines.next()? != JOURNAL_HEADER {
            return None;
        }
        let mut ops = Vec::new();
        for line in lines {
            let w: Vec<&str> = line.split(' ').collect();
            let op = match w.as_slice() {
                ["end"] => return Some(Journal { ops }),
                ["chmod", p, m] => Step::Chmod(p.to_string(), u32::from_str_radix(m, 8).ok()?),
                ["rename", a, b] if split(a).0 == split(b).0 => {
                    Step::Rename(a.to_string(), b.to_string())
                }
                ["unlink", p] => Step::Unlink(p.to_string()),
                ["rmdir", p] => Step::Rmdir(p.to_string()),
                _ => return None,
            };
            let (Step::Rename(p, _) | Step::Unlink(p) | Step::Rmdir(p) | Step::Chmod(p, _)) = &op;
            if !safe_rel(p) || matches!(&op, Step::Rename(_, b) if !safe_rel(b)) {
                return None;
            }
            ops.push(op);
        }
        None
    }

    /// Applies the steps; each is idempotent, so a journal is applied again
    /// safely after a kill in the middle of it.
    pub(super) fn apply(&self, dir: &fsx::Dir) -> Result<()> {
        for op in &self.ops {
            match op {
                Step::Chmod(rel, mode) => {
                    let (parent, name) = if rel == "." { ("", ".") } else { split(rel) };
                    if let Some(p) = dir.walk(parent)?
                        && p.stat(name)?.is_some()
                    {
                        p.chmod(name, *mode)?;
                    }
                }
                Step::Rename(from, to) => {
                    let (parent, from) = split(from);
                    if let Some(p) = dir.walk(parent)?
                        && p.stat(from)?.is_some()
                    {
                        p.rename(from, split(to).1)?;
                    }
                }
                Step::Unlink(rel) => {
                    let (parent, name) = split(rel);
                    if let Some(p) = dir.walk(parent)? {
                        p.unlink(name)?;
                    }
                }
                Step::Rmdir(rel) => {
                    let (parent, name) = split(rel);
                    if let Some(p) = dir.walk(parent)? {
                        p.remove_tree(name)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Removes the temporary entries of a journal that was never committed.
    pub(super) fn discard(&self, dir: &fsx::Dir) {
        for op in &self.ops {
            if let Step::Rename(from, _) = op {
                let (parent, name) = split(from);
                if let Ok(Some(p)) = dir.walk(parent) {
                    let _ = p.remove_tree(name);
                }
            }
        }
    }
}
