//! Today's Debian: the same service directory started once under trixie's
//! (runit 2.2.0-3) or sid's (2.3.1-6) own `/lib/runit/invoke-run` and once
//! under ours, by that release's runsv, in a namespace where that release's
//! runit package is installed over bookworm's userland (`Sandbox::of`).
//! Ours must detect the release by itself and behave as its interpreter
//! does; the differences listed in invoke-run(8) are asserted one by one.
//!
//! Then finish-default against that release's finish-exec.

use std::collections::BTreeMap;

use crate::differential::{Observation, init_script, observe_in};
use crate::sandbox::{DEBIAN, NAME, OURS, Release, Sandbox};

const TODAY: [Release; 2] = [Release::Trixie, Release::Sid];

/// (Debian's, ours) in `release`, with ours' `NAME` taken out after checking
/// it: ours keeps exporting it (a documented choice), 2.2 stopped.
fn both(release: Release, setup: &dyn Fn(&Sandbox)) -> (Observation, Observation) {
    let debian = observe_in(release, DEBIAN, setup);
    let mut ours = observe_in(release, OURS, setup);
    assert!(
        !debian.env.contains_key("NAME"),
        "{release:?}'s interpreter exports no NAME: {debian:?}"
    );
    if !ours.env.is_empty() {
        assert_eq!(ours.env.get("NAME").map(String::as_str), Some(NAME));
        ours.env.remove("NAME");
    }
    (debian, ours)
}

fn assert_same(release: Release, debian: &Observation, ours: &Observation) {
    assert_eq!(
        debian, ours,
        "{release:?}: Debian's invoke-run (left) and ours (right) differ"
    );
}

fn keys(env: &BTreeMap<String, String>) -> Vec<&str> {
    env.keys().map(String::as_str).collect()
}

#[test]
fn a_plain_start_gets_pwd_and_runsvs_environment() {
    for release in TODAY {
        let (debian, ours) = both(release, &|_| {});
        assert_same(release, &debian, &ours);
        assert_eq!(keys(&ours.env), ["PATH", "PWD"]);
        assert_eq!(ours.finish_args, "0 0\n");
    }
}

/// The issue's first finding: under a deny-all policy-rc.d (containers,
/// build roots) 2.2's interpreter starts the service; policy-rc.d is asked
/// by runit-helper and the trigger, not at every start.
#[test]
fn policy_rc_d_is_not_asked_at_a_start() {
    for release in TODAY {
        for code in [101, 104] {
            let (debian, ours) = both(release, &|sb| sb.policy(code));
            assert_same(release, &debian, &ours);
            assert_eq!(ours.policy_args, "", "{release:?} {code}");
            assert_eq!(keys(&ours.env), ["PATH", "PWD"], "{release:?} {code}");
        }
    }
}

/// `/etc/default/runit` is gone in 2.2; one left behind is not read.
#[test]
fn etc_default_runit_is_not_read() {
    for release in TODAY {
        let (debian, ours) = both(release, &|sb| {
            sb.write("etc/default/runit", "VERBOSE=1\nDEBUG=1\n", 0o644)
        });
        assert_same(release, &debian, &ours);
        assert_eq!(keys(&ours.env), ["PATH", "PWD"]);
        assert_eq!(ours.stdout, "");
    }
}

const SERVICE_DEFAULTS: &str = r#"# defaults for foo
A=plain
B='single $A "quoted"'
C="double $A"
export D="exported ${A}-x"
G=`echo substituted`
PORT=8080
LISTEN="127.0.0.1:${PORT:-80}"
if [ -n "$A" ]; then I=conditional; fi
"#;

#[test]
fn service_defaults_and_the_envdir_over_them() {
    for release in TODAY {
        let (debian, ours) = both(release, &|sb| {
            sb.write("etc/default/foo", SERVICE_DEFAULTS, 0o644);
            sb.write("etc/sv/foo/env/A", "from-envdir\n", 0o644);
            sb.write("etc/sv/foo/env/E", "", 0o644);
        });
        assert_same(release, &debian, &ours);
        assert_eq!(ours.env["A"], "from-envdir");
        assert_eq!(ours.env["C"], "double plain");
        assert_eq!(ours.env["LISTEN"], "127.0.0.1:8080");
        assert_eq!(ours.env["I"], "conditional");
    }
}

/// Ours keeps NAME: a defaults file that uses it sees it under ours only.
#[test]
fn name_is_still_exported_by_ours() {
    for release in TODAY {
        let setup = |sb: &Sandbox| sb.write("etc/default/foo", "F=\"${NAME:-unset}\"\n", 0o644);
        let debian = observe_in(release, DEBIAN, &setup);
        let ours = observe_in(release, OURS, &setup);
        assert_eq!(debian.env["F"], "unset");
        assert_eq!(ours.env["F"], "foo");
        assert_eq!(ours.env["NAME"], "foo");
    }
}

/// `.meta/bin` naming an installed binary: the start goes on and its birth
/// time (as `stat -c %W`) is written to `.meta/wtime`.
#[test]
fn a_present_daemon_binary_gets_its_wtime_written() {
    for release in TODAY {
        let (debian, ours) = both(release, &|sb| {
            sb.write("etc/sv/foo/.meta/bin", "/bin/true\n", 0o644);
            sb.write("etc/sv/foo/.meta/wtime", "stale\n", 0o644);
        });
        assert_same(release, &debian, &ours);
        let secs: u64 = ours.wtime.trim().parse().expect("a number of seconds");
        assert_eq!(ours.wtime, format!("{secs}\n"));
        assert_eq!(keys(&ours.env), ["PATH", "PWD"]);
    }
}

#[test]
fn a_missing_daemon_binary_is_binary_not_installed() {
    for release in TODAY {
        let (debian, ours) = both(release, &|sb| {
            sb.write("etc/sv/foo/.meta/bin", "/usr/sbin/no-such-daemon\n", 0o644)
        });
        assert_eq!(ours.stdout, "invoke-run: foo binary not installed\n");
        assert_eq!(debian.stdout, ours.stdout, "{release:?}");
        // Difference: ours stops there (exit 0); Debian's goes on to run
        // the body, which races the TERM its own `sv down` brings.
        assert!(ours.env.is_empty(), "the body must not run");
        assert_eq!(ours.finish_args, "0 0\n");
        assert_eq!((ours.wtime.as_str(), debian.wtime.as_str()), ("", ""));
    }
}

#[test]
fn removed_but_not_purged_is_binary_not_installed() {
    for release in TODAY {
        let (debian, ours) = both(release, &|sb| {
            sb.write("etc/sv/foo/.meta/installed", "", 0o644)
        });
        assert_eq!(ours.stdout, "invoke-run: foo binary not installed\n");
        assert!(ours.env.is_empty(), "the body must not run");
        assert_same(
            release,
            &Observation {
                finish_args: ours.finish_args.clone(),
                ..debian
            },
            &ours,
        );
    }
}

/// trixie's 2.2.0-3 still passes `--force-sysv`; sid's does not.
fn force(release: Release) -> &'static str {
    if release == Release::Trixie {
        " --force-sysv"
    } else {
        ""
    }
}

#[test]
fn an_init_script_is_stopped_before_the_start() {
    for release in TODAY {
        let (debian, ours) = both(release, &|sb| {
            sb.write("etc/init.d/foo", init_script(sb, 0), 0o755)
        });
        assert_same(release, &debian, &ours);
        assert_eq!(ours.initd_args, format!("stop{}\n", force(release)));
    }
}

#[test]
fn a_symlinked_init_script_is_not_called() {
    for release in TODAY {
        let (debian, ours) = both(release, &|sb| {
            sb.write("etc/init.d/real-foo", init_script(sb, 0), 0o755);
            std::os::unix::fs::symlink("real-foo", sb.root.join("etc/init.d/foo")).unwrap();
        });
        assert_same(release, &debian, &ours);
        assert_eq!(ours.initd_args, "");
    }
}

#[test]
fn noreplace_asks_status_first() {
    for release in TODAY {
        // A running sysv instance: the runit service stays down.
        let (debian, ours) = both(release, &|sb| {
            sb.write("etc/init.d/foo", init_script(sb, 0), 0o755);
            sb.write("etc/sv/foo/.meta/noreplace", "", 0o644);
        });
        assert_eq!(ours.initd_args, format!("status{}\n", force(release)));
        assert!(ours.env.is_empty(), "the body must not run");
        // Difference: ours says why; Debian's is silent.
        assert_eq!(debian.stdout, "");
        assert!(ours.stdout.contains("is marked noreplace"), "{ours:?}");
        assert_same(
            release,
            &Observation {
                stdout: ours.stdout.clone(),
                finish_args: ours.finish_args.clone(),
                ..debian
            },
            &ours,
        );
        // None running: stopped as usual, then started.
        let (debian, ours) = both(release, &|sb| {
            sb.write("etc/init.d/foo", init_script(sb, 3), 0o755);
            sb.write("usr/share/runit/meta/foo/noreplace", "", 0o644);
        });
        assert_same(release, &debian, &ours);
        let f = force(release);
        assert_eq!(ours.initd_args, format!("status{f}\nstop{f}\n"));
    }
}

#[test]
fn the_verbose_flag_file_announces_the_start_and_debug_says_nothing() {
    for release in TODAY {
        let (debian, ours) = both(release, &|sb| {
            sb.write("etc/runit/verbose", "", 0o644);
            sb.write("etc/runit/debug", "", 0o644);
        });
        assert_same(release, &debian, &ours);
        assert_eq!(ours.stdout, "invoke-run: starting foo\n");
    }
}

#[test]
fn xchopts_gives_xchpst_when_it_is_installed() {
    for release in TODAY {
        let (debian, ours) = both(release, &|sb| {
            sb.install_xchpst(release);
            sb.write("etc/sv/foo/xchopts", "--private-tmp\n", 0o644);
        });
        assert_same(release, &debian, &ours);
        assert_eq!(ours.env["XCHPST"], "xchpst --file /etc/sv/foo/xchopts");
        // xchpst installed, no xchopts: nothing.
        let (debian, ours) = both(release, &|sb| sb.install_xchpst(release));
        assert_same(release, &debian, &ours);
        assert_eq!(keys(&ours.env), ["PATH", "PWD"]);
    }
}

#[test]
fn xchopts_without_xchpst_is_skipped_with_a_line_in_the_log() {
    for release in TODAY {
        let (debian, ours) = both(release, &|sb| {
            sb.write("etc/sv/foo/xchopts", "--private-tmp\n", 0o644);
        });
        assert_eq!(keys(&ours.env), ["PATH", "PWD"]);
        // Difference: ours says so; Debian's is silent.
        assert_eq!(debian.stdout, "");
        assert_eq!(
            ours.stdout,
            "invoke-run: foo: /usr/bin/xchpst is not installed, /etc/sv/foo/xchopts not applied\n"
        );
        assert_same(
            release,
            &Observation {
                stdout: ours.stdout.clone(),
                ..debian
            },
            &ours,
        );
    }
}

/// sid sources a `conf` file (with `set -a`) instead of
/// `/etc/default/NAME`; trixie ignores it.
#[test]
fn a_conf_file_replaces_etc_default_in_sid_only() {
    for release in TODAY {
        let (debian, ours) = both(release, &|sb| {
            sb.write("etc/default/foo", "FROM=default\nD=1\n", 0o644);
            sb.write("etc/sv/foo/conf", "FROM=conf\nC=`echo 1`\n", 0o644);
        });
        assert_same(release, &debian, &ours);
        if release == Release::Sid {
            assert_eq!(ours.env["FROM"], "conf");
            assert!(!ours.env.contains_key("D"));
        } else {
            assert_eq!(ours.env["FROM"], "default");
            assert!(!ours.env.contains_key("C"));
        }
    }
}

/// A `conf/` directory stays the envdir servicebuilder writes, and
/// `/etc/default/NAME` is read beside it. Debian's sid sources the
/// directory as an empty file and skips `/etc/default/NAME` (a documented
/// difference); trixie's ignores `conf/`.
#[test]
fn a_conf_directory_stays_an_envdir() {
    for release in TODAY {
        let (debian, ours) = both(release, &|sb| {
            sb.write("etc/default/foo", "FROM=default\n", 0o644);
            sb.write("etc/sv/foo/conf/X", "from-conf\n", 0o644);
        });
        assert_eq!(ours.env["FROM"], "default");
        assert_eq!(ours.env["X"], "from-conf");
        assert!(!debian.env.contains_key("X"));
        let debian_from = debian.env.get("FROM").map(String::as_str);
        if release == Release::Sid {
            assert_eq!(debian_from, None);
        } else {
            assert_eq!(debian_from, Some("default"));
        }
    }
}

// finish-default against finish-exec, which 2.2's finish files exec
// (cpsv links `finish` to it), for every exit code convention.

fn finish_log(release: Release, ending: &str, flags: &[&str], finish_call: &str) -> String {
    let sb = Sandbox::of(release);
    let o = sb.out.display();
    let finish =
        format!("#!/bin/sh\n{finish_call}\necho \"$1 $2\" > {o}/finish-args\ntouch {o}/finished\n");
    sb.service(NAME, "#!/bin/sh", ending, &finish);
    for f in flags {
        sb.write(&format!("etc/runit/{f}"), "", 0o644);
    }
    sb.write("etc/runit/override-sysv.d/foo.pkgrunit", "", 0o644);
    sb.write("etc/runit/override-sysv.d/bar.pkgrunit", "", 0o644);
    // Left behind on purpose: finish-exec ignores it.
    sb.write("etc/default/runit", "VERBOSE=1\nDEBUG=1\n", 0o644);
    sb.once(NAME);
    let d = sb.root.join("etc/runit/override-sysv.d");
    assert!(!d.join("foo.pkgrunit").exists(), "{finish_call}: removed");
    assert!(d.join("bar.pkgrunit").exists(), "{finish_call}: kept");
    sb.output("stdout")
}

const FINISH_EXEC: &str = "( /lib/runit/finish-exec \"$@\" )";
const FINISH_OURS: &str = "/usr/lib/servicebuilder/finish-default \"$@\"";

const ENDINGS: &[&str] = &[
    "exit 0",
    "exit 1",
    "exit 161",
    "exit 162",
    "exit 170",
    "kill -KILL $$",
];

#[test]
fn finish_default_is_finish_exec() {
    for release in TODAY {
        for flags in [&[][..], &["verbose", "debug"][..]] {
            let mut logs = Vec::new();
            for ending in ENDINGS {
                let debian = finish_log(release, ending, flags, FINISH_EXEC);
                let ours = finish_log(release, ending, flags, FINISH_OURS);
                assert_eq!(
                    debian.replace("dependecy", "dependency"),
                    ours,
                    "{release:?}: run ending with `{ending}`, flags {flags:?}"
                );
                logs.push(ours);
            }
            if flags.is_empty() {
                assert_eq!(logs[0], "");
                assert_eq!(
                    logs[3],
                    "invoke-run: ERROR 162 in foo: configtest or early setup failed\n"
                );
            } else {
                assert_eq!(
                    logs[1],
                    "invoke-run: foo stopped\ninvoke-run: foo : run exit code is 1\n"
                );
                assert_eq!(
                    logs[3],
                    "invoke-run: ERROR 162 in foo: configtest or early setup failed\n\
                     invoke-run: foo stopped\ninvoke-run: foo : run exit code is 162\n"
                );
            }
        }
    }
}

/// sid leaves the init script alone when the runscript does not run as
/// root; trixie still calls it. Run without runsv, as nobody.
#[test]
fn sid_calls_no_init_script_for_a_non_root_start() {
    use std::os::unix::fs::PermissionsExt;
    const NOBODY: &[&str] = &[
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
    ];
    for release in TODAY {
        let mut seen = Vec::new();
        for first_line in [DEBIAN, OURS] {
            let sb = Sandbox::of(release);
            // Let nobody reach the service directory inside the tree.
            let top = sb.root.parent().unwrap();
            std::fs::set_permissions(top, std::fs::Permissions::from_mode(0o755)).unwrap();
            sb.service(NAME, first_line, "echo body ran\n", "");
            sb.write(
                "etc/init.d/foo",
                "#!/bin/sh\necho \"init.d $*\" >&2\n",
                0o755,
            );
            let rc = sb.direct(NAME, NOBODY);
            seen.push((rc, sb.output("stdout"), sb.output("stderr")));
        }
        assert_eq!(
            seen[0], seen[1],
            "{release:?}: Debian's (left), ours (right)"
        );
        let expected_stderr = if release == Release::Sid {
            ""
        } else {
            "init.d stop --force-sysv\n"
        };
        assert_eq!(
            seen[1],
            (0, "body ran\n".to_string(), expected_stderr.to_string()),
            "{release:?}"
        );
    }
}

/// The bookworm cases that carry over unchanged: envdir edge cases (an
/// empty file unsets, NUL becomes a newline, only the first line counts,
/// dot files skipped), the `#!/usr/bin/env` form of the first line, and
/// the signal state an init script's children inherit.
#[test]
fn envdir_rules_the_env_form_and_helper_signals_carry_over() {
    use crate::sandbox::OURS_VIA_ENV;
    for release in TODAY {
        let setup = |sb: &Sandbox| {
            sb.write("etc/default/foo", "X=1\nKEPT=yes\n", 0o644);
            sb.write("etc/sv/foo/env/X", "", 0o644);
            sb.write("etc/sv/foo/env/Y", b"a\0b \t\nsecond\0line\n", 0o644);
            sb.write("etc/sv/foo/env/.hidden", "skipped\n", 0o644);
            sb.write("etc/init.d/foo", init_script(sb, 0), 0o755);
        };
        let (debian, ours) = both(release, &setup);
        assert_same(release, &debian, &ours);
        assert!(!ours.env.contains_key("X"));
        assert_eq!(ours.env["Y"], "a\nb");
        assert_eq!(ours.env["KEPT"], "yes");
        let mut via_env = observe_in(release, OURS_VIA_ENV, &setup);
        via_env.env.remove("NAME");
        assert_same(release, &debian, &via_env);
        let sig_ign = |text: &str| {
            text.lines()
                .filter(|l| l.starts_with("SigIgn"))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        let body = sig_ign(&ours.signals);
        assert_eq!(body.len(), 1, "{}", ours.signals);
        assert_eq!(sig_ign(&ours.helper_signals), [body[0].clone()]);
    }
}

/// sid's per-user services: a start as a user with uid 1000 or more and a
/// `/home/USER` directory (here nobody, 65534, with a `/home/nobody` in
/// the namespace) reads `/etc/sv/runsvdir@USER/env`, and takes its verbose
/// and debug flags from `~/.runit/`, in invoke-run and in finish-exec. Run
/// without runsv, as nobody, with runsv's environment.
///
/// With the service's own `env/` as well, sid's interpreter runs
/// `chpst -e USERENV -e DIR/env`, and chpst keeps only the last `-e`: the
/// user's envdir is lost, against sid's invoke-run(8) ("both are used").
/// Ours reads both, the service's winning (a documented difference).
#[test]
fn sid_user_services_read_the_users_envdir_and_flags() {
    use std::os::unix::fs::PermissionsExt;
    const NOBODY: &[&str] = &[
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "/usr/bin/env",
        "-",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ];
    let start = |first_line: &str, finish: &str, service_env: bool| {
        let sb = Sandbox::of(Release::Sid);
        let top = sb.root.parent().unwrap();
        std::fs::set_permissions(top, std::fs::Permissions::from_mode(0o755)).unwrap();
        sb.write("home/nobody/.runit/verbose", "", 0o644);
        sb.write("home/nobody/.runit/debug", "", 0o644);
        sb.write("etc/sv/runsvdir@nobody/env/U", "from-user\n", 0o644);
        sb.write("etc/sv/runsvdir@nobody/env/BOTH", "user\n", 0o644);
        sb.write("etc/default/foo", "D=from-default\n", 0o644);
        sb.service(
            NAME,
            first_line,
            "/usr/bin/env | /bin/grep -v -e ^NAME= -e ^PWD= | /usr/bin/sort\n",
            "",
        );
        if service_env {
            sb.write("etc/sv/foo/env/BOTH", "service\n", 0o644);
        }
        let rc = sb.direct(NAME, NOBODY);
        let run = (rc, sb.output("stdout"), sb.output("stderr"));
        // finish as runsv would call it after `exit 3`.
        sb.service("bar", "#!/bin/sh", &format!("exec {finish} 3 0\n"), "");
        let rc = sb.direct("bar", NOBODY);
        (run, (rc, sb.output("stdout"), sb.output("stderr")))
    };
    const PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n";
    let debian = start(DEBIAN, "/lib/runit/finish-exec", false);
    let ours = start(OURS, "/usr/lib/servicebuilder/finish-default", false);
    assert_eq!(debian, ours, "sid's (left), ours (right)");
    assert_eq!(ours.0.0, 0);
    assert_eq!(
        ours.0.1,
        format!("invoke-run: starting foo\nBOTH=user\nD=from-default\n{PATH}U=from-user\n")
    );
    assert_eq!(
        ours.1.1,
        "invoke-run: bar stopped\ninvoke-run: bar : run exit code is 3\n"
    );
    let debian = start(DEBIAN, "/lib/runit/finish-exec", true);
    let ours = start(OURS, "/usr/lib/servicebuilder/finish-default", true);
    assert_eq!(
        debian.0.1,
        format!("invoke-run: starting foo\nBOTH=service\nD=from-default\n{PATH}")
    );
    assert_eq!(
        ours.0.1,
        format!("invoke-run: starting foo\nBOTH=service\nD=from-default\n{PATH}U=from-user\n")
    );
    assert_eq!(debian.1, ours.1);
}

/// sid: a service with a `cgroup/` directory gets `runsv-cg create` before
/// its start, from its own directory, as root. A stand-in for runsv-cg
/// (laid over sid's own) records its calls: the real one would make
/// cgroups on this machine.
#[test]
fn sid_hands_a_service_with_a_cgroup_directory_to_runsv_cg() {
    let record = tempfile::tempdir().unwrap();
    let calls = record.path().join("calls");
    let run = |first_line: &str, with_cgroup: bool| -> (Observation, String) {
        let _ = std::fs::remove_file(&calls);
        let obs = observe_in(Release::Sid, first_line, &|sb| {
            sb.write(
                "cg-layer/sbin/runsv-cg",
                format!("#!/bin/sh\necho \"$PWD $*\" >> {}\n", calls.display()),
                0o755,
            );
            let layers = std::fs::read_to_string(sb.root.join(".usr-layers")).unwrap_or_default();
            sb.write(
                ".usr-layers",
                format!("{}\n{layers}", sb.root.join("cg-layer").display()),
                0o644,
            );
            if with_cgroup {
                std::fs::create_dir_all(sb.root.join("etc/sv/foo/cgroup")).unwrap();
            }
        });
        (obs, std::fs::read_to_string(&calls).unwrap_or_default())
    };
    let (debian, debian_calls) = run(DEBIAN, true);
    let (mut ours, ours_calls) = run(OURS, true);
    ours.env.remove("NAME");
    assert_eq!(debian, ours);
    assert_eq!(debian_calls, "/etc/sv/foo create\n");
    assert_eq!(ours_calls, debian_calls);
    // Without cgroup/: not called, by either.
    assert_eq!(run(DEBIAN, false).1, "");
    assert_eq!(run(OURS, false).1, "");
}

/// sid: after a service with a `cgroup/` directory stops, finish-exec and
/// finish-default give it to `runsv-cg destroy` (a recording stand-in).
#[test]
fn sid_finish_gives_a_cgroup_service_to_runsv_cg_destroy() {
    let record = tempfile::tempdir().unwrap();
    let calls = record.path().join("calls");
    let run = |finish_call: &str| -> String {
        let _ = std::fs::remove_file(&calls);
        let sb = Sandbox::of(Release::Sid);
        let o = sb.out.display();
        sb.write(
            "cg-layer/sbin/runsv-cg",
            format!("#!/bin/sh\necho \"$PWD $*\" >> {}\n", calls.display()),
            0o755,
        );
        let layers = std::fs::read_to_string(sb.root.join(".usr-layers")).unwrap_or_default();
        sb.write(
            ".usr-layers",
            format!("{}\n{layers}", sb.root.join("cg-layer").display()),
            0o644,
        );
        let finish = format!(
            "#!/bin/sh\n{finish_call}\necho \"$1 $2\" > {o}/finish-args\ntouch {o}/finished\n"
        );
        sb.service(NAME, "#!/bin/sh", "exit 0", &finish);
        std::fs::create_dir_all(sb.root.join("etc/sv/foo/cgroup")).unwrap();
        sb.once(NAME);
        std::fs::read_to_string(&calls).unwrap_or_default()
    };
    let debian = run(FINISH_EXEC);
    assert_eq!(debian, "/etc/sv/foo destroy\n");
    assert_eq!(run(FINISH_OURS), debian);
}
