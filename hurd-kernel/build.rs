//! Links the kernel binary with `link.ld`, but only for bare-metal targets:
//! host builds of the library and of the binary's stub are left alone.

fn main() {
    println!("cargo:rerun-if-changed=link.ld");
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "none" {
        let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
        println!("cargo:rustc-link-arg-bins=-T{dir}/link.ld");
        // The image is loaded at its link address by the boot loader: no
        // position-independent executable, no dynamic relocations.
        println!("cargo:rustc-link-arg-bins=--no-pie");
        println!("cargo:rustc-link-arg-bins=-zmax-page-size=4096");
        // The trace build: defmt's linker script (on the search path by
        // defmt's build script) keeps the `.defmt` section of format
        // strings in the ELF, outside the loaded image, for the decoder.
        if std::env::var_os("CARGO_FEATURE_TRACE").is_some() {
            println!("cargo:rustc-link-arg-bins=-Tdefmt.x");
        }
    }
}
