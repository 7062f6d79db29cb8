//! `prune`: the seed's Prune, restricted to what servicebuilder made.

use crate::fixture::Host;

#[test]
fn prune_after_emptying_a_template_removes_link_and_stage() {
    let h = Host::new();
    let f = h.file("in/app.yaml", "a: {run: [x]}\nb: {run: [y]}\n");
    h.ok(&["activate", "app", f.to_str().unwrap()]);
    let f = h.file("in/app.yaml", "b: {run: [y]}\n");
    h.ok(&["activate", "app", f.to_str().unwrap()]);
    assert!(
        h.runit().join("a").exists(),
        "activate alone does not prune"
    );
    h.ok(&["prune"]);
    assert!(std::fs::symlink_metadata(h.runit().join("a")).is_err());
    assert!(!h.staging().join("a").exists());
    assert!(h.staging().join("b/run").is_file());
    assert!(h.runit().join("b").exists());
}

#[test]
fn prune_leaves_foreign_entries_alone() {
    let h = Host::new();
    let f = h.file("in/app.yaml", "a: {run: [x]}\n");
    h.ok(&["activate", "app", f.to_str().unwrap()]);
    // Another package's service, an admin's hand-made one in the staging
    // root, and a link to it; a dangling link; Debian's disable dot-link.
    h.file("staging/getty-1/run", "#!/bin/sh\nexec getty 38400 tty1\n");
    h.file("staging/mine/run", "#!/bin/sh\nexec sleep 1\n");
    std::os::unix::fs::symlink(h.staging().join("mine"), h.runit().join("mine")).unwrap();
    std::os::unix::fs::symlink("/etc/sv/getty-1", h.runit().join("getty-1")).unwrap();
    std::os::unix::fs::symlink("/nonexistent", h.runit().join("gone")).unwrap();
    std::os::unix::fs::symlink(h.staging().join("a"), h.runit().join(".a")).unwrap();
    h.file("config/app.yaml", "{}\n");
    let before: Vec<_> = ["mine", "getty-1", "gone", ".a"]
        .iter()
        .map(|n| std::fs::read_link(h.runit().join(n)).unwrap())
        .collect();
    h.ok(&["prune"]);
    let after: Vec<_> = ["mine", "getty-1", "gone", ".a"]
        .iter()
        .map(|n| std::fs::read_link(h.runit().join(n)).unwrap())
        .collect();
    assert_eq!(before, after);
    assert!(h.staging().join("getty-1/run").is_file());
    assert!(h.staging().join("mine/run").is_file());
    assert!(!h.staging().join("a").exists(), "our own service is pruned");
}

#[test]
fn prune_refuses_to_run_when_a_template_cannot_be_read() {
    let h = Host::new();
    let f = h.file("in/app.yaml", "a: {run: [x]}\n");
    h.ok(&["activate", "app", f.to_str().unwrap()]);
    h.file("config/app.yaml", "a: {run: [x]\n");
    let before = h.snapshot();
    let err = h.fails(&["prune"]);
    assert!(err.contains("not pruning"), "{err}");
    assert_eq!(before, h.snapshot());
}

#[test]
fn two_files_declaring_one_service_is_an_error_naming_both() {
    let h = Host::new();
    h.file("config/one.yaml", "a: {run: [x]}\n");
    h.file("config/two.yaml", "a: {run: [y]}\n");
    let err = h.fails(&["prune"]);
    assert!(
        err.contains("one.yaml") && err.contains("two.yaml"),
        "{err}"
    );
}

#[test]
fn services_a_package_declares_are_not_pruned() {
    let fake = servicebuilder::testing::FakeServiceBuilder::new().unwrap();
    let t =
        servicebuilder::template::parse_templates("a: {run: [x]}\n", "p.yaml".as_ref()).unwrap();
    fake.activate("app", &t).unwrap();
    std::fs::remove_file(fake.config_path("app")).unwrap();
    std::fs::write(fake.package_root.join("pkg.yaml"), "a: {run: [x]}\n").unwrap();
    fake.prune().unwrap();
    assert!(fake.runit_root.join("a").exists());
    std::fs::remove_file(fake.package_root.join("pkg.yaml")).unwrap();
    fake.prune().unwrap();
    assert!(std::fs::symlink_metadata(fake.runit_root.join("a")).is_err());
}
