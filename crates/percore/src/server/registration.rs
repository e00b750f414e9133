//! The services a server runs, as the core holds them: a name, addresses and
//! a factory, with the service's type erased so that one server runs any mix
//! of services. Erasure stops at the accept loop: each service's connections
//! run the connection loop compiled for that service, with no dynamic call
//! per request.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use glommio::net::TcpListener;

use super::accept::{accept_loop, arrivals_loop, Serving};
use super::context::ShardContext;
use super::moving::Arrival;
use super::shard::Shard;
use crate::config::{Endpoint, Listen};
use crate::service::{Service, ServiceFactory, StartError};
use crate::stats::LiveStats;
use crate::tls::ShardTls;

/// A future on one shard's thread, boxed.
pub(crate) type LocalFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// One service given to the server; each shard gets a clone.
pub(crate) struct Registered {
    pub name: &'static str,
    pub endpoints: Vec<Endpoint>,
    pub factory: Box<dyn AnyFactory>,
}

impl Clone for Registered {
    fn clone(&self) -> Self {
        Registered {
            name: self.name,
            endpoints: self.endpoints.clone(),
            factory: self.factory.clone_boxed(),
        }
    }
}

/// Every address of every service, as reports and the listening line list them.
pub(crate) fn listens(services: &[Registered]) -> Vec<Listen> {
    services
        .iter()
        .flat_map(|s| {
            s.endpoints.iter().map(|e| Listen {
                service: s.name,
                addr: e.addr,
                tls: e.tls,
            })
        })
        .collect()
}

/// A [`ServiceFactory`] of any service.
pub(crate) trait AnyFactory: Send {
    fn prepare(&mut self, shards: usize);
    fn clone_boxed(&self) -> Box<dyn AnyFactory>;
    fn start<'a>(
        &'a self,
        shard: &'a ShardContext,
    ) -> LocalFuture<'a, Result<Rc<dyn AnyService>, StartError>>;
}

impl<F: ServiceFactory> AnyFactory for F {
    fn prepare(&mut self, shards: usize) {
        ServiceFactory::prepare(self, shards)
    }

    fn clone_boxed(&self) -> Box<dyn AnyFactory> {
        Box::new(self.clone())
    }

    fn start<'a>(
        &'a self,
        shard: &'a ShardContext,
    ) -> LocalFuture<'a, Result<Rc<dyn AnyService>, StartError>> {
        Box::pin(async move {
            let service = ServiceFactory::start(self, shard).await?;
            Ok(Rc::new(Running(Rc::new(service))) as Rc<dyn AnyService>)
        })
    }
}

/// Which service, on which shard: what its loops are given.
#[derive(Clone)]
pub(crate) struct Place {
    pub name: &'static str,
    /// The service's place in the server's list of services.
    pub index: usize,
    pub shard: Rc<Shard>,
    pub stats: Rc<LiveStats>,
}

/// A service started on one shard, ready to accept.
pub(crate) trait AnyService {
    fn accept_on(
        &self,
        place: &Place,
        listener: TcpListener,
        tls: Option<Rc<ShardTls>>,
    ) -> LocalFuture<'static, ()>;

    /// Takes the connections other shards hand over (moving.rs).
    fn arrivals_on(
        &self,
        place: &Place,
        inbox: flume::Receiver<Arrival>,
    ) -> LocalFuture<'static, ()>;

    /// The service's clean-stop hook.
    fn stop(&self) -> LocalFuture<'_, ()>;
}

struct Running<S>(Rc<S>);

impl<S: Service> Running<S> {
    fn serving(&self, place: &Place) -> Serving<S> {
        Serving {
            service: self.0.clone(),
            place: place.clone(),
        }
    }
}

impl<S: Service> AnyService for Running<S> {
    fn accept_on(
        &self,
        place: &Place,
        listener: TcpListener,
        tls: Option<Rc<ShardTls>>,
    ) -> LocalFuture<'static, ()> {
        Box::pin(accept_loop(self.serving(place), listener, tls))
    }

    fn arrivals_on(
        &self,
        place: &Place,
        inbox: flume::Receiver<Arrival>,
    ) -> LocalFuture<'static, ()> {
        Box::pin(arrivals_loop(self.serving(place), inbox))
    }

    fn stop(&self) -> LocalFuture<'_, ()> {
        Box::pin(self.0.stop())
    }
}
