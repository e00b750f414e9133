//! COMMAND (SPEC 6.2): what each served command is, as redis 7.0 describes
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
        (b"info", _) => table::write_command_info_reply(&names, resp3, out),
        (b"docs", _) => table::write_command_docs(&names, resp3, out),
        (b"count" | b"list", _) => {
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
