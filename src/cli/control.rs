//! `status`, `start`, `stop`, `restart` and `once`.

use std::process::ExitCode;

use super::args::{ControlArgs, RootArgs};

/// Which control action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `start`
    Start,
    /// `stop`
    Stop,
    /// `restart`
    Restart,
    /// `once`
    Once,
}

/// `servicebuilder status`.
pub fn status(_roots: &RootArgs, _services: &[String], _json: bool) -> anyhow::Result<ExitCode> {
    anyhow::bail!("status is not implemented yet")
}

/// `servicebuilder start|stop|restart|once`.
pub fn control(
    _roots: &RootArgs,
    _action: Action,
    _args: &ControlArgs,
) -> anyhow::Result<ExitCode> {
    anyhow::bail!("control is not implemented yet")
}
