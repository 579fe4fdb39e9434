//! Merging a fork into its parent, behind a checkpoint so it can be undone, and refusing to
//! overwrite what the parent changed meanwhile unless told to.

use tigris_core::BucketName;
use tigris_core::error::answer_may_have_applied;
use tigris_headers::prelude::*;

use crate::diff;
use crate::error::{Error, Leftover, Operation, Result, Step};
use crate::kit::AgentKit;
use crate::types::{Checkpoint, Merge};
use crate::undo::{Undo, UndoLog};
use crate::validate;

/// What a merge does with keys both the fork and its parent changed since the fork point.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OnConflict {
    /// Merge nothing and fail with [`ErrorKind::Conflict`](crate::ErrorKind::Conflict),
    /// listing the keys in [`Error::conflicts`]. The default.
    #[default]
    Refuse,
    /// Merge anyway: the fork's version of each conflicting key wins.
    Overwrite,
}

/// Merges a fork into its parent; from [`AgentKit::merge`].
///
/// 1. [Diffs](AgentKit::diff) the fork (a `HeadBucket` and three listings);
/// 2. with [conflicts](ForkDiff::conflicts), stops there unless
///    [`on_conflict`](Self::on_conflict) is [`OnConflict::Overwrite`]: nothing was changed;
/// 3. takes a checkpoint of the parent, named `before-merge-{fork}`;
/// 4. merges (`PUT /{parent}` with `X-Tigris-Merge-Source-Bucket`).
///
/// If the merge is refused, the checkpoint is deleted again. If it fails ambiguously (a server
/// error or a lost connection: it may have been applied), the checkpoint is kept and returned
/// as a [`Leftover::Snapshot`]: restore it if the parent has the fork's changes. The snapshot
/// of the parent a merge that went through made (its version was in the lost answer) is found
/// by listing the parent's snapshots after the checkpoint, and reported as a
/// [`Leftover::Snapshot`] too.
///
/// Writes to the parent after the diff are not seen by the conflict check; the merge still
/// applies only what the fork changed.
///
/// ```no_run
/// # async fn demo(kit: tigris_agent_kit::AgentKit) -> Result<(), tigris_agent_kit::Error> {
/// use tigris_agent_kit::{ErrorKind, OnConflict};
///
/// let merged = match kit.merge().fork("datasets-exp").send().await {
///     Ok(merged) => merged,
///     Err(e) if e.kind() == ErrorKind::Conflict => {
///         eprintln!("both changed {:?}; merging anyway", e.conflicts());
///         kit.merge().fork("datasets-exp").on_conflict(OnConflict::Overwrite).send().await?
///     }
///     Err(e) => return Err(e),
/// };
/// println!("{} changes merged as {}", merged.diff().fork_changes().len(), merged.version());
/// // Changed your mind: the parent as it was before the merge, in a new bucket.
/// let before = kit.restore().bucket("datasets").version(merged.checkpoint().version()).send().await?;
/// # let _ = before;
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "nothing is merged until send() is awaited"]
pub struct MergeFork {
    kit: AgentKit,
    fork: Option<String>,
    on_conflict: OnConflict,
    page_size: Option<i32>,
}

impl MergeFork {
    pub(crate) fn new(kit: AgentKit) -> Self {
        Self {
            kit,
            fork: None,
            on_conflict: OnConflict::default(),
            page_size: None,
        }
    }

    /// The fork to merge into its parent (required).
    pub fn fork(mut self, fork: impl AsRef<str>) -> Self {
        self.fork = Some(fork.as_ref().to_owned());
        self
    }

    /// What to do with keys both sides changed; [`OnConflict::Refuse`] unless set.
    pub fn on_conflict(mut self, on_conflict: OnConflict) -> Self {
        self.on_conflict = on_conflict;
        self
    }

    /// The diff's listing page size, as [`DiffFork::page_size`](crate::DiffFork::page_size).
    pub fn page_size(mut self, keys: i32) -> Self {
        self.page_size = Some(keys);
        self
    }

    /// Validates the name, diffs, checkpoints the parent and merges.
    ///
    /// # Errors
    /// - as [`DiffFork::send`](crate::DiffFork::send), before anything is changed;
    /// - [`ErrorKind::Conflict`](crate::ErrorKind::Conflict) with the keys in
    ///   [`Error::conflicts`], before anything is changed;
    /// - the checkpoint's failure ([`Step::CreateSnapshot`]);
    /// - the merge's failure ([`Step::Merge`]), with the checkpoint removed, or kept as a
    ///   leftover when the merge may have been applied.
    #[tracing::instrument(skip_all, fields(fork = ?self.fork))]
    pub async fn send(self) -> Result<Merge> {
        let operation = Operation::Merge {
            fork: self.fork.clone().unwrap_or_default(),
        };
        let raw = validate::required(&operation, "fork", self.fork.as_deref())?;
        let fork = validate::bucket_name(&operation, "fork name", raw)?;
        if self.page_size.is_some_and(|n| n < 1) {
            return Err(Error::invalid_input(
                operation,
                "the page size must be at least 1",
            ));
        }
        merge(
            &self.kit,
            &operation,
            fork,
            self.on_conflict,
            self.page_size,
        )
        .await
    }
}

/// Diffs, checks for conflicts, checkpoints the parent and merges; `operation` labels errors.
pub(crate) async fn merge(
    kit: &AgentKit,
    operation: &Operation,
    fork: BucketName,
    on_conflict: OnConflict,
    page_size: Option<i32>,
) -> Result<Merge> {
    let diff = diff::diff(kit, operation, fork, page_size).await?;
    if !diff.conflicts().is_empty() && on_conflict == OnConflict::Refuse {
        let keys = diff
            .conflicts()
            .iter()
            .map(|c| c.key().to_owned())
            .collect();
        return Err(Error::conflicting(operation.clone(), keys));
    }
    let parent = diff.parent().clone();
    let label = format!("before-merge-{}", diff.fork());
    let name = tigris_headers::SnapshotName::new(label.as_str()).map_err(|e| {
        Error::invalid_input(operation.clone(), "the checkpoint name is invalid").with_source(e)
    })?;
    let checkpoint =
        crate::ambiguous::create_snapshot(kit, &parent, Some(name.as_ref()), operation).await?;
    tracing::debug!(%checkpoint, "parent checkpointed");
    let merged = kit
        .api()
        .merge_fork()
        .fork(diff.fork())
        .parent(&parent)
        .send()
        .await;
    match merged {
        Ok(version) => {
            tracing::debug!(%version, "fork merged");
            Ok(Merge {
                version,
                checkpoint: Checkpoint::taken(checkpoint, Some(label)),
                diff,
            })
        }
        Err(err) => {
            let may_have_applied = err
                .status()
                .is_none_or(|status| answer_may_have_applied(status, err.code()));
            let err = Error::from_api(operation.clone(), Step::Merge, err);
            if may_have_applied {
                // The checkpoint is the way back if the merge went through; a merge that went
                // through also made a snapshot of the parent, after the checkpoint, whose
                // version was in the lost answer: found by listing.
                let mut leftovers = vec![Leftover::Snapshot {
                    bucket: parent.clone(),
                    version: checkpoint.clone(),
                }];
                match kit
                    .s3()
                    .list_snapshots()
                    .bucket(&parent)
                    .into_paginator()
                    .items()
                    .send()
                    .try_collect()
                    .await
                {
                    Ok(all) => leftovers.extend(
                        all.iter()
                            .filter(|s| s.version().as_u64() > checkpoint.as_u64())
                            .map(|s| Leftover::Snapshot {
                                bucket: parent.clone(),
                                version: s.version().clone(),
                            }),
                    ),
                    Err(_) => leftovers.push(Leftover::MaybeSnapshot {
                        bucket: parent.clone(),
                        created_after: crate::types::version_time(&checkpoint),
                    }),
                }
                Err(err.with_leftovers(leftovers))
            } else {
                let mut log = UndoLog::default();
                log.push(Undo::DeleteSnapshot {
                    bucket: parent,
                    version: checkpoint,
                });
                let leftovers = log.unwind(kit, operation).await;
                Err(err.with_leftovers(leftovers).rolled_back())
            }
        }
    }
}

impl AgentKit {
    /// Starts merging a fork into its parent, behind a checkpoint of the parent. See
    /// [`MergeFork`].
    ///
    /// ```no_run
    /// # async fn demo(kit: tigris_agent_kit::AgentKit) -> Result<(), tigris_agent_kit::Error> {
    /// let merged = kit.merge().fork("datasets-exp").send().await?;
    /// println!("merged as {}; undo from {}", merged.version(), merged.checkpoint().version());
    /// # Ok(()) }
    /// ```
    pub fn merge(&self) -> MergeFork {
        MergeFork::new(self.clone())
    }
}
