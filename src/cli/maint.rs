//! `servicebuilder maint`: what the packaged maintainer scripts do.

use std::process::ExitCode;

use super::args::{MaintArgs, RootArgs};

/// `servicebuilder maint postinst|prerm|postrm`.
pub fn maint(_roots: &RootArgs, _args: &MaintArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("maint is not implemented yet")
}
