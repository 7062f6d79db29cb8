//! Turning inputs into a plan of file-system operations, then carrying it out.
//!
//! Everything is planned (and every input checked) for all packages before
//! the first byte is written, so bad input leaves `debian/PACKAGE/`
//! untouched. Each operation prints, in verbose mode, the command line a
//! shell user would type for it, quoted by Dh_Lib's rules; operations with
//! no command equivalent print a `[META]` line as debhelper does.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::messages::{DhError, Verbose, err, escape_shell};

/// One file-system operation. Paths are relative to the source root, as
/// debhelper prints them (`debian/PKG/etc/sv/NAME/run`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `install -m0755 -d PATH` (the mode is exact, whatever the umask).
    Dir {
        /// The directory.
        path: String,
        /// Its mode.
        mode: u32,
    },
    /// `install -p -mMODE SRC DST`: copy, set the mode, keep the times.
    Install {
        /// The source file.
        src: String,
        /// The destination file.
        dst: String,
        /// Its mode.
        mode: u32,
    },
    /// `cp --reflink=auto -a SRC/. DST`: a whole service directory, modes
    /// and symbolic links kept (dh_runit's `dircopy`).
    CopyTree {
        /// The source directory.
        src: String,
        /// The destination directory.
        dst: String,
    },
    /// `chmod +x PATH` (a regular file only; dh_runit would follow a
    /// symbolic link out of the package).
    MakeExecutable {
        /// The file.
        path: String,
    },
    /// A generated file, written atomically with an exact mode.
    Write {
        /// The destination file.
        path: String,
        /// Its contents.
        contents: Vec<u8>,
        /// Its mode.
        mode: u32,
    },
    /// Point a runscript written for Debian's `/lib/runit/invoke-run` at
    /// ours: only its first line changes, and only when it names Debian's
    /// interpreter exactly.
    UseOurInterpreter {
        /// The `run` file.
        path: String,
    },
    /// Replace every `from` by `to` in a file, keeping its mode (dh-runit
    /// 2.16's `##bin##` in `run`).
    Substitute {
        /// The file.
        path: String,
        /// What to replace.
        from: String,
        /// By what.
        to: String,
    },
    /// `ln -sfT TARGET PATH`.
    Symlink {
        /// The link.
        path: String,
        /// Where it points.
        target: String,
    },
}

impl Op {
    /// The verbose line for this operation.
    pub fn describe(&self) -> String {
        match self {
            Op::Dir { path, mode } => format!("install -m{mode:04o} -d {}", escape_shell(&[path])),
            Op::Install { src, dst, mode } => {
                format!("install -p -m{mode:04o} {}", escape_shell(&[src, dst]))
            }
            Op::CopyTree { src, dst } => format!(
                "cp --reflink=auto -a {}",
                escape_shell(&[&format!("{src}/."), dst])
            ),
            Op::MakeExecutable { path } => escape_shell(&["chmod", "+x", path]),
            Op::Write {
                path,
                contents,
                mode,
            } => {
                if contents.is_empty() {
                    format!("install -m{mode:04o} /dev/null {}", escape_shell(&[path]))
                } else {
                    format!(
                        "[META] Write generated file {path} (mode {mode:04o}, {} bytes)",
                        contents.len()
                    )
                }
            }
            Op::Symlink { path, target } => escape_shell(&["ln", "-sfT", target, path]),
            Op::Substitute { path, from, to } => {
                format!("[META] Replace {from} by {to} in {path}")
            }
            // Exactly what retarget_interpreter does, so that the line can
            // be replayed.
            Op::UseOurInterpreter { path } => format!(
                "sed -i -E {}",
                escape_shell(&[
                    format!(
                        "1s,^#!(/usr/bin/env )?{DEBIAN_INVOKE_RUN}[[:space:]]*$,#!/usr/bin/env {OUR_INVOKE_RUN},"
                    ),
                    path.clone()
                ])
            ),
        }
    }

    /// Carry the operation out under `root`.
    pub fn apply(&self, root: &Path) -> Result<(), DhError> {
        let io =
            |what: &str, p: &str, e: &dyn std::fmt::Display| DhError(format!("{what} {p}: {e}"));
        match self {
            Op::Dir { path, mode } => make_dirs(&root.join(path), *mode)
                .map_err(|e| io("cannot create directory", path, &e)),
            Op::Install { src, dst, mode } => {
                let (s, d) = (root.join(src), root.join(dst));
                let meta = std::fs::metadata(&s).map_err(|e| io("cannot read", src, &e))?;
                let contents = std::fs::read(&s).map_err(|e| io("cannot read", src, &e))?;
                write_file(&d, &contents, *mode).map_err(|e| io("cannot write", dst, &e))?;
                let times = std::fs::FileTimes::new()
                    .set_accessed(meta.accessed().map_err(|e| io("cannot stat", src, &e))?)
                    .set_modified(meta.modified().map_err(|e| io("cannot stat", src, &e))?);
                std::fs::File::options()
                    .write(true)
                    .open(&d)
                    .and_then(|f| f.set_times(times))
                    .map_err(|e| io("cannot set times of", dst, &e))
            }
            Op::CopyTree { src, dst } => copy_tree(&root.join(src), &root.join(dst))
                .map_err(|e| io(&format!("cannot copy {src} to"), dst, &e)),
            Op::UseOurInterpreter { path } => {
                let p = root.join(path);
                let contents = std::fs::read(&p).map_err(|e| io("cannot read", path, &e))?;
                if let Some(new) = retarget_interpreter(&contents) {
                    let meta = std::fs::metadata(&p).map_err(|e| io("cannot stat", path, &e))?;
                    write_file(&p, &new, meta.permissions().mode() & 0o7777)
                        .map_err(|e| io("cannot write", path, &e))?;
                }
                Ok(())
            }
            Op::Substitute { path, from, to } => {
                let p = root.join(path);
                let contents = std::fs::read(&p).map_err(|e| io("cannot read", path, &e))?;
                let new = replace_bytes(&contents, from.as_bytes(), to.as_bytes());
                if new != contents {
                    let meta = std::fs::metadata(&p).map_err(|e| io("cannot stat", path, &e))?;
                    write_file(&p, &new, meta.permissions().mode() & 0o7777)
                        .map_err(|e| io("cannot write", path, &e))?;
                }
                Ok(())
            }
            Op::MakeExecutable { path } => {
                let p = root.join(path);
                let mode = std::fs::metadata(&p)
                    .map_err(|e| io("cannot stat", path, &e))?
                    .permissions()
                    .mode();
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode | 0o111))
                    .map_err(|e| io("cannot chmod", path, &e))
            }
            Op::Write {
                path,
                contents,
                mode,
            } => write_file(&root.join(path), contents, *mode)
                .map_err(|e| io("cannot write", path, &e)),
            Op::Symlink { path, target } => {
                let p = root.join(path);
                if std::fs::read_link(&p).is_ok_and(|t| t == Path::new(target)) {
                    return Ok(());
                }
                let tmp = crate::fsx::temp_sibling(&p);
                std::os::unix::fs::symlink(target, &tmp)
                    .and_then(|()| std::fs::rename(&tmp, &p))
                    .map_err(|e| {
                        let _ = std::fs::remove_file(&tmp);
                        io("cannot create symbolic link", path, &e)
                    })
            }
        }
    }
}

/// Every occurrence of `from` (not empty) in `data` replaced by `to`.
fn replace_bytes(data: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if !from.is_empty() && data[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(data[i]);
            i += 1;
        }
    }
    out
}

fn make_dirs(path: &Path, mode: u32) -> std::io::Result<()> {
    if path.is_dir() {
        return std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
    }
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
        && !parent.is_dir()
    {
        make_dirs(parent, 0o755)?;
    }
    match std::fs::create_dir(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && path.is_dir() => {}
        Err(e) => return Err(e),
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// Atomic write with an exact mode; the parent directory is created (0755)
/// when missing, as dh_runit's `make_path` does.
pub fn write_file(path: &Path, contents: &[u8], mode: u32) -> std::io::Result<()> {
    if let Some(parent) = path.parent()
        && !parent.is_dir()
    {
        make_dirs(parent, 0o755)?;
    }
    // A dangling symlink or an old file in the way is replaced, as install(1) does.
    crate::fsx::write_atomic(path, contents, mode)
        .map_err(|e| std::io::Error::other(format!("{e:#}")))
}

fn copy_tree(src: &Path, dst: &Path) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(src)?;
    make_dirs(dst, meta.permissions().mode() & 0o7777)?;
    let mut entries: Vec<_> = std::fs::read_dir(src)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let from = entry.path();
        let to = dst.join(entry.file_name());
        let ty = entry.file_type()?;
        if ty.is_dir() {
            copy_tree(&from, &to)?;
        } else if ty.is_symlink() {
            let target = std::fs::read_link(&from)?;
            if std::fs::symlink_metadata(&to).is_ok() {
                std::fs::remove_file(&to)?;
            }
            std::os::unix::fs::symlink(target, &to)?;
        } else if ty.is_file() {
            let mode = entry.metadata()?.permissions().mode() & 0o7777;
            write_file(&to, &std::fs::read(&from)?, mode)?;
        }
        // Sockets, fifos and devices have no place in a service directory.
    }
    Ok(())
}

/// Run a list of operations, printing each in verbose mode; under no-act
/// only print.
pub fn execute(ops: &[Op], root: &Path, verbose: Verbose, no_act: bool) -> Result<(), DhError> {
    for op in ops {
        verbose.print(&op.describe());
        if !no_act {
            op.apply(root)?;
        }
    }
    Ok(())
}

/// The executable scripts dh_runit's `ensure_executable` looks for in a
/// copied service directory.
pub const SCRIPTS: &[&str] = &[
    "run",
    "finish",
    "check",
    "log/run",
    "log/finish",
    "control/c",
    "control/d",
    "control/t",
    "control/u",
    "control/x",
];

/// `true` if `rel` names a regular file (not through a symlink) under `root`.
pub fn is_plain_file(root: &Path, rel: &str) -> bool {
    std::fs::symlink_metadata(root.join(rel)).is_ok_and(|m| m.is_file())
}

/// `true` if anything (even a dangling symlink) exists at `rel`.
pub fn exists(root: &Path, rel: &str) -> bool {
    std::fs::symlink_metadata(root.join(rel)).is_ok()
}

/// Check that a runscript path is readable, with dh_runit's message.
pub fn check_readable(root: &Path, path: &str) -> Result<(), DhError> {
    let p: PathBuf = root.join(path);
    let readable = match std::fs::metadata(&p) {
        Ok(m) if m.is_dir() => std::fs::read_dir(&p).is_ok(),
        Ok(_) => std::fs::File::open(&p).is_ok(),
        Err(_) => false,
    };
    if readable {
        Ok(())
    } else {
        err(format!(
            "can't read `{path}' (the runscript or service directory named in the dh-runit entry; paths are relative to the source tree)"
        ))
    }
}

/// One service a package ships.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedService {
    /// The directory name under `/etc/sv` (or `/usr/share/runit/sv`).
    pub name: String,
    /// Where it was declared, for error messages.
    pub origin: String,
    /// Enabled on installation.
    pub enable: bool,
    /// What an upgrade does to it.
    pub onupgrade: crate::template::OnUpgrade,
    /// Gets maintainer-script snippets (not `noscripts`).
    pub scripts: bool,
    /// Gets the postrm snippet only (dh-runit 2.16's `bin=`: enabling and
    /// upgrade restarts are left to runit's dpkg trigger).
    pub postrm_only: bool,
    /// Installed under `/etc/sv` (not `usr`).
    pub in_etc: bool,
    /// The services it needs running first (YAML `depends`); only those of
    /// the same package affect the order of the snippets.
    pub depends: Vec<String>,
}

/// Everything one package gets.
#[derive(Debug, Clone, Default)]
pub struct PackagePlan {
    /// The binary package.
    pub package: String,
    /// Its staging directory (`debian/PKG` or `-P`).
    pub tmp: String,
    /// File-system operations, in order.
    pub ops: Vec<Op>,
    /// The services, in input order.
    pub services: Vec<PlannedService>,
    /// The normalised templates for `usr/share/servicebuilder/PKG.yaml`.
    pub declared: crate::template::Templates,
}

impl PackagePlan {
    /// Record a service; the same name twice in one package is an error
    /// (dh_runit would merge the two directories and duplicate snippets).
    pub fn add_service(&mut self, s: PlannedService) -> Result<(), DhError> {
        if let Some(first) = self
            .services
            .iter()
            .find(|x| x.name == s.name && x.in_etc == s.in_etc)
        {
            return err(format!(
                "service {} of package {} is declared twice: in {} and in {}; rename one (name=) or drop it",
                s.name, self.package, first.origin, s.origin
            ));
        }
        self.services.push(s);
        Ok(())
    }

    /// The services in the order their postinst snippets run: each after
    /// the services of this package it depends on, otherwise in input
    /// order (name order within a YAML file, entry order for dh-runit
    /// input). Enabling a service before its dependency is linked would
    /// let its runscript give up waiting (exit 170); prerm and postrm get
    /// the reverse, so dependents stop first. A cycle is an error: none of
    /// its services could ever start.
    pub fn snippet_order(&self) -> Result<Vec<&PlannedService>, DhError> {
        let svcs = &self.services;
        let index = |name: &str| svcs.iter().position(|s| s.name == name && s.in_etc);
        let needs: Vec<Vec<usize>> = svcs
            .iter()
            .map(|s| {
                let mut d: Vec<usize> = s.depends.iter().filter_map(|n| index(n)).collect();
                d.sort_unstable();
                d.dedup();
                d
            })
            .collect();
        let mut placed = vec![false; svcs.len()];
        let mut order = Vec::with_capacity(svcs.len());
        while order.len() < svcs.len() {
            // The first service in input order whose dependencies are all
            // placed: stable, and quadratic only in the services of one
            // package.
            let next = (0..svcs.len()).find(|&i| !placed[i] && needs[i].iter().all(|&d| placed[d]));
            let Some(i) = next else {
                return err(self.cycle_message(&needs, &placed));
            };
            placed[i] = true;
            order.push(&svcs[i]);
        }
        Ok(order)
    }

    /// Name the services on a dependency cycle among those not `placed`:
    /// the ones that merely depend on a cycle are dropped by peeling off,
    /// again and again, those no other remaining service needs.
    fn cycle_message(&self, needs: &[Vec<usize>], placed: &[bool]) -> String {
        let mut left: Vec<usize> = (0..needs.len()).filter(|&i| !placed[i]).collect();
        loop {
            let needed = |i: usize| left.iter().any(|&j| needs[j].contains(&i));
            let keep: Vec<usize> = left.iter().copied().filter(|&i| needed(i)).collect();
            if keep.len() == left.len() {
                break;
            }
            left = keep;
        }
        let names: Vec<&str> = left
            .iter()
            .map(|&i| self.services[i].name.as_str())
            .collect();
        match names.as_slice() {
            [one] => format!(
                "service {one} of package {} depends on itself, so it could never start; drop it from its `depends`",
                self.package
            ),
            _ => format!(
                "the services {} of package {} depend on each other in a cycle, so none of them could start; drop one of the `depends`",
                names.join(", "),
                self.package
            ),
        }
    }
}

/// Debian's runscript interpreter, as dh-runit runscripts name it.
pub const DEBIAN_INVOKE_RUN: &str = "/lib/runit/invoke-run";
/// Ours, which follows the same conventions (invoke-run(8)).
pub const OUR_INVOKE_RUN: &str = crate::render::INVOKE_RUN;

/// The runscript with its first line pointing at our interpreter, when
/// that line is exactly `#!/usr/bin/env /lib/runit/invoke-run` or
/// `#!/lib/runit/invoke-run` (trailing blanks allowed), always in the env
/// form; `None` otherwise, so
/// a runscript with its own interpreter is left as it is.
pub fn retarget_interpreter(script: &[u8]) -> Option<Vec<u8>> {
    let end = script
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(script.len());
    let first = std::str::from_utf8(&script[..end]).ok()?.trim_end();
    let prefix = first.strip_suffix(DEBIAN_INVOKE_RUN)?;
    if !matches!(prefix, "#!/usr/bin/env " | "#!") {
        return None;
    }
    // Always the env form: lintian only accepts an interpreter named
    // invoke-run under /lib/runit when it is named directly.
    let mut out = format!("#!/usr/bin/env {OUR_INVOKE_RUN}").into_bytes();
    out.extend_from_slice(&script[end..]);
    Some(out)
}

#[cfg(test)]
mod interpreter_tests {
    use super::retarget_interpreter;

    #[test]
    fn debian_runscripts_are_pointed_at_our_interpreter() {
        assert_eq!(
            retarget_interpreter(b"#!/usr/bin/env /lib/runit/invoke-run\nexec d\n").unwrap(),
            b"#!/usr/bin/env /usr/lib/servicebuilder/invoke-run\nexec d\n"
        );
        assert_eq!(
            retarget_interpreter(b"#!/lib/runit/invoke-run \nexec d\n").unwrap(),
            b"#!/usr/bin/env /usr/lib/servicebuilder/invoke-run\nexec d\n"
        );
    }

    #[test]
    fn other_interpreters_are_left_alone() {
        for s in [
            &b"#!/bin/sh\nexec /lib/runit/invoke-run\n"[..],
            b"#!/usr/bin/env /lib/runit/invoke-run-old\n",
            b"#!/usr/bin/env -S /lib/runit/invoke-run\n",
            b"",
        ] {
            assert!(retarget_interpreter(s).is_none(), "{s:?}");
        }
    }
}

#[cfg(test)]
mod order_tests {
    use super::{PackagePlan, PlannedService};
    use crate::template::OnUpgrade;

    fn plan(services: &[(&str, &[&str])]) -> PackagePlan {
        let mut p = PackagePlan {
            package: "pkg".into(),
            ..PackagePlan::default()
        };
        for (name, deps) in services {
            p.add_service(PlannedService {
                name: name.to_string(),
                origin: "test".into(),
                enable: true,
                onupgrade: OnUpgrade::Restart,
                scripts: true,
                postrm_only: false,
                in_etc: true,
                depends: deps.iter().map(|d| d.to_string()).collect(),
            })
            .unwrap();
        }
        p
    }

    fn order(p: &PackagePlan) -> Vec<&str> {
        p.snippet_order()
            .unwrap()
            .into_iter()
            .map(|s| s.name.as_str())
            .collect()
    }

    #[test]
    fn dependencies_come_first_and_the_rest_keeps_input_order() {
        assert_eq!(
            order(&plan(&[
                ("a", &["c"]),
                ("b", &[]),
                ("c", &["d"]),
                ("d", &[])
            ])),
            ["b", "d", "c", "a"]
        );
        // Unknown names (other packages' services) and repeats change nothing.
        assert_eq!(
            order(&plan(&[("a", &["x", "b", "b"]), ("b", &["y"])])),
            ["b", "a"]
        );
        assert_eq!(order(&plan(&[("z", &[]), ("a", &[])])), ["z", "a"]);
    }

    #[test]
    fn a_cycle_names_only_the_services_on_it() {
        let p = plan(&[
            ("a", &["b"]),
            ("b", &["a"]),
            ("c", &["a"]),
            ("d", &["c"]),
            ("e", &[]),
        ]);
        assert_eq!(
            p.snippet_order().unwrap_err().0,
            "the services a, b of package pkg depend on each other in a cycle, so none of them could start; drop one of the `depends`"
        );
        let p = plan(&[("a", &["a"]), ("b", &["a"])]);
        assert_eq!(
            p.snippet_order().unwrap_err().0,
            "service a of package pkg depends on itself, so it could never start; drop it from its `depends`"
        );
    }
}
