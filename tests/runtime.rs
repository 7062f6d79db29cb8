//! The runtime, proven against Debian's own interpreter and under real runsv.
//!
//! Every test that starts a service builds a throw-away tree and runs inside
//! a private mount namespace (`unshare -m`, see `runtime/ns.sh`) that lays
//! the tree over `/etc/default`, `/etc/init.d`, `/etc/sv`, `/etc/runit`,
//! `/usr/share/runit`, `/usr/sbin/policy-rc.d` and `/usr/lib/servicebuilder`.
//! The host's own files are never written. These tests need root.
//!
//! `runtime/today.rs` runs trixie's and sid's own interpreter and
//! finish-exec beside ours: their runit `.deb`s, fetched from the host's
//! mirror by `runtime/fetch-runit` and cached under /var/tmp, are laid over
//! the host's `/usr` in the namespace.
//!
//! `runtime/real_shapes.rs` holds runscripts, defaults files and service
//! directories modelled on those of bookworm packages, in our own words;
//! `runtime/real-packages` (run by `scripts/test` only with
//! `SB_REAL_PACKAGES=1`: it downloads) compares the packages themselves.

#[path = "runtime/sandbox.rs"]
mod sandbox;

#[path = "runtime/bad_input.rs"]
mod bad_input;
#[path = "runtime/cost.rs"]
mod cost;
#[path = "runtime/defaults_equivalence.rs"]
mod defaults_equivalence;
#[path = "runtime/differential.rs"]
mod differential;
#[path = "runtime/finish.rs"]
mod finish;
#[path = "runtime/real_shapes.rs"]
mod real_shapes;
#[path = "runtime/supervised.rs"]
mod supervised;
#[path = "runtime/today.rs"]
mod today;
