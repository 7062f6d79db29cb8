//! What the installed binaries load at start-up (build.rs): the commands
//! that run once per service start, stop or maintainer-script action need
//! libc only, with the unwinder linked in from `libgcc_eh.a`.

use std::process::Command;

/// The `NEEDED` entries of an ELF file's dynamic section, as readelf
/// prints them.
fn needed(path: &str) -> Vec<String> {
    let out = Command::new("readelf")
        .args(["--dynamic", "--wide", path])
        .output()
        .expect("readelf (binutils) runs");
    assert!(out.status.success(), "readelf {path} failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| Some(l.split('[').nth(1)?.trim_end_matches(']').to_owned()))
        .collect()
}

#[test]
fn the_per_service_commands_need_only_libc() {
    for (name, path) in [
        ("servicebuilder", env!("CARGO_BIN_EXE_servicebuilder")),
        ("invoke-run", env!("CARGO_BIN_EXE_invoke-run")),
        ("finish-default", env!("CARGO_BIN_EXE_finish-default")),
    ] {
        let libs = needed(path);
        assert!(
            libs.iter()
                .all(|l| l.starts_with("libc.so") || l.starts_with("ld-linux")),
            "{name} loads more than libc and the dynamic loader: {libs:?}"
        );
    }
}
