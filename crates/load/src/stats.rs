//! What the load generator measures: per client thread, correct and wrong
//! replies and client-side latency, merged into the report at the end.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use percore::stats::new_latency_histogram;

/// What one client thread measured.
#[derive(Clone, Debug)]
pub struct LoadStats {
    /// Correct replies received after the warm-up.
    pub requests: u64,
    /// Correct replies received during the warm-up.
    pub warmup_requests: u64,
    /// Wrong or missing replies, whenever they happened.
    pub errors: u64,
    /// Client-side latency of the measured requests, in microseconds.
    pub latency: Histogram<u64>,
    /// When the last reply arrived.
    pub last_reply: Option<Instant>,
}

impl Default for LoadStats {
    fn default() -> Self {
        LoadStats {
            requests: 0,
            warmup_requests: 0,
            errors: 0,
            latency: new_latency_histogram(),
            last_reply: None,
        }
    }
}

impl LoadStats {
    pub(super) fn record(
        &mut self,
        at: Instant,
        measure_from: Instant,
        good: u64,
        wrong: u64,
        latency: Duration,
    ) {
        self.errors += wrong;
        self.last_reply = Some(at);
        if at < measure_from {
            self.warmup_requests += good;
            return;
        }
        self.requests += good;
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.latency.saturating_record_n(micros.max(1), good);
    }

    pub fn merge(&mut self, other: &LoadStats) {
        self.requests += other.requests;
        self.warmup_requests += other.warmup_requests;
        self.errors += other.errors;
        let _ = self.latency.add(&other.latency);
        self.last_reply = self.last_reply.max(other.last_reply);
    }
}
