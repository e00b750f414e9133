//! The owner's side: a command that concerns a shard's keys runs here, with
//! the same code whether a connection of this shard sent it or another shard
//! forwarded it over the key space's mesh.

use super::*;
use percore_keyspace::{OwnerHandler, Wait};

/// Runs a command that concerns this shard's keys (or its part of
/// every shard's): the same code for a connection of this shard and for a
/// command another shard forwarded. A client's command is timed and its
/// failure counted here (`command_stats.rs`), and its keyspace events
/// published (`notify.rs`).
pub fn execute(
    cmd: Cmd,
    command: &Command<'_>,
    keys: &mut Keys<'_>,
    proto: Proto,
    shard: (usize, usize),
    out: &mut Vec<u8>,
) {
    let outermost = blocked_keys::enter();
    if cmd as u8 >= Cmd::ShardFigures as u8 {
        dispatch(cmd, command, keys, proto, shard, out);
    } else {
        let observed = notify::Observed::before(cmd, command, keys);
        let start = out.len();
        command_stats::observe(cmd, out, |out| {
            dispatch(cmd, command, keys, proto, shard, out)
        });
        if let Some(observed) = observed {
            observed.after(cmd, command, keys, &out[start..]);
        }
        tracking_table::after_write(cmd, command, &out[start..]);
    }
    // Clients blocked on keys this command filled are served now, before
    // any other command runs here (`blocked_keys.rs`).
    blocked_keys::leave(outermost, keys, shard);
}

/// A blocked client's one-key form, run for it by the key's owner: its
/// keyspace events published as the command's, but not counted as a
/// command of its own (the blocking command was, when the client sent it).
pub(super) fn execute_for_waiter(
    cmd: Cmd,
    command: &Command<'_>,
    keys: &mut Keys<'_>,
    proto: Proto,
    shard: (usize, usize),
    out: &mut Vec<u8>,
) {
    let observed = notify::Observed::before(cmd, command, keys);
    let start = out.len();
    dispatch(cmd, command, keys, proto, shard, out);
    if let Some(observed) = observed {
        observed.after(cmd, command, keys, &out[start..]);
    }
    tracking_table::after_write(cmd, command, &out[start..]);
}

fn dispatch(
    cmd: Cmd,
    command: &Command<'_>,
    keys: &mut Keys<'_>,
    proto: Proto,
    shard: (usize, usize),
    out: &mut Vec<u8>,
) {
    if commands::types::string_command_on_other_type(cmd, command, keys) {
        return commands::collections::wrong_type(out);
    }
    match cmd {
        Cmd::HSet
        | Cmd::HSetNx
        | Cmd::HGet
        | Cmd::HMGet
        | Cmd::HMSet
        | Cmd::HDel
        | Cmd::HLen
        | Cmd::HStrLen
        | Cmd::HExists
        | Cmd::HKeys
        | Cmd::HVals
        | Cmd::HGetAll
        | Cmd::HIncrBy
        | Cmd::HIncrByFloat
        | Cmd::HRandField
        | Cmd::HScan => commands::hash::run(cmd, command, keys, proto, out),
        Cmd::SAdd
        | Cmd::SRem
        | Cmd::SCard
        | Cmd::SIsMember
        | Cmd::SMIsMember
        | Cmd::SMembers
        | Cmd::SPop
        | Cmd::SRandMember
        | Cmd::SMove
        | Cmd::SInter
        | Cmd::SInterCard
        | Cmd::SUnion
        | Cmd::SDiff
        | Cmd::SInterStore
        | Cmd::SUnionStore
        | Cmd::SDiffStore
        | Cmd::SScan => commands::set::run(cmd, command, keys, proto, out),
        Cmd::ZAdd
        | Cmd::ZIncrBy
        | Cmd::ZRem
        | Cmd::ZCard
        | Cmd::ZScore
        | Cmd::ZMScore
        | Cmd::ZRank
        | Cmd::ZRevRank
        | Cmd::ZCount
        | Cmd::ZLexCount
        | Cmd::ZRange
        | Cmd::ZRangeByScore
        | Cmd::ZRevRangeByScore
        | Cmd::ZRevRange
        | Cmd::ZRangeByLex
        | Cmd::ZRevRangeByLex
        | Cmd::ZPopMin
        | Cmd::ZPopMax
        | Cmd::ZRemRangeByRank
        | Cmd::ZRemRangeByScore
        | Cmd::ZRemRangeByLex
        | Cmd::ZRandMember
        | Cmd::ZScan => commands::zset::run(cmd, command, keys, proto, out),
        Cmd::GeoAdd | Cmd::GeoPos | Cmd::GeoDist => {
            commands::geo::run(cmd, command, keys, proto, out)
        }
        Cmd::LPush
        | Cmd::RPush
        | Cmd::LPushX
        | Cmd::RPushX
        | Cmd::LPop
        | Cmd::RPop
        | Cmd::LLen
        | Cmd::LIndex
        | Cmd::LSet
        | Cmd::LRange
        | Cmd::LTrim
        | Cmd::LRem
        | Cmd::LInsert
        | Cmd::LPos
        | Cmd::LMove
        | Cmd::RPopLPush
        | Cmd::LMPop => commands::list::run(cmd, command, keys, proto, out),
        Cmd::ZUnion
        | Cmd::ZInter
        | Cmd::ZDiff
        | Cmd::ZUnionStore
        | Cmd::ZInterStore
        | Cmd::ZDiffStore
        | Cmd::ZInterCard => commands::zset_multi::run(cmd, command, keys, proto, out),
        Cmd::ZRangeStore => commands::zset_multi::range_store(command, keys, out),
        Cmd::ZMPop => commands::zset_multi::zmpop(command, keys, proto, out),
        Cmd::Memory => commands::memory::run(command, keys, proto, out),
        cmd if blocking::is_blocking(cmd) => {
            blocking_forms::run_once(cmd, command, keys, proto, shard, out)
        }
        Cmd::Expire
        | Cmd::PExpire
        | Cmd::ExpireAt
        | Cmd::PExpireAt
        | Cmd::Ttl
        | Cmd::PTtl
        | Cmd::Persist
        | Cmd::ExpireTime
        | Cmd::PExpireTime => commands::expiry::run(cmd, command, keys, out),
        Cmd::SetBit | Cmd::GetBit | Cmd::BitCount | Cmd::BitPos => {
            commands::bits::run(cmd, command, keys, out)
        }
        Cmd::Rename | Cmd::RenameNx | Cmd::Copy => commands::rename::run(cmd, command, keys, out),
        Cmd::BitOp => commands::bitop::run(command, keys, out),
        Cmd::BitField | Cmd::BitFieldRo => commands::bitfield::run(cmd, command, keys, proto, out),
        Cmd::Lcs => commands::lcs::run(command, keys, proto, out),
        Cmd::Object => commands::object::run(command, keys, proto, out),
        Cmd::DumpPayload => commands::payload::dump(command, keys, proto, out),
        Cmd::RestorePayload => commands::payload::restore(command, keys, out),
        Cmd::IncrByFloat => commands::string_float::incr_by_float(command, keys, out),
        Cmd::GetSet => commands::string_float::get_set(command, keys, proto, out),
        Cmd::Keys | Cmd::Scan | Cmd::DbSize | Cmd::FlushDb | Cmd::FlushAll | Cmd::RandomKey => {
            commands::keyspace::run(cmd, command, keys, proto, shard, out)
        }
        Cmd::Save | Cmd::BgSave => {
            // SAVE and BGSAVE both start the snapshots; neither waits for
            // them (README).
            if let Some(keys) = percore_keyspace::KeySpace::here() {
                keys.save();
            }
            percore_keyspace::touched::saved();
            match cmd {
                Cmd::Save => write::ok(out),
                _ => write::simple(out, b"Background saving started"),
            }
        }
        Cmd::ShardFigures => {
            let (connections_received, commands) = client::received();
            let mut figures = ServerFigures {
                keys: keys.store.len() as u64,
                expires: keys.store.expiring_len() as u64,
                memory_bytes: keys.store.bytes(),
                clients: client::count() as u64,
                connections_received,
                commands,
                blocked_clients: blocking::blocked(),
                changes: percore_keyspace::touched::changes(),
                ..ServerFigures::default()
            };
            pubsub::owner::add_figures(&mut figures);
            tracking_table::add_figures(&mut figures);
            figures.write(out);
        }
        Cmd::Publish
        | Cmd::SPublish
        | Cmd::PubSubInterest
        | Cmd::PubSubNumSub
        | Cmd::PubSubChannels => pubsub::owner::run(cmd, command, out),
        Cmd::ClientList => {
            use super::client_filter::ListFilter;
            let words: Vec<&[u8]> = command.iter().skip(1).collect();
            let mut lines = Vec::new();
            match ListFilter::parse(&words) {
                Ok(ListFilter::Type(kind)) => client::list(Some(kind), None, &mut lines),
                Ok(ListFilter::Ids(ids)) => {
                    for id in ids {
                        client::list(None, Some(id), &mut lines);
                    }
                }
                _ => client::list(None, None, &mut lines),
            }
            write::bulk(out, &lines);
        }
        Cmd::ClientKill => {
            let caller = commands::strings::parse_i64(command.at(1)).unwrap_or(0) as u64;
            let words: Vec<&[u8]> = command.iter().skip(2).collect();
            match super::client_filter::KillFilter::parse(&words) {
                Ok(filter) => write::int(out, client::kill(&filter, caller) as i64),
                Err(error) => write::error(out, &error),
            }
        }
        // Cluster mode: this shard's part of COUNTKEYSINSLOT or
        // GETKEYSINSLOT (the only CLUSTER subcommands run here).
        Cmd::Cluster => cluster::slot_keys::shard_part(command, keys, out),
        Cmd::TxExec => transaction::run_exec(command, keys, proto, shard, out),
        Cmd::TxWatch => transaction::watch_state(keys, command.at(1), out),
        Cmd::ShardStats => {
            let mut text = Vec::new();
            command_stats::write_shard(&mut text);
            write::bulk(out, &text);
        }
        Cmd::ResetStats => {
            command_stats::reset();
            client::reset_received();
            write::ok(out);
        }
        Cmd::Track => tracking_table::track(command, out),
        Cmd::Invalidate => tracking_deliver::deliver_forwarded(command, out),
        Cmd::TrackKey => tracking_table::remember(command, out),
        Cmd::TrackWriter => tracking_table::mark_writer(command, out),
        Cmd::SetNotify => {
            let flags = commands::strings::parse_i64(command.at(1)).unwrap_or(0);
            notify::set_flags(flags.max(0) as u32);
            write::ok(out);
        }
        Cmd::BlockOn => blocked_keys::block_on(command, keys, out),
        Cmd::Unblock => blocked_keys::unblock(command, out),
        Cmd::MovePush => moves_in_flight::push(command, keys, proto, shard, out),
        Cmd::Dump => commands::dump::dump(command, keys, proto, out),
        Cmd::Restore => commands::dump::restore(command, keys, out),
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

/// What resp runs on the shard that owns a forwarded message's keys,
/// registered on the key space's plan ([`KeySpacePlan::register`]).
///
/// [`KeySpacePlan::register`]: percore_keyspace::KeySpacePlan::register
pub(crate) const OWNER_HANDLER: OwnerHandler = OwnerHandler {
    serve: serve_forwarded,
    push_error,
    push_disk_error,
    before_reply: Some(delivery_room),
};

/// A forwarded message may hold PUBLISHes, fanned out over this shard's
/// broker lanes: its replies wait while those are behind.
fn delivery_room() -> Option<Wait> {
    let broker = crate::mq::Broker::here()?;
    // Boxed only when there is something to wait for.
    if broker.delivery_has_room() {
        return None;
    }
    Some(Box::pin(async move { broker.delivery_room().await }))
}

/// Answers the commands another shard forwarded: each frame of `commands`
/// is `[protocol version][command number][RESP command]`; `replies` gets
/// one reply frame each. Returns how many.
fn serve_forwarded(
    store: &RefCell<Store>,
    log: Option<&ShardLog>,
    shard: (usize, usize),
    commands: &[u8],
    replies: &mut Vec<u8>,
) -> usize {
    thread_local! {
        // Forwarded commands passed their connection's limits already.
        static ARGS: RefCell<protocol::Args> = RefCell::new(protocol::Args::unbounded());
    }
    let now = now_ms();
    let mut store = store.borrow_mut();
    let mut keys = Keys::new(&mut store, log, now);
    ARGS.with(|args| {
        let mut args = args.borrow_mut();
        let mut rest = commands;
        let mut count = 0;
        while let Some((frame, next)) = split_frame(rest) {
            let start = percore::codec::begin_frame(replies);
            match frame {
                [proto, cmd, command @ ..] => {
                    let quiet = *proto & alone::QUIET != 0;
                    let proto = if *proto & !alone::QUIET == Proto::Resp3 as u8 {
                        Proto::Resp3
                    } else {
                        Proto::Resp2
                    };
                    match (
                        commands::cmd_from_u8(*cmd),
                        parse_command(command, &mut args),
                    ) {
                        (Some(cmd), Ok(())) => notify::quietly(quiet, || {
                            execute(cmd, &args.view(command), &mut keys, proto, shard, replies)
                        }),
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
            percore::codec::end_frame(replies, start);
            count += 1;
            rest = next;
        }
        count
    })
}

/// resp's reply to a command whose write could not reach the disk.
fn push_disk_error(replies: &mut Vec<u8>, reason: &str) {
    push_error(replies, &format!("MISCONF disk: {reason}"));
}

/// One reply frame holding the error `text`.
fn push_error(replies: &mut Vec<u8>, text: &str) {
    let start = percore::codec::begin_frame(replies);
    write::error(replies, text);
    percore::codec::end_frame(replies, start);
}
