//! Keyspace notifications (issue 26), as Redis 7.0 sends them: with
//! `CONFIG SET notify-keyspace-events` flags, a write publishes its event on
//! `__keyspace@0__:<key>` (message: the event) and `__keyevent@0__:<event>`
//! (message: the key), through the same brokers every PUBLISH uses, so
//! resp's (P)SUBSCRIBErs and mq's subscribers get them alike.
//!
//! The key's owner shard publishes, right after the command ran there
//! ([`Observed`], around `execute`), and fans the message out itself:
//! subscriptions to these channels are told to every shard, as patterns
//! are (`mq/routing.rs`), so a key's events reach each subscriber in the
//! order they happened on its shard. With no flags set (the default) a
//! command pays one `Cell` read. The flags are per shard ([`Notify`], in
//! the shard's `RespShard`), set on every shard by CONFIG SET.

use std::cell::Cell;

use super::commands::Cmd;
use super::notify_typed;
use super::protocol::{parse_reply, Command, Value};
use super::RespShard;
use percore_keyspace::write::ShardKeys;

pub const KEYSPACE: u32 = 1 << 0;
pub const KEYEVENT: u32 = 1 << 1;
pub const GENERIC: u32 = 1 << 2;
pub const STRING: u32 = 1 << 3;
pub const LIST: u32 = 1 << 4;
pub const SET: u32 = 1 << 5;
pub const HASH: u32 = 1 << 6;
pub const ZSET: u32 = 1 << 7;
pub const EXPIRED: u32 = 1 << 8;
const EVICTED: u32 = 1 << 9;
const STREAM: u32 = 1 << 10;
const KEY_MISS: u32 = 1 << 11;
const MODULE: u32 = 1 << 13;
pub const NEW: u32 = 1 << 14;
const ALL: u32 = GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

/// The flags' letters, in the order Redis writes them.
const LETTERS: [(u8, u32); 11] = [
    (b'g', GENERIC),
    (b'$', STRING),
    (b'l', LIST),
    (b's', SET),
    (b'h', HASH),
    (b'z', ZSET),
    (b'x', EXPIRED),
    (b'e', EVICTED),
    (b't', STREAM),
    (b'd', MODULE),
    (b'n', NEW),
];

/// One shard's keyspace-event settings.
#[derive(Default)]
pub struct Notify {
    flags: Cell<u32>,
    /// While a step of a command that publishes its own events runs.
    quiet: Cell<bool>,
}

impl Notify {
    /// Runs `step` with keyspace events off when `quiet`.
    pub fn quietly<R>(&self, quiet: bool, step: impl FnOnce() -> R) -> R {
        if !quiet {
            return step();
        }
        self.quiet.set(true);
        let result = step();
        self.quiet.set(false);
        result
    }

    /// This shard's `notify-keyspace-events`.
    pub fn flags(&self) -> u32 {
        self.flags.get()
    }

    pub fn set_flags(&self, flags: u32) {
        self.flags.set(flags);
    }
}

/// Redis's `keyspaceEventsStringToFlags`: `None` for a letter it does not
/// know.
pub fn parse_flags(text: &[u8]) -> Option<u32> {
    let mut flags = 0;
    for &c in text {
        flags |= match c {
            b'A' => ALL,
            b'K' => KEYSPACE,
            b'E' => KEYEVENT,
            b'm' => KEY_MISS,
            c => LETTERS.iter().find(|(l, _)| *l == c)?.1,
        };
    }
    Some(flags)
}

/// Redis's `keyspaceEventsFlagsToString`.
pub fn format_flags(flags: u32) -> String {
    let mut text = String::new();
    if flags & ALL == ALL {
        text.push('A');
    } else {
        for (letter, flag) in LETTERS {
            if flags & flag != 0 {
                text.push(letter as char);
            }
        }
    }
    for (letter, flag) in [('K', KEYSPACE), ('E', KEYEVENT), ('m', KEY_MISS)] {
        if flags & flag != 0 {
            text.push(letter);
        }
    }
    text
}

/// Publishes `event` of `class` about `key`, if the flags ask for it.
pub fn publish(here: &RespShard, class: u32, event: &str, key: &[u8]) {
    if !here.notify.quiet.get() {
        publish_even_quietly(here, class, event, key);
    }
}

/// [`publish`], also inside a quiet step: an eviction is no event of the
/// command whose write caused it.
fn publish_even_quietly(here: &RespShard, class: u32, event: &str, key: &[u8]) {
    let flags = here.notify.flags();
    if flags & class == 0 || flags & (KEYSPACE | KEYEVENT) == 0 {
        return;
    }
    let Some(broker) = here.broker() else {
        return;
    };
    let mut channel = Vec::with_capacity(16 + key.len().max(event.len()));
    if flags & KEYSPACE != 0 {
        channel.extend_from_slice(b"__keyspace@0__:");
        channel.extend_from_slice(key);
        broker.notify(&channel, event.as_bytes());
    }
    if flags & KEYEVENT != 0 {
        channel.clear();
        channel.extend_from_slice(b"__keyevent@0__:");
        channel.extend_from_slice(event.as_bytes());
        broker.notify(&channel, key);
    }
}

/// The active expiry freed `key` (registered with the key space).
pub fn expired(here: &RespShard, key: &[u8]) {
    super::tracking_table::invalidate(here, key);
    publish(here, EXPIRED, "expired", key);
}

/// `key` was evicted (`maxmemory-policy`; registered with the key space):
/// as Redis's `performEvictions`, tracking is told and the `evicted` event
/// published.
pub fn evicted(here: &RespShard, key: &[u8]) {
    super::tracking_table::invalidate(here, key);
    publish_even_quietly(here, EVICTED, "evicted", key);
}

/// What a write command's events depend on, read before it runs.
pub struct Observed {
    /// Whether each key the command names was live.
    existed: Vec<bool>,
    /// Whether its first key had a time to live.
    had_ttl: bool,
    /// SETBIT's and BITFIELD's key's value before: Redis publishes their
    /// event only when the string was created, grew or changed.
    value: Option<Vec<u8>>,
}

/// The keys a command writes, as argument positions: (first, step), or
/// `None` for a command that notifies nothing.
fn written_keys(cmd: Cmd, args: &Command<'_>) -> Option<(usize, usize, usize)> {
    let argc = args.len();
    let one = Some((1, 1, 2.min(argc)));
    match cmd {
        Cmd::Set
        | Cmd::SetNx
        | Cmd::SetEx
        | Cmd::PSetEx
        | Cmd::GetSet
        | Cmd::GetDel
        | Cmd::GetEx
        | Cmd::Incr
        | Cmd::Decr
        | Cmd::IncrBy
        | Cmd::DecrBy
        | Cmd::IncrByFloat
        | Cmd::Append
        | Cmd::SetRange
        | Cmd::SetBit
        | Cmd::BitField
        | Cmd::Expire
        | Cmd::PExpire
        | Cmd::ExpireAt
        | Cmd::PExpireAt
        | Cmd::Persist
        | Cmd::RestorePayload => one,
        Cmd::Del | Cmd::Unlink => Some((1, 1, argc)),
        Cmd::MSet | Cmd::MSetNx => Some((1, 2, argc)),
        Cmd::Rename | Cmd::RenameNx | Cmd::Copy => Some((1, 1, 3.min(argc))),
        cmd => notify_typed::event(cmd, args).and(one),
    }
}

impl Observed {
    /// Reads what `cmd`'s events will depend on; `None` when notifications
    /// are off or `cmd` writes nothing.
    pub fn before(
        here: &RespShard,
        cmd: Cmd,
        args: &Command<'_>,
        keys: &ShardKeys<'_>,
    ) -> Option<Observed> {
        if here.notify.flags() & (KEYSPACE | KEYEVENT) == 0 {
            return None;
        }
        let (first, step, end) = written_keys(cmd, args)?;
        let existed = (first..end)
            .step_by(step)
            .map(|i| keys.exists(args.at(i)))
            .collect();
        let had_ttl = keys.expiry(args.at(1)).flatten().is_some();
        let value = match cmd {
            Cmd::SetBit | Cmd::BitField => keys.get(args.at(1)).map(<[u8]>::to_vec),
            _ => None,
        };
        Some(Observed {
            existed,
            had_ttl,
            value,
        })
    }

    /// Publishes the events of `cmd`, which answered `reply`.
    pub fn after(
        &self,
        here: &RespShard,
        cmd: Cmd,
        args: &Command<'_>,
        keys: &ShardKeys<'_>,
        reply: &[u8],
    ) {
        if reply.first() == Some(&b'-') {
            return;
        }
        let key = args.at(1);
        let existed = self.existed.first().copied().unwrap_or(false);
        let new = |key: &[u8], existed: bool| {
            if !existed && keys.exists(key) {
                publish(here, NEW, "new", key);
            }
        };
        let option = |name: &[u8]| (3..args.len()).any(|i| args.at(i).eq_ignore_ascii_case(name));
        let string = |event: &str| {
            new(key, existed);
            publish(here, STRING, event, key);
        };
        match cmd {
            Cmd::Set => {
                let done = if option(b"nx") {
                    !existed
                } else if option(b"xx") {
                    existed
                } else {
                    true
                };
                if done {
                    string("set");
                    if [&b"ex"[..], b"px", b"exat", b"pxat"]
                        .iter()
                        .any(|o| option(o))
                    {
                        publish(here, GENERIC, "expire", key);
                    }
                }
            }
            Cmd::SetNx if reply.starts_with(b":1") => string("set"),
            Cmd::SetEx | Cmd::PSetEx => {
                string("set");
                publish(here, GENERIC, "expire", key);
            }
            Cmd::GetSet => string("set"),
            Cmd::GetDel if existed => publish(here, GENERIC, "del", key),
            Cmd::GetEx if existed => {
                if (2..args.len()).any(|i| args.at(i).eq_ignore_ascii_case(b"persist")) {
                    if self.had_ttl {
                        publish(here, GENERIC, "persist", key);
                    }
                } else if [&b"ex"[..], b"px", b"exat", b"pxat"]
                    .iter()
                    .any(|o| (2..args.len()).any(|i| args.at(i).eq_ignore_ascii_case(o)))
                {
                    let event = if keys.exists(key) { "expire" } else { "del" };
                    publish(here, GENERIC, event, key);
                }
            }
            Cmd::Incr | Cmd::Decr | Cmd::IncrBy | Cmd::DecrBy => string("incrby"),
            Cmd::IncrByFloat => string("incrbyfloat"),
            Cmd::Append => string("append"),
            Cmd::SetRange if !args.at(3).is_empty() => string("setrange"),
            Cmd::SetBit if self.value.as_deref() != keys.get(key) => string("setbit"),
            Cmd::BitField
                if self.value.as_deref() != keys.get(key) && bitfield_wrote(args, reply) =>
            {
                string("setbit")
            }
            Cmd::Expire | Cmd::PExpire | Cmd::ExpireAt | Cmd::PExpireAt
                if reply.starts_with(b":1") =>
            {
                let event = if keys.exists(key) { "expire" } else { "del" };
                publish(here, GENERIC, event, key);
            }
            Cmd::Persist if reply.starts_with(b":1") => publish(here, GENERIC, "persist", key),
            Cmd::Del | Cmd::Unlink => {
                for (i, &existed) in self.existed.iter().enumerate() {
                    if existed {
                        publish(here, GENERIC, "del", args.at(1 + i));
                    }
                }
            }
            Cmd::MSet => self.each_set(here, args, keys),
            Cmd::MSetNx if reply.starts_with(b":1") => self.each_set(here, args, keys),
            // A key renamed to itself: no event, as in Redis.
            Cmd::Rename | Cmd::RenameNx if !reply.starts_with(b":0") && key != args.at(2) => {
                publish(here, GENERIC, "rename_from", key);
                new(args.at(2), self.existed.get(1).copied().unwrap_or(false));
                publish(here, GENERIC, "rename_to", args.at(2));
            }
            // RESTORE: the key made, or, restored already expired with
            // REPLACE, the key it held removed.
            Cmd::RestorePayload if reply.starts_with(b"+OK") => {
                if keys.exists(key) {
                    new(key, existed);
                    publish(here, GENERIC, "restore", key);
                } else if existed {
                    publish(here, GENERIC, "del", key);
                }
            }
            Cmd::Copy if reply.starts_with(b":1") => {
                new(args.at(2), self.existed.get(1).copied().unwrap_or(false));
                publish(here, GENERIC, "copy_to", args.at(2));
            }
            cmd => notify_typed::after(here, cmd, args, keys, reply, existed),
        }
    }

    fn each_set(&self, here: &RespShard, args: &Command<'_>, keys: &ShardKeys<'_>) {
        for (i, &existed) in self.existed.iter().enumerate() {
            let key = args.at(1 + 2 * i);
            if !existed && keys.exists(key) {
                publish(here, NEW, "new", key);
            }
            publish(here, STRING, "set", key);
        }
    }
}

/// Whether one of BITFIELD's SET or INCRBY operations ran (its reply is a
/// number, not the nil of an `OVERFLOW FAIL`): Redis publishes nothing when
/// none did, even where the string grew.
fn bitfield_wrote(args: &Command<'_>, reply: &[u8]) -> bool {
    let Ok(Some((Value::Array(Some(answers)), _))) = parse_reply(reply) else {
        return false;
    };
    let mut answers = answers.iter();
    let mut i = 2;
    while i < args.len() {
        let op = args.at(i);
        if op.eq_ignore_ascii_case(b"overflow") {
            i += 2;
        } else if op.eq_ignore_ascii_case(b"get") {
            answers.next();
            i += 3;
        } else {
            // SET or INCRBY: the command ran, so its syntax was checked.
            if matches!(answers.next(), Some(Value::Int(_))) {
                return true;
            }
            i += 4;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_read_and_write_as_redis_does() {
        let cases: [(&[u8], &str); 6] = [
            (b"KA", "AK"),
            (b"EA", "AE"),
            (b"gKE", "gKE"),
            (b"$lshzxeKE", "$lshzxeKE"),
            (b"Ex", "xE"),
            (b"", ""),
        ];
        for (given, shown) in cases {
            let flags = parse_flags(given).expect("valid");
            assert_eq!(
                format_flags(flags),
                shown,
                "{}",
                String::from_utf8_lossy(given)
            );
        }
        assert_eq!(parse_flags(b"KQ"), None);
        assert_eq!(format_flags(parse_flags(b"AKEmn").unwrap_or(0)), "AKEm");
    }
}
