//! How crowded each shard's core is, measured by the kernel's scheduler: the
//! share of wall time a shard's thread was ready to run but waited for its
//! CPU (someone else had it), and the share it ran. A pinned shard whose core
//! another busy thread shares (a client on the same machine, a sidecar, a
//! noisy neighbour on a small VM) waits a large share of the time; one alone
//! on its core almost never does.
//!
//! Each shard's control task samples its own thread's
//! `/proc/thread-self/schedstat` once per control period (one `pread`) and
//! publishes smoothed figures in [`CoreLoads`], which every shard reads to
//! choose where a crowded shard's connections may go (`super::moving`). This
//! is the control path: the data path never reads it.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::shard::Shard;

/// A shard waiting this share of the time (‰) or more is crowded.
pub(crate) const CROWDED_WAIT_PERMILLE: u32 = 200;
/// A shard takes connections only while it waits less than this share (‰)…
const TAKER_WAIT_PERMILLE: u32 = 50;
/// …and runs less than this share (‰): it is not saturated. A shard alone on
/// its core that serves everything runs most of the time, as one shard does.
const TAKER_RUN_PERMILLE: u32 = 900;
/// A shard that gave connections away takes none for this long: when it
/// gave them, it was on a crowded core, and an idle shard there measures
/// as uncrowded because it barely runs.
const GAVE_RECENTLY: Duration = Duration::from_secs(2);
/// Weight of the newest sample in the smoothed figures (of 8).
const NEW_SAMPLE_EIGHTHS: u32 = 3;

/// Every shard's smoothed figures, shared by all shards.
pub(crate) struct CoreLoads {
    start: Instant,
    shards: Box<[CoreLoad]>,
}

#[derive(Default)]
struct CoreLoad {
    /// Share of wall time spent ready but waiting for the CPU, in ‰.
    waited: AtomicU32,
    /// Share of wall time spent running, in ‰.
    ran: AtomicU32,
    /// When (ms since `start`) the shard last gave connections away.
    gave_at_ms: AtomicU64,
}

impl CoreLoads {
    pub fn new(shards: usize) -> CoreLoads {
        CoreLoads {
            start: Instant::now(),
            shards: (0..shards).map(|_| CoreLoad::default()).collect(),
        }
    }

    fn publish(&self, shard: usize, waited: u32, ran: u32) {
        self.shards[shard].waited.store(waited, Ordering::Relaxed);
        self.shards[shard].ran.store(ran, Ordering::Relaxed);
    }

    /// Whether `shard` is crowded now.
    pub fn is_crowded(&self, shard: usize) -> bool {
        self.shards[shard].waited.load(Ordering::Relaxed) >= CROWDED_WAIT_PERMILLE
    }

    /// Whether most of `shard`'s peers are crowded: its hops then mostly
    /// wait on cores that are not running the peer, and a spin for their
    /// answers only burns its own core (`CrowdWatch::look`).
    pub fn peers_mostly_crowded(&self, shard: usize) -> bool {
        let peers = self.shards.len() - 1;
        let crowded = (0..self.shards.len())
            .filter(|&id| id != shard && self.is_crowded(id))
            .count();
        peers > 0 && crowded * 2 >= peers
    }

    /// Notes that `shard` gives connections away now.
    pub fn gave(&self, shard: usize) {
        let now = self.start.elapsed().as_millis() as u64;
        // 0 means never: a shard giving in its first millisecond says 1.
        self.shards[shard]
            .gave_at_ms
            .store(now.max(1), Ordering::Relaxed);
    }

    /// The shard with the most room that may take connections from `from`:
    /// uncrowded, with CPU to spare, and not giving any away lately.
    pub fn taker_for(&self, from: usize) -> Option<usize> {
        let now = self.start.elapsed();
        let mut best: Option<(usize, u32)> = None;
        for (id, load) in self.shards.iter().enumerate() {
            let (waited, ran) = (
                load.waited.load(Ordering::Relaxed),
                load.ran.load(Ordering::Relaxed),
            );
            let gave_at = load.gave_at_ms.load(Ordering::Relaxed);
            let gave_lately =
                gave_at != 0 && now.saturating_sub(Duration::from_millis(gave_at)) < GAVE_RECENTLY;
            if id == from
                || waited >= TAKER_WAIT_PERMILLE
                || ran >= TAKER_RUN_PERMILLE
                || gave_lately
            {
                continue;
            }
            if best.is_none_or(|(_, best_ran)| ran < best_ran) {
                best = Some((id, ran));
            }
        }
        best.map(|(id, _)| id)
    }
}

/// A thread's scheduler statistics, read once per control period by its
/// shard's control task for [`CrowdWatch`] and `super::spin_choice` alike.
pub(crate) struct ThreadSchedStat {
    /// `/proc/thread-self/schedstat` of the shard's thread, kept open.
    file: File,
}

/// One reading of [`ThreadSchedStat`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct SchedReading {
    pub at: Instant,
    /// Nanoseconds the thread has run…
    pub run_ns: u64,
    /// …and has waited, ready, for its CPU.
    pub wait_ns: u64,
}

impl ThreadSchedStat {
    /// Opens the calling thread's schedstat; `None` where the kernel has
    /// none (no `CONFIG_SCHED_INFO`): the shard is then never thought
    /// crowded, and never spins before it parks.
    pub fn for_this_thread() -> Option<ThreadSchedStat> {
        let file = File::open("/proc/thread-self/schedstat").ok()?;
        Some(ThreadSchedStat { file })
    }

    /// One `pread`: "run_ns wait_ns timeslices\n".
    pub fn read(&self) -> Option<SchedReading> {
        let mut text = [0u8; 96];
        let n = self.file.read_at(&mut text, 0).ok()?;
        let mut fields = std::str::from_utf8(&text[..n])
            .ok()?
            .split_ascii_whitespace();
        let run_ns = fields.next()?.parse().ok()?;
        let wait_ns = fields.next()?.parse().ok()?;
        Some(SchedReading {
            at: Instant::now(),
            run_ns,
            wait_ns,
        })
    }
}

/// One shard's view of its own thread's scheduling: smoothed shares of the
/// time it waited and ran, from its control task's readings.
#[derive(Default)]
pub(crate) struct SchedSampler {
    last: Option<SchedReading>,
    /// Smoothed shares, ‰.
    waited: u32,
    ran: u32,
}

impl SchedSampler {
    /// Takes a reading and publishes the smoothed shares as `shard`'s.
    pub fn sample(&mut self, now: SchedReading, loads: &CoreLoads, shard: usize) {
        if let Some(last) = self.last {
            let wall = now.at.duration_since(last.at).as_nanos() as u64;
            if wall > 0 {
                let share = |ns: u64| (ns.saturating_mul(1000) / wall).min(1000) as u32;
                let smooth = |old: u32, new: u32| {
                    (old * (8 - NEW_SAMPLE_EIGHTHS) + new * NEW_SAMPLE_EIGHTHS) / 8
                };
                self.waited = smooth(self.waited, share(now.wait_ns.saturating_sub(last.wait_ns)));
                self.ran = smooth(self.ran, share(now.run_ns.saturating_sub(last.run_ns)));
                loads.publish(shard, self.waited, self.ran);
            }
        }
        self.last = Some(now);
    }
}

/// A shard's control task's watch over its core: samples it, pauses the
/// channel spin while the core is crowded (a spin there only takes the
/// core from whoever shares it) or its peers' cores mostly are, says
/// whether it is crowded (the short spin before any park stops there too:
/// `super::spin_choice`), and plans which shard this one's connections go
/// to.
pub(crate) struct CrowdWatch {
    sampler: SchedSampler,
    /// Connections may move (pinned shards, no `--keep-connections`).
    moves: bool,
    /// For tests: every period, connections move to the next shard,
    /// crowded or not (`PERCORE_TEST_MOVE_ALWAYS`).
    always: bool,
    /// The channel spin is paused (this core or most peers' crowded).
    spin_paused: bool,
}

impl CrowdWatch {
    pub fn new(pinned: bool, move_crowded: bool) -> CrowdWatch {
        CrowdWatch {
            sampler: SchedSampler::default(),
            moves: pinned && move_crowded,
            always: std::env::var_os("PERCORE_TEST_MOVE_ALWAYS").is_some(),
            spin_paused: false,
        }
    }

    /// One look, once per control period, at this period's reading of the
    /// shard's thread (`None` where the kernel keeps no scheduler
    /// statistics: never crowded): whether its core is crowded now.
    pub fn look(
        &mut self,
        shard: &Shard,
        loads: &CoreLoads,
        reading: Option<SchedReading>,
    ) -> bool {
        let crowded = match reading {
            Some(reading) => {
                self.sampler.sample(reading, loads, shard.id);
                loads.is_crowded(shard.id)
            }
            None => false,
        };
        // No spin on a crowded core (it takes the core from whoever shares
        // it), nor while the peers' cores mostly are: their answers come
        // when the kernel gives them their CPU, not sooner for spinning
        // (2 shards, the client on shard 1's core: 10 % less CPU per
        // request without the spin; results/scaling.md).
        let pause = crowded || loads.peers_mostly_crowded(shard.id);
        if pause != self.spin_paused {
            glommio::executor().pause_channel_spin(pause);
            self.spin_paused = pause;
        }
        let to = if self.always {
            Some((shard.id + 1) % shard.shards)
        } else if crowded && self.moves {
            loads.taker_for(shard.id)
        } else {
            None
        };
        if to.is_some() && !self.always {
            loads.gave(shard.id);
        }
        shard.departures.plan(to);
        crowded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spin_pauses_when_most_peers_are_crowded() {
        let loads = CoreLoads::new(4);
        loads.publish(0, 400, 600);
        // One crowded peer of three is not most of them; two are.
        assert!(!loads.peers_mostly_crowded(3));
        loads.publish(2, 250, 100);
        assert!(loads.peers_mostly_crowded(3));
        // Of two shards, the one beside a crowded shard.
        let pair = CoreLoads::new(2);
        pair.publish(1, 260, 350);
        assert!(pair.peers_mostly_crowded(0) && !pair.peers_mostly_crowded(1));
        // One shard has no peers.
        assert!(!CoreLoads::new(1).peers_mostly_crowded(0));
    }

    #[test]
    fn the_taker_is_the_uncrowded_shard_with_the_most_room() {
        let loads = CoreLoads::new(4);
        loads.publish(0, 400, 600); // crowded: the giver
        loads.publish(1, 10, 650); // room, but less than 3
        loads.publish(2, 80, 100); // waits too much to take
        loads.publish(3, 0, 300);
        assert_eq!(loads.taker_for(0), Some(3));
        assert!(loads.is_crowded(0) && !loads.is_crowded(3));
        // A shard that gave connections lately takes none back.
        loads.gave(3);
        assert_eq!(loads.taker_for(0), Some(1));
        // Nobody with CPU to spare: nobody takes.
        loads.publish(1, 10, 950);
        assert_eq!(loads.taker_for(0), None);
        // A shard never gives to itself.
        loads.publish(0, 0, 0);
        assert_eq!(loads.taker_for(0), None);
    }

    #[test]
    fn this_threads_schedstat_reads_and_smooths() {
        let Some(schedstat) = ThreadSchedStat::for_this_thread() else {
            return; // a kernel without scheduler statistics
        };
        let mut sampler = SchedSampler::default();
        let loads = CoreLoads::new(1);
        sampler.sample(schedstat.read().expect("a reading"), &loads, 0);
        // Run for a while: the share run must show, the wait stays a share.
        let began = Instant::now();
        while began.elapsed() < Duration::from_millis(30) {
            std::hint::black_box(0u64.wrapping_add(1));
        }
        sampler.sample(schedstat.read().expect("a reading"), &loads, 0);
        let ran = loads.shards[0].ran.load(Ordering::Relaxed);
        let waited = loads.shards[0].waited.load(Ordering::Relaxed);
        assert!(ran > 0 && ran <= 1000 && waited <= 1000, "{ran} {waited}");
    }
}
