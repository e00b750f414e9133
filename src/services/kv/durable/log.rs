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
//! refused (`disk: <reason>`) until a flush succeeds again; what is still
//! buffered stays buffered and is retried, so nothing acknowledged is lost.

use std::cell::{Cell, RefCell};
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use glommio::io::BufferedFile;

use super::file_io::create_empty;
use glommio::sync::Semaphore;

use super::record::Record;
use super::Fsync;
use crate::stats::Counter;

/// Opens a log file, empty. Under `always` it is opened O_DSYNC: each write
/// completes once it is on stable storage, so a group commit is one io_uring
/// operation instead of a write and then an fdatasync.
async fn open_log(path: &Path, policy: Fsync) -> Result<BufferedFile, String> {
    create_empty(path, policy == Fsync::Always).await
}

/// A shard's persistence figures (SPEC 7.2).
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
    /// Bytes known to be on stable storage.
    durable: Cell<u64>,
    /// One flush at a time.
    flushing: Semaphore,
    failed: RefCell<Option<String>>,
    last_complaint: Cell<Option<Instant>>,
    figures: LogFigures,
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

    pub fn policy(&self) -> Fsync {
        self.policy
    }

    /// Why writes are refused now, if they are.
    pub fn refusal(&self) -> Option<String> {
        self.failed.borrow().clone()
    }

    /// Appends a record; returns the position after it.
    pub fn append(&self, record: &Record<'_>) -> u64 {
        let mut pending = self.pending.borrow_mut();
        let before = pending.len();
        record.encode(&mut pending);
        let added = (pending.len() - before) as u64;
        self.appended.set(self.appended.get() + added);
        self.figures.bytes_logged.add(added);
        self.appended.get()
    }

    /// Where the next record goes: a batch notes it before appending.
    pub fn position(&self) -> u64 {
        self.appended.get()
    }

    /// Returns once everything appended up to `position` is on stable
    /// storage, sharing one flush with every other batch waiting.
    pub async fn commit(&self, position: u64) -> Result<(), String> {
        if self.durable.get() >= position {
            return Ok(());
        }
        let _turn = self
            .flushing
            .acquire_permit(1)
            .await
            .map_err(|e| e.to_string())?;
        if self.durable.get() >= position {
            return Ok(());
        }
        self.flush_locked(true).await
    }

    /// Writes what is pending (and with `sync`, flushes it to storage).
    pub async fn flush(&self, sync: bool) -> Result<(), String> {
        let _turn = self
            .flushing
            .acquire_permit(1)
            .await
            .map_err(|e| e.to_string())?;
        self.flush_locked(sync).await
    }

    async fn flush_locked(&self, sync: bool) -> Result<(), String> {
        let target = self.appended.get();
        let buffer = std::mem::take(&mut *self.pending.borrow_mut());
        if !buffer.is_empty() {
            let len = buffer.len();
            let at = self.written.get();
            let file = self.file.borrow().clone();
            match file
                .write_at(buffer.clone(), at - self.file_start.get())
                .await
            {
                Ok(n) if n == len => self.written.set(at + len as u64),
                Ok(n) => {
                    // A short write: keep the rest for the next try.
                    self.written.set(at + n as u64);
                    self.restore(buffer[n..].to_vec());
                    return self.fail(format!("short write to the log ({n} of {len} bytes)"));
                }
                Err(e) => {
                    self.restore(buffer);
                    return self.fail(e.to_string());
                }
            }
        }
        if self.policy == Fsync::Always {
            // O_DSYNC: a completed write is on stable storage, flush and all.
            if self.durable.get() < self.written.get() {
                self.figures.flushes.add(1);
            }
            self.durable.set(self.written.get());
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
    pub async fn rotate(&self, path: &Path) -> Result<(), String> {
        let _turn = self
            .flushing
            .acquire_permit(1)
            .await
            .map_err(|e| e.to_string())?;
        self.flush_locked(true).await?;
        let file = open_log(path, self.policy).await?;
        *self.file.borrow_mut() = Rc::new(file);
        self.file_start.set(self.written.get());
        Ok(())
    }

    /// On a clean stop: everything written and flushed.
    pub async fn close(&self) {
        let _ = self.flush(self.policy != Fsync::No).await;
    }
}
