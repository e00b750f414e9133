//! `cargo fuzz run kv_log`: see [`percore::fuzz::kv_log`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| percore::fuzz::kv_log(data));
