//! finish-default against Debian's `/lib/runit/finish-default`, sourced as
//! Debian's finish files do, for every exit code convention, with VERBOSE
//! and DEBUG off and on. The only difference is the spelling of
//! "dependency" (Debian's scripts write "dependecy"; its manual does not).

use crate::sandbox::{NAME, Sandbox};

/// The log of one run that ends with `ending`, finished by `finish_call`.
fn log_of(ending: &str, runit_defaults: &str, finish_call: &str) -> String {
    let sb = Sandbox::new();
    let o = sb.out.display();
    let finish =
        format!("#!/bin/sh\n{finish_call}\necho \"$1 $2\" > {o}/finish-args\ntouch {o}/finished\n");
    sb.service(NAME, "#!/bin/sh", ending, &finish);
    sb.write("etc/default/runit", runit_defaults, 0o644);
    sb.once(NAME);
    sb.output("stdout")
}

const DEBIAN: &str = "( set -e; . /lib/runit/finish-default \"$@\" )";
const OURS: &str = "/usr/lib/servicebuilder/finish-default \"$@\"";

const ENDINGS: &[&str] = &[
    "exit 0",
    "exit 1",
    "exit 161",
    "exit 162",
    "exit 170",
    "kill -KILL $$",
];

fn compare(runit_defaults: &str) -> Vec<String> {
    let mut ours_all = Vec::new();
    for ending in ENDINGS {
        let debian = log_of(ending, runit_defaults, DEBIAN);
        let ours = log_of(ending, runit_defaults, OURS);
        assert_eq!(
            debian.replace("dependecy", "dependency"),
            ours,
            "run ending with `{ending}` and /etc/default/runit {runit_defaults:?}"
        );
        ours_all.push(ours);
    }
    ours_all
}

#[test]
fn quiet_by_default_and_equal_to_debian() {
    let logs = compare("VERBOSE=0\nDEBUG=0\n");
    assert_eq!(
        logs,
        [
            "",
            "",
            "invoke-run: WARNING for foo: disabled by local settings\n",
            "invoke-run: ERROR 162 in foo: configtest or early setup failed\n",
            "invoke-run: ERROR 170 in foo: a runtime hard dependency is missing\n",
            "invoke-run: ERROR -1 in foo: runscript didn't exit normally\n",
        ]
    );
}

#[test]
fn verbose_and_debug_equal_to_debian() {
    let logs = compare("VERBOSE=1\nDEBUG=yes\n");
    assert_eq!(
        logs[1],
        "invoke-run: foo : run exit code is 1\ninvoke-run: foo stopped\n"
    );
    assert_eq!(
        logs[3],
        "invoke-run: ERROR 162 in foo: configtest or early setup failed\ninvoke-run: foo stopped\n"
    );
}

#[test]
fn debians_flag_files_turn_on_verbose_and_debug() {
    let sb = Sandbox::new();
    let o = sb.out.display();
    sb.service(
        NAME,
        "#!/bin/sh",
        "exit 3",
        &format!("#!/bin/sh\n{OURS}\ntouch {o}/finished\n"),
    );
    sb.write("etc/default/runit", "VERBOSE=0\nDEBUG=0\n", 0o644);
    sb.write("etc/runit/verbose", "", 0o644);
    sb.write("etc/runit/debug", "", 0o644);
    sb.once(NAME);
    assert_eq!(
        sb.output("stdout"),
        "invoke-run: foo : run exit code is 3\ninvoke-run: foo stopped\n"
    );
}

#[test]
fn a_runit_defaults_file_that_needs_a_shell_is_still_honoured() {
    let logs: Vec<_> = ["exit 1"]
        .iter()
        .map(|e| log_of(e, "V=1\nVERBOSE=$V\nexport DEBUG=0\n", OURS))
        .collect();
    assert_eq!(logs, ["invoke-run: foo stopped\n"]);
}
