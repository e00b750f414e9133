//! Each group's code under the one signature a registry row holds
//! ([`OwnerFn`](super::OwnerFn)): what a command runs on the shard that owns
//! its keys. The groups' own functions take only what they use; these pass
//! it on. (The string commands' `strings::run`, on the hot path of GET and
//! SET, takes the row's signature itself: the rows name it directly.)

use super::super::protocol::write::{self, Proto};
use super::super::protocol::Command;
use super::Cmd;
use crate::resp::RespShard;
use percore_keyspace::write::ShardKeys;

/// The arguments every handler takes, as [`OwnerFn`](super::OwnerFn) names them.
macro_rules! handlers {
    ($($(#[$doc:meta])* $name:ident($cmd:ident, $args:ident, $keys:ident, $proto:ident, $shard:ident, $out:ident) $body:block)*) => {
        $(
            $(#[$doc])*
            pub(super) fn $name(
                $cmd: Cmd,
                $args: &Command<'_>,
                $keys: &mut ShardKeys<'_>,
                $proto: Proto,
                $shard: &RespShard,
                $out: &mut Vec<u8>,
            ) $body
        )*
    };
}

handlers! {
    /// SUBSTR: GETRANGE under its old name, served by GETRANGE's code as
    /// redis serves both with `getrangeCommand`.
    substr(_cmd, args, keys, proto, shard, out) { super::strings::run(Cmd::GetRange, args, keys, proto, shard, out) }
    incr_by_float(_cmd, args, keys, _proto, _shard, out) { super::string_float::incr_by_float(args, keys, out) }
    get_set(_cmd, args, keys, proto, _shard, out) { super::string_float::get_set(args, keys, proto, out) }
    lcs(_cmd, args, keys, proto, _shard, out) { super::lcs::run(args, keys, proto, out) }
    bits(cmd, args, keys, _proto, _shard, out) { super::bits::run(cmd, args, keys, out) }
    bitop(_cmd, args, keys, _proto, _shard, out) { super::bitop::run(args, keys, out) }
    bitfield(cmd, args, keys, proto, _shard, out) { super::bitfield::run(cmd, args, keys, proto, out) }
    expiry(cmd, args, keys, _proto, _shard, out) { super::expiry::run(cmd, args, keys, out) }
    rename(cmd, args, keys, _proto, _shard, out) { super::rename::run(cmd, args, keys, out) }
    object(_cmd, args, keys, proto, _shard, out) { super::object::run(args, keys, proto, out) }
    dump_payload(_cmd, args, keys, proto, _shard, out) { super::payload::dump(args, keys, proto, out) }
    restore_payload(_cmd, args, keys, _proto, _shard, out) { super::payload::restore(args, keys, out) }
    memory(_cmd, args, keys, proto, _shard, out) { super::memory::run(args, keys, proto, out) }
    hash(cmd, args, keys, proto, _shard, out) { super::hash::run(cmd, args, keys, proto, out) }
    set(cmd, args, keys, proto, _shard, out) { super::set::run(cmd, args, keys, proto, out) }
    zset(cmd, args, keys, proto, _shard, out) { super::zset::run(cmd, args, keys, proto, out) }
    zset_multi(cmd, args, keys, proto, _shard, out) { super::zset_multi::run(cmd, args, keys, proto, out) }
    zrange_store(_cmd, args, keys, _proto, _shard, out) { super::zset_multi::range_store(args, keys, out) }
    zmpop(_cmd, args, keys, proto, _shard, out) { super::zset_multi::zmpop(args, keys, proto, out) }
    geo(cmd, args, keys, proto, _shard, out) { super::geo::run(cmd, args, keys, proto, out) }
    geo_search(cmd, args, keys, proto, _shard, out) { super::geo_search::run(cmd, args, keys, proto, out) }
    track(_cmd, args, _keys, _proto, shard, out) { super::super::tracking_table::track(shard, args, out) }
    invalidate(_cmd, args, _keys, _proto, shard, out) { super::super::tracking_deliver::deliver_forwarded(shard, args, out) }
    track_key(_cmd, args, _keys, _proto, shard, out) { super::super::tracking_table::remember(shard, args, out) }
    track_writer(_cmd, args, _keys, _proto, shard, out) { super::super::tracking_table::mark_writer(shard, args, out) }
    list(cmd, args, keys, proto, _shard, out) { super::list::run(cmd, args, keys, proto, out) }
    /// PUBLISH, SPUBLISH and the pub/sub parts, on a name's owner.
    pubsub(cmd, args, _keys, _proto, shard, out) { super::super::pubsub::shard_part::run(shard, cmd, args, out) }
    /// Cluster mode: this shard's part of COUNTKEYSINSLOT or GETKEYSINSLOT
    /// (the only CLUSTER subcommands run on a shard's keys).
    slot_keys(_cmd, args, keys, _proto, _shard, out) { super::super::cluster::slot_keys::shard_part(args, keys, out) }
    tx_exec(_cmd, args, keys, proto, shard, out) { super::super::exec_owner::run_exec(args, keys, proto, shard, out) }
    tx_watch(_cmd, args, keys, _proto, _shard, out) { super::super::exec_owner::watch_state(keys, args.at(1), out) }
    block_on(_cmd, args, keys, _proto, shard, out) { super::super::blocked_keys::block_on(shard, args, keys, out) }
    unblock(_cmd, args, _keys, _proto, shard, out) { super::super::blocked_keys::unblock(shard, args, out) }
    move_push(_cmd, args, keys, proto, shard, out) { super::super::moves_in_flight::push(args, keys, proto, shard, out) }
    dump(_cmd, args, keys, proto, _shard, out) { super::dump::dump(args, keys, proto, out) }
    restore(_cmd, args, keys, _proto, _shard, out) { super::dump::restore(args, keys, out) }
    /// A command that never runs on an owner (served on the connection's
    /// shard, or alone): reaching here is resp's own mistake.
    elsewhere(_cmd, _args, _keys, _proto, _shard, out) { write::error(out, "ERR internal: not a command an owner runs") }
}
