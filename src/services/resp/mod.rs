//! resp (SPEC 6): the Redis protocol over the shared key space and topics.

pub mod command_table;
pub mod protocol;
