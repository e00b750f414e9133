//! One shard: a glommio executor on its own core that binds every enabled
//! listener (SO_REUSEPORT, so the kernel spreads connections over shards),
//! accepts, and serves each connection on this core for its whole life.
//!
//! Its control task links it to the coordinator thread: it watches the stop
//! flag, sends statistics snapshots, and runs the shard's part of shutdown
//! (stop accepting, end every connection's reads, drain, give up at a deadline).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::net::Shutdown;
use std::os::fd::AsRawFd;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Sender, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_lite::FutureExt;
use glommio::net::TcpListener;
use glommio::sync::Semaphore;
use glommio::timer::sleep;

use super::{connection, BindError, Event, ServeError};
use crate::config::{Limits, Listen, ServerConfig, ServiceKind};
use crate::cross_shard::{Mesh, MeshPlan};
use crate::service::Service;
use crate::services::kv::SharedStore;
use crate::services::mq::{Broker, MqPlan};
use crate::services::{Chat, Echo, Kv, Mq, Yell};
use crate::stats::{ServiceStats, ShardSnapshot};

/// How often the control task looks at the stop flag.
const CONTROL_PERIOD: Duration = Duration::from_millis(20);
/// How long connections get to finish their last batch once stopping.
const DRAIN_DEADLINE: Duration = Duration::from_secs(3);
/// How long connections get to go once forcibly shut down.
const FORCE_DEADLINE: Duration = Duration::from_millis(500);
/// Pause before accepting again after the process ran out of descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);
/// How long a drained shard keeps answering other shards' requests while it
/// waits for every shard to drain.
const MESH_DEADLINE: Duration = Duration::from_millis(500);

/// What the coordinator hands each shard.
pub(crate) struct ShardPlan {
    pub id: usize,
    pub config: Arc<ServerConfig>,
    pub start: Instant,
    pub stop: Arc<AtomicBool>,
    /// Shards done with their connections: a shard leaves only once all are,
    /// because until then others may still forward requests to it.
    pub drained: Arc<AtomicUsize>,
    /// The kv mesh, with more than one shard.
    pub kv_mesh: Option<MeshPlan>,
    /// The mq lanes, with more than one shard.
    pub mq_lanes: Option<MqPlan>,
    pub events: Sender<Event>,
    pub ready: SyncSender<Result<(), ServeError>>,
}

/// The state every task of a shard shares, on the shard's own thread.
pub(crate) struct Shard {
    pub id: usize,
    pub limits: Limits,
    /// The server's start: statistics count seconds from it.
    pub start: Instant,
    connections: Rc<super::registry::Registry>,
    stopping: Cell<bool>,
    /// Closed when the shard stops: accept loops wait on it.
    stop_signal: Semaphore,
    stats: Vec<(ServiceKind, Rc<RefCell<ServiceStats>>)>,
    /// This shard's kv keys, and its way to the other shards' keys.
    kv: Option<(SharedStore, Option<Rc<Mesh>>)>,
    /// This shard's part of the message queue.
    mq: Option<Rc<Broker>>,
    /// Debug builds only: a connection that sends these bytes panics, so
    /// tests can prove that a panic ends that connection alone.
    #[cfg(debug_assertions)]
    pub panic_trigger: Option<Vec<u8>>,
}

impl Shard {
    pub fn is_stopping(&self) -> bool {
        self.stopping.get()
    }

    fn begin_stop(&self) {
        self.stopping.set(true);
        self.stop_signal.close();
    }

    fn stats_of(&self, kind: ServiceKind) -> Rc<RefCell<ServiceStats>> {
        self.stats
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, stats)| Rc::clone(stats))
            .unwrap_or_default()
    }

    fn snapshot(&self) -> ShardSnapshot {
        ShardSnapshot {
            shard: self.id,
            services: self
                .stats
                .iter()
                .map(|(kind, stats)| (*kind, stats.borrow().clone()))
                .collect(),
        }
    }

    /// Resolves once the shard starts stopping.
    async fn stopped(&self) {
        // A closed semaphore fails every acquire: that failure is the signal.
        let _ = self.stop_signal.acquire(1).await;
    }
}

/// Runs a shard from binding to its final statistics.
pub(crate) async fn run(plan: ShardPlan) {
    let ShardPlan {
        id,
        config,
        start,
        stop,
        drained,
        kv_mesh,
        mq_lanes,
        events,
        ready,
    } = plan;
    let stats: Vec<(ServiceKind, Rc<RefCell<ServiceStats>>)> = config
        .listens
        .iter()
        .map(|listen| (listen.kind, Rc::default()))
        .collect();

    // Join the meshes first: joining is a barrier, and a shard that failed
    // to bind would never reach it.
    let kv = if config.serves(ServiceKind::Kv) {
        let store = SharedStore::default();
        let mesh = match kv_mesh {
            None => None,
            Some(plan) => {
                let owned = store.clone();
                let serve = move |frames: &[u8], replies: &mut Vec<u8>| {
                    Kv::serve_forwarded(&owned, frames, replies)
                };
                match Mesh::join(plan, id, serve).await {
                    Ok(mesh) => Some(mesh),
                    Err(source) => {
                        let _ = ready.send(Err(ServeError::Mesh { shard: id, source }));
                        return;
                    }
                }
            }
        };
        Some((store, mesh))
    } else {
        None
    };
    let mq = match stats.iter().find(|(kind, _)| *kind == ServiceKind::Mq) {
        None => None,
        Some((_, mq_stats)) => {
            let queue_cap = config.limits.mq_queue_bytes;
            let broker = Broker::start(mq_lanes, id, queue_cap, mq_stats.clone(), stop.clone());
            match broker.await {
                Ok(broker) => Some(broker),
                Err(source) => {
                    let _ = ready.send(Err(ServeError::Mesh { shard: id, source }));
                    return;
                }
            }
        }
    };

    let mut listeners = Vec::with_capacity(config.listens.len());
    for &listen in &config.listens {
        match TcpListener::bind(listen.addr) {
            Ok(listener) => listeners.push((listen, listener)),
            Err(source) => {
                let _ = ready.send(Err(BindError {
                    service: listen.kind,
                    addr: listen.addr,
                    source: source.into(),
                }
                .into()));
                return;
            }
        }
    }

    let shard = Rc::new(Shard {
        id,
        limits: config.limits,
        start,
        connections: Rc::default(),
        stopping: Cell::new(false),
        stop_signal: Semaphore::new(0),
        stats,
        kv,
        mq,
        #[cfg(debug_assertions)]
        panic_trigger: std::env::var_os("PERCORE_TEST_PANIC_ON")
            .map(|trigger| trigger.into_encoded_bytes()),
    });
    let acceptors: Vec<_> = listeners
        .into_iter()
        .map(|(listen, listener)| glommio::spawn_local(accept_for(listen, listener, shard.clone())))
        .collect();
    let _ = ready.send(Ok(()));

    // Control: statistics ticks until the coordinator says stop.
    let mut tick = 1;
    loop {
        sleep(CONTROL_PERIOD).await;
        if stop.load(Ordering::Acquire) {
            break;
        }
        if let Some(interval) = config.stats_interval {
            if start.elapsed() >= interval * tick {
                let _ = events.send(Event::Tick {
                    tick,
                    snapshot: shard.snapshot(),
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
    shard.connections.shutdown_all(Shutdown::Read);
    if !wait_until_closed(&shard, DRAIN_DEADLINE).await {
        // Peers that do not read their replies: stop writing to them.
        shard.connections.shutdown_all(Shutdown::Both);
        wait_until_closed(&shard, FORCE_DEADLINE).await;
    }
    let _ = events.send(Event::Final(shard.snapshot()));

    // Other shards may still be serving connections whose keys live here.
    drained.fetch_add(1, Ordering::AcqRel);
    let give_up = Instant::now() + MESH_DEADLINE;
    while drained.load(Ordering::Acquire) < config.shards() && Instant::now() < give_up {
        sleep(Duration::from_millis(5)).await;
    }
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

fn accept_for(listen: Listen, listener: TcpListener, shard: Rc<Shard>) -> impl Future<Output = ()> {
    let stats = shard.stats_of(listen.kind);
    async move {
        match listen.kind {
            ServiceKind::Yell => accept_loop(Rc::new(Yell), listener, shard, stats).await,
            ServiceKind::Echo => accept_loop(Rc::new(Echo), listener, shard, stats).await,
            ServiceKind::Chat => accept_loop(Rc::new(Chat), listener, shard, stats).await,
            ServiceKind::Kv => {
                let Some((store, mesh)) = shard.kv.clone() else {
                    return;
                };
                accept_loop(Rc::new(Kv::new(store, mesh)), listener, shard, stats).await
            }
            ServiceKind::Mq => {
                let Some(broker) = shard.mq.clone() else {
                    return;
                };
                accept_loop(Rc::new(Mq::new(broker)), listener, shard, stats).await
            }
        }
    }
}

/// Accepts connections for one service until the shard stops.
async fn accept_loop<S: Service>(
    service: Rc<S>,
    listener: TcpListener,
    shard: Rc<Shard>,
    stats: Rc<RefCell<ServiceStats>>,
) {
    let mut last_complaint: Option<Instant> = None;
    loop {
        // The stop comes first: under a flood of connections an accept is
        // always ready, and polled first it would keep the listener open.
        let accepted = async {
            shard.stopped().await;
            None
        }
        .or(async { Some(listener.accept().await) })
        .await;
        let stream = match accepted {
            None => return,
            Some(Ok(stream)) => stream,
            Some(Err(error)) => {
                // Out of descriptors or memory: give the shard a moment, and
                // keep serving the connections it has. Say so once a second.
                if last_complaint.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
                    eprintln!(
                        "percore: shard {}: {} accept failed: {error}",
                        shard.id,
                        S::KIND
                    );
                    last_complaint = Some(Instant::now());
                }
                sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        if shard.connections.len() >= shard.limits.max_conns {
            stats.borrow_mut().counters.rejected += 1;
            drop(stream);
            continue;
        }
        let registration = shard.connections.register(stream.as_raw_fd());
        {
            let mut stats = stats.borrow_mut();
            stats.counters.accepted += 1;
            stats.counters.open += 1;
        }
        let (service, shard, stats) = (service.clone(), shard.clone(), stats.clone());
        glommio::spawn_local(async move {
            let served = AssertUnwindSafe(connection::serve(&*service, stream, &shard, &stats))
                .catch_unwind()
                .await;
            // The socket is closed by now: deregister before anything can await.
            drop(registration);
            let mut stats = stats.borrow_mut();
            stats.counters.open -= 1;
            if served.is_err() {
                stats.counters.panics += 1;
            }
        })
        .detach();
    }
}
