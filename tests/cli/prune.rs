//! `prune`: the seed's Prune, restricted to what servicebuilder made.

use crate::fixture::{Host, Runsvdir, wait_until};

#[test]
fn prune_after_emptying_a_template_removes_link_and_stage() {
    let h = Host::new();
    let f = h.file("in/app.yaml", "a: {run: [x]}\nb: {run: [y]}\n");
    h.ok(&["activate", "app", f.to_str().unwrap()]);
    let f = h.file("in/app.yaml", "b: {run: [y]}\n");
    h.ok(&["activate", "app", f.to_str().unwrap()]);
    assert!(
        h.runit().join("a").exists(),
        "activate alone does not prune"
    );
    h.ok(&["prune"]);
    assert!(std::fs::symlink_metadata(h.runit().join("a")).is_err());
    assert!(!h.staging().join("a").exists());
    assert!(h.staging().join("b/run").is_file());
    assert!(h.runit().join("b").exists());
}

#[test]
fn prune_leaves_foreign_entries_alone() {
    let h = Host::new();
    let f = h.file("in/app.yaml", "a: {run: [x]}\n");
    h.ok(&["activate", "app", f.to_str().unwrap()]);
    // Another package's service, an admin's hand-made one in the staging
    // root, and a link to it; a dangling link; Debian's disable dot-link.
    h.file("staging/getty-1/run", "#!/bin/sh\nexec getty 38400 tty1\n");
    h.file("staging/mine/run", "#!/bin/sh\nexec sleep 1\n");
    std::os::unix::fs::symlink(h.staging().join("mine"), h.runit().join("mine")).unwrap();
    std::os::unix::fs::symlink("/etc/sv/getty-1", h.runit().join("getty-1")).unwrap();
    std::os::unix::fs::symlink("/nonexistent", h.runit().join("gone")).unwrap();
    std::os::unix::fs::symlink(h.staging().join("a"), h.runit().join(".a")).unwrap();
    h.file("config/app.yaml", "{}\n");
    let before: Vec<_> = ["mine", "getty-1", "gone", ".a"]
        .iter()
        .map(|n| std::fs::read_link(h.runit().join(n)).unwrap())
        .collect();
    h.ok(&["prune"]);
    let after: Vec<_> = ["mine", "getty-1", "gone", ".a"]
        .iter()
        .map(|n| std::fs::read_link(h.runit().join(n)).unwrap())
        .collect();
    assert_eq!(before, after);
    assert!(h.staging().join("getty-1/run").is_file());
    assert!(h.staging().join("mine/run").is_file());
    assert!(!h.staging().join("a").exists(), "our own service is pruned");
}

#[test]
fn prune_refuses_to_run_when_a_template_cannot_be_read() {
    let h = Host::new();
    let f = h.file("in/app.yaml", "a: {run: [x]}\n");
    h.ok(&["activate", "app", f.to_str().unwrap()]);
    h.file("config/app.yaml", "a: {run: [x]\n");
    let before = h.snapshot();
    let err = h.fails(&["prune"]);
    assert!(err.contains("not pruning"), "{err}");
    assert_eq!(before, h.snapshot());
}

#[test]
fn two_files_declaring_one_service_is_an_error_naming_both() {
    let h = Host::new();
    h.file("config/one.yaml", "a: {run: [x]}\n");
    h.file("config/two.yaml", "a: {run: [y]}\n");
    let err = h.fails(&["prune"]);
    assert!(
        err.contains("one.yaml") && err.contains("two.yaml"),
        "{err}"
    );
}

#[test]
fn services_a_package_declares_are_not_pruned() {
    let fake = servicebuilder::testing::FakeServiceBuilder::new().unwrap();
    let t =
        servicebuilder::template::parse_templates("a: {run: [x]}\n", "p.yaml".as_ref()).unwrap();
    fake.activate("app", &t).unwrap();
    std::fs::remove_file(fake.config_path("app")).unwrap();
    std::fs::write(fake.package_root.join("pkg.yaml"), "a: {run: [x]}\n").unwrap();
    fake.prune().unwrap();
    assert!(fake.runit_root.join("a").exists());
    std::fs::remove_file(fake.package_root.join("pkg.yaml")).unwrap();
    fake.prune().unwrap();
    assert!(std::fs::symlink_metadata(fake.runit_root.join("a")).is_err());
}

/// The runsv running in `dir` (its working directory), from /proc.
fn runsv_in(dir: &std::path::Path) -> Option<i32> {
    let dir = std::fs::canonicalize(dir).ok()?;
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid = e.file_name().to_str()?.parse::<i32>().ok()?;
        let comm = std::fs::read_to_string(e.path().join("comm")).ok()?;
        (comm.trim_end() == "runsv" && std::fs::read_link(e.path().join("cwd")).ok()? == dir)
            .then_some(pid)
    })
}

/// Alive and not yet a zombie waiting for runsvdir to reap it.
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        let rest = &s[s.rfind(')').map_or(0, |i| i + 1)..];
        rest.split_whitespace().next() != Some("Z")
    })
}

/// Kills a service's daemon by pid when the test ends, however it ends.
struct KillOnDrop(i32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.0),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// Starts `yaml`'s only service `name` under a real runsvdir and waits
/// until its daemon has written its pid to `ready` (done after its traps
/// are set, so a TERM cannot beat them); returns runsvdir, runsv's pid and
/// the daemon's.
fn supervised(h: &Host, name: &str, yaml: &str) -> (Runsvdir, i32, KillOnDrop) {
    let f = h.file("in/app.yaml", yaml);
    h.ok(&["activate", "app", f.to_str().unwrap()]);
    let runsvdir = Runsvdir::start(&h.runit(), None);
    let pid_file = h.staging().join(name).join("supervise/pid");
    let ready = h.staging().join(name).join("ready");
    assert!(
        wait_until(15, || std::fs::read_to_string(&pid_file)
            .is_ok_and(
                |p| !p.trim().is_empty() && std::fs::read_to_string(&ready).is_ok_and(|r| r == p)
            )),
        "runsvdir never started {name}, or it never set its traps"
    );
    let daemon: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let runsv = runsv_in(&h.staging().join(name)).expect("no runsv in the staged directory");
    (runsvdir, runsv, KillOnDrop(daemon))
}

#[test]
fn prune_removes_a_staged_directory_only_after_its_runsv_has_exited() {
    let h = Host::new();
    // The daemon takes two seconds to stop, so its runsv outlives the
    // removed link by runsvdir's rescan delay plus two seconds.
    let (_runsvdir, runsv, _daemon) = supervised(
        &h,
        "slow",
        "slow: {run: [/bin/sh, -c, \"trap 'sleep 2; exit 0' TERM; echo $$ > ready; while :; do sleep 0.1; done\"], \
         sleep: 0}\n",
    );
    assert!(alive(runsv));
    h.file("config/app.yaml", "{}\n");
    let started = std::time::Instant::now();
    h.ok(&["prune"]);
    assert!(std::fs::symlink_metadata(h.runit().join("slow")).is_err());
    assert!(
        !h.staging().join("slow").exists(),
        "the directory is removed once runsv is gone"
    );
    assert!(
        !alive(runsv),
        "prune returned, its directory removed, while runsv {runsv} still ran in it"
    );
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(2),
        "prune cannot have waited for a daemon that takes 2 s to stop: {:?}",
        started.elapsed()
    );
}

#[test]
fn a_service_that_ignores_term_is_killed_after_the_wait_and_pruned_in_the_same_run() {
    let h = Host::new();
    let (_runsvdir, runsv, daemon) = supervised(
        &h,
        "stubborn",
        "stubborn: {run: [/bin/sh, -c, \"trap '' TERM; echo $$ > ready; while :; do sleep 0.1; done\"], sleep: 0}\n",
    );
    h.file("config/app.yaml", "{}\n");
    let b = servicebuilder::builder::ServiceBuilder::new(h.config(), h.staging(), h.runit());
    let started = std::time::Instant::now();
    let report = b.prune().unwrap();
    assert!(
        started.elapsed() >= servicebuilder::builder::PRUNE_WAIT,
        "TERM first, and the whole wait, before KILL"
    );
    assert!(report.deferred.is_empty(), "{report:?}");
    assert!(report.errors.is_empty());
    assert!(!alive(daemon.0), "the daemon that ignored TERM was killed");
    assert!(!alive(runsv), "its runsv exited");
    assert!(!h.staging().join("stubborn").exists());
    assert!(std::fs::symlink_metadata(h.runit().join("stubborn")).is_err());
    // Nothing is left for a next prune.
    assert!(b.prune().unwrap().removed.is_empty());
}
