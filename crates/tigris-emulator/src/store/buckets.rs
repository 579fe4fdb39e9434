//! Buckets: creation, settings, snapshots, deletion, statistics and the inventory.

use super::*;

impl Store {
    /// Whether bucket `id` is live (not soft-deleted).
    pub(super) fn is_live(&self, id: BucketId) -> bool {
        self.buckets
            .get(&id)
            .is_some_and(|b| self.by_name.get(&b.name) == Some(&id))
    }
    /// Every bucket (name order) with its snapshot versions and the keys it holds itself (live,
    /// not deleted, not read through from a parent).
    pub(crate) fn inventory(&self) -> Vec<(String, Vec<u64>, Vec<String>)> {
        let mut out: Vec<_> = self
            .buckets
            .values()
            .map(|b| {
                let keys = b
                    .objects
                    .iter()
                    .filter(|(_, h)| h.last().is_some_and(|e| e.object.is_some()))
                    .map(|(k, _)| k.clone())
                    .collect();
                (b.name.clone(), b.snapshots.keys().copied().collect(), keys)
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
    /// Bucket names in name order, with their creation times.
    pub(crate) fn bucket_names(&self) -> Vec<(String, SystemTime)> {
        let mut names: Vec<_> = self
            .buckets
            .iter()
            .filter(|(id, _)| self.is_live(**id))
            .map(|(_, b)| (b.name.clone(), b.created))
            .collect();
        names.sort();
        names
    }
    #[cfg(test)]
    pub(crate) fn create_bucket(
        &mut self,
        name: &str,
        snapshots_enabled: bool,
    ) -> Result<(), StoreError> {
        self.create_bucket_with(name, snapshots_enabled, Settings::default())
    }
    /// Creates a bucket with the settings its CreateBucket headers asked for. A soft-deleted
    /// bucket keeps its name reserved.
    pub(crate) fn create_bucket_with(
        &mut self,
        name: &str,
        snapshots_enabled: bool,
        settings: Settings,
    ) -> Result<(), StoreError> {
        if self.by_name.contains_key(name) || self.deleted_buckets.contains_key(name) {
            return Err(StoreError::BucketAlreadyExists(name.to_owned()));
        }
        self.commit(Change::CreateBucket {
            id: self.next_id + 1,
            name: name.to_owned(),
            created: nanos(self.clock.now()),
            snapshots_enabled,
            fork: None,
            settings,
        })
    }
    /// Replaces a bucket's settings (journaled first).
    pub(crate) fn set_settings(
        &mut self,
        name: &str,
        settings: Settings,
    ) -> Result<(), StoreError> {
        let id = self.bucket_id(name)?;
        if self.buckets[&id].settings == settings {
            return Ok(());
        }
        self.commit(Change::Settings {
            bucket: id.0,
            settings,
        })
    }
    /// Turns snapshots on or off, as Tigris allows: not on for a bucket whose default storage
    /// class (`storage_class`, the class it will have) is GLACIER or that has lifecycle rules;
    /// not off for a fork or a bucket with forks. Existing snapshots are kept while off (and
    /// the history they read), and readable again once snapshots are back on.
    pub(crate) fn set_snapshots_enabled(
        &mut self,
        name: &str,
        on: bool,
        storage_class: &str,
    ) -> Result<(), StoreError> {
        let id = self.bucket_id(name)?;
        let b = &self.buckets[&id];
        if b.snapshots_enabled == on {
            return Ok(());
        }
        if on && storage_class == "GLACIER" {
            return Err(StoreError::Invalid(format!(
                "{name} uses the GLACIER storage class, which snapshot buckets cannot"
            )));
        }
        if on && b.lifecycle.is_some() {
            return Err(StoreError::Invalid(format!(
                "{name} has lifecycle rules, which snapshot buckets cannot"
            )));
        }
        if !on && (b.fork.is_some() || b.children > 0) {
            return Err(StoreError::Invalid(format!(
                "{name} is a fork or has forks, so its snapshots cannot be turned off"
            )));
        }
        self.commit(Change::BucketType {
            bucket: id.0,
            snapshots_enabled: on,
        })
    }
    /// Bucket names in name order.
    pub(crate) fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.by_name.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }
    /// What the store holds now.
    pub(crate) fn stats(&self) -> StoreStats {
        let mut stats = StoreStats {
            buckets: self.by_name.len() as u64,
            ..StoreStats::default()
        };
        for bucket in self.buckets.values() {
            for entry in bucket.objects.values().flatten() {
                stats.retained_versions += 1;
                stats.retained_bytes += entry.object.as_ref().map_or(0, |o| o.size());
            }
        }
        stats
    }
    /// Records a snapshot of `bucket` now. O(1).
    pub(crate) fn snapshot(
        &mut self,
        bucket: &str,
        name: Option<String>,
    ) -> Result<u64, StoreError> {
        let id = self.bucket_id(bucket)?;
        if !self.buckets[&id].snapshots_enabled {
            return Err(StoreError::NotSnapshotEnabled(bucket.to_owned()));
        }
        let version = self.next_version();
        self.commit(Change::Snapshot {
            bucket: id.0,
            version,
            name,
        })?;
        Ok(version)
    }
    pub(crate) fn snapshots(&self, bucket: &str) -> Result<Vec<SnapshotEntry>, StoreError> {
        let b = self.bucket(bucket)?;
        Ok(b.snapshots
            .iter()
            .map(|(v, n)| SnapshotEntry {
                version: *v,
                name: n.clone(),
            })
            .collect())
    }
    pub(crate) fn delete_snapshot(&mut self, bucket: &str, version: u64) -> Result<(), StoreError> {
        let id = self.bucket_id(bucket)?;
        if !self.buckets[&id].snapshots.contains_key(&version) {
            return Err(StoreError::NoSuchSnapshot(version.to_string()));
        }
        self.commit(Change::DeleteSnapshot {
            bucket: id.0,
            version,
        })
    }
    /// Deletes a bucket; without `force` it must be empty. A bucket with forks or with delete
    /// protection on is never deleted. A soft-delete bucket (or any bucket with `soft` =
    /// `Some(Some(days))`) is kept, restorable, for its window; `soft` = `Some(None)` deletes it
    /// for good whatever its setting.
    pub(crate) fn delete_bucket(
        &mut self,
        name: &str,
        force: bool,
        soft: Option<Option<u32>>,
    ) -> Result<(), StoreError> {
        let id = self.bucket_id(name)?;
        let bucket = &self.buckets[&id];
        if bucket.settings.protected {
            return Err(StoreError::BucketProtected(name.to_owned()));
        }
        if bucket.children > 0 {
            return Err(StoreError::BucketHasForks(name.to_owned()));
        }
        if !force && self.first_visible(id, LIVE).is_some() {
            return Err(StoreError::BucketNotEmpty(name.to_owned()));
        }
        if let Some(days) = soft.unwrap_or(self.buckets[&id].soft_delete) {
            return self.soft_delete_bucket(id, days);
        }
        self.commit(Change::DeleteBucket {
            id: id.0,
            name: name.to_owned(),
        })
    }
    /// What `bucket` shows now (its own objects and what it reads through to) and what its own
    /// level keeps: (visible objects, their bytes, retained versions).
    pub(crate) fn size_estimate(&self, bucket: &str) -> Result<(u64, u64, u64), StoreError> {
        let id = self.bucket_id(bucket)?;
        let (mut objects, mut bytes) = (0, 0);
        let mut after: Option<String> = None;
        loop {
            let query = ListQuery {
                after: after.as_deref(),
                max_keys: 1000,
                version: LIVE,
                ..ListQuery::default()
            };
            let page = self.list_id(id, &query);
            objects += page.objects.len() as u64;
            bytes += page.objects.iter().map(|(_, o)| o.size()).sum::<u64>();
            if !page.is_truncated {
                break;
            }
            after = page.next_marker;
        }
        let rows = self.buckets[&id]
            .objects
            .values()
            .map(|h| h.len() as u64)
            .sum();
        Ok((objects, bytes, rows))
    }
}
