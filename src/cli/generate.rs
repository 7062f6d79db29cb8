//! `servicebuilder generate man|completions SHELL`: docs from the clap
//! definitions, used at package build time.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::CommandFactory;

use super::args::{Cli, Generated};

/// Prints the man page or the completions for `shell` on stdout.
pub fn generate(what: Generated, shell: Option<clap_complete::Shell>) -> anyhow::Result<ExitCode> {
    let mut cmd = Cli::command();
    let mut out = std::io::stdout().lock();
    match what {
        Generated::Man => {
            clap_mangen::Man::new(cmd)
                .render(&mut out)
                .context("writing the man page")?;
        }
        Generated::Completions => {
            let shell = shell.context("give the shell: bash, zsh, fish, elvish or powershell")?;
            clap_complete::generate(shell, &mut cmd, "servicebuilder", &mut out);
        }
    }
    out.flush().context("writing to standard output")?;
    Ok(ExitCode::SUCCESS)
}
