//! `percore load`: the Python originals' yell-echo experiment (docs/PROTOCOLS.md §0) at scale. Client threads,
//! each a glommio executor (pinned when `--cpus` is given), drive many
//! connections, closed loop or open loop at a target rate; every reply is
//! checked; latency goes into an HdrHistogram per thread, merged at the end.
//!
//! The `percore-load` crate, over the protocols' encoders and the RESP
//! wire format (docs/ARCHITECTURE.md "Crates"). Its root runs the client threads and follows their progress. The rest:
//! `target` (the services it can drive), `plan` (the run and each
//! connection's part of it), `workload` (what is sent, as parameters),
//! `drivers` (what one connection does, per protocol), `stats` (what a
//! thread measured) and `report` (the figures at the end).

mod drivers;
mod plan;
mod report;
mod stats;
pub mod target;
mod workload;

pub use plan::{LoadPlan, RunLength};
pub use report::LoadReport;
pub use stats::LoadStats;
pub use workload::{KvMix, MqMix, Workload};

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use glommio::net::TcpStream;
use rustls::ClientConnection;
use thiserror::Error;

use percore::tls::client::server_name;
use percore::tls::TlsStream;

use drivers::mq;
use plan::{share, ConnPlan};

/// How long connecting may take before the run is called off.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a TLS handshake may take, as the server allows.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Between progress lines.
const PROGRESS_PERIOD: Duration = Duration::from_secs(1);

#[derive(Debug, Error)]
pub enum LoadError {
    #[error("cannot connect to {addr}: {reason}")]
    Connect { addr: SocketAddr, reason: String },
    #[error("cannot start client thread {thread}: {reason}")]
    Thread { thread: usize, reason: String },
}

/// What a client thread tells the coordinating thread.
enum Update {
    Progress { thread: usize, stats: LoadStats },
    Done { thread: usize, stats: LoadStats },
}

/// Runs the plan to the end and returns the merged report.
pub fn run(plan: &LoadPlan) -> Result<LoadReport, LoadError> {
    let (updates, inbox) = mpsc::channel();
    let mut threads = Vec::with_capacity(plan.threads.len());
    for (index, cpu) in plan.threads.iter().enumerate() {
        let conns = share(plan.conns, plan.threads.len(), index);
        let (ready, ready_rx) = mpsc::sync_channel(1);
        let (go, go_rx) = mpsc::sync_channel(1);
        let thread_plan = plan.clone();
        let updates = updates.clone();
        let placement = match cpu {
            Some(cpu) => glommio::Placement::Fixed(*cpu),
            None => glommio::Placement::Unbound,
        };
        let handle = glommio::LocalExecutorBuilder::new(placement)
            .name(&format!("load-{index}"))
            .spawn(move || client_thread(index, conns, thread_plan, ready, go_rx, updates))
            .map_err(|e| LoadError::Thread {
                thread: index,
                reason: e.to_string(),
            })?;
        threads.push((handle, ready_rx, go));
    }
    drop(updates);

    // Every connection is open before the clock starts.
    let mut failure = None;
    for (index, (_, ready, _)) in threads.iter().enumerate() {
        let outcome = ready.recv_timeout(CONNECT_TIMEOUT * 2).unwrap_or_else(|_| {
            Err(LoadError::Thread {
                thread: index,
                reason: "it did not connect in time".into(),
            })
        });
        if let Err(e) = outcome {
            failure.get_or_insert(e);
        }
    }
    let start = Instant::now() + Duration::from_millis(5);
    for (_, _, go) in &threads {
        let _ = go.send(failure.is_none().then_some(start));
    }
    if let Some(error) = failure {
        return Err(error);
    }

    let finals = follow_progress(plan, start, &inbox);
    for (handle, _, _) in threads {
        let _ = handle.join();
    }
    Ok(LoadReport::new(plan, start, &finals))
}

/// Prints progress until every thread is done; returns their final stats.
fn follow_progress(plan: &LoadPlan, start: Instant, inbox: &Receiver<Update>) -> Vec<LoadStats> {
    let threads = plan.threads.len();
    let mut latest: Vec<LoadStats> = vec![LoadStats::default(); threads];
    let mut done = vec![false; threads];
    let mut printed = (start, 0u64);
    let mut next_line = start + PROGRESS_PERIOD;
    while done.iter().any(|d| !d) {
        match inbox.recv_timeout(next_line.saturating_duration_since(Instant::now())) {
            Ok(Update::Progress { thread, stats }) => latest[thread] = stats,
            Ok(Update::Done { thread, stats }) => {
                latest[thread] = stats;
                done[thread] = true;
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        let now = Instant::now();
        if now >= next_line {
            if plan.progress {
                let mut merged = LoadStats::default();
                latest.iter().for_each(|s| merged.merge(s));
                let total = merged.requests + merged.warmup_requests;
                let rate = (total - printed.1) as f64 / (now - printed.0).as_secs_f64();
                eprintln!(
                    "percore load t={:.0}s {:.0} msgs/s, p99 {} us, {} errors",
                    (now - start).as_secs_f64(),
                    rate,
                    merged.latency.value_at_quantile(0.99),
                    merged.errors
                );
                printed = (now, total);
            }
            next_line += PROGRESS_PERIOD;
        }
    }
    latest
}

/// One client executor: connects its share of the connections, waits for the
/// common start, drives them, reports progress each second.
async fn client_thread(
    index: usize,
    conns: usize,
    plan: LoadPlan,
    ready: mpsc::SyncSender<Result<(), LoadError>>,
    go: Receiver<Option<Instant>>,
    updates: Sender<Update>,
) {
    let mut streams = Vec::with_capacity(conns);
    for _ in 0..conns {
        match TcpStream::connect_timeout(plan.addr, CONNECT_TIMEOUT).await {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                streams.push(stream);
            }
            Err(e) => {
                let _ = ready.send(Err(LoadError::Connect {
                    addr: plan.addr,
                    reason: e.to_string(),
                }));
                return;
            }
        }
    }
    let first_conn = (0..index)
        .map(|i| share(plan.conns, plan.threads.len(), i))
        .sum::<usize>();
    // mq: every subscription is active before any publisher starts.
    let mut prepared = Vec::new();
    let mq_mix = match plan.workload {
        Workload::Mq(mix) => Some(mix),
        _ => None,
    };
    let mut tls_streams: Vec<TlsStream<ClientConnection>> = Vec::new();
    if let Some(config) = &plan.tls {
        for stream in streams.drain(..) {
            let name = server_name(plan.addr);
            match TlsStream::connect(stream, config.clone(), name, HANDSHAKE_TIMEOUT).await {
                Ok(stream) => tls_streams.push(stream),
                Err(e) => {
                    let _ = ready.send(Err(LoadError::Connect {
                        addr: plan.addr,
                        reason: format!("TLS handshake failed: {e}"),
                    }));
                    return;
                }
            }
        }
    }
    if let Some(mix) = mq_mix {
        for (i, stream) in streams.drain(..).enumerate() {
            match mq::prepare(stream, first_conn + i, mix).await {
                Ok(conn) => prepared.push(conn),
                Err(e) => {
                    let _ = ready.send(Err(LoadError::Connect {
                        addr: plan.addr,
                        reason: format!("subscribing failed: {e}"),
                    }));
                    return;
                }
            }
        }
    }
    let _ = ready.send(Ok(()));
    // Blocking is fine here: nothing else runs on this executor yet.
    let Ok(Some(start)) = go.recv() else { return };
    let now = Instant::now();
    if start > now {
        glommio::timer::sleep(start - now).await;
    }

    let stats = Rc::new(RefCell::new(LoadStats::default()));
    let mut tasks: Vec<_> = prepared
        .into_iter()
        .zip(mq_mix.into_iter().cycle())
        .enumerate()
        .map(|(i, (conn, mix))| {
            let conn_plan = ConnPlan::mq(&plan, mix, first_conn + i, start);
            let stats = stats.clone();
            glommio::spawn_local(async move { mq::drive(conn, conn_plan, mix, &stats).await })
        })
        .collect();
    tasks.extend(streams.into_iter().enumerate().map(|(i, stream)| {
        let conn_plan = ConnPlan::request_reply(&plan, first_conn + i, start);
        let stats = stats.clone();
        glommio::spawn_local(async move {
            if conn_plan.rate.is_some() {
                drivers::open_loop(stream, conn_plan, &stats).await
            } else {
                drivers::closed_loop(stream, conn_plan, &stats).await
            }
        })
    }));
    // TLS connections: closed loop only (the CLI refuses the rest).
    tasks.extend(tls_streams.into_iter().enumerate().map(|(i, stream)| {
        let conn_plan = ConnPlan::request_reply(&plan, first_conn + i, start);
        let stats = stats.clone();
        glommio::spawn_local(async move { drivers::closed_loop(stream, conn_plan, &stats).await })
    }));

    let reporter = {
        let (stats, updates) = (stats.clone(), updates.clone());
        glommio::spawn_local(async move {
            loop {
                glommio::timer::sleep(PROGRESS_PERIOD / 2).await;
                let stats = stats.borrow().clone();
                let _ = updates.send(Update::Progress {
                    thread: index,
                    stats,
                });
            }
        })
    };
    for task in tasks {
        task.await;
    }
    drop(reporter);
    let stats = stats.borrow().clone();
    let _ = updates.send(Update::Done {
        thread: index,
        stats,
    });
}
