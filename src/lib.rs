//! percore: a thread-per-core TCP server on io_uring (glommio).
//!
//! - [`server`]: the core — shards, listeners, the one connection loop, shutdown.
//! - [`codec`]: how byte streams become requests (lines, length-prefixed frames).
//! - [`service`]: the trait a service implements; [`services`]: yell, echo,
//!   chat, mq and kv, one file or folder each (wire format, routing, state).
//! - [`cross_shard`]: who owns a key or topic, and the channel mesh to reach it.
//! - [`stats`]: per-shard counters and latency histograms, merged into reports.
//! - [`load`]: `percore load`, the load generator.
//! - [`cli`] and [`config`]: the command line and what it configures.
//! - [`fuzz`]: fuzz targets for every decoder (`cargo fuzz`, and a smoke run in the tests).

pub use codec::{Decoder, LengthPrefixed, Lines, Raw};
pub use server::{Server, ServerBuilder, ShardContext, StopHandle};
pub use service::{Batch, Flow, Opening, Service, ServiceFactory, StartError};
pub use stats::Counter;

pub mod cli;
pub mod codec;
pub mod config;
pub mod cross_shard;
pub mod fuzz;
pub mod load;
pub mod server;
pub mod service;
pub mod services;
pub mod stats;
