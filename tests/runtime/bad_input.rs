//! Bad input gives a clear message in the log, a start that stops cleanly
//! (exit 162, service down) or goes on without the bad entry, and never a
//! crash.

use crate::sandbox::{NAME, OURS, Sandbox};

const NOBODY: &[&str] = &[
    "setpriv",
    "--reuid=65534",
    "--regid=65534",
    "--clear-groups",
];

fn capturing() -> Sandbox {
    let sb = Sandbox::new();
    sb.capturing_service(OURS);
    sb
}

/// The service was refused with exit 162 before its body ran.
fn assert_refused_with(sb: &Sandbox, log: &str) {
    assert_eq!(sb.output("stdout"), log);
    assert_eq!(sb.output("finish-args"), "162 0\n");
    assert!(!sb.has_output("env"), "the body must not run");
}

#[test]
fn a_directory_as_defaults_file_is_refused() {
    let sb = capturing();
    std::fs::create_dir(sb.root.join("etc/default/foo")).unwrap();
    sb.once(NAME);
    assert_refused_with(
        &sb,
        "invoke-run: error in foo: cannot read /etc/default/foo: Is a directory (os error 21); \
         make it a readable file or remove it\n",
    );
}

#[test]
fn an_unreadable_defaults_file_is_refused() {
    let sb = capturing();
    sb.write("etc/default/foo", "X=secret\n", 0o600);
    let rc = sb.direct(NAME, NOBODY);
    assert_eq!(rc, 162);
    assert_eq!(
        sb.output("stdout"),
        "invoke-run: error in foo: cannot read /etc/default/foo: Permission denied (os error 13); \
         make it a readable file or remove it\n"
    );
    // Not under runsv: the service cannot be taken down, and it says so.
    assert_eq!(
        sb.output("stderr"),
        "invoke-run: warning: cannot take foo down: cannot write to \
         /etc/sv/foo/supervise/control: it does not exist (the service is not supervised by runsv)\n"
    );
}

#[test]
fn a_directory_inside_the_envdir_is_skipped_with_a_warning() {
    let sb = capturing();
    std::fs::create_dir_all(sb.root.join("etc/sv/foo/conf/SUB")).unwrap();
    sb.write("etc/sv/foo/conf/X", "1\n", 0o644);
    sb.once(NAME);
    assert_eq!(
        sb.output("stdout"),
        "invoke-run: warning: /etc/sv/foo/conf/SUB: is a directory, entry ignored; \
         an envdir holds one file per variable\n"
    );
    let env = sb.final_env();
    assert_eq!(env["X"], "1");
    assert!(!env.contains_key("SUB"));
}

#[test]
fn a_dangling_symlink_in_the_envdir_is_refused() {
    let sb = capturing();
    std::fs::create_dir_all(sb.root.join("etc/sv/foo/env")).unwrap();
    std::os::unix::fs::symlink("/nonexistent", sb.root.join("etc/sv/foo/env/BROKEN")).unwrap();
    sb.once(NAME);
    assert_refused_with(
        &sb,
        "invoke-run: error in foo: /etc/sv/foo/env/BROKEN: dangling symlink; \
         point it at a file or remove it\n",
    );
}

#[test]
fn an_unreadable_envdir_file_is_refused() {
    let sb = capturing();
    sb.write("etc/sv/foo/conf/SECRET", "x\n", 0o600);
    std::fs::set_permissions(
        sb.root.join("etc/sv/foo"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let rc = sb.direct(NAME, NOBODY);
    assert_eq!(rc, 162);
    let log = sb.output("stdout");
    assert_eq!(
        log.lines().next().unwrap(),
        "invoke-run: error in foo: /etc/sv/foo/conf/SECRET: cannot open: Permission denied (os error 13)"
    );
}

#[test]
fn a_name_containing_equals_is_skipped_with_a_warning() {
    let sb = capturing();
    sb.write("etc/sv/foo/env/A=B", "value\n", 0o644);
    sb.once(NAME);
    assert_eq!(
        sb.output("stdout"),
        "invoke-run: warning: /etc/sv/foo/env/A=B: a variable name cannot contain '=', \
         entry ignored; rename the file\n"
    );
    let env = sb.final_env();
    assert!(!env.contains_key("A"), "chpst would have set A=B=value");
}

#[test]
fn a_10_mb_envdir_file_costs_only_its_first_line() {
    let sb = capturing();
    let mut big = b"short \n".to_vec();
    big.resize(10 << 20, b'x');
    sb.write("etc/sv/foo/conf/BIG", &big, 0o644);
    sb.once(NAME);
    assert_eq!(sb.output("stdout"), "");
    assert_eq!(sb.final_env()["BIG"], "short");
}

#[test]
fn a_10_mb_line_is_refused_instead_of_failing_exec() {
    let sb = capturing();
    sb.write("etc/sv/foo/conf/BIG", vec![b'x'; 10 << 20], 0o644);
    sb.once(NAME);
    assert_refused_with(
        &sb,
        "invoke-run: error in foo: /etc/sv/foo/conf/BIG: the first line is longer than 131067 bytes, \
         more than an environment variable can hold; shorten it\n",
    );
}

#[test]
fn the_longest_value_execve_accepts_is_passed() {
    let sb = capturing();
    let mut value = vec![b'v'; 131067];
    value.push(b'\n');
    sb.write("etc/sv/foo/conf/BIG", &value, 0o644);
    sb.once(NAME);
    assert_eq!(sb.output("stdout"), "");
    assert_eq!(sb.final_env()["BIG"].len(), 131067);
}

#[test]
fn path_does_not_matter_every_program_is_named_absolutely() {
    let sb = capturing();
    sb.write("etc/default/foo", "X=`echo from-sh`\n", 0o644);
    sb.write("etc/init.d/foo", "#!/bin/sh\nexit 0\n", 0o755);
    sb.once_with_path(NAME, "-");
    assert_eq!(sb.output("stdout"), "");
    let env = sb.final_env();
    assert_eq!(env["X"], "from-sh");
    assert_eq!(env["NAME"], "foo");
}

#[test]
fn a_denied_start_without_path_still_takes_the_service_down() {
    let sb = capturing();
    sb.policy(101);
    sb.once_with_path(NAME, "/nonexistent");
    assert_eq!(sb.output("stdout"), "action denied by policy-rc.d\n");
    assert_eq!(sb.output("finish-args"), "0 0\n");
}

#[test]
fn usage_without_an_argument() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_invoke-run"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(out.stdout, b"");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.starts_with("usage: invoke-run ./run\n"), "{err}");
}

#[test]
fn a_directory_without_an_executable_run_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("run"), "#!/bin/sh\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_invoke-run"))
        .arg("./run")
        .current_dir(dir.path())
        .env("PWD", dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!(
            "invoke-run: error: {}/run does not exist or is not executable\n",
            dir.path().display()
        )
    );
}

#[test]
fn finish_default_usage_without_an_argument() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_finish-default"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .starts_with("usage: finish-default EXITCODE SIGNAL\n")
    );
}

#[test]
fn an_environment_too_large_to_exec_is_a_setup_error_not_a_restart_loop() {
    let sb = capturing();
    // 30 variables of 100,000 bytes: each below the kernel's limit for one
    // string, together above what execve accepts (E2BIG).
    let value = format!("{}\n", "x".repeat(100_000));
    for i in 0..30 {
        sb.write(&format!("etc/sv/foo/conf/BIG{i:02}"), &value, 0o644);
    }
    sb.once(NAME);
    let log = sb.output("stdout");
    assert!(
        log.starts_with(
            "invoke-run: error in foo: cannot execute /bin/sh: the environment is too large ("
        ),
        "{log}"
    );
    assert!(
        log.contains("make the envdir or the defaults file smaller"),
        "{log}"
    );
    assert_eq!(
        sb.output("finish-args"),
        "162 0\n",
        "a permanent error, not 111"
    );
    assert!(!sb.has_output("env"), "the body must not run");
}
