//! The command line, as clap definitions. Man pages and completions are
//! generated from these same definitions, so the docs cannot drift.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Declarative runit services: stage, activate and prune services from YAML
/// templates, report their status and control them.
///
/// With no subcommand and `-c/-s/-d`, it behaves as the original
/// servicebuilder: every service of every *.yaml file in the config root is
/// rebuilt (see `rebuild`).
#[derive(Debug, Parser)]
#[command(name = "servicebuilder", version, propagate_version = true)]
#[command(after_long_help = super::manual::to_text())]
#[command(args_conflicts_with_subcommands = false)]
pub struct Cli {
    /// The three roots, shared by every subcommand.
    #[command(flatten)]
    pub roots: RootArgs,

    /// Without a subcommand: also prune what no file declares any more.
    #[arg(long)]
    pub prune: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

/// Where templates, staged services and runsvdir's links live.
#[derive(Debug, Clone, Args)]
pub struct RootArgs {
    /// Directory of the YAML templates (one file per set of services).
    #[arg(short = 'c', long, global = true, env = "SERVICEBUILDER_CONFIG_ROOT",
          default_value = crate::builder::DEFAULT_CONFIG_ROOT, value_name = "DIR")]
    pub config_root: PathBuf,

    /// Directory where service directories are built. runsvdir must not
    /// watch it.
    #[arg(short = 's', long, global = true, env = "SERVICEBUILDER_STAGING_ROOT",
          default_value = crate::builder::DEFAULT_STAGING_ROOT, value_name = "DIR")]
    pub staging_root: PathBuf,

    /// Directory that runsvdir watches; services are symlinked into it.
    #[arg(short = 'd', long, global = true, env = "SERVICEBUILDER_RUNIT_ROOT",
          default_value = crate::builder::DEFAULT_RUNIT_ROOT, value_name = "DIR")]
    pub runit_root: PathBuf,

    /// The interpreter named in rendered run files.
    #[arg(long, global = true, env = "SERVICEBUILDER_INTERPRETER",
          default_value = crate::render::INVOKE_RUN, value_name = "PATH")]
    pub interpreter: String,

    /// The finish helper named in rendered finish files.
    #[arg(long, global = true, env = "SERVICEBUILDER_FINISH_DEFAULT",
          default_value = crate::render::FINISH_DEFAULT, value_name = "PATH", hide_short_help = true)]
    pub finish_default: String,

    /// Parent directory of the standard log service's directories.
    #[arg(long, global = true, env = "SERVICEBUILDER_LOG_ROOT",
          default_value = crate::render::LOG_ROOT, value_name = "DIR", hide_short_help = true)]
    pub log_root: PathBuf,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Write FILE as the template set NAME, stage its services and link them
    /// into the runit root. An empty map removes the
    /// set.
    ///
    /// When a runsvdir watches the runit root, it is told to look at once
    /// (SIGALRM, as runit-helper does), and activate waits until each
    /// linked service runs and its ./check passes; a service that does not
    /// come up within the timeout is an error (exit 4) that shows its last
    /// log lines.
    Activate {
        /// The template set's name: the config file is CONFIG_ROOT/NAME.yaml.
        name: String,
        /// The YAML templates ("-" for standard input).
        file: PathBuf,
        /// Return once the services are linked, without waiting for them.
        #[arg(long)]
        no_wait: bool,
        /// Seconds to wait for each service to come up.
        #[arg(long, short = 't', default_value_t = 10, value_name = "SECS")]
        timeout: u64,
    },
    /// Stage and link every service of every *.yaml file in the config root
    /// (the original servicebuilder's only action).
    Rebuild {
        /// Then remove what no file declares any more.
        #[arg(long)]
        prune: bool,
    },
    /// Remove the links and staged directories of services that no template
    /// declares any more; only what servicebuilder created is touched.
    Prune,
    /// Show the state of services, read straight from supervise/status.
    ///
    /// On a terminal: a table (state, wanted state, enabled, pid, uptime,
    /// readiness, log, command), coloured unless NO_COLOR is set. Otherwise
    /// the lines `sv status` prints, which scripts parse.
    Status {
        /// Services (names in the runit root, or paths); all when none given,
        /// including those disabled with a .NAME link.
        services: Vec<String>,
        /// Machine-readable output (the same as --format json).
        #[arg(long)]
        json: bool,
        /// The output: table, sv (sv status's lines), json, or metrics
        /// (node_exporter's textfile collector format).
        #[arg(long, value_enum, conflicts_with = "json")]
        format: Option<StatusFormat>,
        /// With --format metrics: a file that remembers each service's last
        /// start, so that restarts are counted across calls.
        #[arg(long, value_name = "FILE")]
        metrics_state: Option<PathBuf>,
    },
    /// Enable a service the Debian way: link STAGING/NAME into the runit
    /// root and remove the admin's .NAME dot-link.
    Enable {
        /// The service (a directory in the staging root with a run file).
        service: String,
        /// Also wait until it runs.
        #[arg(long)]
        now: bool,
        /// Seconds to wait with --now.
        #[arg(long, short = 't', default_value_t = 10, value_name = "SECS")]
        timeout: u64,
    },
    /// Disable a service the Debian way: remove its link from the runit
    /// root and leave a .NAME dot-link, which package upgrades respect.
    Disable {
        /// The service.
        service: String,
        /// Also stop it now (otherwise runsvdir stops it within seconds).
        #[arg(long)]
        now: bool,
        /// Seconds to wait with --now.
        #[arg(long, short = 't', default_value_t = 7, value_name = "SECS")]
        timeout: u64,
    },
    /// Show a service's svlogd log: rotated files, then current, with
    /// TAI64N stamps made readable.
    Log {
        /// The service.
        service: String,
        /// How many lines.
        #[arg(short = 'n', long, default_value_t = 10, value_name = "N")]
        lines: usize,
        /// Keep printing what is appended, across rotations.
        #[arg(short = 'f', long)]
        follow: bool,
    },
    /// Start a service and wait until it runs.
    Start(ControlArgs),
    /// Stop a service and wait until it is down.
    Stop(ControlArgs),
    /// Restart a service (TERM, CONT, up) and wait until it runs again.
    Restart(ControlArgs),
    /// Run a service once: start it, and do not restart it when it exits.
    Once(ControlArgs),
    /// Show what staged service directories have that their templates do
    /// not render: files edited by hand (as a line diff) and files added.
    /// Exit 1 when there is any, as diff(1).
    ///
    /// activate and rebuild keep an edited file (a copy under
    /// STAGING/.kept/) before they write the template's version over it.
    Diff {
        /// Services; all of the config root when none given.
        services: Vec<String>,
    },
    /// Validate template files without touching the system.
    Check {
        /// The files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Show (or write) the service directories a template file produces.
    Render {
        /// The template file.
        file: PathBuf,
        /// Write the directories under DIR instead of printing them.
        #[arg(long, value_name = "DIR")]
        to: Option<PathBuf>,
    },
    /// Maintainer-script actions, called from the snippets that
    /// dh_servicebuilder puts into packages.
    Maint(MaintArgs),
    /// Print a man page or shell completions generated from this command's
    /// own definitions.
    #[command(hide = true)]
    Generate {
        /// What to generate.
        #[arg(value_enum)]
        what: Generated,
        /// For completions: the shell.
        #[arg(value_enum)]
        shell: Option<clap_complete::Shell>,
    },
}

/// The forms of `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    /// An aligned table (the default on a terminal).
    Table,
    /// `sv status`'s lines (the default otherwise).
    Sv,
    /// A JSON array.
    Json,
    /// Prometheus' text format, for node_exporter's textfile collector.
    Metrics,
}

/// Options of start, stop, restart and once.
#[derive(Debug, Args)]
pub struct ControlArgs {
    /// The service (a name in the runit root, or a path).
    pub service: String,
    /// Seconds to wait for the service to reach the wanted state.
    #[arg(long, short = 't', default_value_t = 7, value_name = "SECS")]
    pub timeout: u64,
    /// With stop and restart: do not kill the service when the timeout
    /// passes (by default it is killed, as `sv force-stop` does).
    #[arg(long)]
    pub no_kill: bool,
}

/// Which maintainer script calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MaintScript {
    /// After unpacking and configuring.
    Postinst,
    /// Before removal or upgrade.
    Prerm,
    /// After removal or purge.
    Postrm,
}

/// Options of `maint`.
#[derive(Debug, Args)]
pub struct MaintArgs {
    /// The maintainer script that calls.
    #[arg(value_enum)]
    pub script: MaintScript,
    /// The service.
    #[arg(long)]
    pub name: String,
    /// Whether the package enables the service.
    #[arg(long, default_value = "yes", value_parser = ["yes", "no"])]
    pub enable: String,
    /// What an upgrade does to the running service.
    #[arg(long, default_value = "restart", value_parser = ["restart", "stop", "nostop", "reload"])]
    pub onupgrade: String,
    /// The package that ships the service.
    #[arg(long)]
    pub package: Option<String>,
    /// The maintainer script's own arguments ("$@"), after `--`.
    #[arg(last = true)]
    pub script_args: Vec<String>,
}

/// What `generate` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Generated {
    /// The servicebuilder(1) man page (roff).
    Man,
    /// Shell completions.
    Completions,
}
