//! The TLS configuration while the server runs. SIGHUP reloads the files
//! (on the coordinator's signal thread) into a new configuration, which new
//! connections get; open connections keep the one they started with (rustls
//! holds it by `Arc`). A reload that fails keeps the old configuration.
//!
//! Shards do not take a lock per accept: each keeps its own copy and a
//! generation number, and one relaxed atomic load per TLS accept tells it
//! whether a newer configuration exists; only then does it take the lock.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rustls::ServerConfig;

use super::config::{TlsError, TlsFiles};

/// The current configuration, shared by the coordinator and every shard.
pub struct TlsReloader {
    files: TlsFiles,
    generation: AtomicU64,
    current: Mutex<Arc<ServerConfig>>,
}

impl TlsReloader {
    /// Loads the files once; the server does not start without them.
    pub fn new(files: TlsFiles) -> Result<Arc<TlsReloader>, TlsError> {
        let config = files.load()?;
        Ok(Arc::new(TlsReloader {
            files,
            generation: AtomicU64::new(0),
            current: Mutex::new(config),
        }))
    }

    /// Reads the files again; on success new connections use them.
    pub fn reload(&self) -> Result<(), TlsError> {
        let config = self.files.load()?;
        let mut current = self
            .current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *current = config;
        self.generation.fetch_add(1, Ordering::Release);
        Ok(())
    }

    fn snapshot(&self) -> (u64, Arc<ServerConfig>) {
        let current = self
            .current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        (self.generation.load(Ordering::Acquire), current.clone())
    }
}

/// One shard's view of the configuration.
pub struct ShardTls {
    shared: Arc<TlsReloader>,
    cached: RefCell<(u64, Arc<ServerConfig>)>,
}

impl ShardTls {
    pub fn new(shared: Arc<TlsReloader>) -> ShardTls {
        let cached = RefCell::new(shared.snapshot());
        ShardTls { shared, cached }
    }

    /// The configuration for a connection accepted now.
    pub fn current(&self) -> Arc<ServerConfig> {
        let mut cached = self.cached.borrow_mut();
        if self.shared.generation.load(Ordering::Relaxed) != cached.0 {
            *cached = self.shared.snapshot();
        }
        cached.1.clone()
    }
}
