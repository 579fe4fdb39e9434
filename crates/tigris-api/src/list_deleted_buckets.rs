//! Listing soft-deleted buckets: [`Client::list_deleted_buckets`](crate::Client::list_deleted_buckets)
//! (`GET /?OnlyDeleted=true`). One comes back with
//! [`Client::restore_bucket`](crate::Client::restore_bucket); soft delete is turned on or off
//! with [`Client::update_bucket`](crate::Client::update_bucket).

use std::time::SystemTime;

use http::{HeaderValue, Method};
use serde_json::Value;
use tigris_core::transport::{SignedTransport, TigrisRequest};
use tracing::Instrument;

use crate::error::{Error, Operation, Result};

/// Lists soft-deleted buckets, a page at a time; from
/// [`Client::list_deleted_buckets`](crate::Client::list_deleted_buckets).
///
/// Sends `GET /?OnlyDeleted=true[&max-buckets=N][&continuation-token=T]` with
/// `Accept: application/json`.
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct ListDeletedBucketsFluentBuilder {
    transport: SignedTransport,
    max_buckets: Option<u32>,
    continuation_token: Option<String>,
}

/// A soft-deleted bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedBucket {
    name: String,
    created: Option<SystemTime>,
    deleted: Option<SystemTime>,
    retention_days: Option<u32>,
}

impl DeletedBucket {
    /// The bucket's name (reserved until it is restored or its window ends).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// When the bucket was first created (`InitialCreatedDate`).
    pub fn created(&self) -> Option<SystemTime> {
        self.created
    }

    /// Its last change, in practice its deletion (`CreationDate`).
    pub fn deleted(&self) -> Option<SystemTime> {
        self.deleted
    }

    /// The window it is kept for, when Tigris says.
    pub fn retention_days(&self) -> Option<u32> {
        self.retention_days
    }
}

/// One page of deleted buckets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedBucketsPage {
    buckets: Vec<DeletedBucket>,
    continuation_token: Option<String>,
}

impl DeletedBucketsPage {
    /// The buckets on this page.
    pub fn buckets(&self) -> &[DeletedBucket] {
        &self.buckets
    }

    /// The token for the next page; `None` on the last.
    pub fn continuation_token(&self) -> Option<&str> {
        self.continuation_token.as_deref()
    }

    /// The buckets, owned.
    pub fn into_buckets(self) -> Vec<DeletedBucket> {
        self.buckets
    }
}

impl ListDeletedBucketsFluentBuilder {
    /// At most this many buckets per page (at least 1).
    pub fn max_buckets(mut self, max: u32) -> Self {
        self.max_buckets = Some(max);
        self
    }

    /// Continue after the page that answered this token.
    pub fn continuation_token(mut self, token: impl Into<String>) -> Self {
        self.continuation_token = Some(token.into());
        self
    }

    /// Fetches one page.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for
    /// `max_buckets(0)`; [`ErrorKind::UnexpectedResponse`](crate::ErrorKind::UnexpectedResponse)
    /// when the answer is not the listing; otherwise the service's refusal.
    pub async fn send(self) -> Result<DeletedBucketsPage> {
        let span = tracing::debug_span!("list_deleted_buckets");
        async {
            let operation = || Operation::ListDeletedBuckets;
            let mut request = TigrisRequest::new(Method::GET)
                .query_param("OnlyDeleted", "true")
                .header(
                    http::header::ACCEPT,
                    HeaderValue::from_static("application/json"),
                );
            if let Some(max) = self.max_buckets {
                if max == 0 {
                    return Err(Error::invalid_argument(
                        operation(),
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
                .map_err(|e| Error::from_sdk(operation(), e))?;
            parse_deleted_page(response.body()).ok_or_else(|| {
                Error::unexpected_response(operation(), "the answer is not a bucket listing")
            })
        }
        .instrument(span)
        .await
    }

    /// Pages through the whole listing, as the SDK's paginators do: `.send()` streams pages,
    /// `.items().send()` streams their entries.
    pub fn into_paginator(self) -> ListDeletedBucketsPaginator {
        ListDeletedBucketsPaginator { builder: self }
    }
}

/// Pages through a deleted-bucket listing; from [`ListDeletedBucketsFluentBuilder::into_paginator`].
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is called"]
pub struct ListDeletedBucketsPaginator {
    builder: ListDeletedBucketsFluentBuilder,
}

impl ListDeletedBucketsPaginator {
    /// A stream of pages, each one request made as the stream is read. It ends after the last
    /// page or after the first error, which it yields.
    pub fn send(self) -> tigris_core::pagination::PaginationStream<Result<DeletedBucketsPage>> {
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

    /// The deleted buckets of every page, one at a time; read them with `.items().send()`.
    pub fn items(self) -> ListDeletedBucketsItems {
        ListDeletedBucketsItems { pages: self }
    }
}

/// The deleted buckets of every page of a listing; from [`ListDeletedBucketsPaginator::items`].
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is called"]
pub struct ListDeletedBucketsItems {
    pages: ListDeletedBucketsPaginator,
}

impl ListDeletedBucketsItems {
    /// A stream of deleted buckets, fetching pages as it is read; it ends after the last one or
    /// after the first error, which it yields.
    pub fn send(self) -> tigris_core::pagination::PaginationStream<Result<DeletedBucket>> {
        tigris_core::pagination::items(self.pages.send(), DeletedBucketsPage::into_buckets)
    }
}

/// Reads Tigris's JSON bucket listing; a single bucket may come as an object, none as null.
pub(crate) fn parse_deleted_page(body: &[u8]) -> Option<DeletedBucketsPage> {
    let json: Value = serde_json::from_slice(body).ok()?;
    let entries = match json.get("Buckets").and_then(|b| b.get("Bucket")) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(one @ Value::Object(_)) => vec![one.clone()],
        Some(_) => return None,
    };
    let buckets = entries
        .iter()
        .map(|e| {
            Some(DeletedBucket {
                name: e.get("Name")?.as_str()?.to_owned(),
                created: crate::wire::timestamp(e.get("InitialCreatedDate")),
                deleted: crate::wire::timestamp(e.get("CreationDate")),
                retention_days: e
                    .get("SoftDeleteInfo")
                    .and_then(|s| s.get("RetentionDays"))
                    .and_then(Value::as_u64)
                    .and_then(|d| u32::try_from(d).ok()),
            })
        })
        .collect::<Option<Vec<_>>>()?;
    let continuation_token = json
        .get("ContinuationToken")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    Some(DeletedBucketsPage {
        buckets,
        continuation_token,
    })
}

impl crate::Client {
    /// Lists the account's soft-deleted buckets. See [`ListDeletedBucketsFluentBuilder`].
    pub fn list_deleted_buckets(&self) -> ListDeletedBucketsFluentBuilder {
        ListDeletedBucketsFluentBuilder {
            transport: self.transport.clone(),
            max_buckets: None,
            continuation_token: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deleted_listings_read_arrays_single_objects_and_null() {
        let page = parse_deleted_page(
            br#"{"ContinuationToken": "t", "Buckets": {"Bucket": {"Name": "a",
                "InitialCreatedDate": "2026-01-02T03:04:05Z", "CreationDate": "2026-01-03T00:00:00Z",
                "SoftDeleteInfo": {"Enabled": true, "RetentionDays": 9}}}}"#,
        )
        .unwrap();
        assert_eq!(page.buckets()[0].name(), "a");
        assert_eq!(page.buckets()[0].retention_days(), Some(9));
        assert!(page.buckets()[0].created() < page.buckets()[0].deleted());
        assert_eq!(page.continuation_token(), Some("t"));
        let empty =
            parse_deleted_page(br#"{"ContinuationToken": "", "Buckets": {"Bucket": null}}"#)
                .unwrap();
        assert!(empty.buckets().is_empty() && empty.continuation_token().is_none());
        assert!(parse_deleted_page(b"<xml/>").is_none());
        assert!(parse_deleted_page(br#"{"Buckets": {"Bucket": [{"NoName": 1}]}}"#).is_none());
    }
}
