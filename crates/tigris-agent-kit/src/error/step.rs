//! Which step of a workflow failed, and what the kit was asked to do.

use std::fmt;

/// The step of a workflow that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Step {
    /// `CreateBucket` of a workspace.
    CreateBucket,
    /// `PutBucketLifecycleConfiguration`: the workspace's TTL rule.
    PutLifecycle,
    /// Creating scoped credentials (`CreateAccessKey`, `CreatePolicy`, `AttachUserPolicy`;
    /// the IAM error in [`source`](std::error::Error::source) says which).
    CreateCredentials,
    /// Taking a snapshot (`CreateBucket` with `X-Tigris-Snapshot`).
    CreateSnapshot,
    /// Creating a fork (`CreateBucket` with `X-Tigris-Fork-Source-Bucket`), for
    /// [`create_forks`](crate::AgentKit::create_forks) and [`restore`](crate::AgentKit::restore).
    CreateFork,
    /// Listing snapshots.
    ListSnapshots,
    /// Revoking scoped credentials.
    RevokeCredentials,
    /// Force-deleting a bucket.
    DeleteBucket,
    /// Deleting a snapshot.
    DeleteSnapshot,
    /// Removing IAM resources an earlier failure left behind.
    CleanUpCredentials,
    /// Setting a bucket's object notifications.
    SetNotifications,
    /// Clearing a bucket's object notifications.
    ClearNotifications,
    /// Reading a fork's parent and fork point (`HeadBucket`).
    ReadForkPoint,
    /// Listing objects (`ListObjectsV2`), for a diff.
    ListObjects,
    /// Merging a fork into its parent.
    Merge,
    /// Fetching objects as a bundle and writing them to a local directory.
    Bundle,
    /// Reading a bucket's soft-delete setting before a teardown (`GET /{bucket}?metadata`).
    ReadSoftDelete,
    /// Turning soft delete off so a teardown deletes for good.
    DisableSoftDelete,
    /// Turning soft delete back on after a teardown's delete failed.
    RestoreSoftDelete,
    /// Writing a lease or task-claim object with a condition (`PutObject` with
    /// `If-None-Match: *` or `If-Match`).
    WriteLease,
    /// Reading a lease or task-claim object (`GetObject`), to judge its expiry or to find out
    /// whether a write whose response was lost was applied.
    ReadLease,
    /// Deleting a lease object (`DeleteObject` with `If-Match`).
    DeleteLease,
    /// Listing a task queue's tasks, claims and hints (`ListObjectsV2`).
    ListTasks,
    /// Writing a task (`PutObject` with `If-None-Match: *`).
    WriteTask,
    /// Reading a task's payload (`GetObject`).
    ReadTask,
    /// Writing or deleting a queue's `done/` or `retry/` hint (advisory: the claim object is
    /// the truth).
    WriteHint,
}

impl Step {
    fn describe(self) -> &'static str {
        match self {
            Self::CreateBucket => "creating the bucket",
            Self::PutLifecycle => "setting the TTL lifecycle rule",
            Self::CreateCredentials => "creating scoped credentials",
            Self::CreateSnapshot => "taking a snapshot",
            Self::CreateFork => "creating the fork",
            Self::ListSnapshots => "listing snapshots",
            Self::RevokeCredentials => "revoking the credentials",
            Self::DeleteBucket => "deleting the bucket",
            Self::DeleteSnapshot => "deleting the snapshot",
            Self::CleanUpCredentials => "removing leftover credentials",
            Self::SetNotifications => "setting notifications",
            Self::ClearNotifications => "clearing notifications",
            Self::ReadForkPoint => "reading the fork point",
            Self::ListObjects => "listing objects",
            Self::Merge => "merging the fork",
            Self::Bundle => "fetching a bundle into the directory",
            Self::ReadSoftDelete => "reading the soft-delete setting",
            Self::DisableSoftDelete => "turning soft delete off",
            Self::RestoreSoftDelete => "turning soft delete back on",
            Self::WriteLease => "writing the lease object",
            Self::ReadLease => "reading the lease object",
            Self::DeleteLease => "deleting the lease object",
            Self::ListTasks => "listing the queue",
            Self::WriteTask => "writing the task",
            Self::ReadTask => "reading the task",
            Self::WriteHint => "writing the queue hint",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// What the kit was asked to do; it opens the `Display` sentence.
#[derive(Debug, Clone)]
pub(crate) enum Operation {
    Build,
    NotificationConfig,
    CreateWorkspace { bucket: String },
    TeardownWorkspace { bucket: String },
    CreateForks { base: String },
    CreateFork { bucket: String },
    TeardownForks { base: String },
    TeardownFork { bucket: String },
    Checkpoint { bucket: String },
    Restore { bucket: String, version: String },
    ListCheckpoints { bucket: String },
    SetNotifications { bucket: String },
    ClearNotifications { bucket: String },
    Diff { fork: String },
    Merge { fork: String },
    Promote { base: String, fork: String },
    Pull { bucket: String },
    AcquireLease { bucket: String, key: String },
    RenewLease { bucket: String, key: String },
    ReleaseLease { bucket: String, key: String },
    PushTask { bucket: String, key: String },
    ClaimTask { bucket: String, prefix: String },
    RenewClaim { bucket: String, key: String },
    CompleteTask { bucket: String, key: String },
    FailTask { bucket: String, key: String },
    QueueStatus { bucket: String, prefix: String },
}

impl Operation {
    /// The kit call's name, as [`Error::operation`](crate::Error::operation) reports it.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::Build => "Build",
            Self::NotificationConfig => "NotificationConfig",
            Self::CreateWorkspace { .. } => "CreateWorkspace",
            Self::TeardownWorkspace { .. } => "TeardownWorkspace",
            Self::CreateForks { .. } => "CreateForks",
            Self::CreateFork { .. } => "CreateFork",
            Self::TeardownForks { .. } => "TeardownForks",
            Self::TeardownFork { .. } => "TeardownFork",
            Self::Checkpoint { .. } => "Checkpoint",
            Self::Restore { .. } => "Restore",
            Self::ListCheckpoints { .. } => "ListCheckpoints",
            Self::SetNotifications { .. } => "SetNotifications",
            Self::ClearNotifications { .. } => "ClearNotifications",
            Self::Diff { .. } => "Diff",
            Self::Merge { .. } => "Merge",
            Self::Promote { .. } => "Promote",
            Self::Pull { .. } => "Pull",
            Self::AcquireLease { .. } => "AcquireLease",
            Self::RenewLease { .. } => "RenewLease",
            Self::ReleaseLease { .. } => "ReleaseLease",
            Self::PushTask { .. } => "PushTask",
            Self::ClaimTask { .. } => "ClaimTask",
            Self::RenewClaim { .. } => "RenewClaim",
            Self::CompleteTask { .. } => "CompleteTask",
            Self::FailTask { .. } => "FailTask",
            Self::QueueStatus { .. } => "QueueStatus",
        }
    }

    pub(crate) fn bucket(&self) -> Option<&str> {
        match self {
            Self::Build | Self::NotificationConfig => None,
            Self::CreateWorkspace { bucket }
            | Self::TeardownWorkspace { bucket }
            | Self::CreateFork { bucket }
            | Self::TeardownFork { bucket }
            | Self::Checkpoint { bucket }
            | Self::Restore { bucket, .. }
            | Self::ListCheckpoints { bucket }
            | Self::SetNotifications { bucket }
            | Self::ClearNotifications { bucket }
            | Self::Pull { bucket }
            | Self::AcquireLease { bucket, .. }
            | Self::RenewLease { bucket, .. }
            | Self::ReleaseLease { bucket, .. }
            | Self::PushTask { bucket, .. }
            | Self::ClaimTask { bucket, .. }
            | Self::RenewClaim { bucket, .. }
            | Self::CompleteTask { bucket, .. }
            | Self::FailTask { bucket, .. }
            | Self::QueueStatus { bucket, .. } => Some(bucket),
            Self::Diff { fork } | Self::Merge { fork } => Some(fork),
            Self::Promote { base, .. } => Some(base),
            Self::CreateForks { base } | Self::TeardownForks { base } => Some(base),
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Build => f.write_str("set up the agent kit"),
            Self::NotificationConfig => f.write_str("build the notification config"),
            Self::CreateWorkspace { bucket } => write!(f, "create workspace {bucket:?}"),
            Self::TeardownWorkspace { bucket } => {
                write!(f, "fully tear down workspace {bucket:?}")
            }
            Self::CreateForks { base } => write!(f, "create forks of {base:?}"),
            Self::CreateFork { bucket } => write!(f, "create fork {bucket:?}"),
            Self::TeardownForks { base } => write!(f, "fully tear down the forks of {base:?}"),
            Self::TeardownFork { bucket } => write!(f, "fully tear down fork {bucket:?}"),
            Self::Checkpoint { bucket } => write!(f, "checkpoint bucket {bucket:?}"),
            Self::Restore { bucket, version } => {
                write!(f, "restore bucket {bucket:?} at snapshot {version:?}")
            }
            Self::ListCheckpoints { bucket } => {
                write!(f, "list the checkpoints of bucket {bucket:?}")
            }
            Self::SetNotifications { bucket } => {
                write!(f, "set the notifications of bucket {bucket:?}")
            }
            Self::ClearNotifications { bucket } => {
                write!(f, "clear the notifications of bucket {bucket:?}")
            }
            Self::Diff { fork } => write!(f, "diff fork {fork:?}"),
            Self::Merge { fork } => write!(f, "merge fork {fork:?}"),
            Self::Promote { base, fork } => {
                write!(f, "promote fork {fork:?} into {base:?}")
            }
            Self::Pull { bucket } => write!(f, "pull bucket {bucket:?} into a directory"),
            Self::AcquireLease { bucket, key } => {
                write!(f, "acquire lease {key:?} in bucket {bucket:?}")
            }
            Self::RenewLease { bucket, key } => {
                write!(f, "renew lease {key:?} in bucket {bucket:?}")
            }
            Self::ReleaseLease { bucket, key } => {
                write!(f, "release lease {key:?} in bucket {bucket:?}")
            }
            Self::PushTask { bucket, key } => write!(f, "push task {key:?} to bucket {bucket:?}"),
            Self::ClaimTask { bucket, prefix } => {
                write!(f, "claim a task of queue {prefix:?} in bucket {bucket:?}")
            }
            Self::RenewClaim { bucket, key } => {
                write!(f, "renew the claim {key:?} in bucket {bucket:?}")
            }
            Self::CompleteTask { bucket, key } => {
                write!(
                    f,
                    "complete the task claimed by {key:?} in bucket {bucket:?}"
                )
            }
            Self::FailTask { bucket, key } => {
                write!(f, "fail the task claimed by {key:?} in bucket {bucket:?}")
            }
            Self::QueueStatus { bucket, prefix } => {
                write!(
                    f,
                    "read the status of queue {prefix:?} in bucket {bucket:?}"
                )
            }
        }
    }
}
