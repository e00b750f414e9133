//! `cargo fuzz run resp_requests`: see [`percore_protocols::fuzz::resp_requests`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| percore_protocols::fuzz::resp_requests(data));
