//! A shard's start with `--data-dir`: read every file of the last
//! generation, keep the keys this shard owns under the current `--shards`,
//! write them as this shard's snapshot in the new generation, and switch the
//! generation once every shard has (the last shard to finish switches).
//!
//! Every shard reads every old file, in parallel: a key's records are all in
//! its old owner's files, in order, so each shard replays them into the same
//! last value whichever shard count wrote them.

use std::cell::RefCell;
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
use super::{DurableError, DurableOptions};
use crate::cross_shard::owner_of;
use crate::services::kv::store::now_ms;
use crate::services::kv::Store;

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
    store: &RefCell<Store>,
    figures: LogFigures,
) -> Result<Rc<ShardLog>, DurableError> {
    let began = Instant::now();
    let mut next_progress = began + Duration::from_secs(1);
    let mut records = 0u64;
    for (old_shard, files) in layout.old.iter().enumerate() {
        // One shard speaks for each old file, so warnings come once.
        let speaks = old_shard % shards == shard;
        for path in &files.files {
            let bytes = read_all(path)
                .await
                .map_err(|e| DurableError::io(path, e))?;
            let mut store = store.borrow_mut();
            let scanned = scan(&bytes, |record| {
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
                if owner_of(record.key(), shards) == shard {
                    match record {
                        Record::Put { key, val } => store.load(key, val),
                        Record::Del { key } => {
                            store.del(key, 0);
                        }
                    }
                }
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
    let loaded = store.borrow().len() as u64;
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
    let snapshot = {
        let store = store.borrow();
        let mut bytes = Vec::with_capacity(store.bytes() as usize);
        store.for_each(now_ms(), |key, val, _| {
            Record::Put { key, val }.encode(&mut bytes)
        });
        bytes
    };
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
