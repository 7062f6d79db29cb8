//! The `servicebuilder` command: clap definitions and one handler module
//! per group of subcommands. `src/bin/servicebuilder.rs` only calls [`main`].

pub mod args;
pub mod build;
pub mod control;
pub mod enable;
pub mod generate;
pub mod logs;
pub mod maint;
pub mod manual;
pub mod overview;

use std::io::Write;
use std::process::ExitCode;

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
        None => parse().and_then(run),
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

/// The command line, with the rule clap cannot say: without a
/// subcommand, at least one root must be named (`-c`, `-s`, `-d` or their
/// variables), as the help promises; a bare `servicebuilder` typed to see
/// what it does must not rebuild the system's roots.
fn parse() -> anyhow::Result<Cli> {
    use clap::{CommandFactory, FromArgMatches, parser::ValueSource};
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let named = ["config_root", "staging_root", "runit_root"]
        .iter()
        .any(|id| matches.value_source(id) != Some(ValueSource::DefaultValue));
    if cli.command.is_none() && !named {
        let mut cmd = Cli::command();
        cmd.error(
            clap::error::ErrorKind::MissingSubcommand,
            "no subcommand given: name one (see --help), or name the roots with \
             -c/-s/-d to rebuild every service of the config root as the original \
             servicebuilder did",
        )
        .exit();
    }
    Ok(cli)
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
        Some(Cmd::Activate {
            name,
            file,
            no_wait,
            timeout,
        }) => build::activate(roots, &name, &file, (!no_wait).then_some(timeout)),
        Some(Cmd::Rebuild { prune }) => build::rebuild(roots, prune || cli.prune),
        Some(Cmd::Prune) => build::prune(roots),
        Some(Cmd::Status {
            services,
            json,
            format,
            metrics_state,
        }) => {
            let format = format.or(json.then_some(args::StatusFormat::Json));
            control::status(roots, &services, format, metrics_state.as_deref())
        }
        Some(Cmd::Enable {
            service,
            now,
            timeout,
        }) => enable::enable(roots, &service, now.then_some(timeout)),
        Some(Cmd::Disable {
            service,
            now,
            timeout,
        }) => enable::disable(roots, &service, now.then_some(timeout)),
        Some(Cmd::Log {
            service,
            lines,
            follow,
        }) => logs::log(roots, &service, lines, follow),
        Some(Cmd::Start(a)) => control::control(roots, control::Action::Start, &a),
        Some(Cmd::Stop(a)) => control::control(roots, control::Action::Stop, &a),
        Some(Cmd::Restart(a)) => control::control(roots, control::Action::Restart, &a),
        Some(Cmd::Once(a)) => control::control(roots, control::Action::Once, &a),
        Some(Cmd::Check { files }) => build::check(&files),
        Some(Cmd::Diff { services }) => build::diff(roots, &services),
        Some(Cmd::Render { file, to }) => build::render(roots, &file, to.as_deref()),
        Some(Cmd::Maint(a)) => maint::maint(roots, &a),
        Some(Cmd::Generate { what, shell }) => generate::generate(what, shell),
    }
}
