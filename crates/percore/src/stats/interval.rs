//! The `--stats-interval` line on stderr: the rate since the previous line,
//! open connections, the latency so far, and each service's own figures.

use std::fmt::Write as _;
use std::time::Duration;

use super::report::{label, Percentiles, Report};
use super::Metric;

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
                .and_then(|p| p.service(service.name).map(|s| (p.uptime, s)));
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
            // The names are the live metrics' (docs/PROTOCOLS.md §8), so that a line and a
            // scrape read the same.
            let _ = write!(
                line,
                " | {}: {:.0} msg/s, percore_messages_total {}, percore_connections_open {}, percore_errors_total {}, p99 {} us",
                service.name,
                rate,
                service.total.counters.messages,
                service.total.counters.open,
                service.total.counters.errors,
                lat.p99
            );
            for figure in service.total.own.iter().filter(|f| f.section.is_none()) {
                match figure.metric {
                    Some(
                        Metric::Counter(name) | Metric::Gauge(name) | Metric::ShardGauge(name),
                    ) => {
                        let _ = write!(line, ", {name} {}", figure.value);
                    }
                    None => {
                        let _ = write!(line, ", {} {}", label(figure.name), figure.value);
                    }
                }
            }
        }
        self.previous = Some(report);
        line
    }
}
