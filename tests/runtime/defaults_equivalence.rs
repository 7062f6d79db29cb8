//! The in-process reader of `/etc/default` files agrees with `/bin/sh` on
//! every file it accepts (plain values, and values with parameter
//! expansions, with `set -u` and without), and the shell path (`export -p`)
//! reports exactly what the shell would pass to a program it runs.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::process::Command;

use proptest::prelude::*;
use servicebuilder::runtime::defaults_file::{parse_plain, read_in_process, source_with_sh};
use servicebuilder::runtime::env::Env;

type Vars = BTreeMap<Vec<u8>, Vec<u8>>;

fn base_env() -> Env {
    let mut env = Env::new();
    env.set("PATH", "/usr/bin:/bin");
    env.set("NAME", "foo");
    env.set("KEEP", "kept value");
    // Values that would change if the shell split fields, expanded globs or
    // re-read `$` in an assignment.
    env.set("SPACEY", "  a  *  b ");
    env.set("DOLLAR", "$KEEP ${KEEP} `x`");
    env.set("EMPTY", "");
    env
}

fn to_vars(env: &Env) -> Vars {
    env.iter()
        .filter(|(k, _)| k.as_bytes() != b"PWD")
        .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect()
}

/// What `/bin/sh` exports after `set -a; . FILE`, as seen by `env -0`.
fn sh_oracle(text: &[u8]) -> Result<Vars, String> {
    sh_oracle_with(text, false)
}

/// [`sh_oracle`], with `set -u` when `nounset` (as for `/etc/default/runit`).
fn sh_oracle_with(text: &[u8], nounset: bool) -> Result<Vars, String> {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), text).unwrap();
    let set = if nounset { "set -au" } else { "set -a" };
    let out = Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("{set}; . \"$0\"; exec /usr/bin/env -0"))
        .arg(file.path())
        .env_clear()
        .envs(base_env().iter())
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(out
        .stdout
        .split(|&c| c == 0)
        .filter(|e| !e.is_empty())
        .map(|e| {
            let eq = e.iter().position(|&c| c == b'=').unwrap();
            (e[..eq].to_vec(), e[eq + 1..].to_vec())
        })
        .filter(|(k, _)| k != b"PWD")
        .collect())
}

fn in_process(text: &[u8]) -> Option<Vars> {
    let mut env = base_env();
    for (k, v) in parse_plain(text)? {
        env.set(OsString::from_vec(k), OsString::from_vec(v));
    }
    Some(to_vars(&env))
}

/// What invoke-run's in-process reader makes of `text`: `None` when it
/// hands the file to the shell.
fn read_ours(text: &[u8], nounset: bool) -> Option<Vars> {
    let mut env = base_env();
    for (k, v) in read_in_process(text, &env, nounset)? {
        env.set(OsString::from_vec(k), OsString::from_vec(v));
    }
    Some(to_vars(&env))
}

fn via_export_p(text: &[u8]) -> Vars {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), text).unwrap();
    let env = source_with_sh(file.path(), &base_env(), false).expect("the shell path works");
    to_vars(&env)
}

// A grammar of plain defaults files.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("A".to_string()),
        Just("KEEP".to_string()),
        Just("NAME".to_string()),
        "[A-Za-z_][A-Za-z0-9_]{0,6}".prop_filter("shell-special names go to sh", |n| {
            ![
                "IFS",
                "OPTIND",
                "OPTARG",
                "LINENO",
                "PPID",
                "PS1",
                "PS2",
                "PS4",
                "PWD",
                "OLDPWD",
                "ENV",
                "MAIL",
                "MAILPATH",
                "MAILCHECK",
                "HISTSIZE",
                "HOME",
                "CDPATH",
                "PATH",
            ]
            .contains(&n.as_str())
        }),
    ]
}

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_./:=%+,@!^#-]{1,8}",
        "[é€ü]{1,2}",
        "[A-Za-z0-9 \t$`\\\\\"#;&|<>(){}*?~é-]{0,8}".prop_map(|s| format!("'{s}'")),
        "[A-Za-z0-9 \t'#;&|<>(){}*?~é-]{0,8}".prop_map(|s| format!("\"{s}\"")),
    ]
}

// A grammar of defaults files with parameter expansions. Referenced names
// include set, empty and unset variables, and the names assigned by the
// file itself, so that order matters.
fn ref_name() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "A", "B", "KEEP", "NAME", "SPACEY", "DOLLAR", "EMPTY", "UNSET", "U2",
    ])
    .prop_map(str::to_string)
}

fn simple_ref() -> impl Strategy<Value = String> {
    prop_oneof![
        ref_name().prop_map(|n| format!("${n}")),
        ref_name().prop_map(|n| format!("${{{n}}}")),
    ]
}

fn op_word() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            "[A-Za-z0-9 \t_./:@%+,=#!^-]{1,6}",
            "[é€]{1,2}",
            simple_ref(),
        ],
        0..3,
    )
    // `$A` then `B…` would read as `$AB…`: that is fine (both sides parse
    // it), but keep most references delimited so they resolve.
    .prop_map(|w| w.join(""))
}

fn expansion() -> impl Strategy<Value = String> {
    prop_oneof![
        simple_ref(),
        (
            ref_name(),
            prop::sample::select(vec![":-", "-", ":=", "=", ":+", "+"]),
            op_word()
        )
            .prop_map(|(n, op, w)| format!("${{{n}{op}{w}}}")),
    ]
}

fn expanding_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        piece(),
        expansion(),
        (
            "[A-Za-z0-9 \t'#;&|<>(){}*?~é-]{0,4}",
            expansion(),
            "[A-Za-z0-9 \t'#;&|<>(){}*?~é-]{0,4}"
        )
            .prop_map(|(a, e, b)| format!("\"{a}{e}{b}\"")),
    ]
}

fn expanding_file() -> impl Strategy<Value = String> {
    let assignment = (
        prop_oneof![Just("A".to_string()), Just("B".to_string()), name()],
        prop::collection::vec(expanding_piece(), 0..4),
    )
        .prop_map(|(n, p)| format!("{n}={}", p.concat()));
    let line = prop_oneof![
        Just(String::new()),
        "#[ -~]{0,10}",
        (prop::collection::vec(assignment, 1..3), "[ \t]{1,2}").prop_map(|(a, sep)| a.join(&sep)),
    ];
    prop::collection::vec(line, 0..6).prop_map(|lines| lines.join("\n") + "\n")
}

fn assignment() -> impl Strategy<Value = String> {
    (name(), prop::collection::vec(piece(), 0..4)).prop_map(|(n, p)| format!("{n}={}", p.concat()))
}

fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[ \t]{0,2}#[ -~]{0,20}",
        (
            "[ \t]{0,2}",
            prop::collection::vec(assignment(), 1..4),
            "[ \t]{1,2}",
            prop_oneof![Just(String::new()), "#[ -~]{0,10}"]
        )
            .prop_map(|(lead, a, sep, comment)| format!("{lead}{}{sep}{comment}", a.join(&sep))),
    ]
}

fn plain_file() -> impl Strategy<Value = String> {
    (prop::collection::vec(line(), 0..8), any::<bool>()).prop_map(|(lines, final_newline)| {
        let mut text = lines.join("\n");
        if final_newline {
            text.push('\n');
        }
        text
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn plain_files_are_read_in_process_exactly_as_sh_reads_them(text in plain_file()) {
        let ours = in_process(text.as_bytes());
        prop_assert!(ours.is_some(), "a plain file was refused: {:?}", text);
        prop_assert_eq!(ours.unwrap(), sh_oracle(text.as_bytes()).unwrap());
    }

    #[test]
    fn files_with_expansions_are_read_in_process_exactly_as_sh_reads_them(
        text in expanding_file()
    ) {
        let ours = read_ours(text.as_bytes(), false);
        prop_assert!(ours.is_some(), "a file with expansions was refused: {:?}", text);
        prop_assert_eq!(ours.unwrap(), sh_oracle(text.as_bytes()).unwrap(), "file {:?}", text);
    }

    #[test]
    fn under_set_u_the_reader_agrees_with_sh_or_leaves_the_file_to_it(
        text in expanding_file()
    ) {
        // /etc/default/runit is read with `set -u`: a reference to an unset
        // variable is the shell's error to report, so the reader refuses it.
        let sh = sh_oracle_with(text.as_bytes(), true);
        match read_ours(text.as_bytes(), true) {
            Some(ours) => {
                prop_assert!(sh.is_ok(), "accepted {:?} but sh -u failed: {:?}", text, sh);
                prop_assert_eq!(ours, sh.unwrap(), "file {:?}", text);
            }
            None => prop_assert!(sh.is_err(), "refused {:?} although sh -u reads it", text),
        }
    }

    #[test]
    fn whatever_the_reader_accepts_sh_reads_the_same_way(
        bytes in prop::collection::vec(
            prop::sample::select(b"AB_9=x '\"$`\\#\n\t;&|~*?[]{}()<>!%:+-\xc3\xa9\x01\r".to_vec()),
            0..40,
        )
    ) {
        if let Some(ours) = read_ours(&bytes, false) {
            let sh = sh_oracle(&bytes);
            prop_assert!(sh.is_ok(), "accepted {:?} but sh failed: {:?}", String::from_utf8_lossy(&bytes), sh);
            prop_assert_eq!(ours, sh.unwrap(), "file {:?}", String::from_utf8_lossy(&bytes));
        }
    }

    #[test]
    fn the_shell_path_reports_what_sh_exports(
        values in prop::collection::vec("[ -~\n\té]{0,12}", 1..4)
    ) {
        // Values with quotes, newlines, `$` and backslashes, assigned through
        // expansions so that only the shell can read the file.
        let mut text = String::new();
        for (i, v) in values.iter().enumerate() {
            let quoted = v.replace('\'', "'\\''");
            text.push_str(&format!("RAW{i}='{quoted}'\nV{i}=\"$RAW{i}\"\n"));
        }
        text.push_str("export E=\"$NAME-$KEEP\"\nunset KEEP\n");
        prop_assert_eq!(via_export_p(text.as_bytes()), sh_oracle(text.as_bytes()).unwrap());
    }
}

#[test]
fn a_hash_inside_a_word_is_not_a_comment() {
    // `#` starts a comment only at the start of a word.
    let text = "A=1 B='x y' C=\"p q\"#not-a-comment # a comment\n";
    let ours = in_process(text.as_bytes()).unwrap();
    assert_eq!(ours, sh_oracle(text.as_bytes()).unwrap());
    assert_eq!(ours[b"C".as_slice()], b"p q#not-a-comment".to_vec());
}

#[test]
fn unset_in_a_defaults_file_removes_the_variable() {
    let vars = via_export_p(b"unset KEEP\n");
    assert!(!vars.contains_key(b"KEEP".as_slice()));
    assert_eq!(vars, sh_oracle(b"unset KEEP\n").unwrap());
}
