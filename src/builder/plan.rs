//! Planning a change of a staged service directory: the existing
//! directory is compared with the rendered one, writing nothing, and what
//! differs becomes temporary entries to create plus journal steps.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result, bail};

use crate::fsx;
use crate::render::{Entry, EntryKind};
use crate::template::ServiceTemplate;

use super::journal::{Journal, Step};
use super::{MANAGED, MARKER};

pub(super) fn dir_mode(kind: &EntryKind) -> u32 {
    match kind {
        EntryKind::Dir { mode } | EntryKind::File { mode, .. } => *mode,
        EntryKind::Symlink { .. } => 0o777,
    }
}

/// `a/b/c` -> (`a/b`, `c`); `c` -> (``, `c`).
pub(super) fn split(rel: &str) -> (&str, &str) {
    rel.rsplit_once('/').unwrap_or(("", rel))
}

pub(super) fn create(dir: &fsx::Dir, name: &str, kind: &EntryKind) -> Result<()> {
    match kind {
        EntryKind::Dir { mode } => dir.create_dir(name, *mode),
        EntryKind::File { contents, mode } => dir.create_file(name, contents, *mode),
        EntryKind::Symlink { target } => dir.create_symlink(target, name),
    }
}

/// What turns an existing service directory into the rendered one.
#[derive(Debug, Default)]
pub(super) struct Plan<'a> {
    /// Entries to create before the journal is committed: (the directory
    /// they go in now, relative to the service directory; the name; what).
    /// Each is a temporary dot-name, or lies inside a new directory that
    /// has one.
    pub(super) creates: Vec<(String, String, &'a EntryKind)>,
    /// The steps that put them into place and remove what is stale.
    pub(super) journal: Journal,
    /// Temporary entries of dead runs seen on the way: (directory, name).
    pub(super) litter: Vec<(String, String)>,
    /// The ownership marker already says exactly what it will say.
    pub(super) marker_same: bool,
}

impl Plan<'_> {
    /// Nothing to write at all.
    pub(super) fn is_empty(&self) -> bool {
        self.creates.is_empty() && self.journal.ops.is_empty()
    }
}

/// A directory of the existing service, open and listed once.
struct Listed {
    /// `None` for the service directory itself.
    dir: Option<fsx::Dir>,
    names: BTreeMap<String, fsx::Kind>,
}

fn join_rel(p: &str, n: &str) -> String {
    if p.is_empty() {
        n.to_owned()
    } else {
        format!("{p}/{n}")
    }
}

/// Lists the directory `rel` of the service (`d`, or the service
/// directory itself) once, noting the litter of dead runs in it.
fn list(
    service_dir: &fsx::Dir,
    listed: &mut BTreeMap<String, Listed>,
    plan: &mut Plan,
    rel: &str,
    d: Option<fsx::Dir>,
) -> Result<()> {
    let names: BTreeMap<String, fsx::Kind> = d
        .as_ref()
        .unwrap_or(service_dir)
        .entries()?
        .into_iter()
        .collect();
    for n in names.keys().filter(|n| fsx::is_stale_temp_name(n)) {
        plan.litter.push((rel.to_owned(), n.clone()));
    }
    listed.insert(rel.to_owned(), Listed { dir: d, names });
    Ok(())
}

/// Compares the rendered `entries` with the existing directory `dir`,
/// writing nothing: every directory is opened and listed once, every file
/// read once (see [`fsx::Dir::compare_file`]), and what differs becomes a
/// temporary entry to create plus a journal step.
pub(super) fn plan_changes<'a>(
    dir: &fsx::Dir,
    entries: &'a [Entry],
    t: &ServiceTemplate,
) -> Result<Plan<'a>> {
    let mut plan = Plan::default();
    let mut listed: BTreeMap<String, Listed> = BTreeMap::new();
    list(dir, &mut listed, &mut plan, "", None)?;
    // Final relative directory -> where it is now (a temporary directory
    // for one that does not exist yet).
    let mut placed: BTreeMap<String, String> = BTreeMap::new();
    placed.insert(String::new(), String::new());
    let mut wanted: BTreeSet<String> = BTreeSet::new();
    for Entry { path, kind } in entries {
        let rel = path.to_string_lossy().into_owned();
        wanted.insert(rel.clone());
        if rel.is_empty() {
            let st = dir.stat(".")?.context("the service directory vanished")?;
            if st.mode != dir_mode(kind) {
                plan.journal
                    .ops
                    .push(Step::Chmod(".".into(), dir_mode(kind)));
            }
            continue;
        }
        let (parent, name) = split(&rel);
        let Some(now) = placed.get(parent).cloned() else {
            bail!("{}: its parent directory is not rendered first", rel);
        };
        if now != parent {
            // Inside a directory that is itself new: built in place.
            plan.creates.push((now.clone(), name.to_owned(), kind));
            if matches!(kind, EntryKind::Dir { .. }) {
                placed.insert(rel.clone(), join_rel(&now, name));
            }
            continue;
        }
        let l = listed.get(parent).with_context(|| {
            format!(
                "{}: a directory vanished",
                dir.path().join(parent).display()
            )
        })?;
        let pdir = l.dir.as_ref().unwrap_or(dir);
        let full = dir.path().join(&rel);
        let in_the_way = |what: fsx::Kind| -> Result<Plan<'a>> {
            bail!(
                "{} is in the way ({}); move it away and run again",
                full.display(),
                match what {
                    fsx::Kind::Symlink => "a symbolic link, never followed",
                    fsx::Kind::Dir => "a directory",
                    _ => "not what servicebuilder writes there",
                }
            )
        };
        let mut replace = false;
        match (kind, l.names.get(name).copied()) {
            (_, None) => replace = true,
            (EntryKind::Dir { mode }, Some(fsx::Kind::Dir)) => {
                let d = pdir
                    .open_dir(name)?
                    .with_context(|| format!("{}: the directory vanished", full.display()))?;
                if d.stat(".")?.map(|s| s.mode) != Some(*mode) {
                    plan.journal.ops.push(Step::Chmod(rel.clone(), *mode));
                }
                list(dir, &mut listed, &mut plan, &rel, Some(d))?;
                placed.insert(rel.clone(), rel.clone());
            }
            (EntryKind::File { contents, mode }, Some(fsx::Kind::File)) => {
                match pdir.compare_file(name, contents, *mode)? {
                    fsx::Compared::Same => plan.marker_same |= rel == MARKER,
                    fsx::Compared::Differs | fsx::Compared::Missing => replace = true,
                    fsx::Compared::NotAFile(k) => return in_the_way(k),
                }
            }
            (EntryKind::Symlink { target }, Some(fsx::Kind::Symlink)) => {
                replace = pdir.read_link(name)? != *target;
            }
            (_, Some(k)) => return in_the_way(k),
        }
        if replace {
            let tmp = fsx::temp_name(name);
            plan.journal
                .ops
                .push(Step::Rename(join_rel(parent, &tmp), rel.clone()));
            plan.creates.push((parent.to_owned(), tmp.clone(), kind));
            if matches!(kind, EntryKind::Dir { .. }) {
                placed.insert(rel.clone(), join_rel(parent, &tmp));
            }
        }
    }
    let root_has = |n: &str| listed[""].names.get(n).copied();
    for stale in MANAGED.iter().filter(|p| !wanted.contains(**p)) {
        let (parent, name) = split(stale);
        let kind = match listed.get(parent) {
            Some(l) => l.names.get(name).copied(),
            // A directory the template no longer has (log/ without a log).
            None if root_has(parent.split('/').next().unwrap_or("")).is_some() => {
                match dir.walk(parent)? {
                    Some(p) => p.stat(name)?.map(|s| s.kind),
                    None => None,
                }
            }
            None => None,
        };
        if kind.is_some_and(|k| k != fsx::Kind::Dir) {
            plan.journal.ops.push(Step::Unlink((*stale).to_owned()));
        }
    }
    // A log/ left without log/run would make runsv try to start a logger
    // that is not there, once a second: when the template drops its log,
    // the directory goes too (with the svlogd output in log/main), unless
    // it holds something servicebuilder and runsv did not put there.
    if !wanted.contains("log/run")
        && root_has("log").is_some()
        && let Some(log) = dir.open_dir("log")?
    {
        let ours = ["run", "main", "supervise"];
        if log
            .names()?
            .iter()
            .all(|n| ours.contains(&n.as_str()) || fsx::is_temp_name(n))
        {
            plan.journal.ops.push(Step::Rmdir("log".into()));
        }
    }
    // conf/ is wholly generated: variables no longer in the template go.
    if root_has("conf").is_some() {
        let names: Vec<String> = match listed.get("conf") {
            Some(l) => l.names.keys().cloned().collect(),
            None => match dir.open_dir("conf")? {
                Some(conf) => conf.names()?,
                None => Vec::new(),
            },
        };
        for n in names {
            let rel = format!("conf/{n}");
            if !wanted.contains(&rel) && !fsx::is_temp_name(&n) {
                plan.journal.ops.push(Step::Unlink(rel));
            }
        }
        if t.env.is_empty() {
            plan.journal.ops.push(Step::Rmdir("conf".into()));
        }
    }
    Ok(plan)
}
