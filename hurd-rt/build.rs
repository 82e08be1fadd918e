//! Applies hurd-rt's linker script (`hurd-rt.ld`) to every program that
//! depends on hurd-rt, when it is built for bare metal
//! (`x86_64-unknown-none`): the script is written to `OUT_DIR` and named as a
//! verbatim link input, which the linker reads as a script. Host builds (tests,
//! docs, clippy) are left alone.

fn main() {
    println!("cargo:rerun-if-changed=hurd-rt.ld");
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("none") {
        return;
    }
    let Ok(out) = std::env::var("OUT_DIR") else {
        panic!("cargo sets OUT_DIR for build scripts");
    };
    let script = std::path::Path::new(&out).join("hurd-rt.ld");
    if let Err(e) = std::fs::write(&script, include_str!("hurd-rt.ld")) {
        panic!("cannot write {}: {e}", script.display());
    }
    println!("cargo:rustc-link-search=native={out}");
    println!("cargo:rustc-link-lib=dylib:+verbatim=hurd-rt.ld");
}
