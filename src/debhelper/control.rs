//! debian/control and the debhelper compat level.
//!
//! Stanzas are read by the small deb822 reader below (`paragraphs`), not by
//! a crate: Dh_Lib reads debian/control line by line itself, and a reader of
//! the same few rules is both closer to it than a general deb822 library and
//! buildable from Debian's archive (README, "Building in Debian"). Comment
//! lines are removed first, as Dh_Lib does (`#` in column one; in the source
//! stanza also after leading blanks). Field names are case-insensitive; a
//! field given twice in one stanza is an error, as in Dh_Lib.

use std::path::Path;

use super::messages::{DhError, err, warning};

/// The lowest compat level this tool accepts (debhelper's MIN_COMPAT_LEVEL).
pub const MIN_COMPAT: u32 = 7;
/// Levels below this one are deprecated (a warning).
pub const LOWEST_NON_DEPRECATED_COMPAT: u32 = 10;
/// The highest level debhelper 13.11 knows (14 and 15 are experimental).
pub const MAX_COMPAT: u32 = 15;

/// One binary package stanza.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryPackage {
    /// `Package:`
    pub name: String,
    /// `Architecture:` as written (`all`, `any`, `linux-any armhf`, …).
    pub architecture: String,
    /// `Package-Type:` (or an `X[BC]-` variant); `deb` when absent.
    pub package_type: String,
    /// `X-DH-Build-For-Type:`, `host` or `target`.
    pub cross_type: String,
    /// `Build-Profiles:` as written, if any.
    pub build_profiles: Option<String>,
    /// All fields, names lower-cased, values with continuation lines joined by
    /// a space (used to look for `${runit:Breaks}`).
    pub fields: Vec<(String, String)>,
}

impl BinaryPackage {
    /// Is this an installer package (`Package-Type: udeb`)?
    pub fn is_udeb(&self) -> bool {
        self.package_type == "udeb"
    }

    /// The value of a field, looked up case-insensitively.
    pub fn field(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.fields
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What dh_servicebuilder needs from debian/control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Control {
    /// `Source:`
    pub source: String,
    /// The compat level declared by `Build-Depends: debhelper-compat (= N)`.
    pub compat_from_build_depends: Option<u32>,
    /// Binary stanzas in file order.
    pub packages: Vec<BinaryPackage>,
}

fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_source = true;
    let mut seen_field = false;
    for line in text.lines() {
        let is_comment = if in_source {
            line.trim_start().starts_with('#')
        } else {
            line.starts_with('#')
        };
        if is_comment {
            continue;
        }
        if line.trim().is_empty() {
            if seen_field {
                in_source = false;
            }
        } else {
            seen_field = true;
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn is_valid_package_name(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() >= 2
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"+-.".contains(c))
}

/// One field as written: its name and its value, continuation lines joined
/// by `\n` with their leading blanks removed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RawField<'a> {
    name: &'a str,
    value: String,
}

/// Split comment-free deb822 text into paragraphs of fields.
///
/// The rules are those of the reader this replaced, so that the same files
/// are accepted and refused: paragraphs are separated by lines that are
/// empty or blank; a field line is a name of printable ASCII other than `:`
/// (not starting with `#` or `-`), a `:`, optional blanks and the value; a
/// line starting with a space or a tab continues the field before it, and
/// is an error where no field is open.
fn paragraphs(text: &str) -> Result<Vec<Vec<RawField<'_>>>, String> {
    let mut out = Vec::new();
    let mut current: Vec<RawField<'_>> = Vec::new();
    for line in text.lines() {
        if line.trim_matches([' ', '\t']).is_empty() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix([' ', '\t']) {
            let Some(field) = current.last_mut() else {
                return Err(format!("continuation line outside a field: {line}"));
            };
            field.value.push('\n');
            field.value.push_str(rest.trim_start_matches([' ', '\t']));
            continue;
        }
        let end = line
            .find(|c: char| !c.is_ascii_graphic() || c == ':')
            .unwrap_or(line.len());
        let name = &line[..end];
        if name.is_empty() || name.starts_with(['#', '-']) {
            return Err(format!("not a field: {line}"));
        }
        let Some(value) = line[end..].strip_prefix(':') else {
            return Err(format!("no ':' after the field name {name}: {line}"));
        };
        current.push(RawField {
            name,
            value: value.trim_start_matches([' ', '\t']).to_string(),
        });
    }
    if !current.is_empty() {
        out.push(current);
    }
    Ok(out)
}

impl Control {
    /// Read `debian/control` under `root`.
    pub fn load(root: &Path) -> Result<Control, DhError> {
        let path = root.join("debian/control");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return err(
                    "\"debian/control\" not found. Are you sure you are in the correct directory?",
                );
            }
            Err(e) => return err(format!("cannot read debian/control: {e}")),
        };
        Control::parse(&text)
    }

    /// Parse the text of a debian/control file.
    pub fn parse(text: &str) -> Result<Control, DhError> {
        let cleaned = strip_comments(text);
        // Line numbers would count the cleaned text, not the file: the
        // message quotes the line instead.
        let paragraphs = paragraphs(&cleaned)
            .map_err(|e| DhError(format!("Parse error in debian/control, {e}")))?;
        let mut stanzas = Vec::new();
        for p in paragraphs {
            let mut fields: Vec<(String, String)> = Vec::new();
            for f in p {
                let mut name = f.name.to_ascii_lowercase();
                let is_type = name == "package-type"
                    || (name.ends_with("-package-type")
                        && name.starts_with('x')
                        && name["x".len()..name.len() - "-package-type".len()]
                            .chars()
                            .all(|c| c == 'b' || c == 'c'));
                if is_type {
                    name = "package-type".into();
                }
                if fields.iter().any(|(k, _)| *k == name) {
                    let pkg = fields
                        .iter()
                        .find(|(k, _)| k == "package")
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default();
                    return err(format!(
                        "{name}-field appears twice in the same stanza of debian/control (package \"{pkg}\")"
                    ));
                }
                // Dh_Lib joins continuation lines with a space and drops a
                // lone "." that marks an empty line.
                let value = f
                    .value
                    .split('\n')
                    .map(|l| if l == "." { "" } else { l })
                    .collect::<Vec<_>>()
                    .join(" ");
                fields.push((name, value));
            }
            stanzas.push(fields);
        }
        let mut stanzas = stanzas.into_iter();
        let source_fields = stanzas.next().unwrap_or_default();
        let get = |fields: &[(String, String)], k: &str| {
            fields
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.trim().to_string())
        };
        let Some(source) = get(&source_fields, "source") else {
            return err("could not find Source: line in control file.");
        };
        if !is_valid_package_name(&source) {
            return err(format!(
                "Source-field must be a valid package name, got: \"{source}\""
            ));
        }
        let compat_from_build_depends = compat_from_build_depends(&source_fields)?;
        let mut packages: Vec<BinaryPackage> = Vec::new();
        for fields in stanzas {
            let name = get(&fields, "package").unwrap_or_default();
            if name.is_empty() {
                return err("Binary paragraph is missing mandatory \"Package\"-field");
            }
            if packages.iter().any(|p| p.name == name) {
                return err(format!("debian/control has a duplicate entry for {name}"));
            }
            if !is_valid_package_name(&name) {
                return err(format!(
                    "Package-field must be a valid package name, got: \"{name}\""
                ));
            }
            let cross_type = get(&fields, "x-dh-build-for-type").unwrap_or_else(|| "host".into());
            if cross_type != "host" && cross_type != "target" {
                return err(format!(
                    "Unknown value of X-DH-Build-For-Type \"{cross_type}\" for package {name}"
                ));
            }
            packages.push(BinaryPackage {
                architecture: get(&fields, "architecture").unwrap_or_default(),
                package_type: get(&fields, "package-type").unwrap_or_else(|| "deb".into()),
                build_profiles: fields
                    .iter()
                    .find(|(n, _)| n == "build-profiles")
                    .map(|(_, v)| v.clone()),
                cross_type,
                name,
                fields,
            });
        }
        Ok(Control {
            source,
            compat_from_build_depends,
            packages,
        })
    }
}

fn compat_from_build_depends(source: &[(String, String)]) -> Result<Option<u32>, DhError> {
    let mut found: Option<(u32, String)> = None;
    for field in ["build-depends", "build-depends-arch", "build-depends-indep"] {
        let Some((_, value)) = source.iter().find(|(n, _)| n == field) else {
            continue;
        };
        for dep in value.split(',').map(str::trim).filter(|d| !d.is_empty()) {
            let Some(rest) = dep.strip_prefix("debhelper-compat") else {
                continue;
            };
            if !(rest.is_empty() || rest.starts_with(char::is_whitespace) || rest.starts_with('('))
            {
                continue; // another package whose name starts the same way
            }
            let inner = rest
                .trim()
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .and_then(|r| r.trim().strip_prefix('='))
                .map(str::trim);
            let Some(version) = inner.filter(|v| !v.is_empty() && !v.contains(char::is_whitespace))
            else {
                warning(&format!("Found invalid debhelper-compat relation: {dep}"));
                warning(" * Please format the relation as (example): debhelper-compat (= 13)");
                return err(format!(
                    "Could not parse desired debhelper compat level from relation: {dep}"
                ));
            };
            let Ok(level) = version.parse::<u32>() else {
                return err(format!(
                    "Invalid compat level {version}, derived from relation: {dep}"
                ));
            };
            if let Some((_, first)) = &found {
                return err(format!(
                    "Duplicate debhelper-compat build-dependency: {first} vs. {dep}"
                ));
            }
            if field != "build-depends" {
                return err(format!(
                    "The debhelper-compat build-dependency must be in the Build-Depends field (not {field})"
                ));
            }
            found = Some((level, dep.to_string()));
        }
    }
    Ok(found.map(|(l, _)| l))
}

/// Where the compat level came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compat {
    /// The level in effect (after `DH_COMPAT`).
    pub level: u32,
    /// The level the package declares.
    pub declared: u32,
}

/// Determine the compat level: exactly one of `debian/compat` and
/// `debhelper-compat (= N)`, overridden by a non-empty `DH_COMPAT`.
///
/// Unlike Dh_Lib, a missing declaration is always an error (Dh_Lib silently
/// uses level 1 in some code paths).
pub fn compat(root: &Path, control: &Control, dh_compat: Option<&str>) -> Result<Compat, DhError> {
    let file = root.join("debian/compat");
    let declared = if file.exists() {
        let text =
            std::fs::read_to_string(&file).map_err(|e| DhError(format!("debian/compat: {e}")))?;
        let first = text.lines().next().unwrap_or("").trim();
        if first.is_empty() {
            return err("debian/compat must contain a positive number (found an empty first line)");
        }
        let Ok(level) = first.parse::<u32>() else {
            return err(format!(
                "debian/compat must contain a positive number (found: \"{first}\")"
            ));
        };
        if let Some(bd) = control.compat_from_build_depends {
            warning("Please specify the debhelper compat level exactly once.");
            warning(&format!(" * debian/compat requests compat {level}."));
            warning(&format!(
                " * debian/control requests compat {bd} via \"debhelper-compat (= {bd})\""
            ));
            warning("");
            warning(
                "Hint: If you just added a build-dependency on debhelper-compat, then please remember to remove debian/compat",
            );
            warning("");
            return err(
                "debhelper compat level specified both in debian/compat and via build-dependency on debhelper-compat",
            );
        }
        level
    } else if let Some(level) = control.compat_from_build_depends {
        level
    } else {
        return err(
            "Please specify the compatibility level in debian/compat or via Build-Depends: debhelper-compat (= X)",
        );
    };
    let mut level = declared;
    if let Some(v) = dh_compat.filter(|v| !v.is_empty()) {
        level = v.parse().map_err(|_| {
            DhError("The environment variable DH_COMPAT must be a positive integer".into())
        })?;
    }
    Ok(Compat { level, declared })
}

impl Compat {
    /// The range checks debhelper's `compat()` performs on every use.
    pub fn check(&self) -> Result<(), DhError> {
        if self.level < MIN_COMPAT {
            return err(format!(
                "Compatibility levels before {MIN_COMPAT} are no longer supported (level {} requested)",
                self.level
            ));
        }
        if self.level > MAX_COMPAT {
            return err(format!(
                "Sorry, but {MAX_COMPAT} is the highest compatibility level supported by this debhelper."
            ));
        }
        if self.level < LOWEST_NON_DEPRECATED_COMPAT {
            warning(&format!(
                "Compatibility levels before {LOWEST_NON_DEPRECATED_COMPAT} are deprecated (level {} in use)",
                self.level
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Control;

    #[test]
    fn reads_stanzas_comments_and_compat() {
        let c = Control::parse(
            "# leading comment\nSource: demo\nBuild-Depends: debhelper-compat (= 13),\n dh-sequence-servicebuilder\n\n\
             Package: pa\n# comment inside\nArchitecture: all\n\n\
             Package: pb\nArchitecture: linux-any\nXB-Package-Type: udeb\nBuild-Profiles: <!nocheck>\n",
        )
        .unwrap();
        assert_eq!(c.source, "demo");
        assert_eq!(c.compat_from_build_depends, Some(13));
        assert_eq!(c.packages.len(), 2);
        assert!(c.packages[1].is_udeb());
        assert_eq!(c.packages[1].build_profiles.as_deref(), Some("<!nocheck>"));
    }

    #[test]
    fn rejects_fractional_compat() {
        let e = Control::parse("Source: dd\nBuild-Depends: debhelper-compat (= 13.1)\n\nPackage: pa\nArchitecture: all\n")
            .unwrap_err();
        assert!(e.0.starts_with("Invalid compat level 13.1"), "{e}");
    }

    #[test]
    fn the_reader_joins_continuations_and_refuses_what_is_not_deb822() {
        let p = super::paragraphs("A: one\n  two\n\tthree\nB:x\n\n\n \nC:\n").unwrap();
        let p: Vec<Vec<(&str, &str)>> = p
            .iter()
            .map(|s| s.iter().map(|f| (f.name, f.value.as_str())).collect())
            .collect();
        assert_eq!(
            p,
            [vec![("A", "one\ntwo\nthree"), ("B", "x")], vec![("C", "")]]
        );
        for bad in [
            " lead: x\n",
            "A: x\n\n more\n",
            "-A: x\n",
            "A B: x\n",
            ":x\n",
            "A\n",
        ] {
            assert!(super::paragraphs(bad).is_err(), "{bad:?}");
        }
        let e = Control::parse("Source: s\nno colon\n").unwrap_err();
        assert_eq!(
            e.0,
            "Parse error in debian/control, no ':' after the field name no: no colon"
        );
    }
}
