//! The YAML template model: what a service is, as a maintainer or an admin
//! writes it.
//!
//! A template file is a map from service name to [`ServiceTemplate`], as the
//! seed's `map[string]ServiceTemplate`. The seed's fields keep their names
//! (`run`, `log`, `finish`, `sleep`, `logsleep`, the restart policy); the
//! Debian fields let every dh-runit option and the common runscript idioms be
//! said without a raw script.
//!
//! Parsing is strict: unknown keys, duplicated keys, wrong types and invalid
//! names are errors that carry the file, the line and the column.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// The templates of one file, by service name (sorted, so output is stable).
pub type Templates = BTreeMap<String, ServiceTemplate>;

/// Largest template file accepted, in bytes. Bounds the memory a hostile
/// file can make the parser use.
pub const MAX_FILE_SIZE: usize = 16 * 1024 * 1024;

/// Most services one file may declare (runsvdir supervises at most 1000 per
/// directory anyway; this only bounds memory).
pub const MAX_SERVICES_PER_FILE: usize = 100_000;

/// The seed's default `sleep` and `logsleep`, in seconds.
pub const DEFAULT_SLEEP: u32 = 2;

/// A command: either an exact argv, quoted byte for byte, or a shell command
/// line that gets `exec` in front (the original servicebuilder's string form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// An exact argv, as in the seed's Go types (`Exec []string`).
    Argv(Vec<String>),
    /// A shell command line, as the original servicebuilder wrote it.
    Shell(String),
}

impl Command {
    /// Builds an argv command from anything that yields strings.
    pub fn argv<I, S>(args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Command::Argv(args.into_iter().map(Into::into).collect())
    }

    /// True when there is nothing to run.
    pub fn is_empty(&self) -> bool {
        match self {
            Command::Argv(v) => v.is_empty(),
            Command::Shell(s) => s.trim().is_empty(),
        }
    }
}

impl Serialize for Command {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Command::Argv(v) => v.serialize(s),
            Command::Shell(line) => line.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Command {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct CommandVisitor;
        impl<'de> Visitor<'de> for CommandVisitor {
            type Value = Command;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of strings (an exact argv) or a string (a shell command line)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Command, E> {
                Ok(Command::Shell(v.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Command, A::Error> {
                let mut argv = Vec::new();
                while let Some(arg) = seq.next_element::<ArgvElement>()? {
                    argv.push(arg.0);
                }
                Ok(Command::Argv(argv))
            }
        }
        d.deserialize_any(CommandVisitor)
    }
}

/// One argv element. Only strings are accepted: a YAML number such as `0x10`
/// or `010` would reach the daemon as `16` or `10`, not as written.
struct ArgvElement(String);

impl<'de> Deserialize<'de> for ArgvElement {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl V {
            fn not_text<E: de::Error>(what: &str, shown: String) -> E {
                E::custom(format!(
                    "argv element {shown} is a {what}, not a string; quote it (\"{shown}\") so \
                     the daemon receives exactly what you wrote"
                ))
            }
        }
        impl Visitor<'_> for V {
            type Value = ArgvElement;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ArgvElement, E> {
                Ok(ArgvElement(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ArgvElement, E> {
                Err(Self::not_text("number", v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ArgvElement, E> {
                Err(Self::not_text("number", v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ArgvElement, E> {
                Err(Self::not_text("number", v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ArgvElement, E> {
                Err(Self::not_text("boolean", v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<ArgvElement, E> {
                Err(E::custom(
                    "argv element is empty (null); write \"\" for an empty argument",
                ))
            }
        }
        d.deserialize_any(V)
    }
}

/// Whether runsv restarts the service after it exits (the seed's
/// `RestartPolicy`). `Never` writes a `down` file; `Always` removes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RestartPolicy {
    /// Start at boot and restart whenever it exits (the default).
    #[default]
    Always,
    /// Do not start automatically: a `down` file is written.
    Never,
}

/// What the maintainer scripts do on a package upgrade (dh-runit's
/// `onupgrade=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnUpgrade {
    /// Restart after the upgrade (the default).
    #[default]
    Restart,
    /// Stop before the upgrade, start after it.
    Stop,
    /// Leave it running; start it if it was not.
    Nostop,
    /// Send it the reload signal (HUP) after the upgrade.
    Reload,
}

impl OnUpgrade {
    /// The dh-runit spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            OnUpgrade::Restart => "restart",
            OnUpgrade::Stop => "stop",
            OnUpgrade::Nostop => "nostop",
            OnUpgrade::Reload => "reload",
        }
    }

    /// Parses the dh-runit spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "restart" => OnUpgrade::Restart,
            "stop" => OnUpgrade::Stop,
            "nostop" => OnUpgrade::Nostop,
            "reload" => OnUpgrade::Reload,
            _ => return None,
        })
    }

    /// True when a running sysv instance must not be replaced (dh-runit's
    /// `.meta/noreplace`).
    pub fn is_noreplace(self) -> bool {
        matches!(self, OnUpgrade::Nostop | OnUpgrade::Reload)
    }
}

/// One runit service.
///
/// ```
/// use servicebuilder::template::{Command, ServiceTemplate};
/// let t = ServiceTemplate::new(Command::argv(["redis-server", "--port", "6603"]));
/// assert_eq!(t.sleep, None); // the seed's default of 2 s applies when rendering
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceTemplate {
    /// The daemon: an argv list or a shell command line. Required unless
    /// `script` is given. It must stay in the foreground.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<Command>,
    /// The log service's command (`log/run`); its working directory is
    /// `log/`, and `log/main/` is created for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<Command>,
    /// The finish command; runsv's two arguments (exit code, signal) are
    /// appended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish: Option<Command>,
    /// Seconds to wait before each start of the daemon (default 2).
    #[serde(
        default,
        deserialize_with = "seconds",
        skip_serializing_if = "Option::is_none"
    )]
    pub sleep: Option<u32>,
    /// Seconds to wait before each start of the logger (default 2).
    #[serde(
        default,
        deserialize_with = "seconds",
        skip_serializing_if = "Option::is_none"
    )]
    pub logsleep: Option<u32>,
    /// `always` (default) or `never`.
    #[serde(default, skip_serializing_if = "is_default")]
    pub restart: RestartPolicy,

    /// Enable the service when the package is installed (default true).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub enable: bool,
    /// What a package upgrade does to the running service.
    #[serde(default, skip_serializing_if = "is_default")]
    pub onupgrade: OnUpgrade,
    /// The standard Debian log service: svlogd as `_runit-log` into
    /// `/var/log/runit/NAME`. Excludes `log`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub default_log: bool,
    /// On the host (`servicebuilder activate`), a template without `log`
    /// or `default_log` gets the original servicebuilder's log service:
    /// `svlogd -tt ./main` as `_runit-log`. `false` gives none. Packages
    /// never get it (dh-runit's default: no log unless asked).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub host_log: bool,
    /// Use finish-default as the finish script, so that the exit codes 161,
    /// 162 and 170 take the service down instead of restarting it. Defaults
    /// to true when no `finish` is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_finish: Option<bool>,
    /// Run the daemon as this user (chpst -u).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// With `user`: run with this group instead of the user's primary group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Environment variables, written as the `conf/` envdir (one file each).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Make the envdir readable by root only (0700/0600), for secrets.
    #[serde(default, skip_serializing_if = "is_false")]
    pub secret_env: bool,
    /// Services that must run first (`sv start DEP || exit 170`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends: Vec<String>,
    /// A configuration test run before the daemon (`… || exit 162`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configtest: Option<Command>,
    /// Do not start (exit 161, "disabled by local settings") when any of
    /// these paths exists.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skip_if_exists: Vec<String>,
    /// Do not start (exit 161) when a variable has the given value, e.g.
    /// `{ENABLED: "no"}` for a switch in `/etc/default/NAME`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub skip_if_env: BTreeMap<String, String>,
    /// Send the daemon's stderr to the log too (`exec 2>&1`; default true:
    /// runsv never redirects stderr).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr_to_log: Option<bool>,
    /// The daemon's absolute path, for the "binary not installed" check
    /// (`.meta/bin`). Defaults to `run`'s first word when that is absolute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary: Option<String>,
    /// Raw shell lines run just before the daemon is started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup: Option<String>,
    /// A raw shell body that replaces the generated start of the daemon
    /// (the escape hatch). Excludes `run`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    /// Hardening by Debian's `xchpst`, written as the service's `xchopts`
    /// file; applied when xchpst is installed (runit 2.2 and later export
    /// `XCHPST` for it), skipped otherwise.
    #[serde(default, skip_serializing_if = "Hardening::is_empty")]
    pub hardening: Hardening,
    /// Where a package installs the service: `etc` (`/etc/sv/NAME`, the
    /// default) or `usr` (`/usr/share/runit/sv/NAME`, the layout of
    /// Debian's runit-services: runit's dpkg trigger enables it when its
    /// `binary` is installed and disables it when that goes).
    #[serde(default, skip_serializing_if = "is_default")]
    pub layout: Layout,
}

/// See [`ServiceTemplate::layout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// `/etc/sv/NAME`, enabled by the package's postinst.
    #[default]
    Etc,
    /// `/usr/share/runit/sv/NAME`, enabled by runit's trigger (runit 2.2
    /// and later).
    Usr,
}

/// What `xchpst` applies before the daemon starts (xchpst(8); the systemd
/// settings they stand for in parentheses).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hardening {
    /// A /tmp of its own (PrivateTmp).
    #[serde(default, skip_serializing_if = "is_false")]
    pub private_tmp: bool,
    /// A /run of its own.
    #[serde(default, skip_serializing_if = "is_false")]
    pub private_run: bool,
    /// Empty /home, /root and /run/user (ProtectHome=yes).
    #[serde(default, skip_serializing_if = "is_false")]
    pub protect_home: bool,
    /// /home, /root and /run/user read-only (ProtectHome=read-only).
    #[serde(default, skip_serializing_if = "is_false")]
    pub read_only_home: bool,
    /// /usr and /boot read-only (ProtectSystem=yes).
    #[serde(default, skip_serializing_if = "is_false")]
    pub read_only_system: bool,
    /// /etc read-only too (ProtectSystem=full).
    #[serde(default, skip_serializing_if = "is_false")]
    pub read_only_etc: bool,
    /// A new root file system, so that read-only mounts cannot be undone.
    #[serde(default, skip_serializing_if = "is_false")]
    pub new_root: bool,
    /// No network but loopback (PrivateNetwork).
    #[serde(default, skip_serializing_if = "is_false")]
    pub private_network: bool,
    /// No new privileges through setuid files (NoNewPrivileges).
    #[serde(default, skip_serializing_if = "is_false")]
    pub no_new_privileges: bool,
    /// Keep only these capabilities in the bounding set
    /// (CapabilityBoundingSet), e.g. `cap_net_bind_service`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<String>,
    /// Drop these capabilities from the bounding set (`~` in
    /// CapabilityBoundingSet). Excludes `capabilities`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drop_capabilities: Vec<String>,
    /// The umask, in octal (UMask).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub umask: Option<String>,
    /// The OOM score adjustment, -1000 to 1000 (OOMScoreAdjust).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oom_score_adjust: Option<i32>,
    /// Directories made for the service, named after it and owned by its
    /// user: `run`, `state`, `log`, `cache` (RuntimeDirectory,
    /// StateDirectory, LogsDirectory, CacheDirectory).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub directories: Vec<String>,
}

impl Hardening {
    /// Nothing asked.
    pub fn is_empty(&self) -> bool {
        *self == Hardening::default()
    }

    fn validate(&self) -> Result<(), String> {
        if !self.capabilities.is_empty() && !self.drop_capabilities.is_empty() {
            return Err(
                "`hardening`: `capabilities` and `drop_capabilities` exclude each other (xchpst \
                 takes one of them): keep one"
                    .into(),
            );
        }
        for cap in self.capabilities.iter().chain(&self.drop_capabilities) {
            let name = cap.strip_prefix("cap_").unwrap_or(cap);
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
                return Err(format!(
                    "`hardening`: capability {cap:?} is not a capability name; write it as \
                     capabilities(7) does, in lower case (e.g. cap_net_bind_service)"
                ));
            }
        }
        if let Some(umask) = &self.umask
            && (umask.is_empty()
                || umask.len() > 4
                || !umask.bytes().all(|b| (b'0'..=b'7').contains(&b)))
        {
            return Err(format!(
                "`hardening`: umask {umask:?} is not an octal mode; quote it, e.g. \"0027\""
            ));
        }
        if let Some(oom) = self.oom_score_adjust
            && !(-1000..=1000).contains(&oom)
        {
            return Err(format!(
                "`hardening`: oom_score_adjust {oom} is outside -1000..1000"
            ));
        }
        for d in &self.directories {
            if !["run", "state", "log", "cache"].contains(&d.as_str()) {
                return Err(format!(
                    "`hardening`: directory {d:?} is not one of run, state, log, cache"
                ));
            }
        }
        Ok(())
    }

    /// The `xchopts` file: one xchpst option a line (xchpst(8), "Options
    /// file"). `app` names the directories after the service.
    pub fn xchopts(&self, service: &str) -> String {
        let mut out = format!("# {service}: generated by servicebuilder from `hardening`.\n");
        let flags = [
            (self.private_tmp, "private-tmp"),
            (self.private_run, "private-run"),
            (self.protect_home, "protect-home"),
            (self.read_only_home, "ro-home"),
            (self.read_only_system, "ro-sys"),
            (self.read_only_etc, "ro-etc"),
            (self.new_root, "new-root"),
            (self.private_network, "net-ns"),
            (self.no_new_privileges, "no-new-privs"),
        ];
        for (on, opt) in flags {
            if on {
                out.push_str(opt);
                out.push('\n');
            }
        }
        if !self.capabilities.is_empty() {
            out.push_str(&format!("cap-bs-keep {}\n", self.capabilities.join(",")));
        }
        if !self.drop_capabilities.is_empty() {
            out.push_str(&format!(
                "cap-bs-drop {}\n",
                self.drop_capabilities.join(",")
            ));
        }
        if let Some(umask) = &self.umask {
            out.push_str(&format!("umask {umask}\n"));
        }
        if let Some(oom) = self.oom_score_adjust {
            out.push_str(&format!("oom {oom}\n"));
        }
        if !self.directories.is_empty() {
            out.push_str(&format!("app {service}\n"));
            for d in &self.directories {
                out.push_str(&format!("{d}-dir\n"));
            }
        }
        out
    }
}

/// The defaults a YAML template gets for what it leaves out (`enable` and
/// `host_log` are true), so that `..Default::default()` in code means what
/// an empty map means in a file.
impl Default for ServiceTemplate {
    fn default() -> Self {
        ServiceTemplate {
            run: None,
            log: None,
            finish: None,
            sleep: None,
            logsleep: None,
            restart: RestartPolicy::default(),
            enable: true,
            onupgrade: OnUpgrade::default(),
            default_log: false,
            host_log: true,
            default_finish: None,
            user: None,
            group: None,
            env: BTreeMap::new(),
            secret_env: false,
            depends: Vec::new(),
            configtest: None,
            skip_if_exists: Vec::new(),
            skip_if_env: BTreeMap::new(),
            stderr_to_log: None,
            binary: None,
            setup: None,
            script: None,
            hardening: Hardening::default(),
            layout: Layout::Etc,
        }
    }
}

fn yes() -> bool {
    true
}
fn is_true(b: &bool) -> bool {
    *b
}
fn is_false(b: &bool) -> bool {
    !*b
}
fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

fn seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = Option<u32>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a whole number of seconds (0 or more)")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            u32::try_from(v)
                .map(Some)
                .map_err(|_| E::custom(format!("{v} seconds is too long")))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            if v < 0 {
                Err(E::custom(format!(
                    "a sleep of {v} seconds is negative; use 0 or more"
                )))
            } else {
                self.visit_u64(v as u64)
            }
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(V)
}

impl ServiceTemplate {
    /// A template that runs `run` with every other field at its default.
    pub fn new(run: Command) -> Self {
        ServiceTemplate {
            run: Some(run),
            ..Default::default()
        }
    }

    /// The effective `sleep` (the seed's default of 2 s when unset).
    pub fn sleep_secs(&self) -> u32 {
        self.sleep.unwrap_or(DEFAULT_SLEEP)
    }

    /// The effective `logsleep` (default 2 s).
    pub fn logsleep_secs(&self) -> u32 {
        self.logsleep.unwrap_or(DEFAULT_SLEEP)
    }

    /// Whether finish-default is the finish script.
    pub fn uses_default_finish(&self) -> bool {
        self.default_finish.unwrap_or(self.finish.is_none())
    }

    /// The path of the daemon binary for the "binary not installed" check.
    pub fn binary_path(&self) -> Option<&str> {
        if let Some(b) = &self.binary {
            return Some(b);
        }
        match &self.run {
            Some(Command::Argv(v)) => v.first().map(String::as_str).filter(|p| p.starts_with('/')),
            _ => None,
        }
    }

    /// Checks the rules serde cannot express. The error text says what to
    /// change.
    pub fn validate(&self) -> Result<(), String> {
        match (&self.run, &self.script) {
            (None, None) => {
                return Err(
                    "`run` is missing: give the daemon's command (or a raw `script`)".into(),
                );
            }
            (Some(_), Some(_)) => {
                return Err("`run` and `script` exclude each other: keep one".into());
            }
            (Some(run), None) if run.is_empty() => {
                return Err("`run` is empty: give the daemon's command".into());
            }
            _ => {}
        }
        for (field, cmd) in [
            ("run", &self.run),
            ("log", &self.log),
            ("finish", &self.finish),
            ("configtest", &self.configtest),
        ] {
            if let Some(cmd) = cmd {
                check_command(field, cmd)?;
            }
        }
        if self.default_log && self.log.is_some() {
            return Err("`default_log` and `log` exclude each other: keep one".into());
        }
        if self.default_finish == Some(true) && self.finish.is_some() {
            return Err("`default_finish: true` and `finish` exclude each other: keep one".into());
        }
        if let Some(user) = &self.user {
            check_account("user", user)?;
        }
        if let Some(group) = &self.group {
            if self.user.is_none() {
                return Err("`group` needs `user`: chpst sets both together".into());
            }
            check_account("group", group)?;
        }
        for (field, map) in [("env", &self.env), ("skip_if_env", &self.skip_if_env)] {
            for (name, value) in map {
                check_env_name(name)
                    .and_then(|()| check_env_value(name, value))
                    .map_err(|e| format!("in `{field}`: {e}"))?;
            }
        }
        for dep in &self.depends {
            validate_service_name(dep).map_err(|e| format!("in `depends`: {e}"))?;
        }
        for path in &self.skip_if_exists {
            if !path.starts_with('/') || path.contains('\0') {
                return Err(format!(
                    "`skip_if_exists` entry {path:?} must be an absolute path without NUL bytes"
                ));
            }
        }
        if let Some(bin) = &self.binary
            && (!bin.starts_with('/') || bin.contains(['\0', '\n']))
        {
            return Err(format!(
                "`binary` {bin:?} must be an absolute path on one line"
            ));
        }
        self.hardening.validate()?;
        if self.layout == Layout::Usr && self.binary_path().is_none() {
            return Err(
                "`layout: usr` needs the daemon's path: runit's trigger enables the service \
                 when that binary is installed; give `binary` (or an absolute first word of \
                 `run`)"
                    .into(),
            );
        }
        if !self.hardening.is_empty() && self.script.is_some() {
            return Err(
                "`hardening` needs `run`: a raw `script` starts the daemon itself (write \
                 `exec ${XCHPST:-} daemon` in it and ship an xchopts file instead)"
                    .into(),
            );
        }
        for (field, text) in [("setup", &self.setup), ("script", &self.script)] {
            if text.as_deref().is_some_and(|t| t.contains('\0')) {
                return Err(format!(
                    "`{field}` contains a NUL byte, which sh cannot read"
                ));
            }
        }
        Ok(())
    }
}

fn check_command(field: &str, cmd: &Command) -> Result<(), String> {
    match cmd {
        Command::Argv(v) => {
            if v.is_empty() {
                return Err(format!("`{field}` is an empty list: give a command"));
            }
            if v[0].is_empty() {
                return Err(format!(
                    "`{field}`: the program name (first element) is empty"
                ));
            }
            if v[0].starts_with('-') {
                return Err(format!(
                    "`{field}`: the program name {:?} starts with `-`, which sh's exec would \
                     take for an option; give its path (e.g. ./{})",
                    v[0], v[0]
                ));
            }
            if let Some(i) = v.iter().position(|a| a.contains('\0')) {
                return Err(format!(
                    "`{field}` element {} contains a NUL byte, which no argv can carry",
                    i + 1
                ));
            }
        }
        Command::Shell(line) => {
            if line.trim().is_empty() {
                return Err(format!("`{field}` is an empty command line"));
            }
            if line.contains('\0') {
                return Err(format!("`{field}` contains a NUL byte"));
            }
        }
    }
    Ok(())
}

/// User and group names as adduser and chpst accept them: no `:` (chpst's
/// separator), no leading `-`, no whitespace.
fn check_account(field: &str, name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'$'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{field}` {name:?} is not a valid name: use letters, digits, `_`, `.`, `-` \
             (not first) and at most 64 characters"
        ))
    }
}

fn check_env_name(name: &str) -> Result<(), String> {
    let mut bytes = name.bytes();
    let ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "environment variable name {name:?} is invalid: use letters, digits and `_`, \
             not starting with a digit"
        ))
    }
}

/// chpst's envdir keeps only the first line, cuts trailing blanks and turns
/// NUL into newline; values are encoded so that they come back exactly, and
/// the few that cannot are refused here.
fn check_env_value(name: &str, value: &str) -> Result<(), String> {
    if value.contains('\0') {
        return Err(format!(
            "the value of {name} contains a NUL byte, which no environment can carry"
        ));
    }
    if value.ends_with([' ', '\t']) {
        return Err(format!(
            "the value of {name} ends in a space or tab, which chpst's envdir rules cut off; \
             remove it"
        ));
    }
    Ok(())
}

/// Checks a service name: one path component of `[A-Za-z0-9][A-Za-z0-9._@+-]*`,
/// at most 255 bytes.
pub fn validate_service_name(name: &str) -> Result<(), String> {
    let bytes = name.as_bytes();
    let problem = if bytes.is_empty() {
        Some("it is empty")
    } else if bytes.len() > 255 {
        Some("it is longer than 255 bytes")
    } else if !bytes[0].is_ascii_alphanumeric() {
        Some("it must start with a letter or a digit")
    } else if !bytes
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'@' | b'+' | b'-'))
    {
        Some("only letters, digits and `. _ @ + -` are allowed")
    } else {
        None
    };
    match problem {
        None => Ok(()),
        Some(why) => Err(format!("invalid service name {name:?}: {why}")),
    }
}

/// A template file that failed to load, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// The file, as given.
    pub origin: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}", self.origin.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for TemplateError {}

/// The file-level map, with the duplicate check serde_yaml does not do.
struct TemplateFile(Templates);

impl<'de> Deserialize<'de> for TemplateFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TemplateFile;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map from service name to template")
            }
            fn visit_unit<E: de::Error>(self) -> Result<TemplateFile, E> {
                Ok(TemplateFile(Templates::new()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TemplateFile, A::Error> {
                let mut out = Templates::new();
                while let Some(name) = map.next_key::<String>()? {
                    validate_service_name(&name).map_err(|e| at_key(&name, 1, e))?;
                    if out.contains_key(&name) {
                        return Err(at_key(
                            &name,
                            2,
                            format!("service `{name}` is declared twice in this file; keep one"),
                        ));
                    }
                    if out.len() >= MAX_SERVICES_PER_FILE {
                        return Err(de::Error::custom(format!(
                            "more than {MAX_SERVICES_PER_FILE} services in one file"
                        )));
                    }
                    let template: ServiceTemplate = map.next_value()?;
                    template.validate().map_err(|e| {
                        // Placed at the field the message names first (the
                        // one to change), else at the service.
                        let field = named_field(&e).unwrap_or("");
                        at_key(
                            &format!("{name}{FIELD_TAG}{field}"),
                            1,
                            format!("service `{name}`: {e}"),
                        )
                    })?;
                    out.insert(name, template);
                }
                Ok(TemplateFile(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// serde_yaml places errors raised by a map visitor at the start of the
/// map; these errors are tagged with the key instead, and
/// [`parse_templates`] finds the key's line in the text.
const KEY_TAG: char = '\u{1}';

fn at_key<E: de::Error>(key: &str, occurrence: usize, message: String) -> E {
    E::custom(format!(
        "{KEY_TAG}{key}{KEY_TAG}{occurrence}{KEY_TAG}{message}"
    ))
}

/// Separates the service from the field in a tagged key.
const FIELD_TAG: char = '\u{2}';

/// The first template field a validation message names in backquotes.
fn named_field(message: &str) -> Option<&'static str> {
    message
        .split('`')
        .skip(1)
        .step_by(2)
        .find_map(|w| FIELD_NAMES.iter().find(|f| **f == w).copied())
}

/// The 1-based line and column of `field:` within the service whose key
/// is on line `key_line`: on that line (flow style, `web: {run: …}`), or
/// on the lines indented below it (block style).
fn find_field(text: &str, key_line: usize, field: &str) -> Option<(usize, usize)> {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let mut lines = text.lines().enumerate().skip(key_line - 1);
    let (_, first) = lines.next()?;
    let key_indent = indent(first);
    // Past the service's own key on its line.
    let skip = first.find(':').map_or(0, |i| i + 1);
    if let Some(col) = field_in(&first[skip..], field) {
        return Some((key_line, skip + col));
    }
    for (i, line) in lines {
        let t = line.trim_start();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if indent(line) <= key_indent {
            break;
        }
        if let Some(col) = field_in(line, field) {
            return Some((i + 1, col));
        }
    }
    None
}

/// The 1-based column of `field` used as a key in `line`: at the start of
/// the line's text, or after `{` or `,`, and followed by `:`.
fn field_in(line: &str, field: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut from = 0;
    while let Some(i) = line[from..].find(field).map(|i| i + from) {
        let before = line[..i].trim_end();
        let starts = before.is_empty() || before.ends_with(['{', ',', '-']);
        let after = line[i + field.len()..].trim_start();
        let ends = after.starts_with(':')
            && !bytes
                .get(i + field.len())
                .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
        if starts && ends {
            return Some(line[..i].chars().count() + 1);
        }
        from = i + field.len();
    }
    None
}

fn untag(raw: &str) -> Option<(&str, usize, &str)> {
    let rest = raw.strip_prefix(KEY_TAG)?;
    let (key, rest) = rest.split_once(KEY_TAG)?;
    let (n, msg) = rest.split_once(KEY_TAG)?;
    Some((key, n.parse().ok()?, msg))
}

/// The 1-based line and column of the `occurrence`-th top-level `key:`.
fn find_key(text: &str, key: &str, occurrence: usize) -> Option<(usize, usize)> {
    let mut seen = 0;
    for (i, line) in text.lines().enumerate() {
        let unquoted = line
            .strip_prefix(key)
            .or_else(|| line.strip_prefix(&format!("\"{key}\"")))
            .or_else(|| line.strip_prefix(&format!("'{key}'")));
        if unquoted.is_some_and(|r| r.trim_start().starts_with(':')) {
            seen += 1;
            if seen == occurrence {
                return Some((i + 1, 1));
            }
        }
    }
    None
}

/// Parses and validates the templates in `text`; `origin` names the file in
/// errors.
///
/// ```
/// use servicebuilder::template::parse_templates;
/// let t = parse_templates("web: {run: [python3, -m, http.server]}\n", "web.yaml".as_ref()).unwrap();
/// assert!(t.contains_key("web"));
/// let e = parse_templates("web: {rnu: [x]}\n", "web.yaml".as_ref()).unwrap_err();
/// assert!(e.to_string().starts_with("web.yaml:1:7: "), "{e}");
/// assert!(e.to_string().contains("did you mean `run`?"), "{e}");
/// ```
pub fn parse_templates(text: &str, origin: &Path) -> Result<Templates, TemplateError> {
    if text.len() > MAX_FILE_SIZE {
        return Err(TemplateError {
            origin: origin.to_owned(),
            line: None,
            column: None,
            message: format!(
                "the file is {} bytes; templates are limited to {MAX_FILE_SIZE} bytes",
                text.len()
            ),
        });
    }
    if is_blank_yaml(text) {
        return Ok(Templates::new());
    }
    match serde_yaml::from_str::<TemplateFile>(text) {
        Ok(file) => Ok(file.0),
        Err(e) => {
            let raw = e.to_string();
            let mut line = e.location().map(|l| (l.line(), l.column()));
            let mut message = explain(&raw);
            if let Some((key, n, msg)) = untag(&raw) {
                let (key, field) = key.split_once(FIELD_TAG).unwrap_or((key, ""));
                let at_key = find_key(text, key, n);
                let at_field = at_key
                    .filter(|_| !field.is_empty())
                    .and_then(|(l, _)| find_field(text, l, field));
                line = at_field.or(at_key).or(line);
                message = explain(msg);
            }
            Err(TemplateError {
                origin: origin.to_owned(),
                line: line.map(|l| l.0),
                column: line.map(|l| l.1),
                message,
            })
        }
    }
}

/// Reads and parses one template file.
pub fn load_file(path: &Path) -> Result<Templates, TemplateError> {
    let fail = |message: String| TemplateError {
        origin: path.to_owned(),
        line: None,
        column: None,
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    if meta.len() > MAX_FILE_SIZE as u64 {
        return Err(fail(format!(
            "the file is {} bytes; templates are limited to {MAX_FILE_SIZE} bytes",
            meta.len()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        fail(format!(
            "not UTF-8 (invalid byte at offset {}); YAML files must be UTF-8",
            e.utf8_error().valid_up_to()
        ))
    })?;
    parse_templates(&text, path)
}

/// Only comments and blank lines: the seed's "empty template".
fn is_blank_yaml(text: &str) -> bool {
    text.lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with('#') || l == "---" || l == "{}"
    })
}

/// serde_yaml's message without its own position suffix, plus a "did you
/// mean" for a misspelt field.
fn explain(raw: &str) -> String {
    let msg = match raw.rfind(" at line ") {
        Some(i) => &raw[..i],
        None => raw,
    };
    let mut msg = msg.to_owned();
    if let Some(at) = msg.find("unknown field `") {
        let rest = &msg[at + "unknown field `".len()..];
        if let Some(end) = rest.find('`') {
            let unknown = rest[..end].to_owned();
            if let Some(best) = closest(&unknown, FIELD_NAMES) {
                // The suggestion replaces serde's list of all 22 fields.
                msg.truncate(at);
                msg.push_str(&format!(
                    "unknown field `{unknown}`; did you mean `{best}`?"
                ));
            }
        }
    }
    msg
}

/// Every template key, for suggestions.
pub const FIELD_NAMES: &[&str] = &[
    "run",
    "log",
    "finish",
    "sleep",
    "logsleep",
    "restart",
    "enable",
    "onupgrade",
    "default_log",
    "host_log",
    "default_finish",
    "user",
    "group",
    "env",
    "secret_env",
    "depends",
    "configtest",
    "skip_if_exists",
    "skip_if_env",
    "stderr_to_log",
    "binary",
    "setup",
    "script",
    "hardening",
    "layout",
];

/// The candidate nearest to `word` by edit distance, if it is close enough
/// to be a likely typo.
pub fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1) + 1;
    candidates
        .iter()
        .map(|c| (levenshtein(word, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The normalised YAML of `templates`: defaults left out, keys sorted.
pub fn to_yaml(templates: &Templates) -> String {
    if templates.is_empty() {
        return "{}\n".to_owned();
    }
    serde_yaml::to_string(templates).expect("templates always serialise")
}

/// A hint about a string command that plainly does not stay in the
/// foreground (runsv would restart it forever).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The service.
    pub service: String,
    /// What looks wrong and what to do.
    pub message: String,
}

/// Looks for commands that put themselves in the background.
pub fn lint(templates: &Templates) -> Vec<Warning> {
    let mut out = Vec::new();
    for (name, t) in templates {
        for (field, cmd) in [("run", &t.run), ("log", &t.log)] {
            if let Some(why) = cmd.as_ref().and_then(backgrounds_itself) {
                out.push(Warning {
                    service: name.clone(),
                    message: format!(
                        "`{field}` {why}: runsv would see it exit and restart it forever; \
                         run it in the foreground"
                    ),
                });
            }
        }
    }
    out
}

fn backgrounds_itself(cmd: &Command) -> Option<String> {
    let words: Vec<&str> = match cmd {
        Command::Shell(line) => {
            let t = line.trim_end();
            if t.ends_with('&') && !t.ends_with("&&") {
                return Some("ends with `&`".into());
            }
            t.split_whitespace().collect()
        }
        Command::Argv(v) => v.iter().map(String::as_str).collect(),
    };
    let prog = words.first().map(|p| p.rsplit('/').next().unwrap_or(p))?;
    if matches!(prog, "daemonize" | "daemon" | "start-stop-daemon" | "nohup") {
        return Some(format!("starts with `{prog}`"));
    }
    for w in &words[1..] {
        if matches!(
            *w,
            "--daemon" | "--daemonize" | "--background" | "--fork" | "-daemon"
        ) {
            return Some(format!("passes `{w}`"));
        }
        // `-d` means "daemonize" for many classic daemons, but "debug" or a
        // directory for others; only warn for the well-known ones.
        if *w == "-d"
            && matches!(
                prog,
                "memcached" | "dnsmasq" | "named" | "rsync" | "vsftpd" | "unbound" | "nscd"
            )
        {
            return Some(format!("passes `-d`, which makes {prog} detach"));
        }
        if matches!(*w, "daemonize=yes" | "daemonize" | "--daemonize=yes") {
            return Some(format!("passes `{w}`"));
        }
    }
    if prog == "redis-server" && words.contains(&"yes") {
        return Some("may set `daemonize yes`".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Templates, TemplateError> {
        parse_templates(text, Path::new("t.yaml"))
    }

    #[test]
    fn list_and_string_commands_both_parse() {
        let t = parse("a: {run: [x, -y]}\nb: {run: mysqld -fg, sleep: 30}\n").unwrap();
        assert_eq!(t["a"].run, Some(Command::argv(["x", "-y"])));
        assert_eq!(t["b"].run, Some(Command::Shell("mysqld -fg".into())));
        assert_eq!(t["b"].sleep, Some(30));
    }

    #[test]
    fn a_service_declared_twice_is_an_error_with_its_position() {
        let e = parse("a: {run: [x]}\na: {run: [y]}\n").unwrap_err();
        assert!(e.message.contains("declared twice"), "{e}");
        assert_eq!(e.line, Some(2), "{e}");
    }

    #[test]
    fn a_field_given_twice_is_an_error() {
        let e = parse("a:\n  run: [x]\n  run: [y]\n").unwrap_err();
        assert!(e.message.contains("duplicate field `run`"), "{e}");
    }

    #[test]
    fn negative_sleep_is_refused() {
        let e = parse("a: {run: [x], sleep: -1}\n").unwrap_err();
        assert!(e.message.contains("negative"), "{e}");
    }

    #[test]
    fn numbers_in_argv_must_be_quoted() {
        let e = parse("a: {run: [redis, -p, 0x10]}\n").unwrap_err();
        assert!(e.message.contains("quote it"), "{e}");
    }

    #[test]
    fn bad_names_are_refused() {
        for name in ["..", ".x", "a/b", "-x", "a b", "a\nb", "", "é"] {
            assert!(validate_service_name(name).is_err(), "{name:?}");
        }
        for name in ["a", "getty@tty1", "x.y_z+w-1"] {
            assert!(validate_service_name(name).is_ok(), "{name:?}");
        }
    }

    #[test]
    fn empty_documents_mean_no_services() {
        assert!(parse("").unwrap().is_empty());
        assert!(parse("# nothing\n").unwrap().is_empty());
        assert!(parse("{}\n").unwrap().is_empty());
    }

    #[test]
    fn normalised_yaml_reads_back_equal() {
        let t = parse(
            "a: {run: [x, 'y z'], env: {A: b}, onupgrade: reload, enable: false}\nb: {run: sh -c x}\n",
        )
        .unwrap();
        assert_eq!(parse(&to_yaml(&t)).unwrap(), t);
    }

    #[test]
    fn lint_spots_backgrounding() {
        let t = parse("a: {run: 'mysqld &'}\nb: {run: [memcached, -d]}\nc: {run: [x]}\n").unwrap();
        let w = lint(&t);
        assert_eq!(w.len(), 2, "{w:?}");
    }
}
