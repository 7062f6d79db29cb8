//! The envdir reader (chpst -e rules): the input is split into entries
//! (NUL-separated `name`, then contents), written as files, and read back.
#![no_main]
use libfuzzer_sys::fuzz_target;
use servicebuilder::runtime::envdir;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let mut parts = data.split(|&b| b == 0xff);
    while let (Some(name), Some(value)) = (parts.next(), parts.next()) {
        let name: String = String::from_utf8_lossy(name)
            .chars()
            .filter(|c| *c != '/' && *c != '\0')
            .take(100)
            .collect();
        if name.is_empty() || name == "." || name == ".." {
            continue;
        }
        let _ = std::fs::write(dir.path().join(&name), value);
    }
    if let Ok((changes, _warnings)) = envdir::read(dir.path()) {
        for c in &changes {
            if let envdir::Change::Set(k, v) = c {
                use std::os::unix::ffi::OsStrExt;
                assert!(!k.as_bytes().contains(&b'='));
                assert!(!v.as_bytes().contains(&0));
                assert!(!v.as_bytes().ends_with(b" ") && !v.as_bytes().ends_with(b"\t"));
            }
        }
    }
});
