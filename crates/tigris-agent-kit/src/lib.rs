//! Workspaces, parallel forks, checkpoints and coordination for AI agents on Tigris, each one
//! call, with rollback so that nothing leaks.
//!
//! An [`AgentKit`] is built once from the [`SdkConfig`](aws_types::SdkConfig) your S3 client
//! uses and shared (it is an `Arc`). Each workflow is a builder ending in `.send().await`; what
//! it creates comes back as a handle that can tear itself down ([`Workspace`], [`ForkSet`]).
//! Input is validated before the first request, and when a later step fails, the steps before
//! it are undone; whatever could not be undone is returned as [`Leftover`]s, never swallowed.
//!
//! # Examples
//! ```no_run
//! use std::time::{Duration, SystemTime};
//!
//! use aws_sdk_s3::config::Credentials;
//! use tigris_agent_kit::{AgentKit, NotificationConfig, Role};
//! use tigris_core::config;
//! use tigris_headers::prelude::*;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let sdk = config::builder()
//!     .credentials(Credentials::new("tid_...", "tsec_...", None, None, "example"))
//!     .build();
//! let kit = AgentKit::new(&sdk)?;
//!
//! // A workspace per agent: a bucket, a TTL, a key that can only touch that bucket.
//! let workspace = kit
//!     .create_workspace().bucket("agent-7-scratch")
//!     .credentials(Role::Editor)
//!     .credentials_expire_at(SystemTime::now() + Duration::from_secs(3600))
//!     .send()
//!     .await?;
//!
//! // Checkpoint it, let the agent work, and restore the old state next to it if needed.
//! let before = kit.checkpoint().bucket(workspace.bucket()).name("before-run").send().await?;
//! let restored = kit.restore().bucket(workspace.bucket()).version(before.version()).send().await?;
//!
//! // Eight agents on eight copy-on-write forks of a dataset, made concurrently.
//! let forks = kit.create_forks().base("datasets").count(8).credentials(Role::Editor).send().await?;
//!
//! // Coordination: Tigris POSTs object events of the workspace to a webhook.
//! let config = NotificationConfig::builder("https://agents.example.com/events")
//!     .token("a-long-random-token")
//!     .build()?;
//! kit.set_notifications(&workspace, &config).await?;
//!
//! forks.teardown().await?;
//! kit.s3().delete_bucket().bucket(restored.as_str()).force_delete().send().await?;
//! workspace.teardown().await?;
//! # Ok(()) }
//! ```
//!
//! # Crate organization
//! - [`AgentKit`] / [`AgentKitBuilder`]: the shared clients (S3, IAM, signed transport) and
//!   the entry points.
//! - Workspaces: [`CreateWorkspace`] → [`Workspace`] (bucket, snapshots, TTL, credentials).
//! - Forks: [`CreateForks`] → [`ForkSet`] of [`Fork`]s and [`ForkFailure`]s.
//! - Local copies: [`Pull`] (from [`AgentKit::pull`]) writes a workspace or fork into a
//!   directory through bundles, streamed, never outside the directory.
//! - Checkpoints: [`CreateCheckpoint`] → [`Checkpoint`], [`Restore`], [`ListCheckpoints`].
//! - Diffs and merges: [`DiffFork`] → [`ForkDiff`] of [`Change`]s and [`Conflict`]s;
//!   [`MergeFork`] → [`Merge`] (with [`OnConflict`]); [`ForkSet::promote`] ([`Promote`]).
//! - Coordination: [`AgentKit::set_notifications`] / [`AgentKit::clear_notifications`] with
//!   a [`NotificationConfig`], and the receiving side re-exported from [`tigris_notify`]:
//!   [`WebhookPayload`], [`ObjectEvent`], [`EventName`], [`WebhookAuth`].
//!   `examples/coordination.rs` runs two agents on forks and a coordinator receiving their
//!   events as a typed stream (`cargo run -p tigris-agent-kit --example coordination`).
//! - Leases and task queues on conditional writes: [`AgentKit::lease`] → [`LeaseBuilder`] →
//!   [`Lease`] (renew, release, or a background [`LeaseGuard`]); [`AgentKit::task_queue`] →
//!   [`TaskQueue`] (batch push, claim by group commit on one index object, dead letters,
//!   per-task state) → [`ClaimedTask`] (renew, complete exactly once with a result, fail).
//!   Expiry is judged by the server's clock; see [`lease`] and [`queue`] for the guarantees
//!   and the bucket-type caveat. `examples/task_queue.rs` drains a queue with 8 agents on
//!   forks (`cargo run -p tigris-agent-kit --example task_queue`).
//! - [`error`]: [`Error`], [`ErrorKind`], [`Step`], [`Leftover`].
//! - Re-exported names: [`BucketName`], [`SnapshotVersion`], [`SnapshotName`], [`Role`],
//!   [`ScopedAccessKey`].
//!
//! # Guarantees
//! - **Nothing leaks.** A workspace whose TTL or credentials step fails is deleted again. A
//!   fork whose credentials fail is deleted and reported, not kept without credentials. A fork
//!   set's teardown deletes the snapshot the set took. Rollback and teardown failures are
//!   returned as [`Leftover`]s, never suppressed.
//! - **Lost responses are checked.** A bucket-creating `CreateBucket` (workspace, fork,
//!   restore) that fails ambiguously (see below) is followed by a `HeadBucket`, and a bucket it
//!   made anyway is removed again.
//!
//! # Ambiguous failures
//! A request that times out, loses its connection after being sent, or gets a server error
//! (5xx other than throttling) may have been carried out: only the response was lost. The kit
//! treats such a failure as "maybe done":
//! - a `CreateBucket` that makes a bucket (workspace, fork, restore) is followed by a
//!   `HeadBucket` of that name. If the bucket is there and is what the request makes (a new
//!   bucket with the asked snapshot setting; a fork of the right bucket at the right
//!   snapshot), it is most likely this call's (a bucket that existed before answers a
//!   *conflict*, not a server error), so it is force-deleted like any bucket the call made,
//!   and the error keeps the original cause. A bucket that is not what the request makes is
//!   someone else's and is left alone, and so is a workspace-named bucket that already holds
//!   objects (one this call made would be empty): data that was there is never deleted. If the probe or the delete fails, the bucket is a
//!   [`Leftover::Bucket`]. With SDK retries on, a lost response usually comes back as a
//!   conflict on the retry (`BucketAlreadyOwnedByYou`); every attempt is watched, so that case
//!   is handled the same way;
//! - a snapshot (`CreateBucket` with `X-Tigris-Snapshot`, taken by a fork set or a
//!   checkpoint, or a merge's checkpoint) is sent without automatic retry (a retry after a lost
//!   response would take a second one); after an ambiguous failure the bucket's snapshots
//!   taken since (with the same name, for a named one) are listed: none means it is sent
//!   again, some are reported as [`Leftover::Snapshot`]s, and a failed listing as a
//!   [`Leftover::MaybeSnapshot`];
//! - scoped credentials follow [`tigris_iam`]'s rules: a policy whose creation response was
//!   lost is found by name and removed; an access key whose creation response was lost is
//!   reported as a [`tigris_iam::Leftover::MaybeAccessKey`] with the ids that may be it (see
//!   [`tigris_iam::CreateScopedKey`]).
//! - **Partial failure is explicit.** [`ForkSet::failures`] lists every fork that could not
//!   be made and why; the others read "fewer forks than asked" from a shorter list, or stop at
//!   the first failure.
//! - **Forks are made concurrently**, [`DEFAULT_FORK_CONCURRENCY`] at a time (both are
//!   sequential).
//! - **Validation before any request**: bucket and fork names (every one, including the
//!   default `{base}-fork-{snapshot}-{i}`, against the 63-character limit), count
//!   (1..=[`MAX_FORKS`]), TTL, checkpoint names, snapshot versions, credentials expiry, webhook
//!   URL and auth.
//! - **Credentials can expire** ([`CreateWorkspace::credentials_expire_at`]), and
//!   `Debug` never shows a secret.
//! - Checkpoint times come from the server (the version's timestamp, or the listing), not the
//!   client clock; [`AgentKit::list_checkpoints`] pages as the SDK does (`into_paginator()`).
//!
//! # Tigris vs S3
//! Snapshots, forks, force delete and notifications are Tigris extensions
//! ([`tigris_headers`], [`tigris_notify`]); scoped credentials are IAM policies on Tigris's IAM
//! endpoint ([`tigris_iam`]). Only the TTL is plain S3 (`PutBucketLifecycleConfiguration`).
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings), allow(dead_code))))]

pub mod error;
pub mod lease;
pub mod queue;

mod ambiguous;
mod cas;
mod checkpoint;
mod diff;
mod fork;
mod kit;
mod merge;
mod pull;
mod types;
mod undo;
mod validate;
mod workspace;

pub use checkpoint::{
    CheckpointPage, CreateCheckpoint, ListCheckpoints, ListCheckpointsItems,
    ListCheckpointsPaginator, Restore,
};
pub use diff::DiffFork;
pub use error::{Error, ErrorKind, Leftover, Result, Step};
pub use fork::{
    CreateForks, Fork, ForkFailure, ForkSet, MAX_FORKS, MAX_SNAPSHOT_VERSION_DIGITS, Promote,
};
pub use kit::{AgentKit, AgentKitBuilder, AsBucket, DEFAULT_FORK_CONCURRENCY};
pub use lease::{DEFAULT_LEASE_TTL, Lease, LeaseBuilder, LeaseGuard};
pub use merge::{MergeFork, OnConflict};
pub use pull::{DEFAULT_PULL_CONCURRENCY, Pull, PullReport};
pub use queue::{
    ClaimedTask, DeadLetter, DeadLetterPage, ListDeadLetters, QueueStatus, TaskInfo, TaskQueue,
    TaskQueueBuilder, TaskState,
};
pub use types::{Change, ChangeKind, Checkpoint, Conflict, ForkDiff, Merge, ObjectSummary};
pub use workspace::{CreateWorkspace, TTL_RULE_ID, Workspace};

pub use tigris_core::BucketName;
pub use tigris_headers::{SnapshotName, SnapshotVersion};
pub use tigris_iam::{Role, ScopedAccessKey, SecretAccessKey};
pub use tigris_notify::{
    EventName, EventObject, NotificationConfig, NotificationConfigBuilder, ObjectEvent,
    WebhookAuth, WebhookPassword, WebhookPayload, WebhookToken,
};

/// Compiles the README's example as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
