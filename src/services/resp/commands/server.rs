//! The server commands (docs/PROTOCOLS.md §6.2): INFO, TIME, CONFIG, LASTSAVE, SAVE,
//! BGSAVE, and CLUSTER/READONLY/READWRITE (refused outside cluster mode;
//! in it, answered by `cluster/`). INFO's
//! figures over every shard are gathered by the service first
//! ([`ServerFigures`]); the rest runs on the connection's shard.

use std::time::{SystemTime, UNIX_EPOCH};

use super::super::protocol::write::{self, Proto};
use super::super::protocol::Command;
use super::super::RespConfig;
use super::glob;
use super::Cmd;

/// The Redis version percore answers as (HELLO, INFO): the one whose
/// behaviour it follows (docs/PROTOCOLS.md §6).
pub const REDIS_VERSION: &str = "7.0.15";

/// Figures summed over the shards for INFO.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerFigures {
    pub keys: u64,
    pub expires: u64,
    pub memory_bytes: u64,
    pub clients: u64,
    pub connections_received: u64,
    pub commands: u64,
    pub pubsub_channels: u64,
    pub pubsub_patterns: u64,
    pub pubsubshard_channels: u64,
    pub blocked_clients: u64,
}

impl ServerFigures {
    /// The figures as one shard sends them: an array of integers.
    pub fn write(&self, out: &mut Vec<u8>) {
        let all = self.as_array();
        write::array_len(out, all.len());
        for n in all {
            write::int(out, n as i64);
        }
    }

    fn as_array(&self) -> [u64; 10] {
        [
            self.keys,
            self.expires,
            self.memory_bytes,
            self.clients,
            self.connections_received,
            self.commands,
            self.pubsub_channels,
            self.pubsub_patterns,
            self.pubsubshard_channels,
            self.blocked_clients,
        ]
    }

    /// Adds one shard's figures, as [`ServerFigures::write`] wrote them.
    pub fn add(&mut self, numbers: &[i64]) {
        let mut all = self.as_array();
        for (sum, n) in all.iter_mut().zip(numbers) {
            *sum += (*n).max(0) as u64;
        }
        *self = ServerFigures {
            keys: all[0],
            expires: all[1],
            memory_bytes: all[2],
            clients: all[3],
            connections_received: all[4],
            commands: all[5],
            pubsub_channels: all[6],
            pubsub_patterns: all[7],
            pubsubshard_channels: all[8],
            blocked_clients: all[9],
        };
    }
}

const SECTIONS: [&str; 9] = [
    "server",
    "clients",
    "memory",
    "stats",
    "persistence",
    "replication",
    "cpu",
    "cluster",
    "keyspace",
];

/// `INFO [section ...]`: Redis's `field:value` text.
pub fn info(
    args: &Command<'_>,
    figures: &ServerFigures,
    config: &RespConfig,
    proto: Proto,
    out: &mut Vec<u8>,
) {
    let wanted = |section: &str| {
        args.len() == 1
            || (1..args.len()).any(|i| {
                let arg = args.at(i);
                arg.eq_ignore_ascii_case(section.as_bytes())
                    || arg.eq_ignore_ascii_case(b"all")
                    || arg.eq_ignore_ascii_case(b"everything")
                    || arg.eq_ignore_ascii_case(b"default")
            })
    };
    let mut text = String::new();
    for section in SECTIONS.into_iter().filter(|s| wanted(s)) {
        if !text.is_empty() {
            text.push_str("\r\n");
        }
        section_text(section, figures, config, &mut text);
    }
    write::verbatim(out, text.as_bytes(), proto);
}

fn section_text(section: &str, figures: &ServerFigures, config: &RespConfig, text: &mut String) {
    let title = match section {
        "cpu" => "CPU".to_string(),
        other => other[..1].to_ascii_uppercase() + &other[1..],
    };
    text.push_str(&format!("# {title}\r\n"));
    let mut field = |name: &str, value: &dyn std::fmt::Display| {
        text.push_str(name);
        text.push(':');
        text.push_str(&value.to_string());
        text.push_str("\r\n");
    };
    let uptime = config.started.elapsed().as_secs();
    match section {
        "server" => {
            field("redis_version", &REDIS_VERSION);
            field("redis_mode", &mode(config));
            field("os", &std::env::consts::OS);
            field("arch_bits", &64);
            field("multiplexing_api", &"io_uring");
            field("process_id", &std::process::id());
            field("tcp_port", &config.port);
            field("server_time_usec", &unix_micros());
            field("uptime_in_seconds", &uptime);
            field("uptime_in_days", &(uptime / 86_400));
            field("percore_version", &env!("CARGO_PKG_VERSION"));
            field("percore_shards", &config.shards);
        }
        "clients" => {
            field("connected_clients", &figures.clients);
            field("blocked_clients", &figures.blocked_clients);
            field("maxclients", &config.max_clients);
        }
        "memory" => {
            field("used_memory", &figures.memory_bytes);
            field("used_memory_human", &human(figures.memory_bytes));
            field("maxmemory", &config.max_memory());
            field("maxmemory_human", &human(config.max_memory()));
            field("maxmemory_policy", &"noeviction");
        }
        "stats" => {
            field("total_connections_received", &figures.connections_received);
            field("total_commands_processed", &figures.commands);
            field("rejected_connections", &0);
            field("pubsub_channels", &figures.pubsub_channels);
            field("pubsub_patterns", &figures.pubsub_patterns);
            field("pubsubshard_channels", &figures.pubsubshard_channels);
        }
        "persistence" => {
            field("loading", &0);
            field("rdb_bgsave_in_progress", &0);
            let saved =
                crate::services::keyspace::KeySpace::here().map_or(0, |keys| keys.last_save());
            field("rdb_last_save_time", &saved.max(config.started_unix));
            field("aof_enabled", &u8::from(config.data_dir));
            field("aof_rewrite_in_progress", &0);
        }
        "replication" => {
            field("role", &"master");
            field("connected_slaves", &0);
        }
        "cpu" => {
            let (user, system) = cpu_seconds();
            field("used_cpu_sys", &format_args!("{system:.6}"));
            field("used_cpu_user", &format_args!("{user:.6}"));
        }
        "cluster" => {
            field("cluster_enabled", &u8::from(config.cluster.is_some()));
        }
        _ => {
            if figures.keys > 0 {
                let line = format!(
                    "keys={},expires={},avg_ttl=0",
                    figures.keys, figures.expires
                );
                field("db0", &line);
            }
        }
    }
}

/// What INFO and HELLO call the server's mode (docs/PROTOCOLS.md §6.1, §6.4).
pub fn mode(config: &RespConfig) -> &'static str {
    if config.cluster.is_some() {
        "cluster"
    } else {
        "standalone"
    }
}

fn human(bytes: u64) -> String {
    const UNITS: [(&str, f64); 4] = [("G", 1e9), ("M", 1e6), ("K", 1e3), ("B", 1.0)];
    let as_f64 = bytes as f64;
    let (unit, size) = UNITS
        .into_iter()
        .map(|(u, _)| u)
        .zip([1024f64.powi(3), 1024f64.powi(2), 1024.0, 1.0])
        .find(|&(_, size)| as_f64 >= size)
        .unwrap_or(("B", 1.0));
    format!("{:.2}{unit}", as_f64 / size)
}

fn unix_micros() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros())
}

/// The process's user and system CPU time, in seconds.
fn cpu_seconds() -> (f64, f64) {
    // SAFETY: getrusage writes the struct we hand it and nothing else.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return (0.0, 0.0);
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (secs(usage.ru_utime), secs(usage.ru_stime))
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
            let saved =
                crate::services::keyspace::KeySpace::here().map_or(0, |keys| keys.last_save());
            write::int(out, saved.max(config.started_unix) as i64)
        }
        Cmd::Cluster | Cmd::ReadOnly | Cmd::ReadWrite => match &config.cluster {
            Some(cluster) => crate::services::resp::cluster::run(cluster, cmd, args, proto, out),
            None => write::error(out, "ERR This instance has cluster support disabled"),
        },
        Cmd::Config => config_get(args, config, proto, out),
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

/// `CONFIG GET pattern [pattern ...]`.
fn config_get(args: &Command<'_>, config: &RespConfig, proto: Proto, out: &mut Vec<u8>) {
    let sub = args.at(1);
    if !sub.eq_ignore_ascii_case(b"get") {
        let shown = String::from_utf8_lossy(sub);
        write::error(
            out,
            &format!("ERR unknown subcommand '{shown}'. Try CONFIG HELP."),
        );
        return;
    }
    if args.len() < 3 {
        write::error(
            out,
            "ERR wrong number of arguments for 'config|get' command",
        );
        return;
    }
    let data_dir = config.data_dir;
    let parameters: [(&str, String); 12] = [
        ("save", String::new()),
        ("appendonly", if data_dir { "yes" } else { "no" }.into()),
        ("appendfsync", config.fsync.clone()),
        ("maxmemory", config.max_memory().to_string()),
        ("maxmemory-policy", "noeviction".into()),
        ("databases", "1".into()),
        (
            "cluster-enabled",
            if config.cluster.is_some() {
                "yes"
            } else {
                "no"
            }
            .into(),
        ),
        ("port", config.port.to_string()),
        ("timeout", config.idle_timeout.to_string()),
        ("proto-max-bulk-len", config.max_frame.to_string()),
        ("maxclients", config.max_clients.to_string()),
        ("dir", config.dir.clone()),
    ];
    let found: Vec<&(&str, String)> = parameters
        .iter()
        .filter(|(name, _)| {
            (2..args.len())
                .any(|i| glob::matches(&args.at(i).to_ascii_lowercase(), name.as_bytes()))
        })
        .collect();
    write::map_len(out, found.len(), proto);
    for (name, value) in found {
        write::bulk(out, name.as_bytes());
        write::bulk(out, value.as_bytes());
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
