//! One request/reply connection (yell, echo, chat, kv, resp), closed loop or open
//! loop. Either way it writes a whole batch of requests per write, checks
//! every reply against the request it answers, and records client-side
//! latency. What the requests are and what their replies must be is the
//! connection's [`Exchange`].

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use futures_lite::{future, AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;

use glommio::sync::Semaphore;
use glommio::timer::sleep;
use percore::transport::Transport;

use super::kv::{KvExchange, Wire};
use super::lines::LineExchange;
use super::ReplyBuffer;
use crate::plan::ConnPlan;
use crate::stats::LoadStats;
use crate::workload::Workload;

/// How long a finished connection waits for its outstanding replies.
const DRAIN: Duration = Duration::from_secs(5);

/// One connection's requests and the replies they must get, in order.
pub enum Exchange {
    Lines(LineExchange),
    Kv(KvExchange),
}

impl Exchange {
    /// The exchange of connection number `conn` of `conns`; none for mq.
    pub fn new(workload: &Workload, conn: u64, conns: u64) -> Option<Exchange> {
        match *workload {
            Workload::Lines(lines) => Some(Exchange::Lines(LineExchange::new(lines))),
            Workload::Kv(mix) => Some(Exchange::Kv(KvExchange::new(mix, conn, conns, Wire::Kv))),
            Workload::Resp(mix) => {
                Some(Exchange::Kv(KvExchange::new(mix, conn, conns, Wire::Resp)))
            }
            Workload::Mq(_) => None,
        }
    }

    /// Appends the next request and remembers what it must get.
    pub fn push_request(&mut self, out: &mut Vec<u8>) {
        match self {
            Exchange::Lines(lines) => lines.push_request(out),
            Exchange::Kv(kv) => kv.push_request(out),
        }
    }

    /// Checks the oldest unanswered request's reply at the start of `buf`:
    /// None while it is incomplete, else its length and whether it is right.
    pub fn check_reply(&mut self, buf: &[u8]) -> Option<(usize, bool)> {
        match self {
            Exchange::Lines(lines) => lines.check_reply(buf),
            Exchange::Kv(kv) => kv.check_reply(buf),
        }
    }

    /// Requests sent and not answered yet.
    pub fn in_flight(&self) -> usize {
        match self {
            Exchange::Lines(lines) => lines.in_flight(),
            Exchange::Kv(kv) => kv.in_flight(),
        }
    }
}

/// Closed loop: write `pipeline` requests in one write, read every reply,
/// repeat. Latency runs from the write to the last reply of the batch.
pub async fn closed_loop(mut stream: impl Transport, plan: ConnPlan, stats: &RefCell<LoadStats>) {
    let Some(mut exchange) = Exchange::new(&plan.workload, plan.conn, plan.conns) else {
        return;
    };
    let mut request = Vec::with_capacity(plan.workload.size() * plan.pipeline);
    let mut inbox = ReplyBuffer::new(plan.workload.size() * plan.pipeline);
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
    let Some(exchange) = Exchange::new(&plan.workload, plan.conn, plan.conns) else {
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
        let mut inbox = ReplyBuffer::new(plan.workload.size() * plan.pipeline);
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
