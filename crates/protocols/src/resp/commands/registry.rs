//! What one row of resp's command registry says of a command ([`Spec`]),
//! and the macro that turns the rows (`table.rs`) into the [`Cmd`] enum, the
//! [`lookup`] by name and the rows indexed by number ([`spec_of`]).
//!
//! One row per command, as Dragonfly's registry has one `CommandId` per
//! command (`CI{"GET", flags, arity, first, last, step}.SetHandler(CmdGet)`):
//! its name, arity, key positions, where it runs and how the parts' replies
//! merge, the flags the checks read, and what it runs on the shard that owns
//! its keys. Lookup, the arity and authentication checks, routing, the
//! cluster slot check and `COMMAND` (through the generated table, whose
//! served names the generator reads from the rows) all read the row.
//!
//! [`Cmd`]: super::Cmd
//! [`lookup`]: super::lookup

use super::super::protocol::write::Proto;
use super::super::protocol::Command;
use super::super::session::Session;
use super::super::RespConfig;
use super::Cmd;
use crate::resp::RespShard;
use percore_keyspace::write::ShardKeys;

/// What a command runs on the shard that owns its keys (or on each shard,
/// for its part of a command over every shard): `execute::execute` calls it,
/// for a connection of that shard and for a forwarded command alike.
/// `shard` is resp's state on this shard (`resp_shard.rs`): which shard it
/// is, of how many, and the registries its commands reach.
pub type OwnerFn = fn(
    cmd: Cmd,
    command: &Command<'_>,
    keys: &mut ShardKeys<'_>,
    proto: Proto,
    shard: &RespShard,
    out: &mut Vec<u8>,
);

/// Whether a command served on the connection's shard is, this time, served
/// alone instead: once the round's replies are in, waiting for every shard
/// (CONFIG SET, CLIENT LIST, ...).
pub type AloneTest = fn(command: &Command<'_>, config: &RespConfig, session: &Session) -> bool;

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
    /// `tracking_conn.rs`).
    Last,
}

/// Which code answers a command served on the connection's shard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Local {
    /// With the connection's session (`connection.rs`): PING, HELLO, AUTH...
    Connection,
    /// With the service's configuration (`server.rs`): TIME, CONFIG GET...
    Server,
    /// `COMMAND` and its subcommands (`introspect.rs`).
    Introspect,
    /// SHUTDOWN: the server stops (`plan.rs`).
    Shutdown,
}

/// Where a command runs. (Not comparable: [`AloneTest`] is a function.)
#[derive(Clone, Copy, Debug)]
pub enum Route {
    /// On the connection's shard; it touches no key (PING, TIME, CLIENT ID).
    Here(Local),
    /// On the connection's shard, unless the test says it is served alone
    /// this time (CONFIG SET, CLIENT LIST and KILL, RESET while subscribed).
    HereOrAlone(Local, AloneTest),
    /// On the owner of its first key, `args[1]`.
    Key,
    /// Each key (every [`KeyArgs::step`] arguments from the first) on its
    /// owner, as the single-key command `part`; replies merged.
    EachKey { part: Cmd, merge: Merge },
    /// On every shard, replies merged.
    AllShards(Merge),
    /// Served on its own, once the replies before it are in (INFO, MSETNX
    /// over several shards, the (un)subscribe commands, PUBSUB).
    Alone,
}

/// Where a command's keys are among its arguments (the name is 0), as
/// redis 7.0's `COMMAND` reports them: `first`, `first + step`, ... up to
/// `last` (negative: counted from the end, -1 the last argument).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyArgs {
    /// 0: no keys.
    pub first: i32,
    pub last: i32,
    pub step: i32,
}

impl KeyArgs {
    /// The positions of the keys among `argc` arguments: `first`,
    /// `first + step`, ... up to `last`; none past the arguments given (a
    /// variadic command short of them reports its own error).
    pub fn positions(self, argc: usize) -> impl Iterator<Item = usize> {
        let argc = argc as i64;
        let first = i64::from(self.first);
        let last = if self.last < 0 {
            argc + i64::from(self.last)
        } else {
            i64::from(self.last)
        };
        // No keys (first 0): an empty range.
        let end = if first > 0 { (last + 1).min(argc) } else { 0 };
        (first.max(0)..end.max(first.max(0)))
            .step_by(self.step.max(1) as usize)
            .map(|i| i as usize)
    }
}

/// What the checks and the owner read of a command besides its route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flags(u8);

impl Flags {
    pub const NONE: Flags = Flags(0);
    /// Runs before AUTH (AUTH, HELLO, QUIT, RESET).
    pub const NO_AUTH: Flags = Flags(1);
    /// Allowed on a RESP2 connection that is subscribed.
    pub const SUBSCRIBED: Flags = Flags(1 << 1);
    /// On a shard's own port (shard-aware cluster mode), over that shard's
    /// keys alone: the shard is a node of its own.
    pub const OWN_KEYS: Flags = Flags(1 << 2);
    /// One of resp's own parts, never looked up for a client.
    pub const INTERNAL: Flags = Flags(1 << 3);
    /// Not counted in the statistics by the owner that runs it.
    pub const UNCOUNTED: Flags = Flags(1 << 4);
    /// Reads or changes its key as a string: on a key of another type it
    /// answers WRONGTYPE before it runs (`types.rs`).
    pub const STRING: Flags = Flags(1 << 5);
    /// Served alone when its keys are on several shards, but run on their
    /// owner in one step (atomic, as in Redis) when they share one
    /// (RENAME, COPY, LCS, BITOP, MSETNX: `move_keys.rs`).
    pub const ONE_OWNER: Flags = Flags(1 << 6);

    /// These flags and `other`.
    pub const fn with(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }

    /// Whether every flag of `other` is set.
    pub const fn has(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }
}

/// What resp knows of a command before running it: its registry row.
#[derive(Debug)]
pub struct Spec {
    pub cmd: Cmd,
    /// Its name, lower case, as errors and COMMAND write it.
    pub name: &'static str,
    /// Redis's arity: n exactly n arguments (the name included), −n at least n.
    pub arity: i32,
    pub keys: KeyArgs,
    pub route: Route,
    pub flags: Flags,
    /// What it runs on its keys' owner.
    pub run: OwnerFn,
}

impl Spec {
    /// Whether it is one of resp's own parts, not a client's command.
    pub fn internal(&self) -> bool {
        self.flags.has(Flags::INTERNAL)
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

/// Longest command name served (GEORADIUSBYMEMBER_RO).
pub(super) const LONGEST_NAME: usize = 20;

/// The registry from its rows: `b"NAME" => Variant, "name", arity, (first,
/// last, step), route, [FLAG...], run;`, each row's doc comments the
/// variant's. Makes [`Cmd`] (numbered in row order), `SPECS` (the rows, by
/// number), `lookup` (a `match` on the upper-cased name: no allocation),
/// `NAMES` and `ALL`.
macro_rules! commands {
    ($(
        $(#[$doc:meta])*
        $upper:literal => $cmd:ident, $lower:literal, $arity:literal,
        ($first:literal, $last:literal, $step:literal), $route:expr,
        [$($flag:ident)*], $run:expr;
    )*) => {
        /// Every command served, as a number that travels with a forwarded
        /// command so that the owner does not look its name up again.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u8)]
        pub enum Cmd {
            $($(#[$doc])* $cmd,)*
        }

        /// Every row, in [`Cmd`]'s order.
        pub(super) static SPECS: &[Spec] = &[$(Spec {
            cmd: Cmd::$cmd,
            name: $lower,
            arity: $arity,
            keys: KeyArgs { first: $first, last: $last, step: $step },
            route: $route,
            flags: Flags::NONE$(.with(Flags::$flag))*,
            run: $run,
        },)*];

        /// The command called `name`, in any case; no allocation.
        pub fn lookup(name: &[u8]) -> Option<&'static Spec> {
            let mut buf = [0u8; LONGEST_NAME];
            let upper = buf.get_mut(..name.len())?;
            upper.copy_from_slice(name);
            upper.make_ascii_uppercase();
            match &*upper {
                $($upper => SPECS.get(Cmd::$cmd as usize),)*
                _ => None,
            }
        }

        /// Every command's name, lower case, in [`Cmd`]'s order.
        pub const NAMES: &[&str] = &[$($lower),*];

        /// Every command, in [`Cmd`]'s order.
        pub(super) const ALL: &[Cmd] = &[$(Cmd::$cmd),*];
    };
}
pub(super) use commands;
