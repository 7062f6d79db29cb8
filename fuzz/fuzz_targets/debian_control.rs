//! debian/control reading: the parser and the package fields it exposes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use servicebuilder::debhelper::control::Control;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(c) = Control::parse(text) {
        let _ = format!("{c:?}");
    }
});
