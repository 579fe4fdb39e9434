//! What a failed call could not remove.

use std::fmt;

use tigris_core::BucketName;
use tigris_headers::SnapshotVersion;

/// Something a failed call created (or meant to remove) and could not remove.
///
/// Ids and names only, never secrets. Remove them by hand, or call the failed teardown again:
/// teardown is idempotent and retries what is still there.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Leftover {
    /// A bucket that still exists, or may: one whose creation response was lost and whose
    /// existence could not be checked is reported too.
    Bucket {
        /// Its name.
        bucket: BucketName,
    },
    /// A snapshot that still exists.
    Snapshot {
        /// The bucket it belongs to.
        bucket: BucketName,
        /// Its version.
        version: SnapshotVersion,
    },
    /// A snapshot that may exist with a version nobody knows: its creation failed in a way that
    /// may have made it (a lost response), and listing the bucket's snapshots to find it failed
    /// too. It was taken at or after `created_after`; list the bucket's snapshots to find it.
    MaybeSnapshot {
        /// The bucket it belongs to.
        bucket: BucketName,
        /// The earliest time it can have been taken.
        created_after: std::time::SystemTime,
    },
    /// An IAM resource (access key, policy or attachment) that still exists.
    Iam(tigris_iam::Leftover),
    /// A lease or task-claim object that may still hold this caller's token: a release that
    /// failed, or a conditional write whose response was lost and whose outcome could not be
    /// read back. It lapses by itself after its TTL; delete it sooner with `DeleteObject`.
    Lease {
        /// The bucket it is in.
        bucket: BucketName,
        /// Its key.
        key: String,
    },
    /// An object of a task queue that a failed call may have left: a batch object whose
    /// queuing failed in a way that may have applied (its tasks are queued, or the object is
    /// unused: look its tasks up with `TaskQueue::task` before deleting it), or the record of a
    /// task whose completion was committed but whose record write failed and may have applied.
    QueueObject {
        /// The bucket it is in.
        bucket: BucketName,
        /// Its key.
        key: String,
    },
}

impl fmt::Display for Leftover {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bucket { bucket } => write!(f, "bucket {bucket}"),
            Self::Snapshot { bucket, version } => {
                write!(f, "snapshot {version} of bucket {bucket}")
            }
            Self::MaybeSnapshot { bucket, .. } => write!(
                f,
                "a snapshot of bucket {bucket} whose creation answer was lost (listing the \
                 snapshots failed)"
            ),
            Self::Iam(leftover) => leftover.fmt(f),
            Self::Lease { bucket, key } => write!(f, "lease object {key} in bucket {bucket}"),
            Self::QueueObject { bucket, key } => {
                write!(f, "task queue object {key} in bucket {bucket}")
            }
        }
    }
}

impl From<tigris_iam::Leftover> for Leftover {
    fn from(leftover: tigris_iam::Leftover) -> Self {
        Self::Iam(leftover)
    }
}
