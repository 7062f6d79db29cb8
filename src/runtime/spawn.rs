//! Running helper programs (policy-rc.d, init scripts, `/bin/sh` for a
//! defaults file) with `posix_spawn`, and waiting for them.
//!
//! Not `std::process::Command`: its machinery (the fork fallback, pidfds,
//! a socketpair for exec errors, uid/gid/chroot/groups support) adds about
//! 25 libc symbols that the dynamic loader binds at every service start,
//! used or not. glibc's `posix_spawn` is a `vfork`-style clone that reports
//! exec errors itself, and its file actions cover the only child setup the
//! runtime needs (descriptor redirections), so no code runs in the child.

use std::ffi::{CString, OsStr};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;

use nix::fcntl::{OFlag, open};
use nix::spawn::{PosixSpawnAttr, PosixSpawnFileActions, posix_spawn};
use nix::sys::stat::Mode;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::Pid;

use super::env::Env;

/// How a helper program ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// It exited with this code.
    Exited(i32),
    /// It was killed by this signal.
    Signaled(i32),
}

impl Status {
    /// The exit code, `None` when killed by a signal.
    pub fn code(self) -> Option<i32> {
        match self {
            Status::Exited(c) => Some(c),
            Status::Signaled(_) => None,
        }
    }

    /// True for exit code 0.
    pub fn success(self) -> bool {
        self == Status::Exited(0)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Status::Exited(c) => write!(f, "exit status {c}"),
            Status::Signaled(s) => write!(f, "killed by signal {s}"),
        }
    }
}

/// Where a child's descriptor comes from.
#[derive(Clone, Copy, Debug)]
pub enum Redirect {
    /// `/dev/null`, opened for reading and writing.
    Null,
    /// A copy of this descriptor of ours.
    Fd(RawFd),
}

/// A started helper program.
#[derive(Debug)]
pub struct Child(Pid);

impl Child {
    /// Its process id.
    pub fn pid(&self) -> Pid {
        self.0
    }

    /// Wait for it to end.
    pub fn wait(self) -> io::Result<Status> {
        loop {
            match waitpid(self.0, None) {
                Ok(WaitStatus::Exited(_, code)) => return Ok(Status::Exited(code)),
                Ok(WaitStatus::Signaled(_, sig, _)) => return Ok(Status::Signaled(sig as i32)),
                Ok(_) => continue,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

fn cstring(s: &OsStr) -> io::Result<CString> {
    CString::new(s.as_bytes()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} contains a NUL byte", s.to_string_lossy()),
        )
    })
}

/// Start `program` with `args` (not counting `argv[0]`, which is `program`)
/// and exactly the environment `env`. `redirects` maps descriptors of the
/// child (`(child_fd, source)`) in order; everything else is inherited,
/// except descriptors marked close-on-exec.
pub fn spawn(
    program: &OsStr,
    args: &[&OsStr],
    env: &Env,
    redirects: &[(RawFd, Redirect)],
) -> io::Result<Child> {
    let mut argv = Vec::with_capacity(args.len() + 1);
    argv.push(cstring(program)?);
    for a in args {
        argv.push(cstring(a)?);
    }
    let envp = env.to_envp();
    let mut actions = PosixSpawnFileActions::init()?;
    let mut null: Option<OwnedFd> = None;
    for &(child_fd, source) in redirects {
        let from = match source {
            Redirect::Fd(fd) => fd,
            Redirect::Null => match &null {
                Some(fd) => fd.as_raw_fd(),
                None => null
                    .insert(open(
                        "/dev/null",
                        OFlag::O_RDWR | OFlag::O_CLOEXEC,
                        Mode::empty(),
                    )?)
                    .as_raw_fd(),
            },
        };
        actions.add_dup2(from, child_fd)?;
    }
    let mut attr = PosixSpawnAttr::init()?;
    reset_internal_signals(&mut attr)?;
    match posix_spawn(argv[0].as_c_str(), &actions, &attr, &argv, &envp) {
        Ok(pid) => Ok(Child(pid)),
        // A script without a `#!` line (`echo 'exit 101' >
        // /usr/sbin/policy-rc.d` is a common idiom): the shell that runs
        // helpers in Debian's interpreter hands such a file to /bin/sh, so
        // do the same, with the file as `$0`.
        Err(nix::errno::Errno::ENOEXEC) => {
            argv.insert(0, cstring(super::SH.as_ref())?);
            let pid = posix_spawn(argv[0].as_c_str(), &actions, &attr, &argv, &envp)?;
            Ok(Child(pid))
        }
        Err(e) => Err(e.into()),
    }
}

/// glibc's two internal signals, `SIGCANCEL` and `SIGSETXID` (32 and 33,
/// below `SIGRTMIN`).
const GLIBC_INTERNAL_SIGNALS: [nix::libc::c_int; 2] = [32, 33];

/// glibc's `posix_spawn` (2.36, bookworm) blocks every signal around the
/// clone and then sets each blocked internal signal to `SIG_IGN` in the
/// child, and an ignored disposition survives `execve`: the helper, and
/// every process it starts (an init script's `start-stop-daemon`, say),
/// would ignore signals 32 and 33, which a shell's fork leaves at their
/// default. Ask for the default instead, unless this process ignores them
/// itself (then the child inherits that, as under a shell).
fn reset_internal_signals(attr: &mut PosixSpawnAttr) -> io::Result<()> {
    let bits = 8 * std::mem::size_of::<nix::libc::c_ulong>();
    // SAFETY: sigemptyset fills a local set.
    let mut set: nix::libc::sigset_t = unsafe { std::mem::zeroed() };
    unsafe { nix::libc::sigemptyset(&mut set) };
    for sig in GLIBC_INTERNAL_SIGNALS {
        if !ignored_here(sig) {
            // glibc's sigaddset refuses its internal signals (EINVAL), so
            // set the bit itself: signal N is bit N-1.
            let bit = (sig - 1) as usize;
            let words = (&mut set as *mut nix::libc::sigset_t).cast::<nix::libc::c_ulong>();
            // SAFETY: sigset_t is an array of c_ulong (1024 bits) on Linux.
            unsafe { *words.add(bit / bits) |= 1 << (bit % bits) };
        }
    }
    // SAFETY: `set` is an initialised sigset_t.
    let set = unsafe { nix::sys::signal::SigSet::from_sigset_t_unchecked(set) };
    attr.set_sigdefault(&set)?;
    attr.set_flags(nix::spawn::PosixSpawnFlags::POSIX_SPAWN_SETSIGDEF)?;
    Ok(())
}

/// Whether this process ignores signal `sig`. Asked of the kernel
/// directly: glibc's sigaction refuses its internal signals.
fn ignored_here(sig: nix::libc::c_int) -> bool {
    // The kernel's struct sigaction: the handler comes first, except on
    // MIPS, where an int of flags precedes it; 8 words cover both.
    let mut old = [0usize; 8];
    // SAFETY: a null new action only reads; `old` is larger than the
    // kernel's struct and the size argument is that of the signal mask.
    let rc = unsafe {
        nix::libc::syscall(
            nix::libc::SYS_rt_sigaction,
            sig,
            std::ptr::null::<u8>(),
            old.as_mut_ptr(),
            std::mem::size_of::<u64>(),
        )
    };
    let handler = if cfg!(any(target_arch = "mips", target_arch = "mips64")) {
        old[1]
    } else {
        old[0]
    };
    rc == 0 && handler == nix::libc::SIG_IGN
}

/// [`spawn`], then wait.
pub fn run(
    program: &OsStr,
    args: &[&OsStr],
    env: &Env,
    redirects: &[(RawFd, Redirect)],
) -> io::Result<Status> {
    spawn(program, args, env, redirects)?.wait()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// The kernel's struct sigaction, as raw words (larger than needed).
    type RawAction = [usize; 8];

    /// Install `act` for `sig` with the kernel's rt_sigaction (glibc's
    /// sigaction refuses 32 and 33) and return the previous action whole,
    /// handler, flags and mask, so that glibc's own handler can be put back.
    fn swap_action(sig: nix::libc::c_int, act: &RawAction) -> RawAction {
        let mut old: RawAction = [0; 8];
        // SAFETY: both buffers are larger than the kernel's struct sigaction.
        let rc = unsafe {
            nix::libc::syscall(
                nix::libc::SYS_rt_sigaction,
                sig,
                act.as_ptr(),
                old.as_mut_ptr(),
                std::mem::size_of::<u64>(),
            )
        };
        assert_eq!(rc, 0, "rt_sigaction({sig})");
        old
    }

    /// An action with just this handler (SIG_IGN or SIG_DFL).
    fn plain(handler: nix::libc::sighandler_t) -> RawAction {
        let mut act: RawAction = [0; 8];
        let at = if cfg!(any(target_arch = "mips", target_arch = "mips64")) {
            1
        } else {
            0
        };
        act[at] = handler;
        act
    }

    #[test]
    fn helpers_get_internal_signals_at_default_unless_this_process_ignores_them() {
        let old_32 = swap_action(32, &plain(nix::libc::SIG_IGN));
        let old_33 = swap_action(33, &plain(nix::libc::SIG_DFL));
        let (read_end, write_end) = nix::unistd::pipe().unwrap();
        let mut env = Env::new();
        env.set("PATH", "/usr/bin:/bin");
        let status = run(
            "/bin/grep".as_ref(),
            &["^SigIgn".as_ref(), "/proc/self/status".as_ref()],
            &env,
            &[(1, Redirect::Fd(write_end.as_raw_fd()))],
        );
        drop(write_end);
        swap_action(32, &old_32);
        swap_action(33, &old_33);
        assert!(status.unwrap().success());
        let mut out = String::new();
        std::fs::File::from(read_end)
            .read_to_string(&mut out)
            .unwrap();
        let mask = u64::from_str_radix(out.trim().trim_start_matches("SigIgn:").trim(), 16)
            .unwrap_or_else(|e| panic!("{out:?}: {e}"));
        // Signal N is bit N-1.
        assert_eq!(
            mask >> 31 & 1,
            1,
            "32 ignored here, so in the helper: {out}"
        );
        assert_eq!(
            mask >> 32 & 1,
            0,
            "33 at default here, so in the helper: {out}"
        );
    }
}
