//! One shard's log: the writes it owns, appended as records, written and
//! flushed through glommio's io_uring file API (never a blocking call on the
//! shard's thread).
//!
//! Appending only copies into a buffer. What happens next is the policy:
//! - `always`: the batch that appended waits for [`ShardLog::commit`] before
//!   its replies leave. Commits are grouped: one write and one `fdatasync`
//!   carry every record appended by then, whichever connection appended it,
//!   and a commit that finds a flush under way waits for it, then finds its
//!   records durable or flushes the rest.
//! - `everysec`: a background task writes and flushes once a second.
//! - `no`: the same task writes every 100 ms and never flushes.
//!
//! (`always` has the task too, once a second, to retry after a failure.)
//!
//! A write or flush that fails marks the log failed: later writes are
//! refused (`disk: <reason>`) until a flush succeeds again.
//! - `everysec`/`no`: what is still buffered was acknowledged; it stays
//!   buffered and is retried after what reached the file (a short write's
//!   rest goes right after its first part), so nothing acknowledged is lost.
//! - `always`: nothing past the durable position was acknowledged, so a
//!   failed write discards it all (`discard`): the buffer is
//!   dropped, the file truncated back to its durable length (no torn or
//!   refused record stays between acknowledged ones), the store takes those
//!   writes back (`undo.rs`), and every batch that may have written them is
//!   told its commit failed ([`Mark`]), also one still waiting for its turn.

use std::cell::{Cell, RefCell};
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use glommio::io::BufferedFile;

use super::file_io::create_empty;

mod flush;
use glommio::sync::Semaphore;

use super::mark::Discards;
pub use super::mark::Mark;
use super::record::Record;
use super::switch::SwitchJournal;
use super::undo::Journal;
use super::Fsync;
use crate::{SharedStore, Store};
use percore::stats::Counter;

/// Opens a log file, empty. Under `always` it is opened O_DSYNC: each write
/// completes once it is on stable storage, so a group commit is one io_uring
/// operation instead of a write and then an fdatasync.
async fn open_log(path: &Path, policy: Fsync) -> Result<BufferedFile, String> {
    create_empty(path, policy == Fsync::Always).await
}

/// A shard's persistence figures (docs/PROTOCOLS.md §7.2).
#[derive(Clone)]
pub struct LogFigures {
    pub bytes_logged: Counter,
    pub flushes: Counter,
    pub compactions: Counter,
    pub last_compaction_ms: Counter,
    pub keys_loaded: Counter,
    pub load_ms: Counter,
}

pub struct ShardLog {
    policy: Fsync,
    /// The file records go to now; compaction switches it.
    file: RefCell<Rc<BufferedFile>>,
    /// The logical position (see `appended`) where the current file starts.
    file_start: Cell<u64>,
    /// Bytes appended and not yet handed to a write.
    pending: RefCell<Vec<u8>>,
    /// Bytes ever appended; the position of the next record.
    appended: Cell<u64>,
    /// Bytes handed to files, logically (past files included).
    written: Cell<u64>,
    /// Bytes known to be on stable storage, or discarded: positions go on
    /// past a discarded range (and `file_start` with them), never reused.
    durable: Cell<u64>,
    /// One flush at a time.
    flushing: Semaphore,
    failed: RefCell<Option<String>>,
    last_complaint: Cell<Option<Instant>>,
    figures: LogFigures,
    /// Under `always`: the store the records are applied to, and what the
    /// writes not yet durable replaced there.
    store: RefCell<Option<SharedStore>>,
    journal: RefCell<Journal>,
    /// While a compaction runs: what the keys written since its switch
    /// held at it (`switch.rs`).
    switch: RefCell<Option<SwitchJournal>>,
    discards: RefCell<Discards>,
    /// The current file's length, once a discard could not truncate it yet.
    truncate_to: Cell<Option<u64>>,
    /// A SAVE or BGSAVE ran ([`ShardLog::ask_snapshot`]): the batch's end
    /// starts a compaction, whatever the log's size.
    snapshot_asked: Cell<bool>,
}

impl ShardLog {
    /// Opens (creating) the log file at `path`, empty.
    pub async fn create(
        path: &Path,
        policy: Fsync,
        figures: LogFigures,
    ) -> std::io::Result<Rc<ShardLog>> {
        let file = open_log(path, policy)
            .await
            .map_err(std::io::Error::other)?;
        let log = Rc::new(ShardLog {
            policy,
            file: RefCell::new(Rc::new(file)),
            file_start: Cell::new(0),
            pending: RefCell::new(Vec::with_capacity(64 * 1024)),
            appended: Cell::new(0),
            written: Cell::new(0),
            durable: Cell::new(0),
            flushing: Semaphore::new(1),
            failed: RefCell::new(None),
            last_complaint: Cell::new(None),
            figures,
            store: RefCell::new(None),
            journal: RefCell::default(),
            switch: RefCell::default(),
            discards: RefCell::default(),
            truncate_to: Cell::new(None),
            snapshot_asked: Cell::new(false),
        });
        {
            let background = log.clone();
            // `always` commits with its batches; its task only retries after
            // a failure, so that writes are taken again once the disk is.
            let (period, sync) = match policy {
                Fsync::Always | Fsync::EverySec => (Duration::from_secs(1), true),
                Fsync::No => (Duration::from_millis(100), false),
            };
            // Not tied to the shard's stop: it keeps writing what other
            // shards forward until the executor ends; `close` flushes last.
            glommio::spawn_local(async move {
                loop {
                    glommio::timer::sleep(period).await;
                    let _ = background.flush(sync).await;
                }
            })
            .detach();
        }
        Ok(log)
    }

    /// SAVE and BGSAVE (docs/PROTOCOLS.md §7.1): a snapshot of this shard's
    /// keys is started once the running batch (or forwarded message) ends,
    /// where the key space checks whether its log has grown enough
    /// (`KeySpace::after_batch`, the owner's `serve`), unless one is running.
    pub fn ask_snapshot(&self) {
        self.snapshot_asked.set(true);
    }

    /// Whether a snapshot was asked for since the last call.
    pub(super) fn take_snapshot_ask(&self) -> bool {
        self.snapshot_asked.replace(false)
    }

    pub fn policy(&self) -> Fsync {
        self.policy
    }

    /// Gives the log the store its records are applied to: what a discard
    /// takes writes back from.
    pub fn attach(&self, store: SharedStore) {
        *self.store.borrow_mut() = Some(store);
    }

    /// Why writes are refused now, if they are.
    pub fn refusal(&self) -> Option<String> {
        if let Some(reason) = &*self.failed.borrow() {
            return Some(reason.clone());
        }
        self.discards.borrow().refusal()
    }

    /// Logs `record`, a write about to be applied to `store`; under `always`
    /// also notes what it replaces there, until it is durable. Returns the
    /// position after it.
    pub fn append_write(&self, record: &Record<'_>, store: &mut Store) -> u64 {
        let after = self.append(record);
        if self.policy == Fsync::Always {
            self.journal.borrow_mut().note(record, after, store);
        }
        if let Some(switch) = self.switch.borrow_mut().as_mut() {
            switch.note(record, store);
        }
        after
    }

    /// Runs `read` with the switch journal of the compaction under way, if
    /// one is (see [`ShardLog::rotate`]).
    pub fn with_switch<R>(&self, read: impl FnOnce(Option<&SwitchJournal>) -> R) -> R {
        read(self.switch.borrow().as_ref())
    }

    /// Ends the switch journal [`ShardLog::rotate`] began; what it kept.
    pub fn end_switch(&self) -> Option<SwitchJournal> {
        self.switch.borrow_mut().take()
    }

    /// `key`'s value and expiry time as the durable records leave it (live
    /// at `now`): what a snapshot writes, since a write not yet durable may
    /// still be taken back.
    pub fn settled<'s>(
        &self,
        store: &'s Store,
        key: &[u8],
        now: u64,
    ) -> Option<(super::undo::Settled<'s>, Option<u64>)> {
        self.journal.borrow().settled(store, key, now)
    }

    /// Notes where a batch's writes begin (see [`Mark`]).
    pub fn mark(self: &Rc<Self>) -> Mark {
        let generation = self.discards.borrow_mut().open();
        Mark {
            log: self.clone(),
            position: self.appended.get(),
            generation,
        }
    }

    /// A batch marked in `generation` is answered (its [`Mark`] dropped).
    pub(super) fn close_batch(&self, generation: u64) {
        self.discards.borrow_mut().close(generation);
    }

    /// Whether anything was appended since `mark`, by its batch or another.
    pub fn appended_since(&self, mark: &Mark) -> bool {
        self.appended.get() > mark.position
    }

    /// Appends a record; returns the position after it.
    fn append(&self, record: &Record<'_>) -> u64 {
        let mut pending = self.pending.borrow_mut();
        let before = pending.len();
        record.encode(&mut pending);
        let added = (pending.len() - before) as u64;
        self.appended.set(self.appended.get() + added);
        self.figures.bytes_logged.add(added);
        self.appended.get()
    }

    /// Where the next record goes: the end of a batch's writes, read once
    /// they are appended.
    pub fn position(&self) -> u64 {
        self.appended.get()
    }

    /// Bytes in the current file (what compaction weighs against live data).
    pub fn file_len(&self) -> u64 {
        self.appended.get() - self.file_start.get()
    }
}
