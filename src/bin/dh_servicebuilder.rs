//! `dh_servicebuilder`: the debhelper command. All logic is in
//! `servicebuilder::debhelper`.

/// dh reads its NOOP promise from the first line of the installed command
/// that contains it, byte for byte, so the text must stand on a line of its
/// own (surrounded by `\n`) inside the compiled binary: dh then skips this
/// command when no package has `debian/PKG.runit.yaml`, `debian/PKG.runit`
/// (or `debian/runit.yaml` / `debian/runit`), whatever options dh got.
#[used]
static PROMISE: &str = "\n# PROMISE: DH NOOP WITHOUT runit.yaml runit cli-options()\n";

fn main() {
    std::hint::black_box(PROMISE);
    let argv: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    std::process::exit(servicebuilder::debhelper::main(&argv));
}
