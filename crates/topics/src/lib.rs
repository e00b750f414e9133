//! The topics: one broker per shard, shared by the protocols that publish
//! and subscribe (mq's lines, resp's pub/sub; docs/ARCHITECTURE.md "Across
//! shards"). A topic has one owner shard, which keeps how many subscribers
//! each shard has; each shard keeps its own subscribers and renders each
//! delivery in its subscriber's protocol (`deliver.rs`). A resp message
//! delivered on another shard is reported back with what it reached there
//! (`reports.rs`): PUBLISH's count, and the wait for keyspace events.
//!
//! - `routing`: the routing decisions, as pure state; `broker`: the lanes
//!   they travel on.
//! - `interest`: who on this shard hears a channel or pattern.
//! - `deliver`: a message as its subscriber's protocol writes it.
//! - [`glob`]: Redis's patterns, for PSUBSCRIBE (and resp's KEYS, SCAN).
//! - [`command`]: mq's command lines (JSON or Python literals), which its
//!   deliveries are written in.

mod broker;
pub mod command;
mod deliver;
pub mod glob;
mod interest;
mod plan;
pub mod record;
mod reports;
mod routing;
pub mod topics;

pub use broker::{Broker, Gauges};
pub use deliver::Format;
pub use plan::BrokerPlan;
pub use record::Space;
pub use reports::UNCOUNTED;
pub use routing::{told_everywhere, Published, MONITOR_CHANNEL};
