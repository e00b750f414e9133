//! What a transaction's owner runs (`transaction.rs` is the connection's
//! side): WATCH's reading of a key's state, and EXEC's check of the
//! watched keys then its queue, with no await in between, so that no other
//! command of the shard runs inside it.

use std::cell::RefCell;

use super::*;

/// The owner's side of WATCH: what `key` is now (a bulk string: `0` when
/// there is no live key, else `1`, its expiry and its value).
pub(super) fn watch_state(keys: &ShardKeys<'_>, key: &[u8], out: &mut Vec<u8>) {
    // Its writes' version first (`keyspace/touched.rs`): any write since
    // aborts EXEC, as in Redis, even one that left the value as it was.
    let version = format!("{}|", keys.version(key));
    match keys.value(key) {
        None => write::bulk(out, format!("{version}0").as_bytes()),
        Some(value) => {
            let expiry = keys.expiry(key).flatten().unwrap_or(0);
            let mut state = format!("{version}1{expiry}:").into_bytes();
            match value {
                crate::kv::values::ValueRef::Str(value) => state.extend_from_slice(value),
                // A hash, set, sorted set or list: its elements, as a
                // snapshot writes them (the same for the same value).
                value => {
                    state.push(b'#');
                    crate::kv::durable::ops::snapshot_records(key, value, None, &mut state)
                }
            }
            write::bulk(out, &state);
        }
    }
}

/// The owner's side of EXEC: `internal-exec n (key state)*n (cmd argc
/// args...)*`. Checks the watched keys, then runs every command, with no
/// await: atomic on this shard.
pub(super) fn run_exec(
    command: &Command<'_>,
    keys: &mut ShardKeys<'_>,
    proto: Proto,
    shard: &RespShard,
    out: &mut Vec<u8>,
) {
    thread_local! {
        // Where each queued command is held to run, reused: a scratch
        // buffer, set before each use, that holds no shared state.
        static ARGS: RefCell<protocol::Args> = RefCell::new(protocol::Args::unbounded());
    }
    let number = |i: usize| commands::strings::parse_i64(command.at(i)).unwrap_or(-1);
    let watched = number(1).max(0) as usize;
    let mut state = Vec::new();
    for w in 0..watched {
        state.clear();
        watch_state(keys, command.at(2 + 2 * w), &mut state);
        if state != command.at(3 + 2 * w) {
            write::null_array(out, proto);
            return;
        }
    }
    // First the count of commands, to write the array's length.
    let first = 2 + 2 * watched;
    let mut at = first;
    let mut count = 0;
    while at + 1 < command.len() {
        at += 2 + number(at + 1).max(0) as usize;
        count += 1;
    }
    write::array_len(out, count);
    let mut at = first;
    ARGS.with(|args| {
        let mut args = args.borrow_mut();
        let mut words: Vec<&[u8]> = Vec::new();
        while at + 1 < command.len() {
            let argc = number(at + 1).max(0) as usize;
            words.clear();
            words.extend((at + 2..(at + 2 + argc).min(command.len())).map(|i| command.at(i)));
            let cmd = u8::try_from(number(at))
                .ok()
                .and_then(commands::cmd_from_u8);
            if let Some(cmd) = cmd {
                shard.stats.call(cmd);
            }
            match cmd {
                Some(Cmd::Ping) if words.len() == 1 => write::simple(out, b"PONG"),
                Some(Cmd::Ping | Cmd::Echo) => {
                    write::bulk(out, words.get(1).copied().unwrap_or_default())
                }
                Some(cmd) if cmd != Cmd::TxExec => {
                    args.set_words(&words);
                    let command = args.view(&[]);
                    if cmd == Cmd::Object && !commands::object::over_key(&command) {
                        commands::object::without_key(&command, out);
                    } else {
                        execute::execute(cmd, &command, keys, proto, shard, out);
                    }
                }
                _ => write::error(out, "ERR internal: a queued command could not be read"),
            }
            at += 2 + argc;
        }
    });
}
