//! The `COMMAND` table of the resp service: for every command it serves,
//! what redis 7.0's `COMMAND INFO` and `COMMAND DOCS` say of it, and the
//! writers of `COMMAND`, `COMMAND INFO`, `COMMAND COUNT`, `COMMAND LIST` and
//! `COMMAND DOCS` replies.
//!
//! Why redis's own words: cluster clients (and proxies) ask `COMMAND` once
//! and route every request by what it says (where the keys are: first key,
//! last key, step and the key specifications; whether a command writes), so a
//! reply that differs from redis's sends requests to the wrong node. The
//! table ([`COMMANDS`], in `data.rs`) is generated from a live
//! redis-server 7.0.15 by `crates/protocols/src/resp/gen_command_table.py`, which
//! says how to rerun it; the tests compare the writers' bytes with redis's
//! replies (`captured.rs`, from the same script).
//!
//! On purpose unlike redis: a container (CLIENT, CONFIG, CLUSTER, COMMAND,
//! PUBSUB) lists only the subcommands percore serves, sorted by name, and
//! CLIENT SETINFO (redis 7.2) is there in 7.0's shape with 7.2's values.

#[cfg(test)]
mod captured;
mod data;

use super::protocol::write::{self, Proto};

pub use data::COMMANDS;

/// One command (or subcommand) as `COMMAND INFO` describes it, with its
/// `COMMAND DOCS`.
#[derive(Debug)]
pub struct CommandEntry {
    /// Lowercase; a subcommand's is `parent|sub`.
    pub name: &'static str,
    /// The number of arguments, the name included: exactly this many when
    /// positive, at least `-arity` when negative (see [`arity_ok`]).
    pub arity: i32,
    /// The command flags (`write`, `readonly`, `fast`, ...).
    pub flags: &'static [&'static str],
    /// The first key's position (0: none).
    pub first_key: i32,
    /// The last key's position (negative: counted from the end).
    pub last_key: i32,
    /// The distance between keys.
    pub step: i32,
    /// The ACL categories (`@read`, `@string`, ...).
    pub acl_categories: &'static [&'static str],
    /// The hints for clients and proxies (`request_policy:all_shards`, ...).
    pub tips: &'static [&'static str],
    /// Where the keys are, in full.
    pub key_specs: &'static [KeySpec],
    /// A container's subcommands (served ones only, sorted by name).
    pub subcommands: &'static [CommandEntry],
    /// The fields of its `COMMAND DOCS` map in redis's order, all but
    /// `subcommands` (written from [`CommandEntry::subcommands`]).
    pub docs: &'static [(&'static str, DocValue)],
}

/// A key specification: one kind of key argument and how to find it.
#[derive(Debug)]
pub struct KeySpec {
    /// A note for humans, when redis has one.
    pub notes: Option<&'static str>,
    /// The flags (`RO`, `RW`, `access`, `update`, ...).
    pub flags: &'static [&'static str],
    /// Where the search for the keys starts.
    pub begin_search: BeginSearch,
    /// How the keys are found from there.
    pub find_keys: FindKeys,
}

/// `begin_search` of a [`KeySpec`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeginSearch {
    /// At a fixed argument.
    Index {
        /// The argument's position.
        index: i32,
    },
    /// After a keyword.
    Keyword {
        /// The keyword.
        keyword: &'static str,
        /// Where to look for it from (negative: from the end).
        startfrom: i32,
    },
    /// Not described.
    Unknown,
}

/// `find_keys` of a [`KeySpec`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindKeys {
    /// A range of arguments.
    Range {
        /// The last key, relative to the first (negative: from the end).
        lastkey: i32,
        /// The distance between keys.
        keystep: i32,
        /// With `lastkey` -1: only 1/limit of the rest (0: all).
        limit: i32,
    },
    /// An argument says how many keys follow.
    Keynum {
        /// Where that count is, relative to the begin search.
        keynumidx: i32,
        /// Where the first key is, relative to the begin search.
        firstkey: i32,
        /// The distance between keys.
        keystep: i32,
    },
    /// Not described.
    Unknown,
}

/// A value in `COMMAND DOCS`, typed as redis writes it.
#[derive(Debug)]
pub enum DocValue {
    /// A bulk string.
    Bulk(&'static str),
    /// A simple string (`+optional`).
    Status(&'static str),
    /// An integer.
    Int(i64),
    /// An array.
    Array(&'static [DocValue]),
    /// A set (`~` in RESP3, an array in RESP2).
    Set(&'static [DocValue]),
    /// A map with bulk-string keys (`%` in RESP3, a flat array in RESP2).
    Map(&'static [(&'static str, DocValue)]),
}

/// The entry named `name`, ignoring ASCII case: a command (`get`) or a
/// subcommand as `parent|sub` (`client|kill`), as `COMMAND INFO` and
/// `COMMAND DOCS` take them. Allocates nothing: the name is lowercased on
/// the stack and found by binary search.
///
/// To dispatch a request, look its first argument up with a name that has
/// no `|` (redis does not take `client|kill` as a command name), then its
/// second with [`lookup_subcommand`] when the entry has subcommands.
pub fn lookup(name: &[u8]) -> Option<&'static CommandEntry> {
    let mut buf = [0u8; data::MAX_NAME_LEN];
    let lower = buf.get_mut(..name.len())?;
    for (to, from) in lower.iter_mut().zip(name) {
        *to = from.to_ascii_lowercase();
    }
    let lower = &*lower;
    let parent_len = memchr::memchr(b'|', lower).unwrap_or(lower.len());
    let (parent_name, _) = lower.split_at(parent_len);
    let index = COMMANDS
        .binary_search_by(|e| e.name.as_bytes().cmp(parent_name))
        .ok()?;
    let parent = COMMANDS.get(index)?;
    if parent_len == lower.len() {
        return Some(parent);
    }
    parent
        .subcommands
        .iter()
        .find(|sub| sub.name.as_bytes() == lower)
}

/// `parent`'s subcommand `sub` (ignoring ASCII case: `KILL` of `client`).
pub fn lookup_subcommand(
    parent: &'static CommandEntry,
    sub: &[u8],
) -> Option<&'static CommandEntry> {
    parent.subcommands.iter().find(|e| {
        e.name
            .as_bytes()
            .get(parent.name.len() + 1..)
            .is_some_and(|own| own.eq_ignore_ascii_case(sub))
    })
}

/// Whether `argc` arguments (the command's name, and a subcommand's, counted)
/// suit the entry's arity: exactly `arity` when positive, at least `-arity`
/// when negative.
pub fn arity_ok(entry: &CommandEntry, argc: usize) -> bool {
    let want = entry.arity.unsigned_abs() as usize;
    if entry.arity >= 0 {
        argc == want
    } else {
        argc >= want
    }
}

/// Appends one entry of `COMMAND INFO` (an array of 10), redis's bytes.
pub fn write_command_info(entry: &CommandEntry, resp3: bool, out: &mut Vec<u8>) {
    push_head(out, b'*', 10);
    push_bulk(out, entry.name);
    push_int(out, entry.arity.into());
    push_statuses(out, resp3, entry.flags);
    push_int(out, entry.first_key.into());
    push_int(out, entry.last_key.into());
    push_int(out, entry.step.into());
    push_statuses(out, resp3, entry.acl_categories);
    push_set_len(out, resp3, entry.tips.len());
    for tip in entry.tips {
        push_bulk(out, tip);
    }
    push_set_len(out, resp3, entry.key_specs.len());
    for spec in entry.key_specs {
        write_key_spec(spec, resp3, out);
    }
    // redis writes a command without subcommands an empty set, and a
    // container's subcommands an array.
    if entry.subcommands.is_empty() {
        push_set_len(out, resp3, 0);
    } else {
        push_head(out, b'*', entry.subcommands.len());
        for sub in entry.subcommands {
            write_command_info(sub, resp3, out);
        }
    }
}

/// Appends the reply to a bare `COMMAND`: every command's entry, in table
/// order.
pub fn write_all_commands(resp3: bool, out: &mut Vec<u8>) {
    push_head(out, b'*', COMMANDS.len());
    for entry in COMMANDS {
        write_command_info(entry, resp3, out);
    }
}

/// Appends the reply to `COMMAND INFO names...`: an entry per name, null
/// (`$-1` in RESP2, `_` in RESP3, as redis 7.0 writes) for a name not
/// served; with no names, every command's, as [`write_all_commands`].
pub fn write_command_info_reply(names: &[&[u8]], resp3: bool, out: &mut Vec<u8>) {
    if names.is_empty() {
        write_all_commands(resp3, out);
        return;
    }
    push_head(out, b'*', names.len());
    for name in names {
        match lookup(name) {
            Some(entry) => write_command_info(entry, resp3, out),
            None => push_null(out, resp3),
        }
    }
}

/// Appends the reply to `COMMAND COUNT`: the number of commands (not
/// counting subcommands).
pub fn write_command_count(out: &mut Vec<u8>) {
    push_int(out, COMMANDS.len() as i64);
}

/// Appends the reply to `COMMAND LIST`: every name, each container's
/// subcommands (`parent|sub`) after it.
pub fn write_command_list(out: &mut Vec<u8>) {
    let total: usize = COMMANDS.iter().map(|e| 1 + e.subcommands.len()).sum();
    push_head(out, b'*', total);
    for entry in COMMANDS {
        push_bulk(out, entry.name);
        for sub in entry.subcommands {
            push_bulk(out, sub.name);
        }
    }
}

/// Appends the reply to `COMMAND DOCS names...`: a map from each served
/// name (its entry's name: lowercase, `parent|sub`) to its docs, names not
/// served left out; with no names, every command's.
pub fn write_command_docs(names: &[&[u8]], resp3: bool, out: &mut Vec<u8>) {
    if names.is_empty() {
        push_map_len(out, resp3, COMMANDS.len());
        for entry in COMMANDS {
            push_bulk(out, entry.name);
            write_docs(entry, resp3, out);
        }
        return;
    }
    let found = names.iter().filter(|n| lookup(n).is_some()).count();
    push_map_len(out, resp3, found);
    for entry in names.iter().filter_map(|n| lookup(n)) {
        push_bulk(out, entry.name);
        write_docs(entry, resp3, out);
    }
}

/// One entry's docs map, its subcommands' after its own fields.
fn write_docs(entry: &CommandEntry, resp3: bool, out: &mut Vec<u8>) {
    let subs = !entry.subcommands.is_empty();
    push_map_len(out, resp3, entry.docs.len() + usize::from(subs));
    for (key, value) in entry.docs {
        push_bulk(out, key);
        write_doc_value(value, resp3, out);
    }
    if subs {
        push_bulk(out, "subcommands");
        push_map_len(out, resp3, entry.subcommands.len());
        for sub in entry.subcommands {
            push_bulk(out, sub.name);
            write_docs(sub, resp3, out);
        }
    }
}

fn write_doc_value(value: &DocValue, resp3: bool, out: &mut Vec<u8>) {
    match value {
        DocValue::Bulk(s) => push_bulk(out, s),
        DocValue::Status(s) => push_status(out, s),
        DocValue::Int(n) => push_int(out, *n),
        DocValue::Array(items) => {
            push_head(out, b'*', items.len());
            for item in *items {
                write_doc_value(item, resp3, out);
            }
        }
        DocValue::Set(items) => {
            push_set_len(out, resp3, items.len());
            for item in *items {
                write_doc_value(item, resp3, out);
            }
        }
        DocValue::Map(pairs) => {
            push_map_len(out, resp3, pairs.len());
            for (key, value) in *pairs {
                push_bulk(out, key);
                write_doc_value(value, resp3, out);
            }
        }
    }
}

/// A key spec as redis 7.0's `addReplyCommandKeySpecs` writes it.
fn write_key_spec(spec: &KeySpec, resp3: bool, out: &mut Vec<u8>) {
    push_map_len(out, resp3, 3 + usize::from(spec.notes.is_some()));
    if let Some(notes) = spec.notes {
        push_bulk(out, "notes");
        push_bulk(out, notes);
    }
    push_bulk(out, "flags");
    push_statuses(out, resp3, spec.flags);
    push_bulk(out, "begin_search");
    push_map_len(out, resp3, 2);
    push_bulk(out, "type");
    match spec.begin_search {
        BeginSearch::Index { index } => {
            push_bulk(out, "index");
            push_bulk(out, "spec");
            push_map_len(out, resp3, 1);
            push_field_int(out, "index", index);
        }
        BeginSearch::Keyword { keyword, startfrom } => {
            push_bulk(out, "keyword");
            push_bulk(out, "spec");
            push_map_len(out, resp3, 2);
            push_bulk(out, "keyword");
            push_bulk(out, keyword);
            push_field_int(out, "startfrom", startfrom);
        }
        BeginSearch::Unknown => {
            push_bulk(out, "unknown");
            push_bulk(out, "spec");
            push_map_len(out, resp3, 0);
        }
    }
    push_bulk(out, "find_keys");
    push_map_len(out, resp3, 2);
    push_bulk(out, "type");
    match spec.find_keys {
        FindKeys::Range {
            lastkey,
            keystep,
            limit,
        } => {
            push_bulk(out, "range");
            push_bulk(out, "spec");
            push_map_len(out, resp3, 3);
            push_field_int(out, "lastkey", lastkey);
            push_field_int(out, "keystep", keystep);
            push_field_int(out, "limit", limit);
        }
        FindKeys::Keynum {
            keynumidx,
            firstkey,
            keystep,
        } => {
            push_bulk(out, "keynum");
            push_bulk(out, "spec");
            push_map_len(out, resp3, 3);
            push_field_int(out, "keynumidx", keynumidx);
            push_field_int(out, "firstkey", firstkey);
            push_field_int(out, "keystep", keystep);
        }
        FindKeys::Unknown => {
            push_bulk(out, "unknown");
            push_bulk(out, "spec");
            push_map_len(out, resp3, 0);
        }
    }
}

// ---- RESP pieces: the protocol's writer, with the table's `resp3` flag.

fn proto(resp3: bool) -> Proto {
    if resp3 {
        Proto::Resp3
    } else {
        Proto::Resp2
    }
}

/// `kind` and a length or number, then CRLF: `*3\r\n`.
fn push_head(out: &mut Vec<u8>, kind: u8, n: usize) {
    out.push(kind);
    write::push_decimal(out, n as i64);
    out.extend_from_slice(b"\r\n");
}

fn push_int(out: &mut Vec<u8>, n: i64) {
    write::int(out, n);
}

fn push_bulk(out: &mut Vec<u8>, s: &str) {
    write::bulk(out, s.as_bytes());
}

fn push_status(out: &mut Vec<u8>, s: &str) {
    write::simple(out, s.as_bytes());
}

/// A set of simple strings (flags, ACL categories).
fn push_statuses(out: &mut Vec<u8>, resp3: bool, items: &[&str]) {
    push_set_len(out, resp3, items.len());
    for item in items {
        push_status(out, item);
    }
}

fn push_field_int(out: &mut Vec<u8>, key: &str, n: i32) {
    push_bulk(out, key);
    push_int(out, n.into());
}

fn push_set_len(out: &mut Vec<u8>, resp3: bool, n: usize) {
    write::set_len(out, n, proto(resp3));
}

fn push_map_len(out: &mut Vec<u8>, resp3: bool, n: usize) {
    write::map_len(out, n, proto(resp3));
}

fn push_null(out: &mut Vec<u8>, resp3: bool) {
    write::null(out, proto(resp3));
}

#[cfg(test)]
mod tests;
