//! The in-process reader of /etc/default files (plain assignments only).
#![no_main]
use libfuzzer_sys::fuzz_target;
use servicebuilder::runtime::defaults_file::parse_plain;

fuzz_target!(|data: &[u8]| {
    let _ = parse_plain(data);
});
