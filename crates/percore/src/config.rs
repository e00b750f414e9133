//! What a running server is told, whatever it serves: where shards run, the
//! limits every connection keeps (docs/PROTOCOLS.md §2 and §4), and where
//! statistics go. The CLI or a [`crate::server::ServerBuilder`] fills it in;
//! shards only ever read it. What a service alone needs (mq's queue cap) is
//! that service's own configuration, not this.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// An address to listen on, plain or TLS (`tls://HOST:PORT`, docs/PROTOCOLS.md §9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub addr: SocketAddr,
    pub tls: bool,
    /// `None`: every shard binds it (SO_REUSEPORT spreads connections);
    /// `Some(i)`: only shard i does, so its connections are served there
    /// (resp's shard-aware cluster ports).
    pub shard: Option<usize>,
}

impl Endpoint {
    pub fn plain(addr: SocketAddr) -> Endpoint {
        Endpoint {
            addr,
            tls: false,
            shard: None,
        }
    }

    pub fn tls(addr: SocketAddr) -> Endpoint {
        Endpoint {
            addr,
            tls: true,
            shard: None,
        }
    }

    /// A plain address that only shard `shard` binds.
    pub fn on_shard(addr: SocketAddr, shard: usize) -> Endpoint {
        Endpoint {
            shard: Some(shard),
            ..Endpoint::plain(addr)
        }
    }
}

impl From<SocketAddr> for Endpoint {
    fn from(addr: SocketAddr) -> Endpoint {
        Endpoint::plain(addr)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.tls {
            write!(f, "tls://{}", self.addr)
        } else {
            write!(f, "{}", self.addr)
        }
    }
}

/// One service and an address every shard binds for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Listen {
    /// The service's name, as reports and the listening line show it.
    pub service: &'static str,
    pub addr: SocketAddr,
    pub tls: bool,
}

impl Listen {
    pub fn endpoint(&self) -> Endpoint {
        Endpoint {
            addr: self.addr,
            tls: self.tls,
            shard: None,
        }
    }
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
    /// `shards` shards (default: one per CPU this process may run on), each
    /// pinned to its own CPU while there are enough, else all unpinned, with
    /// a warning saying so. `None` when the CPUs cannot be read.
    pub fn for_shards(shards: Option<usize>) -> Option<(Placement, Option<String>)> {
        let cpus: Vec<usize> = core_affinity::get_core_ids()?
            .into_iter()
            .map(|core| core.id)
            .collect();
        if cpus.is_empty() {
            return None;
        }
        let shards = shards.unwrap_or(cpus.len()).max(1);
        if shards <= cpus.len() {
            return Some((Placement::Pinned(cpus[..shards].to_vec()), None));
        }
        let warning = format!(
            "{shards} shards on {} CPUs: shards run unpinned",
            cpus.len()
        );
        Some((Placement::Unpinned(shards), Some(warning)))
    }

    pub fn shards(&self) -> usize {
        match self {
            Placement::Pinned(cpus) => cpus.len(),
            Placement::Unpinned(n) => *n,
        }
    }
}

/// Limits that apply to every connection (docs/PROTOCOLS.md §2 and §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest line (line protocols) or frame (kv) accepted, in bytes.
    pub max_frame: usize,
    /// Close a connection silent for this long in both directions.
    pub idle_timeout: Option<Duration>,
    /// Open connections per shard, all services together.
    pub max_conns: usize,
    /// Whether `max_conns` is a ceiling the server lowers at start to what
    /// the open files limit holds (the default: a default start never
    /// warns), rather than a number the user asked for (kept, with a
    /// warning when the limit cannot hold it).
    pub fit_max_conns: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame: 1 << 20,
            idle_timeout: None,
            max_conns: 65_536,
            fit_max_conns: true,
        }
    }
}

/// Everything the server core needs besides its services, validated.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub placement: Placement,
    pub limits: Limits,
    pub stats_interval: Option<Duration>,
    pub stats_json: Option<PathBuf>,
    /// Certificate and key for `tls://` listeners (docs/PROTOCOLS.md §9).
    pub tls: Option<crate::tls::TlsFiles>,
    /// Where live metrics are served (docs/PROTOCOLS.md §8).
    pub metrics: Option<SocketAddr>,
    /// Whether a pinned shard whose core is crowded by other threads may
    /// hand connections to a shard with CPU to spare (crates/percore/src/server/moving.rs);
    /// `--keep-connections` turns it off.
    pub move_crowded: bool,
}

impl ServerConfig {
    pub fn shards(&self) -> usize {
        self.placement.shards()
    }
}
