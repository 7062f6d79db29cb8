//! Hardening: bad input, crashes and concurrent use never corrupt a system.
//!
//! Each test states a property and tries it on many cases; the long runs
//! are behind environment variables (see TESTING.md for the commands and
//! the figures measured).

#[path = "hardening/util.rs"]
mod util;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use servicebuilder::render::{EntryKind, RenderOptions, render_service};
use servicebuilder::template::{self, Command as Cmd, ServiceTemplate, parse_templates};
use util::*;

// ---------------------------------------------------------------------------
// 2. Quoting: what the template says is what the daemon gets.
// ---------------------------------------------------------------------------

/// Prints its argument count, then each argument, NUL-terminated: an
/// unambiguous record even for empty arguments.
const RECORDER: &str = r#"print scalar(@ARGV), "\0"; print "$_\0" for @ARGV"#;

fn sh_options() -> RenderOptions {
    RenderOptions {
        interpreter: "/bin/sh".into(),
        ..Default::default()
    }
}

fn run_file(name: &str, t: &ServiceTemplate) -> String {
    let entries = render_service(name, t, &sh_options());
    let run = entries.iter().find(|e| e.path == Path::new("run")).unwrap();
    String::from_utf8(run.contents().unwrap().to_vec()).unwrap()
}

/// Parses the recorder's output: one argv per record.
fn records(mut out: &[u8]) -> Vec<Vec<Vec<u8>>> {
    let mut all = Vec::new();
    while !out.is_empty() {
        let mut fields = out.split(|&b| b == 0);
        let n: usize = std::str::from_utf8(fields.next().unwrap())
            .unwrap()
            .parse()
            .unwrap();
        let mut consumed = out.iter().position(|&b| b == 0).unwrap() + 1;
        let mut argv = Vec::with_capacity(n);
        for _ in 0..n {
            let f = fields.next().expect("truncated record");
            consumed += f.len() + 1;
            argv.push(f.to_vec());
        }
        all.push(argv);
        out = &out[consumed..];
    }
    all
}

/// Runs many rendered `run` files in one `/bin/sh`, each in its own
/// subshell (where its `exec` replaces only that subshell), with `path`
/// searched first for commands.
fn run_batch(scripts: &[String], path_first: Option<&Path>) -> Vec<Vec<Vec<u8>>> {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    for s in scripts {
        // The shebang and the comment are comments here; everything else is
        // the rendered file, byte for byte.
        write!(file, "(\n{s})\n").unwrap();
    }
    file.flush().unwrap();
    let mut c = Command::new("/bin/sh");
    c.arg(file.path());
    if let Some(dir) = path_first {
        c.env(
            "PATH",
            format!("{}:{}", dir.display(), std::env::var("PATH").unwrap()),
        );
    }
    let out = c.stderr(Stdio::inherit()).output().unwrap();
    assert!(out.status.success(), "the batch failed: {:?}", out.status);
    records(&out.stdout)
}

fn parallel<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let threads = 2;
    let mut slots: Vec<Vec<(usize, T)>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, it) in items.into_iter().enumerate() {
        slots[i % threads].push((i, it));
    }
    let mut out: Vec<(usize, R)> = std::thread::scope(|s| {
        let f = &f;
        let handles: Vec<_> = slots
            .into_iter()
            .map(|slot| {
                s.spawn(move || slot.into_iter().map(|(i, t)| (i, f(t))).collect::<Vec<_>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}

#[test]
fn any_argv_reaches_the_daemon_exactly() {
    let cases = env_count("SB_QUOTING_CASES", 4000);
    let batch = 500;
    let mut rng = Rng::from_env("quoting");
    let argvs: Vec<Vec<String>> = (0..cases)
        .map(|_| {
            let n = rng.below(6) as usize;
            (0..n).map(|_| any_string(&mut rng, 300)).collect()
        })
        .collect();
    let chunks: Vec<Vec<Vec<String>>> = argvs.chunks(batch).map(|c| c.to_vec()).collect();
    let mismatches: usize = parallel(chunks, |chunk| {
        let scripts: Vec<String> = chunk
            .iter()
            .map(|argv| {
                let mut full = vec!["/usr/bin/perl".to_string(), "-e".into(), RECORDER.into()];
                full.push("--".into());
                full.extend(argv.iter().cloned());
                let mut t = ServiceTemplate::new(Cmd::Argv(full));
                t.sleep = Some(0);
                t.stderr_to_log = Some(false);
                t.validate().unwrap();
                run_file("q", &t)
            })
            .collect();
        let got = run_batch(&scripts, None);
        assert_eq!(got.len(), chunk.len(), "a subshell printed no record");
        let mut bad = 0;
        for (want, got) in chunk.iter().zip(&got) {
            let want: Vec<Vec<u8>> = want.iter().map(|a| a.as_bytes().to_vec()).collect();
            if &want != got {
                bad += 1;
                eprintln!("mismatch: wanted {want:?}, got {got:?}");
            }
        }
        bad
    })
    .into_iter()
    .sum();
    eprintln!("quoting: {cases} argvs, {mismatches} mismatches");
    assert_eq!(mismatches, 0);
}

#[test]
fn any_env_value_reaches_the_daemon_through_chpst_and_invoke_run() {
    let cases = env_count("SB_ENV_CASES", 4000);
    let mut rng = Rng::from_env("envdir");
    let (mut accepted, mut refused) = (0, 0);
    let mut values = Vec::new();
    for _ in 0..cases {
        let v = any_string(&mut rng, 2000);
        let mut t = ServiceTemplate::new(Cmd::argv(["x"]));
        t.env.insert("V".into(), v.clone());
        match t.validate() {
            Ok(()) => {
                accepted += 1;
                values.push(v);
            }
            Err(e) => {
                // The only values refused are the ones chpst cannot give back.
                assert!(v.ends_with([' ', '\t']), "{v:?} refused: {e}");
                refused += 1;
            }
        }
    }
    let chunks: Vec<Vec<String>> = values.chunks(400).map(|c| c.to_vec()).collect();
    let mismatches: usize = parallel(chunks, |chunk| {
        let mut t = ServiceTemplate::new(Cmd::argv(["x"]));
        for (i, v) in chunk.iter().enumerate() {
            t.env.insert(format!("V{i}"), v.clone());
        }
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("conf");
        fs::create_dir(&conf).unwrap();
        for e in render_service("e", &t, &sh_options()) {
            if let (true, EntryKind::File { contents, .. }) = (e.path.starts_with("conf"), &e.kind)
            {
                fs::write(dir.path().join(&e.path), contents).unwrap();
            }
        }
        let names: Vec<String> = (0..chunk.len()).map(|i| format!("V{i}")).collect();
        let out = Command::new("chpst")
            .arg("-e")
            .arg(&conf)
            .args([
                "/usr/bin/perl",
                "-e",
                r#"print scalar(@ARGV), "\0"; print "$ENV{$_}\0" for @ARGV"#,
                "--",
            ])
            .args(&names)
            .env_clear()
            .output()
            .unwrap();
        assert!(out.status.success());
        let by_chpst = records(&out.stdout).pop().unwrap();
        let (changes, warnings) = servicebuilder::runtime::envdir::read(&conf).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let mut env = servicebuilder::runtime::env::Env::new();
        servicebuilder::runtime::envdir::apply(&changes, &mut env);
        let mut bad = 0;
        for (i, v) in chunk.iter().enumerate() {
            use std::os::unix::ffi::OsStrExt;
            let ours = env.get(format!("V{i}")).map(|s| s.as_bytes().to_vec());
            if by_chpst[i] != v.as_bytes() || ours.as_deref() != Some(v.as_bytes()) {
                bad += 1;
                eprintln!(
                    "mismatch: {v:?}: chpst gave {:?}, invoke-run's reader {ours:?}",
                    String::from_utf8_lossy(&by_chpst[i])
                );
            }
        }
        bad
    })
    .into_iter()
    .sum();
    eprintln!(
        "envdir: {cases} values, {accepted} accepted, {refused} refused, {mismatches} mismatches"
    );
    assert_eq!(mismatches, 0);
}

/// The account-name rule of the template (adduser's and chpst's).
fn plausible_account(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-$".contains(&b))
}

#[test]
fn any_user_and_group_reach_chpst_exactly() {
    let cases = env_count("SB_USER_CASES", 3000);
    let mut rng = Rng::from_env("users");
    let fake = tempfile::tempdir().unwrap();
    let chpst = fake.path().join("chpst");
    fs::write(&chpst, format!("#!/usr/bin/perl\n{RECORDER}\n")).unwrap();
    fs::set_permissions(&chpst, fs::Permissions::from_mode(0o755)).unwrap();
    let alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-$";
    let gen_name = |rng: &mut Rng| -> String {
        if rng.chance(70) {
            let len = rng.below(70) + 1;
            (0..len).map(|_| *rng.pick(alphabet) as char).collect()
        } else {
            any_string(rng, 80)
        }
    };
    let (mut accepted, mut refused) = (0, 0);
    let mut cases_ok = Vec::new();
    for _ in 0..cases {
        let user = gen_name(&mut rng);
        let group = rng.chance(40).then(|| gen_name(&mut rng));
        let mut t = ServiceTemplate::new(Cmd::argv(["/bin/daemon", "-f"]));
        t.sleep = Some(0);
        t.stderr_to_log = Some(false);
        t.user = Some(user.clone());
        t.group = group.clone();
        let should = plausible_account(&user) && group.as_deref().is_none_or(plausible_account);
        match t.validate() {
            Ok(()) => {
                assert!(should, "accepted {user:?}:{group:?}");
                accepted += 1;
                cases_ok.push((t, user, group));
            }
            Err(_) => {
                assert!(!should, "refused a valid {user:?}:{group:?}");
                refused += 1;
            }
        }
    }
    let chunks: Vec<Vec<(ServiceTemplate, String, Option<String>)>> =
        cases_ok.chunks(500).map(|c| c.to_vec()).collect();
    let fake_dir = fake.path();
    let mismatches: usize = parallel(chunks, |chunk| {
        let scripts: Vec<String> = chunk.iter().map(|(t, _, _)| run_file("u", t)).collect();
        let got = run_batch(&scripts, Some(fake_dir));
        assert_eq!(got.len(), chunk.len());
        let mut bad = 0;
        for ((_, user, group), got) in chunk.iter().zip(&got) {
            let spec = match group {
                Some(g) => format!("{user}:{g}"),
                None => user.clone(),
            };
            let want: Vec<Vec<u8>> = ["-u", &spec, "--", "/bin/daemon", "-f"]
                .iter()
                .map(|s| s.as_bytes().to_vec())
                .collect();
            if &want != got {
                bad += 1;
                eprintln!("mismatch: {want:?} != {got:?}");
            }
        }
        bad
    })
    .into_iter()
    .sum();
    eprintln!(
        "users: {cases} names, {accepted} accepted, {refused} refused, {mismatches} mismatches"
    );
    assert_eq!(mismatches, 0);
}

// ---------------------------------------------------------------------------
// 3. Names and paths: hostile input is refused before anything is written.
// ---------------------------------------------------------------------------

/// Service names that must never become a directory name.
fn hostile_names() -> Vec<String> {
    let mut v: Vec<String> = [
        "",
        ".",
        "..",
        "../x",
        "../../etc",
        "x/..",
        "/abs",
        "/etc/passwd",
        "a/b",
        "a/",
        ".hidden",
        ".x.sb-tmp.1.2",
        "a\0b",
        "a\nb",
        "a\rb",
        "a b",
        " lead",
        "trail ",
        "a\tb",
        "-x",
        "--help",
        "é",
        "ＡＢ",
        "web\u{200b}",
        "$(id)",
        "`id`",
        "a;b",
        "*",
        "~root",
        "a:b",
        "a\\b",
        "a'b",
        "a\"b",
        "a,b",
        "_lead",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push("x".repeat(300));
    v.push(format!("a/{}", "b".repeat(255)));
    v
}

/// A YAML double-quoted scalar holding exactly `s`.
fn yaml_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Every file under the roots, with mode and size.
fn state(roots: &Roots) -> BTreeMap<PathBuf, (u32, u64)> {
    listing(roots.dir.path())
}

#[test]
fn hostile_service_names_are_refused_by_every_entry_point() {
    let names = hostile_names();
    assert!(names.len() >= 25);
    let roots = Roots::new();
    let good = roots.file("good.yaml", "web: {run: [/bin/sleep, '1000']}\n");
    roots.ok(&["activate", "base", good.to_str().unwrap()]);
    let mut tried = 0;
    for name in &names {
        // YAML: the name as a key.
        let yaml = format!("{}: {{run: [/bin/true]}}\n", yaml_quoted(name));
        assert!(
            parse_templates(&yaml, "h.yaml".as_ref()).is_err(),
            "YAML accepted {name:?}"
        );
        let file = roots.file("hostile.yaml", &yaml);
        let before = state(&roots);
        let out = roots.run(&["activate", "set", file.to_str().unwrap()]);
        assert!(
            !out.status.success(),
            "activate accepted the service {name:?}"
        );
        assert_eq!(
            before,
            state(&roots),
            "activate of {name:?} wrote something"
        );
        tried += 1;

        // The command line: the name as a template-set name.
        if !name.contains('\0') {
            let before = state(&roots);
            let out = roots
                .cmd()
                // `--` so that clap takes `--help` or `-x` as the name.
                .args(["activate", "--", name, good.to_str().unwrap()])
                .output()
                .unwrap();
            assert!(
                !out.status.success(),
                "activate accepted the set name {name:?}"
            );
            assert_eq!(before, state(&roots), "activate {name:?} wrote something");
            let out = roots.cmd().args(["status", "--", name]).output().unwrap();
            assert!(!out.status.success(), "status {name:?}");
            tried += 1;
        }

        // The legacy dh-runit file: the name given by name=.
        let src = tempfile::tempdir().unwrap();
        fs::create_dir(src.path().join("debian")).unwrap();
        fs::write(src.path().join("debian/pkg.sv"), "#!/bin/sh\n").unwrap();
        let mut plan = servicebuilder::debhelper::install::PackagePlan {
            package: "pkg".into(),
            tmp: "debian/pkg".into(),
            ..Default::default()
        };
        let r = servicebuilder::debhelper::legacy::plan_entry(
            src.path(),
            "debian/pkg.sv",
            &format!("name={name}"),
            "debian/pkg.runit",
            &mut plan,
        );
        // An empty `name=` means "no name" to dh_runit: the path's own
        // (valid) basename is used, never the hostile one.
        assert!(
            r.is_err()
                || plan
                    .services
                    .iter()
                    .all(|s| &s.name != name && template::validate_service_name(&s.name).is_ok()),
            "the legacy parser accepted name={name:?}: {:?}",
            plan.services
        );
        tried += 1;
    }
    // dh_servicebuilder, on a source tree: the legacy file and the YAML file.
    let dh = |name: &str| -> usize {
        let mut refused = 0;
        for (file, text) in [
            ("debian/pkg.runit", format!("debian/pkg.sv name={name}\n")),
            (
                "debian/pkg.runit.yaml",
                format!("{}: {{run: [/bin/true]}}\n", yaml_quoted(name)),
            ),
        ] {
            let src = tempfile::tempdir().unwrap();
            fs::create_dir(src.path().join("debian")).unwrap();
            fs::write(
                src.path().join("debian/control"),
                "Source: pkg\nMaintainer: A <a@example.org>\n\
                 Build-Depends: debhelper-compat (= 13)\n\n\
                 Package: pkg\nArchitecture: all\nDescription: d\n d\n",
            )
            .unwrap();
            fs::write(src.path().join("debian/pkg.sv"), "#!/bin/sh\nexec true\n").unwrap();
            fs::write(src.path().join(file), &text).unwrap();
            let before = listing(src.path());
            let out = Command::new(env!("CARGO_BIN_EXE_dh_servicebuilder"))
                .current_dir(src.path())
                .output()
                .unwrap();
            if out.status.success() {
                // The line format split the name (at a blank or a comma):
                // whatever it planned has a valid name, never this one.
                assert!(
                    file.ends_with(".runit"),
                    "dh_servicebuilder took {name:?} from YAML"
                );
                let sv = src.path().join("debian/pkg/etc/sv");
                for e in fs::read_dir(&sv).into_iter().flatten() {
                    let n = e.unwrap().file_name().to_string_lossy().into_owned();
                    assert!(
                        n != *name && template::validate_service_name(&n).is_ok(),
                        "{n:?}"
                    );
                }
            } else {
                assert_eq!(
                    before,
                    listing(src.path()),
                    "dh_servicebuilder wrote for {name:?}"
                );
                refused += 1;
            }
        }
        refused
    };
    let dh_refused: usize = names.iter().map(|n| dh(n)).sum();
    tried += 2 * names.len();
    eprintln!(
        "names: {} hostile names, {tried} entry-point cases, none accepted; dh_servicebuilder \
         failed on {dh_refused} of its {} (the others had the name split by the line format)",
        names.len(),
        2 * names.len()
    );
}

#[test]
fn hostile_paths_inside_templates_are_refused() {
    let rows = [
        "a: {run: [/bin/true], binary: ../x}",
        "a: {run: [/bin/true], binary: \"/bin/a\\nb\"}",
        "a: {run: [/bin/true], skip_if_exists: [relative/path]}",
        "a: {run: [/bin/true], skip_if_exists: [\"/a\\0b\"]}",
        "a: {run: [/bin/true], depends: [../x]}",
        "a: {run: [/bin/true], depends: [/abs]}",
        "a: {run: [/bin/true], env: {../X: v}}",
        "a: {run: [/bin/true], env: {A/B: v}}",
        "a: {run: [/bin/true], env: {\"A=B\": v}}",
        "a: {run: [/bin/true], env: {\"\": v}}",
        "a: {run: [/bin/true], user: ../root}",
        "a: {run: [/bin/true], user: \"root:root\"}",
        "a: {run: [/bin/true], user: x, group: \"a b\"}",
        "a: {run: [\"-x\"]}",
        "a: {run: [\"\"]}",
        "a: {run: [\"a\\0b\"]}",
    ];
    let roots = Roots::new();
    for row in rows {
        assert!(parse_templates(row, "p.yaml".as_ref()).is_err(), "{row}");
        let file = roots.file("p.yaml", row);
        let before = state(&roots);
        assert!(
            !roots
                .run(&["activate", "p", file.to_str().unwrap()])
                .status
                .success()
        );
        assert_eq!(before, state(&roots), "{row}");
    }
}

#[test]
fn names_that_collide_are_refused() {
    for yaml in [
        "web: {run: [a]}\n\"web\": {run: [b]}\n",
        "web: {run: [a]}\n'web': {run: [b]}\n",
        "web: {run: [a]}\n\"w\\x65b\": {run: [b]}\n",
        "web: {run: [a]}\n? web\n: {run: [b]}\n",
        "web: {run: [a], run: [b]}\n",
    ] {
        assert!(parse_templates(yaml, "c.yaml".as_ref()).is_err(), "{yaml}");
    }
    // Across files: the second set may not take over a service.
    let roots = Roots::new();
    let a = roots.file("a.yaml", "web: {run: [/bin/true]}\n");
    roots.ok(&["activate", "a", a.to_str().unwrap()]);
    let before = state(&roots);
    assert!(
        !roots
            .run(&["activate", "b", a.to_str().unwrap()])
            .status
            .success()
    );
    assert_eq!(before, state(&roots));
}

/// A directory outside every root, made to look like servicebuilder's.
fn bait() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    fs::create_dir(d.path().join(".meta")).unwrap();
    fs::write(d.path().join(".meta/servicebuilder"), "config set.yaml\n").unwrap();
    fs::write(d.path().join("run"), "precious\n").unwrap();
    fs::create_dir(d.path().join("conf")).unwrap();
    fs::write(d.path().join("conf/KEEP"), "me\n").unwrap();
    d
}

#[test]
fn symlinks_out_of_the_roots_are_never_followed_for_writing_or_deletion() {
    let yaml = "web: {run: [/bin/sleep, '1000'], env: {A: b}, log: [svlogd, ./main]}\n";
    // (what is replaced by a link, where the link points inside the bait)
    let cases: &[(&str, &str)] = &[
        ("staging/web", ""),
        ("staging/web/conf", "conf"),
        ("staging/web/log", ""),
        ("staging/web/.meta", ".meta"),
        ("staging/web/run", "run"),
        ("staging/web/conf/A", "conf/KEEP"),
        ("config/set.yaml", "run"),
    ];
    for (entry, inside) in cases {
        let roots = Roots::new();
        let file = roots.file("set.yaml", yaml);
        roots.ok(&["activate", "set", file.to_str().unwrap()]);
        let outside = bait();
        let target = outside.path().join(inside);
        let at = roots.dir.path().join(entry);
        if at.is_dir() && !at.is_symlink() {
            fs::remove_dir_all(&at).unwrap();
        } else {
            let _ = fs::remove_file(&at);
        }
        symlink(&target, &at).unwrap();
        let before = snapshot(outside.path(), &|_| false);
        let changed = roots.file(
            "set2.yaml",
            "web: {run: [/bin/sleep, '2000'], env: {B: c}}\n",
        );
        let _ = roots.run(&["activate", "set", changed.to_str().unwrap()]);
        let _ = roots.run(&["prune"]);
        let _ = roots.run(&["rebuild", "--prune"]);
        let empty = roots.file("empty.yaml", "{}\n");
        let _ = roots.run(&["activate", "set", empty.to_str().unwrap()]);
        let _ = roots.run(&["prune"]);
        assert_eq!(
            before,
            snapshot(outside.path(), &|_| false),
            "{entry} -> {} was followed",
            target.display()
        );
    }
    // The runit root's entry is a link by design: re-pointing or removing
    // it must never touch what it pointed to.
    let roots = Roots::new();
    fs::create_dir_all(roots.runit()).unwrap();
    let outside = bait();
    symlink(outside.path(), roots.runit().join("web")).unwrap();
    let before = snapshot(outside.path(), &|_| false);
    let file = roots.file("set.yaml", yaml);
    let _ = roots.run(&["activate", "set", file.to_str().unwrap()]);
    let empty = roots.file("empty.yaml", "{}\n");
    roots.ok(&["activate", "set", empty.to_str().unwrap()]);
    roots.ok(&["prune"]);
    assert_eq!(before, snapshot(outside.path(), &|_| false));
}

// ---------------------------------------------------------------------------
// 4. Crash consistency: SIGKILL at any moment leaves old or new.
// ---------------------------------------------------------------------------

fn version_yaml(v: usize, services: usize) -> String {
    let mut s = String::new();
    for i in 0..services {
        match v {
            0 => s.push_str(&format!(
                "s{i}: {{run: [/bin/sleep, '100{i}'], env: {{A: one, B: two}}, log: [svlogd, ./main]}}\n"
            )),
            1 => s.push_str(&format!(
                "s{i}: {{run: [/bin/sleep, '200{i}'], env: {{B: three, C: four}}, restart: never, secret_env: true, binary: /bin/sleep}}\n"
            )),
            // Version 2 declares half of the services: prune removes the rest.
            _ if i % 2 == 0 => s.push_str(&format!(
                "s{i}: {{run: [/bin/sleep, '300{i}'], finish: [/bin/true]}}\n"
            )),
            _ => {}
        }
    }
    s
}

/// What runsv can see of a service: everything but `supervise` and
/// servicebuilder's dot-named temporaries.
fn service_view(dir: &Path) -> Option<BTreeMap<PathBuf, Node>> {
    fs::symlink_metadata(dir).ok()?;
    Some(snapshot(dir, &|n| {
        n == "supervise" || n.contains(".sb-tmp.")
    }))
}

#[test]
fn sigkill_at_any_moment_leaves_every_service_old_or_new() {
    let kills = env_count("SB_CRASH_KILLS", 40);
    let services = 12;
    let mut rng = Rng::from_env("crash");

    // The complete versions, made by uninterrupted runs on fresh roots.
    let mut versions: Vec<BTreeMap<String, Option<BTreeMap<PathBuf, Node>>>> = Vec::new();
    let mut durations = Vec::new();
    for v in 0..3 {
        let r = Roots::new();
        let f = r.file("v.yaml", &version_yaml(v, services));
        let t = Instant::now();
        r.ok(&["activate", "set", f.to_str().unwrap()]);
        r.ok(&["prune"]);
        durations.push(t.elapsed());
        versions.push(
            (0..services)
                .map(|i| {
                    (
                        format!("s{i}"),
                        service_view(&r.staging().join(format!("s{i}"))),
                    )
                })
                .collect(),
        );
    }
    let longest = durations.iter().max().unwrap().as_micros() as u64 + 1;

    let roots = Roots::new();
    let files: Vec<PathBuf> = (0..3)
        .map(|v| roots.file(&format!("v{v}.yaml"), &version_yaml(v, services)))
        .collect();
    roots.ok(&["activate", "set", files[0].to_str().unwrap()]);
    let mut current = 0;
    let (mut journals_found, mut killed, mut untouched, mut partial, mut done, mut noop) =
        (0, 0, 0, 0, 0, 0);
    let all_views = |roots: &Roots| -> Vec<Option<BTreeMap<PathBuf, Node>>> {
        (0..services)
            .map(|i| service_view(&roots.staging().join(format!("s{i}"))))
            .collect()
    };
    for _ in 0..kills {
        let next = (current + 1 + rng.below(2) as usize) % 3;
        let prune = next == 2 || rng.chance(30);
        let args: Vec<String> = if prune && rng.chance(50) {
            vec!["prune".into()]
        } else {
            vec![
                "activate".into(),
                "set".into(),
                files[next].display().to_string(),
            ]
        };
        let pre = all_views(&roots);
        let child = roots
            .cmd()
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut guard = Guard::new(child, Signal::SIGKILL);
        // Mostly within the length of an uninterrupted run, sometimes after.
        let span = match rng.below(100) {
            0..50 => longest / 2,
            50..85 => longest,
            _ => longest * 2,
        };
        std::thread::sleep(Duration::from_micros(rng.below(span)));
        let _ = nix::sys::signal::kill(guard.pid(), Signal::SIGKILL);
        let status = guard.child.take().unwrap().wait().unwrap();
        let was_killed = status.code().is_none();
        let post = all_views(&roots);

        // runsvdir's view: no temporary name without a leading dot.
        for root in [roots.runit(), roots.staging()] {
            for e in fs::read_dir(&root).into_iter().flatten() {
                let n = e.unwrap().file_name().to_string_lossy().into_owned();
                assert!(
                    n.starts_with('.') || !n.contains("sb-tmp"),
                    "{n} visible in {}",
                    root.display()
                );
            }
        }
        let pending: BTreeSet<String> = fs::read_dir(roots.staging())
            .unwrap()
            .filter_map(|e| {
                let n = e.unwrap().file_name().to_string_lossy().into_owned();
                Some(n.strip_prefix('.')?.strip_suffix(".sb-journal")?.to_owned())
            })
            .collect();
        journals_found += pending.len();
        for i in 0..services {
            let name = format!("s{i}");
            let view = service_view(&roots.staging().join(&name));
            let which: Vec<usize> = (0..3).filter(|v| versions[*v][&name] == view).collect();
            let removed = view.is_none();
            if which.is_empty() && !removed && !pending.contains(&name) {
                let view = view.unwrap();
                for (v, version) in versions.iter().enumerate() {
                    let want = version[&name].clone().unwrap_or_default();
                    let differ: Vec<_> = view
                        .keys()
                        .chain(want.keys())
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .filter(|k| view.get(*k) != want.get(*k))
                        .collect();
                    eprintln!("version {v}: differs in {differ:?}");
                }
                panic!("after a kill of {args:?}, {name} is a mix of versions");
            }
            // A link in the runit root always points at a whole directory.
            let link = roots.runit().join(&name);
            if fs::symlink_metadata(&link).is_ok() {
                assert_eq!(fs::read_link(&link).unwrap(), roots.staging().join(&name));
            }
        }

        // The next run finishes the job.
        roots.ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let target = all_views(&roots);
        if was_killed {
            killed += 1;
            match () {
                _ if pre == target => noop += 1,
                _ if post == pre => untouched += 1,
                _ if post == target => done += 1,
                _ => partial += 1,
            }
        }
        if args[0] == "activate" {
            current = next;
            for i in 0..services {
                let name = format!("s{i}");
                let want = &versions[next][&name];
                let got = service_view(&roots.staging().join(&name));
                if want.is_some() {
                    assert_eq!(&got, want, "{name} not finished by the next run");
                }
            }
        } else if current == 2 {
            for i in 0..services {
                let name = format!("s{i}");
                assert_eq!(
                    service_view(&roots.staging().join(&name)),
                    versions[2][&name]
                );
            }
        }
        assert!(fs::read_dir(roots.staging()).unwrap().all(|e| {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            !n.contains(".sb-tmp.") && !n.ends_with(".sb-journal")
        }));
    }
    eprintln!(
        "crash: {kills} runs, {killed} SIGKILLed before they ended: {partial} part-way through \
         the services, {untouched} before the first change, {done} after the last one, {noop} \
         with nothing to change; {journals_found} committed journals found and finished by the \
         next run; every service old or new after every kill"
    );
}

// ---------------------------------------------------------------------------
// 5. Concurrency: 8 processes, one real runsvdir.
// ---------------------------------------------------------------------------

#[test]
fn eight_concurrent_processes_end_where_a_serial_run_ends() {
    let secs = env_count("SB_CONCURRENCY_SECS", 4) as u64;
    let roots = Roots::new();
    fs::create_dir_all(roots.runit()).unwrap();
    let _tree = TreeGuard(roots.dir.path().to_owned());
    let runsvdir = Command::new("runsvdir")
        .arg(roots.runit())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // SIGHUP: runsvdir TERMs every runsv (and so every service) and exits.
    let runsvdir = Guard::new(runsvdir, Signal::SIGHUP);
    let sets = 4;
    let mut files = Vec::new();
    for set in 0..sets {
        for variant in 0..3 {
            let mut y = String::new();
            for i in 0..(2 + variant) {
                y.push_str(&format!(
                    "k{set}s{i}: {{run: [/bin/sleep, '{}'], sleep: 0, env: {{V: '{variant}'}}, host_log: false}}\n",
                    1000 + variant
                ));
            }
            if variant == 2 {
                y = "{}\n".into();
            }
            files.push(roots.file(&format!("k{set}v{variant}.yaml"), &y));
        }
    }
    let deadline = Instant::now() + Duration::from_secs(secs);
    let results: Vec<(usize, BTreeMap<String, usize>, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8u64)
            .map(|worker| {
                let roots = &roots;
                let files = &files;
                s.spawn(move || {
                    let mut rng = Rng(0x1234_5678 + worker * 7919);
                    let (mut runs, mut codes, mut errors) = (0, BTreeMap::new(), Vec::new());
                    while Instant::now() < deadline {
                        let op = rng.below(10);
                        let out = if op < 6 {
                            let set = rng.below(sets as u64) as usize;
                            let f = &files[set * 3 + rng.below(3) as usize];
                            roots.run(&["activate", &format!("k{set}"), f.to_str().unwrap()])
                        } else if op < 8 {
                            roots.run(&["prune"])
                        } else {
                            roots.run(&["status"])
                        };
                        runs += 1;
                        let code = out.status.code().unwrap_or(-1);
                        let kind = if op < 6 {
                            "activate"
                        } else if op < 8 {
                            "prune"
                        } else {
                            "status"
                        };
                        *codes.entry(format!("{kind} exit {code}")).or_insert(0) += 1;
                        // status may race with prune and runsvdir: exit 1
                        // (directory just removed) and 6 (supervise/ok not yet
                        // made) are its documented answers then.
                        let fine = code == 0 || (kind == "status" && [1, 3, 6].contains(&code));
                        if !fine {
                            errors
                                .push(format!("{kind}: {}", String::from_utf8_lossy(&out.stderr)));
                        }
                    }
                    (runs, codes, errors)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let total: usize = results.iter().map(|r| r.0).sum();
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    for (_, c, _) in &results {
        for (k, v) in c {
            *codes.entry(k.clone()).or_insert(0) += v;
        }
    }
    let errors: Vec<&String> = results.iter().flat_map(|r| &r.2).collect();
    eprintln!("concurrency: 8 processes, {secs} s, {total} runs: {codes:?}");
    assert!(errors.is_empty(), "{errors:#?}");

    // The serial run: the final config root, rebuilt and pruned alone.
    roots.ok(&["prune"]);
    let serial = Roots::new();
    fs::create_dir_all(serial.config()).unwrap();
    for e in fs::read_dir(roots.config()).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), serial.config().join(e.file_name())).unwrap();
    }
    serial.ok(&["rebuild", "--prune"]);
    let view = |r: &Roots| {
        (
            snapshot(&r.staging(), &|n| n == "supervise"),
            // runsvdir's own mark of an ALRM rescan (Debian's runsvdir).
            snapshot(&r.runit(), &|n| n == ".forced-rescan")
                .into_iter()
                .map(|(p, n)| match n {
                    Node::Link(t) => (p, t.strip_prefix(r.dir.path()).unwrap().to_owned()),
                    _ => (p, PathBuf::from("?")),
                })
                .collect::<BTreeMap<_, _>>(),
        )
    };
    assert_eq!(
        view(&roots),
        view(&serial),
        "the concurrent roots differ from a serial run's"
    );
    drop(runsvdir);
    let killed = wait_for_processes_under(roots.dir.path(), 15);
    assert_eq!(
        killed, 0,
        "runsv processes outlived runsvdir's SIGHUP by 15 s"
    );
}

// ---------------------------------------------------------------------------
// 6. Resource limits.
// ---------------------------------------------------------------------------

/// Peak RSS in KiB of `servicebuilder ARGS`, and whether it succeeded.
fn peak_rss(roots: &Roots, args: &[&str]) -> (u64, bool, Duration) {
    let t = Instant::now();
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(env!("CARGO_BIN_EXE_servicebuilder"))
        .arg("-c")
        .arg(roots.config())
        .arg("-s")
        .arg(roots.staging())
        .arg("-d")
        .arg(roots.runit())
        .args(args)
        .output()
        .unwrap();
    let elapsed = t.elapsed();
    let err = String::from_utf8_lossy(&out.stderr);
    let kib = err
        .lines()
        .rev()
        .find_map(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no RSS figure in {err}"));
    (kib, out.status.success(), elapsed)
}

#[test]
fn hostile_sizes_are_refused_or_handled_in_bounded_memory() {
    let roots = Roots::new();
    // Billion laughs: nine levels of ten aliases.
    let mut bomb = String::from("a: &a [\"lol\"]\n");
    let mut prev = 'a';
    for c in 'b'..='j' {
        bomb.push_str(&format!(
            "{c}: &{c} [{}]\n",
            std::iter::repeat_n(format!("*{prev}"), 10)
                .collect::<Vec<_>>()
                .join(",")
        ));
        prev = c;
    }
    bomb.push_str("web: {run: *j}\n");
    // The strict schema (a map of maps whose leaves are strings) gives an
    // alias nowhere to nest, so a bomb is refused where its first anchor
    // is defined, before any expansion, wherever it is put.
    let indented: String = bomb.lines().map(|l| format!("    {l}\n")).collect();
    for (what, text) in [
        ("alone", bomb.clone()),
        (
            "after a valid service",
            format!("ok: {{run: [/bin/true]}}\n{bomb}"),
        ),
        (
            "inside a service",
            format!("web:\n  run: [/bin/true]\n  env:\n{indented}"),
        ),
    ] {
        let f = roots.file("bomb.yaml", &text);
        let (rss, ok, t) = peak_rss(&roots, &["check", f.to_str().unwrap()]);
        eprintln!(
            "limits: alias bomb {what}: refused={}, peak RSS {rss} KiB, {t:?}",
            !ok
        );
        assert!(!ok);
        assert!(rss < 64 * 1024, "alias bomb used {rss} KiB");
    }

    // A 10 MB template: one service with a 10 MB setup block.
    let big = format!(
        "web:\n  run: [/bin/true]\n  setup: \"{}\"\n",
        "x".repeat(10 * 1024 * 1024)
    );
    let f = roots.file("big.yaml", &big);
    let (rss, ok, t) = peak_rss(&roots, &["check", f.to_str().unwrap()]);
    eprintln!("limits: 10 MB template: accepted={ok}, peak RSS {rss} KiB, {t:?}");
    assert!(rss < 256 * 1024, "10 MB template used {rss} KiB");

    // Over the size limit: refused before it is read.
    let f = roots.file("huge.yaml", &" ".repeat(template::MAX_FILE_SIZE + 1));
    let (rss, ok, _) = peak_rss(&roots, &["check", f.to_str().unwrap()]);
    eprintln!(
        "limits: {} bytes: refused={}, peak RSS {rss} KiB",
        template::MAX_FILE_SIZE + 1,
        !ok
    );
    assert!(!ok && rss < 32 * 1024);

    // 100,000 services: the limit itself is accepted, one more refused.
    let many = |n: usize| {
        let mut s = String::with_capacity(n * 24);
        for i in 0..n {
            s.push_str(&format!("s{i}: {{run: [/bin/true]}}\n"));
        }
        s
    };
    let f = roots.file("many.yaml", &many(template::MAX_SERVICES_PER_FILE));
    let (rss, ok, t) = peak_rss(&roots, &["check", f.to_str().unwrap()]);
    eprintln!(
        "limits: {} services: accepted={ok}, peak RSS {rss} KiB, {t:?}",
        template::MAX_SERVICES_PER_FILE
    );
    assert!(ok && rss < 512 * 1024);
    let f = roots.file("toomany.yaml", &many(template::MAX_SERVICES_PER_FILE + 1));
    let (rss, ok, t) = peak_rss(&roots, &["check", f.to_str().unwrap()]);
    eprintln!(
        "limits: {} services: refused={}, peak RSS {rss} KiB, {t:?}",
        template::MAX_SERVICES_PER_FILE + 1,
        !ok
    );
    assert!(!ok);
}

// ---------------------------------------------------------------------------
// 7. Permissions: exact modes whatever the umask.
// ---------------------------------------------------------------------------

#[test]
fn modes_are_exact_whatever_the_umask() {
    let yaml = "pub: {run: [/bin/true], env: {A: b}, log: [svlogd, ./main], finish: [/bin/true], restart: never, binary: /bin/true, onupgrade: reload}\n\
                sec: {run: [/bin/true], env: {TOKEN: s3cret}, secret_env: true}\n";
    let expected: BTreeMap<&str, u32> = [
        ("config", 0o755),
        // The copy holds the secret too: as private as conf/.
        ("config/set.yaml", 0o600),
        ("staging", 0o755),
        ("runit", 0o755),
        ("staging/pub", 0o755),
        ("staging/pub/run", 0o755),
        ("staging/pub/finish", 0o755),
        ("staging/pub/down", 0o644),
        ("staging/pub/conf", 0o755),
        ("staging/pub/conf/A", 0o644),
        ("staging/pub/log", 0o755),
        ("staging/pub/log/run", 0o755),
        ("staging/pub/log/main", 0o755),
        ("staging/pub/.meta", 0o755),
        ("staging/pub/.meta/bin", 0o644),
        ("staging/pub/.meta/noreplace", 0o644),
        ("staging/pub/.meta/servicebuilder", 0o644),
        ("staging/sec", 0o755),
        ("staging/sec/run", 0o755),
        ("staging/sec/conf", 0o700),
        ("staging/sec/conf/TOKEN", 0o600),
    ]
    .into_iter()
    .collect();
    for umask in ["077", "000", "027", "002"] {
        let roots = Roots::new();
        let f = roots.file("set.yaml", yaml);
        let mut cmd = roots.cmd();
        let argv: Vec<String> = std::iter::once(cmd.get_program().to_string_lossy().into_owned())
            .chain(cmd.get_args().map(|a| a.to_string_lossy().into_owned()))
            .chain(["activate".into(), "set".into(), f.display().to_string()])
            .collect();
        cmd = Command::new("/bin/sh");
        let out = cmd
            .arg("-c")
            .arg(format!("umask {umask}; exec \"$@\""))
            .arg("sh")
            .args(&argv)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // A second, changing run must not loosen anything either.
        let f2 = roots.file("set2.yaml", &yaml.replace("s3cret", "other"));
        let out = Command::new("/bin/sh")
            .arg("-c")
            .arg(format!("umask {umask}; exec \"$@\""))
            .arg("sh")
            .args(&argv[..argv.len() - 1])
            .arg(&f2)
            .output()
            .unwrap();
        assert!(out.status.success());
        let all = snapshot(roots.dir.path(), &|_| false);
        for (path, node) in &all {
            let mode = match node {
                Node::Dir(m) | Node::File(m, _) => *m,
                _ => continue,
            };
            assert_eq!(
                mode & 0o002,
                0,
                "umask {umask}: {} is world-writable",
                path.display()
            );
            if let Some(want) = expected.get(path.to_str().unwrap()) {
                assert_eq!(mode, *want, "umask {umask}: mode of {}", path.display());
            }
        }
        for p in expected.keys() {
            assert!(all.contains_key(Path::new(p)), "umask {umask}: {p} missing");
        }
    }
}

// ---------------------------------------------------------------------------
// Found by fuzzing, in other modules (reported; see TESTING.md).
// ---------------------------------------------------------------------------

/// Found by fuzz/sv_status: a TAI stamp far in the future overflowed
/// SystemTime and panicked the decoder.
#[test]
fn a_corrupt_status_file_never_panics_the_decoder() {
    // The crash input fuzz/sv_status found: TAI seconds 0xffffffff43000000.
    let raw: [u8; 20] = [
        0xff, 0xff, 0xff, 0xff, 0x43, 0, 0, 0, 0, 0, 0x10, 0x45, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 6,
    ];
    let r = std::panic::catch_unwind(|| servicebuilder::sv::Status::decode(&raw, true));
    assert!(r.is_ok(), "decoding a corrupt supervise/status panicked");
}
