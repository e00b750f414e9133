//! The server commands (docs/PROTOCOLS.md §6.2): TIME, CONFIG (`config.rs`), LASTSAVE,
//! scripting and WAIT (`scripting.rs`), and CLUSTER/READONLY/READWRITE (refused outside cluster mode;
//! in it, answered by `cluster/`), run on the connection's shard. INFO is
//! `info.rs`; SAVE and BGSAVE run on every shard's key space.

use std::time::{SystemTime, UNIX_EPOCH};

use super::super::protocol::write::{self, Proto};
use super::super::protocol::Command;
use super::super::RespConfig;
use super::Cmd;
use percore_keyspace::KeySpace;

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
pub fn run(
    cmd: Cmd,
    args: &Command<'_>,
    config: &RespConfig,
    keys: &KeySpace,
    proto: Proto,
    out: &mut Vec<u8>,
) {
    match cmd {
        Cmd::Time => {
            let micros = unix_micros();
            write::array_len(out, 2);
            write::bulk(out, (micros / 1_000_000).to_string().as_bytes());
            write::bulk(out, (micros % 1_000_000).to_string().as_bytes());
        }
        Cmd::LastSave => write::int(out, keys.last_save().max(config.started_unix) as i64),
        Cmd::Cluster | Cmd::ReadOnly | Cmd::ReadWrite => match &config.cluster {
            Some(cluster) => crate::resp::cluster::run(cluster, cmd, args, proto, out),
            None => write::error(out, "ERR This instance has cluster support disabled"),
        },
        Cmd::Config => super::config::run(args, config, proto, out),
        Cmd::Function
        | Cmd::Script
        | Cmd::Eval
        | Cmd::EvalSha
        | Cmd::EvalRo
        | Cmd::EvalShaRo
        | Cmd::FCall
        | Cmd::FCallRo
        | Cmd::Wait => super::scripting::run(cmd, args, out),
        _ => write::error(out, "ERR internal: not a server command"),
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
