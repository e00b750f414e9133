//! The replies of resp's pub/sub commands that are Redis's fixed texts:
//! the confirmations of the (un)subscribe commands and PUBSUB HELP.

use super::super::protocol::write::{self, Proto};

/// One (un)subscribe confirmation, as redis 7.0 writes it: `kind`
/// (`subscribe`, `punsubscribe`...), the name (nil when unsubscribing from
/// everything with nothing held), and the connection's subscriptions after
/// it. An array in RESP2, a push message in RESP3.
pub fn confirmation(
    out: &mut Vec<u8>,
    proto: Proto,
    kind: &[u8],
    name: Option<&[u8]>,
    count: usize,
) {
    write::push_len(out, 3, proto);
    write::bulk(out, kind);
    match name {
        Some(name) => write::bulk(out, name),
        None => write::null(out, proto),
    }
    write::int(out, count as i64);
}

/// PUBSUB HELP's lines, redis 7.0's.
const HELP: [&str; 14] = [
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
];

/// PUBSUB HELP.
pub fn help(out: &mut Vec<u8>) {
    write::array_len(out, HELP.len());
    for line in HELP {
        write::simple(out, line.as_bytes());
    }
}
