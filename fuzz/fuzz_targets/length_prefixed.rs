//! `cargo fuzz run length_prefixed`: see [`percore::fuzz::length_prefixed`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| percore::fuzz::length_prefixed(data));
