//! Draining a shadow bucket: [`Client::migrate`](crate::Client::migrate) schedules the copy of
//! every object under a prefix that is in the shadow and not yet in Tigris;
//! [`Client::migration_status`](crate::Client::migration_status) counts what is left, and
//! [`Client::object_migrated`](crate::Client::object_migrated) asks about one key.
//!
//! Migration is driven from the client, as Tigris's own CLI (`tigris buckets migrate`) drives
//! it: two ListObjectsV2 walks in key order, one with `X-Tigris-List-Source: shadow` and one
//! with `X-Tigris-List-Source: tigris`, joined by key; then, for each key only in the shadow, a
//! HeadObject with `X-Tigris-Schedule-Migration: true`. Tigris copies scheduled objects in the
//! background; an object is migrated once HeadObject no longer answers
//! `X-Tigris-Read-Source: block_shadow`.
//!
//! ```no_run
//! # async fn demo(tigris: tigris_api::Client) -> Result<(), tigris_api::Error> {
//! let report = tigris.migrate().bucket("media").prefix("images/").send().await?;
//! println!("{} of {} scheduled", report.scheduled(), report.to_migrate());
//! let status = tigris.migration_status().bucket("media").prefix("images/").send().await?;
//! println!("{} left to copy", status.remaining());
//! # Ok(()) }
//! ```

use std::cmp::Ordering;

use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output;
use futures::StreamExt;
use http::{HeaderName, HeaderValue, Method};
use tigris_core::transport::{SignedTransport, TigrisRequest};
use tracing::Instrument;

use crate::error::{Error, Operation, Result};
use crate::wire::bucket_name;

/// ListObjectsV2: which side of a shadowed bucket to list (`tigris` or `shadow`).
const LIST_SOURCE: &str = "x-tigris-list-source";
/// HeadObject: schedule the copy of the object from the shadow (`true`).
const SCHEDULE_MIGRATION: &str = "x-tigris-schedule-migration";
/// HeadObject response: `block_shadow` while the object is served from the shadow.
const READ_SOURCE: &str = "x-tigris-read-source";

/// How many HeadObject requests [`MigrateFluentBuilder`] keeps in flight unless told
/// otherwise (as Tigris's CLI does).
pub const DEFAULT_CONCURRENCY: usize = 50;

const MAX_KEY_BYTES: usize = 1024;

/// Where the keys of a shadowed bucket are: from [`MigrationStatusFluentBuilder::send`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct MigrationStatus {
    in_shadow: u64,
    migrated: u64,
    remaining: Vec<(String, i64)>,
}

impl MigrationStatus {
    /// Objects under the prefix in the shadow bucket.
    pub fn in_shadow(&self) -> u64 {
        self.in_shadow
    }

    /// Of those, how many are in Tigris too.
    pub fn migrated(&self) -> u64 {
        self.migrated
    }

    /// How many are only in the shadow.
    pub fn remaining(&self) -> u64 {
        self.remaining.len() as u64
    }

    /// The keys only in the shadow, in key order.
    pub fn remaining_keys(&self) -> impl Iterator<Item = &str> {
        self.remaining.iter().map(|(k, _)| k.as_str())
    }

    /// Bytes of the objects only in the shadow.
    pub fn remaining_bytes(&self) -> u64 {
        self.remaining
            .iter()
            .map(|(_, size)| u64::try_from(*size).unwrap_or(0))
            .sum()
    }

    /// Whether nothing is left to copy.
    pub fn is_complete(&self) -> bool {
        self.remaining.is_empty()
    }
}

/// What [`MigrateFluentBuilder::send`] did: the keys it found to copy, and which it scheduled.
#[derive(Debug)]
#[non_exhaustive]
pub struct MigrationReport {
    to_migrate: u64,
    scheduled: Vec<String>,
    failed: Vec<(String, Error)>,
}

impl MigrationReport {
    /// Keys found in the shadow and not in Tigris.
    pub fn to_migrate(&self) -> u64 {
        self.to_migrate
    }

    /// How many of them Tigris accepted to copy.
    pub fn scheduled(&self) -> u64 {
        self.scheduled.len() as u64
    }

    /// The keys scheduled, in key order.
    pub fn scheduled_keys(&self) -> &[String] {
        &self.scheduled
    }

    /// The keys Tigris refused to schedule, each with its error (an unreachable shadow, for
    /// example). Run `migrate` again to retry them.
    pub fn failed(&self) -> &[(String, Error)] {
        &self.failed
    }
}

fn check_prefix(prefix: &str, operation: &Operation) -> Result<()> {
    if prefix.len() > MAX_KEY_BYTES {
        return Err(Error::invalid_argument(
            operation.clone(),
            "the prefix is longer than 1024 bytes",
        ));
    }
    Ok(())
}

/// One side's listing, a page at a time.
struct Side {
    s3: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
    source: &'static str,
    token: Option<String>,
    page: std::vec::IntoIter<(String, i64)>,
    done: bool,
}

impl Side {
    fn new(s3: &aws_sdk_s3::Client, bucket: &str, prefix: &str, source: &'static str) -> Self {
        Self {
            s3: s3.clone(),
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
            source,
            token: None,
            page: Vec::new().into_iter(),
            done: false,
        }
    }

    async fn next(&mut self, operation: &Operation) -> Result<Option<(String, i64)>> {
        loop {
            if let Some(item) = self.page.next() {
                return Ok(Some(item));
            }
            if self.done {
                return Ok(None);
            }
            let source = self.source;
            let mut call = self
                .s3
                .list_objects_v2()
                .bucket(&self.bucket)
                .set_continuation_token(self.token.take());
            if !self.prefix.is_empty() {
                call = call.prefix(&self.prefix);
            }
            let out: ListObjectsV2Output = call
                .customize()
                .mutate_request(move |r| {
                    r.headers_mut().insert(LIST_SOURCE, source);
                })
                .send()
                .await
                .map_err(|e| Error::from_sdk(operation.clone(), e))?;
            let items: Vec<(String, i64)> = out
                .contents()
                .iter()
                .filter_map(|o| Some((o.key()?.to_owned(), o.size().unwrap_or(0))))
                .collect();
            self.token = out.next_continuation_token().map(str::to_owned);
            self.done = self.token.is_none() || !out.is_truncated().unwrap_or(false);
            self.page = items.into_iter();
        }
    }
}

/// Joins the two listings by key.
async fn status(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    operation: &Operation,
) -> Result<MigrationStatus> {
    let mut shadow = Side::new(s3, bucket, prefix, "shadow");
    let mut tigris = Side::new(s3, bucket, prefix, "tigris");
    let mut status = MigrationStatus::default();
    let mut t = tigris.next(operation).await?;
    while let Some((key, size)) = shadow.next(operation).await? {
        status.in_shadow += 1;
        // Both listings are in key order (byte order, as S3 sorts them).
        while let Some((tk, _)) = &t
            && tk.as_bytes().cmp(key.as_bytes()) == Ordering::Less
        {
            t = tigris.next(operation).await?;
        }
        if t.as_ref().is_some_and(|(tk, _)| *tk == key) {
            status.migrated += 1;
        } else {
            status.remaining.push((key, size));
        }
    }
    Ok(status)
}

/// Counts what a shadowed bucket still has to copy under a prefix; from
/// [`Client::migration_status`](crate::Client::migration_status).
///
/// Two key-ordered listings (`X-Tigris-List-Source: shadow` and `tigris`) joined by key. The
/// bucket name and a prefix of at most 1024 bytes are checked before any request.
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct MigrationStatusFluentBuilder {
    s3: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
}

impl MigrationStatusFluentBuilder {
    /// The shadowed bucket (required).
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = bucket.as_ref().to_owned();
        self
    }

    /// Only keys under this prefix (default: all).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Lists both sides and joins them.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for an
    /// invalid bucket name or prefix; otherwise the listings' errors (for example a shadow that
    /// cannot be reached).
    pub async fn send(self) -> Result<MigrationStatus> {
        let span = tracing::debug_span!("migration_status", bucket = %self.bucket);
        async {
            let operation = Operation::Migrate {
                bucket: self.bucket.clone(),
                prefix: self.prefix.clone(),
            };
            bucket_name(&self.bucket, || operation.clone())?;
            check_prefix(&self.prefix, &operation)?;
            status(&self.s3, &self.bucket, &self.prefix, &operation).await
        }
        .instrument(span)
        .await
    }
}

/// Schedules the copy of every object under a prefix that is only in the shadow; from
/// [`Client::migrate`](crate::Client::migrate).
///
/// The bucket name, a prefix of at most 1024 bytes and a concurrency of at least 1 are checked
/// before any request. A key Tigris refuses to schedule is reported in
/// [`MigrationReport::failed`], not an error of the call: the others are still scheduled.
/// Scheduling returns before the copies land; follow them with
/// [`Client::migration_status`](crate::Client::migration_status).
///
/// ```no_run
/// # async fn demo(tigris: tigris_api::Client) -> Result<(), tigris_api::Error> {
/// let report = tigris.migrate().bucket("media").send().await?;
/// for (key, error) in report.failed() {
///     eprintln!("{key}: {error}");
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct MigrateFluentBuilder {
    s3: aws_sdk_s3::Client,
    transport: SignedTransport,
    bucket: String,
    prefix: String,
    concurrency: usize,
}

impl MigrateFluentBuilder {
    /// The shadowed bucket (required).
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = bucket.as_ref().to_owned();
        self
    }

    /// Only keys under this prefix (default: all).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How many scheduling requests are in flight at once (default [`DEFAULT_CONCURRENCY`]).
    pub fn concurrency(mut self, requests: usize) -> Self {
        self.concurrency = requests;
        self
    }

    /// Finds the keys to copy, then schedules each.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for an
    /// invalid bucket name, prefix or a concurrency of 0; otherwise the listings' errors.
    pub async fn send(self) -> Result<MigrationReport> {
        let span = tracing::debug_span!("migrate", bucket = %self.bucket, prefix = %self.prefix);
        async {
            let operation = Operation::Migrate {
                bucket: self.bucket.clone(),
                prefix: self.prefix.clone(),
            };
            let bucket = bucket_name(&self.bucket, || operation.clone())?;
            check_prefix(&self.prefix, &operation)?;
            if self.concurrency == 0 {
                return Err(Error::invalid_argument(
                    operation,
                    "the concurrency must be at least 1",
                ));
            }
            let found = status(&self.s3, &self.bucket, &self.prefix, &operation).await?;
            let to_migrate = found.remaining();
            let transport = &self.transport;
            let results: Vec<(String, Result<()>)> =
                futures::stream::iter(found.remaining.into_iter().map(|(key, _)| {
                    let bucket = bucket.clone();
                    let operation = operation.clone();
                    async move {
                        let request = TigrisRequest::new(Method::HEAD)
                            .bucket(bucket)
                            .key(key.clone())
                            .header(
                                HeaderName::from_static(SCHEDULE_MIGRATION),
                                HeaderValue::from_static("true"),
                            )
                            .idempotent(true);
                        let result = transport
                            .send(&request)
                            .await
                            .map(|_| ())
                            .map_err(|e| Error::from_sdk(operation, e));
                        (key, result)
                    }
                }))
                .buffered(self.concurrency)
                .collect()
                .await;
            let mut report = MigrationReport {
                to_migrate,
                scheduled: Vec::new(),
                failed: Vec::new(),
            };
            for (key, result) in results {
                match result {
                    Ok(()) => report.scheduled.push(key),
                    Err(e) => report.failed.push((key, e)),
                }
            }
            Ok(report)
        }
        .instrument(span)
        .await
    }
}

/// Asks whether one object has been copied in from the shadow; from
/// [`Client::object_migrated`](crate::Client::object_migrated).
///
/// HeadObject: migrated unless Tigris answers `X-Tigris-Read-Source: block_shadow` (compared
/// case-insensitively, as Tigris's clients do). The bucket name and a key of 1 to 1024 bytes
/// are checked before the request.
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct ObjectMigratedFluentBuilder {
    transport: SignedTransport,
    bucket: String,
    key: String,
}

impl ObjectMigratedFluentBuilder {
    /// The shadowed bucket (required).
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = bucket.as_ref().to_owned();
        self
    }

    /// The object key (required).
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self
    }

    /// Sends the HeadObject.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before the request for an
    /// invalid bucket name or key; [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) when
    /// the key is on neither side.
    pub async fn send(self) -> Result<bool> {
        let span = tracing::debug_span!("object_migrated", bucket = %self.bucket);
        async {
            let operation = Operation::Migrate {
                bucket: self.bucket.clone(),
                prefix: self.key.clone(),
            };
            let bucket = bucket_name(&self.bucket, || operation.clone())?;
            if self.key.is_empty() || self.key.len() > MAX_KEY_BYTES {
                return Err(Error::invalid_argument(
                    operation,
                    "the key must be 1 to 1024 bytes",
                ));
            }
            let request = TigrisRequest::new(Method::HEAD)
                .bucket(bucket)
                .key(self.key.clone())
                .idempotent(true);
            let response = self
                .transport
                .send(&request)
                .await
                .map_err(|e| Error::from_sdk(operation.clone(), e))?;
            Ok(!response
                .headers()
                .get(READ_SOURCE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("block_shadow")))
        }
        .instrument(span)
        .await
    }
}

impl crate::Client {
    /// Schedules the copy of what a shadowed bucket has not copied in yet. See
    /// [`MigrateFluentBuilder`].
    pub fn migrate(&self) -> MigrateFluentBuilder {
        MigrateFluentBuilder {
            s3: tigris_core::config::s3_client(&self.sdk),
            transport: self.transport.clone(),
            bucket: String::new(),
            prefix: String::new(),
            concurrency: DEFAULT_CONCURRENCY,
        }
    }

    /// Counts what a shadowed bucket still has to copy. See [`MigrationStatusFluentBuilder`].
    pub fn migration_status(&self) -> MigrationStatusFluentBuilder {
        MigrationStatusFluentBuilder {
            s3: tigris_core::config::s3_client(&self.sdk),
            bucket: String::new(),
            prefix: String::new(),
        }
    }

    /// Whether one object has been copied in from the shadow. See
    /// [`ObjectMigratedFluentBuilder`].
    pub fn object_migrated(&self) -> ObjectMigratedFluentBuilder {
        ObjectMigratedFluentBuilder {
            transport: self.transport.clone(),
            bucket: String::new(),
            key: String::new(),
        }
    }
}
