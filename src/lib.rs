//! servicebuilder: declarative runit services for Debian.
//!
//! One library holds the model and the logic; the binaries in `src/bin/`
//! are thin front ends over it.
#![deny(missing_docs)]

pub mod builder;
pub mod cli;
pub mod debhelper;
pub mod fsx;
pub mod maint;
pub mod render;
pub mod runtime;
pub mod shell;
pub mod sv;
pub mod template;
pub mod testing;
