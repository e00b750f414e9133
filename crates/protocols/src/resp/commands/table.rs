//! resp's command registry: one row per command served, grouped as Redis's
//! docs group them. A row is
//!
//! ```text
//! b"NAME" => Variant, "name", arity, (first key, last key, step), route, [flags], handler;
//! ```
//!
//! — what lookup, the checks (`check.rs`, `types.rs`), routing
//! (`plan.rs`, `move_keys.rs`, `transaction.rs`), the cluster slot check
//! (`cluster/redirect.rs`) and the owner (`execute.rs`) read, and the served
//! names the COMMAND table's generator (`gen_command_table.py`) reads.
//! Arity and key positions are redis 7.0's, as `COMMAND INFO` reports them
//! (`commands/mod.rs`'s tests check them against the generated table).
//!
//! Adding a command: one row here, its handler (a function of the row's
//! signature, or an adapter to its group's code in `handlers.rs`), and
//! rerunning the generator. Some kinds still have a list of their own: a
//! command over several keys gathered across shards (`gather.rs`), a
//! blocking one (`blocking.rs`), a write's keyspace events (`notify.rs`),
//! a container's subcommands (the generator's SUBCOMMANDS,
//! `command_stats.rs`, `client.rs`).

use super::super::protocol::Command;
use super::super::session::Session;
use super::super::{blocking_forms, cluster, shard_parts, RespConfig};
use super::handlers::*;
use super::registry::{
    commands, Flags, KeyArgs, Local::*, Merge::*, Route, Route::*, Spec, LONGEST_NAME,
};
use super::{config, keyspace, strings};

/// The route of resp's own parts: sent to a shard by resp itself (run there
/// by its handler), never routed from a client.
const PART: Route = Here(Connection);

/// CONFIG SET with valid settings, and RESETSTAT, change every shard.
fn config_set(command: &Command<'_>, config: &RespConfig, _: &Session) -> bool {
    config::served_alone(command, config)
}

/// CLIENT LIST and CLIENT KILL ask every shard for its clients.
fn client_list_kill(command: &Command<'_>, _: &RespConfig, _: &Session) -> bool {
    let sub = command.at(1);
    sub.eq_ignore_ascii_case(b"list")
        || sub.eq_ignore_ascii_case(b"kill")
        || super::super::tracking::served_alone(command)
}

/// Cluster mode: COUNTKEYSINSLOT and GETKEYSINSLOT ask every shard.
fn slot_keys_everywhere(command: &Command<'_>, config: &RespConfig, _: &Session) -> bool {
    config.cluster.is_some() && cluster::slot_keys::over_every_shard(command)
}

/// RESET drops the subscriptions, acknowledged.
fn reset_subscribed(_: &Command<'_>, _: &RespConfig, session: &Session) -> bool {
    session.pubsub.is_some()
}

commands! {
    // ---- Strings
    b"GET" => Get, "get", 2, (1, 1, 1), Key, [STRING], strings::run;
    b"SET" => Set, "set", -3, (1, 1, 1), Key, [], strings::run;
    b"SETNX" => SetNx, "setnx", 3, (1, 1, 1), Key, [], strings::run;
    b"SETEX" => SetEx, "setex", 4, (1, 1, 1), Key, [], strings::run;
    b"PSETEX" => PSetEx, "psetex", 4, (1, 1, 1), Key, [], strings::run;
    b"GETDEL" => GetDel, "getdel", 2, (1, 1, 1), Key, [STRING], strings::run;
    b"GETEX" => GetEx, "getex", -2, (1, 1, 1), Key, [STRING], strings::run;
    b"MGET" => MGet, "mget", -2, (1, -1, 1), EachKey { part: Cmd::MGetPart, merge: Array }, [], strings::run;
    b"MSET" => MSet, "mset", -3, (1, -1, 2), EachKey { part: Cmd::Set, merge: AllOk }, [], strings::run;
    b"MSETNX" => MSetNx, "msetnx", -3, (1, -1, 2), Alone, [ONE_OWNER], strings::run;
    b"INCR" => Incr, "incr", 2, (1, 1, 1), Key, [STRING], strings::run;
    b"DECR" => Decr, "decr", 2, (1, 1, 1), Key, [STRING], strings::run;
    b"INCRBY" => IncrBy, "incrby", 3, (1, 1, 1), Key, [STRING], strings::run;
    b"DECRBY" => DecrBy, "decrby", 3, (1, 1, 1), Key, [STRING], strings::run;
    b"APPEND" => Append, "append", 3, (1, 1, 1), Key, [STRING], strings::run;
    b"STRLEN" => StrLen, "strlen", 2, (1, 1, 1), Key, [STRING], strings::run;
    b"GETRANGE" => GetRange, "getrange", 4, (1, 1, 1), Key, [STRING], strings::run;
    b"SETRANGE" => SetRange, "setrange", 4, (1, 1, 1), Key, [STRING], strings::run;
    b"SUBSTR" => Substr, "substr", 4, (1, 1, 1), Key, [STRING], substr;
    b"INCRBYFLOAT" => IncrByFloat, "incrbyfloat", 3, (1, 1, 1), Key, [STRING], incr_by_float;
    b"GETSET" => GetSet, "getset", 3, (1, 1, 1), Key, [STRING], get_set;
    b"LCS" => Lcs, "lcs", -3, (1, 2, 1), Alone, [ONE_OWNER], lcs;
    // ---- Bitmaps
    b"SETBIT" => SetBit, "setbit", 4, (1, 1, 1), Key, [STRING], bits;
    b"GETBIT" => GetBit, "getbit", 3, (1, 1, 1), Key, [STRING], bits;
    b"BITCOUNT" => BitCount, "bitcount", -2, (1, 1, 1), Key, [STRING], bits;
    b"BITPOS" => BitPos, "bitpos", -3, (1, 1, 1), Key, [STRING], bits;
    b"BITOP" => BitOp, "bitop", -4, (2, -1, 1), Alone, [ONE_OWNER], bitop;
    b"BITFIELD" => BitField, "bitfield", -2, (1, 1, 1), Key, [STRING], bitfield;
    b"BITFIELD_RO" => BitFieldRo, "bitfield_ro", -2, (1, 1, 1), Key, [STRING], bitfield;
    // ---- Generic: any key
    b"DEL" => Del, "del", -2, (1, -1, 1), EachKey { part: Cmd::Del, merge: Sum }, [], strings::run;
    b"UNLINK" => Unlink, "unlink", -2, (1, -1, 1), EachKey { part: Cmd::Del, merge: Sum }, [], strings::run;
    b"EXISTS" => Exists, "exists", -2, (1, -1, 1), EachKey { part: Cmd::Exists, merge: Sum }, [], strings::run;
    b"TYPE" => Type, "type", 2, (1, 1, 1), Key, [], strings::run;
    b"EXPIRE" => Expire, "expire", -3, (1, 1, 1), Key, [], expiry;
    b"PEXPIRE" => PExpire, "pexpire", -3, (1, 1, 1), Key, [], expiry;
    b"EXPIREAT" => ExpireAt, "expireat", -3, (1, 1, 1), Key, [], expiry;
    b"PEXPIREAT" => PExpireAt, "pexpireat", -3, (1, 1, 1), Key, [], expiry;
    b"TTL" => Ttl, "ttl", 2, (1, 1, 1), Key, [], expiry;
    b"PTTL" => PTtl, "pttl", 2, (1, 1, 1), Key, [], expiry;
    b"PERSIST" => Persist, "persist", 2, (1, 1, 1), Key, [], expiry;
    b"EXPIRETIME" => ExpireTime, "expiretime", 2, (1, 1, 1), Key, [], expiry;
    b"PEXPIRETIME" => PExpireTime, "pexpiretime", 2, (1, 1, 1), Key, [], expiry;
    /// DUMP and RESTORE: a key's value as Redis's payload (`payload.rs`).
    b"DUMP" => DumpPayload, "dump", 2, (1, 1, 1), Key, [], dump_payload;
    b"RESTORE" => RestorePayload, "restore", -4, (1, 1, 1), Key, [], restore_payload;
    b"TOUCH" => Touch, "touch", -2, (1, -1, 1), EachKey { part: Cmd::Touch, merge: Sum }, [], strings::run;
    b"RENAME" => Rename, "rename", 3, (1, 2, 1), Alone, [ONE_OWNER], rename;
    b"RENAMENX" => RenameNx, "renamenx", 3, (1, 2, 1), Alone, [ONE_OWNER], rename;
    b"COPY" => Copy, "copy", -3, (1, 2, 1), Alone, [ONE_OWNER], rename;
    b"OBJECT" => Object, "object", -2, (2, 2, 1), Alone, [], object;
    b"KEYS" => Keys, "keys", 2, (0, 0, 0), AllShards(Concat), [OWN_KEYS], keyspace::run;
    b"SCAN" => Scan, "scan", -2, (0, 0, 0), Alone, [], keyspace::run;
    b"RANDOMKEY" => RandomKey, "randomkey", 1, (0, 0, 0), AllShards(AnyNonNull), [OWN_KEYS], keyspace::run;
    b"WAIT" => Wait, "wait", 3, (0, 0, 0), Here(Server), [], elsewhere;
    b"SORT" => Sort, "sort", -2, (1, 1, 1), Alone, [UNCOUNTED], elsewhere;
    /// MIGRATE: served alone (`migrate.rs`), its keys asked of their owners.
    b"MIGRATE" => Migrate, "migrate", -6, (3, 3, 1), Alone, [], elsewhere;
    b"SORT_RO" => SortRo, "sort_ro", -2, (1, 1, 1), Alone, [UNCOUNTED], elsewhere;
    // ---- Lists
    b"LPUSH" => LPush, "lpush", -3, (1, 1, 1), Key, [], list;
    b"RPUSH" => RPush, "rpush", -3, (1, 1, 1), Key, [], list;
    b"LPUSHX" => LPushX, "lpushx", -3, (1, 1, 1), Key, [], list;
    b"RPUSHX" => RPushX, "rpushx", -3, (1, 1, 1), Key, [], list;
    b"LPOP" => LPop, "lpop", -2, (1, 1, 1), Key, [], list;
    b"RPOP" => RPop, "rpop", -2, (1, 1, 1), Key, [], list;
    b"LLEN" => LLen, "llen", 2, (1, 1, 1), Key, [], list;
    b"LINDEX" => LIndex, "lindex", 3, (1, 1, 1), Key, [], list;
    b"LSET" => LSet, "lset", 4, (1, 1, 1), Key, [], list;
    b"LRANGE" => LRange, "lrange", 4, (1, 1, 1), Key, [], list;
    b"LTRIM" => LTrim, "ltrim", 4, (1, 1, 1), Key, [], list;
    b"LREM" => LRem, "lrem", 4, (1, 1, 1), Key, [], list;
    b"LINSERT" => LInsert, "linsert", 5, (1, 1, 1), Key, [], list;
    b"LPOS" => LPos, "lpos", -3, (1, 1, 1), Key, [], list;
    b"LMOVE" => LMove, "lmove", 5, (1, 2, 1), Alone, [], list;
    b"RPOPLPUSH" => RPopLPush, "rpoplpush", 3, (1, 2, 1), Alone, [], list;
    b"LMPOP" => LMPop, "lmpop", -4, (0, 0, 0), Alone, [], list;
    b"BLPOP" => BLPop, "blpop", -3, (1, -2, 1), Alone, [], blocking_forms::run_once;
    b"BRPOP" => BRPop, "brpop", -3, (1, -2, 1), Alone, [], blocking_forms::run_once;
    b"BLMOVE" => BLMove, "blmove", 6, (1, 2, 1), Alone, [], blocking_forms::run_once;
    b"BRPOPLPUSH" => BRPopLPush, "brpoplpush", 4, (1, 2, 1), Alone, [], blocking_forms::run_once;
    b"BLMPOP" => BLMPop, "blmpop", -5, (0, 0, 0), Alone, [], blocking_forms::run_once;
    // ---- Hashes
    b"HSET" => HSet, "hset", -4, (1, 1, 1), Key, [], hash;
    b"HSETNX" => HSetNx, "hsetnx", 4, (1, 1, 1), Key, [], hash;
    b"HGET" => HGet, "hget", 3, (1, 1, 1), Key, [], hash;
    b"HMGET" => HMGet, "hmget", -3, (1, 1, 1), Key, [], hash;
    b"HMSET" => HMSet, "hmset", -4, (1, 1, 1), Key, [], hash;
    b"HDEL" => HDel, "hdel", -3, (1, 1, 1), Key, [], hash;
    b"HLEN" => HLen, "hlen", 2, (1, 1, 1), Key, [], hash;
    b"HSTRLEN" => HStrLen, "hstrlen", 3, (1, 1, 1), Key, [], hash;
    b"HEXISTS" => HExists, "hexists", 3, (1, 1, 1), Key, [], hash;
    b"HKEYS" => HKeys, "hkeys", 2, (1, 1, 1), Key, [], hash;
    b"HVALS" => HVals, "hvals", 2, (1, 1, 1), Key, [], hash;
    b"HGETALL" => HGetAll, "hgetall", 2, (1, 1, 1), Key, [], hash;
    b"HINCRBY" => HIncrBy, "hincrby", 4, (1, 1, 1), Key, [], hash;
    b"HINCRBYFLOAT" => HIncrByFloat, "hincrbyfloat", 4, (1, 1, 1), Key, [], hash;
    b"HRANDFIELD" => HRandField, "hrandfield", -2, (1, 1, 1), Key, [], hash;
    b"HSCAN" => HScan, "hscan", -3, (1, 1, 1), Key, [], hash;
    // ---- Sets
    b"SADD" => SAdd, "sadd", -3, (1, 1, 1), Key, [], set;
    b"SREM" => SRem, "srem", -3, (1, 1, 1), Key, [], set;
    b"SCARD" => SCard, "scard", 2, (1, 1, 1), Key, [], set;
    b"SISMEMBER" => SIsMember, "sismember", 3, (1, 1, 1), Key, [], set;
    b"SMISMEMBER" => SMIsMember, "smismember", -3, (1, 1, 1), Key, [], set;
    b"SMEMBERS" => SMembers, "smembers", 2, (1, 1, 1), Key, [], set;
    b"SPOP" => SPop, "spop", -2, (1, 1, 1), Key, [], set;
    b"SRANDMEMBER" => SRandMember, "srandmember", -2, (1, 1, 1), Key, [], set;
    b"SMOVE" => SMove, "smove", 4, (1, 2, 1), Alone, [], set;
    b"SINTER" => SInter, "sinter", -2, (1, -1, 1), Alone, [], set;
    b"SINTERCARD" => SInterCard, "sintercard", -3, (0, 0, 0), Alone, [], set;
    b"SUNION" => SUnion, "sunion", -2, (1, -1, 1), Alone, [], set;
    b"SDIFF" => SDiff, "sdiff", -2, (1, -1, 1), Alone, [], set;
    b"SINTERSTORE" => SInterStore, "sinterstore", -3, (1, -1, 1), Alone, [], set;
    b"SUNIONSTORE" => SUnionStore, "sunionstore", -3, (1, -1, 1), Alone, [], set;
    b"SDIFFSTORE" => SDiffStore, "sdiffstore", -3, (1, -1, 1), Alone, [], set;
    b"SSCAN" => SScan, "sscan", -3, (1, 1, 1), Key, [], set;
    // ---- Sorted sets
    b"ZADD" => ZAdd, "zadd", -4, (1, 1, 1), Key, [], zset;
    b"ZINCRBY" => ZIncrBy, "zincrby", 4, (1, 1, 1), Key, [], zset;
    b"ZREM" => ZRem, "zrem", -3, (1, 1, 1), Key, [], zset;
    b"ZCARD" => ZCard, "zcard", 2, (1, 1, 1), Key, [], zset;
    b"ZSCORE" => ZScore, "zscore", 3, (1, 1, 1), Key, [], zset;
    b"ZMSCORE" => ZMScore, "zmscore", -3, (1, 1, 1), Key, [], zset;
    b"ZRANK" => ZRank, "zrank", 3, (1, 1, 1), Key, [], zset;
    b"ZREVRANK" => ZRevRank, "zrevrank", 3, (1, 1, 1), Key, [], zset;
    b"ZCOUNT" => ZCount, "zcount", 4, (1, 1, 1), Key, [], zset;
    b"ZLEXCOUNT" => ZLexCount, "zlexcount", 4, (1, 1, 1), Key, [], zset;
    b"ZRANGE" => ZRange, "zrange", -4, (1, 1, 1), Key, [], zset;
    b"ZRANGEBYSCORE" => ZRangeByScore, "zrangebyscore", -4, (1, 1, 1), Key, [], zset;
    b"ZREVRANGEBYSCORE" => ZRevRangeByScore, "zrevrangebyscore", -4, (1, 1, 1), Key, [], zset;
    b"ZREVRANGE" => ZRevRange, "zrevrange", -4, (1, 1, 1), Key, [], zset;
    b"ZRANGEBYLEX" => ZRangeByLex, "zrangebylex", -4, (1, 1, 1), Key, [], zset;
    b"ZREVRANGEBYLEX" => ZRevRangeByLex, "zrevrangebylex", -4, (1, 1, 1), Key, [], zset;
    b"ZPOPMIN" => ZPopMin, "zpopmin", -2, (1, 1, 1), Key, [], zset;
    b"ZPOPMAX" => ZPopMax, "zpopmax", -2, (1, 1, 1), Key, [], zset;
    b"ZREMRANGEBYRANK" => ZRemRangeByRank, "zremrangebyrank", 4, (1, 1, 1), Key, [], zset;
    b"ZREMRANGEBYSCORE" => ZRemRangeByScore, "zremrangebyscore", 4, (1, 1, 1), Key, [], zset;
    b"ZREMRANGEBYLEX" => ZRemRangeByLex, "zremrangebylex", 4, (1, 1, 1), Key, [], zset;
    b"ZRANDMEMBER" => ZRandMember, "zrandmember", -2, (1, 1, 1), Key, [], zset;
    b"ZSCAN" => ZScan, "zscan", -3, (1, 1, 1), Key, [], zset;
    b"ZUNION" => ZUnion, "zunion", -3, (0, 0, 0), Alone, [], zset_multi;
    b"ZINTER" => ZInter, "zinter", -3, (0, 0, 0), Alone, [], zset_multi;
    b"ZDIFF" => ZDiff, "zdiff", -3, (0, 0, 0), Alone, [], zset_multi;
    b"ZUNIONSTORE" => ZUnionStore, "zunionstore", -4, (1, 1, 1), Alone, [], zset_multi;
    b"ZINTERSTORE" => ZInterStore, "zinterstore", -4, (1, 1, 1), Alone, [], zset_multi;
    b"ZDIFFSTORE" => ZDiffStore, "zdiffstore", -4, (1, 1, 1), Alone, [], zset_multi;
    b"ZINTERCARD" => ZInterCard, "zintercard", -3, (0, 0, 0), Alone, [], zset_multi;
    b"ZRANGESTORE" => ZRangeStore, "zrangestore", -5, (1, 2, 1), Alone, [], zrange_store;
    b"ZMPOP" => ZMPop, "zmpop", -4, (0, 0, 0), Alone, [], zmpop;
    b"BZPOPMIN" => BZPopMin, "bzpopmin", -3, (1, -2, 1), Alone, [], blocking_forms::run_once;
    b"BZPOPMAX" => BZPopMax, "bzpopmax", -3, (1, -2, 1), Alone, [], blocking_forms::run_once;
    b"BZMPOP" => BZMPop, "bzmpop", -5, (0, 0, 0), Alone, [], blocking_forms::run_once;
    // ---- Geospatial
    b"GEOADD" => GeoAdd, "geoadd", -5, (1, 1, 1), Key, [], geo;
    b"GEOPOS" => GeoPos, "geopos", -2, (1, 1, 1), Key, [], geo;
    b"GEODIST" => GeoDist, "geodist", -4, (1, 1, 1), Key, [], geo;
    b"GEOHASH" => GeoHash, "geohash", -2, (1, 1, 1), Key, [], geo_search;
    b"GEOSEARCH" => GeoSearch, "geosearch", -7, (1, 1, 1), Key, [], geo_search;
    b"GEOSEARCHSTORE" => GeoSearchStore, "geosearchstore", -8, (1, 2, 1), Alone, [], geo_search;
    b"GEORADIUS" => GeoRadius, "georadius", -6, (1, 1, 1), Alone, [], geo_search;
    b"GEORADIUS_RO" => GeoRadiusRo, "georadius_ro", -6, (1, 1, 1), Key, [], geo_search;
    b"GEORADIUSBYMEMBER" => GeoRadiusByMember, "georadiusbymember", -5, (1, 1, 1), Alone, [], geo_search;
    b"GEORADIUSBYMEMBER_RO" => GeoRadiusByMemberRo, "georadiusbymember_ro", -5, (1, 1, 1), Key, [], geo_search;
    // ---- Connection
    b"PING" => Ping, "ping", -1, (0, 0, 0), Here(Connection), [SUBSCRIBED], elsewhere;
    b"ECHO" => Echo, "echo", 2, (0, 0, 0), Here(Connection), [], elsewhere;
    b"QUIT" => Quit, "quit", -1, (0, 0, 0), Here(Connection), [NO_AUTH SUBSCRIBED], elsewhere;
    b"HELLO" => Hello, "hello", -1, (0, 0, 0), Here(Connection), [NO_AUTH], elsewhere;
    b"SELECT" => Select, "select", 2, (0, 0, 0), Here(Connection), [], elsewhere;
    b"CLIENT" => Client, "client", -2, (0, 0, 0), HereOrAlone(Connection, client_list_kill), [], elsewhere;
    b"RESET" => Reset, "reset", 1, (0, 0, 0), HereOrAlone(Connection, reset_subscribed), [NO_AUTH SUBSCRIBED], elsewhere;
    b"AUTH" => Auth, "auth", -2, (0, 0, 0), Here(Connection), [NO_AUTH], elsewhere;
    // ---- Server
    b"DBSIZE" => DbSize, "dbsize", 1, (0, 0, 0), AllShards(Sum), [OWN_KEYS], keyspace::run;
    b"FLUSHDB" => FlushDb, "flushdb", -1, (0, 0, 0), AllShards(AllOk), [OWN_KEYS], keyspace::run;
    b"FLUSHALL" => FlushAll, "flushall", -1, (0, 0, 0), AllShards(AllOk), [OWN_KEYS], keyspace::run;
    b"INFO" => Info, "info", -1, (0, 0, 0), Alone, [], elsewhere;
    b"TIME" => Time, "time", 1, (0, 0, 0), Here(Server), [], elsewhere;
    b"COMMAND" => Command, "command", -1, (0, 0, 0), Here(Introspect), [], elsewhere;
    b"CONFIG" => Config, "config", -2, (0, 0, 0), HereOrAlone(Server, config_set), [], elsewhere;
    /// The ACL user table, server-wide (`acl.rs`, `acl_users.rs`).
    b"ACL" => Acl, "acl", -2, (0, 0, 0), Here(Connection), [], elsewhere;
    b"LASTSAVE" => LastSave, "lastsave", 1, (0, 0, 0), Here(Server), [], elsewhere;
    b"SAVE" => Save, "save", 1, (0, 0, 0), AllShards(AllOk), [], shard_parts::save;
    b"BGSAVE" => BgSave, "bgsave", -1, (0, 0, 0), AllShards(AllOk), [], shard_parts::save;
    b"SHUTDOWN" => Shutdown, "shutdown", -1, (0, 0, 0), Here(Shutdown), [], elsewhere;
    b"MONITOR" => Monitor, "monitor", 1, (0, 0, 0), Alone, [], elsewhere;
    b"MEMORY" => Memory, "memory", -2, (0, 0, 0), Alone, [], memory;
    // ---- Pub/sub
    b"SUBSCRIBE" => Subscribe, "subscribe", -2, (0, 0, 0), Alone, [SUBSCRIBED], elsewhere;
    b"UNSUBSCRIBE" => Unsubscribe, "unsubscribe", -1, (0, 0, 0), Alone, [SUBSCRIBED], elsewhere;
    b"PSUBSCRIBE" => PSubscribe, "psubscribe", -2, (0, 0, 0), Alone, [SUBSCRIBED], elsewhere;
    b"PUNSUBSCRIBE" => PUnsubscribe, "punsubscribe", -1, (0, 0, 0), Alone, [SUBSCRIBED], elsewhere;
    b"PUBLISH" => Publish, "publish", 3, (0, 0, 0), Key, [], pubsub;
    b"SSUBSCRIBE" => SSubscribe, "ssubscribe", -2, (1, -1, 1), Alone, [SUBSCRIBED], elsewhere;
    b"SUNSUBSCRIBE" => SUnsubscribe, "sunsubscribe", -1, (1, -1, 1), Alone, [SUBSCRIBED], elsewhere;
    b"SPUBLISH" => SPublish, "spublish", 3, (1, 1, 1), Key, [], pubsub;
    b"PUBSUB" => PubSub, "pubsub", -2, (0, 0, 0), Alone, [], elsewhere;
    // ---- Transactions
    b"MULTI" => Multi, "multi", 1, (0, 0, 0), Here(Connection), [], elsewhere;
    b"EXEC" => Exec, "exec", 1, (0, 0, 0), Here(Connection), [], elsewhere;
    b"DISCARD" => Discard, "discard", 1, (0, 0, 0), Here(Connection), [], elsewhere;
    b"WATCH" => Watch, "watch", -2, (1, -1, 1), Here(Connection), [], elsewhere;
    b"UNWATCH" => Unwatch, "unwatch", 1, (0, 0, 0), Here(Connection), [], elsewhere;
    // ---- Scripting and functions
    b"FUNCTION" => Function, "function", -2, (0, 0, 0), Here(Server), [], elsewhere;
    /// Scripting and WAIT, refused or answered as a redis with no scripts
    /// and no replicas (`scripting.rs`).
    b"EVAL" => Eval, "eval", -3, (0, 0, 0), Here(Server), [], elsewhere;
    b"EVALSHA" => EvalSha, "evalsha", -3, (0, 0, 0), Here(Server), [], elsewhere;
    b"EVAL_RO" => EvalRo, "eval_ro", -3, (0, 0, 0), Here(Server), [], elsewhere;
    b"EVALSHA_RO" => EvalShaRo, "evalsha_ro", -3, (0, 0, 0), Here(Server), [], elsewhere;
    b"FCALL" => FCall, "fcall", -3, (0, 0, 0), Here(Server), [], elsewhere;
    b"FCALL_RO" => FCallRo, "fcall_ro", -3, (0, 0, 0), Here(Server), [], elsewhere;
    b"SCRIPT" => Script, "script", -2, (0, 0, 0), Here(Server), [], elsewhere;
    // ---- Cluster
    b"CLUSTER" => Cluster, "cluster", -2, (0, 0, 0), HereOrAlone(Server, slot_keys_everywhere), [], slot_keys;
    b"READONLY" => ReadOnly, "readonly", 1, (0, 0, 0), Here(Server), [], elsewhere;
    b"READWRITE" => ReadWrite, "readwrite", 1, (0, 0, 0), Here(Server), [], elsewhere;
    // ---- resp's own parts: sent to a shard by resp itself, never looked up for a client
    /// A shard's figures for INFO.
    b"INTERNAL-FIGURES" => ShardFigures, "internal-figures", 1, (0, 0, 0), PART, [INTERNAL], shard_parts::figures;
    /// A shard's CLIENT LIST lines (all, or `TYPE t`, or `ID n`).
    b"INTERNAL-CLIENTS" => ClientList, "internal-clients", -1, (0, 0, 0), PART, [INTERNAL], shard_parts::client_list;
    /// CLIENT KILL on a shard: `caller field value...`; how many killed.
    b"INTERNAL-KILL" => ClientKill, "internal-kill", -2, (0, 0, 0), PART, [INTERNAL], shard_parts::client_kill;
    /// CONFIG SET maxmemory: a shard's share.
    b"INTERNAL-MAXMEMORY" => SetMaxMemory, "internal-maxmemory", 2, (0, 0, 0), PART, [INTERNAL], shard_parts::set_max_memory;
    b"INTERNAL-LISTEN" => Listen, "internal-listen", -3, (0, 0, 0), PART, [INTERNAL], shard_parts::listen;
    /// CONFIG SET of eviction's parameters: policy, samples, lfu-log-factor,
    /// lfu-decay-time, for a shard.
    b"INTERNAL-EVICTION" => SetEviction, "internal-eviction", 5, (0, 0, 0), PART, [INTERNAL], shard_parts::set_eviction;
    /// Pub/sub: subscription changes told to a name's owner, acknowledged.
    b"INTERNAL-INTEREST" => PubSubInterest, "internal-interest", -5, (0, 0, 0), PART, [INTERNAL], pubsub;
    /// PUBSUB NUMSUB and SHARDNUMSUB: the counts of the names a shard owns.
    b"INTERNAL-NUMSUB" => PubSubNumSub, "internal-numsub", -2, (0, 0, 0), PART, [INTERNAL], pubsub;
    /// PUBSUB CHANNELS and SHARDCHANNELS: the names a shard owns.
    b"INTERNAL-CHANNELS" => PubSubChannels, "internal-channels", -2, (0, 0, 0), PART, [INTERNAL], pubsub;
    /// A whole transaction (EXEC) run on its keys' owner, watched keys
    /// checked first (`transaction.rs`).
    b"INTERNAL-EXEC" => TxExec, "internal-exec", -2, (0, 0, 0), PART, [INTERNAL], tx_exec;
    /// WATCH: what a key is now on its owner, to compare with at EXEC.
    b"INTERNAL-WATCH" => TxWatch, "internal-watch", 2, (0, 0, 0), PART, [INTERNAL], tx_watch;
    /// A shard's command statistics for INFO (`command_stats.rs`).
    b"INTERNAL-STATS" => ShardStats, "internal-stats", 1, (0, 0, 0), PART, [INTERNAL], shard_parts::stats;
    /// CONFIG RESETSTAT on a shard.
    b"INTERNAL-RESETSTAT" => ResetStats, "internal-resetstat", 1, (0, 0, 0), PART, [INTERNAL], shard_parts::reset_stats;
    /// CONFIG SET notify-keyspace-events: a shard's flags.
    b"INTERNAL-NOTIFY" => SetNotify, "internal-notify", 2, (0, 0, 0), PART, [INTERNAL], shard_parts::set_notify;
    /// A key's value and expiry as snapshot records (`dump.rs`).
    b"INTERNAL-DUMP" => Dump, "internal-dump", 2, (0, 0, 0), PART, [INTERNAL], dump;
    /// Stores a dumped value under a key.
    b"INTERNAL-RESTORE" => Restore, "internal-restore", 3, (0, 0, 0), PART, [INTERNAL], restore;
    /// A blocking command's client queued on a key's owner (`blocked_keys.rs`).
    b"INTERNAL-BLOCK-ON" => BlockOn, "internal-block-on", 3, (0, 0, 0), PART, [INTERNAL], block_on;
    /// ... and out of that queue.
    b"INTERNAL-UNBLOCKED" => Unblock, "internal-unblocked", 3, (0, 0, 0), PART, [INTERNAL], unblock;
    /// The push that ends a blocked move over two shards, in its chain
    /// (`moves_in_flight.rs`).
    b"INTERNAL-MOVE-PUSH" => MovePush, "internal-move-push", 5, (0, 0, 0), PART, [INTERNAL], move_push;
    /// One key of an MGET over several shards: GET, but nil for a value
    /// of another type (as MGET answers), not WRONGTYPE.
    b"INTERNAL-MGET-PART" => MGetPart, "internal-mget-part", 2, (1, 1, 1), PART, [INTERNAL], strings::run;
    /// CLIENT TRACKING: a client's registration (BCAST prefixes), told to a
    /// shard (`tracking.rs`).
    b"INTERNAL-TRACK" => Track, "internal-track", -3, (0, 0, 0), PART, [INTERNAL], track;
    /// A tracked key's invalidation, for a connection of the shard.
    b"INTERNAL-INVALIDATE" => Invalidate, "internal-invalidate", -3, (0, 0, 0), PART, [INTERNAL], invalidate;
    /// A key read by a client tracking in the default mode, remembered by
    /// its owner.
    b"INTERNAL-TRACK-KEY" => TrackKey, "internal-track-key", 3, (0, 0, 0), PART, [INTERNAL], track_key;
    /// The NOLOOP tracking client whose write comes next on the owner.
    b"INTERNAL-TRACK-WRITER" => TrackWriter, "internal-track-writer", 2, (0, 0, 0), PART, [INTERNAL], track_writer;
}
