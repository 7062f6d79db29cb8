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

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

pub mod edits;
mod journal;
mod kept;
mod links;
mod marker;
mod plan;
mod prune;
mod stage;

pub use kept::{KEPT_DIR, foreign_entries};
pub use marker::{MarkerKind, marker_kind};

use marker::{check_marker, read_marker};

use crate::fsx;
use crate::render::{RenderOptions, render_service};
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
    edits::SUMS,
    ".meta/enable",
    "xchopts",
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
                report.merge(self.stage_and_link(&root, service, t, &origin)?);
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
                match self.stage_and_link(&root, service, t, &origin) {
                    Ok(r) => report.merge(r),
                    Err(e) => report.errors.push(format!("{}: {e:#}", file.display())),
                }
            }
        }
        fsx::syncfs(&self.staging_root)?;
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
    ) -> Result<Report> {
        let dir = self.staging_root.join(service);
        let mut report = Report::default();
        if let Some(d) = root.open_dir(service)?
            && read_marker(&d) == Some(MarkerKind::Config)
        {
            // A file edited by hand (it no longer matches what staging
            // recorded writing) is kept, a copy, before the template's
            // version goes over it, unless it already is that version.
            let new = render_service(service, t, &self.render_options()?);
            let rels: Vec<String> = edits::hand_edited(&dir)
                .into_iter()
                .filter(|rel| {
                    let now = fs::read(dir.join(rel)).ok();
                    new.iter()
                        .find(|n| n.path.to_string_lossy() == *rel)
                        .and_then(|n| n.contents())
                        != now.as_deref()
                })
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
            report.merge(self.link_unlocked(service)?);
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

#[cfg(test)]
mod tests {
    use super::journal::{Journal, journal_name};
    use super::plan::{create, plan_changes};
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
