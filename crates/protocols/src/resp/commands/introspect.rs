//! COMMAND (docs/PROTOCOLS.md §6.2): what each served command is, as redis 7.0 describes
//! it, from the generated table (`command_table`). Cluster clients route by
//! its key positions.

use super::super::command_table as table;
use super::super::protocol::write::{self, Proto};
use super::super::protocol::Command;

/// `COMMAND [COUNT | INFO name... | DOCS name... | LIST]`.
pub fn command(args: &Command<'_>, proto: Proto, out: &mut Vec<u8>) {
    let resp3 = proto == Proto::Resp3;
    if args.len() == 1 {
        table::write_all_commands(resp3, out);
        return;
    }
    let names: Vec<&[u8]> = (2..args.len()).map(|i| args.at(i)).collect();
    let sub = args.at(1).to_ascii_lowercase();
    match (sub.as_slice(), args.len()) {
        (b"count", 2) => table::write_command_count(out),
        (b"list", 2) => table::write_command_list(out),
        (b"list", _) => list_filtered(args, out),
        (b"info", _) => table::write_command_info_reply(&names, resp3, out),
        (b"docs", _) => table::write_command_docs(&names, resp3, out),
        (b"getkeys", n) if n >= 4 => super::getkeys::get_keys(args, false, proto, out),
        (b"getkeysandflags", n) if n >= 4 => super::getkeys::get_keys(args, true, proto, out),
        (b"count" | b"getkeys" | b"getkeysandflags", _) => {
            let name = format!("command|{}", String::from_utf8_lossy(&sub));
            super::connection::wrong_arity(out, &name);
        }
        _ => {
            let shown = String::from_utf8_lossy(args.at(1));
            write::error(
                out,
                &format!("ERR unknown subcommand '{shown}'. Try COMMAND HELP."),
            );
        }
    }
}

/// `COMMAND LIST FILTERBY MODULE name | ACLCAT category | PATTERN glob`:
/// the names (subcommands as `parent|sub`) that pass, as redis 7.0 filters
/// them (a pattern matched in any case; percore has no modules).
fn list_filtered(args: &Command<'_>, out: &mut Vec<u8>) {
    if args.len() != 5 || !args.at(2).eq_ignore_ascii_case(b"filterby") {
        return write::error(out, super::strings::SYNTAX);
    }
    let (kind, arg) = (args.at(3), args.at(4));
    let pattern = arg.to_ascii_lowercase();
    let keep: Box<dyn Fn(&table::CommandEntry) -> bool> = if kind.eq_ignore_ascii_case(b"module") {
        Box::new(|_| false)
    } else if kind.eq_ignore_ascii_case(b"aclcat") {
        Box::new(|entry| {
            entry.acl_categories.iter().any(|cat| {
                cat.strip_prefix('@')
                    .is_some_and(|cat| cat.as_bytes().eq_ignore_ascii_case(arg))
            })
        })
    } else if kind.eq_ignore_ascii_case(b"pattern") {
        Box::new(|entry| super::glob::matches(&pattern, entry.name.as_bytes()))
    } else {
        return write::error(out, super::strings::SYNTAX);
    };
    let names: Vec<&str> = table::COMMANDS
        .iter()
        .flat_map(|entry| std::iter::once(entry).chain(entry.subcommands))
        .filter(|entry| keep(entry))
        .map(|entry| entry.name)
        .collect();
    write::array_len(out, names.len());
    for name in names {
        write::bulk(out, name.as_bytes());
    }
}
