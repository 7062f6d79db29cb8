//! Compatibility with the original servicebuilder: string commands, the
//! bare `-c -s -d` form, and rebuilding every file of the config root.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::fixture::{Host, Runsvdir, wait_until};

/// The original README's sample config, verbatim.
const README_SAMPLE: &str = "\
mysql:
   run: mysqld -fg
   sleep: 30
sshd:
   run: sshd -fg
   log: svlogd -tt
   logsleep: 5
";

fn original(h: &Host) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_servicebuilder"));
    c.arg("-c")
        .arg(h.config())
        .arg("-s")
        .arg(h.staging())
        .arg("-d")
        .arg(h.runit())
        .env("SERVICEBUILDER_INTERPRETER", "/bin/sh")
        .env("SERVICEBUILDER_FINISH_DEFAULT", "/bin/true");
    c
}

/// Stand-ins for the daemons the sample names: they stay in the
/// foreground and say who they are.
fn fake_daemons(h: &Host) -> std::path::PathBuf {
    for name in ["mysqld", "sshd"] {
        let p = h.file(
            &format!("bin/{name}"),
            &format!("#!/bin/sh\necho \"{name} $*\"\nexec sleep 1000\n"),
        );
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    h.path("bin")
}

#[test]
fn the_readme_sample_is_staged_as_the_original_does() {
    let h = Host::new();
    h.file("config/sample.yaml", README_SAMPLE);
    let out = original(&h).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mysql = std::fs::read_to_string(h.staging().join("mysql/run")).unwrap();
    assert!(mysql.ends_with("sleep 30\nexec mysqld -fg\n"), "{mysql}");
    let sshd_log = std::fs::read_to_string(h.staging().join("sshd/log/run")).unwrap();
    assert_eq!(sshd_log, "#!/bin/sh\nsleep 5\nexec svlogd -tt ./main\n");
    for s in ["mysql", "sshd"] {
        assert_eq!(
            std::fs::read_link(h.runit().join(s)).unwrap(),
            h.staging().join(s)
        );
    }
}

#[test]
fn the_readme_sample_runs_under_a_real_runsvdir() {
    let h = Host::new();
    h.file("config/sample.yaml", README_SAMPLE);
    let bin = fake_daemons(&h);
    assert!(original(&h).status().unwrap().success());
    let _runsvdir = Runsvdir::start(&h.runit(), Some(&bin));
    let current = h.staging().join("sshd/log/main/current");
    assert!(
        wait_until(20, || std::fs::read_to_string(&current)
            .is_ok_and(|t| t.contains("sshd -fg"))),
        "sshd's output never reached svlogd's ./main/current"
    );
    // mysql sleeps 30 s before its exec, as configured: runsv runs it.
    let status = Command::new("sv")
        .arg("status")
        .arg(h.runit().join("mysql"))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&status.stdout).starts_with("run: "),
        "{}",
        String::from_utf8_lossy(&status.stdout)
    );
}

#[test]
fn a_mixed_directory_rebuilds_the_good_files_and_reports_the_bad_one() {
    let h = Host::new();
    h.file("config/strings.yaml", "a: {run: daemon-a -f}\n");
    h.file("config/lists.yaml", "b: {run: [daemon-b, --foreground]}\n");
    h.file("config/broken.yaml", "c: {run: [x]\n");
    h.file("config/notes.txt", "not: {yaml: at all\n");
    h.file("config/.hidden.yaml", "d: {run: [x]}\n");
    let out = original(&h).output().unwrap();
    assert!(!out.status.success(), "one bad file fails the run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.yaml:2:1"), "{err}");
    assert!(!err.contains("notes.txt"), "{err}");
    assert!(h.staging().join("a/run").is_file());
    assert!(h.staging().join("b/run").is_file());
    assert!(!h.staging().join("c").exists());
    assert!(!h.staging().join("d").exists());
}

#[test]
fn a_second_rebuild_writes_nothing() {
    let h = Host::new();
    h.file("config/sample.yaml", README_SAMPLE);
    assert!(original(&h).status().unwrap().success());
    let before = h.snapshot();
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert!(original(&h).arg("rebuild").status().unwrap().success());
    assert_eq!(before, h.snapshot());
}

#[test]
fn rebuild_with_prune_removes_what_no_file_declares() {
    let h = Host::new();
    h.file("config/sample.yaml", README_SAMPLE);
    assert!(original(&h).status().unwrap().success());
    h.file("config/sample.yaml", "sshd: {run: sshd -fg}\n");
    assert!(original(&h).arg("--prune").status().unwrap().success());
    assert!(!h.staging().join("mysql").exists());
    assert!(std::fs::symlink_metadata(h.runit().join("mysql")).is_err());
    assert!(h.staging().join("sshd/run").exists());
}

#[test]
fn short_root_options_work_on_every_subcommand() {
    let h = Host::new();
    let f = h.file("in/x.yaml", "a: {run: [x]}\n");
    assert!(
        original(&h)
            .args(["activate", "x"])
            .arg(&f)
            .status()
            .unwrap()
            .success()
    );
    assert!(h.staging().join("a/run").is_file());
}
