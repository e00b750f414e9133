//! MONITOR (issue 26): every command any shard serves, streamed to every
//! monitoring connection in Redis's format
//! (`+1339518083.107412 [0 127.0.0.1:60866] "get" "foo"`).
//!
//! A monitor is a subscriber of one internal channel ([`CHANNEL`]) whose
//! subscriptions every shard knows (as the keyspace notification channels,
//! `mq/routing.rs`), in a format of its own that writes the line as it is.
//! The connection's shard publishes each command it accepts through its
//! broker, which fans it out to the shards with monitors; while no monitor
//! exists, a command pays one look at a counter.

use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use super::command_table;
use super::commands::{Cmd, Spec};
use super::protocol::Command;

/// The internal channel monitors subscribe to.
pub use crate::mq::MONITOR_CHANNEL as CHANNEL;

/// Whether Redis shows `command` to monitors: not the commands (or, for a
/// container, the subcommands: `CLIENT KILL`, `CONFIG SET`) its table
/// flags `admin` or `skip_monitor`. Asked only while a monitor exists.
pub fn shown(spec: &Spec, command: &Command<'_>) -> bool {
    let Some(entry) = command_table::lookup(spec.name.as_bytes()) else {
        return true;
    };
    let entry = if entry.subcommands.is_empty() {
        entry
    } else {
        command_table::lookup_subcommand(entry, command.at(1)).unwrap_or(entry)
    };
    !entry
        .flags
        .iter()
        .any(|flag| *flag == "admin" || *flag == "skip_monitor")
}

/// The line monitors get for `command`, from `peer`, now.
pub fn line(cmd: Cmd, command: &Command<'_>, peer: Option<SocketAddr>, out: &mut Vec<u8>) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let peer = peer.map_or_else(String::new, |peer| peer.to_string());
    out.extend_from_slice(
        format!("+{}.{:06} [0 {peer}]", now.as_secs(), now.subsec_micros()).as_bytes(),
    );
    for i in 0..command.len() {
        out.push(b' ');
        if redacted(cmd, command, i) {
            out.extend_from_slice(b"\"(redacted)\"");
        } else {
            quoted(command.at(i), out);
        }
    }
    out.extend_from_slice(b"\r\n");
}

/// AUTH's arguments, HELLO's AUTH user and password, MIGRATE's AUTH and
/// AUTH2 credentials, and ACL SETUSER's user and rules are not shown.
fn redacted(cmd: Cmd, command: &Command<'_>, i: usize) -> bool {
    match cmd {
        Cmd::Auth => i >= 1,
        Cmd::Migrate => super::commands::migrate::redacted(command, i),
        // ACL SETUSER's rules hold passwords.
        Cmd::Acl => command.at(1).eq_ignore_ascii_case(b"setuser") && i >= 2,
        Cmd::Hello => (2..command.len()).any(|at| {
            command.at(at).eq_ignore_ascii_case(b"auth") && (at + 1..=at + 2).contains(&i)
        }),
        _ => false,
    }
}

/// Redis's `sdscatrepr`: a quoted string, escapes for what is not printable.
fn quoted(bytes: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in bytes {
        match b {
            b'\\' | b'"' => out.extend_from_slice(&[b'\\', b]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            7 => out.extend_from_slice(b"\\a"),
            8 => out.extend_from_slice(b"\\b"),
            b' '..=b'~' => out.push(b),
            _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_quoted_as_redis_does() {
        let mut out = Vec::new();
        quoted(b"a \"b\"\n\x01", &mut out);
        assert_eq!(out, b"\"a \\\"b\\\"\\n\\x01\"".to_vec());
    }
}
