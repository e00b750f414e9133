//! The durable key space (docs/PROTOCOLS.md §7.1): with `--data-dir`, each shard logs the
//! writes it owns and the key space survives restarts, with any `--shards`.
//!
//! - `record.rs`: the checksummed records of logs and snapshots; what one
//!   does to a store is [`apply_record`], here.
//! - `file_io.rs`: the few file calls they make, on glommio's io_uring API.
//! - `files.rs`: the layout under DIR, and what a start must read.
//! - `load.rs`: a shard's start: replay, its snapshot, the generation switch.
//! - `log.rs`: a shard's log while serving: append, group commit, policies.
//! - `compact.rs`: replacing a long log by a snapshot, in the background.
//! - `mark.rs`: which batches a discard of the log concerns (`always`).
//! - `undo.rs`: under `always`, taking back writes whose log write failed.
//! - `switch.rs`: while a compaction runs, what keys held at its switch.
//! - `ops.rs`: the logged operations on hashes, sets, sorted sets, lists.

pub mod compact;
mod file_io;
pub mod files;
pub mod load;
pub mod log;
mod mark;
pub mod ops;
pub mod record;
pub mod switch;
pub mod undo;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use thiserror::Error;

use crate::Store;
use record::Record;

/// Does what `record` says to `store`, as of `now` (ms since the epoch).
///
/// While serving, `now` is the batch's time. A replay passes 0: every key a
/// record names is then taken as live, as it was when the record was logged
/// (an Expire or Persist is logged only for a live key), and the keys whose
/// time has passed are dropped once the replay is done, so a key whose TTL
/// was moved later is not lost to its first, earlier time.
pub fn apply_record(store: &mut Store, record: Record<'_>, now: u64) {
    match record {
        Record::Put { key, val } => store.load(key, val),
        Record::Del { key } => {
            store.del(key, now);
        }
        Record::PutExpiring { key, val, at } => store.load_expiring(key, val, at),
        Record::Expire { key, at } => {
            store.expire_at(key, at, now);
        }
        Record::Persist { key } => {
            store.persist(key, now);
        }
        Record::Clear => store.clear(),
        Record::Agg { key, op, body } => {
            ops::apply_op(store, key, op, body, now);
        }
    }
}

/// When a logged write reaches stable storage (docs/PROTOCOLS.md §7.1 `--fsync`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fsync {
    /// Before the write is acknowledged (one flush per batch, shared).
    Always,
    /// Within about a second.
    #[default]
    EverySec,
    /// When the kernel writes it back.
    No,
}

impl FromStr for Fsync {
    type Err = String;

    fn from_str(text: &str) -> Result<Fsync, String> {
        match text {
            "always" => Ok(Fsync::Always),
            "everysec" => Ok(Fsync::EverySec),
            "no" => Ok(Fsync::No),
            _ => Err(format!("'{text}' is not a policy (always, everysec, no)")),
        }
    }
}

impl fmt::Display for Fsync {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Fsync::Always => "always",
            Fsync::EverySec => "everysec",
            Fsync::No => "no",
        })
    }
}

/// `--data-dir`, `--fsync` and `--data-repair`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DurableOptions {
    pub dir: PathBuf,
    pub fsync: Fsync,
    /// Start from the valid prefix of a corrupt file instead of refusing.
    pub repair: bool,
}

/// Why the key space could not be loaded or kept.
#[derive(Debug, Error)]
pub enum DurableError {
    #[error("{}: {reason}", path.display())]
    Io { path: PathBuf, reason: String },
    #[error("{}: corrupt record at offset {offset} (start with --data-repair to keep what precedes it)", path.display())]
    Corrupt { path: PathBuf, offset: usize },
    #[error("another shard could not load its keys")]
    OtherShard,
}

impl DurableError {
    pub fn io(path: &Path, error: impl fmt::Display) -> DurableError {
        DurableError::Io {
            path: path.to_path_buf(),
            reason: error.to_string(),
        }
    }

    /// docs/PROTOCOLS.md §7.1: corruption stops the start with status 3.
    pub fn exit_code(&self) -> i32 {
        match self {
            DurableError::Corrupt { .. } => 3,
            _ => 1,
        }
    }
}
