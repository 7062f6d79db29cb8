//! Package selection is debhelper's: for a table of control files, option
//! combinations and environments, the packages we act on are exactly what
//! `dh_listpackages` prints, and our messages and exit status are exactly
//! those of a Perl debhelper command (Debian's `dh_runit`, which has no input
//! here and so only selects packages and reports).

use servicebuilder::debhelper::options::Env;
use servicebuilder::debhelper::{Outcome, select_packages};

use crate::util::Tree;

const MULTI: &str = "\
Source: multi
Section: admin
Priority: optional
Maintainer: Test <test@example.org>
Build-Depends: debhelper-compat (= 13)

Package: p-all
Architecture: all
Description: x

# A comment between stanzas, as maintainers write them.
Package: p-any
Architecture: any
Description: x

Package: p-linux
Architecture: linux-any
Description: x

Package: p-amd64
Architecture: any-amd64
Description: x

Package: p-hurd
Architecture: hurd-any
Description: x

Package: p-list
Architecture: armhf
 i386
Description: x

Package: p-udeb
Architecture: linux-any
Package-Type: udeb
Description: x

Package: p-nocheck
Architecture: all
Build-Profiles: <!nocheck>
Description: x

Package: p-x
Architecture: any
Build-Profiles: <pkg.x> <cross pkg.y>
Description: x

Package: p-target
Architecture: linux-any
X-DH-Build-For-Type: target
Description: x
";

const ARCH_ONLY: &str = "\
Source: archonly
Build-Depends: debhelper-compat (= 12)

Package: a-one
Architecture: any
Description: x

Package: a-two
Architecture: amd64 arm64
Description: x
";

const INDEP_ONLY: &str = "\
Source: indeponly
Build-Depends: debhelper-compat (= 13)

Package: i-one
Architecture: all
Description: x

Package: i-two
Architecture: all
XB-Package-Type: udeb
Description: x
";

const OPTIONS: &[&[&str]] = &[
    &[],
    &["-a"],
    &["-i"],
    &["-s"],
    &["--arch"],
    &["-pp-all"],
    &["-pp-any", "-pp-all"],
    &["--package=p-linux", "--package", "p-amd64"],
    &["-pp-hurd"],
    &["-pp-x"],
    &["-pp-x", "-pp-all"],
    &["-Np-any"],
    &["-a", "-Np-any", "-Np-linux"],
    &["-i", "-Np-all", "-Np-nocheck"],
    &[
        "-Np-all",
        "-Np-any",
        "-Np-linux",
        "-Np-amd64",
        "-Np-udeb",
        "-Np-nocheck",
        "-Np-target",
    ],
    &["-pp-all", "-Np-all"],
    &["-pa-one"],
    &["-pi-one", "-pi-two"],
    &["-pp-unknown"],
    &["-Np-unknown"],
    &["--frobnicate"],
    &["-O--frobnicate", "-O-v"],
    &["--pack=p-all"],
    &["-ai"],
    &["-Pdebian/tmp"],
    &["-Pdebian/tmp", "-pp-all"],
];

const ENVS: &[&[(&str, &str)]] = &[
    &[],
    &[("DEB_HOST_ARCH", "hurd-i386")],
    &[("DEB_HOST_ARCH", "i386")],
    &[("DEB_HOST_ARCH", "armhf"), ("DEB_TARGET_ARCH", "hurd-i386")],
    &[("DEB_BUILD_PROFILES", "nocheck pkg.x")],
    &[("DEB_BUILD_PROFILES", "cross pkg.y")],
    &[("DH_OPTIONS", "-a")],
    &[("DH_OPTIONS", "-i --frobnicate")],
    &[("DH_INTERNAL_OPTIONS", "-pp-all\x1e-pp-any")],
    &[("DH_INTERNAL_OPTIONS", "-a")],
    &[("DEB_HOST_ARCH", "")],
];

fn compare(control: &str, args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    let tree = Tree::new(control);
    let theirs = tree.run("dh_listpackages", args, env);
    let reference = tree.run("dh_runit", args, env);
    let ours = tree.dhsb(args, env);
    let case = format!(
        "args {args:?} env {env:?} control {}",
        control.lines().next().unwrap()
    );

    let expected_stderr = reference.stderr.replace("dh_runit", "dh_servicebuilder");
    if ours.stderr != expected_stderr {
        return Err(format!(
            "{case}: stderr differs\n--- dh_runit\n{expected_stderr}--- ours\n{}",
            ours.stderr
        ));
    }
    if ours.ok() != reference.ok() {
        return Err(format!(
            "{case}: exit {:?}, dh_runit exit {:?}",
            ours.code, reference.code
        ));
    }

    let in_process = select_packages(
        &args.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        &Env::from_pairs(env.iter().copied().chain([("PATH", "/usr/bin:/bin")])),
        tree.root(),
    );
    let listed: Vec<String> = theirs
        .stdout
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    match in_process {
        Ok(Outcome::Done(list)) => {
            if !theirs.ok() || list != listed {
                return Err(format!(
                    "{case}: we select {list:?}, dh_listpackages {theirs:?}"
                ));
            }
        }
        Ok(Outcome::Nothing) => {
            if !listed.is_empty() {
                return Err(format!(
                    "{case}: we select nothing, dh_listpackages {listed:?}"
                ));
            }
        }
        Ok(Outcome::Help) => return Err(format!("{case}: help?")),
        Err(e) => {
            if theirs.ok() {
                return Err(format!(
                    "{case}: we fail ({e}), dh_listpackages lists {listed:?}"
                ));
            }
        }
    }
    Ok(())
}

/// A control file, the arguments and the environment.
type Case = (
    &'static str,
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
);

/// Options tried under every environment of [`ENVS`].
const CORE_OPTIONS: &[&[&str]] = &[
    &[],
    &["-a"],
    &["-i"],
    &["-pp-all", "-pp-linux"],
    &["-Np-any"],
];

#[test]
fn selection_equals_debhelper_on_a_table_of_cases() {
    // Every option combination on every control file under the default
    // host and a Hurd host; every environment on the rich control file
    // with the core options.
    let mut cases: Vec<Case> = Vec::new();
    for control in [MULTI, ARCH_ONLY, INDEP_ONLY] {
        for args in OPTIONS {
            let envs = if control == MULTI {
                &ENVS[..2]
            } else {
                &ENVS[..1]
            };
            for env in envs {
                cases.push((control, args, env));
            }
        }
    }
    for args in CORE_OPTIONS {
        for env in &ENVS[2..] {
            cases.push((MULTI, args, env));
        }
    }
    assert!(cases.len() >= 140, "only {} cases", cases.len());
    // Three real processes per case: spread them over a few threads.
    let chunk = cases.len().div_ceil(4);
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = cases
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .filter_map(|(c, a, e)| compare(c, a, e).err())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn the_three_nothing_to_do_warnings_exit_zero_without_running() {
    let tree = Tree::new(MULTI);
    tree.file("debian/p-hurd.runit", "svc/x defaults\n");
    let disabled = tree.dhsb(&["-pp-hurd"], &[]);
    assert!(disabled.ok(), "{disabled:?}");
    assert_eq!(
        disabled.stderr,
        "dh_servicebuilder: warning: All requested packages have been excluded (e.g. via a Build-Profile or due to architecture restrictions).\n"
    );
    let none = Tree::new(INDEP_ONLY).dhsb(&["-a"], &[]);
    assert!(none.ok());
    assert_eq!(
        none.stderr,
        "dh_servicebuilder: warning: You asked that all arch in(dep) packages be built, but there are none of that type.\n"
    );
    let excluded =
        Tree::new(INDEP_ONLY).dhsb(&["-Ni-one", "-Ni-two"], &[("DEB_HOST_ARCH", "amd64")]);
    assert!(excluded.ok());
    assert_eq!(
        excluded.stderr,
        "dh_servicebuilder: warning: No packages to build. Possible architecture mismatch: amd64, want: all\n"
    );
    // The missing svc/x would have been an error had the body run.
    assert!(!tree.exists("debian/p-hurd"));
}
