//! The tracking tables every shard keeps (`tracking.rs`): each tracking
//! client's registration (its mode, its REDIRECT target, NOLOOP, BCAST's
//! prefixes), held by every shard and replaced by CLIENT TRACKING before its
//! reply; and, per key of this shard, the default mode's readers, as Redis
//! keeps them per key. A write on a key's owner looks both up right after
//! it ran ([`after_write`]) and tells the targets: one message per key
//! (the default mode) or, for BCAST, per prefix and target with every key
//! the shard wrote before it next yields (Redis sends BCAST's once per
//! event loop), through `tracking_deliver.rs`. The tables are the shard's
//! [`TrackingTable`], in its `RespShard`; with nothing tracked on a shard,
//! a write pays one `Cell` read.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use super::client;
use super::command_table;
use super::commands::info::ServerFigures;
use super::commands::strings::parse_i64;
use super::commands::Cmd;
use super::protocol::write;
use super::protocol::Command;
use super::tracking_deliver::{tell, Says};
use super::RespShard;

/// One tracking client's registration, as every shard holds it.
struct Registration {
    client: u64,
    /// Where its invalidations go: itself, or its REDIRECT target.
    target: u64,
    bcast: bool,
    noloop: bool,
    prefixes: Vec<Vec<u8>>,
}

/// BCAST's invalidations of one prefix for one client, not sent yet.
struct Pending {
    client: u64,
    target: u64,
    prefix: Vec<u8>,
    keys: Vec<Vec<u8>>,
}

/// One shard's tracking tables, reached only through this module's
/// synchronous functions (no borrow outlives one of them).
#[derive(Default)]
pub struct TrackingTable {
    registered: RefCell<Vec<Registration>>,
    /// The default mode's table: each key of this shard read by tracking
    /// clients, and their ids.
    readers: RefCell<HashMap<Vec<u8>, Vec<u64>>>,
    /// Whether anything is tracked here: the one read a write pays.
    any: Cell<bool>,
    /// The NOLOOP client whose write runs next here (`INTERNAL-TRACK-WRITER`
    /// goes right before it): it is not told of its own write.
    writer: Cell<Option<u64>>,
    /// BCAST's invalidations not sent yet: (client, target, prefix, keys).
    pending: RefCell<Vec<Pending>>,
}

/// The words of `INTERNAL-TRACK client target mode prefix...`; `mode`
/// `-` for a client that no longer tracks, else `b` (BCAST) or `d`, and
/// `n` for NOLOOP.
pub fn track_args(client: u64, target: u64, mode: &str, prefixes: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut words = vec![
        client.to_string().into_bytes(),
        target.to_string().into_bytes(),
        mode.as_bytes().to_vec(),
    ];
    words.extend(prefixes.iter().map(|p| {
        // A marker byte, so that the empty prefix survives as a word.
        let mut word = vec![b'p'];
        word.extend_from_slice(p);
        word
    }));
    words
}

/// INTERNAL-TRACK on this shard: the client's registration replaced.
pub fn track(here: &RespShard, command: &Command<'_>, out: &mut Vec<u8>) {
    let number = |i: usize| parse_i64(command.at(i)).map(|n| n.max(0) as u64);
    let (Some(client), Some(target)) = (number(1), number(2)) else {
        write::error(
            out,
            "ERR internal: a tracking registration could not be read",
        );
        return;
    };
    let mode = command.at(3);
    let prefixes = command.iter().skip(4).map(|w| w[1..].to_vec()).collect();
    register(here, client, target, mode, prefixes);
    write::ok(out);
}

/// Replaces `client`'s registration on this shard (see [`track_args`]).
pub fn register(here: &RespShard, client: u64, target: u64, mode: &[u8], prefixes: Vec<Vec<u8>>) {
    let table = &here.tracking;
    {
        let mut registered = table.registered.borrow_mut();
        registered.retain(|r| r.client != client);
        if mode != b"-" {
            registered.push(Registration {
                client,
                target,
                bcast: mode.contains(&b'b'),
                noloop: mode.contains(&b'n'),
                prefixes,
            });
        }
    }
    update_any(table);
}

fn update_any(table: &TrackingTable) {
    let any = !table.registered.borrow().is_empty()
        || !table.readers.borrow().is_empty()
        || table.writer.get().is_some();
    table.any.set(any);
}

/// INTERNAL-TRACK-KEY client key, on the key's owner: `client` read `key`
/// (right before the read itself, in the same message).
pub fn remember(here: &RespShard, command: &Command<'_>, out: &mut Vec<u8>) {
    if let Some(client) = parse_i64(command.at(1)) {
        let client = client.max(0) as u64;
        let table = &here.tracking;
        {
            let mut readers = table.readers.borrow_mut();
            let ids = readers.entry(command.at(2).to_vec()).or_default();
            if !ids.contains(&client) {
                ids.push(client);
            }
        }
        table.any.set(true);
    }
    write::ok(out);
}

/// INTERNAL-TRACK-WRITER client, on the key's owner, right before a write
/// of a NOLOOP client: that write does not invalidate for it.
pub fn mark_writer(here: &RespShard, command: &Command<'_>, out: &mut Vec<u8>) {
    if let Some(client) = parse_i64(command.at(1)) {
        here.tracking.writer.set(Some(client.max(0) as u64));
        here.tracking.any.set(true);
    }
    write::ok(out);
}

/// After `cmd` ran on this shard (its key's owner) and answered `reply`:
/// the clients that read a key it wrote, or track a prefix of it, are told.
pub fn after_write(here: &RespShard, cmd: Cmd, command: &Command<'_>, reply: &[u8]) {
    if !here.tracking.any.get() {
        return;
    }
    let writer = here.tracking.writer.take();
    if matches!(cmd, Cmd::FlushAll | Cmd::FlushDb) {
        flushed(here);
    } else if reply.first() != Some(&b'-') {
        for key in written_keys(cmd, command) {
            invalidate_for(here, key, writer);
        }
    }
    if writer.is_some() {
        update_any(&here.tracking);
    }
}

/// This shard's share of INFO's tracking figures: the tracking clients
/// whose connections are here, the keys of this shard in the default
/// mode's table and their readers; BCAST's distinct prefixes, counted by
/// shard 0 (every shard holds them all).
pub fn add_figures(shard: &RespShard, figures: &mut ServerFigures) {
    let (here, shards) = (shard.id, shard.count);
    {
        let registered = shard.tracking.registered.borrow();
        figures.tracking_clients += registered
            .iter()
            .filter(|r| client::shard_of(r.client, shards) == here)
            .count() as u64;
        if here == 0 {
            let mut prefixes: Vec<&Vec<u8>> = registered
                .iter()
                .filter(|r| r.bcast)
                .flat_map(|r| &r.prefixes)
                .collect();
            prefixes.sort();
            prefixes.dedup();
            figures.tracking_prefixes += prefixes.len() as u64;
        }
    }
    let readers = shard.tracking.readers.borrow();
    figures.tracking_keys += readers.len() as u64;
    figures.tracking_items += readers.values().map(|ids| ids.len() as u64).sum::<u64>();
}

/// The keys a write command names, by its first key, last key and step in
/// the command table (both of LMOVE's, every one of MSET's), as Redis
/// invalidates every key a write touched; none for a read.
fn written_keys<'a>(cmd: Cmd, command: &'a Command<'_>) -> Vec<&'a [u8]> {
    let name = super::commands::NAMES[cmd as usize].as_bytes();
    let Some(entry) = command_table::lookup(name) else {
        return Vec::new();
    };
    if !entry.flags.contains(&"write") || entry.first_key <= 0 {
        return Vec::new();
    }
    let argc = command.len() as i64;
    let last = match i64::from(entry.last_key) {
        n if n < 0 => argc + n,
        n => n,
    };
    (entry.first_key as usize..=last.clamp(0, argc - 1) as usize)
        .step_by(entry.step.max(1) as usize)
        .map(|i| command.at(i))
        .collect()
}

/// FLUSHALL or FLUSHDB ran on this shard (as on every shard): its readers
/// are forgotten, and each tracking client whose connection is on this
/// shard is told, once, that every key may have changed (Redis's
/// `trackingInvalidateKeysOnFlush`).
fn flushed(here: &RespShard) {
    here.tracking.readers.borrow_mut().clear();
    let told: Vec<(u64, u64)> = here
        .tracking
        .registered
        .borrow()
        .iter()
        .filter(|r| client::shard_of(r.client, here.count) == here.id)
        .map(|r| (r.client, r.target))
        .collect();
    for (client, target) in told {
        tell(here, client, target, Says::All);
    }
    update_any(&here.tracking);
}

/// `key` changed on this shard (expired): every client tracking it is told.
pub fn invalidate(here: &RespShard, key: &[u8]) {
    if here.tracking.any.get() {
        invalidate_for(here, key, None);
    }
}

/// `key` changed on this shard, written by `writer` (a NOLOOP client, not
/// told).
fn invalidate_for(here: &RespShard, key: &[u8], writer: Option<u64>) {
    let spared = |r: &Registration| r.noloop && writer == Some(r.client);
    let readers = here.tracking.readers.borrow_mut().remove(key);
    let mut direct = Vec::new();
    {
        let registered = here.tracking.registered.borrow();
        for r in registered.iter().filter(|r| r.bcast && !spared(r)) {
            if let Some(prefix) = r.prefixes.iter().find(|p| key.starts_with(p)) {
                queue_bcast(here, r.client, r.target, prefix, key);
            }
        }
        // Redis tells a reader only while it tracks in the default mode.
        for client in readers.iter().flatten() {
            if let Some(r) = registered.iter().find(|r| r.client == *client) {
                if !r.bcast && !spared(r) {
                    direct.push((r.client, r.target));
                }
            }
        }
    }
    if readers.is_some() {
        update_any(&here.tracking);
    }
    for (client, target) in direct {
        tell(here, client, target, Says::Keys(&[key]));
    }
}

/// Queues BCAST's invalidation of `key` for `target`, with the other keys
/// of `prefix` written before this shard next yields.
fn queue_bcast(here: &RespShard, client: u64, target: u64, prefix: &[u8], key: &[u8]) {
    let first = {
        let mut pending = here.tracking.pending.borrow_mut();
        let first = pending.is_empty();
        match pending
            .iter_mut()
            .find(|p| p.client == client && p.prefix == prefix)
        {
            Some(p) => {
                if !p.keys.iter().any(|k| k == key) {
                    p.keys.push(key.to_vec());
                }
            }
            None => pending.push(Pending {
                client,
                target,
                prefix: prefix.to_vec(),
                keys: vec![key.to_vec()],
            }),
        }
        first
    };
    if first {
        // Glommio may start a new task at once: it first lets the write
        // that queued it finish (and the rest of its round).
        let Some(here) = here.handle() else {
            return;
        };
        glommio::spawn_local(async move {
            futures_lite::future::yield_now().await;
            let pending = std::mem::take(&mut *here.tracking.pending.borrow_mut());
            for p in pending {
                let keys: Vec<&[u8]> = p.keys.iter().map(Vec::as_slice).collect();
                tell(&here, p.client, p.target, Says::Keys(&keys));
            }
        })
        .detach();
    }
}
