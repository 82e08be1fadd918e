//! `cargo fuzz run linux_layouts`: see [`fuzz_targets::linux_layouts`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_targets::linux_layouts(data));
