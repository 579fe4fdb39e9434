//! The write path: a write takes its version and stores its body, is journaled, then applied.

use super::*;

/// A write with its version taken and its body on disk, not yet applied.
#[derive(Debug)]
pub(super) struct PreparedWrite {
    pub(super) id: BucketId,
    pub(super) key: String,
    pub(super) version: u64,
    pub(super) object: Option<Object>,
}

impl Store {
    /// Writes (or, with `None`, deletes) `key` in `bucket`. Returns the version of the write.
    pub(crate) fn write(
        &mut self,
        bucket: &str,
        key: &str,
        object: Option<Object>,
    ) -> Result<u64, StoreError> {
        self.write_stamped(bucket, key, object, true)
    }
    /// [`Store::write`]; with `stamp` false the object keeps its Last-Modified (a change to a
    /// sub-resource such as its tags).
    pub(super) fn write_stamped(
        &mut self,
        bucket: &str,
        key: &str,
        object: Option<Object>,
        stamp: bool,
    ) -> Result<u64, StoreError> {
        let (change, write) = self.prepare_write(bucket, key, object, stamp)?;
        self.log_or_unwrite(&change, &[&write])?;
        Ok(self.finish_write(write))
    }
    /// Writes `object` at `to` and deletes `from` in `bucket` (a rename), as one journal record:
    /// after a crash both happened or neither did. Returns the version of the write.
    pub(crate) fn rename(
        &mut self,
        bucket: &str,
        from: &str,
        to: &str,
        object: Object,
    ) -> Result<u64, StoreError> {
        let (put, write) = self.prepare_write(bucket, to, Some(object), true)?;
        let (delete, deletion) = self.prepare_write(bucket, from, None, true)?;
        self.log_or_unwrite(&Change::Batch(vec![put, delete]), &[&write])?;
        let version = self.finish_write(write);
        self.finish_write(deletion);
        Ok(version)
    }
    /// The first half of a write: a version, the body on disk (with a data directory) and the
    /// change to journal. Nothing is applied until [`Self::finish_write`]; with `stamp` the
    /// object gets the store clock's Last-Modified.
    pub(super) fn prepare_write(
        &mut self,
        bucket: &str,
        key: &str,
        object: Option<Object>,
        stamp: bool,
    ) -> Result<(Change, PreparedWrite), StoreError> {
        self.prepare_write_with(bucket, key, object, stamp, None)
    }

    /// [`Self::prepare_write`]; with `staged`, the body already written (and fsynced) outside
    /// the lock is renamed into place instead of written here.
    pub(super) fn prepare_write_with(
        &mut self,
        bucket: &str,
        key: &str,
        object: Option<Object>,
        stamp: bool,
        staged: Option<persist::StagedBody>,
    ) -> Result<(Change, PreparedWrite), StoreError> {
        let id = self.bucket_id(bucket)?;
        let version = self.next_version();
        // Every write is stamped with the store's clock, whoever built the object.
        let object = object.map(|mut o| {
            if stamp {
                o.last_modified = self.clock.now();
            }
            o
        });
        if let (Some(journal), Some(o)) = (&self.journal, &object) {
            match staged {
                Some(staged) => journal.place_body(staged, version),
                None => journal.write_body(version, &o.data),
            }
            .map_err(|e| StoreError::Storage(e.to_string()))?;
        }
        let change = Change::Write {
            bucket: id.0,
            key: key.to_owned(),
            version,
            object: object.as_ref().map(ObjectRecord::of),
        };
        let write = PreparedWrite {
            id,
            key: key.to_owned(),
            version,
            object,
        };
        Ok((change, write))
    }
    /// Journals `change`; when that fails, deletes the bodies `writes` put on disk for it.
    pub(super) fn log_or_unwrite(
        &self,
        change: &Change,
        writes: &[&PreparedWrite],
    ) -> Result<(), StoreError> {
        let logged = self.log(change);
        if logged.is_err()
            && let Some(journal) = &self.journal
        {
            for w in writes.iter().filter(|w| w.object.is_some()) {
                if let Err(e) = journal.remove_body(w.version) {
                    tracing::warn!(version = w.version, error = %e, "cannot delete an unjournaled body");
                }
            }
        }
        logged
    }
    /// Applies a prepared write whose change is journaled; returns its version.
    pub(super) fn finish_write(&mut self, write: PreparedWrite) -> u64 {
        let entry = Entry {
            version: write.version,
            object: write.object.map(Arc::new),
        };
        self.put_entry(write.id, &write.key, entry);
        self.release_freed();
        write.version
    }
    /// Adds a write to `key`'s history, keeping what snapshots and forks can still reach.
    pub(super) fn put_entry(&mut self, id: BucketId, key: &str, entry: Entry) {
        let b = self.buckets.get_mut(&id).expect("exists");
        // Snapshots kept while turned off still read their history.
        if b.snapshots_enabled || !b.snapshots.is_empty() {
            // History is what snapshots and forks read; keep what they can still reach.
            b.objects.entry(key.to_owned()).or_default().push(entry);
            let pins = self.pins(id);
            let b = self.buckets.get_mut(&id).expect("exists");
            b.prune_key(key, &pins, &mut self.freed);
        } else {
            let replaced = if entry.object.is_none() && b.fork.is_none() {
                b.objects.remove(key)
            } else {
                b.objects.insert(key.to_owned(), vec![entry])
            };
            self.freed.extend(
                replaced
                    .into_iter()
                    .flatten()
                    .filter(|e| e.object.is_some())
                    .map(|e| e.version),
            );
        }
    }
    /// Deletes the bodies of the versions the last change freed. Runs after that change is in
    /// the journal: replaying it frees the same versions, so their bodies are never read again.
    /// A body left behind by a crash here is swept by the compaction at the next start.
    pub(super) fn release_freed(&mut self) {
        let mut freed = std::mem::take(&mut self.freed);
        // A soft-deleted entry still reads this body.
        freed.retain(|v| !self.held.contains_key(v));
        if let Some(journal) = &self.journal {
            for version in freed {
                if let Err(e) = journal.remove_body(version) {
                    tracing::warn!(version, error = %e, "cannot delete a freed object body");
                }
            }
        }
    }
    /// Deletes `key` from `bucket` if it is there now; returns whether it was. Check and write
    /// happen under the one lock, so two deletes of a key report one deletion.
    pub(crate) fn delete_if_present(
        &mut self,
        bucket: &str,
        key: &str,
    ) -> Result<bool, StoreError> {
        let id = self.bucket_id(bucket)?;
        if self.resolve(id, key, LIVE).is_none() {
            return Ok(false);
        }
        // On a snapshot bucket a plain delete is a delete marker in the history, as on Tigris.
        if let Some(days) = self.buckets[&id].soft_delete
            && !self.buckets[&id].snapshots_enabled
        {
            self.soft_delete_object(id, key, days)?;
            return Ok(true);
        }
        self.write(bucket, key, None)?;
        Ok(true)
    }
}
