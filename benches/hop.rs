//! `cargo bench --bench hop`: the cross-shard hop alone (issue 23). Two
//! shards (glommio executors) pinned to CPUs 0 and 1, no sockets: shard 0
//! forwards kv requests to shard 1 through the key space's own plumbing (a
//! [`Mesh`] whose owner answers with kv's `serve_forwarded`, as
//! `Owner::serve` does, messages tagged kv's tag ([`kv::PROTOCOL`](percore_protocols::kv::PROTOCOL)) as `serve_round`
//! tags them), one message in flight, at batches of 1, 16 and 256 requests
//! per message. It prints, per forwarded request, the CPU time of both
//! shards (each thread's CPU clock, so a shard's sleeping costs nothing and
//! its spinning counts), the round trip per message, and per hop the
//! voluntary context switches and write(2) calls (the eventfd wake-ups) of
//! both shards.
//!
//! Each batch size runs with one message in flight, then with several (as
//! several connections of one shard forward at once): with one, both
//! shards mostly wait for each other, and CPU per request is about twice
//! the round trip over the batch; with more, a shard has the next message
//! to handle while the last is on its way.
//!
//! `PERCORE_HOP_SECS` (default 2) sets the seconds per run;
//! `PERCORE_HOP_BATCHES` (e.g. `1,16`) which batch sizes run;
//! `PERCORE_HOP_IN_FLIGHT` (default `1,8`) how many messages in flight;
//! `PERCORE_HOP_KEYS` (default 1,024) how many keys the requests read.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use glommio::{LocalExecutorBuilder, Placement};
use percore::codec::{begin_frame, end_frame};
use percore::cross_shard::{owner_of, Answer, Mesh, MeshPlan};
use percore_keyspace::SharedStore;
use percore_protocols::kv::protocol::Request;
use percore_protocols::kv::PROTOCOL;
use percore_protocols::kv::{push_forwarded, serve_forwarded};

/// Keys shard 1 owns, stored before the run, read in turn by the
/// requests; `PERCORE_HOP_KEYS` sets another count (a million makes an
/// owner whose store is not in its caches).
const KEYS: usize = 1024;

/// What one shard thread shows the others: its CPU clock and its task id.
#[derive(Default)]
struct ThreadIds {
    clock: AtomicI32,
    tid: AtomicI32,
}

impl ThreadIds {
    /// Called on the thread itself.
    fn publish(&self) {
        let mut clock: libc::clockid_t = 0;
        // SAFETY: pthread_self() is this live thread; clock is a valid out pointer.
        let rc = unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut clock) };
        assert_eq!(rc, 0, "pthread_getcpuclockid");
        self.clock.store(clock, Ordering::Release);
        // SAFETY: gettid has no preconditions.
        self.tid.store(unsafe { libc::gettid() }, Ordering::Release);
    }

    /// The thread's CPU time so far, readable from any thread of the process.
    fn cpu(&self) -> Duration {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: a clock id from pthread_getcpuclockid of a thread that is alive
        // for the whole run; ts is a valid out pointer.
        let rc = unsafe { libc::clock_gettime(self.clock.load(Ordering::Acquire), &mut ts) };
        assert_eq!(rc, 0, "clock_gettime");
        Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
    }

    /// (voluntary context switches, write system calls) of the thread so far.
    fn counts(&self) -> (u64, u64) {
        let tid = self.tid.load(Ordering::Acquire);
        let field = |file: &str, name: &str| -> u64 {
            let text = std::fs::read_to_string(format!("/proc/self/task/{tid}/{file}"))
                .unwrap_or_default();
            text.lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.trim_start_matches(':').trim().parse().ok())
                .unwrap_or(0)
        };
        (
            field("status", "voluntary_ctxt_switches"),
            field("io", "syscw"),
        )
    }
}

/// Both shards' figures at one moment.
struct Snapshot {
    at: Instant,
    cpu: [Duration; 2],
    counts: [(u64, u64); 2],
}

fn snapshot(ids: &[Arc<ThreadIds>; 2]) -> Snapshot {
    Snapshot {
        at: Instant::now(),
        cpu: [ids[0].cpu(), ids[1].cpu()],
        counts: [ids[0].counts(), ids[1].counts()],
    }
}

/// One batch size's figures.
struct Figures {
    batch: usize,
    in_flight: usize,
    messages: u64,
    elapsed: Duration,
    cpu: [Duration; 2],
    switches: [u64; 2],
    writes: [u64; 2],
    round_trips: Vec<Duration>,
}

impl Figures {
    fn print(&mut self) {
        let requests = (self.messages * self.batch as u64) as f64;
        let per_request = |d: Duration| d.as_secs_f64() * 1e6 / requests;
        let per_hop = |n: u64| n as f64 / self.messages as f64;
        self.round_trips.sort_unstable();
        let pick = |q: f64| {
            let i = ((self.round_trips.len() as f64 - 1.0) * q) as usize;
            self.round_trips
                .get(i)
                .map_or(0.0, |d| d.as_secs_f64() * 1e6)
        };
        println!(
            "{:>5} | {:>9} | {:>8.0} k | {:>6.3} + {:>6.3} = {:>6.3} | {:>7.2} {:>7.2} | {:>5.2} {:>5.2} | {:>5.2} {:>5.2}",
            self.batch,
            self.in_flight,
            requests / self.elapsed.as_secs_f64() / 1e3,
            per_request(self.cpu[0]),
            per_request(self.cpu[1]),
            per_request(self.cpu[0] + self.cpu[1]),
            pick(0.5),
            pick(0.99),
            per_hop(self.switches[0]),
            per_hop(self.switches[1]),
            per_hop(self.writes[0]),
            per_hop(self.writes[1]),
        );
    }
}

/// Keys that shard 1 of 2 owns.
fn remote_keys(count: usize) -> Vec<String> {
    (0..)
        .map(|i| format!("key:{i:08}"))
        .filter(|key| owner_of(key.as_bytes(), 2) == 1)
        .take(count)
        .collect()
}

/// A message of `batch` Gets (one Put in eight), framed and in the owner's
/// form, as `serve_round` builds it but for the tag, which each message gets from the mesh's buffer.
fn template(keys: &[String], batch: usize, offset: usize) -> Vec<u8> {
    let mut frames = Vec::new();
    for i in 0..batch {
        let key = &keys[(offset + i) % keys.len()];
        let request = if i % 8 == 7 {
            Request::Put { key, val: "value" }
        } else {
            Request::Get { key }
        };
        let start = begin_frame(&mut frames);
        push_forwarded(&mut frames, &request);
        end_frame(&mut frames, start);
    }
    frames
}

/// Shard 0's part: forwards message after message to shard 1 for `secs`
/// per batch size, one in flight, and measures both shards.
async fn drive(
    mesh: Rc<Mesh>,
    ids: [Arc<ThreadIds>; 2],
    batches: Vec<usize>,
    in_flights: Vec<usize>,
    secs: f64,
) {
    let keys = remote_keys(
        std::env::var("PERCORE_HOP_KEYS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(KEYS),
    );
    // Store the keys first, so that the Gets find them.
    for chunk in keys.chunks(64) {
        let mut body = mesh.buffer();
        body.push(PROTOCOL.tag());
        for key in chunk {
            let start = begin_frame(&mut body);
            push_forwarded(&mut body, &Request::Put { key, val: "value" });
            end_frame(&mut body, start);
        }
        let ticket = mesh.send(1, body).await.expect("send");
        let reply = mesh.reply(ticket).await;
        mesh.recycle(reply);
    }
    println!(
        "batch | in flight | requests/s | CPU µs per request: shard 0 + shard 1 = both | round trip µs p50 p99 | vol. switches per hop: 0 1 | write(2) per hop: 0 1"
    );
    for batch in batches {
        // Messages that read every key in turn.
        let templates: Rc<Vec<Vec<u8>>> = Rc::new(
            (0..(keys.len() / batch).max(8))
                .map(|i| template(&keys, batch, i * batch))
                .collect(),
        );
        for &in_flight in &in_flights {
            // Warm up: buffers in the pools, caches, the CPU's clock.
            let warm = Instant::now() + Duration::from_millis(300);
            run_senders(&mesh, &templates, in_flight, warm).await;
            let start = snapshot(&ids);
            let end = start.at + Duration::from_secs_f64(secs);
            let (messages, round_trips) = run_senders(&mesh, &templates, in_flight, end).await;
            let stop = snapshot(&ids);
            Figures {
                batch,
                in_flight,
                messages,
                elapsed: stop.at - start.at,
                cpu: [0, 1].map(|s| stop.cpu[s] - start.cpu[s]),
                switches: [0, 1].map(|s| stop.counts[s].0 - start.counts[s].0),
                writes: [0, 1].map(|s| stop.counts[s].1 - start.counts[s].1),
                round_trips,
            }
            .print();
        }
    }
}

/// `in_flight` tasks each forwarding message after message until `end`;
/// returns how many messages went and their round trips.
async fn run_senders(
    mesh: &Rc<Mesh>,
    templates: &Rc<Vec<Vec<u8>>>,
    in_flight: usize,
    end: Instant,
) -> (u64, Vec<Duration>) {
    let round_trips = Rc::new(RefCell::new(Vec::with_capacity(1 << 20)));
    let senders: Vec<_> = (0..in_flight)
        .map(|sender| {
            let (mesh, templates, round_trips) =
                (mesh.clone(), templates.clone(), round_trips.clone());
            glommio::spawn_local(async move {
                let mut messages = 0u64;
                let mut n = sender;
                loop {
                    let sent = Instant::now();
                    if sent >= end {
                        return messages;
                    }
                    let mut message = mesh.buffer();
                    message.push(PROTOCOL.tag());
                    message.extend_from_slice(&templates[n % templates.len()]);
                    let ticket = mesh.send(1, message).await.expect("send");
                    let reply = mesh.reply(ticket).await;
                    assert!(!reply.is_empty(), "an empty reply: the owner failed");
                    mesh.recycle(reply);
                    let mut round_trips = round_trips.borrow_mut();
                    if round_trips.len() < round_trips.capacity() {
                        round_trips.push(sent.elapsed());
                    }
                    n += in_flight;
                    messages += 1;
                }
            })
        })
        .collect();
    let mut messages = 0;
    for sender in senders {
        messages += sender.await;
    }
    let round_trips = std::mem::take(&mut *round_trips.borrow_mut());
    (messages, round_trips)
}

fn main() {
    let secs: f64 = std::env::var("PERCORE_HOP_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let batches: Vec<usize> = std::env::var("PERCORE_HOP_BATCHES")
        .ok()
        .map(|s| s.split(',').filter_map(|b| b.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 16, 256]);
    let in_flights: Vec<usize> = std::env::var("PERCORE_HOP_IN_FLIGHT")
        .ok()
        .map(|s| s.split(',').filter_map(|b| b.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 8]);
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pinned = cpus >= 2;
    if !pinned {
        eprintln!("hop: fewer than 2 CPUs available: the shards run unpinned");
    }
    println!(
        "hop: 2 shards {}, {secs} s per run (load: {})",
        if pinned {
            "pinned to CPUs 0 and 1"
        } else {
            "unpinned"
        },
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );

    let plan = MeshPlan::new(2);
    let ids: [Arc<ThreadIds>; 2] = Default::default();
    let done = Arc::new(AtomicBool::new(false));
    let shards: Vec<_> = (0..2)
        .map(|shard| {
            let (plan, ids, done, batches, in_flights) = (
                plan.clone(),
                ids.clone(),
                done.clone(),
                batches.clone(),
                in_flights.clone(),
            );
            let placement = if pinned {
                Placement::Fixed(shard)
            } else {
                Placement::Unbound
            };
            LocalExecutorBuilder::new(placement)
                .name(&format!("hop-shard-{shard}"))
                .spawn(move || async move {
                    ids[shard].publish();
                    // The owner's side, as the key space's Owner::serve does it.
                    let store = SharedStore::with_cap(None);
                    let mesh = Mesh::join(plan, shard, None, move |message: &[u8], mut replies| {
                        let body = message.get(1..).unwrap_or_default();
                        assert_eq!(message.first(), Some(&(PROTOCOL.tag())));
                        serve_forwarded(&store, None, body, &mut replies);
                        Answer::InOrder(std::future::ready(replies))
                    })
                    .await
                    .expect("join the mesh");
                    if shard == 0 {
                        drive(mesh, ids, batches, in_flights, secs).await;
                        done.store(true, Ordering::Release);
                    } else {
                        while !done.load(Ordering::Acquire) {
                            glommio::timer::sleep(Duration::from_millis(20)).await;
                        }
                    }
                })
                .expect("start a shard")
        })
        .collect();
    for shard in shards {
        shard.join().expect("a shard ends cleanly");
    }
}
