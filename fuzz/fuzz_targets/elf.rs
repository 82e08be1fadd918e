//! `cargo fuzz run elf`: see [`fuzz_targets::elf`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_targets::elf(data));
