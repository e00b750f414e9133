//! The commands resp serves (docs/PROTOCOLS.md §6.2), one registry row each
//! (`table.rs`, of the types in `registry.rs`): its arity, key positions,
//! where it runs and what it runs there. A key's command runs on the key's owner shard; a command over many
//! keys is split into one single-key part per key, each run on its owner,
//! and the parts' replies merged in order; a command over the whole key space
//! runs on every shard. One file per group, as Redis's own docs group them:
//! `strings` and `expiry` (run where the key lives), `keyspace` (KEYS, SCAN,
//! DBSIZE, FLUSHDB, RANDOMKEY: each shard's part), `connection` and `server`
//! (run on the connection's shard). Pub/sub has a folder of its own
//! (`resp/pubsub/`): PUBLISH runs on the channel's owner like a key's
//! command; the (un)subscribe commands and PUBSUB are served alone.

pub mod acl;
pub mod acl_users;
pub mod bitfield;
pub mod bitop;
pub mod bits;
pub mod collections;
pub mod config;
pub mod config_params;
pub mod config_port;
pub mod config_table;
pub mod connection;
pub mod dump;
pub mod expiry;
pub mod geo;
pub mod geo_search;
pub mod geohash;
pub mod getkeys;
mod handlers;
/// Redis's glob matcher lives with the topics, whose patterns it matches.
pub use crate::mq::glob;
pub mod hash;
pub mod help;
pub mod info;
pub mod introspect;
pub mod keyspace;
pub mod lcs;
pub mod list;
pub mod list_move;
pub mod memory;
pub mod migrate;
pub mod object;
pub mod payload;
mod registry;
pub mod rename;
pub mod scripting;
pub mod server;
pub mod set;
mod sha256;
pub mod sort;
pub mod string_float;
pub mod string_options;
pub mod strings;
mod table;
pub mod types;
pub mod zset;
pub mod zset_multi;
pub mod zset_pop;
pub mod zset_range;

pub use registry::{AloneTest, Flags, KeyArgs, Local, Merge, OwnerFn, Route, Spec};
pub use table::{lookup, Cmd, NAMES};

/// The row of `cmd`: what a forwarded command's number names.
pub fn spec_of(cmd: Cmd) -> &'static Spec {
    // Every variant has its row, at its number (the macro makes both).
    &table::SPECS[cmd as usize]
}

/// The command numbered `n` ([`Cmd`] as `u8`), for a forwarded command.
pub fn cmd_from_u8(n: u8) -> Option<Cmd> {
    table::ALL.get(usize::from(n)).copied()
}

#[cfg(test)]
mod tests {
    use super::registry::LONGEST_NAME;
    use super::table::ALL;
    use super::*;

    #[test]
    fn names_are_found_in_any_case_and_numbered_in_order() {
        assert_eq!(lookup(b"get").map(|s| s.cmd), Some(Cmd::Get));
        assert_eq!(lookup(b"GeTrAnGe").map(|s| s.cmd), Some(Cmd::GetRange));
        assert!(lookup(b"xadd").is_none());
        assert!(lookup(b"averyveryverylongname").is_none());
        for (n, name) in NAMES.iter().enumerate() {
            assert_eq!(
                cmd_from_u8(n as u8).map(|c| c as usize),
                Some(n),
                "{name} out of order"
            );
            let Some(spec) = lookup(name.as_bytes()) else {
                assert!(name.starts_with("internal"), "{name} is found");
                continue;
            };
            assert_eq!(spec.cmd as usize, n, "{name} out of order");
            assert!(name.len() <= LONGEST_NAME || spec.internal());
        }
        // Numbers fit a byte, and the first past the last names none.
        assert!(ALL.len() < 256);
        assert_eq!(cmd_from_u8(ALL.len() as u8), None);
    }

    #[test]
    fn arities_are_those_command_reports() {
        for name in NAMES.iter().filter(|name| !name.starts_with("internal")) {
            let spec = lookup(name.as_bytes()).expect("served");
            let entry = crate::resp::command_table::lookup(name.as_bytes())
                .unwrap_or_else(|| panic!("{name} is in the COMMAND table"));
            assert_eq!(spec.arity, entry.arity, "{name}");
        }
    }

    #[test]
    fn key_positions_are_those_command_reports() {
        for spec in table::SPECS.iter().filter(|spec| !spec.internal()) {
            let entry = crate::resp::command_table::lookup(spec.name.as_bytes())
                .unwrap_or_else(|| panic!("{} is in the COMMAND table", spec.name));
            let reported = KeyArgs {
                first: entry.first_key,
                last: entry.last_key,
                step: entry.step,
            };
            // OBJECT's subcommands name their key second: redis reports
            // it in their entries (`object|encoding`), not the container's.
            let reported = match spec.cmd {
                Cmd::Object => KeyArgs {
                    first: 2,
                    last: 2,
                    step: 1,
                },
                _ => reported,
            };
            assert_eq!(spec.keys, reported, "{}", spec.name);
            assert_eq!(spec_of(spec.cmd).name, spec.name);
            // A command routed by argument 1 has its key there (or, as
            // PUBLISH, a channel, which is no key); one split per key
            // steps as its row says, to the end.
            match spec.route {
                Route::Key => assert!(spec.keys.first <= 1, "{}", spec.name),
                Route::EachKey { .. } => {
                    assert_eq!((spec.keys.first, spec.keys.last), (1, -1), "{}", spec.name)
                }
                _ => {}
            }
        }
    }

    #[test]
    fn key_positions_stop_at_the_arguments_given() {
        let at = |first, last, step, argc| {
            KeyArgs { first, last, step }
                .positions(argc)
                .collect::<Vec<_>>()
        };
        assert_eq!(at(1, 1, 1, 2), [1]);
        assert_eq!(at(1, -1, 2, 5), [1, 3]); // MSET a 1 b 1
        assert_eq!(at(1, -1, 2, 6), [1, 3, 5]); // MSET a 1 b 1 c: c's value short
        assert_eq!(at(2, -1, 1, 5), [2, 3, 4]); // BITOP AND d a b
        assert_eq!(at(1, -2, 1, 4), [1, 2]); // BLPOP a b 0
        assert_eq!(at(2, 2, 1, 2), Vec::<usize>::new()); // OBJECT HELP
        assert_eq!(at(0, 0, 0, 5), Vec::<usize>::new());
        assert_eq!(at(1, 1, 1, 1), Vec::<usize>::new());
    }

    #[test]
    fn arity_follows_redis() {
        let get = lookup(b"get").expect("get");
        assert!(get.arity_ok(2) && !get.arity_ok(1) && !get.arity_ok(3));
        let set = lookup(b"set").expect("set");
        assert!(set.arity_ok(3) && set.arity_ok(9) && !set.arity_ok(2));
    }
}
