//! `depends` under a real runsvdir: a dependency whose runsv appears only
//! later (boot, or a package installing both) is waited for, instead of
//! failing with 170 and keeping the service down for good.

use crate::fixture::{Host, Runsvdir, wait_until};

fn cmdline(pid: u64) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

fn pid_of(h: &Host, service: &str) -> Option<u64> {
    let out = h.run(&["status", service, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    v[0]["pid"].as_u64().filter(|p| *p != 0)
}

#[test]
fn a_dependency_that_appears_later_is_waited_for() {
    let h = Host::new();
    let finish = env!("CARGO_BIN_EXE_finish-default");
    let a = h.file(
        "in/a.yaml",
        "a: {run: [sleep, '1001'], depends: [b], sleep: 0}\n",
    );
    assert!(
        h.cmd_with_finish(finish)
            .args(["activate", "a"])
            .arg(&a)
            .status()
            .unwrap()
            .success()
    );
    let _runsvdir = Runsvdir::start(&h.runit(), None);
    // b does not exist yet: a's run script is waiting for it (up to 30 s
    // from its start, so b comes soon enough even on a loaded machine).
    assert!(
        wait_until(15, || h.runit().join("a/supervise/ok").exists()),
        "runsvdir never started a"
    );
    std::thread::sleep(std::time::Duration::from_secs(1));
    let b = h.file("in/b.yaml", "b: {run: [sleep, '1002'], sleep: 0}\n");
    assert!(
        h.cmd_with_finish(finish)
            .args(["activate", "b"])
            .arg(&b)
            .status()
            .unwrap()
            .success()
    );
    assert!(
        wait_until(60, || pid_of(&h, "a")
            .is_some_and(|p| cmdline(p) == "sleep 1001 ")),
        "a never reached its daemon: {}",
        String::from_utf8_lossy(&h.run(&["status", "a", "b"]).stdout)
    );
    assert!(pid_of(&h, "b").is_some_and(|p| cmdline(p) == "sleep 1002 "));
}
