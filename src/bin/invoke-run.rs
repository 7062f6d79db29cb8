//! `invoke-run`: the runscript interpreter. See invoke-run(8) and
//! `servicebuilder::runtime::invoke_run`.

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    std::process::exit(servicebuilder::runtime::invoke_run::main(&args));
}
