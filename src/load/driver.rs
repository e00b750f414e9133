//! One load-generating connection, closed loop or open loop. Either way it
//! writes a whole batch of requests per write, checks every reply against
//! the request it answers, and records client-side latency.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use futures_lite::{future, AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;
use glommio::sync::Semaphore;
use glommio::timer::sleep;
use hdrhistogram::Histogram;

use super::workload::Workload;
use crate::stats::new_latency_histogram;

/// How long a finished connection waits for its outstanding replies.
const DRAIN: Duration = Duration::from_secs(5);

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

/// Replies as they arrive: complete ones are checked and consumed from the
/// front, a partial one waits for the next read. Grows only for a reply
/// larger than itself.
pub(super) struct Inbox {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Inbox {
    pub(super) fn new(capacity: usize) -> Inbox {
        Inbox {
            buf: vec![0; capacity.max(64 * 1024)],
            start: 0,
            end: 0,
        }
    }

    pub(super) fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    pub(super) fn consume(&mut self, n: usize) {
        self.start += n;
    }

    /// Room for the next read, moving what is left to the front first.
    pub(super) fn spare(&mut self) -> &mut [u8] {
        self.buf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        if self.end == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        &mut self.buf[self.end..]
    }

    pub(super) fn filled(&mut self, n: usize) {
        self.end += n;
    }
}

/// Closed loop: write `pipeline` requests in one write, read every reply,
/// repeat. Latency runs from the write to the last reply of the batch.
pub async fn closed_loop(mut stream: TcpStream, plan: ConnPlan, stats: &RefCell<LoadStats>) {
    let Some(mut exchange) = plan.workload.exchange(plan.conn, plan.conns) else {
        return;
    };
    let mut request = Vec::with_capacity(plan.workload.size() * plan.pipeline);
    let mut inbox = Inbox::new(plan.workload.size() * plan.pipeline);
    let mut seq = 0u64;
    loop {
        let batch = plan.allowed(seq, plan.pipeline, Instant::now());
        if batch == 0 {
            return;
        }
        request.clear();
        for _ in 0..batch {
            exchange.push_request(&mut request);
        }
        let sent = Instant::now();
        if stream.write_all(&request).await.is_err() {
            stats.borrow_mut().errors += batch as u64;
            return;
        }
        let (mut answered, mut wrong) = (0, 0);
        while answered < batch {
            while answered < batch {
                let Some((used, right)) = exchange.check_reply(inbox.data()) else {
                    break;
                };
                inbox.consume(used);
                answered += 1;
                wrong += u64::from(!right);
            }
            if answered == batch {
                break;
            }
            match stream.read(inbox.spare()).await {
                Ok(0) | Err(_) => {
                    stats.borrow_mut().errors += (batch - answered) as u64 + wrong;
                    return;
                }
                Ok(n) => inbox.filled(n),
            }
        }
        let done = Instant::now();
        stats.borrow_mut().record(
            done,
            plan.measure_from,
            batch as u64 - wrong,
            wrong,
            done - sent,
        );
        seq += batch as u64;
    }
}

/// Open loop at a fixed rate, as wrk2 does: request n is due at
/// `start + n / rate`, and its latency runs from that intended time, so a
/// server that stalls shows in the percentiles instead of slowing the
/// schedule down. At most `pipeline` requests are in flight; requests that
/// fell due together go out in one write.
pub async fn open_loop(stream: TcpStream, plan: ConnPlan, stats: &RefCell<LoadStats>) {
    let Some(rate) = plan.rate.filter(|r| *r > 0.0) else {
        return closed_loop(stream, plan, stats).await;
    };
    let interval = Duration::from_secs_f64(1.0 / rate);
    let due = |seq: u64| plan.start + interval.mul_f64(seq as f64);
    let (mut reader, mut writer) = futures_lite::io::split(stream);
    let window = Semaphore::new(plan.pipeline as u64);
    let Some(exchange) = plan.workload.exchange(plan.conn, plan.conns) else {
        return;
    };
    let exchange = RefCell::new(exchange);
    let in_flight: RefCell<VecDeque<u64>> = RefCell::new(VecDeque::with_capacity(plan.pipeline));
    let failed = Cell::new(false);

    let sending = async {
        let mut request = Vec::with_capacity(plan.workload.size() * plan.pipeline);
        let mut seq = 0u64;
        loop {
            let next = due(seq);
            if plan.allowed(seq, 1, next) == 0 {
                break;
            }
            let now = Instant::now();
            if next > now {
                sleep(next - now).await;
            }
            if window.acquire(1).await.is_err() {
                break;
            }
            request.clear();
            let now = Instant::now();
            let mut batch = 0;
            loop {
                exchange.borrow_mut().push_request(&mut request);
                in_flight.borrow_mut().push_back(seq);
                seq += 1;
                batch += 1;
                let more = batch < plan.pipeline
                    && due(seq) <= now
                    && plan.allowed(seq, 1, now) > 0
                    && window.try_acquire(1).unwrap_or(false);
                if !more {
                    break;
                }
            }
            if writer.write_all(&request).await.is_err() {
                failed.set(true);
                break;
            }
        }
        // Give the replies still in flight a bounded time to arrive.
        let give_up = Instant::now() + DRAIN;
        while !failed.get() && !in_flight.borrow().is_empty() && Instant::now() < give_up {
            sleep(Duration::from_millis(1)).await;
        }
    };

    let receiving = async {
        let mut inbox = Inbox::new(plan.workload.size() * plan.pipeline);
        loop {
            match reader.read(inbox.spare()).await {
                Ok(0) | Err(_) => {
                    failed.set(true);
                    return;
                }
                Ok(n) => inbox.filled(n),
            }
            let now = Instant::now();
            let mut stats = stats.borrow_mut();
            let mut exchange = exchange.borrow_mut();
            while let Some((used, right)) = exchange.check_reply(inbox.data()) {
                inbox.consume(used);
                let Some(seq) = in_flight.borrow_mut().pop_front() else {
                    // A reply to nothing we sent.
                    stats.errors += 1;
                    failed.set(true);
                    return;
                };
                let wrong = u64::from(!right);
                stats.record(now, plan.measure_from, 1 - wrong, wrong, now - due(seq));
                window.signal(1);
            }
            if exchange.in_flight() == 0 && !inbox.data().is_empty() {
                // Bytes that answer nothing we sent.
                stats.errors += 1;
                failed.set(true);
                return;
            }
        }
    };

    future::or(sending, receiving).await;
    // Whatever is still in flight never got its reply.
    stats.borrow_mut().errors += in_flight.borrow().len() as u64;
}
