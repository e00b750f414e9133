//! The server core: shards, listeners, the one connection loop, shutdown. It
//! runs whatever services it is given ([`ServerBuilder::service`]) and names
//! none of them. The coordinator (main thread) starts the shards and reports;
//! each shard runs its services' accept and connection loops on its core.

mod accept;
mod buffer;
mod builder;
mod connection;
mod context;
mod coordinator;
mod crowding;
mod descriptors;
mod error;
mod event;
mod lifecycle;
mod listeners;
mod metrics;
mod moving;
pub mod outbox;
mod registration;
mod registry;
mod reserve;
mod shard;
mod spin_choice;
mod starting;
mod sweep;
mod waiting;
mod writing;

pub use builder::{BuildError, Server, ServerBuilder, StopHandle};
pub use context::{ShardContext, StopWatch};
pub use error::{BindError, ServeError};
pub use listeners::Listeners;
