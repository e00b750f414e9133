//! TLS for every service (docs/PROTOCOLS.md §9), provided by the framework: a listener
//! given as `tls://HOST:PORT` hands each connection to rustls before the
//! service sees it, and the service never knows whether its bytes were
//! encrypted. The batching contract holds: a read's records are decrypted
//! together, the batch is answered, and its answers are encrypted and written
//! in one write.
//!
//! - [`config`]: the certificate, key and client CA files, loaded into a
//!   rustls configuration, with errors that name the file.
//! - [`reload`]: the configuration shards use, swapped whole on SIGHUP;
//!   shards notice a new one with one relaxed load per accept.
//! - [`stream`]: one TLS connection: the handshake (with its deadline) and
//!   the record layer over a glommio TCP stream, server or client side.
//! - [`client`]: what percore's own clients trust.

pub mod client;
pub mod config;
pub mod reload;
pub mod stream;

pub use config::{TlsError, TlsFiles};
pub use reload::{ShardTls, TlsReloader};
pub use stream::TlsStream;
