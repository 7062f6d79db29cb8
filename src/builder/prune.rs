//! `prune`: the seed's Prune, restricted to what servicebuilder made, with
//! log history and an admin's files kept and a stuck service killed.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::fsx;

use super::{KILL_WAIT, MarkerKind, PRUNE_WAIT, Report, ServiceBuilder, kept, marker_kind};

impl ServiceBuilder {
    /// Removes the links and staged directories of services that no
    /// template declares (the seed's Prune). Only links that point to a
    /// directory carrying servicebuilder's marker, and only staged
    /// directories carrying a `config` marker, are ever removed. If any
    /// template file cannot be read, nothing is removed.
    pub fn prune(&self) -> Result<Report> {
        let (_lock, mut report) = self.begin()?;
        let (declared, errors) = self.declarations()?;
        if !errors.is_empty() {
            bail!(
                "not pruning, because some templates cannot be read (their services would \
                 be removed):\n  {}",
                errors.join("\n  ")
            );
        }
        if let Ok(entries) = fs::read_dir(&self.runit_root) {
            for entry in entries {
                let entry =
                    entry.with_context(|| format!("reading {}", self.runit_root.display()))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') {
                    continue;
                }
                let link = entry.path();
                // A dangling link of ours goes even when its service is
                // declared: runsvdir cannot run it, and the next activate
                // or rebuild links the service again.
                let doomed = if declared.contains_key(&name) {
                    self.is_our_dangling_link(&link)?
                } else {
                    self.is_our_link(&link)?
                };
                if doomed {
                    fsx::remove_file_if_exists(&link)?;
                    report.removed.push(link);
                }
            }
        }
        let root = fsx::Dir::open(&self.staging_root)?;
        let mut doomed = Vec::new();
        for (name, kind) in root.entries()? {
            if name.starts_with('.') || declared.contains_key(&name) || kind != fsx::Kind::Dir {
                continue;
            }
            let path = self.staging_root.join(&name);
            if marker_kind(&path) == Some(MarkerKind::Config) {
                doomed.push(name);
            }
        }
        // runsvdir notices a removed link only seconds later and then stops
        // the service's runsv; a directory removed under a live runsv
        // leaves it failing to write supervise/ until it goes. So each
        // directory goes once its runsv has exited, and one whose runsv
        // outlives the wait stays for the next prune.
        let running = |name: &String| -> Result<bool> {
            match root.open_dir(name)? {
                Some(d) => d.has_reader("supervise/ok"),
                None => Ok(false),
            }
        };
        let deadline = std::time::Instant::now() + PRUNE_WAIT;
        let mut killed = false;
        let mut waiting: BTreeSet<String> = BTreeSet::new();
        loop {
            for name in doomed.drain(..).chain(std::mem::take(&mut waiting)) {
                if running(&name)? {
                    waiting.insert(name);
                } else {
                    // Log history and an admin's files are data: they go
                    // to STAGING/.kept/, the rest is ours to remove.
                    let path = self.staging_root.join(&name);
                    let foreign = kept::foreign_entries(&path)?;
                    report
                        .kept
                        .extend(kept::move_aside(&self.staging_root, &name, &foreign)?);
                    root.remove_tree(&name)?;
                    report.removed.push(path);
                }
            }
            if waiting.is_empty() {
                break;
            }
            if std::time::Instant::now() >= deadline {
                if killed {
                    break;
                }
                // runsv stops a service with TERM and waits for ever: one
                // that ignores TERM would keep its runsv, and this prune,
                // from finishing. As `sv force-stop` does, KILL it.
                killed = true;
                for name in &waiting {
                    kill_stuck(&self.staging_root.join(name));
                }
                let more = std::time::Instant::now() + KILL_WAIT;
                while std::time::Instant::now() < more
                    && waiting.iter().any(|n| running(n).unwrap_or(false))
                {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                continue;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        report
            .deferred
            .extend(waiting.into_iter().map(|n| self.staging_root.join(n)));
        root.syncfs()?;
        Ok(report)
    }
}

/// Sends KILL to a service runsv still supervises after prune's wait (only
/// to a running `./run`: runsv's `k` while `./finish` runs would run finish
/// twice). Errors are ignored: the directory then waits for the next prune.
fn kill_stuck(dir: &Path) {
    let sv = crate::sv::RunitSv::default();
    let service = crate::sv::Service::at(dir);
    if let Ok(st) = crate::sv::Status::read(dir)
        && st.state == crate::sv::State::Run
        && st.pid != 0
    {
        let _ = sv.send(&service, b"k");
    }
}
