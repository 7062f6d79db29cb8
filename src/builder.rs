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
//! Multi-file changes hold an exclusive lock on the staging root.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

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
/// The lock file, in the staging root.
pub const LOCK_FILE: &str = ".servicebuilder.lock";

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
            render: RenderOptions::default(),
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
}

impl Report {
    fn merge(&mut self, other: Report) {
        self.services.extend(other.services);
        self.written.extend(other.written);
        self.removed.extend(other.removed);
        self.errors.extend(other.errors);
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
            fsx::write_if_changed(&path, template::to_yaml(templates).as_bytes(), 0o644)?;
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
        fsx::ensure_root(&self.staging_root)?;
        let _lock = self.lock()?;
        let path = self.config_path(name);
        let (declared, _) = self.declarations()?;
        for service in templates.keys() {
            if let Some(other) = declared.get(service).filter(|o| **o != path) {
                bail!(
                    "service `{service}` is already declared in {}; remove it there or \
                     choose another name",
                    other.display()
                );
            }
        }
        self.write(name, templates)?;
        let mut report = Report::default();
        let origin = format!("{name}.yaml");
        for (service, t) in templates {
            report.merge(self.stage_and_link(service, t, &origin)?);
        }
        fsx::syncfs(&self.staging_root)?;
        Ok(report)
    }

    /// Stages and links every service of every `*.yaml` in the config root
    /// (the seed's Rebuild). A bad file is reported in
    /// [`Report::errors`] and the other files are still rebuilt.
    pub fn rebuild(&self) -> Result<Report> {
        fsx::ensure_root(&self.staging_root)?;
        let _lock = self.lock()?;
        let mut report = Report::default();
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
                match self.stage_and_link(service, t, &origin) {
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
        fsx::ensure_root(&self.staging_root)?;
        let _lock = self.lock()?;
        let (declared, errors) = self.declarations()?;
        if !errors.is_empty() {
            bail!(
                "not pruning, because some templates cannot be read (their services would \
                 be removed):\n  {}",
                errors.join("\n  ")
            );
        }
        let mut report = Report::default();
        if let Ok(entries) = fs::read_dir(&self.runit_root) {
            for entry in entries {
                let entry =
                    entry.with_context(|| format!("reading {}", self.runit_root.display()))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') || declared.contains_key(&name) {
                    continue;
                }
                let link = entry.path();
                if self.is_our_link(&link)? {
                    fsx::remove_file_if_exists(&link)?;
                    report.removed.push(link);
                }
            }
        }
        for entry in fs::read_dir(&self.staging_root)
            .with_context(|| format!("reading {}", self.staging_root.display()))?
        {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if fsx::is_temp_name(&name) && entry.file_type()?.is_dir() {
                // Left by a run that was killed while removing a service.
                fs::remove_dir_all(&path)
                    .with_context(|| format!("cannot remove {}", path.display()))?;
                continue;
            }
            if name.starts_with('.') || declared.contains_key(&name) {
                continue;
            }
            if entry.file_type()?.is_dir() && marker_kind(&path) == Some(MarkerKind::Config) {
                fsx::remove_tree(&path)?;
                report.removed.push(path);
            }
        }
        fsx::syncfs(&self.staging_root)?;
        Ok(report)
    }

    /// Every declared service and the file declaring it, from the config
    /// root and the package root, plus the files that could not be read.
    /// Two files declaring one service is an error naming both.
    pub fn declarations(&self) -> Result<(Declarations, Vec<String>)> {
        let mut declared = Declarations::new();
        let mut errors = Vec::new();
        let files = self
            .config_files()?
            .into_iter()
            .chain(yaml_files(&self.package_root)?);
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
    pub fn stage(&self, service: &str, t: &ServiceTemplate, origin: &str) -> Result<Report> {
        validate_service_name(service).map_err(anyhow::Error::msg)?;
        t.validate()
            .map_err(|e| anyhow::anyhow!("service `{service}`: {e}"))?;
        let dir = self.staging_root.join(service);
        let marker = format!("config {origin}\n");
        match marker_kind(&dir) {
            _ if fs::symlink_metadata(&dir).is_err() => {}
            Some(MarkerKind::Config) => {}
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
        let mut report = Report::default();
        let entries = render_service(service, t, &self.render);
        let mut wanted: BTreeSet<PathBuf> = BTreeSet::new();
        for Entry { path, kind } in &entries {
            let full = dir.join(path);
            wanted.insert(path.clone());
            let changed = match kind {
                EntryKind::Dir { mode } => fsx::ensure_dir(&full, *mode)?,
                EntryKind::File { contents, mode } => {
                    fsx::write_if_changed(&full, contents, *mode)?
                }
                EntryKind::Symlink { target } => {
                    if fs::read_link(&full).ok().as_deref() != Some(target) {
                        fsx::symlink_swap(target, &full)?;
                        true
                    } else {
                        false
                    }
                }
            };
            if changed {
                report.written.push(full);
            }
        }
        fsx::ensure_dir(&dir.join(".meta"), 0o755)?;
        if fsx::write_if_changed(&dir.join(MARKER), marker.as_bytes(), 0o644)? {
            report.written.push(dir.join(MARKER));
        }
        for stale in MANAGED
            .iter()
            .map(PathBuf::from)
            .filter(|p| !wanted.contains(p))
        {
            if fsx::remove_file_if_exists(&dir.join(&stale))? {
                report.removed.push(dir.join(stale));
            }
        }
        // conf/ is wholly generated: variables no longer in the template go.
        let conf = dir.join("conf");
        if conf.is_dir() && !conf.is_symlink() {
            for entry in fs::read_dir(&conf)? {
                let entry = entry?;
                let rel = Path::new("conf").join(entry.file_name());
                if !wanted.contains(&rel) {
                    fsx::remove_file_if_exists(&entry.path())?;
                    report.removed.push(entry.path());
                }
            }
            if t.env.is_empty() {
                fs::remove_dir(&conf).ok();
            }
        }
        report.services.push(service.to_owned());
        Ok(report)
    }

    /// Links `service` into the runit root. Idempotent; refuses to replace
    /// anything that is not servicebuilder's own link.
    pub fn link(&self, service: &str) -> Result<Report> {
        let target = self.staging_root.join(service);
        let link = self.runit_root.join(service);
        let mut report = Report::default();
        fsx::ensure_root(&self.runit_root)?;
        match fs::symlink_metadata(&link) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let current = fs::read_link(&link)?;
                if current == target {
                    return Ok(report);
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
        fsx::symlink_swap(&target, &link)?;
        report.written.push(link);
        Ok(report)
    }

    fn stage_and_link(&self, service: &str, t: &ServiceTemplate, origin: &str) -> Result<Report> {
        let mut report = self.stage(service, t, origin)?;
        report.merge(self.link(service)?);
        report.services.dedup();
        Ok(report)
    }

    /// A runit-root entry is ours when it is a symlink to a directory that
    /// carries the marker.
    fn is_our_link(&self, link: &Path) -> Result<bool> {
        let meta = fs::symlink_metadata(link)
            .with_context(|| format!("cannot inspect {}", link.display()))?;
        if !meta.file_type().is_symlink() {
            return Ok(false);
        }
        let target = fs::read_link(link)?;
        let target = if target.is_absolute() {
            target
        } else {
            link.parent().unwrap_or(Path::new("/")).join(target)
        };
        Ok(marker_kind(&target).is_some())
    }

    fn lock(&self) -> Result<fsx::Lock> {
        fsx::lock(&self.staging_root.join(LOCK_FILE))
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
