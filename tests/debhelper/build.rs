//! Real builds: `dpkg-buildpackage -us -uc -b` with this repository's
//! `dh_servicebuilder` first in PATH and its addon on PERL5LIB, then the
//! `.deb`s inspected with `dpkg-deb` and checked with `lintian`. The same
//! source built with Debian's `dh_runit` is the lintian baseline: we may
//! not add any error or warning it does not also cause.

use std::collections::BTreeSet;
use std::path::Path;

use crate::util::{Out, ToolDir, Tree, clean_command};

const CONTROL: &str = "\
Source: rdemo
Section: admin
Priority: optional
Maintainer: Test Maintainer <test@example.org>
Build-Depends: debhelper-compat (= 13)
Standards-Version: 4.6.2
Rules-Requires-Root: no

Package: rdemo-run
Architecture: all
Depends: ${misc:Depends}
Description: runit services of the demo (YAML form)
 Services declared as servicebuilder templates.

Package: rdemo-legacy
Architecture: all
Depends: ${misc:Depends}
Breaks: ${runit:Breaks}
Description: runit services of the demo (dh-runit form)
 Services declared in the dh-runit format.

Package: rdemo-any
Architecture: any
Depends: ${misc:Depends}
Description: runit service of the demo (architecture-specific)
 An architecture-specific package with a service.

Package: rdemo-skip
Architecture: all
Depends: ${misc:Depends}
Description: package of the demo excluded with -N
 Excluded from the service tool in an override target.

Package: rdemo-udeb
Architecture: all
Package-Type: udeb
Section: debian-installer
Description: installer package of the demo
";

const RUN_YAML: &str = "\
web:
  run: [/usr/bin/python3, -m, http.server, \"8080\"]
  default_log: true
  user: www-data
worker:
  run: \"/usr/bin/worker --queue default\"
  enable: false
  onupgrade: stop
  env: {QUEUE: default}
  restart: never
";

const ANY_YAML: &str = "anysvc:\n  run: [/usr/bin/anysvc]\n  onupgrade: reload\n";

fn source(tool: &str) -> Tree {
    let t = Tree::buildable(
        CONTROL,
        &format!("--with {tool}\n\noverride_dh_{tool}:\n\tdh_{tool} -Nrdemo-skip"),
    );
    t.file("debian/rdemo-run.runit.yaml", RUN_YAML);
    t.file("debian/rdemo-any.runit.yaml", ANY_YAML);
    t.file("debian/rdemo-skip.runit.yaml", ANY_YAML);
    t.file("debian/rdemo-udeb.runit.yaml", ANY_YAML);
    t.file(
        "debian/rdemo-legacy.runit",
        "svc/legacy logscript,finish\nsvc/full defaults\n",
    );
    t.file("svc/legacy", "#!/bin/sh\nexec 2>&1\nexec sleep 1000\n");
    t.file(
        "svc/full/run",
        "#!/usr/bin/env /lib/runit/invoke-run\nexec sleep 1000\n",
    );
    t.file("svc/full/log/run", "#!/bin/sh\nexec svlogd -tt ./main\n");
    std::os::unix::fs::symlink("/run/runit/supervise/full", t.path("svc/full/supervise")).unwrap();
    t
}

fn build(t: &Tree, tools: &ToolDir, extra: &[&str]) -> Out {
    let mut c = clean_command("dpkg-buildpackage");
    c.args(["-us", "-uc", "-b"])
        .args(extra)
        .current_dir(t.root());
    for (k, v) in tools.env() {
        c.env(k, v);
    }
    let out: Out = c.output().unwrap().into();
    assert!(
        out.ok(),
        "dpkg-buildpackage failed:\n{}\n{}",
        out.stdout,
        out.stderr
    );
    out
}

fn deb(t: &Tree, name: &str) -> String {
    let arch = if name == "rdemo-any" {
        String::from_utf8(
            std::process::Command::new("dpkg")
                .arg("--print-architecture")
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap()
        .trim()
        .to_string()
    } else {
        "all".into()
    };
    t.outside()
        .join(format!("{name}_1.0_{arch}.deb"))
        .display()
        .to_string()
}

fn dpkg_deb(args: &[&str]) -> String {
    let out: Out = clean_command("dpkg-deb")
        .args(args)
        .output()
        .unwrap()
        .into();
    assert!(out.ok(), "dpkg-deb {args:?}: {}", out.stderr);
    out.stdout
}

/// `MODE PATH [-> TARGET]` for each entry of the package.
fn contents(deb: &str) -> Vec<String> {
    dpkg_deb(&["-c", deb])
        .lines()
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let mode = w[0];
            let rest = w[5..].join(" ");
            format!("{mode} {}", rest.trim_start_matches('.'))
        })
        .collect()
}

fn control_file(deb: &str, name: &str) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    dpkg_deb(&["-e", deb, dir.path().to_str().unwrap()]);
    std::fs::read_to_string(dir.path().join(name)).ok()
}

fn lintian_tags(deb: &str) -> BTreeSet<String> {
    let out: Out = clean_command("lintian").arg(deb).output().unwrap().into();
    out.stdout
        .lines()
        .filter(|l| l.starts_with("E: ") || l.starts_with("W: "))
        .map(str::to_string)
        .collect()
}

#[test]
fn packages_built_with_dpkg_buildpackage_ship_complete_services() {
    let tools = ToolDir::new();
    let t = source("servicebuilder");
    build(&t, &tools, &[]);

    // YAML form, arch all.
    let run = deb(&t, "rdemo-run");
    let c = contents(&run);
    for want in [
        "drwxr-xr-x /etc/runit/runsvdir/default/",
        "-rwxr-xr-x /etc/sv/web/run",
        "-rwxr-xr-x /etc/sv/web/finish",
        "-rwxr-xr-x /etc/sv/web/log/run",
        "-rw-r--r-- /etc/sv/web/.meta/installed",
        "-rw-r--r-- /etc/sv/web/.meta/servicebuilder",
        "-rw-r--r-- /etc/sv/web/.meta/bin",
        "-rw-r--r-- /etc/sv/worker/down",
        "-rw-r--r-- /etc/sv/worker/conf/QUEUE",
        "-rw-r--r-- /usr/share/runit/meta/web/installed",
        "-rw-r--r-- /usr/share/servicebuilder/rdemo-run.yaml",
        "drwxr-xr-x /var/log/runit/web/",
    ] {
        assert!(c.iter().any(|l| l == want), "{want} not in {c:#?}");
    }
    assert!(!c.iter().any(|l| l.contains("/var/log/runit/worker")));
    let conffiles = control_file(&run, "conffiles").unwrap();
    for f in [
        "/etc/sv/web/run",
        "/etc/sv/web/log/run",
        "/etc/sv/worker/conf/QUEUE",
        "/etc/sv/web/.meta/installed",
    ] {
        assert!(
            conffiles.lines().any(|l| l == f),
            "{f} not a conffile:\n{conffiles}"
        );
    }
    let postinst = control_file(&run, "postinst").unwrap();
    assert!(
        postinst
            .starts_with("#!/bin/sh\nset -e\n# Automatically added by dh_servicebuilder/0.1.0\n"),
        "{postinst}"
    );
    let calls = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.contains("/usr/bin/servicebuilder maint"))
            .map(|l| l.trim().to_string())
            .collect()
    };
    assert_eq!(
        calls(&postinst),
        [
            "/usr/bin/servicebuilder maint postinst --name 'web' --enable yes --onupgrade restart --package 'rdemo-run' -- \"$@\"",
            "/usr/bin/servicebuilder maint postinst --name 'worker' --enable no --onupgrade stop --package 'rdemo-run' -- \"$@\"",
        ]
    );
    let prerm = control_file(&run, "prerm").unwrap();
    assert!(calls(&prerm)[0].contains("'worker'") && calls(&prerm)[1].contains("'web'"));
    let postrm = control_file(&run, "postrm").unwrap();
    assert!(
        postrm.contains("if [ -z \"${DPKG_ROOT:-}\" ] && [ -x /usr/bin/servicebuilder ]; then\n")
    );
    let fields = dpkg_deb(&["-f", &run]);
    assert!(
        fields.contains("\nDepends: servicebuilder (>= 0.1.0)\n"),
        "{fields}"
    );

    // dh-runit form: the directory's symlink and the generated log/run.
    let legacy = deb(&t, "rdemo-legacy");
    let c = contents(&legacy);
    for want in [
        "lrwxrwxrwx /etc/sv/full/supervise -> /run/runit/supervise/full",
        "-rwxr-xr-x /etc/sv/full/run",
        "-rwxr-xr-x /etc/sv/full/log/run",
        "-rwxr-xr-x /etc/sv/legacy/log/run",
        "-rwxr-xr-x /etc/sv/legacy/finish",
        "drwxr-xr-x /var/log/runit/legacy/",
    ] {
        assert!(c.iter().any(|l| l == want), "{want} not in {c:#?}");
    }
    let fields = dpkg_deb(&["-f", &legacy]);
    assert!(
        fields.contains("\nBreaks: runit (<< 2.1.2-51~)\n"),
        "{fields}"
    );

    // Arch any.
    let c = contents(&deb(&t, "rdemo-any"));
    assert!(
        c.iter()
            .any(|l| l == "-rw-r--r-- /etc/sv/anysvc/.meta/noreplace"),
        "{c:#?}"
    );

    // -N in the override and the udeb: no services, no snippets.
    let skip = deb(&t, "rdemo-skip");
    assert!(!contents(&skip).iter().any(|l| l.contains("/etc/sv")));
    assert_eq!(control_file(&skip, "postinst"), None);
    let udeb = t.outside().join("rdemo-udeb_1.0_all.udeb");
    assert!(
        !contents(udeb.to_str().unwrap())
            .iter()
            .any(|l| l.contains("/etc/sv"))
    );

    // lintian: nothing dh_runit's build of the same source does not have.
    let reference = source("runit");
    build(&reference, &tools, &[]);
    for name in ["rdemo-run", "rdemo-legacy", "rdemo-any", "rdemo-skip"] {
        let ours = lintian_tags(&deb(&t, name));
        let theirs = lintian_tags(&deb(&reference, name));
        let extra: Vec<_> = ours.difference(&theirs).collect();
        assert!(
            extra.is_empty(),
            "{name}: lintian tags dh_runit does not cause: {extra:?}"
        );
    }
    // The YAML packages are lintian-clean outright.
    assert_eq!(lintian_tags(&run), BTreeSet::new());
}

#[test]
fn a_build_dependency_on_dh_sequence_servicebuilder_activates_the_addon() {
    let tools = ToolDir::new();
    let control = CONTROL.replace(
        "Build-Depends: debhelper-compat (= 13)",
        "Build-Depends: debhelper-compat (= 13), dh-sequence-servicebuilder",
    );
    let t = Tree::buildable(&control, "");
    t.file("debian/rdemo-run.runit.yaml", RUN_YAML);
    // -d: nothing on this machine provides dh-sequence-servicebuilder yet.
    build(&t, &tools, &["-d"]);
    let c = contents(&deb(&t, "rdemo-run"));
    assert!(
        c.iter().any(|l| l == "-rwxr-xr-x /etc/sv/web/run"),
        "{c:#?}"
    );
    assert!(Path::new(&deb(&t, "rdemo-legacy")).exists());
}

#[test]
fn dh_names_dh_runit_targets_that_no_longer_run_after_the_switch() {
    let tools = ToolDir::new();
    let control = "\
Source: rdemo
Section: admin
Priority: optional
Maintainer: Test Maintainer <test@example.org>
Build-Depends: debhelper-compat (= 13)

Package: rdemo-run
Architecture: all
Depends: ${misc:Depends}
Description: runit services of the demo
 A package switched from dh-runit that kept its override.
";
    // As openssh-server's debian/rules (bookworm) has it: after switching
    // the addon, dh would skip this target without a word.
    let hooks =
        "\n\noverride_dh_runit:\n\tdh_runit -prdemo-run\n\nexecute_after_dh_runit:\n\ttrue\n";
    let t = Tree::buildable(control, &format!("--with servicebuilder{hooks}"));
    t.file("debian/rdemo-run.runit", "svc/demo\n");
    t.file("svc/demo", "#!/bin/sh\nexec sleep 1000\n");
    let out = build(&t, &tools, &[]);
    for target in ["override_dh_runit", "execute_after_dh_runit"] {
        assert!(
            out.stderr.contains(&format!(
                "dh: warning: The target {target} references a now obsolete command and will not be run!"
            )),
            "{}",
            out.stderr
        );
    }
    // dh_servicebuilder ran in its place.
    assert!(
        contents(&deb(&t, "rdemo-run"))
            .iter()
            .any(|l| l == "-rwxr-xr-x /etc/sv/demo/run")
    );

    // Both addons at once would install every service twice: dh refuses.
    let both = Tree::buildable(control, "--with servicebuilder,runit");
    both.file("debian/rdemo-run.runit", "svc/demo\n");
    both.file("svc/demo", "#!/bin/sh\nexec sleep 1000\n");
    let mut c = clean_command("dpkg-buildpackage");
    c.args(["-us", "-uc", "-b"]).current_dir(both.root());
    for (k, v) in tools.env() {
        c.env(k, v);
    }
    let out: Out = c.output().unwrap().into();
    assert!(!out.ok());
    assert!(
        out.stderr
            .contains("claimed that dh_runit was obsolete, but it is not!?"),
        "{}",
        out.stderr
    );
}
