//! The runtime: the `invoke-run` runscript interpreter and `finish-default`.
//!
//! These two programs run at every start and stop of every service, so they
//! are written for start-up cost: they use only `std` and `nix`, never the
//! rest of this library (templates, YAML, clap), and the linker drops
//! everything else. Nothing here may `use crate::…` outside `runtime`.
//!
//! The behaviour follows Debian's shell implementation in the installed
//! `runit` package (`invoke-run`, `finish-default`, `finish-exec` of
//! bookworm's 2.1.2-54, trixie's 2.2.0-3 or sid's 2.3.1-6, told apart by
//! `release`) and its invoke-run(8) page; every deliberate difference is
//! listed in `man/invoke-run.8`.
//!
//! The paths below are fixed on purpose: an ordinary service start must not
//! read its configuration roots from the environment. Tests move them with
//! private mount namespaces instead.

pub mod cgroup;
pub mod control;
pub mod defaults_file;
pub mod env;
pub mod envdir;
pub mod finish;
pub mod invoke_run;
pub mod release;
pub mod say;
pub mod service;
pub mod spawn;
pub mod user;

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
/// Debian's hardening extension of chpst; from runit 2.2 invoke-run
/// exports `XCHPST` for services with an `xchopts` file when it exists.
pub const XCHPST: &str = "/usr/bin/xchpst";
/// runit 2.2's invoke-rc.d override flags; finish-exec removes a
/// service's `NAME.pkgrunit` there.
pub const OVERRIDE_SYSV: &str = "/etc/runit/override-sysv.d";
/// The shell that interprets the run script body and non-trivial defaults files.
pub const SH: &str = "/bin/sh";
/// `/sbin/start-stop-daemon`: when it is a symlink (runit-init's diversion),
/// stopping an init script would only talk to runit itself.
pub const START_STOP_DAEMON: &str = "/sbin/start-stop-daemon";
