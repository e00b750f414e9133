//! One shard's life: a glommio executor on its own core that starts every
//! service, binds every listener (SO_REUSEPORT, so the kernel spreads
//! connections over shards), accepts, and serves each connection on this
//! core for its whole life.
//!
//! Its control task links it to the coordinator thread: it watches the stop
//! flag, sends statistics snapshots, and runs the shard's part of shutdown
//! (stop accepting, end every connection's reads, drain, give up at a deadline).

use std::net::Shutdown;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Sender, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use glommio::net::TcpListener;
use glommio::timer::sleep;

use super::context::ShardContext;
use super::crowding::{CrowdWatch, ThreadSchedStat};
use super::error::{BindError, ServeError};
use super::event::Event;
use super::listeners::Listeners;
use super::metrics::SnapshotRequests;
use super::moving::ExchangeEnd;
use super::registration::{AnyService, Place, Registered};
use super::shard::Shard;
use super::spin_choice::SpinChoice;
use crate::config::{Placement, ServerConfig};
use crate::stats::{LiveStats, ShardSnapshot};
use crate::tls::{ShardTls, TlsReloader};

/// How often the control task looks at the stop flag.
const CONTROL_PERIOD: Duration = Duration::from_millis(20);
/// How long connections get to finish their last batch once stopping.
const DRAIN_DEADLINE: Duration = Duration::from_secs(3);
/// How long connections get to go once forcibly shut down.
const FORCE_DEADLINE: Duration = Duration::from_millis(500);
/// How long a drained shard keeps answering other shards' requests while it
/// waits for every shard to drain.
const MESH_DEADLINE: Duration = Duration::from_millis(500);

/// What the coordinator hands each shard.
pub(crate) struct ShardPlan {
    pub id: usize,
    pub config: Arc<ServerConfig>,
    /// This shard's own copy of every service's factory.
    pub services: Vec<Registered>,
    /// The TLS configuration, when some endpoint serves TLS.
    pub tls: Option<Arc<TlsReloader>>,
    /// Scrapes asking for this shard's statistics (`--metrics`).
    pub snapshot_requests: SnapshotRequests,
    pub start: Instant,
    pub stop: Arc<AtomicBool>,
    /// Shards done with their connections: a shard leaves only once all are,
    /// because until then others may still send requests to it.
    pub drained: Arc<AtomicUsize>,
    pub events: Sender<Event>,
    pub ready: SyncSender<Result<Readiness, ServeError>>,
    /// How connections leave a crowded core (moving.rs): with several
    /// pinned shards only.
    pub exchange: Option<ExchangeEnd>,
}

/// How far a shard has come in its start, told to the coordinator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Readiness {
    /// Its services have started (kv's may have loaded a data directory).
    Started,
    /// It has bound every listener.
    Listening,
}

/// A service running on this shard, and what it recorded.
struct Started {
    name: &'static str,
    service: Rc<dyn AnyService>,
    stats: Rc<LiveStats>,
    /// Its listeners here, which it may move (listeners.rs).
    listeners: Rc<Listeners>,
}

fn snapshot(id: usize, started: &[Started]) -> ShardSnapshot {
    ShardSnapshot {
        shard: id,
        services: started
            .iter()
            .map(|s| (s.name, s.stats.snapshot()))
            .collect(),
    }
}

/// Messages every service of the shard has served so far.
fn messages_served(started: &[Started]) -> u64 {
    started
        .iter()
        .map(|s| s.stats.recorded.borrow().counters.messages)
        .sum()
}

/// Runs a shard from starting its services to its final statistics.
pub(crate) async fn run(plan: ShardPlan) {
    let ShardPlan {
        id,
        config,
        services,
        tls,
        snapshot_requests,
        start,
        stop,
        drained,
        events,
        ready,
        exchange,
    } = plan;
    if stalls_its_start(id) {
        // A start that never ends (a test's stand-in for a hung load or
        // mesh join): the coordinator must stop the process without it.
        futures_lite::future::pending::<()>().await;
    }
    let tls = tls.map(|shared| Rc::new(ShardTls::new(shared)));
    let (exchange, inboxes) = match exchange {
        Some(end) => (Some(end.exchange), end.inboxes),
        None => (None, Vec::new()),
    };
    let shard = Rc::new(Shard::new(
        id,
        config.shards(),
        config.limits,
        start,
        exchange.clone(),
    ));

    // Start the services first: a service's start may be a barrier (joining
    // its cross-shard channels), and a shard that failed to bind would never
    // reach it.
    let mut started = Vec::with_capacity(services.len());
    for registered in services.iter() {
        let stats = Rc::new(LiveStats::default());
        let listeners = Rc::new(Listeners::new(
            registered.endpoints.iter().map(|e| e.addr).collect(),
        ));
        let context = ShardContext {
            shard: shard.clone(),
            stats: stats.clone(),
            server_stop: stop.clone(),
            events: events.clone(),
            listeners: listeners.clone(),
        };
        match registered.factory.start(&context).await {
            Ok(service) => started.push(Started {
                name: registered.name,
                service,
                stats,
                listeners,
            }),
            Err(source) => {
                let _ = ready.send(Err(ServeError::ServiceStart {
                    service: registered.name,
                    shard: id,
                    source,
                }));
                return;
            }
        }
    }

    let _ = ready.send(Ok(Readiness::Started));

    let mut acceptors = Vec::new();
    let mut inboxes = inboxes.into_iter();
    for (index, (registered, running)) in services.iter().zip(&started).enumerate() {
        let place = Place {
            name: running.name,
            index,
            shard: shard.clone(),
            stats: running.stats.clone(),
        };
        if let Some(inbox) = inboxes.next() {
            acceptors.push(glommio::spawn_local(
                running.service.arrivals_on(&place, inbox),
            ));
        }
        let (service, at, shard_tls) = (running.service.clone(), place.clone(), tls.clone());
        running
            .listeners
            .attach(Box::new(move |listener, with_tls| {
                service.accept_on(&at, listener, shard_tls.clone().filter(|_| with_tls))
            }));
        for endpoint in &registered.endpoints {
            // An address of one shard's own (resp's shard-aware ports) is
            // bound there alone, without SO_REUSEPORT company.
            if endpoint.shard.is_some_and(|only| only != id) {
                continue;
            }
            let addr = endpoint.addr;
            let listener = match TcpListener::bind(addr) {
                Ok(listener) => listener,
                Err(source) => {
                    let _ = ready.send(Err(BindError {
                        service: registered.name,
                        addr,
                        source: source.into(),
                    }
                    .into()));
                    return;
                }
            };
            running.listeners.accept(addr, listener, endpoint.tls);
        }
    }
    let _ = ready.send(Ok(Readiness::Listening));

    // Control: statistics ticks until the coordinator says stop, with
    // several pinned shards a look at how crowded this shard's core is, and
    // on a pinned shard whether it spins before it parks.
    let mut tick = 1;
    let pinned = matches!(config.placement, Placement::Pinned(_));
    let mut crowding = exchange
        .as_ref()
        .map(|_| CrowdWatch::new(pinned, config.move_crowded));
    // Read once per period for both; `None` where the kernel keeps no
    // scheduler statistics (never crowded, never a spin).
    let schedstat = (pinned || crowding.is_some())
        .then(ThreadSchedStat::for_this_thread)
        .flatten();
    let mut spin_choice = (pinned && schedstat.is_some()).then(SpinChoice::default);
    loop {
        sleep(CONTROL_PERIOD).await;
        if stop.load(Ordering::Acquire) {
            break;
        }
        // Input buffers that grew or sit idle (sweep.rs): once a second.
        shard.buffers.tick(Instant::now());
        let reading = schedstat.as_ref().and_then(ThreadSchedStat::read);
        let crowded = match (&mut crowding, &exchange) {
            (Some(crowding), Some(exchange)) => crowding.look(&shard, &exchange.loads, reading),
            _ => false,
        };
        if let (Some(choice), Some(reading)) = (&mut spin_choice, reading) {
            choice.look(reading.run_ns, messages_served(&started), crowded);
        }
        while let Ok(reply) = snapshot_requests.try_recv() {
            let _ = reply.send(snapshot(id, &started));
        }
        if let Some(interval) = config.stats_interval {
            if start.elapsed() >= interval * tick {
                let _ = events.send(Event::Tick {
                    tick,
                    snapshot: snapshot(id, &started),
                });
                tick += 1;
            }
        }
    }

    // Shutdown: no new connections, no new reads, answer what was read.
    shard.begin_stop();
    for acceptor in acceptors {
        acceptor.await;
    }
    for running in &started {
        running.listeners.join().await;
    }
    shard.connections.shutdown_all(Shutdown::Read);
    if !wait_until_closed(&shard, DRAIN_DEADLINE).await {
        // Peers that do not read their replies: stop writing to them.
        shard.connections.shutdown_all(Shutdown::Both);
        wait_until_closed(&shard, FORCE_DEADLINE).await;
    }

    // Other shards may still be serving connections whose keys live here.
    drained.fetch_add(1, Ordering::AcqRel);
    let give_up = Instant::now() + MESH_DEADLINE;
    while drained.load(Ordering::Acquire) < config.shards() && Instant::now() < give_up {
        sleep(Duration::from_millis(5)).await;
    }
    // Then each service's clean stop (kv flushes its log), and only then the
    // final statistics: the coordinator ends the process once it has them.
    for running in &started {
        running.service.stop().await;
    }
    let _ = events.send(Event::Final(snapshot(id, &started)));
}

/// Whether `PERCORE_TEST_STALL_START` names this shard: for tests only
/// (tests/it/shutdown.rs), read once per shard at its start.
fn stalls_its_start(id: usize) -> bool {
    std::env::var("PERCORE_TEST_STALL_START").is_ok_and(|v| v.trim() == id.to_string())
}

async fn wait_until_closed(shard: &Shard, deadline: Duration) -> bool {
    let give_up = Instant::now() + deadline;
    while !shard.connections.is_empty() {
        if Instant::now() >= give_up {
            return false;
        }
        sleep(Duration::from_millis(5)).await;
    }
    true
}
