//! `cargo fuzz run mq_commands`: see [`percore_protocols::fuzz::mq_commands`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| percore_protocols::fuzz::mq_commands(data));
