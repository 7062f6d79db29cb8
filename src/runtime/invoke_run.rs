//! `invoke-run`: the runscript interpreter.
//!
//! runsv executes `./run`; its first line names this program, so the kernel
//! calls `invoke-run ./run` (or `env invoke-run ./run`) with the service
//! directory as the current directory. It behaves as the interpreter of the
//! installed Debian runit does (`release::Runit`, decided from the files
//! that package ships). The steps, in order:
//!
//! 1. usage without an argument; refuse a directory without an executable `run`;
//! 2. export `NAME` (and `PWD`, as the shell does);
//! 3. bookworm (2.1) only: ask `/usr/sbin/policy-rc.d NAME start`: 101
//!    denies the start (from 2.2 runit-helper and the trigger ask it);
//! 4. the package is removed but not purged, or the daemon binary named in
//!    `.meta/bin` is missing: "binary not installed"; from 2.2 a present
//!    binary has its birth time written to `.meta/wtime`;
//! 5. bookworm: `/etc/default/runit`; then `/etc/default/NAME` (sid: the
//!    `conf` file instead, when the service has one), every assignment exported;
//! 6. the envdirs `conf/` then `env/` (chpst's rules), over the defaults;
//! 7. hand over from an executable `/etc/init.d/NAME` (sid: as root only,
//!    without `--force-sysv`);
//! 8. from 2.2: `XCHPST` for a service with `xchopts` when xchpst is
//!    installed; "invoke-run: starting NAME" under `/etc/runit/verbose`
//!    (sid's user services: `~/.runit/verbose`, and their user's envdir
//!    `/etc/sv/runsvdir@USER/env` is read before the service's);
//! 9. `exec /bin/sh DIR/run`: the shell ignores the first line as a comment.
//!
//! Refusals take the service down by writing `d` to `supervise/control`
//! and exit 0, so runsv does not restart it. Nothing is forked unless a
//! policy-rc.d (bookworm), a defaults file that needs a shell, or an init
//! script exists.

use std::ffi::{CString, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use nix::sys::signal::{SigHandler, Signal, signal};
use nix::unistd::{AccessFlags, access};

use super::defaults_file;
use super::env::Env;
use super::envdir;
use super::release::Runit;
use super::say;
use super::service::Service;
use super::spawn::{self, Redirect};
use super::user::User;
use super::{
    DEFAULT_DIR, INIT_D, POLICY_RC_D, RUNIT_FLAGS, RUNIT_META, RUNIT_SV, SH, START_STOP_DAEMON,
    XCHPST,
};

/// Exit code of a runscript whose configuration test or early setup failed
/// (finish-default takes the service down on it).
pub const EXIT_SETUP_FAILED: i32 = 162;

/// The usage text, printed on stderr when no argument is given.
pub const USAGE: &str = "\
usage: invoke-run ./run
invoke-run interprets runit run scripts. Name it on the first line of
/etc/sv/NAME/run, as #!/usr/lib/servicebuilder/invoke-run (or through
#!/usr/bin/env); runsv then runs it from the service directory.
See invoke-run(8).";

/// What invoke-run decided.
#[derive(Debug)]
pub enum Outcome {
    /// Exit with this code.
    Exit(i32),
    /// Replace this process: `argv[0]` is the program.
    Exec {
        /// The program and its arguments.
        argv: Vec<OsString>,
        /// The complete environment.
        env: Env,
    },
}

/// Run invoke-run with `args` (`args[0]` is the program name) and return the
/// process exit code when it does not `exec`.
pub fn main(args: &[OsString]) -> i32 {
    match decide(args) {
        Outcome::Exit(code) => code,
        Outcome::Exec { argv, env } => exec(&argv, &env),
    }
}

/// Everything up to the final `exec`.
pub fn decide(args: &[OsString]) -> Outcome {
    if args.len() < 2 {
        say::err(USAGE);
        return Outcome::Exit(1);
    }
    let mut env = Env::from_process();
    let service = match Service::current(&env) {
        Ok(s) => s,
        Err(e) => {
            say::log(&format!(
                "invoke-run: error: cannot determine the service directory: {e}"
            ));
            return Outcome::Exit(1);
        }
    };
    let run = service.dir.join("run");
    if access(&run, AccessFlags::X_OK).is_err() {
        say::log(&format!(
            "invoke-run: error: {} does not exist or is not executable",
            run.display()
        ));
        say::err(USAGE);
        return Outcome::Exit(1);
    }
    let name = service.name_lossy().into_owned();
    let runit = Runit::installed();
    // NAME is kept in every release: invoke-run(8) of 2019 promises it and
    // runscripts and defaults files written for bookworm use it, although
    // Debian's interpreter stopped exporting it in 2.2.
    env.set("PWD", service.dir.as_os_str());
    env.set("NAME", service.name.clone());

    // From 2.2 the policy layer is runit-helper's and the trigger's
    // (maintainer-script actions), not every supervised start's.
    if !runit.is_today() && policy_denies(&service, &env) {
        say::log("action denied by policy-rc.d");
        return down_and_exit(&service);
    }

    match daemon_binary(&service) {
        Binary::Missing => {
            say::log(&format!("invoke-run: {name} binary not installed"));
            return down_and_exit(&service);
        }
        Binary::Present(bin) if runit.is_today() => write_wtime(&service, &bin),
        _ => {}
    }

    if !runit.is_today() {
        // 2.2 dropped /etc/default/runit (and removes the conffile).
        let runit_defaults = Path::new(DEFAULT_DIR).join("runit");
        if let Err(e) = defaults_file::apply(&runit_defaults, &mut env, true) {
            return setup_failed(&service, &e.to_string());
        }
    }
    if let Some(own) = own_defaults(&service, runit)
        && let Err(e) = defaults_file::apply(&own, &mut env, false)
    {
        return setup_failed(&service, &e.to_string());
    }

    // sid: a user service reads its user's session envdir first.
    let user = if runit == Runit::V2_3 {
        User::of_this_start()
    } else {
        None
    };
    let mut envdirs = Vec::with_capacity(3);
    envdirs.extend(user.as_ref().map(User::envdir));
    envdirs.push(service.dir.join("conf"));
    envdirs.push(service.dir.join("env"));
    let mut changes = Vec::new();
    for dir in &envdirs {
        match envdir::read(dir) {
            Ok((c, warnings)) => {
                for w in warnings {
                    say::log(&format!("invoke-run: warning: {w}"));
                }
                changes.extend(c);
            }
            Err(e) => return setup_failed(&service, &e.to_string()),
        }
    }

    if let Some(outcome) = hand_over_from_sysv(&service, &env, runit) {
        return outcome;
    }

    if runit.is_today() {
        xchpst(&service, &mut env);
        if runit == Runit::V2_3 {
            super::cgroup::hand_over(&service.dir, "create", &env, "invoke-run");
        }
        let verbose = match &user {
            Some(u) => u.flag("verbose"),
            None => Path::new(RUNIT_FLAGS).join("verbose"),
        };
        if verbose.exists() {
            say::log(&format!("invoke-run: starting {name}"));
        }
    }

    envdir::apply(&changes, &mut env);
    Outcome::Exec {
        argv: vec![OsString::from(SH), run.into_os_string()],
        env,
    }
}

/// The service's own defaults file: `/etc/default/NAME`, or in sid the
/// `conf` file of the service directory when it is a readable file (sid
/// sources it instead; it is meant as a link to `/etc/default/NAME`). A
/// `conf/` directory stays an envdir (step 6), and `/etc/default/NAME` is
/// then read as in every other release.
fn own_defaults(service: &Service, runit: Runit) -> Option<PathBuf> {
    if service.name.is_empty() {
        return None;
    }
    if runit == Runit::V2_3 {
        let conf = service.dir.join("conf");
        if std::fs::metadata(&conf).is_ok_and(|m| !m.is_dir())
            && access(&conf, AccessFlags::R_OK).is_ok()
        {
            return Some(conf);
        }
    }
    Some(Path::new(DEFAULT_DIR).join(&service.name))
}

/// From 2.2: runscripts written `exec ${XCHPST:-} daemon` get
/// `XCHPST="xchpst --file DIR/xchopts"` when the service has an `xchopts`
/// file and xchpst is installed. Without xchpst the log says that the
/// hardening is not applied (Debian's interpreter is silent).
fn xchpst(service: &Service, env: &mut Env) {
    let opts = service.dir.join("xchopts");
    if access(&opts, AccessFlags::R_OK).is_err() {
        // Debian's shell assigns XCHPST="" first: an inherited XCHPST stays
        // exported, but empty.
        if env.get("XCHPST").is_some() {
            env.set("XCHPST", "");
        }
        return;
    }
    if access(XCHPST, AccessFlags::X_OK).is_ok() {
        let mut value = OsString::from("xchpst --file ");
        value.push(opts.as_os_str());
        env.set("XCHPST", value);
    } else {
        say::log(&format!(
            "invoke-run: {}: {XCHPST} is not installed, {} not applied",
            service.name_lossy(),
            opts.display()
        ));
        if env.get("XCHPST").is_some() {
            env.set("XCHPST", "");
        }
    }
}

/// Ask policy-rc.d, as invoke-rc.d does: only 101 ("action forbidden")
/// denies; 0, 104 and anything else let the start go on.
fn policy_denies(service: &Service, env: &Env) -> bool {
    if access(POLICY_RC_D, AccessFlags::X_OK).is_err() {
        return false;
    }
    match spawn::run(
        POLICY_RC_D.as_ref(),
        &[&service.name, "start".as_ref()],
        env,
        &[],
    ) {
        Ok(status) => status.code() == Some(101),
        // As under Debian's shell (status 126 or 127): a message, and the
        // start goes on.
        Err(e) => {
            say::err(&format!(
                "invoke-run: warning: cannot run {POLICY_RC_D}: {e}; starting {} anyway",
                service.name_lossy()
            ));
            false
        }
    }
}

/// What `.meta/bin` (and dh-runit's package markers) say about the daemon.
enum Binary {
    /// No `.meta/bin`, or an unreadable one: nothing to check.
    Unknown,
    /// Removed but not purged, or the named binary is missing.
    Missing,
    /// `.meta/bin` names an existing path.
    Present(PathBuf),
}

/// dh-runit's "removed but not purged" test, then the daemon binary that
/// `.meta/bin` names.
fn daemon_binary(service: &Service) -> Binary {
    let is_file = |p: &Path| std::fs::metadata(p).is_ok_and(|m| m.is_file());
    let is_dir = |p: &Path| std::fs::metadata(p).is_ok_and(|m| m.is_dir());
    if is_file(&service.dir.join(".meta/installed"))
        && !is_file(&Path::new(RUNIT_META).join(&service.name).join("installed"))
        && !is_dir(&Path::new(RUNIT_SV).join(&service.name))
    {
        return Binary::Missing;
    }
    // As Debian's `$(cat .meta/bin)`: the whole file, trailing newlines cut;
    // an unreadable file means "unknown", an empty one means "missing".
    let Ok(mut bin) = std::fs::read(service.dir.join(".meta/bin")) else {
        return Binary::Unknown;
    };
    while bin.last() == Some(&b'\n') {
        bin.pop();
    }
    let path = PathBuf::from(OsString::from_vec(bin));
    if path.as_os_str().is_empty() || !path.exists() {
        Binary::Missing
    } else {
        Binary::Present(path)
    }
}

/// From 2.2: `.meta/wtime` gets the daemon binary's birth time, as
/// `stat -c %W BIN` prints it (the link itself, not followed; 0 when the
/// file system does not record it), so that runit's trigger can tell an
/// upgraded binary from the one running. A failure to write it (a
/// read-only service directory) is ignored: it must not stop the start.
fn write_wtime(service: &Service, bin: &Path) {
    let secs = std::fs::symlink_metadata(bin)
        .and_then(|m| m.created())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    let _ = std::fs::write(service.dir.join(".meta/wtime"), format!("{secs}\n"));
}

/// The sysv hand-over. `None` means go on with the start.
fn hand_over_from_sysv(service: &Service, env: &Env, runit: Runit) -> Option<Outcome> {
    if service.name.is_empty() {
        return None;
    }
    // sid leaves init scripts alone for non-root runscripts: there it would
    // match a user service by name (dbus), and no package ships a sysv
    // script for a user.
    if runit == Runit::V2_3 && super::user::effective_uid() != 0 {
        return None;
    }
    // sid's interpreter (2.2.0-7 on) no longer passes --force-sysv.
    let force: &[&std::ffi::OsStr] = if runit == Runit::V2_3 {
        &[]
    } else {
        &["--force-sysv".as_ref()]
    };
    let script = Path::new(INIT_D).join(&service.name);
    if access(&script, AccessFlags::X_OK).is_err() {
        return None;
    }
    let noreplace = Path::new(RUNIT_META)
        .join(&service.name)
        .join("noreplace")
        .is_file()
        || service.dir.join(".meta/noreplace").is_file();
    if noreplace && sysv_status(&script, env, force) {
        say::log(&format!(
            "invoke-run: {} is running under {} and is marked noreplace: the runit service stays down until it is stopped by hand",
            service.name_lossy(),
            script.display()
        ));
        return Some(down_and_exit(service));
    }
    // A symlinked init script is most likely a link to sv itself, and a
    // symlinked start-stop-daemon is runit-init's diversion: stopping
    // through either would stop this very service.
    let is_link = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink());
    if is_link(&script) || is_link(Path::new(START_STOP_DAEMON)) {
        return None;
    }
    let mut args: Vec<&std::ffi::OsStr> = vec!["stop".as_ref()];
    args.extend_from_slice(force);
    let status = spawn::run(script.as_os_str(), &args, env, &[(1, Redirect::Null)]);
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => say::log(&format!(
            "invoke-run: warning: {} {} failed ({s}); starting {} anyway",
            script.display(),
            if force.is_empty() {
                "stop"
            } else {
                "stop --force-sysv"
            },
            service.name_lossy()
        )),
        Err(e) => say::log(&format!(
            "invoke-run: warning: cannot run {} stop: {e}; starting {} anyway",
            script.display(),
            service.name_lossy()
        )),
    }
    None
}

fn sysv_status(script: &Path, env: &Env, force: &[&std::ffi::OsStr]) -> bool {
    let mut args: Vec<&std::ffi::OsStr> = vec!["status".as_ref()];
    args.extend_from_slice(force);
    spawn::run(
        script.as_os_str(),
        &args,
        env,
        &[(1, Redirect::Null), (2, Redirect::Null)],
    )
    .is_ok_and(|s| s.success())
}

/// Take the service down and exit 0 (1 when runsv could not be told).
fn down_and_exit(service: &Service) -> Outcome {
    // runsv answers `d` with TERM to the run process, which is this one:
    // ignoring it lets this refusal end as a clean exit 0, not "killed by
    // signal 15", which finish-default would report as an error.
    // SAFETY: SIG_IGN installs no handler code.
    let _ = unsafe { signal(Signal::SIGTERM, SigHandler::SigIgn) };
    match super::control::take_down(&service.dir) {
        Ok(()) => Outcome::Exit(0),
        Err(e) => {
            say::err(&format!(
                "invoke-run: warning: cannot take {} down: {e}",
                service.name_lossy()
            ));
            Outcome::Exit(1)
        }
    }
}

/// An error in the defaults or the envdir: report it, take the service
/// down so that it does not restart every second, and exit 162.
fn setup_failed(service: &Service, detail: &str) -> Outcome {
    let name = service.name_lossy();
    say::log(&format!("invoke-run: error in {name}: {detail}"));
    // A finish file (finish-default, Debian's finish-default or
    // finish-exec) prints the standard line for 162; without one, do it here.
    if !service.dir.join("finish").exists() {
        say::log(&format!(
            "invoke-run: ERROR {EXIT_SETUP_FAILED} in {name}: configtest or early setup failed"
        ));
    }
    // Exit 162 even when runsv cannot be told: the code says what happened.
    let _ = down_and_exit(service);
    Outcome::Exit(EXIT_SETUP_FAILED)
}

/// Replace this process with `argv`. Returns only on failure, with 111 as
/// chpst and runsv use for "cannot run".
fn exec(argv: &[OsString], env: &Env) -> i32 {
    let to_c = |s: &OsString| CString::new(s.as_bytes()).ok();
    let args: Option<Vec<CString>> = argv.iter().map(to_c).collect();
    let Some(args) = args else {
        say::log("invoke-run: error: the service path contains a NUL byte");
        return 111;
    };
    let envp = env.to_envp();
    let err = nix::unistd::execve(&args[0], &args, &envp).unwrap_err();
    if err == nix::errno::Errno::E2BIG
        && let Ok(service) = Service::current(&Env::from_process())
    {
        // Too much environment (a huge envdir or defaults file) fails the
        // same way at every start: a setup error that takes the service
        // down, not 111, which runsv would retry every second.
        let size: usize = envp.iter().map(|v| v.as_bytes().len() + 1).sum();
        let detail = format!(
            "cannot execute {}: the environment is too large ({size} bytes in {} \
             variables, E2BIG); make the envdir or the defaults file smaller",
            PathBuf::from(&argv[0]).display(),
            envp.len()
        );
        if let Outcome::Exit(code) = setup_failed(&service, &detail) {
            return code;
        }
    }
    say::log(&format!(
        "invoke-run: error: cannot execute {}: {err}",
        PathBuf::from(&argv[0]).display()
    ));
    111
}
