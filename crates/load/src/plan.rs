//! The plan of a load run, as validated from the command line, and what it
//! asks of each connection.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::workload::{MqMix, Workload};
use crate::target::ServiceKind;

/// A validated load run.
#[derive(Clone, Debug)]
pub struct LoadPlan {
    pub service: ServiceKind,
    pub addr: SocketAddr,
    pub conns: usize,
    /// One client executor per entry: the CPU it is pinned to, or none.
    pub threads: Vec<Option<usize>>,
    pub pipeline: usize,
    pub workload: Workload,
    pub length: RunLength,
    pub warmup: Duration,
    /// Open loop: total requests per second over all connections.
    pub rate: Option<f64>,
    /// Print a progress line each second on stderr.
    pub progress: bool,
    /// Over TLS, trusting what this configuration trusts (`--tls`).
    pub tls: Option<std::sync::Arc<rustls::ClientConfig>>,
}

/// When a run ends.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RunLength {
    /// Send for this long, then collect the replies in flight.
    Duration(Duration),
    /// Send exactly this many requests in all.
    Requests(u64),
}

/// What one connection does.
#[derive(Clone, Copy, Debug)]
pub struct ConnPlan {
    pub workload: Workload,
    /// This connection's number among all the run's connections, and their count.
    pub conn: u64,
    pub conns: u64,
    /// Requests in flight at most.
    pub pipeline: usize,
    /// Requests this connection sends in all, or none for a timed run.
    pub quota: Option<u64>,
    /// When a timed run stops sending.
    pub end: Option<Instant>,
    /// Replies before this are warm-up: checked, not measured.
    pub measure_from: Instant,
    /// Open loop: this connection's requests per second, from `start`.
    pub rate: Option<f64>,
    pub start: Instant,
}

impl ConnPlan {
    /// What request/reply connection number `conn` does in a run that
    /// starts at `start`: its share of the requests and of the rate.
    pub(super) fn request_reply(plan: &LoadPlan, conn: usize, start: Instant) -> ConnPlan {
        let global = conn as u64;
        let total_conns = plan.conns as u64;
        let per_conn_rate = plan.rate.map(|r| r / total_conns as f64);
        ConnPlan {
            workload: plan.workload,
            conn: global,
            conns: total_conns,
            pipeline: plan.pipeline,
            quota: match plan.length {
                RunLength::Requests(n) => {
                    Some(n / total_conns + u64::from(global < n % total_conns))
                }
                RunLength::Duration(_) => None,
            },
            end: match plan.length {
                RunLength::Duration(d) => Some(start + d),
                RunLength::Requests(_) => None,
            },
            measure_from: start + plan.warmup,
            rate: per_conn_rate,
            // Spread the connections' schedules over one interval.
            start: start
                + per_conn_rate.map_or(Duration::ZERO, |r| {
                    Duration::from_secs_f64(global as f64 / total_conns as f64 / r)
                }),
        }
    }

    /// An mq connection's plan: publishers share the messages and the rate.
    pub(super) fn mq(plan: &LoadPlan, mix: MqMix, conn: usize, start: Instant) -> ConnPlan {
        let publisher = conn.checked_sub(mix.subscribers);
        let rate = plan.rate.map(|r| r / mix.publishers as f64);
        ConnPlan {
            workload: plan.workload,
            conn: conn as u64,
            conns: plan.conns as u64,
            pipeline: plan.pipeline,
            quota: match (plan.length, publisher) {
                (RunLength::Requests(n), Some(p)) => {
                    Some(share(n as usize, mix.publishers, p) as u64)
                }
                _ => None,
            },
            end: match plan.length {
                RunLength::Duration(d) => Some(start + d),
                RunLength::Requests(_) => None,
            },
            measure_from: start + plan.warmup,
            rate,
            // Publishers' schedules spread over one interval; all share the
            // clock that timestamps their messages.
            start,
        }
    }

    /// How many of the next requests, from number `seq`, may be sent now.
    pub(super) fn allowed(&self, seq: u64, wanted: usize, now: Instant) -> usize {
        if self.end.is_some_and(|end| now >= end) {
            return 0;
        }
        match self.quota {
            Some(quota) => quota.saturating_sub(seq).min(wanted as u64) as usize,
            None => wanted,
        }
    }
}

/// The `index`-th of `parts` shares of `total`, as even as can be.
pub(super) fn share(total: usize, parts: usize, index: usize) -> usize {
    total / parts + usize::from(index < total % parts)
}

#[cfg(test)]
mod tests {
    use super::share;

    #[test]
    fn shares_add_up() {
        for total in 0..20 {
            for parts in 1..6 {
                let sum: usize = (0..parts).map(|i| share(total, parts, i)).sum();
                assert_eq!(sum, total);
            }
        }
    }
}
