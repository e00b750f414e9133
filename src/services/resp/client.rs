//! The resp connections of a shard, as CLIENT LIST, CLIENT KILL and INFO
//! see them. Each connection's [`ClientInfo`] is held by its session and by
//! this shard's registry (a thread-local: a shard is one thread, and the
//! registry is read both by the shard's connections and by the mesh task
//! that answers other shards' CLIENT LIST and KILL).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Instant;

use super::commands::{Cmd, NAMES};
use super::protocol::Proto;
use crate::server::outbox::Outbox;

/// One resp connection.
pub struct ClientInfo {
    /// Unique in the server: the shard is `(id - 1) % shards`.
    pub id: u64,
    pub peer: Option<SocketAddr>,
    pub name: RefCell<Vec<u8>>,
    pub created: Instant,
    pub last_active: Cell<Instant>,
    pub last_cmd: Cell<Option<Cmd>>,
    pub proto: Cell<Proto>,
    /// Channels, patterns and shard channels subscribed to.
    pub subscriptions: Cell<(usize, usize, usize)>,
    /// Where CLIENT KILL ends the connection, and pub/sub delivers.
    pub outbox: Rc<Outbox>,
}

thread_local! {
    static CLIENTS: RefCell<BTreeMap<u64, Rc<ClientInfo>>> = RefCell::default();
    static NEXT: Cell<u64> = const { Cell::new(0) };
    /// Connections accepted and commands read on this shard (INFO stats).
    static RECEIVED: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

/// Counts `commands` read on this shard.
pub fn count_commands(commands: u64) {
    RECEIVED.with(|received| {
        let (connections, total) = received.get();
        received.set((connections, total + commands));
    });
}

/// Connections accepted and commands read on this shard so far.
pub fn received() -> (u64, u64) {
    RECEIVED.with(Cell::get)
}

/// CONFIG RESETSTAT: the counts start again from zero.
pub fn reset_received() {
    RECEIVED.with(|received| received.set((0, 0)));
}

/// A new connection's id on `shard` of `shards`: increasing per shard,
/// unique over the server.
pub fn next_id(shard: usize, shards: usize) -> u64 {
    NEXT.with(|next| {
        let n = next.get();
        next.set(n + 1);
        n * shards as u64 + shard as u64 + 1
    })
}

/// The shard a client id belongs to.
pub fn shard_of(id: u64, shards: usize) -> usize {
    (id.saturating_sub(1) % shards as u64) as usize
}

pub fn register(client: Rc<ClientInfo>) {
    RECEIVED.with(|received| {
        let (connections, commands) = received.get();
        received.set((connections + 1, commands));
    });
    CLIENTS.with(|clients| clients.borrow_mut().insert(client.id, client));
}

pub fn unregister(id: u64) {
    CLIENTS.with(|clients| clients.borrow_mut().remove(&id));
}

/// How many resp connections this shard has open.
pub fn count() -> usize {
    CLIENTS.with(|clients| clients.borrow().len())
}

/// Ends connection `id` if this shard has it; whether it did.
pub fn kill(id: u64) -> bool {
    CLIENTS.with(|clients| match clients.borrow().get(&id) {
        Some(client) => {
            client.outbox.close();
            true
        }
        None => false,
    })
}

/// Appends one CLIENT LIST line per connection of this shard (all of them,
/// or only `id`).
pub fn list(only: Option<u64>, out: &mut Vec<u8>) {
    CLIENTS.with(|clients| {
        for client in clients.borrow().values() {
            if only.is_none_or(|id| id == client.id) {
                client.line(out);
            }
        }
    });
}

impl ClientInfo {
    /// Its CLIENT LIST line, in redis 7.0's format (figures percore does
    /// not keep, such as buffer sizes, are 0).
    pub fn line(&self, out: &mut Vec<u8>) {
        let now = Instant::now();
        let (sub, psub, ssub) = self.subscriptions.get();
        let flags = if sub + psub + ssub > 0 { "P" } else { "N" };
        let addr = self.peer.map(|p| p.to_string()).unwrap_or_default();
        let cmd = self
            .last_cmd
            .get()
            .and_then(|cmd| NAMES.get(cmd as usize))
            .copied()
            .unwrap_or("NULL");
        let line = format!(
            "id={} addr={addr} laddr= fd=0 name={} age={} idle={} flags={flags} db=0 sub={sub} psub={psub} ssub={ssub} multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd={cmd} user=default redir=-1 resp={}\n",
            self.id,
            String::from_utf8_lossy(&self.name.borrow()),
            now.duration_since(self.created).as_secs(),
            now.duration_since(self.last_active.get()).as_secs(),
            self.proto.get().number(),
        );
        out.extend_from_slice(line.as_bytes());
    }
}
