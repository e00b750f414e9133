//! Several percore nodes on loopback ports for the cluster tests
//! (docs/PROTOCOLS.md §6.4): started together, on ports known before any starts, since each
//! node's command line lists every node.

use std::io::Write;
use std::net::SocketAddr;
use std::process::{Command, Stdio};

use super::{free_port, percore, wait_with_deadline, Server, TempDir, DEADLINE};

/// percore nodes, each `--services resp` on its own port.
pub struct Nodes {
    pub servers: Vec<Server>,
    pub ports: Vec<u16>,
}

impl Nodes {
    /// `n` nodes of one cluster (node i is `n<i>`), `shards` shards each.
    pub fn cluster(n: usize, shards: usize) -> Nodes {
        Nodes::start(n, shards, true)
    }

    /// `n` standalone nodes.
    pub fn standalone(n: usize, shards: usize) -> Nodes {
        Nodes::start(n, shards, false)
    }

    fn start(n: usize, shards: usize, cluster: bool) -> Nodes {
        // A port picked as free can be taken before a node binds it: that
        // node exits with status 2, and all start again on other ports.
        'attempt: for _ in 0..5 {
            let ports = distinct_free_ports(n, |_| true);
            let list: Vec<String> = ports
                .iter()
                .enumerate()
                .map(|(i, port)| format!("n{i}=127.0.0.1:{port}"))
                .collect();
            let mut servers = Vec::new();
            for (i, port) in ports.iter().enumerate() {
                let dir = TempDir::new();
                let stats_json = dir.path.join("stats.json");
                let addr = SocketAddr::from(([127, 0, 0, 1], *port));
                let mut cmd = percore();
                cmd.args(["serve", "--services", "resp", "--shards"])
                    .arg(shards.to_string())
                    .arg("--resp")
                    .arg(addr.to_string())
                    .arg("--stats-json")
                    .arg(&stats_json);
                if cluster {
                    cmd.arg("--cluster-nodes")
                        .arg(list.join(","))
                        .arg("--cluster-id")
                        .arg(format!("n{i}"));
                }
                match Server::launch(cmd, vec![("resp".into(), addr)], stats_json, dir) {
                    Some(server) => servers.push(server),
                    None => continue 'attempt,
                }
            }
            return Nodes { servers, ports };
        }
        panic!("{n} percore nodes did not start on free ports in 5 tries");
    }

    pub fn addr(&self, i: usize) -> SocketAddr {
        self.servers[i].addr("resp")
    }
}

/// `n` different ports that were free a moment ago and pass `fits`.
pub fn distinct_free_ports(n: usize, fits: impl Fn(u16) -> bool) -> Vec<u16> {
    let mut ports: Vec<u16> = Vec::new();
    while ports.len() < n {
        let port = free_port();
        if !ports.contains(&port) && fits(port) {
            ports.push(port);
        }
    }
    ports
}

/// The node of `n` that serves `slot`: docs/PROTOCOLS.md §6.4's ranges.
pub fn owner(slot: u16, n: usize) -> usize {
    (0..n)
        .find(|&i| usize::from(slot) < (i + 1) * 16384 / n)
        .expect("every slot has a node")
}

/// Runs `redis-cli ARGS` with `input` on its stdin (a command a line);
/// its stdout without redis-cli's "-> Redirected" notes.
pub fn redis_cli(args: &[&str], input: &str) -> String {
    let mut child = Command::new("redis-cli")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("redis-cli runs (scripts/test installs redis-tools)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write redis-cli's input");
    let status = wait_with_deadline(&mut child, DEADLINE).expect("redis-cli finished");
    let output = child.wait_with_output().expect("redis-cli output");
    assert!(status.success(), "redis-cli {args:?}: {output:?}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| !line.starts_with("-> Redirected"))
        .map(|line| format!("{line}\n"))
        .collect()
}
