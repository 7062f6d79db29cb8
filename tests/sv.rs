//! servicebuilder's runit control against real `runsv`/`runsvdir`, side by
//! side with runit's own `sv`.

mod sv_support;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use servicebuilder::sv::{
    DEFAULT_TIMEOUT, RunitSv, STATUS_DOWN, STATUS_RUN, Service, State, Status, Sv, SvError, Want,
};
use sv_support::*;

const SECOND: Duration = Duration::from_secs(1);

fn root() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("sb-sv-test.")
        .tempdir()
        .unwrap()
}

/// `sv status NAME` with `SVDIR=root`, and `servicebuilder status NAME`.
fn both_status(root: &Path, name: &str) -> (String, String) {
    let sv = run(Command::new("sv")
        .arg("status")
        .arg(name)
        .env("SVDIR", root));
    let ours = run(bin().arg("--runit-root").arg(root).arg("status").arg(name));
    assert!(ours.status.success(), "status failed: {}", stderr(&ours));
    (stdout(&ours), stdout(&sv))
}

fn assert_agrees_with_sv(root: &Path, name: &str, context: &str) -> (Part, Option<Part>) {
    let (ours, theirs) = both_status(root, name);
    let (om, ol) = parse_status_line(&ours);
    let (tm, tl) = parse_status_line(&theirs);
    assert_same_part(&om, &tm, context);
    match (&ol, &tl) {
        (Some(o), Some(t)) => assert_same_part(o, t, &format!("{context} (log)")),
        (None, None) => {}
        _ => panic!("{context}: log part differs: ours {ours:?}, sv's {theirs:?}"),
    }
    (om, ol)
}

fn send(dir: &Path, bytes: &str) {
    fs::write(dir.join("supervise/control"), bytes).unwrap();
}

#[test]
fn a_linked_service_comes_up_under_runsvdir_and_status_matches_sv_in_every_state() {
    let tmp = root();
    let root = tmp.path().join("service");
    let stage = tmp.path().join("sv");
    fs::create_dir_all(&root).unwrap();
    let svc = ServiceDef::new(stage.join("web"), DAEMON).log();
    let _runsvdir = Supervisor::runsvdir(&root);
    std::os::unix::fs::symlink(svc.path(), root.join("web")).unwrap();
    let dir = root.join("web");

    // `start` waits for runsvdir to notice the new link (up to 5 s).
    let out = run(bin()
        .arg("-d")
        .arg(&root)
        .args(["start", "web", "--timeout", "10"]));
    assert!(out.status.success(), "start: {}", stderr(&out));
    assert!(
        stdout(&out).starts_with("ok: run: web: (pid "),
        "{}",
        stdout(&out)
    );
    wait_running(&dir.join("log"));

    let (main, log) = assert_agrees_with_sv(&root, "web", "running");
    assert_eq!((main.state.as_str(), main.flags.len()), ("run", 0));
    assert_eq!(log.unwrap().state, "run");

    send(&dir, "p");
    wait_status(&dir, "paused", |s| s.paused);
    let (main, _) = assert_agrees_with_sv(&root, "web", "paused");
    assert_eq!(main.flags, ["paused"]);
    send(&dir, "c");
    wait_status(&dir, "continued", |s| !s.paused);

    fs::write(dir.join("down"), "").unwrap();
    let (main, _) = assert_agrees_with_sv(&root, "web", "running with a down file");
    assert_eq!(main.flags, ["normally down"]);
    fs::remove_file(dir.join("down")).unwrap();

    send(&dir, "d");
    wait_status(&dir, "down", |s| s.state == State::Down);
    let (main, _) = assert_agrees_with_sv(&root, "web", "down");
    assert_eq!(
        (main.state.as_str(), main.flags.as_slice()),
        ("down", &["normally up".to_owned()][..])
    );

    send(&dir, "o");
    wait_status(&dir, "once", |s| s.pid != 0);
    let (main, _) = assert_agrees_with_sv(&root, "web", "once");
    assert_eq!(main.flags, ["want down"]);

    // By path, as typed.
    let (ours, theirs) = both_status(&root, dir.to_str().unwrap());
    assert_eq!(
        parse_status_line(&ours).0.name,
        parse_status_line(&theirs).0.name
    );
}

#[test]
fn finish_and_got_term_states_match_sv() {
    let tmp = root();
    // run exits at once; finish lingers, so runsv stays in state finish.
    let fin = ServiceDef::new(tmp.path().join("fin"), "exit 3").finish("exec sleep 100000");
    let stub = ServiceDef::new(tmp.path().join("stub"), STUBBORN).down();
    let _a = Supervisor::runsv(fin.path());
    let _b = Supervisor::runsv(stub.path());

    // runsv writes state finish once before finish's pid is known.
    let st = wait_status(fin.path(), "finish", |s| {
        s.state == State::Finish && s.pid != 0
    });
    assert!(pid_alive(st.pid), "in state finish the pid is finish's");
    let (main, _) = assert_agrees_with_sv(tmp.path(), "fin", "finish");
    assert_eq!(main.state, "finish");

    // A down file: runsv leaves it down until told.
    let st = wait_status(stub.path(), "initial status", |_| true);
    assert_eq!((st.state, st.want), (State::Down, Want::Down));
    let (main, _) = assert_agrees_with_sv(tmp.path(), "stub", "normally down, down");
    assert_eq!(main.flags, Vec::<String>::new());
    send(stub.path(), "u");
    wait_ready(stub.path());
    send(stub.path(), "d");
    wait_status(stub.path(), "TERM sent", |s| s.got_term);
    let (main, _) = assert_agrees_with_sv(tmp.path(), "stub", "TERM ignored");
    assert_eq!(main.flags, ["normally down", "want down", "got TERM"]);
}

#[test]
fn stop_brings_the_service_down_within_the_timeout() {
    let tmp = root();
    let svc = ServiceDef::new(tmp.path().join("web"), DAEMON).log();
    let _runsv = Supervisor::runsv(svc.path());
    let before = wait_running(svc.path());

    let t0 = Instant::now();
    let line = RunitSv::default()
        .stop(&Service::at(svc.path()), DEFAULT_TIMEOUT)
        .unwrap();
    // Well under the 7 s timeout: stop returns when runsv reports down,
    // not when the timeout runs out (slack for a loaded CI machine).
    assert!(t0.elapsed() < 3 * SECOND, "took {:?}", t0.elapsed());
    assert_eq!(line, "ok: down: web: 0s, normally up");
    assert!(!pid_alive(before.pid), "the daemon is gone");
    let st = RunitSv::default().stat(&Service::at(svc.path())).unwrap();
    assert_eq!((st.child_status.as_str(), st.child_pid), (STATUS_DOWN, 0));
    assert_eq!(st.log_status, STATUS_RUN, "the logger keeps running");
}

#[test]
fn restart_gives_a_new_process_even_within_the_same_second() {
    let tmp = root();
    let svc = ServiceDef::new(tmp.path().join("web"), DAEMON);
    let _runsv = Supervisor::runsv(svc.path());
    let first = wait_running(svc.path());
    let sv = RunitSv::default();
    let s = Service::at(svc.path());
    sv.restart(&s, DEFAULT_TIMEOUT).unwrap();
    let second = Status::read(svc.path()).unwrap();
    assert_ne!(second.pid, first.pid);
    assert!(!pid_alive(first.pid));
    sv.restart(&s, DEFAULT_TIMEOUT).unwrap();
    let third = Status::read(svc.path()).unwrap();
    assert_ne!(third.pid, second.pid);
    assert_eq!((third.state, third.want), (State::Run, Want::Up));
}

#[test]
fn a_service_that_ignores_term_is_killed_after_the_timeout() {
    let tmp = root();
    let svc = ServiceDef::new(tmp.path().join("stubborn"), STUBBORN);
    let _runsv = Supervisor::runsv(svc.path());
    let before = wait_ready(svc.path());

    let t0 = Instant::now();
    let err = RunitSv::default()
        .stop(&Service::at(svc.path()), SECOND)
        .unwrap_err();
    let took = t0.elapsed();
    assert!(
        matches!(err, SvError::Killed { pid, .. } if pid == before.pid),
        "{err:?}"
    );
    assert!(took >= SECOND && took < 3 * SECOND, "took {took:?}");
    let st = Status::read(svc.path()).unwrap();
    assert_eq!((st.state, st.pid), (State::Down, 0));
    assert!(!pid_alive(before.pid));
}

#[test]
fn the_cli_reports_kill_and_timeout_with_their_exit_codes() {
    let tmp = root();
    ServiceDef::new(tmp.path().join("stubborn"), STUBBORN);
    let _runsv = Supervisor::runsv(&tmp.path().join("stubborn"));
    let before = wait_ready(&tmp.path().join("stubborn"));
    let cli = |args: &[&str]| run(bin().arg("-d").arg(tmp.path()).args(args));

    let out = cli(&["stop", "stubborn", "--timeout", "1", "--no-kill"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("timed out"), "{}", stderr(&out));
    assert!(pid_alive(before.pid), "--no-kill leaves it running");

    let out = cli(&["restart", "stubborn", "--timeout", "1"]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(stderr(&out).contains("was killed"), "{}", stderr(&out));
    let after = wait_ready(&tmp.path().join("stubborn"));
    assert_ne!(after.pid, before.pid, "restarted after the kill");

    let out = cli(&["stop", "stubborn", "-t", "1"]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("ok: down: stubborn: "),
        "{}",
        stdout(&out)
    );
}

#[test]
fn once_runs_a_service_without_restarting_it() {
    let tmp = root();
    let marker = tmp.path().join("ran");
    let svc = ServiceDef::new(
        tmp.path().join("job"),
        &format!("echo x >> {}\nexit 0", marker.display()),
    )
    .down();
    let _runsv = Supervisor::runsv(svc.path());
    wait_status(svc.path(), "runsv up", |_| true);
    RunitSv::default().once(&Service::at(svc.path())).unwrap();
    wait_status(svc.path(), "exited", |s| {
        s.state == State::Down && s.pid == 0
    });
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        fs::read_to_string(&marker).unwrap(),
        "x\n",
        "ran exactly once"
    );
}

#[test]
fn runsv_not_running_and_supervise_ok_missing_are_told_apart() {
    let tmp = root();
    let never = ServiceDef::new(tmp.path().join("never"), DAEMON);
    let gone = ServiceDef::new(tmp.path().join("gone"), DAEMON);
    {
        let _runsv = Supervisor::runsv(gone.path());
        wait_running(gone.path());
    }
    let sv = RunitSv::default();
    assert!(matches!(
        sv.stat(&Service::at(gone.path())),
        Err(SvError::NotRunning { .. })
    ));
    assert!(matches!(
        sv.stat(&Service::at(never.path())),
        Err(SvError::SuperviseOkMissing { .. })
    ));
    // stop does not wait for a runsv to appear.
    let t0 = Instant::now();
    assert!(matches!(
        sv.stop(&Service::at(never.path()), DEFAULT_TIMEOUT),
        Err(SvError::SuperviseOkMissing { .. })
    ));
    assert!(t0.elapsed() < 3 * SECOND, "{:?}", t0.elapsed());
    let quick = RunitSv {
        supervise_ok_timeout: Duration::from_millis(300),
        ..RunitSv::default()
    };
    assert!(matches!(
        quick.start(&Service::at(never.path())),
        Err(SvError::SuperviseOkMissing { .. })
    ));
    assert!(matches!(
        sv.start(&Service::at(gone.path())),
        Err(SvError::NotRunning { .. })
    ));

    // The command line: sv's messages, distinct exit codes.
    let out = run(bin().arg("-d").arg(tmp.path()).args(["status", "gone"]));
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(stdout(&out), "fail: gone: runsv not running\n");
    let out = run(bin().arg("-d").arg(tmp.path()).args(["status", "never"]));
    assert_eq!(out.status.code(), Some(6));
    assert_eq!(
        stdout(&out),
        "warning: never: unable to open supervise/ok: file does not exist\n"
    );
    let sv_out = run(Command::new("sv")
        .args(["status", "never", "gone"])
        .env("SVDIR", tmp.path()));
    let ours = run(bin()
        .arg("-d")
        .arg(tmp.path())
        .args(["status", "never", "gone"]));
    assert_eq!(stdout(&ours), stdout(&sv_out));
}

#[test]
fn status_without_arguments_lists_every_service_sorted_and_json_has_every_field() {
    let tmp = root();
    let b = ServiceDef::new(tmp.path().join("b"), DAEMON).log();
    let a = ServiceDef::new(tmp.path().join("a"), DAEMON).down();
    fs::create_dir(tmp.path().join(".hidden")).unwrap();
    fs::write(tmp.path().join("not-a-dir"), "").unwrap();
    let _rb = Supervisor::runsv(b.path());
    let _ra = Supervisor::runsv(a.path());
    let pb = wait_running(b.path());
    wait_running(&b.path().join("log"));
    wait_status(a.path(), "a supervised", |_| true);

    let out = run(bin().arg("-d").arg(tmp.path()).arg("status"));
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("down: a: "), "{text}");
    assert!(
        lines[1].starts_with(&format!("run: b: (pid {}) ", pb.pid)),
        "{text}"
    );

    let out = run(bin().arg("-d").arg(tmp.path()).args(["status", "--json"]));
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (ja, jb) = (&v[0], &v[1]);
    assert_eq!(ja["service"], "a");
    assert_eq!(ja["state"], "down");
    assert_eq!(ja["pid"], 0);
    assert_eq!(ja["want"], "down");
    assert_eq!(ja["normally_up"], false);
    assert_eq!(ja["log"], serde_json::Value::Null);
    assert_eq!(jb["state"], "run");
    assert_eq!(jb["pid"], pb.pid);
    assert_eq!(jb["want"], "up");
    assert_eq!(jb["paused"], false);
    assert_eq!(jb["got_term"], false);
    assert_eq!(jb["normally_up"], true);
    assert!(jb["seconds"].as_u64().unwrap() <= 5);
    assert_eq!(jb["log"]["state"], "run");
    assert_eq!(jb["path"], b.path().to_str().unwrap());
}

#[test]
fn a_second_stop_does_not_send_term_again_while_one_is_pending() {
    // sv's skip rule: `d` is not re-sent while the TERM flag is set.
    let tmp = root();
    let terms = tmp.path().join("terms");
    let body = format!(
        "trap 'echo term >> {}' TERM\necho $$ > ready\nwhile :; do sleep 0.1; done",
        terms.display()
    );
    let svc = ServiceDef::new(tmp.path().join("counter"), &body);
    let _runsv = Supervisor::runsv(svc.path());
    wait_ready(svc.path());
    let sv = RunitSv {
        kill: false,
        ..RunitSv::default()
    };
    let s = Service::at(svc.path());
    let short = Duration::from_millis(500);
    assert!(matches!(
        sv.stop(&s, short),
        Err(SvError::NotRunningTimeout { .. })
    ));
    assert!(matches!(
        sv.stop(&s, short),
        Err(SvError::NotRunningTimeout { .. })
    ));
    let terms_seen = |want: &str| {
        // The trap runs once the shell's current `sleep 0.1` ends; then
        // nothing more may come.
        wait_until(Duration::from_secs(10), "the TERM handler", || {
            fs::read_to_string(&terms).is_ok_and(|t| t == want)
        });
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(fs::read_to_string(&terms).unwrap(), want);
    };
    terms_seen("term\n");
    // `start` on a want-up service writes nothing either; `restart` always
    // writes.
    sv.start(&s).unwrap();
    sv.restart(&s, SECOND).unwrap_err();
    terms_seen("term\nterm\n");
}

#[test]
fn the_public_api_activates_stats_stops_and_prunes_a_service_under_real_runit() {
    use servicebuilder::template::{Command as Argv, ServiceTemplate};
    use servicebuilder::testing::FakeServiceBuilder;
    use std::collections::BTreeMap;

    let fake = FakeServiceBuilder::new().unwrap();
    let _runsvdir = Supervisor::runsvdir(&fake.runit_root);
    let web = ServiceTemplate {
        run: Some(Argv::argv(["sleep", "100000"])),
        sleep: Some(0),
        ..ServiceTemplate::default()
    };
    let templates = BTreeMap::from([("web".to_owned(), web)]);
    fake.activate("app", &templates).unwrap();

    let sv = RunitSv::default();
    let service = Service::new(&fake.runit_root, "web");
    // runsvdir needs up to 5 s to notice the link: start waits for it.
    sv.start(&service).unwrap();
    let st = sv.stat(&service).unwrap();
    assert_eq!(st.child_status, STATUS_RUN);
    assert!(pid_alive(st.child_pid as u32));
    sv.stop(&service, DEFAULT_TIMEOUT).unwrap();
    assert_eq!(sv.stat(&service).unwrap().child_status, STATUS_DOWN);

    fake.activate("app", &BTreeMap::new()).unwrap();
    fake.prune().unwrap();
    assert!(fs::symlink_metadata(&service.path).is_err(), "link pruned");
    assert!(!fake.staging_root.join("web").exists(), "stage pruned");
}

/// `sv status ARGS` in `dir` and `servicebuilder status ARGS` there: both
/// outputs, and ours's exit code.
fn both_status_in(dir: &Path, root: &Path, args: &[&str]) -> (String, String, Option<i32>) {
    let sv = run(Command::new("sv")
        .arg("status")
        .args(args)
        .current_dir(dir)
        .env("SVDIR", root));
    let ours = run(bin()
        .arg("-d")
        .arg(root)
        .arg("status")
        .args(args)
        .current_dir(dir));
    (stdout(&ours), stdout(&sv), ours.status.code())
}

#[test]
fn odd_service_directories_read_byte_for_byte_as_sv_reads_them() {
    let tmp = root();
    let at = |name: &str| tmp.path().join(name);
    let st = future_status(4242);
    let mut long = st.to_vec();
    long.extend_from_slice(b"junk");
    let _readers = [
        supervise_dir(&at("ok"), Some(&st), true),
        // runsv renames a whole file into place; a short one is not its.
        supervise_dir(&at("short"), Some(&st[..12]), true),
        supervise_dir(&at("empty"), Some(b""), true),
        // sv reads 20 bytes and looks no further.
        supervise_dir(&at("long"), Some(&long), true),
        // runsv opens `ok` before it first writes `status`.
        supervise_dir(&at("nostatus"), None, true),
        supervise_dir(&at("dead"), Some(&st), false),
        supervise_dir(&at("downfile"), Some(&st), true),
        supervise_dir(&at("downlink"), Some(&st), true),
        supervise_dir(&at("withlog"), Some(&st), true),
        supervise_dir(&at("withlog/log"), Some(&st), true),
        supervise_dir(&at("deadlog"), Some(&st), true),
        supervise_dir(&at("deadlog/log"), Some(&st), false),
        supervise_dir(&at("logfile"), Some(&st), true),
        supervise_dir(&at("logdangling"), Some(&st), true),
    ];
    fs::write(at("downfile/down"), "").unwrap();
    // Like runsv, sv follows a `down` link: a dangling one is no down file.
    std::os::unix::fs::symlink("nowhere", at("downlink/down")).unwrap();
    fs::write(at("logfile/log"), "").unwrap();
    std::os::unix::fs::symlink("nowhere", at("logdangling/log")).unwrap();
    fs::write(at("plainfile"), "").unwrap();
    std::os::unix::fs::symlink("nowhere", at("gone")).unwrap();

    let names = [
        "ok",
        "short",
        "empty",
        "long",
        "nostatus",
        "dead",
        "downfile",
        "downlink",
        "withlog",
        "deadlog",
        "logfile",
        "logdangling",
        "plainfile",
        "gone",
        "nonexistent",
    ];
    let args: Vec<String> = names.iter().map(|n| format!("./{n}")).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ours, theirs, code) = both_status_in(tmp.path(), tmp.path(), &args);
    assert_eq!(ours, theirs, "ours, then sv's");
    let expected = "\
run: ./ok: (pid 4242) 0s
warning: ./short: unable to read supervise/status: bad format
warning: ./empty: unable to read supervise/status: bad format
run: ./long: (pid 4242) 0s
warning: ./nostatus: unable to open supervise/status: file does not exist
fail: ./dead: runsv not running
run: ./downfile: (pid 4242) 0s, normally down
run: ./downlink: (pid 4242) 0s
run: ./withlog: (pid 4242) 0s; run: log: (pid 4242) 0s
run: ./deadlog: (pid 4242) 0s; fail: ./deadlog/log: runsv not running
run: ./logfile: (pid 4242) 0s; warning: ./logfile/log: unable to change directory: not a directory
run: ./logdangling: (pid 4242) 0s
fail: ./plainfile: unable to change to service directory: not a directory
fail: ./gone: unable to change to service directory: file does not exist
fail: ./nonexistent: unable to change to service directory: file does not exist
";
    assert_eq!(ours, expected);
    assert_eq!(code, Some(1), "the first failure (short) sets the code");

    // Listed from the runit root: what runsvdir would run (links are
    // followed; plain files and dot-names are skipped) and dangling links,
    // which runsvdir cannot run (sv's `fail:` line), in byte order, each
    // line as sv prints it for that name.
    let svroot = at("service");
    fs::create_dir(&svroot).unwrap();
    let _more = [
        supervise_dir(&svroot.join("b-real-dir"), Some(&st), true),
        supervise_dir(&svroot.join(".hidden"), Some(&st), true),
    ];
    for (link, target) in [
        ("a-link", "ok"),
        ("Z-link", "withlog"),
        ("c-link", "downfile"),
        ("dangling", "nowhere"),
        ("to-a-file", "plainfile"),
    ] {
        std::os::unix::fs::symlink(at(target), svroot.join(link)).unwrap();
    }
    fs::write(svroot.join("plain"), "").unwrap();
    let out = run(bin().arg("-d").arg(&svroot).arg("status"));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let (_, theirs, _) = both_status_in(
        tmp.path(),
        &svroot,
        &["Z-link", "a-link", "b-real-dir", "c-link", "dangling"],
    );
    assert_eq!(stdout(&out), theirs);
    assert_eq!(
        stdout(&out),
        "\
run: Z-link: (pid 4242) 0s; run: log: (pid 4242) 0s
run: a-link: (pid 4242) 0s
run: b-real-dir: (pid 4242) 0s
run: c-link: (pid 4242) 0s, normally down
fail: dangling: unable to change to service directory: file does not exist
"
    );
}

#[test]
fn status_of_thousands_of_services_is_written_in_large_blocks() {
    // 5000 lines of 36 bytes, about 176 KiB: neither one write per line nor
    // the whole text at once. No runsv reads their `ok` (that would take
    // 5000 descriptors), so each line is sv's `fail:` line.
    let tmp = root();
    let st = future_status(7);
    for i in 0..5000 {
        supervise_dir(&tmp.path().join(format!("svc{i:04}")), Some(&st), false);
    }
    let trace = tmp.path().join("trace");
    let out = run(Command::new("strace")
        .args(["-e", "trace=write", "-o"])
        .arg(&trace)
        .arg(env!("CARGO_BIN_EXE_servicebuilder"))
        .arg("-d")
        .arg(tmp.path())
        .arg("status"));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let text = stdout(&out);
    let expected: String = (0..5000)
        .map(|i| format!("fail: svc{i:04}: runsv not running\n"))
        .collect();
    assert!(text == expected, "every service once, in order");
    let writes = fs::read_to_string(&trace)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("write(1,"))
        .count();
    let blocks = text.len().div_ceil(servicebuilder::cli::control::OUT_BLOCK);
    assert!(blocks >= 3);
    assert!(
        (blocks - 1..=blocks + 1).contains(&writes),
        "{writes} writes for {} bytes",
        text.len()
    );
}

#[test]
fn many_services_print_as_one_sv_call_does() {
    // Many runs of services read together; every other one has no runsv,
    // so that lines of both kinds interleave.
    let tmp = root();
    let svroot = tmp.path().join("service");
    let st = future_status(99);
    let names: Vec<String> = (0..600).map(|i| format!("s{i:03}")).collect();
    let _readers: Vec<_> = names
        .iter()
        .enumerate()
        .map(|(i, n)| supervise_dir(&svroot.join(n), Some(&st), i % 2 == 0))
        .collect();
    let out = run(bin().arg("-d").arg(&svroot).arg("status"));
    assert_eq!(
        out.status.code(),
        Some(3),
        "the first failure: runsv not running"
    );
    let args: Vec<&str> = names.iter().map(String::as_str).collect();
    let (_, theirs, _) = both_status_in(tmp.path(), &svroot, &args);
    assert!(stdout(&out) == theirs, "not the same as sv's");
    assert!(theirs.starts_with(
        "run: s000: (pid 99) 0s\nfail: s001: runsv not running\nrun: s002: (pid 99) 0s\n"
    ));
}
