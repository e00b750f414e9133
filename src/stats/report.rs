//! Merging shard snapshots into what users read: the final table on stdout,
//! the `--stats-json` document, and the `--stats-interval` line on stderr.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use super::{Counters, ServiceStats, ShardSnapshot};
use crate::config::{Listen, ServiceKind};

/// One service, merged over every shard.
#[derive(Clone, Debug)]
pub struct ServiceReport {
    pub listen: Listen,
    pub total: ServiceStats,
    /// Per shard 0..N-1: its counters.
    pub per_shard: Vec<Counters>,
}

/// The whole server's statistics at one moment.
#[derive(Clone, Debug)]
pub struct Report {
    pub uptime: Duration,
    pub shards: usize,
    pub services: Vec<ServiceReport>,
}

impl Report {
    /// Merges whatever snapshots arrived; a shard without one counts as idle.
    pub fn merge(
        uptime: Duration,
        shards: usize,
        listens: &[Listen],
        snapshots: &[ShardSnapshot],
    ) -> Report {
        let services = listens
            .iter()
            .map(|&listen| {
                let mut total = ServiceStats::default();
                let mut per_shard = vec![Counters::default(); shards];
                for snapshot in snapshots {
                    if let Some(stats) = snapshot.service(listen.kind) {
                        total.merge(stats);
                        if let Some(slot) = per_shard.get_mut(snapshot.shard) {
                            *slot = stats.counters;
                        }
                    }
                }
                ServiceReport {
                    listen,
                    total,
                    per_shard,
                }
            })
            .collect();
        Report {
            uptime,
            shards,
            services,
        }
    }

    pub fn service(&self, kind: ServiceKind) -> Option<&ServiceReport> {
        self.services.iter().find(|s| s.listen.kind == kind)
    }

    /// The final report: one table per service.
    pub fn table(&self) -> String {
        let mut text = String::new();
        let _ = writeln!(
            text,
            "percore report: uptime {:.1} s, {} shards",
            self.uptime.as_secs_f64(),
            self.shards
        );
        for service in &self.services {
            let c = &service.total.counters;
            let lat = Percentiles::of(service);
            let _ = writeln!(text);
            let _ = writeln!(text, "{} on {}", service.listen.kind, service.listen.addr);
            let rows = [
                ("messages", c.messages.to_string()),
                (
                    "msgs/s",
                    format!("{:.1}", service.msgs_per_sec(self.uptime)),
                ),
                ("peak msgs/s", service.peak_msgs_per_sec().to_string()),
                (
                    "latency us",
                    format!(
                        "p50 {}  p90 {}  p99 {}  p99.9 {}  max {}",
                        lat.p50, lat.p90, lat.p99, lat.p999, lat.max
                    ),
                ),
                (
                    "connections",
                    format!("{} accepted, {} rejected", c.accepted, c.rejected),
                ),
                ("bytes", format!("{} in, {} out", c.bytes_in, c.bytes_out)),
                ("errors", c.errors.to_string()),
                (
                    "closed",
                    format!("{} idle, {} by panic", c.idle_closes, c.panics),
                ),
            ];
            let is_mq = service.listen.kind == ServiceKind::Mq;
            let forwarded = (service.listen.kind == ServiceKind::Kv)
                .then(|| ("forwarded", format!("{} to another shard", c.forwarded)));
            let mq_rows = is_mq.then(|| {
                [
                    ("deliveries", c.deliveries.to_string()),
                    ("slow closes", c.slow_disconnects.to_string()),
                    (
                        "topics",
                        format!("{} with {} subscribers", c.topics, c.subscribers),
                    ),
                ]
            });
            let extra = forwarded.into_iter().chain(mq_rows.into_iter().flatten());
            for (name, value) in rows.into_iter().chain(extra) {
                let _ = writeln!(text, "  {name:<13}{value}");
            }
            let _ = write!(
                text,
                "  {:<13}{:>12} {:>12}",
                "shard", "messages", "connections"
            );
            if is_mq {
                let _ = write!(
                    text,
                    " {:>12} {:>8} {:>12}",
                    "deliveries", "topics", "subscribers"
                );
            }
            let _ = writeln!(text);
            for (shard, c) in service.per_shard.iter().enumerate() {
                let _ = write!(text, "  {shard:<13}{:>12} {:>12}", c.messages, c.accepted);
                if is_mq {
                    let _ = write!(
                        text,
                        " {:>12} {:>8} {:>12}",
                        c.deliveries, c.topics, c.subscribers
                    );
                }
                let _ = writeln!(text);
            }
        }
        text
    }

    /// The `--stats-json` document (SPEC 5).
    pub fn to_json(&self) -> serde_json::Value {
        let services = self
            .services
            .iter()
            .map(|service| {
                (
                    service.listen.kind.name(),
                    JsonService::of(service, self.uptime),
                )
            })
            .collect();
        let doc = JsonReport {
            uptime_s: (self.uptime.as_secs_f64() * 1000.0).round() / 1000.0,
            shards: self.shards,
            services,
        };
        serde_json::to_value(doc).unwrap_or_default()
    }
}

impl ServiceReport {
    pub fn msgs_per_sec(&self, uptime: Duration) -> f64 {
        let secs = uptime.as_secs_f64();
        if secs > 0.0 {
            self.total.counters.messages as f64 / secs
        } else {
            0.0
        }
    }

    pub fn peak_msgs_per_sec(&self) -> u64 {
        self.total.peak_per_second()
    }
}

#[derive(Clone, Copy, Debug, Serialize)]
struct Percentiles {
    p50: u64,
    p90: u64,
    p99: u64,
    p999: u64,
    max: u64,
}

impl Percentiles {
    fn of(service: &ServiceReport) -> Percentiles {
        let h = &service.total.latency;
        if h.is_empty() {
            return Percentiles {
                p50: 0,
                p90: 0,
                p99: 0,
                p999: 0,
                max: 0,
            };
        }
        Percentiles {
            p50: h.value_at_quantile(0.5),
            p90: h.value_at_quantile(0.9),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
        }
    }
}

#[derive(Serialize)]
struct JsonReport {
    uptime_s: f64,
    shards: usize,
    services: BTreeMap<&'static str, JsonService>,
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
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    mq: Option<JsonMq>,
    #[serde(skip_serializing_if = "Option::is_none")]
    forwarded: Option<u64>,
    latency_us: Percentiles,
    per_shard: Vec<JsonShard>,
}

#[derive(Serialize)]
struct JsonShard {
    shard: usize,
    messages: u64,
    connections: u64,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    mq: Option<JsonMq>,
}

/// mq's own figures. Topics and subscribers are gauges, as they stood when
/// the report was made (the final report: when shutdown began).
#[derive(Serialize)]
struct JsonMq {
    deliveries: u64,
    slow_disconnects: u64,
    topics: u64,
    subscribers: u64,
}

impl JsonMq {
    fn of(kind: ServiceKind, c: &Counters) -> Option<JsonMq> {
        (kind == ServiceKind::Mq).then_some(JsonMq {
            deliveries: c.deliveries,
            slow_disconnects: c.slow_disconnects,
            topics: c.topics,
            subscribers: c.subscribers,
        })
    }
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
            mq: JsonMq::of(service.listen.kind, c),
            forwarded: (service.listen.kind == ServiceKind::Kv).then_some(c.forwarded),
            latency_us: Percentiles::of(service),
            per_shard: service
                .per_shard
                .iter()
                .enumerate()
                .map(|(shard, c)| JsonShard {
                    shard,
                    messages: c.messages,
                    connections: c.accepted,
                    mq: JsonMq::of(service.listen.kind, c),
                })
                .collect(),
        }
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Turns successive reports into `--stats-interval` lines: the rate since the
/// previous line, open connections, and the latency so far.
#[derive(Debug, Default)]
pub struct IntervalReporter {
    previous: Option<Report>,
}

impl IntervalReporter {
    pub fn line(&mut self, report: Report) -> String {
        let mut line = format!("percore stats t={:.0}s", report.uptime.as_secs_f64());
        for service in &report.services {
            let before = self
                .previous
                .as_ref()
                .and_then(|p| p.service(service.listen.kind).map(|s| (p.uptime, s)));
            let (since, messages_before) = match before {
                Some((uptime, s)) => (uptime, s.total.counters.messages),
                None => (Duration::ZERO, 0),
            };
            let window = report.uptime.saturating_sub(since).as_secs_f64();
            let delta = service.total.counters.messages - messages_before;
            let rate = if window > 0.0 {
                delta as f64 / window
            } else {
                0.0
            };
            let lat = Percentiles::of(service);
            let _ = write!(
                line,
                " | {}: {:.0} msg/s, {} total, {} open, {} errors, p99 {} us",
                service.listen.kind,
                rate,
                service.total.counters.messages,
                service.total.counters.open,
                service.total.counters.errors,
                lat.p99
            );
            if service.listen.kind == ServiceKind::Mq {
                let c = &service.total.counters;
                let _ = write!(
                    line,
                    ", {} deliveries, {} topics, {} subscribers, {} slow closes",
                    c.deliveries, c.topics, c.subscribers, c.slow_disconnects
                );
            }
        }
        self.previous = Some(report);
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listen(kind: ServiceKind) -> Listen {
        Listen {
            kind,
            addr: kind.default_addr(),
        }
    }

    fn snapshot(shard: usize, messages: u64) -> ShardSnapshot {
        let mut stats = ServiceStats::default();
        stats.counters.accepted = 1;
        stats.record_served(messages, Duration::from_micros(7), Duration::ZERO);
        ShardSnapshot {
            shard,
            services: vec![(ServiceKind::Yell, stats)],
        }
    }

    #[test]
    fn json_lists_every_shard_and_every_service() {
        let listens = [listen(ServiceKind::Yell), listen(ServiceKind::Echo)];
        let report = Report::merge(
            Duration::from_secs(2),
            3,
            &listens,
            &[snapshot(0, 5), snapshot(2, 7)],
        );
        let json = report.to_json();
        let yell = &json["services"]["yell"];
        assert_eq!(yell["messages"], 12);
        assert_eq!(yell["msgs_per_sec"], 6.0);
        assert_eq!(yell["per_shard"].as_array().unwrap().len(), 3);
        assert_eq!(yell["per_shard"][1]["messages"], 0);
        assert_eq!(yell["per_shard"][2]["messages"], 7);
        assert_eq!(yell["latency_us"]["p50"], 7);
        assert_eq!(json["services"]["echo"]["messages"], 0);
        assert!(json["services"]["echo"].get("slow_disconnects").is_none());
        assert!(report.table().contains("yell on 127.0.0.1:1234"));
    }
}
