//! Live metrics (docs/PROTOCOLS.md §8): `--metrics ADDR` serves `GET /metrics` in the
//! Prometheus text format, `GET /health`, and 404 for the rest.
//!
//! The endpoint runs on a thread of its own, never on a shard. A scrape asks
//! every shard for a copy of its statistics; each shard's control task
//! answers between its other work (at most 20 ms later), so a scrape costs
//! the data path nothing but that copy, and answers within a second even
//! under full load. The copies are merged as for the final report.

mod exposition;
pub mod http;

use std::io;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::config::Listen;
use crate::stats::{Report, ShardSnapshot};

pub use exposition::render;

/// How long a scrape waits for the shards.
const GATHER_DEADLINE: Duration = Duration::from_secs(1);
/// Requests served at once; more are closed at once.
const MAX_CLIENTS: usize = 32;

/// A shard's end: requests for a snapshot, each with where to send it.
pub(crate) type SnapshotRequests = Receiver<Sender<ShardSnapshot>>;

/// What the endpoint needs to make a report.
pub(crate) struct Source {
    shards: Vec<Sender<Sender<ShardSnapshot>>>,
    listens: Vec<Listen>,
    start: Instant,
}

impl Source {
    /// A source for `shards` shards, and each shard's end of it.
    pub fn new(
        shards: usize,
        listens: Vec<Listen>,
        start: Instant,
    ) -> (Source, Vec<SnapshotRequests>) {
        let (senders, receivers) = (0..shards).map(|_| mpsc::channel()).unzip();
        (
            Source {
                shards: senders,
                listens,
                start,
            },
            receivers,
        )
    }

    /// Every shard's statistics; `None` for a shard that did not answer in time.
    fn gather(&self) -> Vec<Option<ShardSnapshot>> {
        let give_up = Instant::now() + GATHER_DEADLINE;
        let replies: Vec<Option<Receiver<ShardSnapshot>>> = self
            .shards
            .iter()
            .map(|shard| {
                let (reply, replied) = mpsc::channel();
                shard.send(reply).ok().map(|()| replied)
            })
            .collect();
        replies
            .into_iter()
            .map(|replied| {
                replied?
                    .recv_timeout(give_up.saturating_duration_since(Instant::now()))
                    .ok()
            })
            .collect()
    }
}

/// Serves the endpoint on `listener` until the process ends.
pub(crate) fn start(listener: TcpListener, source: Source) -> io::Result<()> {
    let source = Arc::new(source);
    let clients = Arc::new(AtomicUsize::new(0));
    thread::Builder::new()
        .name("metrics".into())
        .spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                if clients.fetch_add(1, Ordering::AcqRel) >= MAX_CLIENTS {
                    clients.fetch_sub(1, Ordering::AcqRel);
                    continue;
                }
                let (source, clients) = (source.clone(), clients.clone());
                let spawned =
                    thread::Builder::new()
                        .name("metrics-client".into())
                        .spawn(move || {
                            serve(stream, &source);
                            clients.fetch_sub(1, Ordering::AcqRel);
                        });
                if spawned.is_err() {
                    // The client is dropped with the closure; say nothing more.
                }
            }
        })?;
    Ok(())
}

/// Answers one request.
fn serve(mut stream: TcpStream, source: &Source) {
    let Ok(request) = http::read_request(&mut stream) else {
        let _ = http::respond(
            &mut stream,
            "400 Bad Request",
            "text/plain",
            b"bad request\n",
        );
        return;
    };
    let _ = match (request.method.as_str(), request.path.as_str()) {
        ("GET", "/metrics") => {
            let snapshots: Vec<ShardSnapshot> = source.gather().into_iter().flatten().collect();
            let report = Report::merge(
                source.start.elapsed(),
                source.shards.len(),
                &source.listens,
                &snapshots,
            );
            http::respond(
                &mut stream,
                "200 OK",
                "text/plain; version=0.0.4; charset=utf-8",
                render(&report).as_bytes(),
            )
        }
        ("GET", "/health") => {
            if source.gather().iter().all(Option::is_some) {
                http::respond(&mut stream, "200 OK", "text/plain", b"ok\n")
            } else {
                http::respond(
                    &mut stream,
                    "503 Service Unavailable",
                    "text/plain",
                    b"shards not answering\n",
                )
            }
        }
        _ => http::respond(&mut stream, "404 Not Found", "text/plain", b"not found\n"),
    };
}
