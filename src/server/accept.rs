//! A service's accept loop on one shard: takes connections until the shard
//! stops, turns away those past `--max-conns`, and serves each accepted one in
//! a task of its own, where a panic ends that connection alone. On a `tls://`
//! listener that task first runs the TLS handshake, within its deadline.

use std::os::fd::AsRawFd;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures_lite::FutureExt;
use glommio::net::TcpListener;
use glommio::timer::sleep;

use super::connection;
use super::shard::Shard;
use crate::service::Service;
use crate::stats::LiveStats;
use crate::tls::{ShardTls, TlsStream};

/// Pause before accepting again after the process ran out of descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);
/// How long a TLS client has, from accept, to finish its handshake (docs/PROTOCOLS.md §9).
const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(10);

/// Accepts connections for one service until the shard stops.
pub(crate) async fn accept_loop<S: Service>(
    name: &'static str,
    service: Rc<S>,
    listener: TcpListener,
    shard: Rc<Shard>,
    stats: Rc<LiveStats>,
    tls: Option<Rc<ShardTls>>,
) {
    let mut last_complaint: Option<Instant> = None;
    // Which of the service's listeners a connection came in on, read once
    // here rather than with a getsockname per accepted connection.
    let local = listener.local_addr().ok();
    loop {
        // The stop comes first: under a flood of connections an accept is
        // always ready, and polled first it would keep the listener open.
        let accepted = async {
            shard.stopped().await;
            None
        }
        .or(async { Some(listener.accept().await) })
        .await;
        let stream = match accepted {
            None => return,
            Some(Ok(stream)) => stream,
            Some(Err(error)) => {
                // Out of descriptors or memory: give the shard a moment, and
                // keep serving the connections it has. Say so once a second.
                if last_complaint.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
                    eprintln!("percore: shard {}: {name} accept failed: {error}", shard.id);
                    last_complaint = Some(Instant::now());
                }
                sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        if shard.connections.len() >= shard.limits.max_conns {
            stats.recorded.borrow_mut().counters.rejected += 1;
            drop(stream);
            continue;
        }
        let registration = shard.connections.register(stream.as_raw_fd());
        {
            let mut recorded = stats.recorded.borrow_mut();
            recorded.counters.accepted += 1;
            recorded.counters.open += 1;
        }
        let (service, shard, stats) = (service.clone(), shard.clone(), stats.clone());
        let tls = tls.as_ref().map(|tls| tls.current());
        glommio::spawn_local(async move {
            let connection = async {
                let Some(config) = tls else {
                    return connection::serve(&*service, stream, local, &shard, &stats).await;
                };
                match TlsStream::accept(stream, config, HANDSHAKE_DEADLINE).await {
                    Ok(stream) => connection::serve(&*service, stream, local, &shard, &stats).await,
                    // A failed handshake closes the connection, and counts.
                    Err(_) => stats.recorded.borrow_mut().counters.tls_errors += 1,
                }
            };
            let served = AssertUnwindSafe(connection).catch_unwind().await;
            // The socket is closed by now: deregister before anything can await.
            drop(registration);
            let mut recorded = stats.recorded.borrow_mut();
            recorded.counters.open -= 1;
            if served.is_err() {
                recorded.counters.panics += 1;
            }
        })
        .detach();
    }
}
