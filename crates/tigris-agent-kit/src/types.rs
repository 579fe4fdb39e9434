//! What the kit's workflows answer with: checkpoints, fork diffs and merges. Plain data, so
//! that the error type can carry a merge without importing a workflow.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_s3::types::Object;
use tigris_core::BucketName;
use tigris_headers::SnapshotVersion;

/// A snapshot of a bucket, as taken by [`AgentKit::checkpoint`](crate::AgentKit::checkpoint) or listed by
/// [`AgentKit::list_checkpoints`](crate::AgentKit::list_checkpoints).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Checkpoint {
    pub(crate) version: SnapshotVersion,
    pub(crate) name: Option<String>,
    pub(crate) created: SystemTime,
}

impl Checkpoint {
    /// The snapshot version, for [`AgentKit::restore`](crate::AgentKit::restore) and reads at the snapshot.
    pub fn version(&self) -> &SnapshotVersion {
        &self.version
    }

    /// The label given when it was taken, if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// When it was taken, by the server's clock.
    ///
    /// For a checkpoint just taken this is the time its version encodes (versions are
    /// nanoseconds since the Unix epoch, stamped by Tigris); for a listed one, the listing's
    /// `CreationDate`, or the version's time if the listing has none.
    pub fn created(&self) -> SystemTime {
        self.created
    }
}

impl Checkpoint {
    /// A checkpoint just taken, dated by its version.
    pub(crate) fn taken(version: SnapshotVersion, name: Option<String>) -> Self {
        Self {
            created: version_time(&version),
            version,
            name,
        }
    }
}

/// The time a snapshot version stands for: versions are nanoseconds since the Unix epoch.
pub(crate) fn version_time(version: &SnapshotVersion) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(version.as_u64())
}

/// An object as a listing shows it: enough to tell whether it changed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectSummary {
    pub(crate) etag: Option<String>,
    pub(crate) size: u64,
}

impl ObjectSummary {
    /// Its ETag, as listed (quotes included), if the listing had one.
    pub fn etag(&self) -> Option<&str> {
        self.etag.as_deref()
    }

    /// Its size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    pub(crate) fn of(object: &Object) -> Self {
        Self {
            etag: object.e_tag().map(str::to_owned),
            size: object
                .size()
                .and_then(|s| u64::try_from(s).ok())
                .unwrap_or(0),
        }
    }
}

/// How a key changed between two states of a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// The key is new.
    Added,
    /// The key is still there with another ETag (or size).
    Modified,
    /// The key is gone.
    Deleted,
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Added => "added",
            Self::Modified => "modified",
            Self::Deleted => "deleted",
        })
    }
}

/// One changed key: the object before (at the fork point) and after (now).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Change {
    pub(crate) key: String,
    pub(crate) before: Option<ObjectSummary>,
    pub(crate) after: Option<ObjectSummary>,
}

impl Change {
    /// Compares one key's two states; `None` when it did not change.
    pub(crate) fn between(
        key: &str,
        before: Option<&ObjectSummary>,
        after: Option<&ObjectSummary>,
    ) -> Option<Self> {
        if before == after {
            return None;
        }
        Some(Self {
            key: key.to_owned(),
            before: before.cloned(),
            after: after.cloned(),
        })
    }

    /// The object key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Added, modified or deleted.
    pub fn kind(&self) -> ChangeKind {
        match (&self.before, &self.after) {
            (None, _) => ChangeKind::Added,
            (Some(_), None) => ChangeKind::Deleted,
            (Some(_), Some(_)) => ChangeKind::Modified,
        }
    }

    /// The object at the fork point; `None` for an added key.
    pub fn before(&self) -> Option<&ObjectSummary> {
        self.before.as_ref()
    }

    /// The object now; `None` for a deleted key.
    pub fn after(&self) -> Option<&ObjectSummary> {
        self.after.as_ref()
    }

    /// The size now, or for a deleted key the size it had.
    pub fn size(&self) -> u64 {
        self.after
            .as_ref()
            .or(self.before.as_ref())
            .map_or(0, ObjectSummary::size)
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ({} bytes)", self.kind(), self.key, self.size())
    }
}

/// A key both the fork and its parent changed since the fork point, to different results.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Conflict {
    pub(crate) key: String,
    pub(crate) fork: ChangeKind,
    pub(crate) parent: ChangeKind,
}

impl Conflict {
    /// The object key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// What the fork did to it.
    pub fn fork(&self) -> ChangeKind {
        self.fork
    }

    /// What the parent did to it.
    pub fn parent(&self) -> ChangeKind {
        self.parent
    }
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({} in the fork, {} in the parent)",
            self.key, self.fork, self.parent
        )
    }
}

/// What a fork and its parent changed since the fork point; from [`AgentKit::diff`](crate::AgentKit::diff).
///
/// Every list is sorted by key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForkDiff {
    pub(crate) fork: BucketName,
    pub(crate) parent: BucketName,
    pub(crate) fork_point: SnapshotVersion,
    pub(crate) fork_changes: Vec<Change>,
    pub(crate) parent_changes: Vec<Change>,
    pub(crate) conflicts: Vec<Conflict>,
}

impl ForkDiff {
    /// The fork.
    pub fn fork(&self) -> &BucketName {
        &self.fork
    }

    /// The bucket it was forked from.
    pub fn parent(&self) -> &BucketName {
        &self.parent
    }

    /// The parent's version the fork reads through to (its snapshot, moved by a rebase).
    pub fn fork_point(&self) -> &SnapshotVersion {
        &self.fork_point
    }

    /// What the fork changed: fork now against the parent at the fork point. This is what a
    /// merge applies.
    pub fn fork_changes(&self) -> &[Change] {
        &self.fork_changes
    }

    /// What the parent changed: parent now against the parent at the fork point.
    pub fn parent_changes(&self) -> &[Change] {
        &self.parent_changes
    }

    /// The keys both changed, to different results (the same new ETag on both sides, or a
    /// delete on both, is no conflict). A merge refuses them unless told to overwrite.
    pub fn conflicts(&self) -> &[Conflict] {
        &self.conflicts
    }

    /// Whether the fork changed nothing.
    pub fn is_empty(&self) -> bool {
        self.fork_changes.is_empty()
    }
}

/// A merge that was applied; from [`MergeFork::send`](crate::MergeFork::send) or
/// [`ForkSet::promote`](crate::ForkSet::promote).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merge {
    pub(crate) version: SnapshotVersion,
    pub(crate) checkpoint: Checkpoint,
    pub(crate) diff: ForkDiff,
}

impl Merge {
    /// The snapshot of the parent Tigris took with the fork's changes in it.
    pub fn version(&self) -> &SnapshotVersion {
        &self.version
    }

    /// The checkpoint of the parent taken just before the merge: restore it
    /// ([`AgentKit::restore`](crate::AgentKit::restore)) to get the parent as it was.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The diff the merge was decided on; its [`fork_changes`](ForkDiff::fork_changes) are
    /// what was applied.
    pub fn diff(&self) -> &ForkDiff {
        &self.diff
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_is_a_nanosecond_timestamp() {
        let version = SnapshotVersion::new("1792493847118382304").unwrap();
        assert_eq!(
            version_time(&version),
            UNIX_EPOCH + Duration::new(1_792_493_847, 118_382_304)
        );
    }
}
