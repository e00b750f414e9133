//! Expiry (docs/PROTOCOLS.md §6.2): EXPIRE and its kin, TTL, PTTL, PERSIST, and the
//! expire options SET and GETEX share, read as redis-server 7.0 reads them.
//! Times are absolute Unix milliseconds once read; one already past removes
//! the key at once, as Redis does.

use super::super::protocol::write;
use super::strings::{parse_i64, refusal, NOT_INTEGER};
use super::Cmd;
use crate::resp::protocol::Command;
use percore_keyspace::write::ShardKeys;

/// Which expire option of SET or GETEX.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpireKind {
    Ex,
    Px,
    ExAt,
    PxAt,
}

/// An expire option and its still unread value.
#[derive(Clone, Copy, Debug)]
pub struct ExpireArg<'a> {
    pub kind: ExpireKind,
    pub value: &'a [u8],
}

impl ExpireArg<'_> {
    /// The option named `opt`, in any case.
    pub fn kind(opt: &[u8]) -> Option<ExpireKind> {
        [
            ("ex", ExpireKind::Ex),
            ("px", ExpireKind::Px),
            ("exat", ExpireKind::ExAt),
            ("pxat", ExpireKind::PxAt),
        ]
        .into_iter()
        .find(|(name, _)| opt.eq_ignore_ascii_case(name.as_bytes()))
        .map(|(_, kind)| kind)
    }

    /// The absolute time it names, or the error reply's text for `command`.
    pub fn resolve(&self, now: u64, command: &str) -> Result<u64, String> {
        let (unit, relative) = match self.kind {
            ExpireKind::Ex => (1000, true),
            ExpireKind::Px => (1, true),
            ExpireKind::ExAt => (1000, false),
            ExpireKind::PxAt => (1, false),
        };
        expire_arg(self.value, unit, relative, now, command)
    }
}

/// An expire value of SET, SETEX, GETEX (which must be positive), in `unit`
/// milliseconds, from now when `relative`.
pub fn expire_arg(
    value: &[u8],
    unit: i64,
    relative: bool,
    now: u64,
    command: &str,
) -> Result<u64, String> {
    let invalid = || format!("ERR invalid expire time in '{command}' command");
    let n = parse_i64(value).ok_or_else(|| NOT_INTEGER.to_string())?;
    if n <= 0 || n > i64::MAX / unit {
        return Err(invalid());
    }
    let mut at = n * unit;
    if relative {
        at = at.checked_add(now as i64).ok_or_else(invalid)?;
    }
    Ok(at as u64)
}

/// Runs one expiry command on the key's owner.
pub fn run(cmd: Cmd, args: &Command<'_>, keys: &mut ShardKeys<'_>, out: &mut Vec<u8>) {
    let key = args.at(1);
    match cmd {
        Cmd::Ttl | Cmd::PTtl => {
            let reply = match keys.expiry(key) {
                None => -2,
                Some(None) => -1,
                Some(Some(at)) => {
                    let left = at.saturating_sub(keys.now) as i64;
                    if cmd == Cmd::PTtl {
                        left
                    } else {
                        (left + 500) / 1000
                    }
                }
            };
            write::int(out, reply);
        }
        Cmd::ExpireTime | Cmd::PExpireTime => {
            // Redis's absolute time of expiry (seconds rounded down).
            let reply = match keys.expiry(key) {
                None => -2,
                Some(None) => -1,
                Some(Some(at)) if cmd == Cmd::PExpireTime => at as i64,
                Some(Some(at)) => (at / 1000) as i64,
            };
            write::int(out, reply);
        }
        Cmd::Persist => match keys.persist(key) {
            Ok(had) => write::int(out, i64::from(had)),
            Err(refused) => refusal(out, &refused),
        },
        _ => expire(cmd, args, keys, out),
    }
}

/// `EXPIRE key n [NX|XX|GT|LT]` and the P/AT variants.
fn expire(cmd: Cmd, args: &Command<'_>, keys: &mut ShardKeys<'_>, out: &mut Vec<u8>) {
    let (name, unit, relative) = match cmd {
        Cmd::Expire => ("expire", 1000, true),
        Cmd::PExpire => ("pexpire", 1, true),
        Cmd::ExpireAt => ("expireat", 1000, false),
        _ => ("pexpireat", 1, false),
    };
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for i in 3..args.len() {
        let opt = args.at(i);
        match opt.to_ascii_lowercase().as_slice() {
            b"nx" => nx = true,
            b"xx" => xx = true,
            b"gt" => gt = true,
            b"lt" => lt = true,
            _ => {
                let shown = String::from_utf8_lossy(opt);
                write::error(out, &format!("ERR Unsupported option {shown}"));
                return;
            }
        }
    }
    if nx && (xx || gt || lt) {
        write::error(
            out,
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        );
        return;
    }
    if gt && lt {
        write::error(
            out,
            "ERR GT and LT options at the same time are not compatible",
        );
        return;
    }
    let Some(n) = parse_i64(args.at(2)) else {
        write::error(out, NOT_INTEGER);
        return;
    };
    let invalid = format!("ERR invalid expire time in '{name}' command");
    let Some(mut when) = n.checked_mul(unit) else {
        write::error(out, &invalid);
        return;
    };
    if relative {
        match when.checked_add(keys.now as i64) {
            Some(at) => when = at,
            None => {
                write::error(out, &invalid);
                return;
            }
        }
    }
    let key = args.at(1);
    let Some(current) = keys.expiry(key) else {
        write::int(out, 0);
        return;
    };
    let current = current.map(|at| at as i64);
    let refused_by_flags = (nx && current.is_some())
        || (xx && current.is_none())
        || (gt && current.is_none_or(|at| when <= at))
        || (lt && current.is_some_and(|at| when >= at));
    if refused_by_flags {
        write::int(out, 0);
        return;
    }
    let done = if when <= keys.now as i64 {
        keys.del(key)
    } else {
        keys.expire_at(key, when as u64)
    };
    match done {
        Ok(_) => write::int(out, 1),
        Err(refused) => refusal(out, &refused),
    }
}
