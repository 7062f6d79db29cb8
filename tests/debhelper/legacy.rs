//! The dh-runit format, side by side with Debian's `dh_runit` on the same
//! input covering every option: the trees under `etc/sv` and
//! `usr/share/runit` are the same (paths, modes, link targets, contents),
//! except for the differences listed in dh_servicebuilder(1):
//!
//! * each `/etc/sv/NAME/.meta/servicebuilder` ownership marker (ours only);
//! * the `finish` option's script calls our finish-default instead of
//!   `/lib/runit/finish-exec`;
//! * a runscript whose first line names Debian's `/lib/runit/invoke-run`
//!   names ours, `/usr/lib/servicebuilder/invoke-run`, instead.

use crate::util::{Tree, contents, snippet_calls};

const CONTROL: &str = "\
Source: rdemo
Section: admin
Priority: optional
Maintainer: Test <test@example.org>
Build-Depends: debhelper-compat (= 13)

Package: rdemo-run
Architecture: all
Depends: ${misc:Depends}
Breaks: ${runit:Breaks}
Description: runit services for the demo
 Demo services.
";

/// Every dh-runit option, a file and a directory as runscript, comments,
/// blank lines and compat 13 `${…}` substitution.
const ENTRIES: &str = "\
# every option of dh-runit 2.15.2

svc/plain defaults
svc/plain name=disabled,disable
svc/plain name=stop,onupgrade=stop
svc/plain name=nostop,onupgrade=nostop
svc/plain name=reload,onupgrade=reload
svc/plain name=restart,onupgrade=restart
svc/plain name=old,since=1.0,noreplace,nofinish
svc/plain name=ns,noscripts,disable,onupgrade=stop
svc/plain name=usrsvc,usr,noscripts,bin=/usr/sbin/daemon,logscript
svc/plain name=fin,finish
svc/plain name=lg,logscript,presubj
svc/dirsvc defaults
svc/dirsvc name=dirlog,logscript,finish
svc/full name=full,finish
svc/${env:SVC_NAME} name=subst
";

fn source() -> Tree {
    let t = Tree::new(CONTROL);
    t.file("debian/rdemo-run.runit", ENTRIES);
    // A runscript as maintainers ship it: not executable in the source.
    t.file(
        "svc/plain",
        "#!/usr/bin/env /lib/runit/invoke-run\nexec sleep 1000\n",
    );
    t.file("svc/subst", "#!/bin/sh\nexec true\n");
    // A directory without log/run: logscript adds one.
    t.file("svc/dirsvc/run", "#!/bin/sh\nexec sleep 1000\n");
    t.file("svc/dirsvc/conf/OPTS", "-v\n");
    // A directory with every script dh_runit makes executable, a finish
    // of its own (so `finish` does nothing) and Debian's supervise link.
    for s in [
        "run",
        "finish",
        "check",
        "log/run",
        "log/finish",
        "control/c",
        "control/d",
        "control/t",
        "control/u",
        "control/x",
    ] {
        t.file(&format!("svc/full/{s}"), "#!/bin/sh\nexit 0\n");
    }
    t.file("svc/full/down", "");
    std::os::unix::fs::symlink("/run/runit/supervise/full", t.path("svc/full/supervise")).unwrap();
    t
}

#[test]
fn every_dh_runit_option_gives_the_same_tree_as_dh_runit() {
    let theirs = source();
    let ours = theirs.duplicate();
    let env = [("SVC_NAME", "subst")];
    let a = theirs.run("dh_runit", &[], &env);
    // Side by side with bookworm's 2.15.2, so in 2.15 mode.
    let b = ours.dhsb(&["--dh-runit=2.15"], &env);
    assert!(a.ok(), "dh_runit: {a:?}");
    assert!(b.ok(), "dh_servicebuilder: {b:?}");

    // The deprecation warnings are dh_runit's, word for word.
    assert_eq!(b.stderr, a.stderr.replace("dh_runit", "dh_servicebuilder"));
    assert_eq!(b.stderr.matches("deprecated").count(), 3, "{}", b.stderr);

    same_trees_modulo_documented(&theirs, &ours);
    // The other places dh_runit writes to.
    for base in ["debian/rdemo-run/var", "debian/rdemo-run/usr/share/bug"] {
        assert_eq!(ours.listing(base), theirs.listing(base), "{base}");
    }
    assert!(ours.exists("debian/rdemo-run/usr/share/bug/rdemo-run/presubj"));

    // Same services, same settings, same order in every maintainer script
    // (postinst appended, prerm and postrm prepended).
    for script in ["postinst", "prerm", "postrm"] {
        let file = format!("debian/rdemo-run.{script}.debhelper");
        let want = snippet_calls(&theirs.read(&file));
        assert_eq!(snippet_calls(&ours.read(&file)), want, "{file}");
        assert_eq!(want.len(), 13, "{file}");
    }
    // Substvars: our runtime instead of runit-helper; runit:Breaks as
    // dh_runit sets it, because debian/control uses it.
    assert_eq!(
        ours.read("debian/rdemo-run.substvars"),
        "runit:Breaks=runit (<< 2.1.2-51~)\nmisc:Depends=servicebuilder (>= 0.1.0)\n"
    );
}

/// The trees under `etc/sv` and `usr/share/runit` are equal, but for the
/// differences dh_servicebuilder(1) documents: our `.meta/servicebuilder`
/// marker, our finish-default in the `finish` option's script, our
/// interpreter in runscripts written for Debian's.
fn same_trees_modulo_documented(theirs: &Tree, ours: &Tree) {
    for base in [
        "debian/rdemo-run/etc/sv",
        "debian/rdemo-run/usr/share/runit",
    ] {
        let mut expected = theirs.listing(base);
        for line in ours.listing(base) {
            if line.contains(".meta/servicebuilder ") {
                assert!(line.ends_with(" 0644"), "{line}");
                expected.push(line);
            }
        }
        expected.sort();
        assert!(expected.len() > 10, "{expected:?}");
        assert_eq!(ours.listing(base), expected, "tree under {base}");

        let mut want = contents(theirs, base);
        for (path, data) in want.iter_mut() {
            if path.ends_with("/run")
                && base.ends_with("etc/sv")
                && let Some(ours) = servicebuilder::debhelper::install::retarget_interpreter(data)
            {
                *data = ours;
            }
            if path.ends_with("/finish") && data.ends_with(b"exec /lib/runit/finish-exec \"$@\"\n")
            {
                *data =
                    b"#!/bin/sh\nset -e\n\nexec /usr/lib/servicebuilder/finish-default \"$@\"\n"
                        .to_vec();
            }
        }
        let mut got = contents(ours, base);
        got.retain(|path, data| {
            !(path.ends_with(".meta/servicebuilder") && data == b"package rdemo-run\n")
        });
        assert_eq!(got, want, "contents under {base}");
    }
}

#[test]
fn usr_share_servicebuilder_records_what_the_package_declares() {
    let t = source();
    assert!(t.dhsb(&[], &[("SVC_NAME", "subst")]).ok());
    let text = t.read("debian/rdemo-run/usr/share/servicebuilder/rdemo-run.yaml");
    let declared = servicebuilder::template::parse_templates(&text, "rdemo-run.yaml".as_ref())
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    // Every /etc/sv service, none of the /usr/share/runit/sv one.
    let names: Vec<&str> = declared.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "dirlog", "dirsvc", "disabled", "fin", "full", "lg", "nostop", "ns", "old", "plain",
            "reload", "restart", "stop", "subst"
        ]
    );
    assert!(!declared["disabled"].enable);
    assert_eq!(declared["reload"].onupgrade.as_str(), "reload");
    assert!(declared["lg"].default_log);
    assert!(
        declared["plain"]
            .script
            .as_deref()
            .unwrap()
            .contains("exec sleep 1000")
    );
}

#[test]
fn the_verbose_line_of_the_interpreter_change_replays_it() {
    // dnsmasq (bookworm) names Debian's interpreter directly; the verbose
    // line must describe the env form we write, not a plain substitution.
    let t = Tree::new(CONTROL);
    let runs = [
        ("direct", "#!/lib/runit/invoke-run\nexec true\n"),
        ("env", "#!/usr/bin/env /lib/runit/invoke-run  \nexec true\n"),
        ("shell", "#!/bin/sh\n# /lib/runit/invoke-run\nexec true\n"),
        ("other", "#!/bin/sh /lib/runit/invoke-run\nexec true\n"),
    ];
    let mut entries = String::new();
    for (name, body) in runs {
        t.file(&format!("svc/{name}"), body);
        entries.push_str(&format!("svc/{name}\n"));
    }
    t.file("debian/rdemo-run.runit", &entries);
    let replay = t.duplicate();
    let out = t.dhsb(&["-v"], &[]);
    assert!(out.ok(), "{out:?}");
    let seds: Vec<&str> = out
        .stdout
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("sed "))
        .collect();
    assert_eq!(seds.len(), runs.len(), "{}", out.stdout);
    for (name, body) in runs {
        let run = format!("debian/rdemo-run/etc/sv/{name}/run");
        let line = seds.iter().find(|l| l.ends_with(&run)).unwrap();
        replay.file(&run, body);
        let sh = replay.run("sh", &["-c", line], &[]);
        assert!(sh.ok(), "{line}: {sh:?}");
        assert_eq!(replay.read(&run), t.read(&run), "{line}");
    }
    assert!(
        t.read("debian/rdemo-run/etc/sv/direct/run")
            .starts_with("#!/usr/bin/env /usr/lib/servicebuilder/invoke-run\n")
    );
    assert_eq!(t.read("debian/rdemo-run/etc/sv/other/run"), runs[3].1);
}

/// dh-runit 2.16 of a suite, unpacked by `tests/debhelper/debian-debs`
/// from the host's mirror (cached under /var/tmp). `None` only when the
/// script says the mirror cannot be reached (exit 77): the test then says
/// so and passes, as a fresh machine without network cannot do better.
fn dh_runit_of(suite: &str) -> Option<std::path::PathBuf> {
    let out = std::process::Command::new(crate::util::repo().join("tests/debhelper/debian-debs"))
        .args([suite, "dh-runit"])
        .output()
        .expect("tests/debhelper/debian-debs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => {}
        Some(77) => {
            eprintln!("SKIP: dh-runit of {suite} unavailable: {stderr}");
            return None;
        }
        _ => panic!("tests/debhelper/debian-debs {suite}: {out:?}"),
    }
    let line = String::from_utf8_lossy(&out.stdout).into_owned();
    let dir = line.split_whitespace().nth(2).expect("a directory");
    Some(std::path::PathBuf::from(dir))
}

/// Run that dh_runit (`perl -I…/perl5 …/dh_runit`) in a tree.
fn run_dh_runit(
    t: &Tree,
    dh: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> crate::util::Out {
    let autoscripts = dh.join("usr/share/debhelper/autoscripts");
    let data = dh.join("usr/share/dh-runit/data");
    let perl5 = dh.join("usr/share/perl5");
    let script = dh.join("usr/bin/dh_runit");
    let (autoscripts, data, perl5, script) = (
        autoscripts.to_str().unwrap(),
        data.to_str().unwrap(),
        perl5.to_str().unwrap(),
        script.to_str().unwrap(),
    );
    let mut all_env = vec![
        ("DH_AUTOSCRIPTDIR", autoscripts),
        ("DH_RUNIT_DATADIR", data),
    ];
    all_env.extend_from_slice(env);
    let mut argv = vec!["-I", perl5, script];
    argv.extend_from_slice(args);
    t.run("perl", &argv, &all_env)
}

const CONTROL_216: &str = "\
Source: rdemo
Section: admin
Priority: optional
Maintainer: Test <test@example.org>
Build-Depends: debhelper-compat (= 13)

Package: rdemo-run
Architecture: all
Depends: ${misc:Depends}
Breaks: ${runit:Breaks}
Conflicts: ${runit:Conflicts}
Description: runit services for the demo
 Demo services.
";

/// Every option of dh-runit 2.16 in the combinations it accepts: `bin=`
/// alone and with `disable`, `nostop`, `reload`, `logscript`, `finish`;
/// `usr` with `bin`; a directory whose run says `##bin##`.
const ENTRIES_216: &str = "\
# every option of dh-runit 2.16

svc/plain defaults
svc/plain name=disabled,disable
svc/plain name=stop,onupgrade=stop
svc/plain name=nostop,onupgrade=nostop
svc/plain name=reload,onupgrade=reload
svc/plain name=restart,onupgrade=restart
svc/plain name=old,since=1.0,noreplace,nofinish
svc/plain name=ns,noscripts,disable,onupgrade=stop
svc/binrun bin=/usr/sbin/daemon
svc/binrun name=bindis,bin=/usr/sbin/daemon,disable,onupgrade=nostop,logscript
svc/binrun name=binreload,bin=/usr/bin/d2,onupgrade=reload,finish
svc/binrun name=binns,bin=/usr/bin/d3,noscripts
svc/binrun name=usrsvc,usr,bin=/usr/sbin/daemon,logscript,noscripts
svc/binrun name=usrdis,usr,bin=/usr/sbin/daemon,disable,onupgrade=reload
svc/bindir name=bindir,bin=/usr/sbin/dird,logscript
svc/plain name=fin,finish
svc/plain name=lg,logscript,presubj
svc/dirsvc defaults
svc/dirsvc name=dirlog,logscript,finish
svc/full name=full,finish
svc/${env:SVC_NAME} name=subst
";

fn source_216() -> Tree {
    let t = source();
    t.file("debian/control", CONTROL_216);
    t.file("debian/rdemo-run.runit", ENTRIES_216);
    t.file(
        "svc/binrun",
        "#!/usr/bin/env /lib/runit/invoke-run\nexec ##bin## --foreground ##bin##.conf\n",
    );
    t.exec_file("svc/bindir/run", "#!/bin/sh\nexec ##bin##\n");
    t.file("svc/bindir/conf/OPTS", "-v ##bin##\n");
    t
}

fn every_option_as_dh_runit_216(suite: &str) {
    let Some(dh) = dh_runit_of(suite) else {
        return;
    };
    let theirs = source_216();
    let ours = theirs.duplicate();
    let env = [("SVC_NAME", "subst")];
    let a = run_dh_runit(&theirs, &dh, &[], &env);
    // No changelog: the default is today's dh-runit, 2.16.
    let b = ours.dhsb(&[], &env);
    assert!(a.ok(), "dh_runit of {suite}: {a:?}");
    assert!(b.ok(), "dh_servicebuilder: {b:?}");
    assert_eq!(
        b.stderr,
        a.stderr.replace("dh_runit", "dh_servicebuilder"),
        "warnings"
    );
    same_trees_modulo_documented(&theirs, &ours);
    // ##bin## is replaced in run only, by the path of bin=.
    assert_eq!(
        ours.read("debian/rdemo-run/etc/sv/binrun/run"),
        "#!/usr/bin/env /usr/lib/servicebuilder/invoke-run\nexec /usr/sbin/daemon --foreground /usr/sbin/daemon.conf\n"
    );
    assert_eq!(
        ours.read("debian/rdemo-run/etc/sv/bindir/conf/OPTS"),
        "-v ##bin##\n"
    );
    assert_eq!(
        ours.read("debian/rdemo-run/usr/share/runit/sv/usrdis/.meta/enable"),
        "no"
    );
    for base in ["debian/rdemo-run/var", "debian/rdemo-run/usr/share/bug"] {
        assert_eq!(ours.listing(base), theirs.listing(base), "{base}");
    }
    // bin= services get the postrm snippet only; noscripts none.
    for script in ["postinst", "prerm", "postrm"] {
        let file = format!("debian/rdemo-run.{script}.debhelper");
        let want = snippet_calls(&theirs.read(&file));
        assert_eq!(snippet_calls(&ours.read(&file)), want, "{file}");
        let n = if script == "postrm" { 18 } else { 13 };
        assert_eq!(want.len(), n, "{file}: {want:?}");
    }
    // Both runit: variables as dh_runit sets them (debian/control uses
    // both); our runtime instead of runit-helper.
    let substvars = |t: &Tree| {
        let mut v: Vec<String> = t
            .read("debian/rdemo-run.substvars")
            .lines()
            .filter(|l| l.starts_with("runit:"))
            .map(str::to_string)
            .collect();
        v.sort();
        v
    };
    assert_eq!(substvars(&ours), substvars(&theirs));
    assert_eq!(substvars(&ours).len(), 2);
    assert!(
        theirs
            .read("debian/rdemo-run.substvars")
            .contains("misc:Depends=runit-helper (>= 2.14.0~)")
    );
    assert!(
        ours.read("debian/rdemo-run.substvars")
            .contains("misc:Depends=servicebuilder (>= 0.1.0)")
    );
}

#[test]
fn every_dh_runit_216_option_gives_the_same_tree_as_sids_dh_runit() {
    every_option_as_dh_runit_216("sid");
}

#[test]
fn every_dh_runit_216_option_gives_the_same_tree_as_trixies_dh_runit() {
    every_option_as_dh_runit_216("trixie");
}

/// The entries dh-runit 2.16 refuses, refused here too, with nothing
/// written; and the documented differences: `onupgrade=stop` with `bin=`
/// (refused by 2.16.7, accepted by trixie's 2.16.4) and `##bin##` without
/// `bin=` (2.16 writes a runscript that cannot start; we refuse it).
#[test]
fn what_dh_runit_216_refuses_is_refused() {
    let Some(sid) = dh_runit_of("sid") else {
        return;
    };
    let Some(trixie) = dh_runit_of("trixie") else {
        return;
    };
    // (entry, sid's dh_runit fails, trixie's fails, what our error says)
    let cases = [
        (
            "svc/binrun name=u,usr",
            true,
            true,
            "usr must be used together with bin option",
        ),
        (
            "svc/binrun name=u,usr,noscripts",
            true,
            true,
            "usr must be used together with bin option",
        ),
        (
            "svc/binrun name=s,bin=/x,onupgrade=stop",
            true,
            false,
            "onupgrade=stop: not compatible with bin",
        ),
        (
            "svc/binrun name=b",
            false,
            false,
            "says ##bin## but the entry has no bin= option",
        ),
        (
            "svc/plain name=s,onupgrade=later",
            true,
            true,
            "unknown onupgrade string",
        ),
    ];
    for (entry, sid_fails, trixie_fails, ours_says) in cases {
        let t = source_216();
        t.file("debian/rdemo-run.runit", &format!("{entry}\n"));
        for (dh, fails, suite) in [(&sid, sid_fails, "sid"), (&trixie, trixie_fails, "trixie")] {
            let u = t.duplicate();
            let r = run_dh_runit(&u, dh, &[], &[]);
            assert_eq!(!r.ok(), fails, "{suite}'s dh_runit on {entry}: {r:?}");
        }
        let r = t.dhsb(&[], &[]);
        assert!(!r.ok(), "{entry}: {r:?}");
        assert!(r.stderr.contains(ours_says), "{entry}: {}", r.stderr);
        assert!(
            r.stderr.contains("debian/rdemo-run.runit, entry 1"),
            "{}",
            r.stderr
        );
        assert!(
            !t.exists("debian/rdemo-run"),
            "{entry}: something was written"
        );
    }
    // In 2.15 mode the same ##bin## entry is bookworm's: copied as it is.
    let t = source_216();
    t.file("debian/rdemo-run.runit", "svc/binrun name=b\n");
    assert!(t.dhsb(&["--dh-runit=2.15"], &[]).ok());
    assert!(
        t.read("debian/rdemo-run/etc/sv/b/run")
            .contains("exec ##bin##")
    );
}

/// The mode follows the changelog's distribution unless the maintainer
/// says otherwise: a bookworm upload gets 2.15's metafiles and snippets.
#[test]
fn the_dh_runit_release_follows_the_changelog_or_the_maintainer() {
    let entry = "svc/binrun name=b,bin=/usr/sbin/daemon,disable\n";
    let shape = |t: &Tree| {
        (
            t.exists("debian/rdemo-run/etc/sv/b/.meta/bin"),
            t.exists("debian/rdemo-run.postinst.debhelper"),
        )
    };
    for (dist, args, env, v16) in [
        ("unstable", vec![], vec![], true),
        ("bookworm", vec![], vec![], false),
        ("bookworm-backports", vec![], vec![], false),
        ("trixie", vec![], vec![], true),
        ("bookworm", vec!["--dh-runit=2.16"], vec![], true),
        ("bookworm", vec!["-O--dh-runit=2.16"], vec![], true),
        (
            "unstable",
            vec![],
            vec![("DH_SERVICEBUILDER_DH_RUNIT", "2.15")],
            false,
        ),
        (
            "unstable",
            vec!["--dh-runit=2.16"],
            vec![("DH_SERVICEBUILDER_DH_RUNIT", "2.15")],
            true,
        ),
    ] {
        let t = source_216();
        t.file("debian/rdemo-run.runit", entry);
        t.file(
            "debian/changelog",
            &format!("rdemo (1.0) {dist}; urgency=medium\n\n  * x\n\n -- T <t@example.org>  Mon, 01 Jan 2024 00:00:00 +0000\n"),
        );
        let r = t.dhsb(&args, &env);
        assert!(r.ok(), "{dist} {args:?} {env:?}: {r:?}");
        // 2.16: .meta/bin, no postinst; 2.15: no .meta/bin (not usr), postinst.
        assert_eq!(shape(&t), (v16, !v16), "{dist} {args:?} {env:?}");
    }
    let t = source_216();
    let r = t.dhsb(&["--dh-runit=2.17"], &[]);
    assert!(
        !r.ok() && r.stderr.contains("unknown dh-runit release"),
        "{r:?}"
    );
}
