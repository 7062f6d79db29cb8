//! Which dh-runit release the legacy input follows: 2.16 (trixie, sid and
//! their backports; the default) or 2.15 (bookworm).
//!
//! The maintainer chooses, in this order:
//!
//! 1. `--dh-runit=2.15|2.16` on the command line (or through `DH_OPTIONS`,
//!    or `dh $@ --dh-runit=2.15`, which dh passes on as `-O`);
//! 2. `DH_SERVICEBUILDER_DH_RUNIT=2.15|2.16` in the environment (an
//!    `export` in debian/rules);
//! 3. the distribution of the newest debian/changelog entry: `bookworm`,
//!    `bookworm-security`, `bookworm-backports` and the other `bookworm-*`
//!    suites (and the older releases) are built for systems whose runit
//!    and runit-helper are bookworm's, so 2.15; anything else (`unstable`,
//!    `trixie`, `UNRELEASED`, …) is 2.16.
//!
//! The changelog is the one signal in a build environment that says where
//! the package goes: the build chroot's own dh-runit or runit need not be
//! installed, and a sid chroot builds bookworm-security uploads too.

use std::path::Path;

use super::messages::DhError;
use super::options::Env;

/// The environment variable of step 2.
pub const ENV_VAR: &str = "DH_SERVICEBUILDER_DH_RUNIT";

/// A dh-runit release line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DhRunit {
    /// dh-runit 2.15.2 (bookworm).
    V2_15,
    /// dh-runit 2.16.7 (sid; trixie's 2.16.4 differs only in accepting
    /// `onupgrade=stop` with `bin=`).
    V2_16,
}

impl DhRunit {
    /// `2.15` or `2.16`.
    pub fn as_str(self) -> &'static str {
        match self {
            DhRunit::V2_15 => "2.15",
            DhRunit::V2_16 => "2.16",
        }
    }

    /// `2.15`, `2.15.2`, `2.16`, `2.16.4`, `2.16.7`, … (any 2.15.x or
    /// 2.16.x).
    pub fn parse(v: &str) -> Option<DhRunit> {
        let line = |p: &str| v == p || v.strip_prefix(p).is_some_and(|r| r.starts_with('.'));
        if line("2.15") {
            Some(DhRunit::V2_15)
        } else if line("2.16") {
            Some(DhRunit::V2_16)
        } else {
            None
        }
    }
}

/// Releases before trixie: their suites (and every `NAME-*` suite) get 2.15.
const OLD_RELEASES: &[&str] = &["bookworm", "bullseye", "buster", "stretch"];

/// The distribution named by the first line of debian/changelog
/// (`source (version) dist1 dist2; urgency=…`), the first one if several.
pub fn changelog_distribution(root: &Path) -> Option<String> {
    let text = std::fs::read_to_string(root.join("debian/changelog")).ok()?;
    let first = text.lines().find(|l| !l.trim().is_empty())?;
    let after = first.split_once(')')?.1;
    let dists = after.split(';').next()?;
    dists.split_whitespace().next().map(str::to_string)
}

/// The mode for this build (see the module documentation).
pub fn choose(option: Option<&str>, env: &Env, root: &Path) -> Result<DhRunit, DhError> {
    if let Some(v) = option {
        return DhRunit::parse(v).ok_or_else(|| {
            DhError(format!(
                "--dh-runit={v}: unknown dh-runit release (use 2.15 for bookworm, 2.16 for trixie and sid)"
            ))
        });
    }
    if let Some(v) = env.get(ENV_VAR).filter(|v| !v.is_empty()) {
        return DhRunit::parse(v).ok_or_else(|| {
            DhError(format!(
                "{ENV_VAR}={v}: unknown dh-runit release (use 2.15 for bookworm, 2.16 for trixie and sid)"
            ))
        });
    }
    let old = changelog_distribution(root).is_some_and(|d| {
        OLD_RELEASES
            .iter()
            .any(|r| d == *r || d.strip_prefix(r).is_some_and(|s| s.starts_with('-')))
    });
    Ok(if old { DhRunit::V2_15 } else { DhRunit::V2_16 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_changelog(dist: &str) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("debian")).unwrap();
        std::fs::write(
            d.path().join("debian/changelog"),
            format!("foo (1.0-1) {dist}; urgency=medium\n\n  * x\n"),
        )
        .unwrap();
        d
    }

    #[test]
    fn the_option_wins_then_the_environment_then_the_changelog() {
        let bw = with_changelog("bookworm-security");
        let none = Env::from_pairs([("X", "")]);
        let env16 = Env::from_pairs([(ENV_VAR, "2.16")]);
        assert_eq!(choose(None, &none, bw.path()).unwrap(), DhRunit::V2_15);
        assert_eq!(choose(None, &env16, bw.path()).unwrap(), DhRunit::V2_16);
        assert_eq!(
            choose(Some("2.15.2"), &env16, bw.path()).unwrap(),
            DhRunit::V2_15
        );
        assert!(choose(Some("3"), &none, bw.path()).is_err());
        assert!(choose(Some("2.150"), &none, bw.path()).is_err());
        for dist in [
            "unstable",
            "trixie",
            "trixie-backports",
            "UNRELEASED",
            "bookwormish",
        ] {
            let d = with_changelog(dist);
            assert_eq!(
                choose(None, &none, d.path()).unwrap(),
                DhRunit::V2_16,
                "{dist}"
            );
        }
        for dist in ["bookworm", "bookworm-backports", "bullseye-security"] {
            let d = with_changelog(dist);
            assert_eq!(
                choose(None, &none, d.path()).unwrap(),
                DhRunit::V2_15,
                "{dist}"
            );
        }
        // No changelog at all: today's.
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(choose(None, &none, empty.path()).unwrap(), DhRunit::V2_16);
    }
}
