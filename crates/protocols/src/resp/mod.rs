//! resp (docs/PROTOCOLS.md §6): the Redis protocol over the key space kv serves and the
//! topics mq serves, so that redis-cli, redis-benchmark and the Redis client
//! libraries work against percore unchanged.
//!
//! A batch's commands are planned in order (`route.rs`): one this shard can
//! answer (a connection command, a key it owns) is answered at once; a key
//! another shard owns goes to that shard over the key space's mesh, as the
//! command itself (`[protocol][command number][RESP command]`), and the
//! owner runs it with the same code ([`execute`]); a command over several
//! keys or every shard is split into parts whose replies are merged. The
//! commands themselves live in `commands/`, one file per group; pub/sub,
//! over the topics mq serves, in `pubsub/`.

mod blocked_keys;
mod blocking;
mod blocking_forms;
mod check;
pub mod client;
mod client_alone;
pub mod client_filter;
pub mod cluster;
mod command_stats;
pub mod command_table;
pub mod commands;
mod exec_across;
mod execute;
mod gather;
mod gather_strings;
mod holding;
mod monitor;
mod move_keys;
mod moves_in_flight;
mod notify;
mod notify_typed;
mod plan;
mod served_alone;
/// The wire format, a library of its own below the protocols (`percore_resp_wire`).
pub use percore_resp_wire as protocol;
mod pubsub;
pub mod rdb;
mod route;
mod session;
mod shard_parts;
mod sort;
mod tracking;
mod tracking_conn;
mod tracking_deliver;
mod tracking_table;
mod transaction;
mod waiter;

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::kv::durable::log::ShardLog;
use super::kv::Store;
use crate::mq::{Broker, BrokerPlan};
use check::{check, cross_protocol, warn_cross_protocol, Rejection};
use client::ClientInfo;
use commands::info::ServerFigures;
use commands::{Cmd, Local, Merge, Route, Spec};
use percore::codec::split_frame;
use percore::cross_shard::{owner_of, Mesh};
use percore::server::outbox::Outbox;
use percore::server::{ShardContext, StopWatch};
use percore::service::{Batch, Flow, Opening, Service, ServiceFactory, StartError};
use percore::stats::{Counter, Metric};
use percore_keyspace::round;
use percore_keyspace::write::ShardKeys;
use percore_keyspace::{now_ms, KeySpace, KeySpacePlan, Protocol};
use plan::Step;
use protocol::write::{self, Proto};
use protocol::{encode_command, parse_command, Command, RespDecoder};
use route::RoundPlan;
use session::{ConnBuffers, Session};

pub use execute::execute;
use plan::{exchange, tagged_buffer};
use served_alone::integers;

/// What the command line sets for resp.
#[derive(Clone, Debug, Default)]
pub struct RespOptions {
    /// `--requirepass`.
    pub requirepass: Option<String>,
    /// `--data-dir`, and `--fsync`'s policy name, for CONFIG GET and INFO.
    pub data_dir: Option<PathBuf>,
    pub fsync: String,
    /// `--max-memory`, over all shards (CONFIG SET maxmemory changes it).
    pub max_memory: u64,
    /// `--mq-queue-bytes`: a subscriber's cap.
    pub queue_bytes: usize,
    /// `--cluster-nodes` and `--cluster-id` (docs/PROTOCOLS.md §6.4): this node's view
    /// of the cluster; `None` outside cluster mode.
    pub cluster: Option<Arc<cluster::Cluster>>,
}

/// resp's tag on the key space's mesh: its messages are commands as
/// `[protocol version][command number][RESP command]` (`execute.rs`).
pub const PROTOCOL: Protocol = Protocol(2);

/// Makes the resp service on every shard, over the key space it shares
/// with kv.
#[derive(Clone)]
pub struct RespFactory {
    keys: KeySpacePlan,
    options: Arc<RespOptions>,
    /// The memory cap now, over all shards (CONFIG SET maxmemory).
    max_memory: Arc<AtomicU64>,
    /// The values CONFIG SET keeps, the same for every shard.
    stored: commands::config::Stored,
    port: u16,
    bind: String,
    /// The topics, shared with mq (docs/PROTOCOLS.md §6.3).
    brokers: BrokerPlan,
}

impl RespFactory {
    /// resp over the key space `keys`; `port` is the first listener's, for
    /// INFO and CONFIG GET.
    pub fn new(keys: KeySpacePlan, options: RespOptions, port: u16) -> RespFactory {
        keys.register(PROTOCOL, execute::OWNER_HANDLER);
        RespFactory {
            keys,
            max_memory: Arc::new(AtomicU64::new(options.max_memory)),
            stored: commands::config::stored_defaults(),
            bind: "127.0.0.1".into(),
            options: Arc::new(options),
            port,
            brokers: BrokerPlan::default(),
        }
    }

    /// Serves the topics of `brokers`, the plan mq shares (docs/PROTOCOLS.md §6.3).
    /// The addresses of the `--resp` listeners, as CONFIG GET bind shows
    /// them (Redis's `bind`: every address, space-separated).
    pub fn with_bind(mut self, bind: String) -> RespFactory {
        self.bind = bind;
        self
    }

    pub fn with_brokers(mut self, brokers: BrokerPlan) -> RespFactory {
        self.brokers = brokers;
        self
    }
}

impl Default for RespFactory {
    /// resp over a key space and topics of its own (or the shard's, if kv
    /// or mq made them first), with no password, on the default port.
    fn default() -> Self {
        RespFactory::new(KeySpacePlan::default(), RespOptions::default(), 6379)
    }
}

/// What a shard's resp commands read of the server's configuration.
pub struct RespConfig {
    pub requirepass: Option<String>,
    pub port: u16,
    /// `--resp`'s addresses, for CONFIG GET bind.
    pub bind: String,
    pub shards: usize,
    pub max_clients: usize,
    pub max_frame: usize,
    pub idle_timeout: u64,
    pub fsync: String,
    pub data_dir: bool,
    pub dir: String,
    pub started: Instant,
    pub started_unix: u64,
    max_memory: Arc<AtomicU64>,
    /// The parameters CONFIG SET keeps, shared by every shard.
    pub stored: commands::config::Stored,
    /// Wrong passwords given (docs/PROTOCOLS.md §6.5).
    pub auth_failures: Counter,
    queue_bytes: usize,
    /// Cluster mode (docs/PROTOCOLS.md §6.4): this shard's own copy of the cluster, so
    /// the MOVED check reads no other core's memory.
    pub cluster: Option<Rc<cluster::Cluster>>,
    /// Shard-aware cluster mode: the view for connections to this shard's
    /// own port, which serves only this shard's slots.
    own_cluster: Option<Rc<cluster::Cluster>>,
}

impl RespConfig {
    /// The cluster view that `session`'s commands are checked against.
    fn cluster_of(&self, session: &Session) -> Option<&cluster::Cluster> {
        if session.own_port {
            self.own_cluster.as_deref()
        } else {
            self.cluster.as_deref()
        }
    }

    pub fn max_memory(&self) -> u64 {
        self.max_memory.load(Ordering::Relaxed)
    }
}

impl ServiceFactory for RespFactory {
    type Service = Resp;

    fn prepare(&mut self, shards: usize) {
        self.keys.prepare(shards);
        self.brokers.prepare(shards);
    }

    async fn start(&self, shard: &ShardContext) -> Result<Resp, StartError> {
        let keys = self.keys.on_shard(shard).await?;
        tracking_deliver::attach(keys.mesh.clone());
        let broker = self.brokers.on_shard(shard).await?;
        percore_keyspace::on_expired(notify::expired);
        percore_keyspace::on_filled(blocked_keys::filled);
        let limits = shard.limits();
        let options = &self.options;
        let views = match options.cluster.as_deref() {
            Some(cluster) => {
                let (shared, own) = cluster.on_shard(shard.id());
                (Some(shared), own)
            }
            None => (None, None),
        };
        let config = RespConfig {
            requirepass: options.requirepass.clone(),
            port: self.port,
            bind: self.bind.clone(),
            shards: shard.shards(),
            max_clients: limits.max_conns * shard.shards(),
            max_frame: limits.max_frame,
            idle_timeout: limits.idle_timeout.map_or(0, |t| t.as_secs()),
            fsync: options.fsync.clone(),
            data_dir: options.data_dir.is_some(),
            dir: options
                .data_dir
                .as_ref()
                .map(|dir| dir.display().to_string())
                .unwrap_or_default(),
            started: Instant::now(),
            started_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            max_memory: self.max_memory.clone(),
            stored: self.stored.clone(),
            auth_failures: shard.counter("auth_failures"),
            queue_bytes: options.queue_bytes,
            cluster: views.0.map(Rc::new),
            own_cluster: views.1.map(Rc::new),
        };
        Ok(Resp {
            stop: shard.stop_watch(),
            part_args: RefCell::default(),
            shard: shard.id(),
            shards: shard.shards(),
            keys,
            broker,
            config: Rc::new(config),
            forwarded: shard
                .metric_counter("forwarded", Metric::Counter("percore_forwarded_total")),
            deliveries: shard
                .metric_counter("deliveries", Metric::Counter("percore_mq_deliveries_total")),
            slow_disconnects: shard.metric_counter(
                "slow_disconnects",
                Metric::Counter("percore_mq_slow_disconnects_total"),
            ),
        })
    }
}

/// The resp service on one shard.
pub struct Resp {
    shard: usize,
    shards: usize,
    keys: Rc<KeySpace>,
    /// This shard's part of the topics, shared with mq.
    broker: Rc<Broker>,
    config: Rc<RespConfig>,
    /// Commands (or parts) sent to another shard.
    forwarded: Counter,
    /// Pub/sub messages written to subscribers.
    deliveries: Counter,
    /// Subscribers disconnected for not reading (`--mq-queue-bytes`).
    slow_disconnects: Counter,
    /// SHUTDOWN stops the server through it.
    stop: StopWatch,
    /// Where a command made here (a part of a multi-key command, a command
    /// for every shard) is held to run on this shard, reused.
    part_args: RefCell<protocol::Args>,
}

/// One connection: its state and its buffers.
pub struct Connection {
    session: Session,
    buffers: ConnBuffers,
}

impl Service for Resp {
    type Decoder = RespDecoder;
    type Session = Connection;

    fn open_session(&self, opening: &mut Opening<'_>) -> Connection {
        let now = Instant::now();
        let client = Rc::new(ClientInfo {
            id: client::next_id(self.shard, self.shards),
            peer: opening.peer(),
            local: opening.local(),
            fd: opening.fd().unwrap_or(-1),
            name: RefCell::default(),
            created: now,
            last_active: now.into(),
            last_cmd: None.into(),
            last_sub: None.into(),
            qbuf: 0.into(),
            proto: Proto::Resp2.into(),
            subscriptions: (0, 0, 0).into(),
            monitoring: false.into(),
            tracking: RefCell::default(),
            tracks_reads: false.into(),
            caching: (None, None).into(),
            closing: false.into(),
            outbox: Rc::new(
                Outbox::new(self.config.queue_bytes)
                    .counting(self.deliveries.clone(), self.slow_disconnects.clone()),
            ),
        });
        client::register(client.clone());
        Connection {
            session: Session {
                client,
                authed: self.config.requirepass.is_none(),
                pubsub: None,
                published: false,
                own_port: self.config.own_cluster.as_ref().is_some_and(|own| {
                    opening.local().map(|local| local.port()) == Some(own.me().port)
                }),
                tx: transaction::TxState::default(),
                reply: session::ReplyMode::On,
                quiet: false,
                introduced: false,
            },
            buffers: ConnBuffers {
                args: protocol::Args::with_max_frame(self.config.max_frame),
                plan: RoundPlan::default(),
            },
        }
    }

    async fn serve(&self, conn: &mut Connection, batch: &mut Batch<'_, RespDecoder>) -> Flow {
        let now = now_ms();
        conn.session.client.last_active.set(Instant::now());
        let mut flow = Flow::Continue;
        let mut moves_since = moves_in_flight::made();
        loop {
            // While a transaction across shards holds this shard, nothing
            // else runs on it (`holding.rs`): ready at once when none does.
            self.keys.until_unheld().await;
            // A push of the round before that woke a blocked move over two
            // shards: the commands after it see the item in its destination
            // (`moves_in_flight.rs`).
            moves_in_flight::settled_since(moves_since).await;
            moves_since = moves_in_flight::made();
            // `--fsync always`: a round's writes on this shard are made with
            // no await, so their commit is exact, and its failure concerns
            // the replies made here only (owners answer for the others).
            let logged_from = self.keys.log_position();
            let answered = batch.out().len();
            let step = self.plan_round(conn, batch, now);
            let plan = &mut conn.buffers.plan;
            if plan.forwarded() > 0 {
                self.forwarded.add(plan.forwarded());
            }
            // The end of the round's writes here is read now, before any
            // await; the owners' replies are put in order after it.
            let committed = self.keys.commit(logged_from);
            plan.finish(self.keys.mesh.as_deref(), committed, batch, answered)
                .await;
            // CLIENT REPLY OFF or SKIP: a silenced command was served in a
            // round of its own; its reply goes (served alone, it sees to it).
            if !matches!(step, Step::Alone(_)) && conn.session.take_quiet() {
                batch.out().truncate(answered);
            }
            match step {
                Step::Done => break,
                Step::Cut => {}
                Step::Close => {
                    flow = Flow::Close;
                    break;
                }
                Step::Alone(frame) => {
                    // Its writes here commit as they are made (`on_shard`).
                    if self.serve_alone(conn, batch, frame, now).await == Flow::Close {
                        flow = Flow::Close;
                        break;
                    }
                }
            }
        }
        // And the batch's replies go once it is there.
        moves_in_flight::settled_since(moves_since).await;
        client::count_commands(batch.taken());
        // A connection that published waits while the lanes its messages
        // took are behind, as an mq sender does.
        if std::mem::take(&mut conn.session.published) {
            self.broker.room().await;
        }
        // Each round committed its own writes.
        let _ = self.keys.after_batch(None).await;
        // QUIT, or killed: gone for CLIENT TRACKING at once, as in Redis,
        // though the connection may linger a while.
        if flow == Flow::Close {
            conn.session.client.closing.set(true);
            tracking::forget(&conn.session.client);
        }
        flow
    }

    fn frame_too_long(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(protocol::BULK_TOO_LONG_REPLY);
    }

    fn outbox(&self, conn: &Connection) -> Option<Rc<Outbox>> {
        Some(conn.session.client.outbox.clone())
    }

    /// A plain connection may move between batches (`Session::movable`);
    /// its outbox is then empty, as nothing pushes to it.
    fn movable(&self, conn: &Connection) -> bool {
        conn.session.movable(self.config.requirepass.is_some())
    }

    async fn stop(&self) {
        self.keys.close().await;
    }
}
