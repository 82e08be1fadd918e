//! `cargo fuzz run tar`: see [`fuzz_targets::tar`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_targets::tar(data));
