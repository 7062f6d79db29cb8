//! `invoke-run`: the runscript interpreter. See invoke-run(8) and
//! `servicebuilder::runtime::invoke_run`.
//!
//! `no_main`: Rust's own start-up (reading /proc/self/maps for the stack
//! guard, a signal stack, ignoring SIGPIPE) costs time at every service
//! start, and its SIGPIPE change would leak into the daemon. libc calls this
//! `main` directly; std still finds the arguments through glibc.
#![no_main]

#[unsafe(no_mangle)]
extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    servicebuilder::runtime::invoke_run::main(&args)
}
