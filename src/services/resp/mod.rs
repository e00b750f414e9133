//! resp (SPEC 6): the Redis protocol over the key space kv serves and the
//! topics mq serves, so that redis-cli, redis-benchmark and the Redis client
//! libraries work against percore unchanged.
//!
//! A batch's commands are planned in order (`route.rs`): one this shard can
//! answer (a connection command, a key it owns) is answered at once; a key
//! another shard owns goes to that shard over the key space's mesh, as the
//! command itself (`[protocol][command number][RESP command]`), and the
//! owner runs it with the same code ([`execute`]); a command over several
//! keys or every shard is split into parts whose replies are merged. The
//! commands themselves live in `commands/`, one file per group.

pub mod client;
pub mod cluster;
pub mod command_table;
pub mod commands;
pub mod protocol;
mod route;
mod session;

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::keyspace::write::Keys;
use super::keyspace::{now_ms, KeySpace, KeySpacePlan, Protocol};
use super::kv::durable::log::ShardLog;
use super::kv::Store;
use crate::codec::split_frame;
use crate::cross_shard::{owner_of, Mesh, Ticket};
use crate::server::outbox::Outbox;
use crate::server::ShardContext;
use crate::service::{Batch, Flow, Opening, Service, ServiceFactory, StartError};
use crate::stats::{Counter, Metric};
use client::ClientInfo;
use commands::server::ServerFigures;
use commands::{Cmd, Merge, Route, Spec};
use protocol::write::{self, Proto};
use protocol::{encode_command, parse_command, Command, RespDecoder};
use route::{OwnerReplies, RoundPlan};
use session::{Scratch, Session};

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
    /// `--cluster-nodes` and `--cluster-id` (SPEC 6.4): this node's view
    /// of the cluster; `None` outside cluster mode.
    pub cluster: Option<Arc<cluster::Cluster>>,
}

/// Makes the resp service on every shard, over the key space it shares
/// with kv.
#[derive(Clone)]
pub struct RespFactory {
    keys: KeySpacePlan,
    options: Arc<RespOptions>,
    /// The memory cap now, over all shards (CONFIG SET maxmemory).
    max_memory: Arc<AtomicU64>,
    port: u16,
}

impl RespFactory {
    /// resp over the key space `keys`; `port` is the first listener's, for
    /// INFO and CONFIG GET.
    pub fn new(keys: KeySpacePlan, options: RespOptions, port: u16) -> RespFactory {
        RespFactory {
            keys,
            max_memory: Arc::new(AtomicU64::new(options.max_memory)),
            options: Arc::new(options),
            port,
        }
    }
}

impl Default for RespFactory {
    /// resp over a key space of its own (or the shard's, if kv made one
    /// first), with no password, on the default port.
    fn default() -> Self {
        RespFactory::new(KeySpacePlan::default(), RespOptions::default(), 6379)
    }
}

/// What a shard's resp commands read of the server's configuration.
pub struct RespConfig {
    pub requirepass: Option<String>,
    pub port: u16,
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
    /// Wrong passwords given (SPEC 6.5).
    pub auth_failures: Counter,
    queue_bytes: usize,
    /// Cluster mode (SPEC 6.4): this shard's own copy of the cluster, so
    /// the MOVED check reads no other core's memory.
    pub cluster: Option<Rc<cluster::Cluster>>,
}

impl RespConfig {
    pub fn max_memory(&self) -> u64 {
        self.max_memory.load(Ordering::Relaxed)
    }
}

impl ServiceFactory for RespFactory {
    type Service = Resp;

    fn prepare(&mut self, shards: usize) {
        self.keys.prepare(shards);
    }

    async fn start(&self, shard: &ShardContext) -> Result<Resp, StartError> {
        let keys = self.keys.on_shard(shard).await?;
        let limits = shard.limits();
        let options = &self.options;
        let config = RespConfig {
            requirepass: options.requirepass.clone(),
            port: self.port,
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
            auth_failures: shard.counter("auth_failures"),
            queue_bytes: options.queue_bytes,
            cluster: options.cluster.as_deref().cloned().map(Rc::new),
        };
        Ok(Resp {
            shard: shard.id(),
            shards: shard.shards(),
            keys,
            config: Rc::new(config),
            forwarded: shard
                .metric_counter("forwarded", Metric::Counter("percore_forwarded_total")),
        })
    }
}

/// The resp service on one shard.
pub struct Resp {
    shard: usize,
    shards: usize,
    keys: Rc<KeySpace>,
    config: Rc<RespConfig>,
    /// Commands (or parts) sent to another shard.
    forwarded: Counter,
}

/// One connection: its state and its buffers.
pub struct Connection {
    session: Session,
    scratch: Scratch,
}

/// How planning a round ended.
enum Step<'a> {
    /// The batch holds no more commands (or its output budget is spent).
    Done,
    /// Cut short so its replies stay bounded: commands may remain.
    Cut,
    /// A command to serve on its own, once the round's replies are in.
    Alone(&'a [u8]),
    /// Close the connection once the replies are sent.
    Close,
}

/// Forwarded replies of unknown size per round (GETs of values up to
/// `--max-frame`), as in kv.
const UNSIZED_PER_ROUND: u64 = 32;

impl Service for Resp {
    type Decoder = RespDecoder;
    type Session = Connection;

    fn open_session(&self, opening: &mut Opening<'_>) -> Connection {
        let now = Instant::now();
        let client = Rc::new(ClientInfo {
            id: client::next_id(self.shard, self.shards),
            peer: opening.peer(),
            name: RefCell::default(),
            created: now,
            last_active: now.into(),
            last_cmd: None.into(),
            proto: Proto::Resp2.into(),
            subscriptions: (0, 0, 0).into(),
            outbox: Rc::new(Outbox::new(self.config.queue_bytes)),
        });
        client::register(client.clone());
        Connection {
            session: Session {
                client,
                authed: self.config.requirepass.is_none(),
            },
            scratch: Scratch {
                args: protocol::Args::with_max_frame(self.config.max_frame),
                plan: RoundPlan::default(),
            },
        }
    }

    async fn serve(&self, conn: &mut Connection, batch: &mut Batch<'_, RespDecoder>) -> Flow {
        let logged_from = self.keys.log_position();
        let now = now_ms();
        conn.session.client.last_active.set(Instant::now());
        let mut flow = Flow::Continue;
        loop {
            let step = self.plan_round(conn, batch, now);
            if conn.scratch.plan.is_forwarding() {
                self.finish_round(&mut conn.scratch.plan, batch).await;
            }
            match step {
                Step::Done => break,
                Step::Cut => {}
                Step::Close => {
                    flow = Flow::Close;
                    break;
                }
                Step::Alone(frame) => {
                    if self.serve_alone(conn, batch, frame, now).await == Flow::Close {
                        flow = Flow::Close;
                        break;
                    }
                }
            }
        }
        if let Err(reason) = self.keys.after_batch(logged_from).await {
            let commands = batch.taken();
            let out = batch.out();
            out.clear();
            for _ in 0..commands {
                push_disk_error(out, &reason);
            }
        }
        flow
    }

    fn frame_too_long(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(protocol::BULK_TOO_LONG_REPLY);
    }

    fn outbox(&self, conn: &Connection) -> Option<Rc<Outbox>> {
        Some(conn.session.client.outbox.clone())
    }

    async fn stop(&self) {
        self.keys.close().await;
    }
}

impl Resp {
    /// Plans commands until the batch is done, the round is full, or a
    /// command must be served on its own.
    fn plan_round<'a>(
        &self,
        conn: &mut Connection,
        batch: &mut Batch<'a, RespDecoder>,
        now: u64,
    ) -> Step<'a> {
        let Connection { session, scratch } = conn;
        let Scratch { args, plan } = scratch;
        plan.begin(self.shards);
        loop {
            if plan.forwarded() >= UNSIZED_PER_ROUND || plan.held() >= batch.output_room() {
                return Step::Cut;
            }
            let Some(frame) = batch.next_request() else {
                return Step::Done;
            };
            if let Err(error) = batch.decoder().parsed(frame, args) {
                let start = batch.out().len();
                plan.here(batch.out(), |out| error.write_reply(out));
                if !plan.is_forwarding() && batch.out().len() > start {
                    batch.failed();
                }
                return Step::Close;
            }
            let command = args.view(frame);
            if command.is_empty() {
                continue;
            }
            let start = batch.out().len();
            let step = self.plan_command(session, plan, batch, &command, frame, now);
            if !plan.is_forwarding() {
                // Answered straight into the output: count it now (a
                // forwarding round counts its replies once assembled).
                match batch.out().get(start) {
                    Some(b'-') => batch.failed(),
                    Some(_) => batch.served(),
                    None => {}
                }
            }
            match step {
                None => {}
                Some(step) => return step,
            }
        }
    }

    /// Plans one command; `Some` ends the round.
    fn plan_command<'a>(
        &self,
        session: &mut Session,
        plan: &mut RoundPlan,
        batch: &mut Batch<'a, RespDecoder>,
        command: &Command<'_>,
        frame: &'a [u8],
        now: u64,
    ) -> Option<Step<'a>> {
        let out = batch.out();
        let spec = match check(command, session, self.config.cluster.as_deref()) {
            Ok(spec) => spec,
            Err(reply) => {
                plan.here(out, |out| reply.write(command, out));
                return None;
            }
        };
        session.client.last_cmd.set(Some(spec.cmd));
        let proto = session.proto();
        match spec.route {
            Route::Here => match spec.cmd {
                Cmd::Command => plan.here(out, |out| {
                    commands::introspect::command(command, proto, out)
                }),
                Cmd::Info => return Some(Step::Alone(frame)),
                Cmd::Config if command.at(1).eq_ignore_ascii_case(b"set") => {
                    return Some(Step::Alone(frame))
                }
                Cmd::Client
                    if command.at(1).eq_ignore_ascii_case(b"list")
                        || command.at(1).eq_ignore_ascii_case(b"kill") =>
                {
                    return Some(Step::Alone(frame))
                }
                Cmd::Cluster
                    if self.config.cluster.is_some()
                        && cluster::slot_keys::over_every_shard(command) =>
                {
                    return Some(Step::Alone(frame))
                }
                Cmd::Time
                | Cmd::Config
                | Cmd::LastSave
                | Cmd::Save
                | Cmd::BgSave
                | Cmd::Cluster
                | Cmd::ReadOnly
                | Cmd::ReadWrite => plan.here(out, |out| {
                    commands::server::run(spec.cmd, command, &self.config, proto, out)
                }),
                _ => {
                    let flow = plan.here(out, |out| {
                        commands::connection::run(spec.cmd, command, session, &self.config, out)
                    });
                    if flow == Flow::Close {
                        return Some(Step::Close);
                    }
                }
            },
            Route::Key => {
                let owner = owner_of(command.at(1), self.shards);
                self.run_at(plan, out, owner, spec.cmd, command, frame, proto, now);
            }
            Route::EachKey { step, part, merge } => {
                if (command.len() - 1) % step != 0 {
                    plan.here(out, |out| commands::connection::wrong_arity(out, spec.name));
                    return None;
                }
                let owners = (1..command.len())
                    .step_by(step)
                    .map(|i| owner_of(command.at(i), self.shards));
                let first = owner_of(command.at(1), self.shards);
                if owners.clone().all(|owner| owner == first) {
                    self.run_at(plan, out, first, spec.cmd, command, frame, proto, now);
                } else {
                    plan.merge(merge, (command.len() - 1) / step, proto);
                    for i in (1..command.len()).step_by(step) {
                        let owner = owner_of(command.at(i), self.shards);
                        let pair = [command.at(i), command.at(i + 1)];
                        self.run_part_at(plan, out, owner, part, &pair[..step], proto, now);
                    }
                }
            }
            Route::AllShards(merge) => {
                if self.shards == 1 {
                    self.run_at(plan, out, 0, spec.cmd, command, frame, proto, now);
                } else {
                    plan.merge(merge, self.shards, proto);
                    for shard in 0..self.shards {
                        self.run_at(plan, out, shard, spec.cmd, command, frame, proto, now);
                    }
                }
            }
            Route::Alone => {
                if spec.cmd == Cmd::MSetNx {
                    if (command.len() - 1) % 2 != 0 {
                        plan.here(out, |out| commands::connection::wrong_arity(out, spec.name));
                        return None;
                    }
                    let first = owner_of(command.at(1), self.shards);
                    if (1..command.len())
                        .step_by(2)
                        .all(|i| owner_of(command.at(i), self.shards) == first)
                    {
                        self.run_at(plan, out, first, spec.cmd, command, frame, proto, now);
                        return None;
                    }
                }
                return Some(Step::Alone(frame));
            }
        }
        None
    }

    /// Runs `command` on `shard`: here at once, or forwarded as it came.
    #[allow(clippy::too_many_arguments)]
    fn run_at(
        &self,
        plan: &mut RoundPlan,
        out: &mut Vec<u8>,
        shard: usize,
        cmd: Cmd,
        command: &Command<'_>,
        frame: &[u8],
        proto: Proto,
        now: u64,
    ) {
        if shard == self.shard {
            plan.here(out, |out| self.execute_here(cmd, command, proto, now, out));
        } else if let Some(mesh) = &self.keys.mesh {
            plan.forward(
                shard,
                || tagged_buffer(mesh),
                |body| {
                    body.push(proto as u8);
                    body.push(cmd as u8);
                    if command.is_inline() {
                        encode_command(command.iter(), body);
                    } else {
                        body.extend_from_slice(frame);
                    }
                },
            );
        }
    }

    /// Runs one part of a multi-key command (`GET key`, `SET key value`...)
    /// on `shard`.
    #[allow(clippy::too_many_arguments)]
    fn run_part_at(
        &self,
        plan: &mut RoundPlan,
        out: &mut Vec<u8>,
        shard: usize,
        part: Cmd,
        part_args: &[&[u8]],
        proto: Proto,
        now: u64,
    ) {
        let name = commands::NAMES[part as usize].as_bytes();
        let words = [
            name,
            part_args.first().copied().unwrap_or_default(),
            part_args.get(1).copied().unwrap_or_default(),
        ];
        let words = &words[..1 + part_args.len().min(2)];
        if shard == self.shard {
            let mut encoded = Vec::new();
            encode_command(words.iter().copied(), &mut encoded);
            let mut args = protocol::Args::default();
            if parse_command(&encoded, &mut args).is_ok() {
                let command = args.view(&encoded);
                plan.here(out, |out| {
                    self.execute_here(part, &command, proto, now, out)
                });
            }
        } else if let Some(mesh) = &self.keys.mesh {
            plan.forward(
                shard,
                || tagged_buffer(mesh),
                |body| {
                    body.push(proto as u8);
                    body.push(part as u8);
                    encode_command(words.iter().copied(), body);
                },
            );
        }
    }

    /// Runs a key command against this shard's keys.
    fn execute_here(
        &self,
        cmd: Cmd,
        command: &Command<'_>,
        proto: Proto,
        now: u64,
        out: &mut Vec<u8>,
    ) {
        let mut store = self.keys.store.borrow_mut();
        let mut keys = Keys::new(&mut store, self.keys.log.as_deref(), now);
        execute(
            cmd,
            command,
            &mut keys,
            proto,
            (self.shard, self.shards),
            out,
        );
    }

    /// Sends the round's forwarded commands, one message per shard, waits for
    /// the replies and puts every reply in order into the batch's output.
    async fn finish_round(&self, plan: &mut RoundPlan, batch: &mut Batch<'_, RespDecoder>) {
        let Some(mesh) = &self.keys.mesh else {
            plan.assemble(&mut [], batch.out(), |_| {});
            return;
        };
        self.forwarded.add(plan.forwarded());
        let replies = exchange(mesh, &mut plan.outboxes).await;
        let mut replies: Vec<OwnerReplies> = replies.into_iter().map(OwnerReplies::new).collect();
        let mut counts = (0, 0);
        plan.assemble(&mut replies, batch.out(), |failed| {
            if failed {
                counts.1 += 1
            } else {
                counts.0 += 1
            }
        });
        for _ in 0..counts.0 {
            batch.served();
        }
        for _ in 0..counts.1 {
            batch.failed();
        }
        for reply in replies {
            mesh.recycle(reply.buffer);
        }
    }

    /// A command served on its own: INFO, CONFIG SET, CLIENT LIST and
    /// KILL, CLUSTER COUNTKEYSINSLOT and GETKEYSINSLOT (over every shard),
    /// MSETNX over several shards, and pub/sub.
    async fn serve_alone(
        &self,
        conn: &mut Connection,
        batch: &mut Batch<'_, RespDecoder>,
        frame: &[u8],
        now: u64,
    ) -> Flow {
        let Connection { session, scratch } = conn;
        if parse_command(frame, &mut scratch.args).is_err() {
            return Flow::Close;
        }
        let command = scratch.args.view(frame);
        let Some(spec) = commands::lookup(command.at(0)) else {
            return Flow::Continue;
        };
        let proto = session.proto();
        let mut reply = Vec::new();
        match spec.cmd {
            Cmd::Info => {
                let parts = self
                    .on_every_shard(Cmd::ShardFigures, &[], proto, now)
                    .await;
                let mut figures = ServerFigures::default();
                for part in &parts {
                    figures.add(&integers(part));
                }
                commands::server::info(&command, &figures, &self.config, proto, &mut reply);
            }
            Cmd::Config => {
                // CONFIG SET maxmemory <bytes>.
                if command.len() != 4 || !command.at(2).eq_ignore_ascii_case(b"maxmemory") {
                    let shown = String::from_utf8_lossy(command.at(2));
                    write::error(
                        &mut reply,
                        &format!(
                            "ERR Unknown option or number of arguments for CONFIG SET - '{shown}'"
                        ),
                    );
                } else {
                    match commands::server::parse_memory(command.at(3)) {
                        None => write::error(&mut reply, "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument couldn't be parsed into an integer"),
                        Some(bytes) => {
                            self.config.max_memory.store(bytes, Ordering::Relaxed);
                            let per_shard = (bytes / self.shards as u64).to_string();
                            self.on_every_shard(Cmd::SetMaxMemory, &[per_shard.as_bytes()], proto, now).await;
                            write::ok(&mut reply);
                        }
                    }
                }
            }
            Cmd::Client if command.at(1).eq_ignore_ascii_case(b"list") => {
                let parts = self.on_every_shard(Cmd::ClientList, &[], proto, now).await;
                let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
                route::merge_replies(Merge::Text, &parts, proto, &mut reply);
            }
            Cmd::Client => self.client_kill(&command, proto, now, &mut reply).await,
            Cmd::MSetNx => self.mset_nx(&command, proto, now, &mut reply).await,
            Cmd::Cluster => match cluster::slot_keys::SlotKeys::parse(&command) {
                Err(error) => write::error(&mut reply, error),
                Ok(request) => {
                    let args: Vec<&[u8]> = command.iter().skip(1).collect();
                    let parts = self.on_every_shard(Cmd::Cluster, &args, proto, now).await;
                    request.merge(&parts, &mut reply);
                }
            },
            Cmd::Scan => self.scan(&command, proto, now, &mut reply).await,
            _ => commands::pubsub::unsupported(&command, &mut reply),
        }
        if reply.first() == Some(&b'-') {
            batch.failed();
        } else {
            batch.served();
        }
        batch.out().extend_from_slice(&reply);
        Flow::Continue
    }

    /// `CLIENT KILL ID n` (and the old `CLIENT KILL addr`, refused).
    async fn client_kill(
        &self,
        command: &Command<'_>,
        proto: Proto,
        now: u64,
        reply: &mut Vec<u8>,
    ) {
        if command.len() == 4 && command.at(2).eq_ignore_ascii_case(b"id") {
            let Some(id) = commands::strings::parse_i64(command.at(3)).filter(|id| *id > 0) else {
                write::error(reply, "ERR client-id should be greater than 0");
                return;
            };
            let shard = client::shard_of(id as u64, self.shards);
            let answer = self
                .on_shard(shard, Cmd::ClientKill, &[command.at(3)], proto, now)
                .await;
            reply.extend_from_slice(&answer);
        } else {
            write::error(reply, "ERR syntax error");
        }
    }

    /// SCAN: a step on the shard the cursor names, going on to the next
    /// shards while fewer keys than COUNT were looked at, so that a small
    /// key space is scanned in one call, as Redis does.
    async fn scan(&self, command: &Command<'_>, proto: Proto, now: u64, reply: &mut Vec<u8>) {
        use commands::keyspace::{cursor_shard, parse_cursor};
        let Some(mut cursor) = parse_cursor(command.at(1)) else {
            write::error(reply, "ERR invalid cursor");
            return;
        };
        let count = (2..command.len())
            .step_by(2)
            .find(|&i| command.at(i).eq_ignore_ascii_case(b"count"))
            .and_then(|i| commands::strings::parse_i64(command.at(i + 1)))
            .map_or(10, |n| n.max(1) as usize);
        let mut found: Vec<Vec<u8>> = Vec::new();
        let mut visited = 0;
        let mut args: Vec<Vec<u8>> = command.iter().skip(1).map(<[u8]>::to_vec).collect();
        while cursor_shard(cursor) < self.shards {
            args[0] = cursor.to_string().into_bytes();
            let words: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
            let step = self
                .on_shard(cursor_shard(cursor), Cmd::Scan, &words, proto, now)
                .await;
            let Ok(Some((protocol::Value::Array(Some(parts)), _))) = protocol::parse_reply(&step)
            else {
                reply.extend_from_slice(&step);
                return;
            };
            let (next, keys) = match parts.as_slice() {
                [protocol::Value::Bulk(Some(next)), protocol::Value::Array(Some(keys))] => {
                    (*next, keys)
                }
                _ => break,
            };
            cursor = parse_cursor(next).unwrap_or(0);
            for key in keys {
                if let protocol::Value::Bulk(Some(key)) = key {
                    found.push(key.to_vec());
                }
            }
            // A shard's step looks at up to COUNT keys; a step that ends a
            // shard looked at fewer, and the next shard may take the rest.
            visited += count;
            if cursor == 0
                || commands::keyspace::inner(cursor) != 0
                || visited >= count * 4
                || found.len() >= count
            {
                break;
            }
        }
        write::array_len(reply, 2);
        write::bulk(reply, cursor.to_string().as_bytes());
        write::array_len(reply, found.len());
        for key in &found {
            write::bulk(reply, key);
        }
    }

    /// MSETNX over several shards: none is set when any key exists. Checked
    /// first, then set: isolated per shard only (README).
    async fn mset_nx(&self, command: &Command<'_>, proto: Proto, now: u64, reply: &mut Vec<u8>) {
        for i in (1..command.len()).step_by(2) {
            let shard = owner_of(command.at(i), self.shards);
            let exists = self
                .on_shard(shard, Cmd::Exists, &[command.at(i)], proto, now)
                .await;
            if exists != b":0\r\n" {
                write::int(reply, 0);
                return;
            }
        }
        for i in (1..command.len()).step_by(2) {
            let shard = owner_of(command.at(i), self.shards);
            let set = self
                .on_shard(
                    shard,
                    Cmd::Set,
                    &[command.at(i), command.at(i + 1)],
                    proto,
                    now,
                )
                .await;
            if set.first() == Some(&b'-') {
                reply.extend_from_slice(&set);
                return;
            }
        }
        write::int(reply, 1);
    }

    /// Runs the single command `cmd args` on `shard` and returns its reply.
    async fn on_shard(
        &self,
        shard: usize,
        cmd: Cmd,
        args: &[&[u8]],
        proto: Proto,
        now: u64,
    ) -> Vec<u8> {
        let name = commands::NAMES[cmd as usize].as_bytes();
        let words: Vec<&[u8]> = std::iter::once(name).chain(args.iter().copied()).collect();
        let mut encoded = Vec::new();
        encode_command(words.iter().copied(), &mut encoded);
        if shard == self.shard {
            let mut parsed = protocol::Args::default();
            let mut reply = Vec::new();
            if parse_command(&encoded, &mut parsed).is_ok() {
                self.execute_here(cmd, &parsed.view(&encoded), proto, now, &mut reply);
            }
            return reply;
        }
        let Some(mesh) = &self.keys.mesh else {
            return Vec::new();
        };
        let mut body = tagged_buffer(mesh);
        let start = crate::codec::begin_frame(&mut body);
        body.push(proto as u8);
        body.push(cmd as u8);
        body.extend_from_slice(&encoded);
        crate::codec::end_frame(&mut body, start);
        self.forwarded.add(1);
        let replies = match mesh.send(shard, body).await {
            Ok(ticket) => mesh.reply(ticket).await,
            Err(_) => Vec::new(),
        };
        let reply = split_frame(&replies).map_or_else(
            || b"-ERR the key's shard is unavailable\r\n".to_vec(),
            |(body, _)| body.to_vec(),
        );
        mesh.recycle(replies);
        reply
    }

    /// Runs `cmd args` on every shard; the replies in shard order.
    async fn on_every_shard(
        &self,
        cmd: Cmd,
        args: &[&[u8]],
        proto: Proto,
        now: u64,
    ) -> Vec<Vec<u8>> {
        let mut replies = Vec::with_capacity(self.shards);
        for shard in 0..self.shards {
            replies.push(self.on_shard(shard, cmd, args, proto, now).await);
        }
        replies
    }
}

/// Why a command is answered with an error before it runs.
enum Rejection<'c> {
    Unknown,
    Arity(&'static str),
    NoAuth,
    /// Cluster mode: its keys are not (all) in this node's slots.
    Redirect(cluster::Redirect<'c>),
    Subscribed,
}

impl Rejection<'_> {
    fn write(&self, command: &Command<'_>, out: &mut Vec<u8>) {
        match self {
            Rejection::Unknown => {
                let mut args = String::new();
                for i in 1..command.len() {
                    if args.len() >= 128 {
                        break;
                    }
                    let room = 128 - args.len();
                    let arg = String::from_utf8_lossy(command.at(i));
                    let shown: String = arg.chars().take(room).collect();
                    args.push_str(&format!("'{shown}' "));
                }
                let name: String = String::from_utf8_lossy(command.at(0))
                    .chars()
                    .take(128)
                    .collect();
                write::error(
                    out,
                    &format!("ERR unknown command '{name}', with args beginning with: {args}"),
                );
            }
            Rejection::Arity(name) => commands::connection::wrong_arity(out, name),
            Rejection::NoAuth => write::error(out, commands::connection::NOAUTH),
            Rejection::Redirect(redirect) => redirect.write(out),
            Rejection::Subscribed => {
                let name = String::from_utf8_lossy(command.at(0)).to_lowercase();
                write::error(out, &format!("ERR Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"));
            }
        }
    }
}

/// The checks redis-server makes before running a command, in its order:
/// known, arity, authenticated, in this node's slots (cluster mode),
/// allowed while subscribed.
fn check<'c>(
    command: &Command<'_>,
    session: &Session,
    cluster: Option<&'c cluster::Cluster>,
) -> Result<&'static Spec, Rejection<'c>> {
    let spec = commands::lookup(command.at(0))
        .filter(|spec| !spec.internal())
        .ok_or(Rejection::Unknown)?;
    if !spec.arity_ok(command.len()) {
        return Err(Rejection::Arity(spec.name));
    }
    if !session.authed && !matches!(spec.cmd, Cmd::Auth | Cmd::Hello | Cmd::Quit | Cmd::Reset) {
        return Err(Rejection::NoAuth);
    }
    if let Some(cluster) = cluster {
        cluster
            .check(spec.cmd, command)
            .map_err(Rejection::Redirect)?;
    }
    if session.subscribed()
        && session.proto() == Proto::Resp2
        && !matches!(
            spec.cmd,
            Cmd::Subscribe
                | Cmd::Unsubscribe
                | Cmd::PSubscribe
                | Cmd::PUnsubscribe
                | Cmd::SSubscribe
                | Cmd::SUnsubscribe
                | Cmd::Ping
                | Cmd::Quit
                | Cmd::Reset
        )
    {
        return Err(Rejection::Subscribed);
    }
    Ok(spec)
}

/// Runs a command that concerns this shard's keys (or its part of
/// every shard's): the same code for a connection of this shard and for a
/// command another shard forwarded.
pub fn execute(
    cmd: Cmd,
    command: &Command<'_>,
    keys: &mut Keys<'_>,
    proto: Proto,
    shard: (usize, usize),
    out: &mut Vec<u8>,
) {
    match cmd {
        Cmd::Expire
        | Cmd::PExpire
        | Cmd::ExpireAt
        | Cmd::PExpireAt
        | Cmd::Ttl
        | Cmd::PTtl
        | Cmd::Persist => commands::expiry::run(cmd, command, keys, out),
        Cmd::Keys | Cmd::Scan | Cmd::DbSize | Cmd::FlushDb | Cmd::FlushAll | Cmd::RandomKey => {
            commands::keyspace::run(cmd, command, keys, proto, shard, out)
        }
        Cmd::ShardFigures => {
            let figures = ServerFigures {
                keys: keys.store.len() as u64,
                expires: keys.store.expiring_len() as u64,
                memory_bytes: keys.store.bytes(),
                clients: client::count() as u64,
                ..ServerFigures::default()
            };
            figures.write(out);
        }
        Cmd::ClientList => {
            let mut lines = Vec::new();
            client::list(None, &mut lines);
            write::bulk(out, &lines);
        }
        Cmd::ClientKill => {
            let id = commands::strings::parse_i64(command.at(1)).unwrap_or(0);
            write::int(out, i64::from(client::kill(id as u64)));
        }
        // Cluster mode: this shard's part of COUNTKEYSINSLOT or
        // GETKEYSINSLOT (the only CLUSTER subcommands run here).
        Cmd::Cluster => cluster::slot_keys::shard_part(command, keys, out),
        Cmd::SetMaxMemory => {
            let cap = commands::strings::parse_i64(command.at(1))
                .unwrap_or(0)
                .max(0) as u64;
            keys.store.set_cap((cap > 0).then_some(cap));
            write::ok(out);
        }
        _ => commands::strings::run(cmd, command, keys, proto, out),
    }
}

/// Answers the commands another shard forwarded: each frame of `commands`
/// is `[protocol version][command number][RESP command]`; `replies` gets
/// one reply frame each. Returns how many.
pub(super) fn serve_forwarded(
    store: &RefCell<Store>,
    log: Option<&ShardLog>,
    shard: (usize, usize),
    commands: &[u8],
    replies: &mut Vec<u8>,
) -> usize {
    thread_local! {
        static ARGS: RefCell<protocol::Args> = RefCell::default();
    }
    let now = now_ms();
    let mut store = store.borrow_mut();
    let mut keys = Keys::new(&mut store, log, now);
    ARGS.with(|args| {
        let mut args = args.borrow_mut();
        let mut rest = commands;
        let mut count = 0;
        while let Some((frame, next)) = split_frame(rest) {
            let start = crate::codec::begin_frame(replies);
            match frame {
                [proto, cmd, command @ ..] => {
                    let proto = if *proto == Proto::Resp3 as u8 {
                        Proto::Resp3
                    } else {
                        Proto::Resp2
                    };
                    match (
                        commands::cmd_from_u8(*cmd),
                        parse_command(command, &mut args),
                    ) {
                        (Some(cmd), Ok(())) => {
                            execute(cmd, &args.view(command), &mut keys, proto, shard, replies)
                        }
                        _ => write::error(
                            replies,
                            "ERR internal: a forwarded command could not be read",
                        ),
                    }
                }
                _ => write::error(
                    replies,
                    "ERR internal: a forwarded command could not be read",
                ),
            }
            crate::codec::end_frame(replies, start);
            count += 1;
            rest = next;
        }
        count
    })
}

/// resp's reply to a command whose write could not reach the disk.
pub(super) fn push_disk_error(replies: &mut Vec<u8>, reason: &str) {
    let start = crate::codec::begin_frame(replies);
    write::error(
        replies,
        &format!("MISCONF the data directory cannot take writes: {reason}"),
    );
    crate::codec::end_frame(replies, start);
}

/// An empty mesh buffer with resp's protocol tag in place.
fn tagged_buffer(mesh: &Mesh) -> Vec<u8> {
    let mut buffer = mesh.buffer();
    buffer.push(Protocol::Resp as u8);
    buffer
}

/// Sends every non-empty outbox to its shard, then waits for each reply.
async fn exchange(mesh: &Mesh, outboxes: &mut [Vec<u8>]) -> Vec<Vec<u8>> {
    let mut tickets: Vec<Option<Ticket>> = Vec::with_capacity(outboxes.len());
    for (shard, outbox) in outboxes.iter_mut().enumerate() {
        tickets.push(if outbox.is_empty() {
            None
        } else {
            mesh.send(shard, std::mem::take(outbox)).await.ok()
        });
    }
    let mut replies = Vec::with_capacity(tickets.len());
    for ticket in tickets {
        replies.push(match ticket {
            Some(ticket) => mesh.reply(ticket).await,
            None => Vec::new(),
        });
    }
    replies
}

/// The integers of an array reply (a shard's figures).
fn integers(reply: &[u8]) -> Vec<i64> {
    match protocol::parse_reply(reply) {
        Ok(Some((protocol::Value::Array(Some(items)), _))) => items
            .into_iter()
            .filter_map(|item| match item {
                protocol::Value::Int(n) => Some(n),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}
