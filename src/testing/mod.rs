//! Test doubles, as the seed provides: fake, recording and failing `Sv`
//! implementations and a [`FakeServiceBuilder`] on temporary roots.

use std::ops::Deref;

use crate::builder::ServiceBuilder;
use crate::render::RenderOptions;

mod sv_doubles;
pub use sv_doubles::*;

/// A [`ServiceBuilder`] on three fresh temporary roots, removed when it is
/// dropped (the seed's `FakeServiceBuilder`, with `Drop` instead of
/// `Cleanup()`).
///
/// Scripts are rendered with `/bin/sh` as the interpreter and `/bin/true`
/// as the finish helper, so staged services run under a real runsv on a
/// machine without servicebuilder's runtime installed. servicebuilder never
/// changes ownership of what it writes, so the fake works for non-root
/// tests too.
///
/// ```
/// use servicebuilder::testing::FakeServiceBuilder;
/// let fake = FakeServiceBuilder::new().unwrap();
/// assert!(fake.staging_root.is_dir());
/// let root = fake.root().to_owned();
/// drop(fake);
/// assert!(!root.exists());
/// ```
pub struct FakeServiceBuilder {
    builder: ServiceBuilder,
    dir: tempfile::TempDir,
}

impl FakeServiceBuilder {
    /// Creates the roots: `config/`, `staging/`, `runit/` and `packages/`
    /// under one temporary directory.
    pub fn new() -> std::io::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("servicebuilder-fake.")
            .tempdir()?;
        let mut builder = ServiceBuilder::new(
            dir.path().join("config"),
            dir.path().join("staging"),
            dir.path().join("runit"),
        );
        builder.package_root = dir.path().join("packages");
        builder.render = RenderOptions {
            interpreter: "/bin/sh".into(),
            finish_default: "/bin/true".into(),
            log_root: dir.path().join("log").to_string_lossy().into_owned(),
            runit_root: None,
            host_log: true,
        };
        for root in [
            &builder.config_root,
            &builder.staging_root,
            &builder.runit_root,
            &builder.package_root,
        ] {
            std::fs::create_dir(root)?;
        }
        Ok(FakeServiceBuilder { builder, dir })
    }

    /// The temporary directory that holds the roots.
    pub fn root(&self) -> &std::path::Path {
        self.dir.path()
    }
}

impl Deref for FakeServiceBuilder {
    type Target = ServiceBuilder;
    fn deref(&self) -> &ServiceBuilder {
        &self.builder
    }
}
