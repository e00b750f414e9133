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

    /// Returns once the records from `mark` up to `target` are on stable
    /// storage, sharing one flush with every other batch waiting; an error
    /// if they are not, and then none of them stays: they were discarded
    /// (`always`). Exact when those records were appended in one go (no
    /// await between `mark` and reading `target`): a flush then takes all
    /// of them or none.
    pub async fn commit(&self, mark: &Mark, target: u64) -> Result<(), String> {
        if target <= mark.position {
            return Ok(());
        }
        if let Some(reason) = self.discarded(mark, target) {
            return Err(reason);
        }
        if self.durable.get() >= target {
            return Ok(());
        }
        let _turn = self
            .flushing
            .acquire_permit(1)
            .await
            .map_err(|e| e.to_string())?;
        // Another batch's flush ran meanwhile: it made these records durable,
        // or failed and discarded them.
        if let Some(reason) = self.discarded(mark, target) {
            return Err(reason);
        }
        if self.durable.get() >= target {
            return Ok(());
        }
        self.flush_locked(true, false).await
    }

    /// Why the records a batch may have appended (after `mark`, up to
    /// `target`) were discarded, if a discard since its mark took any.
    fn discarded(&self, mark: &Mark, target: u64) -> Option<String> {
        self.discards.borrow().discarded(mark.generation, target)
    }

    /// Writes what is pending (and with `sync`, flushes it to storage).
    pub async fn flush(&self, sync: bool) -> Result<(), String> {
        let _turn = self
            .flushing
            .acquire_permit(1)
            .await
            .map_err(|e| e.to_string())?;
        self.flush_locked(sync, false).await
    }

    /// [`ShardLog::flush`] with the permit held; with `switching`, the
    /// switch journal begins as the last bytes for the current file are
    /// taken (`rotate`): every record after them goes to the next file.
    async fn flush_locked(&self, sync: bool, switching: bool) -> Result<(), String> {
        if let Some(len) = self.truncate_to.get() {
            self.truncate(len).await?;
        }
        let target = self.appended.get();
        let buffer = std::mem::take(&mut *self.pending.borrow_mut());
        if switching {
            *self.switch.borrow_mut() = Some(SwitchJournal::default());
        }
        if !buffer.is_empty() {
            let len = buffer.len();
            let at = self.written.get();
            let file = self.file.borrow().clone();
            // `always` discards what a failed write leaves: no copy to keep.
            let (bytes, kept) = match self.policy {
                Fsync::Always => (buffer, None),
                _ => (buffer.clone(), Some(buffer)),
            };
            let failure = match file.write_at(bytes, at - self.file_start.get()).await {
                Ok(n) if n == len => None,
                Ok(n) => {
                    // A short write: under `everysec`/`no` the rest goes
                    // right after the part written, at the next try.
                    self.written.set(at + n as u64);
                    if let Some(buffer) = &kept {
                        self.restore(buffer[n..].to_vec());
                    }
                    Some(format!("short write to the log ({n} of {len} bytes)"))
                }
                Err(e) => {
                    if let Some(buffer) = kept {
                        self.restore(buffer);
                    }
                    Some(e.to_string())
                }
            };
            match failure {
                None => self.written.set(at + len as u64),
                Some(reason) if self.policy == Fsync::Always => return self.discard(reason).await,
                Some(reason) => return self.fail(reason),
            }
        }
        if self.policy == Fsync::Always {
            // O_DSYNC: a completed write is on stable storage, flush and all.
            if self.durable.get() < self.written.get() {
                self.figures.flushes.add(1);
            }
            self.durable.set(self.written.get());
            self.journal.borrow_mut().settle(self.durable.get());
        } else if sync && self.durable.get() < self.written.get() {
            let file = self.file.borrow().clone();
            if let Err(e) = file.fdatasync().await {
                return self.fail(e.to_string());
            }
            self.figures.flushes.add(1);
            self.durable.set(target.min(self.written.get()));
        } else if !sync && self.policy == Fsync::No {
            // The kernel decides: written is as durable as this policy gets.
            self.durable.set(self.written.get());
        }
        *self.failed.borrow_mut() = None;
        Ok(())
    }

    /// `always`, after a failed write: drops every record not yet durable
    /// (none was acknowledged). The buffer goes, the store takes their
    /// writes back, the batches that may have written them will be told
    /// (`discarded`), and the file is cut back to its durable length, so the
    /// next record follows the last durable one. Logical positions go on
    /// from where they were: a discarded range is never reused.
    async fn discard(&self, reason: String) -> Result<(), String> {
        let (durable, appended) = (self.durable.get(), self.appended.get());
        self.pending.borrow_mut().clear();
        if let Some(store) = &*self.store.borrow() {
            store.with_mut(|store| self.journal.borrow_mut().undo(store));
        }
        let file_len = durable - self.file_start.get();
        self.file_start
            .set(self.file_start.get() + (appended - durable));
        self.written.set(appended);
        self.durable.set(appended);
        self.discards
            .borrow_mut()
            .record(durable..appended, reason.clone());
        let _ = self.fail(reason.clone());
        self.truncate_to.set(Some(file_len));
        let _ = self.truncate(file_len).await;
        Err(reason)
    }

    /// Cuts the current file to `len` bytes, on stable storage (a discard).
    async fn truncate(&self, len: u64) -> Result<(), String> {
        let file = self.file.borrow().clone();
        let cut = match file.truncate(len).await {
            Ok(()) => file.fdatasync().await,
            Err(e) => Err(e),
        };
        match cut {
            Ok(()) => {
                self.truncate_to.set(None);
                Ok(())
            }
            Err(e) => self.fail(format!("cannot cut the log back: {e}")),
        }
    }

    /// Puts unwritten bytes back in front of what was appended since.
    fn restore(&self, mut unwritten: Vec<u8>) {
        let mut pending = self.pending.borrow_mut();
        unwritten.extend_from_slice(&pending);
        *pending = unwritten;
    }

    fn fail(&self, reason: String) -> Result<(), String> {
        let complain = self
            .last_complaint
            .get()
            .is_none_or(|at| at.elapsed() >= Duration::from_secs(1));
        if complain {
            eprintln!("percore: kv log: {reason}; writes are refused until the disk takes them");
            self.last_complaint.set(Some(Instant::now()));
        }
        *self.failed.borrow_mut() = Some(reason.clone());
        Err(reason)
    }

    /// Bytes in the current file (what compaction weighs against live data).
    pub fn file_len(&self) -> u64 {
        self.appended.get() - self.file_start.get()
    }

    /// Switches to a new file at `path`: everything appended so far goes to
    /// the current file and is flushed first, so the old file holds exactly
    /// the writes before the switch and the new one every write after it.
    /// From the switch on, a switch journal notes what each key written
    /// held at it, until [`ShardLog::end_switch`] (a failed rotation ends
    /// it).
    pub async fn rotate(&self, path: &Path) -> Result<(), String> {
        let _turn = self
            .flushing
            .acquire_permit(1)
            .await
            .map_err(|e| e.to_string())?;
        let switched = self.flush_locked(true, true).await;
        let file = match switched {
            Ok(()) => open_log(path, self.policy).await,
            Err(reason) => Err(reason),
        };
        let file = file.inspect_err(|_| {
            self.end_switch();
        })?;
        *self.file.borrow_mut() = Rc::new(file);
        self.file_start.set(self.written.get());
        Ok(())
    }

    /// On a clean stop: everything written and flushed.
    pub async fn close(&self) {
        let _ = self.flush(self.policy != Fsync::No).await;
    }
}
