//! Per-package config files in debian/ (Dh_Lib's `pkgfile` and
//! `filedoublearray`).
//!
//! `pkgfile(P, NAME)` is the first regular file of `debian/P.NAME.ARCH`,
//! `debian/P.NAME.OS` (both only tried if some `debian/*.NAME.*` exists),
//! `debian/P.NAME`, and `debian/NAME` for the main package only. `--name=N`
//! turns NAME into `N.NAME`.

use std::path::{Path, PathBuf};

use super::arch::ArchValues;
use super::messages::{DhError, err};
use super::options::Env;

/// What pkgfile lookups depend on.
pub struct Lookup<'a> {
    /// The source tree (the directory holding `debian/`).
    pub root: &'a Path,
    /// The environment (for `DEB_HOST_ARCH` and friends).
    pub env: &'a Env,
    /// `dpkg-architecture` values.
    pub values: &'a ArchValues,
    /// `--name`.
    pub name: Option<&'a str>,
    /// The main package (`--mainpackage` or the first stanza).
    pub mainpackage: &'a str,
}

impl Lookup<'_> {
    fn has_arch_variants(&self, filename: &str) -> bool {
        let suffix = format!(".{filename}.");
        let Ok(dir) = std::fs::read_dir(self.root.join("debian")) else {
            return false;
        };
        dir.flatten().any(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            // Shell globs skip dot files; `*.debhelper` are generated files.
            !n.starts_with('.')
                && !n.ends_with(".debhelper")
                && n.find(&suffix).is_some_and(|i| i > 0)
        })
    }

    /// The path (relative to the root, as debhelper prints it) of the
    /// package's config file `filename`, if any.
    pub fn pkgfile(
        &self,
        package: &str,
        cross_type: &str,
        filename: &str,
    ) -> Result<Option<String>, DhError> {
        let expensive = self.has_arch_variants(filename);
        let filename = match self.name {
            Some(n) => format!("{n}.{filename}"),
            None => filename.to_string(),
        };
        let mut tries = Vec::new();
        if expensive {
            let ty = if cross_type == "target" {
                "TARGET"
            } else {
                "HOST"
            };
            let arch = self.values.get(self.env, &format!("DEB_{ty}_ARCH"))?;
            let os = self.values.get(self.env, &format!("DEB_{ty}_ARCH_OS"))?;
            tries.push(format!("debian/{package}.{filename}.{arch}"));
            tries.push(format!("debian/{package}.{filename}.{os}"));
        }
        tries.push(format!("debian/{package}.{filename}"));
        if package == self.mainpackage {
            tries.push(format!("debian/{filename}"));
        }
        Ok(tries.into_iter().find(|t| self.root.join(t).is_file()))
    }

    /// Absolute-or-root-relative path of a debian/ file.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }
}

/// Read a config file as lines of words (`filedoublearray`).
///
/// From compat 9 an executable file is run and its output used instead
/// (`DH_CONFIG_ACT_ON_PACKAGES` tells it the packages); from compat 13 each
/// word gets `${…}` substitution.
pub fn filedoublearray(
    lookup: &Lookup<'_>,
    rel: &str,
    compat: u32,
    act_on: &[String],
) -> Result<Vec<Vec<String>>, DhError> {
    let path = lookup.path(rel);
    let executable = compat >= 9 && is_executable(&path);
    let (text, source) = if executable {
        let abs =
            std::fs::canonicalize(&path).map_err(|e| DhError(format!("cannot run {rel}: {e}")))?;
        let out = std::process::Command::new(&abs)
            .current_dir(lookup.root)
            .env("DH_CONFIG_ACT_ON_PACKAGES", act_on.join(","))
            .stderr(std::process::Stdio::inherit())
            .output()
            .map_err(|e| DhError(format!("cannot run {rel}: {e}")))?;
        if !out.status.success() {
            return err(format!(
                "{rel} (executable config) returned exit code {}",
                out.status.code().unwrap_or(-1)
            ));
        }
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            format!("output of ./{rel}"),
        )
    } else {
        (
            std::fs::read_to_string(&path)
                .map_err(|e| DhError(format!("cannot read {rel}: {e}")))?,
            rel.to_string(),
        )
    };
    let mut lines = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = if executable {
            if !raw.is_empty() && raw.trim_matches(is_perl_space).is_empty() {
                return err(format!(
                    "Executable config file {rel} produced a non-empty whitespace-only line"
                ));
            }
            raw
        } else {
            let t = raw.trim_start_matches(is_perl_space);
            if t.starts_with('#') {
                continue;
            }
            t.trim_end_matches(is_perl_space)
        };
        if line.is_empty() {
            continue;
        }
        let location = format!("{source} (line {})", n + 1);
        let mut words = Vec::new();
        for w in line.split(is_perl_space).filter(|w| !w.is_empty()) {
            words.push(if compat >= 13 {
                substitute(w, &location, lookup)?
            } else {
                w.to_string()
            });
        }
        lines.push(words);
    }
    Ok(lines)
}

/// Perl's `\s` on byte strings: ASCII blanks only, so a UTF-8 non-breaking
/// space stays inside a word as it does for Dh_Lib.
pub fn is_perl_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Compat 13 `${…}` substitution of one word.
pub fn substitute(word: &str, location: &str, lookup: &Lookup<'_>) -> Result<String, DhError> {
    if !word.contains('$') {
        return Ok(word.to_string());
    }
    let limit = (3 * word.len()).max(4096);
    let mut out = String::new();
    let mut rest = word;
    let mut count = 0;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let var = &after[..end];
        let valid = var.is_empty()
            || (var.as_bytes()[0].is_ascii_alphanumeric()
                && var
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_:".contains(&b)));
        out.push_str(&rest[..start]);
        if !valid {
            out.push_str("${");
            rest = after;
            continue;
        }
        count += 1;
        if count >= 50 {
            return err(format!(
                "Error substituting in {location}; substitution limit of {count} reached"
            ));
        }
        let value = match var {
            "" => "$".to_string(),
            "Space" => " ".into(),
            "Dollar" => "$".into(),
            "Newline" => "\n".into(),
            "Tab" => "\t".into(),
            v if v.starts_with("DEB_BUILD_")
                || v.starts_with("DEB_HOST_")
                || v.starts_with("DEB_TARGET_") =>
            {
                lookup.values.get(lookup.env, v).map_err(|_| {
                    DhError(format!(
                        "Cannot expand \"${{{v}}}\" in {location} as it is not a known dpkg-architecture value"
                    ))
                })?
            }
            v if v.starts_with("env:") && v.len() > 4 => {
                let name = &v[4..];
                lookup.env.get(name).map(str::to_string).ok_or_else(|| {
                    DhError(format!(
                        "Cannot expand \"${{{v}}}\" in {location} as the ENV variable \"{name}\" is unset"
                    ))
                })?
            }
            v => {
                return err(format!("Cannot resolve variable \"${{{v}}}\" in {location}"));
            }
        };
        out.push_str(&value);
        if out.len() > limit {
            return err(format!(
                "Refusing to expand ${{{var}}} in {location} - the original input seems to grow beyond reasonable limits!"
            ));
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}
