//! A throw-away system tree that `ns.sh` lays over the hard-coded paths
//! inside a private mount namespace, and the runs of real runsv in it.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The service name used by most tests.
pub const NAME: &str = "foo";

/// First line of a run script under Debian's interpreter.
pub const DEBIAN: &str = "#!/usr/bin/env /lib/runit/invoke-run";
/// First line of a run script rendered by servicebuilder.
pub const OURS: &str = "#!/usr/lib/servicebuilder/invoke-run";
/// Ours, written the way Debian runscripts are.
pub const OURS_VIA_ENV: &str = "#!/usr/bin/env /usr/lib/servicebuilder/invoke-run";

/// The rendered finish file.
pub const FINISH_DEFAULT: &str = "#!/bin/sh\nexec /usr/lib/servicebuilder/finish-default \"$@\"\n";

/// Which Debian runit the namespace has: bookworm's is the host's own;
/// trixie's and sid's are their `.deb`s (fetched by `fetch-runit`) laid
/// over the host's `/usr`, so that `/lib/runit/invoke-run`, finish-exec,
/// `sv`, `runsv` and `chpst` are that release's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Release {
    Bookworm,
    Trixie,
    Sid,
}

impl Release {
    fn name(self) -> &'static str {
        match self {
            Release::Bookworm => "bookworm",
            Release::Trixie => "trixie",
            Release::Sid => "sid",
        }
    }

    /// The unpacked packages of this release (`DIR/runit`, `DIR/xchpst`).
    fn packages(self) -> PathBuf {
        let out = Command::new(here().join("fetch-runit"))
            .arg(self.name())
            .stderr(Stdio::inherit())
            .output()
            .expect("run tests/runtime/fetch-runit");
        assert!(
            out.status.success(),
            "cannot fetch the runit packages of {}",
            self.name()
        );
        PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
    }
}

pub struct Sandbox {
    _tmp: tempfile::TempDir,
    /// The tree mounted over `/`'s hard-coded paths.
    pub root: PathBuf,
    /// Where the service writes what it saw; same path inside and outside.
    pub out: PathBuf,
}

fn here() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/runtime")
}

impl Sandbox {
    /// An empty tree: no defaults, no init scripts, policy-rc.d masked
    /// (present but not executable), and `/etc/service/NAME -> /etc/sv/NAME`.
    pub fn new() -> Sandbox {
        let tmp = tempfile::Builder::new()
            .prefix("sb-runtime-")
            .tempdir()
            .expect("create a temporary directory");
        let root = tmp.path().join("root");
        let out = tmp.path().join("out");
        for d in [
            "etc/default",
            "etc/init.d",
            "etc/sv",
            "etc/runit/runsvdir/default",
            "usr/share/runit/meta",
            "usr/share/runit/sv",
        ] {
            fs::create_dir_all(root.join(d)).unwrap();
        }
        fs::create_dir_all(&out).unwrap();
        symlink("default", root.join("etc/runit/runsvdir/current")).unwrap();
        let sb = Sandbox {
            _tmp: tmp,
            root,
            out,
        };
        sb.write("policy-rc.d", "#!/bin/sh\nexit 101\n", 0o644);
        sb
    }

    /// An empty tree, as [`Sandbox::new`], whose namespace has `release`'s
    /// runit installed.
    pub fn of(release: Release) -> Sandbox {
        let sb = Sandbox::new();
        if release != Release::Bookworm {
            let runit = release.packages().join("runit/usr");
            sb.write(".usr-layers", format!("{}\n", runit.display()), 0o644);
        }
        sb
    }

    /// Install `release`'s xchpst (`/usr/bin/xchpst`) in the namespace.
    /// Built for a newer glibc, it is not run: invoke-run only tests it.
    pub fn install_xchpst(&self, release: Release) {
        let layers = fs::read_to_string(self.root.join(".usr-layers")).unwrap_or_default();
        let xchpst = release.packages().join("xchpst/usr");
        self.write(
            ".usr-layers",
            format!("{}\n{layers}", xchpst.display()),
            0o644,
        );
    }

    /// Write `rel` (relative to the tree's root) with `mode`.
    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>, mode: u32) {
        let p = self.root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, content).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
    }

    /// A policy-rc.d that exits `code` and records its arguments and the
    /// signal state its children inherit (`out/helper-signals`).
    pub fn policy(&self, code: i32) {
        let o = self.out.display();
        let script = format!(
            "#!/bin/sh\necho \"$@\" >> {o}/policy-args\n\
             /bin/grep -E '^Sig(Ign|Blk)' /proc/self/status >> {o}/helper-signals\nexit {code}\n"
        );
        self.write("policy-rc.d", script, 0o755);
    }

    /// `/etc/sv/NAME` with `run` = `first_line` + `body`, a finish script,
    /// and the `/etc/service/NAME` link.
    pub fn service(&self, name: &str, first_line: &str, body: &str, finish: &str) {
        self.write(
            &format!("etc/sv/{name}/run"),
            format!("{first_line}\n{body}"),
            0o755,
        );
        self.write(&format!("etc/sv/{name}/finish"), finish, 0o755);
        let link = self.root.join(format!("etc/runit/runsvdir/default/{name}"));
        let _ = fs::remove_file(&link);
        symlink(format!("/etc/sv/{name}"), link).unwrap();
    }

    /// The service for differential runs: the body records `$0 "$@"`, the
    /// signal dispositions, and the environment of the final program
    /// (`env -0`); the finish script records its arguments.
    pub fn capturing_service(&self, first_line: &str) {
        let o = self.out.display();
        // `env` as a child sees exactly the environment an exec'd program
        // would; the exec'd grep shows the signal state a daemon inherits.
        let body = format!(
            "printf '%s\\n' \"$0\" \"$@\" > {o}/argv\n\
             /usr/bin/env -0 > {o}/env\n\
             exec /bin/grep -E '^Sig(Ign|Blk)' /proc/self/status > {o}/signals\n"
        );
        let finish =
            format!("#!/bin/sh\necho \"$1 $2\" > {o}/finish-args\n/usr/bin/touch {o}/finished\n");
        self.service(NAME, first_line, &body, &finish);
    }

    /// Run `args` inside a private mount namespace over this tree.
    pub fn in_namespace(&self, args: &[&str], timeout: Duration) -> Outcome {
        let bin = Path::new(env!("CARGO_BIN_EXE_invoke-run"))
            .parent()
            .unwrap();
        let mut cmd = Command::new("unshare");
        cmd.arg("-m")
            .arg("sh")
            .arg(here().join("ns.sh"))
            .arg(&self.root)
            .arg(bin)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        // SAFETY: the closure only makes raw system calls, which is
        // async-signal-safe between fork and exec.
        unsafe { cmd.pre_exec(default_glibc_internal_signals) };
        let child = cmd
            .spawn()
            .expect("run unshare -m (these tests need root and util-linux)");
        let mut guard = Guard(Some(child));
        let start = Instant::now();
        loop {
            if let Some(status) = guard.0.as_mut().unwrap().try_wait().unwrap() {
                let child = guard.0.take().unwrap();
                let out = child.wait_with_output().unwrap();
                assert!(
                    status.success(),
                    "namespace run {args:?} failed: {status}\nstdout: {}\nstderr: {}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                return Outcome {
                    elapsed: start.elapsed(),
                };
            }
            assert!(
                start.elapsed() < timeout,
                "namespace run {args:?} timed out after {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Start `/etc/service/NAME` once under a real runsv and wait until it
    /// has finished (see `once.sh`).
    pub fn once(&self, name: &str) -> Outcome {
        self.once_with_path(
            name,
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
    }

    /// As [`Sandbox::once`], with runsv's `PATH` set to `path` (`-`: unset).
    pub fn once_with_path(&self, name: &str, path: &str) -> Outcome {
        let once = here().join("once.sh");
        self.in_namespace(
            &[
                "sh",
                once.to_str().unwrap(),
                name,
                self.out.to_str().unwrap(),
                path,
            ],
            Duration::from_secs(20),
        )
    }

    /// Run `/etc/sv/NAME/run` from its directory without runsv, through
    /// `wrapper` (see `direct.sh`); returns its exit code.
    pub fn direct(&self, name: &str, wrapper: &[&str]) -> i32 {
        let script = here().join("direct.sh");
        let mut args = vec![
            "sh",
            script.to_str().unwrap(),
            name,
            self.out.to_str().unwrap(),
        ];
        args.extend_from_slice(wrapper);
        self.in_namespace(&args, Duration::from_secs(20));
        self.output("rc")
            .trim()
            .parse()
            .expect("direct.sh writes the exit code")
    }

    /// Supervise `/etc/service/NAME` (want up) under a real runsv, with its
    /// log service, for `seconds` after `out/MARK` appears (see
    /// `supervise.sh`).
    pub fn supervise(&self, name: &str, seconds: u32, mark: &str) -> Outcome {
        let script = here().join("supervise.sh");
        self.in_namespace(
            &[
                "sh",
                script.to_str().unwrap(),
                name,
                self.out.to_str().unwrap(),
                &seconds.to_string(),
                mark,
            ],
            Duration::from_secs(u64::from(seconds) + 20),
        )
    }

    /// A log service for `NAME` that appends everything to `out/log`.
    pub fn log_service(&self, name: &str) {
        self.write(
            &format!("etc/sv/{name}/log/run"),
            format!(
                "#!/bin/sh
exec cat >> {}/log
",
                self.out.display()
            ),
            0o755,
        );
    }

    /// The text of `out/FILE`, empty when it does not exist.
    pub fn output(&self, file: &str) -> String {
        String::from_utf8_lossy(&fs::read(self.out.join(file)).unwrap_or_default()).into_owned()
    }

    /// Whether `out/FILE` exists.
    pub fn has_output(&self, file: &str) -> bool {
        self.out.join(file).exists()
    }

    /// The environment the final program saw (`out/env`).
    pub fn final_env(&self) -> BTreeMap<String, String> {
        let raw = fs::read(self.out.join("env")).unwrap_or_default();
        raw.split(|&c| c == 0)
            .filter(|e| !e.is_empty())
            .map(|e| {
                let e = String::from_utf8_lossy(e);
                let (k, v) = e.split_once('=').unwrap_or((&e, ""));
                (k.to_string(), v.to_string())
            })
            .collect()
    }
}

/// Set signals 32 and 33 back to their default disposition in the child.
///
/// This test process was started by cargo through glibc's `posix_spawn`,
/// which leaves glibc's internal signals (32 and 33) ignored in the child,
/// and ignored signals survive `execve`. On a real system runsvdir comes
/// from `/etc/runit/2`, a shell, with both at their default; starting the
/// namespace the same way lets the tests see whether invoke-run passes them
/// on like a shell does (glibc's sigaction refuses these two signals, so the
/// kernel is asked directly).
fn default_glibc_internal_signals() -> std::io::Result<()> {
    for sig in [32, 33] {
        // The kernel's struct sigaction, all zero: SIG_DFL, no flags, no mask.
        let act = [0usize; 8];
        // SAFETY: `act` is larger than the kernel's struct sigaction; the
        // size argument is that of the kernel's signal mask.
        let rc = unsafe {
            nix::libc::syscall(
                nix::libc::SYS_rt_sigaction,
                sig,
                act.as_ptr(),
                std::ptr::null_mut::<u8>(),
                std::mem::size_of::<u64>(),
            )
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// What a namespace run took.
pub struct Outcome {
    #[allow(dead_code)]
    pub elapsed: Duration,
}

/// Kills the process group of a namespace run that did not finish (a
/// failed assertion or a timeout): the shell, runsv and the service.
struct Guard(Option<Child>);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let pgid = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
            let _ = child.wait();
        }
    }
}
