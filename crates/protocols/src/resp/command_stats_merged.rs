//! INFO's command figures over every shard (`command_stats.rs` keeps each
//! shard's): the text each shard's part wrote, added up, and written as
//! Redis 7.0's commandstats, errorstats and latencystats lines.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

/// Every shard's figures added up.
#[derive(Default)]
pub struct Merged {
    commands: BTreeMap<String, MergedStat>,
    errors: BTreeMap<Vec<u8>, u64>,
    pub error_replies: u64,
}

/// One command's figures over every shard.
#[derive(Default)]
struct MergedStat {
    calls: u64,
    usec: u64,
    rejected: u64,
    failed: u64,
    latency: Option<Box<Histogram<u64>>>,
}

impl Merged {
    /// Adds one shard's figures, as
    /// [`CommandStats::write_shard`](super::command_stats::CommandStats::write_shard)
    /// wrote them.
    pub fn add(&mut self, text: &[u8]) {
        for line in text.split(|&b| b == b'\n') {
            let mut words = line.splitn(3, |&b| b == b' ');
            match (words.next(), words.next(), words.next()) {
                (Some(b"c"), Some(n), Some(rest)) => self.add_command(n, rest),
                (Some(b"e"), Some(count), Some(prefix)) => {
                    *self.errors.entry(prefix.to_vec()).or_default() += number(count)
                }
                (Some(b"t"), Some(count), None) => self.error_replies += number(count),
                _ => {}
            }
        }
    }

    fn add_command(&mut self, name: &[u8], rest: &[u8]) {
        let name = String::from_utf8_lossy(name).into_owned();
        let stat = self.commands.entry(name).or_default();
        let mut words = rest.split(|&b| b == b' ');
        for field in [
            &mut stat.calls,
            &mut stat.usec,
            &mut stat.rejected,
            &mut stat.failed,
        ] {
            *field += words.next().map_or(0, number);
        }
        for pair in words {
            let Some(colon) = pair.iter().position(|&b| b == b':') else {
                continue;
            };
            let (value, count) = (number(&pair[..colon]), number(&pair[colon + 1..]));
            let latency = stat
                .latency
                .get_or_insert_with(|| Box::new(percore::stats::new_latency_histogram()));
            let _ = latency.record_n(value.max(1), count);
        }
    }

    /// `# Commandstats`' lines.
    pub fn commandstats(&self, text: &mut String) {
        for (name, stat) in &self.commands {
            if stat.calls + stat.rejected + stat.failed == 0 {
                continue;
            }
            let per_call = if stat.calls == 0 {
                0.0
            } else {
                stat.usec as f64 / stat.calls as f64
            };
            text.push_str(&format!(
                "cmdstat_{name}:calls={},usec={},usec_per_call={per_call:.2},rejected_calls={},failed_calls={}\r\n",
                stat.calls, stat.usec, stat.rejected, stat.failed
            ));
        }
    }

    /// `# Errorstats`' lines.
    pub fn errorstats(&self, text: &mut String) {
        for (prefix, count) in &self.errors {
            text.push_str(&format!(
                "errorstat_{}:count={count}\r\n",
                String::from_utf8_lossy(prefix)
            ));
        }
    }

    /// `# Latencystats`' lines: p50, p99 and p99.9 (Redis's default
    /// `latency-tracking-info-percentiles`), in microseconds.
    pub fn latencystats(&self, text: &mut String) {
        for (name, stat) in &self.commands {
            let Some(latency) = stat.latency.as_ref().filter(|l| !l.is_empty()) else {
                continue;
            };
            let at = |q: f64| latency.value_at_quantile(q) as f64;
            text.push_str(&format!(
                "latency_percentiles_usec_{name}:p50={:.3},p99={:.3},p99.9={:.3}\r\n",
                at(0.50),
                at(0.99),
                at(0.999)
            ));
        }
    }
}

fn number(text: &[u8]) -> u64 {
    std::str::from_utf8(text)
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0)
}
