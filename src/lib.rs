//! servicebuilder: declarative runit services for Debian.
//!
//! A service is described by a [`ServiceTemplate`] (usually written in
//! YAML); [`render`] turns it into the files of a runit service directory,
//! and a [`ServiceBuilder`] writes template sets into a config root, stages
//! their services and links them into the directory that runsvdir watches.
//! [`sv`] reads and controls running services through their `supervise/`
//! directory, without forking `sv`. The same library serves the
//! `servicebuilder` command, the `dh_servicebuilder` debhelper command and
//! the maintainer-script actions; the binaries in `src/bin/` are thin.
//!
//! The seed's example, in Rust: two services in one template set, activated
//! on temporary roots.
//!
//! ```
//! use std::collections::BTreeMap;
//! use servicebuilder::{Command, ServiceTemplate};
//! use servicebuilder::testing::FakeServiceBuilder;
//!
//! let mut template = BTreeMap::new();
//! template.insert(
//!     "exampleapp_web".to_string(),
//!     ServiceTemplate::new(Command::argv(["python", "-m", "SimpleHTTPServer"])),
//! );
//! template.insert(
//!     "exampleapp_redis".to_string(),
//!     ServiceTemplate::new(Command::argv(["redis", "-p", "6603"])),
//! );
//!
//! let builder = FakeServiceBuilder::new()?;
//! builder.activate("exampleapp", &template)?;
//!
//! let run = std::fs::read_to_string(builder.staging_root.join("exampleapp_redis/run"))?;
//! assert!(run.ends_with("exec redis -p 6603\n"));
//! let link = std::fs::read_link(builder.runit_root.join("exampleapp_web"))?;
//! assert_eq!(link, builder.staging_root.join("exampleapp_web"));
//! assert_eq!(builder.read("exampleapp")?, template);
//! # Ok::<(), anyhow::Error>(())
//! ```
#![deny(missing_docs)]

pub mod builder;
pub mod cli;
pub(crate) mod date;
pub mod debhelper;
pub mod fsx;
pub mod maint;
pub mod render;
pub mod runtime;
pub mod shell;
pub mod sv;
pub mod template;
pub mod testing;

pub use builder::ServiceBuilder;
pub use template::{Command, OnUpgrade, RestartPolicy, ServiceTemplate, Templates};
