//! The command line (SPEC section 2): clap definitions and their translation
//! into a validated [`ServerConfig`]. Every error here is a usage error, which
//! `main` turns into exit status 2.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use thiserror::Error;

use crate::config::{Limits, Listen, Placement, ServerConfig, ServiceKind};
use crate::load::{KvMix, LoadPlan, MqMix, RunLength, Workload};

#[derive(Debug, Parser)]
#[command(
    name = "percore",
    version,
    about = "A thread-per-core TCP server on io_uring: yell, echo and chat, and its load generator"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
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
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8888", value_parser = parse_listen_addr, global = true)]
    pub addr: SocketAddr,
    /// Give up on the server after this many seconds.
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = parse_seconds, global = true)]
    pub timeout: Duration,
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
    pub fn as_request(&self) -> crate::services::kv::Request<'_> {
        use crate::services::kv::Request;
        match self {
            KvRequest::Get { key } => Request::Get { key },
            KvRequest::Put { key, val } => Request::Put { key, val },
            KvRequest::Del { key } => Request::Del { key },
            KvRequest::List => Request::ListKeys,
        }
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Number of shards (executors) [default: CPUs in the affinity mask].
    /// More than the CPUs available runs them unpinned.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub shards: Option<u16>,

    /// Comma-separated services to run.
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "yell,echo,chat,mq,kv"
    )]
    pub services: Vec<String>,

    /// yell listener.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:1234", value_parser = parse_listen_addr)]
    pub yell: SocketAddr,

    /// chat listener.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8007", value_parser = parse_listen_addr)]
    pub chat: SocketAddr,

    /// echo listener.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8008", value_parser = parse_listen_addr)]
    pub echo: SocketAddr,

    /// MQ listener.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7777", value_parser = parse_listen_addr)]
    pub mq: SocketAddr,

    /// KV listener.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8888", value_parser = parse_listen_addr)]
    pub kv: SocketAddr,

    /// Longest line (line protocols) or frame (kv) accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_frame: u32,

    /// Close a connection on which nothing was received or sent for this long (0: off).
    #[arg(long, value_name = "SECS", default_value = "0", value_parser = parse_seconds)]
    pub idle_timeout: Duration,

    /// Open connections per shard, all services together; further accepts are closed.
    #[arg(long, value_name = "N", default_value_t = 65_536, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_conns: u32,

    /// Cap on one connection's queued outgoing MQ deliveries, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 4 << 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub mq_queue_bytes: u32,

    /// Print one statistics line per interval to stderr (0: off).
    #[arg(long, value_name = "SECS", default_value = "0", value_parser = parse_seconds)]
    pub stats_interval: Duration,

    /// On shutdown, also write the final statistics as JSON to PATH.
    #[arg(long, value_name = "PATH")]
    pub stats_json: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The service to load: yell, echo, chat, kv or mq.
    pub service: String,

    /// The server's address [default: the service's default address].
    #[arg(long, value_name = "ADDR", value_parser = parse_listen_addr)]
    pub addr: Option<SocketAddr>,

    /// Connections, spread over the client threads.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub conns: u32,

    /// Client threads (executors) [default: one per --cpus entry, else 1].
    #[arg(long, value_name = "T")]
    pub threads: Option<u32>,

    /// CPUs to pin the client threads to, one per thread (e.g. `1` or `2,3`).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub cpus: Vec<usize>,

    /// Requests in flight per connection, written in one write.
    #[arg(long, value_name = "D", default_value_t = 1)]
    pub pipeline: u32,

    /// yell, echo, chat: bytes per line, line ending included.
    #[arg(long, value_name = "B", default_value_t = 16)]
    pub size: u32,

    /// kv: keys in play, split between the connections (each writes its own).
    #[arg(long, value_name = "K", default_value_t = 10_000)]
    pub keys: u64,

    /// kv: share of requests that are Gets; the rest are Puts.
    #[arg(long, value_name = "RATIO", default_value_t = 0.9)]
    pub get_ratio: f64,

    /// kv: bytes per value.
    #[arg(long, value_name = "B", default_value_t = 32)]
    pub val_size: u32,

    /// mq: publisher connections (--conns is then publishers + subscribers).
    #[arg(long, value_name = "P", default_value_t = 1)]
    pub publishers: u32,

    /// mq: subscriber connections, subscriber i on topic i mod --topics.
    #[arg(long, value_name = "S", default_value_t = 10)]
    pub subscribers: u32,

    /// mq: topics; each publisher sends to all of them in turn.
    #[arg(long, value_name = "T", default_value_t = 1)]
    pub topics: u32,

    /// Send for this long [default: 10].
    #[arg(long, value_name = "SECS", value_parser = parse_seconds, conflicts_with = "requests")]
    pub duration: Option<Duration>,

    /// Send exactly this many requests in all, then stop.
    #[arg(long, value_name = "N")]
    pub requests: Option<u64>,

    /// Replies in the first SECS are checked but left out of the figures.
    #[arg(long, value_name = "SECS", default_value = "0", value_parser = parse_seconds)]
    pub warmup: Duration,

    /// Open loop at R requests/s in total, latency measured from each
    /// request's intended send time [default: closed loop].
    #[arg(long, value_name = "R")]
    pub rate: Option<f64>,

    /// Also write the final report as JSON to PATH.
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,

    /// No progress lines on stderr.
    #[arg(long)]
    pub quiet: bool,
}

/// A command line that parses but asks for something percore cannot do.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum UsageError {
    #[error("unknown service '{0}' (known: yell, echo, chat, mq, kv)")]
    UnknownService(String),
    #[error("--services lists no service")]
    NoService,
    #[error("services {first} and {second} cannot share the address {addr}")]
    SharedAddress {
        first: ServiceKind,
        second: ServiceKind,
        addr: SocketAddr,
    },
    #[error("cannot read the CPUs this process may run on")]
    NoCpus,
    #[error("{0}")]
    Load(String),
}

/// A listening address as a user writes it: `IP:PORT` or `host:PORT`, never port 0.
fn parse_listen_addr(text: &str) -> Result<SocketAddr, String> {
    let addr = match text.parse::<SocketAddr>() {
        Ok(addr) => addr,
        Err(_) => text
            .to_socket_addrs()
            .map_err(|e| format!("'{text}' is not an address (IP:PORT): {e}"))?
            .next()
            .ok_or_else(|| format!("'{text}' resolves to no address"))?,
    };
    if addr.port() == 0 {
        return Err(
            "port 0 is not allowed: every shard binds the same address, so name a port".into(),
        );
    }
    Ok(addr)
}

/// Seconds as a non-negative number; fractions are allowed (`0.5`).
fn parse_seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("'{text}' is not a number of seconds"))?;
    Duration::try_from_secs_f64(secs).map_err(|_| format!("'{text}' is not a valid duration"))
}

impl ServeArgs {
    /// Validates the options against this machine and build.
    pub fn into_config(self) -> Result<(ServerConfig, Vec<String>), UsageError> {
        let mut warnings = Vec::new();
        let listens = self.listens()?;
        let cpus: Vec<usize> = core_affinity::get_core_ids()
            .ok_or(UsageError::NoCpus)?
            .into_iter()
            .map(|core| core.id)
            .collect();
        if cpus.is_empty() {
            return Err(UsageError::NoCpus);
        }
        let shards = self.shards.map(usize::from).unwrap_or(cpus.len());
        let placement = if shards <= cpus.len() {
            Placement::Pinned(cpus[..shards].to_vec())
        } else {
            warnings.push(format!(
                "{shards} shards on {} CPUs: shards run unpinned",
                cpus.len()
            ));
            Placement::Unpinned(shards)
        };
        let config = ServerConfig {
            placement,
            listens,
            limits: Limits {
                max_frame: self.max_frame as usize,
                idle_timeout: non_zero(self.idle_timeout),
                max_conns: self.max_conns as usize,
                mq_queue_bytes: self.mq_queue_bytes as usize,
            },
            stats_interval: non_zero(self.stats_interval),
            stats_json: self.stats_json,
        };
        Ok((config, warnings))
    }

    fn listens(&self) -> Result<Vec<Listen>, UsageError> {
        let mut listens: Vec<Listen> = Vec::new();
        for name in self
            .services
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
        {
            let kind = ServiceKind::from_name(name)
                .ok_or_else(|| UsageError::UnknownService(name.to_string()))?;
            if listens.iter().any(|l| l.kind == kind) {
                continue;
            }
            let addr = self.addr_of(kind);
            if let Some(other) = listens.iter().find(|l| l.addr == addr) {
                return Err(UsageError::SharedAddress {
                    first: other.kind,
                    second: kind,
                    addr,
                });
            }
            listens.push(Listen { kind, addr });
        }
        if listens.is_empty() {
            return Err(UsageError::NoService);
        }
        listens.sort_by_key(|l| l.kind);
        Ok(listens)
    }

    fn addr_of(&self, kind: ServiceKind) -> SocketAddr {
        match kind {
            ServiceKind::Yell => self.yell,
            ServiceKind::Echo => self.echo,
            ServiceKind::Chat => self.chat,
            ServiceKind::Mq => self.mq,
            ServiceKind::Kv => self.kv,
        }
    }
}

impl LoadArgs {
    /// Validates the options; a combination that cannot work is refused.
    pub fn into_plan(self) -> Result<LoadPlan, UsageError> {
        let refuse = |why: &str| Err(UsageError::Load(why.to_string()));
        let service = ServiceKind::from_name(&self.service)
            .ok_or_else(|| UsageError::UnknownService(self.service.clone()))?;
        let workload = match service {
            ServiceKind::Yell | ServiceKind::Echo | ServiceKind::Chat => {
                match Workload::lines(service, self.size as usize) {
                    Some(workload) => workload,
                    None => {
                        return refuse(
                            "--size must be at least 2 bytes (one character and its newline)",
                        )
                    }
                }
            }
            ServiceKind::Kv => {
                if self.keys == 0 {
                    return refuse("--keys must be at least 1");
                }
                if !(0.0..=1.0).contains(&self.get_ratio) {
                    return refuse("--get-ratio must be between 0 and 1");
                }
                Workload::Kv(KvMix {
                    keys: self.keys,
                    get_ratio: self.get_ratio,
                    val_size: self.val_size as usize,
                })
            }
            ServiceKind::Mq => {
                if self.publishers == 0 || self.subscribers == 0 || self.topics == 0 {
                    return refuse("--publishers, --subscribers and --topics must be at least 1");
                }
                if self.topics > self.subscribers {
                    return refuse("--topics must not exceed --subscribers: every topic needs one");
                }
                Workload::Mq(MqMix {
                    publishers: self.publishers as usize,
                    subscribers: self.subscribers as usize,
                    topics: self.topics as usize,
                    msg_size: self.size as usize,
                })
            }
        };
        let (conns, senders) = match workload {
            Workload::Mq(mix) => (mix.conns() as u32, self.publishers),
            _ => (self.conns, self.conns),
        };
        LoadArgs { conns, ..self }.into_plan_with(service, workload, senders)
    }

    fn into_plan_with(
        self,
        service: ServiceKind,
        workload: Workload,
        senders: u32,
    ) -> Result<LoadPlan, UsageError> {
        let refuse = |why: &str| Err(UsageError::Load(why.to_string()));
        if self.conns == 0 {
            return refuse("--conns must be at least 1");
        }
        if self.pipeline == 0 {
            return refuse("--pipeline must be at least 1");
        }
        let threads = self.threads.unwrap_or(self.cpus.len().max(1) as u32) as usize;
        if threads == 0 {
            return refuse("--threads must be at least 1");
        }
        if threads > self.conns as usize {
            return refuse("--threads must not exceed --conns: every thread needs a connection");
        }
        let threads = if self.cpus.is_empty() {
            vec![None; threads]
        } else {
            if self.cpus.len() != threads {
                return refuse("--cpus must list one CPU per client thread");
            }
            let available: Vec<usize> = core_affinity::get_core_ids()
                .ok_or(UsageError::NoCpus)?
                .into_iter()
                .map(|core| core.id)
                .collect();
            if let Some(cpu) = self.cpus.iter().find(|cpu| !available.contains(cpu)) {
                return refuse(&format!(
                    "CPU {cpu} in --cpus is not available to this process"
                ));
            }
            self.cpus.iter().copied().map(Some).collect()
        };
        let length = match (self.duration, self.requests) {
            (_, Some(0)) => return refuse("--requests must be at least 1"),
            (_, Some(n)) if n < u64::from(senders) => return refuse(
                "--requests must be at least --conns (mq: --publishers): every sender sends one",
            ),
            (_, Some(n)) => RunLength::Requests(n),
            (Some(d), None) if d.is_zero() => return refuse("--duration must be more than 0"),
            (Some(d), None) => RunLength::Duration(d),
            (None, None) => RunLength::Duration(Duration::from_secs(10)),
        };
        if let RunLength::Duration(d) = length {
            if self.warmup >= d {
                return refuse("--warmup must be shorter than --duration");
            }
        }
        if let Some(rate) = self.rate {
            if !rate.is_finite() || rate <= 0.0 {
                return refuse("--rate must be a positive number of requests per second");
            }
        }
        Ok(LoadPlan {
            service,
            addr: self.addr.unwrap_or(service.default_addr()),
            conns: self.conns as usize,
            threads,
            pipeline: self.pipeline as usize,
            workload,
            length,
            warmup: self.warmup,
            rate: self.rate,
            progress: !self.quiet,
        })
    }
}

fn non_zero(duration: Duration) -> Option<Duration> {
    (!duration.is_zero()).then_some(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve(args: &[&str]) -> Result<ServeArgs, clap::Error> {
        let mut argv = vec!["percore", "serve"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).map(|cli| match cli.command {
            Command::Serve(args) => args,
            _ => unreachable!("parsed serve"),
        })
    }

    #[test]
    fn defaults_follow_the_spec() {
        let (config, _) = serve(&[]).unwrap().into_config().unwrap();
        let names: Vec<_> = config.listens.iter().map(|l| l.kind.name()).collect();
        assert_eq!(names, ["yell", "echo", "chat", "mq", "kv"]);
        assert_eq!(config.listens[0].addr, "127.0.0.1:1234".parse().unwrap());
        assert_eq!(config.limits, Limits::default());
        assert_eq!(config.stats_interval, None);
    }

    #[test]
    fn port_zero_and_garbage_addresses_are_refused() {
        assert!(serve(&["--yell", "127.0.0.1:0"]).is_err());
        assert!(serve(&["--yell", "not an address"]).is_err());
        assert!(serve(&["--idle-timeout", "-1"]).is_err());
    }

    #[test]
    fn services_are_checked() {
        let unknown = serve(&["--services", "yell,ftp"]).unwrap().into_config();
        assert_eq!(
            unknown.unwrap_err(),
            UsageError::UnknownService("ftp".into())
        );
        let shared = serve(&["--services", "yell,echo", "--echo", "127.0.0.1:1234"])
            .unwrap()
            .into_config();
        assert!(matches!(shared, Err(UsageError::SharedAddress { .. })));
    }

    #[test]
    fn more_shards_than_cpus_run_unpinned_with_a_warning() {
        let (config, warnings) = serve(&["--shards", "512"]).unwrap().into_config().unwrap();
        assert_eq!(config.placement, Placement::Unpinned(512));
        assert_eq!(warnings.len(), 1);
    }
}
