//! resp's shard-aware cluster mode (README "Shard-aware cluster mode"):
//! a node of N shards started with `--cluster-shard-aware` presents each
//! shard as a cluster node of its own, on the `--resp` port + 1 + i, with
//! the slot range whose keys that shard owns. Unmodified cluster clients
//! (redis-py's RedisCluster, `redis-cli -c`) then reach the owning core
//! directly: every key is set and read back, the slot map is the same from
//! every port, and the server's statistics show that no request hopped to
//! another shard. The shared `--resp` port keeps serving every key, with
//! hops, as without cluster mode.

use std::net::SocketAddr;

use crate::common::cluster::{distinct_free_ports, redis_cli};
use crate::common::resp::Resp;
use crate::common::*;
use percore_protocols::resp::cluster::slot::key_slot;
use percore_protocols::resp::cluster::slot_range;

/// One percore node in shard-aware mode on loopback: `--resp` on `port`,
/// shard i on `port + 1 + i`.
struct ShardAware {
    server: Server,
    port: u16,
    shards: usize,
}

impl ShardAware {
    /// A node of `shards` shards, with `extra` options; on ports that were
    /// free (all of them) a moment ago.
    fn start(shards: usize, extra: &[&str]) -> ShardAware {
        for _ in 0..5 {
            let port = free_runs(1, shards)[0];
            if let Some(node) = ShardAware::launch(port, shards, extra) {
                return node;
            }
        }
        panic!("a shard-aware node did not start on free ports in 5 tries");
    }

    /// The node on `port` (and the `shards` ports after it); `None` when
    /// one of them was taken meanwhile.
    fn launch(port: u16, shards: usize, extra: &[&str]) -> Option<ShardAware> {
        let dir = TempDir::new();
        let stats_json = dir.path.join("stats.json");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut cmd = percore();
        cmd.args(["serve", "--services", "resp", "--shards"])
            .arg(shards.to_string())
            .arg("--resp")
            .arg(addr.to_string())
            .arg("--cluster-shard-aware")
            .arg("--stats-json")
            .arg(&stats_json)
            .args(extra);
        let server = Server::launch(cmd, vec![("resp".into(), addr)], stats_json, dir)?;
        Some(ShardAware {
            server,
            port,
            shards,
        })
    }

    /// Shard `i`'s own port.
    fn shard_port(&self, i: usize) -> u16 {
        self.port + 1 + i as u16
    }

    /// The shard that owns `key`: the one whose range holds its slot.
    fn owner(&self, key: &[u8]) -> usize {
        let slot = key_slot(key);
        (0..self.shards)
            .find(|&i| slot <= slot_range(i, self.shards).1)
            .expect("every slot has a shard")
    }

    /// Stops the node: its final statistics of resp, checked clean.
    fn stop(self) -> serde_json::Value {
        let stopped = self.server.stop();
        stopped.assert_clean();
        stopped.json["services"]["resp"].clone()
    }
}

/// `n` ports, each free a moment ago with the `shards` ports after it, no
/// two runs overlapping.
fn free_runs(n: usize, shards: usize) -> Vec<u16> {
    let free = |port: u16| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok();
    let mut runs: Vec<u16> = Vec::new();
    while runs.len() < n {
        let port = distinct_free_ports(1, |port| {
            usize::from(port) + shards < usize::from(u16::MAX)
                && (1..=shards as u16).all(|i| free(port + i))
        })[0];
        if runs.iter().all(|&run| run.abs_diff(port) > shards as u16) {
            runs.push(port);
        }
    }
    runs
}

/// The per-shard figure `name` of resp's statistics, shard 0 first.
fn per_shard(resp: &serde_json::Value, name: &str) -> Vec<u64> {
    resp["per_shard"]
        .as_array()
        .expect("per_shard")
        .iter()
        .map(|shard| shard[name].as_u64().expect("a count"))
        .collect()
}

#[test]
fn redis_py_cluster_reaches_every_key_on_its_shard_with_no_hop() {
    for (shards, protocol) in [(2, "2"), (4, "3")] {
        let node = ShardAware::start(shards, &[]);
        let mut per_shard_keys = vec![0u64; shards];
        for i in 0..10_000 {
            per_shard_keys[node.owner(format!("key:{i}").as_bytes())] += 1;
        }
        let at = |i: usize| format!("127.0.0.1:{}", node.shard_port(i));
        let mut expected = String::new();
        let ranges: Vec<(u16, u16)> = (0..shards).map(|i| slot_range(i, shards)).collect();
        for (i, (first, last)) in ranges.iter().enumerate() {
            expected += &format!("slots {first} {last} {}\n", at(i));
        }
        for (i, (first, last)) in ranges.iter().enumerate() {
            expected += &format!("shard {first} {last} {} master online 40\n", at(i));
        }
        for (i, (first, last)) in ranges.iter().enumerate() {
            expected += &format!("node {} master True [['{first}', '{last}']]\n", at(i));
        }
        expected += "myself 1\nset 10000\nget 10000\none True b'bar' 1\n";
        for (i, (first, last)) in ranges.iter().enumerate() {
            let n = per_shard_keys[i];
            expected += &format!("keys {first} {last} {n} {n}\n");
        }
        let foo = node.owner(b"foo");
        expected += &format!(
            "dbsize 10000\n\
             tags True\n\
             tags [b'ann', b'ann@example.org']\n\
             tags 2\n\
             mset ClusterCrossSlotError Keys in request don't hash to the same slot\n\
             get MovedError 12182 {}\n\
             keyslot 12182 12182\n",
            at(foo)
        );
        // Started from the last shard's port: the client learns the map.
        let args = [
            "127.0.0.1".into(),
            node.shard_port(shards - 1).to_string(),
            protocol.into(),
        ];
        let out = run_python_client("redis_py_cluster.py", &args);
        assert_eq!(out, expected, "{shards} shards, protocol {protocol}");

        let resp = node.stop();
        // Each key lives on the shard whose port the client sent it to,
        // and no command went from one shard to another.
        assert_eq!(per_shard(&resp, "keys"), per_shard_keys, "{resp}");
        assert_eq!(resp["forwarded"], 0, "{resp}");
        assert!(
            per_shard(&resp, "messages").iter().all(|&n| n >= 5_000),
            "every shard served its keys: {resp}"
        );
    }
}

#[test]
fn redis_cli_c_follows_moved_to_each_shard_and_every_port_shows_one_map() {
    let node = ShardAware::start(4, &[]);
    let port = |i: usize| node.shard_port(i).to_string();
    let sets: String = (0..300)
        .map(|i| format!("SET key:{i} value:{i}\n"))
        .collect();
    assert_eq!(
        redis_cli(&["-c", "-p", &port(0)], &sets),
        "OK\n".repeat(300)
    );
    let gets: String = (0..300).map(|i| format!("GET key:{i}\n")).collect();
    let values: String = (0..300).map(|i| format!("value:{i}\n")).collect();
    assert_eq!(redis_cli(&["-c", "-p", &port(3)], &gets), values);
    // One tag, one slot, one shard: multi-key commands work there.
    let tagged = "MSET {user:1}:a 1 {user:1}:b 2\nMGET {user:1}:a {user:1}:b\n";
    assert_eq!(redis_cli(&["-c", "-p", &port(1)], tagged), "OK\n1\n2\n");
    assert_eq!(
        redis_cli(&["-c", "-p", &port(1)], "MSET a 1 b 2\n").trim_end(),
        "CROSSSLOT Keys in request don't hash to the same slot"
    );
    // Without -c, a key of another shard's slot is MOVED to that shard.
    let foo = node.owner(b"foo");
    let other = (foo + 1) % 4;
    assert_eq!(
        redis_cli(&["-p", &port(other)], "GET foo\n").trim_end(),
        format!("MOVED 12182 127.0.0.1:{}", port(foo))
    );

    // Every port describes the same cluster, naming itself as myself.
    let ask = |i: usize, command: &str| {
        Resp::connect(([127, 0, 0, 1], node.shard_port(i)).into()).cmd(command)
    };
    let slots = ask(0, "CLUSTER SLOTS");
    let shards = ask(0, "CLUSTER SHARDS");
    let mut ids = Vec::new();
    for i in 0..4 {
        assert_eq!(ask(i, "CLUSTER SLOTS"), slots, "port {}", port(i));
        assert_eq!(ask(i, "CLUSTER SHARDS"), shards, "port {}", port(i));
        let nodes = ask(i, "CLUSTER NODES");
        let lines: Vec<&str> = nodes.lines().filter(|l| l.contains('@')).collect();
        assert_eq!(lines.len(), 4, "{nodes}");
        let mine: Vec<&&str> = lines.iter().filter(|l| l.contains("myself")).collect();
        assert_eq!(mine.len(), 1, "{nodes}");
        let (first, last) = slot_range(i, 4);
        assert!(
            mine[0].contains(&format!("127.0.0.1:{}@", port(i)))
                && mine[0].ends_with(&format!("connected {first}-{last}")),
            "{nodes}"
        );
        let id = ask(i, "CLUSTER MYID");
        assert!(
            mine[0].contains(id.lines().nth(1).expect("an id")),
            "{nodes}"
        );
        ids.push(id);
        // Each port is a node of its own: its keys alone.
        let size = ask(i, "DBSIZE");
        let expected = (0..300)
            .filter(|k| node.owner(format!("key:{k}").as_bytes()) == i)
            .count()
            + if node.owner(b"user:1") == i { 2 } else { 0 };
        assert_eq!(size, format!(":{expected}\r\n"), "port {}", port(i));
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4, "one id per shard");

    let resp = node.stop();
    assert_eq!(resp["forwarded"], 0, "{resp}");
    assert!(
        per_shard(&resp, "messages").iter().all(|&n| n >= 50),
        "{resp}"
    );
}

#[test]
fn the_shared_port_serves_every_key_of_the_node_with_hops() {
    let node = ShardAware::start(2, &[]);
    let mut shared = Resp::connect(([127, 0, 0, 1], node.port).into());
    for i in 0..100 {
        assert_eq!(shared.cmd(&format!("SET k{i} v{i}")), "+OK\r\n");
    }
    assert_eq!(shared.cmd("DBSIZE"), ":100\r\n");
    assert_eq!(
        shared.cmd("MSET a 1 b 2"),
        "-CROSSSLOT Keys in request don't hash to the same slot\r\n"
    );
    // The shard ports see the keys the shared port wrote, each on its shard.
    let gets: String = (0..100).map(|i| format!("GET k{i}\n")).collect();
    let values: String = (0..100).map(|i| format!("v{i}\n")).collect();
    let port = node.shard_port(1).to_string();
    assert_eq!(redis_cli(&["-c", "-p", &port], &gets), values);
    let on_zero = (0..100)
        .filter(|i| node.owner(format!("k{i}").as_bytes()) == 0)
        .count() as u64;
    let resp = node.stop();
    let keys = per_shard(&resp, "keys");
    assert_eq!(keys, [on_zero, 100 - on_zero], "{resp}");
    // Half the keys were another shard's: the shared port hopped for them.
    assert!(resp["forwarded"].as_u64().expect("a count") >= 40, "{resp}");
}

#[test]
fn two_nodes_of_two_shards_are_a_cluster_of_four_shard_nodes() {
    'attempt: for _ in 0..5 {
        let ports = free_runs(2, 2);
        let list = format!("a=127.0.0.1:{},b=127.0.0.1:{}", ports[0], ports[1]);
        let mut nodes = Vec::new();
        for (port, id) in ports.iter().zip(["a", "b"]) {
            let extra = ["--cluster-nodes", &list, "--cluster-id", id];
            match ShardAware::launch(*port, 2, &extra) {
                Some(node) => nodes.push(node),
                None => continue 'attempt,
            }
        }
        // Node a's shards serve the first half of the slots, b's the rest.
        let slots =
            Resp::connect(([127, 0, 0, 1], nodes[1].shard_port(0)).into()).cmd("CLUSTER SLOTS");
        let starts: Vec<String> = [(0, 0, 4095), (0, 1, 8191), (1, 0, 12287), (1, 1, 16383)]
            .iter()
            .map(|&(n, i, last)| {
                let port = nodes[n].shard_port(i).to_string();
                format!(":{last}\r\n*4\r\n$9\r\n127.0.0.1\r\n:{port}\r\n")
            })
            .collect();
        for start in &starts {
            assert!(slots.contains(start.as_str()), "{start:?} in {slots}");
        }
        let a0 = nodes[0].shard_port(0).to_string();
        let b1 = nodes[1].shard_port(1).to_string();
        let sets: String = (0..200).map(|i| format!("SET key:{i} {i}\n")).collect();
        assert_eq!(redis_cli(&["-c", "-p", &a0], &sets), "OK\n".repeat(200));
        let gets: String = (0..200).map(|i| format!("GET key:{i}\n")).collect();
        let values: String = (0..200).map(|i| format!("{i}\n")).collect();
        assert_eq!(redis_cli(&["-c", "-p", &b1], &gets), values);
        let mut total = 0;
        for node in nodes {
            let resp = node.stop();
            assert_eq!(resp["forwarded"], 0, "{resp}");
            total += resp["keys"].as_u64().expect("a count");
        }
        assert_eq!(total, 200);
        return;
    }
    panic!("two shard-aware nodes did not start on free ports in 5 tries");
}

#[test]
fn bad_shard_aware_options_exit_2_naming_the_problem() {
    let port = free_port();
    let resp = format!("127.0.0.1:{port}");
    let any = format!("0.0.0.0:{port}");
    let cases: [(&[&str], &str); 3] = [
        (
            &["--services", "resp", "--resp", &any],
            "--cluster-shard-aware: the --resp address",
        ),
        (
            &["--services", "resp", "--resp", "127.0.0.1:65535"],
            "past 65535",
        ),
        (
            &["--services", "kv", "--kv", &resp],
            "--cluster-shard-aware is given, but resp is not served",
        ),
    ];
    for (options, reason) in cases {
        let mut args = vec!["serve", "--shards", "2", "--cluster-shard-aware"];
        args.extend_from_slice(options);
        assert_usage_error(&args, reason);
    }
}
