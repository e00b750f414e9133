//! Statistics (docs/PROTOCOLS.md §5). Each shard keeps its own [`ServiceStats`] per
//! service, behind `Rc<RefCell<…>>` on the shard's thread: no atomics, no
//! locks, no cross-core traffic while serving. A report clones the shards'
//! stats into [`ShardSnapshot`]s, sends them to the coordinator like any other
//! message, and merges them there.

mod counter;
mod interval;
mod json;
mod report;

pub(crate) use counter::LiveStats;
pub use counter::{Counter, Metric, OwnFigure};
pub use interval::IntervalReporter;
pub use report::{Report, ServiceReport};

use std::time::Duration;

use hdrhistogram::Histogram;

/// Latencies are recorded in microseconds, 1 µs to 60 s, 3 significant figures.
const LATENCY_MAX_US: u64 = 60_000_000;
const LATENCY_SIGFIG: u8 = 3;

/// The event counts every service has (docs/PROTOCOLS.md §5), on one shard or merged. A
/// service's own figures (mq's deliveries, kv's forwarded requests) are
/// [`OwnFigure`]s beside them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Connections accepted (`connections` in the JSON).
    pub accepted: u64,
    /// Connections open now.
    pub open: u64,
    /// Connections closed at once for `--max-conns`.
    pub rejected: u64,
    /// Valid requests served.
    pub messages: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Requests answered with an error reply, too-long lines included.
    pub errors: u64,
    /// Connections closed by `--idle-timeout`.
    pub idle_closes: u64,
    /// Connections ended by a panic while serving them.
    pub panics: u64,
    /// TLS handshakes that failed or did not finish in time.
    pub tls_errors: u64,
}

impl Counters {
    fn add(&mut self, other: &Counters) {
        self.accepted += other.accepted;
        self.open += other.open;
        self.rejected += other.rejected;
        self.messages += other.messages;
        self.bytes_in += other.bytes_in;
        self.bytes_out += other.bytes_out;
        self.errors += other.errors;
        self.idle_closes += other.idle_closes;
        self.panics += other.panics;
        self.tls_errors += other.tls_errors;
    }
}

/// Everything recorded for one service on one shard.
#[derive(Clone, Debug)]
pub struct ServiceStats {
    pub counters: Counters,
    /// Server-side latency: from the read that completed a request to the
    /// completion of the write that carried its response.
    pub latency: Histogram<u64>,
    /// Messages served in each whole second since the server started.
    pub per_second: Vec<u64>,
    /// The service's own figures, in the order it registered them.
    pub own: Vec<OwnFigure>,
}

impl Default for ServiceStats {
    fn default() -> Self {
        ServiceStats {
            counters: Counters::default(),
            latency: new_latency_histogram(),
            per_second: Vec::new(),
            own: Vec::new(),
        }
    }
}

impl ServiceStats {
    /// Records `messages` requests answered by one write: all of them share
    /// one latency, so this costs the same for one request or ten thousand.
    pub fn record_served(&mut self, messages: u64, latency: Duration, since_start: Duration) {
        if messages == 0 {
            return;
        }
        self.counters.messages += messages;
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.latency
            .saturating_record_n(micros.clamp(1, LATENCY_MAX_US), messages);
        let second = since_start.as_secs() as usize;
        if second >= self.per_second.len() {
            self.per_second.resize(second + 1, 0);
        }
        self.per_second[second] += messages;
    }

    pub fn merge(&mut self, other: &ServiceStats) {
        self.counters.add(&other.counters);
        // Both histograms have the same bounds, so adding cannot fail.
        let _ = self.latency.add(&other.latency);
        if other.per_second.len() > self.per_second.len() {
            self.per_second.resize(other.per_second.len(), 0);
        }
        for (mine, theirs) in self.per_second.iter_mut().zip(&other.per_second) {
            *mine += theirs;
        }
        for theirs in &other.own {
            let same =
                |mine: &&mut OwnFigure| mine.name == theirs.name && mine.section == theirs.section;
            match self.own.iter_mut().find(same) {
                Some(mine) => mine.value += theirs.value,
                None => self.own.push(*theirs),
            }
        }
    }

    /// The most messages served within one second counted from start.
    pub fn peak_per_second(&self) -> u64 {
        self.per_second.iter().copied().max().unwrap_or(0)
    }
}

/// A latency histogram as every report keeps one (the protocols' per-command
/// figures too), so that histograms merge.
pub fn new_latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, LATENCY_MAX_US, LATENCY_SIGFIG)
        .expect("constant histogram bounds are valid")
}

/// A copy of one shard's statistics, sent to the coordinator.
#[derive(Clone, Debug)]
pub struct ShardSnapshot {
    pub shard: usize,
    /// Per service, by name, in the order the server lists them.
    pub services: Vec<(&'static str, ServiceStats)>,
}

impl ShardSnapshot {
    pub fn service(&self, name: &str) -> Option<&ServiceStats> {
        self.services
            .iter()
            .find(|(service, _)| *service == name)
            .map(|(_, stats)| stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_count_every_message_and_merge_exactly() {
        let mut a = ServiceStats::default();
        a.record_served(10, Duration::from_micros(5), Duration::from_millis(300));
        a.record_served(3, Duration::from_micros(0), Duration::from_millis(2_100));
        let mut b = ServiceStats::default();
        b.record_served(7, Duration::from_secs(120), Duration::from_millis(100));
        a.merge(&b);
        assert_eq!(a.counters.messages, 20);
        assert_eq!(a.latency.len(), 20);
        assert_eq!(a.per_second, [17, 0, 3]);
        assert_eq!(a.peak_per_second(), 17);
        assert_eq!(a.latency.min(), 1);
        assert!(a.latency.max() >= LATENCY_MAX_US);
    }
}
