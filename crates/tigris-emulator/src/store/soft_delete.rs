//! Soft delete: deleted objects and buckets kept, restorable, for a retention window.
//!
//! A delete in a soft-delete bucket writes the usual deletion and keeps the object it hid as a
//! deleted version (its version id is the write's version) until the window set when it was
//! deleted ends. A deleted soft-delete bucket leaves its name free and stays in the store, with
//! its objects, until its window ends. Windows end by the store's clock; [`Store::expire`] drops
//! what is due, as one journaled change, so a replay drops the same things.

use super::*;

/// Nanoseconds in a day.
pub(super) const DAY_NANOS: u64 = 86_400 * 1_000_000_000;

/// The retention Tigris allows, in days, and what `X-Tigris-Soft-Delete: true` means.
pub(crate) const MIN_RETENTION_DAYS: u32 = 7;
pub(crate) const MAX_RETENTION_DAYS: u32 = 90;
pub(crate) const DEFAULT_RETENTION_DAYS: u32 = 7;

/// A soft-deleted version of a key.
#[derive(Debug, Clone)]
pub(super) struct Deleted {
    /// The version of the write that made the object (its version id).
    pub(super) version: u64,
    pub(super) object: Arc<Object>,
    pub(super) deleted_at: u64,
    pub(super) expires_at: u64,
}

/// A soft-deleted bucket, still in `Store::buckets` under its id.
#[derive(Debug, Clone)]
pub(super) struct DeletedBucket {
    pub(super) id: BucketId,
    deleted_at: u64,
    expires_at: u64,
}

/// A deleted version as the soft-delete listings show it.
#[derive(Debug, Clone)]
pub(crate) struct DeletedVersion {
    pub(crate) key: String,
    pub(crate) version: u64,
    pub(crate) object: Arc<Object>,
    /// Whether this is the key's most recently deleted version.
    pub(crate) is_latest: bool,
}

/// A soft-deleted bucket as the deleted-bucket listing shows it.
#[derive(Debug, Clone)]
pub(crate) struct DeletedBucketInfo {
    pub(crate) name: String,
    pub(crate) created: SystemTime,
    pub(crate) deleted_at: SystemTime,
    pub(crate) retention_days: Option<u32>,
}

/// Why a soft-delete retention was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SoftDeleteError(pub(crate) String);

/// Checks a retention in days against Tigris's 7–90.
pub(crate) fn check_retention(days: u32) -> Result<u32, SoftDeleteError> {
    if (MIN_RETENTION_DAYS..=MAX_RETENTION_DAYS).contains(&days) {
        Ok(days)
    } else {
        Err(SoftDeleteError(format!(
            "retention_days must be between {MIN_RETENTION_DAYS} and {MAX_RETENTION_DAYS}, got {days}"
        )))
    }
}

impl Store {
    pub(super) fn now_nanos(&self) -> u64 {
        nanos(self.clock.now())
    }

    /// Turns soft delete on with a retention in days, or off with `None`. Objects and buckets
    /// already deleted keep the window they were deleted with.
    pub(crate) fn set_soft_delete(
        &mut self,
        bucket: &str,
        retention_days: Option<u32>,
    ) -> Result<(), StoreError> {
        let id = self.bucket_id(bucket)?;
        self.commit(Change::SoftDeleteSetting {
            bucket: id.0,
            retention_days,
        })
    }

    /// Deletes the live object of `key` in bucket `id`, keeping it for `days`.
    pub(super) fn soft_delete_object(
        &mut self,
        id: BucketId,
        key: &str,
        days: u32,
    ) -> Result<(), StoreError> {
        let version = self
            .levels(id, LIVE)
            .into_iter()
            .find_map(|(level, cap)| level.entry_here(key, cap))
            .filter(|e| e.object.is_some())
            .map(|e| e.version)
            .ok_or_else(|| StoreError::NoSuchKey(key.to_owned()))?;
        let tombstone = self.next_version();
        self.commit(Change::SoftDeleteObject {
            bucket: id.0,
            key: key.to_owned(),
            version,
            tombstone,
            expires_at: tombstone.saturating_add(u64::from(days) * DAY_NANOS),
        })
    }

    /// Deletes bucket `id` but keeps it, with its objects, for `days`; its name stays reserved
    /// meanwhile (creating it again is `BucketAlreadyExists`), so one deleted bucket per name.
    pub(super) fn soft_delete_bucket(&mut self, id: BucketId, days: u32) -> Result<(), StoreError> {
        let now = self.now_nanos();
        self.commit(Change::SoftDeleteBucket {
            id: id.0,
            deleted_at: now,
            expires_at: now.saturating_add(u64::from(days) * DAY_NANOS),
        })
    }

    /// Makes the soft-deleted bucket `name` live again, with everything it held.
    pub(crate) fn restore_bucket(&mut self, name: &str) -> Result<(), StoreError> {
        self.expire()?;
        if self.by_name.contains_key(name) {
            return Err(StoreError::Invalid(format!(
                "the bucket {name} is live; only a deleted bucket can be restored"
            )));
        }
        let id = self
            .deleted_buckets
            .get(name)
            .map(|d| d.id)
            .ok_or_else(|| StoreError::NoSuchBucket(name.to_owned()))?;
        self.commit(Change::RestoreBucket { id: id.0 })
    }

    /// The soft-deleted buckets whose window has not ended, in name order.
    pub(crate) fn deleted_buckets(&self) -> Vec<DeletedBucketInfo> {
        let now = self.now_nanos();
        self.deleted_buckets
            .iter()
            .filter(|(_, d)| d.expires_at > now)
            .map(|(name, d)| {
                let b = &self.buckets[&d.id];
                DeletedBucketInfo {
                    name: name.clone(),
                    created: b.created,
                    deleted_at: version_time(d.deleted_at),
                    retention_days: u32::try_from((d.expires_at - d.deleted_at) / DAY_NANOS).ok(),
                }
            })
            .collect()
    }

    /// The deleted versions of `bucket`'s keys under `prefix` whose window has not ended, in
    /// key order, each key's most recent deletion first.
    pub(crate) fn deleted_versions(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<DeletedVersion>, StoreError> {
        let b = self.bucket(bucket)?;
        let now = self.now_nanos();
        let mut out = Vec::new();
        for (key, versions) in b
            .deleted
            .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
        {
            if !key.starts_with(prefix) {
                break;
            }
            let mut latest = true;
            for d in versions.iter().rev().filter(|d| d.expires_at > now) {
                out.push(DeletedVersion {
                    key: key.clone(),
                    version: d.version,
                    object: Arc::clone(&d.object),
                    is_latest: latest,
                });
                latest = false;
            }
        }
        Ok(out)
    }

    /// The deleted version of `key` that `version` names, or its most recent deletion.
    fn find_deleted(
        &self,
        id: BucketId,
        key: &str,
        version: Option<u64>,
    ) -> Result<&Deleted, StoreError> {
        let now = self.now_nanos();
        let mut live = self.buckets[&id]
            .deleted
            .get(key)
            .into_iter()
            .flatten()
            .rev()
            .filter(|d| d.expires_at > now);
        match version {
            None => live
                .next()
                .ok_or_else(|| StoreError::NoSuchKey(format!("{key} (no deleted version)"))),
            Some(v) => live.find(|d| d.version == v).ok_or_else(|| {
                StoreError::NoSuchVersion(format!("{key} has no deleted version {v}"))
            }),
        }
    }

    /// Writes a deleted version of `key` back as its live object (a new write, stamped now)
    /// and drops it from the deleted versions. Returns the new write's version.
    pub(crate) fn restore_deleted(
        &mut self,
        bucket: &str,
        key: &str,
        version: Option<u64>,
    ) -> Result<u64, StoreError> {
        self.expire()?;
        let id = self.bucket_id(bucket)?;
        let deleted = self.find_deleted(id, key, version)?;
        let (deleted_version, object) = (deleted.version, Object::clone(&deleted.object));
        // The write and the purge are one record: a crash never leaves the object both live
        // and listed as deleted.
        let (put, write) = self.prepare_write(bucket, key, Some(object), true)?;
        let purge = Change::PurgeDeleted {
            bucket: id.0,
            key: key.to_owned(),
            version: deleted_version,
        };
        self.log_or_unwrite(&Change::Batch(vec![put, purge.clone()]), &[&write])?;
        let new_version = self.finish_write(write);
        self.apply(purge)?;
        Ok(new_version)
    }

    /// Drops one deleted version of `key` for good.
    pub(crate) fn purge_deleted(
        &mut self,
        bucket: &str,
        key: &str,
        version: u64,
    ) -> Result<(), StoreError> {
        self.expire()?;
        let id = self.bucket_id(bucket)?;
        self.find_deleted(id, key, Some(version))?;
        self.commit(Change::PurgeDeleted {
            bucket: id.0,
            key: key.to_owned(),
            version,
        })
    }

    /// Drops every deleted version and bucket whose window has ended by the store's clock.
    pub(crate) fn expire(&mut self) -> Result<(), StoreError> {
        let now = self.now_nanos();
        let due = self.deleted_buckets.values().any(|d| d.expires_at <= now)
            || self
                .buckets
                .values()
                .flat_map(|b| b.deleted.values().flatten())
                .any(|d| d.expires_at <= now);
        if due {
            self.commit(Change::Expire { now })?;
        }
        Ok(())
    }

    /// One fewer soft-deleted entry holds `version` of `key`; when none does and no level from
    /// `start` up its chain still has it, its body is freed.
    pub(super) fn release_hold(&mut self, start: Option<BucketId>, key: &str, version: u64) {
        let Some(count) = self.held.get_mut(&version) else {
            return;
        };
        *count -= 1;
        if *count > 0 {
            return;
        }
        self.held.remove(&version);
        let mut current = start;
        while let Some(id) = current {
            let Some(level) = self.buckets.get(&id) else {
                break;
            };
            if level
                .objects
                .get(key)
                .is_some_and(|h| h.iter().any(|e| e.version == version))
            {
                return;
            }
            current = level.fork.as_ref().map(|f| f.parent);
        }
        self.freed.push(version);
    }

    pub(super) fn hold(&mut self, version: u64) {
        *self.held.entry(version).or_default() += 1;
    }

    /// Applies one of the soft-delete changes (see [`Change`]).
    pub(super) fn apply_soft(&mut self, change: Change) -> Result<(), StoreError> {
        match change {
            Change::SoftDeleteSetting {
                bucket,
                retention_days,
            } => self.level_mut(bucket)?.soft_delete = retention_days,
            Change::SoftDeleteObject {
                bucket,
                key,
                version,
                tombstone,
                expires_at,
            } => {
                self.level_mut(bucket)?;
                let object = self
                    .levels(BucketId(bucket), LIVE)
                    .into_iter()
                    .find_map(|(level, cap)| level.entry_here(&key, cap))
                    .filter(|e| e.version == version)
                    .and_then(|e| e.object.clone())
                    .ok_or_else(|| {
                        StoreError::Storage(format!(
                            "the journal soft-deletes {key} version {version}, which is not live"
                        ))
                    })?;
                self.last_version = self.last_version.max(tombstone);
                self.hold(version);
                self.level_mut(bucket)?
                    .deleted
                    .entry(key.clone())
                    .or_default()
                    .push(Deleted {
                        version,
                        object,
                        deleted_at: tombstone,
                        expires_at,
                    });
                let entry = Entry {
                    version: tombstone,
                    object: None,
                };
                self.put_entry(BucketId(bucket), &key, entry);
            }
            Change::DeletedRetained {
                bucket,
                key,
                version,
                deleted_at,
                expires_at,
                object,
            } => {
                self.replayed.insert(version, object.expected());
                let object = Arc::new(object.into_object());
                self.hold(version);
                self.level_mut(bucket)?
                    .deleted
                    .entry(key)
                    .or_default()
                    .push(Deleted {
                        version,
                        object,
                        deleted_at,
                        expires_at,
                    });
            }
            Change::PurgeDeleted {
                bucket,
                key,
                version,
            } => {
                let level = self.level_mut(bucket)?;
                let versions = level.deleted.get_mut(&key);
                let at = versions
                    .as_ref()
                    .and_then(|v| v.iter().position(|d| d.version == version))
                    .ok_or_else(|| {
                        StoreError::Storage(format!(
                            "the journal purges {key} version {version}, which is not deleted"
                        ))
                    })?;
                if let Some(versions) = versions {
                    versions.remove(at);
                    if versions.is_empty() {
                        level.deleted.remove(&key);
                    }
                }
                self.release_hold(Some(BucketId(bucket)), &key, version);
            }
            Change::SoftDeleteBucket {
                id,
                deleted_at,
                expires_at,
            } => {
                let name = self.level_mut(id)?.name.clone();
                if self.by_name.get(&name) == Some(&BucketId(id)) {
                    self.by_name.remove(&name);
                }
                self.deleted_buckets.insert(
                    name,
                    DeletedBucket {
                        id: BucketId(id),
                        deleted_at,
                        expires_at,
                    },
                );
            }
            Change::RestoreBucket { id } => {
                let name = self.level_mut(id)?.name.clone();
                self.deleted_buckets.remove(&name);
                self.by_name.insert(name, BucketId(id));
            }
            Change::Expire { now } => {
                let due: Vec<u64> = self
                    .deleted_buckets
                    .values()
                    .filter(|d| d.expires_at <= now)
                    .map(|d| d.id.0)
                    .collect();
                for id in due {
                    self.drop_bucket(id)?;
                }
                let mut released = Vec::new();
                for (id, bucket) in &mut self.buckets {
                    bucket.deleted.retain(|key, versions| {
                        versions.retain(|d| {
                            let keep = d.expires_at > now;
                            if !keep {
                                released.push((*id, key.clone(), d.version));
                            }
                            keep
                        });
                        !versions.is_empty()
                    });
                }
                for (id, key, version) in released {
                    self.release_hold(Some(id), &key, version);
                }
            }
            other => {
                return Err(StoreError::Storage(format!(
                    "not a soft-delete change: {other:?}"
                )));
            }
        }
        Ok(())
    }

    /// The records that rebuild bucket `id`'s soft-delete state (after its other records).
    pub(super) fn checkpoint_soft(&self, id: BucketId, changes: &mut Vec<Change>) {
        let b = &self.buckets[&id];
        if b.soft_delete.is_some() {
            changes.push(Change::SoftDeleteSetting {
                bucket: id.0,
                retention_days: b.soft_delete,
            });
        }
        for (key, versions) in &b.deleted {
            for d in versions {
                changes.push(Change::DeletedRetained {
                    bucket: id.0,
                    key: key.clone(),
                    version: d.version,
                    deleted_at: d.deleted_at,
                    expires_at: d.expires_at,
                    object: ObjectRecord::of(&d.object),
                });
            }
        }
        if let Some(d) = self.deleted_buckets.get(&b.name).filter(|d| d.id == id) {
            changes.push(Change::SoftDeleteBucket {
                id: id.0,
                deleted_at: d.deleted_at,
                expires_at: d.expires_at,
            });
        }
    }
}

/// One entry of a bucket's own history, as a plain ListObjectVersions shows it.
#[derive(Debug, Clone)]
pub(crate) struct HistoryVersion {
    pub(crate) key: String,
    pub(crate) version: u64,
    /// `None` for a deletion (a delete marker).
    pub(crate) object: Option<Arc<Object>>,
    pub(crate) is_latest: bool,
}

impl Store {
    /// The history `bucket`'s own level keeps for keys under `prefix`, in key order, newest
    /// first. A fork's entries only: what it reads through to its parent is the parent's.
    pub(crate) fn own_versions(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<HistoryVersion>, StoreError> {
        let b = self.bucket(bucket)?;
        let mut out = Vec::new();
        for (key, history) in b
            .objects
            .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
        {
            if !key.starts_with(prefix) {
                break;
            }
            for (i, e) in history.iter().rev().enumerate() {
                out.push(HistoryVersion {
                    key: key.clone(),
                    version: e.version,
                    object: e.object.clone(),
                    is_latest: i == 0,
                });
            }
        }
        Ok(out)
    }
}
