//! `debian/PKG.substvars`, merged as Dh_Lib's `addsubstvar` merges it.
//!
//! The value of `NAME=` (or dpkg's optional `NAME?=`) is a set of items
//! separated by `", "`; adding an item re-joins the set sorted in byte order.
//! A file that would not change is not rewritten.

/// Add `item` to variable `var` in the substvars text; `None` if unchanged.
pub fn add(existing: &str, var: &str, item: &str) -> Option<String> {
    let mut present = false;
    let mut changed = false;
    let mut lines: Vec<String> = Vec::new();
    for line in existing.lines() {
        let assignment = line.strip_prefix(var).and_then(|rest| {
            rest.strip_prefix("?=")
                .map(|v| ("?=", v))
                .or_else(|| rest.strip_prefix('=').map(|v| ("=", v)))
        });
        match assignment {
            Some((op, value)) => {
                present = true;
                let mut items: Vec<&str> = if value.is_empty() {
                    Vec::new()
                } else {
                    value.split(", ").collect()
                };
                if items.contains(&item) {
                    lines.push(line.to_string());
                    continue;
                }
                items.push(item);
                items.sort_unstable();
                items.dedup();
                let new = format!("{var}{op}{}", items.join(", "));
                changed |= new != line;
                lines.push(new);
            }
            None => lines.push(line.to_string()),
        }
    }
    if !present {
        lines.push(format!("{var}={item}"));
        changed = true;
    }
    changed.then(|| {
        let mut s = lines.join("\n");
        s.push('\n');
        s
    })
}

#[cfg(test)]
mod tests {
    use super::add;

    #[test]
    fn merges_as_a_sorted_set() {
        assert_eq!(
            add(
                "misc:Depends=zlib (>= 1), adduser\n",
                "misc:Depends",
                "runit-helper (>= 2.14.0~)"
            )
            .unwrap(),
            "misc:Depends=adduser, runit-helper (>= 2.14.0~), zlib (>= 1)\n"
        );
        assert_eq!(add("misc:Depends=a, b\n", "misc:Depends", "a"), None);
        assert_eq!(add("", "x:Y", "v").unwrap(), "x:Y=v\n");
        assert_eq!(add("x:Y?=b\n", "x:Y", "a").unwrap(), "x:Y?=a, b\n");
    }
}
