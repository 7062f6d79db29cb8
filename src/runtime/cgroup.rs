//! sid's cgroup hand-over: a service directory with a `cgroup/` directory
//! gets `runsv-cg create` before its start (invoke-run) and `runsv-cg
//! destroy` after it stops (finish), run as root from the service
//! directory, as sid's runit 2.3 interpreter and finish-exec do. Its exit
//! status is not checked there either: the start goes on.

use std::ffi::OsStr;
use std::path::Path;

use super::env::Env;
use super::release::MARK_2_3;
use super::{say, spawn, user};

/// The helper sid's runit ships (also the mark of that release).
pub const RUNSV_CG: &str = MARK_2_3;

/// Runs `runsv-cg ACTION` for the service in `dir` when it has a `cgroup/`
/// directory and this is root; `who` names the caller in a warning.
pub fn hand_over(dir: &Path, action: &str, env: &Env, who: &str) {
    if !dir.join("cgroup").is_dir() || user::effective_uid() != 0 {
        return;
    }
    if let Err(e) = spawn::run(OsStr::new(RUNSV_CG), &[OsStr::new(action)], env, &[]) {
        say::err(&format!(
            "{who}: warning: cannot run {RUNSV_CG} {action}: {e}"
        ));
    }
}
