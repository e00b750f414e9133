//! percore: a thread-per-core TCP server on io_uring (glommio), and a library
//! for writing such servers.
//!
//! A service says how its byte stream is cut into requests (a [`Decoder`]:
//! [`Lines`], [`LengthPrefixed`], [`Raw`] or its own), what it keeps per
//! connection, and answers the requests of each read as one [`Batch`]. The
//! [`Server`] runs it on every core with everything else: a listener per
//! shard (SO_REUSEPORT), batching, limits, statistics and the Ctrl-C report,
//! graceful shutdown, panic isolation, the open-files limit.
//!
//! ```no_run
//! use percore::{Batch, Flow, Lines, Opening, Server, Service};
//!
//! /// Answers every line with its length.
//! #[derive(Clone)]
//! struct Measure;
//!
//! impl Service for Measure {
//!     type Decoder = Lines;
//!     type Session = ();
//!
//!     fn open_session(&self, _: &mut Opening<'_>) {}
//!
//!     async fn serve(&self, _: &mut (), batch: &mut Batch<'_, Lines>) -> Flow {
//!         while let Some(line) = batch.next_request() {
//!             let reply = format!("{}\n", line.trim_ascii_end().len());
//!             batch.out().extend_from_slice(reply.as_bytes());
//!             batch.served();
//!         }
//!         Flow::Continue
//!     }
//!
//!     fn frame_too_long(&self, out: &mut Vec<u8>) {
//!         out.extend_from_slice(b"too long\n");
//!     }
//! }
//!
//! let addr: std::net::SocketAddr = "127.0.0.1:9002".parse()?;
//! let server = Server::builder().service("measure", [addr], Measure).build()?;
//! server.run()?; // until Ctrl-C; then the report
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The crate's parts:
//! - [`server`]: the core — shards, listeners, the one connection loop,
//!   shutdown, the builder. It names no service.
//! - [`service`]: the contract a service implements, and its hooks
//!   (greeting, next-request deadline, per-shard start); a simple service
//!   answers one request at a time as a [`Handler`].
//! - [`codec`]: how byte streams become requests.
//! - [`cross_shard`]: who owns a key or topic, and the channels to reach it.
//! - [`stats`]: per-shard counters and latency histograms, merged into reports.
//! - [`tls`]: TLS for any service's `tls://` listeners (rustls).
//! - [`config`]: what a server is configured with (limits, placement,
//!   endpoints).
//! - [`transport`]: a plain or TLS stream, as the connection loop and a
//!   client (the load generator) read and write it.
//!
//! This crate is the framework alone: it depends on no service. The
//! built-in services are `percore_protocols`, over the key space
//! (`percore_keyspace`) and the topics (`percore_topics`); the binary and
//! the load generator sit on top (docs/ARCHITECTURE.md "Crates").

pub use codec::{Decoder, LengthPrefixed, Lines, Raw};
pub use config::Endpoint;
pub use server::{Server, ServerBuilder, ShardContext, StopHandle};
pub use service::{
    Batch, Flow, Handler, Opening, PerRequest, Reply, Service, ServiceFactory, StartError,
};
pub use stats::Counter;

pub mod codec;
pub mod config;
pub mod cross_shard;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzz;
pub mod server;
pub mod service;
pub mod stats;
pub mod tls;
pub mod transport;
