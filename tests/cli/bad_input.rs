//! Bad input gets a clear error with file, line and column, a non-zero
//! exit, and leaves the roots exactly as they were.

use crate::fixture::Host;

/// (template, what the error must say, line:column it must point at)
const CASES: &[(&str, &str, &str)] = &[
    ("a: {run: [x]\n", "", ":2:1"),
    ("a:\n  rnu: [x]\n", "did you mean `run`?", ":2:3"),
    ("a:\n  run: 12\n", "a list of strings", ":2:8"),
    // A validation error points at the field to change, not the service.
    ("a:\n  run: []\n", "empty", ":2:3"),
    ("a:\n  run: [x]\n  sleep: -3\n", "negative", ":3:10"),
    ("..:\n  run: [x]\n", "invalid service name", ":1:1"),
    ("a/b:\n  run: [x]\n", "invalid service name", ":1:1"),
    ("-x:\n  run: [x]\n", "invalid service name", ":1:1"),
    ("\"a b\":\n  run: [x]\n", "invalid service name", ":1:1"),
    ("\"a\\nb\":\n  run: [x]\n", "invalid service name", ""),
    ("\"\":\n  run: [x]\n", "invalid service name", ""),
    ("a:\n  run: [x]\nb: {}\n", "`run` is missing", ":3:1"),
    (
        "a:\n  run: [x]\n  group: g\n",
        "`group` needs `user`",
        ":3:3",
    ),
    (
        "a: {run: [x], default_log: true, log: [y]}\n",
        "exclude",
        ":1:15",
    ),
    ("a:\n  run: [x]\n  env: {1A: b}\n", "in `env`", ":3:3"),
    ("a:\n  run: [x]\na:\n  run: [y]\n", "declared twice", ":3:1"),
    ("a:\n  run: [x]\n  run: [y]\n", "duplicate field `run`", ""),
    (
        "a:\n  run: [x]\n  env: {A: \"b \"}\n",
        "ends in a space",
        "",
    ),
    (
        "a:\n  run: [x]\n  user: \"root:root\"\n",
        "not a valid name",
        "",
    ),
    ("- a\n- b\n", "map from service name", ""),
];

#[test]
fn each_bad_template_is_refused_with_its_position_and_nothing_changes() {
    let h = Host::new();
    let good = h.file("in/good.yaml", "keep: {run: [x]}\n");
    h.ok(&["activate", "good", good.to_str().unwrap()]);
    let before = h.snapshot();
    for (i, (text, says, at)) in CASES.iter().enumerate() {
        let f = h.file(&format!("in/bad{i}.yaml"), text);
        let err = h.fails(&["activate", "bad", f.to_str().unwrap()]);
        assert!(err.contains(says), "case {i} {text:?}: {err}");
        assert!(
            err.contains(&format!("bad{i}.yaml{at}")),
            "case {i} {text:?} should point at {at}: {err}"
        );
        assert_eq!(before, h.snapshot(), "case {i} changed the roots");
        let err = h.fails(&["check", f.to_str().unwrap()]);
        assert!(err.contains(says), "check, case {i}: {err}");
    }
}

#[test]
fn an_invalid_template_set_name_on_the_command_line_is_refused() {
    let h = Host::new();
    let f = h.file("in/x.yaml", "a: {run: [x]}\n");
    let before = h.snapshot();
    for name in ["..", "../x", "/abs", "a/b", ".hidden", "a b", ""] {
        let err = h.fails(&["activate", name, f.to_str().unwrap()]);
        assert!(err.contains("invalid template set name"), "{name:?}: {err}");
    }
    assert_eq!(before, h.snapshot());
}

#[test]
fn a_missing_file_is_named() {
    let h = Host::new();
    let err = h.fails(&["activate", "x", "/nonexistent/x.yaml"]);
    assert!(err.contains("/nonexistent/x.yaml"), "{err}");
}
