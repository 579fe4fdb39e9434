//! The in-memory, versioned, layered object store behind the emulator. With a data directory
//! each change is also a [`Change`] journaled before it is applied (see `persist.rs` and `change.rs`).
//!
//! Every write gets a version from one monotonic clock (nanoseconds since the Unix epoch, bumped
//! when two writes land in the same nanosecond), and a snapshot-enabled bucket keeps each key's
//! history. A snapshot is therefore just a version number, and a fork is an empty bucket whose
//! reads fall through to its parent *as of* the fork version: both are O(1) whatever the object
//! count, and nothing is copied. Reads resolve a key level by level (the bucket itself, then its
//! parent capped at the fork version, and so on up the chain); the first level with an entry at
//! or before its cap decides, and a tombstone there hides the key.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::store::persist::{Journal, RecordRef};
use crate::store::settings::Settings;

mod buckets;
mod change;
mod extra;
mod forks;
pub(crate) mod group;
mod lifecycle;
mod list;
mod model;
pub(crate) mod multipart;
pub(crate) mod persist;
pub(crate) mod query;
mod read;
pub(crate) mod settings;
mod soft_delete;
mod touched;
mod versions;
mod view;
mod write;
pub(crate) use change::*;
pub(crate) use extra::{
    ARCHIVE_CLASS, ArchiveRestore, BucketExtra, CorsRule, ObjectExtra, RestoreState,
};
pub(crate) use list::*;
pub(crate) use model::*;
pub(crate) use soft_delete::{DEFAULT_RETENTION_DAYS, check_retention};
use soft_delete::{Deleted, DeletedBucket};
pub(crate) use touched::Touch;
pub(crate) use versions::VersionDeleted;
pub(crate) use view::{BucketView, DiffRow, Kind as DiffKind, time_of};

/// Counts of what the store holds, for tests and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct StoreStats {
    /// Buckets, forks included.
    pub(crate) buckets: u64,
    /// History entries kept across all keys of all buckets (objects and deletions).
    pub(crate) retained_versions: u64,
    /// Bytes of object data those entries hold (shared bytes counted once per entry).
    pub(crate) retained_bytes: u64,
}

/// Why a store operation was refused; mapped to S3 error codes by the S3 layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StoreError {
    NoSuchBucket(String),
    NoSuchKey(String),
    BucketAlreadyExists(String),
    BucketNotEmpty(String),
    BucketHasForks(String),
    /// Delete protection is on.
    BucketProtected(String),
    NotSnapshotEnabled(String),
    NoSuchSnapshot(String),
    /// An object version id that names no stored version of the key.
    NoSuchVersion(String),
    Invalid(String),
    /// The data directory could not be written, or (at startup) its journal does not replay.
    Storage(String),
}

/// All buckets, by id and by name, and the version clock.
#[derive(Debug, Default)]
pub(crate) struct Store {
    by_name: HashMap<String, BucketId>,
    buckets: HashMap<BucketId, Bucket>,
    next_id: u64,
    last_version: u64,
    /// Where changes are recorded before they are applied, with a data directory.
    journal: Option<std::sync::Arc<Journal>>,
    /// Versions whose objects the change being applied dropped, until their bodies are deleted.
    freed: Vec<u64>,
    /// Body sizes and MD5s of the objects replayed from the journal, by version, until their
    /// bodies load.
    replayed: HashMap<u64, (u64, Option<String>)>,
    /// Storage time: versions, creation times and `Last-Modified` read it.
    clock: crate::clock::Clock,
    /// Soft-deleted buckets by name (one per name: the newest deletion), kept in `buckets`.
    deleted_buckets: BTreeMap<String, DeletedBucket>,
    /// Versions soft-deleted entries hold, with how many hold each: their bodies stay.
    held: HashMap<u64, usize>,
    /// PUTs whose records are with the journal's committer, in journal order (see `group.rs`).
    pending: std::collections::VecDeque<group::Pending>,
}

impl Store {
    /// The next version: wall-clock nanoseconds, strictly increasing.
    pub(crate) fn next_version(&mut self) -> u64 {
        let now = nanos(self.clock.now());
        self.last_version = now.max(self.last_version + 1);
        self.last_version
    }

    /// The clock this store stamps writes with.
    pub(crate) fn set_clock(&mut self, clock: crate::clock::Clock) {
        self.clock = clock;
    }

    pub(crate) fn bucket_id(&self, name: &str) -> Result<BucketId, StoreError> {
        self.by_name
            .get(name)
            .copied()
            .ok_or_else(|| StoreError::NoSuchBucket(name.to_owned()))
    }

    /// The name of bucket `id` (live or soft-deleted), while the store holds it.
    pub(crate) fn name_of(&self, id: u64) -> Option<String> {
        self.buckets.get(&BucketId(id)).map(|b| b.name.clone())
    }

    pub(crate) fn bucket(&self, name: &str) -> Result<&Bucket, StoreError> {
        let id = self.bucket_id(name)?;
        Ok(&self.buckets[&id])
    }

    /// Sets (or with `None` removes) a bucket's lifecycle configuration: journaled, then applied.
    /// A snapshot-enabled bucket stores it too (Tigris accepts the call there) but never applies
    /// it: see [`Store::apply_lifecycle`].
    pub(crate) fn set_lifecycle(
        &mut self,
        name: &str,
        config: Option<s3s::dto::BucketLifecycleConfiguration>,
    ) -> Result<(), StoreError> {
        let id = self.bucket_id(name)?;
        if self.journal.is_some() {
            let xml = config.as_ref().map(lifecycle_xml).transpose()?;
            self.log(&Change::Lifecycle { bucket: id.0, xml })?;
        }
        self.buckets
            .get_mut(&id)
            .expect("by_name and buckets agree")
            .lifecycle = config;
        Ok(())
    }

    /// Changes a bucket's S3 configuration (tags, CORS, ...): journaled, then applied.
    pub(crate) fn set_bucket_extra(
        &mut self,
        name: &str,
        f: impl FnOnce(&mut BucketExtra),
    ) -> Result<(), StoreError> {
        let id = self.bucket_id(name)?;
        let mut extra = self.buckets[&id].extra.clone();
        f(&mut extra);
        self.commit(Change::BucketExtra {
            bucket: id.0,
            extra,
        })
    }

    /// Rewrites the live object of `key` with its extras changed by `f` (tags, ACL): same
    /// body, ETag and Last-Modified, as S3 keeps them for these sub-resources.
    pub(crate) fn update_extra(
        &mut self,
        bucket: &str,
        key: &str,
        f: impl FnOnce(&mut ObjectExtra),
    ) -> Result<(), StoreError> {
        let mut object = (*self.get(bucket, key, LIVE)?).clone();
        f(&mut object.extra);
        self.write_stamped(bucket, key, Some(object), false)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
