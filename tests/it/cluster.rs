//! resp's cluster mode, docs/PROTOCOLS.md §6.4: several percore processes on loopback
//! ports serve as one Redis Cluster to unmodified cluster clients (redis-py's
//! RedisCluster, `redis-cli -c`) and sit behind twemproxy; bad cluster
//! options exit 2 with the reason. (`cluster_redis.rs` compares the replies
//! with a redis-server cluster's.)

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};

use crate::common::cluster::{owner, redis_cli, Nodes};
use crate::common::resp::Resp;
use crate::common::*;
use percore_protocols::resp::cluster::slot::key_slot;

#[test]
fn redis_py_cluster_writes_and_reads_10000_keys_each_on_its_node() {
    let nodes = Nodes::cluster(3, 2);
    let p = &nodes.ports;
    // Where key:0 ... key:9999 must live, by their slots.
    let mut per_node = [0usize; 3];
    for i in 0..10_000 {
        per_node[owner(key_slot(format!("key:{i}").as_bytes()), 3)] += 1;
    }
    for protocol in ["2", "3"] {
        let args = ["127.0.0.1".into(), p[1].to_string(), protocol.into()];
        let out = run_python_client("redis_py_cluster.py", &args);
        let expected = format!(
            "slots 0 5460 127.0.0.1:{p0}\n\
             slots 5461 10921 127.0.0.1:{p1}\n\
             slots 10922 16383 127.0.0.1:{p2}\n\
             shard 0 5460 127.0.0.1:{p0} master online 40\n\
             shard 5461 10921 127.0.0.1:{p1} master online 40\n\
             shard 10922 16383 127.0.0.1:{p2} master online 40\n\
             node 127.0.0.1:{p0} master True [['0', '5460']]\n\
             node 127.0.0.1:{p1} master True [['5461', '10921']]\n\
             node 127.0.0.1:{p2} master True [['10922', '16383']]\n\
             myself 1\n\
             set 10000\n\
             get 10000\n\
             one True b'bar' 1\n\
             keys 0 5460 {n0} {n0}\n\
             keys 5461 10921 {n1} {n1}\n\
             keys 10922 16383 {n2} {n2}\n\
             dbsize 10000\n\
             tags True\n\
             tags [b'ann', b'ann@example.org']\n\
             tags 2\n\
             mset ClusterCrossSlotError Keys in request don't hash to the same slot\n\
             get MovedError 12182 127.0.0.1:{p2}\n\
             keyslot 12182 12182\n",
            p0 = p[0],
            p1 = p[1],
            p2 = p[2],
            n0 = per_node[0],
            n1 = per_node[1],
            n2 = per_node[2],
        );
        assert_eq!(out, expected, "protocol {protocol}");
    }
}

#[test]
fn redis_cli_c_follows_moved_and_hash_tags_keep_keys_together() {
    let nodes = Nodes::cluster(3, 2);
    let port = |i: usize| nodes.ports[i].to_string();
    let first = ["-p".to_string(), port(0)];
    let on_first = |words: &[&str]| {
        let mut args: Vec<&str> = first.iter().map(String::as_str).collect();
        args.extend_from_slice(words);
        redis_cli(&args, "")
    };
    // foo is slot 12182, the third node's: -c follows the redirect.
    assert_eq!(on_first(&["-c", "SET", "foo", "bar"]), "OK\n");
    assert_eq!(on_first(&["-c", "GET", "foo"]), "bar\n");
    assert_eq!(
        on_first(&["GET", "foo"]).trim_end(),
        format!("MOVED 12182 127.0.0.1:{}", port(2))
    );
    assert_eq!(redis_cli(&["-p", &port(2), "GET", "foo"], ""), "bar\n");
    // One tag, one slot, one node: multi-key commands work there.
    let mset = ["-c", "MSET", "{user:1}:a", "1", "{user:1}:b", "2"];
    assert_eq!(on_first(&mset), "OK\n");
    let mget = on_first(&["-c", "MGET", "{user:1}:a", "{user:1}:b"]);
    assert_eq!(mget, "1\n2\n");
    assert_eq!(
        on_first(&["-c", "MSET", "a", "1", "b", "2"]).trim_end(),
        "CROSSSLOT Keys in request don't hash to the same slot"
    );
    let tagged_node = owner(key_slot(b"user:1"), 3);
    let mut direct = Resp::connect(nodes.addr(tagged_node));
    assert_eq!(direct.cmd("DBSIZE"), ":2\r\n");

    // The slot's keys are found on both of the node's shards.
    let slot = key_slot(b"t");
    let mut owner_node = Resp::connect(nodes.addr(owner(slot, 3)));
    let mut mset: Vec<Vec<u8>> = vec![b"MSET".to_vec()];
    for i in 0..100 {
        mset.push(format!("{{t}}{i}").into_bytes());
        mset.push(b"v".to_vec());
    }
    let words: Vec<&[u8]> = mset.iter().map(Vec::as_slice).collect();
    assert_eq!(owner_node.call(&words), b"+OK\r\n");
    assert_eq!(
        owner_node.cmd(&format!("CLUSTER COUNTKEYSINSLOT {slot}")),
        ":100\r\n"
    );
    assert!(owner_node
        .cmd(&format!("CLUSTER GETKEYSINSLOT {slot} 10"))
        .starts_with("*10\r\n$4\r\n{t}"));
    let all = owner_node.cmd(&format!("CLUSTER GETKEYSINSLOT {slot} 1000"));
    assert!(all.starts_with("*100\r\n"), "{all}");
    let hello = owner_node.cmd("HELLO 3");
    assert!(hello.contains("$4\r\nmode\r\n$7\r\ncluster\r\n"), "{hello}");
}

#[test]
fn twemproxy_spreads_keys_over_two_nodes() {
    let nodes = Nodes::standalone(2, 2);
    let dir = TempDir::new();
    let proxy = Nutcracker::start(&dir, &nodes.ports);
    let addr = proxy.addr;
    let mut client = Resp::connect(addr);
    // twemproxy's fnv1a_64 keeps 32 bits and mixes a byte in by one
    // multiplication: keys that differ only in their last bytes hash close
    // together and land on one server, so these differ first.
    for i in 0..200 {
        assert_eq!(client.cmd(&format!("SET {i}:key value:{i}")), "+OK\r\n");
    }
    for i in 0..200 {
        let value = format!("value:{i}");
        assert_eq!(
            client.cmd(&format!("GET {i}:key")),
            format!("${}\r\n{value}\r\n", value.len())
        );
    }
    // twemproxy splits a multi-key command by server and joins the replies.
    assert_eq!(
        client.cmd("MGET 0:key 1:key 2:key nope"),
        "*4\r\n$7\r\nvalue:0\r\n$7\r\nvalue:1\r\n$7\r\nvalue:2\r\n$-1\r\n"
    );
    let sizes: Vec<i64> = (0..2)
        .map(|i| {
            let reply = Resp::connect(nodes.addr(i)).cmd("DBSIZE");
            reply
                .trim_start_matches(':')
                .trim_end()
                .parse()
                .expect("an integer")
        })
        .collect();
    assert_eq!(sizes.iter().sum::<i64>(), 200, "{sizes:?}");
    // The servers are named, so ketama places keys by name, not port: the
    // same split on every run (79 and 121 of these 200 keys).
    assert!(
        sizes.iter().all(|&n| n >= 50),
        "keys spread over both: {sizes:?}"
    );
}

/// A running nutcracker (twemproxy); dropping it (a failed assertion
/// too) stops the process.
struct Nutcracker {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Nutcracker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Nutcracker {
    /// nutcracker on a free port in front of `ports`, once it accepts
    /// connections.
    fn start(dir: &TempDir, ports: &[u16]) -> Nutcracker {
        let binary = ["/usr/sbin/nutcracker", "/usr/bin/nutcracker"]
            .into_iter()
            .find(|path| std::path::Path::new(path).exists())
            .expect("nutcracker is installed (.ci/run: apt-get install nutcracker)");
        let (listen, stats) = (free_port(), free_port());
        let servers: String = ports
            .iter()
            .enumerate()
            .map(|(i, port)| format!("   - 127.0.0.1:{port}:1 percore{i}\n"))
            .collect();
        let config = dir.path.join("nutcracker.yml");
        let mut file = std::fs::File::create(&config).expect("write the config");
        write!(
            file,
            "percore:\n  listen: 127.0.0.1:{listen}\n  hash: fnv1a_64\n  distribution: ketama\n  \
             redis: true\n  auto_eject_hosts: false\n  timeout: 5000\n  servers:\n{servers}"
        )
        .expect("write the config");
        let child = Command::new(binary)
            .arg("-c")
            .arg(&config)
            .args(["-s", &stats.to_string(), "-a", "127.0.0.1"])
            .arg("-o")
            .arg(dir.path.join("nutcracker.log"))
            .arg("-p")
            .arg(dir.path.join("nutcracker.pid"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nutcracker");
        let proxy = Nutcracker {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], listen)),
        };
        wait_until("nutcracker listening", || {
            TcpStream::connect(proxy.addr).is_ok()
        });
        proxy
    }
}

#[test]
fn bad_cluster_options_exit_2_naming_the_problem() {
    let port = free_port().to_string();
    let resp = format!("127.0.0.1:{port}");
    let ok_list = format!("a={resp},b=127.0.0.1:1");
    let cases: [(&[&str], &str); 8] = [
        (
            &["--cluster-id", "a"],
            "--cluster-id is given without --cluster-nodes",
        ),
        (
            &["--cluster-nodes", &ok_list],
            "--cluster-nodes is given without --cluster-id",
        ),
        (
            &["--cluster-nodes", &ok_list, "--cluster-id", "c"],
            "--cluster-id 'c' is not in --cluster-nodes (ids listed: a, b)",
        ),
        (
            &[
                "--cluster-nodes",
                "a=127.0.0.1:1,a=127.0.0.1:2",
                "--cluster-id",
                "a",
            ],
            "the id 'a' is listed twice",
        ),
        (
            &[
                "--cluster-nodes",
                "a=127.0.0.1:1,b=127.0.0.1:1",
                "--cluster-id",
                "a",
            ],
            "the address 127.0.0.1:1 is listed twice",
        ),
        (
            &["--cluster-nodes", "a=127.0.0.1", "--cluster-id", "a"],
            "'a=127.0.0.1': '127.0.0.1' has no port",
        ),
        (
            &["--cluster-nodes", "a=300.0.0.1:5", "--cluster-id", "a"],
            "'300.0.0.1' is not an IP address or a host name",
        ),
        (
            &["--cluster-nodes", "127.0.0.1:5", "--cluster-id", "a"],
            "'127.0.0.1:5' is not ID=HOST:PORT",
        ),
    ];
    for (options, reason) in cases {
        let mut args = vec!["serve", "--services", "resp", "--resp", &resp];
        args.extend_from_slice(options);
        assert_usage_error(&args, reason);
    }
}
