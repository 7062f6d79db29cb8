//! Link arguments for the two runtime binaries, `invoke-run` and
//! `finish-default`, which run at every service start and stop: most of
//! their own cost there is the dynamic loader's (figures in invoke-run(8),
//! PERFORMANCE). The host command `servicebuilder` gets the static libgcc
//! too: maintainer scripts and deploy tools call it once per service, and
//! binding `libgcc_s` was a quarter of a `status` call (BENCHMARKS.md).
//!
//! Default: link `libgcc_eh.a` instead of `libgcc_s.so.1`, which is what
//! `gcc -static-libgcc` does for C++ programs. std refers to the unwinder
//! (backtraces, unwinding landing pads), so the dynamic `libgcc_s` cannot
//! simply be dropped, yet it costs an open, four mmaps, its relocations and
//! a longer symbol search at every start. rustc names `-lgcc_s` itself, so
//! a directory searched first holds a `libgcc_s.so` that is a linker script
//! naming the static archive. libc stays dynamic.
//!
//! `SERVICEBUILDER_STATIC_RUNTIME=1` at build time: link these two binaries
//! as static PIEs instead (glibc included), as `-C target-feature=+crt-static`
//! would, but for them only: `-static-pie`, and linker scripts that turn
//! every `-lX` rustc passes into the static `libX.a`. This is not the
//! default: a static glibc misses glibc's security updates until the
//! package is rebuilt, and the measured gain is about 0.1 ms per start.

use std::path::Path;

const RUNTIME_BINARIES: [&str; 2] = ["invoke-run", "finish-default"];

/// Binaries that get the static libgcc, but never the static-pie opt-in,
/// which is about service start-up only.
const STATIC_LIBGCC_ONLY: [&str; 1] = ["servicebuilder"];

/// The libraries rustc links for std on linux-gnu (`-lgcc_s -lutil -lrt
/// -lpthread -lm -ldl -lc`), as static archives. libc comes last and
/// refers back to libgcc (soft float helpers), so it is a group that GNU ld
/// searches until nothing new resolves (lld needs no groups).
const STATIC_LIBS: [(&str, &str); 7] = [
    ("gcc_s", "INPUT(-l:libgcc_eh.a -l:libgcc.a)"),
    ("util", "INPUT(-l:libutil.a)"),
    ("rt", "INPUT(-l:librt.a)"),
    ("pthread", "INPUT(-l:libpthread.a)"),
    ("m", "INPUT(-l:libm.a)"),
    ("dl", "INPUT(-l:libdl.a)"),
    ("c", "GROUP(-l:libc.a -l:libgcc.a -l:libgcc_eh.a)"),
];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=SERVICEBUILDER_STATIC_RUNTIME");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux")
        || std::env::var("CARGO_CFG_TARGET_ENV").as_deref() != Ok("gnu")
    {
        return;
    }
    let out = Path::new(&std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).to_owned();
    let static_runtime = std::env::var("SERVICEBUILDER_STATIC_RUNTIME").as_deref() == Ok("1");
    let libgcc = out.join("static-libgcc");
    std::fs::create_dir_all(&libgcc).expect("create a directory in OUT_DIR");
    linker_script(&libgcc, "gcc_s", "INPUT(-lgcc_eh)");
    for bin in STATIC_LIBGCC_ONLY {
        println!("cargo:rustc-link-arg-bin={bin}=-L{}", libgcc.display());
    }
    let runtime = if static_runtime {
        let dir = out.join("static-runtime");
        std::fs::create_dir_all(&dir).expect("create a directory in OUT_DIR");
        for (lib, command) in STATIC_LIBS {
            linker_script(&dir, lib, command);
        }
        dir
    } else {
        libgcc
    };
    for bin in RUNTIME_BINARIES {
        // GNU ld and lld search every -L directory, whatever its position
        // on the command line, before the compiler's own.
        println!("cargo:rustc-link-arg-bin={bin}=-L{}", runtime.display());
        if static_runtime {
            println!("cargo:rustc-link-arg-bin={bin}=-static-pie");
        }
    }
}

/// `DIR/libLIB.so`: a linker script made of `command` (`INPUT(…)` or `GROUP(…)`).
fn linker_script(dir: &Path, lib: &str, command: &str) {
    let path = dir.join(format!("lib{lib}.so"));
    let tmp = dir.join(format!(".lib{lib}.so.tmp"));
    let text = format!("/* servicebuilder build.rs: see its header */\n{command}\n");
    std::fs::write(&tmp, text).unwrap_or_else(|e| panic!("write {}: {e}", tmp.display()));
    std::fs::rename(&tmp, &path).unwrap_or_else(|e| panic!("rename to {}: {e}", path.display()));
}
