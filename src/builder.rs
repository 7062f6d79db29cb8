//! [`ServiceBuilder`]: the seed's Write / Stage / Activate / Rebuild / Prune
//! over three roots.
//!
//! - the **config root** holds one YAML file per template set;
//! - the **staging root** holds the service directories built from them;
//! - the **runit root** is what runsvdir watches: it gets one symlink per
//!   service, pointing into the staging root.
//!
//! Everything servicebuilder creates carries the ownership marker
//! `.meta/servicebuilder`, and `prune` never touches anything without it.
//! Multi-file changes hold an exclusive lock (`flock`) on the staging root
//! directory itself, so nothing is left behind in it.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

pub mod edits;
mod kept;

pub use kept::{KEPT_DIR, civil_from_days, foreign_entries};

use crate::fsx;
use crate::render::{Entry, EntryKind, RenderOptions, render_service};
use crate::template::{self, ServiceTemplate, Templates, validate_service_name};

/// The command's default config root (the seed's).
pub const DEFAULT_CONFIG_ROOT: &str = "/etc/servicebuilder.d";
/// The default staging root: where Debian keeps service directories.
pub const DEFAULT_STAGING_ROOT: &str = "/etc/sv";
/// The default runit root: what Debian's runsvdir watches.
pub const DEFAULT_RUNIT_ROOT: &str = "/etc/service";
/// Where packages built with dh_servicebuilder declare their services.
pub const DEFAULT_PACKAGE_ROOT: &str = "/usr/share/servicebuilder";

/// The ownership marker, relative to a service directory.
pub const MARKER: &str = ".meta/servicebuilder";
/// How long `prune` waits for the runsv of a pruned service to exit
/// before it leaves the service's directory for the next prune: runsvdir
/// notices a removed link within 5 s, then runsv stops the service.
pub const PRUNE_WAIT: std::time::Duration = std::time::Duration::from_secs(7);
/// After [`PRUNE_WAIT`], how long `prune` waits for a runsv to exit once
/// its service has been killed.
pub const KILL_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Files and directories that staging manages inside a service directory;
/// anything else there (supervise/, log/main/, an admin's extra file) is
/// left alone.
const MANAGED: &[&str] = &[
    "run",
    "finish",
    "down",
    "log/run",
    ".meta/bin",
    ".meta/noreplace",
];

/// Builds services from templates (the seed's `ServiceBuilder`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceBuilder {
    /// Directory of the YAML template sets.
    pub config_root: PathBuf,
    /// Directory where service directories are built.
    pub staging_root: PathBuf,
    /// Directory that runsvdir watches.
    pub runit_root: PathBuf,
    /// Directory of package declarations (`PKG.yaml`), also honoured by
    /// `prune`.
    pub package_root: PathBuf,
    /// Paths written into the rendered scripts.
    pub render: RenderOptions,
}

impl Default for ServiceBuilder {
    fn default() -> Self {
        ServiceBuilder {
            config_root: DEFAULT_CONFIG_ROOT.into(),
            staging_root: DEFAULT_STAGING_ROOT.into(),
            runit_root: DEFAULT_RUNIT_ROOT.into(),
            package_root: DEFAULT_PACKAGE_ROOT.into(),
            render: RenderOptions {
                host_log: true,
                ..RenderOptions::default()
            },
        }
    }
}

/// What a run changed, for reports and tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Services staged and linked.
    pub services: Vec<String>,
    /// Paths written or created.
    pub written: Vec<PathBuf>,
    /// Paths removed.
    pub removed: Vec<PathBuf>,
    /// Problems that did not stop the run (rebuild goes on past a bad
    /// file); the run as a whole failed when this is not empty.
    pub errors: Vec<String>,
    /// Staged directories that `prune` left in place because a runsv still
    /// ran in them [`PRUNE_WAIT`] after their links were removed (a service
    /// slow to stop): not an error; the next `prune` removes them.
    pub deferred: Vec<PathBuf>,
    /// Directories under `STAGING/.kept/` that received log history or an
    /// admin's files instead of deleting them.
    pub kept: Vec<PathBuf>,
    /// Services whose runsv was told to exit (runsvdir starts a new one)
    /// because their log service was added or removed: runsv looks for
    /// `log/` only when it starts.
    pub restarted: Vec<String>,
    /// Files edited by hand in a staged directory (`SERVICE/PATH`), copied
    /// to [`Report::kept`] before the template's version replaced them.
    pub edited: Vec<String>,
}

impl Report {
    fn merge(&mut self, other: Report) {
        self.services.extend(other.services);
        self.written.extend(other.written);
        self.removed.extend(other.removed);
        self.errors.extend(other.errors);
        self.deferred.extend(other.deferred);
        self.kept.extend(other.kept);
        self.restarted.extend(other.restarted);
        self.edited.extend(other.edited);
    }
}

/// Where each declared service comes from.
pub type Declarations = BTreeMap<String, PathBuf>;

impl ServiceBuilder {
    /// A builder over the three given roots, with the default package root
    /// and render paths.
    pub fn new(
        config_root: impl Into<PathBuf>,
        staging_root: impl Into<PathBuf>,
        runit_root: impl Into<PathBuf>,
    ) -> Self {
        ServiceBuilder {
            config_root: config_root.into(),
            staging_root: staging_root.into(),
            runit_root: runit_root.into(),
            ..Default::default()
        }
    }

    /// The config file of template set `name`.
    pub fn config_path(&self, name: &str) -> PathBuf {
        self.config_root.join(format!("{name}.yaml"))
    }

    /// Writes `templates` as set `name` (the seed's Write). An empty map
    /// removes the file. Returns the file's path.
    pub fn write(&self, name: &str, templates: &Templates) -> Result<PathBuf> {
        validate_set_name(name)?;
        let path = self.config_path(name);
        if templates.is_empty() {
            fsx::remove_file_if_exists(&path)?;
        } else {
            fsx::ensure_root(&self.config_root)?;
            fsx::write_if_changed(
                &path,
                template::to_yaml(templates).as_bytes(),
                config_mode(templates),
            )?;
        }
        Ok(path)
    }

    /// Reads set `name` back (empty when it does not exist).
    pub fn read(&self, name: &str) -> Result<Templates> {
        validate_set_name(name)?;
        let path = self.config_path(name);
        if !path.exists() {
            return Ok(Templates::new());
        }
        Ok(template::load_file(&path)?)
    }

    /// Writes, stages and links set `name` (the seed's Activate).
    ///
    /// A service that another file already declares is an error naming both
    /// files, and nothing is changed.
    pub fn activate(&self, name: &str, templates: &Templates) -> Result<Report> {
        validate_set_name(name)?;
        let (_lock, mut report) = self.begin()?;
        let path = self.config_path(name);
        // The set's own file is not read: what it declares is replaced.
        let (declared, _) = self.declarations_except(Some(&path))?;
        for service in templates.keys() {
            if let Some(other) = declared.get(service) {
                bail!(
                    "service `{service}` is already declared in {}; remove it there or \
                     choose another name",
                    other.display()
                );
            }
        }
        let root = fsx::Dir::open(&self.staging_root)?;
        // What would be refused is refused before anything is written: a
        // refused change changes nothing, the config root included.
        for (service, t) in templates {
            self.preflight(&root, service, t)?;
        }
        // What the set said before: the staged directories were built
        // from it, so a file that differs from its rendering was edited.
        let before: Templates = if path.exists() {
            template::load_file(&path).unwrap_or_default()
        } else {
            Templates::new()
        };
        let old = fs::read(&path).ok().map(|bytes| {
            let mode = fs::metadata(&path).map_or(0o644, |m| {
                std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o7777
            });
            (bytes, mode)
        });
        self.write(name, templates)?;
        let origin = format!("{name}.yaml");
        let staged = (|| -> Result<()> {
            for (service, t) in templates {
                let built_from = before.get(service).unwrap_or(t);
                report.merge(self.stage_and_link(&root, service, t, &origin, built_from)?);
            }
            Ok(())
        })();
        if let Err(e) = staged {
            // The set's file goes back to what it was, so that the next
            // rebuild does not act on a template that was refused.
            let _ = match old {
                Some((bytes, mode)) => fsx::write_atomic(&path, &bytes, mode),
                None => fsx::remove_file_if_exists(&path).map(|_| ()),
            };
            return Err(e);
        }
        fsx::syncfs(&self.staging_root)?;
        Ok(report)
    }

    /// Checks, writing nothing, what [`Self::stage_and_link`] would refuse
    /// for `service`: a staged directory servicebuilder did not make, a
    /// symlink in its place, or a foreign entry in the runit root.
    fn preflight(&self, root: &fsx::Dir, service: &str, t: &ServiceTemplate) -> Result<()> {
        validate_service_name(service).map_err(anyhow::Error::msg)?;
        t.validate()
            .map_err(|e| anyhow::anyhow!("service `{service}`: {e}"))?;
        if let Some(existing) = root.open_dir(service)? {
            check_marker(&existing, &self.staging_root.join(service))?;
        }
        if t.enable && !self.disabled_by_admin(service) {
            self.link_needed(service)?;
        }
        Ok(())
    }

    /// Stages and links every service of every `*.yaml` in the config root
    /// (the seed's Rebuild). A bad file is reported in
    /// [`Report::errors`] and the other files are still rebuilt.
    pub fn rebuild(&self) -> Result<Report> {
        let (_lock, mut report) = self.begin()?;
        let root = fsx::Dir::open(&self.staging_root)?;
        let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
        for file in self.config_files()? {
            let templates = match template::load_file(&file) {
                Ok(t) => t,
                Err(e) => {
                    report.errors.push(e.to_string());
                    continue;
                }
            };
            let origin = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            for (service, t) in &templates {
                if let Some(first) = seen.get(service) {
                    report.errors.push(format!(
                        "{}: service `{service}` is already declared in {}; it was built from \
                         that file only",
                        file.display(),
                        first.display()
                    ));
                    continue;
                }
                seen.insert(service.clone(), file.clone());
                match self.stage_and_link(&root, service, t, &origin, t) {
                    Ok(r) => report.merge(r),
                    Err(e) => report.errors.push(format!("{}: {e:#}", file.display())),
                }
            }
        }
        fsx::syncfs(&self.staging_root)?;
        Ok(report)
    }

    /// Removes the links and staged directories of services that no
    /// template declares (the seed's Prune). Only links that point to a
    /// directory carrying servicebuilder's marker, and only staged
    /// directories carrying a `config` marker, are ever removed. If any
    /// template file cannot be read, nothing is removed.
    pub fn prune(&self) -> Result<Report> {
        let (_lock, mut report) = self.begin()?;
        let (declared, errors) = self.declarations()?;
        if !errors.is_empty() {
            bail!(
                "not pruning, because some templates cannot be read (their services would \
                 be removed):\n  {}",
                errors.join("\n  ")
            );
        }
        if let Ok(entries) = fs::read_dir(&self.runit_root) {
            for entry in entries {
                let entry =
                    entry.with_context(|| format!("reading {}", self.runit_root.display()))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') {
                    continue;
                }
                let link = entry.path();
                // A dangling link of ours goes even when its service is
                // declared: runsvdir cannot run it, and the next activate
                // or rebuild links the service again.
                let doomed = if declared.contains_key(&name) {
                    self.is_our_dangling_link(&link)?
                } else {
                    self.is_our_link(&link)?
                };
                if doomed {
                    fsx::remove_file_if_exists(&link)?;
                    report.removed.push(link);
                }
            }
        }
        let root = fsx::Dir::open(&self.staging_root)?;
        let mut doomed = Vec::new();
        for (name, kind) in root.entries()? {
            if name.starts_with('.') || declared.contains_key(&name) || kind != fsx::Kind::Dir {
                continue;
            }
            let path = self.staging_root.join(&name);
            if marker_kind(&path) == Some(MarkerKind::Config) {
                doomed.push(name);
            }
        }
        // runsvdir notices a removed link only seconds later and then stops
        // the service's runsv; a directory removed under a live runsv
        // leaves it failing to write supervise/ until it goes. So each
        // directory goes once its runsv has exited, and one whose runsv
        // outlives the wait stays for the next prune.
        let running = |name: &String| -> Result<bool> {
            match root.open_dir(name)? {
                Some(d) => d.has_reader("supervise/ok"),
                None => Ok(false),
            }
        };
        let deadline = std::time::Instant::now() + PRUNE_WAIT;
        let mut killed = false;
        let mut waiting: BTreeSet<String> = BTreeSet::new();
        loop {
            for name in doomed.drain(..).chain(std::mem::take(&mut waiting)) {
                if running(&name)? {
                    waiting.insert(name);
                } else {
                    // Log history and an admin's files are data: they go
                    // to STAGING/.kept/, the rest is ours to remove.
                    let path = self.staging_root.join(&name);
                    let foreign = kept::foreign_entries(&path)?;
                    report
                        .kept
                        .extend(kept::move_aside(&self.staging_root, &name, &foreign)?);
                    root.remove_tree(&name)?;
                    report.removed.push(path);
                }
            }
            if waiting.is_empty() {
                break;
            }
            if std::time::Instant::now() >= deadline {
                if killed {
                    break;
                }
                // runsv stops a service with TERM and waits for ever: one
                // that ignores TERM would keep its runsv, and this prune,
                // from finishing. As `sv force-stop` does, KILL it.
                killed = true;
                for name in &waiting {
                    kill_stuck(&self.staging_root.join(name));
                }
                let more = std::time::Instant::now() + KILL_WAIT;
                while std::time::Instant::now() < more
                    && waiting.iter().any(|n| running(n).unwrap_or(false))
                {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                continue;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        report
            .deferred
            .extend(waiting.into_iter().map(|n| self.staging_root.join(n)));
        root.syncfs()?;
        Ok(report)
    }

    /// Every declared service and the file declaring it, from the config
    /// root and the package root, plus the files that could not be read.
    /// Two files declaring one service is an error naming both.
    pub fn declarations(&self) -> Result<(Declarations, Vec<String>)> {
        self.declarations_except(None)
    }

    fn declarations_except(&self, skip: Option<&Path>) -> Result<(Declarations, Vec<String>)> {
        let mut declared = Declarations::new();
        let mut errors = Vec::new();
        let files = self
            .config_files()?
            .into_iter()
            .chain(yaml_files(&self.package_root)?)
            .filter(|f| Some(f.as_path()) != skip);
        for file in files {
            match template::load_file(&file) {
                Ok(templates) => {
                    for service in templates.into_keys() {
                        if let Some(first) = declared.get(&service) {
                            bail!(
                                "service `{service}` is declared in both {} and {}; remove one",
                                first.display(),
                                file.display()
                            );
                        }
                        declared.insert(service, file.clone());
                    }
                }
                Err(e) => errors.push(e.to_string()),
            }
        }
        Ok((declared, errors))
    }

    /// The `*.yaml` files of the config root, sorted.
    pub fn config_files(&self) -> Result<Vec<PathBuf>> {
        yaml_files(&self.config_root)
    }

    /// Builds `service`'s directory in the staging root, writing only what
    /// changed.
    ///
    /// A new service is built under a temporary dot-name and renamed into
    /// place, so runsvdir never sees part of it. A changed service keeps its
    /// directory (runsv lives in it and owns `supervise/`): it is first
    /// compared, writing nothing, and an unchanged service costs no write at
    /// all. Otherwise an uncommitted journal `STAGING/.SERVICE.sb-journal`
    /// is written (the sign for the next run that litter may follow), every
    /// new file is written under a temporary dot-name, then the journal
    /// listing the renames and removals is committed over it, applied and
    /// removed. A run killed after the commit is finished by the next locked
    /// run ([`recover`](Self::recover)); one killed before it leaves the old
    /// version and dot-named litter that the next run sweeps.
    pub fn stage(&self, service: &str, t: &ServiceTemplate, origin: &str) -> Result<Report> {
        self.stage_in(&fsx::Dir::open(&self.staging_root)?, service, t, origin)
    }

    fn stage_in(
        &self,
        root: &fsx::Dir,
        service: &str,
        t: &ServiceTemplate,
        origin: &str,
    ) -> Result<Report> {
        validate_service_name(service).map_err(anyhow::Error::msg)?;
        t.validate()
            .map_err(|e| anyhow::anyhow!("service `{service}`: {e}"))?;
        let dir = self.staging_root.join(service);
        let mut entries = render_service(service, t, &self.render_options()?);
        if !entries
            .iter()
            .any(|e| e.path == Path::new(".meta") && matches!(e.kind, EntryKind::Dir { .. }))
        {
            entries.push(Entry {
                path: ".meta".into(),
                kind: EntryKind::Dir { mode: 0o755 },
            });
        }
        entries.push(Entry {
            path: MARKER.into(),
            kind: EntryKind::File {
                contents: format!("config {origin}\n").into_bytes(),
                mode: 0o644,
            },
        });
        let mut report = Report::default();
        let Some(existing) = root.open_dir(service)? else {
            // New: build it whole under a dot-name, then one rename.
            let tmp = fsx::temp_name(service);
            let result = (|| -> Result<()> {
                root.create_dir(&tmp, 0o755)?;
                let d = root.open_dir(&tmp)?.context("the new directory vanished")?;
                for Entry { path, kind } in &entries {
                    let rel = path.to_string_lossy();
                    if rel.is_empty() {
                        d.chmod(".", dir_mode(kind))?;
                        continue;
                    }
                    let (parent, name) = split(&rel);
                    let p = d.walk(parent)?.context("a parent directory vanished")?;
                    create(&p, name, kind)?;
                    report.written.push(dir.join(path));
                }
                root.rename_noreplace(&tmp, service)
            })();
            if let Err(e) = result {
                let _ = root.remove_tree(&tmp);
                return Err(e);
            }
            report.written.insert(0, dir);
            report.services.push(service.to_owned());
            return Ok(report);
        };
        let plan = match plan_changes(&existing, &entries, t) {
            Ok(plan) => plan,
            Err(e) => {
                // A foreign directory is reported as such, whatever else
                // is odd in it (planning wrote nothing).
                check_marker(&existing, &dir)?;
                return Err(e);
            }
        };
        if !plan.marker_same {
            check_marker(&existing, &dir)?;
        }
        for (parent, name) in &plan.litter {
            if let Some(p) = existing.walk(parent)?
                && p.remove_tree(name)?
            {
                report.removed.push(p.path().join(name));
            }
        }
        if plan.is_empty() {
            report.services.push(service.to_owned());
            return Ok(report);
        }
        // The intent, before any temporary file exists in the service
        // directory: an uncommitted journal, which tells the next run's
        // recover() that this directory may hold litter.
        let jname = journal_name(service);
        root.write_atomic(&jname, format!("{JOURNAL_HEADER}\n").as_bytes(), 0o600)?;
        let undo = |e: anyhow::Error| {
            plan.journal.discard(&existing);
            let _ = root.unlink(&jname);
            Err(e)
        };
        for (parent, name, kind) in &plan.creates {
            let made = existing
                .walk(parent)
                .and_then(|p| p.context("a directory vanished"))
                .and_then(|p| create(&p, name, kind));
            if let Err(e) = made {
                return undo(e);
            }
        }
        if let Err(e) = root.write_atomic(&jname, plan.journal.to_text().as_bytes(), 0o600) {
            return undo(e);
        }
        plan.journal.apply(&existing)?;
        root.unlink(&jname)?;
        for op in &plan.journal.ops {
            let (Op::Rename(_, rel) | Op::Unlink(rel) | Op::Rmdir(rel) | Op::Chmod(rel, _)) = op;
            let path = if rel == "." {
                dir.clone()
            } else {
                dir.join(rel)
            };
            match op {
                Op::Unlink(_) | Op::Rmdir(_) => report.removed.push(path),
                _ => report.written.push(path),
            }
        }
        report.services.push(service.to_owned());
        Ok(report)
    }

    /// The render options, with the runit root named in run files.
    pub fn render_options(&self) -> Result<RenderOptions> {
        let mut opts = self.render.clone();
        if opts.runit_root.is_none() {
            opts.runit_root = Some(absolute(&self.runit_root)?.to_string_lossy().into_owned());
        }
        Ok(opts)
    }

    /// The files of `service`'s staged directory that differ from what
    /// `t` renders (see [`edits`]).
    pub fn local_edits(&self, service: &str, t: &ServiceTemplate) -> Result<Vec<edits::Edit>> {
        let entries = render_service(service, t, &self.render_options()?);
        Ok(edits::edits(&self.staging_root.join(service), &entries))
    }

    /// Finishes or undoes what a killed run left in the roots: committed
    /// journals are applied, and temporary dot-names whose process is gone
    /// are removed. Every locked command calls it first; it needs the lock.
    pub fn recover(&self) -> Result<Report> {
        let mut report = Report::default();
        let root = match fsx::Dir::open(&self.staging_root) {
            Ok(r) => r,
            Err(_) if !self.staging_root.exists() => return Ok(report),
            Err(e) => return Err(e),
        };
        let names = root.names()?;
        // Every journal and temporary name a run makes in the staging root
        // or in a service directory goes with a `.sb-` name in the root:
        // without one, there is nothing to finish or sweep below it.
        let dirty = names
            .iter()
            .any(|n| n.starts_with('.') && n.contains(".sb-"));
        for name in names.iter().filter(|_| dirty) {
            let Some(service) = name
                .strip_prefix('.')
                .and_then(|n| n.strip_suffix(JOURNAL_SUFFIX))
            else {
                continue;
            };
            let dir = root.open_dir(service).ok().flatten();
            // A torn or unknown journal was never committed: the old
            // version is intact, and its litter is swept below.
            if let (Some(j), Some(dir)) = (Journal::parse(&root.read(name)?), dir) {
                j.apply(&dir)?;
                report.written.push(self.staging_root.join(service));
            }
            root.unlink(name)?;
        }
        for name in names.iter().filter(|_| dirty) {
            if fsx::is_stale_temp_name(name) {
                root.remove_tree(name)?;
                report.removed.push(self.staging_root.join(name));
                continue;
            }
            if name.starts_with('.') {
                continue;
            }
            let Ok(Some(dir)) = root.open_dir(name) else {
                continue;
            };
            if read_marker(&dir) != Some(MarkerKind::Config) {
                continue;
            }
            for sub in [".", "conf", "log", ".meta"] {
                let Ok(Some(d)) = dir.walk(sub) else { continue };
                for n in d.names()? {
                    if fsx::is_stale_temp_name(&n) {
                        d.remove_tree(&n)?;
                        report.removed.push(d.path().join(n));
                    }
                }
            }
        }
        for other in [&self.runit_root, &self.config_root] {
            let Ok(d) = fsx::Dir::open(other) else {
                continue;
            };
            for n in d.names()? {
                if fsx::is_stale_temp_name(&n)
                    && d.stat(&n)?.is_some_and(|s| s.kind != fsx::Kind::Dir)
                {
                    d.unlink(&n)?;
                    report.removed.push(other.join(n));
                }
            }
        }
        Ok(report)
    }

    /// Links `service` into the runit root. Idempotent; refuses to replace
    /// anything that is not servicebuilder's own link.
    pub fn link(&self, service: &str) -> Result<Report> {
        let mut report = Report::default();
        if let Some(target) = self.link_needed(service)? {
            let link = self.runit_root.join(service);
            fsx::ensure_root(&self.runit_root)?;
            fsx::symlink_swap(&target, &link)?;
            report.written.push(link);
        }
        Ok(report)
    }

    /// The target `service`'s link must be given, or `None` when it is
    /// already right; an error when the runit root holds something that
    /// is not servicebuilder's. Writes nothing.
    fn link_needed(&self, service: &str) -> Result<Option<PathBuf>> {
        // runsvdir resolves a relative target from the runit root, not from
        // where the command ran: the link always names the absolute path.
        let target = absolute(&self.staging_root)?.join(service);
        let link = self.runit_root.join(service);
        match fs::symlink_metadata(&link) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let current = fs::read_link(&link)?;
                if current == target {
                    return Ok(None);
                }
                if !self.is_our_link(&link)? {
                    bail!(
                        "{} points to {}, which servicebuilder did not make; remove the link \
                         to hand the service over",
                        link.display(),
                        current.display()
                    );
                }
            }
            Ok(_) => bail!(
                "{} exists and is not a symbolic link; move it away to let servicebuilder \
                 manage `{service}`",
                link.display()
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot inspect {}", link.display())),
        }
        Ok(Some(target))
    }

    /// Stages `service`, then links it (`enable: false`: unlinks it), and
    /// does what runsv cannot see by itself: the standard log service's
    /// directory is made, and a running runsv whose log service was added
    /// or removed is told to exit, so that runsvdir starts one that reads
    /// `log/` anew.
    fn stage_and_link(
        &self,
        root: &fsx::Dir,
        service: &str,
        t: &ServiceTemplate,
        origin: &str,
        built_from: &ServiceTemplate,
    ) -> Result<Report> {
        let dir = self.staging_root.join(service);
        let mut report = Report::default();
        if let Some(d) = root.open_dir(service)?
            && read_marker(&d) == Some(MarkerKind::Config)
        {
            // A file edited by hand is kept (a copy) before the template's
            // version goes over it, unless it already is that version.
            let new = render_service(service, t, &self.render_options()?);
            let rels: Vec<String> = self
                .local_edits(service, built_from)?
                .into_iter()
                .filter(|e| {
                    new.iter()
                        .find(|n| n.path.to_string_lossy() == e.path)
                        .and_then(|n| n.contents())
                        != Some(&e.staged[..])
                })
                .map(|e| e.path)
                .collect();
            report
                .kept
                .extend(kept::copy_aside(&self.staging_root, service, &rels)?);
            report
                .edited
                .extend(rels.iter().map(|r| format!("{service}/{r}")));
        }
        // Never through a symlink: a link in place of the service or its
        // log/ is refused by staging, and nothing is moved out of it.
        let real_dir = |p: &Path| fs::symlink_metadata(p).is_ok_and(|m| m.is_dir());
        let real_log = real_dir(&dir) && real_dir(&dir.join("log"));
        let had_log = real_log && fs::symlink_metadata(dir.join("log/run")).is_ok();
        let wants_log = t.log.is_some() || t.default_log || (self.render.host_log && t.host_log);
        if had_log
            && !wants_log
            && let Some(d) = root.open_dir(service)?
            && read_marker(&d) == Some(MarkerKind::Config)
        {
            // Only our own directories get this far (staging refuses the
            // others), so what is foreign in log/ is history or the
            // admin's: kept, never deleted with log/.
            let foreign = kept::foreign_log_entries(&dir.join("log"))?;
            report
                .kept
                .extend(kept::move_aside(&self.staging_root, service, &foreign)?);
        }
        report.merge(self.stage_in(root, service, t, origin)?);
        if t.default_log {
            report.written.extend(self.ensure_log_dir(service)?);
        }
        if t.enable && self.disabled_by_admin(service) {
            // Debian's convention, which runit-helper and update-service
            // follow too: a `.NAME` beside the link keeps it off.
        } else if t.enable {
            report.merge(self.link(service)?);
        } else {
            report.merge(self.unlink(service)?);
        }
        if had_log != wants_log
            && t.enable
            && let Some(d) = root.open_dir(service)?
            && d.has_reader("supervise/ok")?
        {
            // runsv looks for log/ only when it starts. `x` makes it stop
            // the service (and its logger) and exit; runsvdir starts a new
            // runsv within seconds, which sees the new log/ (or its
            // absence).
            let sv = crate::sv::Service::new(&self.staging_root, service);
            crate::sv::RunitSv::default()
                .send(&sv, b"x")
                .with_context(|| format!("cannot tell the runsv of {} to exit", dir.display()))?;
            report.restarted.push(service.to_owned());
        }
        report.services.dedup();
        Ok(report)
    }

    /// Whether the admin disabled `service` the Debian way: a `.NAME` (a
    /// link or anything else) in the runit root.
    pub fn disabled_by_admin(&self, service: &str) -> bool {
        fs::symlink_metadata(self.runit_root.join(format!(".{service}"))).is_ok()
    }

    /// Removes `service`'s link from the runit root if it is
    /// servicebuilder's (`enable: false`); anything else is left alone.
    fn unlink(&self, service: &str) -> Result<Report> {
        let mut report = Report::default();
        let link = self.runit_root.join(service);
        if fs::symlink_metadata(&link).is_ok() && self.is_our_link(&link)? {
            fsx::remove_file_if_exists(&link)?;
            report.removed.push(link);
        }
        Ok(report)
    }

    /// Makes `LOG_ROOT/SERVICE` for the standard log service, as a package
    /// ships it: owned by `_runit-log:adm`, mode 0750 (the log script sets
    /// both again at every start). Without it svlogd fails in a loop, the
    /// pipe fills and the daemon blocks writing its log.
    fn ensure_log_dir(&self, service: &str) -> Result<Option<PathBuf>> {
        let parent = Path::new(&self.render.log_root);
        let dir = parent.join(service);
        if fs::symlink_metadata(&dir).is_ok() {
            return Ok(None);
        }
        fsx::ensure_root(parent)?;
        fsx::ensure_dir(&dir, 0o750)?;
        let user = nix::unistd::User::from_name(crate::render::LOG_USER)
            .ok()
            .flatten();
        let group = nix::unistd::Group::from_name(crate::render::LOG_GROUP)
            .ok()
            .flatten();
        if let (Some(u), Some(g)) = (user, group) {
            nix::unistd::chown(&dir, Some(u.uid), Some(g.gid))
                .with_context(|| format!("cannot give {} to the log user", dir.display()))?;
        }
        Ok(Some(dir))
    }

    /// A runit-root entry is ours when it is a symlink to a directory that
    /// carries the marker, or a dangling link of the shape servicebuilder
    /// makes (see [`Self::is_our_dangling_link`]).
    fn is_our_link(&self, link: &Path) -> Result<bool> {
        let meta = fs::symlink_metadata(link)
            .with_context(|| format!("cannot inspect {}", link.display()))?;
        if !meta.file_type().is_symlink() {
            return Ok(false);
        }
        let target = resolve_link(link)?;
        Ok(marker_kind(&target).is_some() || self.is_our_dangling_link(link)?)
    }

    /// A dangling link named NAME whose target is `STAGING/NAME`: what a
    /// staged directory removed by hand leaves, or what a version that
    /// wrote the staging root as given (`-s sv`, relative) made. runsvdir
    /// can never run it, so prune removes it and activate replaces it.
    fn is_our_dangling_link(&self, link: &Path) -> Result<bool> {
        let Ok(raw) = fs::read_link(link) else {
            return Ok(false);
        };
        if fs::metadata(resolve_link(link)?).is_ok() {
            return Ok(false);
        }
        let name = link.file_name();
        if raw.file_name() != name {
            return Ok(false);
        }
        let staging = absolute(&self.staging_root)?;
        Ok(raw == staging.join(name.unwrap_or_default())
            || (raw.is_relative() && raw.parent().and_then(Path::file_name) == staging.file_name()))
    }

    /// What every multi-file change starts with: the staging root exists,
    /// it is locked, and what a killed run left is finished first.
    fn begin(&self) -> Result<(fsx::Lock, Report)> {
        self.check_roots()?;
        fsx::ensure_root(&self.staging_root)?;
        let lock = self.lock()?;
        let report = self.recover()?;
        Ok((lock, report))
    }

    /// runsvdir starts a runsv for every directory in the runit root: a
    /// staging root inside it would be run as a service, in a loop.
    fn check_roots(&self) -> Result<()> {
        let real = |p: &Path| -> Result<PathBuf> {
            // The deepest existing ancestor, resolved; the rest as given.
            let p = absolute(p)?;
            for a in p.ancestors() {
                if let Ok(r) = fs::canonicalize(a) {
                    return Ok(r.join(p.strip_prefix(a).unwrap_or(Path::new(""))));
                }
            }
            Ok(p)
        };
        let staging = real(&self.staging_root)?;
        let runit = real(&self.runit_root)?;
        if staging.starts_with(&runit) {
            bail!(
                "the staging root {} is inside the runit root {}, which runsvdir watches: it \
                 would be started as a service; choose a staging root outside it (Debian's \
                 is /etc/sv)",
                self.staging_root.display(),
                self.runit_root.display()
            );
        }
        Ok(())
    }

    fn lock(&self) -> Result<fsx::Lock> {
        fsx::lock(&self.staging_root)
    }
}

/// Who made a service directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerKind {
    /// Staged from a config-root template.
    Config,
    /// Shipped by a package built with dh_servicebuilder.
    Package,
}

/// Reads the ownership marker of a service directory.
pub fn marker_kind(dir: &Path) -> Option<MarkerKind> {
    let text = fs::read_to_string(dir.join(MARKER)).ok()?;
    if text.starts_with("config ") {
        Some(MarkerKind::Config)
    } else if text.starts_with("package ") {
        Some(MarkerKind::Package)
    } else {
        None
    }
}

/// The mode of a config-root copy: a set whose templates carry secrets
/// (`secret_env` with values) is as private as the staged envdir, since the
/// copy holds the same values in clear.
pub fn config_mode(templates: &Templates) -> u32 {
    if templates
        .values()
        .any(|t| t.secret_env && !t.env.is_empty())
    {
        0o600
    } else {
        0o644
    }
}

/// Sends KILL to a service runsv still supervises after prune's wait (only
/// to a running `./run`: runsv's `k` while `./finish` runs would run finish
/// twice). Errors are ignored: the directory then waits for the next prune.
fn kill_stuck(dir: &Path) {
    let sv = crate::sv::RunitSv::default();
    let service = crate::sv::Service::at(dir);
    if let Ok(st) = crate::sv::Status::read(dir)
        && st.state == crate::sv::State::Run
        && st.pid != 0
    {
        let _ = sv.send(&service, b"k");
    }
}

/// Where a symlink points, relative targets taken from its directory.
fn resolve_link(link: &Path) -> Result<PathBuf> {
    let target =
        fs::read_link(link).with_context(|| format!("cannot read the link {}", link.display()))?;
    Ok(if target.is_absolute() {
        target
    } else {
        link.parent().unwrap_or(Path::new("/")).join(target)
    })
}

/// `path` made absolute against the working directory, lexically (no
/// symlink is followed, and the path need not exist).
pub fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("cannot make {} absolute", path.display()))
}

/// Template set names follow the service-name rules (they become file
/// names).
fn validate_set_name(name: &str) -> Result<()> {
    validate_service_name(name)
        .map_err(|e| anyhow::anyhow!("{}", e.replace("service name", "template set name")))
}

/// The `*.yaml` files directly in `dir`, sorted; none if `dir` is missing.
/// Dot-files and other extensions are ignored, as the original does.
pub fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot read {}", dir.display()))?
            .path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if !name.starts_with('.') && path.extension() == Some(OsStr::new("yaml")) && path.is_file()
        {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// What a journal is called in the staging root: `.SERVICE` + this.
const JOURNAL_SUFFIX: &str = ".sb-journal";
const JOURNAL_HEADER: &str = "servicebuilder-journal 1";

fn journal_name(service: &str) -> String {
    format!(".{service}{JOURNAL_SUFFIX}")
}

fn dir_mode(kind: &EntryKind) -> u32 {
    match kind {
        EntryKind::Dir { mode } | EntryKind::File { mode, .. } => *mode,
        EntryKind::Symlink { .. } => 0o777,
    }
}

/// `a/b/c` -> (`a/b`, `c`); `c` -> (``, `c`).
fn split(rel: &str) -> (&str, &str) {
    rel.rsplit_once('/').unwrap_or(("", rel))
}

fn create(dir: &fsx::Dir, name: &str, kind: &EntryKind) -> Result<()> {
    match kind {
        EntryKind::Dir { mode } => dir.create_dir(name, *mode),
        EntryKind::File { contents, mode } => dir.create_file(name, contents, *mode),
        EntryKind::Symlink { target } => dir.create_symlink(target, name),
    }
}

/// Staging changes only directories servicebuilder made from templates.
fn check_marker(existing: &fsx::Dir, dir: &Path) -> Result<()> {
    match read_marker(existing) {
        Some(MarkerKind::Config) => Ok(()),
        Some(MarkerKind::Package) => bail!(
            "{} belongs to a Debian package; choose another service name",
            dir.display()
        ),
        None => bail!(
            "{} exists and was not made by servicebuilder; move it away or choose \
             another service name",
            dir.display()
        ),
    }
}

fn read_marker(dir: &fsx::Dir) -> Option<MarkerKind> {
    let meta = dir.open_dir(".meta").ok()??;
    let text = meta.read("servicebuilder").ok()?;
    if text.starts_with(b"config ") {
        Some(MarkerKind::Config)
    } else if text.starts_with(b"package ") {
        Some(MarkerKind::Package)
    } else {
        None
    }
}

/// One step of a journal; paths are relative to the service directory.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    /// Rename the temporary entry to its final name (same directory).
    Rename(String, String),
    Unlink(String),
    Rmdir(String),
    Chmod(String, u32),
}

#[derive(Debug, Default)]
struct Journal {
    ops: Vec<Op>,
}

/// A journal path must stay inside the service directory.
fn safe_rel(rel: &str) -> bool {
    rel == "."
        || (!rel.is_empty()
            && rel.split('/').all(|c| {
                !c.is_empty() && c != "." && c != ".." && !c.contains(char::is_whitespace)
            }))
}

impl Journal {
    fn to_text(&self) -> String {
        let mut s = format!("{JOURNAL_HEADER}\n");
        for op in &self.ops {
            match op {
                Op::Chmod(p, m) => s.push_str(&format!("chmod {p} {m:o}\n")),
                Op::Rename(a, b) => s.push_str(&format!("rename {a} {b}\n")),
                Op::Unlink(p) => s.push_str(&format!("unlink {p}\n")),
                Op::Rmdir(p) => s.push_str(&format!("rmdir {p}\n")),
            }
        }
        s.push_str("end\n");
        s
    }

    /// `None` unless the text is a whole journal whose every path stays
    /// inside the service directory.
    fn parse(text: &[u8]) -> Option<Journal> {
        let text = std::str::from_utf8(text).ok()?;
        let mut lines = text.lines();
        if lines.next()? != JOURNAL_HEADER {
            return None;
        }
        let mut ops = Vec::new();
        for line in lines {
            let w: Vec<&str> = line.split(' ').collect();
            let op = match w.as_slice() {
                ["end"] => return Some(Journal { ops }),
                ["chmod", p, m] => Op::Chmod(p.to_string(), u32::from_str_radix(m, 8).ok()?),
                ["rename", a, b] if split(a).0 == split(b).0 => {
                    Op::Rename(a.to_string(), b.to_string())
                }
                ["unlink", p] => Op::Unlink(p.to_string()),
                ["rmdir", p] => Op::Rmdir(p.to_string()),
                _ => return None,
            };
            let (Op::Rename(p, _) | Op::Unlink(p) | Op::Rmdir(p) | Op::Chmod(p, _)) = &op;
            if !safe_rel(p) || matches!(&op, Op::Rename(_, b) if !safe_rel(b)) {
                return None;
            }
            ops.push(op);
        }
        None
    }

    /// Applies the steps; each is idempotent, so a journal is applied again
    /// safely after a kill in the middle of it.
    fn apply(&self, dir: &fsx::Dir) -> Result<()> {
        for op in &self.ops {
            match op {
                Op::Chmod(rel, mode) => {
                    let (parent, name) = if rel == "." { ("", ".") } else { split(rel) };
                    if let Some(p) = dir.walk(parent)?
                        && p.stat(name)?.is_some()
                    {
                        p.chmod(name, *mode)?;
                    }
                }
                Op::Rename(from, to) => {
                    let (parent, from) = split(from);
                    if let Some(p) = dir.walk(parent)?
                        && p.stat(from)?.is_some()
                    {
                        p.rename(from, split(to).1)?;
                    }
                }
                Op::Unlink(rel) => {
                    let (parent, name) = split(rel);
                    if let Some(p) = dir.walk(parent)? {
                        p.unlink(name)?;
                    }
                }
                Op::Rmdir(rel) => {
                    let (parent, name) = split(rel);
                    if let Some(p) = dir.walk(parent)? {
                        p.remove_tree(name)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Removes the temporary entries of a journal that was never committed.
    fn discard(&self, dir: &fsx::Dir) {
        for op in &self.ops {
            if let Op::Rename(from, _) = op {
                let (parent, name) = split(from);
                if let Ok(Some(p)) = dir.walk(parent) {
                    let _ = p.remove_tree(name);
                }
            }
        }
    }
}

/// What turns an existing service directory into the rendered one.
#[derive(Debug, Default)]
struct Plan<'a> {
    /// Entries to create before the journal is committed: (the directory
    /// they go in now, relative to the service directory; the name; what).
    /// Each is a temporary dot-name, or lies inside a new directory that
    /// has one.
    creates: Vec<(String, String, &'a EntryKind)>,
    /// The steps that put them into place and remove what is stale.
    journal: Journal,
    /// Temporary entries of dead runs seen on the way: (directory, name).
    litter: Vec<(String, String)>,
    /// The ownership marker already says exactly what it will say.
    marker_same: bool,
}

impl Plan<'_> {
    /// Nothing to write at all.
    fn is_empty(&self) -> bool {
        self.creates.is_empty() && self.journal.ops.is_empty()
    }
}

/// A directory of the existing service, open and listed once.
struct Listed {
    /// `None` for the service directory itself.
    dir: Option<fsx::Dir>,
    names: BTreeMap<String, fsx::Kind>,
}

fn join_rel(p: &str, n: &str) -> String {
    if p.is_empty() {
        n.to_owned()
    } else {
        format!("{p}/{n}")
    }
}

/// Lists the directory `rel` of the service (`d`, or the service
/// directory itself) once, noting the litter of dead runs in it.
fn list(
    service_dir: &fsx::Dir,
    listed: &mut BTreeMap<String, Listed>,
    plan: &mut Plan,
    rel: &str,
    d: Option<fsx::Dir>,
) -> Result<()> {
    let names: BTreeMap<String, fsx::Kind> = d
        .as_ref()
        .unwrap_or(service_dir)
        .entries()?
        .into_iter()
        .collect();
    for n in names.keys().filter(|n| fsx::is_stale_temp_name(n)) {
        plan.litter.push((rel.to_owned(), n.clone()));
    }
    listed.insert(rel.to_owned(), Listed { dir: d, names });
    Ok(())
}

/// Compares the rendered `entries` with the existing directory `dir`,
/// writing nothing: every directory is opened and listed once, every file
/// read once (see [`fsx::Dir::compare_file`]), and what differs becomes a
/// temporary entry to create plus a journal step.
fn plan_changes<'a>(dir: &fsx::Dir, entries: &'a [Entry], t: &ServiceTemplate) -> Result<Plan<'a>> {
    let mut plan = Plan::default();
    let mut listed: BTreeMap<String, Listed> = BTreeMap::new();
    list(dir, &mut listed, &mut plan, "", None)?;
    // Final relative directory -> where it is now (a temporary directory
    // for one that does not exist yet).
    let mut placed: BTreeMap<String, String> = BTreeMap::new();
    placed.insert(String::new(), String::new());
    let mut wanted: BTreeSet<String> = BTreeSet::new();
    for Entry { path, kind } in entries {
        let rel = path.to_string_lossy().into_owned();
        wanted.insert(rel.clone());
        if rel.is_empty() {
            let st = dir.stat(".")?.context("the service directory vanished")?;
            if st.mode != dir_mode(kind) {
                plan.journal.ops.push(Op::Chmod(".".into(), dir_mode(kind)));
            }
            continue;
        }
        let (parent, name) = split(&rel);
        let Some(now) = placed.get(parent).cloned() else {
            bail!("{}: its parent directory is not rendered first", rel);
        };
        if now != parent {
            // Inside a directory that is itself new: built in place.
            plan.creates.push((now.clone(), name.to_owned(), kind));
            if matches!(kind, EntryKind::Dir { .. }) {
                placed.insert(rel.clone(), join_rel(&now, name));
            }
            continue;
        }
        let l = listed.get(parent).with_context(|| {
            format!(
                "{}: a directory vanished",
                dir.path().join(parent).display()
            )
        })?;
        let pdir = l.dir.as_ref().unwrap_or(dir);
        let full = dir.path().join(&rel);
        let in_the_way = |what: fsx::Kind| -> Result<Plan<'a>> {
            bail!(
                "{} is in the way ({}); move it away and run again",
                full.display(),
                match what {
                    fsx::Kind::Symlink => "a symbolic link, never followed",
                    fsx::Kind::Dir => "a directory",
                    _ => "not what servicebuilder writes there",
                }
            )
        };
        let mut replace = false;
        match (kind, l.names.get(name).copied()) {
            (_, None) => replace = true,
            (EntryKind::Dir { mode }, Some(fsx::Kind::Dir)) => {
                let d = pdir
                    .open_dir(name)?
                    .with_context(|| format!("{}: the directory vanished", full.display()))?;
                if d.stat(".")?.map(|s| s.mode) != Some(*mode) {
                    plan.journal.ops.push(Op::Chmod(rel.clone(), *mode));
                }
                list(dir, &mut listed, &mut plan, &rel, Some(d))?;
                placed.insert(rel.clone(), rel.clone());
            }
            (EntryKind::File { contents, mode }, Some(fsx::Kind::File)) => {
                match pdir.compare_file(name, contents, *mode)? {
                    fsx::Compared::Same => plan.marker_same |= rel == MARKER,
                    fsx::Compared::Differs | fsx::Compared::Missing => replace = true,
                    fsx::Compared::NotAFile(k) => return in_the_way(k),
                }
            }
            (EntryKind::Symlink { target }, Some(fsx::Kind::Symlink)) => {
                replace = pdir.read_link(name)? != *target;
            }
            (_, Some(k)) => return in_the_way(k),
        }
        if replace {
            let tmp = fsx::temp_name(name);
            plan.journal
                .ops
                .push(Op::Rename(join_rel(parent, &tmp), rel.clone()));
            plan.creates.push((parent.to_owned(), tmp.clone(), kind));
            if matches!(kind, EntryKind::Dir { .. }) {
                placed.insert(rel.clone(), join_rel(parent, &tmp));
            }
        }
    }
    let root_has = |n: &str| listed[""].names.get(n).copied();
    for stale in MANAGED.iter().filter(|p| !wanted.contains(**p)) {
        let (parent, name) = split(stale);
        let kind = match listed.get(parent) {
            Some(l) => l.names.get(name).copied(),
            // A directory the template no longer has (log/ without a log).
            None if root_has(parent.split('/').next().unwrap_or("")).is_some() => {
                match dir.walk(parent)? {
                    Some(p) => p.stat(name)?.map(|s| s.kind),
                    None => None,
                }
            }
            None => None,
        };
        if kind.is_some_and(|k| k != fsx::Kind::Dir) {
            plan.journal.ops.push(Op::Unlink((*stale).to_owned()));
        }
    }
    // A log/ left without log/run would make runsv try to start a logger
    // that is not there, once a second: when the template drops its log,
    // the directory goes too (with the svlogd output in log/main), unless
    // it holds something servicebuilder and runsv did not put there.
    if !wanted.contains("log/run")
        && root_has("log").is_some()
        && let Some(log) = dir.open_dir("log")?
    {
        let ours = ["run", "main", "supervise"];
        if log
            .names()?
            .iter()
            .all(|n| ours.contains(&n.as_str()) || fsx::is_temp_name(n))
        {
            plan.journal.ops.push(Op::Rmdir("log".into()));
        }
    }
    // conf/ is wholly generated: variables no longer in the template go.
    if root_has("conf").is_some() {
        let names: Vec<String> = match listed.get("conf") {
            Some(l) => l.names.keys().cloned().collect(),
            None => match dir.open_dir("conf")? {
                Some(conf) => conf.names()?,
                None => Vec::new(),
            },
        };
        for n in names {
            let rel = format!("conf/{n}");
            if !wanted.contains(&rel) && !fsx::is_temp_name(&n) {
                plan.journal.ops.push(Op::Unlink(rel));
            }
        }
        if t.env.is_empty() {
            plan.journal.ops.push(Op::Rmdir("conf".into()));
        }
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::parse_templates;
    use crate::testing::FakeServiceBuilder;

    fn templates(yaml: &str) -> Templates {
        parse_templates(yaml, "t.yaml".as_ref()).unwrap()
    }

    #[test]
    fn a_changed_service_keeps_its_directory_and_supervise() {
        let b = FakeServiceBuilder::new().unwrap();
        b.activate("s", &templates("web: {run: [a], env: {A: '1'}}\n"))
            .unwrap();
        let dir = b.staging_root.join("web");
        fs::create_dir(dir.join("supervise")).unwrap();
        let ino = std::os::unix::fs::MetadataExt::ino(&fs::metadata(&dir).unwrap());
        b.activate(
            "s",
            &templates("web: {run: [b], env: {B: '2'}, restart: never}\n"),
        )
        .unwrap();
        assert_eq!(
            std::os::unix::fs::MetadataExt::ino(&fs::metadata(&dir).unwrap()),
            ino
        );
        assert!(dir.join("supervise").is_dir());
        assert!(dir.join("down").is_file());
        assert!(!dir.join("conf/A").exists());
        assert_eq!(fs::read(dir.join("conf/B")).unwrap(), b"2\n");
        let mut names: Vec<_> = fs::read_dir(&b.staging_root)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        // Nothing but the service: no lock file, journal or litter.
        assert_eq!(names, ["web"]);
    }

    #[test]
    fn a_committed_journal_is_finished_by_the_next_run() {
        let b = FakeServiceBuilder::new().unwrap();
        b.activate("s", &templates("web: {run: [a]}\n")).unwrap();
        let root = fsx::Dir::open(&b.staging_root).unwrap();
        let dir = root.open_dir("web").unwrap().unwrap();
        // What a run killed right after committing would leave.
        let new = templates("web: {run: [b]}\n");
        let entries = render_service("web", &new["web"], &b.render);
        let plan = plan_changes(&dir, &entries, &new["web"]).unwrap();
        for (parent, name, kind) in &plan.creates {
            create(&dir.walk(parent).unwrap().unwrap(), name, kind).unwrap();
        }
        let j = plan.journal;
        assert!(!j.ops.is_empty());
        fs::write(b.staging_root.join(journal_name("web")), j.to_text()).unwrap();
        assert!(
            fs::read_to_string(b.staging_root.join("web/run"))
                .unwrap()
                .ends_with("exec a\n")
        );
        b.prune().unwrap();
        assert!(
            fs::read_to_string(b.staging_root.join("web/run"))
                .unwrap()
                .ends_with("exec b\n")
        );
        assert!(!b.staging_root.join(journal_name("web")).exists());
    }

    #[test]
    fn journals_never_leave_the_service_directory() {
        for bad in [
            "servicebuilder-journal 1\nunlink ../x\nend\n",
            "servicebuilder-journal 1\nunlink /etc/passwd\nend\n",
            "servicebuilder-journal 1\nrename a/.x b/x\nend\n",
            "servicebuilder-journal 1\nunlink run\n",
            "servicebuilder-journal 2\nend\n",
        ] {
            assert!(Journal::parse(bad.as_bytes()).is_none(), "{bad}");
        }
        let ok = Journal::parse(b"servicebuilder-journal 1\nchmod . 755\nunlink conf/A\nend\n");
        assert_eq!(ok.unwrap().ops.len(), 2);
    }

    #[test]
    fn a_symlinked_service_directory_is_never_written_through() {
        let b = FakeServiceBuilder::new().unwrap();
        let outside = tempfile::tempdir().unwrap();
        fs::create_dir_all(outside.path().join(".meta")).unwrap();
        fs::write(outside.path().join(MARKER), "config s.yaml\n").unwrap();
        std::os::unix::fs::symlink(outside.path(), b.staging_root.join("web")).unwrap();
        let e = b
            .activate("s", &templates("web: {run: [a]}\n"))
            .unwrap_err();
        assert!(format!("{e:#}").contains("symbolic link"), "{e:#}");
        assert!(!outside.path().join("run").exists());
    }
}
