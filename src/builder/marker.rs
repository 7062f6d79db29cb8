//! The ownership marker `.meta/servicebuilder`: who made a service
//! directory, and the rule that staging and pruning only touch their own.

use std::path::Path;

use anyhow::{Result, bail};

use crate::fsx;

use super::MARKER;

/// Who made a service directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerKind {
    /// Staged from a config-root template.
    Config,
    /// Shipped by a package built with dh_servicebuilder.
    Package,
}

impl MarkerKind {
    /// What a marker's text says: `config SET.yaml` or `package PKG`.
    fn parse(text: &[u8]) -> Option<MarkerKind> {
        if text.starts_with(b"config ") {
            Some(MarkerKind::Config)
        } else if text.starts_with(b"package ") {
            Some(MarkerKind::Package)
        } else {
            None
        }
    }
}

/// Reads the ownership marker of a service directory.
pub fn marker_kind(dir: &Path) -> Option<MarkerKind> {
    MarkerKind::parse(&std::fs::read(dir.join(MARKER)).ok()?)
}

/// Staging changes only directories servicebuilder made from templates.
pub(super) fn check_marker(existing: &fsx::Dir, dir: &Path) -> Result<()> {
    match read_marker(existing) {
        Some(MarkerKind::Config) => Ok(()),
        Some(MarkerKind::Package) => bail!(
            "{} belongs to a Debian package; choose another service name",
            dir.display()
        ),
        None => bail!(
            "{} exists and was not made by servicebuilder; move it away or choose \
             another service name",
            dir.display()
        ),
    }
}

/// [`marker_kind`] of an open directory (never through a symlink).
pub(super) fn read_marker(dir: &fsx::Dir) -> Option<MarkerKind> {
    let (meta, name) = MARKER.split_once('/')?;
    MarkerKind::parse(&dir.open_dir(meta).ok()??.read(name).ok()?)
}
