//! Commands over several keys of typed values (issue 27) whose keys live on
//! more than one shard: SMOVE, SINTER, SUNION, SDIFF, SINTERCARD and the
//! STORE forms, LMOVE, RPOPLPUSH, LMPOP, ZUNION, ZINTER, ZDIFF, their STORE
//! forms, ZINTERCARD, ZRANGESTORE, ZMPOP. The values are gathered from their owners
//! (`internal-dump`), combined here, and a result stored on its key's owner
//! (`internal-restore`). Each step is atomic on its shard; the whole is not
//! atomic across shards, as cross-shard RENAME is not (README, "What
//! differs from Redis"). With every key on one shard the command runs there
//! in one step instead (`plan.rs`), as Redis runs it. The string commands
//! gathered the same way, BITOP and LCS, are in `gather_strings.rs`; the
//! moves and pops (SMOVE, LMOVE, RPOPLPUSH, LMPOP, ZMPOP) in `gather_moves.rs`.

use super::move_keys::bulk_value;
use super::*;
use crate::kv::durable::ops::snapshot_records;
use crate::kv::values::{Aggregate, OwnedValue, Set, ZSet};
use commands::collections::wrong_type;
use commands::dump::read_payload;
use commands::set::{algebra, reply_members, set_of, MultiKey};
use commands::zset_multi;

/// The keys of a command gathered over shards, or `None` if `cmd` is not
/// one. A command whose arguments are wrong names no key: it runs on this
/// shard, which answers the error.
pub(super) fn keys_of<'a>(cmd: Cmd, command: &Command<'a>) -> Option<Vec<&'a [u8]>> {
    match cmd {
        Cmd::SMove | Cmd::LMove | Cmd::RPopLPush => Some(vec![command.at(1), command.at(2)]),
        Cmd::LMPop => Some(
            commands::list_move::lmpop_args(command)
                .map(|(keys, _, _)| keys)
                .unwrap_or_default(),
        ),
        Cmd::ZMPop => Some(
            zset_multi::zmpop_args(command)
                .map(|(keys, _, _)| keys)
                .unwrap_or_default(),
        ),
        Cmd::ZRangeStore => Some(vec![command.at(1), command.at(2)]),
        // A search with a destination: the source, then it.
        Cmd::GeoSearchStore | Cmd::GeoRadius | Cmd::GeoRadiusByMember => {
            let source = commands::geo_search::source(cmd, command);
            let dest = commands::geo_search::destination(cmd, command);
            Some(std::iter::once(source).chain(dest).collect())
        }
        // MEMORY USAGE key: on the key's owner (`plan.rs` runs it there).
        Cmd::Memory => Some(command.arg(2).into_iter().collect()),
        Cmd::ZUnion
        | Cmd::ZInter
        | Cmd::ZDiff
        | Cmd::ZUnionStore
        | Cmd::ZInterStore
        | Cmd::ZDiffStore
        | Cmd::ZInterCard => Some(
            zset_multi::Request::read(cmd, command)
                .map(|r| r.dest.into_iter().chain(r.sources).collect())
                .unwrap_or_default(),
        ),
        Cmd::SInter
        | Cmd::SUnion
        | Cmd::SDiff
        | Cmd::SInterStore
        | Cmd::SUnionStore
        | Cmd::SDiffStore => Some(command.iter().skip(1).collect()),
        Cmd::SInterCard => Some(
            MultiKey::read(cmd, command)
                .map(|request| request.sources)
                .unwrap_or_default(),
        ),
        _ => None,
    }
}

impl Resp {
    /// A key's value from its owner, as a dump carries it.
    pub(super) async fn fetch(&self, key: &[u8], now: u64) -> Option<OwnedValue> {
        let shard = owner_of(key, self.shards);
        let got = self
            .on_shard(shard, Cmd::Dump, &[key], Proto::Resp2, now)
            .await;
        let payload = bulk_value(&got)?;
        read_payload(payload).map(|(value, _)| value)
    }

    /// Stores `value` under `key` on its owner (an empty set: the key
    /// goes); the owner's reply.
    pub(super) async fn store(&self, key: &[u8], value: Option<OwnedValue>, now: u64) -> Vec<u8> {
        let shard = owner_of(key, self.shards);
        match value {
            None => {
                self.on_shard(shard, Cmd::Del, &[key], Proto::Resp2, now)
                    .await
            }
            Some(value) => {
                let mut payload = Vec::new();
                snapshot_records(key, value.as_ref(), None, &mut payload);
                self.on_shard(shard, Cmd::Restore, &[key, &payload], Proto::Resp2, now)
                    .await
            }
        }
    }

    /// Runs a gathered command; its reply goes to `reply`.
    pub(super) async fn gather(
        &self,
        cmd: Cmd,
        command: &Command<'_>,
        proto: Proto,
        now: u64,
        reply: &mut Vec<u8>,
    ) {
        match cmd {
            Cmd::SMove => self.smove(command, now, reply).await,
            Cmd::LMove | Cmd::RPopLPush => self.lmove(cmd, command, proto, now, reply).await,
            Cmd::LMPop => self.lmpop(command, proto, now, reply).await,
            Cmd::ZMPop => self.zmpop(command, proto, now, reply).await,
            Cmd::ZRangeStore => self.zrange_store(command, now, reply).await,
            Cmd::GeoSearchStore | Cmd::GeoRadius | Cmd::GeoRadiusByMember => {
                self.geo_store(cmd, command, proto, now, reply).await
            }
            Cmd::ZUnion
            | Cmd::ZInter
            | Cmd::ZDiff
            | Cmd::ZUnionStore
            | Cmd::ZInterStore
            | Cmd::ZDiffStore
            | Cmd::ZInterCard => self.zset_algebra(cmd, command, proto, now, reply).await,
            _ => self.set_algebra(cmd, command, proto, now, reply).await,
        }
    }

    /// ZRANGESTORE over two shards.
    async fn zrange_store(&self, command: &Command<'_>, now: u64, reply: &mut Vec<u8>) {
        let range = match commands::zset::store_range(command) {
            Ok(range) => range,
            Err(error) => return write::error(reply, error),
        };
        let source = self.fetch(command.at(2), now).await;
        let Ok(found) = as_zset(&source) else {
            return wrong_type(reply);
        };
        let result = zset_multi::selected(&range, found);
        let result = (!result.is_empty()).then_some(result);
        self.store_zset(command.at(1), result, now, reply).await;
    }

    /// GEOSEARCHSTORE, and GEORADIUS(BYMEMBER) with STORE or STOREDIST,
    /// when the source and the destination live on two shards.
    async fn geo_store(
        &self,
        cmd: Cmd,
        command: &Command<'_>,
        proto: Proto,
        now: u64,
        reply: &mut Vec<u8>,
    ) {
        use commands::geo_search;
        let source = self.fetch(geo_search::source(cmd, command), now).await;
        let Ok(found) = as_zset(&source) else {
            return wrong_type(reply);
        };
        let search = match geo_search::read(cmd, command, found) {
            Ok(search) => search,
            Err(error) => return write::error(reply, &error),
        };
        match search.store {
            None => geo_search::reply(&search, found, proto, reply),
            Some((dest, _)) => {
                let result = geo_search::result(&search, found);
                self.store_zset(dest, result, now, reply).await
            }
        }
    }

    /// Stores the sorted set `result` under `dest` on its owner (`None`:
    /// `dest` goes) and answers its size, or the owner's error.
    async fn store_zset(&self, dest: &[u8], result: Option<ZSet>, now: u64, reply: &mut Vec<u8>) {
        let count = result.as_ref().map_or(0, ZSet::len) as i64;
        let value = result.map(|zset| OwnedValue::Agg(Aggregate::ZSet(zset)));
        self.store_counted(dest, value, count, now, reply).await;
    }

    /// Stores `value` under `dest` on its owner (`None`: `dest` goes) and
    /// answers `count`, the result's size, or the owner's error.
    async fn store_counted(
        &self,
        dest: &[u8],
        value: Option<OwnedValue>,
        count: i64,
        now: u64,
        reply: &mut Vec<u8>,
    ) {
        let stored = self.store(dest, value, now).await;
        if stored.first() == Some(&b'-') {
            reply.extend_from_slice(&stored);
        } else {
            write::int(reply, count);
        }
    }

    /// ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD over
    /// several shards.
    async fn zset_algebra(
        &self,
        cmd: Cmd,
        command: &Command<'_>,
        proto: Proto,
        now: u64,
        reply: &mut Vec<u8>,
    ) {
        let request = match zset_multi::Request::read(cmd, command) {
            Ok(request) => request,
            Err(error) => return write::error(reply, &error),
        };
        let mut values = Vec::with_capacity(request.sources.len());
        for key in &request.sources {
            values.push(self.fetch(key, now).await);
        }
        let mut inputs = Vec::with_capacity(values.len());
        for value in &values {
            match value.as_ref().map(|v| zset_multi::Input::of(v.as_ref())) {
                None => inputs.push(None),
                Some(Ok(input)) => inputs.push(Some(input)),
                Some(Err(_)) => return wrong_type(reply),
            }
        }
        let result = zset_multi::combine(&request, &inputs);
        let Some(dest) = request.dest else {
            return zset_multi::reply(&request, &result, proto, reply);
        };
        let result = (!result.is_empty()).then_some(result);
        self.store_zset(dest, result, now, reply).await;
    }

    async fn set_algebra(
        &self,
        cmd: Cmd,
        command: &Command<'_>,
        proto: Proto,
        now: u64,
        reply: &mut Vec<u8>,
    ) {
        let request = match MultiKey::read(cmd, command) {
            Ok(request) => request,
            Err(error) => return write::error(reply, error),
        };
        let mut values = Vec::with_capacity(request.sources.len());
        for key in &request.sources {
            match self.fetch(key, now).await {
                None => values.push(None),
                Some(OwnedValue::Agg(Aggregate::Set(set))) => values.push(Some(set)),
                Some(_) => return wrong_type(reply),
            }
        }
        let sets: Vec<Option<&Set>> = values.iter().map(Option::as_ref).collect();
        let members = algebra(request.algebra, &sets, request.card.unwrap_or(0));
        let Some(dest) = request.dest else {
            return reply_members(request.card, &members, proto, reply);
        };
        let count = members.len() as i64;
        let value = (count > 0).then(|| set_of(&members));
        self.store_counted(dest, value, count, now, reply).await;
    }
}

/// A fetched value as a sorted set (`None`: no key); `Err` for a value of
/// another type.
fn as_zset(value: &Option<OwnedValue>) -> Result<Option<&ZSet>, ()> {
    match value {
        None => Ok(None),
        Some(OwnedValue::Agg(Aggregate::ZSet(zset))) => Ok(Some(zset)),
        Some(_) => Err(()),
    }
}
