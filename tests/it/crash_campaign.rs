//! The crash campaign (issue 21 item 6, docs/PROTOCOLS.md §7.1), run on demand:
//!
//! ```text
//! CRASH_ITERATIONS=500 CRASH_SEED=1 cargo test --release --test it crash_campaign:: -- --ignored --nocapture
//! ```
//!
//! Each iteration, on one data dir kept for the whole campaign: one time in
//! two, a start killed with SIGKILL at a random moment before or right after
//! its listening line (in its load, in its new generation's write, after the
//! switch); then a start with a random `--shards` (1–4) and `--fsync`
//! (always, everysec), sometimes `--max-memory`, and a small compaction
//! threshold (PERCORE_COMPACT_MIN_BYTES); a check of every key against what
//! was acknowledged ([`model`]); kv and resp clients writing at once
//! ([`clients`]); and a SIGKILL: right after the start, a few ms after a
//! BGSAVE (in a compaction), or after up to 1.5 s of writes. A last start
//! checks, then a SIGINT stop must exit 0. Every start must succeed.
//!
//! The seed is printed first; the same CRASH_SEED and CRASH_ITERATIONS
//! replay the same choices (the kill moments are as close as timing allows).

mod clients;
mod model;
mod resp_conn;
mod server;
mod typed;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::common::rng::Rng;
use crate::common::{env_u64, poll_until, TempDir};
use clients::{run_all, Client, Speaks};
use model::Observed;
use percore_protocols::kv::now_ms;
use resp_conn::{RespConn, RespReply};
use server::{
    compacting, next_generation, phase_of_serving_kill, phase_of_start_kill, start_progress,
    Failed, Options, Proc,
};

/// Under `everysec`, writes acknowledged this long before a kill may be lost
/// ("about the last second", with slack for a loaded machine).
const EVERYSEC_LOSS_MS: u64 = 1500;
/// Keys read per pipelined batch when checking.
const CHECK_BATCH: usize = 200;

/// What the campaign saw, for its summary.
#[derive(Default)]
struct Tally {
    kills: BTreeMap<&'static str, u64>,
    shards: BTreeMap<usize, u64>,
    fsync: BTreeMap<&'static str, u64>,
    checked: u64,
    acked: u64,
    refused: u64,
    partly_applied: u64,
    reasons: BTreeMap<String, u64>,
    violations: Vec<String>,
}

impl Tally {
    fn violation(&mut self, iteration: usize, what: String) {
        eprintln!("VIOLATION in iteration {iteration}: {what}");
        self.violations
            .push(format!("iteration {iteration}: {what}"));
    }

    fn failed_start(&mut self, iteration: usize, what: &str, failed: &Failed) {
        self.violation(
            iteration,
            format!("{what}: exited {:?}: {}", failed.status, failed.stderr),
        );
    }
}

fn random_options(rng: &mut Rng) -> Options {
    Options {
        shards: rng.between(1, 4) as usize,
        fsync: if rng.below(2) == 0 {
            "always"
        } else {
            "everysec"
        },
        max_memory: (rng.below(5) == 0).then(|| rng.between(200_000, 800_000)),
        compact_min: rng.between(4 << 10, 256 << 10),
    }
}

#[test]
#[ignore = "on demand: CRASH_ITERATIONS=N CRASH_SEED=S cargo test --release --test it crash_campaign:: -- --ignored --nocapture"]
fn crash_campaign() {
    let seed = env_u64("CRASH_SEED").unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    let iterations = env_u64("CRASH_ITERATIONS").unwrap_or(20) as usize;
    println!("crash campaign: CRASH_SEED={seed} CRASH_ITERATIONS={iterations}");
    let dir = TempDir::new();
    let mut rng = Rng::new(seed);
    let mut tally = Tally::default();
    let mut clients = vec![
        Client::new(0, Speaks::Kv, 150, 0, 0),
        Client::new(1, Speaks::Kv, 150, 0, 0),
        Client::new(2, Speaks::Resp, 48, 4, 16),
        Client::new(3, Speaks::Resp, 48, 4, 16),
        Client::new(4, Speaks::Resp, 48, 4, 16),
    ];
    // Writes acknowledged before this (ms) may not be lost; None: none may.
    let mut lost_before: Option<u64> = None;
    let mut ready_ms = 100;
    for iteration in 0..iterations {
        if rng.below(2) == 0 {
            kill_a_start(&dir.path, &mut rng, ready_ms, iteration, &mut tally);
        }
        let options = random_options(&mut rng);
        *tally.shards.entry(options.shards).or_default() += 1;
        *tally.fsync.entry(options.fsync).or_default() += 1;
        let mut proc = match Proc::start(&dir.path, &options) {
            Ok(proc) => proc,
            Err(failed) => {
                tally.failed_start(iteration, "a start after a kill", &failed);
                break;
            }
        };
        ready_ms = proc.spawned.elapsed().as_millis() as u64;
        check(&proc, &mut clients, lost_before, iteration, &mut tally);

        let stop = Arc::new(AtomicBool::new(false));
        let running = run_all(clients, proc.kv, proc.resp, &stop, rng.next());
        let moment = rng.below(4);
        match moment {
            0 => thread::sleep(Duration::from_millis(rng.below(20))),
            1 => {
                // In a compaction: once one is seen under way, or soon after
                // a BGSAVE.
                thread::sleep(Duration::from_millis(rng.between(50, 600)));
                if let Ok(mut conn) = RespConn::connect(proc.resp) {
                    let _ = conn.call(&[b"BGSAVE"]);
                }
                let _ = poll_until(Duration::from_millis(200), || compacting(&dir.path));
                thread::sleep(Duration::from_millis(rng.below(4)));
            }
            _ => thread::sleep(Duration::from_millis(rng.between(50, 1500))),
        }
        let killed_at = now_ms();
        if let Err(failed) = proc.kill() {
            tally.failed_start(iteration, "the server exited before its kill", &failed);
        }
        let phase = phase_of_serving_kill(&dir.path);
        *tally.kills.entry(phase).or_default() += 1;
        stop.store(true, Ordering::Relaxed);
        clients = running
            .into_iter()
            .map(|handle| handle.join().expect("a client thread"))
            .collect();
        let (mut acked, mut refused) = (0, 0);
        for client in &mut clients {
            acked += std::mem::take(&mut client.acked);
            refused += std::mem::take(&mut client.refused);
            tally.partly_applied += std::mem::take(&mut client.partly_applied);
            for (reason, n) in std::mem::take(&mut client.reasons) {
                *tally.reasons.entry(reason).or_default() += n;
            }
            for what in std::mem::take(&mut client.violations) {
                tally.violation(iteration, what);
            }
        }
        tally.acked += acked;
        tally.refused += refused;
        lost_before = (options.fsync != "always").then(|| killed_at - EVERYSEC_LOSS_MS);
        println!(
            "iteration {iteration}: --shards {} --fsync {}{}: started in {ready_ms} ms; {acked} writes acknowledged, {refused} refused; killed {}",
            options.shards,
            options.fsync,
            options
                .max_memory
                .map_or(String::new(), |b| format!(" --max-memory {b}")),
            phase
        );
    }

    // The last start checks, and a clean stop must exit 0.
    let options = random_options(&mut rng);
    match Proc::start(&dir.path, &options) {
        Ok(proc) => {
            check(&proc, &mut clients, lost_before, iterations, &mut tally);
            if let Err(failed) = proc.stop() {
                tally.failed_start(iterations, "the last stop", &failed);
            }
        }
        Err(failed) => tally.failed_start(iterations, "the last start", &failed),
    }

    println!(
        "crash campaign: CRASH_SEED={seed} CRASH_ITERATIONS={iterations}: shards {:?}, fsync {:?}; kills by phase {:?}; {} writes acknowledged, {} refused {:?} ({} keys of refused MSETs set nonetheless), {} key checks; {} violations",
        tally.shards,
        tally.fsync,
        tally.kills,
        tally.acked,
        tally.refused,
        tally.reasons,
        tally.partly_applied,
        tally.checked,
        tally.violations.len()
    );
    assert!(
        tally.violations.is_empty(),
        "CRASH_SEED={seed} CRASH_ITERATIONS={iterations}: {} violations:\n{}",
        tally.violations.len(),
        tally.violations.join("\n")
    );
}

/// Starts the server and kills it at a moment of its start: as its load
/// begins, as its new generation's first snapshot appears, at a random
/// moment up to a little past the time the last start took, or right after
/// its listening line.
fn kill_a_start(dir: &Path, rng: &mut Rng, ready_ms: u64, iteration: usize, tally: &mut Tally) {
    let options = random_options(rng);
    let next = next_generation(dir);
    let mut proc = Proc::spawn(dir, &options);
    let target = rng.below(4);
    let waited = match target {
        0 | 1 => wait_until_listening(&mut proc, || {
            let (loading, writing) = start_progress(&next.0, next.1);
            if target == 0 {
                loading
            } else {
                writing
            }
        }),
        2 => proc
            .wait_listening(Duration::from_millis(rng.below(ready_ms * 5 / 4 + 1)))
            .map(|_| ()),
        _ => proc.wait_listening(Duration::from_secs(60)).map(|_| ()),
    };
    if let Err(failed) = waited {
        // A port taken meanwhile says so and exits 2: not the data's fault.
        if failed.status.and_then(|s| s.code()) != Some(2) {
            tally.failed_start(iteration, "a start (to be killed)", &failed);
        }
        return;
    }
    thread::sleep(Duration::from_micros(rng.below(3000)));
    let listening = proc.wait_listening(Duration::ZERO).unwrap_or(false);
    if let Err(failed) = proc.kill() {
        tally.failed_start(iteration, "a start (to be killed)", &failed);
    }
    *tally
        .kills
        .entry(phase_of_start_kill(dir, &next, listening))
        .or_default() += 1;
}

/// Polls `done` every millisecond until it holds or the start listens
/// (then the moment is past) or exits.
fn wait_until_listening(proc: &mut Proc, done: impl Fn() -> bool) -> Result<(), Failed> {
    let give_up = std::time::Instant::now() + Duration::from_secs(60);
    while !done() && std::time::Instant::now() < give_up {
        if proc.wait_listening(Duration::from_millis(1))? {
            break;
        }
    }
    Ok(())
}

/// Reads every key (GET, or DUMP for a typed key, and PTTL, pipelined) and
/// checks it against its history; from then on each key's history starts
/// from what was read.
fn check(
    proc: &Proc,
    clients: &mut [Client],
    lost_before: Option<u64>,
    iteration: usize,
    tally: &mut Tally,
) {
    let mut conn = match RespConn::connect(proc.resp) {
        Ok(conn) => conn,
        Err(e) => return tally.violation(iteration, format!("connect to check: {e}")),
    };
    let mut keys: Vec<_> = clients
        .iter_mut()
        .flat_map(|c| {
            c.keys
                .iter_mut()
                .chain(c.counters.iter_mut())
                .chain(c.typed.iter_mut())
        })
        .collect();
    let is_typed = |name: &str| name.contains(":t");
    for batch in keys.chunks_mut(CHECK_BATCH) {
        for (name, _) in batch.iter() {
            let read: &[u8] = if is_typed(name) { b"DUMP" } else { b"GET" };
            conn.queue(&[read, name.as_bytes()]);
            conn.queue(&[b"PTTL", name.as_bytes()]);
        }
        let sent = now_ms();
        if let Err(e) = conn.flush() {
            return tally.violation(iteration, format!("send the check: {e}"));
        }
        for (name, history) in batch.iter_mut() {
            let (val, pttl) = match (conn.reply(), conn.reply()) {
                (Ok(val), Ok(pttl)) => (val, pttl),
                (val, pttl) => {
                    return tally.violation(iteration, format!("check {name}: {val:?} {pttl:?}"))
                }
            };
            let received = now_ms();
            // A typed key's payload, as its canonical text (`typed.rs`).
            let val = match val {
                RespReply::Bulk(Some(payload)) if is_typed(name) => {
                    match percore_protocols::resp::rdb::read_payload(&payload) {
                        Ok(value) => RespReply::Bulk(Some(typed::canonical_of(&value))),
                        Err(e) => {
                            tally.violation(iteration, format!("check {name}: DUMP: {e}"));
                            continue;
                        }
                    }
                }
                val => val,
            };
            let observed = match (val, pttl) {
                (RespReply::Bulk(None), _) | (_, RespReply::Int(-2)) => Observed::Absent,
                (RespReply::Bulk(Some(val)), RespReply::Int(pttl)) => Observed::Present {
                    val,
                    pttl: u64::try_from(pttl).ok(),
                    sent,
                    received,
                },
                (val, pttl) => {
                    tally.violation(iteration, format!("check {name}: {val:?} {pttl:?}"));
                    continue;
                }
            };
            tally.checked += 1;
            if let Err(what) = history.check(&observed, lost_before, received) {
                tally.violation(iteration, format!("{name} {what}"));
            }
        }
    }
}
