//! A report in the Prometheus text exposition format (0.0.4), with the names
//! and labels of docs/PROTOCOLS.md §8. Written here rather than through a metrics crate's
//! registry: a registry wants live metric objects that the data path updates
//! (atomics on every request), and percore's shards keep plain per-shard
//! counters that are only copied at scrape time. The format is a few lines
//! per family; tests check it with a Prometheus parser.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::stats::{Counters, Metric, Report};

/// `percore_request_duration_seconds` buckets, 10 µs to 10 s.
const BUCKETS_US: [u64; 13] = [
    10, 25, 50, 100, 250, 500, 1_000, 2_500, 10_000, 50_000, 250_000, 1_000_000, 10_000_000,
];

/// One family's header and samples.
struct Family {
    kind: &'static str,
    help: &'static str,
    samples: Vec<String>,
}

/// Families in name order, samples in the order they were added.
#[derive(Default)]
struct Exposition(BTreeMap<&'static str, Family>);

impl Exposition {
    fn sample(
        &mut self,
        name: &'static str,
        kind: &'static str,
        help: &'static str,
        labels: &str,
        value: impl std::fmt::Display,
    ) {
        let family = self.0.entry(name).or_insert_with(|| Family {
            kind,
            help,
            samples: Vec::new(),
        });
        family.samples.push(format!("{name}{labels} {value}"));
    }

    fn text(&self) -> String {
        let mut text = String::new();
        for (name, family) in &self.0 {
            let _ = writeln!(text, "# HELP {name} {}", family.help);
            let _ = writeln!(text, "# TYPE {name} {}", family.kind);
            for sample in &family.samples {
                let _ = writeln!(text, "{sample}");
            }
        }
        text
    }
}

/// The per-service counters every service has, as (name, help, value).
fn counters(c: &Counters) -> [(&'static str, &'static str, u64); 9] {
    [
        (
            "percore_messages_total",
            "Valid requests served.",
            c.messages,
        ),
        (
            "percore_errors_total",
            "Requests answered with an error, too-long ones included.",
            c.errors,
        ),
        (
            "percore_bytes_received_total",
            "Bytes read from clients.",
            c.bytes_in,
        ),
        (
            "percore_bytes_sent_total",
            "Bytes written to clients.",
            c.bytes_out,
        ),
        (
            "percore_connections_accepted_total",
            "Connections accepted.",
            c.accepted,
        ),
        (
            "percore_connections_rejected_total",
            "Connections closed at once for --max-conns.",
            c.rejected,
        ),
        (
            "percore_idle_closes_total",
            "Connections closed by --idle-timeout.",
            c.idle_closes,
        ),
        (
            "percore_panics_total",
            "Connections ended by a panic.",
            c.panics,
        ),
        (
            "percore_tls_errors_total",
            "TLS handshakes that failed or timed out.",
            c.tls_errors,
        ),
    ]
}

/// The whole exposition of `report`.
pub fn render(report: &Report) -> String {
    let mut out = Exposition::default();
    out.sample(
        "percore_uptime_seconds",
        "gauge",
        "Seconds since the server started.",
        "",
        format!("{:.3}", report.uptime.as_secs_f64()),
    );
    for service in &report.services {
        let name = service.name;
        for (shard, (c, own)) in service.per_shard.iter().enumerate() {
            let labels = format!("{{service=\"{name}\",shard=\"{shard}\"}}");
            for (metric, help, value) in counters(c) {
                out.sample(metric, "counter", help, &labels, value);
            }
            out.sample(
                "percore_connections_open",
                "gauge",
                "Connections open now.",
                &labels,
                c.open,
            );
            for figure in own {
                match figure.metric {
                    Some(Metric::Counter(metric)) => out.sample(
                        metric,
                        "counter",
                        "A service's own count (see the service).",
                        &labels,
                        figure.value,
                    ),
                    Some(Metric::Gauge(metric)) => out.sample(
                        metric,
                        "gauge",
                        "A service's own gauge (see the service).",
                        &labels,
                        figure.value,
                    ),
                    Some(Metric::ShardGauge(metric)) => out.sample(
                        metric,
                        "gauge",
                        "Per-shard state of the key space.",
                        &format!("{{shard=\"{shard}\"}}"),
                        figure.value,
                    ),
                    None => {}
                }
            }
        }
        let histogram = &service.total.latency;
        let family = "percore_request_duration_seconds";
        let help = "Server-side latency: from the read that completed a request to the write that carried its answer.";
        for le in BUCKETS_US {
            let count = if histogram.is_empty() {
                0
            } else {
                histogram.count_between(0, le)
            };
            let labels = format!("{{service=\"{name}\",le=\"{}\"}}", le as f64 / 1e6);
            out.sample_bucket(family, help, &labels, count);
        }
        let count = histogram.len();
        out.sample_bucket(
            family,
            help,
            &format!("{{service=\"{name}\",le=\"+Inf\"}}"),
            count,
        );
        let sum = histogram.mean() * count as f64 / 1e6;
        out.sample_suffix(
            family,
            "_sum",
            help,
            &format!("{{service=\"{name}\"}}"),
            format!("{sum:.6}"),
        );
        out.sample_suffix(
            family,
            "_count",
            help,
            &format!("{{service=\"{name}\"}}"),
            count,
        );
    }
    out.text()
}

impl Exposition {
    fn sample_bucket(
        &mut self,
        family: &'static str,
        help: &'static str,
        labels: &str,
        count: u64,
    ) {
        self.sample_suffix(family, "_bucket", help, labels, count);
    }

    /// A histogram's sample: named `family` + `suffix`, under `family`'s header.
    fn sample_suffix(
        &mut self,
        family: &'static str,
        suffix: &str,
        help: &'static str,
        labels: &str,
        value: impl std::fmt::Display,
    ) {
        let entry = self.0.entry(family).or_insert_with(|| Family {
            kind: "histogram",
            help,
            samples: Vec::new(),
        });
        entry
            .samples
            .push(format!("{family}{suffix}{labels} {value}"));
    }
}
