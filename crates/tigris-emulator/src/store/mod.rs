//! The in-memory, versioned, layered object store behind the emulator. With a data directory
//! each change is also a [`Change`] journaled before it is applied (see `persist.rs`).
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

mod extra;
pub(crate) mod group;
pub(crate) mod multipart;
pub(crate) mod persist;
pub(crate) mod settings;
mod soft_delete;
mod touched;
mod versions;
mod view;
pub(crate) use extra::{BucketExtra, CorsRule, ObjectExtra};
pub(crate) use soft_delete::{DEFAULT_RETENTION_DAYS, check_retention};
use soft_delete::{Deleted, DeletedBucket};
pub(crate) use touched::Touch;
pub(crate) use versions::VersionDeleted;
pub(crate) use view::{BucketView, DiffRow, Kind as DiffKind, time_of};

/// Reads at this version see the newest state.
pub(crate) const LIVE: u64 = u64::MAX;

/// A stored object. Cheap to clone: the bytes are reference counted.
#[derive(Debug, Clone)]
pub(crate) struct Object {
    pub(crate) data: Bytes,
    /// Hex MD5 of the data, without quotes.
    pub(crate) etag: String,
    pub(crate) last_modified: SystemTime,
    pub(crate) content_type: Option<String>,
    pub(crate) metadata: Vec<(String, String)>,
    /// Stored headers, tags, ACL, checksums and part sizes.
    pub(crate) extra: ObjectExtra,
    /// Why the body read back from the data directory cannot be served (it does not match
    /// the checksum recorded when it was written); reads answer an error instead.
    pub(crate) damaged: Option<String>,
}

/// Hex MD5 of `data`.
fn md5_hex(data: &[u8]) -> String {
    use md5::Digest;
    hex::encode(md5::Md5::digest(data))
}

/// Whether `etag` is a plain hex MD5 (not a multipart ETag `<md5>-<parts>`).
fn is_plain_md5(etag: &str) -> bool {
    etag.len() == 32 && etag.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Object {
    pub(crate) fn new(
        data: Bytes,
        content_type: Option<String>,
        metadata: Vec<(String, String)>,
    ) -> Self {
        let etag = md5_hex(&data);
        Self::with_etag(data, etag, content_type, metadata)
    }

    /// An object whose body's hex MD5 (`etag`) was computed as the body arrived.
    pub(crate) fn with_etag(
        data: Bytes,
        etag: String,
        content_type: Option<String>,
        metadata: Vec<(String, String)>,
    ) -> Self {
        Self {
            data,
            etag,
            last_modified: SystemTime::now(),
            content_type,
            metadata,
            damaged: None,
            extra: ObjectExtra::default(),
        }
    }

    pub(crate) fn size(&self) -> u64 {
        self.data.len() as u64
    }
}

/// One step in a key's history: the object written at `version`, or a deletion.
#[derive(Debug, Clone)]
struct Entry {
    version: u64,
    object: Option<Arc<Object>>,
}

/// Where a fork came from.
#[derive(Debug, Clone)]
pub(crate) struct ForkPoint {
    pub(crate) parent: BucketId,
    pub(crate) parent_name: String,
    /// The parent's version the fork reads through to now (its base).
    pub(crate) version: u64,
    /// Earlier bases, oldest first, kept while a read of the fork at an older version (a
    /// snapshot of it, a fork of it) still needs them: the base from before the first rebase,
    /// then the one set by each rebase but the last. A rebase's base is its own version.
    earlier: Vec<u64>,
    /// The fork's own writes at or before this version are already merged into the parent.
    merged: u64,
}

impl ForkPoint {
    /// The parent's version a read of the fork at `cap` sees: the base in force at `cap`.
    fn parent_cap(&self, cap: u64) -> u64 {
        let base = if cap >= self.version || self.earlier.is_empty() {
            self.version
        } else {
            // Rebase i happened at earlier[i] (i >= 1); the newest one at or before `cap` decides.
            let rebases_before = self.earlier[1..].partition_point(|&t| t <= cap);
            self.earlier[rebases_before]
        };
        base.min(cap)
    }
}

/// A bucket's stable identity; names can be reused after a delete, ids never are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct BucketId(u64);

/// A named snapshot entry in a bucket's list.
#[derive(Debug, Clone)]
pub(crate) struct SnapshotEntry {
    pub(crate) version: u64,
    pub(crate) name: Option<String>,
}

impl SnapshotEntry {
    pub(crate) fn created(&self) -> SystemTime {
        version_time(self.version)
    }
}

/// The wall-clock time a version was taken at (versions are nanoseconds since the epoch).
pub(crate) fn version_time(version: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(version)
}

/// Nanoseconds since the Unix epoch (0 before it).
pub(crate) fn nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// `object`, or an error when its body is damaged.
fn undamaged(object: Arc<Object>) -> Result<Arc<Object>, StoreError> {
    match &object.damaged {
        Some(why) => Err(StoreError::Storage(why.clone())),
        None => Ok(object),
    }
}

/// A change to the store as the journal records it: replaying the changes in order rebuilds the
/// store. Object bodies are not in it; they are files named by the write's version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Change {
    /// The newest version handed out, so the clock never goes back across a restart.
    Clock {
        last_version: u64,
    },
    CreateBucket {
        id: u64,
        name: String,
        created: u64,
        snapshots_enabled: bool,
        fork: Option<ForkRecord>,
        /// Settings given at creation; absent in older journals and for default settings.
        #[serde(default, skip_serializing_if = "Settings::is_default")]
        settings: Settings,
    },
    /// Snapshots turned on or off for a bucket (`PATCH /{bucket}` with `type`).
    BucketType {
        bucket: u64,
        snapshots_enabled: bool,
    },
    /// A bucket's settings after a `PATCH /{bucket}` (the whole set; the last one wins).
    Settings {
        bucket: u64,
        settings: Settings,
    },
    DeleteBucket {
        id: u64,
        name: String,
    },
    Snapshot {
        bucket: u64,
        version: u64,
        name: Option<String>,
    },
    DeleteSnapshot {
        bucket: u64,
        version: u64,
    },
    /// A put or (with no object) a delete, pruned as it was when it happened.
    Write {
        bucket: u64,
        key: String,
        version: u64,
        object: Option<ObjectRecord>,
    },
    /// One retained history entry, appended as is (what compaction writes).
    Retained {
        bucket: u64,
        key: String,
        version: u64,
        object: Option<ObjectRecord>,
    },
    /// A bucket's S3 configuration (tags, CORS, ownership, public access block, policy): the
    /// whole set, the last one wins.
    BucketExtra {
        bucket: u64,
        extra: BucketExtra,
    },
    /// The lifecycle configuration as S3 XML, or none.
    Lifecycle {
        bucket: u64,
        xml: Option<String>,
    },
    /// A fork's unmerged changes written into its parent, then a snapshot of the parent. Each
    /// put's body is a file of its own (named by its new version), written before the record.
    Merge {
        fork: u64,
        parent: u64,
        writes: Vec<MergedWrite>,
        snapshot: u64,
    },
    /// A fork's base moved to `version` of its parent (the parent's present when it happened).
    Rebase {
        fork: u64,
        version: u64,
    },
    /// One version of `key` dropped from `bucket`'s own history (DeleteObject with a version
    /// id); an object version is kept as soft-deleted until `expires_at` when that is set.
    DeleteVersion {
        bucket: u64,
        key: String,
        version: u64,
        deleted_at: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires_at: Option<u64>,
    },
    /// A fork no longer shows the version of `key` it inherits: a deletion at `tombstone`,
    /// below the fork's own entries (see `store/versions.rs`).
    HideInherited {
        bucket: u64,
        key: String,
        tombstone: u64,
    },
    /// Soft delete turned on (with its retention in days) or off (`None`).
    SoftDeleteSetting {
        bucket: u64,
        retention_days: Option<u32>,
    },
    /// The live object of `key` (written at `version`) kept as deleted until `expires_at`, and
    /// a deletion written at `tombstone`.
    SoftDeleteObject {
        bucket: u64,
        key: String,
        version: u64,
        tombstone: u64,
        expires_at: u64,
    },
    /// One kept deleted version, as is (what compaction writes).
    DeletedRetained {
        bucket: u64,
        key: String,
        version: u64,
        deleted_at: u64,
        expires_at: u64,
        object: ObjectRecord,
    },
    /// A deleted version dropped for good (purged, or restored as a new write).
    PurgeDeleted {
        bucket: u64,
        key: String,
        version: u64,
    },
    /// A bucket deleted, but kept (with its objects) until `expires_at`.
    SoftDeleteBucket {
        id: u64,
        deleted_at: u64,
        expires_at: u64,
    },
    /// A soft-deleted bucket live again under its name.
    RestoreBucket {
        id: u64,
    },
    /// Everything soft-deleted whose window ended at or before `now` dropped for good.
    Expire {
        now: u64,
    },
    /// Changes that happen together (a rename's write and delete, a restore's write and purge),
    /// applied in order: one record, so a crash leaves all of them or none.
    Batch(Vec<Change>),
}

impl Change {
    /// Adds the versions this change records an object body for to `out`.
    pub(crate) fn body_versions(&self, out: &mut std::collections::HashSet<u64>) {
        match self {
            Change::Write {
                version,
                object: Some(_),
                ..
            }
            | Change::Retained {
                version,
                object: Some(_),
                ..
            }
            | Change::DeletedRetained { version, .. } => {
                out.insert(*version);
            }
            Change::Merge { writes, .. } => {
                out.extend(
                    writes
                        .iter()
                        .filter(|w| w.object.is_some())
                        .map(|w| w.version),
                );
            }
            Change::Batch(changes) => {
                for change in changes {
                    change.body_versions(out);
                }
            }
            _ => {}
        }
    }
}

/// One key of a merge: a put (with the object) or a delete, at its new version in the parent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct MergedWrite {
    key: String,
    version: u64,
    object: Option<ObjectRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ForkRecord {
    parent: u64,
    parent_name: String,
    version: u64,
    /// [`ForkPoint::earlier`]; absent in journals written before rebases existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    earlier: Vec<u64>,
    /// [`ForkPoint::merged`] when it differs from `version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    merged: Option<u64>,
}

/// An object without its body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ObjectRecord {
    etag: String,
    last_modified: u64,
    content_type: Option<String>,
    metadata: Vec<(String, String)>,
    size: u64,
    /// Hex MD5 of the body when the ETag is not one (a multipart upload's); the body read back
    /// at startup is checked against it, or against the ETag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    md5: Option<String>,
    #[serde(default, skip_serializing_if = "ObjectExtra::is_default")]
    extra: ObjectExtra,
}

impl ObjectRecord {
    fn of(object: &Object) -> Self {
        Self {
            etag: object.etag.clone(),
            last_modified: nanos(object.last_modified),
            content_type: object.content_type.clone(),
            metadata: object.metadata.clone(),
            size: object.size(),
            md5: (!is_plain_md5(&object.etag)).then(|| md5_hex(&object.data)),
            extra: object.extra.clone(),
        }
    }

    /// The size and MD5 its body must have.
    fn expected(&self) -> (u64, Option<String>) {
        let md5 = self
            .md5
            .clone()
            .or_else(|| is_plain_md5(&self.etag).then(|| self.etag.clone()));
        (self.size, md5)
    }

    /// The object with an empty body, filled in by [`Store::load_bodies`].
    fn into_object(self) -> Object {
        Object {
            data: Bytes::new(),
            etag: self.etag,
            last_modified: version_time(self.last_modified),
            content_type: self.content_type,
            metadata: self.metadata,
            damaged: None,
            extra: self.extra,
        }
    }
}

fn lifecycle_xml(config: &s3s::dto::BucketLifecycleConfiguration) -> Result<String, StoreError> {
    let mut buf = Vec::new();
    s3s::xml::Serialize::serialize(config, &mut s3s::xml::Serializer::new(&mut buf)).map_err(
        |e| StoreError::Storage(format!("cannot encode a lifecycle configuration: {e}")),
    )?;
    String::from_utf8(buf).map_err(|e| StoreError::Storage(e.to_string()))
}

fn parse_lifecycle(xml: &str) -> Result<s3s::dto::BucketLifecycleConfiguration, StoreError> {
    <s3s::dto::BucketLifecycleConfiguration as s3s::xml::Deserialize<'_>>::deserialize(
        &mut s3s::xml::Deserializer::new(xml.as_bytes()),
    )
    .map_err(|e| StoreError::Storage(format!("unreadable lifecycle configuration: {e:?}")))
}

#[derive(Debug)]
pub(crate) struct Bucket {
    pub(crate) name: String,
    pub(crate) created: SystemTime,
    pub(crate) snapshots_enabled: bool,
    pub(crate) fork: Option<ForkPoint>,
    /// Live forks whose reads fall through to this bucket.
    pub(crate) children: usize,
    pub(crate) snapshots: BTreeMap<u64, Option<String>>,
    pub(crate) lifecycle: Option<s3s::dto::BucketLifecycleConfiguration>,
    /// Soft delete's retention in days, when it is on.
    pub(crate) soft_delete: Option<u32>,
    /// Placement, storage class, access and the other `PATCH /{bucket}` settings.
    pub(crate) settings: Settings,
    /// Tags, CORS, ownership, public access block and policy.
    pub(crate) extra: BucketExtra,
    objects: BTreeMap<String, Vec<Entry>>,
    /// Soft-deleted versions by key, oldest deletion first.
    deleted: BTreeMap<String, Vec<Deleted>>,
}

impl Bucket {
    fn new(name: String, snapshots_enabled: bool, fork: Option<ForkPoint>) -> Self {
        Self {
            name,
            created: SystemTime::now(),
            snapshots_enabled,
            fork,
            children: 0,
            snapshots: BTreeMap::new(),
            lifecycle: None,
            soft_delete: None,
            settings: Settings::default(),
            extra: BucketExtra::default(),
            objects: BTreeMap::new(),
            deleted: BTreeMap::new(),
        }
    }

    /// Drops the entries of `key` that neither the live state nor a read at one of `pins`
    /// (sorted ascending) can reach, and the key itself when nothing of it is left to see.
    fn prune_key(&mut self, key: &str, pins: &[u64], freed: &mut Vec<u64>) {
        let has_parent = self.fork.is_some();
        let Some(history) = self.objects.get_mut(key) else {
            return;
        };
        prune_history(history, pins, has_parent, freed);
        if history.is_empty() {
            self.objects.remove(key);
        }
    }

    fn prune_all(&mut self, pins: &[u64], freed: &mut Vec<u64>) {
        let has_parent = self.fork.is_some();
        self.objects.retain(|_, history| {
            prune_history(history, pins, has_parent, freed);
            !history.is_empty()
        });
    }

    /// The newest entry of `key` in this level at or before `cap`.
    fn entry_here(&self, key: &str, cap: u64) -> Option<&Entry> {
        self.objects
            .get(key)?
            .iter()
            .rev()
            .find(|e| e.version <= cap)
    }

    /// Looks a key up in this level only: `Some(None)` is a deletion recorded here.
    fn resolve_here(&self, key: &str, cap: u64) -> Option<Option<&Arc<Object>>> {
        let history = self.objects.get(key)?;
        history
            .iter()
            .rev()
            .find(|e| e.version <= cap)
            .map(|e| e.object.as_ref())
    }
}

/// Keeps the newest entry and, for each pin, the newest entry at or before it; then drops
/// leading tombstones where there is no parent for them to hide. `history` is sorted by version.
/// The versions of the objects dropped go to `freed`.
fn prune_history(history: &mut Vec<Entry>, pins: &[u64], has_parent: bool, freed: &mut Vec<u64>) {
    if history.len() > 1 {
        let last = history.len() - 1;
        let mut keep = vec![false; history.len()];
        keep[last] = true;
        // A fork's oldest deletion is its floor: it hides what the fork inherits, whatever is
        // written above it (see `store/versions.rs`).
        keep[0] |= has_parent && history[0].object.is_none();
        for &pin in pins {
            // The first entry newer than the pin; the one before it is what the pin reads.
            let after = history.partition_point(|e| e.version <= pin);
            if after > 0 {
                keep[after - 1] = true;
            }
        }
        let mut i = 0;
        history.retain(|e| {
            i += 1;
            if !keep[i - 1] && e.object.is_some() {
                freed.push(e.version);
            }
            keep[i - 1]
        });
    }
    if !has_parent {
        // A deletion with nothing older beneath it reads the same as no entry at all.
        let leading = history.iter().take_while(|e| e.object.is_none()).count();
        history.drain(..leading);
    }
}

/// One step of a fork's ancestry, as the fork listing and bucket metadata report it.
#[derive(Debug, Clone)]
pub(crate) struct Lineage {
    pub(crate) parent: String,
    /// When the fork (the bucket one step below `parent`) was made.
    pub(crate) forked_at: SystemTime,
    /// The parent's version the fork reads through to.
    pub(crate) snapshot: u64,
    /// The name of that snapshot, if it is a named snapshot of the parent.
    pub(crate) snapshot_name: Option<String>,
}

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

/// The result of a listing page.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    pub(crate) objects: Vec<(String, Arc<Object>)>,
    pub(crate) common_prefixes: Vec<String>,
    pub(crate) is_truncated: bool,
    /// The last key or common prefix returned, to continue after.
    pub(crate) next_marker: Option<String>,
}

/// A listing request.
#[derive(Debug, Default)]
pub(crate) struct ListQuery<'a> {
    pub(crate) prefix: &'a str,
    pub(crate) delimiter: Option<&'a str>,
    /// Exclusive lower bound (marker, start-after or continuation token).
    pub(crate) after: Option<&'a str>,
    pub(crate) max_keys: usize,
    pub(crate) version: u64,
}

/// A write with its version taken and its body on disk, not yet applied.
#[derive(Debug)]
struct PreparedWrite {
    id: BucketId,
    key: String,
    version: u64,
    object: Option<Object>,
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

    /// Changes a bucket's settings (its lifecycle configuration, which is what is journaled).
    pub(crate) fn with_bucket_mut(
        &mut self,
        name: &str,
        f: impl FnOnce(&mut Bucket),
    ) -> Result<(), StoreError> {
        let id = self.bucket_id(name)?;
        let bucket = self
            .buckets
            .get_mut(&id)
            .expect("by_name and buckets agree");
        let before = bucket.lifecycle.clone();
        f(bucket);
        if self.journal.is_some() {
            let logged = self.buckets[&id]
                .lifecycle
                .as_ref()
                .map(lifecycle_xml)
                .transpose()
                .and_then(|xml| self.log(&Change::Lifecycle { bucket: id.0, xml }));
            if let Err(e) = logged {
                self.buckets.get_mut(&id).expect("exists").lifecycle = before;
                return Err(e);
            }
        }
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

    /// Records changes in `journal` from now on.
    pub(crate) fn set_journal(&mut self, journal: std::sync::Arc<Journal>) {
        self.journal = Some(journal);
    }

    /// Writes `change` to the journal, if there is one; it is on disk when this returns.
    fn log(&self, change: &Change) -> Result<(), StoreError> {
        match &self.journal {
            Some(journal) => journal
                .append(&RecordRef::Store(change))
                .map_err(|e| StoreError::Storage(e.to_string())),
            None => Ok(()),
        }
    }

    /// Journals `change`, then applies it.
    fn commit(&mut self, change: Change) -> Result<(), StoreError> {
        self.log(&change)?;
        self.apply(change)
    }

    fn level_mut(&mut self, id: u64) -> Result<&mut Bucket, StoreError> {
        self.buckets
            .get_mut(&BucketId(id))
            .ok_or_else(|| StoreError::Storage(format!("the journal names unknown bucket {id}")))
    }

    /// Applies a journaled change: the one code path for live changes and replay at startup.
    /// Errors only when a replayed journal refers to something it never created.
    pub(crate) fn apply(&mut self, change: Change) -> Result<(), StoreError> {
        match change {
            Change::Clock { last_version } => {
                self.last_version = self.last_version.max(last_version)
            }
            Change::CreateBucket {
                id,
                name,
                created,
                snapshots_enabled,
                fork,
                settings,
            } => {
                let fork = match fork {
                    Some(f) => {
                        self.level_mut(f.parent)?.children += 1;
                        self.last_version = self.last_version.max(f.version);
                        Some(ForkPoint {
                            parent: BucketId(f.parent),
                            parent_name: f.parent_name,
                            version: f.version,
                            earlier: f.earlier,
                            merged: f.merged.unwrap_or(f.version),
                        })
                    }
                    None => None,
                };
                let mut bucket = Bucket::new(name.clone(), snapshots_enabled, fork);
                bucket.created = version_time(created);
                bucket.settings = settings;
                self.next_id = self.next_id.max(id);
                self.by_name.insert(name, BucketId(id));
                self.buckets.insert(BucketId(id), bucket);
            }
            Change::Settings { bucket, settings } => {
                self.level_mut(bucket)?.settings = settings;
            }
            Change::BucketType {
                bucket,
                snapshots_enabled,
            } => {
                self.level_mut(bucket)?.snapshots_enabled = snapshots_enabled;
            }
            Change::DeleteBucket { id, .. } => self.drop_bucket(id)?,
            Change::Snapshot {
                bucket,
                version,
                name,
            } => {
                self.last_version = self.last_version.max(version);
                self.level_mut(bucket)?.snapshots.insert(version, name);
            }
            Change::DeleteSnapshot { bucket, version } => {
                self.level_mut(bucket)?.snapshots.remove(&version);
                self.collect_chain(BucketId(bucket));
            }
            Change::Write {
                bucket,
                key,
                version,
                object,
            } => {
                self.level_mut(bucket)?;
                self.last_version = self.last_version.max(version);
                if let Some(o) = &object {
                    self.replayed.insert(version, o.expected());
                }
                let object = object.map(|o| Arc::new(o.into_object()));
                self.put_entry(BucketId(bucket), &key, Entry { version, object });
            }
            Change::Retained {
                bucket,
                key,
                version,
                object,
            } => {
                self.last_version = self.last_version.max(version);
                if let Some(o) = &object {
                    self.replayed.insert(version, o.expected());
                }
                let object = object.map(|o| Arc::new(o.into_object()));
                self.level_mut(bucket)?
                    .objects
                    .entry(key)
                    .or_default()
                    .push(Entry { version, object });
            }
            Change::BucketExtra { bucket, extra } => {
                self.level_mut(bucket)?.extra = extra;
            }
            Change::Lifecycle { bucket, xml } => {
                let lifecycle = xml.as_deref().map(parse_lifecycle).transpose()?;
                self.level_mut(bucket)?.lifecycle = lifecycle;
            }
            Change::Merge {
                fork,
                parent,
                writes,
                snapshot,
            } => self.apply_merge(BucketId(fork), BucketId(parent), writes, snapshot)?,
            Change::Rebase { fork, version } => {
                self.last_version = self.last_version.max(version);
                // Without snapshots or forks of its own nothing reads the fork at an older
                // version, so its earlier bases can go.
                let needs_earlier = !self.pins(BucketId(fork)).is_empty();
                let point = self.level_mut(fork)?.fork.as_mut().ok_or_else(|| {
                    StoreError::Storage(format!("the journal rebases bucket {fork}, not a fork"))
                })?;
                if !needs_earlier {
                    point.earlier.clear();
                }
                point.earlier.push(point.version);
                point.version = version;
                let parent = point.parent;
                // The old base no longer pins the parent's history (unless a snapshot reads it).
                self.collect_chain(parent);
            }
            Change::DeleteVersion {
                bucket,
                key,
                version,
                deleted_at,
                expires_at,
            } => self.apply_delete_version(bucket, key, version, deleted_at, expires_at)?,
            Change::HideInherited {
                bucket,
                key,
                tombstone,
            } => self.apply_hide_inherited(bucket, key, tombstone)?,
            Change::Batch(changes) => {
                for change in changes {
                    self.apply(change)?;
                }
            }
            soft @ (Change::SoftDeleteSetting { .. }
            | Change::SoftDeleteObject { .. }
            | Change::DeletedRetained { .. }
            | Change::PurgeDeleted { .. }
            | Change::SoftDeleteBucket { .. }
            | Change::RestoreBucket { .. }
            | Change::Expire { .. }) => self.apply_soft(soft)?,
        }
        self.release_freed();
        Ok(())
    }

    /// Removes bucket `id` and everything it holds for good.
    fn drop_bucket(&mut self, id: u64) -> Result<(), StoreError> {
        let bucket = self.buckets.remove(&BucketId(id)).ok_or_else(|| {
            StoreError::Storage(format!("the journal deletes unknown bucket {id}"))
        })?;
        if self.by_name.get(&bucket.name) == Some(&BucketId(id)) {
            self.by_name.remove(&bucket.name);
        }
        if self
            .deleted_buckets
            .get(&bucket.name)
            .is_some_and(|d| d.id == BucketId(id))
        {
            self.deleted_buckets.remove(&bucket.name);
        }
        self.freed.extend(
            bucket
                .objects
                .values()
                .flatten()
                .filter(|e| e.object.is_some())
                .map(|e| e.version),
        );
        for (key, versions) in &bucket.deleted {
            for d in versions {
                self.release_hold(bucket.fork.as_ref().map(|f| f.parent), key, d.version);
            }
        }
        if let Some(fork) = bucket.fork
            && let Some(parent) = self.buckets.get_mut(&fork.parent)
        {
            parent.children -= 1;
            // The fork point no longer pins the parent's history.
            self.collect_chain(fork.parent);
        }
        Ok(())
    }

    /// After a replay: reads every retained object's body (`read(version, size)`) and checks
    /// it against the MD5 recorded for it (the ETag, or the checksum a multipart object's record
    /// carries). A body that does not match is not served: reads of it answer an error.
    pub(crate) fn load_bodies<E>(
        &mut self,
        mut read: impl FnMut(u64, u64) -> Result<Bytes, E>,
    ) -> Result<(), E> {
        let replayed = std::mem::take(&mut self.replayed);
        let mut load = |version: u64, object: &mut Arc<Object>| -> Result<(), E> {
            let (size, md5) = replayed.get(&version).cloned().unwrap_or((0, None));
            let data = read(version, size)?;
            let object = Arc::make_mut(object);
            match md5 {
                Some(expected) if md5_hex(&data) != expected => {
                    tracing::error!(
                        version,
                        "an object body does not match its recorded MD5; reads of it will fail"
                    );
                    object.damaged = Some(format!(
                        "the stored body of version {version} does not match its checksum \
                         (objects/{version:020} is damaged; restore it from a backup)"
                    ));
                    object.data = Bytes::new();
                }
                _ => object.data = data,
            }
            Ok(())
        };
        for bucket in self.buckets.values_mut() {
            for entry in bucket.objects.values_mut().flatten() {
                if let Some(object) = &mut entry.object {
                    load(entry.version, object)?;
                }
            }
            for d in bucket.deleted.values_mut().flatten() {
                load(d.version, &mut d.object)?;
            }
        }
        Ok(())
    }

    /// The changes that rebuild the store as it is now, parents before their forks.
    pub(crate) fn checkpoint(&self) -> Vec<Change> {
        let mut ids: Vec<BucketId> = self.buckets.keys().copied().collect();
        ids.sort_unstable_by_key(|id| id.0);
        let mut changes = vec![Change::Clock {
            last_version: self.last_version,
        }];
        for id in ids {
            let b = &self.buckets[&id];
            changes.push(Change::CreateBucket {
                id: id.0,
                name: b.name.clone(),
                created: nanos(b.created),
                snapshots_enabled: b.snapshots_enabled,
                fork: b.fork.as_ref().map(|f| ForkRecord {
                    parent: f.parent.0,
                    parent_name: f.parent_name.clone(),
                    version: f.version,
                    earlier: f.earlier.clone(),
                    merged: (f.merged != f.version).then_some(f.merged),
                }),
                settings: b.settings.clone(),
            });
            if let Some(lifecycle) = &b.lifecycle {
                // It was encoded when it was set; failing now would be a bug in s3s.
                if let Ok(xml) = lifecycle_xml(lifecycle) {
                    changes.push(Change::Lifecycle {
                        bucket: id.0,
                        xml: Some(xml),
                    });
                }
            }
            if !b.extra.is_default() {
                changes.push(Change::BucketExtra {
                    bucket: id.0,
                    extra: b.extra.clone(),
                });
            }
            for (version, name) in &b.snapshots {
                changes.push(Change::Snapshot {
                    bucket: id.0,
                    version: *version,
                    name: name.clone(),
                });
            }
            for (key, history) in &b.objects {
                for entry in history {
                    changes.push(Change::Retained {
                        bucket: id.0,
                        key: key.clone(),
                        version: entry.version,
                        object: entry.object.as_deref().map(ObjectRecord::of),
                    });
                }
            }
            self.checkpoint_soft(id, &mut changes);
        }
        changes
    }

    /// The versions whose bodies retained entries hold (the names of the body files to keep).
    pub(crate) fn body_versions(&self) -> std::collections::HashSet<u64> {
        self.buckets
            .values()
            .flat_map(|b| b.objects.values().flatten())
            .filter(|e| e.object.is_some())
            .map(|e| e.version)
            .chain(self.held.keys().copied())
            .collect()
    }

    /// Whether bucket `id` is live (not soft-deleted).
    fn is_live(&self, id: BucketId) -> bool {
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
    fn pins(&self, id: BucketId) -> Vec<u64> {
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
    fn collect_chain(&mut self, id: BucketId) {
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

    fn apply_merge(
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

    /// The levels a read of `id` at `version` consults, nearest first, each with its cap.
    fn levels(&self, id: BucketId, version: u64) -> Vec<(&Bucket, u64)> {
        let mut levels = Vec::new();
        let mut current = Some((id, version));
        while let Some((id, cap)) = current {
            let bucket = &self.buckets[&id];
            levels.push((bucket, cap));
            current = bucket.fork.as_ref().map(|f| (f.parent, f.parent_cap(cap)));
        }
        levels
    }

    fn resolve(&self, id: BucketId, key: &str, version: u64) -> Option<&Arc<Object>> {
        for (bucket, cap) in self.levels(id, version) {
            if let Some(found) = bucket.resolve_here(key, cap) {
                return found;
            }
        }
        None
    }

    fn first_visible(&self, id: BucketId, version: u64) -> Option<String> {
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

    fn get_unchecked(
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

    fn check_version(&self, id: BucketId, bucket: &str, version: u64) -> Result<(), StoreError> {
        if version != LIVE && !self.buckets[&id].snapshots_enabled {
            return Err(StoreError::NotSnapshotEnabled(bucket.to_owned()));
        }
        Ok(())
    }

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
    fn write_stamped(
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
    fn prepare_write(
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
    fn prepare_write_with(
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
    fn log_or_unwrite(&self, change: &Change, writes: &[&PreparedWrite]) -> Result<(), StoreError> {
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
    fn finish_write(&mut self, write: PreparedWrite) -> u64 {
        let entry = Entry {
            version: write.version,
            object: write.object.map(Arc::new),
        };
        self.put_entry(write.id, &write.key, entry);
        self.release_freed();
        write.version
    }

    /// Adds a write to `key`'s history, keeping what snapshots and forks can still reach.
    fn put_entry(&mut self, id: BucketId, key: &str, entry: Entry) {
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
    fn release_freed(&mut self) {
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

    /// Lists `bucket` as of `query.version`, S3 style (prefix, delimiter, marker, page size).
    pub(crate) fn list(&self, bucket: &str, query: &ListQuery<'_>) -> Result<Listing, StoreError> {
        let id = self.bucket_id(bucket)?;
        self.check_version(id, bucket, query.version)?;
        Ok(self.list_id(id, query))
    }

    fn list_id(&self, id: BucketId, query: &ListQuery<'_>) -> Listing {
        if query.max_keys == 0 {
            // An empty page that is not truncated: a truncated page would need a continuation
            // token, and there is no key to continue after (S3 answers max-keys=0 the same way).
            return Listing::default();
        }
        let levels = self.levels(id, query.version);
        let start: Bound<&str> = match query.after {
            Some(after) if after >= query.prefix => Bound::Excluded(after),
            _ => Bound::Included(query.prefix),
        };
        let mut cursors: Vec<_> = levels
            .iter()
            .map(|(b, _)| {
                b.objects
                    .range::<str, _>((start, Bound::Unbounded))
                    .map(|(k, _)| k.as_str())
                    .peekable()
            })
            .collect();
        // Continuing after a common prefix skips everything under it.
        let skip_under = query
            .after
            .filter(|a| query.delimiter.is_some_and(|d| a.ends_with(d)));
        let mut listing = Listing::default();
        let mut last_prefix: Option<String> = None;
        let mut count = 0usize;
        // The smallest key any level has next: a k-way merge of sorted cursors.
        while let Some(key) = cursors.iter_mut().filter_map(|c| c.peek().copied()).min() {
            for cursor in &mut cursors {
                if cursor.peek() == Some(&key) {
                    cursor.next();
                }
            }
            if !key.starts_with(query.prefix) {
                break;
            }
            if skip_under.is_some_and(|p| key.starts_with(p)) {
                continue;
            }
            let Some(object) = levels
                .iter()
                .find_map(|(b, cap)| b.resolve_here(key, *cap))
                .flatten()
            else {
                continue;
            };
            let common = query.delimiter.filter(|d| !d.is_empty()).and_then(|d| {
                key[query.prefix.len()..]
                    .find(d)
                    .map(|i| key[..query.prefix.len() + i + d.len()].to_owned())
            });
            if let Some(prefix) = &common
                && last_prefix.as_ref() == Some(prefix)
            {
                continue;
            }
            if count == query.max_keys {
                listing.is_truncated = true;
                break;
            }
            count += 1;
            match common {
                Some(prefix) => {
                    listing.next_marker = Some(prefix.clone());
                    listing.common_prefixes.push(prefix.clone());
                    last_prefix = Some(prefix);
                }
                None => {
                    listing.next_marker = Some(key.to_owned());
                    listing.objects.push((key.to_owned(), Arc::clone(object)));
                }
            }
        }
        if !listing.is_truncated {
            listing.next_marker = None;
        }
        listing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(s: &str) -> Option<Object> {
        Some(Object::new(
            Bytes::copy_from_slice(s.as_bytes()),
            None,
            Vec::new(),
        ))
    }

    fn read(store: &Store, bucket: &str, key: &str, version: u64) -> Option<String> {
        store
            .get(bucket, key, version)
            .ok()
            .map(|o| String::from_utf8(o.data.to_vec()).unwrap())
    }

    fn keys(store: &Store, bucket: &str, version: u64) -> Vec<String> {
        let q = ListQuery {
            max_keys: 1000,
            version,
            ..ListQuery::default()
        };
        store
            .list(bucket, &q)
            .unwrap()
            .objects
            .into_iter()
            .map(|(k, _)| k)
            .collect()
    }

    #[test]
    fn snapshot_reads_see_the_state_at_the_snapshot() {
        let mut s = Store::default();
        s.create_bucket("b", true).unwrap();
        s.write("b", "k", obj("v1")).unwrap();
        let snap = s.snapshot("b", None).unwrap();
        s.write("b", "k", obj("v2")).unwrap();
        s.write("b", "new", obj("x")).unwrap();
        assert_eq!(read(&s, "b", "k", snap).as_deref(), Some("v1"));
        assert_eq!(read(&s, "b", "k", LIVE).as_deref(), Some("v2"));
        assert_eq!(keys(&s, "b", snap), ["k"]);
        assert_eq!(keys(&s, "b", LIVE), ["k", "new"]);
    }

    #[test]
    fn fork_sees_parent_as_of_fork_and_writes_stay_apart() {
        let mut s = Store::default();
        s.create_bucket("p", true).unwrap();
        s.write("p", "a", obj("1")).unwrap();
        s.fork_bucket("f", "p", None).unwrap();
        s.write("p", "later", obj("2")).unwrap();
        s.write("f", "mine", obj("3")).unwrap();
        s.write("f", "a", None).unwrap();
        assert_eq!(keys(&s, "f", LIVE), ["mine"]);
        assert_eq!(keys(&s, "p", LIVE), ["a", "later"]);
        assert_eq!(read(&s, "p", "a", LIVE).as_deref(), Some("1"));
    }

    #[test]
    fn fork_of_a_fork_resolves_through_the_chain() {
        let mut s = Store::default();
        s.create_bucket("p", true).unwrap();
        s.write("p", "a", obj("p")).unwrap();
        let snap = s.snapshot("p", None).unwrap();
        s.write("p", "a", obj("p2")).unwrap();
        s.fork_bucket("f1", "p", Some(snap)).unwrap();
        s.write("f1", "b", obj("f1")).unwrap();
        s.fork_bucket("f2", "f1", None).unwrap();
        s.write("f1", "c", obj("late")).unwrap();
        assert_eq!(read(&s, "f2", "a", LIVE).as_deref(), Some("p"));
        assert_eq!(keys(&s, "f2", LIVE), ["a", "b"]);
    }

    #[test]
    fn buckets_with_forks_cannot_be_deleted_until_the_forks_are() {
        let mut s = Store::default();
        s.create_bucket("p", true).unwrap();
        s.fork_bucket("f", "p", None).unwrap();
        assert_eq!(
            s.delete_bucket("p", true, None),
            Err(StoreError::BucketHasForks("p".into()))
        );
        s.delete_bucket("f", false, None).unwrap();
        s.delete_bucket("p", false, None).unwrap();
    }

    #[test]
    fn a_fork_of_a_non_empty_parent_is_not_empty() {
        let mut s = Store::default();
        s.create_bucket("p", true).unwrap();
        s.write("p", "a", obj("1")).unwrap();
        s.fork_bucket("f", "p", None).unwrap();
        assert_eq!(
            s.delete_bucket("f", false, None),
            Err(StoreError::BucketNotEmpty("f".into()))
        );
        s.delete_bucket("f", true, None).unwrap();
    }

    #[test]
    fn listing_pages_with_delimiter_and_markers() {
        let mut s = Store::default();
        s.create_bucket("b", false).unwrap();
        for k in ["a/1", "a/2", "b", "c/1", "d"] {
            s.write("b", k, obj(k)).unwrap();
        }
        let mut after: Option<String> = None;
        let mut seen = Vec::new();
        loop {
            let q = ListQuery {
                delimiter: Some("/"),
                after: after.as_deref(),
                max_keys: 1,
                version: LIVE,
                ..ListQuery::default()
            };
            let page = s.list("b", &q).unwrap();
            seen.extend(page.common_prefixes.iter().cloned());
            seen.extend(page.objects.iter().map(|(k, _)| k.clone()));
            if !page.is_truncated {
                break;
            }
            after = page.next_marker;
        }
        assert_eq!(seen, ["a/", "b", "c/", "d"]);
    }

    #[test]
    fn regular_buckets_keep_no_history_and_refuse_snapshots() {
        let mut s = Store::default();
        s.create_bucket("r", false).unwrap();
        s.write("r", "k", obj("1")).unwrap();
        s.write("r", "k", obj("2")).unwrap();
        assert_eq!(s.bucket("r").unwrap().objects["k"].len(), 1);
        assert_eq!(
            s.snapshot("r", None),
            Err(StoreError::NotSnapshotEnabled("r".into()))
        );
        assert!(matches!(
            s.fork_bucket("f", "r", None),
            Err(StoreError::NotSnapshotEnabled(_))
        ));
    }

    fn retained(s: &Store) -> u64 {
        s.stats().retained_versions
    }

    #[test]
    fn overwrites_without_snapshots_keep_one_version() {
        let mut s = Store::default();
        s.create_bucket("b", true).unwrap();
        for i in 0..1000 {
            s.write("b", "k", obj(&i.to_string())).unwrap();
        }
        assert_eq!(retained(&s), 1);
        s.write("b", "k", None).unwrap();
        assert_eq!(
            retained(&s),
            0,
            "a deletion with nothing beneath it is dropped"
        );
    }

    #[test]
    fn snapshots_pin_what_they_read_until_deleted() {
        let mut s = Store::default();
        s.create_bucket("b", true).unwrap();
        s.write("b", "k", obj("v1")).unwrap();
        let snap = s.snapshot("b", None).unwrap();
        for i in 0..100 {
            s.write("b", "k", obj(&i.to_string())).unwrap();
        }
        assert_eq!(retained(&s), 2);
        assert_eq!(read(&s, "b", "k", snap).as_deref(), Some("v1"));
        assert_eq!(read(&s, "b", "k", LIVE).as_deref(), Some("99"));
        s.write("b", "k", None).unwrap();
        assert_eq!(retained(&s), 2, "the snapshot's version and the deletion");
        assert_eq!(read(&s, "b", "k", snap).as_deref(), Some("v1"));
        s.delete_snapshot("b", snap).unwrap();
        assert_eq!(retained(&s), 0);
    }

    #[test]
    fn fork_points_pin_the_parent_until_the_fork_is_deleted() {
        let mut s = Store::default();
        s.create_bucket("p", true).unwrap();
        s.write("p", "k", obj("base")).unwrap();
        s.fork_bucket("f1", "p", None).unwrap();
        let f1_snap = s.snapshot("f1", None).unwrap();
        s.fork_bucket("f2", "f1", Some(f1_snap)).unwrap();
        for i in 0..50 {
            s.write("p", "k", obj(&i.to_string())).unwrap();
            s.write("f1", "k", obj(&format!("f{i}"))).unwrap();
        }
        // p: base (f1's fork point) + newest; f1: newest only (its snapshot saw nothing of
        // its own, reading through to p).
        assert_eq!(retained(&s), 3);
        assert_eq!(read(&s, "f2", "k", LIVE).as_deref(), Some("base"));
        assert_eq!(read(&s, "f1", "k", f1_snap).as_deref(), Some("base"));
        s.delete_bucket("f2", true, None).unwrap();
        assert_eq!(retained(&s), 3, "f1 itself still forks from base");
        s.delete_bucket("f1", true, None).unwrap();
        assert_eq!(retained(&s), 1);
        assert_eq!(read(&s, "p", "k", LIVE).as_deref(), Some("49"));
    }

    #[test]
    fn a_fork_keeps_its_deletions_so_parent_keys_stay_hidden() {
        let mut s = Store::default();
        s.create_bucket("p", true).unwrap();
        s.write("p", "k", obj("1")).unwrap();
        s.fork_bucket("f", "p", None).unwrap();
        s.write("f", "k", obj("mine")).unwrap();
        s.write("f", "k", None).unwrap();
        assert_eq!(read(&s, "f", "k", LIVE), None);
        assert_eq!(read(&s, "p", "k", LIVE).as_deref(), Some("1"));
    }

    #[test]
    fn replaying_the_journal_rebuilds_the_same_store_and_keeps_only_retained_bodies() {
        use crate::store::persist::Record;
        let dir = tempfile::tempdir().unwrap();
        let (journal, _) = Journal::open(dir.path(), false).unwrap();
        let journal = Arc::new(journal);
        let mut s = Store::default();
        s.set_journal(Arc::clone(&journal));
        s.create_bucket("p", true).unwrap();
        s.write("p", "k", obj("base")).unwrap();
        s.fork_bucket("f1", "p", None).unwrap();
        let snap = s.snapshot("f1", Some("named".into())).unwrap();
        s.fork_bucket("f2", "f1", Some(snap)).unwrap();
        for i in 0..20 {
            s.write("p", "k", obj(&i.to_string())).unwrap();
            s.write("f1", "k", obj(&format!("f{i}"))).unwrap();
        }
        s.delete_bucket("f2", true, None).unwrap();
        s.write("f1", "gone", obj("x")).unwrap();
        s.delete_if_present("f1", "gone").unwrap();
        journal.close();

        let (journal, records) = Journal::open(dir.path(), false).unwrap();
        let mut r = Store::default();
        for record in records {
            if let Record::Store(change) = record {
                r.apply(change).unwrap();
            }
        }
        r.load_bodies(|v, size| journal.read_body(v, size)).unwrap();
        assert_eq!(r.stats(), s.stats());
        assert_eq!(r.body_versions(), s.body_versions());
        let files = std::fs::read_dir(dir.path().join("objects"))
            .unwrap()
            .count();
        assert_eq!(files, s.body_versions().len(), "freed bodies were deleted");
        for (bucket, key, version) in [
            ("p", "k", LIVE),
            ("f1", "k", LIVE),
            ("f1", "k", snap),
            ("f1", "gone", LIVE),
        ] {
            assert_eq!(
                read(&r, bucket, key, version),
                read(&s, bucket, key, version)
            );
        }
        assert_eq!(r.snapshots("f1").unwrap()[0].name.as_deref(), Some("named"));
        assert!(r.bucket("f2").is_err());
        assert!(r.next_version() > snap);
    }

    #[test]
    fn merge_writes_the_forks_puts_overwrites_and_deletes_into_the_parent() {
        let mut s = Store::default();
        s.create_bucket("p", true).unwrap();
        s.write("p", "keep", obj("p")).unwrap();
        s.write("p", "over", obj("old")).unwrap();
        s.write("p", "gone", obj("x")).unwrap();
        s.fork_bucket("f", "p", None).unwrap();
        s.write("f", "new", obj("n")).unwrap();
        s.write("f", "over", obj("mine")).unwrap();
        s.write("f", "gone", None).unwrap();
        s.write("f", "never", obj("1")).unwrap();
        s.write("f", "never", None).unwrap();
        let before = s.snapshot("p", None).unwrap();
        let snap = s.merge_fork("f", "p").unwrap();
        assert_eq!(keys(&s, "p", LIVE), ["keep", "new", "over"]);
        assert_eq!(read(&s, "p", "over", LIVE).as_deref(), Some("mine"));
        assert_eq!(keys(&s, "p", snap), ["keep", "new", "over"]);
        assert_eq!(keys(&s, "p", before), ["gone", "keep", "over"]);
        assert!(s.snapshots("p").unwrap().iter().any(|e| e.version == snap));
    }

    #[test]
    fn a_second_merge_applies_only_what_the_fork_changed_since_the_first() {
        let mut s = Store::default();
        s.create_bucket("p", true).unwrap();
        s.fork_bucket("f", "p", None).unwrap();
        s.write("f", "a", obj("f1")).unwrap();
        s.merge_fork("f", "p").unwrap();
        s.write("p", "a", obj("parent later")).unwrap();
        s.write("f", "b", obj("f2")).unwrap();
        s.merge_fork("f", "p").unwrap();
        assert_eq!(read(&s, "p", "a", LIVE).as_deref(), Some("parent later"));
        assert_eq!(read(&s, "p", "b", LIVE).as_deref(), Some("f2"));
    }

    #[test]
    fn merge_goes_only_into_the_direct_parent() {
        let mut s = Store::default();
        s.create_bucket("p", true).unwrap();
        s.fork_bucket("f1", "p", None).unwrap();
        s.fork_bucket("f2", "f1", None).unwrap();
        s.create_bucket("other", true).unwrap();
        for (fork, into) in [("f2", "p"), ("f1", "other"), ("p", "f1")] {
            assert!(matches!(
                s.merge_fork(fork, into),
                Err(StoreError::Invalid(_))
            ));
        }
        s.merge_fork("f2", "f1").unwrap();
    }

    #[test]
    fn rebase_moves_the_base_to_the_parents_present_and_keeps_the_forks_writes() {
        let mut s = Store::default();
        s.create_bucket("p", true).unwrap();
        s.write("p", "shared", obj("old")).unwrap();
        s.fork_bucket("f", "p", None).unwrap();
        let old = s.snapshot("f", None).unwrap();
        s.write("f", "mine", obj("m")).unwrap();
        s.write("f", "both", obj("fork")).unwrap();
        s.write("p", "shared", obj("new")).unwrap();
        s.write("p", "both", obj("parent")).unwrap();
        s.write("p", "later", obj("l")).unwrap();
        let base = s.rebase_fork("f").unwrap();
        assert_eq!(s.bucket("f").unwrap().fork.as_ref().unwrap().version, base);
        assert_eq!(keys(&s, "f", LIVE), ["both", "later", "mine", "shared"]);
        assert_eq!(read(&s, "f", "shared", LIVE).as_deref(), Some("new"));
        assert_eq!(read(&s, "f", "both", LIVE).as_deref(), Some("fork"));
        // The fork's snapshot from before still reads the old base.
        assert_eq!(keys(&s, "f", old), ["shared"]);
        assert_eq!(read(&s, "f", "shared", old).as_deref(), Some("old"));
        s.write("p", "shared", obj("newer")).unwrap();
        assert_eq!(read(&s, "f", "shared", LIVE).as_deref(), Some("new"));
    }

    #[test]
    fn a_rebase_unpins_the_old_base_when_nothing_reads_it() {
        let mut s = Store::default();
        s.create_bucket("p", true).unwrap();
        s.write("p", "k", obj("base")).unwrap();
        s.fork_bucket("f", "p", None).unwrap();
        s.write("p", "k", obj("now")).unwrap();
        assert_eq!(retained(&s), 2);
        s.rebase_fork("f").unwrap();
        assert_eq!(retained(&s), 1);
        assert!(matches!(s.rebase_fork("p"), Err(StoreError::Invalid(_))));
    }

    #[test]
    fn merges_and_rebases_replay_from_the_journal() {
        use crate::store::persist::Record;
        let dir = tempfile::tempdir().unwrap();
        let (journal, _) = Journal::open(dir.path(), false).unwrap();
        let journal = Arc::new(journal);
        let mut s = Store::default();
        s.set_journal(Arc::clone(&journal));
        s.create_bucket("p", true).unwrap();
        s.write("p", "a", obj("p")).unwrap();
        s.write("p", "b", obj("p")).unwrap();
        s.fork_bucket("f", "p", None).unwrap();
        let old = s.snapshot("f", None).unwrap();
        s.write("f", "a", obj("fork")).unwrap();
        s.write("f", "b", None).unwrap();
        let snap = s.merge_fork("f", "p").unwrap();
        s.write("p", "c", obj("c")).unwrap();
        s.rebase_fork("f").unwrap();
        // The fork's objects are freed once merged copies exist elsewhere.
        s.delete_bucket("f", true, None).unwrap();
        s.fork_bucket("f2", "p", Some(snap)).unwrap();
        journal.close();

        let (journal, records) = Journal::open(dir.path(), false).unwrap();
        let mut r = Store::default();
        for record in records {
            if let Record::Store(change) = record {
                r.apply(change).unwrap();
            }
        }
        r.load_bodies(|v, size| journal.read_body(v, size)).unwrap();
        assert_eq!(r.stats(), s.stats());
        assert_eq!(keys(&r, "p", LIVE), ["a", "c"]);
        assert_eq!(read(&r, "p", "a", LIVE).as_deref(), Some("fork"));
        assert_eq!(keys(&r, "f2", LIVE), ["a"]);
        assert!(old < snap);
    }

    #[test]
    fn rebased_forks_with_snapshots_survive_compaction() {
        let mut s = Store::default();
        s.create_bucket("p", true).unwrap();
        s.write("p", "k", obj("old")).unwrap();
        s.fork_bucket("f", "p", None).unwrap();
        let old = s.snapshot("f", None).unwrap();
        s.write("p", "k", obj("new")).unwrap();
        s.rebase_fork("f").unwrap();
        let mut r = Store::default();
        for change in s.checkpoint() {
            r.apply(change).unwrap();
        }
        // Bodies are not in a checkpoint; compare what each version resolves to instead.
        let etag = |st: &Store, v| st.get("f", "k", v).unwrap().etag.clone();
        assert_eq!(etag(&r, old), etag(&s, old));
        assert_eq!(etag(&r, LIVE), etag(&s, LIVE));
        assert_ne!(etag(&r, old), etag(&r, LIVE));
    }

    /// How many records the journal in `dir` holds.
    fn records(dir: &std::path::Path) -> usize {
        let (journal, records) = Journal::open(dir, false).unwrap();
        journal.close();
        records.len()
    }

    #[test]
    fn a_rename_is_one_journal_record() {
        let dir = tempfile::tempdir().unwrap();
        let (journal, _) = Journal::open(dir.path(), false).unwrap();
        let journal = Arc::new(journal);
        let mut s = Store::default();
        s.set_journal(Arc::clone(&journal));
        s.create_bucket("b", false).unwrap();
        s.set_soft_delete("b", Some(7)).unwrap();
        s.write("b", "from", obj("x")).unwrap();
        journal.close();
        let before = records(dir.path());
        let (journal, _) = Journal::open(dir.path(), false).unwrap();
        s.set_journal(Arc::new(journal));
        s.rename("b", "from", "to", obj("x").unwrap()).unwrap();
        s.journal.as_ref().unwrap().close();
        assert_eq!(records(dir.path()), before + 1, "a rename is one record");
        assert_eq!(read(&s, "b", "from", LIVE), None);
    }

    #[test]
    fn a_soft_delete_restore_is_one_journal_record() {
        let dir = tempfile::tempdir().unwrap();
        let (journal, _) = Journal::open(dir.path(), false).unwrap();
        let mut s = Store::default();
        s.set_journal(Arc::new(journal));
        s.create_bucket("b", false).unwrap();
        s.set_soft_delete("b", Some(7)).unwrap();
        s.write("b", "to", obj("x")).unwrap();
        s.journal.as_ref().unwrap().close();
        let (journal, _) = Journal::open(dir.path(), false).unwrap();
        s.set_journal(Arc::new(journal));
        assert!(s.delete_if_present("b", "to").unwrap());
        s.journal.as_ref().unwrap().close();
        let deleted = records(dir.path());
        let (journal, _) = Journal::open(dir.path(), false).unwrap();
        s.set_journal(Arc::new(journal));
        s.restore_deleted("b", "to", None).unwrap();
        s.journal.as_ref().unwrap().close();
        assert_eq!(records(dir.path()), deleted + 1, "a restore is one record");
        assert_eq!(read(&s, "b", "to", LIVE).as_deref(), Some("x"));
    }

    #[test]
    fn versions_are_strictly_increasing() {
        let mut s = Store::default();
        let a = s.next_version();
        let b = s.next_version();
        assert!(b > a);
    }
}
