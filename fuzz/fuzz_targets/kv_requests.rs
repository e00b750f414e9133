//! `cargo fuzz run kv_requests`: see [`percore::fuzz::kv_requests`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| percore::fuzz::kv_requests(data));
