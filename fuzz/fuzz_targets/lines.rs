//! `cargo fuzz run lines`: see [`percore_protocols::fuzz::lines`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| percore_protocols::fuzz::lines(data));
