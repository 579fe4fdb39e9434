//! Forks beyond creating them: list a bucket's forks (with their lineage), merge a fork into its
//! parent, rebase a fork onto its parent's present. Start from
//! [`Client::list_forks`](crate::Client::list_forks), [`Client::merge_fork`](crate::Client::merge_fork)
//! and [`Client::rebase_fork`](crate::Client::rebase_fork); forks are created with
//! `tigris_headers::CreateBucketExt`.
//!
//! These are Tigris endpoints outside the S3 API, so they go through the workspace's
//! [`SignedTransport`] (SigV4 for service `s3`, the `SdkConfig`'s HTTP client, retries and
//! timeouts), not through the S3 client.

use std::time::SystemTime;

use http::{HeaderName, HeaderValue, Method};
use serde_json::Value;
use tigris_core::transport::{SignedTransport, TigrisRequest, TigrisResponse};
use tracing::Instrument;

use crate::error::{Error, Operation, Result};
use tigris_headers::{BucketName, SnapshotVersion};

use crate::wire::bucket_name;
use crate::wire::{parse_fork_info, timestamp};

/// One step of a bucket's ancestry: the bucket it was forked from, and as of which version.
///
/// ```no_run
/// # async fn demo(tigris: tigris_api::Client) -> Result<(), tigris_api::Error> {
///
/// let metadata = tigris.bucket_metadata().bucket("datasets-exp").send().await?;
/// for parent in metadata.fork_parents() {
///     println!("{} at {:?} ({:?})", parent.bucket(), parent.snapshot(), parent.snapshot_name());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ForkParent {
    pub(crate) bucket: BucketName,
    pub(crate) snapshot: Option<SnapshotVersion>,
    pub(crate) snapshot_name: Option<String>,
    pub(crate) forked_at: Option<SystemTime>,
    pub(crate) snapshot_created_at: Option<SystemTime>,
}

impl ForkParent {
    /// The bucket forked from.
    pub fn bucket(&self) -> &BucketName {
        &self.bucket
    }

    /// The parent's version the fork reads through to (moved by a rebase).
    pub fn snapshot(&self) -> Option<&SnapshotVersion> {
        self.snapshot.as_ref()
    }

    /// The name of that snapshot, when it is a named one.
    pub fn snapshot_name(&self) -> Option<&str> {
        self.snapshot_name.as_deref()
    }

    /// When the fork was made.
    pub fn forked_at(&self) -> Option<SystemTime> {
        self.forked_at
    }

    /// When the snapshot was taken.
    pub fn snapshot_created_at(&self) -> Option<SystemTime> {
        self.snapshot_created_at
    }
}

/// A bucket forked from the listed source, as [`ListForksFluentBuilder`] returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Fork {
    name: BucketName,
    created: Option<SystemTime>,
    has_children: bool,
    parents: Vec<ForkParent>,
}

impl Fork {
    /// The fork's bucket name.
    pub fn name(&self) -> &BucketName {
        &self.name
    }

    /// When the fork was made.
    pub fn created(&self) -> Option<SystemTime> {
        self.created
    }

    /// Whether buckets were forked from this fork in turn.
    pub fn has_children(&self) -> bool {
        self.has_children
    }

    /// Its ancestry as Tigris reports it; the first entry is the listed source.
    pub fn parents(&self) -> &[ForkParent] {
        &self.parents
    }

    /// The version of the source this fork reads through to.
    pub fn snapshot(&self) -> Option<&SnapshotVersion> {
        self.parents.first().and_then(ForkParent::snapshot)
    }
}

/// One page of a fork listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForksPage {
    forks: Vec<Fork>,
    continuation_token: Option<String>,
}

impl ForksPage {
    /// The forks on this page, in name order.
    pub fn forks(&self) -> &[Fork] {
        &self.forks
    }

    /// The token for the next page, if there is one.
    pub fn continuation_token(&self) -> Option<&str> {
        self.continuation_token.as_deref()
    }

    /// The forks, owned.
    pub fn into_forks(self) -> Vec<Fork> {
        self.forks
    }
}

fn unexpected(operation: &Operation, reason: &'static str) -> Error {
    Error::unexpected_response(operation.clone(), reason)
}

fn parse_json(body: &[u8], operation: &Operation) -> Result<Value> {
    serde_json::from_slice(body).map_err(|e| {
        unexpected(operation, "the response body is not the expected JSON").with_source(e)
    })
}

pub(crate) fn parse_page(body: &[u8], operation: &Operation) -> Result<ForksPage> {
    let body = parse_json(body, operation)?;
    let entries = match body.get("Buckets").and_then(|b| b.get("Bucket")) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(entries)) => entries.iter().collect(),
        // A single bucket may come as an object instead of a one-element list.
        Some(entry @ Value::Object(_)) => vec![entry],
        Some(_) => return Err(unexpected(operation, "Buckets.Bucket is not a list")),
    };
    let forks = entries
        .into_iter()
        .map(|entry| {
            let name = entry
                .get("Name")
                .and_then(Value::as_str)
                .ok_or_else(|| unexpected(operation, "a listed fork has no Name"))?;
            let name = BucketName::new(name).map_err(|e| {
                unexpected(operation, "a listed fork's Name is not a bucket name").with_source(e)
            })?;
            let (has_children, parents) = parse_fork_info(entry.get("ForkInfo"), operation)?;
            Ok(Fork {
                name,
                created: timestamp(entry.get("CreationDate")),
                has_children,
                parents,
            })
        })
        .collect::<Result<_>>()?;
    let continuation_token = body
        .get("ContinuationToken")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    Ok(ForksPage {
        forks,
        continuation_token,
    })
}

fn header_value(value: &str, operation: &Operation) -> Result<HeaderValue> {
    HeaderValue::from_str(value).map_err(|e| {
        Error::invalid_input(
            operation.clone(),
            "the value is not a valid header value",
            e,
        )
    })
}

/// Lists the buckets forked from a bucket; from
/// [`Client::list_forks`](crate::Client::list_forks).
///
/// Sends `GET /?max-buckets=N&continuation-token=T` with `X-Tigris-Fork: <bucket>` and
/// `Accept: application/json`. Tigris answers `403 AccessDenied` for a bucket that does not
/// exist or is not yours ([`ErrorKind::AccessDenied`](crate::ErrorKind::AccessDenied)), and an
/// empty list for a bucket without forks.
///
/// ```no_run
/// # async fn demo(tigris: tigris_api::Client) -> Result<(), tigris_api::Error> {
///
/// let mut pages = tigris.list_forks().bucket("datasets").max_buckets(100).into_paginator().send();
/// while let Some(page) = pages.next().await {
///     for fork in page?.forks() {
///         println!("{} from {:?}", fork.name(), fork.snapshot());
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct ListForksFluentBuilder {
    transport: SignedTransport,
    bucket: String,
    max_buckets: Option<u32>,
    continuation_token: Option<String>,
}

impl ListForksFluentBuilder {
    pub(crate) fn new(transport: SignedTransport, bucket: String) -> Self {
        Self {
            transport,
            bucket,
            max_buckets: None,
            continuation_token: None,
        }
    }

    /// The bucket whose forks to list (required).
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = bucket.as_ref().to_owned();
        self
    }

    /// At most this many forks per page (at least 1, checked by `send()`).
    pub fn max_buckets(mut self, max_buckets: u32) -> Self {
        self.max_buckets = Some(max_buckets);
        self
    }

    /// Continues after the page that returned this token.
    pub fn continuation_token(mut self, token: impl Into<String>) -> Self {
        self.continuation_token = Some(token.into());
        self
    }

    /// Pages through the whole listing, as the SDK's paginators do: `.send()` streams pages,
    /// `.items().send()` streams their entries.
    pub fn into_paginator(self) -> ListForksPaginator {
        ListForksPaginator { builder: self }
    }

    /// Validates the input, then reads one page.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for an
    /// invalid bucket name or a page size of 0; [`ErrorKind::AccessDenied`](crate::ErrorKind::AccessDenied)
    /// for a bucket that does not exist or is not yours;
    /// [`ErrorKind::UnexpectedResponse`](crate::ErrorKind::UnexpectedResponse) for a body that
    /// is not the listing.
    pub async fn send(self) -> Result<ForksPage> {
        let span = tracing::debug_span!("list_forks", bucket = %self.bucket);
        self.send_inner().instrument(span).await
    }

    async fn send_inner(&self) -> Result<ForksPage> {
        let operation = Operation::ListForks {
            bucket: self.bucket.clone(),
        };
        let bucket = bucket_name(&self.bucket, || operation.clone())?;
        let mut request = TigrisRequest::new(Method::GET)
            .header(
                http::header::ACCEPT,
                HeaderValue::from_static("application/json"),
            )
            .header(
                HeaderName::from_static(crate::wire::FORK),
                header_value(bucket.as_str(), &operation)?,
            );
        if let Some(max) = self.max_buckets {
            if max == 0 {
                return Err(Error::invalid_argument(
                    operation,
                    "max_buckets must be at least 1",
                ));
            }
            request = request.query_param("max-buckets", max.to_string());
        }
        if let Some(token) = self.continuation_token.as_deref().filter(|t| !t.is_empty()) {
            request = request.query_param("continuation-token", token);
        }
        let response = self
            .transport
            .send(&request)
            .await
            .map_err(|e| Error::from_sdk(operation.clone(), e))?;
        parse_page(response.body(), &operation)
    }
}

/// Pages through a fork listing; from [`ListForksFluentBuilder::into_paginator`].
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is called"]
pub struct ListForksPaginator {
    builder: ListForksFluentBuilder,
}

impl ListForksPaginator {
    /// A stream of pages, each one request made as the stream is read. It ends after the last
    /// page or after the first error, which it yields.
    pub fn send(self) -> tigris_core::pagination::PaginationStream<Result<ForksPage>> {
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

    /// The forks of every page, one at a time; read them with `.items().send()`.
    pub fn items(self) -> ListForksItems {
        ListForksItems { pages: self }
    }
}

/// The forks of every page of a listing; from [`ListForksPaginator::items`].
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is called"]
pub struct ListForksItems {
    pages: ListForksPaginator,
}

impl ListForksItems {
    /// A stream of forks, fetching pages as it is read; it ends after the last one or
    /// after the first error, which it yields.
    pub fn send(self) -> tigris_core::pagination::PaginationStream<Result<Fork>> {
        tigris_core::pagination::items(self.pages.send(), ForksPage::into_forks)
    }
}

/// Reads the snapshot version a merge or rebase answers with.
fn snapshot_version(response: &TigrisResponse, operation: &Operation) -> Result<SnapshotVersion> {
    let raw = response
        .headers()
        .get(crate::wire::SNAPSHOT_VERSION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            unexpected(
                operation,
                "the response has no x-tigris-snapshot-version header",
            )
        })?;
    SnapshotVersion::new(raw).map_err(|e| {
        unexpected(
            operation,
            "the x-tigris-snapshot-version header is not a snapshot version",
        )
        .with_source(e)
    })
}

/// Merges a fork into its direct parent; from
/// [`Client::merge_fork`](crate::Client::merge_fork).
///
/// Sends `PUT /{parent}` with `X-Tigris-Merge-Source-Bucket: <fork>` and returns the
/// `x-tigris-snapshot-version` Tigris answers: a snapshot of the parent with the fork's changes
/// in it. The parent must be the fork's direct parent (else `400 InvalidArgument`). Tigris
/// documents no conflict semantics; the emulator applies, per key the fork changed, the fork's
/// state. Not retried after a failure that may have come after the merge was applied.
///
/// ```no_run
/// # async fn demo(tigris: tigris_api::Client) -> Result<(), tigris_api::Error> {
///
/// let version = tigris.merge_fork().fork("datasets-exp").parent("datasets").send().await?;
/// println!("datasets now includes the experiment, as snapshot {version}");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct MergeForkFluentBuilder {
    transport: SignedTransport,
    fork: String,
    parent: Option<String>,
}

impl MergeForkFluentBuilder {
    pub(crate) fn new(transport: SignedTransport, fork: String) -> Self {
        Self {
            transport,
            fork,
            parent: None,
        }
    }

    /// The fork to merge (required).
    pub fn fork(mut self, fork: impl AsRef<str>) -> Self {
        self.fork = fork.as_ref().to_owned();
        self
    }

    /// The bucket to merge into: the fork's direct parent (required).
    pub fn parent(mut self, parent: impl AsRef<str>) -> Self {
        self.parent = Some(parent.as_ref().to_owned());
        self
    }

    /// Validates both names, then merges and returns the parent's new snapshot version.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for an
    /// invalid name, a missing [`parent`](Self::parent), or a fork merged into itself;
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) when a bucket does not exist;
    /// otherwise the service's refusal (`InvalidArgument` when `parent` is not the fork's parent).
    pub async fn send(self) -> Result<SnapshotVersion> {
        let span = tracing::debug_span!("merge_fork", fork = %self.fork, parent = ?self.parent);
        async {
            let operation = Operation::MergeFork {
                fork: self.fork.clone(),
                parent: self.parent.clone(),
            };
            let fork = bucket_name(&self.fork, || operation.clone())?;
            let Some(parent) = &self.parent else {
                return Err(Error::invalid_argument(
                    operation,
                    "the parent to merge into is missing; call .into(parent)",
                ));
            };
            let parent = bucket_name(parent, || operation.clone())?;
            if parent == fork {
                return Err(Error::invalid_argument(
                    operation,
                    "a bucket cannot be merged into itself",
                ));
            }
            let request = TigrisRequest::new(Method::PUT)
                .bucket(parent)
                .header(
                    HeaderName::from_static(crate::wire::MERGE_SOURCE_BUCKET),
                    header_value(fork.as_str(), &operation)?,
                )
                .idempotent(false);
            let response = self
                .transport
                .send(&request)
                .await
                .map_err(|e| Error::from_sdk(operation.clone(), e))?;
            let version = snapshot_version(&response, &operation)?;
            tracing::debug!(%version, "fork merged");
            Ok(version)
        }
        .instrument(span)
        .await
    }
}

/// Moves a fork's base to its parent's present, keeping the fork's own writes on top; from
/// [`Client::rebase_fork`](crate::Client::rebase_fork).
///
/// Sends `PUT /{fork}` with `X-Tigris-Rebase: true` and returns the
/// `x-tigris-snapshot-version` Tigris answers: the parent version the fork now reads through to.
///
/// ```no_run
/// # async fn demo(tigris: tigris_api::Client) -> Result<(), tigris_api::Error> {
///
/// let base = tigris.rebase_fork().fork("datasets-exp").send().await?;
/// println!("datasets-exp now forks datasets as of {base}");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct RebaseForkFluentBuilder {
    transport: SignedTransport,
    fork: String,
}

impl RebaseForkFluentBuilder {
    pub(crate) fn new(transport: SignedTransport, fork: String) -> Self {
        Self { transport, fork }
    }

    /// The fork to rebase (required).
    pub fn fork(mut self, fork: impl AsRef<str>) -> Self {
        self.fork = fork.as_ref().to_owned();
        self
    }

    /// Validates the name, then rebases and returns the fork's new base version.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for an
    /// invalid name; [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) when the fork does not
    /// exist; otherwise the service's refusal (`InvalidArgument` for a bucket that is no fork).
    pub async fn send(self) -> Result<SnapshotVersion> {
        let span = tracing::debug_span!("rebase_fork", fork = %self.fork);
        async {
            let operation = Operation::RebaseFork {
                fork: self.fork.clone(),
            };
            let fork = bucket_name(&self.fork, || operation.clone())?;
            let request = TigrisRequest::new(Method::PUT)
                .bucket(fork)
                .header(
                    HeaderName::from_static(crate::wire::REBASE),
                    HeaderValue::from_static("true"),
                )
                .idempotent(false);
            let response = self
                .transport
                .send(&request)
                .await
                .map_err(|e| Error::from_sdk(operation.clone(), e))?;
            snapshot_version(&response, &operation)
        }
        .instrument(span)
        .await
    }
}

impl crate::Client {
    /// Lists the buckets forked from a bucket. See [`ListForksFluentBuilder`].
    pub fn list_forks(&self) -> ListForksFluentBuilder {
        ListForksFluentBuilder::new(self.transport.clone(), String::new())
    }

    /// Merges a fork into its parent. See [`MergeForkFluentBuilder`].
    pub fn merge_fork(&self) -> MergeForkFluentBuilder {
        MergeForkFluentBuilder::new(self.transport.clone(), String::new())
    }

    /// Moves a fork's base to its parent's present. See [`RebaseForkFluentBuilder`].
    pub fn rebase_fork(&self) -> RebaseForkFluentBuilder {
        RebaseForkFluentBuilder::new(self.transport.clone(), String::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn op() -> Operation {
        Operation::ListForks {
            bucket: "b1".into(),
        }
    }

    #[test]
    fn fork_info_reads_named_snapshots_and_timestamps() {
        let info = json!({"HasChildren": true, "Parents": [{"BucketName": "src",
            "ForkCreatedAt": "2026-01-02T03:04:05.678Z", "Snapshot": "17; name=v1",
            "SnapshotCreatedAt": "not a date"}]});
        let (children, parents) = parse_fork_info(Some(&info), &op()).unwrap();
        assert!(children);
        assert_eq!(parents[0].bucket().as_str(), "src");
        assert_eq!(parents[0].snapshot().map(SnapshotVersion::as_u64), Some(17));
        assert_eq!(parents[0].snapshot_name(), Some("v1"));
        assert!(parents[0].forked_at().is_some());
        assert_eq!(parents[0].snapshot_created_at(), None);
    }

    #[test]
    fn null_or_missing_fork_info_is_no_lineage() {
        for info in [None, Some(json!(null)), Some(json!({"Parents": null}))] {
            assert_eq!(
                parse_fork_info(info.as_ref(), &op()).unwrap(),
                (false, Vec::new())
            );
        }
    }

    #[test]
    fn a_malformed_parent_is_an_unexpected_response() {
        for info in [
            json!({"Parents": [{"Snapshot": "1"}]}),
            json!({"Parents": [{"BucketName": "Bad Name"}]}),
            json!({"Parents": [{"BucketName": "src", "Snapshot": "v1"}]}),
            json!({"Parents": "src"}),
        ] {
            let err = parse_fork_info(Some(&info), &op()).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::UnexpectedResponse, "{info}");
        }
    }
}
