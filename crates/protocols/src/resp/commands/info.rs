//! INFO (docs/PROTOCOLS.md §6.2, issue 26): Redis 7.0's sections in its `field:value`
//! text, from figures the service first gathers over every shard
//! ([`ServerFigures`], and the command statistics merged by
//! `command_stats`). Sections are chosen as Redis chooses them: none or
//! `default` gives the default ones, `all` and `everything` every one;
//! names are case-insensitive.

use std::sync::OnceLock;

use super::super::command_stats::Merged;
use super::super::protocol::write::{self, Proto};
use super::super::protocol::Command;
use super::super::RespConfig;
use super::server::{mode, unix_micros, REDIS_VERSION};

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
    /// Connections waiting in a blocking command (BLPOP, BZPOPMIN, ...).
    pub blocked_clients: u64,
    /// Writes since the last SAVE or BGSAVE (`keyspace/touched.rs`).
    pub changes: u64,
    /// When the connection's shard last finished a snapshot (Unix seconds,
    /// 0 if it has not): set there, not sent by the other shards.
    pub last_save: u64,
    /// CLIENT TRACKING (`tracking_table.rs`): clients tracking, keys in the
    /// default mode's tables, their readers, BCAST's prefixes.
    pub tracking_clients: u64,
    pub tracking_keys: u64,
    pub tracking_items: u64,
    pub tracking_prefixes: u64,
    /// Keys evicted by `maxmemory-policy` since the start or CONFIG
    /// RESETSTAT.
    pub evicted_keys: u64,
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

    fn as_array(&self) -> [u64; 16] {
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
            self.changes,
            self.tracking_clients,
            self.tracking_keys,
            self.tracking_items,
            self.tracking_prefixes,
            self.evicted_keys,
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
            changes: all[10],
            last_save: self.last_save,
            tracking_clients: all[11],
            tracking_keys: all[12],
            tracking_items: all[13],
            tracking_prefixes: all[14],
            evicted_keys: all[15],
        };
    }
}

/// Every section, in Redis's order, and whether `INFO` / `INFO default`
/// shows it.
const SECTIONS: [(&str, bool); 13] = [
    ("server", true),
    ("clients", true),
    ("memory", true),
    ("persistence", true),
    ("stats", true),
    ("replication", true),
    ("cpu", true),
    ("modules", true),
    ("commandstats", false),
    ("errorstats", true),
    ("latencystats", false),
    ("cluster", true),
    ("keyspace", true),
];

/// `INFO [section ...]`: Redis's `field:value` text.
pub fn info(
    args: &Command<'_>,
    figures: &ServerFigures,
    stats: &Merged,
    config: &RespConfig,
    proto: Proto,
    out: &mut Vec<u8>,
) {
    let asked = |word: &[u8]| (1..args.len()).any(|i| args.at(i).eq_ignore_ascii_case(word));
    let everything = asked(b"everything");
    let all = everything || asked(b"all");
    let default = args.len() == 1 || asked(b"default");
    let wanted = |(name, in_default): (&str, bool)| {
        asked(name.as_bytes()) || everything || all || (default && in_default)
    };
    let mut text = String::new();
    for (section, _) in SECTIONS.into_iter().filter(|s| wanted(*s)) {
        if !text.is_empty() {
            text.push_str("\r\n");
        }
        section_text(section, figures, stats, config, &mut text);
    }
    write::verbatim(out, text.as_bytes(), proto);
}

fn section_text(
    section: &str,
    figures: &ServerFigures,
    stats: &Merged,
    config: &RespConfig,
    text: &mut String,
) {
    let title = match section {
        "cpu" => "CPU".to_string(),
        other => other[..1].to_ascii_uppercase() + &other[1..],
    };
    text.push_str(&format!("# {title}\r\n"));
    match section {
        "commandstats" => return stats.commandstats(text),
        "errorstats" => return stats.errorstats(text),
        "latencystats" => return stats.latencystats(text),
        _ => {}
    }
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
            field("redis_git_sha1", &"00000000");
            field("redis_git_dirty", &0);
            field("redis_mode", &mode(config));
            field("os", &std::env::consts::OS);
            field("arch_bits", &64);
            field("multiplexing_api", &"io_uring");
            field("process_id", &std::process::id());
            field("process_supervised", &"no");
            field("run_id", &run_id());
            field("tcp_port", &config.port());
            field("server_time_usec", &unix_micros());
            field("uptime_in_seconds", &uptime);
            field("uptime_in_days", &(uptime / 86_400));
            field("executable", &executable());
            field("config_file", &"");
            field("percore_version", &env!("CARGO_PKG_VERSION"));
            field("percore_shards", &config.shards);
        }
        "clients" => {
            field("connected_clients", &figures.clients);
            field("cluster_connections", &0);
            field("maxclients", &config.max_clients);
            field("blocked_clients", &figures.blocked_clients);
            field("tracking_clients", &figures.tracking_clients);
        }
        "memory" => {
            field("used_memory", &figures.memory_bytes);
            field("used_memory_human", &human(figures.memory_bytes));
            field("maxmemory", &config.max_memory());
            field("maxmemory_human", &human(config.max_memory()));
            field("maxmemory_policy", &super::config::policy(config));
            field("mem_allocator", &"libc");
        }
        "stats" => {
            field("total_connections_received", &figures.connections_received);
            field("total_commands_processed", &figures.commands);
            field("rejected_connections", &0);
            field("evicted_keys", &figures.evicted_keys);
            field("pubsub_channels", &figures.pubsub_channels);
            field("pubsub_patterns", &figures.pubsub_patterns);
            field("pubsubshard_channels", &figures.pubsubshard_channels);
            field("tracking_total_keys", &figures.tracking_keys);
            field("tracking_total_items", &figures.tracking_items);
            field("tracking_total_prefixes", &figures.tracking_prefixes);
            field("total_error_replies", &stats.error_replies);
        }
        "persistence" => {
            field("loading", &0);
            field("async_loading", &0);
            field("rdb_changes_since_last_save", &figures.changes);
            field("rdb_bgsave_in_progress", &0);
            field(
                "rdb_last_save_time",
                &figures.last_save.max(config.started_unix),
            );
            field("aof_enabled", &u8::from(config.data_dir));
            field("aof_rewrite_in_progress", &0);
        }
        // A master with no replicas, as a Redis that never had one says.
        "replication" => {
            field("role", &"master");
            field("connected_slaves", &0);
            field("master_failover_state", &"no-failover");
            field("master_replid", &replication_id());
            field("master_replid2", &"0".repeat(40));
            field("master_repl_offset", &0);
            field("second_repl_offset", &-1);
            field("repl_backlog_active", &0);
            field("repl_backlog_size", &1_048_576);
            field("repl_backlog_first_byte_offset", &0);
            field("repl_backlog_histlen", &0);
        }
        "cpu" => {
            let (user, system) = cpu_seconds();
            field("used_cpu_sys", &format_args!("{system:.6}"));
            field("used_cpu_user", &format_args!("{user:.6}"));
            field("used_cpu_sys_children", &"0.000000");
            field("used_cpu_user_children", &"0.000000");
        }
        "cluster" => {
            field("cluster_enabled", &u8::from(config.cluster.is_some()));
        }
        "keyspace" if figures.keys > 0 => {
            let line = format!(
                "keys={},expires={},avg_ttl=0",
                figures.keys, figures.expires
            );
            field("db0", &line);
        }
        _ => {}
    }
}

/// 40 hex characters, random, made once per process (Redis makes its
/// run id and replication id so at start).
fn random_hex(seed: u64) -> String {
    use std::hash::{BuildHasher, RandomState};
    let state = RandomState::new();
    (0..3)
        .map(|i| format!("{:016x}", state.hash_one((seed, i, std::process::id()))))
        .collect::<String>()[..40]
        .to_string()
}

fn run_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| random_hex(1))
}

fn replication_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| random_hex(2))
}

fn executable() -> String {
    std::env::current_exe()
        .map(|path| path.display().to_string())
        .unwrap_or_default()
}

fn human(bytes: u64) -> String {
    let as_f64 = bytes as f64;
    let (unit, size) = [
        ("G", 1024f64.powi(3)),
        ("M", 1024f64.powi(2)),
        ("K", 1024.0),
    ]
    .into_iter()
    .find(|&(_, size)| as_f64 >= size)
    .unwrap_or(("B", 1.0));
    format!("{:.2}{unit}", as_f64 / size)
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
