//! Compaction: when a shard's log reaches twice its live data, the shard
//! switches to a new log and, in the background, writes a snapshot that
//! replaces the old snapshot and log, so a restart reads about the live data
//! again instead of every write ever made.
//!
//! The pause is the switch alone (one flush). The snapshot is written from
//! the old files, not by walking the store: for each key they name, in
//! chunks with yields between, it writes the key's value and expiry time
//! as they were at the switch (a Put, a PutExpiring, or an aggregate's
//! records), or nothing for a key that was not there or whose time has
//! passed since. Writes go on meanwhile: the log's switch journal
//! (`switch.rs`) keeps what each key written since the switch held at it,
//! and a key not written since is read from the store as it is. So the
//! snapshot is the key space at the switch, the new log holds every write
//! since, and replaying the one over the other ends at the shard's state
//! whatever the writes are: a list's push or pop, which replayed twice
//! would leave an item twice or take one too many, included (the crash
//! campaign found that, when snapshots took values as they were at the
//! read). Under `always` the switch made every record before it durable,
//! so the values at the switch are the durable records' too. A Clear
//! (FLUSHDB) while a compaction runs spoils it: it fails and leaves the
//! files, as below.
//!
//! The snapshot goes under a temporary name and is renamed when whole; a
//! crash before leaves the old snapshot and both logs, which loading reads
//! in order (`files.rs`). A compaction that fails (a full disk) leaves them
//! too, and the next one reads from that snapshot on, every log since.

use std::cell::Cell;
use std::collections::HashSet;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Instant;

use glommio::io::BufferedFile;

use super::file_io::{create_empty, read_all, write_all_at};
use super::files::{log_name, snapshot_name};
use super::log::{LogFigures, ShardLog};
use super::record::{decode, Decoded};
use crate::store::now_ms;
use crate::{SharedStore, Store};

/// No compaction below this log size: small logs load fast anyway.
const MIN_LOG: u64 = 1 << 20;
/// For tests only (the crash campaign, `tests/it/crash_campaign.rs`): a log size
/// in bytes that replaces [`MIN_LOG`], read once as a shard starts, so that
/// compactions come often enough for a kill to land in one.
const MIN_LOG_VAR: &str = "PERCORE_COMPACT_MIN_BYTES";
/// Records looked up between yields, so that requests are served meanwhile.
const RECORDS_PER_SLICE: usize = 2048;
/// Snapshot bytes gathered before a write.
const WRITE_CHUNK: usize = 1 << 20;

/// One shard's compaction state.
pub struct Compactor {
    dir: PathBuf,
    shard: usize,
    /// The epoch of the current log.
    epoch: Cell<u64>,
    /// The epoch of the last complete snapshot: below `epoch` once a
    /// compaction failed after switching logs, which leaves every file.
    snapshot_epoch: Cell<u64>,
    running: Cell<bool>,
    /// When the last compaction ended, in Unix seconds (LASTSAVE); 0: none.
    finished_at: Cell<u64>,
    /// No compaction below this log size ([`MIN_LOG`], or the test setting).
    min_log: u64,
    figures: LogFigures,
}

impl Compactor {
    pub fn new(dir: PathBuf, shard: usize, figures: LogFigures) -> Rc<Compactor> {
        Rc::new(Compactor {
            dir,
            shard,
            epoch: Cell::new(1),
            snapshot_epoch: Cell::new(1),
            running: Cell::new(false),
            finished_at: Cell::new(0),
            min_log: std::env::var(MIN_LOG_VAR)
                .ok()
                .and_then(|bytes| bytes.parse().ok())
                .unwrap_or(MIN_LOG),
            figures,
        })
    }

    /// Starts a compaction in the background if the log has grown to twice
    /// the live data, or a SAVE asked for one ([`ShardLog::ask_snapshot`]),
    /// and none is running.
    pub fn maybe_start(self: &Rc<Self>, log: &Rc<ShardLog>, store: &SharedStore) {
        let file_len = log.file_len();
        let asked = log.take_snapshot_ask();
        if !asked && (file_len < self.min_log || file_len < 2 * store.with(Store::bytes)) {
            return;
        }
        self.start(log, store);
    }

    /// When the last compaction ended, in Unix seconds; 0 if none has.
    pub fn finished_at(&self) -> u64 {
        self.finished_at.get()
    }

    /// Starts a compaction in the background now (resp's SAVE and BGSAVE),
    /// unless one is running.
    pub fn start(self: &Rc<Self>, log: &Rc<ShardLog>, store: &SharedStore) {
        if self.running.get() {
            return;
        }
        self.running.set(true);
        let (compactor, log, store) = (self.clone(), log.clone(), store.clone());
        glommio::spawn_local(async move {
            match compactor.compact(&log, &store).await {
                Ok(()) => compactor.finished_at.set(now_ms() / 1000),
                Err(reason) => eprintln!(
                    "percore: kv shard {}: compaction failed, the log keeps growing until the next one: {reason}",
                    compactor.shard
                ),
            }
            compactor.running.set(false);
            // Writes went on into the new log while this one ran: it may
            // have grown past the mark already, and no later batch may come
            // to notice it.
            compactor.maybe_start(&log, &store);
        })
        .detach();
    }

    async fn compact(&self, log: &ShardLog, store: &SharedStore) -> Result<(), String> {
        let began = Instant::now();
        let (shard, old, base) = (self.shard, self.epoch.get(), self.snapshot_epoch.get());
        let next = old + 1;
        log.rotate(&self.dir.join(log_name(shard, next))).await?;
        self.epoch.set(next);
        // The switch journal ends with this compaction, whichever way.
        let _switch = EndSwitch(log);

        let staged = |epoch| {
            self.dir
                .join(format!("{}.tmp", snapshot_name(shard, epoch)))
        };
        let file = create_empty(&staged(next), false).await?;
        let mut emitted: HashSet<Box<[u8]>> = HashSet::new();
        let mut chunk = Vec::with_capacity(WRITE_CHUNK);
        let mut file_len = 0u64;
        // The last complete snapshot (the start writes the first) and every
        // log since: more than one after a failed compaction.
        let mut old_files = vec![self.dir.join(snapshot_name(shard, base))];
        old_files.extend((base..=old).map(|epoch| self.dir.join(log_name(shard, epoch))));
        for path in &old_files {
            let bytes = read_all(path).await?;
            let mut at = 0;
            let mut in_slice = 0;
            let mut now = now_ms();
            while let Decoded::Record(record, used) = decode(&bytes[at..]) {
                at += used;
                // A Clear names no key: every key it left, and every key
                // written after it, is named by a later record.
                if let Some(key) = record.key().filter(|key| !emitted.contains(*key)) {
                    emitted.insert(key.into());
                    store.with(|store| {
                        log.with_switch(|switch| {
                            let at_switch = switch.and_then(|s| s.at_switch(store, key, now));
                            if let Some((value, at)) = at_switch {
                                super::ops::snapshot_records(key, value.value(), at, &mut chunk);
                            }
                        })
                    });
                }
                if chunk.len() >= WRITE_CHUNK {
                    write_all_at(&file, &chunk, file_len).await?;
                    file_len += chunk.len() as u64;
                    chunk.clear();
                }
                in_slice += 1;
                if in_slice == RECORDS_PER_SLICE {
                    in_slice = 0;
                    glommio::yield_if_needed().await;
                    now = now_ms();
                }
            }
        }
        write_all_at(&file, &chunk, file_len).await?;
        file.fdatasync().await.map_err(|e| e.to_string())?;
        if log.end_switch().is_none_or(|switch| switch.spoiled()) {
            return Err("a FLUSHDB or FLUSHALL came while the snapshot was written; the next compaction starts over".into());
        }
        let mut file = file;
        file.rename(self.dir.join(snapshot_name(shard, next)))
            .await
            .map_err(|e| e.to_string())?;
        // The compaction is done once its snapshot is in place: it counts
        // from here, before the await of the clean-up (a shutdown then
        // reports it, whenever it comes).
        self.snapshot_epoch.set(next);
        self.figures.compactions.add(1);
        self.figures
            .last_compaction_ms
            .set(began.elapsed().as_millis() as u64);
        let _ = file.close().await;
        // What failed compactions left goes too.
        old_files.extend((base + 1..=old).map(staged));
        for path in &old_files {
            if let Ok(old) = BufferedFile::open(path).await {
                let _ = old.remove().await;
                let _ = old.close().await;
            }
        }
        Ok(())
    }
}

/// Ends the log's switch journal when a compaction ends, however it ends.
struct EndSwitch<'a>(&'a ShardLog);

impl Drop for EndSwitch<'_> {
    fn drop(&mut self) {
        self.0.end_switch();
    }
}

#[cfg(test)]
#[path = "compact_tests.rs"]
mod tests;
