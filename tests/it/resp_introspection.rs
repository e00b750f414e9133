//! What introspection tools read of resp (issue 26): CLIENT KILL's and
//! CLIENT LIST's filters and errors, the fields of a CLIENT LIST line, and
//! COMMAND LIST FILTERBY, compared with redis-server 7.0 where the replies
//! do not depend on ids, addresses or hash order. 4 shards, so the
//! connections a command means are on several.

use std::process::{Command, Stdio};

use crate::common::resp::{assert_same_replies, redis, Resp};
use crate::common::*;

/// Errors and empty replies, byte for byte as redis's.
#[test]
fn filters_and_errors_equal_redis() {
    let server = TestServer::builder().start();
    let redis = redis();
    for proto in ["2", "3"] {
        let mut ours = Resp::connect(server.addr("resp"));
        let mut theirs = Resp::connect(redis.addr);
        ours.call(&[b"HELLO", proto.as_bytes()]);
        theirs.call(&[b"HELLO", proto.as_bytes()]);
        assert_same_replies(
            &mut ours,
            &mut theirs,
            &[
                "CLIENT KILL",
                "CLIENT KILL ID",
                "CLIENT KILL ID 10 wrong_arg",
                "CLIENT KILL ID str",
                "CLIENT KILL ID -1",
                "CLIENT KILL ID 0",
                "CLIENT KILL ID 99999",
                "CLIENT KILL TYPE wrong_type",
                "CLIENT KILL USER wrong_user",
                "CLIENT KILL SKIPME yes_or_no",
                "CLIENT KILL 1.2.3.4:5",
                "CLIENT KILL ADDR 1.2.3.4:5",
                "CLIENT KILL LADDR 1.2.3.4:5 TYPE master",
                "CLIENT KILL TYPE pubsub",
                "CLIENT KILL MAXAGE 10",
                "CLIENT LIST ID 99999",
                "CLIENT LIST ID 99999 -5 0",
                "CLIENT LIST TYPE bogus",
                "CLIENT LIST TYPE pubsub",
                "CLIENT LIST TYPE replica",
                "CLIENT LIST ID abc",
                "CLIENT LIST ID 1 abc",
                "CLIENT LIST ID",
                "CLIENT LIST TYPE",
                "CLIENT LIST bogus",
                "COMMAND LIST FILTERBY PATTERN getr*",
                "COMMAND LIST FILTERBY pattern GETR*",
                "COMMAND LIST FILTERBY PATTERN nomatch*",
                "COMMAND LIST FILTERBY MODULE foo",
                "COMMAND LIST FILTERBY ACLCAT nosuchcategory",
                "COMMAND LIST bad_arg",
                "COMMAND LIST FILTERBY",
                "COMMAND LIST FILTERBY PATTERN",
                "COMMAND LIST FILTERBY bogus x",
                "COMMAND LIST FILTERBY PATTERN a b",
                "COMMAND GETKEYS GET key",
                "COMMAND GETKEYS get",
                "COMMAND GETKEYS GET a b",
                "COMMAND GETKEYS PING",
                "COMMAND GETKEYS MEMORY USAGE key",
                "COMMAND GETKEYS MEMORY NOSUCH key",
                "COMMAND GETKEYS MSET k1 v1 k2 v2",
                "COMMAND GETKEYS ZUNIONSTORE target 3 a b c WEIGHTS 1 2 3",
                "COMMAND GETKEYS ZUNIONSTORE target 9 a",
                "COMMAND GETKEYS ZUNIONSTORE target x a",
                "COMMAND GETKEYS LMPOP 2 a b LEFT COUNT 2",
                "COMMAND GETKEYS SINTERCARD 2 a b LIMIT 1",
                "COMMAND GETKEYS BLMPOP 0 2 a b LEFT",
                "COMMAND GETKEYS LCS key1 key2",
                "COMMAND GETKEYS BITFIELD k GET u8 0",
                "COMMAND GETKEYS NOSUCHCOMMAND a",
                "COMMAND GETKEYSANDFLAGS SET k1 v1",
                "COMMAND GETKEYSANDFLAGS MSET k1 v1 k2 v2",
                "COMMAND GETKEYSANDFLAGS LMOVE k1 k2 left right",
                "COMMAND GETKEYSANDFLAGS ZINTERSTORE t 2 a b",
                "COMMAND GETKEYSANDFLAGS",
            ],
            &format!("RESP{proto}: "),
        );
    }
    server.stop().assert_clean();
}

/// A CLIENT LIST line says where the connection came in (`laddr=`), its
/// descriptor, the subcommand run (`cmd=client|list`) and, for the
/// caller, the bytes of the command (`qbuf=26` for `CLIENT LIST`, as
/// redis's own test expects); the ID and TYPE filters list what they name.
#[test]
fn client_list_lines_and_filters() {
    let server = TestServer::builder().start();
    let addr = server.addr("resp");
    let mut me = Resp::connect(addr);
    let my_id = me.cmd("CLIENT ID");
    let my_id = my_id.trim_start_matches(':').trim();
    let list = String::from_utf8_lossy(&me.call(&[b"CLIENT", b"LIST"])).into_owned();
    let mine = list
        .lines()
        .find(|line| line.contains(&format!("id={my_id} ")))
        .expect("my line");
    assert!(mine.contains(&format!(" laddr={addr} ")), "{mine}");
    assert!(mine.contains(" qbuf=26 "), "{mine}");
    assert!(mine.contains(" cmd=client|list "), "{mine}");
    let fd: i32 = mine
        .split(" fd=")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|fd| fd.parse().ok())
        .expect("fd=");
    assert!(fd > 2, "{mine}");
    let info = me.cmd("CLIENT INFO");
    assert!(
        info.contains(" qbuf=26 ") && info.contains(" cmd=client|info "),
        "{info}"
    );

    // A subscriber elsewhere: TYPE pubsub lists it alone, TYPE normal
    // does not list it; ID lists the ids asked for, in their order.
    let mut others: Vec<Resp> = (0..5).map(|_| Resp::connect(addr)).collect();
    let ids: Vec<String> = others
        .iter_mut()
        .map(|other| {
            other
                .cmd("CLIENT ID")
                .trim_start_matches(':')
                .trim()
                .to_string()
        })
        .collect();
    others[0].cmd("SUBSCRIBE news");
    let pubsub = me.cmd("CLIENT LIST TYPE pubsub");
    assert_eq!(pubsub.matches("id=").count(), 1, "{pubsub}");
    assert!(pubsub.contains(&format!("id={} ", ids[0])), "{pubsub}");
    let normal = me.cmd("CLIENT LIST TYPE normal");
    assert!(!normal.contains(&format!("id={} ", ids[0])), "{normal}");
    assert_eq!(normal.matches("id=").count(), 5, "{normal}");
    let asked = format!("CLIENT LIST ID {} 99999 {} {my_id}", ids[3], ids[1]);
    let listed = me.cmd(&asked);
    let order: Vec<&str> = listed
        .split("id=")
        .skip(1)
        .map(|rest| rest.split(' ').next().unwrap_or_default())
        .collect();
    assert_eq!(order, [ids[3].as_str(), ids[1].as_str(), my_id], "{listed}");
    server.stop().assert_clean();
}

/// CLIENT KILL SKIPME yes kills every other connection, on every shard;
/// SKIPME no the caller too, whose reply still arrives before it closes
/// (redis's `CLIENT KILL SKIPME YES/NO will kill all clients`).
#[test]
fn client_kill_skipme_kills_every_other_connection_or_all() {
    let server = TestServer::builder().start();
    let addr = server.addr("resp");
    let mut me = Resp::connect(addr);
    let mut others: Vec<Resp> = (0..6).map(|_| Resp::connect(addr)).collect();
    for other in &mut others {
        assert_eq!(other.cmd("PING"), "+PONG\r\n");
    }
    assert_eq!(me.cmd("CLIENT KILL SKIPME yes"), ":6\r\n");
    for other in &mut others {
        assert_eq!(other.rest_until_closed(), b"");
    }
    assert_eq!(me.cmd("PING"), "+PONG\r\n");
    let mut more: Vec<Resp> = (0..2).map(|_| Resp::connect(addr)).collect();
    for other in &mut more {
        assert_eq!(other.cmd("PING"), "+PONG\r\n");
    }
    // TYPE pubsub: nobody subscribes.
    assert_eq!(me.cmd("CLIENT KILL TYPE pubsub"), ":0\r\n");
    // ADDR: one connection, by its address.
    let line = more[1].cmd("CLIENT INFO");
    let peer = line
        .split(" addr=")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .expect("addr=")
        .to_string();
    assert_eq!(me.cmd(&format!("CLIENT KILL ADDR {peer}")), ":1\r\n");
    assert_eq!(more[1].rest_until_closed(), b"");
    assert_eq!(me.cmd("CLIENT KILL SKIPME no"), ":2\r\n");
    assert_eq!(me.rest_until_closed(), b"");
    assert_eq!(more[0].rest_until_closed(), b"");
    server.stop().assert_clean();
}

/// redis-cli reads COMMAND LIST FILTERBY as from redis: the bitmap
/// commands (all served) by ACL category, names by pattern.
#[test]
fn command_list_filterby_equals_redis_for_redis_cli() {
    let server = TestServer::builder().start();
    let redis = redis();
    let cli = |port: u16, args: &[&str]| {
        let output = Command::new("redis-cli")
            .arg("-p")
            .arg(port.to_string())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("redis-cli runs (.ci/run installs redis-tools)");
        let mut lines: Vec<String> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        lines.sort();
        lines
    };
    let ours = server.addr("resp").port();
    for filter in [
        ["COMMAND", "LIST", "FILTERBY", "ACLCAT", "bitmap"],
        ["COMMAND", "LIST", "FILTERBY", "PATTERN", "*bit*"],
        ["COMMAND", "LIST", "FILTERBY", "PATTERN", "get?"],
    ] {
        assert_eq!(
            cli(ours, &filter),
            cli(redis.addr.port(), &filter),
            "{filter:?}"
        );
    }
    server.stop().assert_clean();
}

/// CLIENT HELP and CONFIG HELP answer as redis's `addReplyHelp` writes
/// them (the unknown-subcommand error sends users there): CONFIG's exactly
/// as redis's, CLIENT's with redis's lines for the subcommands served.
#[test]
fn help_subcommands_answer_as_redis() {
    let server = TestServer::builder().start();
    let redis = redis();
    let mut ours = Resp::connect(server.addr("resp"));
    let mut theirs = Resp::connect(redis.addr);
    assert_same_replies(&mut ours, &mut theirs, &["CONFIG HELP", "config help"], "");
    let help = String::from_utf8_lossy(&ours.call(&[b"client", b"help"])).into_owned();
    assert!(
        help.starts_with(
            "*39\r\n+CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"
        ),
        "{help}"
    );
    assert!(
        help.ends_with("+HELP\r\n+    Prints this help.\r\n"),
        "{help}"
    );
    let redis_help = String::from_utf8_lossy(&theirs.call(&[b"client", b"help"])).into_owned();
    for served in [
        "GETNAME",
        "ID",
        "LIST [options ...]",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    ] {
        let line = format!("\r\n+{served}\r\n");
        assert!(
            help.contains(&line) && redis_help.contains(&line),
            "{served}"
        );
    }
    server.stop().assert_clean();
}
