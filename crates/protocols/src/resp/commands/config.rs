//! CONFIG (docs/PROTOCOLS.md §6.2, issue 26): GET with one or more glob patterns, SET of
//! one or more parameters at once (all or nothing, as Redis 7.0: every
//! value is checked before any is applied), RESETSTAT, REWRITE, HELP, over
//! every parameter of Redis 7.0 (`config_table.rs`). percore acts on
//! maxmemory, notify-keyspace-events, eviction's maxmemory-policy,
//! maxmemory-samples, lfu-log-factor and lfu-decay-time, and port (moved
//! at runtime: `port_change.rs`); reads the
//! parameters its command line sets from there (`FROM_COMMAND_LINE`);
//! keeps every other value it is given, with no effect. GET and HELP
//! run on the connection's shard; SET and RESETSTAT change every shard, so
//! the service serves them alone (`served_alone.rs`) with what [`parse_set`] read.

use super::super::notify;
use super::super::protocol::write::{self, Proto};
use super::super::protocol::Command;
use super::super::RespConfig;
use super::config_params::{HIDDEN, IMMUTABLE, PROTECTED};
use super::config_table::PARAMS;
use super::glob;
use std::sync::{Arc, Mutex};

/// One parameter CONFIG SET changes, with its new value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Setting {
    /// `maxmemory`, over all shards, in bytes.
    MaxMemory(u64),
    /// `port`, another than the one served: applied first, and all or
    /// nothing (`config_port.rs`).
    Port(u16),
    /// `notify-keyspace-events`, as flags (`notify.rs`).
    NotifyKeyspaceEvents(u32),
    /// One of [`EVICTION`]: its place in [`PARAMS`] and its value, kept as
    /// [`Setting::Store`] keeps one, then told to every shard
    /// ([`eviction_args`]).
    Eviction(usize, String),
    /// Any other parameter percore keeps: its place in [`PARAMS`] and the
    /// value CONFIG GET will show. It changes nothing else (README, "What
    /// differs from Redis").
    Store(usize, String),
}

/// The values CONFIG SET stored, one per [`PARAMS`] entry, shared by every
/// shard (CONFIG SET is served alone and writes it once), as the memory cap
/// is.
pub type Stored = Arc<Mutex<Vec<String>>>;

/// Redis's defaults, but `save`: percore writes no RDB snapshots
/// (`--data-dir` is its persistence), so it shows none, as a redis started
/// with `--save ''`.
pub fn stored_defaults() -> Stored {
    let values = PARAMS
        .iter()
        .map(|p| match p.name {
            "save" => String::new(),
            _ => p.default.to_string(),
        })
        .collect();
    Arc::new(Mutex::new(values))
}

fn stored(config: &RespConfig) -> std::sync::MutexGuard<'_, Vec<String>> {
    // A poisoned lock still holds whole strings.
    config
        .stored
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The parameters percore reads from its command line, with the option
/// that sets each: CONFIG SET takes only the value they have (but `port`,
/// which it moves: [`Setting::Port`]).
const FROM_COMMAND_LINE: [(&str, &str); 11] = [
    ("port", "--resp"),
    ("bind", "--resp"),
    ("dir", "--data-dir"),
    ("appendonly", "--data-dir"),
    ("appendfsync", "--fsync"),
    ("databases", "(percore has one database)"),
    ("cluster-enabled", "--cluster-nodes"),
    ("timeout", "--idle-timeout"),
    ("proto-max-bulk-len", "--max-frame"),
    ("maxclients", "--max-conns"),
    ("requirepass", "--requirepass"),
];

/// The parameters of eviction, in the order [`eviction_args`] gives them
/// to each shard.
pub const EVICTION: [&str; 4] = [
    "maxmemory-policy",
    "maxmemory-samples",
    "lfu-log-factor",
    "lfu-decay-time",
];

/// The eviction parameters' values now, in [`EVICTION`]'s order: the
/// arguments of a shard's `internal-eviction`.
pub fn eviction_args(config: &RespConfig) -> Vec<String> {
    EVICTION
        .iter()
        .map(|name| {
            PARAMS
                .iter()
                .position(|p| p.name == *name)
                .map(|at| value(at, config))
                .unwrap_or_default()
        })
        .collect()
}

/// `maxmemory-policy` now (INFO memory).
pub fn policy(config: &RespConfig) -> String {
    eviction_args(config).swap_remove(0)
}

/// The entry of [`PARAMS`] named `name` (or with that alias), any case,
/// and the name it was found by.
fn lookup(name: &[u8]) -> Option<(usize, &'static str)> {
    PARAMS.iter().enumerate().find_map(|(i, p)| {
        std::iter::once(p.name)
            .chain(p.alias)
            .find(|n| n.as_bytes().eq_ignore_ascii_case(name))
            .map(|n| (i, n))
    })
}

/// A parameter's value now, as CONFIG GET shows it.
fn value(at: usize, config: &RespConfig) -> String {
    let yes_no = |on: bool| if on { "yes" } else { "no" }.to_string();
    match PARAMS[at].name {
        "port" => config.port().to_string(),
        "bind" => config.bind.clone(),
        "dir" => config.dir.clone(),
        "appendonly" => yes_no(config.data_dir),
        "appendfsync" => config.fsync.clone(),
        "databases" => "1".into(),
        "cluster-enabled" => yes_no(config.cluster.is_some()),
        "timeout" => config.idle_timeout.to_string(),
        "proto-max-bulk-len" => config.max_frame.to_string(),
        "maxclients" => config.max_clients.to_string(),
        "requirepass" => config.requirepass.clone().unwrap_or_default(),
        "maxmemory" => config.max_memory().to_string(),
        "notify-keyspace-events" => notify::format_flags(config.here.notify.flags()),
        _ => stored(config).get(at).cloned().unwrap_or_default(),
    }
}

pub fn failed(name: &str, why: &str) -> String {
    format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {why}")
}

/// `CONFIG SET name value [name value ...]`: every setting, or the error
/// Redis gives for the first one that cannot be set (then none is), in
/// Redis's order: the first unknown, immutable, protected or duplicate
/// name, then the first value refused.
pub fn parse_set(args: &Command<'_>, config: &RespConfig) -> Result<Vec<Setting>, String> {
    if args.len() < 4 {
        return Err("ERR wrong number of arguments for 'config|set' command".into());
    }
    if args.len() % 2 != 0 {
        return Err(super::strings::SYNTAX.into());
    }
    let pairs: Vec<usize> = (2..args.len()).step_by(2).collect();
    let mut found: Vec<&str> = Vec::new();
    for &i in &pairs {
        let shown = String::from_utf8_lossy(args.at(i));
        let Some((at, name)) = lookup(args.at(i)) else {
            return Err(format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{shown}'"
            ));
        };
        if PARAMS[at].is(IMMUTABLE) {
            return Err(failed(&shown, "can't set immutable config"));
        }
        if PARAMS[at].is(PROTECTED) {
            return Err(failed(&shown, "can't set protected config"));
        }
        if found.contains(&name) {
            return Err(failed(&shown, "duplicate parameter"));
        }
        found.push(name);
    }
    let mut settings = Vec::new();
    for (&i, name) in pairs.iter().zip(found) {
        let (at, _) = lookup(args.at(i)).ok_or_else(|| failed(name, "no such parameter"))?;
        let param = &PARAMS[at];
        let raw = args.at(i + 1);
        let current = value(at, config);
        let new = param
            .check(raw, &current)
            .map_err(|why| failed(name, &why))?;
        settings.push(match param.name {
            "maxmemory" => Setting::MaxMemory(new.parse().unwrap_or(u64::MAX)),
            "notify-keyspace-events" => {
                Setting::NotifyKeyspaceEvents(notify::parse_flags(raw).ok_or_else(|| {
                    failed(
                        name,
                        "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.",
                    )
                })?)
            }
            name if EVICTION.contains(&name) => Setting::Eviction(at, new),
            "port" if new != current => match new.parse() {
                Ok(0) | Err(_) => {
                    return Err(failed(name, "percore always listens: port 0 is refused"))
                }
                Ok(port) => Setting::Port(port),
            },
            _ => match FROM_COMMAND_LINE.iter().find(|(n, _)| *n == param.name) {
                Some(_) if new == current => continue,
                Some((_, flag)) => {
                    return Err(failed(
                        name,
                        &format!("percore sets {} at start, with {flag}", param.name),
                    ))
                }
                None => Setting::Store(at, new),
            },
        });
    }
    Ok(settings)
}

/// Stores what [`parse_set`] read; run by the service on one shard for all
/// (`served_alone.rs`), every shard reading the same values.
pub fn store(config: &RespConfig, at: usize, new: String) {
    if let Some(slot) = stored(config).get_mut(at) {
        *slot = new;
    }
}

/// CONFIG GET, HELP, and the checks of SET and RESETSTAT's arguments (run
/// here when they are wrong; the service serves them otherwise).
pub fn run(args: &Command<'_>, config: &RespConfig, proto: Proto, out: &mut Vec<u8>) {
    let sub = args.at(1).to_ascii_lowercase();
    match sub.as_slice() {
        b"get" => get(args, config, proto, out),
        b"set" => match parse_set(args, config) {
            Err(error) => write::error(out, &error),
            Ok(_) => write::error(out, "ERR internal: CONFIG SET is served alone"),
        },
        // Redis's reply when it was started without a config file, as
        // percore always is.
        b"rewrite" if args.len() == 2 => {
            write::error(out, "ERR The server is running without a config file")
        }
        b"rewrite" => write::error(
            out,
            "ERR wrong number of arguments for 'config|rewrite' command",
        ),
        b"resetstat" => write::error(
            out,
            "ERR wrong number of arguments for 'config|resetstat' command",
        ),
        b"help" => super::help::write_help(out, args.at(0), super::help::CONFIG),
        _ => {
            let shown = String::from_utf8_lossy(args.at(1));
            write::error(
                out,
                &format!("ERR unknown subcommand '{shown}'. Try CONFIG HELP."),
            );
        }
    }
}

/// Whether `args` is a CONFIG command the service serves alone: SET with
/// valid settings, or RESETSTAT.
pub fn served_alone(args: &Command<'_>, config: &RespConfig) -> bool {
    let sub = args.at(1);
    (sub.eq_ignore_ascii_case(b"set") && parse_set(args, config).is_ok())
        || (sub.eq_ignore_ascii_case(b"resetstat") && args.len() == 2)
}

/// `CONFIG GET pattern [pattern ...]`: each parameter once, under each
/// name that matches (a name and its alias both). A word without `*`, `?`
/// or `[` is a name, shown as asked; only such a word finds a HIDDEN
/// parameter, as in Redis 7.0's configGetCommand.
fn get(args: &Command<'_>, config: &RespConfig, proto: Proto, out: &mut Vec<u8>) {
    if args.len() < 3 {
        write::error(
            out,
            "ERR wrong number of arguments for 'config|get' command",
        );
        return;
    }
    let mut found: Vec<(String, usize)> = Vec::new();
    let seen = |found: &[(String, usize)], name: &str| {
        found.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
    };
    for i in 2..args.len() {
        let asked = args.at(i);
        if !asked.iter().any(|b| matches!(b, b'*' | b'?' | b'[')) {
            let shown = String::from_utf8_lossy(asked).into_owned();
            if let Some((at, _)) = lookup(asked).filter(|_| !seen(&found, &shown)) {
                found.push((shown, at));
            }
            continue;
        }
        let pattern = asked.to_ascii_lowercase();
        for (at, param) in PARAMS.iter().enumerate() {
            if param.is(HIDDEN) {
                continue;
            }
            for name in std::iter::once(param.name).chain(param.alias) {
                if !seen(&found, name) && glob::matches(&pattern, name.as_bytes()) {
                    found.push((name.to_string(), at));
                }
            }
        }
    }
    write::map_len(out, found.len(), proto);
    for (name, at) in found {
        write::bulk(out, name.as_bytes());
        write::bulk(out, value(at, config).as_bytes());
    }
}
