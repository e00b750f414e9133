//! What a shard runs for its part of a command served over every shard
//! (INFO, CLIENT LIST and KILL, CONFIG SET and RESETSTAT, SAVE): each is
//! the handler of an internal row of the registry (`commands/table.rs`),
//! under the signature every row's handler has.

use super::*;
use percore_keyspace::{EvictionSettings, Policy};

/// SAVE and BGSAVE both start the snapshots, as the batch ends; neither
/// waits for them (README).
pub(super) fn save(
    cmd: Cmd,
    _command: &Command<'_>,
    keys: &mut ShardKeys<'_>,
    _proto: Proto,
    _shard: &RespShard,
    out: &mut Vec<u8>,
) {
    keys.ask_snapshot();
    keys.saved();
    match cmd {
        Cmd::Save => write::ok(out),
        _ => write::simple(out, b"Background saving started"),
    }
}

/// A shard's figures for INFO.
pub(super) fn figures(
    _cmd: Cmd,
    _command: &Command<'_>,
    keys: &mut ShardKeys<'_>,
    _proto: Proto,
    here: &RespShard,
    out: &mut Vec<u8>,
) {
    let (connections_received, commands) = here.clients.received();
    let mut figures = ServerFigures {
        keys: keys.store.len() as u64,
        expires: keys.store.expiring_len() as u64,
        memory_bytes: keys.store.bytes(),
        evicted_keys: keys.store.evicted(),
        clients: here.clients.count() as u64,
        connections_received,
        commands,
        blocked_clients: here.blocked.get(),
        changes: keys.changes(),
        ..ServerFigures::default()
    };
    pubsub::shard_part::add_figures(here, &mut figures);
    tracking_table::add_figures(here, &mut figures);
    figures.write(out);
}

/// A shard's CLIENT LIST lines (all, or `TYPE t`, or `ID n`).
pub(super) fn client_list(
    _cmd: Cmd,
    command: &Command<'_>,
    _keys: &mut ShardKeys<'_>,
    _proto: Proto,
    here: &RespShard,
    out: &mut Vec<u8>,
) {
    use super::client_filter::ListFilter;
    let words: Vec<&[u8]> = command.iter().skip(1).collect();
    let mut lines = Vec::new();
    match ListFilter::parse(&words) {
        Ok(ListFilter::Type(kind)) => here.clients.list(Some(kind), None, &mut lines),
        Ok(ListFilter::Ids(ids)) => {
            for id in ids {
                here.clients.list(None, Some(id), &mut lines);
            }
        }
        _ => here.clients.list(None, None, &mut lines),
    }
    write::bulk(out, &lines);
}

/// CLIENT KILL on a shard: `caller field value...`; how many killed.
pub(super) fn client_kill(
    _cmd: Cmd,
    command: &Command<'_>,
    _keys: &mut ShardKeys<'_>,
    _proto: Proto,
    here: &RespShard,
    out: &mut Vec<u8>,
) {
    let caller = commands::strings::parse_i64(command.at(1)).unwrap_or(0) as u64;
    let words: Vec<&[u8]> = command.iter().skip(2).collect();
    match super::client_filter::KillFilter::parse(&words) {
        Ok(filter) => write::int(out, here.clients.kill(&filter, caller) as i64),
        Err(error) => write::error(out, &error),
    }
}

/// A shard's command statistics for INFO (`command_stats.rs`).
pub(super) fn stats(
    _cmd: Cmd,
    _command: &Command<'_>,
    _keys: &mut ShardKeys<'_>,
    _proto: Proto,
    here: &RespShard,
    out: &mut Vec<u8>,
) {
    let mut text = Vec::new();
    here.stats.write_shard(&mut text);
    write::bulk(out, &text);
}

/// CONFIG RESETSTAT on a shard.
pub(super) fn reset_stats(
    _cmd: Cmd,
    _command: &Command<'_>,
    keys: &mut ShardKeys<'_>,
    _proto: Proto,
    here: &RespShard,
    out: &mut Vec<u8>,
) {
    here.stats.reset();
    here.clients.reset_received();
    keys.store.reset_evicted();
    write::ok(out);
}

/// CONFIG SET notify-keyspace-events: a shard's flags.
pub(super) fn set_notify(
    _cmd: Cmd,
    command: &Command<'_>,
    _keys: &mut ShardKeys<'_>,
    _proto: Proto,
    here: &RespShard,
    out: &mut Vec<u8>,
) {
    let flags = commands::strings::parse_i64(command.at(1)).unwrap_or(0);
    here.notify.set_flags(flags.max(0) as u32);
    write::ok(out);
}

/// CONFIG SET port, a shard's part (`port_change.rs`): `open FROM TO`
/// also listens on TO wherever resp listens on FROM here (all or nothing
/// on this shard), `close PORT` stops listening on PORT (its connections
/// stay) and answers how many listeners closed.
pub(super) fn listen(
    _cmd: Cmd,
    command: &Command<'_>,
    _keys: &mut ShardKeys<'_>,
    _proto: Proto,
    here: &RespShard,
    out: &mut Vec<u8>,
) {
    let port = |i| {
        std::str::from_utf8(command.at(i))
            .ok()
            .and_then(|p| p.parse::<u16>().ok())
    };
    let Some(listeners) = here.listeners() else {
        return write::error(out, "ERR resp has not started on this shard");
    };
    match (command.at(1), port(2), port(3)) {
        (b"open", Some(from), Some(to)) => match listeners.open_port(from, to) {
            Ok(()) => write::ok(out),
            Err(error) => write::error(out, &format!("ERR shard {}: {error}", here.id)),
        },
        (b"close", Some(port), _) => write::int(out, listeners.close_port(port) as i64),
        _ => write::error(out, "ERR internal-listen: open FROM TO, or close PORT"),
    }
}

/// CONFIG SET maxmemory: a shard's share.
pub(super) fn set_max_memory(
    _cmd: Cmd,
    command: &Command<'_>,
    keys: &mut ShardKeys<'_>,
    _proto: Proto,
    _shard: &RespShard,
    out: &mut Vec<u8>,
) {
    let cap = commands::strings::parse_i64(command.at(1))
        .unwrap_or(0)
        .max(0) as u64;
    keys.store.set_cap((cap > 0).then_some(cap));
    // A lower cap evicts at once, down to it, as Redis 7.0 does (under
    // noeviction nothing goes and only later writes are refused).
    keys.evict_to_cap();
    write::ok(out);
}

/// CONFIG SET of eviction's parameters (`config.rs`'s `EVICTION`): a
/// shard's policy, samples, lfu-log-factor and lfu-decay-time, each checked
/// by CONFIG SET already.
pub(super) fn set_eviction(
    _cmd: Cmd,
    command: &Command<'_>,
    keys: &mut ShardKeys<'_>,
    _proto: Proto,
    _here: &RespShard,
    out: &mut Vec<u8>,
) {
    let number = |at: usize| commands::strings::parse_i64(command.at(at)).unwrap_or(0);
    let policy = std::str::from_utf8(command.at(1))
        .ok()
        .and_then(Policy::parse)
        .unwrap_or_default();
    keys.store.set_eviction(EvictionSettings {
        policy,
        samples: number(2).max(1) as usize,
        log_factor: number(3).clamp(0, i64::from(u32::MAX)) as u32,
        decay_minutes: number(4).clamp(0, i64::from(u32::MAX)) as u32,
    });
    write::ok(out);
}
