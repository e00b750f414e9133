//! How a program gets a server: name its services with their addresses and
//! factories, set limits if the defaults do not suit, build (which checks
//! that every address is free), run. `percore serve` is one such program;
//! `crates/percore/examples/json_echo.rs` is another.

use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;

use super::coordinator::{probe_addresses, run};
use super::error::{BindError, ServeError};
use super::event::Event;
use super::registration::{listens, Registered};
use super::reserve::{reserve_ports, Prebound};
use crate::config::{Endpoint, Limits, Placement, ServerConfig};
use crate::service::{Handler, PerRequest, ServiceFactory};
use crate::stats::Report;
use crate::tls::{TlsError, TlsFiles, TlsReloader};

/// Collects a server's configuration and services.
pub struct ServerBuilder {
    config: ServerConfig,
    /// Shards asked for, placed at build; `None`: one per CPU.
    shards: Option<usize>,
    /// Whether `config.placement` was given as is.
    placed: bool,
    services: Vec<Registered>,
    handle_signals: bool,
}

/// Why a server could not be built.
#[derive(Debug, Error)]
pub enum BuildError {
    #[error("no service to serve")]
    NoService,
    #[error("two services are named {0}")]
    DuplicateName(&'static str),
    #[error("service {0} has no address to listen on")]
    NoAddress(&'static str),
    #[error("cannot read the CPUs this process may run on")]
    NoCpus,
    #[error(transparent)]
    Bind(#[from] BindError),
    #[error(transparent)]
    Tls(#[from] TlsError),
}

impl BuildError {
    /// The process exit status for this error (docs/PROTOCOLS.md §2: 2 for bind failures).
    pub fn exit_code(&self) -> i32 {
        2
    }
}

impl Default for ServerBuilder {
    fn default() -> Self {
        ServerBuilder::new()
    }
}

impl ServerBuilder {
    /// One shard per CPU this process may run on, the limits of docs/PROTOCOLS.md §2, no
    /// periodic statistics; SIGINT and SIGTERM stop the server.
    pub fn new() -> ServerBuilder {
        ServerBuilder {
            config: ServerConfig {
                placement: Placement::Unpinned(0),
                limits: Limits::default(),
                stats_interval: None,
                stats_json: None,
                tls: None,
                metrics: None,
                move_crowded: true,
            },
            shards: None,
            placed: false,
            services: Vec::new(),
            handle_signals: true,
        }
    }

    /// Everything at once, as `percore serve` validated it.
    pub fn config(mut self, config: ServerConfig) -> Self {
        self.config = config;
        self.placed = true;
        self
    }

    /// Runs `shards` shards: pinned one per CPU while there are enough CPUs,
    /// unpinned beyond, with a warning (see [`Placement::for_shards`]).
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = Some(shards.max(1));
        self.placed = false;
        self
    }

    pub fn limits(mut self, limits: Limits) -> Self {
        self.config.limits = limits;
        self
    }

    /// Prints a statistics line to stderr every `interval`.
    pub fn stats_interval(mut self, interval: Duration) -> Self {
        self.config.stats_interval = (!interval.is_zero()).then_some(interval);
        self
    }

    /// On shutdown, also writes the final statistics as JSON (docs/PROTOCOLS.md §5) to `path`.
    pub fn stats_json(mut self, path: impl Into<PathBuf>) -> Self {
        self.config.stats_json = Some(path.into());
        self
    }

    /// The certificate and key (and, for mutual TLS, the client CA) that
    /// `tls://` endpoints serve with.
    pub fn tls(mut self, files: TlsFiles) -> Self {
        self.config.tls = Some(files);
        self
    }

    /// Serves live metrics (Prometheus) and a health check on `addr`.
    pub fn metrics(mut self, addr: std::net::SocketAddr) -> Self {
        self.config.metrics = Some(addr);
        self
    }

    /// Whether SIGINT and SIGTERM stop the server (the default). A program
    /// that embeds the server and stops it with a [`StopHandle`] may leave
    /// its signals alone.
    pub fn handle_signals(mut self, handle: bool) -> Self {
        self.handle_signals = handle;
        self
    }

    /// Serves `name` on every endpoint of `endpoints` (a `SocketAddr` is a
    /// plain one; [`Endpoint::tls`] serves TLS), on every shard, with the
    /// service `factory` makes on each shard. Reports list services in the
    /// order they were added.
    pub fn service<F: ServiceFactory, E: Into<Endpoint>>(
        mut self,
        name: &'static str,
        endpoints: impl IntoIterator<Item = E>,
        factory: F,
    ) -> Self {
        self.services.push(Registered {
            name,
            endpoints: endpoints.into_iter().map(Into::into).collect(),
            factory: Box::new(factory),
        });
        self
    }

    /// Serves `name` with a [`Handler`], which answers one request at a
    /// time: [`ServerBuilder::service`] with the handler run as a
    /// [`PerRequest`] service.
    pub fn handler<H: Handler + Clone + Send, E: Into<Endpoint>>(
        self,
        name: &'static str,
        endpoints: impl IntoIterator<Item = E>,
        handler: H,
    ) -> Self {
        self.service(name, endpoints, PerRequest(handler))
    }

    /// Checks the services and that every address can be bound; nothing
    /// runs yet.
    pub fn build(mut self) -> Result<Server, BuildError> {
        if self.services.is_empty() {
            return Err(BuildError::NoService);
        }
        for (i, service) in self.services.iter().enumerate() {
            if self.services[..i].iter().any(|s| s.name == service.name) {
                return Err(BuildError::DuplicateName(service.name));
            }
            if service.endpoints.is_empty() {
                return Err(BuildError::NoAddress(service.name));
            }
        }
        let serves_tls = self
            .services
            .iter()
            .flat_map(|s| &s.endpoints)
            .any(|e| e.tls);
        let tls = match (&self.config.tls, serves_tls) {
            (None, true) => return Err(TlsError::NoCertificate.into()),
            (Some(files), true) => Some(TlsReloader::new(files.clone())?),
            (_, false) => None,
        };
        if !self.placed {
            let (placement, warning) =
                Placement::for_shards(self.shards).ok_or(BuildError::NoCpus)?;
            if let Some(warning) = warning {
                eprintln!("percore: warning: {warning}");
            }
            self.config.placement = placement;
        }
        // Named ports are checked free first; port-0 ones are then picked
        // and held (a picked port is free by construction).
        let named: Vec<_> = listens(&self.services)
            .into_iter()
            .filter(|l| l.addr.port() != 0)
            .collect();
        probe_addresses(&named)?;
        let reserved = reserve_ports(&mut self.services)?;
        let metrics = match self.config.metrics {
            None => None,
            Some(addr) => {
                let bind_error = |source| BindError {
                    service: "metrics",
                    addr,
                    source,
                };
                let listener = std::net::TcpListener::bind(addr).map_err(bind_error)?;
                // Port 0: the listening line names the port it got.
                self.config.metrics = Some(listener.local_addr().map_err(bind_error)?);
                Some(listener)
            }
        };
        let (events, inbox) = mpsc::channel();
        Ok(Server {
            config: Arc::new(self.config),
            services: self.services,
            tls,
            prebound: Prebound { metrics, reserved },
            handle_signals: self.handle_signals,
            events,
            inbox,
        })
    }
}

/// A server whose addresses are known to be free.
pub struct Server {
    config: Arc<ServerConfig>,
    services: Vec<Registered>,
    /// The TLS configuration, when some endpoint serves TLS.
    tls: Option<Arc<TlsReloader>>,
    /// The metrics listener and the ports picked for port-0 addresses,
    /// bound already.
    prebound: Prebound,
    handle_signals: bool,
    events: Sender<Event>,
    inbox: Receiver<Event>,
}

impl Server {
    pub fn builder() -> ServerBuilder {
        ServerBuilder::new()
    }

    /// How many shards it will run.
    pub fn shards(&self) -> usize {
        self.config.shards()
    }

    /// Every address each service will listen on, in the order the
    /// listening line names them: a port-0 address here already carries the
    /// port it got, so an embedding program knows where to connect.
    pub fn addresses(&self) -> Vec<(&'static str, Endpoint)> {
        listens(&self.services)
            .into_iter()
            .map(|l| (l.service, l.endpoint()))
            .collect()
    }

    /// The metrics endpoint's address (its real port, when 0 was asked).
    pub fn metrics_address(&self) -> Option<std::net::SocketAddr> {
        self.config.metrics
    }

    /// A handle that stops the running server gracefully, as SIGINT does.
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle(self.events.clone())
    }

    /// Runs the server until SIGINT or SIGTERM (or a [`StopHandle`]), then
    /// prints the final report to stdout and returns it.
    pub fn run(self) -> Result<Report, ServeError> {
        run(
            self.config,
            self.services,
            self.tls,
            self.prebound,
            self.events,
            self.inbox,
            self.handle_signals,
        )
    }
}

/// Stops a server from any thread; stopping twice is stopping once.
#[derive(Clone, Debug)]
pub struct StopHandle(Sender<Event>);

impl StopHandle {
    pub fn stop(&self) {
        let _ = self.0.send(Event::Stop);
    }
}
