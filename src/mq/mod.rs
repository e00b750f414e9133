//! The message queue behind the mq service: its command lines, the records
//! its shards exchange, and one shard's share of the topic tables.

pub mod command;
pub mod record;
pub mod topics;
