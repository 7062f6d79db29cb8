//! Command-line and environment handling, as Dh_Lib's `init()` and
//! Dh_Getopt's `parseopts()` (debhelper 13.11) do it.
//!
//! Parsing happens in three rounds, all into the same state:
//! `DH_INTERNAL_OPTIONS` (split on `\x1e`; the packages it selects turn into
//! exclusions of all the others, so a `-p` on the command line can only
//! narrow the set), `DH_OPTIONS` (split on whitespace; unknown options only
//! warn) and the real arguments (unknown options are fatal from compat 8).
//!
//! Getopt::Long is configured with `bundling` and `no_ignore_case`; long
//! options may be abbreviated only when debian/control exists and the compat
//! level is 12 or lower. `-O=OPT` values (what `dh` passes on) are first
//! parsed as a dry run and applied only if that succeeds, so unknown ones are
//! ignored silently. Non-option words are collected in order; the words after
//! `--` go to the "U_PARAMS", except that they stay the positional arguments
//! when no non-option word came before `--` (a Dh_Lib quirk kept on purpose:
//! `dh_runit -v -- svc/x name=y` installs `svc/x`).

use std::collections::BTreeMap;

use super::messages::{DhError, print_error, warning};

/// A snapshot of the environment, so the logic can be run in-process with a
/// made-up environment (tests) as well as with the real one.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    /// The process environment (non-UTF-8 values are converted lossily).
    pub fn from_process() -> Env {
        Env {
            vars: std::env::vars_os()
                .map(|(k, v)| {
                    (
                        k.to_string_lossy().into_owned(),
                        v.to_string_lossy().into_owned(),
                    )
                })
                .collect(),
        }
    }

    /// An environment made of the given pairs only.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Env {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The value of a variable, if set (possibly empty).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars.get(key).map(String::as_str)
    }

    /// Set, non-empty.
    pub fn is_nonempty(&self, key: &str) -> bool {
        self.get(key).is_some_and(|v| !v.is_empty())
    }

    /// All variables.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Is `flag` one of the words of `DEB_BUILD_OPTIONS`?
    pub fn build_option(&self, flag: &str) -> bool {
        self.get("DEB_BUILD_OPTIONS")
            .is_some_and(|v| v.split_whitespace().any(|w| w == flag))
    }
}

/// The package lists `-a`, `-i` and `-p` draw from (Dh_Lib's `getpackages`).
#[derive(Debug, Clone, Default)]
pub struct PackageLists {
    /// Every `Package:` in debian/control.
    pub all: Vec<String>,
    /// Packages enabled by architecture and profiles.
    pub both: Vec<String>,
    /// The arch-dependent ones among `both`.
    pub arch: Vec<String>,
    /// The `Architecture: all` ones among `both`.
    pub indep: Vec<String>,
}

/// The result of option parsing (Dh_Lib's `%dh`).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `-v`, or `DH_VERBOSE` non-empty (even `0`).
    pub verbose: bool,
    /// `--no-act` or `DH_NO_ACT`.
    pub no_act: bool,
    /// `DH_QUIET` or `terse` in `DEB_BUILD_OPTIONS` (and not verbose).
    pub quiet: bool,
    /// `--remaining-packages`.
    pub remaining_packages: bool,
    /// `-P`/`--tmpdir`.
    pub tmpdir: Option<String>,
    /// `--mainpackage`.
    pub mainpackage: Option<String>,
    /// `--name`: changes the pkgfile names looked up.
    pub name: Option<String>,
    /// Packages selected by `-a`/`-i`/`-p`, in order, possibly repeated.
    pub dopackages: Vec<String>,
    /// `-a` was given.
    pub doarch: bool,
    /// `-i` was given.
    pub doindep: bool,
    /// `-N` and the exclusions implied by `DH_INTERNAL_OPTIONS`.
    pub excluded: Vec<String>,
    /// Packages excluded by `DH_INTERNAL_OPTIONS` only.
    pub internal_excluded: Vec<String>,
    /// `-p` packages, whether enabled or not.
    pub explicitly_requested: Vec<String>,
    /// A `-p` named a package disabled by profile or architecture.
    pub profile_excluded_pkg: bool,
    /// Positional arguments (`path options` pairs for the legacy format).
    pub args: Vec<String>,
    /// Words after `--` (and `-u`), unused by this tool.
    pub u_params: Vec<String>,
    /// `--dh-runit=2.15|2.16`: the dh-runit release whose legacy
    /// behaviour to follow (this tool's own option; see [`super::mode`]).
    pub dh_runit: Option<String>,
    /// Options were parsed (so the "nothing to do" checks apply); false
    /// when the arguments had no dash at all, as in Dh_Lib.
    pub parsed_options: bool,
}

/// What parsing asks the caller to do.
#[derive(Debug)]
pub enum Parsed {
    /// Go on with these options.
    Run(Box<Options>),
    /// `-h`/`--help`: print the usage on stdout and exit 1, as Dh_Getopt does.
    Help,
}

/// The usage text `-h` prints.
pub fn usage() -> String {
    let t = super::messages::TOOL;
    format!(
        "Usage: {t} [options]\n\n  {t} is a debhelper add-on command. See debhelper(7)\n  and {t}(1) for complete usage instructions.\n"
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Flag,
    Value,
    OptionalValue,
}

/// Every option Dh_Getopt knows, by name (long names and one-letter names).
const OPTIONS: &[(&str, Kind)] = &[
    ("v", Kind::Flag),
    ("verbose", Kind::Flag),
    ("no-act", Kind::Flag),
    ("i", Kind::Flag),
    ("indep", Kind::Flag),
    ("a", Kind::Flag),
    ("arch", Kind::Flag),
    ("p", Kind::Value),
    ("package", Kind::Value),
    ("N", Kind::Value),
    ("no-package", Kind::Value),
    ("remaining-packages", Kind::Flag),
    ("dbg-package", Kind::Value),
    ("s", Kind::Flag),
    ("same-arch", Kind::Flag),
    ("n", Kind::Flag),
    ("noscripts", Kind::Flag),
    ("no-scripts", Kind::Flag),
    ("o", Kind::Flag),
    ("onlyscripts", Kind::Flag),
    ("only-scripts", Kind::Flag),
    ("X", Kind::Value),
    ("exclude", Kind::Value),
    ("d", Kind::Flag),
    ("P", Kind::Value),
    ("tmpdir", Kind::Value),
    ("u", Kind::Value),
    ("V", Kind::OptionalValue),
    ("A", Kind::Flag),
    ("all", Kind::Flag),
    ("h", Kind::Flag),
    ("help", Kind::Flag),
    ("mainpackage", Kind::Value),
    ("name", Kind::Value),
    ("error-handler", Kind::Value),
    ("O", Kind::Value),
    // dh_servicebuilder's own: which dh-runit release to follow.
    ("dh-runit", Kind::Value),
];

fn kind_of(name: &str) -> Option<Kind> {
    OPTIONS.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
}

/// The parser state shared by the three rounds.
struct Parser<'a> {
    lists: &'a PackageLists,
    abbreviations: bool,
    compat_level: u32,
    opts: Options,
    help: bool,
    nonoptions: Option<Vec<String>>,
}

/// Parse the environment and the arguments.
///
/// `compat_for_parsing` is the compat level used for the two decisions made
/// while parsing (abbreviations, fatal unknown options); `None` when no level
/// is declared (then abbreviations are off, as Dh_Lib's quiet `compat(12, 1)`
/// answers false when no `debian/control` exists, and unknown options are
/// fatal).
pub fn parse(
    argv: &[String],
    env: &Env,
    lists: &PackageLists,
    control_exists: bool,
    compat_for_parsing: Option<u32>,
) -> Result<Parsed, DhError> {
    let mut p = Parser {
        lists,
        abbreviations: control_exists && compat_for_parsing.is_some_and(|c| c <= 12),
        compat_level: compat_for_parsing.unwrap_or(u32::MAX),
        opts: Options::default(),
        help: false,
        nonoptions: None,
    };

    let fast_path = argv.len() == 1
        && (argv[0] == "-a" || argv[0] == "-i")
        && !env.is_nonempty("DH_OPTIONS")
        && !env.is_nonempty("DH_INTERNAL_OPTIONS");
    let mut leftover: Vec<String> = argv.to_vec();
    let mut extra_leftover: Vec<String> = Vec::new();
    if fast_path {
        // Same effect as the general path; Dh_Lib only skips Getopt here.
        p.add_package(&argv[0][1..], "")?;
        p.opts.parsed_options = true;
        leftover.clear();
    } else if env.is_nonempty("DH_OPTIONS")
        || env.is_nonempty("DH_INTERNAL_OPTIONS")
        || argv.iter().any(|a| a.starts_with('-'))
    {
        p.opts.parsed_options = true;
        if let Some(internal) = env.get("DH_INTERNAL_OPTIONS") {
            let mut words: Vec<String> = internal.split('\x1e').map(str::to_string).collect();
            // Perl's split drops trailing empty fields ("" gives no field).
            while words.last().is_some_and(|w| w.is_empty()) {
                words.pop();
            }
            p.getoptions(&mut words, false, false)?;
            if !p.opts.dopackages.is_empty() {
                for pkg in &lists.all {
                    if !p.opts.dopackages.contains(pkg) {
                        p.opts.excluded.push(pkg.clone());
                        p.opts.internal_excluded.push(pkg.clone());
                    }
                }
            }
            p.opts.dopackages.clear();
            p.opts.doarch = false;
            p.opts.doindep = false;
            extra_leftover = words;
        }
        if let Some(dh_options) = env.get("DH_OPTIONS") {
            let mut words: Vec<String> = dh_options
                .split(super::pkgfile::is_perl_space)
                .filter(|w| !w.is_empty())
                .map(str::to_string)
                .collect();
            if !p.getoptions(&mut words, false, false)? {
                warning("ignored unknown options in DH_OPTIONS");
            }
            extra_leftover = words;
        }
        if !p.getoptions(&mut leftover, false, false)? && p.compat_level > 7 {
            return Err(DhError(
                "unknown option or error during option parsing; aborting".into(),
            ));
        }
        if p.help {
            return Ok(Parsed::Help);
        }
    }
    let mut opts = p.opts;
    if let Some(u) = opts.u_params.first().cloned() {
        opts.u_params = u.split_whitespace().map(str::to_string).collect();
    }
    opts.u_params.extend(leftover.iter().cloned());
    opts.u_params.extend(extra_leftover);
    match p.nonoptions {
        Some(words) => opts.args = words,
        None => opts.args = leftover,
    }

    if env.is_nonempty("DH_VERBOSE") {
        opts.verbose = true;
    } else if env.is_nonempty("DH_QUIET") || env.build_option("terse") {
        opts.quiet = true;
    }
    if env.is_nonempty("DH_NO_ACT") {
        opts.no_act = true;
    }
    Ok(Parsed::Run(Box::new(opts)))
}

impl Parser<'_> {
    /// One Getopt::Long call over `args`. Consumed words are removed; what is
    /// left (the words after `--`) stays in `args`. Returns false when an
    /// option was unknown or malformed (after printing why).
    fn getoptions(
        &mut self,
        args: &mut Vec<String>,
        test: bool,
        quiet: bool,
    ) -> Result<bool, DhError> {
        let mut ok = true;
        let mut tests: Vec<String> = Vec::new();
        let words = std::mem::take(args);
        let mut it = words.into_iter();
        while let Some(word) = it.next() {
            if word == "--" {
                args.extend(it);
                break;
            }
            if let Some(long) = word.strip_prefix("--") {
                let (name, value) = match long.split_once('=') {
                    Some((n, v)) => (n, Some(v.to_string())),
                    None => (long, None),
                };
                let Some(name) = self.resolve_long(name, quiet, &mut ok) else {
                    continue;
                };
                let kind = kind_of(name).unwrap_or(Kind::Flag);
                let value = match (kind, value) {
                    (Kind::Flag, Some(_)) => {
                        if !quiet {
                            eprintln!("Option {name} does not take an argument");
                        }
                        ok = false;
                        continue;
                    }
                    (Kind::Flag, None) => None,
                    (Kind::Value, Some(v)) => Some(v),
                    (Kind::Value, None) => match it.next() {
                        Some(v) => Some(v),
                        None => {
                            if !quiet {
                                eprintln!("Option {name} requires an argument");
                            }
                            ok = false;
                            continue;
                        }
                    },
                    (Kind::OptionalValue, v) => Some(v.unwrap_or_default()),
                };
                ok &= self.apply(name, value, test, &mut tests)?;
            } else if word.len() > 1 && word.starts_with('-') {
                let bundle: Vec<char> = word[1..].chars().collect();
                let mut i = 0;
                while i < bundle.len() {
                    let c = bundle[i].to_string();
                    i += 1;
                    let Some(kind) = kind_of(&c) else {
                        if !quiet {
                            eprintln!("Unknown option: {c}");
                        }
                        ok = false;
                        continue;
                    };
                    let rest: String = bundle[i..].iter().collect();
                    let value = match kind {
                        Kind::Flag => None,
                        Kind::Value => {
                            i = bundle.len();
                            if !rest.is_empty() {
                                Some(rest)
                            } else if let Some(v) = it.next() {
                                Some(v)
                            } else {
                                if !quiet {
                                    eprintln!("Option {c} requires an argument");
                                }
                                ok = false;
                                continue;
                            }
                        }
                        Kind::OptionalValue => {
                            i = bundle.len();
                            Some(rest)
                        }
                    };
                    ok &= self.apply(&c, value, test, &mut tests)?;
                }
            } else if !test {
                self.nonoptions.get_or_insert_with(Vec::new).push(word);
            }
        }
        for t in tests {
            // Dh_Getopt: try the -O value with every handler stubbed and
            // warnings off; apply it only if that succeeded.
            if self.getoptions(&mut vec![t.clone()], true, true)? {
                self.getoptions(&mut vec![t], test, quiet)?;
            }
        }
        Ok(ok)
    }

    fn resolve_long<'n>(&self, name: &'n str, quiet: bool, ok: &mut bool) -> Option<&'n str> {
        if kind_of(name).is_some() {
            return Some(name);
        }
        if self.abbreviations && !name.is_empty() {
            let matches: Vec<&str> = OPTIONS
                .iter()
                .map(|(n, _)| *n)
                .filter(|n| n.starts_with(name))
                .collect();
            match matches.as_slice() {
                [one] => {
                    // Leak-free: the name table is 'static.
                    return OPTIONS.iter().map(|(n, _)| *n).find(|n| n == one);
                }
                [] => {}
                many => {
                    if !quiet {
                        let mut many = many.to_vec();
                        many.sort();
                        eprintln!("Option {name} is ambiguous ({})", many.join(", "));
                    }
                    *ok = false;
                    return None;
                }
            }
        }
        if !quiet {
            eprintln!("Unknown option: {name}");
        }
        *ok = false;
        None
    }

    fn apply(
        &mut self,
        name: &str,
        value: Option<String>,
        test: bool,
        tests: &mut Vec<String>,
    ) -> Result<bool, DhError> {
        if name == "O" {
            tests.push(value.unwrap_or_default());
            return Ok(true);
        }
        if test {
            return Ok(true);
        }
        let o = &mut self.opts;
        match name {
            "v" | "verbose" => o.verbose = true,
            "no-act" => o.no_act = true,
            "i" | "indep" | "a" | "arch" | "s" | "same-arch" => {
                return self.add_package(name, "");
            }
            "p" | "package" => {
                return self.add_package("p", &value.unwrap_or_default());
            }
            "N" | "no-package" => {
                let v = value.unwrap_or_default();
                if !self.lists.all.contains(&v) {
                    print_error(&format!(
                        "Requested unknown package {v} via -N/--no-package, expected one of: {}",
                        self.lists.all.join(" ")
                    ));
                    return Ok(false);
                }
                o.excluded.push(v);
            }
            "remaining-packages" => o.remaining_packages = true,
            "P" | "tmpdir" => o.tmpdir = value,
            "mainpackage" => o.mainpackage = value,
            "name" => o.name = value,
            "dh-runit" => o.dh_runit = value,
            "u" => o.u_params = value.into_iter().collect(),
            "h" | "help" => self.help = true,
            // Accepted for compatibility, meaningless for this tool.
            _ => {}
        }
        Ok(true)
    }

    fn add_package(&mut self, option: &str, value: &str) -> Result<bool, DhError> {
        let o = &mut self.opts;
        match option {
            "i" | "indep" => {
                o.dopackages.extend(self.lists.indep.iter().cloned());
                o.doindep = true;
            }
            "a" | "arch" | "s" | "same-arch" => {
                if option == "s" || option == "same-arch" {
                    if self.compat_level >= 12 {
                        warning("-s/--same-arch has been removed; please use -a/--arch instead");
                        print_error("This feature was removed in compat 12.");
                        return Ok(false);
                    }
                    warning("-s/--same-arch is deprecated; please use -a/--arch instead");
                    warning("This feature will be removed in compat 12.");
                }
                o.dopackages.extend(self.lists.arch.iter().cloned());
                o.doarch = true;
            }
            _ => {
                if !self.lists.all.iter().any(|p| p == value) {
                    print_error(&format!(
                        "Requested unknown package {value} via -p/--package, expected one of: {}",
                        self.lists.all.join(" ")
                    ));
                    return Ok(false);
                }
                if !o.explicitly_requested.iter().any(|p| p == value) {
                    o.explicitly_requested.push(value.to_string());
                }
                if self.lists.both.iter().any(|p| p == value) {
                    o.dopackages.push(value.to_string());
                } else {
                    o.profile_excluded_pkg = true;
                }
            }
        }
        Ok(true)
    }
}
