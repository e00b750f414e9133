//! Which commands read a key as a string: run on a hash, set, sorted set
//! or list, they answer WRONGTYPE before they run (issue 27), so the string
//! commands' own code reads strings only.

use super::{Cmd, Flags};
use crate::kv::values::Kind;
use crate::resp::protocol::Command;
use percore_keyspace::write::ShardKeys;

/// Whether `cmd` (as `args`) must answer WRONGTYPE: it reads or changes
/// its key as a string (its row's STRING flag) and the key holds another
/// type.
pub fn string_command_on_other_type(cmd: Cmd, args: &Command<'_>, keys: &ShardKeys<'_>) -> bool {
    // SET overwrites any type, unless it is asked for the old value (GET).
    let reads_string = match cmd {
        Cmd::Set => args.iter().skip(3).any(|a| a.eq_ignore_ascii_case(b"get")),
        _ => super::spec_of(cmd).flags.has(Flags::STRING),
    };
    reads_string && keys.wrong_type(args.at(1), Kind::String)
}
