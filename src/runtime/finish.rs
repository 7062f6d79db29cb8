//! `finish-default`: reports why a runscript stopped and keeps permanent
//! failures down.
//!
//! runsv runs `./finish EXITCODE SIGNAL` in the service directory after
//! `./run` ends; a rendered finish file is `exec finish-default "$@"`.
//! EXITCODE is `-1` when run was killed by a signal. The runscript
//! conventions of invoke-run(8):
//!
//! | code | message | action |
//! |---|---|---|
//! | -1 | `invoke-run: ERROR -1 in NAME: runscript didn't exit normally` | runsv restarts it |
//! | 161 | `invoke-run: WARNING for NAME: disabled by local settings` | service down |
//! | 162 | `invoke-run: ERROR 162 in NAME: configtest or early setup failed` | service down |
//! | 170 | `invoke-run: ERROR 170 in NAME: a runtime hard dependency is missing` | service down |
//!
//! bookworm (runit 2.1, as Debian's sourced finish-default): with `DEBUG`
//! (from `/etc/default/runit`) or the flag `/etc/runit/debug`,
//! `invoke-run: NAME : run exit code is CODE` follows for the codes that do
//! not keep the service down; with `VERBOSE` or `/etc/runit/verbose`,
//! `invoke-run: NAME stopped` ends the report. As in Debian's shell, a
//! setting is on when it is set, not empty and not `0`.
//!
//! From 2.2 (trixie, sid), where `/etc/default/runit` is gone and Debian's
//! finish files exec finish-exec, as finish-exec: a `NAME.pkgrunit` flag in
//! `/etc/runit/override-sysv.d` is removed first; then the message; then
//! `stopped` under `/etc/runit/verbose` and the exit code (every code)
//! under `/etc/runit/debug`, in that order (sid's user services: the flags
//! in `~/.runit/`).

use std::ffi::{OsStr, OsString};
use std::path::Path;

use super::defaults_file;
use super::env::Env;
use super::release::Runit;
use super::say;
use super::service::Service;
use super::{DEFAULT_DIR, OVERRIDE_SYSV, RUNIT_FLAGS};

/// Usage text for a call without arguments.
pub const USAGE: &str = "\
usage: finish-default EXITCODE SIGNAL
Called from a service's finish file as: exec finish-default \"$@\"
See finish-default(8).";

/// What an exit code means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// runsv reported `-1`: killed by a signal. Restarted as usual.
    Abnormal,
    /// 161: disabled by local settings.
    Disabled,
    /// 162: configuration test or early setup failed.
    SetupFailed,
    /// 170: a runtime hard dependency is missing.
    DependencyMissing,
    /// Any other code: nothing to say.
    Other,
}

impl Verdict {
    /// Classify runsv's EXITCODE argument, compared as text like Debian's `case`.
    pub fn of(code: &str) -> Verdict {
        match code {
            "-1" => Verdict::Abnormal,
            "161" => Verdict::Disabled,
            "162" => Verdict::SetupFailed,
            "170" => Verdict::DependencyMissing,
            _ => Verdict::Other,
        }
    }

    /// The log line for this verdict, if any.
    pub fn message(self, code: &str, name: &str) -> Option<String> {
        Some(match self {
            Verdict::Abnormal => {
                format!("invoke-run: ERROR {code} in {name}: runscript didn't exit normally")
            }
            Verdict::Disabled => {
                format!("invoke-run: WARNING for {name}: disabled by local settings")
            }
            Verdict::SetupFailed => {
                format!("invoke-run: ERROR {code} in {name}: configtest or early setup failed")
            }
            Verdict::DependencyMissing => {
                format!("invoke-run: ERROR {code} in {name}: a runtime hard dependency is missing")
            }
            Verdict::Other => return None,
        })
    }

    /// True when the service must stay down instead of being restarted.
    pub fn keeps_down(self) -> bool {
        matches!(
            self,
            Verdict::Disabled | Verdict::SetupFailed | Verdict::DependencyMissing
        )
    }
}

/// Run finish-default with `args` (`args[0]` is the program name); returns
/// the exit code, always 0 once called correctly (runsv ignores it).
pub fn main(args: &[OsString]) -> i32 {
    let Some(code) = args.get(1) else {
        say::err(USAGE);
        return 1;
    };
    let code = code.to_string_lossy();
    let mut env = Env::from_process();
    let service = match Service::current(&env) {
        Ok(s) => s,
        Err(e) => {
            say::err(&format!(
                "finish-default: error: cannot determine the service directory: {e}"
            ));
            return 1;
        }
    };
    let name = service.name_lossy();
    let verdict = Verdict::of(&code);
    let runit = Runit::installed();
    let today = runit.is_today();
    if today && !service.name.is_empty() {
        // runit 2.2's invoke-rc.d override: a package's `.pkgrunit` flag
        // lasts until its service first stops.
        let mut flag = service.name.clone();
        flag.push(".pkgrunit");
        let flag = Path::new(OVERRIDE_SYSV).join(flag);
        if let Err(e) = std::fs::remove_file(&flag)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            say::err(&format!(
                "finish-default: warning: cannot remove {}: {e}",
                flag.display()
            ));
        }
    }
    if runit == Runit::V2_3 {
        super::cgroup::hand_over(&service.dir, "destroy", &env, "finish-default");
    }
    if let Some(line) = verdict.message(&code, &name) {
        say::log(&line);
    }
    if verdict.keeps_down()
        && let Err(e) = super::control::take_down(&service.dir)
    {
        say::err(&format!(
            "finish-default: warning: cannot take {name} down: {e}"
        ));
    }
    // sid's user services keep their flags in ~/.runit.
    let user = if runit == Runit::V2_3 {
        super::user::User::of_this_start()
    } else {
        None
    };
    let flag_file = |file: &str| match &user {
        Some(u) => u.flag(file).exists(),
        None => Path::new(RUNIT_FLAGS).join(file).exists(),
    };
    if today {
        // finish-exec: flag files only, "stopped" first, every code.
        if flag_file("verbose") {
            say::log(&format!("invoke-run: {name} stopped"));
        }
        if flag_file("debug") {
            say::log(&format!("invoke-run: {name} : run exit code is {code}"));
        }
        return 0;
    }
    let runit_defaults = Path::new(DEFAULT_DIR).join("runit");
    if let Err(e) = defaults_file::apply(&runit_defaults, &mut env, true) {
        say::err(&format!("finish-default: warning: {e}"));
    }
    let flag = |var: &str, file: &str| is_on(env.get(var)) || flag_file(file);
    // As Debian's finish-default: a service kept down ends the report
    // there; otherwise the exit code comes first, "stopped" last.
    if !verdict.keeps_down() && flag("DEBUG", "debug") {
        say::log(&format!("invoke-run: {name} : run exit code is {code}"));
    }
    if flag("VERBOSE", "verbose") {
        say::log(&format!("invoke-run: {name} stopped"));
    }
    0
}

/// `[ "${VAR:-0}" != 0 ]`.
fn is_on(value: Option<&OsStr>) -> bool {
    value.is_some_and(|v| !v.is_empty() && v != "0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_compared_as_text() {
        assert_eq!(Verdict::of("162"), Verdict::SetupFailed);
        assert_eq!(Verdict::of("0162"), Verdict::Other);
        assert_eq!(Verdict::of("-1"), Verdict::Abnormal);
        assert!(!Verdict::Abnormal.keeps_down());
        assert!(Verdict::DependencyMissing.keeps_down());
    }

    #[test]
    fn settings_are_on_unless_unset_empty_or_zero() {
        assert!(!is_on(None));
        assert!(!is_on(Some("".as_ref())));
        assert!(!is_on(Some("0".as_ref())));
        assert!(is_on(Some("1".as_ref())));
        assert!(is_on(Some("no".as_ref())));
    }
}
