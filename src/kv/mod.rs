//! The key-value store behind the kv service: its wire format, one shard's
//! storage, and a small blocking client (`percore kv`, the tests).

pub mod client;
pub mod protocol;
mod store;

pub use client::{ClientError, KvClient};
pub use protocol::{Reply, Request};
pub use store::Store;
