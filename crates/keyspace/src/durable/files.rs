//! Where the key space lives on disk, and what a start must read.
//!
//! ```text
//! DIR/CURRENT            the live generation's number, as text
//! DIR/gen-G/snap-I-E     shard I's snapshot at epoch E (Put and PutExpiring records)
//! DIR/gen-G/log-I-E      shard I's writes from epoch E on
//! ```
//!
//! A start loads generation G (whatever its shard count was), routes every
//! key to its owner under the current `--shards`, and writes generation G+1:
//! each shard a snapshot of its keys and an empty log. Once every shard has,
//! CURRENT is switched (write and rename) and G is removed at the next
//! start. A crash before the switch leaves G as it was. Within a generation,
//! a shard's compaction starts log E+1, writes snapshot E+1 under a temporary
//! name and renames it when complete; loading takes a shard's newest complete
//! snapshot and every log from its epoch on. This runs on the coordinator
//! thread, before any shard starts: plain file calls are fine here.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The files of one old shard to replay, in order.
#[derive(Clone, Debug, Default)]
pub struct OldShard {
    pub files: Vec<PathBuf>,
}

/// What a start reads and where it writes.
#[derive(Clone, Debug)]
pub struct Layout {
    pub dir: PathBuf,
    /// The generation to load, if any.
    pub old: Vec<OldShard>,
    /// The generation this run writes.
    pub new_dir: PathBuf,
    pub new_generation: u64,
}

pub fn generation_dir(dir: &Path, generation: u64) -> PathBuf {
    dir.join(format!("gen-{generation}"))
}

pub fn snapshot_name(shard: usize, epoch: u64) -> String {
    format!("snap-{shard}-{epoch}")
}

pub fn log_name(shard: usize, epoch: u64) -> String {
    format!("log-{shard}-{epoch}")
}

/// Reads DIR (creating it if needed): the generation to load, a fresh
/// directory for the next, and older generations removed.
pub fn prepare(dir: &Path) -> io::Result<Layout> {
    fs::create_dir_all(dir)?;
    let current = match fs::read_to_string(dir.join("CURRENT")) {
        Ok(text) => Some(text.trim().parse::<u64>().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} is not a generation number",
                    dir.join("CURRENT").display()
                ),
            )
        })?),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let new_generation = current.map_or(1, |g| g + 1);
    // Anything but the live generation is a leftover: an older one, or the
    // next one from a start that crashed before switching.
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if let Some(generation) = name
            .strip_prefix("gen-")
            .and_then(|g| g.parse::<u64>().ok())
        {
            if Some(generation) != current {
                fs::remove_dir_all(entry.path())?;
            }
        }
    }
    let old = match current {
        None => Vec::new(),
        Some(generation) => old_shards(&generation_dir(dir, generation))?,
    };
    let new_dir = generation_dir(dir, new_generation);
    fs::create_dir_all(&new_dir)?;
    // Check that files can be made here at all, before any shard starts.
    let probe = new_dir.join(".probe");
    fs::write(&probe, b"")?;
    fs::remove_file(&probe)?;
    Ok(Layout {
        dir: dir.to_path_buf(),
        old,
        new_dir,
        new_generation,
    })
}

/// Each old shard's newest complete snapshot and the logs from its epoch on.
fn old_shards(dir: &Path) -> io::Result<Vec<OldShard>> {
    let mut snapshots: Vec<(usize, u64)> = Vec::new();
    let mut logs: Vec<(usize, u64)> = Vec::new();
    for entry in fs::read_dir(dir)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let parse = |rest: &str| -> Option<(usize, u64)> {
            let (shard, epoch) = rest.split_once('-')?;
            Some((shard.parse().ok()?, epoch.parse().ok()?))
        };
        if let Some(id) = name.strip_prefix("snap-").and_then(parse) {
            snapshots.push(id);
        } else if let Some(id) = name.strip_prefix("log-").and_then(parse) {
            logs.push(id);
        }
    }
    let shards = snapshots
        .iter()
        .chain(&logs)
        .map(|(s, _)| s + 1)
        .max()
        .unwrap_or(0);
    let mut old = vec![OldShard::default(); shards];
    for (shard, files) in old.iter_mut().enumerate() {
        let from = snapshots
            .iter()
            .filter(|(s, _)| *s == shard)
            .map(|(_, e)| *e)
            .max();
        if let Some(epoch) = from {
            files.files.push(dir.join(snapshot_name(shard, epoch)));
        }
        let mut epochs: Vec<u64> = logs
            .iter()
            .filter(|(s, e)| *s == shard && from.is_none_or(|from| *e >= from))
            .map(|(_, e)| *e)
            .collect();
        epochs.sort_unstable();
        files
            .files
            .extend(epochs.into_iter().map(|e| dir.join(log_name(shard, e))));
    }
    Ok(old)
}
