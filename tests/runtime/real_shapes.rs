//! Runscripts, defaults files and service directories as real Debian
//! bookworm packages ship them, started once under Debian's
//! `/lib/runit/invoke-run` and once under ours by a real runsv.
//!
//! Each fixture is the package's file with two changes only: the daemon is
//! replaced by a probe (it records its arguments, environment in the order
//! received, cwd, umask, descriptors and signal state, then exits), and
//! paths outside the sandbox's reach (`/etc/ssh/…`, `/usr/share/dnsmasq/…`)
//! point into the test's output directory. The comment above each names the
//! package and version it comes from. `tests/runtime/real-packages` repeats
//! these comparisons on the packages themselves, downloaded from the mirror.

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
    /// package's own finish printed.
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

/// `/etc/sv/NAME` with the package's `run` (its first line replaced by
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

// ---- openssh-server 1:9.2p1-2+deb12u10: /etc/sv/ssh ----

/// /etc/sv/ssh/run; the config test and the daemon are the probe, and
/// `/etc/ssh/sshd_not_to_be_run` lives in the output directory.
fn ssh_run(sb: &Sandbox, probe: &str) -> String {
    format!(
        r#"set -e

NAME="ssh"

sv start auditd  || sv check auditd || true

# don't start if 'sshd_not_to_be_run' exists
test -e {o}/sshd_not_to_be_run && exit 161

exec 2>&1

#Config test
{probe} -t || exit 162

echo "Starting $NAME..."
exec {probe} -D -e $SSHD_OPTS
"#,
        o = sb.out.display()
    )
}

/// /etc/sv/ssh/finish, as shipped.
const SSH_FINISH: &str = r#"#!/bin/sh
set -e

NAME=ssh

[ "$1" = -1 ] && echo "runsv: ERROR in $NAME: unexpected error or wrong sh syntax"
# no need to stop the service here, runsv will stop trying after the first attempt

[ "$1" = 161 ] && echo "runsv: ERROR $1 in $NAME: disabled by local settings" \
     && sv d "$(dirname "$0")" && exit 0

[ "$1" = 162 ] && echo "runsv: ERROR $1 in $NAME: configtest or early setup failed" \
     && sv d "$(dirname "$0")" && exit 0

echo "$NAME Stopped"
"#;

/// /etc/default/ssh, as shipped (comments shortened).
const SSH_DEFAULTS: &str = "# Default settings for openssh-server. This file is sourced by /bin/sh from\n\
# /etc/init.d/ssh.\n\n# Options to pass to sshd\nSSHD_OPTS=\n";

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
         Starting ssh...\n"
    );
    assert_eq!(ours.finish_args, "0 0\nssh Stopped\n");
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
            "# Options to pass to sshd\nSSHD_OPTS='-o LogLevel=VERBOSE -p 2222'\n",
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
        "161 0\nrunsv: ERROR 161 in ssh: disabled by local settings\n"
    );
}

#[test]
fn openssh_server_ssh_hands_over_from_its_init_script_with_policy_104() {
    let (debian, ours) = both("ssh", DEBIAN, &|sb, first, probe| {
        ssh(sb, first, probe);
        sb.policy(104);
        // /etc/init.d/ssh's shape: sources its defaults, checks the daemon
        // answers, stops through start-stop-daemon (here the probe).
        sb.write(
            "etc/init.d/ssh",
            format!(
                "#!/bin/sh\necho \"$@\" >> {o}/initd-args\n\
                 test -x {probe} || exit 0\n\
                 if test -f /etc/default/ssh; then . /etc/default/ssh; fi\n\
                 case \"$1\" in stop) {probe} --stop --quiet --oknodo --pidfile /run/sshd.pid ;; esac\n",
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

// ---- tor 0.4.9.11-0+deb12u1: /etc/sv/tor, /etc/default/tor ----

/// /etc/default/tor: two assignments and a conditional `.` (so it goes to
/// /bin/sh). RUN_DAEMON and CLEANUP_OLD_COREFILES share one of dash's hash
/// buckets: their order in the daemon's environment follows the order in
/// which they were assigned.
const TOR_DEFAULTS: &str = r#"# Defaults for tor initscript
# sourced by /etc/init.d/tor
#
# This is a bash shell fragment
#
RUN_DAEMON="yes"

#
# (ulimit -n)
# MAX_FILEDESCRIPTORS=

# NICE="--nicelevel 5"

# ARGS="$ARGS "

# ulimit -c unlimited

CLEANUP_OLD_COREFILES=y

# USE_AA_EXEC="yes"  # default
# USE_AA_EXEC="no"

# Let the vidalia package override some of our settings.
if [ -e /etc/default/tor.vidalia ] && [ -x /usr/bin/vidalia ]; then
	. /etc/default/tor.vidalia
fi
"#;

fn tor(sb: &Sandbox, first_line: &str, probe: &str) {
    let body = format!(
        r#"readonly daemon={probe}
exec 2>&1

MAX_FILEDESCRIPTORS="${{MAX_FILEDESCRIPTORS:-65536}}"
ulimit -n "${{MAX_FILEDESCRIPTORS}}"

# default invocation
set -- "${{daemon}}"                                             \
	--defaults-torrc /usr/share/tor/tor-service-defaults-torrc \
	-f /etc/tor/torrc                                          \
	--Log 'notice stdout'                                      \
	--RunAsDaemon 0

if ! "$@" --verify-config ; then
	echo "persistent error: Tor configuration is not valid"
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

/// /etc/default/tor says: "Uncomment the ulimit call below ... if you want
/// tor to produce coredumps". Debian's interpreter sources the file in the
/// shell that execs the run script, so the limit (and a umask, and an
/// ignored signal) reach the daemon; ours read the file in a child shell
/// and lost them.
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

// ---- acpid 1:2.0.33-2+b1: /etc/sv/acpid, /etc/default/acpid ----

const ACPID_DEFAULTS: &str = r#"# Options to pass to acpid
#
# OPTIONS are appended to the acpid command-line
#OPTIONS=""

# Linux kernel modules to load before starting acpid
#
# MODULES is a space separated list of modules to load, or "all" to load all
# acpi drivers, or commented out to load no module
#MODULES="battery ac processor button fan thermal video"
#MODULES="all"
"#;

fn acpid(sb: &Sandbox, first_line: &str, probe: &str) {
    let body = format!(
        "exec 2>&1\nexec /usr/bin/env -i {probe} --foreground ${{OPTIONS:-}}\n\n# vim: ft=sh\n"
    );
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

// ---- dnsmasq 2.90-4~deb12u2: /etc/sv/dnsmasq (#!/lib/runit/invoke-run) ----

fn dnsmasq(sb: &Sandbox, first_line: &str, probe: &str) {
    let o = sb.out.display();
    let body = format!(
        r#"
readonly name=dnsmasq
readonly daemon={probe}
readonly marker={o}/installed-marker

test -e "${{marker}}" || exec sv down "${{name}}"
test -x "${{daemon}}" || exec sv down "${{name}}"

if [ ! "${{RESOLV_CONF:-}}" ] &&
   [ "${{IGNORE_RESOLVCONF:-}}" != "yes" ] &&
   [ -x /sbin/resolvconf ]
then
	RESOLV_CONF=/run/dnsmasq/resolv.conf
fi

DNSMASQ_OPTS="${{DNSMASQ_OPTS:-}} --local-service"

exec "${{daemon}}" \
	--keep-in-foreground \
	--log-facility=/dev/stdout \
	${{RESOLV_CONF:+ -r $RESOLV_CONF}} \
	${{DNSMASQ_OPTS}} \
	-u dnsmasq
"#
    );
    service(
        sb,
        "dnsmasq",
        first_line,
        &body,
        Some(
            "#!/bin/sh -eu\nif [ -x /sbin/resolvconf ] ; then\n\t/sbin/resolvconf -d lo.dnsmasq\nfi\n",
        ),
    );
    std::fs::write(sb.out.join("installed-marker"), "").unwrap();
    sb.write(
        "etc/default/dnsmasq",
        "# This file has five functions:\n\
         #DOMAIN_SUFFIX=`dnsdomainname`\n\
         #IGNORE_RESOLVCONF=yes\n\
         CONFIG_DIR=/etc/dnsmasq.d,.dpkg-dist,.dpkg-old,.dpkg-new\n\
         #DNSMASQ_EXCEPT=\"lo\"\n",
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

// ---- getty-run 2.1.2-54: /etc/sv/getty-ttyS0 with env/SGETTY ----

#[test]
fn getty_ttys0_with_an_empty_line_in_its_envdir() {
    let setup = |sb: &Sandbox, first: &str, probe: &str| {
        // The kernel command line part is left out: it depends on the host.
        let body = format!(
            "\n#don't change here, edit ./env/SGETTY instead\n\
             [ -z \"$SGETTY\" ] && SGETTY=ttyS0\n\
             exec 1>&2\n\
             exec {probe} -L \"$SGETTY\" 9600 vt100\n"
        );
        service(sb, "getty-ttyS0", first, &body, None);
        // As shipped: one newline, so SGETTY is set and empty.
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

// ---- runit-services 0.5.5~deb12u2: mdadm, cron (copied to /etc/sv by cpsv) ----

/// runit-services' finish, as shipped for every service.
const RUNIT_SERVICES_FINISH: &str = "#!/bin/sh\nset -e\n\nexec /lib/runit/finish-exec \"$@\"\n";

/// /etc/default/mdadm as mdadm's postinst writes it.
fn mdadm_defaults(start: &str) -> String {
    format!(
        "# mdadm Debian configuration\n#\n# You can run 'dpkg-reconfigure mdadm' to modify the values in this file, if\n\
         # you want.\n\n# AUTOCHECK:\nAUTOCHECK=true\n\n# AUTOSCAN:\nAUTOSCAN=true\n\n\
         # START_DAEMON:\n#   should mdadm start the MD monitoring daemon during boot?\nSTART_DAEMON={start}\n\n\
         # DAEMON_OPTIONS:\nDAEMON_OPTIONS=\"--syslog\"\n\n# VERBOSE:\nVERBOSE=false\n"
    )
}

/// /proc/mdstat is the output directory's (this host may have no md driver).
fn mdadm(sb: &Sandbox, first_line: &str, probe: &str, start: &str) {
    std::fs::write(sb.out.join("mdstat"), "Personalities :\n").unwrap();
    let o = sb.out.display();
    let body = format!(
        "#Copyright: 2022 Lorenzo Puliti <plorenzo@disroot.org>\n#License: CC0-1.0\n\n\
         [ $START_DAEMON = true ]  || exit 161\n\
         test -f {o}/mdstat || exit 162\n\n\
         exec 2>&1\n\
         if [ -e /etc/runit/verbose ]; then\n\techo \"invoke-run: starting ${{PWD##*/}}\"\nfi\n\
         exec {probe} --monitor --scan  $DAEMON_OPTIONS\n"
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
            "sv start default-syslog ||  true\n\nexec 1>&2\n\n\
             if [ -e /etc/runit/verbose ]; then\n\techo \"invoke-run: starting ${{PWD##*/}}\"\nfi\n\
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
        sb.write(
            "etc/default/cron",
            "# Cron configuration options\nREAD_ENV=\"yes\"\n\n# EXTRA_OPTS='-l'  \n#EXTRA_OPTS=\"\"\n",
            0o644,
        );
        std::fs::create_dir_all(sb.root.join("etc/runit")).unwrap();
        sb.write("etc/runit/verbose", "", 0o644);
    });
    assert_same(&debian, &ours);
    assert!(
        ours.stderr.contains("invoke-run: starting cron\n"),
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
            "exec 2>&1\n\n. ./conf/interfaces || exit 162\n\nexec {probe} -d ${{INTERFACES:-}}\n"
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

// ---- /etc/default files of bookworm packages ----

/// Defaults files as bookworm packages ship (or their maintainer scripts
/// write) them, comments shortened; all but the last two are read without a
/// shell.
const REAL_DEFAULTS: &[(&str, &str)] = &[
    // apache2 2.4.62-1~deb12u2: /etc/default/apache-htcacheclean
    (
        "apache2",
        "#### IMPORTANT ####\n# the htcacheclean daemon\nHTCACHECLEAN_MODE=daemon\n\
         HTCACHECLEAN_SIZE=300M\nHTCACHECLEAN_DAEMON_INTERVAL=120\n\
         #HTCACHECLEAN_PATH=/var/cache/apache2$DIR_SUFFIX/mod_cache_disk\n\
         HTCACHECLEAN_OPTIONS=\"-n\"\n",
    ),
    // bind9 1:9.18: /etc/default/named
    (
        "bind9",
        "#\n# run resolvconf?\nRESOLVCONF=no\n\n# startup options for the server\nOPTIONS=\"-u bind\"\n",
    ),
    // nfs-common 1:2.6.2-4: /etc/default/nfs-common (empty assignments)
    (
        "nfs-common",
        "# If you do not set values for the NEED_ options, they will be attempted\n\
         # autodetected; this should be sufficient for most people.\n\
         NEED_STATD=\n\n# Options for rpc.statd.\nSTATDOPTS=\n\n\
         # Do you want to start the idmapd daemon?\nNEED_IDMAPD=\n\n\
         # Do you want to start the gssd daemon?\nNEED_GSSD=\n",
    ),
    // ntpsec 1.2.2: /etc/default/ntpsec
    (
        "ntpsec",
        "NTPD_OPTS=\"-g -N\"\n\n# Set to \"yes\" to ignore DHCP servers returned by DHCP.\n\
         IGNORE_DHCP=\"\"\n\n# If you use certbot to obtain a certificate for ntpd, provide its name here.\n\
         NTPSEC_CERTBOT_CERT_NAME=\"\"\n",
    ),
    // openvpn 2.6.3: /etc/default/openvpn
    (
        "openvpn",
        "#AUTOSTART=\"all\"\n#AUTOSTART=\"none\"\n#AUTOSTART=\"home office\"\n\
         #STATUSREFRESH=10\n#STATUSREFRESH=0\n# Optional arguments to openvpn's command line\n\
         OPTARGS=\"\"\n#\n# If you need openvpn running after sendsigs\nOMIT_SENDSIGS=0\n",
    ),
    // rsync 3.2.7: /etc/default/rsync (the classic "disabled here" switch)
    (
        "rsync",
        "# start rsync in daemon mode from init.d script?\n\
         #  only allowed values are \"true\", \"false\", and \"inetd\"\n\
         RSYNC_ENABLE=false\n\n# which file should be used as the configuration file\n\
         #RSYNC_CONFIG_FILE=/etc/rsyncd.conf\n\n\
         # what extra options to give rsync --daemon?\nRSYNC_OPTS=''\n\n\
         # run rsyncd at a nice level?\nRSYNC_NICE=''\n\n\
         # run rsyncd with ionice?\n# RSYNC_IONICE='-c3'\n",
    ),
    // passwd: /etc/default/useradd (assigns SHELL)
    (
        "passwd",
        "# Default values for useradd(8)\n#\nSHELL=/bin/sh\n#\n# GROUP=100\n",
    ),
    // anacron 2.3-36: /etc/default/anacron
    (
        "anacron",
        "# These options are passed to anacron when run by init.d.\n\
         ANACRON_RUN_ON_BATTERY_POWER=no\nANACRON_ARGS=-s\n",
    ),
    // mdadm 4.2: /etc/default/mdadm, written by its postinst
    ("mdadm", ""),
    // tor 0.4.9.11: /etc/default/tor (an if/. block: read by /bin/sh)
    ("tor", TOR_DEFAULTS),
    // grub2-common 2.06: the /etc/default/grub template (backquotes: /bin/sh)
    (
        "grub2-common",
        "# If you change this file, run 'update-grub' afterwards\n\
         GRUB_DEFAULT=0\nGRUB_TIMEOUT=5\n\
         GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\n\
         GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_CMDLINE_LINUX=\"\"\n\n\
         # Uncomment to disable graphical terminal\n#GRUB_TERMINAL=console\n\
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
