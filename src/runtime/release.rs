//! Which Debian runit is installed, decided at every start from the files
//! the `runit` package itself ships.
//!
//! Debian's interpreter changed between releases (see invoke-run(8),
//! RELEASES): bookworm's runit 2.1.2 asks policy-rc.d at every start and
//! reads `/etc/default/runit`; trixie's 2.2 does neither, writes
//! `.meta/wtime` and exports `XCHPST`; sid's 2.3 also sources a `conf` file
//! and skips the init script for non-root. The programs here behave as the
//! installed one does, with nothing to configure.
//!
//! The test is one or two `stat`s of files that only the newer packages
//! ship and that an administrator has no reason to create or remove (not
//! conffiles, not documentation, which `path-exclude` may drop):
//!
//! - `/usr/sbin/runsv-cg`: shipped from runit 2.3.1-5 (sid) on;
//! - `/usr/lib/sysusers.d/runit.conf`: shipped from runit 2.2 (trixie) on,
//!   absent from bookworm's 2.1.2-54.
//!
//! Neither found (bookworm, or no Debian runit at all): the 2.1.2 rules,
//! which are also what invoke-run(8) of 2019 describes.

use std::path::Path;

use nix::unistd::{AccessFlags, access};

/// sid's runit (2.3.1-5 and later) ships this cgroup helper.
pub const MARK_2_3: &str = "/usr/sbin/runsv-cg";
/// trixie's runit (2.2) and later ship this sysusers.d snippet.
pub const MARK_2_2: &str = "/usr/lib/sysusers.d/runit.conf";

/// The behaviour to follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Runit {
    /// bookworm, runit 2.1.2-54 (and no Debian runit at all).
    V2_1,
    /// trixie, runit 2.2.0.
    V2_2,
    /// sid, runit 2.3.1.
    V2_3,
}

impl Runit {
    /// The installed release, from the files of the `runit` package.
    pub fn installed() -> Runit {
        Self::detect(Path::new(MARK_2_3), Path::new(MARK_2_2))
    }

    /// The same test with the marker paths given (for tests).
    pub fn detect(mark_2_3: &Path, mark_2_2: &Path) -> Runit {
        // access(F_OK): one system call each, through a libc symbol that
        // invoke-run binds anyway (for `run`'s X_OK test), so the dynamic
        // loader has nothing more to resolve at every start.
        let exists = |p: &Path| access(p, AccessFlags::F_OK).is_ok();
        if exists(mark_2_3) {
            Runit::V2_3
        } else if exists(mark_2_2) {
            Runit::V2_2
        } else {
            Runit::V2_1
        }
    }

    /// True from trixie's 2.2 on: the start no longer asks policy-rc.d,
    /// `/etc/default/runit` is gone, the flag files rule.
    pub fn is_today(self) -> bool {
        self >= Runit::V2_2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_marker_found_decides() {
        let dir = tempfile::tempdir().unwrap();
        let m3 = dir.path().join("runsv-cg");
        let m2 = dir.path().join("runit.conf");
        assert_eq!(Runit::detect(&m3, &m2), Runit::V2_1);
        std::fs::write(&m2, "").unwrap();
        assert_eq!(Runit::detect(&m3, &m2), Runit::V2_2);
        std::fs::write(&m3, "").unwrap();
        assert_eq!(Runit::detect(&m3, &m2), Runit::V2_3);
        assert!(Runit::V2_3.is_today() && !Runit::V2_1.is_today());
    }
}
