//! The host-side defects an adversarial run found (issue 18), one test
//! each, named after what it pins. Running services are real: runsvdir
//! started as Debian's /etc/runit/2 starts it (no SVDIR), runsv, chpst and
//! svlogd.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::fixture::{Host, Runsvdir, mode, wait_until};

/// A host whose directory others may enter, for daemons and loggers that
/// run as unprivileged users (the temporary directory is 0700).
fn open_host() -> Host {
    let h = Host::new();
    std::fs::set_permissions(h.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    h
}

/// A directory any user may write to.
fn world_writable(h: &Host, rel: &str) -> PathBuf {
    let p = h.path(rel);
    std::fs::create_dir_all(&p).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o1777)).unwrap();
    p
}

fn activate(h: &Host, name: &str, yaml: &str) -> String {
    let f = h.file(&format!("in/{name}.yaml"), yaml);
    let out = h
        .cmd_with_finish(env!("CARGO_BIN_EXE_finish-default"))
        .args(["activate", name])
        .arg(&f)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "activate {name}: {err}");
    err
}

fn status_json(h: &Host, service: &str) -> serde_json::Value {
    let out = h.run(&["status", "--json", service]);
    serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()[0].clone()
}

fn main_pid(h: &Host, service: &str) -> Option<u64> {
    status_json(h, service)["pid"].as_u64().filter(|p| *p != 0)
}

fn log_pid(h: &Host, service: &str) -> Option<u64> {
    status_json(h, service)["log"]["pid"]
        .as_u64()
        .filter(|p| *p != 0)
}

// 1
#[test]
fn the_config_copy_of_a_template_with_secrets_is_as_private_as_the_secret() {
    let h = Host::new();
    activate(
        &h,
        "db",
        "db: {run: [x], env: {DB_PASSWORD: hunter2}, secret_env: true}\n",
    );
    assert_eq!(mode(&h.config().join("db.yaml")), 0o600);
    assert_eq!(mode(&h.staging().join("db/conf")), 0o700);
    // Without secrets the copy stays readable, and it follows the change.
    activate(&h, "db", "db: {run: [x], env: {PORT: '5432'}}\n");
    assert_eq!(mode(&h.config().join("db.yaml")), 0o644);
}

// 2
#[test]
fn a_string_command_with_a_user_runs_wholly_as_that_user() {
    let h = open_host();
    let out = world_writable(&h, "out");
    let test_out = out.join("configtest");
    let run_out = out.join("run");
    activate(
        &h,
        "u",
        &format!(
            "u:\n  user: nobody\n  sleep: 0\n  \
             configtest: \"test -r /etc/hostname && id -un > {}\"\n  \
             run: \"id -un > {}\"\n",
            test_out.display(),
            run_out.display()
        ),
    );
    // The run file, run by sh as runsv would run it (as root).
    let st = Command::new("/bin/sh")
        .arg("run")
        .current_dir(h.staging().join("u"))
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(std::fs::read_to_string(&test_out).unwrap(), "nobody\n");
    assert_eq!(std::fs::read_to_string(&run_out).unwrap(), "nobody\n");
}

// 3
#[test]
fn the_standard_log_gets_its_directory_and_a_chatty_daemon_never_blocks() {
    let h = open_host();
    let done = world_writable(&h, "out").join("done");
    // 3000 lines are far more than a pipe holds without a reader.
    activate(
        &h,
        "chatty",
        &format!(
            "chatty:\n  sleep: 0\n  default_log: true\n  run: [/bin/sh, -c, \
             'i=0; while [ $i -lt 3000 ]; do echo line $i; i=$((i+1)); done; : > {}; exec sleep 1000']\n",
            done.display()
        ),
    );
    let dir = h.path("log/chatty");
    let meta = std::fs::metadata(&dir).expect("the log directory is made at activation");
    assert_eq!(meta.mode() & 0o7777, 0o750);
    let log_user = nix::unistd::User::from_name("_runit-log").unwrap().unwrap();
    assert_eq!(meta.uid(), log_user.uid.as_raw());
    let _runsvdir = Runsvdir::start_as_at_boot(&h.runit());
    assert!(
        wait_until(30, || done.exists()),
        "the daemon blocked writing its log: {:?}",
        status_json(&h, "chatty")
    );
    assert!(wait_until(10, || {
        std::fs::read_to_string(dir.join("current")).is_ok_and(|t| t.contains("line 2999"))
    }));
}

// 4
#[test]
fn depends_finds_the_dependency_in_the_runit_root_it_was_activated_into() {
    let h = Host::new();
    activate(
        &h,
        "both",
        "db: {run: [sleep, '1003'], sleep: 0}\n\
         app: {run: [sleep, '1004'], sleep: 0, depends: [db]}\n",
    );
    let run = std::fs::read_to_string(h.staging().join("app/run")).unwrap();
    let root = h.runit();
    assert!(
        run.contains(&format!("sv start {}/db || exit 170", root.display())),
        "{run}"
    );
    assert!(!run.contains("SVDIR"), "{run}");
    let _runsvdir = Runsvdir::start_as_at_boot(&root);
    assert!(
        wait_until(20, || main_pid(&h, "app").is_some_and(|p| {
            std::fs::read(format!("/proc/{p}/cmdline")).is_ok_and(|c| c == b"sleep\x001004\x00")
        })),
        "app never reached its daemon: {:?}",
        status_json(&h, "app")
    );
}

// 5
#[test]
fn a_refused_activate_changes_nothing_not_even_the_config_root() {
    let h = Host::new();
    h.file("staging/h/run", "#!/bin/sh\nexec sleep 1\n");
    let before = h.snapshot();
    let f = h.file("in/h.yaml", "h: {run: [x]}\n");
    let err = h.fails(&["activate", "h", f.to_str().unwrap()]);
    assert!(err.contains("not made by servicebuilder"), "{err}");
    assert_eq!(before, h.snapshot());
    assert!(!h.config().join("h.yaml").exists());
    // A later refusal of a changed set leaves the earlier set as it was.
    activate(&h, "ok", "ok: {run: [a]}\n");
    let kept = std::fs::read(h.config().join("ok.yaml")).unwrap();
    let f = h.file("in/ok2.yaml", "ok: {run: [b]}\nh: {run: [c]}\n");
    h.fails(&["activate", "ok", f.to_str().unwrap()]);
    assert_eq!(std::fs::read(h.config().join("ok.yaml")).unwrap(), kept);
}

// 6
#[test]
fn relative_roots_give_links_that_resolve() {
    let h = Host::new();
    h.file("in/web.yaml", "web: {run: [x]}\n");
    let st = Command::new(env!("CARGO_BIN_EXE_servicebuilder"))
        .current_dir(h.dir.path())
        .args(["-c", "config", "-s", "staging", "-d", "runit"])
        .args(["activate", "web", "in/web.yaml"])
        .status()
        .unwrap();
    assert!(st.success());
    let target = std::fs::read_link(h.runit().join("web")).unwrap();
    assert!(target.is_absolute(), "{}", target.display());
    assert!(h.runit().join("web/run").is_file(), "the link resolves");
}

// 6
#[test]
fn status_reports_a_dangling_link_and_prune_and_activate_repair_ours() {
    let h = Host::new();
    activate(&h, "web", "web: {run: [x]}\n");
    // What a relative staging root made before: runit/web -> staging/web,
    // resolved from the runit root.
    std::fs::remove_file(h.runit().join("web")).unwrap();
    std::os::unix::fs::symlink("staging/web", h.runit().join("web")).unwrap();
    std::os::unix::fs::symlink("/nonexistent/other", h.runit().join("other")).unwrap();
    let out = h.run(&["status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("fail: web: unable to change to service directory: file does not exist"),
        "{text}"
    );
    assert_ne!(out.status.code(), Some(0));
    h.ok(&["prune"]);
    assert!(std::fs::symlink_metadata(h.runit().join("web")).is_err());
    assert!(
        std::fs::symlink_metadata(h.runit().join("other")).is_ok(),
        "a dangling link servicebuilder did not make stays"
    );
    // A dangling link of ours is replaced by activate, not refused.
    std::os::unix::fs::symlink("staging/web", h.runit().join("web")).unwrap();
    activate(&h, "web", "web: {run: [x]}\n");
    assert!(h.runit().join("web/run").is_file());
}

/// Waits until `service` runs under runsv with the ready file written.
fn wait_running(h: &Host, service: &str) {
    assert!(
        wait_until(20, || main_pid(h, service).is_some()),
        "{service} never ran: {:?}",
        status_json(h, service)
    );
}

// 7
#[test]
fn adding_a_log_to_a_running_service_starts_its_logger_and_removing_it_keeps_its_history() {
    let h = Host::new();
    let yaml = |log: &str| {
        format!(
            "talk:\n  sleep: 0\n{log}  run: [/bin/sh, -c, 'while :; do echo tick; sleep 0.2; done']\n"
        )
    };
    // No log at all (the host's default log service would be one).
    activate(&h, "talk", &yaml("  host_log: false\n"));
    let _runsvdir = Runsvdir::start_as_at_boot(&h.runit());
    wait_running(&h, "talk");
    let err = activate(&h, "talk", &yaml("  log: [svlogd, -tt]\n  logsleep: 0\n"));
    assert!(err.contains("told the runsv of `talk` to exit"), "{err}");
    assert!(
        wait_until(20, || log_pid(&h, "talk").is_some()),
        "the logger never started: {:?}",
        status_json(&h, "talk")
    );
    let current = h.staging().join("talk/log/main/current");
    assert!(wait_until(10, || std::fs::read_to_string(&current)
        .is_ok_and(|t| t.contains("tick"))));

    let err = activate(&h, "talk", &yaml("  host_log: false\n"));
    assert!(err.contains("kept log history"), "{err}");
    assert!(!h.staging().join("talk/log").exists());
    let kept: Vec<PathBuf> = std::fs::read_dir(h.staging().join(".kept"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(
        std::fs::read_to_string(kept[0].join("log/main/current"))
            .unwrap()
            .contains("tick")
    );
    // A new runsv without a logger supervises the service again.
    assert!(wait_until(20, || {
        let st = status_json(&h, "talk");
        st["pid"].as_u64().is_some_and(|p| p != 0) && st["log"].is_null()
    }));
}

// 8
#[test]
fn prune_keeps_log_history_and_files_an_admin_added() {
    let h = Host::new();
    activate(&h, "app", "web: {run: [x], log: [svlogd, -tt]}\n");
    h.file("staging/web/log/main/current", "2026-12-05 a line\n");
    h.file("staging/web/log/main/lock", "");
    h.file("staging/web/env/ADMIN_TOKEN", "s3cret\n");
    h.file("staging/web/check", "#!/bin/sh\nexit 0\n");
    activate(&h, "app", "{}\n");
    let out = h.run(&["prune"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!h.staging().join("web").exists());
    let kept: Vec<PathBuf> = std::fs::read_dir(h.staging().join(".kept"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(kept.len(), 1);
    assert!(err.contains(&kept[0].display().to_string()), "{err}");
    assert!(
        kept[0]
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("web.")
    );
    for (rel, text) in [
        ("log/main/current", "2026-12-05 a line\n"),
        ("env/ADMIN_TOKEN", "s3cret\n"),
        ("check", "#!/bin/sh\nexit 0\n"),
    ] {
        assert_eq!(std::fs::read_to_string(kept[0].join(rel)).unwrap(), text);
    }
    assert!(
        !kept[0].join("run").exists(),
        "what servicebuilder made goes"
    );
    assert_eq!(mode(&h.staging().join(".kept")), 0o700);
}

// 9
#[test]
fn a_staging_root_inside_the_runit_root_is_refused() {
    let h = Host::new();
    let f = h.file("in/w.yaml", "w: {run: [x]}\n");
    let out = Command::new(env!("CARGO_BIN_EXE_servicebuilder"))
        .arg("--config-root")
        .arg(h.config())
        .arg("--staging-root")
        .arg(h.runit().join("stage"))
        .arg("--runit-root")
        .arg(h.runit())
        .args(["activate", "w"])
        .arg(&f)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("inside the runit root"), "{err}");
    assert!(!h.runit().join("stage").exists());
    assert!(!h.config().join("w.yaml").exists());
}

// 10
#[test]
fn a_string_finish_gets_runsvs_two_arguments() {
    let h = Host::new();
    activate(&h, "f", "f: {run: [x], finish: 'echo finished'}\n");
    let out = Command::new("/bin/sh")
        .args(["finish", "0", "15"])
        .current_dir(h.staging().join("f"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "finished 0 15\n");
}

// 11
#[test]
fn stop_of_a_service_whose_runsv_is_exiting_kills_it_and_says_so() {
    let h = Host::new();
    activate(
        &h,
        "stubborn",
        "stubborn: {run: [/bin/sh, -c, \"trap '' TERM; echo $$ > ready; exec sleep 1000\"], sleep: 0, default_finish: false}\n",
    );
    let _runsvdir = Runsvdir::start_as_at_boot(&h.runit());
    let ready = h.staging().join("stubborn/ready");
    assert!(wait_until(20, || ready.exists()));
    let pid: i32 = std::fs::read_to_string(&ready)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // The link goes (as prune removes it): runsvdir TERMs the runsv,
    // which TERMs the service and waits for it to go, for ever.
    std::fs::remove_file(h.runit().join("stubborn")).unwrap();
    let dir = h.staging().join("stubborn");
    let path = dir.to_str().unwrap();
    assert!(
        wait_until(15, || status_json(&h, path)["got_term"] == true),
        "runsvdir never stopped the runsv: {:?}",
        status_json(&h, path)
    );
    let out = h.run(&["stop", path, "-t", "1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(err.contains("was killed"), "{err}");
    assert!(!err.contains("runsv not running"), "{err}");
    assert!(wait_until(5, || !Path::new(&format!("/proc/{pid}")).exists()));
}

// 12
#[test]
fn check_of_two_files_declaring_one_service_is_an_error_naming_both() {
    let h = Host::new();
    let a = h.file("in/a.yaml", "web: {run: [x]}\n");
    let b = h.file("in/b.yaml", "web: {run: [y]}\n");
    let err = h.fails(&["check", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert!(
        err.contains("a.yaml") && err.contains("b.yaml") && err.contains("`web`"),
        "{err}"
    );
}

// 13
#[test]
fn logsleep_applies_to_the_standard_log_too() {
    let h = Host::new();
    activate(&h, "l", "l: {run: [x], default_log: true, logsleep: 3}\n");
    let run = std::fs::read_to_string(h.staging().join("l/log/run")).unwrap();
    assert!(run.starts_with("#!/bin/sh\nsleep 3\nchown "), "{run}");
    activate(&h, "l", "l: {run: [x], default_log: true}\n");
    let run = std::fs::read_to_string(h.staging().join("l/log/run")).unwrap();
    assert!(!run.contains("sleep"), "dh-runit's logscript: {run}");
}

// 13
#[test]
fn enable_false_stages_the_service_without_linking_it() {
    let h = Host::new();
    activate(&h, "e", "e: {run: [x]}\n");
    assert!(h.runit().join("e").exists());
    activate(&h, "e", "e: {run: [x], enable: false}\n");
    assert!(h.staging().join("e/run").is_file());
    assert!(std::fs::symlink_metadata(h.runit().join("e")).is_err());
}

// 13
#[test]
fn a_bare_servicebuilder_without_roots_refuses_and_writes_nothing() {
    // In a private mount namespace with an empty /etc: if it did rebuild,
    // the host's /etc would still be safe.
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "--", "/bin/sh", "-c"])
        .arg("mount -t tmpfs sb-test /etc && \"$0\"; echo \"rc=$?\"; ls -A /etc")
        .arg(env!("CARGO_BIN_EXE_servicebuilder"))
        .env_remove("SERVICEBUILDER_CONFIG_ROOT")
        .env_remove("SERVICEBUILDER_STAGING_ROOT")
        .env_remove("SERVICEBUILDER_RUNIT_ROOT")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stdout, "rc=2\n", "nothing written to /etc; {stderr}");
    assert!(stderr.contains("no subcommand given"), "{stderr}");
}

// 13
#[test]
fn stop_during_a_slow_finish_says_why_it_timed_out() {
    let h = Host::new();
    activate(
        &h,
        "slow",
        "slow: {run: [sleep, '1000'], finish: [/bin/sh, -c, 'sleep 4'], sleep: 0}\n",
    );
    let _runsvdir = Runsvdir::start_as_at_boot(&h.runit());
    wait_running(&h, "slow");
    let out = h.run(&["stop", "slow", "-t", "1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("./finish still runs"), "{err}");
}

// 13
#[test]
fn render_names_each_directory_once() {
    let h = Host::new();
    let f = h.file("in/r.yaml", "svc: {run: [x], log: [svlogd, -tt]}\n");
    let out = h.ok(&["render", f.to_str().unwrap()]);
    assert!(out.contains("==> svc/ (dir 0755)\n"), "{out}");
    assert!(out.contains("==> svc/log/ (dir 0755)\n"), "{out}");
    assert!(!out.contains("//"), "{out}");
}

// issue 12, on the host: runit 2.2's trigger links /etc/sv services that
// have a .meta/bin unless .meta/enable is not `yes`.
#[test]
fn host_services_tell_runits_trigger_to_leave_them_to_servicebuilder() {
    let h = Host::new();
    activate(&h, "t", "t: {run: [/usr/sbin/td, -f], host_log: false}\n");
    assert_eq!(
        std::fs::read_to_string(h.staging().join("t/.meta/bin")).unwrap(),
        "/usr/sbin/td\n"
    );
    assert_eq!(
        std::fs::read_to_string(h.staging().join("t/.meta/enable")).unwrap(),
        "no"
    );
    // Without a .meta/bin the trigger ignores the service: nothing to say.
    activate(&h, "u", "u: {run: 'ud -f', host_log: false}\n");
    assert!(!h.staging().join("u/.meta/enable").exists());
}
