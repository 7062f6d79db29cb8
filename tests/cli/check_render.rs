//! `check` validates without touching anything; `render` shows or writes
//! what a template produces.

use crate::fixture::Host;

#[test]
fn check_accepts_good_files_and_warns_about_backgrounding() {
    let h = Host::new();
    let f = h.file("t.yaml", "a: {run: 'mysqld --daemonize'}\nb: {run: [x]}\n");
    let out = h
        .cmd()
        .args(["check", f.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("warning") && err.contains("`a`"), "{err}");
    assert!(!h.config().exists() && !h.staging().exists());
}

#[test]
fn render_prints_every_file_and_writes_nothing() {
    let h = Host::new();
    let f = h.file("t.yaml", "a: {run: [x, 'y z'], env: {K: v}}\n");
    let out = h.ok(&["render", f.to_str().unwrap()]);
    assert!(out.contains("==> a/run (0755)"), "{out}");
    assert!(out.contains("exec x 'y z'"), "{out}");
    assert!(out.contains("==> a/conf/K (0644)\nv\n"), "{out}");
    assert!(!h.staging().exists());
}

#[test]
fn render_to_a_directory_writes_the_service_directories() {
    let h = Host::new();
    let f = h.file("t.yaml", "a: {run: [x]}\n");
    let to = h.path("out");
    h.ok(&["render", f.to_str().unwrap(), "--to", to.to_str().unwrap()]);
    assert!(to.join("a/run").is_file());
}

#[test]
fn man_page_and_completions_are_generated_from_the_clap_definitions() {
    let h = Host::new();
    let man = h.ok(&["generate", "man"]);
    assert!(
        man.contains(".TH servicebuilder"),
        "{}",
        &man[..200.min(man.len())]
    );
    for shell in ["bash", "zsh", "fish"] {
        let out = h.ok(&["generate", "completions", shell]);
        assert!(out.contains("activate"), "{shell}");
    }
}
