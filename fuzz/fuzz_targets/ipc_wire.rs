//! `cargo fuzz run ipc_wire`: see [`fuzz_targets::ipc_wire`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_targets::ipc_wire(data));
