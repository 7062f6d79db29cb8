//! Argv elements reach the daemon byte for byte, whatever they contain.

use proptest::prelude::*;
use servicebuilder::render::{RenderOptions, render_service};
use servicebuilder::template::{Command, ServiceTemplate};

/// Renders `args` behind a program that prints what it received, runs the
/// run file with /bin/sh, and returns the arguments the program saw.
fn received(dir: &std::path::Path, args: &[String]) -> Vec<String> {
    let mut argv = vec![
        "perl".to_string(),
        "-e".into(),
        "print map { $_ . qq(\\0) } @ARGV".into(),
        "--".into(),
    ];
    argv.extend(args.iter().cloned());
    let mut t = ServiceTemplate::new(Command::Argv(argv));
    t.sleep = Some(0);
    t.stderr_to_log = Some(false);
    let opts = RenderOptions {
        interpreter: "/bin/sh".into(),
        ..Default::default()
    };
    let run = render_service("q", &t, &opts)
        .into_iter()
        .find(|e| e.path.as_os_str() == "run")
        .unwrap();
    let path = dir.join("run");
    std::fs::write(&path, run.contents().unwrap()).unwrap();
    let out = std::process::Command::new("/bin/sh")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut parts: Vec<String> = out
        .stdout
        .split(|b| *b == 0)
        .map(|p| String::from_utf8(p.to_vec()).unwrap())
        .collect();
    parts.pop(); // after the last NUL
    parts
}

fn arg() -> impl Strategy<Value = String> {
    prop_oneof![
        // Shell metacharacters, quotes, blanks and newlines.
        proptest::string::string_regex("[-'\"`$\\\\ \t\n;&|<>(){}\\[\\]*?~#!=%^a-z]{0,12}")
            .unwrap(),
        // Any Unicode scalar except NUL.
        any::<String>().prop_map(|s| s.replace('\0', "")),
        Just(String::new()),
        Just("-".to_string()),
        Just("--".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("SB_QUOTING_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
    ))]

    #[test]
    fn the_daemon_receives_exactly_the_argv_written(args in proptest::collection::vec(arg(), 0..6)) {
        let dir = tempfile::tempdir().unwrap();
        prop_assert_eq!(received(dir.path(), &args), args);
    }
}

#[test]
fn known_hard_cases() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<String> = [
        "",
        " ",
        "'",
        "''",
        "\"",
        "$HOME",
        "`id`",
        "$(id)",
        "a\nb",
        "\t",
        "-x",
        "--",
        "*",
        "~",
        "#x",
        "é",
        "\u{1F600}",
        "\\",
        "!",
        "a'b\"c",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(received(dir.path(), &cases), cases);
}
