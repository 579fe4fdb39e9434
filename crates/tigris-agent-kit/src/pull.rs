//! Pulling a workspace or fork into a local directory: list a prefix, fetch the objects as
//! bundles of up to 5,000 keys, several at once, and write each entry as a file as it streams.

use std::path::PathBuf;

use futures::{StreamExt, TryStreamExt};
use tigris_api::bundle::{MAX_KEYS, SkippedKey};

use crate::error::{Error, Operation, Result, Step};
use crate::kit::AgentKit;
use crate::validate;

/// Bundles fetched at once by default.
pub const DEFAULT_PULL_CONCURRENCY: usize = 4;

/// Copies a bucket (or a prefix of it) into a local directory; from [`AgentKit::pull`].
///
/// Objects are fetched as bundles of up to 5,000 keys, [`DEFAULT_PULL_CONCURRENCY`] bundles
/// at once, and each entry is streamed to its file: memory stays flat whatever the sizes.
/// Keys that would land outside the directory (`..`, absolute paths) are not written and are
/// reported in [`PullReport::unsafe_keys`]; keys that vanished between listing and fetching
/// are in [`PullReport::skipped`].
///
/// ```no_run
/// # async fn demo(kit: tigris_agent_kit::AgentKit) -> Result<(), tigris_agent_kit::Error> {
/// let report = kit.pull().bucket("agent-7-workspace").destination("/tmp/agent-7").prefix("src/").send().await?;
/// println!("{} files", report.files);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct Pull {
    kit: AgentKit,
    bucket: Option<String>,
    dir: Option<PathBuf>,
    prefix: Option<String>,
    concurrency: usize,
    batch: usize,
}

/// What [`Pull::send`] wrote.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct PullReport {
    /// Files written.
    pub files: usize,
    /// Keys not written because as paths they would leave the directory.
    pub unsafe_keys: Vec<String>,
    /// Keys listed but not sent (deleted meanwhile, say).
    pub skipped: Vec<SkippedKey>,
}

impl Pull {
    pub(crate) fn new(kit: AgentKit) -> Self {
        Self {
            kit,
            bucket: None,
            dir: None,
            prefix: None,
            concurrency: DEFAULT_PULL_CONCURRENCY,
            batch: MAX_KEYS,
        }
    }

    /// The bucket to copy (required): a workspace, a fork, any bucket.
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = Some(bucket.as_ref().to_owned());
        self
    }

    /// The local directory to write into (required); it and the keys' subdirectories are
    /// created as needed.
    pub fn destination(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// Only keys under `prefix`.
    pub fn prefix(mut self, prefix: impl AsRef<str>) -> Self {
        self.prefix = Some(prefix.as_ref().to_owned());
        self
    }

    /// Bundles fetched at once (at least 1; default [`DEFAULT_PULL_CONCURRENCY`]).
    pub fn concurrency(mut self, bundles: usize) -> Self {
        self.concurrency = bundles.max(1);
        self
    }

    /// Keys per bundle (1 to 5,000, the most Tigris takes; default 5,000).
    pub fn batch_size(mut self, keys: usize) -> Self {
        self.batch = keys.clamp(1, MAX_KEYS);
        self
    }

    /// Lists the keys, then fetches and writes them.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for no
    /// [`bucket`](Self::bucket) or [`destination`](Self::destination), or a bad bucket name
    /// (before any request); otherwise the failed step ([`Step::ListObjects`] or
    /// [`Step::Bundle`]). Files written before a failure stay; a file cut short by a broken
    /// stream is removed.
    pub async fn send(self) -> Result<PullReport> {
        let operation = Operation::Pull {
            bucket: self.bucket.clone().unwrap_or_default(),
        };
        let raw = validate::required(&operation, "bucket", self.bucket.as_deref())?;
        let dir = validate::required(&operation, "destination", self.dir.clone())?;
        let bucket: tigris_core::BucketName = raw.parse().map_err(|e| {
            Error::invalid_input(operation.clone(), "the bucket name is invalid").with_source(e)
        })?;
        let s3 = self.kit.s3();
        let mut pages = s3
            .list_objects_v2()
            .bucket(bucket.as_str())
            .set_prefix(self.prefix.clone())
            .into_paginator()
            .send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| Error::from_s3(operation.clone(), Step::ListObjects, e))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_owned)),
            );
        }
        let api = self.kit.api().clone();
        let reports: Vec<_> =
            futures::stream::iter(keys.chunks(self.batch).map(<[String]>::to_vec))
                .map(|batch| {
                    let (api, dir, operation) = (api.clone(), dir.clone(), operation.clone());
                    let bucket = bucket.as_str().to_owned();
                    async move {
                        let written = api
                            .bundle()
                            .bucket(&bucket)
                            .keys(batch)
                            .send()
                            .await
                            .map_err(|e| Error::from_api(operation.clone(), Step::Bundle, e))?
                            .write_to_dir(&dir)
                            .await
                            .map_err(|e| Error::from_api(operation, Step::Bundle, e))?;
                        Ok::<_, Error>(written)
                    }
                })
                .buffer_unordered(self.concurrency)
                .try_collect()
                .await?;
        let mut out = PullReport::default();
        for report in reports {
            out.files += report.written.len();
            out.unsafe_keys.extend(report.unsafe_keys);
            out.skipped.extend(report.skipped);
        }
        Ok(out)
    }
}

impl AgentKit {
    /// Starts copying a bucket (a workspace or a fork) into a local directory: the "hydrate
    /// an agent's sandbox" step. See [`Pull`].
    pub fn pull(&self) -> Pull {
        Pull::new(self.clone())
    }
}
