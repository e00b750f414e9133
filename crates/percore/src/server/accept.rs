//! A service's accept loop on one shard: takes connections until the shard
//! stops, turns away those past `--max-conns`, and serves each accepted one in
//! a task of its own, where a panic ends that connection alone. On a `tls://`
//! listener that task first runs the TLS handshake, within its deadline.
//!
//! Connections that another shard hands over (moving.rs) enter here too,
//! through the service's arrivals loop, and one that leaves this shard is
//! handed over from its task once its connection loop returns it.

use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd};
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_lite::FutureExt;
use glommio::net::{TcpListener, TcpStream};
use glommio::timer::sleep;

use super::connection::{self, Leaving};
use super::moving::Arrival;
use super::registration::Place;
use crate::service::Service;
use crate::tls::{ShardTls, TlsStream};

/// Pause before accepting again after the process ran out of descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);
/// How long a TLS client has, from accept, to finish its handshake (docs/PROTOCOLS.md §9).
const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(10);

/// A service running on one shard, as its connections' tasks need it: the
/// service and where it runs.
pub(crate) struct Serving<S> {
    pub service: Rc<S>,
    pub place: Place,
}

impl<S> Clone for Serving<S> {
    fn clone(&self) -> Self {
        Serving {
            service: self.service.clone(),
            place: self.place.clone(),
        }
    }
}

/// Accepts connections for one service until the shard stops.
pub(crate) async fn accept_loop<S: Service>(
    serving: Serving<S>,
    listener: TcpListener,
    tls: Option<Rc<ShardTls>>,
) {
    let Place {
        name, shard, stats, ..
    } = &serving.place;
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
        stats.recorded.borrow_mut().counters.accepted += 1;
        let entry = Entry {
            local,
            tls: tls.as_ref().map(|tls| tls.current()),
            unread: Vec::new(),
        };
        spawn_connection(serving.clone(), stream, entry);
    }
}

/// Takes the connections other shards hand this one for the service, until
/// the shard stops. They were accepted (and counted) where they came in.
pub(crate) async fn arrivals_loop<S: Service>(
    serving: Serving<S>,
    inbox: flume::Receiver<Arrival>,
) {
    loop {
        let arrived = async {
            serving.place.shard.stopped().await;
            None
        }
        .or(async { inbox.recv_async().await.ok() })
        .await;
        let Some(arrival) = arrived else {
            // Stopping: those already on their way are served like the
            // shard's own (what they had received is answered, then they
            // close); a giver whose send fails from now on keeps its own.
            for arrival in inbox.drain() {
                arrive(&serving, arrival);
            }
            return;
        };
        arrive(&serving, arrival);
    }
}

fn arrive<S: Service>(serving: &Serving<S>, arrival: Arrival) {
    let entry = Entry {
        local: arrival.listener,
        tls: None,
        unread: arrival.unread,
    };
    spawn_connection(serving.clone(), reattach(arrival.socket), entry);
}

/// How a connection comes to this shard's connection loop.
struct Entry {
    /// The listener it came in on.
    local: Option<SocketAddr>,
    /// The TLS configuration to handshake with, on a `tls://` listener.
    tls: Option<Arc<rustls::ServerConfig>>,
    /// What another shard received for it and nothing read (moving.rs).
    unread: Vec<u8>,
}

/// Serves one connection in a task of its own, where a panic ends that
/// connection alone; hands it to another shard if it leaves.
fn spawn_connection<S: Service>(serving: Serving<S>, stream: TcpStream, entry: Entry) {
    let registration = serving.place.shard.connections.register(stream.as_raw_fd());
    serving.place.stats.recorded.borrow_mut().counters.open += 1;
    glommio::spawn_local(async move {
        let Entry { local, tls, unread } = entry;
        let (service, shard, stats) = (
            &*serving.service,
            &*serving.place.shard,
            &*serving.place.stats,
        );
        let connection = async {
            let Some(config) = tls else {
                return connection::serve(service, stream, local, shard, stats, unread).await;
            };
            match TlsStream::accept(stream, config, HANDSHAKE_DEADLINE).await {
                // TLS connections never leave: their state is here.
                Ok(stream) => {
                    connection::serve(service, stream, local, shard, stats, unread).await;
                }
                // A failed handshake closes the connection, and counts.
                Err(_) => stats.recorded.borrow_mut().counters.tls_errors += 1,
            }
            None
        };
        let served = AssertUnwindSafe(connection).catch_unwind().await;
        // The socket is closed, or leaving, by now: deregister before
        // anything can await (a descriptor the taker closes may be reused).
        drop(registration);
        {
            let mut recorded = stats.recorded.borrow_mut();
            recorded.counters.open -= 1;
            if served.is_err() {
                recorded.counters.panics += 1;
            }
        }
        if let Ok(Some(leaving)) = served {
            hand_off(serving, leaving, local).await;
        }
    })
    .detach();
}

/// Gives a connection that leaves to its taker; serves it here again if the
/// taker no longer takes connections (it is stopping).
async fn hand_off<S: Service>(
    serving: Serving<S>,
    leaving: Leaving<TcpStream>,
    local: Option<SocketAddr>,
) {
    let Some(exchange) = serving.place.shard.exchange.clone() else {
        return;
    };
    // Only a send still going out can fail: the connection is broken then.
    let Ok((socket, unread)) = leaving.stream.detach().await else {
        return;
    };
    let arrival = Arrival {
        socket,
        unread,
        listener: local,
    };
    if let Err(arrival) = exchange.send(leaving.to, serving.place.index, arrival) {
        let entry = Entry {
            local,
            tls: None,
            unread: arrival.unread,
        };
        spawn_connection(serving, reattach(arrival.socket), entry);
    }
}

/// A stream on this shard's ring for a socket another shard detached.
fn reattach(socket: std::net::TcpStream) -> TcpStream {
    // SAFETY: the descriptor is open and owned by `socket`, which gives it up.
    unsafe { TcpStream::from_raw_fd(socket.into_raw_fd()) }
}
