//! `cargo fuzz run manifest`: see [`fuzz_targets::manifest`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_targets::manifest(data));
