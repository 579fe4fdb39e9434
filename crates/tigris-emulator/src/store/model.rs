//! The store's data model: objects, history entries, buckets and their fork points, snapshots,
//! and the pruning of history no snapshot or fork still reads.

use super::*;

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
pub(super) fn md5_hex(data: &[u8]) -> String {
    use md5::Digest;
    hex::encode(md5::Md5::digest(data))
}

/// Whether `etag` is a plain hex MD5 (not a multipart ETag `<md5>-<parts>`).
pub(super) fn is_plain_md5(etag: &str) -> bool {
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
pub(super) struct Entry {
    pub(super) version: u64,
    pub(super) object: Option<Arc<Object>>,
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
    pub(super) earlier: Vec<u64>,
    /// The fork's own writes at or before this version are already merged into the parent.
    pub(super) merged: u64,
}

impl ForkPoint {
    /// The parent's version a read of the fork at `cap` sees: the base in force at `cap`.
    pub(super) fn parent_cap(&self, cap: u64) -> u64 {
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
pub(crate) struct BucketId(pub(super) u64);

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
pub(super) fn undamaged(object: Arc<Object>) -> Result<Arc<Object>, StoreError> {
    match &object.damaged {
        Some(why) => Err(StoreError::Storage(why.clone())),
        None => Ok(object),
    }
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
    pub(super) objects: BTreeMap<String, Vec<Entry>>,
    /// Soft-deleted versions by key, oldest deletion first.
    pub(super) deleted: BTreeMap<String, Vec<Deleted>>,
}

impl Bucket {
    pub(super) fn new(name: String, snapshots_enabled: bool, fork: Option<ForkPoint>) -> Self {
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
    pub(super) fn prune_key(&mut self, key: &str, pins: &[u64], freed: &mut Vec<u64>) {
        let has_parent = self.fork.is_some();
        let Some(history) = self.objects.get_mut(key) else {
            return;
        };
        prune_history(history, pins, has_parent, freed);
        if history.is_empty() {
            self.objects.remove(key);
        }
    }

    pub(super) fn prune_all(&mut self, pins: &[u64], freed: &mut Vec<u64>) {
        let has_parent = self.fork.is_some();
        self.objects.retain(|_, history| {
            prune_history(history, pins, has_parent, freed);
            !history.is_empty()
        });
    }

    /// The newest entry of `key` in this level at or before `cap`.
    pub(super) fn entry_here(&self, key: &str, cap: u64) -> Option<&Entry> {
        self.objects
            .get(key)?
            .iter()
            .rev()
            .find(|e| e.version <= cap)
    }

    /// Looks a key up in this level only: `Some(None)` is a deletion recorded here.
    pub(super) fn resolve_here(&self, key: &str, cap: u64) -> Option<Option<&Arc<Object>>> {
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
pub(super) fn prune_history(
    history: &mut Vec<Entry>,
    pins: &[u64],
    has_parent: bool,
    freed: &mut Vec<u64>,
) {
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
