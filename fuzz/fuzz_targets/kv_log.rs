//! `cargo fuzz run kv_log`: see [`percore_protocols::fuzz::kv_log`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| percore_protocols::fuzz::kv_log(data));
