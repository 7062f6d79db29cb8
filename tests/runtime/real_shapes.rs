//! Service directories shaped like those of Debian bookworm packages
//! (runscripts, finish scripts, `/etc/default` files), started once under
//! Debian's `/lib/runit/invoke-run` and once under ours by a real runsv.
//!
//! The fixtures are written here, in our own words. Each is modelled on a
//! package's file and keeps only what the interpreter can tell apart: the
//! kinds of statements and their order (`set -e`, assignments, `ulimit`,
//! `exec 2>&1`, sourced files, `sv` calls, `${VAR:-word}` expansions, …),
//! the variable names, the exit codes and the paths. The daemon is a probe
//! (it records its arguments, environment in the order received, cwd,
//! umask, core limit, descriptors and signal state, then exits), and paths
//! outside the sandbox's reach (`/etc/ssh/…`) point into the test's output
//! directory. The comment above each names the package and version it is
//! modelled on. `tests/runtime/real-packages` repeats these comparisons on
//! the packages themselves, downloaded from the mirror.

use crate::sandbox::{DEBIAN, OURS, Sandbox};

/// Everything observable about one start, with the per-run temporary paths
/// replaced by `OUT`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Seen {
    /// The log: runsv's stdout (there is no log service).
    stdout: String,
    stderr: String,
    /// One block per probe call: argv, cwd and umask, the environment as
    /// received, signal state, descriptors.
    calls: String,
    policy_args: String,
    initd_args: String,
    /// "CODE SIGNAL" as runsv passed them to ./finish, then what the
    /// fixture's own finish printed.
    finish_args: String,
}

/// The probe that stands in for a daemon. `env` as a child sees the
/// environment in the order the probe received it, modulo the shell's own
/// (deterministic) re-export. The descriptors are listed from a glob of
/// `/proc/$$/fd` taken before any pipe is open (with `ls | awk`, the
/// pipeline's own pipes showed up or not depending on timing), while the
/// `{ }` redirection holds the original stdout on a saved descriptor.
fn install_probe(sb: &Sandbox) -> String {
    let o = sb.out.display();
    let probe = sb.out.join("probe");
    std::fs::write(
        &probe,
        format!(
            "#!/bin/sh\n\
             {{ echo \"--- $0\"; printf 'arg %s\\n' \"$@\"; echo \"cwd $(pwd -P) umask $(umask) core $(ulimit -c)\"\n\
             /usr/bin/env\n\
             /bin/grep -E '^Sig(Ign|Blk)' /proc/self/status\n\
             for f in /proc/$$/fd/*; do echo \"fd ${{f##*/}} $(/usr/bin/readlink $f)\"; done\n\
             }} >> {o}/calls 2>&1\n\
             exit 0\n"
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&probe, std::fs::Permissions::from_mode(0o755)).unwrap();
    probe.display().to_string()
}

/// `/etc/sv/NAME` with the fixture's `run` (its first line replaced by
/// `first_line`) and `finish` (wrapped so that the test learns runsv's
/// arguments and when it is done).
fn service(sb: &Sandbox, name: &str, first_line: &str, body: &str, finish: Option<&str>) {
    let o = sb.out.display();
    let wrapper = format!(
        "#!/bin/sh\necho \"$1 $2\" > {o}/finish-args\n\
         if [ -x ./finish.pkg ]; then ./finish.pkg \"$@\" >> {o}/finish-args 2>&1; fi\n\
         /usr/bin/touch {o}/finished\n"
    );
    sb.service(name, first_line, body, &wrapper);
    if let Some(f) = finish {
        sb.write(&format!("etc/sv/{name}/finish.pkg"), f, 0o755);
    }
}

fn observe(name: &str, first_line: &str, setup: &dyn Fn(&Sandbox, &str, &str)) -> Seen {
    let sb = Sandbox::new();
    let probe = install_probe(&sb);
    setup(&sb, first_line, &probe);
    sb.once(name);
    let out = sb.out.display().to_string();
    let root = sb.root.display().to_string();
    let clean = |file: &str| {
        let text = sb.output(file).replace(&out, "OUT").replace(&root, "ROOT");
        // Pipe and socket inode numbers differ from run to run.
        let mut s = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(i) = rest.find(":[") {
            s.push_str(&rest[..i + 2]);
            rest = &rest[i + 2..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits > 0 {
                s.push('N');
            }
            rest = &rest[digits..];
        }
        s.push_str(rest);
        s
    };
    Seen {
        stdout: clean("stdout"),
        stderr: clean("stderr"),
        calls: clean("calls"),
        policy_args: clean("policy-args"),
        initd_args: clean("initd-args"),
        finish_args: clean("finish-args"),
    }
}

/// (Debian's, ours): the same setup, the run file's first line naming
/// `debian_first_line` or our interpreter.
fn both(name: &str, debian_first_line: &str, setup: &dyn Fn(&Sandbox, &str, &str)) -> (Seen, Seen) {
    (
        observe(name, debian_first_line, setup),
        observe(name, OURS, setup),
    )
}

fn assert_same(debian: &Seen, ours: &Seen) {
    assert_eq!(
        debian, ours,
        "Debian's invoke-run (left) and ours (right) differ"
    );
}

/// The lines of the probe's first call that start with `prefix`.
fn first_call_lines<'a>(seen: &'a Seen, prefix: &str) -> Vec<&'a str> {
    seen.calls
        .split("--- ")
        .nth(1)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with(prefix))
        .collect()
}

// ---- /etc/sv/ssh, modelled on openssh-server 1:9.2p1-2+deb12u10 ----

/// The run file: `set -e`, a soft dependency on auditd, a marker file that
/// turns the service off (161), a config test that must pass (162), then
/// the daemon with `$SSHD_OPTS` unquoted. Both the config test and the
/// daemon are the probe; the marker lives in the output directory.
fn ssh_run(sb: &Sandbox, probe: &str) -> String {
    format!(
        r#"set -e
NAME="ssh"
sv start auditd || sv check auditd || true

# an admin's marker file keeps the daemon off
test -e {o}/sshd_not_to_be_run && exit 161
exec 2>&1
{probe} -t || exit 162
echo "$NAME: launching"
exec {probe} -D -e $SSHD_OPTS
"#,
        o = sb.out.display()
    )
}

/// The finish file: names the two exit codes of the run file and takes the
/// service down for them.
const SSH_FINISH: &str = r#"#!/bin/sh
set -e
NAME=ssh
[ "$1" = -1 ] && echo "$NAME: ./run could not be started"
[ "$1" = 161 ] && echo "$NAME: off by local choice (code $1)" \
  && sv d "$(dirname "$0")" && exit 0
[ "$1" = 162 ] && echo "$NAME: checks before the start failed (code $1)" \
  && sv d "$(dirname "$0")" && exit 0
echo "$NAME: ended"
"#;

/// /etc/default/ssh: comments and one empty assignment.
const SSH_DEFAULTS: &str = "# Read by /bin/sh (the init script) and by invoke-run.\n\n\
# Extra command-line options for sshd:\nSSHD_OPTS=\n";

fn ssh(sb: &Sandbox, first_line: &str, probe: &str) {
    service(sb, "ssh", first_line, &ssh_run(sb, probe), Some(SSH_FINISH));
    sb.write("etc/default/ssh", SSH_DEFAULTS, 0o644);
    // dh_runit's markers: the package is installed.
    sb.write("etc/sv/ssh/.meta/installed", "", 0o644);
    sb.write("usr/share/runit/meta/ssh/installed", "", 0o644);
}

#[test]
fn openssh_server_ssh_starts_with_the_same_daemon_environment() {
    let (debian, ours) = both("ssh", DEBIAN, &ssh);
    assert_same(&debian, &ours);
    assert_eq!(
        ours.stdout,
        "fail: auditd: unable to change to service directory: file does not exist\n\
         fail: auditd: unable to change to service directory: file does not exist\n\
         ssh: launching\n"
    );
    assert_eq!(ours.finish_args, "0 0\nssh: ended\n");
    assert!(ours.calls.contains("arg -t\n"), "{}", ours.calls);
    assert!(
        ours.calls
            .contains("arg -D\narg -e\ncwd /etc/sv/ssh umask 0022 core ")
    );
    assert_eq!(first_call_lines(&ours, "SSHD_OPTS="), ["SSHD_OPTS="]);
    assert_eq!(first_call_lines(&ours, "NAME="), ["NAME=ssh"]);
}

#[test]
fn openssh_server_ssh_with_options_in_etc_default_ssh() {
    let (debian, ours) = both("ssh", DEBIAN, &|sb, first, probe| {
        ssh(sb, first, probe);
        sb.write(
            "etc/default/ssh",
            "# louder logs, another port\nSSHD_OPTS='-o LogLevel=VERBOSE -p 2222'\n",
            0o644,
        );
    });
    assert_same(&debian, &ours);
    assert!(
        ours.calls
            .contains("arg -D\narg -e\narg -o\narg LogLevel=VERBOSE\narg -p\narg 2222\n"),
        "{}",
        ours.calls
    );
}

#[test]
fn openssh_server_ssh_disabled_by_sshd_not_to_be_run() {
    let (debian, ours) = both("ssh", DEBIAN, &|sb, first, probe| {
        ssh(sb, first, probe);
        std::fs::write(sb.out.join("sshd_not_to_be_run"), "").unwrap();
    });
    assert_same(&debian, &ours);
    assert_eq!(ours.calls, "", "the daemon must not start");
    assert_eq!(
        ours.finish_args,
        "161 0\nssh: off by local choice (code 161)\n"
    );
}

#[test]
fn openssh_server_ssh_hands_over_from_its_init_script_with_policy_104() {
    let (debian, ours) = both("ssh", DEBIAN, &|sb, first, probe| {
        ssh(sb, first, probe);
        sb.policy(104);
        // An init script of the usual shape: gives up without its daemon,
        // reads its defaults, stops through start-stop-daemon (the probe).
        sb.write(
            "etc/init.d/ssh",
            format!(
                "#!/bin/sh\necho \"$@\" >> {o}/initd-args\n\
                 [ -x {probe} ] || exit 0\n\
                 [ ! -f /etc/default/ssh ] || . /etc/default/ssh\n\
                 case \"$1\" in\n\
                 stop) {probe} --stop --quiet --oknodo --pidfile /run/sshd.pid ;;\n\
                 esac\n",
                o = sb.out.display()
            ),
            0o755,
        );
    });
    assert_same(&debian, &ours);
    assert_eq!(ours.policy_args, "ssh start\n");
    assert_eq!(ours.initd_args, "stop --force-sysv\n");
    assert!(
        ours.calls.starts_with("--- OUT/probe\narg --stop\n"),
        "{}",
        ours.calls
    );
}

// ---- /etc/sv/tor and /etc/default/tor, modelled on tor 0.4.9.11-0+deb12u1 ----

/// Two assignments, commented-out examples, and an `if … then . FILE; fi`
/// (so it goes to /bin/sh). RUN_DAEMON and CLEANUP_OLD_COREFILES share one
/// of dash's hash buckets: their order in the daemon's environment follows
/// the order in which they were assigned, RUN_DAEMON first.
const TOR_DEFAULTS: &str = r#"# Settings for tor's init and run scripts; /bin/sh reads this file.
RUN_DAEMON="yes"

# Off unless uncommented:
# MAX_FILEDESCRIPTORS=8192
# NICE="--nicelevel 10"
# ulimit -c unlimited

CLEANUP_OLD_COREFILES=y

# a local override file, read only when present
if [ -e /etc/default/tor.local ] && [ -x /usr/sbin/tor ]; then
	. /etc/default/tor.local
fi
"#;

fn tor(sb: &Sandbox, first_line: &str, probe: &str) {
    let body = format!(
        r#"readonly daemon={probe}
exec 2>&1

# /etc/default/tor may lower the open-files limit
MAX_FILEDESCRIPTORS="${{MAX_FILEDESCRIPTORS:-65536}}"
ulimit -n "$MAX_FILEDESCRIPTORS"

set -- "$daemon" --defaults-torrc /usr/share/tor/tor-service-defaults-torrc \
	-f /etc/tor/torrc --Log 'notice stdout' --RunAsDaemon 0

if ! "$@" --verify-config; then
	echo "tor: configuration rejected, taking the service down"
	exec sv down tor
fi
exec /usr/bin/env -i "$@"
"#
    );
    service(sb, "tor", first_line, &body, None);
    sb.write("etc/default/tor", TOR_DEFAULTS, 0o644);
}

#[test]
fn tor_with_a_shell_defaults_file_keeps_the_assignment_order() {
    let (debian, ours) = both("tor", DEBIAN, &tor);
    assert_same(&debian, &ours);
    let env = first_call_lines(&ours, "");
    let pos = |v: &str| env.iter().position(|l| l.starts_with(v)).unwrap();
    assert!(
        pos("RUN_DAEMON=yes") < pos("CLEANUP_OLD_COREFILES=y"),
        "{env:?}"
    );
    // The second call is the daemon, under env -i.
    let daemon = ours.calls.split("--- ").nth(2).unwrap();
    assert!(daemon.contains("arg notice stdout\narg --RunAsDaemon\narg 0\ncwd"));
    assert!(!daemon.contains("NAME="), "{daemon}");
}

#[test]
fn tor_with_max_filedescriptors_from_etc_default_tor() {
    let (debian, ours) = both("tor", DEBIAN, &|sb, first, probe| {
        tor(sb, first, probe);
        sb.write(
            "etc/default/tor",
            format!("{TOR_DEFAULTS}MAX_FILEDESCRIPTORS=4096\n"),
            0o644,
        );
    });
    assert_same(&debian, &ours);
    assert_eq!(
        first_call_lines(&ours, "MAX_FILEDESCRIPTORS="),
        ["MAX_FILEDESCRIPTORS=4096"]
    );
}

/// tor's defaults file offers a commented-out `ulimit -c unlimited` for
/// core dumps. Debian's interpreter sources the file in the shell that
/// execs the run script, so the limit (and a umask, and an ignored signal)
/// reach the daemon; ours read the file in a child shell and lost them.
#[test]
fn tor_with_ulimit_c_uncommented_a_umask_and_a_trap_in_etc_default_tor() {
    let (debian, ours) = both("tor", DEBIAN, &|sb, first, probe| {
        tor(sb, first, probe);
        sb.write(
            "etc/default/tor",
            TOR_DEFAULTS.replace(
                "# ulimit -c unlimited",
                "ulimit -c unlimited\numask 027\ntrap '' HUP",
            ),
            0o644,
        );
    });
    assert_same(&debian, &ours);
    assert!(
        ours.calls
            .contains("cwd /etc/sv/tor umask 0027 core unlimited\n"),
        "{}",
        ours.calls
    );
    // SIGHUP (bit 0) ignored, as the shell left it.
    assert!(
        ours.calls.contains("SigIgn:\t0000000000000007\n"),
        "{}",
        ours.calls
    );
}

// ---- /etc/sv/acpid and /etc/default/acpid, modelled on acpid 1:2.0.33-2+b1 ----

/// Comments only, with the assignments commented out.
const ACPID_DEFAULTS: &str = r#"# Read by acpid's init and run scripts.
#
# Extra command-line options for the daemon:
#OPTIONS=""
#
# Kernel modules to load first: a list, or "all".
#MODULES="ac button"
"#;

fn acpid(sb: &Sandbox, first_line: &str, probe: &str) {
    let body = format!("exec 2>&1\nexec /usr/bin/env -i {probe} --foreground ${{OPTIONS:-}}\n");
    service(sb, "acpid", first_line, &body, None);
    sb.write("etc/default/acpid", ACPID_DEFAULTS, 0o644);
}

#[test]
fn acpid_with_a_comments_only_defaults_file() {
    let (debian, ours) = both("acpid", DEBIAN, &acpid);
    assert_same(&debian, &ours);
    assert!(
        ours.calls
            .contains("arg --foreground\ncwd /etc/sv/acpid umask")
    );
}

#[test]
fn acpid_with_options_uncommented() {
    let (debian, ours) = both("acpid", DEBIAN, &|sb, first, probe| {
        acpid(sb, first, probe);
        sb.write(
            "etc/default/acpid",
            ACPID_DEFAULTS.replace("#OPTIONS=\"\"", "OPTIONS=\"--debug --logevents\""),
            0o644,
        );
    });
    assert_same(&debian, &ours);
    assert!(
        ours.calls
            .contains("arg --foreground\narg --debug\narg --logevents\n")
    );
}

// ---- /etc/sv/dnsmasq (#!/lib/runit/invoke-run), modelled on dnsmasq 2.90-4~deb12u2 ----

/// `readonly` names, `exec sv down` when the package is gone, `${VAR:-}`
/// tests and a `${VAR:+ -r $VAR}` expansion left unquoted.
fn dnsmasq(sb: &Sandbox, first_line: &str, probe: &str) {
    let o = sb.out.display();
    let body = format!(
        r#"
readonly name=dnsmasq
readonly daemon={probe}
readonly marker={o}/installed-marker

# removed but not purged: stay down instead of failing every second
test -e "$marker" || exec sv down "$name"
test -x "$daemon" || exec sv down "$name"

# upstream servers come from resolvconf unless told otherwise
if [ -z "${{RESOLV_CONF:-}}" ] && [ "${{IGNORE_RESOLVCONF:-}}" != yes ] && [ -x /sbin/resolvconf ]; then
	RESOLV_CONF=/run/dnsmasq/resolv.conf
fi
DNSMASQ_OPTS="${{DNSMASQ_OPTS:-}} --local-service"

exec "$daemon" --keep-in-foreground --log-facility=/dev/stdout \
	${{RESOLV_CONF:+ -r $RESOLV_CONF}} ${{DNSMASQ_OPTS}} -u dnsmasq
"#
    );
    service(
        sb,
        "dnsmasq",
        first_line,
        &body,
        Some("#!/bin/sh -eu\ntest -x /sbin/resolvconf || exit 0\n/sbin/resolvconf -d lo.dnsmasq\n"),
    );
    std::fs::write(sb.out.join("installed-marker"), "").unwrap();
    sb.write(
        "etc/default/dnsmasq",
        "# Read by dnsmasq's init and run scripts.\n\
         #DOMAIN_SUFFIX=`hostname -d`\n\
         #IGNORE_RESOLVCONF=no\n\
         CONFIG_DIR=/etc/dnsmasq.d,.dpkg-dist,.dpkg-old,.dpkg-new\n\
         #DNSMASQ_EXCEPT=\"lo eth1\"\n",
        0o644,
    );
}

#[test]
fn dnsmasq_named_directly_on_the_first_line() {
    let (debian, ours) = both("dnsmasq", "#!/lib/runit/invoke-run", &dnsmasq);
    assert_same(&debian, &ours);
    assert_eq!(
        first_call_lines(&ours, "CONFIG_DIR="),
        ["CONFIG_DIR=/etc/dnsmasq.d,.dpkg-dist,.dpkg-old,.dpkg-new"]
    );
    assert!(
        ours.calls
            .contains("arg --local-service\narg -u\narg dnsmasq\n")
    );
}

#[test]
fn dnsmasq_with_resolv_conf_and_options_from_etc_default() {
    let (debian, ours) = both("dnsmasq", "#!/lib/runit/invoke-run", &|sb, first, probe| {
        dnsmasq(sb, first, probe);
        sb.write(
            "etc/default/dnsmasq",
            "CONFIG_DIR=/etc/dnsmasq.d,.dpkg-dist,.dpkg-old,.dpkg-new\n\
             RESOLV_CONF=/etc/resolv.dnsmasq\n\
             DNSMASQ_OPTS=\"--conf-file=/etc/dnsmasq.alt --no-hosts\"\n",
            0o644,
        );
    });
    assert_same(&debian, &ours);
    assert!(ours.calls.contains(
        "arg -r\narg /etc/resolv.dnsmasq\narg --conf-file=/etc/dnsmasq.alt\narg --no-hosts\n"
    ));
}

// ---- /etc/sv/getty-ttyS0 with env/SGETTY, modelled on getty-run 2.1.2-54 ----

#[test]
fn getty_ttys0_with_an_empty_line_in_its_envdir() {
    let setup = |sb: &Sandbox, first: &str, probe: &str| {
        // Nothing read from the kernel command line: it depends on the host.
        let body = format!(
            "\n# the port is set in ./env/SGETTY\n\
             [ -z \"$SGETTY\" ] && SGETTY=ttyS0\n\
             exec 1>&2\n\
             exec {probe} -L \"$SGETTY\" 9600 vt100\n"
        );
        service(sb, "getty-ttyS0", first, &body, None);
        // One newline, as the package has it: SGETTY is set and empty.
        sb.write("etc/sv/getty-ttyS0/env/SGETTY", "\n", 0o644);
        sb.write("etc/sv/getty-ttyS0/.meta/noreplace", "", 0o644);
    };
    let (debian, ours) = both("getty-ttyS0", DEBIAN, &setup);
    assert_same(&debian, &ours);
    assert!(ours.calls.contains("arg -L\narg ttyS0\narg 9600\n"));
    // Set (and empty) by the envdir, so exported: the body's default
    // assignment reaches the daemon.
    assert_eq!(first_call_lines(&ours, "SGETTY"), ["SGETTY=ttyS0"]);
}

// ---- mdadm, cron, dhclient, modelled on runit-services 0.5.5~deb12u2 (copied to /etc/sv by cpsv) ----

/// The finish file every one of these services has: hand over to Debian's
/// finish-exec.
const RUNIT_SERVICES_FINISH: &str = "#!/bin/sh\nset -e\nexec /lib/runit/finish-exec \"$@\"\n";

/// /etc/default/mdadm, modelled on what mdadm's postinst writes: five
/// plain assignments between comments.
fn mdadm_defaults(start: &str) -> String {
    format!(
        "# mdadm settings, kept by its maintainer scripts\n\
         # (dpkg-reconfigure mdadm changes them).\n\n\
         # check the arrays' redundancy every month\nAUTOCHECK=true\n\n\
         # look for arrays at boot\nAUTOSCAN=true\n\n\
         # run the monitoring daemon?\nSTART_DAEMON={start}\n\n\
         DAEMON_OPTIONS=\"--syslog\"\n\nVERBOSE=false\n"
    )
}

/// /proc/mdstat is the output directory's (this host may have no md driver).
fn mdadm(sb: &Sandbox, first_line: &str, probe: &str, start: &str) {
    std::fs::write(sb.out.join("mdstat"), "Personalities :\n").unwrap();
    let o = sb.out.display();
    let body = format!(
        "# 161: turned off in /etc/default/mdadm; 162: no md driver\n\
         [ $START_DAEMON = true ] || exit 161\n\
         test -f {o}/mdstat || exit 162\n\
         exec 2>&1\n\
         if [ -e /etc/runit/verbose ]; then echo \"run: ${{PWD##*/}} is starting\"; fi\n\
         exec {probe} --monitor --scan $DAEMON_OPTIONS\n"
    );
    service(sb, "mdadm", first_line, &body, Some(RUNIT_SERVICES_FINISH));
    sb.write("etc/sv/mdadm/.meta/bin", format!("{probe}\n"), 0o644);
    sb.write("etc/sv/mdadm/.meta/pkg", "runit-services\n", 0o644);
    sb.write("usr/share/runit/sv/mdadm/run", "", 0o755);
    sb.write("etc/default/mdadm", mdadm_defaults(start), 0o644);
}

#[test]
fn runit_services_mdadm_disabled_by_start_daemon_false() {
    let (debian, ours) = both("mdadm", DEBIAN, &|sb, first, probe| {
        mdadm(sb, first, probe, "false")
    });
    assert_same(&debian, &ours);
    assert_eq!(ours.calls, "", "the daemon must not start");
    // Debian's /lib/runit/finish-exec says this for exit code 161.
    assert_eq!(
        ours.finish_args,
        "161 0\ninvoke-run: WARNING for mdadm: disabled by local settings\n"
    );
}

#[test]
fn runit_services_mdadm_verbose_false_overrides_etc_default_runit() {
    let (debian, ours) = both("mdadm", DEBIAN, &|sb, first, probe| {
        mdadm(sb, first, probe, "true");
        sb.write("etc/default/runit", "VERBOSE=0\nDEBUG=0\n", 0o644);
    });
    assert_same(&debian, &ours);
    assert_eq!(first_call_lines(&ours, "VERBOSE="), ["VERBOSE=false"]);
    assert!(
        ours.calls
            .contains("arg --monitor\narg --scan\narg --syslog\n")
    );
}

#[test]
fn runit_services_cron_with_meta_bin_and_its_etc_default() {
    let (debian, ours) = both("cron", DEBIAN, &|sb, first, probe| {
        let body = format!(
            "sv start default-syslog || true\n\
             exec 1>&2\n\
             if [ -e /etc/runit/verbose ]; then echo \"run: ${{PWD##*/}} is starting\"; fi\n\
             exec {probe} -f\n"
        );
        service(sb, "cron", first, &body, Some(RUNIT_SERVICES_FINISH));
        for (file, text) in [
            ("bin", format!("{probe}\n")),
            ("enable", "yes\n".to_string()),
            ("onupgrade", "restart\n".to_string()),
            ("pkg", "runit-services\n".to_string()),
            ("noscripts", String::new()),
        ] {
            sb.write(&format!("etc/sv/cron/.meta/{file}"), text, 0o644);
        }
        sb.write("usr/share/runit/sv/cron/run", "", 0o755);
        // A commented example with trailing blanks.
        sb.write(
            "etc/default/cron",
            "# Read by cron's init and run scripts.\nREAD_ENV=\"yes\"\n\n\
             # EXTRA_OPTS='-L 15'  \n#EXTRA_OPTS=\"-n\"\n",
            0o644,
        );
        std::fs::create_dir_all(sb.root.join("etc/runit")).unwrap();
        sb.write("etc/runit/verbose", "", 0o644);
    });
    assert_same(&debian, &ours);
    assert!(
        ours.stderr.contains("run: cron is starting\n"),
        "{}",
        ours.stderr
    );
    assert_eq!(first_call_lines(&ours, "READ_ENV="), ["READ_ENV=yes"]);
}

// ---- Documented differences, as real packages meet them ----

/// runit-services' dhclient keeps a shell fragment in `conf/`, which its run
/// file sources itself (`. ./conf/interfaces`); djbdns' dnscache keeps an
/// envdir there. Debian's interpreter reads `env/` only (since runit
/// 2.1.2-51); ours reads `conf/` as well, servicebuilder's own envdir. So
/// under ours dhclient also gets `interfaces=INTERFACES=`, and dnscache its
/// variables (which its run file needs), as invoke-run(8) lists.
#[test]
fn conf_of_packages_written_for_env_is_read_as_an_envdir_by_ours_only() {
    let setup = |sb: &Sandbox, first: &str, probe: &str| {
        let body = format!(
            "exec 2>&1\n. ./conf/interfaces || exit 162\nexec {probe} -d ${{INTERFACES:-}}\n"
        );
        service(sb, "dhclient", first, &body, Some(RUNIT_SERVICES_FINISH));
        sb.write("etc/sv/dhclient/conf/interfaces", "INTERFACES=\n", 0o644);
    };
    let (debian, ours) = both("dhclient", DEBIAN, &setup);
    assert_eq!(first_call_lines(&debian, "interfaces="), Vec::<&str>::new());
    assert_eq!(
        first_call_lines(&ours, "interfaces="),
        ["interfaces=INTERFACES="]
    );
    let without = |s: &Seen| Seen {
        calls: s.calls.replace("interfaces=INTERFACES=\n", ""),
        ..s.clone()
    };
    assert_same(&without(&debian), &without(&ours));
}

// ---- /etc/default files modelled on bookworm packages' ----

/// Defaults files with the shapes bookworm packages ship (or their
/// maintainer scripts write): the same variable names, kinds of values and
/// quoting, with comments and commented-out examples of our own. All but
/// the last two are read without a shell.
const REAL_DEFAULTS: &[(&str, &str)] = &[
    // modelled on apache2 2.4.62-1~deb12u2: /etc/default/apache-htcacheclean
    (
        "apache2",
        "######## htcacheclean ########\n# the cache cleaner runs as a daemon\n\
         HTCACHECLEAN_MODE=daemon\nHTCACHECLEAN_SIZE=200M\nHTCACHECLEAN_DAEMON_INTERVAL=60\n\
         # per instance: /var/cache/apache2$DIR_SUFFIX/mod_cache_disk\n\
         #HTCACHECLEAN_PATH=/var/cache/apache2/mod_cache_disk\n\
         HTCACHECLEAN_OPTIONS=\"-n\"\n",
    ),
    // modelled on bind9 1:9.18: /etc/default/named
    (
        "bind9",
        "#\n# hand the server to resolvconf?\nRESOLVCONF=no\n\n# named's own flags\nOPTIONS=\"-u bind\"\n",
    ),
    // modelled on nfs-common 1:2.6.2-4: /etc/default/nfs-common (empty assignments)
    (
        "nfs-common",
        "# Empty NEED_ switches are guessed at start-up.\n\
         NEED_STATD=\n\n# rpc.statd flags\nSTATDOPTS=\n\n\
         NEED_IDMAPD=\n\nNEED_GSSD=\n",
    ),
    // modelled on ntpsec 1.2.2: /etc/default/ntpsec
    (
        "ntpsec",
        "NTPD_OPTS=\"-g -N\"\n\n# \"yes\": leave out servers learnt from DHCP\n\
         IGNORE_DHCP=\"\"\n\n# the certificate's name, when certbot manages one\n\
         NTPSEC_CERTBOT_CERT_NAME=\"\"\n",
    ),
    // modelled on openvpn 2.6.3: /etc/default/openvpn
    (
        "openvpn",
        "# which tunnels start, e.g.:\n#AUTOSTART=\"lab\"\n#AUTOSTART=\"home lab\"\n\
         #STATUSREFRESH=30\n# extra command-line arguments\n\
         OPTARGS=\"\"\n#\n# keep running past sendsigs at shutdown\nOMIT_SENDSIGS=0\n",
    ),
    // modelled on rsync 3.2.7: /etc/default/rsync (the classic "disabled here" switch)
    (
        "rsync",
        "# daemon mode from the init script: true, false or inetd\n\
         RSYNC_ENABLE=false\n\n#RSYNC_CONFIG_FILE=/etc/rsyncd.local.conf\n\n\
         # extra daemon options\nRSYNC_OPTS=''\n\n\
         # niceness and I/O class\nRSYNC_NICE=''\n# RSYNC_IONICE='-c2 -n7'\n",
    ),
    // modelled on passwd: /etc/default/useradd (assigns SHELL)
    (
        "passwd",
        "# defaults for new accounts\n#\nSHELL=/bin/sh\n#\n# CREATE_MAIL_SPOOL=no\n",
    ),
    // modelled on anacron 2.3-36: /etc/default/anacron
    (
        "anacron",
        "# arguments for anacron when started at boot\n\
         ANACRON_RUN_ON_BATTERY_POWER=no\nANACRON_ARGS=-s\n",
    ),
    // modelled on mdadm 4.2: /etc/default/mdadm, written by its postinst
    ("mdadm", ""),
    // modelled on tor 0.4.9.11: /etc/default/tor (an if/. block: read by /bin/sh)
    ("tor", TOR_DEFAULTS),
    // modelled on grub2-common 2.06: /etc/default/grub (backquotes: /bin/sh)
    (
        "grub2-common",
        "# run update-grub after changing this file\n\
         GRUB_DEFAULT=0\nGRUB_TIMEOUT=3\n\
         GRUB_DISTRIBUTOR=`lsb_release --id --short 2>/dev/null || echo Debian`\n\
         GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_CMDLINE_LINUX=\"\"\n\n\
         # a serial console only:\n#GRUB_TERMINAL=serial\n\
         GRUB_DISABLE_OS_PROBER=true\n",
    ),
];

/// Run `/etc/sv/foo/run` (body: `env -0`) from its directory, without
/// runsv; return the exit code, stdout, stderr and the environment in the
/// order the body passed it on.
fn direct_env(first_line: &str, defaults: &str) -> (i32, String, String, Vec<String>) {
    let sb = Sandbox::new();
    let o = sb.out.display();
    sb.service(
        "foo",
        first_line,
        &format!("exec /usr/bin/env -0 > {o}/env\n"),
        "",
    );
    sb.write("etc/default/runit", "VERBOSE=0\nDEBUG=0\n", 0o644);
    sb.write("etc/default/foo", defaults, 0o644);
    let code = sb.direct("foo", &[]);
    let env = sb
        .output("env")
        .split('\0')
        .filter(|e| !e.is_empty())
        .map(str::to_owned)
        .collect();
    (code, sb.output("stdout"), sb.output("stderr"), env)
}

#[test]
fn real_defaults_files_give_the_daemon_the_same_environment_in_the_same_order() {
    let mdadm = mdadm_defaults("true");
    for &(package, text) in REAL_DEFAULTS {
        let text = if package == "mdadm" {
            mdadm.as_str()
        } else {
            text
        };
        let debian = direct_env(DEBIAN, text);
        let ours = direct_env(OURS, text);
        assert_eq!(debian, ours, "{package}: Debian's (left) and ours (right)");
        assert_eq!(ours.0, 0, "{package}: {}", ours.2);
    }
}
