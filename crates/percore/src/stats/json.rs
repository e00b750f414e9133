//! The `--stats-json` document (docs/PROTOCOLS.md §5): a report as JSON, every service
//! with its per-shard figures and its own figures as fields of their own.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::report::{Percentiles, Report, ServiceReport};
use super::Counters;

impl Report {
    /// The `--stats-json` document (docs/PROTOCOLS.md §5).
    pub fn to_json(&self) -> serde_json::Value {
        let services = self
            .services
            .iter()
            .map(|service| (service.name, JsonService::of(service, self.uptime)))
            .collect();
        let doc = JsonReport {
            uptime_s: (self.uptime.as_secs_f64() * 1000.0).round() / 1000.0,
            shards: self.shards,
            services,
            sections: self.sections(),
        };
        serde_json::to_value(doc).unwrap_or_default()
    }
}

#[derive(Serialize)]
struct JsonReport {
    uptime_s: f64,
    shards: usize,
    services: BTreeMap<&'static str, JsonService>,
    /// Sections services report per shard at the top level (`persistence`).
    #[serde(flatten)]
    sections: BTreeMap<&'static str, Vec<BTreeMap<&'static str, u64>>>,
}

#[derive(Serialize)]
struct JsonService {
    connections: u64,
    open_connections: u64,
    rejected_connections: u64,
    messages: u64,
    msgs_per_sec: f64,
    peak_msgs_per_sec: f64,
    bytes_in: u64,
    bytes_out: u64,
    errors: u64,
    idle_closes: u64,
    panics: u64,
    tls_errors: u64,
    /// The service's own figures, as fields of their own.
    #[serde(flatten)]
    own: BTreeMap<&'static str, u64>,
    latency_us: Percentiles,
    per_shard: Vec<JsonShard>,
}

#[derive(Serialize)]
struct JsonShard {
    shard: usize,
    messages: u64,
    connections: u64,
    #[serde(flatten)]
    own: BTreeMap<&'static str, u64>,
}

impl JsonService {
    fn of(service: &ServiceReport, uptime: Duration) -> JsonService {
        let c: &Counters = &service.total.counters;
        JsonService {
            connections: c.accepted,
            open_connections: c.open,
            rejected_connections: c.rejected,
            messages: c.messages,
            msgs_per_sec: round1(service.msgs_per_sec(uptime)),
            peak_msgs_per_sec: service.peak_msgs_per_sec() as f64,
            bytes_in: c.bytes_in,
            bytes_out: c.bytes_out,
            errors: c.errors,
            idle_closes: c.idle_closes,
            panics: c.panics,
            tls_errors: c.tls_errors,
            own: service
                .total
                .own
                .iter()
                .filter(|figure| figure.section.is_none())
                .map(|figure| (figure.name, figure.value))
                .collect(),
            latency_us: Percentiles::of(service),
            per_shard: service
                .per_shard
                .iter()
                .enumerate()
                .map(|(shard, (c, own))| JsonShard {
                    shard,
                    messages: c.messages,
                    connections: c.accepted,
                    own: own
                        .iter()
                        .filter(|figure| figure.per_shard && figure.section.is_none())
                        .map(|figure| (figure.name, figure.value))
                        .collect(),
                })
                .collect(),
        }
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
