//! `cargo fuzz run netmsg_frame`: see [`fuzz_targets::netmsg_frame`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_targets::netmsg_frame(data));
