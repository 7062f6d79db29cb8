//! The supervise/status decoder (runsv's 20-byte record), then its text and
//! JSON renderings.
#![no_main]
use libfuzzer_sys::fuzz_target;
use servicebuilder::sv::{STATUS_LEN, Status};

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = <[u8; STATUS_LEN]>::try_from(data.get(..STATUS_LEN).unwrap_or(&[])) else {
        return;
    };
    let normally_up = data.get(STATUS_LEN).is_some_and(|b| b & 1 == 1);
    let st = Status::decode(&raw, normally_up);
    let now = std::time::SystemTime::now();
    let _ = st.render("fuzz", now);
    let _ = st.to_json(now);
    let _ = st.uptime();
});
