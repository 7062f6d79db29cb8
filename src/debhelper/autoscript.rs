//! Maintainer-script snippets in debhelper's autoscript format.
//!
//! The snippets are real shell files under `autoscripts/` (so `sh -n` and
//! shellcheck can read them), embedded at compile time. `#TOKEN#` is replaced
//! by its raw value, as Dh_Lib's `autoscript()` does with a hash of
//! substitutions; values are service and package names, validated before
//! they get here, and the snippets quote them.
//!
//! Each snippet becomes a block
//! `# Automatically added by dh_servicebuilder/VERSION` … `# End automatically
//! added section` in `debian/PKG.SCRIPT.debhelper`: appended for postinst,
//! prepended for prerm and postrm so that removal runs in reverse order.
//!
//! Unlike Dh_Lib (and dh_runit), a second run does not duplicate anything:
//! the blocks a previous run of this tool left in the file are removed before
//! the new ones are added. Blocks of other tools are kept as they are.

use super::messages::TOOL;

/// The tool version written in block headers.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The maintainer scripts this tool adds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Script {
    /// Runs after unpacking: enable and start.
    Postinst,
    /// Runs before removal or upgrade: stop.
    Prerm,
    /// Runs after removal: prune and purge.
    Postrm,
}

impl Script {
    /// `postinst`, `prerm` or `postrm`.
    pub fn as_str(self) -> &'static str {
        match self {
            Script::Postinst => "postinst",
            Script::Prerm => "prerm",
            Script::Postrm => "postrm",
        }
    }

    /// The snippet's name, as in `[META] Append autosnippet "NAME"`.
    pub fn snippet_name(self) -> String {
        format!("{}-servicebuilder", self.as_str())
    }

    fn builtin(self) -> &'static str {
        match self {
            Script::Postinst => include_str!("../../autoscripts/postinst-servicebuilder"),
            Script::Prerm => include_str!("../../autoscripts/prerm-servicebuilder"),
            Script::Postrm => include_str!("../../autoscripts/postrm-servicebuilder"),
        }
    }

    /// Removal scripts get their blocks prepended.
    pub fn prepends(self) -> bool {
        matches!(self, Script::Prerm | Script::Postrm)
    }
}

/// The snippet text: `$DH_AUTOSCRIPTDIR/NAME` when that exists (as Dh_Lib
/// allows, for experiments), else the embedded one.
pub fn template(script: Script, autoscriptdir: Option<&str>) -> String {
    if let Some(dir) = autoscriptdir {
        let p = std::path::Path::new(dir).join(script.snippet_name());
        if let Ok(text) = std::fs::read_to_string(p) {
            return text;
        }
    }
    script.builtin().to_string()
}

/// Replace `#KEY#` tokens; unknown tokens stay as they are.
pub fn substitute(text: &str, subst: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('#') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let hit = subst
            .iter()
            .find(|(k, _)| after.starts_with(k) && after[k.len()..].starts_with('#'));
        match hit {
            Some((k, v)) => {
                out.push_str(v);
                rest = &after[k.len() + 1..];
            }
            None => {
                out.push('#');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// One block with debhelper's header and footer.
pub fn block(body: &str) -> String {
    let mut s = format!("# Automatically added by {TOOL}/{VERSION}\n");
    s.push_str(body);
    if !body.ends_with('\n') {
        s.push('\n');
    }
    s.push_str("# End automatically added section\n");
    s
}

/// Remove every block a previous run of this tool wrote.
pub fn strip_own_blocks(text: &str) -> String {
    let header = format!("# Automatically added by {TOOL}/");
    let mut out = String::with_capacity(text.len());
    let mut inside = false;
    for line in text.split_inclusive('\n') {
        if !inside && line.starts_with(&header) {
            inside = true;
            continue;
        }
        if inside {
            if line.trim_end_matches('\n') == "# End automatically added section" {
                inside = false;
            }
            continue;
        }
        out.push_str(line);
    }
    out
}

/// The new content of `debian/PKG.SCRIPT.debhelper`: the old content without
/// our previous blocks, plus `blocks` (in entry order) appended, or
/// prepended in reverse order, byte-equal to successive Dh_Lib prepends.
pub fn merge(existing: Option<&str>, script: Script, blocks: &[String]) -> String {
    let old = existing.map(strip_own_blocks).unwrap_or_default();
    let mut out = String::new();
    if script.prepends() {
        for b in blocks.iter().rev() {
            out.push_str(b);
        }
        out.push_str(&old);
    } else {
        out.push_str(&old);
        for b in blocks {
            out.push_str(b);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitution_is_raw_and_keeps_unknown_tokens() {
        assert_eq!(
            substitute("a='#NAME#' #X# ##", &[("NAME", "svc")]),
            "a='svc' #X# ##"
        );
    }

    #[test]
    fn removal_scripts_get_reverse_order_and_reruns_do_not_duplicate() {
        let a = block("A\n");
        let b = block("B\n");
        let foreign = "# Automatically added by dh_foo/1\nF\n# End automatically added section\n";
        let first = merge(Some(foreign), Script::Prerm, &[a.clone(), b.clone()]);
        assert_eq!(first, format!("{b}{a}{foreign}"));
        let second = merge(Some(&first), Script::Prerm, &[a.clone(), b.clone()]);
        assert_eq!(second, first);
        let post = merge(Some(foreign), Script::Postinst, &[a.clone(), b.clone()]);
        assert_eq!(post, format!("{foreign}{a}{b}"));
        assert_eq!(
            merge(Some(&post), Script::Postinst, &[a.clone(), b.clone()]),
            post
        );
    }
}
