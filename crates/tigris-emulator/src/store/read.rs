//! The read path: resolving a key level by level through a bucket's fork chain.

use super::*;

impl Store {
    /// The levels a read of `id` at `version` consults, nearest first, each with its cap.
    pub(super) fn levels(&self, id: BucketId, version: u64) -> Vec<(&Bucket, u64)> {
        let mut levels = Vec::new();
        let mut current = Some((id, version));
        while let Some((id, cap)) = current {
            let bucket = &self.buckets[&id];
            levels.push((bucket, cap));
            current = bucket.fork.as_ref().map(|f| (f.parent, f.parent_cap(cap)));
        }
        levels
    }
    pub(super) fn resolve(&self, id: BucketId, key: &str, version: u64) -> Option<&Arc<Object>> {
        for (bucket, cap) in self.levels(id, version) {
            if let Some(found) = bucket.resolve_here(key, cap) {
                return found;
            }
        }
        None
    }
    pub(super) fn first_visible(&self, id: BucketId, version: u64) -> Option<String> {
        let query = ListQuery {
            max_keys: 1,
            version,
            ..ListQuery::default()
        };
        self.list_id(id, &query)
            .objects
            .into_iter()
            .next()
            .map(|(k, _)| k)
    }
    /// The write of `key` that a read of `bucket` at `version` sees: its version id and
    /// whether it is a deletion. `None` when the key was never written by then. Snapshot pins
    /// resolve to object versions this way ("newest at or before the snapshot").
    pub(crate) fn entry_at(
        &self,
        bucket: &str,
        key: &str,
        version: u64,
    ) -> Result<Option<(u64, bool)>, StoreError> {
        let id = self.bucket_id(bucket)?;
        for (level, cap) in self.levels(id, version) {
            if let Some(entry) = level.entry_here(key, cap) {
                return Ok(Some((entry.version, entry.object.is_none())));
            }
        }
        Ok(None)
    }
    /// Reads the version of `key` whose id is `version_id` (from [`Self::entry_at`]); a
    /// deletion or an id that is not a write of this key is `NoSuchVersion`.
    pub(crate) fn get_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: u64,
    ) -> Result<Arc<Object>, StoreError> {
        match self.entry_at(bucket, key, version_id)? {
            Some((v, false)) if v == version_id => self.get_unchecked(bucket, key, version_id),
            _ => Err(StoreError::NoSuchVersion(format!(
                "{key} version {version_id}"
            ))),
        }
    }
    pub(super) fn get_unchecked(
        &self,
        bucket: &str,
        key: &str,
        version: u64,
    ) -> Result<Arc<Object>, StoreError> {
        let id = self.bucket_id(bucket)?;
        self.resolve(id, key, version)
            .cloned()
            .ok_or_else(|| StoreError::NoSuchKey(key.to_owned()))
            .and_then(undamaged)
    }
    /// Reads `key` from `bucket` as of `version` ([`LIVE`] for now).
    pub(crate) fn get(
        &self,
        bucket: &str,
        key: &str,
        version: u64,
    ) -> Result<Arc<Object>, StoreError> {
        let id = self.bucket_id(bucket)?;
        self.check_version(id, bucket, version)?;
        self.resolve(id, key, version)
            .cloned()
            .ok_or_else(|| StoreError::NoSuchKey(key.to_owned()))
            .and_then(undamaged)
    }
    pub(super) fn check_version(
        &self,
        id: BucketId,
        bucket: &str,
        version: u64,
    ) -> Result<(), StoreError> {
        if version != LIVE && !self.buckets[&id].snapshots_enabled {
            return Err(StoreError::NotSnapshotEnabled(bucket.to_owned()));
        }
        Ok(())
    }
}
