//! The same service directory, started once under Debian's
//! `/lib/runit/invoke-run` and once under ours, by a real runsv: the final
//! program must see the same argv, environment and signal dispositions, and
//! the log the same messages, except for the differences listed in
//! invoke-run(8), which are asserted here one by one.

use std::collections::BTreeMap;

use crate::sandbox::{DEBIAN, NAME, OURS, OURS_VIA_ENV, Release, Sandbox};

/// Everything observable about one start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    /// The log: what went to runsv's stdout (there is no log service).
    pub stdout: String,
    pub stderr: String,
    /// `$0 "$@"` of the run script body, one per line.
    pub argv: String,
    /// SigIgn / SigBlk of the body's shell.
    pub signals: String,
    /// The final program's environment.
    pub env: BTreeMap<String, String>,
    /// What policy-rc.d and the init script were called with.
    pub policy_args: String,
    pub initd_args: String,
    /// SigIgn / SigBlk as a child of policy-rc.d and of the init script
    /// inherits them.
    pub helper_signals: String,
    /// "CODE SIGNAL" as runsv passed them to ./finish.
    pub finish_args: String,
    /// `.meta/wtime` after the start (runit 2.2 writes it).
    pub wtime: String,
}

fn observe(first_line: &str, setup: &dyn Fn(&Sandbox)) -> Observation {
    observe_in(Release::Bookworm, first_line, setup)
}

/// One start in a namespace with `release`'s runit installed.
pub fn observe_in(release: Release, first_line: &str, setup: &dyn Fn(&Sandbox)) -> Observation {
    let sb = Sandbox::of(release);
    sb.capturing_service(first_line);
    setup(&sb);
    sb.once(NAME);
    Observation {
        stdout: sb.output("stdout"),
        stderr: sb.output("stderr"),
        argv: sb.output("argv"),
        signals: sb.output("signals"),
        env: sb.final_env(),
        policy_args: sb.output("policy-args"),
        initd_args: sb.output("initd-args"),
        helper_signals: sb.output("helper-signals"),
        finish_args: sb.output("finish-args"),
        wtime: std::fs::read_to_string(sb.root.join("etc/sv/foo/.meta/wtime")).unwrap_or_default(),
    }
}

/// (Debian's, ours) for the same setup.
fn both(setup: &dyn Fn(&Sandbox)) -> (Observation, Observation) {
    (observe(DEBIAN, setup), observe(OURS, setup))
}

/// Assert equality, printing both sides in full on failure.
fn assert_same(debian: &Observation, ours: &Observation) {
    assert_eq!(
        debian, ours,
        "Debian's invoke-run (left) and ours (right) differ"
    );
}

/// An init script that records its arguments and the signal state its
/// children inherit, and answers `status` with `status_code`.
pub fn init_script(sb: &Sandbox, status_code: i32) -> String {
    format!(
        "#!/bin/sh\necho \"$@\" >> {o}/initd-args\n\
         /bin/grep -E '^Sig(Ign|Blk)' /proc/self/status >> {o}/helper-signals\n\
         case $1 in status) exit {status_code};; esac\nexit 0\n",
        o = sb.out.display()
    )
}

#[test]
fn without_any_defaults_the_body_gets_name_pwd_and_runsv_environment() {
    let (debian, ours) = both(&|_| {});
    assert_same(&debian, &ours);
    assert_eq!(ours.argv, "/etc/sv/foo/run\n");
    let keys: Vec<_> = ours.env.keys().map(String::as_str).collect();
    assert_eq!(keys, ["NAME", "PATH", "PWD"]);
    assert_eq!(ours.env["NAME"], "foo");
    assert_eq!(ours.env["PWD"], "/etc/sv/foo");
    assert_eq!(ours.stdout, "");
    assert_eq!(ours.finish_args, "0 0\n");
}

#[test]
fn runit_defaults_are_exported() {
    let (debian, ours) = both(&|sb| {
        sb.write(
            "etc/default/runit",
            "# runit\nVERBOSE=0\n\nDEBUG=0\n",
            0o644,
        )
    });
    assert_same(&debian, &ours);
    assert_eq!(ours.env["VERBOSE"], "0");
    assert_eq!(ours.env["DEBUG"], "0");
}

const SERVICE_DEFAULTS: &str = r#"# defaults for foo
A=plain
B='single $A "quoted"'
C="double $A"
export D="exported ${A}-x"
E=$B
F="$NAME-in-default"
G=`echo substituted`
H=$UNDEFINED_IN_DEFAULTS
if [ -n "$A" ]; then I=conditional; fi
J='multi
line'
"#;

#[test]
fn service_defaults_with_quoting_export_and_references_match_sh() {
    let setup = |sb: &Sandbox| {
        sb.write("etc/default/runit", "VERBOSE=0\nDEBUG=0\n", 0o644);
        sb.write("etc/default/foo", SERVICE_DEFAULTS, 0o644);
    };
    let (debian, ours) = both(&setup);
    assert_same(&debian, &ours);
    let e = &ours.env;
    assert_eq!(e["A"], "plain");
    assert_eq!(e["B"], "single $A \"quoted\"");
    assert_eq!(e["C"], "double plain");
    assert_eq!(e["D"], "exported plain-x");
    assert_eq!(e["E"], e["B"]);
    assert_eq!(e["F"], "foo-in-default");
    assert_eq!(e["G"], "substituted");
    assert_eq!(e["H"], "");
    assert_eq!(e["I"], "conditional");
    assert_eq!(e["J"], "multi\nline");
}

/// Only assignments and parameter expansions: read without a shell.
const EXPANDING_DEFAULTS: &str = r#"# defaults for foo, as packages write them
DAEMON_USER=foo
PORT=8080
LISTEN="127.0.0.1:${PORT:-80}"
DAEMON_OPTS="--listen $LISTEN --user ${DAEMON_USER} --pidfile /run/${NAME:-x}.pid"
SPACED=${UNSET_HERE:-two  words} GLOB=${UNSET_HERE-*.conf}
CONF=${CONF:=/etc/foo.conf} ALT=${CONF:+--config $CONF} NONE=${NOT_SET:+x}
RUNIT_SEEN="verbose=$VERBOSE"
"#;

#[test]
fn service_defaults_with_parameter_expansions_match_sh_without_a_shell() {
    let setup = |sb: &Sandbox| {
        sb.write("etc/default/runit", "VERBOSE=0\nDEBUG=0\n", 0o644);
        sb.write("etc/default/foo", EXPANDING_DEFAULTS, 0o644);
    };
    let (debian, ours) = both(&setup);
    assert_same(&debian, &ours);
    let e = &ours.env;
    assert_eq!(e["LISTEN"], "127.0.0.1:8080");
    assert_eq!(
        e["DAEMON_OPTS"],
        "--listen 127.0.0.1:8080 --user foo --pidfile /run/foo.pid"
    );
    assert_eq!(e["SPACED"], "two  words");
    assert_eq!(e["GLOB"], "*.conf");
    assert_eq!(e["CONF"], "/etc/foo.conf");
    assert_eq!(e["ALT"], "--config /etc/foo.conf");
    assert_eq!(e["NONE"], "");
    assert_eq!(e["RUNIT_SEEN"], "verbose=0");
}

#[test]
fn the_env_form_of_the_first_line_works_the_same() {
    let setup = |sb: &Sandbox| sb.write("etc/default/foo", SERVICE_DEFAULTS, 0o644);
    let debian = observe(DEBIAN, &setup);
    let ours = observe(OURS_VIA_ENV, &setup);
    assert_same(&debian, &ours);
}

#[test]
fn the_envdir_overrides_the_defaults() {
    let (debian, ours) = both(&|sb| {
        sb.write("etc/default/foo", "X=from-default\nKEPT=yes\n", 0o644);
        sb.write(
            "etc/sv/foo/env/X",
            "from-envdir  \t\nsecond line ignored\n",
            0o644,
        );
        sb.write("etc/sv/foo/env/.hidden", "skipped\n", 0o644);
        sb.write("etc/sv/foo/env/NOEOL", "  leading blanks kept", 0o644);
        sb.write("etc/sv/foo/env/EMPTYLINE", "\n", 0o644);
    });
    assert_same(&debian, &ours);
    assert_eq!(ours.env["X"], "from-envdir");
    assert_eq!(ours.env["KEPT"], "yes");
    assert_eq!(ours.env["NOEOL"], "  leading blanks kept");
    assert_eq!(ours.env["EMPTYLINE"], "");
    assert!(!ours.env.contains_key(".hidden"));
}

#[test]
fn conf_is_read_like_debians_env() {
    let debian = observe(DEBIAN, &|sb| {
        sb.write("etc/default/foo", "X=from-default\n", 0o644);
        sb.write("etc/sv/foo/env/X", "from-envdir\n", 0o644);
    });
    let ours = observe(OURS, &|sb| {
        sb.write("etc/default/foo", "X=from-default\n", 0o644);
        sb.write("etc/sv/foo/conf/X", "from-envdir\n", 0o644);
    });
    assert_same(&debian, &ours);
}

#[test]
fn an_empty_envdir_file_unsets_the_variable() {
    let (debian, ours) = both(&|sb| {
        sb.write("etc/default/foo", "X=1\n", 0o644);
        sb.write("etc/sv/foo/env/X", "", 0o644);
        sb.write("etc/sv/foo/env/NAME", "", 0o644);
    });
    assert_same(&debian, &ours);
    assert!(!ours.env.contains_key("X"));
    assert!(!ours.env.contains_key("NAME"));
}

#[test]
fn nul_in_an_envdir_file_becomes_a_newline() {
    let (debian, ours) = both(&|sb| {
        sb.write("etc/sv/foo/env/Y", b"a\0b \t\nsecond\0line\n", 0o644);
    });
    assert_same(&debian, &ours);
    assert_eq!(ours.env["Y"], "a\nb");
}

#[test]
fn policy_rc_d_101_denies_the_start_and_takes_the_service_down() {
    let (debian, ours) = both(&|sb| sb.policy(101));
    assert_eq!(ours.stdout, "action denied by policy-rc.d\n");
    assert_eq!(ours.policy_args, "foo start\n");
    assert!(ours.env.is_empty(), "the body must not run");
    // Difference: Debian's shell can be killed by the TERM its own `sv d`
    // makes runsv send; ours ignores it and always exits 0.
    assert_eq!(ours.finish_args, "0 0\n");
    assert!(
        ["0 0\n", "-1 15\n"].contains(&debian.finish_args.as_str()),
        "{debian:?}"
    );
    assert_same(
        &Observation {
            finish_args: ours.finish_args.clone(),
            ..debian
        },
        &ours,
    );
}

#[test]
fn policy_rc_d_104_lets_the_start_go_on() {
    let (debian, ours) = both(&|sb| sb.policy(104));
    assert_same(&debian, &ours);
    assert_eq!(ours.policy_args, "foo start\n");
    assert_eq!(ours.env["NAME"], "foo");
}

#[test]
fn removed_but_not_purged_is_binary_not_installed() {
    let (debian, ours) = both(&|sb| sb.write("etc/sv/foo/.meta/installed", "", 0o644));
    assert_eq!(ours.stdout, "invoke-run: foo binary not installed\n");
    assert!(ours.env.is_empty(), "the body must not run");
    assert_eq!(ours.finish_args, "0 0\n");
    assert_same(
        &Observation {
            finish_args: ours.finish_args.clone(),
            ..debian
        },
        &ours,
    );
}

#[test]
fn still_installed_packages_start() {
    for marker in [
        "usr/share/runit/meta/foo/installed",
        "usr/share/runit/sv/foo/run",
    ] {
        let setup = |sb: &Sandbox| {
            sb.write("etc/sv/foo/.meta/installed", "", 0o644);
            sb.write(marker, "", 0o644);
        };
        let (debian, ours) = both(&setup);
        assert_same(&debian, &ours);
        assert_eq!(ours.env["NAME"], "foo", "with {marker}");
    }
}

#[test]
fn an_init_script_is_stopped_before_the_start() {
    let (debian, ours) = both(&|sb| sb.write("etc/init.d/foo", init_script(sb, 0), 0o755));
    assert_same(&debian, &ours);
    assert_eq!(ours.initd_args, "stop --force-sysv\n");
    assert_eq!(ours.env["NAME"], "foo");
}

/// glibc's posix_spawn leaves its internal signals 32 and 33 ignored in the
/// child; a shell's fork does not. Found with openssh-server's and dbus's
/// real init scripts, whose start-stop-daemon inherited SigIgn 0x180000000.
#[test]
fn helpers_inherit_the_signal_state_a_shell_gives_them() {
    let (debian, ours) = both(&|sb| {
        sb.policy(104);
        sb.write("etc/init.d/foo", init_script(sb, 0), 0o755);
    });
    assert_same(&debian, &ours);
    let sig_ign = |text: &str| {
        text.lines()
            .filter(|l| l.starts_with("SigIgn"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let body = sig_ign(&ours.signals);
    assert_eq!(body.len(), 1, "{}", ours.signals);
    // policy-rc.d and the init script: the same as the body's.
    assert_eq!(
        sig_ign(&ours.helper_signals),
        [body[0].clone(), body[0].clone()]
    );
}

/// `echo 'exit 101' > /usr/sbin/policy-rc.d; chmod +x` is how chroots and
/// container images are often told not to start services: no `#!` line.
/// Debian's shell runs such a file with /bin/sh; ours did not run it at
/// all (posix_spawn fails with ENOEXEC) and started the service.
#[test]
fn a_policy_rc_d_without_a_shebang_line_still_denies() {
    let (debian, ours) = both(&|sb| {
        let o = sb.out.display();
        sb.write(
            "policy-rc.d",
            format!("echo \"$0 $*\" >> {o}/policy-args\nexit 101\n"),
            0o755,
        );
    });
    assert_eq!(ours.policy_args, "/usr/sbin/policy-rc.d foo start\n");
    assert_eq!(ours.stdout, "action denied by policy-rc.d\n");
    assert!(ours.env.is_empty(), "the body must not run");
    assert_same(
        &Observation {
            finish_args: ours.finish_args.clone(),
            ..debian
        },
        &ours,
    );
}

#[test]
fn a_policy_rc_d_that_cannot_run_lets_the_start_go_on_with_a_message() {
    let (debian, ours) = both(&|sb| {
        sb.write(
            "policy-rc.d",
            "#!/usr/bin/no-such-interpreter\nexit 101\n",
            0o755,
        );
    });
    assert_eq!(ours.env["NAME"], "foo");
    // Each says it on stderr in its own words (Debian's: the shell's
    // "not found").
    assert!(
        debian.stderr.contains("/usr/sbin/policy-rc.d: not found"),
        "{debian:?}"
    );
    assert_eq!(
        ours.stderr,
        "invoke-run: warning: cannot run /usr/sbin/policy-rc.d: No such file or directory \
         (os error 2); starting foo anyway\n"
    );
    assert_same(
        &Observation {
            stderr: ours.stderr.clone(),
            ..debian
        },
        &ours,
    );
}

/// A defaults file whose last line is `[ -r F ] && . F` with F missing:
/// sourced under `set -e`, the dot command fails, in Debian's interpreter
/// too. Debian's exits 1 without a word (and runsv restarts it every
/// second); ours says why, takes the service down and exits 162.
#[test]
fn a_defaults_file_ending_in_a_false_and_list_fails_under_both() {
    let (debian, ours) = both(&|sb| {
        sb.write(
            "etc/default/foo",
            "LOCAL=1\n[ -r /etc/default/foo.local ] && . /etc/default/foo.local\n",
            0o644,
        );
    });
    assert!(debian.env.is_empty() && ours.env.is_empty(), "no body runs");
    assert_eq!(
        (debian.stdout.as_str(), debian.finish_args.as_str()),
        ("", "1 0\n")
    );
    assert_eq!(ours.finish_args, "162 0\n");
    assert!(
        ours.stdout.starts_with(
            "invoke-run: error in foo: /etc/default/foo failed under /bin/sh (exit status 1); "
        ),
        "{}",
        ours.stdout
    );
}

#[test]
fn an_init_script_without_a_shebang_line_is_stopped_too() {
    let (debian, ours) = both(&|sb| {
        let script = init_script(sb, 0);
        let without = script.strip_prefix("#!/bin/sh\n").unwrap();
        sb.write("etc/init.d/foo", without, 0o755);
    });
    assert_same(&debian, &ours);
    assert_eq!(ours.initd_args, "stop --force-sysv\n");
    assert_eq!(ours.env["NAME"], "foo");
}

#[test]
fn a_symlinked_init_script_is_not_called() {
    let (debian, ours) = both(&|sb| {
        sb.write("etc/init.d/real-foo", init_script(sb, 0), 0o755);
        std::os::unix::fs::symlink("real-foo", sb.root.join("etc/init.d/foo")).unwrap();
    });
    assert_same(&debian, &ours);
    assert_eq!(ours.initd_args, "");
    assert_eq!(ours.env["NAME"], "foo");
}

#[test]
fn noreplace_with_a_running_sysv_instance_leaves_the_runit_service_down() {
    let (debian, ours) = both(&|sb| {
        sb.write("etc/init.d/foo", init_script(sb, 0), 0o755);
        sb.write("etc/sv/foo/.meta/noreplace", "", 0o644);
    });
    assert_eq!(ours.initd_args, "status --force-sysv\n");
    assert!(ours.env.is_empty(), "the body must not run");
    // Difference: ours says why the service stays down; Debian is silent.
    assert_eq!(debian.stdout, "");
    assert_eq!(
        ours.stdout,
        "invoke-run: foo is running under /etc/init.d/foo and is marked noreplace: \
         the runit service stays down until it is stopped by hand\n"
    );
    assert_same(
        &Observation {
            stdout: ours.stdout.clone(),
            finish_args: ours.finish_args.clone(),
            ..debian
        },
        &ours,
    );
    assert_eq!(ours.finish_args, "0 0\n");
}

#[test]
fn noreplace_without_a_running_sysv_instance_stops_it_and_starts() {
    let (debian, ours) = both(&|sb| {
        sb.write("etc/init.d/foo", init_script(sb, 3), 0o755);
        sb.write("usr/share/runit/meta/foo/noreplace", "", 0o644);
    });
    assert_same(&debian, &ours);
    assert_eq!(ours.initd_args, "status --force-sysv\nstop --force-sysv\n");
    assert_eq!(ours.env["NAME"], "foo");
}

// Ours only: Debian's interpreter prints the message for a missing daemon
// binary but goes on starting the body, which then races the TERM of its
// own `sv down` (a listed difference).

#[test]
fn a_missing_daemon_binary_is_binary_not_installed() {
    let ours = observe(OURS, &|sb| {
        sb.write("etc/sv/foo/.meta/bin", "/usr/sbin/no-such-daemon\n", 0o644)
    });
    assert_eq!(ours.stdout, "invoke-run: foo binary not installed\n");
    assert!(ours.env.is_empty(), "the body must not run");
    assert_eq!(ours.finish_args, "0 0\n");
}

#[test]
fn a_present_daemon_binary_starts() {
    let setup = |sb: &Sandbox| sb.write("etc/sv/foo/.meta/bin", "/bin/true\n", 0o644);
    let (debian, ours) = both(&setup);
    assert_same(&debian, &ours);
    assert_eq!(ours.env["NAME"], "foo");
}

#[test]
fn env_wins_over_conf_when_both_exist() {
    let ours = observe(OURS, &|sb| {
        sb.write("etc/sv/foo/conf/X", "from-conf\n", 0o644);
        sb.write("etc/sv/foo/conf/Y", "only-in-conf\n", 0o644);
        sb.write("etc/sv/foo/env/X", "from-env\n", 0o644);
    });
    assert_eq!(ours.env["X"], "from-env");
    assert_eq!(ours.env["Y"], "only-in-conf");
}
