//! Why a server could not run: typed, with the exit status docs/PROTOCOLS.md §2 asks for.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

use thiserror::Error;

use crate::service::StartError;

/// Why the server could not run.
#[derive(Debug, Error)]
pub enum ServeError {
    #[error(transparent)]
    Bind(#[from] BindError),
    #[error("cannot start shard {shard}: {reason} (glommio needs locked memory for io_uring: try raising `ulimit -l`)")]
    ShardStart { shard: usize, reason: String },
    #[error("{service} cannot start on shard {shard}: {source}")]
    ServiceStart {
        service: &'static str,
        shard: usize,
        #[source]
        source: StartError,
    },
    #[error("cannot handle signals: {0}")]
    Signals(#[source] io::Error),
    #[error("cannot write statistics to {}: {source}", path.display())]
    StatsJson {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl ServeError {
    /// The process exit status for this error (docs/PROTOCOLS.md §2: 2 for bind failures).
    pub fn exit_code(&self) -> i32 {
        match self {
            ServeError::Bind(_) => 2,
            ServeError::ServiceStart { source, .. } => source.exit_code(),
            _ => 1,
        }
    }
}

/// A listener that could not be bound.
#[derive(Debug, Error)]
#[error("cannot bind {service} on {addr}: {source}")]
pub struct BindError {
    pub service: &'static str,
    pub addr: SocketAddr,
    #[source]
    pub source: io::Error,
}
