//! Which commands read a key as a string: run on a hash, set, sorted set
//! or list, they answer WRONGTYPE before they run (issue 27), so the string
//! commands' own code reads strings only.

use super::Cmd;
use crate::services::keyspace::write::Keys;
use crate::services::kv::values::Kind;
use crate::services::resp::protocol::Command;

/// Whether `cmd` (as `args`) must answer WRONGTYPE: it reads or changes
/// its key as a string and the key holds another type. SET overwrites any
/// type, unless it is asked for the old value (GET).
pub fn string_command_on_other_type(cmd: Cmd, args: &Command<'_>, keys: &Keys<'_>) -> bool {
    let reads_string = match cmd {
        Cmd::Get
        | Cmd::GetDel
        | Cmd::GetEx
        | Cmd::Incr
        | Cmd::Decr
        | Cmd::IncrBy
        | Cmd::DecrBy
        | Cmd::IncrByFloat
        | Cmd::Append
        | Cmd::StrLen
        | Cmd::GetRange
        | Cmd::SetRange
        | Cmd::GetSet
        | Cmd::SetBit
        | Cmd::GetBit
        | Cmd::BitCount
        | Cmd::BitPos
        | Cmd::BitField
        | Cmd::BitFieldRo => true,
        Cmd::Set => args.iter().skip(3).any(|a| a.eq_ignore_ascii_case(b"get")),
        _ => false,
    };
    reads_string && keys.wrong_type(args.at(1), Kind::String)
}

/// Redis's encoding thresholds (`hash-max-listpack-entries`,
/// `set-max-intset-entries`, ...): CONFIG SET takes them and changes
/// nothing, percore keeping one encoding per type. `save` too (RDB
/// snapshot points: percore writes none; `--data-dir` is its persistence),
/// which Redis's test suite sets before its list tests.
pub fn is_encoding_parameter(name: &[u8]) -> bool {
    const NAMES: &[&str] = &[
        "save",
        "hash-max-ziplist-entries",
        "hash-max-ziplist-value",
        "hash-max-listpack-entries",
        "hash-max-listpack-value",
        "set-max-intset-entries",
        "set-max-listpack-entries",
        "set-max-listpack-value",
        "zset-max-ziplist-entries",
        "zset-max-ziplist-value",
        "zset-max-listpack-entries",
        "zset-max-listpack-value",
        "list-max-ziplist-size",
        "list-max-listpack-size",
        "list-compress-depth",
    ];
    NAMES
        .iter()
        .any(|n| name.eq_ignore_ascii_case(n.as_bytes()))
}
