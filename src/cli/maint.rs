//! `servicebuilder maint`: what the packaged maintainer scripts do (see
//! [`crate::maint`]).
//!
//! The paths are always the Debian host's (`/etc/sv`, `/etc/service`,
//! `/etc/runit/runsvdir/default`, `/run/runit/supervise`,
//! `/var/log/runit`, …); the `--*-root` options do not apply, so that an
//! environment variable left in an admin's shell cannot redirect a package
//! operation. Tests move everything under a prefix with
//! `SERVICEBUILDER_MAINT_ROOT`.
//!
//! Exit status: 0, also when runit could not be told something (that is a
//! warning on standard error: a package operation must not fail because of
//! it); 1 only for an invalid service name or onupgrade value.

use std::io::Write;
use std::process::ExitCode;

use super::args::{MaintArgs, MaintScript, RootArgs};
use crate::maint::{Maint, MaintRoots, OnUpgrade, Script};

/// `servicebuilder maint postinst|prerm|postrm`.
pub fn maint(_roots: &RootArgs, args: &MaintArgs) -> anyhow::Result<ExitCode> {
    let m = Maint {
        name: args.name.clone(),
        enable: args.enable == "yes",
        onupgrade: OnUpgrade::parse(&args.onupgrade).ok_or_else(|| {
            anyhow::anyhow!(
                "unknown onupgrade `{}`: use restart, stop, nostop or reload",
                args.onupgrade
            )
        })?,
        package: args.package.clone(),
        roots: MaintRoots::from_env(),
    };
    let script = match args.script {
        MaintScript::Postinst => Script::Postinst,
        MaintScript::Prerm => Script::Prerm,
        MaintScript::Postrm => Script::Postrm,
    };
    let report = m.run(script, &args.script_args)?;
    let mut out = std::io::stdout().lock();
    for line in &report.control {
        writeln!(out, "{line}")?;
    }
    for line in &report.notices {
        writeln!(out, "servicebuilder: {line}")?;
    }
    if std::env::var_os("SERVICEBUILDER_VERBOSE").is_some_and(|v| !v.is_empty() && v != "0") {
        for line in &report.actions {
            writeln!(out, "servicebuilder: {line}")?;
        }
    }
    let mut err = std::io::stderr().lock();
    for w in &report.warnings {
        writeln!(err, "servicebuilder: warning: {w}")?;
    }
    Ok(ExitCode::SUCCESS)
}
