//! DUMP and RESTORE (README "DUMP and RESTORE"): a key's value as Redis's
//! DUMP payload (`resp/rdb/`), and a payload stored under a key, with
//! Redis 7.0's options and replies. IDLETIME and FREQ are checked and then
//! dropped: percore keeps no access times or counts per key (README "What
//! differs from Redis", OBJECT IDLETIME).

use super::super::protocol::write::{self, Proto};
use super::super::protocol::Command;
use super::super::rdb::{read_payload, write_payload};
use super::strings::{parse_i64, refusal, NOT_INTEGER, SYNTAX};
use percore_keyspace::write::ShardKeys;

/// `DUMP key`: the payload, or null for a key that is not there.
pub fn dump(command: &Command<'_>, keys: &ShardKeys<'_>, proto: Proto, out: &mut Vec<u8>) {
    match keys.value(command.at(1)) {
        None => write::null(out, proto),
        Some(value) => {
            let mut payload = Vec::new();
            write_payload(value, &mut payload);
            write::bulk(out, &payload);
        }
    }
}

/// `RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f]`,
/// checked in Redis's order: the options, the key's absence, the TTL, the
/// payload.
pub fn restore(command: &Command<'_>, keys: &mut ShardKeys<'_>, out: &mut Vec<u8>) {
    let (mut replace, mut absolute) = (false, false);
    let (mut idle_time, mut freq) = (false, false);
    let mut i = 4;
    while i < command.len() {
        let option = command.at(i);
        let has_value = i + 1 < command.len();
        if option.eq_ignore_ascii_case(b"replace") {
            replace = true;
        } else if option.eq_ignore_ascii_case(b"absttl") {
            absolute = true;
        } else if option.eq_ignore_ascii_case(b"idletime") && has_value && !freq {
            match parse_i64(command.at(i + 1)) {
                None => return write::error(out, NOT_INTEGER),
                Some(seconds) if seconds < 0 => {
                    return write::error(out, "ERR Invalid IDLETIME value, must be >= 0")
                }
                Some(_) => idle_time = true,
            }
            i += 1;
        } else if option.eq_ignore_ascii_case(b"freq") && has_value && !idle_time {
            match parse_i64(command.at(i + 1)) {
                None => return write::error(out, NOT_INTEGER),
                Some(0..=255) => freq = true,
                Some(_) => {
                    return write::error(out, "ERR Invalid FREQ value, must be >= 0 and <= 255")
                }
            }
            i += 1;
        } else {
            return write::error(out, SYNTAX);
        }
        i += 1;
    }
    let key = command.at(1);
    if !replace && keys.exists(key) {
        return write::error(out, "BUSYKEY Target key name already exists.");
    }
    let ttl = match parse_i64(command.at(2)) {
        None => return write::error(out, NOT_INTEGER),
        Some(ttl) if ttl < 0 => return write::error(out, "ERR Invalid TTL value, must be >= 0"),
        Some(ttl) => ttl as u64,
    };
    let value = match read_payload(command.at(3)) {
        Ok(value) => value,
        Err(error) => return write::error(out, &format!("ERR {error}")),
    };
    let at = match ttl {
        0 => None,
        ttl if absolute => Some(ttl),
        ttl => Some(keys.now.saturating_add(ttl)),
    };
    let stored = match at {
        // Already expired: nothing is stored, and REPLACE still removes
        // what the key held, as in Redis.
        Some(at) if at <= keys.now => match replace {
            true => keys.del(key).map(|_| ()),
            false => Ok(()),
        },
        at => keys.put_value(key, value, at),
    };
    match stored {
        Ok(()) => write::ok(out),
        Err(refused) => refusal(out, &refused),
    }
}
