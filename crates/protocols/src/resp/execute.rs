//! The owner's side: a command that concerns a shard's keys runs here, with
//! the same code whether a connection of this shard sent it or another shard
//! forwarded it over the key space's mesh.

use super::*;
use commands::Flags;
use percore_keyspace::write::PREFETCH_AHEAD;
use percore_keyspace::{Marks, OwnerHandler, SharedStore};
use percore_resp_wire::second_words;
use std::any::Any;

/// Runs a command that concerns this shard's keys (or its part of
/// every shard's): the same code for a connection of this shard and for a
/// command another shard forwarded. A client's command is timed and its
/// failure counted here (`command_stats.rs`), and its keyspace events
/// published (`notify.rs`).
pub fn execute(
    cmd: Cmd,
    command: &Command<'_>,
    keys: &mut ShardKeys<'_>,
    proto: Proto,
    shard: &RespShard,
    out: &mut Vec<u8>,
) {
    let outermost = blocked_keys::enter(shard);
    let spec = commands::spec_of(cmd);
    if spec.flags.has(Flags::INTERNAL) || spec.flags.has(Flags::UNCOUNTED) {
        dispatch(cmd, command, keys, proto, shard, out);
    } else {
        let observed = notify::Observed::before(shard, cmd, command, keys);
        let start = out.len();
        shard.stats.observe(cmd, out, |out| {
            dispatch(cmd, command, keys, proto, shard, out)
        });
        if let Some(observed) = observed {
            observed.after(shard, cmd, command, keys, &out[start..]);
        }
        tracking_table::after_write(shard, cmd, command, &out[start..]);
    }
    touch_keys(cmd, command, keys);
    // Clients blocked on keys this command filled are served now, before
    // any other command runs here (`blocked_keys.rs`).
    blocked_keys::leave(outermost, keys, shard);
}

/// Moves the access clock of the keys `command` names (OBJECT IDLETIME,
/// and what eviction reads: `percore_keyspace`'s `store/eviction.rs`), as
/// Redis's `lookupKey` does for every command but those that look up with
/// `LOOKUP_NOTOUCH`: TYPE, the TTL family, EXISTS and OBJECT. One look-up
/// a key after the command ran; the clock is written only when it changed
/// (seconds), so a hot key's memory stays clean.
fn touch_keys(cmd: Cmd, command: &Command<'_>, keys: &mut ShardKeys<'_>) {
    if matches!(
        cmd,
        Cmd::Type
            | Cmd::Ttl
            | Cmd::PTtl
            | Cmd::ExpireTime
            | Cmd::PExpireTime
            | Cmd::Exists
            | Cmd::Object
    ) {
        return;
    }
    for at in commands::spec_of(cmd).keys.positions(command.len()) {
        keys.store.touch(command.at(at));
    }
}

/// A blocked client's one-key form, run for it by the key's owner: its
/// keyspace events published as the command's, but not counted as a
/// command of its own (the blocking command was, when the client sent it).
pub(super) fn execute_for_waiter(
    cmd: Cmd,
    command: &Command<'_>,
    keys: &mut ShardKeys<'_>,
    proto: Proto,
    shard: &RespShard,
    out: &mut Vec<u8>,
) {
    let observed = notify::Observed::before(shard, cmd, command, keys);
    let start = out.len();
    dispatch(cmd, command, keys, proto, shard, out);
    if let Some(observed) = observed {
        observed.after(shard, cmd, command, keys, &out[start..]);
    }
    tracking_table::after_write(shard, cmd, command, &out[start..]);
    touch_keys(cmd, command, keys);
}

fn dispatch(
    cmd: Cmd,
    command: &Command<'_>,
    keys: &mut ShardKeys<'_>,
    proto: Proto,
    shard: &RespShard,
    out: &mut Vec<u8>,
) {
    if commands::types::string_command_on_other_type(cmd, command, keys) {
        return commands::collections::wrong_type(out);
    }
    // The row's handler (`commands/table.rs`).
    (commands::spec_of(cmd).run)(cmd, command, keys, proto, shard, out)
}

/// What resp runs on the shard that owns a forwarded message's keys,
/// registered on the key space's plan ([`KeySpacePlan::register`]).
///
/// [`KeySpacePlan::register`]: percore_keyspace::KeySpacePlan::register
pub(crate) const OWNER_HANDLER: OwnerHandler = OwnerHandler {
    serve: serve_forwarded,
    push_error,
    push_disk_error,
    before_reply: Some(late_counts::before_reply),
    state: Some(RespShard::make),
    expired: Some(expired),
    filled: Some(filled),
    evicted: Some(evicted),
};

/// `key` was evicted under `maxmemory-policy`: tracking is told and the
/// `evicted` event published (`notify.rs`).
fn evicted(state: &dyn Any, key: &[u8]) {
    if let Some(here) = state.downcast_ref::<RespShard>() {
        notify::evicted(here, key);
    }
}

/// A write may have filled `key`: its blocked clients are served once the
/// command has run (`blocked_keys.rs`).
fn filled(state: &dyn Any, key: &[u8]) {
    if let Some(here) = state.downcast_ref::<RespShard>() {
        blocked_keys::filled(here, key);
    }
}

/// The key space's active expiry freed `key` (`notify.rs`).
fn expired(state: &dyn Any, key: &[u8]) {
    if let Some(here) = state.downcast_ref::<RespShard>() {
        notify::expired(here, key);
    }
}

/// resp's state on this shard, as the key space lends it.
fn resp_shard(state: Option<&dyn Any>) -> Option<&RespShard> {
    state?.downcast_ref()
}

/// Answers the commands another shard forwarded: each frame of `commands`
/// is `[protocol version][command number][RESP command]`; `replies` gets
/// one reply frame each. Returns how many.
fn serve_forwarded(
    store: &SharedStore,
    log: Option<&ShardLog>,
    _shard: (usize, usize),
    state: Option<&dyn Any>,
    commands: &[u8],
    replies: &mut Vec<u8>,
) -> usize {
    let Some(here) = resp_shard(state) else {
        // Never: the key space makes resp's state before it joins the mesh.
        let mut rest = commands;
        let mut count = 0;
        while let Some((_, next)) = split_frame(rest) {
            push_error(replies, "ERR internal: resp has no state on this shard");
            count += 1;
            rest = next;
        }
        return count;
    };
    let marks = store.marks();
    here.late.begin_message(here);
    store.with_mut(|store| serve_forwarded_on(store, marks, log, here, commands, replies))
}

/// [`serve_forwarded`] on the store it was lent.
fn serve_forwarded_on(
    store: &mut Store,
    marks: &Marks,
    log: Option<&ShardLog>,
    shard: &RespShard,
    commands: &[u8],
    replies: &mut Vec<u8>,
) -> usize {
    thread_local! {
        // Where each forwarded command is parsed, reused: a scratch buffer,
        // set before each use, that holds no shared state. Forwarded
        // commands passed their connection's limits already.
        static ARGS: RefCell<protocol::Args> = RefCell::new(protocol::Args::unbounded());
    }
    let now = now_ms();
    let mut keys = ShardKeys::new(store, marks, log, now);
    ARGS.with(|args| {
        let mut args = args.borrow_mut();
        let mut rest = commands;
        let mut count = 0;
        // Commands left before the next look ahead.
        let mut ahead = 0;
        while let Some((frame, next)) = split_frame(rest) {
            if ahead == 0 {
                // The next commands' keys prefetched together, as the
                // sender's shard does for its own (`plan.rs`).
                keys.prefetch(forwarded_keys(rest));
                ahead = PREFETCH_AHEAD;
            }
            ahead -= 1;
            let start = percore::codec::begin_frame(replies);
            match frame {
                [proto, cmd, command @ ..] => {
                    let quiet = *proto & ask_shards::QUIET != 0;
                    let proto = if *proto & !ask_shards::QUIET == Proto::Resp3 as u8 {
                        Proto::Resp3
                    } else {
                        Proto::Resp2
                    };
                    match (
                        commands::cmd_from_u8(*cmd),
                        parse_command(command, &mut args),
                    ) {
                        (Some(cmd), Ok(())) => {
                            // A PUBLISH may leave its count late: its frame
                            // is rewritten before the replies leave
                            // (`late_counts.rs`).
                            let late = shard.late.run(|| {
                                shard.notify.quietly(quiet, || {
                                    execute(
                                        cmd,
                                        &args.view(command),
                                        &mut keys,
                                        proto,
                                        shard,
                                        replies,
                                    )
                                })
                            });
                            if let Some(token) = late {
                                write::int(replies, 0);
                                shard.late.late_frame(count, token);
                            }
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
            percore::codec::end_frame(replies, start);
            count += 1;
            rest = next;
        }
        count
    })
}

/// The first key (second word) of each forwarded command in `commands`,
/// for prefetching.
fn forwarded_keys(mut commands: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        let (frame, next) = split_frame(commands)?;
        commands = next;
        Some(frame)
    })
    .filter_map(|frame| second_words(frame.get(2..)?).next())
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
