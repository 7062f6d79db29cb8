//! Which binary packages to act on (Dh_Lib's `getpackages` and the end of
//! Dh_Getopt's `parseopts`).
//!
//! A stanza whose `Build-Profiles` formula is false is not built. Then
//! `Architecture: all` is "indep", `any` is "arch", and any other value is
//! "arch" if one of its words matches `DEB_HOST_ARCH` (`DEB_TARGET_ARCH` for
//! `X-DH-Build-For-Type: target`) as `dpkg` matches wildcards. When the
//! options leave nothing to act on, debhelper prints one of three warnings
//! and exits 0 without running the tool; [`Selection::Nothing`] says so.

use std::path::Path;

use super::arch::{ArchTable, ArchValues};
use super::control::Control;
use super::messages::{DhError, TOOL, err, warning};
use super::options::{Env, Options, PackageLists};
use super::profiles;

/// Compute the package lists of debian/control under this environment.
pub fn package_lists(
    control: &Control,
    env: &Env,
    values: &ArchValues,
    table: &ArchTable,
) -> Result<PackageLists, DhError> {
    let active: Vec<&str> = env
        .get("DEB_BUILD_PROFILES")
        .map(|v| v.split_whitespace().collect())
        .unwrap_or_default();
    let mut lists = PackageLists::default();
    for pkg in &control.packages {
        lists.all.push(pkg.name.clone());
        if let Some(formula) = &pkg.build_profiles
            && !profiles::enabled(formula, &active)
        {
            continue;
        }
        let arch = pkg.architecture.as_str();
        if arch == "all" {
            lists.indep.push(pkg.name.clone());
            lists.both.push(pkg.name.clone());
            continue;
        }
        let included = arch == "any" || {
            let var = if pkg.cross_type == "target" {
                "DEB_TARGET_ARCH"
            } else {
                "DEB_HOST_ARCH"
            };
            table.samearch(&values.get(env, var)?, arch)
        };
        if included {
            lists.arch.push(pkg.name.clone());
            lists.both.push(pkg.name.clone());
        }
    }
    Ok(lists)
}

/// The outcome of package selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Act on these packages, in this order.
    Act(Vec<String>),
    /// Nothing to do: the warning was printed; exit 0 without running.
    Nothing,
}

fn logged_tools(root: &Path, pkg: &str) -> Vec<String> {
    std::fs::read_to_string(root.join(format!("debian/{pkg}.debhelper.log")))
        .map(|t| t.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

/// Finish the selection that option parsing started.
pub fn select(
    opts: &Options,
    lists: &PackageLists,
    control: &Control,
    root: &Path,
    host_arch: impl FnOnce() -> Result<String, DhError>,
) -> Result<Selection, DhError> {
    let mut chosen = opts.dopackages.clone();
    if chosen.is_empty() {
        if opts.parsed_options {
            let mut stop = false;
            if opts.profile_excluded_pkg {
                warning(
                    "All requested packages have been excluded (e.g. via a Build-Profile or due to architecture restrictions).",
                );
                stop = true;
            }
            if opts.doindep || opts.doarch {
                warning(
                    "You asked that all arch in(dep) packages be built, but there are none of that type.",
                );
                stop = true;
            }
            if stop {
                return Ok(Selection::Nothing);
            }
        }
        chosen = lists.both.clone();
    }
    if opts.parsed_options {
        let mut kept: Vec<String> = Vec::new();
        for pkg in chosen {
            let excluded = opts.excluded.contains(&pkg)
                || (opts.remaining_packages && logged_tools(root, &pkg).iter().any(|t| t == TOOL));
            if !excluded && !kept.contains(&pkg) {
                kept.push(pkg);
            }
        }
        if kept.is_empty() {
            if !opts.explicitly_requested.is_empty() {
                let still_wanted = opts
                    .explicitly_requested
                    .iter()
                    .any(|p| !opts.internal_excluded.contains(p) && lists.both.contains(p));
                if !still_wanted {
                    warning(
                        "All requested packages have been excluded (e.g. via a Build-Profile or due to architecture restrictions).",
                    );
                    return Ok(Selection::Nothing);
                }
            }
            let mut archs: Vec<&str> = control
                .packages
                .iter()
                .map(|p| p.architecture.as_str())
                .collect();
            archs.sort_unstable();
            archs.dedup();
            warning(&format!(
                "No packages to build. Possible architecture mismatch: {}, want: {}",
                host_arch()?,
                archs.join(" ")
            ));
            return Ok(Selection::Nothing);
        }
        chosen = kept;
    }
    if opts.tmpdir.is_some() && chosen.len() > 1 {
        return err(format!(
            "-P was specified, but multiple packages would be acted on ({}).",
            chosen.join(",")
        ));
    }
    Ok(Selection::Act(chosen))
}
