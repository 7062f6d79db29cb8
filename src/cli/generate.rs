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
            // The closing sections come as real man sections from
            // `manual`, not as the help text clap would paste in.
            let page = cmd.clone().after_long_help(None::<&str>);
            let man = clap_mangen::Man::new(page).date(man_date());
            let mut roff = Vec::new();
            man.render_title(&mut roff)?;
            man.render_name_section(&mut roff)?;
            man.render_synopsis_section(&mut roff)?;
            man.render_description_section(&mut roff)?;
            man.render_options_section(&mut roff)?;
            man.render_subcommands_section(&mut roff)?;
            roff.extend_from_slice(super::manual::to_roff().as_bytes());
            man.render_version_section(&mut roff)?;
            out.write_all(&roff).context("writing the man page")?;
        }
        Generated::Completions => {
            let shell = shell.context("give the shell: bash, zsh, fish, elvish or powershell")?;
            clap_complete::generate(shell, &mut cmd, "servicebuilder", &mut out);
        }
    }
    out.flush().context("writing to standard output")?;
    Ok(ExitCode::SUCCESS)
}

/// The page's date: SOURCE_DATE_EPOCH's (reproducible package builds),
/// else today's, as YYYY-MM-DD.
fn man_date() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
    let (y, m, d) = crate::date::civil_from_days((secs / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}
