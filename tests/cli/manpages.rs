//! Every man page, the generated servicebuilder(1) included, is a proper
//! page: mandoc's linter has nothing to say at warning level, and groff
//! none either. The closing sections are real sections, not help text.

use std::path::Path;
use std::process::Command;

fn lint(page: &Path) {
    let out = Command::new("mandoc")
        .args(["-T", "lint", "-W", "warning"])
        .arg(page)
        .output()
        .expect("mandoc (install the mandoc package)");
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(said.trim().is_empty(), "{}:\n{said}", page.display());
    let out = Command::new("groff")
        .args(["-ww", "-man", "-z"])
        .arg(page)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.trim().is_empty(), "{}:\n{said}", page.display());
}

#[test]
fn every_man_page_passes_mandoc_and_groff_without_a_warning() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    for entry in std::fs::read_dir(&dir).unwrap() {
        lint(&entry.unwrap().path());
    }
    let tmp = tempfile::tempdir().unwrap();
    let page = tmp.path().join("servicebuilder.1");
    let out = Command::new(env!("CARGO_BIN_EXE_servicebuilder"))
        .args(["generate", "man"])
        .env("SOURCE_DATE_EPOCH", "1796439023")
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::write(&page, &out.stdout).unwrap();
    lint(&page);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(".TH servicebuilder 1 2026-12-05 "),
        "{}",
        &text[..200]
    );
    for section in [
        "EXIT STATUS",
        "FILES",
        "ENVIRONMENT",
        "EXAMPLES",
        "LIMITS",
        "COMPATIBILITY",
        "SEE ALSO",
    ] {
        assert!(
            text.contains(&format!(".SH \"{section}\"\n")),
            "no {section} section"
        );
    }
}
