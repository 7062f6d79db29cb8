//! Under a real runsv that wants the service up: the runscript exit codes
//! of invoke-run(8) keep a service down through finish-default, with the
//! message in the log service; anything else is restarted as usual.

use crate::sandbox::{FINISH_DEFAULT, NAME, OURS, Sandbox};

/// A rendered service (our interpreter and finish file, a log service)
/// whose body counts its starts in `out/starts` and then runs `then`.
fn rendered(then: &str) -> Sandbox {
    let sb = Sandbox::new();
    let body = format!("echo start >> {}/starts\n{then}\n", sb.out.display());
    sb.service(NAME, OURS, &body, FINISH_DEFAULT);
    sb.log_service(NAME);
    sb
}

fn starts(sb: &Sandbox) -> usize {
    sb.output("starts").lines().count()
}

fn stays_down_for_five_seconds(code: u32, message: &str) {
    let sb = rendered(&format!("exit {code}"));
    sb.supervise(NAME, 5, "starts");
    assert_eq!(starts(&sb), 1, "exit {code} must not be restarted");
    assert_eq!(sb.output("stat"), "down\n");
    assert_eq!(sb.output("log"), format!("{message}\n"));
}

#[test]
fn exit_161_disabled_by_local_settings_stays_down() {
    stays_down_for_five_seconds(
        161,
        "invoke-run: WARNING for foo: disabled by local settings",
    );
}

#[test]
fn exit_162_configtest_failed_stays_down() {
    stays_down_for_five_seconds(
        162,
        "invoke-run: ERROR 162 in foo: configtest or early setup failed",
    );
}

#[test]
fn exit_170_missing_hard_dependency_stays_down() {
    stays_down_for_five_seconds(
        170,
        "invoke-run: ERROR 170 in foo: a runtime hard dependency is missing",
    );
}

#[test]
fn a_crashing_service_is_restarted() {
    let sb = rendered("exit 1");
    sb.supervise(NAME, 3, "starts");
    // runsv waits one second between quick restarts.
    assert!(starts(&sb) >= 3, "only {} starts in 3 s", starts(&sb));
    assert_eq!(sb.output("log"), "");
}

#[test]
fn a_service_killed_by_a_signal_is_reported_and_restarted() {
    let sb = rendered("kill -KILL $$");
    sb.supervise(NAME, 2, "starts");
    assert!(starts(&sb) >= 2, "only {} starts in 2 s", starts(&sb));
    let log = sb.output("log");
    assert!(
        log.starts_with("invoke-run: ERROR -1 in foo: runscript didn't exit normally\n"),
        "{log}"
    );
}

#[test]
fn a_broken_service_defaults_file_stays_down_with_one_report() {
    let sb = rendered("exit 0");
    sb.policy(0); // marks each start in out/policy-args
    sb.write("etc/default/foo", "X=1\nif then\n", 0o644);
    sb.supervise(NAME, 5, "policy-args");
    assert_eq!(sb.output("policy-args"), "foo start\n", "started once only");
    assert_eq!(starts(&sb), 0, "the body must not run");
    assert_eq!(sb.output("stat"), "down\n");
    assert_eq!(
        sb.output("log"),
        "invoke-run: error in foo: /etc/default/foo failed under /bin/sh (exit status 2); \
         the shell's message, if any, is on stderr; it runs under set -e, so a failing command \
         stops it (a last line like [ -r F ] && . F fails when F is missing); \
         check it with: sh -n /etc/default/foo; sh -ex /etc/default/foo\n\
         invoke-run: ERROR 162 in foo: configtest or early setup failed\n"
    );
    assert!(
        sb.output("stderr").contains("/etc/default/foo"),
        "{}",
        sb.output("stderr")
    );
}

#[test]
fn a_denied_start_stays_down_and_says_so_in_the_log() {
    let sb = rendered("exit 0");
    sb.policy(101);
    sb.supervise(NAME, 3, "policy-args");
    assert_eq!(sb.output("policy-args"), "foo start\n");
    assert_eq!(sb.output("stat"), "down\n");
    assert_eq!(sb.output("log"), "action denied by policy-rc.d\n");
}
