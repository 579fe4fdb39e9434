//! Undo as data: each step that created a bucket or a snapshot records its inverse; unwinding
//! runs them newest first, tries every one, and returns what could not be removed.
//!
//! IAM resources are not in this log: `tigris-iam` rolls back its own steps and reports its
//! leftovers, which the callers here add to theirs. A bucket whose creation failed ambiguously
//! is unwound here too, once `ambiguous` has found it.

use aws_sdk_s3::error::DisplayErrorContext;
use tigris_api::update_bucket::SoftDeleteSetting;
use tigris_core::BucketName;
use tigris_headers::SnapshotVersion;
use tigris_headers::prelude::*;

use crate::error::{Error, Leftover, Operation, Step};
use crate::kit::AgentKit;

/// The inverse of one step. Each is idempotent: already gone counts as done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Undo {
    /// Force-delete a bucket (objects, snapshots and all).
    DeleteBucket(BucketName),
    /// Delete one snapshot of a bucket.
    DeleteSnapshot {
        bucket: BucketName,
        version: SnapshotVersion,
    },
}

impl Undo {
    pub(crate) fn leftover(&self) -> Leftover {
        match self.clone() {
            Self::DeleteBucket(bucket) => Leftover::Bucket { bucket },
            Self::DeleteSnapshot { bucket, version } => Leftover::Snapshot { bucket, version },
        }
    }

    /// Runs the inverse; `operation` labels the error.
    pub(crate) async fn run(&self, kit: &AgentKit, operation: Operation) -> Result<(), Error> {
        match self {
            Self::DeleteBucket(bucket) => force_delete(kit, bucket, operation).await,
            Self::DeleteSnapshot { bucket, version } => {
                delete_snapshot(kit, bucket, version, operation).await
            }
        }
    }
}

/// The inverses of what has been created so far, in creation order.
#[derive(Debug, Default)]
pub(crate) struct UndoLog(Vec<Undo>);

impl UndoLog {
    pub(crate) fn push(&mut self, undo: Undo) {
        self.0.push(undo);
    }

    /// What would be left if nothing were undone.
    pub(crate) fn leftovers(&self) -> Vec<Leftover> {
        self.0.iter().rev().map(Undo::leftover).collect()
    }

    /// Runs every inverse, newest first; a failed one does not stop the others. Returns what
    /// is still there.
    pub(crate) async fn unwind(self, kit: &AgentKit, operation: &Operation) -> Vec<Leftover> {
        let mut leftovers = Vec::new();
        for undo in self.0.into_iter().rev() {
            match undo.run(kit, operation.clone()).await {
                Ok(()) => tracing::debug!(?undo, "undone"),
                Err(err) => {
                    tracing::warn!(?undo, error = %DisplayErrorContext(&err), "could not undo; reporting it as a leftover");
                    leftovers.push(undo.leftover());
                }
            }
        }
        leftovers
    }
}

/// Force-deletes `bucket`; a bucket that is already gone counts as deleted.
pub(crate) async fn force_delete(
    kit: &AgentKit,
    bucket: &BucketName,
    operation: Operation,
) -> Result<(), Error> {
    let result = kit
        .s3()
        .delete_bucket()
        .bucket(bucket.as_str())
        .force_delete()
        .send()
        .await;
    match result {
        Ok(_) => {
            tracing::debug!(%bucket, "bucket deleted");
            Ok(())
        }
        Err(err) => {
            let err = Error::from_s3(operation, Step::DeleteBucket, err);
            if err.is_not_found() {
                tracing::debug!(%bucket, "bucket already gone");
                Ok(())
            } else {
                Err(err)
            }
        }
    }
}

/// Deletes `bucket` for good, as a teardown does: a bucket with soft delete on would otherwise
/// stay restorable (objects and name) for its retention, so soft delete is turned off first
/// (one metadata read, and a `PATCH` only when it is on). If the delete then fails, soft delete
/// is turned back on with the retention it had, so a bucket left behind keeps its protection.
/// A bucket already gone counts as deleted. Returns every failure, the delete's first.
pub(crate) async fn delete_for_good(
    kit: &AgentKit,
    bucket: &BucketName,
    operation: Operation,
) -> Result<(), Vec<Error>> {
    let api = kit.api();
    let soft_delete = match api.bucket_metadata().bucket(bucket).send().await {
        Ok(metadata) => metadata.soft_delete(),
        Err(err) => {
            let err = Error::from_api(operation, Step::ReadSoftDelete, err);
            return if err.is_not_found() {
                Ok(())
            } else {
                Err(vec![err])
            };
        }
    };
    if soft_delete.enabled {
        api.update_bucket()
            .bucket(bucket)
            .soft_delete(SoftDeleteSetting::Disabled)
            .send()
            .await
            .map_err(|e| {
                vec![Error::from_api(
                    operation.clone(),
                    Step::DisableSoftDelete,
                    e,
                )]
            })?;
        tracing::debug!(%bucket, "soft delete turned off for the teardown");
    }
    let Err(err) = force_delete(kit, bucket, operation.clone()).await else {
        return Ok(());
    };
    let mut failures = vec![err];
    if soft_delete.enabled {
        let setting = match soft_delete.retention_days {
            Some(retention_days) => SoftDeleteSetting::Enabled { retention_days },
            None => SoftDeleteSetting::EnabledKeepingRetention,
        };
        let again = api.update_bucket().bucket(bucket).soft_delete(setting);
        if let Err(e) = again.send().await {
            failures.push(Error::from_api(operation, Step::RestoreSoftDelete, e));
        }
    }
    Err(failures)
}

/// Deletes snapshot `version` of `bucket`; a snapshot (or bucket) that is already gone counts as
/// deleted.
pub(crate) async fn delete_snapshot(
    kit: &AgentKit,
    bucket: &BucketName,
    version: &SnapshotVersion,
    operation: Operation,
) -> Result<(), Error> {
    let result = kit
        .s3()
        .delete_snapshot()
        .bucket(bucket)
        .version(version)
        .send()
        .await;
    match result {
        Ok(()) => {
            tracing::debug!(%bucket, %version, "snapshot deleted");
            Ok(())
        }
        Err(err) => {
            let err = Error::from_headers(operation, Step::DeleteSnapshot, err);
            if err.is_not_found() {
                tracing::debug!(%bucket, %version, "snapshot already gone");
                Ok(())
            } else {
                Err(err)
            }
        }
    }
}
