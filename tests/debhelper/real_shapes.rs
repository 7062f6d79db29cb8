//! The debian/*.runit shapes of the real bookworm packages that
//! `tests/debhelper/real-packages` switches to servicebuilder (djbdns,
//! dnsmasq, runit-services, tor, openssh), rebuilt here as small made-up
//! sources so that `cargo test` keeps that evidence without a mirror. Each
//! fixture goes through Debian's `dh_runit` and through
//! `dh_servicebuilder` in two copies of the same tree, and the copies must
//! agree except for the differences dh_servicebuilder(1) documents:
//!
//! * each `/etc/sv/NAME/.meta/servicebuilder` ownership marker and
//!   `usr/share/servicebuilder/PACKAGE.yaml` (ours only);
//! * dh-runit's own finish script calls our finish-default instead;
//! * a runscript naming `/lib/runit/invoke-run` names ours instead;
//! * the presubj text (same place, same condition);
//! * the runtime dependency (servicebuilder instead of runit-helper), and
//!   the runit:* substvars only where debian/control uses them.
//!
//! Not repeated here: every option on one package (legacy.rs), and the
//! `override_dh_runit` target dh stops running once switched (build.rs).

use std::collections::BTreeMap;

use crate::util::{Out, Tree, contents, snippet_calls};

const DH_RUNIT_FINISH: &[u8] = b"#!/bin/sh\nset -e\n\nexec /lib/runit/finish-exec \"$@\"\n";
const OUR_FINISH: &[u8] =
    b"#!/bin/sh\nset -e\n\nexec /usr/lib/servicebuilder/finish-default \"$@\"\n";

/// The two runs on copies of `source`: Debian's, then ours.
struct SideBySide {
    theirs: Tree,
    ours: Tree,
    dh_runit: Out,
    dhsb: Out,
}

fn side_by_side(source: Tree, args: &[&str]) -> SideBySide {
    let ours = source.duplicate();
    // Verbose, as real-packages runs them, for `same_commands`.
    let env = [("DH_VERBOSE", "1")];
    let dh_runit = source.run("dh_runit", args, &env);
    // These are bookworm's shapes, beside bookworm's dh_runit 2.15.2.
    let dhsb = ours.dhsb(
        args,
        &[("DH_VERBOSE", "1"), ("DH_SERVICEBUILDER_DH_RUNIT", "2.15")],
    );
    assert!(dh_runit.ok(), "dh_runit: {dh_runit:?}");
    assert!(dhsb.ok(), "dh_servicebuilder: {dhsb:?}");
    SideBySide {
        theirs: source,
        ours,
        dh_runit,
        dhsb,
    }
}

/// Ours only, by dh_servicebuilder(1): the ownership marker (in the
/// `.meta` directory dh_runit makes too) and the declaration file.
fn ours_only(line: &str) -> bool {
    let path = line.split(' ').next().unwrap();
    let parts: Vec<&str> = path.split('/').collect();
    let marker = matches!(
        parts.as_slice(),
        ["etc", "sv", _, ".meta", "servicebuilder"]
    );
    marker || path.starts_with("usr/share/servicebuilder/")
}

/// Debian's file contents as we document ours to be.
fn documented(path: &str, data: &[u8]) -> Vec<u8> {
    let under_etc_sv = path.starts_with("etc/sv/");
    if under_etc_sv
        && path.ends_with("/run")
        && let Some(ours) = servicebuilder::debhelper::install::retarget_interpreter(data)
    {
        return ours;
    }
    if path.ends_with("/finish") && data == DH_RUNIT_FINISH {
        return OUR_FINISH.to_vec();
    }
    data.to_vec()
}

/// Substvars with the runtime dependency named RUNTIME, and Debian's
/// runit:* lines only where debian/control uses them.
fn substvars(t: &Tree, pkg: &str, control: &str) -> Vec<String> {
    let file = format!("debian/{pkg}.substvars");
    if !t.exists(&file) {
        return Vec::new();
    }
    let mut out: Vec<String> = t
        .read(&file)
        .lines()
        .filter(|l| match l.split_once('=') {
            Some((var @ ("runit:Breaks" | "runit:Conflicts"), _)) => {
                control.contains(&format!("${{{var}}}"))
            }
            _ => true,
        })
        .map(|l| {
            l.replace("runit-helper (>= 2.14.0~)", "RUNTIME")
                .replace("servicebuilder (>= 0.1.0)", "RUNTIME")
        })
        .collect();
    out.sort();
    out
}

impl SideBySide {
    /// The same warnings, word for word.
    fn same_warnings(&self) {
        assert_eq!(
            self.dhsb.stderr,
            self.dh_runit
                .stderr
                .replace("dh_runit", "dh_servicebuilder")
        );
    }

    /// Every command line dh_runit prints, ours prints too, in the same
    /// order; ours prints more (the documented additions). Documented
    /// differences: our snippet names, and dh-runit's finish installed
    /// from its data directory where ours is written. dh_runit rewrites
    /// the substvars once per variable, ours may do it fewer times (it
    /// skips unused runit:* ones), so a repeated line counts once.
    fn same_commands(&self) {
        let commands = |out: &Out| {
            let mut lines: Vec<String> = Vec::new();
            for line in out.stdout.lines().filter(|l| l.starts_with('\t')) {
                if line.contains(".substvars.new ") && lines.last().is_some_and(|l| l == line) {
                    continue;
                }
                lines.push(line.to_string());
            }
            lines
        };
        let theirs = commands(&self.dh_runit);
        let ours = commands(&self.dhsb);
        assert!(!theirs.is_empty(), "{:?}", self.dh_runit);
        let mut rest = ours.iter();
        for line in &theirs {
            let line = line.replace("-runit\" to ", "-servicebuilder\" to ");
            let finish = "\tinstall -p -m0755 /usr/share/dh-runit/data/finish ";
            let found = if let Some(dest) = line.strip_prefix(finish) {
                let want = format!("\t[META] Write generated file {dest} (mode 0755, ");
                rest.any(|l| l.starts_with(&want))
            } else {
                rest.any(|l| *l == line)
            };
            assert!(
                found,
                "dh_servicebuilder -v does not print, in order:\n{line}\n\
                            dh_runit:\n{theirs:#?}\nours:\n{ours:#?}"
            );
        }
    }

    /// Everything dh_runit and dh_servicebuilder leave for `pkg`: the staging
    /// tree (paths, modes, link targets, contents), the maintainer-script
    /// snippets and the substvars, equal modulo the documented differences.
    fn same_package(&self, pkg: &str) {
        let base = format!("debian/{pkg}");
        let theirs = self.theirs.listing(&base);
        let mut ours = self.ours.listing(&base);
        assert!(!theirs.iter().any(|l| ours_only(l)), "{theirs:#?}");
        for line in ours.iter().filter(|l| ours_only(l)) {
            assert!(line.ends_with(" 0644") || line.ends_with(" 0755"), "{line}");
            if line.contains("/.meta/servicebuilder ") {
                let rel = line.split(' ').next().unwrap();
                assert_eq!(
                    self.ours.read(&format!("{base}/{rel}")),
                    format!("package {pkg}\n")
                );
            }
        }
        ours.retain(|l| !ours_only(l));
        assert_eq!(ours, theirs, "staging tree of {pkg}");

        let want: BTreeMap<String, Vec<u8>> = contents(&self.theirs, &base)
            .into_iter()
            .filter(|(p, _)| !p.starts_with("usr/share/bug/"))
            .map(|(p, d)| {
                let d = documented(&p, &d);
                (p, d)
            })
            .collect();
        let mut got = contents(&self.ours, &base);
        got.retain(|p, _| !ours_only(p) && !p.starts_with("usr/share/bug/"));
        assert_eq!(got, want, "contents under {base}");

        for script in ["postinst", "prerm", "postrm"] {
            let file = format!("debian/{pkg}.{script}.debhelper");
            let calls = |t: &Tree| {
                if t.exists(&file) {
                    snippet_calls(&t.read(&file))
                } else {
                    Vec::new()
                }
            };
            assert_eq!(calls(&self.ours), calls(&self.theirs), "{file}");
        }

        let control = self.theirs.read("debian/control");
        assert_eq!(
            substvars(&self.ours, pkg, &control),
            substvars(&self.theirs, pkg, &control),
            "debian/{pkg}.substvars"
        );
    }

    /// The snippet calls dh_runit wrote for `pkg`'s postinst, Debian's side.
    fn postinst_calls(&self, pkg: &str) -> Vec<(String, String, String)> {
        let file = format!("debian/{pkg}.postinst.debhelper");
        if self.theirs.exists(&file) {
            snippet_calls(&self.theirs.read(&file))
        } else {
            Vec::new()
        }
    }
}

fn calls(list: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    list.iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect()
}

/// djbdns 1:1.05-15 (bookworm): five binary packages, each with a service
/// directory as runscript source (`debian/service/NAME`) holding `run`
/// (executable or not), `conf/` files for envdir and a `root/` data
/// directory, options `disable,logscript` in either order. Three of the
/// five here.
#[test]
fn djbdns_service_directories_with_conf_and_root() {
    let mut control = String::from(
        "Source: djbdns\nSection: net\nPriority: optional\nMaintainer: Test <test@example.org>\n\
         Build-Depends: debhelper-compat (= 13), dh-runit (>= 2.8.13)\n",
    );
    for pkg in ["dnscache", "tinydns", "axfrdns"] {
        control.push_str(&format!(
            "\nPackage: {pkg}\nArchitecture: any\nDepends: ${{misc:Depends}}\n\
             Recommends: runit\nBreaks: ${{runit:Breaks}}\nDescription: {pkg} for the test\n \
             A DNS service.\n"
        ));
    }
    let t = Tree::new(&control);
    t.file(
        "debian/dnscache.runit",
        "debian/service/dnscache disable,logscript\n",
    );
    t.file(
        "debian/tinydns.runit",
        "debian/service/tinydns disable,logscript\n",
    );
    t.file(
        "debian/axfrdns.runit",
        "debian/service/axfrdns logscript,disable\n",
    );
    let run = |server: &str| {
        format!("#!/usr/bin/env /lib/runit/invoke-run\nexec 2>&1\nexec envdir ./conf {server}\n")
    };
    // dnscache: run not executable in the source, root/ two levels deep.
    t.file("debian/service/dnscache/run", &run("dnscache"));
    t.file("debian/service/dnscache/conf/IP", "127.0.0.1\n");
    t.file("debian/service/dnscache/conf/CACHESIZE", "1000000\n");
    t.file("debian/service/dnscache/conf/ROOT", "root\n");
    t.file("debian/service/dnscache/root/servers/@", "192.0.2.1\n");
    // tinydns: root/ with a Makefile and executable helpers.
    t.file("debian/service/tinydns/run", &run("tinydns"));
    t.file("debian/service/tinydns/conf/IP", "127.0.0.2\n");
    t.file("debian/service/tinydns/conf/ROOT", "root\n");
    t.file(
        "debian/service/tinydns/root/Makefile",
        "data.cdb: data\n\ttinydns-data\n",
    );
    t.exec_file(
        "debian/service/tinydns/root/add-host",
        "#!/bin/sh\nexec tinydns-edit data data.new add host \"$@\"\n",
    );
    // axfrdns: an executable run and plain files next to it.
    t.exec_file("debian/service/axfrdns/run", &run("axfrdns"));
    t.file("debian/service/axfrdns/conf/IP", "127.0.0.3\n");
    t.file(
        "debian/service/axfrdns/Makefile",
        "tcp.cdb: tcp\n\ttcprules tcp.cdb tcp.tmp < tcp\n",
    );
    t.file("debian/service/axfrdns/tcp", ":deny\n");

    let r = side_by_side(t, &[]);
    r.same_warnings();
    r.same_commands();
    assert_eq!(r.dh_runit.stderr, "");
    for pkg in ["dnscache", "tinydns", "axfrdns"] {
        r.same_package(pkg);
        // The shape itself, on Debian's side: the whole directory under
        // /etc/sv, a log service added, disabled, restarted on upgrade.
        let listing = r.theirs.listing(&format!("debian/{pkg}/etc/sv/{pkg}"));
        for want in ["run 0755", "conf/IP 0644", "log/run 0755"] {
            assert!(listing.contains(&want.to_string()), "{pkg}: {listing:#?}");
        }
        assert_eq!(
            r.postinst_calls(pkg),
            calls(&[(pkg, "no", "restart")]),
            "{pkg}"
        );
    }
    let dnscache = r.theirs.listing("debian/dnscache/etc/sv/dnscache");
    assert!(
        dnscache.contains(&"root/servers/@ 0644".to_string()),
        "{dnscache:#?}"
    );
    let tinydns = r.theirs.listing("debian/tinydns/etc/sv/tinydns");
    assert!(
        tinydns.contains(&"root/add-host 0755".to_string()),
        "{tinydns:#?}"
    );
    assert!(
        tinydns.contains(&"root/Makefile 0644".to_string()),
        "{tinydns:#?}"
    );
    // Each service is declared in its own package.
    for pkg in ["dnscache", "tinydns", "axfrdns"] {
        let yaml = r
            .ours
            .read(&format!("debian/{pkg}/usr/share/servicebuilder/{pkg}.yaml"));
        assert!(yaml.lines().any(|l| l == format!("{pkg}:")), "{yaml}");
    }
}

/// dnsmasq 2.90-4~deb12u2 (bookworm): the runscript source is a directory
/// with its own `finish` (so dh-runit's is not installed), the runscript
/// names `#!/lib/runit/invoke-run` directly (not through env), `presubj`
/// adds a reportbug note, and debian/control uses both `${runit:Breaks}`
/// and `${runit:Conflicts}`.
#[test]
fn dnsmasq_directory_with_own_finish_direct_interpreter_and_presubj() {
    let t = Tree::new(
        "Source: dnsmasq\nSection: net\nPriority: optional\nMaintainer: Test <test@example.org>\n\
         Build-Depends: dh-runit, debhelper-compat (= 13)\n\n\
         Package: dnsmasq\nArchitecture: all\nDepends: ${misc:Depends}\n\
         Breaks: ${runit:Breaks}\nConflicts: resolvconf (<<1.15), ${runit:Conflicts}\n\
         Description: a small DNS forwarder for the test\n A DNS service.\n",
    );
    t.file(
        "debian/dnsmasq.runit",
        "debian/dnsmasq.runscript name=dnsmasq,logscript,presubj\n",
    );
    t.file(
        "debian/dnsmasq.runscript/run",
        "#!/lib/runit/invoke-run\n\nreadonly name=dnsmasq\nexec dnsmasq --keep-in-foreground\n",
    );
    let finish = "#!/bin/sh -eu\n# drop the resolver entry the service added\n\
                  [ -x /sbin/resolvconf ] && /sbin/resolvconf -d lo.dnsmasq || :\n";
    t.file("debian/dnsmasq.runscript/finish", finish);

    let r = side_by_side(t, &[]);
    r.same_warnings();
    r.same_commands();
    r.same_package("dnsmasq");
    assert_eq!(
        r.postinst_calls("dnsmasq"),
        calls(&[("dnsmasq", "yes", "restart")])
    );
    // The package's finish, made executable, on both sides.
    for t in [&r.theirs, &r.ours] {
        assert_eq!(t.read("debian/dnsmasq/etc/sv/dnsmasq/finish"), finish);
        let listing = t.listing("debian/dnsmasq/etc/sv/dnsmasq");
        assert!(listing.contains(&"finish 0755".to_string()), "{listing:#?}");
        assert!(t.exists("debian/dnsmasq/usr/share/bug/dnsmasq/presubj"));
    }
    // Debian's direct form becomes our env form.
    let run = r.ours.read("debian/dnsmasq/etc/sv/dnsmasq/run");
    assert!(
        run.starts_with("#!/usr/bin/env /usr/lib/servicebuilder/invoke-run\n\nreadonly name="),
        "{run}"
    );
    // Both runit:* substvars are kept: debian/control uses them.
    let subst = r.ours.read("debian/dnsmasq.substvars");
    for var in ["runit:Breaks=", "runit:Conflicts="] {
        assert!(subst.lines().any(|l| l.starts_with(var)), "{subst}");
    }
}

/// runit-services 0.5.5~deb12u2 (bookworm): 28 services in one package,
/// all `noscripts,usr,bin=…` (installed under /usr/share/runit/sv for the admin
/// to enable, no maintainer-script snippets), some with
/// `logscript`, `finish`, `disable` or `onupgrade=`; paths with a trailing
/// slash and columns aligned with runs of blanks. Four of them here.
#[test]
fn runit_services_usr_noscripts_with_bin() {
    let t = Tree::new(
        "Source: runit-services\nSection: admin\nPriority: optional\n\
         Maintainer: Test <test@example.org>\n\
         Build-Depends: debhelper-compat (= 13), dh-sequence-runit, dh-runit (>=2.15.2)\n\n\
         Package: runit-services\nArchitecture: all\n\
         Depends: ${shlibs:Depends}, ${misc:Depends},runit (>= 2.1.2-51)\n\
         Breaks: ${runit:Breaks}\nDescription: services for runit, for the test\n \
         Runscripts.\n",
    );
    t.file(
        "debian/runit-services.runit",
        "sv/atd/         noscripts,usr,bin=/usr/bin/at\n\
         sv/dbus        noscripts,usr,logscript,onupgrade=reload,finish,bin=/usr/bin/dbus-daemon\n\
         sv/dbus.dep-fixer   noscripts,usr,onupgrade=nostop,bin=/usr/bin/dbus-daemon\n\
         sv/gdomap/  noscripts,usr,disable,bin=/usr/bin/gdomap\n",
    );
    let invoke = "#!/usr/bin/env /lib/runit/invoke-run\n";
    t.exec_file("sv/atd/run", &format!("{invoke}exec atd -f\n"));
    t.exec_file(
        "sv/dbus/run",
        &format!("{invoke}exec dbus-daemon --system --nofork\n"),
    );
    t.exec_file(
        "sv/dbus/check",
        "#!/bin/sh\nexec test -S /run/dbus/system_bus_socket\n",
    );
    t.exec_file(
        "sv/dbus.dep-fixer/run",
        "#!/bin/sh\nsv check dbus >/dev/null || exit 1\nexec sleep inf\n",
    );
    t.exec_file("sv/gdomap/run", &format!("{invoke}exec gdomap -f\n"));

    let r = side_by_side(t, &[]);
    r.same_warnings();
    r.same_commands();
    r.same_package("runit-services");
    // Nothing under /etc/sv and no snippets: the admin enables them.
    for t in [&r.theirs, &r.ours] {
        assert!(!t.exists("debian/runit-services/etc/sv"));
        for script in ["postinst", "prerm", "postrm"] {
            let file = format!("debian/runit-services.{script}.debhelper");
            assert!(
                !t.exists(&file) || snippet_calls(&t.read(&file)).is_empty(),
                "{file}"
            );
        }
    }
    let listing = r.theirs.listing("debian/runit-services/usr/share/runit/sv");
    for want in [
        "atd/run 0755",
        "dbus/check 0755",
        "dbus/finish 0755",
        // logscript under /usr: an empty log/ and a marker; log/run is
        // made when the admin enables the service.
        "dbus/log/ 0755",
        "dbus/.meta/logscript 0644",
        "dbus.dep-fixer/run 0755",
        "gdomap/run 0755",
    ] {
        assert!(listing.contains(&want.to_string()), "{want}: {listing:#?}");
    }
    // The runscript under /usr keeps Debian's interpreter on both sides.
    assert_eq!(
        r.ours
            .read("debian/runit-services/usr/share/runit/sv/atd/run"),
        format!("{invoke}exec atd -f\n")
    );
}

/// tor 0.4.9.11-0+deb12u1 (bookworm): compat 10 from debian/compat with
/// `debhelper (>= 10)`, one runscript file with `since=` holding a `+`
/// (deprecated: dh_runit's warning, word for word).
#[test]
fn tor_compat_10_and_since_with_a_plus() {
    let t = Tree::new(
        "Source: tor\nSection: net\nPriority: optional\nMaintainer: Test <test@example.org>\n\
         Build-Depends: debhelper (>= 10), dh-runit (>= 2.8.8)\n\n\
         Package: tor\nArchitecture: any\nDepends: ${misc:Depends}\n\
         Breaks: ${runit:Breaks}\nDescription: an onion router for the test\n A relay.\n",
    );
    t.file("debian/compat", "10\n");
    t.file(
        "debian/tor.runit",
        "debian/tor.runscript name=tor,logscript,since=0.3.5.8-1+runit\n",
    );
    t.file(
        "debian/tor.runscript",
        "#!/usr/bin/env /lib/runit/invoke-run\nexec 2>&1\nexec tor --RunAsDaemon 0\n",
    );

    let r = side_by_side(t, &[]);
    r.same_warnings();
    r.same_commands();
    assert!(r.dh_runit.stderr.contains("since"), "{}", r.dh_runit.stderr);
    assert!(
        r.dh_runit.stderr.contains("deprecated"),
        "{}",
        r.dh_runit.stderr
    );
    r.same_package("tor");
    assert_eq!(r.postinst_calls("tor"), calls(&[("tor", "yes", "restart")]));
}

/// openssh 1:9.2p1-2+deb12u10 (bookworm): only openssh-server has a
/// service, named `ssh` by `name=` after another option, from a runscript
/// file whose name has a dot; `since=` holds an epoch. Its
/// `override_dh_runit` target runs `dh_runit -popenssh-server`, so both
/// tools run with that argument here (what dh makes of the target once
/// switched is build.rs's test).
#[test]
fn openssh_server_only_since_with_an_epoch() {
    let t = Tree::new(
        "Source: openssh\nSection: net\nPriority: standard\nMaintainer: Test <test@example.org>\n\
         Build-Depends: debhelper (>= 13.1~), debhelper-compat (= 13), dh-runit (>= 2.8.8)\n\n\
         Package: openssh-client\nArchitecture: any\nDepends: ${misc:Depends}\n\
         Description: ssh client for the test\n A client.\n\n\
         Package: openssh-server\nArchitecture: any\n\
         Depends: ${misc:Depends}, openssh-client\nBreaks: ${runit:Breaks}\n\
         Description: ssh server for the test\n A server.\n",
    );
    t.file(
        "debian/openssh-server.runit",
        "debian/openssh-server.ssh.runscript logscript,name=ssh,since=1:8.0p1-5\n",
    );
    t.file(
        "debian/openssh-server.ssh.runscript",
        "#!/usr/bin/env /lib/runit/invoke-run\nexec /usr/sbin/sshd -D\n",
    );

    let r = side_by_side(t, &["-popenssh-server"]);
    r.same_warnings();
    r.same_commands();
    assert!(
        r.dh_runit.stderr.contains("deprecated"),
        "{}",
        r.dh_runit.stderr
    );
    r.same_package("openssh-server");
    assert_eq!(
        r.postinst_calls("openssh-server"),
        calls(&[("ssh", "yes", "restart")])
    );
    assert!(r.theirs.exists("debian/openssh-server/etc/sv/ssh/log/run"));
    // The client is left alone by both.
    for t in [&r.theirs, &r.ours] {
        assert!(!t.exists("debian/openssh-client"));
        assert!(!t.exists("debian/openssh-client.substvars"));
    }
}
