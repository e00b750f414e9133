//! `COMMAND GETKEYS` and `COMMAND GETKEYSANDFLAGS` (docs/PROTOCOLS.md §6.2):
//! the keys among a command's arguments, found as redis 7.0 finds them
//! (`getKeysUsingKeySpecs` in its db.c): from the command's key
//! specifications in the generated table (`command_table`), so that a
//! `numkeys` argument (ZUNIONSTORE, LMPOP, SINTERCARD, ...) and a keyword
//! (`STORE`, `STREAMS`) are followed, and a subcommand (`MEMORY USAGE`) is
//! looked up under its container. Where redis uses a command's own key
//! finder instead (SET and BITFIELD, whose specifications are marked
//! `variable_flags`; SORT, whose STORE they do not describe; MIGRATE,
//! whose KEYS specification is `incomplete`), so does percore.

use super::super::command_table::{self as table, BeginSearch, CommandEntry, FindKeys, KeySpec};
use super::super::protocol::write::{self, Proto};
use super::super::protocol::Command;

/// One key found: its position among the command's arguments (the
/// command's name is 0) and the flags of the specification that found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FoundKey {
    position: usize,
    flags: &'static [&'static str],
}

/// `COMMAND GETKEYS cmd arg...` (`with_flags`: `GETKEYSANDFLAGS`).
pub fn get_keys(args: &Command<'_>, with_flags: bool, proto: Proto, out: &mut Vec<u8>) {
    let argv: Vec<&[u8]> = (2..args.len()).map(|i| args.at(i)).collect();
    let Some(entry) = command_of(&argv) else {
        return write::error(out, "ERR Invalid command specified");
    };
    if !has_keys(entry) {
        return write::error(out, "ERR The command has no key arguments");
    }
    if !table::arity_ok(entry, argv.len()) {
        return write::error(out, "ERR Invalid number of arguments specified for command");
    }
    let keys = find_keys(entry, &argv);
    if keys.is_empty() {
        if entry.flags.contains(&"no_mandatory_keys") {
            return write::array_len(out, 0);
        }
        return write::error(out, "ERR Invalid arguments specified for command");
    }
    write::array_len(out, keys.len());
    for key in keys {
        let name = argv.get(key.position).copied().unwrap_or_default();
        if with_flags {
            write::array_len(out, 2);
            write::bulk(out, name);
            write::set_len(out, key.flags.len(), proto);
            for flag in key.flags {
                write::simple(out, flag.as_bytes());
            }
        } else {
            write::bulk(out, name);
        }
    }
}

/// The command `argv` names, as redis's `lookupCommand` finds it: a
/// container's subcommand when there is a second argument, and nothing when
/// that subcommand is unknown.
fn command_of(argv: &[&[u8]]) -> Option<&'static CommandEntry> {
    let name = argv.first()?;
    if name.contains(&b'|') {
        return None;
    }
    let entry = table::lookup(name)?;
    match argv.get(1) {
        Some(sub) if !entry.subcommands.is_empty() => table::lookup_subcommand(entry, sub),
        _ => Some(entry),
    }
}

/// Whether `argv` (a command and its arguments) names any key: an ACL
/// user without `~*` may not run it (`acl.rs`).
pub fn names_keys(argv: &[&[u8]]) -> bool {
    command_of(argv).is_some_and(|entry| has_keys(entry) && !find_keys(entry, argv).is_empty())
}

/// Whether the command takes keys at all (redis: a key specification that
/// is not `not_key`; every served command with a key finder of its own has
/// one).
fn has_keys(entry: &CommandEntry) -> bool {
    entry
        .key_specs
        .iter()
        .any(|spec| !spec.flags.contains(&"not_key"))
}

/// The keys of `argv`, by the key specifications when they are reliable,
/// else as redis's own finder for the command finds them.
fn find_keys(entry: &'static CommandEntry, argv: &[&[u8]]) -> Vec<FoundKey> {
    let reliable = entry
        .key_specs
        .iter()
        .any(|spec| !spec.flags.contains(&"not_key"))
        && !entry
            .key_specs
            .iter()
            .any(|spec| spec.flags.contains(&"variable_flags"));
    // MIGRATE's KEYS specification is `incomplete`: redis finds its keys
    // with its own `migrateGetKeys`.
    if reliable && entry.name != "migrate" {
        if let Some(keys) = keys_by_specs(entry.key_specs, argv) {
            return keys;
        }
    }
    // Arguments the specifications do not fit, or specifications redis
    // does not use: the command's own finder, where redis has one; none
    // finds no key (redis's own finders refuse such arguments too).
    keys_by_own_finder(entry, argv)
}

/// redis's `getKeysUsingKeySpecs`: `None` where a specification does not
/// fit the arguments (a bad `numkeys`, a key past the end) or is
/// incomplete (no served command has one).
fn keys_by_specs(specs: &'static [KeySpec], argv: &[&[u8]]) -> Option<Vec<FoundKey>> {
    let argc = argv.len() as i64;
    let mut keys = Vec::new();
    for spec in specs {
        if spec.flags.contains(&"not_key") {
            continue;
        }
        let first = match spec.begin_search {
            BeginSearch::Index { index } => i64::from(index),
            BeginSearch::Keyword { keyword, startfrom } => {
                match keyword_position(argv, keyword, startfrom) {
                    Some(found) => found + 1,
                    None => continue,
                }
            }
            BeginSearch::Unknown => return None,
        };
        let (first, last, step) = match spec.find_keys {
            FindKeys::Range {
                lastkey,
                keystep,
                limit,
            } => {
                let last = if lastkey >= 0 {
                    first + i64::from(lastkey)
                } else if limit == 0 {
                    argc + i64::from(lastkey)
                } else {
                    first + ((argc - first) / i64::from(limit) + i64::from(lastkey))
                };
                (first, last, i64::from(keystep))
            }
            FindKeys::Keynum {
                keynumidx,
                firstkey,
                keystep,
            } => {
                let at = usize::try_from(first + i64::from(keynumidx)).ok()?;
                let numkeys: i64 = std::str::from_utf8(argv.get(at)?).ok()?.parse().ok()?;
                if numkeys < 0 {
                    return None;
                }
                let first = first + i64::from(firstkey);
                (first, first + numkeys - 1, i64::from(keystep))
            }
            FindKeys::Unknown => return None,
        };
        if last >= argc || last < first || first >= argc {
            return None;
        }
        let mut position = first;
        while position <= last {
            keys.push(FoundKey {
                position: position as usize,
                flags: spec.flags,
            });
            position += step.max(1);
        }
        if spec.flags.contains(&"incomplete") {
            return None;
        }
    }
    Some(keys)
}

/// Where `keyword` is (ignoring case), searched from `startfrom` towards
/// the end (positive) or from the end towards the start (negative), never
/// at the command's name.
fn keyword_position(argv: &[&[u8]], keyword: &str, startfrom: i32) -> Option<i64> {
    let argc = argv.len() as i64;
    let start = if startfrom > 0 {
        i64::from(startfrom)
    } else {
        argc + i64::from(startfrom)
    };
    let end = if startfrom > 0 { argc - 1 } else { 1 };
    let mut at = start;
    while at != end {
        if at >= argc || at < 1 {
            return None;
        }
        if argv[at as usize].eq_ignore_ascii_case(keyword.as_bytes()) {
            return Some(at);
        }
        at += if start <= end { 1 } else { -1 };
    }
    None
}

/// The keys as redis's own finders for SET, BITFIELD (whose key flags
/// depend on the arguments: `setGetKeys`, `bitfieldGetKeys` in db.c) and
/// SORT (whose STORE key is found by a keyword its specification does not
/// describe: `sortGetKeys`) and MIGRATE (`migrateGetKeys`) find them; none
/// for any other command.
fn keys_by_own_finder(entry: &CommandEntry, argv: &[&[u8]]) -> Vec<FoundKey> {
    const READS: &[&str] = &["RO", "access"];
    const OVERWRITES: &[&str] = &["OW", "update"];
    const UPDATES: &[&str] = &["RW", "access", "update"];
    let key = |flags| FoundKey { position: 1, flags };
    match entry.name {
        // SET ... GET reads the value it replaces.
        "set" => {
            let get = argv
                .iter()
                .skip(3)
                .any(|arg| arg.eq_ignore_ascii_case(b"get"));
            vec![key(if get { UPDATES } else { OVERWRITES })]
        }
        "bitfield" if bitfield_only_reads(argv) => vec![key(READS)],
        "bitfield" => vec![key(UPDATES)],
        "sort" | "sort_ro" => {
            let mut keys = vec![key(READS)];
            // The last STORE's key, options with arguments skipped.
            let mut store = None;
            let mut at = 2;
            while at < argv.len() {
                let option = argv[at];
                if option.eq_ignore_ascii_case(b"limit") {
                    at += 2;
                } else if option.eq_ignore_ascii_case(b"get") || option.eq_ignore_ascii_case(b"by")
                {
                    at += 1;
                } else if option.eq_ignore_ascii_case(b"store") && at + 1 < argv.len() {
                    store = Some(at + 1);
                }
                at += 1;
            }
            keys.extend(store.map(|position| FoundKey {
                position,
                flags: OVERWRITES,
            }));
            keys
        }
        // redis's `migrateGetKeys` (cluster.c): the key, or with KEYS (and
        // an empty key) the arguments after it, options skipped.
        "migrate" => {
            const MOVED: &[&str] = &["RW", "access", "delete"];
            let mut keys = 3..4;
            let mut at = 6;
            while at < argv.len() {
                let option = argv[at];
                if option.eq_ignore_ascii_case(b"keys") {
                    if !argv[3].is_empty() {
                        return Vec::new();
                    }
                    keys = at + 1..argv.len();
                    break;
                }
                if option.eq_ignore_ascii_case(b"auth") {
                    at += 1;
                } else if option.eq_ignore_ascii_case(b"auth2") {
                    at += 2;
                }
                at += 1;
            }
            keys.map(|position| FoundKey {
                position,
                flags: MOVED,
            })
            .collect()
        }
        _ => Vec::new(),
    }
}

/// Whether BITFIELD's operations are all GETs (with OVERFLOWs), read as
/// redis reads them: a malformed one counts as a write.
fn bitfield_only_reads(argv: &[&[u8]]) -> bool {
    let mut at = 2;
    while at < argv.len() {
        let rest = argv.len() - at - 1;
        let op = argv[at];
        if op.eq_ignore_ascii_case(b"get") && rest >= 2 {
            at += 3;
        } else if op.eq_ignore_ascii_case(b"overflow") && rest >= 1 {
            at += 2;
        } else {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(words: &[&str]) -> Vec<String> {
        let argv: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
        let entry = command_of(&argv).expect("a served command");
        find_keys(entry, &argv)
            .into_iter()
            .map(|key| words[key.position].to_string())
            .collect()
    }

    #[test]
    fn numkeys_keywords_and_subcommands_are_followed() {
        assert_eq!(keys(&["get", "k"]), ["k"]);
        assert_eq!(keys(&["mset", "a", "1", "b", "2"]), ["a", "b"]);
        assert_eq!(keys(&["zunionstore", "t", "2", "a", "b"]), ["t", "a", "b"]);
        assert_eq!(keys(&["lmpop", "2", "a", "b", "left"]), ["a", "b"]);
        assert_eq!(keys(&["memory", "usage", "k"]), ["k"]);
        assert_eq!(keys(&["lcs", "a", "b"]), ["a", "b"]);
        assert_eq!(keys(&["bitfield", "k", "get", "u8", "0"]), ["k"]);
        assert_eq!(keys(&["sort", "abc", "store", "def"]), ["abc", "def"]);
        assert_eq!(
            keys(&["sort", "abc", "store", "x", "store", "y", "store", "def"]),
            ["abc", "def"]
        );
        assert_eq!(
            keys(&["sort", "abc", "get", "store", "limit", "0", "1"]),
            ["abc"]
        );
        assert_eq!(keys(&["sort_ro", "abc"]), ["abc"]);
        assert_eq!(keys(&["migrate", "h", "1", "k", "0", "5", "copy"]), ["k"]);
        let many = [
            "migrate", "h", "1", "", "0", "5", "auth2", "keys", "p", "keys", "a", "b",
        ];
        assert_eq!(keys(&many), ["a", "b"]);
    }

    #[test]
    fn set_and_bitfield_flags_follow_their_arguments() {
        let flags = |words: &[&[u8]]| {
            let entry = command_of(words).expect("a served command");
            find_keys(entry, words)[0].flags
        };
        assert_eq!(flags(&[b"set", b"k", b"v"]), ["OW", "update"]);
        assert_eq!(
            flags(&[b"set", b"k", b"v", b"GET"]),
            ["RW", "access", "update"]
        );
        assert_eq!(
            flags(&[b"bitfield", b"k", b"get", b"u8", b"0"]),
            ["RO", "access"]
        );
        assert_eq!(
            flags(&[b"bitfield", b"k", b"incrby", b"u8", b"0", b"1"]),
            ["RW", "access", "update"]
        );
    }

    #[test]
    fn a_numkeys_past_the_end_finds_nothing() {
        assert!(keys(&["zunionstore", "t", "9", "a"]).is_empty());
        assert!(keys(&["zunionstore", "t", "x", "a"]).is_empty());
        assert!(keys(&["zunionstore", "t", "-1", "a"]).is_empty());
    }
}
