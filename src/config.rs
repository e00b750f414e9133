//! What a running server is told: the validated form of `percore serve`'s
//! options (SPEC section 2). The CLI builds it; shards only ever read it.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The services percore knows, in the order reports list them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceKind {
    Yell,
    Echo,
    Chat,
    Mq,
    Kv,
}

impl ServiceKind {
    pub const ALL: [ServiceKind; 5] = [
        ServiceKind::Yell,
        ServiceKind::Echo,
        ServiceKind::Chat,
        ServiceKind::Mq,
        ServiceKind::Kv,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ServiceKind::Yell => "yell",
            ServiceKind::Echo => "echo",
            ServiceKind::Chat => "chat",
            ServiceKind::Mq => "mq",
            ServiceKind::Kv => "kv",
        }
    }

    pub fn default_addr(self) -> SocketAddr {
        let port = match self {
            ServiceKind::Yell => 1234,
            ServiceKind::Chat => 8007,
            ServiceKind::Echo => 8008,
            ServiceKind::Mq => 7777,
            ServiceKind::Kv => 8888,
        };
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    pub fn from_name(name: &str) -> Option<ServiceKind> {
        ServiceKind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
    }
}

impl fmt::Display for ServiceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One service and the address every shard binds for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Listen {
    pub kind: ServiceKind,
    pub addr: SocketAddr,
}

/// Where the shards run: one per listed CPU, or unpinned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Shard i is pinned to `cpus[i]`.
    Pinned(Vec<usize>),
    /// More shards than CPUs: the kernel schedules them.
    Unpinned(usize),
}

impl Placement {
    pub fn shards(&self) -> usize {
        match self {
            Placement::Pinned(cpus) => cpus.len(),
            Placement::Unpinned(n) => *n,
        }
    }
}

/// Limits that apply to every connection (SPEC sections 2 and 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest line (line protocols) or frame (kv) accepted, in bytes.
    pub max_frame: usize,
    /// Close a connection silent for this long in both directions.
    pub idle_timeout: Option<Duration>,
    /// Open connections per shard, all services together.
    pub max_conns: usize,
    /// Cap on one connection's queued outgoing mq deliveries.
    pub mq_queue_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame: 1 << 20,
            idle_timeout: None,
            max_conns: 65_536,
            mq_queue_bytes: 4 << 20,
        }
    }
}

/// Everything `percore serve` needs, validated.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub placement: Placement,
    pub listens: Vec<Listen>,
    pub limits: Limits,
    pub stats_interval: Option<Duration>,
    pub stats_json: Option<PathBuf>,
}

impl ServerConfig {
    pub fn shards(&self) -> usize {
        self.placement.shards()
    }

    pub fn serves(&self, kind: ServiceKind) -> bool {
        self.listens.iter().any(|listen| listen.kind == kind)
    }
}
