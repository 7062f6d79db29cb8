//! sid's per-user services (runit 2.3).
//!
//! sid's interpreter and finish-exec treat a run script whose effective
//! uid is 1000 or more, and whose user (`id -u -n`) has a directory
//! `/home/USER`, as a user service: the envdir `/etc/sv/runsvdir@USER/env`
//! is read before the service's own, the init script is left alone, and the
//! flag files are `/home/USER/.runit/verbose` and `.../debug` instead of
//! `/etc/runit/...`. Only asked under runit 2.3, and only for a non-root
//! start, so a system start pays nothing for it.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

/// Where users' home directories are looked for (fixed, as in Debian).
pub const HOME: &str = "/home";
/// The password file the user name is read from.
pub const PASSWD: &str = "/etc/passwd";
/// sid's template directory of per-user runsvdirs (`runsvdir@USER/env`).
pub const SV: &str = "/etc/sv";

/// A user service: its user's name and home directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// `id -u -n`.
    pub name: OsString,
    /// `/home/NAME`.
    pub home: PathBuf,
}

impl User {
    /// The user of this start when it is a user service, else `None`.
    pub fn of_this_start() -> Option<User> {
        let uid = effective_uid();
        if uid < 1000 {
            return None;
        }
        let name = name_of(uid, &std::fs::read(PASSWD).ok()?)?;
        let home = Path::new(HOME).join(&name);
        home.is_dir().then_some(User { name, home })
    }

    /// `/etc/sv/runsvdir@USER/env`, the user's session envdir.
    pub fn envdir(&self) -> PathBuf {
        let mut dir = OsString::from("runsvdir@");
        dir.push(&self.name);
        Path::new(SV).join(dir).join("env")
    }

    /// The user's flag file (`verbose`, `debug`).
    pub fn flag(&self, file: &str) -> PathBuf {
        self.home.join(".runit").join(file)
    }
}

/// `id -u`. Through `syscall`, which the programs import anyway: a libc
/// `geteuid` import alone adds about 3,000 instructions of dynamic-loader
/// work to every start, in every release, for a value only sid needs.
pub fn effective_uid() -> u64 {
    // SAFETY: geteuid takes no arguments and cannot fail.
    let uid = unsafe { nix::libc::syscall(nix::libc::SYS_geteuid) };
    uid as u64
}

/// The first `/etc/passwd` entry with this uid, as `id -u -n` finds it
/// through the `files` source (users known only to other NSS sources, such
/// as LDAP, are not found, and the start is a system one).
fn name_of(uid: u64, passwd: &[u8]) -> Option<OsString> {
    let uid = uid.to_string();
    passwd.split(|&c| c == b'\n').find_map(|line| {
        let mut fields = line.split(|&c| c == b':');
        let name = fields.next()?;
        let _password = fields.next()?;
        (fields.next()? == uid.as_bytes() && !name.is_empty())
            .then(|| OsString::from_vec(name.to_vec()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_entry_with_the_uid_names_the_user() {
        let passwd = b"root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\nalias:x:1000:1000::/x:/bin/sh\n";
        assert_eq!(name_of(1000, passwd), Some("alice".into()));
        assert_eq!(name_of(0, passwd), Some("root".into()));
        assert_eq!(name_of(1001, passwd), None);
        assert_eq!(name_of(10, b"::10:\n"), None);
    }
}
