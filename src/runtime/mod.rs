//! The runtime: the `invoke-run` runscript interpreter and `finish-default`.
//!
//! These two programs run at every start and stop of every service, so they
//! are written for start-up cost: they use only `std` and `nix`, never the
//! rest of this library (templates, YAML, clap), and the linker drops
//! everything else. Nothing here may `use crate::…` outside `runtime`.
//!
//! The behaviour follows Debian's shell implementation in the `runit`
//! package (`/lib/runit/invoke-run`, `/lib/runit/finish-default`,
//! `/lib/runit/finish-exec`, runit 2.1.2-54) and its invoke-run(8) page;
//! every deliberate difference is listed in `man/invoke-run.8`.
//!
//! The paths below are fixed on purpose: an ordinary service start must not
//! read its configuration roots from the environment. Tests move them with
//! private mount namespaces instead.

pub mod control;
pub mod defaults_file;
pub mod env;
pub mod envdir;
pub mod finish;
pub mod invoke_run;
pub mod say;
pub mod service;
pub mod spawn;

/// Where the per-host defaults files live (`/etc/default/runit`, `/etc/default/NAME`).
pub const DEFAULT_DIR: &str = "/etc/default";
/// The site policy hook asked before a start (`policy-rc.d NAME start`).
pub const POLICY_RC_D: &str = "/usr/sbin/policy-rc.d";
/// Directory of sysv init scripts handed over to runit on upgrade.
pub const INIT_D: &str = "/etc/init.d";
/// dh-runit's per-service package markers (`meta/NAME/installed`, `meta/NAME/noreplace`).
pub const RUNIT_META: &str = "/usr/share/runit/meta";
/// dh-runit's pristine copies of packaged service directories (`sv/NAME`).
pub const RUNIT_SV: &str = "/usr/share/runit/sv";
/// Debian's flag-file directory (`verbose`, `debug`) read by finish-default.
pub const RUNIT_FLAGS: &str = "/etc/runit";
/// The shell that interprets the run script body and non-trivial defaults files.
pub const SH: &str = "/bin/sh";
/// `/sbin/start-stop-daemon`: when it is a symlink (runit-init's diversion),
/// stopping an init script would only talk to runit itself.
pub const START_STOP_DAEMON: &str = "/sbin/start-stop-daemon";
