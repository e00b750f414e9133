//! The string commands (docs/PROTOCOLS.md §6.2), run on the shard that owns the key, with
//! redis-server 7.0's replies and errors. Every value is a binary-safe
//! string; an integer is a string that parses as one, as in Redis.

use super::super::protocol::write::{self, Proto};
use super::expiry::expire_arg;
use super::string_options::Extended;
use super::Cmd;
use crate::resp::protocol::Command;
use crate::resp::RespShard;
use percore_keyspace::write::{Refused, ShardKeys, Ttl};

pub const SYNTAX: &str = "ERR syntax error";
pub const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
const OVERFLOW: &str = "ERR increment or decrement would overflow";
const TOO_LARGE: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
/// Redis's `proto-max-bulk-len`: the longest string APPEND and SETRANGE make.
const MAX_STRING: u64 = 512 * 1024 * 1024;

/// Runs one string command on the key's owner; its reply goes to `out`.
/// The registry's rows name it as their handler (`table.rs`), so it takes
/// what every handler takes, the shard included.
pub fn run(
    cmd: Cmd,
    args: &Command<'_>,
    keys: &mut ShardKeys<'_>,
    proto: Proto,
    _shard: &RespShard,
    out: &mut Vec<u8>,
) {
    let key = args.at(1);
    let done = match cmd {
        // A string's value; nil for none, and (MGET's part) for another
        // type: GET itself answers WRONGTYPE before it gets here (`types.rs`).
        Cmd::Get | Cmd::MGetPart => {
            match keys.get(key) {
                Some(val) => write::bulk(out, val),
                None => write::null(out, proto),
            }
            Ok(())
        }
        Cmd::Set => set(args, keys, proto, out),
        Cmd::SetNx => {
            let fresh = !keys.exists(key);
            if fresh {
                keys.set(key, args.at(2), Ttl::Clear)
                    .map(|()| write::int(out, 1))
            } else {
                write::int(out, 0);
                Ok(())
            }
        }
        Cmd::SetEx | Cmd::PSetEx => {
            let (unit, name) = if cmd == Cmd::SetEx {
                (1000, "setex")
            } else {
                (1, "psetex")
            };
            match expire_arg(args.at(2), unit, true, keys.now, name) {
                Err(message) => {
                    write::error(out, message.as_str());
                    Ok(())
                }
                Ok(at) => keys
                    .set(key, args.at(3), Ttl::At(at))
                    .map(|()| write::ok(out)),
            }
        }
        Cmd::GetDel => match keys.get(key) {
            None => {
                write::null(out, proto);
                Ok(())
            }
            Some(val) => {
                write::bulk(out, val);
                let written = out.len();
                keys.del(key)
                    .map(|_| ())
                    .inspect_err(|_| out.truncate(written))
            }
        },
        Cmd::GetEx => get_ex(args, keys, proto, out),
        Cmd::Incr => incr_by(key, 1, keys, out),
        Cmd::Decr => incr_by(key, -1, keys, out),
        Cmd::IncrBy | Cmd::DecrBy => match parse_i64(args.at(2)) {
            None => {
                write::error(out, NOT_INTEGER);
                Ok(())
            }
            Some(by) if cmd == Cmd::IncrBy => incr_by(key, by, keys, out),
            Some(i64::MIN) => {
                write::error(out, "ERR decrement would overflow");
                Ok(())
            }
            Some(by) => incr_by(key, -by, keys, out),
        },
        Cmd::Append => {
            let old = keys.get(key).unwrap_or_default();
            let addition = args.at(2);
            if (old.len() + addition.len()) as u64 > MAX_STRING {
                write::error(out, TOO_LARGE);
                Ok(())
            } else {
                let mut val = Vec::with_capacity(old.len() + addition.len());
                val.extend_from_slice(old);
                val.extend_from_slice(addition);
                keys.set(key, &val, Ttl::Keep)
                    .map(|()| write::int(out, val.len() as i64))
            }
        }
        Cmd::StrLen => {
            write::int(out, keys.get(key).map_or(0, <[u8]>::len) as i64);
            Ok(())
        }
        Cmd::GetRange => {
            get_range(args, keys, out);
            Ok(())
        }
        Cmd::SetRange => set_range(args, keys, out),
        Cmd::Type => {
            let kind = keys.kind(key).map_or("none", |kind| kind.name());
            write::simple(out, kind.as_bytes());
            Ok(())
        }
        Cmd::Del | Cmd::Unlink => {
            let mut removed = 0;
            let mut done = Ok(());
            for i in 1..args.len() {
                match keys.del(args.at(i)) {
                    Ok(gone) => removed += i64::from(gone),
                    Err(refused) => {
                        done = Err(refused);
                        break;
                    }
                }
            }
            done.map(|()| write::int(out, removed))
        }
        Cmd::MGet => {
            write::array_len(out, args.len() - 1);
            for i in 1..args.len() {
                match keys.get(args.at(i)) {
                    Some(val) => write::bulk(out, val),
                    None => write::null(out, proto),
                }
            }
            Ok(())
        }
        Cmd::MSet => set_pairs(args, keys).map(|()| write::ok(out)),
        Cmd::MSetNx => {
            // Every key on this shard: checked and set with nothing between.
            if (1..args.len()).step_by(2).any(|i| keys.exists(args.at(i))) {
                write::int(out, 0);
                Ok(())
            } else {
                set_pairs(args, keys).map(|()| write::int(out, 1))
            }
        }
        // TOUCH counts the keys that exist, as EXISTS (percore keeps no
        // access times to update).
        Cmd::Exists | Cmd::Touch => {
            let found = (1..args.len()).filter(|&i| keys.exists(args.at(i))).count();
            write::int(out, found as i64);
            Ok(())
        }
        _ => {
            write::error(out, "ERR internal: not a string command");
            Ok(())
        }
    };
    if let Err(refused) = done {
        refusal(out, &refused);
    }
}

/// MSET's and MSETNX's `key value` pairs, set in order.
/// MSET's (or MSETNX's) pairs on this shard: all of them or, refused,
/// none.
fn set_pairs(args: &Command<'_>, keys: &mut ShardKeys<'_>) -> Result<(), Refused> {
    keys.set_all(
        (1..args.len())
            .step_by(2)
            .map(|i| (args.at(i), args.at(i + 1))),
    )
}

/// The reply to a refused write.
pub fn refusal(out: &mut Vec<u8>, refused: &Refused) {
    match refused {
        Refused::OutOfMemory => write::error(
            out,
            "OOM command not allowed when used memory > 'maxmemory'.",
        ),
        Refused::Disk(reason) => write::error(out, &format!("MISCONF disk: {reason}")),
    }
}

/// `SET key value [NX|XX] [GET] [EX s|PX ms|EXAT t|PXAT t|KEEPTTL]`, its
/// options read as redis 7.0's `parseExtendedStringArgumentsOrReply` does.
fn set(
    args: &Command<'_>,
    keys: &mut ShardKeys<'_>,
    proto: Proto,
    out: &mut Vec<u8>,
) -> Result<(), Refused> {
    let (nx, xx, get, ttl) = match Extended::read(args, 3, true, keys.now, "set") {
        Err(message) => {
            write::error(out, &message);
            return Ok(());
        }
        Ok(options) => {
            let ttl = match options.at {
                Some(at) => Ttl::At(at),
                None if options.keep_ttl => Ttl::Keep,
                None => Ttl::Clear,
            };
            (options.nx, options.xx, options.get, ttl)
        }
    };
    let key = args.at(1);
    let found = keys.exists(key);
    let written = out.len();
    if get {
        match keys.get(key) {
            Some(old) => write::bulk(out, old),
            None => write::null(out, proto),
        }
    }
    if (nx && found) || (xx && !found) {
        if !get {
            write::null(out, proto);
        }
        return Ok(());
    }
    match keys.set(key, args.at(2), ttl) {
        Ok(()) => {
            if !get {
                write::ok(out);
            }
            Ok(())
        }
        Err(refused) => {
            out.truncate(written);
            Err(refused)
        }
    }
}

/// `GETEX key [EX s|PX ms|EXAT t|PXAT t|PERSIST]`.
fn get_ex(
    args: &Command<'_>,
    keys: &mut ShardKeys<'_>,
    proto: Proto,
    out: &mut Vec<u8>,
) -> Result<(), Refused> {
    let (persist, at) = match Extended::read(args, 2, false, keys.now, "getex") {
        Err(message) => {
            write::error(out, &message);
            return Ok(());
        }
        Ok(options) => (options.persist, options.at),
    };
    let key = args.at(1);
    let Some(val) = keys.get(key) else {
        write::null(out, proto);
        return Ok(());
    };
    let written = out.len();
    write::bulk(out, val);
    let changed = match at {
        Some(at) => keys.expire_at(key, at).map(|_| ()),
        None if persist => keys.persist(key).map(|_| ()),
        None => Ok(()),
    };
    changed.inspect_err(|_| out.truncate(written))
}

fn incr_by(
    key: &[u8],
    by: i64,
    keys: &mut ShardKeys<'_>,
    out: &mut Vec<u8>,
) -> Result<(), Refused> {
    let old = match keys.get(key) {
        None => 0,
        Some(val) => match parse_i64(val) {
            Some(n) => n,
            None => {
                write::error(out, NOT_INTEGER);
                return Ok(());
            }
        },
    };
    let Some(new) = old.checked_add(by) else {
        write::error(out, OVERFLOW);
        return Ok(());
    };
    let mut digits = Vec::with_capacity(20);
    write::push_decimal(&mut digits, new);
    keys.set(key, &digits, Ttl::Keep)
        .map(|()| write::int(out, new))
}

/// `GETRANGE key start end`, with redis 7.0's clamping of negative and
/// out-of-range indices.
fn get_range(args: &Command<'_>, keys: &ShardKeys<'_>, out: &mut Vec<u8>) {
    let (Some(mut start), Some(mut end)) = (parse_i64(args.at(2)), parse_i64(args.at(3))) else {
        write::error(out, NOT_INTEGER);
        return;
    };
    let val = keys.get(args.at(1)).unwrap_or_default();
    let len = val.len() as i64;
    if start < 0 && end < 0 && start > end {
        write::bulk(out, b"");
        return;
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        write::bulk(out, b"");
    } else {
        write::bulk(out, &val[start as usize..=end as usize]);
    }
}

/// `SETRANGE key offset value`: zero bytes pad up to the offset.
fn set_range(
    args: &Command<'_>,
    keys: &mut ShardKeys<'_>,
    out: &mut Vec<u8>,
) -> Result<(), Refused> {
    let Some(offset) = parse_i64(args.at(2)) else {
        write::error(out, NOT_INTEGER);
        return Ok(());
    };
    if offset < 0 {
        write::error(out, "ERR offset is out of range");
        return Ok(());
    }
    let (key, patch) = (args.at(1), args.at(3));
    let old = keys.get(key);
    if patch.is_empty() {
        write::int(out, old.map_or(0, <[u8]>::len) as i64);
        return Ok(());
    }
    if offset as u64 + patch.len() as u64 > MAX_STRING {
        write::error(out, TOO_LARGE);
        return Ok(());
    }
    let offset = offset as usize;
    let mut val = old.unwrap_or_default().to_vec();
    if val.len() < offset + patch.len() {
        val.resize(offset + patch.len(), 0);
    }
    val[offset..offset + patch.len()].copy_from_slice(patch);
    keys.set(key, &val, Ttl::Keep)
        .map(|()| write::int(out, val.len() as i64))
}

/// A signed 64-bit integer as Redis's `string2ll` reads one: an optional
/// `-`, then digits, no leading zero, no spaces, no `+` (the protocol's own
/// reading of counts and lengths, used for every numeric argument too).
pub fn parse_i64(bytes: &[u8]) -> Option<i64> {
    crate::resp::protocol::string2ll(bytes)
}

#[cfg(test)]
mod tests {
    use super::parse_i64;

    #[test]
    fn integers_parse_as_string2ll() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-12"), Some(-12));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"01",
            b"-0",
            b"+1",
            b" 1",
            b"1 ",
            b"9223372036854775808",
            b"1.5",
            b"abc",
        ] {
            assert_eq!(parse_i64(bad), None, "{bad:?}");
        }
    }
}
