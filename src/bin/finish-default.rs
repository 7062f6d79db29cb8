//! `finish-default`: the shared finish program. See finish-default(8) and
//! `servicebuilder::runtime::finish`.

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    std::process::exit(servicebuilder::runtime::finish::main(&args));
}
