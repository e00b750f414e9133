//! Which commands read a key as a string: run on a hash, set, sorted set
//! or list, they answer WRONGTYPE before they run (issue 27), so the string
//! commands' own code reads strings only.

use super::Cmd;
use crate::kv::values::Kind;
use crate::resp::protocol::Command;
use percore_keyspace::write::Keys;

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
