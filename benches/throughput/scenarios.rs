//! What the benchmark runs: the scenarios of each service (connections,
//! pipeline depth, closed or open loop, mq's fan-out) and the workload
//! options `percore load` gets for each service. Data only: `main.rs` runs
//! them, `measure.rs` turns one into a `percore load` command line.

/// Bytes per yell and echo message, newline included: the Python original's size.
pub const SIZE: usize = 16;
/// yell and echo's open-loop rate, below what either server saturates at,
/// so that the figure that decides is the server's CPU time per message.
const OPEN_RATE: f64 = 1_000_000.0;
/// kv's open-loop rate, below percore's single-shard saturation.
const KV_RATE: f64 = 400_000.0;
/// mq's open-loop publish rate (each publish is 10 deliveries).
const MQ_RATE: f64 = 20_000.0;
/// kv: connections in every scenario.
const KV_CONNS: usize = 50;

pub struct Scenario {
    pub name: &'static str,
    pub title: &'static str,
    pub conns: usize,
    pub pipeline: usize,
    pub rate: Option<f64>,
    /// More `percore load` options (mq's publishers, subscribers, topics).
    pub extra: &'static [&'static str],
}

/// yell and echo, against percore and the epoll reference.
pub const LINE_SCENARIOS: [Scenario; 3] = [
    Scenario {
        name: "seed",
        title: "the seed's experiment: 5 conns × pipeline 1, closed loop",
        conns: 5,
        pipeline: 1,
        rate: None,
        extra: &[],
    },
    Scenario {
        name: "saturation",
        title: "saturation: 64 conns × pipeline 16, closed loop",
        conns: 64,
        pipeline: 16,
        rate: None,
        extra: &[],
    },
    Scenario {
        name: "open",
        title: "open loop: 64 conns × pipeline 16 at 1,000,000 msgs/s",
        conns: 64,
        pipeline: 16,
        rate: Some(OPEN_RATE),
        extra: &[],
    },
];

/// kv (issue 4) on one shard, against redis-server in the closed-loop ones:
/// 50 connections, 90% Get over 10,000 16-byte keys with 32-byte values.
pub const KV_SCENARIOS: [Scenario; 3] = [
    Scenario {
        name: "p1",
        title: "50 conns × pipeline 1, 90% Get, closed loop",
        conns: KV_CONNS,
        pipeline: 1,
        rate: None,
        extra: &[],
    },
    Scenario {
        name: "p16",
        title: "50 conns × pipeline 16, 90% Get, closed loop",
        conns: KV_CONNS,
        pipeline: 16,
        rate: None,
        extra: &[],
    },
    Scenario {
        name: "open",
        title: "open loop: 50 conns × pipeline 16, 90% Get, at 400,000 requests/s",
        conns: KV_CONNS,
        pipeline: 16,
        rate: Some(KV_RATE),
        extra: &[],
    },
];

/// kv on two shards, to show what the cross-shard hop costs.
pub const KV_TWO_SHARD_SCENARIOS: [Scenario; 2] = [
    Scenario {
        name: "2shards-p1",
        title: "2 shards, 50 conns × pipeline 1, 90% Get",
        conns: KV_CONNS,
        pipeline: 1,
        rate: None,
        extra: &[],
    },
    Scenario {
        name: "2shards-p16",
        title: "2 shards, 50 conns × pipeline 16, 90% Get",
        conns: KV_CONNS,
        pipeline: 16,
        rate: None,
        extra: &[],
    },
];

const ONE_TOPIC: &[&str] = &["--publishers", "1", "--subscribers", "10", "--topics", "1"];
const TEN_TOPICS: &[&str] = &[
    "--publishers",
    "1",
    "--subscribers",
    "100",
    "--topics",
    "10",
];

/// mq (issue 5): two fan-outs, closed loop (the publisher keeps 64 messages
/// in flight) and open loop. mq ignores `--conns`: the fan-out is in `extra`.
pub const MQ_SCENARIOS: [Scenario; 4] = [
    Scenario {
        name: "1x10-closed",
        title: "1 publisher → 10 subscribers on one topic, closed loop, 64 messages in flight",
        conns: 0,
        pipeline: 64,
        rate: None,
        extra: ONE_TOPIC,
    },
    Scenario {
        name: "1x10-open",
        title: "1 publisher → 10 subscribers on one topic, open loop at 20,000 publishes/s",
        conns: 0,
        pipeline: 64,
        rate: Some(MQ_RATE),
        extra: ONE_TOPIC,
    },
    Scenario {
        name: "10x10-closed",
        title: "1 publisher over 10 topics × 10 subscribers each, closed loop, 64 in flight",
        conns: 0,
        pipeline: 64,
        rate: None,
        extra: TEN_TOPICS,
    },
    Scenario {
        name: "10x10-open",
        title: "1 publisher over 10 topics × 10 subscribers each, open loop at 20,000 publishes/s",
        conns: 0,
        pipeline: 64,
        rate: Some(MQ_RATE),
        extra: TEN_TOPICS,
    },
];

/// The `percore load` options that describe a service's messages.
pub fn workload_args(service: &str, scenario: &Scenario) -> Vec<String> {
    let size = SIZE.to_string();
    let args: Vec<&str> = match service {
        "kv" => vec!["--keys", "10000", "--get-ratio", "0.9", "--val-size", "32"],
        "mq" => [&["--size", "32"][..], scenario.extra].concat(),
        _ => vec!["--size", &size],
    };
    args.into_iter().map(String::from).collect()
}
