//! resp's introspection (issue 26, part B) on 4 shards, against
//! redis-server 7.0 doing the same: INFO's sections and the commandstats,
//! errorstats and latencystats figures (counted per shard, merged), the
//! replication fields tools read, CONFIG RESETSTAT, CONFIG SET of several
//! parameters (all or nothing) and GET of several patterns, CLIENT REPLY,
//! CLIENT NO-EVICT, and MONITOR seeing the commands every shard serves.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::Command;

use crate::common::resp::{redis, Resp};
use crate::common::*;

/// An INFO reply's text, its bulk header dropped.
fn info(conn: &mut Resp, sections: &str) -> String {
    let line = if sections.is_empty() {
        "INFO".to_string()
    } else {
        format!("INFO {sections}")
    };
    let reply = conn.cmd(&line);
    let body = reply.split_once("\r\n").map_or("", |(_, body)| body);
    body.to_string()
}

fn headers(text: &str) -> Vec<String> {
    text.lines()
        .filter(|line| line.starts_with("# "))
        .map(str::to_string)
        .collect()
}

/// `field:value` lines of INFO as a map.
fn fields(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|line| line.trim_end().split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn info_chooses_sections_as_redis_does() {
    let server = TestServer::builder().services(&["resp"]).start();
    let redis = redis();
    let mut ours = Resp::connect(server.addr("resp"));
    let mut theirs = Resp::connect(redis.addr);
    for sections in [
        "",
        "default",
        "all",
        "everything",
        "commandSTATS",
        "cpu sentinel",
        "cpu all",
        "cpu default",
        "errorstats latencystats",
        "replication",
    ] {
        assert_eq!(
            headers(&info(&mut ours, sections)),
            headers(&info(&mut theirs, sections)),
            "INFO {sections}"
        );
    }
    // The replication fields tools read, as a master without replicas.
    let (a, b) = (
        fields(&info(&mut ours, "replication")),
        fields(&info(&mut theirs, "replication")),
    );
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (field, value) in &b {
        if field != "master_replid" {
            assert_eq!(&a[field], value, "{field}");
        }
    }
    assert_eq!(a["master_replid"].len(), 40);
    server.stop().assert_clean();
}

/// The same commands on `addr` from two connections (on different shards
/// of percore), then INFO's command figures without the times.
fn counted(addr: SocketAddr) -> (Vec<String>, String, String) {
    let mut a = Resp::connect(addr);
    let mut b = Resp::connect(addr);
    assert_eq!(a.cmd("CONFIG RESETSTAT"), "+OK\r\n");
    for i in 0..20 {
        let conn = if i % 2 == 0 { &mut a } else { &mut b };
        conn.cmd(&format!("SET key{i} {i}"));
        conn.cmd(&format!("INCR key{i}"));
    }
    a.cmd("SET text abc");
    a.cmd("INCR text"); // failed: not an integer
    b.cmd("INCRBY text x"); // failed
    a.cmd("GET"); // rejected: arity
    b.cmd("NOSUCHCOMMAND x"); // an error, no command
    a.cmd("MGET key1 key2 key3");
    a.cmd("DEL key1 key2 nokey");
    let stats = info(&mut b, "commandstats");
    let mut lines: Vec<String> = stats
        .lines()
        .filter(|line| line.starts_with("cmdstat_") && !line.starts_with("cmdstat_info"))
        .map(|line| {
            // Times differ; calls, rejections and failures must not.
            let (name, rest) = line.split_once(':').expect("a field");
            let kept: Vec<&str> = rest.split(',').filter(|f| !f.starts_with("usec")).collect();
            format!("{name}:{}", kept.join(","))
        })
        .collect();
    lines.sort();
    let errors = info(&mut b, "errorstats");
    let total = fields(&info(&mut b, "stats"))["total_error_replies"].clone();
    (lines, errors, total)
}

#[test]
fn commandstats_and_errorstats_count_as_redis_over_every_shard() {
    let server = TestServer::builder().services(&["resp"]).start();
    let redis = redis();
    let ours = counted(server.addr("resp"));
    let theirs = counted(redis.addr);
    assert_eq!(ours.0, theirs.0, "commandstats");
    assert_eq!(ours.1, theirs.1, "errorstats");
    assert_eq!(ours.2, theirs.2, "total_error_replies");
    assert!(ours
        .0
        .iter()
        .any(|l| l.starts_with("cmdstat_set:calls=21,")));

    // Latency percentiles from the shards' histograms, merged.
    let mut conn = Resp::connect(server.addr("resp"));
    let latency = info(&mut conn, "latencystats");
    let set = latency
        .lines()
        .find(|l| l.starts_with("latency_percentiles_usec_set:"))
        .unwrap_or_else(|| panic!("{latency}"));
    let percentiles: Vec<f64> = set
        .split(':')
        .nth(1)
        .expect("values")
        .split(',')
        .map(|kv| {
            kv.split('=')
                .nth(1)
                .expect("p=v")
                .parse()
                .expect("a number")
        })
        .collect();
    assert_eq!(percentiles.len(), 3, "{set}");
    assert!(
        percentiles[0] >= 1.0 && percentiles[0] <= percentiles[2],
        "{set}"
    );

    // RESETSTAT clears every shard's.
    assert_eq!(conn.cmd("CONFIG RESETSTAT"), "+OK\r\n");
    let after = info(&mut conn, "commandstats");
    assert!(!after.contains("cmdstat_set"), "{after}");
    assert!(info(&mut conn, "errorstats")
        .trim_end()
        .ends_with("# Errorstats"));
    server.stop().assert_clean();
}

/// Each command's reply, in order, on one connection.
fn replies(addr: SocketAddr, commands: &[&[&[u8]]]) -> Vec<String> {
    let mut conn = Resp::connect(addr);
    commands
        .iter()
        .map(|command| String::from_utf8_lossy(&conn.call(command)).into_owned())
        .collect()
}

#[test]
fn config_set_of_several_parameters_is_all_or_nothing_as_redis() {
    let server = TestServer::builder().services(&["resp"]).start();
    let redis = redis();
    let sequence: &[&[&[u8]]] = &[
        &[
            b"CONFIG",
            b"SET",
            b"maxmemory",
            b"10mb",
            b"notify-keyspace-events",
            b"KEA",
        ],
        &[b"CONFIG", b"GET", b"maxmemory"],
        &[b"CONFIG", b"GET", b"notify-keyspace-events"],
        // One bad value: nothing is set.
        &[
            b"CONFIG",
            b"SET",
            b"maxmemory",
            b"20mb",
            b"notify-keyspace-events",
            b"Q",
        ],
        &[b"CONFIG", b"GET", b"maxmemory"],
        &[
            b"CONFIG",
            b"SET",
            b"notify-keyspace-events",
            b"gx",
            b"maxmemory",
            b"oops",
        ],
        &[b"CONFIG", b"GET", b"notify-keyspace-events"],
        &[b"CONFIG", b"SET", b"maxmemory", b"1", b"maxmemory", b"2"],
        &[
            b"CONFIG",
            b"SET",
            b"maxmemory",
            b"1",
            b"nosuchparameter",
            b"2",
        ],
        &[
            b"CONFIG",
            b"SET",
            b"maxmemory",
            b"1",
            b"notify-keyspace-events",
        ],
        &[b"CONFIG", b"SET", b"maxmemory"],
        &[b"CONFIG", b"SET", b"notify-keyspace-events", b"$lshzxeKE"],
        &[b"CONFIG", b"GET", b"notify-keyspace-events"],
        &[
            b"CONFIG",
            b"SET",
            b"notify-keyspace-events",
            b"",
            b"maxmemory",
            b"0",
        ],
        &[b"CONFIG", b"GET", b"notify-keyspace-events"],
        &[b"CONFIG", b"GET", b"maxmemory"],
        // Redis's encoding thresholds (stored, with no effect, here) among
        // other parameters, and twice.
        &[
            b"CONFIG",
            b"SET",
            b"hash-max-listpack-entries",
            b"128",
            b"maxmemory",
            b"5mb",
        ],
        &[b"CONFIG", b"GET", b"maxmemory"],
        &[
            b"CONFIG",
            b"SET",
            b"zset-max-listpack-value",
            b"64",
            b"zset-max-listpack-value",
            b"64",
        ],
        &[b"CONFIG", b"SET", b"maxmemory", b"0"],
        &[b"CONFIG", b"RESETSTAT", b"extra"],
        &[b"CONFIG", b"NOSUCH"],
        &[b"CONFIG", b"GET"],
    ];
    let ours = replies(server.addr("resp"), sequence);
    let theirs = replies(redis.addr, sequence);
    for ((a, b), command) in ours.iter().zip(&theirs).zip(sequence) {
        let shown: Vec<String> = command
            .iter()
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect();
        assert_eq!(a, b, "{shown:?}");
    }

    // Several patterns: each parameter once (the order is redis's hash
    // table's there, the table's here).
    let mut conn = Resp::connect(server.addr("resp"));
    let reply = conn.cmd("CONFIG GET maxmemory* notify-keyspace-events max*");
    // maxmemory, -policy, -samples, -eviction-tenacity, -clients,
    // maxclients and notify-keyspace-events, as Redis 7.0 lists them.
    assert!(reply.starts_with("*14\r\n"), "{reply}");
    for name in [
        "maxmemory",
        "maxmemory-policy",
        "maxmemory-samples",
        "maxmemory-eviction-tenacity",
        "maxmemory-clients",
        "maxclients",
        "notify-keyspace-events",
    ] {
        assert_eq!(
            reply.matches(&format!("\r\n{name}\r\n")).count(),
            1,
            "{reply}"
        );
    }

    // redis-cli, as an operator would.
    let port = server.addr("resp").port().to_string();
    let cli = |args: &[&str]| {
        let output = Command::new("redis-cli")
            .args(["-p", &port])
            .args(args)
            .output()
            .expect("redis-cli runs (.ci/run installs redis-tools)");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    assert_eq!(
        cli(&[
            "CONFIG",
            "SET",
            "maxmemory",
            "1gb",
            "notify-keyspace-events",
            "Ex"
        ]),
        "OK\n"
    );
    assert_eq!(
        cli(&["CONFIG", "GET", "notify-keyspace-events"]),
        "notify-keyspace-events\nxE\n"
    );
    assert!(cli(&["INFO", "memory"]).contains("maxmemory:1073741824"));
    server.stop().assert_clean();
}

#[test]
fn client_reply_and_no_evict_answer_as_redis() {
    let server = TestServer::builder().services(&["resp"]).start();
    let redis = redis();
    let pipeline: &[&[&[u8]]] = &[
        &[b"CLIENT", b"REPLY", b"OFF"],
        &[b"SET", b"k1", b"v"],
        &[b"PING", b"silenced"],
        &[b"MGET", b"k1", b"k2", b"k3"],
        &[b"CLIENT", b"REPLY", b"ON"],
        &[b"GET", b"k1"],
        &[b"CLIENT", b"REPLY", b"SKIP"],
        &[b"MGET", b"k1", b"k2"],
        &[b"PING", b"after-skip"],
        &[b"CLIENT", b"REPLY", b"SKIP"],
        &[b"CLIENT", b"REPLY", b"ON"],
        &[b"PING", b"after-skip-on"],
        &[b"CLIENT", b"REPLY", b"MAYBE"],
        &[b"CLIENT", b"REPLY"],
        &[b"CLIENT", b"NO-EVICT", b"on"],
        &[b"CLIENT", b"NO-EVICT", b"off"],
        &[b"CLIENT", b"NO-EVICT", b"maybe"],
        &[b"PING", b"last"],
    ];
    // Sent in one write, so that the silenced replies would be in the
    // same batch as the others; everything that came back, compared.
    let whole = |addr: SocketAddr| {
        let mut conn = Resp::connect(addr);
        let mut wire = Vec::new();
        for command in pipeline {
            percore_protocols::resp::protocol::encode_command(command.iter().copied(), &mut wire);
        }
        std::io::Write::write_all(&mut conn.stream, &wire).expect("send");
        let mut got = Vec::new();
        loop {
            let reply = String::from_utf8_lossy(&conn.reply()).into_owned();
            let last = reply == "$4\r\nlast\r\n";
            got.push(reply);
            if last {
                break got;
            }
        }
    };
    let ours = whole(server.addr("resp"));
    assert_eq!(ours, whole(redis.addr));
    assert_eq!(ours[0], "+OK\r\n", "{ours:?}");
    server.stop().assert_clean();
}

#[test]
fn monitor_sees_the_commands_of_every_shard_in_redis_format() {
    let server = TestServer::builder().services(&["resp"]).start();
    let addr = server.addr("resp");
    let mut monitor = Resp::connect(addr);
    assert_eq!(monitor.cmd("MONITOR"), "+OK\r\n");
    // Connections land on the shards by the kernel's choice: eight of
    // them cover the 4 shards often; each names itself in its key.
    let mut expected = Vec::new();
    for i in 0..8 {
        let mut conn = Resp::connect(addr);
        let key = format!("key \"{i}\"");
        conn.call(&[b"SET", key.as_bytes(), b"v\n"]);
        expected.push(format!(r#""SET" "key \"{i}\"" "v\n""#));
        conn.call(&[b"AUTH", b"secret"]);
        expected.push(r#""AUTH" "(redacted)""#.to_string());
    }
    // Lines from different shards may come in any order between them.
    let mut seen = Vec::new();
    for _ in &expected {
        let line = String::from_utf8_lossy(&monitor.reply()).into_owned();
        // +1339518083.107412 [0 127.0.0.1:60866] "SET" ...
        let (stamp, rest) = line[1..].split_once(' ').expect("a time stamp");
        let (secs, micros) = stamp.split_once('.').expect("seconds.micros");
        assert!(secs.parse::<u64>().is_ok() && micros.len() == 6, "{line}");
        assert!(rest.starts_with("[0 127.0.0.1:"), "{line}");
        let shown = rest.split_once("] ").expect("the client").1;
        seen.push(shown.trim_end().to_string());
    }
    seen.sort();
    expected.sort();
    assert_eq!(seen, expected);
    // CONFIG, CLIENT LIST and CLIENT KILL are admin commands: not shown;
    // LASTSAVE and CLIENT ID are, as redis shows them. CLIENT LIST marks the
    // monitor `O`. RESET ends monitoring.
    let mut other = Resp::connect(addr);
    other.cmd("CONFIG GET maxmemory");
    let list = other.cmd("CLIENT LIST");
    let monitors = list.lines().filter(|l| l.contains(" flags=O ")).count();
    assert_eq!(monitors, 1, "{list}");
    other.cmd("CLIENT KILL ID 999999");
    other.cmd("LASTSAVE");
    other.cmd("CLIENT ID");
    other.cmd("GET after");
    for shown in ["\"LASTSAVE\"", "\"CLIENT\" \"ID\"", "\"GET\" \"after\""] {
        let line = String::from_utf8_lossy(&monitor.reply()).into_owned();
        assert!(line.ends_with(&format!("] {shown}\r\n")), "{line}");
    }
    assert_eq!(monitor.cmd("RESET"), "+RESET\r\n");
    other.cmd("GET unseen");
    assert_eq!(monitor.cmd("PING"), "+PONG\r\n");
    server.stop().assert_clean();
}
