//! `servicebuilder maint postinst|prerm|postrm`, as a package's maintainer
//! scripts call it, against a real runsvdir. Every host path is moved
//! under a temporary directory with `SERVICEBUILDER_MAINT_ROOT`, laid out
//! as Debian's runit lays out the host (`/etc/service ->
//! runit/runsvdir/current -> default`).

mod sv_support;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use servicebuilder::maint::ROOT_ENV;
use servicebuilder::sv::{State, Status, Want};
use sv_support::*;

struct Host {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Host {
    fn new() -> Host {
        let tmp = tempfile::Builder::new()
            .prefix("sb-maint-test.")
            .tempdir()
            .unwrap();
        let root = tmp.path().to_owned();
        for d in [
            "etc/sv",
            "etc/runit/runsvdir/default",
            "etc/servicebuilder.d",
            "run",
            "var/log/runit",
            "usr/share/servicebuilder",
        ] {
            fs::create_dir_all(root.join(d)).unwrap();
        }
        symlink("default", root.join("etc/runit/runsvdir/current")).unwrap();
        symlink("runit/runsvdir/current", root.join("etc/service")).unwrap();
        Host { _tmp: tmp, root }
    }

    fn p(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn svdir(&self, name: &str) -> PathBuf {
        self.p("etc/sv").join(name)
    }

    fn enable_link(&self, name: &str) -> PathBuf {
        self.p("etc/runit/runsvdir/default").join(name)
    }

    /// What unpacking PKG (built by dh_servicebuilder) puts on disk: the
    /// service directory with its marker, the declaration, the log
    /// directory.
    fn unpack(&self, pkg: &str, name: &str, body: &str) {
        let svdir = self.svdir(name);
        ServiceDef::new(&svdir, body).log();
        fs::create_dir_all(svdir.join(".meta")).unwrap();
        fs::write(
            svdir.join(".meta/servicebuilder"),
            format!("package {pkg}\n"),
        )
        .unwrap();
        fs::write(
            self.p("usr/share/servicebuilder")
                .join(format!("{pkg}.yaml")),
            format!("{name}:\n  run: [sleep, '100000']\n"),
        )
        .unwrap();
        fs::create_dir_all(self.p("var/log/runit").join(name)).unwrap();
    }

    /// What dpkg removes before postrm remove: the files that are not
    /// conffiles (/etc/sv stays until purge).
    fn remove_files(&self, pkg: &str) {
        fs::remove_file(
            self.p("usr/share/servicebuilder")
                .join(format!("{pkg}.yaml")),
        )
        .unwrap();
    }

    fn runsvdir(&self) -> Supervisor {
        Supervisor::runsvdir(&self.p("etc/service"))
    }

    /// `servicebuilder maint SCRIPT --name NAME OPTIONS… -- ARGS…`.
    fn maint(&self, script: &str, name: &str, options: &[&str], args: &[&str]) -> Output {
        let out = run(bin()
            .env(ROOT_ENV, &self.root)
            .args(["maint", script, "--name", name])
            .args(options)
            .arg("--")
            .args(args));
        assert!(
            out.status.success(),
            "maint {script} {args:?} failed: {}{}",
            stdout(&out),
            stderr(&out)
        );
        out
    }

    fn status(&self, name: &str) -> Option<Status> {
        Status::read(&self.svdir(name)).ok()
    }

    fn pid(&self, name: &str) -> u32 {
        wait_running(&self.svdir(name)).pid
    }

    /// Installs and configures PKG's service NAME, and waits until it
    /// runs.
    fn install(&self, pkg: &str, name: &str, body: &str, options: &[&str]) -> u32 {
        self.unpack(pkg, name, body);
        let opts: Vec<&str> = [&["--package", pkg][..], options].concat();
        self.maint("postinst", name, &opts, &["configure", ""]);
        self.pid(name)
    }
}

fn is_link_to(link: &Path, target: &Path) -> bool {
    fs::read_link(link).is_ok_and(|t| t == target)
}

#[test]
fn install_enables_the_service_makes_supervise_links_and_starts_it_at_once() {
    let host = Host::new();
    let runsvdir = host.runsvdir();
    host.unpack("foo", "foo", DAEMON);
    // Past its first scans, runsvdir polls every 5 s: only the rescan
    // signal makes it see the new link at once.
    std::thread::sleep(Duration::from_millis(1500));

    let t0 = Instant::now();
    let out = run(bin()
        .env(ROOT_ENV, &host.root)
        .env("SERVICEBUILDER_VERBOSE", "1")
        .args(["maint", "postinst", "--name", "foo"])
        .args([
            "--enable",
            "yes",
            "--onupgrade",
            "restart",
            "--package",
            "foo",
        ])
        .args(["--", "configure", ""]));
    let took = t0.elapsed();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!(
            "servicebuilder: sent ALRM to runsvdir {}\n",
            runsvdir.pid()
        )),
        "{}",
        stdout(&out)
    );

    let svdir = host.svdir("foo");
    assert!(is_link_to(&host.enable_link("foo"), &svdir));
    assert!(is_link_to(
        &svdir.join("supervise"),
        &host.p("run/runit/supervise/foo")
    ));
    assert!(is_link_to(
        &svdir.join("log/supervise"),
        &host.p("run/runit/supervise/foo.log")
    ));
    // The rescan (ALRM to the runsvdir watching the directory) and the
    // start happened before postinst returned.
    let st = host
        .status("foo")
        .expect("supervised when postinst returns");
    assert_eq!((st.state, st.want), (State::Run, Want::Up));
    // runsvdir's own poll would take up to 5 s; the rescan signal makes
    // it at once (slack for a loaded CI machine).
    assert!(took < Duration::from_secs(4), "postinst took {took:?}");
    assert!(
        stdout(&out).starts_with("ok: run: foo: (pid "),
        "{}",
        stdout(&out)
    );
    assert_eq!(stderr(&out), "", "no warnings");
}

#[test]
fn without_a_runsvdir_postinst_only_links_and_does_not_wait() {
    let host = Host::new();
    host.unpack("foo", "foo", DAEMON);
    let t0 = Instant::now();
    let out = host.maint("postinst", "foo", &[], &["configure", ""]);
    // No wait for a supervisor that is not there (slack for a loaded CI
    // machine; a wait would take seconds more).
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    assert!(is_link_to(&host.enable_link("foo"), &host.svdir("foo")));
    assert_eq!((stdout(&out).as_str(), stderr(&out).as_str()), ("", ""));
}

#[test]
fn a_service_disabled_by_the_admin_stays_disabled_on_upgrade() {
    let host = Host::new();
    let _runsvdir = host.runsvdir();
    host.unpack("foo", "foo", DAEMON);
    // Debian's convention: the admin renames the enable link to `.foo`.
    symlink(host.svdir("foo"), host.enable_link(".foo")).unwrap();
    host.maint("postinst", "foo", &[], &["configure", "1.0-1"]);
    assert!(fs::symlink_metadata(host.enable_link("foo")).is_err());
    std::thread::sleep(Duration::from_millis(300));
    assert!(host.status("foo").is_none(), "no runsv supervises it");

    // --enable no never creates the link either.
    host.unpack("bar", "bar", DAEMON);
    host.maint("postinst", "bar", &["--enable", "no"], &["configure", ""]);
    assert!(fs::symlink_metadata(host.enable_link("bar")).is_err());
    assert!(
        host.svdir("bar").join("supervise").is_symlink(),
        "but linked"
    );
}

#[test]
fn upgrade_with_onupgrade_restart_gives_a_new_pid() {
    let host = Host::new();
    let _runsvdir = host.runsvdir();
    let before = host.install("foo", "foo", DAEMON, &[]);
    host.maint("prerm", "foo", &[], &["upgrade", "1.1-1"]);
    assert_eq!(host.status("foo").unwrap().pid, before, "prerm leaves it");
    let out = host.maint("postinst", "foo", &[], &["configure", "1.0-1"]);
    let after = host.status("foo").unwrap();
    assert_eq!(after.state, State::Run);
    assert_ne!(after.pid, before);
    assert!(!pid_alive(before));
    assert!(
        stdout(&out).starts_with("ok: run: foo:"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn upgrade_with_onupgrade_nostop_keeps_the_pid() {
    let host = Host::new();
    let _runsvdir = host.runsvdir();
    let opts = ["--onupgrade", "nostop"];
    let before = host.install("foo", "foo", DAEMON, &opts);
    host.maint("prerm", "foo", &opts, &["upgrade", "1.1-1"]);
    host.maint("postinst", "foo", &opts, &["configure", "1.0-1"]);
    let after = host.status("foo").unwrap();
    assert_eq!((after.state, after.pid), (State::Run, before));
}

#[test]
fn upgrade_with_onupgrade_reload_sends_hup() {
    let host = Host::new();
    let _runsvdir = host.runsvdir();
    let hups = host.p("hups");
    let body = format!(
        "trap 'echo hup >> {}' HUP\necho $$ > ready\nwhile :; do sleep 0.1; done",
        hups.display()
    );
    let opts = ["--onupgrade", "reload"];
    host.install("foo", "foo", &body, &opts);
    let before = wait_ready(&host.svdir("foo")).pid;
    assert!(!hups.exists(), "installing does not reload");
    host.maint("prerm", "foo", &opts, &["upgrade", "1.1-1"]);
    host.maint("postinst", "foo", &opts, &["configure", "1.0-1"]);
    wait_until(Duration::from_secs(5), "the HUP handler", || {
        fs::read_to_string(&hups).is_ok_and(|s| s == "hup\n")
    });
    assert_eq!(
        host.status("foo").unwrap().pid,
        before,
        "reloaded, not restarted"
    );
}

#[test]
fn onupgrade_stop_stops_in_prerm_and_starts_again_in_postinst() {
    let host = Host::new();
    let _runsvdir = host.runsvdir();
    let opts = ["--onupgrade", "stop"];
    let before = host.install("foo", "foo", DAEMON, &opts);
    host.maint("prerm", "foo", &opts, &["upgrade", "1.1-1"]);
    let st = host.status("foo").unwrap();
    assert_eq!((st.state, st.pid, st.want), (State::Down, 0, Want::Down));
    assert!(!pid_alive(before));
    host.maint("postinst", "foo", &opts, &["configure", "1.0-1"]);
    let st = host.status("foo").unwrap();
    assert_eq!((st.state, st.want), (State::Run, Want::Up));
    assert_ne!(st.pid, before);
}

#[test]
fn remove_stops_and_unlinks_the_service_and_leaves_others_alone() {
    let host = Host::new();
    let _runsvdir = host.runsvdir();
    let foo = host.install("a", "foo", DAEMON, &[]);
    let bar = host.install("b", "bar", DAEMON, &[]);
    // An admin's hand-made service, enabled by hand.
    ServiceDef::new(host.svdir("mine"), DAEMON);
    symlink(host.svdir("mine"), host.enable_link("mine")).unwrap();
    let mine = {
        let t0 = Instant::now();
        loop {
            if let Ok(st) = Status::read(&host.svdir("mine"))
                && st.pid != 0
            {
                break st.pid;
            }
            assert!(t0.elapsed() < Duration::from_secs(10), "mine never ran");
            std::thread::sleep(Duration::from_millis(50));
        }
    };

    // A service an older version of package a declared and the upgrade
    // dropped: still linked, declared by nobody.
    ServiceDef::new(host.svdir("old"), DAEMON);
    fs::create_dir_all(host.svdir("old/.meta")).unwrap();
    fs::write(host.svdir("old/.meta/servicebuilder"), "package a\n").unwrap();
    symlink(host.svdir("old"), host.enable_link("old")).unwrap();

    host.maint("prerm", "foo", &["--package", "a"], &["remove"]);
    let st = host.status("foo").unwrap();
    assert_eq!((st.state, st.pid), (State::Down, 0));
    assert!(!pid_alive(foo));

    host.remove_files("a");
    let out = host.maint("postrm", "foo", &["--package", "a"], &["remove"]);
    assert_eq!(stderr(&out), "", "no warnings");
    assert!(fs::symlink_metadata(host.enable_link("foo")).is_err());
    assert!(!host.svdir("foo").join("supervise").exists());
    assert!(!host.svdir("foo").join("log/supervise").exists());
    assert!(!host.p("run/runit/supervise/foo").exists());
    assert!(!host.p("run/runit/supervise/foo.log").exists());
    assert!(
        host.svdir("foo").join("run").exists(),
        "conffiles stay until purge"
    );
    assert!(
        host.p("var/log/runit/foo").is_dir(),
        "logs stay until purge"
    );
    assert!(
        fs::symlink_metadata(host.enable_link("old")).is_err(),
        "pruned: no package declares it"
    );

    for (name, pid) in [("bar", bar), ("mine", mine)] {
        assert!(host.enable_link(name).is_symlink(), "{name} still enabled");
        let st = Status::read(&host.svdir(name)).unwrap();
        assert_eq!((st.state, st.pid), (State::Run, pid), "{name} untouched");
    }
}

#[test]
fn purge_removes_the_log_directory_and_the_admins_disable_link() {
    let host = Host::new();
    let _runsvdir = host.runsvdir();
    host.install("foo", "foo", DAEMON, &[]);
    fs::write(host.p("var/log/runit/foo/current"), "a log line\n").unwrap();
    host.maint("prerm", "foo", &[], &["remove"]);
    host.remove_files("foo");
    host.maint("postrm", "foo", &[], &["remove"]);
    // The admin had disabled it the Debian way before removing.
    symlink(host.svdir("foo"), host.enable_link(".foo")).unwrap();
    // dpkg removes the conffiles before postrm purge.
    fs::remove_dir_all(host.svdir("foo")).unwrap();
    let out = host.maint("postrm", "foo", &[], &["purge"]);
    assert_eq!(stderr(&out), "");
    assert!(!host.p("var/log/runit/foo").exists());
    assert!(fs::symlink_metadata(host.enable_link(".foo")).is_err());
    assert!(fs::symlink_metadata(host.enable_link("foo")).is_err());
}

#[test]
fn maintainer_script_arguments_that_need_no_action_change_nothing() {
    let host = Host::new();
    let _runsvdir = host.runsvdir();
    let pid = host.install("foo", "foo", DAEMON, &[]);
    host.maint("postrm", "foo", &[], &["upgrade", "1.1-1"]);
    host.maint("prerm", "foo", &[], &["deconfigure"]);
    host.maint("postinst", "foo", &[], &["triggered", "x"]);
    assert_eq!(host.status("foo").unwrap().pid, pid);
    assert!(host.enable_link("foo").is_symlink());
}

/// Runs the life cycle of `side_by_side.sh` in a private mount namespace
/// with Debian's runit-helper or with servicebuilder, and returns each
/// snapshot's lines by section.
fn life_cycle(tool: &str) -> Vec<(String, Vec<String>)> {
    let out = run(std::process::Command::new("unshare")
        .args(["-m", "sh", "-c", include_str!("sv_support/side_by_side.sh")])
        .args(["side_by_side", tool, env!("CARGO_BIN_EXE_servicebuilder")]));
    assert!(
        out.status.success(),
        "{tool}: {}{} (the test needs root for unshare -m)",
        stdout(&out),
        stderr(&out)
    );
    let mut sections: Vec<(String, Vec<String>)> = Vec::new();
    for line in stdout(&out).lines() {
        match line.strip_prefix("== ") {
            Some(title) => sections.push((title.to_owned(), Vec::new())),
            None => sections
                .last_mut()
                .unwrap_or_else(|| panic!("{tool}: output before a section: {line}"))
                .1
                .push(line.to_owned()),
        }
    }
    sections
}

#[test]
fn on_the_real_paths_the_files_match_debians_runit_helper_except_where_documented() {
    let debian = life_cycle("debian");
    let ours = life_cycle("ours");
    assert_eq!(
        debian.iter().map(|s| &s.0).collect::<Vec<_>>(),
        [
            "install",
            "upgrade-while-disabled",
            "re-enabled",
            "remove",
            "purge"
        ]
    );
    let mut differences = Vec::new();
    for ((title, d), (_, o)) in debian.iter().zip(&ours) {
        for line in d.iter().filter(|l| !o.contains(l)) {
            differences.push(format!("{title}: only Debian: {line}"));
        }
        for line in o.iter().filter(|l| !d.contains(l)) {
            differences.push(format!("{title}: only ours: {line}"));
        }
    }
    assert_eq!(
        differences,
        [
            // runit-helper removes a supervise link only when its target
            // exists; bar was never started, so its dangling links stay.
            "remove: only Debian: /etc/sv/bar/log/supervise -> /run/runit/supervise/bar.log",
            "remove: only Debian: /etc/sv/bar/supervise -> /run/runit/supervise/bar",
            // runit-helper empties the supervise directories but removes
            // only the links to them; we remove the directories too.
            "remove: only Debian: /run/runit/supervise/foo d",
            "remove: only Debian: /run/runit/supervise/foo.log d",
            "purge: only Debian: /run/runit/supervise/foo d",
            "purge: only Debian: /run/runit/supervise/foo.log d",
        ]
    );
    // And the host was not touched.
    assert!(!Path::new("/etc/sv/foo").exists());
}

#[test]
fn a_normally_down_service_is_supervised_but_not_started() {
    // restart: never in the template writes a `down` file; runit-helper
    // would `sv start` it anyway.
    let host = Host::new();
    let _runsvdir = host.runsvdir();
    host.unpack("job", "job", DAEMON);
    fs::write(host.svdir("job").join("down"), "").unwrap();
    let out = host.maint("postinst", "job", &[], &["configure", ""]);
    let st = host
        .status("job")
        .expect("supervised when postinst returns");
    assert_eq!((st.state, st.pid, st.want), (State::Down, 0, Want::Down));
    assert_eq!(stdout(&out), "");
    // An upgrade with onupgrade=restart leaves it down too.
    host.maint("postinst", "job", &[], &["configure", "1.0-1"]);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(host.status("job").unwrap().state, State::Down);
}

/// Where dpkg says runit-helper 2.16 or later is installed (trixie, sid):
/// policy-rc.d is asked in postinst and prerm, and postinst records the
/// binary's birth time in `.meta/wtime` so that runit's trigger does not
/// restart the service again; purge removes it. With bookworm's 2.15
/// (the same host otherwise) neither happens.
#[test]
fn with_runit_helper_216_policy_rc_d_is_asked_and_the_trigger_is_told() {
    for helper in ["2.16.7", "2.15.2"] {
        let today = helper == "2.16.7";
        let host = Host::new();
        // A dpkg database that dpkg-query reads, as on a real host.
        fs::create_dir_all(host.p("var/lib/dpkg/updates")).unwrap();
        fs::create_dir_all(host.p("var/lib/dpkg/info")).unwrap();
        let stanza = |pkg: &str, arch: &str, version: &str| {
            format!(
                "Package: {pkg}\nStatus: install ok installed\nPriority: optional\n\
                 Section: admin\nMaintainer: Debian <debian@example.org>\n\
                 Architecture: {arch}\nVersion: {version}\nDescription: x\n\n"
            )
        };
        fs::write(
            host.p("var/lib/dpkg/status"),
            stanza("runit", "amd64", "2.3.1-6") + &stanza("runit-helper", "all", helper),
        )
        .unwrap();
        // A real policy layer, as sysadmins and build chroots write it:
        // it logs what it is asked and denies what a file says.
        fs::create_dir_all(host.p("usr/sbin")).unwrap();
        let policy = host.p("usr/sbin/policy-rc.d");
        fs::write(
            &policy,
            format!(
                "#!/bin/sh\necho \"$*\" >> {log}\n[ -e {deny} ] && exit 101\nexit 0\n",
                log = host.p("policy.log").display(),
                deny = host.p("deny").display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&policy, fs::Permissions::from_mode(0o755)).unwrap();
        let asked = || fs::read_to_string(host.p("policy.log")).unwrap_or_default();

        let runsvdir = host.runsvdir();
        // Denied: nothing at all is done.
        fs::write(host.p("deny"), "").unwrap();
        host.unpack("foo", "foo", DAEMON);
        fs::write(host.svdir("foo").join(".meta/bin"), "/bin/sh\n").unwrap();
        let out = host.maint("postinst", "foo", &["--package", "foo"], &["configure", ""]);
        if today {
            assert_eq!(asked(), "foo start\n");
            assert!(
                stdout(&out).contains("foo: policy-rc.d denies the start (exit 101)"),
                "{}",
                stdout(&out)
            );
            assert!(!host.enable_link("foo").exists());
            assert!(fs::symlink_metadata(host.svdir("foo").join("supervise")).is_err());
        } else {
            assert_eq!(asked(), "");
            assert!(is_link_to(&host.enable_link("foo"), &host.svdir("foo")));
        }

        // Allowed: linked, started, and the trigger's wtime recorded.
        fs::remove_file(host.p("deny")).unwrap();
        host.maint("postinst", "foo", &["--package", "foo"], &["configure", ""]);
        let pid = host.pid("foo");
        let wtime = host.svdir("foo").join(".meta/wtime");
        if today {
            let born = std::process::Command::new("stat")
                .args(["-L", "-c", "%W", "/bin/sh"])
                .output()
                .unwrap();
            assert_eq!(fs::read(&wtime).unwrap(), born.stdout, "stat -c %W");
        } else {
            assert!(!wtime.exists());
        }

        // prerm remove asks for the stop; denied, the service keeps running.
        fs::write(host.p("deny"), "").unwrap();
        host.maint("prerm", "foo", &["--package", "foo"], &["remove"]);
        assert_eq!(asked().ends_with("foo stop\n"), today, "{}", asked());
        if today {
            assert_eq!(host.pid("foo"), pid);
        } else {
            assert_eq!(host.status("foo").map(|s| s.state), Some(State::Down));
        }
        fs::remove_file(host.p("deny")).unwrap();
        host.maint("prerm", "foo", &["--package", "foo"], &["remove"]);
        assert_eq!(host.status("foo").map(|s| s.state), Some(State::Down));
        drop(runsvdir);
        host.remove_files("foo");
        host.maint("postrm", "foo", &["--package", "foo"], &["purge"]);
        assert!(!wtime.exists());
    }
}

/// runit-helper's sv_purge: purging a package takes away its services'
/// copies in `/usr/share/runit/sv.now` (the `usr` layout), only those
/// whose `.meta/pkg` names it, with their enable links and supervise
/// files, once runsvdir has let go of them.
#[test]
fn purge_removes_the_usr_layout_copy_of_the_package_and_only_its_own() {
    let host = Host::new();
    let _runsvdir = host.runsvdir();
    let now = host.p("usr/share/runit/sv.now");
    for (name, pkg) in [("mine", "foo"), ("theirs", "bar")] {
        let dir = now.join(name);
        ServiceDef::new(&dir, DAEMON);
        fs::create_dir_all(dir.join(".meta")).unwrap();
        fs::write(dir.join(".meta/pkg"), pkg).unwrap();
    }
    // As runit's trigger links them (through sv.current).
    symlink(
        host.p("usr/share/runit/sv.now"),
        host.p("usr/share/runit/sv.current"),
    )
    .unwrap();
    symlink(
        host.p("usr/share/runit/sv.current/mine"),
        host.enable_link("mine"),
    )
    .unwrap();
    let supervised = wait_running(&now.join("mine")).pid;
    assert!(supervised != 0);
    let out = host.maint("postrm", "mine", &["--package", "foo"], &["purge"]);
    assert_eq!(stderr(&out), "");
    assert!(!now.join("mine").exists(), "{}", stdout(&out));
    assert!(fs::symlink_metadata(host.enable_link("mine")).is_err());
    host.maint("postrm", "theirs", &["--package", "foo"], &["purge"]);
    assert!(
        now.join("theirs/run").exists(),
        "another package's copy stays"
    );
}
