//! `finish-default`: the shared finish program. See finish-default(8) and
//! `servicebuilder::runtime::finish`.
//!
//! `no_main` for the same reason as invoke-run: no start-up work beyond libc's.
#![no_main]

#[unsafe(no_mangle)]
extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    servicebuilder::runtime::finish::main(&args)
}
