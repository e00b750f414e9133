//! The resp connections of a shard, as CLIENT LIST, CLIENT KILL and INFO
//! see them. Each connection's [`ClientInfo`] is held by its session and by
//! this shard's registry ([`Clients`], in the shard's `RespShard`: read both
//! by the shard's connections and by the mesh task that answers other
//! shards' CLIENT LIST and KILL).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Instant;

use super::client_filter::{ClientType, KillFilter};
use super::command_table;
use super::commands::{Cmd, Spec, NAMES};
use super::protocol::Command;
use super::protocol::Proto;
use percore::server::outbox::Outbox;
use percore::service::InputGauge;

/// One resp connection.
pub struct ClientInfo {
    /// Unique in the server: the shard is `(id - 1) % shards`.
    pub id: u64,
    pub peer: Option<SocketAddr>,
    /// The listener's address (`laddr=`).
    pub local: Option<SocketAddr>,
    /// The connection's socket descriptor (`fd=`).
    pub fd: i32,
    pub name: RefCell<Vec<u8>>,
    pub created: Instant,
    pub last_active: Cell<Instant>,
    pub last_cmd: Cell<Option<Cmd>>,
    /// The last command's subcommand as redis names it (`client|list`),
    /// for a command with subcommands.
    pub last_sub: Cell<Option<&'static str>>,
    /// The connection's input buffer (`qbuf=`, `qbuf-free=`), as the
    /// connection loop keeps it: while a batch is served it holds the whole
    /// batch, as redis's query buffer holds the command it runs.
    pub input: Rc<InputGauge>,
    pub proto: Cell<Proto>,
    /// Channels, patterns and shard channels subscribed to.
    pub subscriptions: Cell<(usize, usize, usize)>,
    /// MONITOR: this connection gets every command the server serves
    /// (`flags=O`).
    pub monitoring: Cell<bool>,
    /// Where CLIENT KILL ends the connection, and pub/sub delivers.
    pub outbox: Rc<Outbox>,
    /// CLIENT TRACKING's state, when on (`tracking.rs`).
    pub tracking: RefCell<Option<super::tracking::Tracking>>,
    /// Tracking in the default mode (its reads' keys are remembered) or
    /// with NOLOOP (its writes are marked): the one flag a command of any
    /// other client reads (`tracking_conn.rs`).
    pub tracks_reads: Cell<bool>,
    /// CLIENT CACHING: (given for the next command, in force for this one).
    pub caching: Cell<(Option<bool>, Option<bool>)>,
    /// QUIT, or killed: its last replies go, then it closes (it may linger
    /// a while); nothing more is delivered to it (a REDIRECT target gone).
    pub closing: Cell<bool>,
    /// Its ACL user's name (`user=`), set by AUTH and RESET.
    pub user: RefCell<String>,
}

/// This shard's connections, held by its [`RespShard`](super::RespShard):
/// read by the shard's connections and by the mesh task that answers other
/// shards' CLIENT LIST and KILL. Reached only through these synchronous
/// methods, so no borrow of the map outlives a call.
#[derive(Default)]
pub struct Clients {
    open: RefCell<BTreeMap<u64, Rc<ClientInfo>>>,
    next: Cell<u64>,
    /// Connections accepted and commands read on this shard (INFO stats).
    received: Cell<(u64, u64)>,
}

impl Clients {
    /// Counts `commands` read on this shard.
    pub fn count_commands(&self, commands: u64) {
        let (connections, total) = self.received.get();
        self.received.set((connections, total + commands));
    }

    /// Connections accepted and commands read on this shard so far.
    pub fn received(&self) -> (u64, u64) {
        self.received.get()
    }

    /// CONFIG RESETSTAT: the counts start again from zero.
    pub fn reset_received(&self) {
        self.received.set((0, 0));
    }

    /// A new connection's id on `shard` of `shards`: increasing per shard,
    /// unique over the server.
    pub fn next_id(&self, shard: usize, shards: usize) -> u64 {
        let n = self.next.get();
        self.next.set(n + 1);
        n * shards as u64 + shard as u64 + 1
    }

    pub fn register(&self, client: Rc<ClientInfo>) {
        let (connections, commands) = self.received.get();
        self.received.set((connections + 1, commands));
        self.open.borrow_mut().insert(client.id, client);
    }

    /// This shard's connection with client id `id`, if open.
    pub fn find(&self, id: u64) -> Option<Rc<ClientInfo>> {
        self.open.borrow().get(&id).cloned()
    }

    pub fn unregister(&self, id: u64) {
        self.open.borrow_mut().remove(&id);
    }

    /// How many resp connections this shard has open.
    pub fn count(&self) -> usize {
        self.open.borrow().len()
    }

    /// Ends every connection of this shard that `filter` means, except
    /// `caller` (spared here whatever SKIPME says: the caller's own shard
    /// answers for it after its reply). How many.
    pub fn kill(&self, filter: &KillFilter<'_>, caller: u64) -> usize {
        let mut killed = 0;
        for client in self.open.borrow().values() {
            if client.id != caller && filter.matches(client) {
                client.outbox.close();
                killed += 1;
            }
        }
        killed
    }

    /// Appends one CLIENT LIST line per connection of this shard: all of
    /// them, those of `kind`, or only `id`.
    pub fn list(&self, kind: Option<ClientType>, only: Option<u64>, out: &mut Vec<u8>) {
        for client in self.open.borrow().values() {
            if only.is_none_or(|id| id == client.id) && kind.is_none_or(|kind| kind.of(client)) {
                client.line(out);
            }
        }
    }
}

/// The shard a client id belongs to.
pub fn shard_of(id: u64, shards: usize) -> usize {
    (id.saturating_sub(1) % shards as u64) as usize
}

impl ClientInfo {
    /// Notes the command about to run, as CLIENT LIST shows it: its
    /// subcommand's name (looked up only for the few commands that have
    /// subcommands).
    pub fn note_command(&self, spec: &Spec, command: &Command<'_>) {
        self.last_cmd.set(Some(spec.cmd));
        if self.tracks_reads.get() {
            // CLIENT CACHING's word holds for the one command after it.
            let (given, _) = self.caching.get();
            self.caching.set((None, given));
        }
        let sub = match spec.cmd {
            Cmd::Client
            | Cmd::Config
            | Cmd::Acl
            | Cmd::Command
            | Cmd::Cluster
            | Cmd::Function
            | Cmd::Script
            | Cmd::Object
            | Cmd::PubSub => command_table::lookup(spec.name.as_bytes())
                .and_then(|parent| command_table::lookup_subcommand(parent, command.at(1)))
                .map(|sub| sub.name),
            _ => None,
        };
        self.last_sub.set(sub);
    }

    /// The peer's address as CLIENT LIST writes it (`ip:port`).
    pub fn addr(&self) -> String {
        self.peer.map(|p| p.to_string()).unwrap_or_default()
    }

    /// The listener's address as CLIENT LIST writes it.
    pub fn laddr(&self) -> String {
        self.local.map(|p| p.to_string()).unwrap_or_default()
    }

    /// Its CLIENT LIST line, in redis 7.0's format (figures percore does
    /// not keep, such as output buffer sizes, are 0).
    pub fn line(&self, out: &mut Vec<u8>) {
        let now = Instant::now();
        let (sub, psub, ssub) = self.subscriptions.get();
        let mut flags = String::new();
        if self.monitoring.get() {
            flags.push('O');
        } else if sub + psub + ssub > 0 {
            flags.push('P');
        }
        // CLIENT TRACKING: `t`, and `B` in BCAST mode; `redir=` its
        // REDIRECT target (0: none), -1 when not tracking.
        let redir = match &*self.tracking.borrow() {
            Some(tracking) => {
                flags.push('t');
                if tracking.broken {
                    flags.push('R');
                }
                if tracking.bcast {
                    flags.push('B');
                }
                tracking.redirect as i64
            }
            None => -1,
        };
        if flags.is_empty() {
            flags.push('N');
        }
        let cmd = self
            .last_sub
            .get()
            .or_else(|| {
                self.last_cmd
                    .get()
                    .and_then(|cmd| NAMES.get(cmd as usize))
                    .copied()
            })
            .unwrap_or("NULL");
        let line = format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={flags} db=0 sub={sub} psub={psub} ssub={ssub} multi=-1 qbuf={} qbuf-free={} argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd={cmd} user={} redir={redir} resp={}\n",
            self.id,
            self.addr(),
            self.laddr(),
            self.fd,
            String::from_utf8_lossy(&self.name.borrow()),
            now.duration_since(self.created).as_secs(),
            now.duration_since(self.last_active.get()).as_secs(),
            self.input.queued(),
            self.input.free(),
            self.user.borrow(),
            self.proto.get().number(),
        );
        out.extend_from_slice(line.as_bytes());
    }
}
