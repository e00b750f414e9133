//! `percore load`'s options and their translation into a [`LoadPlan`]:
//! every combination that cannot work is refused before a connection opens.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::{parse_seconds, parse_server_addr, UsageError};
use percore_load::target::ServiceKind;
use percore_load::{KvMix, LoadPlan, MqMix, RunLength, Workload};

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The service to load: yell, echo, chat, kv, resp or mq.
    pub service: String,

    /// The server's address [default: the service's default address].
    #[arg(long, value_name = "ADDR", value_parser = parse_server_addr)]
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

    /// kv, resp: keys in play, split between the connections (each writes its own).
    #[arg(long, value_name = "K", default_value_t = 10_000)]
    pub keys: u64,

    /// kv, resp: share of requests that are Gets; the rest are Puts (SETs).
    #[arg(long, value_name = "RATIO", default_value_t = 0.9)]
    pub get_ratio: f64,

    /// kv, resp: bytes per value.
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

    /// Talk TLS to a `tls://` listener (closed loop: yell, echo, chat, kv).
    #[arg(long)]
    pub tls: bool,

    /// With --tls: trust this CA (PEM) instead of the system's roots.
    #[arg(long, value_name = "FILE", requires = "tls")]
    pub tls_ca: Option<PathBuf>,
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
            ServiceKind::Kv | ServiceKind::Resp => {
                if self.keys == 0 {
                    return refuse("--keys must be at least 1");
                }
                if !(0.0..=1.0).contains(&self.get_ratio) {
                    return refuse("--get-ratio must be between 0 and 1");
                }
                let mix = KvMix {
                    keys: self.keys,
                    get_ratio: self.get_ratio,
                    val_size: self.val_size as usize,
                };
                if service == ServiceKind::Kv {
                    Workload::Kv(mix)
                } else {
                    Workload::Resp(mix)
                }
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
        let tls = match self.tls {
            false => None,
            true if self.rate.is_some() || service == ServiceKind::Mq => {
                return refuse(
                    "--tls drives closed-loop yell, echo, chat and kv (no --rate, no mq)",
                )
            }
            true => Some(
                percore::tls::client::client_config(self.tls_ca.as_deref())
                    .map_err(|e| UsageError::Load(e.to_string()))?,
            ),
        };
        Ok(LoadPlan {
            service,
            addr: self.addr.unwrap_or(default_addr(service)),
            conns: self.conns as usize,
            threads,
            pipeline: self.pipeline as usize,
            workload,
            length,
            warmup: self.warmup,
            rate: self.rate,
            progress: !self.quiet,
            tls,
        })
    }
}

/// Where `percore serve` listens for `service` by default.
fn default_addr(service: ServiceKind) -> SocketAddr {
    percore_protocols::built_in(service.name())
        .and_then(|built_in| built_in.default_addr.parse().ok())
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)))
}
