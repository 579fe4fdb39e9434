//! The detailed bucket listing: every bucket with its placement, type, visibility and lineage
//! (Tigris's JSON bucket listing, `GET /` with `Accept: application/json`):
//! [`Client::list_buckets_detailed`](crate::Client::list_buckets_detailed).

use std::time::SystemTime;

use http::{HeaderValue, Method};
use serde_json::Value;
use tigris_core::transport::{SignedTransport, TigrisRequest};
use tracing::Instrument;

use crate::bucket_metadata::BucketType;
use crate::error::{Error, Operation, Result};
use crate::list_forks::ForkParent;
use crate::wire::{parse_fork_info, timestamp};

/// The largest page Tigris serves.
const MAX_BUCKETS: u32 = 10_000;

/// One bucket of the detailed listing.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct BucketEntry {
    name: String,
    created: Option<SystemTime>,
    regions: Vec<String>,
    bucket_type: Option<BucketType>,
    public: Option<bool>,
    has_children: bool,
    fork_parents: Vec<ForkParent>,
}

impl BucketEntry {
    /// The bucket's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// When the bucket was created.
    pub fn created(&self) -> Option<SystemTime> {
        self.created
    }

    /// The regions the data lives in, as codes; empty means global.
    pub fn regions(&self) -> &[String] {
        &self.regions
    }

    /// Regular or snapshot-enabled, when Tigris said.
    pub fn bucket_type(&self) -> Option<BucketType> {
        self.bucket_type
    }

    /// Whether anonymous requests may read objects, when Tigris said.
    pub fn is_public(&self) -> Option<bool> {
        self.public
    }

    /// Whether other buckets were forked from this one.
    pub fn has_children(&self) -> bool {
        self.has_children
    }

    /// Where this bucket was forked from, direct parent first; empty for a bucket that is no
    /// fork.
    pub fn fork_parents(&self) -> &[ForkParent] {
        &self.fork_parents
    }

    fn parse(v: &Value, operation: &Operation) -> Result<Self> {
        let name = v
            .get("Name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| {
                Error::unexpected_response(operation.clone(), "a bucket entry has no Name")
            })?
            .to_owned();
        let created = timestamp(
            v.get("InitialCreatedDate")
                .or_else(|| v.get("CreationDate")),
        );
        let regions = v
            .get("Regions")
            .and_then(Value::as_str)
            .map(|r| {
                r.split(',')
                    .map(str::trim)
                    .filter(|r| !r.is_empty() && *r != "global")
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let bucket_type = v.get("Type").and_then(Value::as_str).map(|t| match t {
            "Snapshot" => BucketType::Snapshot,
            _ => BucketType::Regular,
        });
        let public = v
            .get("Visibility")
            .and_then(|vis| vis.get("IsPublic"))
            .and_then(Value::as_bool);
        let (has_children, fork_parents) = parse_fork_info(v.get("ForkInfo"), operation)?;
        Ok(Self {
            name,
            created,
            regions,
            bucket_type,
            public,
            has_children,
            fork_parents,
        })
    }
}

/// Storage statistics: of one listing page, or summed over the account by
/// [`AccountStatsFluentBuilder`](crate::account_stats::AccountStatsFluentBuilder).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct AccountStats {
    /// Buckets counted.
    pub active_buckets: u64,
    /// Objects, every retained version counted.
    pub total_objects: u64,
    /// Bytes stored.
    pub total_storage_bytes: u64,
    /// Objects, current versions only.
    pub total_unique_objects: u64,
}

impl AccountStats {
    fn parse(v: &Value) -> Self {
        let n = |key: &str| v.get(key).and_then(Value::as_u64).unwrap_or(0);
        Self {
            active_buckets: n("ActiveBuckets"),
            total_objects: n("TotalObjects"),
            total_storage_bytes: n("TotalStorageBytes"),
            total_unique_objects: n("TotalUniqueObjects"),
        }
    }

    pub(crate) fn add(&mut self, other: Self) {
        self.active_buckets += other.active_buckets;
        self.total_objects += other.total_objects;
        self.total_storage_bytes += other.total_storage_bytes;
        self.total_unique_objects += other.total_unique_objects;
    }
}

/// One page of the detailed listing.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct BucketsPage {
    /// The buckets, in name order.
    pub buckets: Vec<BucketEntry>,
    /// Pass to [`ListBucketsDetailedFluentBuilder::continuation_token`] for the next page;
    /// `None` on the last one.
    pub continuation_token: Option<String>,
    /// The page's statistics, when asked for with [`ListBucketsDetailedFluentBuilder::with_stats`].
    pub stats: Option<AccountStats>,
}

/// Lists the account's buckets with placement, type, visibility and lineage; from
/// [`Client::list_buckets_detailed`](crate::Client::list_buckets_detailed).
///
/// Sends `GET /?IncludeRegionsInfo=true&IncludeTypeInfo=true&IncludeVisibility=true&IncludeForkInfo=true`
/// with `Accept: application/json`, and `IncludeStats=true` with [`with_stats`](Self::with_stats).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let emu = tigris_emulator::Emulator::start().await?;
/// # let sdk = tigris_core::config::builder().endpoint_url(emu.endpoint())
/// #     .credentials(aws_sdk_s3::config::Credentials::new(emu.root_credentials().access_key_id(),
/// #         emu.root_credentials().secret_access_key(), None, None, "doc")).build();
/// # let s3 = tigris_core::config::s3_client(&sdk);
/// use tigris_headers::bucket_settings::Region;
/// use tigris_headers::prelude::*;
///
/// s3.create_bucket().bucket("eu-data").regions(Region::Fra).send().await?;
/// let tigris = tigris_api::Client::new(&sdk)?;
/// let page = tigris.list_buckets_detailed().send().await?;
/// assert_eq!(page.buckets[0].regions(), ["fra"]);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct ListBucketsDetailedFluentBuilder {
    transport: SignedTransport,
    stats: bool,
    only_forks: bool,
    max_buckets: Option<u32>,
    continuation_token: Option<String>,
}

impl ListBucketsDetailedFluentBuilder {
    pub(crate) fn new(transport: SignedTransport) -> Self {
        Self {
            transport,
            stats: false,
            only_forks: false,
            max_buckets: None,
            continuation_token: None,
        }
    }

    /// Also asks for the page's storage statistics (`IncludeStats`).
    pub fn with_stats(mut self) -> Self {
        self.stats = true;
        self
    }

    /// Only buckets that are forks of another (`OnlyForked`).
    pub fn only_forks(mut self) -> Self {
        self.only_forks = true;
        self
    }

    /// At most this many buckets per page (1 to 10,000).
    pub fn max_buckets(mut self, max: u32) -> Self {
        self.max_buckets = Some(max);
        self
    }

    /// Continues after the page that returned `token`.
    pub fn continuation_token(mut self, token: impl Into<String>) -> Self {
        self.continuation_token = Some(token.into());
        self
    }

    /// Pages through the whole listing, as the SDK's paginators do: `.send()` streams pages,
    /// `.items().send()` streams their entries.
    pub fn into_paginator(self) -> ListBucketsDetailedPaginator {
        ListBucketsDetailedPaginator { builder: self }
    }

    /// Validates the page size, then reads one page.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for a page
    /// size outside 1..=10,000; [`ErrorKind::AccessDenied`](crate::ErrorKind::AccessDenied) for
    /// a key that may not list buckets; [`ErrorKind::UnexpectedResponse`](crate::ErrorKind::UnexpectedResponse)
    /// for a body that is not the listing.
    pub async fn send(self) -> Result<BucketsPage> {
        let operation = Operation::ListBuckets;
        async {
            if self
                .max_buckets
                .is_some_and(|m| !(1..=MAX_BUCKETS).contains(&m))
            {
                return Err(Error::invalid_argument(
                    operation,
                    "max_buckets must be from 1 to 10,000",
                ));
            }
            let mut request = TigrisRequest::new(Method::GET)
                .header(
                    http::header::ACCEPT,
                    HeaderValue::from_static("application/json"),
                )
                .query_param("IncludeRegionsInfo", "true")
                .query_param("IncludeTypeInfo", "true")
                .query_param("IncludeVisibility", "true")
                .query_param("IncludeForkInfo", "true");
            if self.stats {
                request = request.query_param("IncludeStats", "true");
            }
            if self.only_forks {
                request = request.query_param("OnlyForked", "true");
            }
            if let Some(max) = self.max_buckets {
                request = request.query_param("max-buckets", max.to_string());
            }
            if let Some(token) = self.continuation_token.filter(|t| !t.is_empty()) {
                request = request.query_param("continuation-token", token);
            }
            let response = self
                .transport
                .send(&request)
                .await
                .map_err(|e| Error::from_sdk(operation.clone(), e))?;
            parse_page(response.body(), self.stats, &operation)
        }
        .instrument(tracing::debug_span!("list_buckets_detailed"))
        .await
    }
}

pub(crate) fn parse_page(body: &[u8], stats: bool, operation: &Operation) -> Result<BucketsPage> {
    let unexpected = |reason| Error::unexpected_response(operation.clone(), reason);
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| unexpected("the response body is not the expected JSON").with_source(e))?;
    if !value.is_object() {
        return Err(unexpected("the response body is not a JSON object"));
    }
    // A single entry may arrive unwrapped, and an empty listing as null.
    let entries = match value.get("Buckets").and_then(|b| b.get("Bucket")) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        Some(_) => return Err(unexpected("Buckets.Bucket is not a list")),
    };
    let buckets = entries
        .into_iter()
        .map(|e| BucketEntry::parse(e, operation))
        .collect::<Result<Vec<_>>>()?;
    let continuation_token = value
        .get("ContinuationToken")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    let stats = stats.then(|| AccountStats::parse(value.get("Stats").unwrap_or(&Value::Null)));
    Ok(BucketsPage {
        buckets,
        continuation_token,
        stats,
    })
}

/// Pages through the detailed bucket listing; from [`ListBucketsDetailedFluentBuilder::into_paginator`].
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is called"]
pub struct ListBucketsDetailedPaginator {
    builder: ListBucketsDetailedFluentBuilder,
}

impl ListBucketsDetailedPaginator {
    /// A stream of pages, each one request made as the stream is read. It ends after the last
    /// page or after the first error, which it yields.
    pub fn send(self) -> tigris_core::pagination::PaginationStream<Result<BucketsPage>> {
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

    /// The buckets of every page, one at a time; read them with `.items().send()`.
    pub fn items(self) -> ListBucketsDetailedItems {
        ListBucketsDetailedItems { pages: self }
    }
}

/// The buckets of every page of a listing; from [`ListBucketsDetailedPaginator::items`].
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is called"]
pub struct ListBucketsDetailedItems {
    pages: ListBucketsDetailedPaginator,
}

impl ListBucketsDetailedItems {
    /// A stream of buckets, fetching pages as it is read; it ends after the last one or
    /// after the first error, which it yields.
    pub fn send(self) -> tigris_core::pagination::PaginationStream<Result<BucketEntry>> {
        tigris_core::pagination::items(self.pages.send(), |page: BucketsPage| page.buckets)
    }
}

impl crate::Client {
    /// Lists the account's buckets with placement, type, visibility and lineage. See
    /// [`ListBucketsDetailedFluentBuilder`].
    pub fn list_buckets_detailed(&self) -> ListBucketsDetailedFluentBuilder {
        ListBucketsDetailedFluentBuilder::new(self.transport.clone())
    }
}
