//! `cargo fuzz run rdb_payloads`: see [`percore_protocols::fuzz::rdb_payloads`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| percore_protocols::fuzz::rdb_payloads(data));
