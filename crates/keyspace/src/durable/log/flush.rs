//! How a shard's log reaches the disk: group commits, background flushes,
//! and what a failed write leaves (the parent module's doc says which policy
//! does what). Apart from `log.rs`, which appends: appending only copies into
//! a buffer, and everything here awaits the file.

use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::super::Fsync;
use super::{open_log, Mark, ShardLog, SwitchJournal};

impl ShardLog {
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
