//! Group commit for PUTs on a data directory.
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

use std::sync::Arc;

use super::persist::{Journal, Outcome, RecordRef, StagedBody, Ticket};
use super::write::PreparedWrite;
use super::{Object, Store, StoreError};
use crate::state::Shared;

/// A PUT whose record is with the committer.
#[derive(Debug)]
pub(crate) struct Pending {
    write: PreparedWrite,
    outcome: Outcome,
}

impl Store {
    /// Takes a version for `object` at `key`, names `staged` as its body, and hands the record
    /// to the committer; the write is applied by [`Store::catch_up`] once the record is on disk.
    fn begin_put(
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

/// Stores `object` at `key` in `bucket` (an unconditional PUT); answers once it is applied,
/// and, with a data directory, on disk: its body is written outside the store lock and its
/// record shares a journal commit with the other writes in flight.
pub(crate) async fn put(
    shared: &Arc<Shared>,
    bucket: &str,
    key: &str,
    object: Object,
) -> Result<u64, StoreError> {
    let Some(journal) = shared.journal().cloned() else {
        return shared.store().write(bucket, key, Some(object));
    };
    // Fail before writing a body a missing bucket would never use.
    shared.store_applied().bucket_id(bucket)?;
    let data = object.data.clone();
    let stager = Arc::clone(&journal);
    let staged = tokio::task::spawn_blocking(move || stager.stage_body(&data))
        .await
        .map_err(|e| StoreError::Storage(format!("writing the body stopped: {e}")))?
        .map_err(|e| StoreError::Storage(e.to_string()))?;
    let (version, mut ticket) = shared
        .store_applied()
        .begin_put(&journal, bucket, key, object, staged)?;
    let durable = ticket.durable().await;
    // Applied before the answer (by this lock's catch-up, or by an earlier lock holder's).
    drop(shared.store_applied());
    durable.map_err(|e| StoreError::Storage(e.to_string()))?;
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::LIVE;
    use bytes::Bytes;

    fn open(dir: &std::path::Path) -> Arc<Shared> {
        Arc::new(
            Shared::open(
                crate::DEFAULT_ACCESS_KEY_ID.to_owned(),
                crate::DEFAULT_SECRET_ACCESS_KEY.to_owned(),
                dir,
                false,
            )
            .unwrap(),
        )
    }

    fn body_files(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir.join("objects")).unwrap().count()
    }

    #[tokio::test]
    async fn a_put_the_journal_refuses_answers_an_error_is_not_applied_and_leaves_no_body() {
        let dir = tempfile::tempdir().unwrap();
        let shared = open(dir.path());
        shared.store().create_bucket("b", false).unwrap();
        // Every later journal write fails.
        shared.close();
        let object = Object::new(Bytes::from_static(b"lost"), None, Vec::new());
        assert!(put(&shared, "b", "k", object).await.is_err());
        assert!(shared.store_applied().get("b", "k", LIVE).is_err());
        assert!(shared.store().get("b", "k", LIVE).is_err());
        assert_eq!(body_files(dir.path()), 0);
    }
}
