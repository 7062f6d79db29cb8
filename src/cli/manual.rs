//! The closing sections of servicebuilder(1) — exit status, files,
//! environment, examples, limits, compatibility, see also — written once,
//! as data, and rendered two ways: as real man sections (`.SH`, `.TP`) in
//! the generated page, and as text wrapped to 80 columns after `--help`.
//! Neither form is wrapped by hand, so neither shows stray line breaks.

/// One paragraph of a section.
pub enum Item {
    /// A term and what it means (`.TP` in the man page).
    Term(&'static str, &'static str),
    /// Running text.
    Text(&'static str),
    /// A command line shown as is, with what it does.
    Example(&'static str, &'static str),
}

/// A man page section.
pub struct Section {
    /// Its title, upper case.
    pub title: &'static str,
    /// Its paragraphs.
    pub items: &'static [Item],
}

use Item::{Example, Term, Text};

/// The sections, in the order the man page gives them.
pub const SECTIONS: &[Section] = &[
    Section {
        title: "EXIT STATUS",
        items: &[
            Term("0", "Success."),
            Term(
                "1",
                "Failure: a bad template (the message names the file, line and column), a \
                 refused change, an I/O error; for rebuild, at least one file failed (the \
                 others were still rebuilt).",
            ),
            Term("2", "Usage error."),
            Term(
                "3",
                "runsv is not running for the service (status, start, stop, restart, once).",
            ),
            Term(
                "4",
                "Timed out waiting for the wanted state: start, once, activate and enable \
                 --now when the service does not come up; stop and restart with --no-kill, \
                 or while the service's ./finish still runs (it is never killed: runsv would \
                 run it twice).",
            ),
            Term(
                "5",
                "stop or restart had to kill the service after the timeout; the action \
                 itself completed.",
            ),
            Term(
                "6",
                "supervise/ok is missing: no runsv has ever supervised the service.",
            ),
        ],
    },
    Section {
        title: "FILES",
        items: &[
            Term(
                "/etc/servicebuilder.d/NAME.yaml",
                "Template sets (the config root). A set whose templates carry secrets \
                 (secret_env) is written mode 0600.",
            ),
            Term(
                "/etc/sv/SERVICE/",
                "Staged service directories (the staging root). The directory itself is \
                 locked by activate, rebuild and prune.",
            ),
            Term(
                "/etc/service/SERVICE",
                "Links that runsvdir follows (the runit root). A .SERVICE link beside them \
                 is the admin's disable mark, as for runit-helper and update-service: \
                 activate and rebuild leave such a service unlinked.",
            ),
            Term(
                "/usr/share/servicebuilder/PKG.yaml",
                "Services declared by installed packages; prune never removes them.",
            ),
            Term(
                "SERVICE/.meta/servicebuilder",
                "The ownership marker: prune only removes links to, and directories with, \
                 this marker.",
            ),
            Term(
                "STAGING/.kept/SERVICE.STAMP/",
                "Log history and files an admin added to a staged service, moved here \
                 (never deleted) by prune, and by activate when a log service is removed.",
            ),
            Term(
                "/var/log/runit/SERVICE/",
                "The standard log service's directory (default_log), made by activate.",
            ),
        ],
    },
    Section {
        title: "ENVIRONMENT",
        items: &[
            Term(
                "SERVICEBUILDER_CONFIG_ROOT, SERVICEBUILDER_STAGING_ROOT, SERVICEBUILDER_RUNIT_ROOT",
                "The three roots, when -c, -s and -d are not given.",
            ),
            Term(
                "SERVICEBUILDER_INTERPRETER, SERVICEBUILDER_FINISH_DEFAULT, SERVICEBUILDER_LOG_ROOT",
                "What rendered scripts name, for hosts without the runtime installed.",
            ),
            Term(
                "NO_COLOR",
                "When set and not empty, status prints no colour, even on a terminal.",
            ),
            Term(
                "COLUMNS",
                "The width of the status table (default: the terminal's).",
            ),
        ],
    },
    Section {
        title: "EXAMPLES",
        items: &[
            Example(
                "servicebuilder activate web web.yaml",
                "Write /etc/servicebuilder.d/web.yaml, stage its services in /etc/sv, link \
                 them, and wait until they run.",
            ),
            Example(
                "servicebuilder status",
                "A table of every service, on a terminal; sv status's lines in a pipe.",
            ),
            Example(
                "servicebuilder status --format metrics > /var/lib/prom/runit.prom",
                "Metrics for node_exporter's textfile collector (with --metrics-state FILE, \
                 restarts are counted across calls).",
            ),
            Example(
                "servicebuilder disable web --now",
                "Stop web and keep it off across package upgrades (a .web link).",
            ),
            Example("servicebuilder log web -f", "Follow web's log."),
            Example(
                "servicebuilder -c /etc/servicebuilder.d -s /var/service-stage -d /var/service",
                "The original servicebuilder's usage: rebuild every service of every file.",
            ),
        ],
    },
    Section {
        title: "LIMITS",
        items: &[Text(
            "A template file is at most 16 MiB and declares at most 100,000 services (more \
             is refused with an error naming the file); YAML aliases that would expand \
             without bound are refused at the first anchor. Measured peaks: 42 MB of \
             memory for a 10 MB file, 166 MB for 100,000 services.",
        )],
    },
    Section {
        title: "COMPATIBILITY",
        items: &[
            Text(
                "servicebuilder -c CONF_DIR -s STAGING -d INSTALL with no subcommand \
                 rebuilds every service of every *.yaml file in CONF_DIR, as the original \
                 servicebuilder did; rebuild is the same with a name, and --prune then \
                 removes what no file declares. Without a subcommand and without any root \
                 named, it refuses (exit 2) instead of rebuilding the system's roots. Files \
                 not ending in .yaml are ignored. run, log and finish may be strings (shell \
                 command lines that get exec in front, as the original wrote them) or lists \
                 (exact argvs, quoted byte for byte).",
            ),
            Text(
                "Differences from the original: one bad file is reported (file, line, \
                 column) and the exit status is 1, but the other files are still rebuilt; \
                 unknown keys and duplicated keys are errors instead of being ignored; files \
                 are only rewritten when their content changes; a bare svlogd log command \
                 (the original README's log: svlogd -tt) logs into ./main, which is \
                 created; sleep and logsleep default to 2 seconds; stderr goes to the log \
                 (exec 2>&1) unless stderr_to_log: false; prune only ever removes what \
                 servicebuilder made, and keeps log history and an admin's files under \
                 STAGING/.kept/; relative roots are made absolute; a staging root inside \
                 the runit root is refused; check warns about commands that put themselves \
                 in the background.",
            ),
        ],
    },
    Section {
        title: "SEE ALSO",
        items: &[Text(
            "servicebuilder.yaml(5), dh_servicebuilder(1), servicebuilder-invoke-run(8), \
             servicebuilder-finish-default(8), runsvdir(8), runsv(8), sv(8), chpst(8), \
             svlogd(8)",
        )],
    },
];

/// Escapes text for roff: backslashes, and a leading `.` or `'` that
/// would start a request; `-` becomes a real minus in option-like words.
fn roff(text: &str) -> String {
    let mut s = text.replace('\\', "\\e").replace('-', "\\-");
    if s.starts_with('.') || s.starts_with('\'') {
        s.insert_str(0, "\\&");
    }
    s
}

/// The sections as man page source.
pub fn to_roff() -> String {
    let mut out = String::new();
    for section in SECTIONS {
        out.push_str(&format!(".SH \"{}\"\n", section.title));
        for (i, item) in section.items.iter().enumerate() {
            // A paragraph break right after .SH is one too many.
            let pp = if i == 0 { "" } else { ".PP\n" };
            match item {
                Term(term, text) => {
                    out.push_str(&format!(".TP\n.B {}\n{}\n", roff(term), roff(text)))
                }
                Text(text) => out.push_str(&format!("{pp}{}\n", roff(text))),
                Example(cmd, text) => out.push_str(&format!(
                    "{pp}{}\n.RS 4\n.EX\n{}\n.EE\n.RE\n",
                    roff(text),
                    roff(cmd)
                )),
            }
        }
    }
    out
}

/// Wraps `text` to `width` columns, each line starting with `indent`.
fn wrap(text: &str, indent: usize, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent + line.len() + 1 + word.len() > width {
            out.push_str(&" ".repeat(indent));
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(&" ".repeat(indent));
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The sections as the text after `--help`, wrapped to 80 columns.
pub fn to_text() -> String {
    let mut out = String::new();
    for (i, section) in SECTIONS.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(section.title);
        out.push('\n');
        for item in section.items {
            match item {
                Term(term, text) => {
                    out.push_str(&wrap(term, 2, 80));
                    out.push_str(&wrap(text, 6, 80));
                }
                Text(text) => {
                    if !out.ends_with(&format!("{}\n", section.title)) {
                        out.push('\n');
                    }
                    out.push_str(&wrap(text, 2, 80));
                }
                Example(cmd, text) => {
                    out.push_str(&format!("  {cmd}\n"));
                    out.push_str(&wrap(text, 6, 80));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_text_fits_80_columns() {
        for line in to_text().lines() {
            assert!(line.len() <= 80, "{line:?}");
        }
    }

    #[test]
    fn roff_escapes_what_roff_would_read() {
        assert_eq!(roff(".kept"), "\\&.kept");
        assert_eq!(roff("a\\b --now"), "a\\eb \\-\\-now");
    }
}
