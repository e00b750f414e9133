//! Scripting and WAIT (issue 26): percore runs no scripts and has no
//! replicas (README "What differs from Redis"), yet tools and test suites
//! send these commands, so each is in the command table (COMMAND INFO and
//! GETKEYS know them) and answered here on the connection's shard:
//!
//! - as a redis with no scripts, functions or replicas, where that answer
//!   is true: `FUNCTION FLUSH`/`LIST`/`DELETE`/`KILL`, `SCRIPT
//!   FLUSH`/`EXISTS`/`KILL`, and `WAIT` (`:0` at once: no replica to wait
//!   for);
//! - refused with an error that says scripting is not served where running
//!   or storing a script is asked: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, FCALL,
//!   FCALL_RO, `SCRIPT LOAD`, `FUNCTION LOAD`/`RESTORE`/`DUMP`/`STATS`.

use super::super::command_table;
use super::super::protocol::write;
use super::super::protocol::Command;
use super::{help, strings, Cmd};

/// The end of every refusal: why, and where it is written down.
const NOT_SERVED: &str = "is not served: percore runs no scripts (README: What differs from Redis)";

/// Redis's answer to a KILL when no script runs (here: never one).
const NOTBUSY: &str = "NOTBUSY No scripts in execution right now.";

/// Runs one of the commands of this file.
pub fn run(cmd: Cmd, args: &Command<'_>, out: &mut Vec<u8>) {
    match cmd {
        Cmd::Function => function(args, out),
        Cmd::Script => script(args, out),
        Cmd::Wait => wait(args, out),
        _ => {
            let name = String::from_utf8_lossy(args.at(0)).to_ascii_uppercase();
            write::error(out, &format!("ERR {name} {NOT_SERVED}"));
        }
    }
}

/// `WAIT numreplicas timeout`: the replicas that acknowledged the writes
/// before it, always none. Redis with no replica waits out the timeout when
/// asked for one or more; percore answers at once (README).
fn wait(args: &Command<'_>, out: &mut Vec<u8>) {
    if strings::parse_i64(args.at(1)).is_none() {
        return write::error(out, "ERR value is not an integer or out of range");
    }
    match strings::parse_i64(args.at(2)) {
        None => write::error(out, "ERR timeout is not an integer or out of range"),
        Some(timeout) if timeout < 0 => write::error(out, "ERR timeout is negative"),
        Some(_) => write::int(out, 0),
    }
}

/// The subcommand of `args` (a container's), checked as redis checks it
/// before running it: an unknown one, or a wrong count of arguments, is
/// answered here and gives None.
fn subcommand(args: &Command<'_>, out: &mut Vec<u8>) -> Option<&'static str> {
    let parent = command_table::lookup(args.at(0))?;
    let Some(sub) = command_table::lookup_subcommand(parent, args.at(1)) else {
        let shown = String::from_utf8_lossy(args.at(1));
        let name = parent.name.to_ascii_uppercase();
        write::error(
            out,
            &format!("ERR unknown subcommand '{shown}'. Try {name} HELP."),
        );
        return None;
    };
    if !command_table::arity_ok(sub, args.len()) {
        write::error(
            out,
            &format!("ERR wrong number of arguments for '{}' command", sub.name),
        );
        return None;
    }
    sub.name.split_once('|').map(|(_, sub)| sub)
}

/// A FLUSH's optional mode, as redis reads it.
fn flush_mode_ok(args: &Command<'_>) -> bool {
    args.len() == 2
        || (args.len() == 3
            && (args.at(2).eq_ignore_ascii_case(b"async")
                || args.at(2).eq_ignore_ascii_case(b"sync")))
}

/// FUNCTION, as a redis with no library loaded.
fn function(args: &Command<'_>, out: &mut Vec<u8>) {
    let Some(sub) = subcommand(args, out) else {
        return;
    };
    match sub {
        "flush" if flush_mode_ok(args) => write::ok(out),
        "flush" => write::error(out, "ERR FUNCTION FLUSH only supports SYNC|ASYNC option"),
        "list" => write::array_len(out, 0),
        "delete" => write::error(out, "ERR Library not found"),
        "kill" => write::error(out, NOTBUSY),
        "help" => help::write_help(out, args.at(0), FUNCTION_HELP),
        _ => {
            let shown = sub.to_ascii_uppercase();
            write::error(out, &format!("ERR FUNCTION {shown} {NOT_SERVED}"));
        }
    }
}

/// SCRIPT, as a redis with an empty script cache.
fn script(args: &Command<'_>, out: &mut Vec<u8>) {
    let Some(sub) = subcommand(args, out) else {
        return;
    };
    match sub {
        "flush" if flush_mode_ok(args) => write::ok(out),
        "flush" => write::error(out, "ERR SCRIPT FLUSH only support SYNC|ASYNC option"),
        "exists" => {
            write::array_len(out, args.len() - 2);
            for _ in 2..args.len() {
                write::int(out, 0);
            }
        }
        "kill" => write::error(out, NOTBUSY),
        "help" => help::write_help(out, args.at(0), SCRIPT_HELP),
        _ => {
            let shown = sub.to_ascii_uppercase();
            write::error(out, &format!("ERR SCRIPT {shown} {NOT_SERVED}"));
        }
    }
}

/// FUNCTION HELP's lines for the subcommands answered (redis 7.0's words).
const FUNCTION_HELP: &[&str] = &[
    "LIST [LIBRARYNAME <pattern>] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "DELETE <LIBRARY NAME>",
    "    Delete a library and all its functions.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
];

/// SCRIPT HELP's lines for the subcommands answered (redis 7.0's words).
const SCRIPT_HELP: &[&str] = &[
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
];
