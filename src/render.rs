//! Template -> the files of one service directory. Pure: no I/O, so the
//! same output serves `servicebuilder stage`, `render` and
//! `dh_servicebuilder`.

use std::path::PathBuf;

use crate::shell::{join, quote};
use crate::template::{Command, RestartPolicy, ServiceTemplate};

/// The interpreter named in every rendered `run` file.
pub const INVOKE_RUN: &str = "/usr/lib/servicebuilder/invoke-run";
/// The finish helper.
pub const FINISH_DEFAULT: &str = "/usr/lib/servicebuilder/finish-default";
/// Where the standard log service writes (one directory per service).
pub const LOG_ROOT: &str = "/var/log/runit";

/// The standard log service's user and group (dh-runit's logscript).
pub const LOG_USER: &str = "_runit-log";
/// See [`LOG_USER`].
pub const LOG_GROUP: &str = "adm";

/// Seconds a run script waits for a dependency's runsv to appear before
/// `sv start` (which itself waits up to 7 s for the dependency to run).
pub const DEPENDENCY_WAIT: u32 = 30;

/// Where rendered scripts point to. Tests and hosts without the runtime
/// installed may render with other paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderOptions {
    /// The `run` shebang's interpreter.
    pub interpreter: String,
    /// The finish helper.
    pub finish_default: String,
    /// The parent of the standard log service's directories.
    pub log_root: String,
    /// The runit root the services are linked into, where a run script
    /// finds its `depends`. `None` (packages): `$SVDIR`, else
    /// `/etc/service`, as `sv` itself looks.
    pub runit_root: Option<String>,
    /// Services rendered for the host: a template without a log gets the
    /// original servicebuilder's log service (see
    /// [`ServiceTemplate::host_log`]). Packages: false.
    pub host_log: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            interpreter: INVOKE_RUN.into(),
            finish_default: FINISH_DEFAULT.into(),
            log_root: LOG_ROOT.into(),
            runit_root: None,
            host_log: false,
        }
    }
}

impl RenderOptions {
    /// The paths of an installed Debian system.
    pub fn debian() -> Self {
        Self::default()
    }
}

/// One entry of a rendered service directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Relative to the service directory.
    pub path: PathBuf,
    /// What to create there.
    pub kind: EntryKind,
}

/// What an [`Entry`] is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A directory with this mode.
    Dir {
        /// Permission bits.
        mode: u32,
    },
    /// A file with these contents and mode.
    File {
        /// The bytes.
        contents: Vec<u8>,
        /// Permission bits.
        mode: u32,
    },
    /// A symbolic link.
    Symlink {
        /// The link's target.
        target: PathBuf,
    },
}

impl Entry {
    fn dir(path: &str, mode: u32) -> Self {
        Entry {
            path: path.into(),
            kind: EntryKind::Dir { mode },
        }
    }
    fn file(path: impl Into<PathBuf>, contents: impl Into<Vec<u8>>, mode: u32) -> Self {
        Entry {
            path: path.into(),
            kind: EntryKind::File {
                contents: contents.into(),
                mode,
            },
        }
    }

    /// The contents, for a file.
    pub fn contents(&self) -> Option<&[u8]> {
        match &self.kind {
            EntryKind::File { contents, .. } => Some(contents),
            _ => None,
        }
    }
}

/// Renders the service directory for `name`. Directories come before their
/// contents. The template must have passed [`ServiceTemplate::validate`].
///
/// ```
/// use servicebuilder::render::{render_service, RenderOptions};
/// use servicebuilder::template::{Command, ServiceTemplate};
/// let t = ServiceTemplate::new(Command::argv(["redis-server", "--port", "6603"]));
/// let entries = render_service("redis", &t, &RenderOptions::default());
/// let run = entries.iter().find(|e| e.path.as_os_str() == "run").unwrap();
/// let text = String::from_utf8(run.contents().unwrap().to_vec()).unwrap();
/// assert!(text.starts_with("#!/usr/lib/servicebuilder/invoke-run\n"));
/// assert!(text.ends_with("exec redis-server --port 6603\n"));
/// ```
pub fn render_service(name: &str, t: &ServiceTemplate, opts: &RenderOptions) -> Vec<Entry> {
    let mut out = vec![Entry::dir("", 0o755)];
    out.push(Entry::file("run", run_script(name, t, opts), 0o755));
    if let Some(finish) = finish_script(t, opts) {
        out.push(Entry::file("finish", finish, 0o755));
    }
    if !t.hardening.is_empty() {
        out.push(Entry::file("xchopts", t.hardening.xchopts(name), 0o644));
    }
    if t.restart == RestartPolicy::Never {
        out.push(Entry::file("down", Vec::new(), 0o644));
    }
    if !t.env.is_empty() {
        let (dir_mode, file_mode) = if t.secret_env {
            (0o700, 0o600)
        } else {
            (0o755, 0o644)
        };
        out.push(Entry::dir("conf", dir_mode));
        for (var, value) in &t.env {
            out.push(Entry::file(
                PathBuf::from("conf").join(var),
                envdir_value(value),
                file_mode,
            ));
        }
    }
    if let Some(log) = log_script(name, t, opts) {
        out.push(Entry::dir("log", 0o755));
        out.push(Entry::file("log/run", log, 0o755));
        if !t.default_log {
            out.push(Entry::dir("log/main", 0o755));
        }
    }
    let bin = t.binary_path();
    if bin.is_some() || t.onupgrade.is_noreplace() {
        out.push(Entry::dir(".meta", 0o755));
    }
    if let Some(bin) = bin {
        out.push(Entry::file(".meta/bin", format!("{bin}\n"), 0o644));
    }
    if t.onupgrade.is_noreplace() {
        out.push(Entry::file(".meta/noreplace", Vec::new(), 0o644));
    }
    out
}

/// chpst keeps the first line of an envdir file and turns NUL into newline,
/// so a newline in a value is written as NUL and comes back as itself.
/// A value is never empty on disk: an empty file would unset the variable.
pub fn envdir_value(value: &str) -> Vec<u8> {
    let mut bytes: Vec<u8> = value
        .bytes()
        .map(|b| if b == b'\n' { 0 } else { b })
        .collect();
    bytes.push(b'\n');
    bytes
}

fn run_script(name: &str, t: &ServiceTemplate, opts: &RenderOptions) -> String {
    let mut s = format!("#!{}\n", opts.interpreter);
    s.push_str(&format!(
        "# {name}: generated by servicebuilder; change the template, not this file.\n"
    ));
    if t.stderr_to_log.unwrap_or(true) {
        s.push_str("exec 2>&1\n");
    }
    for path in &t.skip_if_exists {
        s.push_str(&format!("[ ! -e {} ] || exit 161\n", quote(path)));
    }
    for (var, value) in &t.skip_if_env {
        s.push_str(&format!(
            "[ \"${{{var}:-}}\" != {} ] || exit 161\n",
            quote(value)
        ));
    }
    for dep in &t.depends {
        // At boot, and when a package installs both services, the
        // dependency's runsv may not exist yet: `sv start` would fail at
        // once ("unable to open supervise/ok") and exit 170 would keep this
        // service down for good. So wait for its runsv first, bounded.
        // A host activation names its own runit root: `sv start DEP` would
        // look in /etc/service, which may hold another DEP or none at all.
        let (ok, target) = match &opts.runit_root {
            Some(root) => {
                let dir = quote(&format!("{}/{dep}", root.trim_end_matches('/')));
                (format!("{dir}/supervise/ok"), dir)
            }
            None => (
                format!("\"${{SVDIR:-/etc/service}}\"/{}/supervise/ok", quote(dep)),
                quote(dep),
            ),
        };
        s.push_str(&format!(
            "i=0; until [ -p {ok} ] || [ $i -ge {DEPENDENCY_WAIT} ]; do sleep 1; i=$((i+1)); done\n"
        ));
        s.push_str(&format!("sv start {target} || exit 170\n"));
    }
    if let Some(test) = &t.configtest {
        let chpst = chpst_prefix(t);
        match test {
            Command::Argv(argv) => s.push_str(&format!("{chpst}{} || exit 162\n", join(argv))),
            // The whole line runs as the user: `chpst -u U a && b` would
            // run `b`, and every redirection, as root.
            Command::Shell(line) if !chpst.is_empty() => s.push_str(&format!(
                "{chpst}/bin/sh -c {} || exit 162\n",
                quote(line.trim())
            )),
            Command::Shell(line) => s.push_str(&format!("{} || exit 162\n", line.trim())),
        }
    }
    if let Some(setup) = &t.setup {
        s.push_str(setup);
        if !setup.ends_with('\n') {
            s.push('\n');
        }
    }
    let sleep = t.sleep_secs();
    if sleep > 0 {
        s.push_str(&format!("sleep {sleep}\n"));
    }
    match (&t.script, &t.run) {
        (Some(script), _) => {
            s.push_str(script);
            if !script.ends_with('\n') {
                s.push('\n');
            }
        }
        (None, Some(run)) => {
            s.push_str(&exec_line(&run_prefix(t), run));
        }
        (None, None) => {}
    }
    s
}

/// What the daemon is started through: with `hardening`, Debian's
/// `${XCHPST:-…}` idiom (invoke-run exports `XCHPST="xchpst --file
/// DIR/xchopts"` when xchpst is installed; without it, chpst or nothing);
/// else [`chpst_prefix`].
fn run_prefix(t: &ServiceTemplate) -> String {
    if t.hardening.is_empty() {
        return chpst_prefix(t);
    }
    match chpst_prefix(t).strip_prefix("chpst ") {
        Some(user) => format!("${{XCHPST:-chpst}} {user}"),
        // Unquoted on purpose: XCHPST is a command and its arguments.
        None => "${XCHPST:-} ".into(),
    }
}

/// `chpst -u user[:group] ` when the template names a user.
fn chpst_prefix(t: &ServiceTemplate) -> String {
    match (&t.user, &t.group) {
        (Some(u), Some(g)) => format!("chpst -u {} ", quote(&format!("{u}:{g}"))),
        (Some(u), None) => format!("chpst -u {} ", quote(u)),
        _ => String::new(),
    }
}

fn exec_line(prefix: &str, cmd: &Command) -> String {
    match cmd {
        // `--` ends chpst's options, so a program named `-x` stays a program
        // (not after a bare `${XCHPST:-}`: empty, it would be exec's).
        Command::Argv(argv) if prefix == "${XCHPST:-} " => {
            format!("exec {prefix}{}\n", join(argv))
        }
        Command::Argv(argv) if !prefix.is_empty() => format!("exec {prefix}-- {}\n", join(argv)),
        Command::Argv(argv) => format!("exec {}\n", join(argv)),
        // The original servicebuilder's string form: `exec` is put in front.
        Command::Shell(line) if prefix.is_empty() => format!("exec {}\n", line.trim()),
        // With a user, the shell that reads the line is the user's too, so
        // its redirections and every command in it run with the user's
        // rights, not root's.
        Command::Shell(line) => format!(
            "exec {prefix}/bin/sh -c {}\n",
            quote(&format!("exec {}", line.trim()))
        ),
    }
}

fn finish_script(t: &ServiceTemplate, opts: &RenderOptions) -> Option<String> {
    let line = if t.uses_default_finish() {
        format!("exec {} \"$@\"\n", quote(&opts.finish_default))
    } else {
        match t.finish.as_ref()? {
            Command::Argv(argv) => format!("exec {} \"$@\"\n", join(argv)),
            // runsv's two arguments (exit code, signal) follow the line,
            // as servicebuilder.yaml(5) promises for both forms.
            Command::Shell(line) => format!("exec {} \"$@\"\n", line.trim()),
        }
    };
    Some(format!("#!/bin/sh\n{line}"))
}

fn log_script(name: &str, t: &ServiceTemplate, opts: &RenderOptions) -> Option<String> {
    if t.default_log {
        // As dh-runit's logscript: the directory belongs to the log user and
        // is fixed at every start, because the package ships it as root's.
        let dir = quote(&format!("{}/{name}", opts.log_root));
        // dh-runit's logscript has no pause; one asked for is honoured.
        let sleep = match t.logsleep {
            Some(n) if n > 0 => format!("sleep {n}\n"),
            _ => String::new(),
        };
        return Some(format!(
            "#!/bin/sh\n{sleep}chown {LOG_USER}:{LOG_GROUP} {dir}\nchmod 750 {dir}\n\
             exec chpst -u {LOG_USER} svlogd -tt {dir}\n"
        ));
    }
    if t.log.is_none() && opts.host_log && t.host_log {
        // The original servicebuilder's default log, as an unprivileged
        // user who owns ./main (fixed at every start, as dh-runit's
        // logscript does for its directory).
        let sleep = t.logsleep_secs();
        let sleep = if sleep > 0 {
            format!("sleep {sleep}\n")
        } else {
            String::new()
        };
        return Some(format!(
            "#!/bin/sh\n{sleep}chown {LOG_USER}:{LOG_GROUP} ./main\nchmod 750 ./main\n\
             exec chpst -u {LOG_USER} svlogd -tt ./main\n"
        ));
    }
    let log = t.log.as_ref()?;
    let mut s = String::from("#!/bin/sh\n");
    let sleep = t.logsleep_secs();
    if sleep > 0 {
        s.push_str(&format!("sleep {sleep}\n"));
    }
    s.push_str(&exec_line("", &with_log_dir(log)));
    Some(s)
}

/// The original servicebuilder's example says `log: svlogd -tt`, which
/// svlogd refuses without a directory: a bare svlogd logs into `./main`
/// (the directory staging creates).
fn with_log_dir(log: &Command) -> Command {
    let is_bare_svlogd = |words: &[&str]| {
        words
            .first()
            .is_some_and(|p| p.rsplit('/').next() == Some("svlogd"))
            && words[1..].iter().all(|w| w.starts_with('-'))
    };
    match log {
        Command::Argv(v) if is_bare_svlogd(&v.iter().map(String::as_str).collect::<Vec<_>>()) => {
            let mut v = v.clone();
            v.push("./main".into());
            Command::Argv(v)
        }
        Command::Shell(line) if is_bare_svlogd(&line.split_whitespace().collect::<Vec<_>>()) => {
            Command::Shell(format!("{} ./main", line.trim()))
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::parse_templates;

    fn render(yaml: &str) -> Vec<Entry> {
        let t = parse_templates(yaml, "t.yaml".as_ref()).unwrap();
        let (name, t) = t.iter().next().unwrap();
        render_service(name, t, &RenderOptions::default())
    }

    fn text(entries: &[Entry], path: &str) -> String {
        let e = entries
            .iter()
            .find(|e| e.path.as_os_str() == path)
            .unwrap_or_else(|| panic!("no {path} in {entries:?}"));
        String::from_utf8(e.contents().unwrap().to_vec()).unwrap()
    }

    #[test]
    fn the_debian_idioms_become_runscript_lines_in_order() {
        let e = render(
            "web:\n  run: [/usr/sbin/webd, -f]\n  user: www-data\n  depends: [db]\n  \
             configtest: [/usr/sbin/webd, -t]\n  skip_if_exists: [/etc/web/off]\n  sleep: 0\n",
        );
        assert_eq!(
            text(&e, "run"),
            "#!/usr/lib/servicebuilder/invoke-run\n\
             # web: generated by servicebuilder; change the template, not this file.\n\
             exec 2>&1\n\
             [ ! -e /etc/web/off ] || exit 161\n\
             i=0; until [ -p \"${SVDIR:-/etc/service}\"/db/supervise/ok ] || [ $i -ge 30 ]; do sleep 1; i=$((i+1)); done\n\
             sv start db || exit 170\n\
             chpst -u www-data /usr/sbin/webd -t || exit 162\n\
             exec chpst -u www-data -- /usr/sbin/webd -f\n"
        );
        assert_eq!(text(&e, ".meta/bin"), "/usr/sbin/webd\n");
        assert_eq!(
            text(&e, "finish"),
            "#!/bin/sh\nexec /usr/lib/servicebuilder/finish-default \"$@\"\n"
        );
    }

    #[test]
    fn the_string_form_gets_exec_in_front_and_the_seed_sleep() {
        let e = render("mysql: {run: mysqld -fg}\n");
        assert!(text(&e, "run").ends_with("sleep 2\nexec mysqld -fg\n"));
    }

    #[test]
    fn restart_never_writes_a_down_file() {
        let e = render("a: {run: [x], restart: never}\n");
        assert!(e.iter().any(|e| e.path.as_os_str() == "down"));
        let e = render("a: {run: [x]}\n");
        assert!(!e.iter().any(|e| e.path.as_os_str() == "down"));
    }

    #[test]
    fn env_values_survive_chpst_rules() {
        assert_eq!(envdir_value("a\nb"), b"a\0b\n");
        assert_eq!(envdir_value(""), b"\n");
    }

    #[test]
    fn a_custom_log_gets_its_directory() {
        let e = render("a: {run: [x], log: [svlogd, -tt, ./main], logsleep: 5}\n");
        assert_eq!(
            text(&e, "log/run"),
            "#!/bin/sh\nsleep 5\nexec svlogd -tt ./main\n"
        );
        assert!(e.iter().any(|e| e.path.as_os_str() == "log/main"));
    }

    #[test]
    fn a_bare_svlogd_logs_into_main() {
        let e = render("sshd: {run: sshd -fg, log: svlogd -tt, logsleep: 5}\n");
        assert_eq!(
            text(&e, "log/run"),
            "#!/bin/sh\nsleep 5\nexec svlogd -tt ./main\n"
        );
    }

    #[test]
    fn hardening_writes_xchopts_and_starts_the_daemon_through_xchpst() {
        let e = render(
            "web:\n  run: [/usr/sbin/webd, -f]\n  user: www-data\n  sleep: 0\n  hardening:\n    \
             private_tmp: true\n    read_only_system: true\n    no_new_privileges: true\n    \
             capabilities: [cap_net_bind_service]\n    umask: \"0027\"\n    \
             directories: [run, state]\n",
        );
        assert_eq!(
            text(&e, "xchopts"),
            "# web: generated by servicebuilder from `hardening`.\nprivate-tmp\nro-sys\n\
             no-new-privs\ncap-bs-keep cap_net_bind_service\numask 0027\napp web\nrun-dir\n\
             state-dir\n"
        );
        assert!(
            text(&e, "run").ends_with("exec ${XCHPST:-chpst} -u www-data -- /usr/sbin/webd -f\n"),
            "{}",
            text(&e, "run")
        );
        let e = render("a: {run: [/bin/a], sleep: 0, hardening: {private_tmp: true}}\n");
        assert!(text(&e, "run").ends_with("exec ${XCHPST:-} /bin/a\n"));
        let e = render("a: {run: [/bin/a]}\n");
        assert!(!e.iter().any(|e| e.path.as_os_str() == "xchopts"));
    }

    #[test]
    fn secret_env_is_private() {
        let e = render("a: {run: [x], env: {K: v}, secret_env: true}\n");
        let modes: Vec<_> = e
            .iter()
            .filter(|e| e.path.starts_with("conf"))
            .map(|e| match e.kind {
                EntryKind::Dir { mode } | EntryKind::File { mode, .. } => mode,
                EntryKind::Symlink { .. } => 0,
            })
            .collect();
        assert_eq!(modes, [0o700, 0o600]);
    }
}
