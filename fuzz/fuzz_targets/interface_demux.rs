//! `cargo fuzz run interface_demux`: see [`fuzz_targets::interface_demux`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_targets::interface_demux(data));
