//! resp (docs/PROTOCOLS.md §6): the Redis protocol over the key space kv serves and the
//! topics mq serves, so that redis-cli, redis-benchmark and the Redis client
//! libraries work against percore unchanged.
//!
//! A batch's commands are planned in order (`plan.rs`, onto the key space's round engine): one this shard can
//! answer (a connection command, a key it owns) is answered at once; a key
//! another shard owns goes to that shard over the key space's mesh, as the
//! command itself (`[protocol][command number][RESP command]`), and the
//! owner runs it with the same code ([`execute`]); a command over several
//! keys or every shard is split into parts whose replies are merged. The
//! commands themselves live in `commands/`, one file per group; pub/sub,
//! over the topics mq serves, in `pubsub/`.

mod ask_shards;
mod blocked_keys;
mod blocking;
mod blocking_forms;
mod check;
pub mod client;
mod client_alone;
pub mod client_filter;
pub mod cluster;
mod command_stats;
mod command_stats_merged;
pub mod command_table;
pub mod commands;
mod exec_across;
mod execute;
mod factory;
mod gather;
mod gather_moves;
mod gather_strings;
mod holding;
mod late_counts;
mod migrate;
mod migrate_link;
mod monitor;
mod move_keys;
mod moves_in_flight;
mod notify;
mod notify_typed;
mod plan;
mod port_change;
mod resp_shard;
mod run_at;
mod served_alone;
/// The wire format, a library of its own below the protocols (`percore_resp_wire`).
pub use percore_resp_wire as protocol;
mod exec_owner;
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
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
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

use ask_shards::integers;
pub use execute::execute;
pub use factory::{RespConfig, RespFactory, RespOptions, PROTOCOL};
pub use resp_shard::RespShard;
use run_at::{exchange, tagged_buffer};

/// The resp service on one shard.
pub struct Resp {
    shard: usize,
    shards: usize,
    keys: Rc<KeySpace>,
    /// resp's registries on this shard (`resp_shard.rs`), handed to its
    /// sessions and to the commands it runs.
    here: Rc<RespShard>,
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
            id: self.here.clients.next_id(self.shard, self.shards),
            peer: opening.peer(),
            local: opening.local(),
            fd: opening.fd().unwrap_or(-1),
            name: RefCell::default(),
            created: now,
            last_active: now.into(),
            last_cmd: None.into(),
            last_sub: None.into(),
            input: opening.input(),
            proto: Proto::Resp2.into(),
            subscriptions: (0, 0, 0).into(),
            monitoring: false.into(),
            tracking: RefCell::default(),
            tracks_reads: false.into(),
            caching: (None, None).into(),
            closing: false.into(),
            user: RefCell::new("default".into()),
            outbox: Rc::new(
                Outbox::new(self.config.queue_bytes)
                    .counting(self.deliveries.clone(), self.slow_disconnects.clone()),
            ),
        });
        self.here.clients.register(client.clone());
        let login = commands::acl::Login::new(&self.config.users);
        Connection {
            session: Session {
                client,
                authed: login.may_run(&self.config.users),
                login,
                pubsub: None,
                published: false,
                own_port: self.config.own_cluster.as_ref().is_some_and(|own| {
                    opening.local().map(|local| local.port()) == Some(own.me().port)
                }),
                tx: transaction::TxState::default(),
                reply: session::ReplyMode::On,
                quiet: false,
                introduced: false,
                here: self.here.clone(),
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
        let batch_reports_from = self.broker.reports_made();
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
            let reports_from = self.broker.reports_made();
            let answered = batch.out().len();
            let step = self.plan_round(conn, batch, now);
            let plan = &mut conn.buffers.plan;
            if plan.forwarded() > 0 {
                self.forwarded.add(plan.forwarded());
            }
            // The end of the round's writes here is read now, before any
            // await; the owners' replies are put in order after it.
            let committed = self.keys.commit(logged_from);
            // What the round handed other shards' subscribers is placed
            // before its replies go: PUBLISH counts, keyspace events
            // (`late_counts.rs`); ready at once when it handed nothing.
            let settled = self.broker.settled_since(reports_from);
            let broker = &self.broker;
            let late = |token, out: &mut Vec<u8>| {
                protocol::write::int(out, broker.close_count(token) as i64)
            };
            let mesh = self.keys.mesh.as_deref();
            plan.finish(mesh, committed, settled, late, batch, answered)
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
        // And the batch's replies go once it is there, and once what its
        // commands served alone handed other shards' subscribers is placed.
        moves_in_flight::settled_since(moves_since).await;
        self.broker.settled_since(batch_reports_from).await;
        self.here.clients.count_commands(batch.taken());
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
            tracking::forget(&self.here, &conn.session.client);
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
        conn.session.movable(self.config.users.default_open())
    }

    async fn stop(&self) {
        self.keys.close().await;
    }
}
