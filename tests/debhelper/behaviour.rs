//! Debhelper conventions: verbose output, no-act, idempotence, pkgfile
//! lookup, the `--` quirk, executable config files, `${…}` expansion, the
//! log, `-P`, udebs, and the NOOP promise that lets `dh` skip us.

use crate::util::{ToolDir, Tree, bin};

const CONTROL: &str = "\
Source: rdemo
Build-Depends: debhelper-compat (= 13)

Package: rdemo-run
Architecture: all
Description: x

Package: other-run
Architecture: any
Description: x

Package: rdemo-udeb
Architecture: all
Package-Type: udeb
Description: x
";

fn tree() -> Tree {
    let t = Tree::new(CONTROL);
    t.file("svc/demo", "#!/bin/sh\nexec sleep 1000\n");
    t
}

#[test]
fn verbose_lines_match_dh_runit_for_the_same_actions() {
    let theirs = tree();
    theirs.file("debian/rdemo-run.runit", "svc/demo name=demo\n");
    let ours = theirs.duplicate();
    let a = theirs.run("dh_runit", &["-prdemo-run"], &[("DH_VERBOSE", "0")]);
    let b = ours.dhsb(&["-prdemo-run"], &[("DH_VERBOSE", "0")]);
    assert!(a.ok() && b.ok(), "{a:?} {b:?}");
    // The command lines both tools print for the same actions are equal;
    // ours prints more (the files dh_runit writes silently).
    let ours_lines: Vec<&str> = b.stdout.lines().collect();
    for line in a.stdout.lines().filter(|l| l.starts_with("\tinstall")) {
        assert!(
            ours_lines.contains(&line),
            "missing {line:?} in\n{}",
            b.stdout
        );
    }
    assert!(b.stdout.contains(
        "\t[META] Append autosnippet \"postinst-servicebuilder\" to postinst [debian/rdemo-run.postinst.debhelper]\n"
    ));
    // Quiet by default.
    let quiet = tree();
    quiet.file("debian/rdemo-run.runit", "svc/demo name=demo\n");
    assert_eq!(quiet.dhsb(&[], &[]).stdout, "");
}

#[test]
fn no_act_prints_but_writes_nothing() {
    let t = tree();
    t.file(
        "debian/rdemo-run.runit.yaml",
        "demo:\n  run: [/usr/bin/demo]\n",
    );
    for (args, env) in [
        (&["--no-act", "-v"][..], &[][..]),
        (&[][..], &[("DH_NO_ACT", "1"), ("DH_VERBOSE", "1")][..]),
    ] {
        let out = t.dhsb(args, env);
        assert!(out.ok(), "{out:?}");
        assert!(
            out.stdout.contains("debian/rdemo-run/etc/sv/demo/run"),
            "{}",
            out.stdout
        );
        let mut left = std::fs::read_dir(t.path("debian"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect::<Vec<_>>();
        left.sort();
        assert_eq!(left, ["control", "rdemo-run.runit.yaml"]);
    }
}

#[test]
fn running_twice_gives_the_same_result_and_keeps_other_tools_blocks() {
    let t = tree();
    t.file(
        "debian/rdemo-run.runit.yaml",
        "demo:\n  run: [/usr/bin/demo]\n  default_log: true\n",
    );
    t.file("debian/rdemo-run.runit", "svc/demo name=legacy,logscript\n");
    let foreign = "# Automatically added by dh_installsystemd/13.11.4\nfoo\n# End automatically added section\n";
    t.file("debian/rdemo-run.prerm.debhelper", foreign);
    t.file("debian/rdemo-run.substvars", "misc:Depends=adduser\n");
    assert!(t.dhsb(&[], &[]).ok());
    let snapshot = |t: &Tree| {
        let mut s = t.listing("debian");
        for f in ["postinst", "prerm", "postrm"] {
            s.push(t.read(&format!("debian/rdemo-run.{f}.debhelper")));
        }
        s.push(t.read("debian/rdemo-run.substvars"));
        s
    };
    let first = snapshot(&t);
    let prerm = t.read("debian/rdemo-run.prerm.debhelper");
    assert_eq!(
        prerm
            .matches("# Automatically added by dh_servicebuilder/")
            .count(),
        2
    );
    assert!(prerm.ends_with(foreign), "{prerm}");
    // legacy was planned after demo: prepended blocks come out reversed.
    assert!(prerm.find("'legacy'").unwrap() < prerm.find("'demo'").unwrap());
    assert_eq!(
        t.read("debian/rdemo-run.substvars"),
        "misc:Depends=adduser, servicebuilder (>= 0.1.0)\n"
    );
    let again = t.dhsb(&[], &[]);
    assert!(again.ok(), "{again:?}");
    assert_eq!(snapshot(&t), first);
}

#[test]
fn pkgfiles_are_found_as_debhelper_finds_them() {
    let t = tree();
    // The arch-specific file wins over the plain one.
    t.file("debian/rdemo-run.runit", "svc/demo name=plain\n");
    t.file("debian/rdemo-run.runit.amd64", "svc/demo name=amd64\n");
    t.file("debian/rdemo-run.runit.linux", "svc/demo name=linux\n");
    // debian/runit.yaml belongs to the first package only.
    t.file("debian/runit.yaml", "main:\n  run: [/usr/bin/main]\n");
    // --name=foo reads debian/PKG.foo.runit.
    t.file("debian/other-run.foo.runit", "svc/demo name=foo\n");
    // udebs are skipped.
    t.file("debian/rdemo-udeb.runit", "svc/demo name=udeb\n");
    let out = t.dhsb(&[], &[("DEB_HOST_ARCH", "amd64")]);
    assert!(out.ok(), "{out:?}");
    let sv = t.listing("debian/rdemo-run/etc/sv");
    assert!(sv.iter().any(|l| l.starts_with("amd64/")), "{sv:?}");
    assert!(sv.iter().any(|l| l.starts_with("main/")), "{sv:?}");
    assert!(
        !sv.iter()
            .any(|l| l.starts_with("plain/") || l.starts_with("linux/"))
    );
    assert!(!t.exists("debian/other-run") && !t.exists("debian/rdemo-udeb"));

    let named = tree();
    named.file("debian/other-run.foo.runit", "svc/demo name=foo\n");
    assert!(named.dhsb(&["--name=foo"], &[]).ok());
    assert!(named.exists("debian/other-run/etc/sv/foo/run"));
    let os = tree();
    os.file("debian/rdemo-run.runit.linux", "svc/demo name=linux\n");
    os.file("debian/rdemo-run.runit", "svc/demo name=plain\n");
    assert!(os.dhsb(&[], &[("DEB_HOST_ARCH", "amd64")]).ok());
    assert!(
        os.exists("debian/rdemo-run/etc/sv/linux") && !os.exists("debian/rdemo-run/etc/sv/plain")
    );
}

#[test]
fn command_line_pairs_and_the_double_dash_quirk() {
    let t = tree();
    // No word before `--`: the words after it are still the pairs.
    let out = t.dhsb(&["-prdemo-run", "--", "svc/demo", "name=quirk"], &[]);
    assert!(out.ok(), "{out:?}");
    assert!(t.exists("debian/rdemo-run/etc/sv/quirk/run"));
    // Pairs go to the first package acted on only.
    let two = tree();
    assert!(two.dhsb(&["svc/demo", "name=cli,disable"], &[]).ok());
    assert!(two.exists("debian/rdemo-run/etc/sv/cli/run"));
    assert!(!two.exists("debian/other-run"));
    assert!(
        two.read("debian/rdemo-run.postinst.debhelper")
            .contains("--enable no")
    );
}

#[test]
fn executable_config_files_and_substitution() {
    let t = tree();
    t.exec_file(
        "debian/rdemo-run.runit",
        "#!/bin/sh\necho \"svc/demo name=gen-$(echo \"$DH_CONFIG_ACT_ON_PACKAGES\" | tr , +)\"\n",
    );
    t.file(
        "debian/other-run.runit",
        "svc/demo name=${env:SVNAME}-${DEB_HOST_ARCH}\n",
    );
    let out = t.dhsb(&[], &[("SVNAME", "x"), ("DEB_HOST_ARCH", "amd64")]);
    assert!(out.ok(), "{out:?}");
    // Its output is used, and it learns the packages acted on.
    assert!(t.exists("debian/rdemo-run/etc/sv/gen-rdemo-run+other-run+rdemo-udeb/run"));
    assert!(t.exists("debian/other-run/etc/sv/x-amd64/run"));
    // An unset variable is debhelper's error.
    let unset = tree();
    unset.file("debian/rdemo-run.runit", "svc/demo name=${env:SVNAME}\n");
    let out = unset.dhsb(&[], &[]);
    assert_eq!(
        out.stderr,
        "dh_servicebuilder: error: Cannot expand \"${env:SVNAME}\" in debian/rdemo-run.runit (line 1) as the ENV variable \"SVNAME\" is unset\n"
    );
}

#[test]
fn the_log_is_written_when_debhelper_writes_it() {
    let t = tree();
    t.file("debian/rdemo-run.runit", "svc/demo defaults\n");
    assert!(t.dhsb(&[], &[]).ok());
    assert!(!t.exists("debian/rdemo-run.debhelper.log"));
    assert!(
        t.dhsb(&[], &[("DH_INTERNAL_OVERRIDE", "dh_servicebuilder")])
            .ok()
    );
    assert_eq!(
        t.read("debian/rdemo-run.debhelper.log"),
        "dh_servicebuilder\n"
    );
    assert_eq!(
        t.read("debian/other-run.debhelper.log"),
        "dh_servicebuilder\n"
    );
    // --remaining-packages then skips the logged packages.
    t.file("debian/other-run.runit", "svc/demo name=late\n");
    assert!(t.dhsb(&["--remaining-packages"], &[]).ok());
    assert!(!t.exists("debian/other-run/etc/sv/late"));
}

#[test]
fn tmpdir_option_redirects_the_output() {
    let t = tree();
    t.file("debian/rdemo-run.runit", "svc/demo defaults\n");
    assert!(t.dhsb(&["-prdemo-run", "-Pdebian/elsewhere"], &[]).ok());
    assert!(t.exists("debian/elsewhere/etc/sv/demo/run"));
    assert!(!t.exists("debian/rdemo-run"));
}

#[test]
fn the_noop_promise_lets_dh_skip_us_without_input() {
    // The promise must be the first line of the binary containing it, and
    // end the line, or dh reads garbage hints.
    let binary = std::fs::read(bin()).unwrap();
    let lines: Vec<&[u8]> = binary
        .split(|b| *b == b'\n')
        .filter(|l| l.windows(16).any(|w| w == b"PROMISE: DH NOOP"))
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(
        lines[0],
        b"# PROMISE: DH NOOP WITHOUT runit.yaml runit cli-options()"
    );

    let tools = ToolDir::new();
    let t = tree();
    let listed = |t: &Tree, extra: &[&str]| {
        let mut args = vec!["binary", "--no-act", "--with", "servicebuilder"];
        args.extend(extra);
        let mut env: Vec<(&str, &str)> = vec![("DH_INTERNAL_TEST_CAN_SKIP", "1")];
        let e = tools.env();
        env.extend(e.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let out = t.run("dh", &args, &env);
        assert!(out.ok(), "{out:?}");
        out.stdout
            .lines()
            .filter(|l| l.contains("dh_servicebuilder"))
            .map(|l| l.trim().to_string())
            .collect::<Vec<_>>()
    };
    t.file("debian/changelog", crate::util::CHANGELOG);
    assert_eq!(listed(&t, &[]), Vec::<String>::new());
    assert_eq!(listed(&t, &["--foo=bar"]), Vec::<String>::new());
    for input in [
        "debian/other-run.runit.yaml",
        "debian/runit.yaml",
        "debian/rdemo-run.runit",
        "debian/runit",
    ] {
        t.file(input, "");
        assert_eq!(listed(&t, &[]), ["dh_servicebuilder"], "{input}");
        assert_eq!(
            listed(&t, &["--foo=bar"]),
            ["dh_servicebuilder -O--foo=bar"],
            "{input}"
        );
        std::fs::remove_file(t.path(input)).unwrap();
    }
    // It runs where dh_runit runs: just before dh_fixperms.
    let all = {
        let e = tools.env();
        let env: Vec<(&str, &str)> = e.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        t.run(
            "dh",
            &["binary", "--no-act", "--with", "servicebuilder"],
            &env,
        )
        .stdout
    };
    let order: Vec<&str> = all.lines().map(str::trim).collect();
    let i = order
        .iter()
        .position(|c| *c == "dh_servicebuilder")
        .unwrap();
    assert_eq!(order[i + 1], "dh_fixperms");
}

#[test]
fn the_man_page_renders_cleanly_and_documents_every_option() {
    let page = crate::util::repo().join("man/dh_servicebuilder.1");
    let out: crate::util::Out = crate::util::clean_command("man")
        .args(["--warnings", "-l"])
        .arg(&page)
        .env("MANWIDTH", "80")
        .output()
        .unwrap()
        .into();
    assert!(out.ok(), "{out:?}");
    assert_eq!(out.stderr, "", "groff warnings");
    let text = out.stdout.replace('\u{2010}', "-");
    for option in [
        "disable",
        "name=",
        "onupgrade=",
        "logscript",
        "finish",
        "noscripts",
        "usr",
        "bin=",
        "presubj",
        "defaults",
        "since=",
        "noreplace",
        "nofinish",
        "--no-act",
        "--tmpdir",
        "--remaining-packages",
        "DH_VERBOSE",
        "DIFFERENCES FROM DH_RUNIT",
        "PROMISE: DH NOOP",
    ] {
        assert!(text.contains(option), "{option} is not documented");
    }
}

#[test]
fn snippets_are_valid_shell_and_do_nothing_under_dpkg_root() {
    let t = tree();
    t.file(
        "debian/rdemo-run.runit.yaml",
        "demo:\n  run: [/usr/bin/demo]\n",
    );
    assert!(t.dhsb(&[], &[]).ok());
    for script in ["postinst", "prerm", "postrm"] {
        let body = format!(
            "#!/bin/sh\nset -e\n{}",
            t.read(&format!("debian/rdemo-run.{script}.debhelper"))
        );
        t.file("maint", &body);
        assert!(t.run("sh", &["-n", "maint"], &[]).ok(), "{script}: {body}");
        // dpkg --root: nothing may run on the host.
        let traced = t.run(
            "sh",
            &["-x", "maint", "configure", "0.9"],
            &[("DPKG_ROOT", "/target")],
        );
        assert!(traced.ok(), "{script}: {traced:?}");
        assert!(
            traced.stderr.contains("[ -z /target ]"),
            "{}",
            traced.stderr
        );
        assert!(
            !traced.stderr.contains("maint"),
            "{script} ran: {}",
            traced.stderr
        );
    }
}

/// The `--name` of each `servicebuilder maint` call in a snippet file.
fn maint_names(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.split("--name '").nth(1))
        .map(|rest| rest.split('\'').next().unwrap().to_string())
        .collect()
}

#[test]
fn snippets_enable_a_service_after_the_services_it_depends_on() {
    let t = tree();
    // Name order would be app, db, web, zz-cache: app would be linked (and
    // its runscript would wait for db and zz-cache) before either exists.
    t.file(
        "debian/rdemo-run.runit.yaml",
        "app:\n  run: [/usr/bin/app]\n  depends: [zz-cache, db, elsewhere]\n\
         db:\n  run: [/usr/bin/db]\n\
         web:\n  run: [/usr/bin/web]\n\
         zz-cache:\n  run: [/usr/bin/cache]\n  depends: [db]\n",
    );
    // A dh-runit entry of the same package keeps its place after the YAML
    // services; `elsewhere` (another package's service) does not count.
    t.file("debian/rdemo-run.runit", "svc/demo name=legacy\n");
    let out = t.dhsb(&[], &[]);
    assert!(out.ok(), "{out:?}");
    assert_eq!(
        maint_names(&t.read("debian/rdemo-run.postinst.debhelper")),
        ["db", "web", "zz-cache", "app", "legacy"]
    );
    // Removal runs the other way round: dependents stop first.
    for script in ["prerm", "postrm"] {
        assert_eq!(
            maint_names(&t.read(&format!("debian/rdemo-run.{script}.debhelper"))),
            ["legacy", "app", "zz-cache", "web", "db"],
            "{script}"
        );
    }
}

#[test]
fn a_dependency_cycle_is_an_error_before_anything_is_written() {
    let t = tree();
    t.file(
        "debian/rdemo-run.runit.yaml",
        "a:\n  run: [/usr/bin/a]\n  depends: [b]\n\
         b:\n  run: [/usr/bin/b]\n  depends: [a]\n\
         c:\n  run: [/usr/bin/c]\n",
    );
    let out = t.dhsb(&[], &[]);
    assert!(!out.ok());
    assert_eq!(
        out.stderr,
        "dh_servicebuilder: error: the services a, b of package rdemo-run depend on each other in a cycle, so none of them could start; drop one of the `depends`\n"
    );
    assert!(!t.exists("debian/rdemo-run"));
    assert!(!t.exists("debian/rdemo-run.postinst.debhelper"));
}

/// YAML services speak to runit's dpkg trigger in dh-runit 2.16's terms:
/// `.meta/enable` only as `no`, `.meta/onupgrade` only when not `restart`,
/// both only beside a `.meta/bin` (the trigger ignores services without
/// one), whichever dh-runit release the legacy input follows.
#[test]
fn yaml_services_tell_runits_trigger_what_they_want() {
    for mode in ["2.15", "2.16"] {
        let t = tree();
        t.file(
            "debian/rdemo-run.runit.yaml",
            "on:\n  run: [/usr/sbin/ond]\noff:\n  run: [/usr/sbin/offd]\n  enable: false\n\
             calm:\n  run: [/usr/sbin/calmd]\n  onupgrade: nostop\n\
             hup:\n  run: [/usr/sbin/hupd]\n  onupgrade: reload\n  enable: false\n\
             nobin:\n  script: \"exec sleep 1\"\n  enable: false\n",
        );
        let r = t.dhsb(&["-prdemo-run", &format!("--dh-runit={mode}")], &[]);
        assert!(r.ok(), "{r:?}");
        let meta = |svc: &str, f: &str| {
            let p = format!("debian/rdemo-run/etc/sv/{svc}/.meta/{f}");
            t.exists(&p).then(|| t.read(&p))
        };
        assert_eq!(meta("on", "bin").as_deref(), Some("/usr/sbin/ond\n"));
        assert_eq!(meta("on", "enable"), None);
        assert_eq!(meta("on", "onupgrade"), None);
        assert_eq!(meta("off", "enable").as_deref(), Some("no"));
        assert_eq!(meta("off", "onupgrade"), None);
        assert_eq!(meta("calm", "enable"), None);
        assert_eq!(meta("calm", "onupgrade").as_deref(), Some("nostop"));
        assert_eq!(meta("hup", "enable").as_deref(), Some("no"));
        assert_eq!(meta("hup", "onupgrade").as_deref(), Some("reload"));
        assert_eq!(meta("nobin", "bin"), None);
        assert_eq!(meta("nobin", "enable"), None);
        // Our own snippets still do the enabling and the upgrade action.
        let postinst = t.read("debian/rdemo-run.postinst.debhelper");
        assert_eq!(postinst.matches("servicebuilder maint postinst").count(), 5);
        assert!(postinst.contains("--name 'off' --enable no"), "{postinst}");
    }
}

/// `layout: usr`: runit-services' layout from YAML, in dh-runit 2.16's
/// usr,bin= model (the trigger enables it; only a postrm snippet); refused
/// where no trigger enables it (2.15 mode).
#[test]
fn a_yaml_service_in_the_usr_layout_is_left_to_runits_trigger() {
    let yaml =
        "cron:\n  run: [/usr/sbin/cron, -f]\n  layout: usr\nplain:\n  run: [/usr/sbin/plaind]\n";
    let t = tree();
    t.file("debian/rdemo-run.runit.yaml", yaml);
    let r = t.dhsb(&["-prdemo-run", "--dh-runit=2.16"], &[]);
    assert!(r.ok(), "{r:?}");
    let sv = "debian/rdemo-run/usr/share/runit/sv/cron";
    assert!(t.exists(&format!("{sv}/run")));
    assert_eq!(t.read(&format!("{sv}/.meta/bin")), "/usr/sbin/cron\n");
    assert_eq!(t.read(&format!("{sv}/.meta/pkg")), "rdemo-run");
    assert!(!t.exists("debian/rdemo-run/etc/sv/cron"));
    assert!(!t.exists(&format!("{sv}/.meta/servicebuilder")));
    let postinst = t.read("debian/rdemo-run.postinst.debhelper");
    assert!(!postinst.contains("--name 'cron'"), "{postinst}");
    assert!(postinst.contains("--name 'plain'"), "{postinst}");
    let postrm = t.read("debian/rdemo-run.postrm.debhelper");
    assert!(postrm.contains("--name 'cron'"), "{postrm}");

    let t = tree();
    t.file("debian/rdemo-run.runit.yaml", yaml);
    let r = t.dhsb(&["-prdemo-run", "--dh-runit=2.15"], &[]);
    assert!(!r.ok(), "{r:?}");
    assert!(
        format!("{r:?}").contains("`layout: usr` needs runit's dpkg trigger"),
        "{r:?}"
    );
    // Without a daemon path the trigger has nothing to look for.
    let t = tree();
    t.file(
        "debian/rdemo-run.runit.yaml",
        "x:\n  run: \"cron -f\"\n  layout: usr\n",
    );
    let r = t.dhsb(&["-prdemo-run", "--dh-runit=2.16"], &[]);
    assert!(
        !r.ok() && format!("{r:?}").contains("needs the daemon's path"),
        "{r:?}"
    );
}
