//! CONFIG (docs/PROTOCOLS.md §6.2, issue 26): GET with one or more glob patterns, SET of
//! one or more parameters at once (all or nothing, as Redis 7.0: every
//! value is checked before any is applied), RESETSTAT, HELP. GET and HELP
//! run on the connection's shard; SET and RESETSTAT change every shard, so
//! the service serves them alone (`alone.rs`) with what [`parse_set`] read.

use super::super::notify;
use super::super::protocol::write::{self, Proto};
use super::super::protocol::Command;
use super::super::RespConfig;
use super::glob;
use super::server::parse_memory;

/// One parameter CONFIG SET changes, with its new value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    /// `maxmemory`, over all shards, in bytes.
    MaxMemory(u64),
    /// `notify-keyspace-events`, as flags (`notify.rs`).
    NotifyKeyspaceEvents(u32),
    /// `maxmemory-policy`: only `noeviction` is served.
    MaxMemoryPolicy,
    /// `save` and Redis's encoding thresholds for hashes, sets, sorted sets
    /// and lists ([`super::types::is_encoding_parameter`]): accepted and
    /// ignored, as percore has one encoding per type (README, "What differs
    /// from Redis").
    Ignored,
}

/// The parameters CONFIG SET accepts.
const SETTABLE: [&str; 3] = ["maxmemory", "notify-keyspace-events", "maxmemory-policy"];

fn failed(name: &str, why: &str) -> String {
    format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {why}")
}

/// `CONFIG SET name value [name value ...]`: every setting, or the error
/// Redis gives for the first one that cannot be set (then none is).
pub fn parse_set(args: &Command<'_>) -> Result<Vec<Setting>, String> {
    if args.len() < 4 {
        return Err("ERR wrong number of arguments for 'config|set' command".into());
    }
    if args.len() % 2 != 0 {
        return Err(super::strings::SYNTAX.into());
    }
    let mut names: Vec<&str> = Vec::new();
    let mut ignored: Vec<Vec<u8>> = Vec::new();
    let mut settings = Vec::new();
    for i in (2..args.len()).step_by(2) {
        let asked = args.at(i).to_ascii_lowercase();
        if super::types::is_encoding_parameter(&asked) {
            if ignored.contains(&asked) {
                let shown = String::from_utf8_lossy(&asked).into_owned();
                return Err(failed(&shown, "duplicate parameter"));
            }
            ignored.push(asked);
            settings.push(Setting::Ignored);
            continue;
        }
        let Some(&name) = SETTABLE.iter().find(|name| name.as_bytes() == asked) else {
            let shown = String::from_utf8_lossy(args.at(i));
            return Err(format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{shown}'"
            ));
        };
        if names.contains(&name) {
            return Err(failed(name, "duplicate parameter"));
        }
        names.push(name);
        let value = args.at(i + 1);
        settings.push(match name {
            "maxmemory" => Setting::MaxMemory(
                parse_memory(value).ok_or_else(|| failed(name, "argument must be a memory value"))?,
            ),
            "notify-keyspace-events" => Setting::NotifyKeyspaceEvents(
                notify::parse_flags(value).ok_or_else(|| {
                    failed(name, "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
                })?,
            ),
            _ => {
                if !value.eq_ignore_ascii_case(b"noeviction") {
                    return Err(failed(
                        name,
                        "percore serves only noeviction (docs/PROTOCOLS.md §7.3: writes past the cap are refused)",
                    ));
                }
                Setting::MaxMemoryPolicy
            }
        });
    }
    Ok(settings)
}

/// CONFIG GET, HELP, and the checks of SET and RESETSTAT's arguments (run
/// here when they are wrong; the service serves them otherwise).
pub fn run(args: &Command<'_>, config: &RespConfig, proto: Proto, out: &mut Vec<u8>) {
    let sub = args.at(1).to_ascii_lowercase();
    match sub.as_slice() {
        b"get" => get(args, config, proto, out),
        b"set" => match parse_set(args) {
            Err(error) => write::error(out, &error),
            Ok(_) => write::error(out, "ERR internal: CONFIG SET is served alone"),
        },
        b"resetstat" => write::error(
            out,
            "ERR wrong number of arguments for 'config|resetstat' command",
        ),
        b"help" => {
            let lines: [&[u8]; 11] = [
                b"CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                b"GET <pattern>",
                b"    Return parameters matching the glob-like <pattern> and their values.",
                b"SET <directive> <value>",
                b"    Set the configuration <directive> to <value>.",
                b"RESETSTAT",
                b"    Reset statistics reported by the INFO command.",
                b"REWRITE",
                b"    Rewrite the configuration file.",
                b"HELP",
                b"    Prints this help.",
            ];
            write::array_len(out, lines.len());
            lines.iter().for_each(|line| write::simple(out, line));
        }
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
pub fn served_alone(args: &Command<'_>) -> bool {
    let sub = args.at(1);
    (sub.eq_ignore_ascii_case(b"set") && parse_set(args).is_ok())
        || (sub.eq_ignore_ascii_case(b"resetstat") && args.len() == 2)
}

/// `CONFIG GET pattern [pattern ...]`: each parameter once, in the table's
/// order, if any pattern matches it.
fn get(args: &Command<'_>, config: &RespConfig, proto: Proto, out: &mut Vec<u8>) {
    if args.len() < 3 {
        write::error(
            out,
            "ERR wrong number of arguments for 'config|get' command",
        );
        return;
    }
    let data_dir = config.data_dir;
    let yes_no = |on: bool| if on { "yes" } else { "no" }.to_string();
    let parameters: [(&str, String); 13] = [
        ("save", String::new()),
        ("appendonly", yes_no(data_dir)),
        ("appendfsync", config.fsync.clone()),
        ("maxmemory", config.max_memory().to_string()),
        ("maxmemory-policy", "noeviction".into()),
        ("databases", "1".into()),
        ("cluster-enabled", yes_no(config.cluster.is_some())),
        ("port", config.port.to_string()),
        ("timeout", config.idle_timeout.to_string()),
        ("proto-max-bulk-len", config.max_frame.to_string()),
        ("maxclients", config.max_clients.to_string()),
        ("dir", config.dir.clone()),
        (
            "notify-keyspace-events",
            notify::format_flags(notify::flags()),
        ),
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
