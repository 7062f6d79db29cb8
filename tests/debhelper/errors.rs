//! Bad input: a debhelper-style error that says what and where, a non-zero
//! exit, and nothing written — not into `debian/PACKAGE/`, not into the
//! maintainer-script snippets or substvars — even when other entries or
//! other packages were fine.

use crate::util::Tree;

const CONTROL: &str = "\
Source: rdemo
Build-Depends: debhelper-compat (= 13)

Package: first-run
Architecture: all
Description: x

Package: rdemo-run
Architecture: all
Description: x
";

/// Run with a good package before the bad one and a good entry before the
/// bad line; return stderr.
fn fails(bad_runit: Option<&str>, bad_yaml: Option<&str>, setup: impl Fn(&Tree)) -> String {
    let t = Tree::new(CONTROL);
    t.file("svc/good", "#!/bin/sh\nexec true\n");
    t.file(
        "debian/first-run.runit.yaml",
        "fine:\n  run: [/usr/bin/fine]\n",
    );
    if let Some(lines) = bad_runit {
        t.file(
            "debian/rdemo-run.runit",
            &format!("svc/good name=ok\n{lines}\n"),
        );
    }
    if let Some(yaml) = bad_yaml {
        t.file("debian/rdemo-run.runit.yaml", yaml);
    }
    setup(&t);
    let out = t.dhsb(&[], &[]);
    assert!(!out.ok(), "should fail: {out:?}");
    assert!(
        out.stderr.starts_with("dh_servicebuilder: error: "),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    for p in ["debian/first-run", "debian/rdemo-run"] {
        assert!(!t.exists(p), "{p} was written");
    }
    for f in ["postinst", "prerm", "postrm"] {
        assert!(!t.exists(&format!("debian/first-run.{f}.debhelper")));
        assert!(!t.exists(&format!("debian/rdemo-run.{f}.debhelper")));
    }
    assert!(!t.exists("debian/first-run.substvars"));
    out.stderr
}

#[test]
fn an_unknown_option_is_named() {
    let e = fails(Some("svc/good frob"), None, |_| {});
    assert!(e.contains("unknown option `frob'"), "{e}");
    assert!(e.contains("debian/rdemo-run.runit, entry 2"), "{e}");
}

#[test]
fn an_unknown_onupgrade_value_is_named() {
    let e = fails(Some("svc/good onupgrade=later"), None, |_| {});
    assert!(e.contains("unknown onupgrade string `later'"), "{e}");
}

#[test]
fn a_missing_runscript_path_is_named() {
    let e = fails(Some("svc/missing defaults"), None, |_| {});
    assert!(e.contains("can't read `svc/missing'"), "{e}");
}

#[test]
fn usr_needs_bin() {
    let e = fails(Some("svc/good name=u,usr,noscripts"), None, |_| {});
    assert!(
        e.contains("usr must be used together with bin option"),
        "{e}"
    );
}

#[test]
fn usr_needs_noscripts_in_bookworm_mode() {
    let e = fails(Some("svc/good name=u,usr,bin=/x"), None, |t| {
        t.file(
            "debian/changelog",
            "rdemo (1.0) bookworm; urgency=medium\n\n  * x\n\n -- T <t@example.org>  Mon, 01 Jan 2024 00:00:00 +0000\n",
        );
    });
    assert!(
        e.contains("usr must be used together with noscripts"),
        "{e}"
    );
}

#[test]
fn logscript_refuses_an_existing_log_run() {
    let e = fails(Some("svc/dir logscript"), None, |t| {
        t.file("svc/dir/run", "#!/bin/sh\n");
        t.file("svc/dir/log/run", "#!/bin/sh\n");
    });
    assert!(
        e.contains("logscript option but log/run already exists (in svc/dir/log/run)"),
        "{e}"
    );
}

#[test]
fn an_invalid_service_name_is_refused_in_either_format() {
    for bad in ["name=a'b", "name=.hidden", "name=sp\u{a0}ace"] {
        let e = fails(Some(&format!("svc/good {bad}")), None, |_| {});
        assert!(e.contains("invalid service name"), "{bad}: {e}");
    }
    let e = fails(None, Some("\"a b\":\n  run: [x]\n"), |_| {});
    assert!(e.contains("debian/rdemo-run.runit.yaml:1:"), "{e}");
    assert!(e.contains("invalid service name"), "{e}");
}

#[test]
fn a_yaml_error_has_file_line_and_column() {
    let e = fails(None, Some("web:\n  run: [x]\n  rnu: [y]\n"), |_| {});
    assert!(e.contains("debian/rdemo-run.runit.yaml:3:"), "{e}");
    assert!(e.contains("rnu"), "{e}");
    let e = fails(None, Some("web: [unclosed\n"), |_| {});
    assert!(e.contains("debian/rdemo-run.runit.yaml:"), "{e}");
}

#[test]
fn the_same_service_twice_in_one_package_is_refused() {
    let e = fails(
        Some("svc/good name=web"),
        Some("web:\n  run: [/usr/bin/web]\n"),
        |_| {},
    );
    assert!(
        e.contains("service web of package rdemo-run is declared twice"),
        "{e}"
    );
}

#[test]
fn a_compat_level_is_required() {
    let t = Tree::new("Source: rdemo\n\nPackage: rdemo-run\nArchitecture: all\n");
    let out = t.dhsb(&[], &[]);
    assert!(!out.ok());
    assert_eq!(
        out.stderr,
        "dh_servicebuilder: error: Please specify the compatibility level in debian/compat or via Build-Depends: debhelper-compat (= X)\n"
    );
}

#[test]
fn unknown_options_abort_like_debhelper() {
    let t = Tree::new(CONTROL);
    let out = t.dhsb(&["--frobnicate"], &[]);
    assert!(!out.ok());
    assert_eq!(
        out.stderr,
        "Unknown option: frobnicate\ndh_servicebuilder: error: unknown option or error during option parsing; aborting\n"
    );
    let help = t.dhsb(&["--help"], &[]);
    assert_eq!(help.code, Some(1));
    assert!(
        help.stdout
            .starts_with("Usage: dh_servicebuilder [options]\n")
    );
}
