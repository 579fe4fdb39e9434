//! Object versions by id: DeleteObject / DeleteObjects with a version id drop that version (as
//! S3 does, and from every snapshot, as Tigris documents), and a fork's version listing shows
//! the objects it inherits, so a fork can be emptied the way S3 clients empty a bucket.
//!
//! A fork shows a key from its own history, else the object its parent shows at the fork's
//! base (the *inherited* version). Deleting the inherited version in the fork records a
//! deletion at the bottom of the fork's own history (a *floor*): the fork no longer shows it,
//! whatever the fork writes or deletes above. A floor is the fork's record that it deleted
//! what it inherited; it is not listed as a delete marker, so nothing can bring the inherited
//! version back. A plain delete in a fork of a key it never wrote is such a floor too.

use std::ops::Bound;

use super::soft_delete::DAY_NANOS;
use super::soft_delete::HistoryVersion;
use super::{BucketId, Change, LIVE, Store, StoreError};

/// What deleting a version found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VersionDeleted {
    /// An object version, dropped (or soft-deleted, when soft delete is on).
    Object,
    /// A delete marker, dropped: the version below it is visible again.
    DeleteMarker,
    /// An inherited version, hidden in the fork.
    Inherited,
    /// No listed version of the key has this id; nothing changed.
    Missing,
}

impl Store {
    /// The version of `key` that bucket `id` inherits from its parent (an object), if any.
    fn inherited(&self, id: BucketId, key: &str) -> Option<u64> {
        self.levels(id, LIVE)
            .into_iter()
            .skip(1)
            .find_map(|(level, cap)| level.entry_here(key, cap))
            .filter(|e| e.object.is_some())
            .map(|e| e.version)
    }

    /// Drops `version` of `key` from `bucket` (see the module docs for forks). Soft delete on
    /// the bucket keeps a dropped object version restorable for its window.
    pub(crate) fn delete_version(
        &mut self,
        bucket: &str,
        key: &str,
        version: u64,
    ) -> Result<VersionDeleted, StoreError> {
        self.expire()?;
        let id = self.bucket_id(bucket)?;
        let b = &self.buckets[&id];
        let is_fork = b.fork.is_some();
        let own = b.objects.get(key).map(Vec::as_slice).unwrap_or_default();
        let floor = own.first().filter(|e| is_fork && e.object.is_none());
        if let Some(entry) = own.iter().find(|e| e.version == version) {
            if floor.is_some_and(|f| f.version == version) {
                return Ok(VersionDeleted::Missing);
            }
            let found = if entry.object.is_some() {
                VersionDeleted::Object
            } else {
                VersionDeleted::DeleteMarker
            };
            let deleted_at = self.now_nanos();
            let expires_at = (entry.object.is_some())
                .then_some(b.soft_delete)
                .flatten()
                .map(|days| deleted_at.saturating_add(u64::from(days) * DAY_NANOS));
            self.commit(Change::DeleteVersion {
                bucket: id.0,
                key: key.to_owned(),
                version,
                deleted_at,
                expires_at,
            })?;
            return Ok(found);
        }
        if !is_fork || floor.is_some() || self.inherited(id, key) != Some(version) {
            return Ok(VersionDeleted::Missing);
        }
        let tombstone = match own.first() {
            Some(oldest) => oldest.version - 1,
            None => self.next_version(),
        };
        self.commit(Change::HideInherited {
            bucket: id.0,
            key: key.to_owned(),
            tombstone,
        })?;
        Ok(VersionDeleted::Inherited)
    }

    /// Applies [`Change::DeleteVersion`].
    pub(super) fn apply_delete_version(
        &mut self,
        bucket: u64,
        key: String,
        version: u64,
        deleted_at: u64,
        expires_at: Option<u64>,
    ) -> Result<(), StoreError> {
        let level = self.level_mut(bucket)?;
        let has_parent = level.fork.is_some();
        let missing = || {
            StoreError::Storage(format!(
                "the journal deletes {key} version {version}, which is not kept"
            ))
        };
        let history = level.objects.get_mut(&key).ok_or_else(missing)?;
        let at = history
            .iter()
            .position(|e| e.version == version)
            .ok_or_else(missing)?;
        let entry = history.remove(at);
        if !has_parent {
            // A deletion with nothing older beneath it reads the same as no entry at all.
            let leading = history.iter().take_while(|e| e.object.is_none()).count();
            history.drain(..leading);
        }
        if history.is_empty() {
            level.objects.remove(&key);
        }
        if let Some(object) = entry.object {
            match expires_at {
                Some(expires_at) => {
                    self.level_mut(bucket)?
                        .deleted
                        .entry(key)
                        .or_default()
                        .push(super::soft_delete::Deleted {
                            version,
                            object,
                            deleted_at,
                            expires_at,
                        });
                    self.hold(version);
                }
                None => self.freed.push(version),
            }
        }
        Ok(())
    }

    /// Applies [`Change::HideInherited`].
    pub(super) fn apply_hide_inherited(
        &mut self,
        bucket: u64,
        key: String,
        tombstone: u64,
    ) -> Result<(), StoreError> {
        self.last_version = self.last_version.max(tombstone);
        let history = self.level_mut(bucket)?.objects.entry(key).or_default();
        let at = history.partition_point(|e| e.version < tombstone);
        history.insert(
            at,
            super::Entry {
                version: tombstone,
                object: None,
            },
        );
        Ok(())
    }

    /// The versions a plain ListObjectVersions shows for keys of `bucket` under `prefix`, in key
    /// order, newest first: the bucket's own history and, for a fork, the version it inherits
    /// (below its own, unless a floor hides it). A fork's floor is not listed.
    pub(crate) fn listed_versions(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<HistoryVersion>, StoreError> {
        let id = self.bucket_id(bucket)?;
        let b = &self.buckets[&id];
        let Some(point) = &b.fork else {
            return self.own_versions(bucket, prefix);
        };
        let inherited: std::collections::BTreeMap<String, std::sync::Arc<super::Object>> =
            self.visible(point.parent, point.parent_cap(LIVE), prefix);
        let own = b
            .objects
            .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix));
        let mut keys: Vec<&String> = own.map(|(k, _)| k).chain(inherited.keys()).collect();
        keys.sort_unstable();
        keys.dedup();
        let mut out = Vec::new();
        for key in keys {
            let history = b.objects.get(key).map(Vec::as_slice).unwrap_or_default();
            let floored = history.first().is_some_and(|e| e.object.is_none());
            let listed = if floored { &history[1..] } else { history };
            for (i, e) in listed.iter().rev().enumerate() {
                out.push(HistoryVersion {
                    key: key.clone(),
                    version: e.version,
                    object: e.object.clone(),
                    is_latest: i == 0,
                });
            }
            if !floored
                && let Some(object) = inherited.get(key)
                && let Some(version) = self.inherited(id, key)
            {
                out.push(HistoryVersion {
                    key: key.clone(),
                    version,
                    object: Some(std::sync::Arc::clone(object)),
                    is_latest: listed.is_empty(),
                });
            }
        }
        Ok(out)
    }
}
