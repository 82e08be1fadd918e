//! `cargo fuzz run pager_replies`: see [`fuzz_targets::pager_replies`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_targets::pager_replies(data));
