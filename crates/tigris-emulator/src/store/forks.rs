//! Forks: creating a fork at a version of its parent, the pins that keep that version readable,
//! merge of a fork into its parent and rebase onto the parent's present.

use super::*;

impl Store {
    /// Creates `name` as a copy-on-write fork of `source`, as of `at` or of now. O(1).
    pub(crate) fn fork_bucket(
        &mut self,
        name: &str,
        source: &str,
        at: Option<u64>,
    ) -> Result<u64, StoreError> {
        if self.by_name.contains_key(name) || self.deleted_buckets.contains_key(name) {
            return Err(StoreError::BucketAlreadyExists(name.to_owned()));
        }
        let parent = self.bucket_id(source)?;
        if !self.buckets[&parent].snapshots_enabled {
            return Err(StoreError::NotSnapshotEnabled(source.to_owned()));
        }
        let version = match at {
            Some(v) => {
                if v > self.last_version {
                    return Err(StoreError::Invalid(format!(
                        "snapshot version {v} is in the future"
                    )));
                }
                v
            }
            None => self.next_version(),
        };
        self.commit(Change::CreateBucket {
            id: self.next_id + 1,
            name: name.to_owned(),
            created: nanos(self.clock.now()),
            snapshots_enabled: true,
            fork: Some(ForkRecord {
                parent: parent.0,
                parent_name: source.to_owned(),
                version,
                earlier: Vec::new(),
                merged: None,
            }),
            settings: Settings::default(),
        })?;
        Ok(version)
    }
    /// The versions at which reads of bucket `id` must keep working, ascending: its snapshots,
    /// the fork points of its forks, and (capped at the fork point) whatever those forks pin.
    pub(super) fn pins(&self, id: BucketId) -> Vec<u64> {
        let mut pins: Vec<u64> = self.buckets[&id].snapshots.keys().copied().collect();
        if self.buckets[&id].children > 0 {
            for (child_id, child) in &self.buckets {
                if let Some(fork) = &child.fork
                    && fork.parent == id
                {
                    pins.push(fork.version);
                    pins.extend(self.pins(*child_id).into_iter().map(|p| fork.parent_cap(p)));
                }
            }
        }
        pins.sort_unstable();
        pins.dedup();
        pins
    }
    /// Frees what bucket `id` and the buckets its reads fall through to no longer reach.
    pub(super) fn collect_chain(&mut self, id: BucketId) {
        let mut current = Some(id);
        while let Some(id) = current {
            let pins = self.pins(id);
            let Some(bucket) = self.buckets.get_mut(&id) else {
                return;
            };
            // A bucket whose snapshots were turned off may still hold their history.
            bucket.prune_all(&pins, &mut self.freed);
            current = bucket.fork.as_ref().map(|f| f.parent);
        }
    }
    /// Writes the changes `fork` made since it was made (or last merged) into `into`, its direct
    /// parent, as new versions there, then snapshots the parent; returns the snapshot version.
    ///
    /// Per key the fork changed, the fork's state wins: its object is put, or, if it deleted
    /// the key, the parent's is deleted. Costs O(keys the fork wrote), whatever the parent
    /// holds: only the fork's own level is walked.
    pub(crate) fn merge_fork(&mut self, fork: &str, into: &str) -> Result<u64, StoreError> {
        let changed = self.merge_changes(fork, into)?;
        let (fork_id, parent_id) = (self.bucket_id(fork)?, self.bucket_id(into)?);
        let now = nanos(self.clock.now());
        let mut writes = Vec::with_capacity(changed.len());
        for (key, object) in changed {
            let version = self.next_version();
            if let (Some(journal), Some(o)) = (&self.journal, &object) {
                journal
                    .write_body(version, &o.data)
                    .map_err(|e| StoreError::Storage(e.to_string()))?;
            }
            writes.push(MergedWrite {
                key,
                version,
                object: object.map(|o| ObjectRecord {
                    last_modified: now,
                    ..ObjectRecord::of(&o)
                }),
            });
        }
        let snapshot = self.next_version();
        self.commit(Change::Merge {
            fork: fork_id.0,
            parent: parent_id.0,
            writes,
            snapshot,
        })?;
        Ok(snapshot)
    }
    pub(super) fn apply_merge(
        &mut self,
        fork: BucketId,
        parent: BucketId,
        writes: Vec<MergedWrite>,
        snapshot: u64,
    ) -> Result<(), StoreError> {
        self.level_mut(fork.0)?;
        self.level_mut(parent.0)?;
        for write in writes {
            self.last_version = self.last_version.max(write.version);
            let object = write.object.map(|record| {
                // Live, the fork's object is in memory and its bytes are shared; in a replay
                // they are not loaded yet, and `load_bodies` reads this version's own file.
                let data = self.buckets[&fork]
                    .objects
                    .get(&write.key)
                    .and_then(|h| h.last())
                    .and_then(|e| e.object.as_ref())
                    .filter(|o| o.etag == record.etag)
                    .map(|o| o.data.clone())
                    .unwrap_or_default();
                if data.len() as u64 != record.size {
                    self.replayed.insert(write.version, record.expected());
                }
                let mut object = record.into_object();
                object.data = data;
                Arc::new(object)
            });
            let entry = Entry {
                version: write.version,
                object,
            };
            self.put_entry(parent, &write.key, entry);
        }
        self.last_version = self.last_version.max(snapshot);
        self.level_mut(parent.0)?.snapshots.insert(snapshot, None);
        if let Some(point) = self.level_mut(fork.0)?.fork.as_mut() {
            point.merged = snapshot;
        }
        Ok(())
    }
    /// Moves `fork`'s base to its parent's present; the fork's own writes stay on top. Returns
    /// the new base version. Reads of the fork at its older snapshots still see the old base.
    pub(crate) fn rebase_fork(&mut self, fork: &str) -> Result<u64, StoreError> {
        let id = self.bucket_id(fork)?;
        if self.buckets[&id].fork.is_none() {
            return Err(StoreError::Invalid(format!(
                "{fork} is not a fork; only a fork can be rebased"
            )));
        }
        let version = self.next_version();
        self.commit(Change::Rebase {
            fork: id.0,
            version,
        })?;
        Ok(version)
    }
    /// Where `bucket` comes from, its direct parent first, then that parent's parent, and so on.
    pub(crate) fn lineage(&self, bucket: &str) -> Result<Vec<Lineage>, StoreError> {
        let mut current = &self.buckets[&self.bucket_id(bucket)?];
        let mut lineage = Vec::new();
        while let Some(point) = &current.fork {
            let parent = &self.buckets[&point.parent];
            lineage.push(Lineage {
                parent: parent.name.clone(),
                forked_at: current.created,
                snapshot: point.version,
                snapshot_name: parent.snapshots.get(&point.version).cloned().flatten(),
            });
            current = parent;
        }
        Ok(lineage)
    }
    /// The names of the buckets forked directly from `source`, in name order.
    pub(crate) fn forks_of(&self, source: &str) -> Result<Vec<String>, StoreError> {
        let id = self.bucket_id(source)?;
        let mut names: Vec<String> = self
            .buckets
            .iter()
            .filter(|(child, b)| {
                self.is_live(**child) && b.fork.as_ref().is_some_and(|f| f.parent == id)
            })
            .map(|(_, b)| b.name.clone())
            .collect();
        names.sort_unstable();
        Ok(names)
    }
}
