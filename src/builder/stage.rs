//! Staging one service directory: a new one built whole under a dot-name
//! and renamed into place; a changed one planned, journalled and applied;
//! and what a killed run left behind finished or swept by `recover`.

use std::path::Path;

use anyhow::{Context, Result};

use crate::fsx;
use crate::render::{Entry, EntryKind, render_service};
use crate::template::{ServiceTemplate, validate_service_name};

use super::journal::{JOURNAL_HEADER, JOURNAL_SUFFIX, Journal, Step, journal_name};
use super::marker::{check_marker, read_marker};
use super::plan::{create, dir_mode, plan_changes, split};
use super::{MARKER, MarkerKind, Report, ServiceBuilder};

impl ServiceBuilder {
    /// Builds `service`'s directory in the staging root, writing only what
    /// changed.
    ///
    /// A new service is built under a temporary dot-name and renamed into
    /// place, so runsvdir never sees part of it. A changed service keeps its
    /// directory (runsv lives in it and owns `supervise/`): it is first
    /// compared, writing nothing, and an unchanged service costs no write at
    /// all. Otherwise an uncommitted journal `STAGING/.SERVICE.sb-journal`
    /// is written (the sign for the next run that litter may follow), every
    /// new file is written under a temporary dot-name, then the journal
    /// listing the renames and removals is committed over it, applied and
    /// removed. A run killed after the commit is finished by the next locked
    /// run ([`recover`](Self::recover)); one killed before it leaves the old
    /// version and dot-named litter that the next run sweeps.
    ///
    /// Like every change, it holds the staging root's lock and first
    /// finishes what a killed run left.
    pub fn stage(&self, service: &str, t: &ServiceTemplate, origin: &str) -> Result<Report> {
        let (_lock, mut report) = self.begin()?;
        report.merge(self.stage_in(&fsx::Dir::open(&self.staging_root)?, service, t, origin)?);
        Ok(report)
    }

    pub(super) fn stage_in(
        &self,
        root: &fsx::Dir,
        service: &str,
        t: &ServiceTemplate,
        origin: &str,
    ) -> Result<Report> {
        validate_service_name(service).map_err(anyhow::Error::msg)?;
        t.validate()
            .map_err(|e| anyhow::anyhow!("service `{service}`: {e}"))?;
        let dir = self.staging_root.join(service);
        let mut entries = render_service(service, t, &self.render_options()?);
        if !entries
            .iter()
            .any(|e| e.path == Path::new(".meta") && matches!(e.kind, EntryKind::Dir { .. }))
        {
            entries.push(Entry {
                path: ".meta".into(),
                kind: EntryKind::Dir { mode: 0o755 },
            });
        }
        // runit 2.2's dpkg trigger links every /etc/sv service with a
        // .meta/bin into runsvdir's directory unless .meta/enable says no,
        // and restarts it on binary upgrades. Host services are linked,
        // unlinked and pruned by servicebuilder alone: the trigger must
        // not bring back what `enable: false` or prune took away.
        if entries.iter().any(|e| e.path == Path::new(".meta/bin")) {
            entries.push(Entry {
                path: ".meta/enable".into(),
                kind: EntryKind::File {
                    contents: b"no".to_vec(),
                    mode: 0o644,
                },
            });
        }
        // What staging writes, recorded, so that a later run tells a hand
        // edit from a file it wrote itself.
        entries.push(Entry {
            path: super::edits::SUMS.into(),
            kind: EntryKind::File {
                contents: super::edits::sums(&entries).into_bytes(),
                mode: 0o644,
            },
        });
        entries.push(Entry {
            path: MARKER.into(),
            kind: EntryKind::File {
                contents: format!("config {origin}\n").into_bytes(),
                mode: 0o644,
            },
        });
        let mut report = Report::default();
        let Some(existing) = root.open_dir(service)? else {
            // New: build it whole under a dot-name, then one rename.
            let tmp = fsx::temp_name(service);
            let result = (|| -> Result<()> {
                root.create_dir(&tmp, 0o755)?;
                let d = root.open_dir(&tmp)?.context("the new directory vanished")?;
                for Entry { path, kind } in &entries {
                    let rel = path.to_string_lossy();
                    if rel.is_empty() {
                        d.chmod(".", dir_mode(kind))?;
                        continue;
                    }
                    let (parent, name) = split(&rel);
                    let p = d.walk(parent)?.context("a parent directory vanished")?;
                    create(&p, name, kind)?;
                    report.written.push(dir.join(path));
                }
                root.rename_noreplace(&tmp, service)
            })();
            if let Err(e) = result {
                let _ = root.remove_tree(&tmp);
                return Err(e);
            }
            report.written.insert(0, dir);
            report.services.push(service.to_owned());
            return Ok(report);
        };
        let plan = match plan_changes(&existing, &entries, t) {
            Ok(plan) => plan,
            Err(e) => {
                // A foreign directory is reported as such, whatever else
                // is odd in it (planning wrote nothing).
                check_marker(&existing, &dir)?;
                return Err(e);
            }
        };
        if !plan.marker_same {
            check_marker(&existing, &dir)?;
        }
        for (parent, name) in &plan.litter {
            if let Some(p) = existing.walk(parent)?
                && p.remove_tree(name)?
            {
                report.removed.push(p.path().join(name));
            }
        }
        if plan.is_empty() {
            report.services.push(service.to_owned());
            return Ok(report);
        }
        // The intent, before any temporary file exists in the service
        // directory: an uncommitted journal, which tells the next run's
        // recover() that this directory may hold litter.
        let jname = journal_name(service);
        root.write_atomic(&jname, format!("{JOURNAL_HEADER}\n").as_bytes(), 0o600)?;
        let undo = |e: anyhow::Error| {
            plan.journal.discard(&existing);
            let _ = root.unlink(&jname);
            Err(e)
        };
        for (parent, name, kind) in &plan.creates {
            let made = existing
                .walk(parent)
                .and_then(|p| p.context("a directory vanished"))
                .and_then(|p| create(&p, name, kind));
            if let Err(e) = made {
                return undo(e);
            }
        }
        if let Err(e) = root.write_atomic(&jname, plan.journal.to_text().as_bytes(), 0o600) {
            return undo(e);
        }
        plan.journal.apply(&existing)?;
        root.unlink(&jname)?;
        for op in &plan.journal.ops {
            let (Step::Rename(_, rel) | Step::Unlink(rel) | Step::Rmdir(rel) | Step::Chmod(rel, _)) =
                op;
            let path = if rel == "." {
                dir.clone()
            } else {
                dir.join(rel)
            };
            match op {
                Step::Unlink(_) | Step::Rmdir(_) => report.removed.push(path),
                _ => report.written.push(path),
            }
        }
        report.services.push(service.to_owned());
        Ok(report)
    }

    /// Finishes or undoes what a killed run left in the roots: committed
    /// journals are applied, and temporary dot-names whose process is gone
    /// are removed. Every locked command calls it first; it needs the lock.
    pub fn recover(&self) -> Result<Report> {
        let mut report = Report::default();
        let root = match fsx::Dir::open(&self.staging_root) {
            Ok(r) => r,
            Err(_) if !self.staging_root.exists() => return Ok(report),
            Err(e) => return Err(e),
        };
        let names = root.names()?;
        // Every journal and temporary name a run makes in the staging root
        // or in a service directory goes with a `.sb-` name in the root:
        // without one, there is nothing to finish or sweep below it.
        let dirty = names
            .iter()
            .any(|n| n.starts_with('.') && n.contains(".sb-"));
        for name in names.iter().filter(|_| dirty) {
            let Some(service) = name
                .strip_prefix('.')
                .and_then(|n| n.strip_suffix(JOURNAL_SUFFIX))
            else {
                continue;
            };
            let dir = root.open_dir(service).ok().flatten();
            // A torn or unknown journal was never committed: the old
            // version is intact, and its litter is swept below.
            if let (Some(j), Some(dir)) = (Journal::parse(&root.read(name)?), dir) {
                j.apply(&dir)?;
                report.written.push(self.staging_root.join(service));
            }
            root.unlink(name)?;
        }
        for name in names.iter().filter(|_| dirty) {
            if fsx::is_stale_temp_name(name) {
                root.remove_tree(name)?;
                report.removed.push(self.staging_root.join(name));
                continue;
            }
            if name.starts_with('.') {
                continue;
            }
            let Ok(Some(dir)) = root.open_dir(name) else {
                continue;
            };
            if read_marker(&dir) != Some(MarkerKind::Config) {
                continue;
            }
            for sub in [".", "conf", "log", ".meta"] {
                let Ok(Some(d)) = dir.walk(sub) else { continue };
                for n in d.names()? {
                    if fsx::is_stale_temp_name(&n) {
                        d.remove_tree(&n)?;
                        report.removed.push(d.path().join(n));
                    }
                }
            }
        }
        for other in [&self.runit_root, &self.config_root] {
            let Ok(d) = fsx::Dir::open(other) else {
                continue;
            };
            for n in d.names()? {
                if fsx::is_stale_temp_name(&n)
                    && d.stat(&n)?.is_some_and(|s| s.kind != fsx::Kind::Dir)
                {
                    d.unlink(&n)?;
                    report.removed.push(other.join(n));
                }
            }
        }
        Ok(report)
    }
}
