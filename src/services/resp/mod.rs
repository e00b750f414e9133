//! resp (SPEC 6): the Redis protocol over the shared key space and topics.

pub mod protocol;
