//! Drains a shadow bucket: [`Client::migrate`](crate::Client::migrate) schedules the copy of
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

use futures::StreamExt;
use http::{HeaderName, HeaderValue, Method};
use tigris_core::transport::{SignedTransport, TigrisRequest};
use tracing::Instrument;

use crate::error::{Error, Operation, Result};
use crate::migration_status::{check_prefix, status};
use crate::wire::bucket_name;

/// HeadObject: schedule the copy of the object from the shadow (`true`).
const SCHEDULE_MIGRATION: &str = "x-tigris-schedule-migration";

/// How many HeadObject requests [`MigrateFluentBuilder`] keeps in flight unless told
/// otherwise (as Tigris's CLI does).
pub const DEFAULT_CONCURRENCY: usize = 50;

/// What [`MigrateFluentBuilder::send`] did: the keys it found to copy, and which it scheduled.
#[derive(Debug)]
#[non_exhaustive]
pub struct MigrationReport {
    scheduled: Vec<String>,
    failed: Vec<(String, Error)>,
}

impl MigrationReport {
    /// Keys found in the shadow and not in Tigris.
    pub fn to_migrate(&self) -> u64 {
        (self.scheduled.len() + self.failed.len()) as u64
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

impl crate::Client {
    /// Schedules the copy of what a shadowed bucket has not copied in yet. See
    /// [`MigrateFluentBuilder`].
    pub fn migrate(&self) -> MigrateFluentBuilder {
        MigrateFluentBuilder {
            s3: self.s3.clone(),
            transport: self.transport.clone(),
            bucket: String::new(),
            prefix: String::new(),
            concurrency: DEFAULT_CONCURRENCY,
        }
    }
}
