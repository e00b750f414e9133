//! The command line (docs/PROTOCOLS.md §2): clap definitions and their translation
//! into a server (`serve.rs`) or a load plan (`load.rs`). Every error here is a
//! usage error, which `main` turns into exit status 2.

mod load;
mod serve;
mod service_addrs;

pub use load::LoadArgs;
pub use serve::ServeArgs;

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use thiserror::Error;

#[derive(Debug, Parser)]
#[command(
    name = "percore",
    version,
    about = about()
)]
pub struct Cli {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, Subcommand)]
pub enum Action {
    /// Run the server until SIGINT or SIGTERM, then print the statistics.
    Serve(ServeArgs),
    /// Drive a service with many connections; check every reply, report
    /// throughput and latency.
    Load(LoadArgs),
    /// Talk to a kv server: one request, its reply printed as redis-cli does.
    Kv(KvArgs),
}

#[derive(Debug, Args)]
pub struct KvArgs {
    /// The kv server.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8888", value_parser = parse_server_addr, global = true)]
    pub addr: SocketAddr,
    /// Give up on the server after this many seconds.
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = parse_seconds, global = true)]
    pub timeout: Duration,
    /// Talk TLS to a `tls://` listener.
    #[arg(long, global = true)]
    pub tls: bool,
    /// With --tls: trust this CA (PEM) instead of the system's roots.
    #[arg(long, value_name = "FILE", global = true)]
    pub tls_ca: Option<std::path::PathBuf>,
    #[command(subcommand)]
    pub request: KvRequest,
}

#[derive(Debug, Subcommand)]
pub enum KvRequest {
    /// Print the value of KEY, or (nil).
    Get { key: String },
    /// Set KEY to VAL.
    Put { key: String, val: String },
    /// Delete KEY (absent keys too).
    Del { key: String },
    /// Print every key, sorted.
    List,
}

impl KvRequest {
    pub fn as_request(&self) -> percore_protocols::kv::Request<'_> {
        use percore_protocols::kv::Request;
        match self {
            KvRequest::Get { key } => Request::Get { key },
            KvRequest::Put { key, val } => Request::Put { key, val },
            KvRequest::Del { key } => Request::Del { key },
            KvRequest::List => Request::ListKeys,
        }
    }
}

/// A command line that parses but asks for something percore cannot do.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum UsageError {
    #[error("unknown service '{0}' (known: {known})", known = known_services())]
    UnknownService(String),
    #[error("--services lists no service")]
    NoService,
    #[error("services {first} and {second} cannot share the address {addr}")]
    SharedAddress {
        first: &'static str,
        second: &'static str,
        addr: SocketAddr,
    },
    #[error("cannot read the CPUs this process may run on")]
    NoCpus,
    #[error("--shards {asked}: at most {max} on {cpus} CPUs ({per_cpu} per CPU: each shard takes about 11 MiB and two threads, and the start's cross-shard meshes grow with the square of the count)")]
    TooManyShards {
        asked: usize,
        max: usize,
        cpus: usize,
        per_cpu: usize,
    },
    #[error("--requirepass is set, but {service} on {addr} would serve without authentication (its protocol has no AUTH): bind it to a loopback address, or serve it on a tls:// address with --tls-client-ca")]
    Unauthenticated {
        service: &'static str,
        addr: SocketAddr,
    },
    #[error("--data-dir {0}")]
    DataDir(String),
    #[error("{0}")]
    Load(String),
    #[error(transparent)]
    Cluster(#[from] percore_protocols::resp::cluster::ClusterError),
}

/// `percore --help`'s first line: what percore is, naming every built-in
/// service (from [`percore_protocols::BUILT_IN`], so a new one is named too).
fn about() -> String {
    format!(
        "A thread-per-core TCP server on io_uring ({}), its load generator and a kv client",
        known_services()
    )
}

/// The built-in services' names, for messages.
fn known_services() -> String {
    let names: Vec<&str> = percore_protocols::BUILT_IN.iter().map(|s| s.name).collect();
    names.join(", ")
}

/// A listening address as a user writes it: `IP:PORT` or `host:PORT`. Port
/// 0 asks for a port the kernel picks, the same on every shard; the
/// listening line names it (docs/PROTOCOLS.md, "Addresses").
pub(crate) fn parse_listen_addr(text: &str) -> Result<SocketAddr, String> {
    match text.parse::<SocketAddr>() {
        Ok(addr) => Ok(addr),
        Err(_) => text
            .to_socket_addrs()
            .map_err(|e| format!("'{text}' is not an address (IP:PORT): {e}"))?
            .next()
            .ok_or_else(|| format!("'{text}' resolves to no address")),
    }
}

/// A server's address to connect to: as [`parse_listen_addr`], but port 0
/// names no server.
pub(crate) fn parse_server_addr(text: &str) -> Result<SocketAddr, String> {
    let addr = parse_listen_addr(text)?;
    if addr.port() == 0 {
        return Err(format!(
            "'{text}': port 0 names no server; give the port it listens on"
        ));
    }
    Ok(addr)
}

/// A listening endpoint: an address, or `tls://` and an address (docs/PROTOCOLS.md §9).
pub(crate) fn parse_endpoint(text: &str) -> Result<percore::config::Endpoint, String> {
    match text.strip_prefix("tls://") {
        Some(addr) => parse_listen_addr(addr).map(percore::config::Endpoint::tls),
        None => parse_listen_addr(text).map(percore::config::Endpoint::plain),
    }
}

/// A number of bytes with Redis's units (`100mb`, `1GB`, `512k`; k, m, g
/// are powers of 1000, kb, mb, gb of 1024), the parser `CONFIG SET
/// maxmemory` uses, so both take the same values.
pub(crate) fn parse_bytes(text: &str) -> Result<u64, String> {
    percore_protocols::resp::commands::server::parse_memory(text.as_bytes()).ok_or_else(|| {
        format!("'{text}' is not a number of bytes (bytes, or with a unit: 100mb, 1gb, 512kb)")
    })
}

/// Seconds as a non-negative number; fractions are allowed (`0.5`).
pub(crate) fn parse_seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("'{text}' is not a number of seconds"))?;
    Duration::try_from_secs_f64(secs).map_err(|_| format!("'{text}' is not a valid duration"))
}

pub(crate) fn non_zero(duration: Duration) -> Option<Duration> {
    (!duration.is_zero()).then_some(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn about_names_every_built_in_service() {
        let about = about();
        for service in percore_protocols::BUILT_IN {
            assert!(about.contains(service.name), "{about}");
        }
    }

    #[test]
    fn bytes_take_redis_units_in_any_case() {
        assert_eq!(parse_bytes("0"), Ok(0));
        assert_eq!(parse_bytes("100mb"), Ok(100 << 20));
        assert_eq!(parse_bytes("100MB"), Ok(100 << 20));
        assert_eq!(parse_bytes("1g"), Ok(1_000_000_000));
        assert_eq!(parse_bytes("2Gb"), Ok(2 << 30));
        assert_eq!(parse_bytes("512k"), Ok(512_000));
        assert_eq!(parse_bytes("7b"), Ok(7));
        assert!(parse_bytes("100mib").is_err());
        assert!(parse_bytes("-1").is_err());
        assert!(parse_bytes("mb").is_err());
    }
}
