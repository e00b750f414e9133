//! `percore serve`'s options: the server's limits and statistics, which
//! built-in services run, and where each listens (the per-service address
//! options: `service_addrs.rs`); and the server they make.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use std::net::SocketAddr;

use super::service_addrs::ServiceAddrs;
use super::{non_zero, parse_bytes, parse_listen_addr, parse_seconds, UsageError};
use percore::config::{Endpoint, Limits, Placement, ServerConfig};
use percore::server::ServerBuilder;
use percore::tls::TlsFiles;
use percore_keyspace::KeySpacePlan;
use percore_protocols::kv::{DurableOptions, Fsync};
use percore_protocols::resp::cluster::{Cluster, ClusterError};
use percore_protocols::resp::RespOptions;
use percore_protocols::{Options, BUILT_IN};

/// Shards per CPU at most. Measured on 2 CPUs (debug build, every service):
/// each shard takes about 11 MiB and two threads, and the start joins
/// cross-shard meshes whose cost grows with the square of the count: 8
/// shards listened after 5 s, 32 after 99 s, 64 after 9 minutes (1.5 GB).
pub const MAX_SHARDS_PER_CPU: usize = 4;

/// Refuses more shards than [`MAX_SHARDS_PER_CPU`] times the CPUs this
/// process may run on.
fn check_shards(asked: Option<usize>) -> Result<(), UsageError> {
    let Some(asked) = asked else { return Ok(()) };
    let cpus = core_affinity::get_core_ids()
        .map(|ids| ids.len())
        .filter(|&n| n > 0)
        .ok_or(UsageError::NoCpus)?;
    let max = cpus * MAX_SHARDS_PER_CPU;
    if asked > max {
        return Err(UsageError::TooManyShards {
            asked,
            max,
            cpus,
            per_cpu: MAX_SHARDS_PER_CPU,
        });
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Number of shards (executors) [default: CPUs in the affinity mask].
    /// More than the CPUs available runs them unpinned; at most 4 per CPU.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub shards: Option<u16>,

    /// Comma-separated services to run.
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "yell,echo,chat,mq,kv,resp"
    )]
    pub services: Vec<String>,

    /// Each service's addresses: `--yell ADDR`, `--kv ADDR`, ... (one
    /// option per built-in service, each repeatable).
    #[command(flatten)]
    pub addrs: ServiceAddrs,

    /// Longest line (line protocols) or frame (kv) accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_frame: u32,

    /// Close a connection on which nothing was received or sent for this long (0: off).
    #[arg(long, value_name = "SECS", default_value = "0", value_parser = parse_seconds)]
    pub idle_timeout: Duration,

    /// Open connections per shard, all services together; further accepts
    /// are closed [default: 65536, or what the open files limit holds].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_conns: Option<u32>,

    /// Cap on one connection's queued outgoing MQ deliveries, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 4 << 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub mq_queue_bytes: u32,

    /// Print one statistics line per interval to stderr (0: off).
    #[arg(long, value_name = "SECS", default_value = "0", value_parser = parse_seconds)]
    pub stats_interval: Duration,

    /// On shutdown, also write the final statistics as JSON to PATH.
    #[arg(long, value_name = "PATH")]
    pub stats_json: Option<PathBuf>,

    /// Keep every connection on the shard that accepted it, even while that
    /// shard's core is crowded by other threads (by default such a shard
    /// hands connections of yell, echo and kv to a shard with CPU to spare).
    #[arg(long)]
    pub keep_connections: bool,

    /// Serve live metrics (Prometheus, GET /metrics) and GET /health on ADDR.
    #[arg(long, value_name = "ADDR", value_parser = parse_listen_addr)]
    pub metrics: Option<SocketAddr>,

    /// Keep the key space on disk under DIR; it survives restarts.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// With --data-dir: when logged writes reach the disk: always (before
    /// each reply; one flush per batch, shared), everysec, or no.
    #[arg(long, value_name = "POLICY", default_value = "everysec")]
    pub fsync: Fsync,

    /// With --data-dir: start from the valid prefix of a corrupt file.
    #[arg(long)]
    pub data_repair: bool,

    /// Cap on the key space's memory, all shards together (0: no cap); in
    /// bytes, or with Redis's units: 100mb, 1gb, 512kb (k, m, g: powers of 1000).
    #[arg(long, value_name = "BYTES", default_value = "0", value_parser = parse_bytes)]
    pub max_memory: u64,

    /// resp clients must AUTH with this password first (kv and mq, which
    /// have no AUTH, must then listen on loopback or over TLS with client
    /// certificates).
    #[arg(long, value_name = "PASS")]
    pub requirepass: Option<String>,

    /// Cluster mode for resp: every node of the cluster, this one included,
    /// as `ID=HOST:PORT,...` (HOST:PORT is where clients reach it). Node i
    /// of n serves the hash slots [i*16384/n, (i+1)*16384/n).
    #[arg(long, value_name = "LIST")]
    pub cluster_nodes: Option<String>,

    /// Which entry of --cluster-nodes this node is.
    #[arg(long, value_name = "ID")]
    pub cluster_id: Option<String>,

    /// Shard-aware cluster mode for resp: shard i also listens on the
    /// first --resp port + 1 + i (on that shard alone) and is a cluster node
    /// of its own there, serving its own slot range, so that cluster clients
    /// reach the owning core with no hop; keys are placed on shards by hash
    /// slot. Alone, this node is the whole cluster; with --cluster-nodes,
    /// every node runs as many shards, each at its listed port + 1 + i.
    #[arg(long)]
    pub cluster_shard_aware: bool,

    /// PEM certificate chain for tls:// listeners (SIGHUP reloads it).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key for tls:// listeners.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Require client certificates signed by this CA on tls:// listeners.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
}

impl ServeArgs {
    /// Validates the options against this machine: the server to build,
    /// and warnings to print once its addresses are known to be free.
    pub fn into_builder(self) -> Result<(ServerBuilder, Vec<String>), UsageError> {
        let (config, warnings) = self.config()?;
        let services = self.services()?;
        let mut services = services;
        let cluster = self.cluster(config.shards(), &mut services)?;
        if self.requirepass.is_some() {
            self.check_unauthenticated_listeners(&services)?;
        }
        let mut options = Options {
            mq_queue_bytes: self.mq_queue_bytes as usize,
            resp: RespOptions {
                requirepass: self.requirepass.clone(),
                data_dir: self.data_dir.clone(),
                fsync: self.fsync.to_string(),
                max_memory: self.max_memory,
                queue_bytes: self.mq_queue_bytes as usize,
                cluster: cluster.map(Arc::new),
            },
            ..Options::default()
        };
        if services
            .iter()
            .any(|(service, _)| matches!(service.name, "kv" | "resp"))
        {
            let durable = self.data_dir.clone().map(|dir| DurableOptions {
                dir,
                fsync: self.fsync,
                repair: self.data_repair,
            });
            let max_memory = (self.max_memory > 0).then_some(self.max_memory);
            options.keys = KeySpacePlan::new(durable, max_memory)
                .map_err(|e| UsageError::DataDir(e.to_string()))?;
        }
        let mut builder = ServerBuilder::new().config(config);
        for (service, addrs) in services {
            builder = (service.add)(builder, addrs, &options);
        }
        Ok((builder, warnings))
    }

    /// The cluster the options describe, if any. In shard-aware mode, also
    /// resp's shard ports, added to its addresses, and the key placement by
    /// slot, set for the process (before any shard starts).
    fn cluster(
        &self,
        shards: usize,
        services: &mut [(&'static percore_protocols::BuiltIn, Vec<Endpoint>)],
    ) -> Result<Option<Cluster>, UsageError> {
        let resp = services
            .iter_mut()
            .find(|(service, _)| service.name == "resp")
            .map(|(_, endpoints)| endpoints);
        if !self.cluster_shard_aware {
            return Ok(Cluster::from_options(
                self.cluster_nodes.as_deref(),
                self.cluster_id.as_deref(),
            )?);
        }
        let Some(resp) = resp else {
            return Err(ClusterError::ShardAwareWithoutResp.into());
        };
        let first = resp[0].addr;
        let cluster = match (self.cluster_nodes.as_deref(), self.cluster_id.as_deref()) {
            (None, None) if first.ip().is_unspecified() => {
                return Err(ClusterError::NoClientAddress(first.to_string()).into());
            }
            // Alone: this node, at its --resp address, is the cluster.
            (None, None) => {
                let host = match first {
                    SocketAddr::V4(addr) => addr.to_string(),
                    SocketAddr::V6(addr) => format!("[{}]:{}", addr.ip(), addr.port()),
                };
                Cluster::from_options(Some(&format!("percore={host}")), Some("percore"))?
            }
            (nodes, id) => Cluster::from_options(nodes, id)?,
        };
        let Some(cluster) = cluster else {
            return Ok(None);
        };
        let cluster = cluster.shard_aware(shards)?;
        // Shard i binds the --resp port + 1 + i; clients are sent to the
        // listed port + 1 + i (the same, unless the node is reached through
        // another address).
        for shard in 0..shards {
            let port = u16::try_from(shard + 1)
                .ok()
                .and_then(|i| first.port().checked_add(i))
                .ok_or_else(|| ClusterError::ShardPortsPast {
                    node: first.to_string(),
                    port: first.port(),
                    shards,
                })?;
            resp.push(Endpoint::on_shard(SocketAddr::new(first.ip(), port), shard));
        }
        percore::cross_shard::placement::place_by_slot(cluster.listed_nodes());
        Ok(Some(cluster))
    }

    /// docs/PROTOCOLS.md §6.5: with `--requirepass`, kv and mq (whose protocols have no
    /// AUTH) may only listen where no stranger can reach them: loopback, or
    /// TLS with client certificates.
    fn check_unauthenticated_listeners(
        &self,
        services: &[(&'static percore_protocols::BuiltIn, Vec<Endpoint>)],
    ) -> Result<(), UsageError> {
        let client_certs = self.tls_client_ca.is_some();
        for (service, endpoints) in services {
            if !matches!(service.name, "kv" | "mq") {
                continue;
            }
            for endpoint in endpoints {
                let protected = endpoint.addr.ip().is_loopback() || (endpoint.tls && client_certs);
                if !protected {
                    return Err(UsageError::Unauthenticated {
                        service: service.name,
                        addr: endpoint.addr,
                    });
                }
            }
        }
        Ok(())
    }

    fn config(&self) -> Result<(ServerConfig, Vec<String>), UsageError> {
        check_shards(self.shards.map(usize::from))?;
        let (placement, warning) =
            Placement::for_shards(self.shards.map(usize::from)).ok_or(UsageError::NoCpus)?;
        let config = ServerConfig {
            placement,
            limits: Limits {
                max_frame: self.max_frame as usize,
                idle_timeout: non_zero(self.idle_timeout),
                // Asked for: kept, and warned about when the open files
                // limit cannot hold it; by default: fitted to the limit.
                max_conns: self
                    .max_conns
                    .map_or(Limits::default().max_conns, |n| n as usize),
                fit_max_conns: self.max_conns.is_none(),
            },
            stats_interval: non_zero(self.stats_interval),
            stats_json: self.stats_json.clone(),
            metrics: self.metrics,
            move_crowded: !self.keep_connections,
            tls: match (&self.tls_cert, &self.tls_key) {
                (Some(cert), Some(key)) => Some(TlsFiles {
                    cert: cert.clone(),
                    key: key.clone(),
                    client_ca: self.tls_client_ca.clone(),
                }),
                _ => None,
            },
        };
        Ok((config, warning.into_iter().collect()))
    }

    /// The services named in `--services`, in the order reports list them,
    /// each with its addresses; no address may serve two.
    fn services(
        &self,
    ) -> Result<Vec<(&'static percore_protocols::BuiltIn, Vec<Endpoint>)>, UsageError> {
        let named: Vec<&str> = self
            .services
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect();
        if let Some(unknown) = named
            .iter()
            .find(|name| percore_protocols::built_in(name).is_none())
        {
            return Err(UsageError::UnknownService(unknown.to_string()));
        }
        let mut chosen: Vec<(&'static percore_protocols::BuiltIn, Vec<Endpoint>)> = Vec::new();
        for service in BUILT_IN.iter().filter(|s| named.contains(&s.name)) {
            let mut endpoints: Vec<Endpoint> = Vec::new();
            for &endpoint in self.addrs.of(service.name) {
                let addr = endpoint.addr;
                // Port 0 is never shared: each such address gets a port of its own.
                let uses =
                    |list: &[Endpoint]| addr.port() != 0 && list.iter().any(|e| e.addr == addr);
                let taken = chosen
                    .iter()
                    .find(|(_, theirs)| uses(theirs))
                    .map(|(other, _)| other.name)
                    .or_else(|| uses(&endpoints).then_some(service.name));
                if let Some(first) = taken {
                    return Err(UsageError::SharedAddress {
                        first,
                        second: service.name,
                        addr,
                    });
                }
                endpoints.push(endpoint);
            }
            chosen.push((service, endpoints));
        }
        if chosen.is_empty() {
            return Err(UsageError::NoService);
        }
        Ok(chosen)
    }
}

#[cfg(test)]
#[path = "serve_tests.rs"]
mod tests;
