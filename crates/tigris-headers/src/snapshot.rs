//! Snapshots: create (optionally named), list, delete. Start from
//! [`TigrisClientExt`](crate::TigrisClientExt); reads at a snapshot are in
//! [`ReadAtSnapshotExt`](crate::ReadAtSnapshotExt).

use std::time::SystemTime;

use aws_sdk_s3::Client;
use tracing::Instrument;

use crate::error::{Error, Operation, Result};
use crate::header::{self, AddHeaders, CaptureHeaders};
use crate::names::{BucketName, SnapshotName, SnapshotVersion, bucket_name};

/// Takes a snapshot of a bucket; from [`TigrisClientExt::create_snapshot`](crate::TigrisClientExt::create_snapshot).
///
/// Sends `CreateBucket` for the existing bucket with `X-Tigris-Snapshot: true` (or
/// `true; name=<name>`) and returns the version from the `x-tigris-snapshot-version` response
/// header. The bucket must have been created with snapshots enabled.
///
/// ```no_run
/// # async fn demo(s3: aws_sdk_s3::Client) -> Result<(), tigris_headers::Error> {
/// use tigris_headers::TigrisClientExt;
///
/// let version = s3.create_snapshot().bucket("datasets").name("before-cleanup").send().await?;
/// println!("snapshot {version}");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct CreateSnapshotFluentBuilder {
    client: Client,
    bucket: String,
    name: Option<String>,
}

impl CreateSnapshotFluentBuilder {
    pub(crate) fn new(client: Client, bucket: String) -> Self {
        Self {
            client,
            bucket,
            name: None,
        }
    }

    /// The bucket to snapshot (required); it must have snapshots enabled.
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = bucket.as_ref().to_owned();
        self
    }

    /// Labels the snapshot; the label must be a valid [`SnapshotName`], checked by `send()`.
    pub fn name(mut self, name: impl AsRef<str>) -> Self {
        self.name = Some(name.as_ref().to_owned());
        self
    }

    /// Validates the input, then takes the snapshot and returns its version.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for an
    /// invalid bucket or snapshot name; [`ErrorKind::UnexpectedResponse`](crate::ErrorKind::UnexpectedResponse)
    /// when the response lacks a valid version header; otherwise the service's refusal.
    pub async fn send(self) -> Result<SnapshotVersion> {
        let span = tracing::debug_span!("create_snapshot", bucket = %self.bucket);
        self.send_inner().instrument(span).await
    }

    async fn send_inner(self) -> Result<SnapshotVersion> {
        let operation = || Operation::CreateSnapshot {
            bucket: self.bucket.clone(),
        };
        let bucket = bucket_name(&self.bucket, operation)?;
        let value = match &self.name {
            None => "true".to_owned(),
            Some(name) => {
                let name = SnapshotName::new(name.as_str()).map_err(|e| {
                    Error::invalid_input(operation(), "the snapshot name is invalid", e)
                })?;
                format!("true; name={name}")
            }
        };
        let (capture, captured) = CaptureHeaders::new(&[header::SNAPSHOT_VERSION]);
        self.client
            .create_bucket()
            .bucket(bucket.as_str())
            .customize()
            .interceptor(AddHeaders::new(header::SNAPSHOT, value))
            .interceptor(capture)
            .send()
            .await
            .map_err(|e| Error::from_sdk(operation(), e))?;
        let headers = captured.take().unwrap_or_default();
        let raw = header::find(&headers, header::SNAPSHOT_VERSION).ok_or_else(|| {
            Error::unexpected_response(
                operation(),
                "the response has no x-tigris-snapshot-version header",
            )
        })?;
        let version = SnapshotVersion::new(raw).map_err(|e| {
            Error::unexpected_response(
                operation(),
                "the x-tigris-snapshot-version header is not a snapshot version",
            )
            .with_source(e)
        })?;
        tracing::debug!(%version, "snapshot created");
        Ok(version)
    }
}

/// One snapshot of a bucket, as listed by [`ListSnapshotsFluentBuilder`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotInfo {
    version: SnapshotVersion,
    name: Option<String>,
    created: Option<SystemTime>,
}

impl SnapshotInfo {
    /// The snapshot's version, for reads, forks and deletion.
    pub fn version(&self) -> &SnapshotVersion {
        &self.version
    }

    /// The label given when the snapshot was taken, if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// When the snapshot was taken, if Tigris said.
    pub fn created(&self) -> Option<SystemTime> {
        self.created
    }
}

/// One page of a snapshot listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotPage {
    snapshots: Vec<SnapshotInfo>,
    continuation_token: Option<String>,
}

impl SnapshotPage {
    /// The snapshots on this page.
    pub fn snapshots(&self) -> &[SnapshotInfo] {
        &self.snapshots
    }

    /// The token for the next page, or `None` on the last page.
    pub fn continuation_token(&self) -> Option<&str> {
        self.continuation_token.as_deref()
    }

    /// The snapshots on this page, by value.
    pub fn into_snapshots(self) -> Vec<SnapshotInfo> {
        self.snapshots
    }
}

/// Splits a snapshot pseudo-bucket name, `<version>` or `<version>; name=<label>`.
fn parse_entry(entry: &str) -> Option<(SnapshotVersion, Option<String>)> {
    let (version, rest) = match entry.split_once(';') {
        Some((version, rest)) => (version, Some(rest)),
        None => (entry, None),
    };
    let version = SnapshotVersion::new(version.trim()).ok()?;
    let name = match rest.map(str::trim_start) {
        None => None,
        Some(rest) => Some(rest.strip_prefix("name=")?.trim().to_owned()).filter(|n| !n.is_empty()),
    };
    Some((version, name))
}

/// Lists the snapshots of a bucket; from [`TigrisClientExt::list_snapshots`](crate::TigrisClientExt::list_snapshots).
///
/// Sends `ListBuckets` with `X-Tigris-Snapshot: <bucket>`; Tigris answers with one
/// pseudo-bucket per snapshot, parsed here into [`SnapshotInfo`].
///
/// ```no_run
/// # async fn demo(s3: aws_sdk_s3::Client) -> Result<(), tigris_headers::Error> {
/// use tigris_headers::TigrisClientExt;
///
/// for snapshot in s3.list_snapshots().bucket("datasets").into_paginator().items().send().try_collect().await? {
///     println!("{} {:?}", snapshot.version(), snapshot.name());
/// }
/// let first_page = s3.list_snapshots().bucket("datasets").max_buckets(10).send().await?;
/// # let _ = first_page;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() or .into_paginator().items().send().try_collect() is awaited"]
pub struct ListSnapshotsFluentBuilder {
    client: Client,
    bucket: String,
    max_buckets: Option<i32>,
    continuation_token: Option<String>,
}

impl ListSnapshotsFluentBuilder {
    /// The most snapshots per page Tigris accepts to be asked for.
    pub const MAX_PAGE_SIZE: i32 = 10_000;

    pub(crate) fn new(client: Client, bucket: String) -> Self {
        Self {
            client,
            bucket,
            max_buckets: None,
            continuation_token: None,
        }
    }

    /// The bucket whose snapshots to list (required).
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = bucket.as_ref().to_owned();
        self
    }

    /// At most this many snapshots per page (1 to [`MAX_PAGE_SIZE`](Self::MAX_PAGE_SIZE)).
    pub fn max_buckets(mut self, max_buckets: i32) -> Self {
        self.max_buckets = Some(max_buckets);
        self
    }

    /// Continues a listing from a previous page's
    /// [`continuation_token`](SnapshotPage::continuation_token).
    pub fn continuation_token(mut self, token: impl Into<String>) -> Self {
        self.continuation_token = Some(token.into());
        self
    }

    fn operation(&self) -> Operation {
        Operation::ListSnapshots {
            bucket: self.bucket.clone(),
        }
    }

    fn validate(&self) -> Result<BucketName> {
        let bucket = bucket_name(&self.bucket, || self.operation())?;
        if let Some(max) = self.max_buckets
            && !(1..=Self::MAX_PAGE_SIZE).contains(&max)
        {
            return Err(Error::invalid_argument(
                self.operation(),
                "max_buckets must be between 1 and 10000",
            ));
        }
        Ok(bucket)
    }

    /// Lists one page.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for an
    /// invalid bucket name or page size; [`ErrorKind::UnexpectedResponse`](crate::ErrorKind::UnexpectedResponse)
    /// when an entry is not a snapshot; otherwise the service's refusal.
    pub async fn send(self) -> Result<SnapshotPage> {
        let span = tracing::debug_span!("list_snapshots", bucket = %self.bucket);
        async {
            let bucket = self.validate()?;
            self.page(&bucket, self.continuation_token.as_deref()).await
        }
        .instrument(span)
        .await
    }

    /// Pages through the whole listing, as the SDK's paginators do: `.send()` streams pages,
    /// `.items().send()` streams their entries.
    pub fn into_paginator(self) -> ListSnapshotsPaginator {
        ListSnapshotsPaginator { builder: self }
    }

    async fn page(&self, bucket: &BucketName, token: Option<&str>) -> Result<SnapshotPage> {
        let output = self
            .client
            .list_buckets()
            .set_max_buckets(self.max_buckets)
            .set_continuation_token(token.map(str::to_owned))
            .customize()
            .interceptor(AddHeaders::new(header::SNAPSHOT, bucket.as_str()))
            .send()
            .await
            .map_err(|e| Error::from_sdk(self.operation(), e))?;
        let snapshots = output
            .buckets()
            .iter()
            .map(|entry| {
                let (version, name) = entry.name().and_then(parse_entry).ok_or_else(|| {
                    Error::unexpected_response(
                        self.operation(),
                        "an entry of the listing is not a snapshot",
                    )
                })?;
                let created = entry
                    .creation_date()
                    .and_then(|d| SystemTime::try_from(*d).ok());
                Ok(SnapshotInfo {
                    version,
                    name,
                    created,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let continuation_token = output
            .continuation_token()
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        tracing::debug!(
            count = snapshots.len(),
            more = continuation_token.is_some(),
            "snapshots listed"
        );
        Ok(SnapshotPage {
            snapshots,
            continuation_token,
        })
    }
}

/// Pages through a snapshot listing; from [`ListSnapshotsFluentBuilder::into_paginator`].
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is called"]
pub struct ListSnapshotsPaginator {
    builder: ListSnapshotsFluentBuilder,
}

impl ListSnapshotsPaginator {
    /// A stream of pages, each one request made as the stream is read. It ends after the last
    /// page or after the first error, which it yields.
    pub fn send(self) -> tigris_core::pagination::PaginationStream<Result<SnapshotPage>> {
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

    /// The snapshots of every page, one at a time; read them with `.items().send()`.
    pub fn items(self) -> ListSnapshotsItems {
        ListSnapshotsItems { pages: self }
    }
}

/// The snapshots of every page of a listing; from [`ListSnapshotsPaginator::items`].
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is called"]
pub struct ListSnapshotsItems {
    pages: ListSnapshotsPaginator,
}

impl ListSnapshotsItems {
    /// A stream of snapshots, fetching pages as it is read; it ends after the last one or
    /// after the first error, which it yields.
    pub fn send(self) -> tigris_core::pagination::PaginationStream<Result<SnapshotInfo>> {
        tigris_core::pagination::items(self.pages.send(), SnapshotPage::into_snapshots)
    }
}

/// Deletes one snapshot; from [`TigrisClientExt::delete_snapshot`](crate::TigrisClientExt::delete_snapshot).
///
/// Sends `DeleteBucket` with `X-Tigris-Snapshot-Version: <version>`.
///
/// **Hazard:** on the wire, deleting a snapshot is `DeleteBucket` plus one header; *the same
/// request without the header deletes the whole bucket*. That is why this is a separate entry
/// point whose version is a required argument and is validated (non-empty, decimal) before
/// anything is sent, rather than an option on `delete_bucket()` that could be forgotten.
///
/// ```no_run
/// # async fn demo(s3: aws_sdk_s3::Client, version: tigris_headers::SnapshotVersion)
/// # -> Result<(), tigris_headers::Error> {
/// use tigris_headers::TigrisClientExt;
///
/// s3.delete_snapshot().bucket("datasets").version(&version).send().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct DeleteSnapshotFluentBuilder {
    client: Client,
    bucket: String,
    version: String,
}

impl DeleteSnapshotFluentBuilder {
    pub(crate) fn new(client: Client, bucket: String, version: String) -> Self {
        Self {
            client,
            bucket,
            version,
        }
    }

    /// The bucket the snapshot belongs to (required).
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = bucket.as_ref().to_owned();
        self
    }

    /// The snapshot version to delete (required).
    pub fn version(mut self, version: impl AsRef<str>) -> Self {
        self.version = version.as_ref().to_owned();
        self
    }

    /// Validates the input, then deletes the snapshot. The bucket and its other snapshots stay.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for an
    /// invalid bucket name or version; [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for
    /// an unknown bucket or snapshot; otherwise the service's refusal.
    pub async fn send(self) -> Result<()> {
        let span =
            tracing::debug_span!("delete_snapshot", bucket = %self.bucket, version = %self.version);
        async {
            let operation = || Operation::DeleteSnapshot {
                bucket: self.bucket.clone(),
                version: self.version.clone(),
            };
            let bucket = bucket_name(&self.bucket, operation)?;
            let version = SnapshotVersion::new(self.version.as_str()).map_err(|e| {
                Error::invalid_input(operation(), "the snapshot version is invalid", e)
            })?;
            self.client
                .delete_bucket()
                .bucket(bucket.as_str())
                .customize()
                .interceptor(AddHeaders::new(header::SNAPSHOT_VERSION, version.as_str()))
                .send()
                .await
                .map_err(|e| Error::from_sdk(operation(), e))?;
            tracing::debug!("snapshot deleted");
            Ok(())
        }
        .instrument(span)
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Snapshot listings name each snapshot in a pseudo-bucket name the service chose: any
        /// text gives a snapshot or none, never a panic.
        #[test]
        fn any_listed_snapshot_name_parses_without_panicking(
            entry in prop_oneof![".{0,40}", "[0-9]{0,22}(; ?(name=)?.{0,12})?"],
        ) {
            if let Some((version, name)) = parse_entry(&entry) {
                prop_assert!(entry.starts_with(version.as_str()) || entry.trim_start().starts_with(version.as_str()));
                prop_assert!(name.is_none_or(|n| !n.is_empty()));
            }
        }
    }

    #[test]
    fn snapshot_entries_parse_with_and_without_names() {
        let v = |s: &str| SnapshotVersion::new(s).unwrap();
        type Expected<'a> = Option<(SnapshotVersion, Option<&'a str>)>;
        let cases: &[(&str, Expected<'_>)] = &[
            (
                "1792493847118382304",
                Some((v("1792493847118382304"), None)),
            ),
            (
                "1792493847118382304; name=v1",
                Some((v("1792493847118382304"), Some("v1"))),
            ),
            (
                "42; name=test snapshot name",
                Some((v("42"), Some("test snapshot name"))),
            ),
            ("42;name=tight", Some((v("42"), Some("tight")))),
            ("42; name=", Some((v("42"), None))),
            ("42; name=a=b", Some((v("42"), Some("a=b")))),
            ("42; label=x", None),
            ("not-a-version", None),
            ("; name=x", None),
            ("", None),
        ];
        for (entry, expected) in cases {
            let got = parse_entry(entry);
            let want = expected
                .as_ref()
                .map(|(v, n)| (v.clone(), n.map(str::to_owned)));
            assert_eq!(got, want, "{entry:?}");
        }
    }
}
