//! The runit root's links: made only to the staging root, replaced only
//! when servicebuilder made them, and the admin's `.NAME` disable mark
//! respected.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::fsx;

use super::{Report, ServiceBuilder, absolute, marker_kind};

impl ServiceBuilder {
    /// Links `service` into the runit root. Idempotent; refuses to replace
    /// anything that is not servicebuilder's own link. Holds the staging
    /// root's lock, as every change does.
    pub fn link(&self, service: &str) -> Result<Report> {
        let (_lock, mut report) = self.begin()?;
        report.merge(self.link_unlocked(service)?);
        Ok(report)
    }

    /// [`Self::link`] for a caller that holds the lock.
    pub(super) fn link_unlocked(&self, service: &str) -> Result<Report> {
        let mut report = Report::default();
        if let Some(target) = self.link_needed(service)? {
            let link = self.runit_root.join(service);
            fsx::ensure_root(&self.runit_root)?;
            fsx::symlink_swap(&target, &link)?;
            report.written.push(link);
        }
        Ok(report)
    }

    /// The target `service`'s link must be given, or `None` when it is
    /// already right; an error when the runit root holds something that
    /// is not servicebuilder's. Writes nothing.
    pub(super) fn link_needed(&self, service: &str) -> Result<Option<PathBuf>> {
        // runsvdir resolves a relative target from the runit root, not from
        // where the command ran: the link always names the absolute path.
        let target = absolute(&self.staging_root)?.join(service);
        let link = self.runit_root.join(service);
        match fs::symlink_metadata(&link) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let current = fs::read_link(&link)?;
                if current == target {
                    return Ok(None);
                }
                if !self.is_our_link(&link)? {
                    bail!(
                        "{} points to {}, which servicebuilder did not make; remove the link \
                         to hand the service over",
                        link.display(),
                        current.display()
                    );
                }
            }
            Ok(_) => bail!(
                "{} exists and is not a symbolic link; move it away to let servicebuilder \
                 manage `{service}`",
                link.display()
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot inspect {}", link.display())),
        }
        Ok(Some(target))
    }

    /// Whether the admin disabled `service` the Debian way: a `.NAME` (a
    /// link or anything else) in the runit root.
    pub fn disabled_by_admin(&self, service: &str) -> bool {
        fs::symlink_metadata(self.runit_root.join(format!(".{service}"))).is_ok()
    }

    /// Removes `service`'s link from the runit root if it is
    /// servicebuilder's (`enable: false`); anything else is left alone.
    pub(super) fn unlink(&self, service: &str) -> Result<Report> {
        let mut report = Report::default();
        let link = self.runit_root.join(service);
        if fs::symlink_metadata(&link).is_ok() && self.is_our_link(&link)? {
            fsx::remove_file_if_exists(&link)?;
            report.removed.push(link);
        }
        Ok(report)
    }

    /// A runit-root entry is ours when it is a symlink to a directory that
    /// carries the marker, or a dangling link of the shape servicebuilder
    /// makes (see [`Self::is_our_dangling_link`]).
    pub(super) fn is_our_link(&self, link: &Path) -> Result<bool> {
        let meta = fs::symlink_metadata(link)
            .with_context(|| format!("cannot inspect {}", link.display()))?;
        if !meta.file_type().is_symlink() {
            return Ok(false);
        }
        let target = resolve_link(link)?;
        Ok(marker_kind(&target).is_some() || self.is_our_dangling_link(link)?)
    }

    /// A dangling link named NAME whose target is `STAGING/NAME`: what a
    /// staged directory removed by hand leaves, or what a version that
    /// wrote the staging root as given (`-s sv`, relative) made. runsvdir
    /// can never run it, so prune removes it and activate replaces it.
    pub(super) fn is_our_dangling_link(&self, link: &Path) -> Result<bool> {
        let Ok(raw) = fs::read_link(link) else {
            return Ok(false);
        };
        if fs::metadata(resolve_link(link)?).is_ok() {
            return Ok(false);
        }
        let name = link.file_name();
        if raw.file_name() != name {
            return Ok(false);
        }
        let staging = absolute(&self.staging_root)?;
        Ok(raw == staging.join(name.unwrap_or_default())
            || (raw.is_relative() && raw.parent().and_then(Path::file_name) == staging.file_name()))
    }
}

/// Where a symlink points, relative targets taken from its directory.
fn resolve_link(link: &Path) -> Result<PathBuf> {
    let target =
        fs::read_link(link).with_context(|| format!("cannot read the link {}", link.display()))?;
    Ok(if target.is_absolute() {
        target
    } else {
        link.parent().unwrap_or(Path::new("/")).join(target)
    })
}
