//! Checkpoints: named snapshots of a bucket, restoring one into a new bucket, and listing them.

use tigris_core::BucketName;
use tigris_headers::prelude::*;
use tigris_headers::{SnapshotName, SnapshotVersion};

use crate::ambiguous::{self, Makes};
use crate::error::{Error, Operation, Result, Step};
use crate::kit::AgentKit;
use crate::types::{Checkpoint, version_time};
use crate::validate;

/// Takes a checkpoint; from [`AgentKit::checkpoint`].
///
/// One request: `CreateBucket` of the existing bucket with `X-Tigris-Snapshot: true` (plus
/// `; name=<name>`). The bucket must have snapshots enabled. A checkpoint is immutable and
/// costs nothing until the bucket changes; it goes when the bucket is deleted.
///
/// If the request fails ambiguously (a timeout, a server error), the snapshot may have been
/// taken although its version never arrived; it cannot be found by version, and stays with the
/// bucket until the bucket is deleted.
///
/// ```no_run
/// # async fn demo(kit: tigris_agent_kit::AgentKit) -> Result<(), tigris_agent_kit::Error> {
/// let before = kit.checkpoint().bucket("agent-7-scratch").name("before-refactor").send().await?;
/// // ... the agent makes a mess ...
/// let restored = kit.restore().bucket("agent-7-scratch").version(before.version()).send().await?;
/// println!("the old state is in {restored}");
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "nothing is created until send() is awaited"]
pub struct CreateCheckpoint {
    kit: AgentKit,
    bucket: Option<String>,
    name: Option<String>,
}

impl CreateCheckpoint {
    pub(crate) fn new(kit: AgentKit) -> Self {
        Self {
            kit,
            bucket: None,
            name: None,
        }
    }

    /// The bucket to checkpoint (required); it must have snapshots enabled.
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = Some(bucket.as_ref().to_owned());
        self
    }

    /// Labels the checkpoint; the label must be a valid [`SnapshotName`] (1 to 128
    /// characters, no `;`, `=` or control characters, no surrounding whitespace).
    pub fn name(mut self, name: impl AsRef<str>) -> Self {
        self.name = Some(name.as_ref().to_owned());
        self
    }

    /// Validates the input, then takes the checkpoint.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for no
    /// [`bucket`](Self::bucket), an invalid bucket name or label; [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for
    /// an unknown bucket; otherwise the service's refusal (a bucket without snapshots enabled
    /// is refused).
    #[tracing::instrument(skip_all, fields(bucket = ?self.bucket))]
    pub async fn send(self) -> Result<Checkpoint> {
        let operation = Operation::Checkpoint {
            bucket: self.bucket.clone().unwrap_or_default(),
        };
        let raw = validate::required(&operation, "bucket", self.bucket.as_deref())?;
        let bucket = validate::bucket_name(&operation, "bucket name", raw)?;
        let name = self
            .name
            .map(|raw| {
                SnapshotName::new(raw).map_err(|e| {
                    Error::invalid_input(
                        operation.clone(),
                        format!(
                            "the checkpoint name {:?} is invalid: {}",
                            e.value(),
                            e.reason()
                        ),
                    )
                    .with_source(e)
                })
            })
            .transpose()?;
        let version = crate::ambiguous::create_snapshot(
            &self.kit,
            &bucket,
            name.as_ref().map(AsRef::as_ref),
            &operation,
        )
        .await?;
        tracing::debug!(%version, "checkpoint taken");
        Ok(Checkpoint {
            created: version_time(&version),
            version,
            name: name.map(String::from),
        })
    }
}

/// Restores a checkpoint into a new bucket; from [`AgentKit::restore`].
///
/// One request: `CreateBucket` of the new bucket as a copy-on-write fork of the bucket at the
/// snapshot (`X-Tigris-Fork-Source-Bucket` and `X-Tigris-Fork-Source-Bucket-Snapshot`). The
/// original bucket is untouched. The new bucket is named `{bucket}-restore-{version}` unless
/// [`fork_name`](Self::fork_name) says otherwise; the name is validated before the request
/// (with a 19-digit version, the default fits bucket names up to 35 characters).
///
/// If the request fails ambiguously (a timeout, a connection lost after sending, a server
/// error), a `HeadBucket` checks whether the restored bucket was made anyway, and
/// force-deletes it if it is a fork of the bucket at that snapshot (see
/// [the crate docs](crate#ambiguous-failures)).
#[derive(Debug)]
#[must_use = "nothing is created until send() is awaited"]
pub struct Restore {
    kit: AgentKit,
    bucket: Option<String>,
    version: Option<String>,
    fork_name: Option<String>,
}

impl Restore {
    pub(crate) fn new(kit: AgentKit) -> Self {
        Self {
            kit,
            bucket: None,
            version: None,
            fork_name: None,
        }
    }

    /// The bucket the checkpoint was taken of (required).
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = Some(bucket.as_ref().to_owned());
        self
    }

    /// The checkpoint's snapshot version (required), as [`Checkpoint::version`] gives it.
    pub fn version(mut self, version: impl AsRef<str>) -> Self {
        self.version = Some(version.as_ref().to_owned());
        self
    }

    /// Names the restored bucket.
    pub fn fork_name(mut self, name: impl Into<String>) -> Self {
        self.fork_name = Some(name.into());
        self
    }

    /// Validates the input, then creates the restored bucket and returns its name.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for no
    /// [`bucket`](Self::bucket) or [`version`](Self::version), an invalid bucket name, an empty
    /// or non-numeric version, or an invalid restored-bucket
    /// name; [`ErrorKind::Conflict`](crate::ErrorKind::Conflict) when that name is taken;
    /// otherwise the service's refusal. After an ambiguous failure the error is the request's
    /// own, with the restored bucket as a [`Leftover::Bucket`](crate::Leftover::Bucket) if it
    /// could not be checked or removed.
    ///
    /// # Cleanup
    /// A failed restore leaves no bucket but its leftover. The restored bucket is an ordinary
    /// bucket (with snapshots enabled) that stays until deleted; while it exists, the original
    /// cannot be deleted.
    #[tracing::instrument(skip_all, fields(bucket = ?self.bucket, version = ?self.version))]
    pub async fn send(self) -> Result<BucketName> {
        let operation = Operation::Restore {
            bucket: self.bucket.clone().unwrap_or_default(),
            version: self.version.clone().unwrap_or_default(),
        };
        let raw = validate::required(&operation, "bucket", self.bucket.as_deref())?;
        let bucket = validate::bucket_name(&operation, "bucket name", raw)?;
        let raw_version = validate::required(&operation, "version", self.version.as_deref())?;
        let version = SnapshotVersion::new(raw_version).map_err(|e| {
            Error::invalid_input(
                operation.clone(),
                format!(
                    "the snapshot version {:?} is invalid: {}",
                    e.value(),
                    e.reason()
                ),
            )
            .with_source(e)
        })?;
        let target = match &self.fork_name {
            Some(name) => validate::bucket_name(&operation, "restored bucket name", name)?,
            None => validate::bucket_name(
                &operation,
                "default restored bucket name",
                &format!("{bucket}-restore-{version}"),
            )?,
        };
        let request = self
            .kit
            .s3()
            .create_bucket()
            .bucket(target.as_str())
            .fork_of_snapshot(&bucket, &version);
        let makes = Makes::Fork {
            base: &bucket,
            snapshot: &version,
        };
        ambiguous::create_bucket(
            &self.kit,
            &operation,
            Step::CreateFork,
            &target,
            makes,
            request,
        )
        .await?;
        tracing::debug!(restored = %target, "restored");
        Ok(target)
    }
}

/// Lists a bucket's checkpoints a page at a time; from [`AgentKit::list_checkpoints`].
///
/// `ListBuckets` with `X-Tigris-Snapshot: <bucket>`, each entry parsed into a [`Checkpoint`],
/// in the order Tigris lists them. `send()` reads one page; `into_paginator()` walks them all,
/// as the SDK's paginators do.
///
/// ```no_run
/// # async fn demo(kit: tigris_agent_kit::AgentKit) -> Result<(), tigris_agent_kit::Error> {
/// let mut checkpoints = kit.list_checkpoints().bucket("agent-7-scratch").into_paginator().items().send();
/// while let Some(checkpoint) = checkpoints.try_next().await? {
///     println!("{} {:?}", checkpoint.version(), checkpoint.name());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "nothing is listed until send() is awaited"]
pub struct ListCheckpoints {
    kit: AgentKit,
    bucket: Option<String>,
    max_checkpoints: Option<i32>,
    continuation_token: Option<String>,
}

/// One page of a bucket's checkpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointPage {
    checkpoints: Vec<Checkpoint>,
    continuation_token: Option<String>,
}

impl CheckpointPage {
    /// The checkpoints on this page.
    pub fn checkpoints(&self) -> &[Checkpoint] {
        &self.checkpoints
    }

    /// The token of the next page; `None` on the last.
    pub fn continuation_token(&self) -> Option<&str> {
        self.continuation_token.as_deref()
    }

    /// The checkpoints, owned.
    pub fn into_checkpoints(self) -> Vec<Checkpoint> {
        self.checkpoints
    }
}

impl ListCheckpoints {
    pub(crate) fn new(kit: AgentKit) -> Self {
        Self {
            kit,
            bucket: None,
            max_checkpoints: None,
            continuation_token: None,
        }
    }

    /// The bucket whose checkpoints to list (required).
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = Some(bucket.as_ref().to_owned());
        self
    }

    /// At most this many checkpoints per page (1 to 10,000).
    pub fn max_checkpoints(mut self, max: i32) -> Self {
        self.max_checkpoints = Some(max);
        self
    }

    /// Continues after the page that returned `token`.
    pub fn continuation_token(mut self, token: impl Into<String>) -> Self {
        self.continuation_token = Some(token.into());
        self
    }

    /// Pages through the whole listing, as the SDK's paginators do: `.send()` streams pages,
    /// `.items().send()` streams their entries.
    pub fn into_paginator(self) -> ListCheckpointsPaginator {
        ListCheckpointsPaginator { builder: self }
    }

    /// Reads one page of checkpoints.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for an
    /// invalid bucket name or page size; [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for
    /// an unknown bucket; [`ErrorKind::UnexpectedResponse`](crate::ErrorKind::UnexpectedResponse)
    /// for an entry that is not a snapshot; otherwise the service's refusal.
    #[tracing::instrument(skip_all, fields(bucket = ?self.bucket))]
    pub async fn send(self) -> Result<CheckpointPage> {
        let operation = Operation::ListCheckpoints {
            bucket: self.bucket.clone().unwrap_or_default(),
        };
        let raw = validate::required(&operation, "bucket", self.bucket.as_deref())?;
        let bucket = validate::bucket_name(&operation, "bucket name", raw)?;
        let mut list = self.kit.s3().list_snapshots().bucket(&bucket);
        if let Some(max) = self.max_checkpoints {
            list = list.max_buckets(max);
        }
        if let Some(token) = self.continuation_token {
            list = list.continuation_token(token);
        }
        let page = list
            .send()
            .await
            .map_err(|e| Error::from_headers(operation, Step::ListSnapshots, e))?;
        let continuation_token = page.continuation_token().map(str::to_owned);
        let checkpoints = page
            .into_snapshots()
            .into_iter()
            .map(|s| Checkpoint {
                created: s.created().unwrap_or_else(|| version_time(s.version())),
                version: s.version().clone(),
                name: s.name().map(str::to_owned),
            })
            .collect::<Vec<_>>();
        tracing::debug!(count = checkpoints.len(), "checkpoints listed");
        Ok(CheckpointPage {
            checkpoints,
            continuation_token,
        })
    }
}

/// Pages through a bucket's checkpoints; from [`ListCheckpoints::into_paginator`].
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is called"]
pub struct ListCheckpointsPaginator {
    builder: ListCheckpoints,
}

impl ListCheckpointsPaginator {
    /// A stream of pages, each one request made as the stream is read. It ends after the last
    /// page or after the first error, which it yields.
    pub fn send(self) -> tigris_core::pagination::PaginationStream<Result<CheckpointPage>> {
        let builder = self.builder;
        tigris_core::pagination::pages(
            builder.continuation_token.clone(),
            move |token| {
                let mut builder = builder.clone();
                builder.continuation_token = token;
                async move { builder.send().await }
            },
            |page| page.continuation_token.clone(),
        )
    }

    /// The checkpoints of every page, one at a time; read them with `.items().send()`.
    pub fn items(self) -> ListCheckpointsItems {
        ListCheckpointsItems { pages: self }
    }
}

/// The checkpoints of every page of a listing; from [`ListCheckpointsPaginator::items`].
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is called"]
pub struct ListCheckpointsItems {
    pages: ListCheckpointsPaginator,
}

impl ListCheckpointsItems {
    /// A stream of checkpoints, fetching pages as it is read; it ends after the last one or
    /// after the first error, which it yields.
    pub fn send(self) -> tigris_core::pagination::PaginationStream<Result<Checkpoint>> {
        tigris_core::pagination::items(self.pages.send(), CheckpointPage::into_checkpoints)
    }
}

impl AgentKit {
    /// Starts taking a checkpoint (a snapshot) of a bucket. See [`CreateCheckpoint`].
    pub fn checkpoint(&self) -> CreateCheckpoint {
        CreateCheckpoint::new(self.clone())
    }

    /// Starts restoring a bucket as it was at a checkpoint, into a new bucket. See
    /// [`Restore`].
    pub fn restore(&self) -> Restore {
        Restore::new(self.clone())
    }

    /// Starts listing the checkpoints of a bucket. See [`ListCheckpoints`].
    pub fn list_checkpoints(&self) -> ListCheckpoints {
        ListCheckpoints::new(self.clone())
    }
}
