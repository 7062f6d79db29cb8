//! Debian architecture names and wildcards, matched as dpkg matches them.
//!
//! `Architecture: linux-any`, `any-amd64` or `armhf i386` in debian/control is
//! decided by `Dpkg::Arch::debarch_is(DEB_HOST_ARCH, WORD)` for each word. That
//! function maps both sides to a 4-tuple `abi-libc-os-cpu` through dpkg's own
//! tables, `/usr/share/dpkg/cputable` and `tupletable`. We read the same
//! tables (dpkg is Essential, so they are always there), so a new port added
//! to dpkg is matched without a rebuild of this tool.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::messages::DhError;
use super::options::Env;

const CPUTABLE: &str = "/usr/share/dpkg/cputable";
const TUPLETABLE: &str = "/usr/share/dpkg/tupletable";

/// The tuple table: Debian architecture name -> `abi-libc-os-cpu`.
#[derive(Debug, Default)]
pub struct ArchTable {
    to_tuple: HashMap<String, [String; 4]>,
}

fn table_lines(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|w| w.len() >= 2)
}

impl ArchTable {
    /// Build the table from the text of dpkg's `cputable` and `tupletable`.
    pub fn from_tables(cputable: &str, tupletable: &str) -> ArchTable {
        let cpus: Vec<&str> = table_lines(cputable).map(|w| w[0]).collect();
        let mut to_tuple = HashMap::new();
        let mut seen_tuples = std::collections::HashSet::new();
        let mut add = |tuple: String, arch: String| {
            // First match wins, in both directions (Dpkg::Arch::_load_tupletable).
            if to_tuple.contains_key(&arch) || seen_tuples.contains(&tuple) {
                return;
            }
            let parts: Vec<String> = tuple.splitn(4, '-').map(str::to_string).collect();
            if let Ok(parts) = <[String; 4]>::try_from(parts) {
                seen_tuples.insert(tuple);
                to_tuple.insert(arch, parts);
            }
        };
        for w in table_lines(tupletable) {
            let (tuple, arch) = (w[0], w[1]);
            if tuple.contains("<cpu>") {
                for cpu in &cpus {
                    add(tuple.replace("<cpu>", cpu), arch.replace("<cpu>", cpu));
                }
            } else {
                add(tuple.to_string(), arch.to_string());
            }
        }
        ArchTable { to_tuple }
    }

    /// The system's table, read once from /usr/share/dpkg.
    pub fn system() -> &'static ArchTable {
        static TABLE: OnceLock<ArchTable> = OnceLock::new();
        TABLE.get_or_init(|| {
            let cpu = std::fs::read_to_string(CPUTABLE).unwrap_or_default();
            let tuple = std::fs::read_to_string(TUPLETABLE).unwrap_or_default();
            ArchTable::from_tables(&cpu, &tuple)
        })
    }

    fn arch_tuple(&self, arch: &str) -> Option<[&str; 4]> {
        // dpkg still accepts the old "linux-CPU" spelling of a Linux arch.
        let arch = match arch.strip_prefix("linux-") {
            Some(rest) => rest.split('-').next().unwrap_or(rest),
            None => arch,
        };
        self.to_tuple
            .get(arch)
            .map(|t| [t[0].as_str(), t[1].as_str(), t[2].as_str(), t[3].as_str()])
    }

    fn wildcard_tuple<'a>(&'a self, wildcard: &'a str) -> Option<[&'a str; 4]> {
        let parts: Vec<&str> = wildcard.splitn(4, '-').collect();
        if parts.contains(&"any") {
            Some(match parts.len() {
                4 => [parts[0], parts[1], parts[2], parts[3]],
                3 => ["any", parts[0], parts[1], parts[2]],
                2 => ["any", "any", parts[0], parts[1]],
                _ => ["any"; 4],
            })
        } else {
            self.arch_tuple(wildcard)
        }
    }

    /// `Dpkg::Arch::debarch_is(real, alias)`: does the concrete architecture
    /// `real` match the name or wildcard `alias`?
    pub fn debarch_is(&self, real: &str, alias: &str) -> bool {
        if alias == real || alias == "any" {
            return true;
        }
        let (Some(r), Some(a)) = (self.arch_tuple(real), self.wildcard_tuple(alias)) else {
            return false;
        };
        r.iter().zip(a.iter()).all(|(r, a)| a == r || *a == "any")
    }

    /// Dh_Lib's `samearch`: does `arch` match any word of an Architecture field?
    pub fn samearch(&self, arch: &str, field: &str) -> bool {
        field.split_whitespace().any(|w| self.debarch_is(arch, w))
    }
}

/// `dpkg-architecture` values: from the environment first, else from one
/// cached run of `dpkg-architecture` (Dh_Lib's `dpkg_architecture_value`).
#[derive(Debug, Default)]
pub struct ArchValues {
    queried: OnceLock<HashMap<String, String>>,
    warned: std::sync::Mutex<Vec<String>>,
}

impl ArchValues {
    /// Look up `DEB_HOST_ARCH` and friends. An empty environment value warns
    /// and is ignored, as Dh_Lib does (#862842).
    pub fn get(&self, env: &Env, var: &str) -> Result<String, DhError> {
        if let Some(v) = env.get(var) {
            if !v.is_empty() {
                return Ok(v.to_string());
            }
            // Dh_Lib deletes the variable after warning, so it warns once.
            let mut warned = self.warned.lock().unwrap_or_else(|e| e.into_inner());
            if !warned.iter().any(|w| w == var) {
                warned.push(var.to_string());
                super::messages::warning(&format!(
                    "ENV[{var}] is set to the empty string.  It has been ignored to avoid bugs like #862842"
                ));
            }
        }
        let all = self.queried.get_or_init(|| {
            let mut map = HashMap::new();
            let mut cmd = std::process::Command::new("dpkg-architecture");
            // Empty DEB_* values must not leak into dpkg-architecture either.
            for (k, v) in env.iter() {
                if k.starts_with("DEB_") && v.is_empty() {
                    cmd.env_remove(k);
                }
            }
            if let Ok(out) = cmd.stderr(std::process::Stdio::null()).output() {
                for line in String::from_utf8_lossy(&out.stdout).lines() {
                    if let Some((k, v)) = line.split_once('=') {
                        map.insert(k.to_string(), v.to_string());
                    }
                }
            }
            map
        });
        all.get(var)
            .cloned()
            .ok_or_else(|| DhError(format!("dpkg-architecture failed to report {var}")))
    }
}

#[cfg(test)]
mod tests {
    use super::ArchTable;

    fn table() -> &'static ArchTable {
        ArchTable::system()
    }

    #[test]
    fn wildcards_match_as_dpkg_does() {
        let t = table();
        assert!(t.debarch_is("amd64", "any"));
        assert!(t.debarch_is("amd64", "linux-any"));
        assert!(t.debarch_is("amd64", "any-amd64"));
        assert!(t.debarch_is("amd64", "gnu-any-any"));
        assert!(!t.debarch_is("amd64", "hurd-any"));
        assert!(t.debarch_is("hurd-i386", "hurd-any"));
        assert!(t.debarch_is("hurd-i386", "any-i386"));
        assert!(!t.debarch_is("hurd-i386", "linux-any"));
        assert!(t.debarch_is("armhf", "any-arm"));
        assert!(t.debarch_is("amd64", "linux-amd64"));
        assert!(!t.debarch_is("amd64", "all"));
        assert!(t.samearch("i386", "armhf i386"));
        assert!(!t.samearch("amd64", "armhf i386"));
    }
}
