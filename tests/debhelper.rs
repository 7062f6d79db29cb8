//! dh_servicebuilder, proven against debhelper and dh-runit themselves:
//! package selection against `dh_listpackages`, legacy input side by side
//! with Debian's `dh_runit`, real `dpkg-buildpackage` builds inspected with
//! `dpkg-deb` and `lintian`, dh's NOOP skipping, and bad input.

#[path = "debhelper/util.rs"]
mod util;

#[path = "debhelper/selection.rs"]
mod selection;

#[path = "debhelper/legacy.rs"]
mod legacy;

#[path = "debhelper/errors.rs"]
mod errors;

#[path = "debhelper/behaviour.rs"]
mod behaviour;

#[path = "debhelper/build.rs"]
mod build;

#[path = "debhelper/real_shapes.rs"]
mod real_shapes;
