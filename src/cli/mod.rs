//! The `servicebuilder` command: clap definitions and one handler module
//! per group of subcommands. `src/bin/servicebuilder.rs` only calls [`main`].

pub mod args;
pub mod build;
pub mod control;
pub mod generate;
pub mod maint;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Cmd};

/// Exit code for bad input or a failed action (the details are printed).
pub const EXIT_FAILURE: u8 = 1;
/// Exit code for a command-line usage error (clap's own).
pub const EXIT_USAGE: u8 = 2;

/// Runs the command line and returns the process's exit code. Errors are
/// printed once, with their whole context chain, prefixed by the program's
/// name.
pub fn main() -> ExitCode {
    // The plain forms of `status` (monitoring calls it often) skip building
    // the whole clap command; see control::status_fast_path.
    let result = match control::status_if_plain() {
        Some(result) => result,
        None => run(Cli::parse()),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            let mut msg = format!("servicebuilder: error: {err}");
            for cause in err.chain().skip(1) {
                msg.push_str(&format!(": {cause}"));
            }
            let _ = writeln!(std::io::stderr(), "{msg}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let roots = &cli.roots;
    match cli.command {
        None => build::rebuild(roots, cli.prune),
        Some(Cmd::Activate { name, file }) => build::activate(roots, &name, &file),
        Some(Cmd::Rebuild { prune }) => build::rebuild(roots, prune || cli.prune),
        Some(Cmd::Prune) => build::prune(roots),
        Some(Cmd::Status { services, json }) => control::status(roots, &services, json),
        Some(Cmd::Start(a)) => control::control(roots, control::Action::Start, &a),
        Some(Cmd::Stop(a)) => control::control(roots, control::Action::Stop, &a),
        Some(Cmd::Restart(a)) => control::control(roots, control::Action::Restart, &a),
        Some(Cmd::Once(a)) => control::control(roots, control::Action::Once, &a),
        Some(Cmd::Check { files }) => build::check(&files),
        Some(Cmd::Render { file, to }) => build::render(roots, &file, to.as_deref()),
        Some(Cmd::Maint(a)) => maint::maint(roots, &a),
        Some(Cmd::Generate { what, shell }) => generate::generate(what, shell),
    }
}
