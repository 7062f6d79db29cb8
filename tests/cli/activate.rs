//! `activate`: the seed's Activate, Write and Stage.

use crate::fixture::{Host, mode};

const WEB: &str = "\
web:
  run: [python3, -m, http.server]
  log: [svlogd, -tt, ./main]
  sleep: 0
redis:
  run: [redis-server, --port, '6603']
";

#[test]
fn written_templates_read_back_equal() {
    let fake = servicebuilder::testing::FakeServiceBuilder::new().unwrap();
    let t = servicebuilder::template::parse_templates(WEB, "web.yaml".as_ref()).unwrap();
    fake.write("app", &t).unwrap();
    assert_eq!(fake.read("app").unwrap(), t);
}

#[test]
fn an_empty_template_removes_the_file() {
    let h = Host::new();
    let f = h.file("in/app.yaml", WEB);
    h.ok(&["activate", "app", f.to_str().unwrap()]);
    assert!(h.config().join("app.yaml").is_file());
    let empty = h.file("in/empty.yaml", "{}\n");
    h.ok(&["activate", "app", empty.to_str().unwrap()]);
    assert!(!h.config().join("app.yaml").exists());
}

#[test]
fn staged_files_have_their_modes_and_the_log_dir_exists() {
    let h = Host::new();
    let f = h.file("in/app.yaml", WEB);
    h.ok(&["activate", "app", f.to_str().unwrap()]);
    let web = h.staging().join("web");
    assert_eq!(mode(&web.join("run")), 0o755);
    assert_eq!(mode(&web.join("finish")), 0o755);
    assert_eq!(mode(&web.join("log/run")), 0o755);
    assert!(web.join("log/main").is_dir());
    assert_eq!(
        std::fs::read_to_string(web.join(".meta/servicebuilder")).unwrap(),
        "config app.yaml\n"
    );
    let run = std::fs::read_to_string(web.join("run")).unwrap();
    assert!(run.ends_with("exec python3 -m http.server\n"), "{run}");
    assert_eq!(
        std::fs::read_link(h.runit().join("web")).unwrap(),
        h.staging().join("web")
    );
}

#[test]
fn restart_never_writes_down_and_always_removes_it() {
    let h = Host::new();
    let never = h.file("in/a.yaml", "a: {run: [x], restart: never}\n");
    h.ok(&["activate", "a", never.to_str().unwrap()]);
    assert!(h.staging().join("a/down").is_file());
    let always = h.file("in/b.yaml", "a: {run: [x], restart: always}\n");
    h.ok(&["activate", "a", always.to_str().unwrap()]);
    assert!(!h.staging().join("a/down").exists());
}

#[test]
fn activating_twice_succeeds_and_writes_nothing_the_second_time() {
    let h = Host::new();
    let f = h.file("in/app.yaml", WEB);
    h.ok(&["activate", "app", f.to_str().unwrap()]);
    let before = h.snapshot();
    std::thread::sleep(std::time::Duration::from_millis(20));
    h.ok(&["activate", "app", f.to_str().unwrap()]);
    assert_eq!(before, h.snapshot());
}

#[test]
fn a_changed_template_rewrites_only_what_changed() {
    let h = Host::new();
    let f = h.file("in/app.yaml", "a: {run: [x], env: {A: '1', B: '2'}}\n");
    h.ok(&["activate", "app", f.to_str().unwrap()]);
    let run_before = std::fs::metadata(h.staging().join("a/run"))
        .unwrap()
        .modified()
        .unwrap();
    let f = h.file("in/app.yaml", "a: {run: [x], env: {A: '3'}}\n");
    std::thread::sleep(std::time::Duration::from_millis(20));
    h.ok(&["activate", "app", f.to_str().unwrap()]);
    let run_after = std::fs::metadata(h.staging().join("a/run"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(
        run_before, run_after,
        "run did not change, so it is not rewritten"
    );
    assert_eq!(std::fs::read(h.staging().join("a/conf/A")).unwrap(), b"3\n");
    assert!(
        !h.staging().join("a/conf/B").exists(),
        "a variable that went away is removed"
    );
}

#[test]
fn a_service_another_file_declares_is_refused_naming_both_files() {
    let h = Host::new();
    let f = h.file("in/one.yaml", "a: {run: [x]}\n");
    h.ok(&["activate", "one", f.to_str().unwrap()]);
    let err = h.fails(&["activate", "two", f.to_str().unwrap()]);
    assert!(err.contains("one.yaml"), "{err}");
    assert!(!h.config().join("two.yaml").exists());
}

#[test]
fn a_foreign_link_in_the_runit_root_is_not_replaced() {
    let h = Host::new();
    std::fs::create_dir_all(h.runit()).unwrap();
    std::os::unix::fs::symlink("/etc/sv/getty-1", h.runit().join("a")).unwrap();
    let f = h.file("in/one.yaml", "a: {run: [x]}\n");
    let err = h.fails(&["activate", "one", f.to_str().unwrap()]);
    assert!(err.contains("did not make"), "{err}");
    assert_eq!(
        std::fs::read_link(h.runit().join("a")).unwrap(),
        std::path::Path::new("/etc/sv/getty-1")
    );
}

#[test]
fn templates_can_come_from_standard_input() {
    let h = Host::new();
    let mut child = h
        .cmd()
        .args(["activate", "app", "-"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a: {run: [x]}\n")
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert!(h.staging().join("a/run").is_file());
}
