//! `servicebuilder`: the host-side command. All logic is in the library.

fn main() -> std::process::ExitCode {
    servicebuilder::cli::main()
}
