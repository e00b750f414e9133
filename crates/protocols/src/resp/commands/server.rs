//! The server commands (docs/PROTOCOLS.md §6.2): TIME, CONFIG (`config.rs`), LASTSAVE,
//! FUNCTION, and CLUSTER/READONLY/READWRITE (refused outside cluster mode;
//! in it, answered by `cluster/`), run on the connection's shard. INFO is
//! `info.rs`; SAVE and BGSAVE run on every shard's key space.

use std::time::{SystemTime, UNIX_EPOCH};

use super::super::protocol::write::{self, Proto};
use super::super::protocol::Command;
use super::super::RespConfig;
use super::Cmd;

/// The Redis version percore answers as (HELLO, INFO): the one whose
/// behaviour it follows (docs/PROTOCOLS.md §6).
pub const REDIS_VERSION: &str = "7.0.15";

/// What INFO and HELLO call the server's mode (docs/PROTOCOLS.md §6.1, §6.4).
pub fn mode(config: &RespConfig) -> &'static str {
    if config.cluster.is_some() {
        "cluster"
    } else {
        "standalone"
    }
}

pub(super) fn unix_micros() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros())
}

/// Runs TIME, CONFIG GET, LASTSAVE (this shard's last snapshot, or the
/// server's start), CLUSTER, READONLY and READWRITE (CONFIG SET maxmemory is
/// applied by the service on every shard; SAVE and BGSAVE run on every
/// shard's key space).
pub fn run(cmd: Cmd, args: &Command<'_>, config: &RespConfig, proto: Proto, out: &mut Vec<u8>) {
    match cmd {
        Cmd::Time => {
            let micros = unix_micros();
            write::array_len(out, 2);
            write::bulk(out, (micros / 1_000_000).to_string().as_bytes());
            write::bulk(out, (micros % 1_000_000).to_string().as_bytes());
        }
        Cmd::LastSave => {
            let saved = percore_keyspace::KeySpace::here().map_or(0, |keys| keys.last_save());
            write::int(out, saved.max(config.started_unix) as i64)
        }
        Cmd::Cluster | Cmd::ReadOnly | Cmd::ReadWrite => match &config.cluster {
            Some(cluster) => crate::resp::cluster::run(cluster, cmd, args, proto, out),
            None => write::error(out, "ERR This instance has cluster support disabled"),
        },
        Cmd::Config => super::config::run(args, config, proto, out),
        Cmd::Function => function(args, out),
        _ => write::error(out, "ERR internal: not a server command"),
    }
}

/// `FUNCTION FLUSH` and `FUNCTION LIST`, answered as a redis with no
/// functions loaded (percore runs no scripts: docs/PROTOCOLS.md §6.2); every other
/// subcommand is refused with an error that says so.
fn function(args: &Command<'_>, out: &mut Vec<u8>) {
    let sub = args.at(1);
    if sub.eq_ignore_ascii_case(b"flush") {
        let mode_ok = args.len() == 2
            || (args.len() == 3
                && (args.at(2).eq_ignore_ascii_case(b"async")
                    || args.at(2).eq_ignore_ascii_case(b"sync")));
        if mode_ok {
            write::ok(out);
        } else {
            write::error(out, "ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
        }
    } else if sub.eq_ignore_ascii_case(b"list") {
        write::array_len(out, 0);
    } else {
        let shown = String::from_utf8_lossy(sub);
        write::error(
            out,
            &format!("ERR FUNCTION {shown} is not served: percore runs no scripts"),
        );
    }
}

/// `CONFIG SET maxmemory <bytes>`'s value, with Redis's units (`100mb`,
/// `1gb`, `512k`...).
pub fn parse_memory(arg: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(arg).ok()?.to_ascii_lowercase();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits.parse().ok()?;
    let multiplier = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    n.checked_mul(multiplier)
}
