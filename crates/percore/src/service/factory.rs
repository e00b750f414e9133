//! How a service comes to life on every shard. The server holds one factory
//! per service and hands each shard a clone of it; each shard asks its clone
//! for its own [`Service`] before binding the service's listeners. That start is the
//! Python originals' per-shard hook: it may spawn the shard's background tasks (a
//! ticker), and a service whose shards talk to each other joins its
//! cross-shard channels there ([`crate::cross_shard`]), planned once on the
//! coordinator in [`ServiceFactory::prepare`].

use std::error::Error as StdError;
use std::future::Future;

use thiserror::Error;

use super::Service;
use crate::server::ShardContext;

/// Makes a service's instance on each shard.
///
/// A service without per-shard state needs no factory of its own: any
/// `Service + Clone + Send` is its own factory, cloned onto each shard. A
/// service that forgets `#[derive(Clone)]` is told so, first:
///
/// ```compile_fail
/// use percore::{Batch, Flow, Lines, Opening, Server, Service};
///
/// struct Reverse; // no #[derive(Clone)]
///
/// impl Service for Reverse {
///     type Decoder = Lines;
///     type Session = ();
///     fn open_session(&self, _: &mut Opening<'_>) {}
///     async fn serve(&self, _: &mut (), batch: &mut Batch<'_, Lines>) -> Flow {
///         Flow::Continue
///     }
///     fn frame_too_long(&self, _: &mut Vec<u8>) {}
/// }
///
/// let addr: std::net::SocketAddr = "127.0.0.1:9000".parse().unwrap();
/// // error: `Reverse` is not a service factory ... add `#[derive(Clone)]`
/// let _ = Server::builder().service("reverse", [addr], Reverse);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a service factory: add `#[derive(Clone)]` to it",
    label = "`{Self}` is neither `Clone` nor a `ServiceFactory`",
    note = "a service is its own factory, cloned onto each shard, when it is `Service + Clone + Send + 'static`: \
            add `#[derive(Clone)]` to `{Self}`, or implement `ServiceFactory` for a type that builds it on each shard"
)]
pub trait ServiceFactory: Clone + Send + 'static {
    type Service: Service;

    /// Called once, on the coordinator, before any shard starts (and before
    /// the factory is cloned for each), with the number of shards: the moment
    /// to plan cross-shard channels, which every shard then joins in
    /// [`ServiceFactory::start`].
    fn prepare(&mut self, _shards: usize) {}

    /// Builds the service on one shard, before its listeners are bound. Runs
    /// on every shard, concurrently, so a barrier (joining a mesh) is fine;
    /// an error stops the server before it listens.
    fn start(
        &self,
        shard: &ShardContext,
    ) -> impl Future<Output = Result<Self::Service, StartError>>;
}

impl<S: Service + Clone + Send> ServiceFactory for S {
    type Service = S;

    async fn start(&self, _shard: &ShardContext) -> Result<S, StartError> {
        Ok(self.clone())
    }
}

/// Why a service could not start on a shard, and the exit status the
/// process ends with for it (1 unless the service says otherwise).
#[derive(Debug, Error)]
#[error("{source}")]
pub struct StartError {
    source: Box<dyn StdError + Send + Sync>,
    exit_code: i32,
}

impl StartError {
    pub fn new(error: impl Into<Box<dyn StdError + Send + Sync>>) -> StartError {
        StartError {
            source: error.into(),
            exit_code: 1,
        }
    }

    /// Ends the process with `code` (kv's corrupt data: 3, docs/PROTOCOLS.md §7.1).
    pub fn with_exit_code(mut self, code: i32) -> StartError {
        self.exit_code = code;
        self
    }

    pub fn exit_code(&self) -> i32 {
        self.exit_code
    }
}

impl From<crate::cross_shard::MeshError> for StartError {
    fn from(error: crate::cross_shard::MeshError) -> StartError {
        StartError::new(error)
    }
}
