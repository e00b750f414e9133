//! The table's replies against redis-server 7.0.15's, byte for byte.

use super::*;

fn info(names: &[&str], resp3: bool) -> Vec<u8> {
    let names: Vec<&[u8]> = names.iter().map(|n| n.as_bytes()).collect();
    let mut out = Vec::new();
    write_command_info_reply(&names, resp3, &mut out);
    out
}

fn docs(names: &[&str], resp3: bool) -> Vec<u8> {
    let names: Vec<&[u8]> = names.iter().map(|n| n.as_bytes()).collect();
    let mut out = Vec::new();
    write_command_docs(&names, resp3, &mut out);
    out
}

/// FNV-1a, 64 bits, as gen_command_table.py hashes redis's replies.
fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn command_info_is_redis_bytes() {
    // COMMAND INFO get set mget client|kill nosuch, asked of
    // redis-server 7.0.15 by gen_command_table.py.
    assert_eq!(
        text(&info(captured::INFO_NAMES, false)),
        captured::INFO_RESP2
    );
    assert_eq!(
        text(&info(captured::INFO_NAMES, true)),
        captured::INFO_RESP3
    );
}

#[test]
fn command_docs_is_redis_bytes() {
    assert_eq!(
        text(&docs(captured::DOCS_NAMES, false)),
        captured::DOCS_RESP2
    );
    assert_eq!(
        text(&docs(captured::DOCS_NAMES, true)),
        captured::DOCS_RESP3
    );
}

#[test]
fn every_entry_is_redis_bytes() {
    let mut wrong = Vec::new();
    for &(name, info_hashes, docs_hashes) in captured::REPLY_HASHES {
        for (resp3, protocol) in [(false, 0), (true, 1)] {
            if fnv1a(&info(&[name], resp3)) != info_hashes[protocol] {
                wrong.push(format!("COMMAND INFO {name} (resp3: {resp3})"));
            }
            if fnv1a(&docs(&[name], resp3)) != docs_hashes[protocol] {
                wrong.push(format!("COMMAND DOCS {name} (resp3: {resp3})"));
            }
        }
    }
    assert!(wrong.is_empty(), "not redis's bytes: {wrong:#?}");
    let names: usize = COMMANDS.iter().map(|e| 1 + e.subcommands.len()).sum();
    assert_eq!(names, captured::REPLY_HASHES.len());
}

#[test]
fn table_is_sorted_lowercase_and_fits_the_name_buffer() {
    assert!(COMMANDS.windows(2).all(|w| w[0].name < w[1].name));
    for entry in COMMANDS {
        assert!(entry.subcommands.windows(2).all(|w| w[0].name < w[1].name));
        for e in std::iter::once(entry).chain(entry.subcommands) {
            assert_eq!(e.name, e.name.to_ascii_lowercase());
            assert!(e.name.len() <= data::MAX_NAME_LEN);
            assert!(std::ptr::eq(lookup(e.name.as_bytes()).unwrap(), e));
        }
        for sub in entry.subcommands {
            let (parent, own) = sub.name.split_once('|').unwrap();
            assert_eq!(parent, entry.name);
            assert!(sub.subcommands.is_empty());
            let upper = own.to_ascii_uppercase();
            assert!(std::ptr::eq(
                lookup_subcommand(entry, upper.as_bytes()).unwrap(),
                sub
            ));
        }
    }
}

#[test]
fn lookup_ignores_case_and_takes_only_known_names() {
    assert_eq!(lookup(b"GET").unwrap().name, "get");
    assert_eq!(lookup(b"gEt").unwrap().name, "get");
    assert_eq!(lookup(b"Client|KILL").unwrap().name, "client|kill");
    assert_eq!(lookup(b"CLIENT").unwrap().name, "client");
    assert_eq!(lookup(b"client|setinfo").unwrap().arity, 4);
    for unknown in [
        &b""[..],
        b"nosuch",
        b"ge",
        b"gett",
        b"client|",
        b"client|pause",
        b"|kill",
        b"get|x",
        b"client|kill|x",
        b"cluster|countkeysinslotx",
        b"getgetgetgetgetgetgetgetgetgetgetgetgetget",
    ] {
        assert!(lookup(unknown).is_none(), "{}", text(unknown));
    }
    let client = lookup(b"client").unwrap();
    assert!(lookup_subcommand(client, b"pause").is_none());
    assert!(lookup_subcommand(client, b"").is_none());
    assert!(lookup_subcommand(lookup(b"get").unwrap(), b"x").is_none());
}

#[test]
fn arity_follows_redis_rule() {
    let get = lookup(b"get").unwrap(); // 2
    assert!(!arity_ok(get, 1));
    assert!(arity_ok(get, 2));
    assert!(!arity_ok(get, 3));
    let set = lookup(b"set").unwrap(); // -3
    assert!(!arity_ok(set, 2));
    assert!(arity_ok(set, 3));
    assert!(arity_ok(set, 7));
}

#[test]
fn count_list_and_all() {
    let mut out = Vec::new();
    write_command_count(&mut out);
    assert_eq!(text(&out), format!(":{}\r\n", COMMANDS.len()));

    out.clear();
    write_command_list(&mut out);
    let list = text(&out);
    let names: usize = COMMANDS.iter().map(|e| 1 + e.subcommands.len()).sum();
    let head = format!("*{names}\r\n$3\r\nacl\r\n$11\r\nacl|deluser\r\n");
    assert!(list.starts_with(&head), "{list}");
    assert!(list.contains("$6\r\nappend\r\n$4\r\nauth\r\n"));
    assert!(list.contains("$6\r\nclient\r\n$14\r\nclient|caching\r\n"));

    for resp3 in [false, true] {
        let mut all = Vec::new();
        write_all_commands(resp3, &mut all);
        assert_eq!(info(&[], resp3), all);
        let mut each = format!("*{}\r\n", COMMANDS.len()).into_bytes();
        for entry in COMMANDS {
            write_command_info(entry, resp3, &mut each);
        }
        assert_eq!(all, each);
    }
}

#[test]
fn docs_with_no_names_is_every_command() {
    let all = docs(&[], true);
    assert!(all.starts_with(format!("%{}\r\n$3\r\nacl\r\n", COMMANDS.len()).as_bytes()));
    let names: Vec<&str> = COMMANDS.iter().map(|e| e.name).collect();
    assert_eq!(all, docs(&names, true));
    assert_eq!(docs(&["nosuch"], false), b"*0\r\n");
    assert_eq!(docs(&["nosuch"], true), b"%0\r\n");
}

#[test]
fn integers_are_written_in_full() {
    let mut out = Vec::new();
    for n in [0, 7, -1, 10, -3, 1_000_000, i64::MIN, i64::MAX] {
        out.clear();
        push_int(&mut out, n);
        assert_eq!(text(&out), format!(":{n}\r\n"));
    }
}
