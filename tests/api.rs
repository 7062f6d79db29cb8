//! The library as an outside crate uses it: only the public API, against a
//! real runsvdir.

use std::collections::BTreeMap;
use std::process::{Child, Command as Process};
use std::time::Duration;

#[path = "common/procs.rs"]
mod procs;
use procs::children_of;

use servicebuilder::sv::{DEFAULT_TIMEOUT, RunitSv, STATUS_DOWN, STATUS_RUN, Service, Sv, SvError};
use servicebuilder::testing::{FakeServiceBuilder, RecordingSv};
use servicebuilder::{Command, RestartPolicy, ServiceTemplate};

/// runsvdir on the fake's runit root; on drop, each runsv is told to exit
/// and runsvdir is killed, by pid.
struct Supervisor {
    runsvdir: Child,
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        // runsvdir's own TERM would leave its runsv children running, and a
        // runsv that exits while runsvdir lives is started again. So: note
        // the children (by parent pid: only what this test started), kill
        // runsvdir, then give each runsv TERM (runit's `exit`).
        let children = children_of(self.runsvdir.id());
        let _ = self.runsvdir.kill();
        let _ = self.runsvdir.wait();
        for pid in &children {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(*pid),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
        // Let them finish before the fake's roots go away.
        for _ in 0..50 {
            if children
                .iter()
                .all(|p| !std::path::Path::new(&format!("/proc/{p}")).exists())
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[test]
fn activate_stat_stop_and_prune_through_the_public_api() {
    let builder = FakeServiceBuilder::new().unwrap();
    let mut daemon = ServiceTemplate::new(Command::argv(["sleep", "1000"]));
    daemon.sleep = Some(0);
    daemon.restart = RestartPolicy::Always;
    let mut templates = BTreeMap::new();
    templates.insert("api-daemon".to_string(), daemon);
    builder.activate("api", &templates).unwrap();

    let _supervisor = Supervisor {
        runsvdir: Process::new("runsvdir")
            .arg("-P")
            .arg(&builder.runit_root)
            .spawn()
            .expect("runsvdir (install the runit package)"),
    };
    let sv = RunitSv::default();
    let service = Service::new(&builder.runit_root, "api-daemon");
    sv.wait_supervised(&service, Duration::from_secs(15))
        .unwrap();

    let mut stat = sv.stat(&service).unwrap();
    for _ in 0..50 {
        if stat.child_status == STATUS_RUN && stat.child_pid != 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        stat = sv.stat(&service).unwrap();
    }
    assert_eq!(stat.child_status, STATUS_RUN);
    assert_ne!(stat.child_pid, 0);

    sv.stop(&service, DEFAULT_TIMEOUT).unwrap();
    assert_eq!(sv.stat(&service).unwrap().child_status, STATUS_DOWN);

    builder.activate("api", &BTreeMap::new()).unwrap();
    let report = builder.prune().unwrap();
    assert!(
        report
            .removed
            .contains(&builder.runit_root.join("api-daemon"))
    );
    assert!(!builder.staging_root.join("api-daemon").exists());
}

#[test]
fn a_service_without_runsv_reports_the_seeds_errors() {
    let builder = FakeServiceBuilder::new().unwrap();
    let mut templates = BTreeMap::new();
    templates.insert(
        "lonely".to_string(),
        ServiceTemplate::new(Command::argv(["true"])),
    );
    builder.activate("lonely", &templates).unwrap();
    let service = Service::new(&builder.runit_root, "lonely");
    match RunitSv::default().stat(&service) {
        Err(SvError::SuperviseOkMissing { .. }) => {}
        other => panic!("expected SuperviseOkMissing, got {other:?}"),
    }
}

#[test]
fn deploy_code_can_be_tested_with_a_recording_sv() {
    fn deploy(sv: &dyn Sv, service: &Service) -> Result<(), SvError> {
        sv.restart(service, DEFAULT_TIMEOUT)?;
        Ok(())
    }
    let sv = RecordingSv::new();
    deploy(&sv, &Service::at("/etc/service/web")).unwrap();
    assert_eq!(sv.last_command().as_deref(), Some("restart"));
}
