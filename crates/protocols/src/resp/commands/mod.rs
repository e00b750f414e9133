//! The commands resp serves (docs/PROTOCOLS.md §6.2): for each, its arity and where it
//! runs. A key's command runs on the key's owner shard; a command over many
//! keys is split into one single-key part per key, each run on its owner,
//! and the parts' replies merged in order; a command over the whole key space
//! runs on every shard. One file per group, as Redis's own docs group them:
//! `strings` and `expiry` (run where the key lives), `keyspace` (KEYS, SCAN,
//! DBSIZE, FLUSHDB, RANDOMKEY: each shard's part), `connection` and `server`
//! (run on the connection's shard). Pub/sub has a folder of its own
//! (`resp/pubsub/`): PUBLISH runs on the channel's owner like a key's
//! command; the (un)subscribe commands and PUBSUB are served alone.

pub mod bitfield;
pub mod bitop;
pub mod bits;
pub mod collections;
pub mod config;
pub mod config_params;
pub mod config_table;
pub mod connection;
pub mod dump;
pub mod expiry;
pub mod geo;
pub mod getkeys;
/// Redis's glob matcher lives with the topics, whose patterns it matches.
pub use crate::mq::glob;
pub mod hash;
pub mod help;
pub mod info;
pub mod introspect;
pub mod keyspace;
pub mod lcs;
pub mod list;
pub mod memory;
pub mod object;
pub mod payload;
pub mod rename;
pub mod scripting;
pub mod server;
pub mod set;
pub mod sort;
pub mod string_float;
pub mod string_options;
pub mod strings;
pub mod types;
pub mod zset;
pub mod zset_multi;
pub mod zset_pop;
pub mod zset_range;

/// Every command served, as a number that travels with a forwarded command
/// so that the owner does not look its name up again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Cmd {
    Get,
    Set,
    SetNx,
    SetEx,
    PSetEx,
    GetDel,
    GetEx,
    MGet,
    MSet,
    MSetNx,
    Del,
    Unlink,
    Exists,
    Incr,
    Decr,
    IncrBy,
    DecrBy,
    Append,
    StrLen,
    GetRange,
    SetRange,
    Type,
    Expire,
    PExpire,
    ExpireAt,
    PExpireAt,
    Ttl,
    PTtl,
    Persist,
    ExpireTime,
    PExpireTime,
    /// DUMP and RESTORE: a key's value as Redis's payload (`payload.rs`).
    DumpPayload,
    RestorePayload,
    Touch,
    Rename,
    RenameNx,
    Copy,
    IncrByFloat,
    GetSet,
    SetBit,
    GetBit,
    BitCount,
    BitPos,
    BitOp,
    BitField,
    BitFieldRo,
    Lcs,
    Object,
    Keys,
    Scan,
    DbSize,
    FlushDb,
    FlushAll,
    RandomKey,
    Ping,
    Echo,
    Quit,
    Hello,
    Select,
    Client,
    Reset,
    Auth,
    Subscribe,
    Unsubscribe,
    PSubscribe,
    PUnsubscribe,
    Publish,
    SSubscribe,
    SUnsubscribe,
    SPublish,
    PubSub,
    Info,
    Time,
    Command,
    Config,
    LastSave,
    Save,
    BgSave,
    Cluster,
    ReadOnly,
    ReadWrite,
    Shutdown,
    Function,
    Multi,
    Exec,
    Discard,
    Watch,
    Unwatch,
    Monitor,
    HSet,
    HSetNx,
    HGet,
    HMGet,
    HMSet,
    HDel,
    HLen,
    HStrLen,
    HExists,
    HKeys,
    HVals,
    HGetAll,
    HIncrBy,
    HIncrByFloat,
    HRandField,
    HScan,
    SAdd,
    SRem,
    SCard,
    SIsMember,
    SMIsMember,
    SMembers,
    SPop,
    SRandMember,
    SMove,
    SInter,
    SInterCard,
    SUnion,
    SDiff,
    SInterStore,
    SUnionStore,
    SDiffStore,
    SScan,
    ZAdd,
    ZIncrBy,
    ZRem,
    ZCard,
    ZScore,
    ZMScore,
    ZRank,
    ZRevRank,
    ZCount,
    ZLexCount,
    ZRange,
    ZRangeByScore,
    ZRevRangeByScore,
    ZRevRange,
    ZRangeByLex,
    ZRevRangeByLex,
    ZPopMin,
    ZPopMax,
    ZRemRangeByRank,
    ZRemRangeByScore,
    ZRemRangeByLex,
    ZRandMember,
    ZScan,
    LPush,
    RPush,
    LPushX,
    RPushX,
    LPop,
    RPop,
    LLen,
    LIndex,
    LSet,
    LRange,
    LTrim,
    LRem,
    LInsert,
    LPos,
    LMove,
    RPopLPush,
    LMPop,
    ZUnion,
    ZInter,
    ZDiff,
    ZUnionStore,
    ZInterStore,
    ZDiffStore,
    ZInterCard,
    ZRangeStore,
    ZMPop,
    BLPop,
    BRPop,
    BLMove,
    BRPopLPush,
    BLMPop,
    BZPopMin,
    BZPopMax,
    BZMPop,
    Memory,
    /// Scripting and WAIT, refused or answered as a redis with no scripts
    /// and no replicas (`scripting.rs`).
    Eval,
    EvalSha,
    EvalRo,
    EvalShaRo,
    FCall,
    FCallRo,
    Script,
    Wait,
    GeoAdd,
    GeoPos,
    GeoDist,
    // Internal: the parts of commands over every shard, never looked up by
    // a client (their names are longer than any served command's). A
    // client's command goes above: from ShardFigures on, the owner does not
    // count a command in the statistics (`owner.rs`).
    /// A shard's figures for INFO.
    ShardFigures,
    /// A shard's CLIENT LIST lines (all, or `TYPE t`, or `ID n`).
    ClientList,
    /// CLIENT KILL on a shard: `caller field value...`; how many killed.
    ClientKill,
    /// CONFIG SET maxmemory: a shard's share.
    SetMaxMemory,
    /// Pub/sub: subscription changes told to a name's owner, acknowledged.
    PubSubInterest,
    /// PUBSUB NUMSUB and SHARDNUMSUB: the counts of the names a shard owns.
    PubSubNumSub,
    /// PUBSUB CHANNELS and SHARDCHANNELS: the names a shard owns.
    PubSubChannels,
    /// A whole transaction (EXEC) run on its keys' owner, watched keys
    /// checked first (`transaction.rs`).
    TxExec,
    /// WATCH: what a key is now on its owner, to compare with at EXEC.
    TxWatch,
    /// A shard's command statistics for INFO (`command_stats.rs`).
    ShardStats,
    /// CONFIG RESETSTAT on a shard.
    ResetStats,
    /// CONFIG SET notify-keyspace-events: a shard's flags.
    SetNotify,
    /// A key's value and expiry as snapshot records (`dump.rs`).
    Dump,
    /// Stores a dumped value under a key.
    Restore,
    /// A blocking command's client queued on a key's owner (`blocked_keys.rs`).
    BlockOn,
    /// ... and out of that queue.
    Unblock,
    /// The push that ends a blocked move over two shards, in its chain
    /// (`moves_in_flight.rs`).
    MovePush,
    Sort,
    SortRo,
    /// One key of an MGET over several shards: GET, but nil for a value
    /// of another type (as MGET answers), not WRONGTYPE.
    MGetPart,
    /// CLIENT TRACKING: a client's BCAST prefixes, told to a shard (`tracking.rs`).
    Track,
    /// A tracked key's invalidation, for a connection of the shard.
    Invalidate,
    /// A key read by a client tracking in the default mode, remembered by
    /// its owner.
    TrackKey,
    /// The NOLOOP tracking client whose write comes next on the owner.
    TrackWriter,
}

/// How a command's replies from several shards become one reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Merge {
    /// Integers added up (DEL, EXISTS, DBSIZE).
    Sum,
    /// The parts' one reply (`+OK` of MSET and FLUSHDB, BGSAVE's status);
    /// else the first error.
    AllOk,
    /// Arrays joined into one (KEYS).
    Concat,
    /// One array of the parts' replies, in order (MGET).
    Array,
    /// One of the non-null replies, at random (RANDOMKEY).
    AnyNonNull,
    /// Bulk strings joined into one text (CLIENT LIST).
    Text,
    /// The last part's reply (a tracked read after its keys' registration:
    /// `tracking.rs`).
    Last,
}

/// Where a command runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// On the connection's shard; it touches no key (PING, INFO, CLIENT).
    Here,
    /// On the owner of its first key, `args[1]`.
    Key,
    /// Each key (every `step` arguments from the first) on its owner, as the
    /// single-key command `part`; replies merged.
    EachKey {
        step: usize,
        part: Cmd,
        merge: Merge,
    },
    /// On every shard, replies merged.
    AllShards(Merge),
    /// Served on its own, once the replies before it are in (MSETNX over
    /// several shards; the (un)subscribe commands and PUBSUB).
    Alone,
}

/// What resp knows of a command before running it.
#[derive(Debug)]
pub struct Spec {
    pub cmd: Cmd,
    /// Its name, lower case, as errors and COMMAND write it.
    pub name: &'static str,
    /// Redis's arity: n exactly n arguments (the name included), −n at least n.
    pub arity: i32,
    pub route: Route,
}

impl Spec {
    /// Whether it is one of resp's own parts, not a client's command.
    pub fn internal(&self) -> bool {
        self.name.starts_with("internal")
    }

    /// Whether `argc` arguments (the name included) suit the command.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let arity = self.arity.unsigned_abs() as usize;
        if self.arity < 0 {
            argc >= arity
        } else {
            argc == arity
        }
    }
}

/// Longest command name served.
const LONGEST_NAME: usize = 16;

macro_rules! commands {
    ($($upper:literal => $cmd:ident, $lower:literal, $arity:literal, $route:expr;)*) => {
        /// The command called `name`, in any case; no allocation.
        pub fn lookup(name: &[u8]) -> Option<&'static Spec> {
            let mut buf = [0u8; LONGEST_NAME];
            let upper = buf.get_mut(..name.len())?;
            upper.copy_from_slice(name);
            upper.make_ascii_uppercase();
            match &*upper {
                $($upper => {
                    static SPEC: Spec = Spec { cmd: Cmd::$cmd, name: $lower, arity: $arity, route: $route };
                    Some(&SPEC)
                })*
                _ => None,
            }
        }

        /// Every command's name, lower case, in [`Cmd`]'s order.
        pub const NAMES: &[&str] = &[$($lower),*];

        /// Every command, in [`Cmd`]'s order.
        const ALL: &[Cmd] = &[$(Cmd::$cmd),*];
    };
}

use Merge::*;
use Route::*;

commands! {
    b"GET" => Get, "get", 2, Key;
    b"SET" => Set, "set", -3, Key;
    b"SETNX" => SetNx, "setnx", 3, Key;
    b"SETEX" => SetEx, "setex", 4, Key;
    b"PSETEX" => PSetEx, "psetex", 4, Key;
    b"GETDEL" => GetDel, "getdel", 2, Key;
    b"GETEX" => GetEx, "getex", -2, Key;
    b"MGET" => MGet, "mget", -2, EachKey { step: 1, part: Cmd::MGetPart, merge: Array };
    b"MSET" => MSet, "mset", -3, EachKey { step: 2, part: Cmd::Set, merge: AllOk };
    b"MSETNX" => MSetNx, "msetnx", -3, Alone;
    b"DEL" => Del, "del", -2, EachKey { step: 1, part: Cmd::Del, merge: Sum };
    b"UNLINK" => Unlink, "unlink", -2, EachKey { step: 1, part: Cmd::Del, merge: Sum };
    b"EXISTS" => Exists, "exists", -2, EachKey { step: 1, part: Cmd::Exists, merge: Sum };
    b"INCR" => Incr, "incr", 2, Key;
    b"DECR" => Decr, "decr", 2, Key;
    b"INCRBY" => IncrBy, "incrby", 3, Key;
    b"DECRBY" => DecrBy, "decrby", 3, Key;
    b"APPEND" => Append, "append", 3, Key;
    b"STRLEN" => StrLen, "strlen", 2, Key;
    b"GETRANGE" => GetRange, "getrange", 4, Key;
    b"SETRANGE" => SetRange, "setrange", 4, Key;
    b"TYPE" => Type, "type", 2, Key;
    b"EXPIRE" => Expire, "expire", -3, Key;
    b"PEXPIRE" => PExpire, "pexpire", -3, Key;
    b"EXPIREAT" => ExpireAt, "expireat", -3, Key;
    b"PEXPIREAT" => PExpireAt, "pexpireat", -3, Key;
    b"TTL" => Ttl, "ttl", 2, Key;
    b"PTTL" => PTtl, "pttl", 2, Key;
    b"PERSIST" => Persist, "persist", 2, Key;
    b"EXPIRETIME" => ExpireTime, "expiretime", 2, Key;
    b"PEXPIRETIME" => PExpireTime, "pexpiretime", 2, Key;
    b"DUMP" => DumpPayload, "dump", 2, Key;
    b"RESTORE" => RestorePayload, "restore", -4, Key;
    b"TOUCH" => Touch, "touch", -2, EachKey { step: 1, part: Cmd::Exists, merge: Sum };
    b"RENAME" => Rename, "rename", 3, Alone;
    b"RENAMENX" => RenameNx, "renamenx", 3, Alone;
    b"COPY" => Copy, "copy", -3, Alone;
    b"INCRBYFLOAT" => IncrByFloat, "incrbyfloat", 3, Key;
    b"GETSET" => GetSet, "getset", 3, Key;
    b"SETBIT" => SetBit, "setbit", 4, Key;
    b"GETBIT" => GetBit, "getbit", 3, Key;
    b"BITCOUNT" => BitCount, "bitcount", -2, Key;
    b"BITPOS" => BitPos, "bitpos", -3, Key;
    b"BITOP" => BitOp, "bitop", -4, Alone;
    b"BITFIELD" => BitField, "bitfield", -2, Key;
    b"BITFIELD_RO" => BitFieldRo, "bitfield_ro", -2, Key;
    b"LCS" => Lcs, "lcs", -3, Alone;
    b"OBJECT" => Object, "object", -2, Alone;
    b"KEYS" => Keys, "keys", 2, AllShards(Concat);
    b"SCAN" => Scan, "scan", -2, Alone;
    b"DBSIZE" => DbSize, "dbsize", 1, AllShards(Sum);
    b"FLUSHDB" => FlushDb, "flushdb", -1, AllShards(AllOk);
    b"FLUSHALL" => FlushAll, "flushall", -1, AllShards(AllOk);
    b"RANDOMKEY" => RandomKey, "randomkey", 1, AllShards(AnyNonNull);
    b"PING" => Ping, "ping", -1, Here;
    b"ECHO" => Echo, "echo", 2, Here;
    b"QUIT" => Quit, "quit", -1, Here;
    b"HELLO" => Hello, "hello", -1, Here;
    b"SELECT" => Select, "select", 2, Here;
    b"CLIENT" => Client, "client", -2, Here;
    b"RESET" => Reset, "reset", 1, Here;
    b"AUTH" => Auth, "auth", -2, Here;
    b"SUBSCRIBE" => Subscribe, "subscribe", -2, Alone;
    b"UNSUBSCRIBE" => Unsubscribe, "unsubscribe", -1, Alone;
    b"PSUBSCRIBE" => PSubscribe, "psubscribe", -2, Alone;
    b"PUNSUBSCRIBE" => PUnsubscribe, "punsubscribe", -1, Alone;
    b"PUBLISH" => Publish, "publish", 3, Key;
    b"SSUBSCRIBE" => SSubscribe, "ssubscribe", -2, Alone;
    b"SUNSUBSCRIBE" => SUnsubscribe, "sunsubscribe", -1, Alone;
    b"SPUBLISH" => SPublish, "spublish", 3, Key;
    b"PUBSUB" => PubSub, "pubsub", -2, Alone;
    b"INFO" => Info, "info", -1, Here;
    b"TIME" => Time, "time", 1, Here;
    b"COMMAND" => Command, "command", -1, Here;
    b"CONFIG" => Config, "config", -2, Here;
    b"LASTSAVE" => LastSave, "lastsave", 1, Here;
    b"SAVE" => Save, "save", 1, AllShards(AllOk);
    b"BGSAVE" => BgSave, "bgsave", -1, AllShards(AllOk);
    b"CLUSTER" => Cluster, "cluster", -2, Here;
    b"READONLY" => ReadOnly, "readonly", 1, Here;
    b"READWRITE" => ReadWrite, "readwrite", 1, Here;
    b"SHUTDOWN" => Shutdown, "shutdown", -1, Here;
    b"FUNCTION" => Function, "function", -2, Here;
    b"MULTI" => Multi, "multi", 1, Here;
    b"EXEC" => Exec, "exec", 1, Here;
    b"DISCARD" => Discard, "discard", 1, Here;
    b"WATCH" => Watch, "watch", -2, Here;
    b"UNWATCH" => Unwatch, "unwatch", 1, Here;
    b"MONITOR" => Monitor, "monitor", 1, Here;
    b"HSET" => HSet, "hset", -4, Key;
    b"HSETNX" => HSetNx, "hsetnx", 4, Key;
    b"HGET" => HGet, "hget", 3, Key;
    b"HMGET" => HMGet, "hmget", -3, Key;
    b"HMSET" => HMSet, "hmset", -4, Key;
    b"HDEL" => HDel, "hdel", -3, Key;
    b"HLEN" => HLen, "hlen", 2, Key;
    b"HSTRLEN" => HStrLen, "hstrlen", 3, Key;
    b"HEXISTS" => HExists, "hexists", 3, Key;
    b"HKEYS" => HKeys, "hkeys", 2, Key;
    b"HVALS" => HVals, "hvals", 2, Key;
    b"HGETALL" => HGetAll, "hgetall", 2, Key;
    b"HINCRBY" => HIncrBy, "hincrby", 4, Key;
    b"HINCRBYFLOAT" => HIncrByFloat, "hincrbyfloat", 4, Key;
    b"HRANDFIELD" => HRandField, "hrandfield", -2, Key;
    b"HSCAN" => HScan, "hscan", -3, Key;
    b"SADD" => SAdd, "sadd", -3, Key;
    b"SREM" => SRem, "srem", -3, Key;
    b"SCARD" => SCard, "scard", 2, Key;
    b"SISMEMBER" => SIsMember, "sismember", 3, Key;
    b"SMISMEMBER" => SMIsMember, "smismember", -3, Key;
    b"SMEMBERS" => SMembers, "smembers", 2, Key;
    b"SPOP" => SPop, "spop", -2, Key;
    b"SRANDMEMBER" => SRandMember, "srandmember", -2, Key;
    b"SMOVE" => SMove, "smove", 4, Alone;
    b"SINTER" => SInter, "sinter", -2, Alone;
    b"SINTERCARD" => SInterCard, "sintercard", -3, Alone;
    b"SUNION" => SUnion, "sunion", -2, Alone;
    b"SDIFF" => SDiff, "sdiff", -2, Alone;
    b"SINTERSTORE" => SInterStore, "sinterstore", -3, Alone;
    b"SUNIONSTORE" => SUnionStore, "sunionstore", -3, Alone;
    b"SDIFFSTORE" => SDiffStore, "sdiffstore", -3, Alone;
    b"SSCAN" => SScan, "sscan", -3, Key;
    b"ZADD" => ZAdd, "zadd", -4, Key;
    b"ZINCRBY" => ZIncrBy, "zincrby", 4, Key;
    b"ZREM" => ZRem, "zrem", -3, Key;
    b"ZCARD" => ZCard, "zcard", 2, Key;
    b"ZSCORE" => ZScore, "zscore", 3, Key;
    b"ZMSCORE" => ZMScore, "zmscore", -3, Key;
    b"ZRANK" => ZRank, "zrank", 3, Key;
    b"ZREVRANK" => ZRevRank, "zrevrank", 3, Key;
    b"ZCOUNT" => ZCount, "zcount", 4, Key;
    b"ZLEXCOUNT" => ZLexCount, "zlexcount", 4, Key;
    b"ZRANGE" => ZRange, "zrange", -4, Key;
    b"ZRANGEBYSCORE" => ZRangeByScore, "zrangebyscore", -4, Key;
    b"ZREVRANGEBYSCORE" => ZRevRangeByScore, "zrevrangebyscore", -4, Key;
    b"ZREVRANGE" => ZRevRange, "zrevrange", -4, Key;
    b"ZRANGEBYLEX" => ZRangeByLex, "zrangebylex", -4, Key;
    b"ZREVRANGEBYLEX" => ZRevRangeByLex, "zrevrangebylex", -4, Key;
    b"ZPOPMIN" => ZPopMin, "zpopmin", -2, Key;
    b"ZPOPMAX" => ZPopMax, "zpopmax", -2, Key;
    b"ZREMRANGEBYRANK" => ZRemRangeByRank, "zremrangebyrank", 4, Key;
    b"ZREMRANGEBYSCORE" => ZRemRangeByScore, "zremrangebyscore", 4, Key;
    b"ZREMRANGEBYLEX" => ZRemRangeByLex, "zremrangebylex", 4, Key;
    b"ZRANDMEMBER" => ZRandMember, "zrandmember", -2, Key;
    b"ZSCAN" => ZScan, "zscan", -3, Key;
    b"LPUSH" => LPush, "lpush", -3, Key;
    b"RPUSH" => RPush, "rpush", -3, Key;
    b"LPUSHX" => LPushX, "lpushx", -3, Key;
    b"RPUSHX" => RPushX, "rpushx", -3, Key;
    b"LPOP" => LPop, "lpop", -2, Key;
    b"RPOP" => RPop, "rpop", -2, Key;
    b"LLEN" => LLen, "llen", 2, Key;
    b"LINDEX" => LIndex, "lindex", 3, Key;
    b"LSET" => LSet, "lset", 4, Key;
    b"LRANGE" => LRange, "lrange", 4, Key;
    b"LTRIM" => LTrim, "ltrim", 4, Key;
    b"LREM" => LRem, "lrem", 4, Key;
    b"LINSERT" => LInsert, "linsert", 5, Key;
    b"LPOS" => LPos, "lpos", -3, Key;
    b"LMOVE" => LMove, "lmove", 5, Alone;
    b"RPOPLPUSH" => RPopLPush, "rpoplpush", 3, Alone;
    b"LMPOP" => LMPop, "lmpop", -4, Alone;
    b"ZUNION" => ZUnion, "zunion", -3, Alone;
    b"ZINTER" => ZInter, "zinter", -3, Alone;
    b"ZDIFF" => ZDiff, "zdiff", -3, Alone;
    b"ZUNIONSTORE" => ZUnionStore, "zunionstore", -4, Alone;
    b"ZINTERSTORE" => ZInterStore, "zinterstore", -4, Alone;
    b"ZDIFFSTORE" => ZDiffStore, "zdiffstore", -4, Alone;
    b"ZINTERCARD" => ZInterCard, "zintercard", -3, Alone;
    b"ZRANGESTORE" => ZRangeStore, "zrangestore", -5, Alone;
    b"ZMPOP" => ZMPop, "zmpop", -4, Alone;
    b"BLPOP" => BLPop, "blpop", -3, Alone;
    b"BRPOP" => BRPop, "brpop", -3, Alone;
    b"BLMOVE" => BLMove, "blmove", 6, Alone;
    b"BRPOPLPUSH" => BRPopLPush, "brpoplpush", 4, Alone;
    b"BLMPOP" => BLMPop, "blmpop", -5, Alone;
    b"BZPOPMIN" => BZPopMin, "bzpopmin", -3, Alone;
    b"BZPOPMAX" => BZPopMax, "bzpopmax", -3, Alone;
    b"BZMPOP" => BZMPop, "bzmpop", -5, Alone;
    b"MEMORY" => Memory, "memory", -2, Alone;
    b"EVAL" => Eval, "eval", -3, Here;
    b"EVALSHA" => EvalSha, "evalsha", -3, Here;
    b"EVAL_RO" => EvalRo, "eval_ro", -3, Here;
    b"EVALSHA_RO" => EvalShaRo, "evalsha_ro", -3, Here;
    b"FCALL" => FCall, "fcall", -3, Here;
    b"FCALL_RO" => FCallRo, "fcall_ro", -3, Here;
    b"SCRIPT" => Script, "script", -2, Here;
    b"WAIT" => Wait, "wait", 3, Here;
    b"GEOADD" => GeoAdd, "geoadd", -5, Key;
    b"GEOPOS" => GeoPos, "geopos", -2, Key;
    b"GEODIST" => GeoDist, "geodist", -4, Key;
    b"INTERNAL-FIGURES" => ShardFigures, "internal-figures", 1, Here;
    b"INTERNAL-CLIENTS" => ClientList, "internal-clients", -1, Here;
    b"INTERNAL-KILL" => ClientKill, "internal-kill", -2, Here;
    b"INTERNAL-MAXMEMORY" => SetMaxMemory, "internal-maxmemory", 2, Here;
    b"INTERNAL-INTEREST" => PubSubInterest, "internal-interest", -5, Here;
    b"INTERNAL-NUMSUB" => PubSubNumSub, "internal-numsub", -2, Here;
    b"INTERNAL-CHANNELS" => PubSubChannels, "internal-channels", -2, Here;
    b"INTERNAL-EXEC" => TxExec, "internal-exec", -2, Here;
    b"INTERNAL-WATCH" => TxWatch, "internal-watch", 2, Here;
    b"INTERNAL-STATS" => ShardStats, "internal-stats", 1, Here;
    b"INTERNAL-RESETSTAT" => ResetStats, "internal-resetstat", 1, Here;
    b"INTERNAL-NOTIFY" => SetNotify, "internal-notify", 2, Here;
    b"INTERNAL-DUMP" => Dump, "internal-dump", 2, Here;
    b"INTERNAL-RESTORE" => Restore, "internal-restore", 3, Here;
    b"INTERNAL-BLOCK-ON" => BlockOn, "internal-block-on", 3, Here;
    b"INTERNAL-UNBLOCKED" => Unblock, "internal-unblocked", 3, Here;
    b"INTERNAL-MOVE-PUSH" => MovePush, "internal-move-push", 5, Here;
    b"SORT" => Sort, "sort", -2, Alone;
    b"SORT_RO" => SortRo, "sort_ro", -2, Alone;
    b"INTERNAL-MGET-PART" => MGetPart, "internal-mget-part", 2, Here;
    b"INTERNAL-TRACK" => Track, "internal-track", -3, Here;
    b"INTERNAL-INVALIDATE" => Invalidate, "internal-invalidate", -3, Here;
    b"INTERNAL-TRACK-KEY" => TrackKey, "internal-track-key", 3, Here;
    b"INTERNAL-TRACK-WRITER" => TrackWriter, "internal-track-writer", 2, Here;
}

/// The command numbered `n` ([`Cmd`] as `u8`), for a forwarded command.
pub fn cmd_from_u8(n: u8) -> Option<Cmd> {
    ALL.get(usize::from(n)).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_found_in_any_case_and_numbered_in_order() {
        assert_eq!(lookup(b"get").map(|s| s.cmd), Some(Cmd::Get));
        assert_eq!(lookup(b"GeTrAnGe").map(|s| s.cmd), Some(Cmd::GetRange));
        assert!(lookup(b"xadd").is_none());
        assert!(lookup(b"averyveryverylongname").is_none());
        for (n, name) in NAMES.iter().enumerate() {
            assert_eq!(
                cmd_from_u8(n as u8).map(|c| c as usize),
                Some(n),
                "{name} out of order"
            );
            let Some(spec) = lookup(name.as_bytes()) else {
                assert!(name.starts_with("internal"), "{name} is found");
                continue;
            };
            assert_eq!(spec.cmd as usize, n, "{name} out of order");
            assert!(name.len() <= LONGEST_NAME || spec.internal());
        }
        // Numbers fit a byte, and the first past the last names none.
        assert!(ALL.len() < 256);
        assert_eq!(cmd_from_u8(ALL.len() as u8), None);
    }

    #[test]
    fn arities_are_those_command_reports() {
        for name in NAMES.iter().filter(|name| !name.starts_with("internal")) {
            let spec = lookup(name.as_bytes()).expect("served");
            let entry = crate::resp::command_table::lookup(name.as_bytes())
                .unwrap_or_else(|| panic!("{name} is in the COMMAND table"));
            assert_eq!(spec.arity, entry.arity, "{name}");
        }
    }

    #[test]
    fn arity_follows_redis() {
        let get = lookup(b"get").expect("get");
        assert!(get.arity_ok(2) && !get.arity_ok(1) && !get.arity_ok(3));
        let set = lookup(b"set").expect("set");
        assert!(set.arity_ok(3) && set.arity_ok(9) && !set.arity_ok(2));
    }
}
