//! `CLUSTER COUNTKEYSINSLOT slot` and `CLUSTER GETKEYSINSLOT slot count`
//! (docs/PROTOCOLS.md §6.4): a node's keys of one slot are spread over all its shards
//! (docs/PROTOCOLS.md §3.5's hash, not the slot, places a key on a shard), so each shard
//! answers for its own keys ([`shard_part`], the same arguments) and the
//! connection's shard merges the parts ([`SlotKeys::merge`]). A shard finds
//! them by walking its keys: O(keys), where Redis keeps a per-slot index;
//! these commands serve resharding tools, which percore has no use for.

use super::super::command_table;
use super::super::commands::strings::parse_i64;
use super::super::protocol::{self, write, Command, Value};
use super::slot::{key_slot, SLOTS};
use percore_keyspace::write::ShardKeys;

const NOT_INTEGER: &str = "ERR value is not an integer or out of range";

/// A checked COUNTKEYSINSLOT or GETKEYSINSLOT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotKeys {
    Count { slot: u16 },
    Get { slot: u16, count: usize },
}

/// Whether `args` is one of these two subcommands with its number of
/// arguments right: then the service asks every shard. (Any other shape is
/// answered on the connection's shard, errors included.)
pub fn over_every_shard(args: &Command<'_>) -> bool {
    let sub = args.at(1);
    (sub.eq_ignore_ascii_case(b"countkeysinslot") || sub.eq_ignore_ascii_case(b"getkeysinslot"))
        && command_table::lookup(b"cluster")
            .and_then(|parent| command_table::lookup_subcommand(parent, sub))
            .is_some_and(|entry| command_table::arity_ok(entry, args.len()))
}

impl SlotKeys {
    /// The request in `args` (`CLUSTER <sub> slot [count]`, as
    /// [`over_every_shard`] accepted), or redis's error text.
    pub fn parse(args: &Command<'_>) -> Result<SlotKeys, &'static str> {
        let slot = parse_i64(args.at(2)).ok_or(NOT_INTEGER)?;
        if args.len() == 3 {
            return u16::try_from(slot)
                .ok()
                .filter(|&slot| slot < SLOTS)
                .map(|slot| SlotKeys::Count { slot })
                .ok_or("ERR Invalid slot");
        }
        let count = parse_i64(args.at(3)).ok_or(NOT_INTEGER)?;
        match (u16::try_from(slot), usize::try_from(count)) {
            (Ok(slot), Ok(count)) if slot < SLOTS => Ok(SlotKeys::Get { slot, count }),
            _ => Err("ERR Invalid slot or number of keys"),
        }
    }

    /// The reply from every shard's part: the counts added up, or the keys
    /// joined, at most `count` of them.
    pub fn merge(&self, parts: &[Vec<u8>], out: &mut Vec<u8>) {
        if let Some(error) = parts.iter().find(|part| part.first() == Some(&b'-')) {
            out.extend_from_slice(error);
            return;
        }
        match self {
            SlotKeys::Count { .. } => {
                let total = parts
                    .iter()
                    .filter_map(|part| match protocol::parse_reply(part) {
                        Ok(Some((Value::Int(n), _))) => Some(n),
                        _ => None,
                    })
                    .sum();
                write::int(out, total);
            }
            SlotKeys::Get { count, .. } => {
                let mut keys: Vec<&[u8]> = Vec::new();
                for part in parts {
                    if let Ok(Some((Value::Array(Some(items)), _))) = protocol::parse_reply(part) {
                        keys.extend(items.into_iter().filter_map(|item| match item {
                            Value::Bulk(Some(key)) => Some(key),
                            _ => None,
                        }));
                    }
                }
                keys.truncate(*count);
                write::array_len(out, keys.len());
                for key in keys {
                    write::bulk(out, key);
                }
            }
        }
    }
}

/// One shard's part, from the same arguments: how many of its live keys
/// are in the slot, or up to `count` of them.
pub fn shard_part(args: &Command<'_>, keys: &mut ShardKeys<'_>, out: &mut Vec<u8>) {
    match SlotKeys::parse(args) {
        Err(error) => write::error(out, error),
        Ok(SlotKeys::Count { slot }) => {
            let mut found = 0i64;
            keys.store.for_each(keys.now, |key, _, _| {
                found += i64::from(key_slot(key) == slot);
            });
            write::int(out, found);
        }
        Ok(SlotKeys::Get { slot, count }) => {
            let mut found: Vec<&[u8]> = Vec::new();
            keys.store.for_each(keys.now, |key, _, _| {
                if found.len() < count && key_slot(key) == slot {
                    found.push(key);
                }
            });
            write::array_len(out, found.len());
            for key in found {
                write::bulk(out, key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::protocol::{encode_command, parse_command, Args};
    use super::*;
    use crate::kv::Store;
    use percore_keyspace::Marks;

    fn with_command<T>(line: &str, f: impl FnOnce(&Command<'_>) -> T) -> T {
        let mut frame = Vec::new();
        let words: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        encode_command(words.iter().copied(), &mut frame);
        let mut args = Args::default();
        parse_command(&frame, &mut args).expect("parses");
        f(&args.view(&frame))
    }

    #[test]
    fn arguments_are_checked_as_redis_does() {
        let parse = |line| with_command(line, SlotKeys::parse);
        assert_eq!(
            parse("CLUSTER COUNTKEYSINSLOT 5"),
            Ok(SlotKeys::Count { slot: 5 })
        );
        assert_eq!(parse("CLUSTER COUNTKEYSINSLOT x"), Err(NOT_INTEGER));
        assert_eq!(
            parse("CLUSTER COUNTKEYSINSLOT 16384"),
            Err("ERR Invalid slot")
        );
        assert_eq!(parse("CLUSTER COUNTKEYSINSLOT -1"), Err("ERR Invalid slot"));
        assert_eq!(
            parse("CLUSTER GETKEYSINSLOT 1 0"),
            Ok(SlotKeys::Get { slot: 1, count: 0 })
        );
        assert_eq!(parse("CLUSTER GETKEYSINSLOT x 1"), Err(NOT_INTEGER));
        assert_eq!(parse("CLUSTER GETKEYSINSLOT 1 x"), Err(NOT_INTEGER));
        let invalid = Err("ERR Invalid slot or number of keys");
        assert_eq!(parse("CLUSTER GETKEYSINSLOT 1 -1"), invalid);
        assert_eq!(parse("CLUSTER GETKEYSINSLOT 16384 1"), invalid);
        let every = |line| with_command(line, over_every_shard);
        assert!(every("CLUSTER countkeysinslot 1"));
        assert!(every("CLUSTER GETKEYSINSLOT 1 2"));
        assert!(!every("CLUSTER GETKEYSINSLOT 1"));
        assert!(!every("CLUSTER COUNTKEYSINSLOT 1 2"));
        assert!(!every("CLUSTER KEYSLOT 1"));
    }

    #[test]
    fn shards_answer_for_their_keys_and_the_parts_merge() {
        // The keys tagged {t} share one slot; "other" is in another.
        let slot = key_slot(b"{t}");
        let mut stores = [Store::default(), Store::default()];
        for (i, key) in ["{t}1", "{t}2", "{t}3", "other"].iter().enumerate() {
            stores[i % 2].put(key.as_bytes(), b"v").expect("no cap");
        }
        let mut parts = |line: &str| -> Vec<Vec<u8>> {
            stores
                .iter_mut()
                .map(|store| {
                    let mut out = Vec::new();
                    let marks = Marks::default();
                    let mut keys = ShardKeys::new(store, &marks, None, 0);
                    with_command(line, |args| shard_part(args, &mut keys, &mut out));
                    out
                })
                .collect()
        };
        let count = format!("CLUSTER COUNTKEYSINSLOT {slot}");
        let mut out = Vec::new();
        SlotKeys::Count { slot }.merge(&parts(&count), &mut out);
        assert_eq!(out, b":3\r\n");
        let get = format!("CLUSTER GETKEYSINSLOT {slot} 2");
        let mut out = Vec::new();
        SlotKeys::Get { slot, count: 2 }.merge(&parts(&get), &mut out);
        assert!(out.starts_with(b"*2\r\n$4\r\n{t}"), "{out:?}");
    }
}
