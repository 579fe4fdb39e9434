//! Group commit for PUTs on a data directory: the store's side. The PUT itself is driven by
//! `Shared::put` (`state.rs`), which holds the store lock and the journal together.
//!
//! A PUT's body is written and fsynced outside the store lock ([`Journal::stage_body`]); under
//! the lock it only takes its version, renames the body into place and hands its record to the
//! journal's committer ([`Store::begin_put`]), then waits for the record without the lock. The
//! committer writes every record queued meanwhile in one transaction with one fsync. A change
//! is applied only once its record is on disk, in journal order: by whoever takes the store
//! lock next ([`Store::catch_up`]), the PUT itself at the latest, before it is answered.
//!
//! Until then the store does not show the write. Reads do not need it (the PUT is not answered
//! yet); every other change does, since it may depend on what the PUT wrote (a conditional
//! write, a bucket that must be empty, a snapshot): those take the store through
//! [`Store::settle`], which waits for the pending records first, so they see the store exactly
//! as the journal has it.

use super::persist::{Journal, Outcome, RecordRef, StagedBody, Ticket};
use super::write::PreparedWrite;
use super::{Object, Store, StoreError};

/// A PUT whose record is with the committer.
#[derive(Debug)]
pub(crate) struct Pending {
    write: PreparedWrite,
    outcome: Outcome,
}

impl Store {
    /// Takes a version for `object` at `key`, names `staged` as its body, and hands the record
    /// to the committer; the write is applied by [`Store::catch_up`] once the record is on disk.
    pub(crate) fn begin_put(
        &mut self,
        journal: &Journal,
        bucket: &str,
        key: &str,
        object: Object,
        staged: StagedBody,
    ) -> Result<(u64, Ticket), StoreError> {
        let (change, write) =
            self.prepare_write_with(bucket, key, Some(object), true, Some(staged))?;
        let ticket = match journal.submit(&RecordRef::Store(&change), true) {
            Ok(ticket) => ticket,
            Err(e) => {
                journal.remove_body(write.version).ok();
                return Err(StoreError::Storage(e.to_string()));
            }
        };
        let version = write.version;
        self.pending.push_back(Pending {
            write,
            outcome: ticket.handle(),
        });
        Ok((version, ticket))
    }

    /// Applies, in journal order, the pending PUTs whose records the committer has resolved;
    /// one whose record could not be written is dropped with its body.
    pub(crate) fn catch_up(&mut self) {
        while let Some(result) = self.pending.front().and_then(|p| p.outcome.get().cloned()) {
            let Some(pending) = self.pending.pop_front() else {
                break;
            };
            match result {
                Ok(()) => {
                    self.finish_write(pending.write);
                }
                Err(_) => {
                    if let Some(journal) = &self.journal
                        && let Err(e) = journal.remove_body(pending.write.version)
                    {
                        tracing::warn!(version = pending.write.version, error = %e, "cannot delete an unjournaled body");
                    }
                }
            }
        }
    }

    /// Waits until every pending PUT's record is resolved, then applies them: the store is then
    /// what the journal says. The caller holds the store lock, so none can join meanwhile.
    pub(crate) fn settle(&mut self) {
        if let (Some(last), Some(journal)) = (self.pending.back(), &self.journal) {
            journal.wait_for(&last.outcome);
        }
        self.catch_up();
    }
}
