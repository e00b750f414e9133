//! A shard's start with `--data-dir`: read every file of the last
//! generation, keep the keys this shard owns under the current `--shards`,
//! write them as this shard's snapshot in the new generation, and switch the
//! generation once every shard has (the last shard to finish switches).
//!
//! Every shard reads every old file, in parallel: a key's records are all in
//! its old owner's files, in order, so each shard replays them into the same
//! last value and expiry time whichever shard count wrote them. Records are
//! replayed as of before any expiry ([`apply_record`]); keys whose time has
//! passed are dropped once every file is read, and the new snapshot holds
//! only the live keys, a TTL as a PutExpiring.

use std::path::Path;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use glommio::io::BufferedFile;

use super::file_io::{create_empty, read_all, write_all_at};
use super::files::{log_name, snapshot_name, Layout};
use super::log::{LogFigures, ShardLog};
use super::record::{scan, Record, Scan};
use super::{apply_record, DurableError, DurableOptions};
use crate::store::now_ms;
use crate::{SharedStore, Store};
use percore::cross_shard::owner_of;

/// The time a replay applies records at: before any expiry, so that every
/// key a record names counts as live ([`apply_record`]).
const REPLAY: u64 = 0;

/// A key's record in a snapshot: a Put, or a PutExpiring if it has a TTL.
pub fn snapshot_record<'a>(key: &'a [u8], val: &'a [u8], at: Option<u64>) -> Record<'a> {
    match at {
        Some(at) => Record::PutExpiring { key, val, at },
        None => Record::Put { key, val },
    }
}

/// What a shard keeps of one old shard's files.
#[derive(Clone, Copy, Debug)]
struct Keep {
    shard: usize,
    shards: usize,
    old_shard: usize,
    old_shards: usize,
}

impl Keep {
    /// Replays one record of the old shard's files into this shard's store:
    /// a record of a key this shard owns now, and a Clear, which removes the
    /// keys of the shard that logged it: here, those the old shard owned.
    /// Every file read, the keys whose time has passed are dropped
    /// ([`Store::sweep`]).
    fn replay(self, store: &mut Store, record: Record<'_>) {
        match record.key() {
            Some(key) if owner_of(key, self.shards) == self.shard => {
                apply_record(store, record, REPLAY);
            }
            Some(_) => {}
            None => store.retain(|key| owner_of(key, self.old_shards) != self.old_shard),
        }
    }
}

/// Shared by the shards of one start.
#[derive(Debug, Default)]
pub struct Switch {
    snapshots_written: AtomicUsize,
    switched: AtomicBool,
    failed: AtomicBool,
}

/// Loads this shard's keys into `store`, writes the new generation's files,
/// and returns its log.
pub async fn start_shard(
    options: &DurableOptions,
    layout: &Layout,
    switch: &Arc<Switch>,
    shard: usize,
    shards: usize,
    store: &SharedStore,
    figures: LogFigures,
) -> Result<Rc<ShardLog>, DurableError> {
    let began = Instant::now();
    let mut next_progress = began + Duration::from_secs(1);
    let mut records = 0u64;
    let old_shards = layout.old.len();
    for (old_shard, files) in layout.old.iter().enumerate() {
        // One shard speaks for each old file, so warnings come once.
        let speaks = old_shard % shards == shard;
        let keep = Keep {
            shard,
            shards,
            old_shard,
            old_shards,
        };
        for path in &files.files {
            let bytes = read_all(path)
                .await
                .map_err(|e| DurableError::io(path, e))?;
            let scanned = store.with_mut(|store| {
                scan(&bytes, |record| {
                    records += 1;
                    // A load past a second says how far it is, once a second.
                    if records % (1 << 16) == 0 && Instant::now() >= next_progress {
                        eprintln!(
                            "percore: shard {shard}: loading: {records} records read, {} keys kept, {:.0} s",
                            store.len(),
                            began.elapsed().as_secs_f64()
                        );
                        next_progress += Duration::from_secs(1);
                    }
                    keep.replay(store, record);
                })
            });
            match scanned {
                Scan::Clean => {}
                Scan::TornTail { valid_up_to } => {
                    if speaks {
                        eprintln!(
                            "percore: warning: {}: dropped a torn tail of {} bytes after offset {valid_up_to}",
                            path.display(),
                            bytes.len() - valid_up_to
                        );
                    }
                }
                Scan::Corrupt { at } if options.repair => {
                    if speaks {
                        eprintln!(
                            "percore: warning: {}: corrupt record at offset {at}: --data-repair keeps the {at} bytes before it and drops the {} after",
                            path.display(),
                            bytes.len() - at
                        );
                    }
                }
                Scan::Corrupt { at } => {
                    switch.failed.store(true, Ordering::Release);
                    return Err(DurableError::Corrupt {
                        path: path.clone(),
                        offset: at,
                    });
                }
            }
        }
    }
    // Keys whose time passed before this start are gone.
    let now = now_ms();
    let loaded = store.with_mut(|store| {
        store.sweep(now, usize::MAX);
        store.len() as u64
    });
    let load_ms = began.elapsed().as_millis() as u64;
    figures.keys_loaded.set(loaded);
    figures.load_ms.set(load_ms);
    if load_ms >= 1000 {
        eprintln!(
            "percore: shard {shard}: loaded {loaded} keys in {:.1} s",
            load_ms as f64 / 1000.0
        );
    }

    // The new generation: this shard's keys as a snapshot, and a fresh log.
    let snapshot = store.with(|store| {
        let mut bytes = Vec::with_capacity(store.bytes() as usize);
        store.for_each(now, |key, value, at| {
            super::ops::snapshot_records(key, value, at, &mut bytes)
        });
        bytes
    });
    let snapshot_path = layout.new_dir.join(snapshot_name(shard, 1));
    write_file(&snapshot_path, &snapshot).await?;
    let log_path = layout.new_dir.join(log_name(shard, 1));
    let log = ShardLog::create(&log_path, options.fsync, figures)
        .await
        .map_err(|e| DurableError::io(&log_path, e))?;

    // The last shard to get here makes the new generation the live one.
    if switch.snapshots_written.fetch_add(1, Ordering::AcqRel) + 1 == shards {
        let current = layout.dir.join("CURRENT");
        let staged = layout.dir.join("CURRENT.new");
        write_file(&staged, format!("{}\n", layout.new_generation).as_bytes()).await?;
        let mut file = BufferedFile::open(&staged)
            .await
            .map_err(|e| DurableError::io(&staged, e))?;
        file.rename(&current)
            .await
            .map_err(|e| DurableError::io(&current, e))?;
        switch.switched.store(true, Ordering::Release);
    }
    while !switch.switched.load(Ordering::Acquire) {
        if switch.failed.load(Ordering::Acquire) {
            return Err(DurableError::OtherShard);
        }
        glommio::timer::sleep(Duration::from_millis(1)).await;
    }
    Ok(log)
}

/// Writes `bytes` as the whole of a new file, flushed to storage.
async fn write_file(path: &Path, bytes: &[u8]) -> Result<(), DurableError> {
    let file = create_empty(path, false)
        .await
        .map_err(|e| DurableError::io(path, e))?;
    write_all_at(&file, bytes, 0)
        .await
        .map_err(|e| DurableError::io(path, e))?;
    file.fdatasync()
        .await
        .map_err(|e| DurableError::io(path, e))?;
    file.close().await.map_err(|e| DurableError::io(path, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(records: &[Record<'_>]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for record in records {
            record.encode(&mut bytes);
        }
        bytes
    }

    /// Replays `files` (one per old shard) as shard `shard` of `shards`,
    /// then drops what expired by `now`.
    fn load(files: &[Vec<u8>], shard: usize, shards: usize, now: u64) -> Store {
        let mut store = Store::default();
        for (old_shard, bytes) in files.iter().enumerate() {
            let keep = Keep {
                shard,
                shards,
                old_shard,
                old_shards: files.len(),
            };
            assert_eq!(scan(bytes, |r| keep.replay(&mut store, r)), Scan::Clean);
        }
        store.sweep(now, usize::MAX);
        store
    }

    #[test]
    fn ttls_replay_in_order_and_passed_times_drop_at_the_end() {
        let now = 1_000_000;
        let log = encode(&[
            Record::Put {
                key: b"plain",
                val: b"1",
            },
            Record::PutExpiring {
                key: b"past",
                val: b"1",
                at: now - 1,
            },
            Record::PutExpiring {
                key: b"future",
                val: b"1",
                at: now + 5,
            },
            Record::PutExpiring {
                key: b"now",
                val: b"1",
                at: now,
            },
            // Set when its first time had not passed: it survives.
            Record::PutExpiring {
                key: b"moved",
                val: b"1",
                at: now - 10,
            },
            Record::Expire {
                key: b"moved",
                at: now + 60,
            },
            Record::PutExpiring {
                key: b"kept",
                val: b"1",
                at: now - 10,
            },
            Record::Persist { key: b"kept" },
            Record::PutExpiring {
                key: b"put over",
                val: b"1",
                at: now + 9,
            },
            Record::Put {
                key: b"put over",
                val: b"2",
            },
            Record::PutExpiring {
                key: b"deleted",
                val: b"1",
                at: now + 9,
            },
            Record::Del { key: b"deleted" },
            Record::Expire {
                key: b"absent",
                at: now + 9,
            },
        ]);
        let store = load(&[log], 0, 1, now);
        assert_eq!(
            store.sorted_keys(now),
            vec![&b"future"[..], b"kept", b"moved", b"plain", b"put over"]
        );
        assert_eq!(store.len(), 5, "expired keys are not kept");
        assert_eq!(store.expiry(b"future", now), Some(Some(now + 5)));
        assert_eq!(store.expiry(b"moved", now), Some(Some(now + 60)));
        assert_eq!(store.expiry(b"kept", now), Some(None));
        assert_eq!(
            store.get_with_expiry(b"put over", now),
            Some((&b"2"[..], None))
        );
    }

    #[test]
    fn a_clear_removes_only_what_its_old_shard_held() {
        use percore::cross_shard::owner_of;
        // Keys of each of two old shards, replayed by one new shard.
        let of = |shard: usize| {
            (0..)
                .map(|i| format!("k{i}").into_bytes())
                .filter(move |key| owner_of(key, 2) == shard)
        };
        let (a, b): (Vec<_>, Vec<_>) = (of(0).take(3).collect(), of(1).take(3).collect());
        let put = |key: &[u8]| {
            let mut bytes = Vec::new();
            Record::Put { key, val: b"v" }.encode(&mut bytes);
            bytes
        };
        let old0 = [put(&a[0]), put(&a[1]), encode(&[Record::Clear]), put(&a[2])].concat();
        let old1 = [put(&b[0]), put(&b[1]), put(&b[2])].concat();
        let store = load(&[old0, old1], 0, 1, 0);
        let mut expected: Vec<&[u8]> = vec![&a[2], &b[0], &b[1], &b[2]];
        expected.sort();
        assert_eq!(store.sorted_keys(0), expected);
    }

    #[test]
    fn a_snapshot_record_carries_the_ttl() {
        assert_eq!(
            snapshot_record(b"k", b"v", Some(9)),
            Record::PutExpiring {
                key: b"k",
                val: b"v",
                at: 9
            }
        );
        assert_eq!(
            snapshot_record(b"k", b"v", None),
            Record::Put {
                key: b"k",
                val: b"v"
            }
        );
    }
}
