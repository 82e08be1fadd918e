//! `cargo fuzz run multiboot`: see [`fuzz_targets::multiboot`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_targets::multiboot(data));
