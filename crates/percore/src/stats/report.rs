//! Merging shard snapshots into what users read: the final table on stdout
//! here; the `--stats-json` document (`json.rs`) and the `--stats-interval`
//! line (`interval.rs`) are made from the same [`Report`].

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use super::{Counters, OwnFigure, ServiceStats, ShardSnapshot};
use crate::config::{Endpoint, Listen};

/// One service, merged over every shard.
#[derive(Clone, Debug)]
pub struct ServiceReport {
    pub name: &'static str,
    /// Every address it listens on.
    pub addrs: Vec<Endpoint>,
    pub total: ServiceStats,
    /// Per shard 0..N-1: its counters and own figures.
    pub per_shard: Vec<(Counters, Vec<OwnFigure>)>,
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
        let mut names: Vec<&'static str> = Vec::new();
        for listen in listens {
            if !names.contains(&listen.service) {
                names.push(listen.service);
            }
        }
        let services = names
            .into_iter()
            .map(|name| {
                let mut total = ServiceStats::default();
                let mut per_shard = vec![(Counters::default(), Vec::new()); shards];
                for snapshot in snapshots {
                    if let Some(stats) = snapshot.service(name) {
                        total.merge(stats);
                        if let Some(slot) = per_shard.get_mut(snapshot.shard) {
                            *slot = (stats.counters, stats.own.clone());
                        }
                    }
                }
                // A shard that sent nothing shows the service's figures at 0.
                for (_, own) in &mut per_shard {
                    if own.is_empty() {
                        own.extend(total.own.iter().map(|f| OwnFigure { value: 0, ..*f }));
                    }
                }
                let addrs = listens
                    .iter()
                    .filter(|listen| listen.service == name)
                    .map(Listen::endpoint)
                    .collect();
                ServiceReport {
                    name,
                    addrs,
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

    pub fn service(&self, name: &str) -> Option<&ServiceReport> {
        self.services.iter().find(|s| s.name == name)
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
        // docs/PROTOCOLS.md §8: one summary table first, a row per service.
        let names: Vec<String> = self
            .services
            .iter()
            .map(|service| {
                let addrs: Vec<String> = service.addrs.iter().map(|a| a.to_string()).collect();
                format!("{} on {}", service.name, addrs.join(", "))
            })
            .collect();
        let width = names.iter().map(String::len).max().unwrap_or(0).max(7);
        let _ = writeln!(text);
        let _ = writeln!(
            text,
            "{:<width$} {:>10} {:>10} {:>9} {:>7} {:>7} {:>7} {:>8} {:>6} {:>6}",
            "service",
            "messages",
            "msgs/s",
            "peak/s",
            "p50 us",
            "p99 us",
            "p99.9",
            "max us",
            "conns",
            "errors"
        );
        for (service, name) in self.services.iter().zip(&names) {
            let c = &service.total.counters;
            let lat = Percentiles::of(service);
            let _ = writeln!(
                text,
                "{name:<width$} {:>10} {:>10.1} {:>9} {:>7} {:>7} {:>7} {:>8} {:>6} {:>6}",
                c.messages,
                service.msgs_per_sec(self.uptime),
                service.peak_msgs_per_sec(),
                lat.p50,
                lat.p99,
                lat.p999,
                lat.max,
                c.accepted,
                c.errors
            );
        }
        // The details, only for services that served traffic.
        for service in &self.services {
            let c = &service.total.counters;
            if c.accepted == 0 && c.messages == 0 {
                continue;
            }
            let lat = Percentiles::of(service);
            let _ = writeln!(text);
            let addrs: Vec<String> = service.addrs.iter().map(|a| a.to_string()).collect();
            let _ = writeln!(text, "{} on {}", service.name, addrs.join(", "));
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
            let tls = service
                .addrs
                .iter()
                .any(|endpoint| endpoint.tls)
                .then(|| ("tls errors".to_string(), c.tls_errors.to_string()));
            let own = service
                .total
                .own
                .iter()
                .filter(|figure| figure.section.is_none())
                .map(|figure| (label(figure.name), figure.value.to_string()));
            let own = tls.into_iter().chain(own);
            for (name, value) in rows.into_iter().map(|(n, v)| (n.to_string(), v)).chain(own) {
                let _ = writeln!(text, "  {name:<12} {value}");
            }
            let columns: Vec<&OwnFigure> = service
                .total
                .own
                .iter()
                .filter(|f| f.per_shard && f.section.is_none())
                .collect();
            let _ = write!(
                text,
                "  {:<13}{:>12} {:>12}",
                "shard", "messages", "connections"
            );
            for figure in &columns {
                let _ = write!(text, " {:>12}", label(figure.name));
            }
            let _ = writeln!(text);
            for (shard, (c, own)) in service.per_shard.iter().enumerate() {
                let _ = write!(text, "  {shard:<13}{:>12} {:>12}", c.messages, c.accepted);
                for figure in &columns {
                    let value = own
                        .iter()
                        .find(|f| f.name == figure.name)
                        .map_or(0, |f| f.value);
                    let _ = write!(text, " {value:>12}");
                }
                let _ = writeln!(text);
            }
        }
        for (section, rows) in self.sections() {
            let _ = writeln!(text);
            let _ = writeln!(text, "{section}");
            let Some(first) = rows.first() else { continue };
            let names: Vec<&str> = first.keys().copied().filter(|n| *n != "shard").collect();
            let _ = write!(text, "  {:<13}", "shard");
            for name in &names {
                let _ = write!(text, " {:>18}", label(name));
            }
            let _ = writeln!(text);
            for row in &rows {
                let _ = write!(text, "  {:<13}", row.get("shard").copied().unwrap_or(0));
                for name in &names {
                    let _ = write!(text, " {:>18}", row.get(name).copied().unwrap_or(0));
                }
                let _ = writeln!(text);
            }
        }
        text
    }
}

impl Report {
    /// Every top-level section's figures, per shard: `{"shard": i, ...}`.
    pub fn sections(&self) -> BTreeMap<&'static str, Vec<BTreeMap<&'static str, u64>>> {
        let mut sections: BTreeMap<&'static str, Vec<BTreeMap<&'static str, u64>>> =
            BTreeMap::new();
        for service in &self.services {
            for (shard, (_, own)) in service.per_shard.iter().enumerate() {
                for figure in own {
                    let Some(section) = figure.section else {
                        continue;
                    };
                    let rows = sections.entry(section).or_insert_with(|| {
                        (0..self.shards)
                            .map(|i| BTreeMap::from([("shard", i as u64)]))
                            .collect()
                    });
                    if let Some(row) = rows.get_mut(shard) {
                        row.insert(figure.name, figure.value);
                    }
                }
            }
        }
        sections
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
pub(super) struct Percentiles {
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

impl Percentiles {
    pub(super) fn of(service: &ServiceReport) -> Percentiles {
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

/// A figure's name as a report's row or column: `slow_disconnects` → `slow disconnects`.
pub(super) fn label(name: &str) -> String {
    name.replace('_', " ")
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
