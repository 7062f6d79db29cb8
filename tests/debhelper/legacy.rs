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
    let b = ours.dhsb(&[], &env);
    assert!(a.ok(), "dh_runit: {a:?}");
    assert!(b.ok(), "dh_servicebuilder: {b:?}");

    // The deprecation warnings are dh_runit's, word for word.
    assert_eq!(b.stderr, a.stderr.replace("dh_runit", "dh_servicebuilder"));
    assert_eq!(b.stderr.matches("deprecated").count(), 3, "{}", b.stderr);

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

        let mut want = contents(&theirs, base);
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
        let mut got = contents(&ours, base);
        got.retain(|path, data| {
            !(path.ends_with(".meta/servicebuilder") && data == b"package rdemo-run\n")
        });
        assert_eq!(got, want, "contents under {base}");
    }
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
