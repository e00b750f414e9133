//! The load generator's final report: a table for people, JSON for scripts.

use std::fmt::Write as _;
use std::time::Instant;

use serde::Serialize;

use super::plan::LoadPlan;
use super::stats::LoadStats;

#[derive(Clone, Debug, Serialize)]
pub struct LoadReport {
    pub service: String,
    pub addr: String,
    pub conns: usize,
    pub threads: usize,
    pub pipeline: usize,
    pub size: usize,
    /// `closed` or `open` loop.
    pub mode: &'static str,
    /// Open loop: the offered rate, requests per second.
    pub rate: Option<f64>,
    pub warmup_s: f64,
    /// The measured span: from the end of warm-up to the last reply.
    pub duration_s: f64,
    /// Correct replies in the measured span.
    pub requests: u64,
    /// Correct replies during warm-up (not in the figures).
    pub warmup_requests: u64,
    /// Wrong or missing replies.
    pub errors: u64,
    pub msgs_per_sec: f64,
    pub latency_us: LatencyUs,
    /// (percentile, microseconds) pairs for plotting, out to the max.
    pub latency_curve: Vec<(f64, u64)>,
}

/// Percentiles of the latency curve: dense in the tail, as HdrHistogram plots are.
const CURVE: [f64; 14] = [
    0.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99, 99.995, 99.999, 99.9999, 100.0,
];

#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct LatencyUs {
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

impl LoadReport {
    pub fn new(plan: &LoadPlan, start: Instant, threads: &[LoadStats]) -> LoadReport {
        let mut total = LoadStats::default();
        threads.iter().for_each(|s| total.merge(s));
        let measure_from = start + plan.warmup;
        let duration = total
            .last_reply
            .map(|last| last.saturating_duration_since(measure_from))
            .unwrap_or_default()
            .as_secs_f64();
        let h = &total.latency;
        let latency_us = if h.is_empty() {
            LatencyUs::default()
        } else {
            LatencyUs {
                p50: h.value_at_quantile(0.5),
                p90: h.value_at_quantile(0.9),
                p99: h.value_at_quantile(0.99),
                p999: h.value_at_quantile(0.999),
                max: h.max(),
            }
        };
        let latency_curve = if h.is_empty() {
            Vec::new()
        } else {
            CURVE
                .iter()
                .map(|&p| (p, h.value_at_percentile(p)))
                .collect()
        };
        LoadReport {
            service: plan.service.name().to_string(),
            addr: plan.addr.to_string(),
            conns: plan.conns,
            threads: plan.threads.len(),
            pipeline: plan.pipeline,
            size: plan.workload.size(),
            mode: if plan.rate.is_some() {
                "open"
            } else {
                "closed"
            },
            rate: plan.rate,
            warmup_s: plan.warmup.as_secs_f64(),
            duration_s: duration,
            requests: total.requests,
            warmup_requests: total.warmup_requests,
            errors: total.errors,
            msgs_per_sec: if duration > 0.0 {
                total.requests as f64 / duration
            } else {
                0.0
            },
            latency_us,
            latency_curve,
        }
    }

    pub fn table(&self) -> String {
        let mut text = String::new();
        let loop_kind = match self.rate {
            Some(rate) => format!("open loop at {rate:.0} req/s"),
            None => "closed loop".to_string(),
        };
        let _ = writeln!(
            text,
            "percore load {} on {}: {} conns, {} threads, pipeline {}, {} B, {}",
            self.service, self.addr, self.conns, self.threads, self.pipeline, self.size, loop_kind
        );
        let l = &self.latency_us;
        let rows = [
            ("requests", self.requests.to_string()),
            ("errors", self.errors.to_string()),
            ("duration s", format!("{:.2}", self.duration_s)),
            ("msgs/s", format!("{:.0}", self.msgs_per_sec)),
            (
                "latency us",
                format!(
                    "p50 {}  p90 {}  p99 {}  p99.9 {}  max {}",
                    l.p50, l.p90, l.p99, l.p999, l.max
                ),
            ),
        ];
        for (name, value) in rows {
            let _ = writeln!(text, "  {name:<12}{value}");
        }
        text
    }
}
