//! `cargo fuzz run lines`: see [`percore::fuzz::lines`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| percore::fuzz::lines(data));
