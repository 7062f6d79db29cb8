//! The operator's daily tool, under a real runsvdir: status as a table, as
//! JSON and as metrics, agreeing with `sv status`; enable and disable the
//! Debian way; the log, followed across a rotation; an activate that waits
//! until the service runs, or says why it did not.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::fixture::{Host, Runsvdir, wait_until};

fn activate(h: &Host, name: &str, yaml: &str, extra: &[&str]) -> std::process::Output {
    let f = h.file(&format!("in/{name}.yaml"), yaml);
    h.cmd_with_finish(env!("CARGO_BIN_EXE_finish-default"))
        .arg("activate")
        .args(extra)
        .arg(name)
        .arg(&f)
        .output()
        .unwrap()
}

fn sv_status(h: &Host, service: &str) -> String {
    let out = Command::new("sv")
        .arg("status")
        .arg(h.runit().join(service))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `run: NAME: (pid N) …` -> N.
fn sv_pid(line: &str) -> Option<u64> {
    let at = line.find("(pid ")? + 5;
    line[at..].split(')').next()?.parse().ok()
}

#[test]
fn activate_waits_until_the_service_runs_and_table_json_and_sv_agree() {
    let h = Host::new();
    std::fs::create_dir_all(h.runit()).unwrap();
    let _runsvdir = Runsvdir::start_as_at_boot(&h.runit());
    // Let runsvdir settle into its five-second wait: only the ALRM that
    // activate sends makes it look before then.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let out = activate(
        &h,
        "two",
        "web: {run: [sleep, '1011'], sleep: 0}\nidle: {run: [sleep, '1012'], sleep: 0, restart: never}\n",
        &[],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("web is up (pid "), "{err}");
    assert!(
        err.contains("idle is supervised; it has a down file"),
        "{err}"
    );
    // Running when activate returned: sv agrees at once.
    let line = sv_status(&h, "web");
    assert!(line.starts_with("run: "), "{line}");

    let json: serde_json::Value =
        serde_json::from_slice(&h.run(&["status", "--format", "json"]).stdout).unwrap();
    let web = json
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["service"] == "web")
        .unwrap();
    assert_eq!(web["pid"].as_u64(), sv_pid(&line));
    assert_eq!(web["state"], "run");
    assert_eq!(web["enabled"], "yes");
    assert_eq!(web["command"], "sleep 1011");
    let idle = json
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["service"] == "idle")
        .unwrap();
    assert_eq!(idle["enabled"], "down-file");
    assert!(sv_status(&h, "idle").starts_with("down: "));

    let table = h.ok(&["status", "--format", "table"]);
    let row: Vec<&str> = table
        .lines()
        .find(|l| l.starts_with("web "))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(row[1], "run");
    assert_eq!(row[2], "up");
    assert_eq!(row[3], "yes");
    assert_eq!(row[4].parse::<u64>().ok(), sv_pid(&line));
    assert!(!table.contains('\x1b'), "no colour when not on a terminal");
}

#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    let h = Host::new();
    activate(&h, "c", "c: {run: [x]}\n", &["--no-wait"]);
    // `script` gives the command a terminal.
    let on_tty = |no_color: bool| {
        let mut cmd = Command::new("script");
        cmd.args(["-qec"])
            .arg(format!(
                "{} -d {} status",
                env!("CARGO_BIN_EXE_servicebuilder"),
                h.runit().display()
            ))
            .arg("/dev/null")
            .env_remove("NO_COLOR");
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        String::from_utf8_lossy(&cmd.output().unwrap().stdout).into_owned()
    };
    let coloured = on_tty(false);
    assert!(
        coloured.contains("SERVICE"),
        "a table on a terminal: {coloured}"
    );
    assert!(coloured.contains('\x1b'), "{coloured:?}");
    let plain = on_tty(true);
    assert!(plain.contains("SERVICE"));
    assert!(!plain.contains('\x1b'), "{plain:?}");
    // Not a terminal: sv's lines, which scripts parse.
    let piped = String::from_utf8_lossy(&h.run(&["status"]).stdout).into_owned();
    assert!(
        piped.starts_with("warning: c: unable to open supervise/ok"),
        "{piped}"
    );
}

#[test]
fn disable_and_enable_round_trip_with_the_dot_link() {
    let h = Host::new();
    std::fs::create_dir_all(h.runit()).unwrap();
    let _runsvdir = Runsvdir::start_as_at_boot(&h.runit());
    let out = activate(&h, "d", "d: {run: [sleep, '1013'], sleep: 0}\n", &[]);
    assert!(out.status.success());
    let out = h.run(&["disable", "d", "--now"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::symlink_metadata(h.runit().join("d")).is_err());
    assert_eq!(
        std::fs::read_link(h.runit().join(".d")).unwrap(),
        h.staging().join("d")
    );
    let json: serde_json::Value =
        serde_json::from_slice(&h.run(&["status", "--json"]).stdout).unwrap();
    assert_eq!(json[0]["service"], "d");
    assert_eq!(json[0]["enabled"], "disabled");
    // A rebuild (what a package upgrade's activation does) keeps it off.
    let out = h.run(&["rebuild"]);
    assert!(out.status.success());
    assert!(
        std::fs::symlink_metadata(h.runit().join("d")).is_err(),
        "rebuild re-enabled a service the admin disabled"
    );
    let out = h.run(&["enable", "d", "--now"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("d is up"), "{err}");
    assert!(std::fs::symlink_metadata(h.runit().join(".d")).is_err());
    assert!(sv_status(&h, "d").starts_with("run: "));
    // Not a runit service: refused.
    let err = h.fails(&["enable", "nosuch"]);
    assert!(err.contains("not a runit service"), "{err}");
}

#[test]
fn a_service_that_does_not_come_up_fails_activate_with_its_last_log_lines() {
    let h = Host::new();
    std::fs::create_dir_all(h.runit()).unwrap();
    let _runsvdir = Runsvdir::start_as_at_boot(&h.runit());
    let out = activate(
        &h,
        "bad",
        "bad: {run: [/bin/sh, -c, 'echo cannot read /etc/bad.conf; exit 1'], sleep: 0, \
         log: [svlogd, -tt], logsleep: 0}\n",
        &["--timeout", "3"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("bad did not come up"), "{err}");
    assert!(err.contains("cannot read /etc/bad.conf"), "{err}");
}

#[test]
fn log_shows_the_last_lines_and_follows_a_rotation() {
    let h = Host::new();
    activate(
        &h,
        "l",
        "l: {run: [x], log: [svlogd, -tt]}\n",
        &["--no-wait"],
    );
    let main = h.staging().join("l/log/main");
    std::fs::write(main.join("@400000006000000000000000.s"), "one\ntwo\n").unwrap();
    std::fs::write(main.join("current"), "three\n").unwrap();
    assert_eq!(h.ok(&["log", "l", "-n", "2"]), "two\nthree\n");
    let mut child = h
        .cmd()
        .args(["log", "l", "-n", "0", "-f"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    append(&main.join("current"), "four\n");
    std::thread::sleep(std::time::Duration::from_millis(500));
    // svlogd's rotation: current becomes an @-file, a new current starts.
    append(&main.join("current"), "five\n");
    std::fs::rename(
        main.join("current"),
        main.join("@400000006100000000000000.s"),
    )
    .unwrap();
    std::fs::write(main.join("current"), "six\n").unwrap();
    let seen = wait_until(5, || {
        std::fs::read_to_string(format!("/proc/{}/stat", child.id())).is_ok()
    });
    assert!(seen);
    std::thread::sleep(std::time::Duration::from_millis(1000));
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let _ = child.wait();
    let mut text = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, "four\nfive\nsix\n");
}

fn append(p: &Path, text: &str) {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(p)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
}

#[test]
fn metrics_count_restarts_across_calls() {
    let h = Host::new();
    std::fs::create_dir_all(h.runit()).unwrap();
    let _runsvdir = Runsvdir::start_as_at_boot(&h.runit());
    let out = activate(&h, "m", "m: {run: [sleep, '1014'], sleep: 0}\n", &[]);
    assert!(out.status.success());
    let state = h.path("metrics.state");
    let metrics = || {
        h.ok(&[
            "status",
            "--format",
            "metrics",
            "--metrics-state",
            state.to_str().unwrap(),
        ])
    };
    let first = metrics();
    assert!(
        first.contains("runit_service_up{service=\"m\"} 1\n"),
        "{first}"
    );
    assert!(first.contains("runit_service_enabled{service=\"m\"} 1\n"));
    assert!(
        first.contains("runit_service_restarts_seen_total{service=\"m\"} 0\n"),
        "{first}"
    );
    h.ok(&["restart", "m"]);
    let second = metrics();
    assert!(
        second.contains("runit_service_restarts_seen_total{service=\"m\"} 1\n"),
        "{second}"
    );
}

#[test]
fn a_template_without_a_log_gets_the_seeds_log_service_as_an_unprivileged_user() {
    use std::os::unix::fs::MetadataExt;
    let h = Host::new();
    std::fs::create_dir_all(h.runit()).unwrap();
    let _runsvdir = Runsvdir::start_as_at_boot(&h.runit());
    let out = activate(
        &h,
        "chat",
        "chat: {run: [/bin/sh, -c, 'while :; do echo said; sleep 0.2; done'], sleep: 0, logsleep: 0}\n\
         quiet: {run: [sleep, '1015'], sleep: 0, host_log: false}\n",
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let current = h.staging().join("chat/log/main/current");
    assert!(wait_until(10, || std::fs::read_to_string(&current)
        .is_ok_and(|t| t.contains("said"))));
    let log_user = nix::unistd::User::from_name("_runit-log").unwrap().unwrap();
    let main = std::fs::metadata(h.staging().join("chat/log/main")).unwrap();
    assert_eq!(main.uid(), log_user.uid.as_raw());
    let json: serde_json::Value =
        serde_json::from_slice(&h.run(&["status", "--json", "chat"]).stdout).unwrap();
    let log_pid = json[0]["log"]["pid"].as_u64().unwrap();
    let status = std::fs::read_to_string(format!("/proc/{log_pid}/status")).unwrap();
    let uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    assert!(
        uid_line.split_whitespace().nth(1) == Some(&log_user.uid.as_raw().to_string()),
        "svlogd runs as _runit-log: {uid_line}"
    );
    assert!(
        !h.staging().join("quiet/log").exists(),
        "host_log: false: no log"
    );
}

#[test]
fn diff_shows_local_edits_and_activate_keeps_an_edited_file_before_replacing_it() {
    let h = Host::new();
    activate(
        &h,
        "e",
        "e: {run: [sleep, '1016'], sleep: 0, host_log: false}\n",
        &["--no-wait"],
    );
    // As activate rendered it: with the same finish helper.
    let diff = |args: &[&str]| {
        h.cmd_with_finish(env!("CARGO_BIN_EXE_finish-default"))
            .arg("diff")
            .args(args)
            .output()
            .unwrap()
    };
    assert!(diff(&[]).status.success(), "nothing edited yet");
    let run = h.staging().join("e/run");
    let edited = std::fs::read_to_string(&run)
        .unwrap()
        .replace("exec sleep 1016", "exec sleep 2016");
    std::fs::write(&run, &edited).unwrap();
    h.file("staging/e/env/EXTRA", "1\n");
    let out = diff(&["e"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("--- e/run (rendered from "), "{text}");
    assert!(
        text.contains("-exec sleep 1016\n+exec sleep 2016\n"),
        "{text}"
    );
    assert!(
        text.contains("Only in the staged directory: e/env\n"),
        "{text}"
    );

    // The template changes: the edited run is kept, then replaced.
    let out = activate(
        &h,
        "e",
        "e: {run: [sleep, '1017'], sleep: 0, host_log: false}\n",
        &["--no-wait"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("e/run was edited by hand"), "{err}");
    assert!(
        std::fs::read_to_string(&run)
            .unwrap()
            .contains("exec sleep 1017")
    );
    let kept: Vec<_> = std::fs::read_dir(h.staging().join(".kept"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(
        std::fs::read_to_string(kept[0].join("run")).unwrap(),
        edited
    );
    // An unedited directory is rewritten without keeping anything.
    let out = activate(
        &h,
        "e",
        "e: {run: [sleep, '1018'], sleep: 0, host_log: false}\n",
        &["--no-wait"],
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("edited by hand"));
    assert_eq!(
        std::fs::read_dir(h.staging().join(".kept"))
            .unwrap()
            .count(),
        1
    );
    // The template edited in the config root (the original's workflow),
    // then rebuilt: the staged files are servicebuilder's own, not edits.
    h.file(
        "config/e.yaml",
        "e: {run: [sleep, '1019'], sleep: 0, host_log: false}\n",
    );
    let out = h
        .cmd_with_finish(env!("CARGO_BIN_EXE_finish-default"))
        .arg("rebuild")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("edited by hand"), "{err}");
    assert!(
        std::fs::read_to_string(&run)
            .unwrap()
            .contains("exec sleep 1019")
    );
}
