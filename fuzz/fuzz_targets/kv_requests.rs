//! `cargo fuzz run kv_requests`: see [`percore_protocols::fuzz::kv_requests`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| percore_protocols::fuzz::kv_requests(data));
