//! The common case costs one exec and no fork: a service without an init
//! script, on a machine whose `/etc/default/runit` is plain assignments and
//! whose `/etc/default/NAME`, if any, holds only assignments and parameter
//! expansions, goes from `./run` straight to `/bin/sh`. Traced with strace.

use crate::sandbox::{NAME, OURS, Release, Sandbox};

/// The process-related system calls of one direct start, one per line.
fn trace(sb: &Sandbox) -> Vec<String> {
    let out = sb.out.join("strace");
    let rc = sb.direct(
        NAME,
        &[
            "strace",
            "-f",
            "-qq",
            "-e",
            "trace=execve,clone,clone3,fork,vfork",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(rc, 0, "{}", sb.output("stdout"));
    sb.output("strace")
        .lines()
        .map(|l| l.split_once(' ').map_or(l, |(_, call)| call).trim_start())
        .filter(|c| !c.contains("resumed>") && !c.starts_with("+++") && !c.starts_with("---"))
        .map(str::to_string)
        .collect()
}

/// The programs the traced calls exec, in order.
fn programs(calls: &[String]) -> Vec<String> {
    calls
        .iter()
        .map(|c| c.split('"').nth(1).unwrap_or(c).to_string())
        .collect()
}

fn service(sb: &Sandbox) {
    sb.service(NAME, OURS, "exec /bin/true\n", "");
    sb.write("etc/default/runit", "VERBOSE=0\nDEBUG=0\n", 0o644);
}

#[test]
fn the_common_case_forks_nothing() {
    let sb = Sandbox::new();
    service(&sb);
    let calls = trace(&sb);
    assert_eq!(
        programs(&calls),
        ["./run", "/bin/sh", "/bin/true"],
        "{calls:#?}"
    );
}

#[test]
fn a_defaults_file_with_parameter_expansions_forks_nothing() {
    let sb = Sandbox::new();
    service(&sb);
    sb.write(
        "etc/default/foo",
        "PORT=8080\nLISTEN=\"127.0.0.1:${PORT:-80}\"\nOPTS=\"--listen $LISTEN /run/${NAME}.pid\"\n",
        0o644,
    );
    let calls = trace(&sb);
    assert_eq!(
        programs(&calls),
        ["./run", "/bin/sh", "/bin/true"],
        "{calls:#?}"
    );
}

#[test]
fn a_defaults_file_that_needs_a_shell_costs_one_spawn() {
    let sb = Sandbox::new();
    service(&sb);
    sb.write("etc/default/foo", "export X=\"$NAME\"\n", 0o644);
    let calls = trace(&sb);
    let forks: Vec<_> = calls.iter().filter(|c| c.starts_with("clone")).collect();
    assert_eq!(forks.len(), 1, "{calls:#?}");
    // posix_spawn: the child shares the parent's memory until it execs
    // (a vfork), instead of copying it (a fork).
    assert!(
        forks[0].contains("CLONE_VM") && forks[0].contains("CLONE_VFORK"),
        "{calls:#?}"
    );
}

/// On trixie and sid the common case stays one exec, no fork, even under
/// a deny-all policy-rc.d (no longer asked at a start) and with a daemon
/// binary named in `.meta/bin` (its `.meta/wtime` is written in-process).
#[test]
fn the_common_case_forks_nothing_on_trixie_and_sid() {
    for release in [Release::Trixie, Release::Sid] {
        let sb = Sandbox::of(release);
        sb.service(NAME, OURS, "exec /bin/true\n", "");
        sb.write("policy-rc.d", "#!/bin/sh\nexit 101\n", 0o755);
        sb.write("etc/sv/foo/.meta/bin", "/bin/true\n", 0o644);
        let calls = trace(&sb);
        assert_eq!(
            programs(&calls),
            ["./run", "/bin/sh", "/bin/true"],
            "{release:?}: {calls:#?}"
        );
        assert!(sb.root.join("etc/sv/foo/.meta/wtime").exists());
    }
}
