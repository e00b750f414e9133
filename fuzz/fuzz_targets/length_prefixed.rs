//! `cargo fuzz run length_prefixed`: see [`percore_protocols::fuzz::length_prefixed`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| percore_protocols::fuzz::length_prefixed(data));
