//! What the maintainer-script snippets of a package built with
//! dh_servicebuilder do: `servicebuilder maint postinst|prerm|postrm`.
//!
//! The behaviour follows Debian's `/lib/runit-helper/runit-helper` (runit
//! 2.1.2-54, as dh_runit's snippets call it), with these differences:
//!
//! - **Any runsv counts.** Debian acts on the service only when runit is
//!   PID 1 and `/etc/service/NAME` is a link. Here a service is controlled
//!   whenever a runsv supervises it (a reader on its `supervise/ok`), so
//!   runsvdir under systemd or sysvinit is served too.
//! - **Rescans reach runsvdir.** After a new enable link, Debian sends ALRM
//!   to PID 1 when runit is init. Here that is done too, and every runsvdir
//!   watching the enable directory that catches ALRM (Debian's patched
//!   one; an unpatched runsvdir would die of it) gets the ALRM directly;
//!   then the start waits (bounded) for the new runsv, so it is real.
//! - **A normally-down service stays down.** With a `down` file (restart
//!   policy `never`), a service that is down is neither started nor
//!   restarted by postinst (a running one is restarted as usual).
//! - **prerm's stop kills a daemon that ignores TERM** after the 7 s
//!   timeout (`sv force-stop`), so a removed package leaves no process.
//! - **postrm prunes.** On remove and purge it runs the same prune as
//!   `servicebuilder prune` (links of services that no config or package
//!   declares), removes the enable link only when it points at this
//!   service and nothing declares the service any more, and cleans the
//!   supervise directories only once no runsv uses them.
//! - Nothing here ever fails the package operation because of runit: every
//!   problem is a warning.
//!
//! Where the installed runit-helper is 2.16 or later (trixie, sid: as
//! dpkg-query says), the actions also follow it:
//!
//! - **policy-rc.d is asked** in postinst (`NAME start`: on 101 nothing is
//!   done, not even the links) and in prerm (`NAME stop`: on 101 the
//!   service is left running), as runit 2.2 no longer asks it at each
//!   start. On bookworm it is not asked here (bookworm's invoke-run asks).
//! - **runit's dpkg trigger is told what was done.** After postinst's
//!   start or upgrade action on a service with `.meta/bin`, the binary's
//!   birth time (`stat -c %W`) is written to `.meta/wtime`, which is what
//!   trigger_sv compares to decide that a service needs its upgrade
//!   restart: so the trigger, which runs after postinst in the same dpkg
//!   run, does not restart it a second time. purge removes `.meta/wtime`.
//!
//! Every path lives in [`MaintRoots`], whose `Default` is the real host; the
//! command line takes a prefix from `SERVICEBUILDER_MAINT_ROOT` (tests
//! only) so that all of it runs in a temporary directory.

use std::ffi::OsStr;
use std::fs;
use std::io::ErrorKind;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Result, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::builder::{self, ServiceBuilder};
use crate::fsx;
use crate::sv::{DEFAULT_TIMEOUT, RunitSv, Service, State, Status, Sv, SvError};
pub use crate::template::OnUpgrade;
use crate::template::validate_service_name;

/// The environment variable that moves every path of [`MaintRoots`] under
/// a prefix (for tests; never set it on a real host).
pub const ROOT_ENV: &str = "SERVICEBUILDER_MAINT_ROOT";

/// How long postinst waits for runsvdir to start a runsv on a service it
/// has just enabled (ALRM makes it ~30 ms; without it, runsvdir's periodic
/// scan takes up to 5 s).
pub const RUNSV_WAIT: Duration = Duration::from_secs(6);

/// How long postrm waits at most for the runsv of a removed link to exit
/// before it cleans the supervise directories: runsvdir's next scan (every
/// 5 s) and the 1 s it sleeps when its directory changed in the current
/// second, when it has not taken ALRM.
pub const RUNSVDIR_SCAN_WAIT: Duration = Duration::from_secs(8);

/// The files runsv creates in a `supervise/` directory (and runit-helper
/// removes): anything else there belongs to the admin.
const SUPERVISE_FILES: &[&str] = &[
    "control",
    "lock",
    "ok",
    "pid",
    "stat",
    "status",
    "down",
    "pid.new",
    "stat.new",
    "status.new",
];

/// Every path the maintainer-script actions touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintRoots {
    /// Packaged service directories: `/etc/sv`.
    pub sv_dir: PathBuf,
    /// Where supervise links point: `/run/runit/supervise`.
    pub supervise_dir: PathBuf,
    /// Debian's enable directory: `/etc/runit/runsvdir/default`.
    pub enable_dir: PathBuf,
    /// What runsvdir watches: `/etc/service` (a link to the enable
    /// directory's `current`).
    pub runit_root: PathBuf,
    /// Parent of the default log directories: `/var/log/runit`.
    pub log_dir: PathBuf,
    /// servicebuilder's config root: `/etc/servicebuilder.d`.
    pub config_root: PathBuf,
    /// Package declarations: `/usr/share/servicebuilder`.
    pub package_root: PathBuf,
    /// Exists when runit is PID 1: `/run/runit.stopit`.
    pub runit_stopit: PathBuf,
    /// Whether to send ALRM to PID 1 when runit is init. False under a
    /// test prefix, where PID 1 is not ours to signal.
    pub signal_init: bool,
    /// How long postinst waits for a runsv after enabling.
    pub runsv_wait: Duration,
    /// dpkg's database directory for `dpkg-query --admindir`, when not
    /// dpkg's own default (tests only): the installed runit-helper's
    /// version is asked of dpkg-query, never read from the database.
    pub dpkg_admindir: Option<PathBuf>,
    /// The local policy layer: `/usr/sbin/policy-rc.d`.
    pub policy_rc_d: PathBuf,
    /// runit 2.2's copy of the packaged services (`/usr/share/runit/sv`),
    /// which `cpsv` refreshes and runsv supervises from:
    /// `/usr/share/runit/sv.now`.
    pub packaged_sv_now: PathBuf,
}

impl Default for MaintRoots {
    fn default() -> Self {
        MaintRoots {
            sv_dir: "/etc/sv".into(),
            supervise_dir: "/run/runit/supervise".into(),
            enable_dir: "/etc/runit/runsvdir/default".into(),
            runit_root: builder::DEFAULT_RUNIT_ROOT.into(),
            log_dir: "/var/log/runit".into(),
            config_root: builder::DEFAULT_CONFIG_ROOT.into(),
            package_root: builder::DEFAULT_PACKAGE_ROOT.into(),
            runit_stopit: "/run/runit.stopit".into(),
            signal_init: true,
            runsv_wait: RUNSV_WAIT,
            dpkg_admindir: None,
            policy_rc_d: "/usr/sbin/policy-rc.d".into(),
            packaged_sv_now: "/usr/share/runit/sv.now".into(),
        }
    }
}

impl MaintRoots {
    /// The host's paths moved under `prefix`, link targets included, and
    /// PID 1 left alone.
    ///
    /// ```
    /// let r = servicebuilder::maint::MaintRoots::under("/tmp/x");
    /// assert_eq!(r.sv_dir, std::path::Path::new("/tmp/x/etc/sv"));
    /// assert!(!r.signal_init);
    /// ```
    pub fn under(prefix: impl AsRef<Path>) -> Self {
        let p = prefix.as_ref();
        let d = MaintRoots::default();
        let re = |path: &Path| p.join(path.strip_prefix("/").unwrap_or(path));
        MaintRoots {
            sv_dir: re(&d.sv_dir),
            supervise_dir: re(&d.supervise_dir),
            enable_dir: re(&d.enable_dir),
            runit_root: re(&d.runit_root),
            log_dir: re(&d.log_dir),
            config_root: re(&d.config_root),
            package_root: re(&d.package_root),
            runit_stopit: re(&d.runit_stopit),
            signal_init: false,
            runsv_wait: d.runsv_wait,
            // Built from components: the path spelt out in the binary is
            // what lintian's uses-dpkg-database-directly looks for.
            dpkg_admindir: Some(p.join("var").join("lib").join("dpkg")),
            policy_rc_d: re(&d.policy_rc_d),
            packaged_sv_now: re(&d.packaged_sv_now),
        }
    }

    /// The real host, or the prefix in `SERVICEBUILDER_MAINT_ROOT` when it
    /// is set and not empty.
    pub fn from_env() -> Self {
        match std::env::var_os(ROOT_ENV) {
            Some(p) if !p.is_empty() => MaintRoots::under(PathBuf::from(p)),
            _ => MaintRoots::default(),
        }
    }

    /// Whether the installed runit-helper is 2.16 or later (trixie, sid),
    /// as dpkg-query says; false when it cannot be told (bookworm's
    /// behaviour is kept).
    pub fn runit_helper_216(&self) -> bool {
        let mut q = std::process::Command::new("dpkg-query");
        if let Some(dir) = &self.dpkg_admindir {
            q.arg(format!("--admindir={}", dir.display()));
        }
        q.args(["-W", "-f", "${db:Status-Status} ${Version}", "runit-helper"])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let Ok(out) = q.output() else {
            return false;
        };
        let text = String::from_utf8_lossy(&out.stdout);
        installed_version(&text).is_some_and(|v| version_at_least(&v, 2, 16))
    }

    fn builder(&self) -> ServiceBuilder {
        let mut b = ServiceBuilder::new(&self.config_root, &self.sv_dir, &self.runit_root);
        b.package_root = self.package_root.clone();
        b
    }
}

/// Which maintainer script calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    /// postinst
    Postinst,
    /// prerm
    Prerm,
    /// postrm
    Postrm,
}

/// What one call did: control lines in `sv`'s format (`ok: run: …`),
/// other actions, and warnings. Warnings never fail the package operation.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// `sv`-style result lines of start, stop, restart, reload.
    pub control: Vec<String>,
    /// Links and directories created or removed, signals sent.
    pub actions: Vec<String>,
    /// What the admin is always told (an action policy-rc.d denied).
    pub notices: Vec<String>,
    /// Problems that were skipped over.
    pub warnings: Vec<String>,
}

/// One service of one package, as the snippet describes it.
#[derive(Debug, Clone)]
pub struct Maint {
    /// The service name.
    pub name: String,
    /// Whether the package enables it (dh_runit's `ENABLE`).
    pub enable: bool,
    /// What an upgrade does.
    pub onupgrade: OnUpgrade,
    /// The package, for messages.
    pub package: Option<String>,
    /// The paths.
    pub roots: MaintRoots,
}

impl Maint {
    /// Runs `script` with dpkg's arguments (`configure 1.0-1`, `remove`,
    /// `upgrade 1.1-1`, `purge`, …).
    pub fn run(&self, script: Script, args: &[String]) -> Result<Report> {
        validate_service_name(&self.name).map_err(anyhow::Error::msg)?;
        let mut r = Report::default();
        match script {
            Script::Postinst => self.postinst(args, &mut r),
            Script::Prerm => self.prerm(args, &mut r),
            Script::Postrm => self.postrm(args, &mut r),
        }
        Ok(r)
    }

    fn svdir(&self) -> PathBuf {
        self.roots.sv_dir.join(&self.name)
    }

    fn service(&self) -> Service {
        Service::at(self.svdir())
    }

    fn enable_link(&self) -> PathBuf {
        self.roots.enable_dir.join(&self.name)
    }

    fn dot_link(&self) -> PathBuf {
        self.roots.enable_dir.join(format!(".{}", self.name))
    }

    fn supervised(&self) -> bool {
        RunitSv::default()
            .wait_supervised(&self.service(), Duration::ZERO)
            .is_ok()
    }

    fn postinst(&self, args: &[String], r: &mut Report) {
        let action = args.first().map(String::as_str).unwrap_or("");
        let previous = args.get(1).is_some_and(|v| !v.is_empty());
        let svdir = self.svdir();
        let today = self.roots.runit_helper_216();
        if today && self.policy_denies("start", r) {
            return;
        }
        if let Err(e) = mkdir_p(&self.roots.supervise_dir) {
            r.warnings.push(format!("{e:#}"));
        }
        if !svdir.is_dir() {
            // As make_svlinks: an admin may exclude /etc/sv with dpkg's
            // path-exclude; that must not break the installation.
            r.warnings.push(format!(
                "{}: {} does not exist; nothing to do",
                self.name,
                svdir.display()
            ));
            return;
        }
        self.make_supervise_links(r);

        let mut watched = false;
        if self.enable && !exists(&self.dot_link()) {
            match self.create_enable_link(r) {
                // As runit-helper: a new link is always followed by a rescan.
                Ok(true) => watched = self.rescan(r),
                Ok(false) => {}
                Err(e) => r.warnings.push(format!("{e:#}")),
            }
        }
        if !matches!(
            action,
            "configure" | "abort-upgrade" | "abort-deconfigure" | "abort-remove"
        ) {
            return;
        }
        if today {
            // Whatever happens below, the trigger that follows this
            // postinst must not take the package's upgrade for its own.
            self.record_wtime(r);
        }
        let service = self.service();
        if watched {
            // So that the start below is real, not skipped for want of a
            // runsv; bounded, and a timeout only means runsvdir is slow.
            let _ = RunitSv::default().wait_supervised(&service, self.roots.runsv_wait);
        }
        if !self.supervised() {
            return;
        }
        let sv = RunitSv {
            kill: false,
            ..RunitSv::default()
        };
        if Status::read(&svdir).is_ok_and(|s| !s.normally_up && s.state == State::Down) {
            // A `down` file: the package does not want it started for it.
            r.actions
                .push(format!("{}: normally down; not started", self.name));
            return;
        }
        let result = if self.onupgrade == OnUpgrade::Restart && previous {
            sv.restart(&service, DEFAULT_TIMEOUT)
        } else if self.onupgrade == OnUpgrade::Reload && previous {
            sv.reload(&service)
        } else {
            sv.start(&service)
        };
        self.record(result, r);
    }

    fn prerm(&self, args: &[String], r: &mut Report) {
        let action = args.first().map(String::as_str).unwrap_or("");
        if (self.onupgrade == OnUpgrade::Stop || action == "remove") && self.supervised() {
            if self.roots.runit_helper_216() && self.policy_denies("stop", r) {
                return;
            }
            let result = RunitSv::default().stop(&self.service(), DEFAULT_TIMEOUT);
            self.record(result, r);
        }
    }

    fn postrm(&self, args: &[String], r: &mut Report) {
        let action = args.first().map(String::as_str).unwrap_or("");
        if action != "remove" && action != "purge" {
            return;
        }
        let purge = action == "purge";
        let builder = self.roots.builder();
        match builder.prune() {
            Ok(report) => r.actions.extend(
                report
                    .removed
                    .iter()
                    .map(|p| format!("pruned {}", p.display())),
            ),
            Err(e) => r.warnings.push(format!("prune: {e:#}")),
        }
        let declared = match builder.declarations() {
            Ok((d, _)) => d.contains_key(&self.name),
            // Unknown: keep what might still be wanted.
            Err(_) => true,
        };
        let mut unlinked = false;
        if !declared && (self.enable || purge) {
            let link = self.enable_link();
            if self.points_here(&link) {
                match fsx::remove_file_if_exists(&link) {
                    Ok(true) => {
                        r.actions.push(format!("removed {}", link.display()));
                        unlinked = true;
                    }
                    Ok(false) => {}
                    Err(e) => r.warnings.push(format!("{e:#}")),
                }
            }
        }
        unlinked |= r.actions.iter().any(|a| a.starts_with("pruned "));
        if !declared {
            if unlinked && self.supervised() {
                self.rescan(r);
            }
            // Unlinked now or by an earlier prune (of another service of
            // the package) and still supervised: wait for runsvdir to stop
            // its runsv. ALRM makes that take about a second; but a
            // runsvdir may also see the change only at its next 5 s scan
            // (one that does not catch ALRM, or an ALRM that came while it
            // was scanning; seen in trixie), plus the 1 s it sleeps when
            // its directory changed in the current second. Without this
            // wait the supervise files would be left behind.
            if !exists(&self.enable_link()) && self.supervised() {
                let _ = wait_unsupervised(&self.service(), RUNSVDIR_SCAN_WAIT);
            }
            self.clean_supervise(r);
        }
        if purge {
            self.purge_packaged_copy(r);
            self.remove_wtime(r);
            let dot = self.dot_link();
            match fs::symlink_metadata(&dot) {
                Ok(m) if !m.is_dir() => match fsx::remove_file_if_exists(&dot) {
                    Ok(_) => r.actions.push(format!("removed {}", dot.display())),
                    Err(e) => r.warnings.push(format!("{e:#}")),
                },
                _ => {}
            }
            let logdir = self.roots.log_dir.join(&self.name);
            if fs::symlink_metadata(&logdir).is_ok_and(|m| m.is_dir()) {
                match fs::remove_dir_all(&logdir) {
                    Ok(()) => r.actions.push(format!("removed {}", logdir.display())),
                    Err(e) => r
                        .warnings
                        .push(format!("cannot remove {}: {e}", logdir.display())),
                }
            }
        }
    }

    /// Asks policy-rc.d whether `action` may be done to the service; true
    /// (and a notice) when it answers 101. A missing or non-executable
    /// policy-rc.d allows everything, as invoke-rc.d has it.
    fn policy_denies(&self, action: &str, r: &mut Report) -> bool {
        use std::os::unix::fs::PermissionsExt;
        let p = &self.roots.policy_rc_d;
        if !fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0) {
            return false;
        }
        match std::process::Command::new(p)
            .args([self.name.as_str(), action])
            .stdin(std::process::Stdio::null())
            .status()
        {
            Ok(st) if st.code() == Some(101) => {
                r.notices.push(format!(
                    "{}: policy-rc.d denies the {action} (exit 101); nothing done",
                    self.name
                ));
                true
            }
            Ok(_) => false,
            Err(e) => {
                r.warnings
                    .push(format!("cannot run {}: {e}; going on", p.display()));
                false
            }
        }
    }

    /// `.meta/wtime` = the birth time of the binary `.meta/bin` names, in
    /// seconds as `stat -c %W` prints it (0 when the file system does not
    /// know it), as trigger_sv writes it after its own restart.
    fn record_wtime(&self, r: &mut Report) {
        let meta = self.svdir().join(".meta");
        let Ok(bin) = fs::read_to_string(meta.join("bin")) else {
            return;
        };
        let bin = bin.trim_end_matches('\n');
        if bin.is_empty() {
            return;
        }
        let Ok(m) = fs::metadata(bin) else {
            return;
        };
        let born = m
            .created()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        let path = meta.join("wtime");
        match fsx::write_atomic(&path, format!("{born}\n").as_bytes(), 0o644) {
            Ok(()) => r.actions.push(format!("wrote {} ({born})", path.display())),
            Err(e) => r.warnings.push(format!("{e:#}")),
        }
    }

    /// purge of a service in the `usr` layout (runit-helper's `sv_purge`):
    /// its copy in `sv.now`, when its `.meta/pkg` names the package being
    /// purged, goes with its link and its supervise files; the service is
    /// taken down first (the trigger unlinks it when its binary goes, but
    /// not a copy whose binary belongs to another package).
    fn purge_packaged_copy(&self, r: &mut Report) {
        if exists(&self.svdir()) {
            return;
        }
        let copy = self.roots.packaged_sv_now.join(&self.name);
        let owner = fs::read_to_string(copy.join(".meta/pkg")).unwrap_or_default();
        if self.package.as_deref() != Some(owner.trim_end()) || owner.trim_end().is_empty() {
            return;
        }
        let link = self.enable_link();
        let into_copy = fs::read_link(&link).is_ok_and(|t| {
            t.ends_with(Path::new("sv.current").join(&self.name))
                || t.ends_with(Path::new("sv.now").join(&self.name))
        });
        if into_copy {
            match fsx::remove_file_if_exists(&link) {
                Ok(true) => r.actions.push(format!("removed {}", link.display())),
                Ok(false) => {}
                Err(e) => r.warnings.push(format!("{e:#}")),
            }
        }
        let service = Service::at(copy.clone());
        if RunitSv::default()
            .wait_supervised(&service, Duration::ZERO)
            .is_ok()
        {
            self.rescan(r);
            let _ = wait_unsupervised(&service, RUNSVDIR_SCAN_WAIT);
        }
        match fs::remove_dir_all(&copy) {
            Ok(()) => r.actions.push(format!("removed {}", copy.display())),
            Err(e) => r
                .warnings
                .push(format!("cannot remove {}: {e}", copy.display())),
        }
        self.clean_supervise(r);
    }

    /// purge: the `.meta/wtime` postinst or the trigger wrote, then the
    /// directories dpkg had to leave because of it, when empty.
    fn remove_wtime(&self, r: &mut Report) {
        let svdir = self.svdir();
        let path = svdir.join(".meta/wtime");
        match fsx::remove_file_if_exists(&path) {
            Ok(true) => {
                r.actions.push(format!("removed {}", path.display()));
                let _ = fs::remove_dir(svdir.join(".meta"));
                let _ = fs::remove_dir(&svdir);
            }
            Ok(false) => {}
            Err(e) => r.warnings.push(format!("{e:#}")),
        }
    }

    fn record(&self, result: Result<String, SvError>, r: &mut Report) {
        match result {
            Ok(line) => r.control.push(line),
            Err(e @ SvError::Killed { .. }) => r.control.push(format!("kill: {e}")),
            Err(e) => r
                .warnings
                .push(format!("{}: failed to control the service: {e}", self.name)),
        }
    }

    /// `supervise -> /run/runit/supervise/NAME` and `log/supervise ->
    /// …/NAME.log`, unless something is already there (make_svlinks).
    fn make_supervise_links(&self, r: &mut Report) {
        let svdir = self.svdir();
        let mut pairs = vec![(
            svdir.join("supervise"),
            self.roots.supervise_dir.join(&self.name),
        )];
        if svdir.join("log").is_dir() {
            pairs.push((
                svdir.join("log/supervise"),
                self.roots.supervise_dir.join(format!("{}.log", self.name)),
            ));
        }
        for (link, target) in pairs {
            if fs::symlink_metadata(&link).is_ok() {
                continue;
            }
            match fsx::symlink_swap(&target, &link) {
                Ok(()) => {
                    r.actions
                        .push(format!("linked {} -> {}", link.display(), target.display()))
                }
                Err(e) => r.warnings.push(format!("{e:#}")),
            }
        }
    }

    /// Creates the enable link unless something is there already (an
    /// existing link, or an admin's own directory). Returns whether it did.
    fn create_enable_link(&self, r: &mut Report) -> Result<bool> {
        let link = self.enable_link();
        match fs::symlink_metadata(&link) {
            Ok(_) => return Ok(false),
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => bail!("cannot inspect {}: {e}", link.display()),
        }
        mkdir_p(&self.roots.enable_dir)?;
        fsx::symlink_swap(&self.svdir(), &link)?;
        r.actions.push(format!(
            "enabled {} -> {}",
            link.display(),
            self.svdir().display()
        ));
        Ok(true)
    }

    /// Whether `link` is a symlink to this service's directory.
    fn points_here(&self, link: &Path) -> bool {
        let Ok(target) = fs::read_link(link) else {
            return false;
        };
        let target = if target.is_absolute() {
            target
        } else {
            link.parent().unwrap_or(Path::new("/")).join(target)
        };
        target == self.svdir()
            || matches!(
                (fs::canonicalize(&target), fs::canonicalize(self.svdir())),
                (Ok(a), Ok(b)) if a == b
            )
    }

    /// Asks runsvdir to rescan now. Returns whether some runsvdir watches
    /// the enable directory (so that waiting for it makes sense).
    fn rescan(&self, r: &mut Report) -> bool {
        let mut watched = false;
        if self.roots.signal_init && self.roots.runit_stopit.is_file() {
            // runit forwards ALRM to stage 2's runsvdir (Debian patch 0021).
            match kill(Pid::from_raw(1), Signal::SIGALRM) {
                Ok(()) => {
                    r.actions.push("sent ALRM to runit (PID 1)".into());
                    watched = true;
                }
                Err(e) => r.warnings.push(format!("cannot send ALRM to PID 1: {e}")),
            }
        }
        for (pid, catches_alrm) in runsvdirs_watching(&[
            self.roots.enable_dir.as_path(),
            self.roots.runit_root.as_path(),
        ]) {
            watched = true;
            if catches_alrm {
                match kill(Pid::from_raw(pid), Signal::SIGALRM) {
                    Ok(()) => r.actions.push(format!("sent ALRM to runsvdir {pid}")),
                    Err(e) => r
                        .warnings
                        .push(format!("cannot send ALRM to runsvdir {pid}: {e}")),
                }
            }
        }
        watched
    }

    /// Removes what runsv left in the supervise directories of the
    /// service and its logger, then the directories (when empty) and the
    /// supervise links. Directories a runsv still uses are left alone.
    fn clean_supervise(&self, r: &mut Report) {
        let svdir = self.svdir();
        let mut dirs = vec![svdir.join("supervise"), svdir.join("log/supervise")];
        for suffix in ["", ".log"] {
            dirs.push(
                self.roots
                    .supervise_dir
                    .join(format!("{}{suffix}", self.name)),
            );
        }
        for dir in dirs {
            let Ok(meta) = fs::symlink_metadata(&dir) else {
                continue;
            };
            let is_link = meta.file_type().is_symlink();
            if dir.is_dir() {
                if ok_has_reader(&dir.join("ok")) {
                    r.warnings.push(format!(
                        "{}: a runsv still uses it; left alone",
                        dir.display()
                    ));
                    continue;
                }
                for f in SUPERVISE_FILES {
                    let _ = fs::remove_file(dir.join(f));
                }
                // A directory the admin put something into stays.
                if !is_link && fs::remove_dir(&dir).is_ok() {
                    r.actions.push(format!("removed {}", dir.display()));
                }
            }
            if is_link {
                match fsx::remove_file_if_exists(&dir) {
                    Ok(_) => r.actions.push(format!("removed {}", dir.display())),
                    Err(e) => r.warnings.push(format!("{e:#}")),
                }
            }
        }
    }
}

/// The version in dpkg-query's `${db:Status-Status} ${Version}` answer,
/// if the package is installed.
fn installed_version(answer: &str) -> Option<String> {
    let (status, version) = answer.trim().split_once(' ')?;
    (status == "installed").then(|| version.to_string())
}

/// Whether a Debian version (`2.16.7`, `1:2.16~rc1`) is at least
/// `major.minor` (its upstream part's first two numbers).
fn version_at_least(version: &str, major: u64, minor: u64) -> bool {
    let upstream = version.split_once(':').map_or(version, |(_, v)| v);
    let mut nums = upstream.split(['.', '-', '~', '+']).map(|p| {
        p.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse::<u64>()
            .unwrap_or(0)
    });
    let (a, b) = (nums.next().unwrap_or(0), nums.next().unwrap_or(0));
    (a, b) >= (major, minor)
}

fn exists(p: &Path) -> bool {
    fs::symlink_metadata(p).is_ok()
}

fn mkdir_p(dir: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))
}

/// A FIFO with a reader: a runsv holds it.
fn ok_has_reader(fifo: &Path) -> bool {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(fifo)
        .is_ok()
}

fn wait_unsupervised(service: &Service, timeout: Duration) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if !ok_has_reader(&service.path.join("supervise/ok")) {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The runsvdir processes whose directory is one of `dirs` (compared after
/// resolving links), each with whether it catches SIGALRM (Debian's
/// forced-rescan patch). Read from /proc: runsvdir keeps its directory
/// argument intact in its command line (only the log argument scrolls).
pub fn runsvdirs_watching(dirs: &[&Path]) -> Vec<(i32, bool)> {
    let wanted: Vec<PathBuf> = dirs
        .iter()
        .filter_map(|d| fs::canonicalize(d).ok())
        .collect();
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let mut argv = cmdline.split(|&b| b == 0).filter(|a| !a.is_empty());
        let Some(argv0) = argv.next() else { continue };
        if Path::new(OsStr::from_bytes(argv0)).file_name() != Some(OsStr::new("runsvdir")) {
            continue;
        }
        let Some(dir) = argv.find(|a| !a.starts_with(b"-")) else {
            continue;
        };
        let dir = Path::new(OsStr::from_bytes(dir));
        let dir = if dir.is_absolute() {
            dir.to_owned()
        } else {
            match fs::read_link(format!("/proc/{pid}/cwd")) {
                Ok(cwd) => cwd.join(dir),
                Err(_) => continue,
            }
        };
        if fs::canonicalize(&dir).is_ok_and(|d| wanted.contains(&d)) {
            found.push((pid, catches(pid, Signal::SIGALRM)));
        }
    }
    found
}

/// Whether process `pid` has a handler for `sig` (`SigCgt` in
/// /proc/PID/status).
fn catches(pid: i32, sig: Signal) -> bool {
    let Ok(status) = fs::read_to_string(format!("/proc/{pid}/status")) else {
        return false;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_some_and(|mask| mask & (1u64 << (sig as i32 - 1)) != 0)
}

#[cfg(test)]
mod version_tests {
    use super::*;

    #[test]
    fn the_installed_runit_helper_is_read_from_dpkg_query() {
        assert_eq!(
            installed_version("installed 2.16.4").as_deref(),
            Some("2.16.4")
        );
        assert_eq!(installed_version("config-files 2.16.4"), None);
        assert_eq!(installed_version(""), None);
        assert!(version_at_least("2.16.4", 2, 16));
        assert!(version_at_least("2.17", 2, 16));
        assert!(version_at_least("3.0", 2, 16));
        assert!(!version_at_least("2.15.2", 2, 16));
        assert!(!version_at_least("2.9.0", 2, 16));
        assert!(version_at_least("1:2.16~rc1", 2, 16));
    }
}
