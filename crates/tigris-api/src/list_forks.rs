//! Listing the buckets forked from a bucket, with their lineage:
//! [`Client::list_forks`](crate::Client::list_forks). Forks are created with
//! `tigris_headers::CreateBucketExt`, merged and rebased with
//! [`Client::merge_fork`](crate::Client::merge_fork) and
//! [`Client::rebase_fork`](crate::Client::rebase_fork).

use std::time::SystemTime;

use http::{HeaderName, HeaderValue, Method};
use serde_json::Value;
use tigris_core::transport::{SignedTransport, TigrisRequest};
use tigris_headers::{BucketName, SnapshotVersion};
use tracing::Instrument;

use crate::error::{Error, Operation, Result};
use crate::wire::{bucket_name, header_value, parse_fork_info, parse_json, timestamp, unexpected};

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

impl crate::Client {
    /// Lists the buckets forked from a bucket. See [`ListForksFluentBuilder`].
    pub fn list_forks(&self) -> ListForksFluentBuilder {
        ListForksFluentBuilder::new(self.transport.clone(), String::new())
    }
}
