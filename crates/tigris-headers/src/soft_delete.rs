//! Soft delete: deleted objects and buckets stay recoverable for a retention window (7 to 90
//! days).
//!
//! - Turn it on when creating a bucket, with [`SoftDeleteCreateExt::enable_soft_delete`]
//!   (`X-Tigris-Soft-Delete: <days>`), or later, on or off, with
//!   [`SoftDeleteTransportExt::set_soft_delete`] (`PATCH /{bucket}` with `soft_delete`).
//! - See what was deleted with [`SoftDeleteViewExt::soft_deleted`] on `list_objects_v2` (the
//!   deleted keys) and `list_object_versions` (their versions, with the ids to restore or purge).
//! - Bring an object back with [`SoftDeleteClientExt::restore_deleted_object`] (RestoreObject
//!   with `X-Tigris-Restore-Type: soft-delete`), or drop one deleted version for good with
//!   [`SoftDeleteClientExt::purge_deleted_object`].
//! - Deleted buckets: [`SoftDeleteTransportExt::list_deleted_buckets`] (`GET /?OnlyDeleted=true`)
//!   and [`SoftDeleteTransportExt::restore_bucket`] (`POST /{bucket}?restore`).
//!
//! A bucket deleted (force delete included) while soft delete is on is restorable with its
//! objects for the window, and its name stays reserved meanwhile. To delete one for good, turn
//! soft delete off first.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let emu = tigris_emulator::Emulator::start().await?;
//! # let sdk = tigris_test_support::root_sdk_config(&emu, aws_sdk_s3::config::retry::RetryConfig::standard());
//! use tigris_headers::config::s3_client;
//! use tigris_headers::soft_delete::{Retention, SoftDeleteClientExt, SoftDeleteCreateExt, SoftDeleteViewExt};
//!
//! let s3 = s3_client(&sdk);
//! s3.create_bucket().bucket("datasets").enable_soft_delete(Retention::days(30)?).send().await?;
//! s3.put_object().bucket("datasets").key("a.csv").body(b"1,2".to_vec().into()).send().await?;
//! s3.delete_object().bucket("datasets").key("a.csv").send().await?;
//!
//! let deleted = s3.list_object_versions().bucket("datasets").soft_deleted().send().await?;
//! let version = deleted.versions()[0].version_id().unwrap_or_default().to_owned();
//! s3.restore_deleted_object("datasets", "a.csv").version_id(version).send().await?;
//! assert!(s3.get_object().bucket("datasets").key("a.csv").send().await.is_ok());
//! # Ok(()) }
//! ```

use std::fmt;
use std::time::SystemTime;

use aws_sdk_s3::Client;
use aws_sdk_s3::client::customize::CustomizableOperation;
use aws_sdk_s3::operation::create_bucket::builders::CreateBucketFluentBuilder;
use aws_sdk_s3::operation::list_object_versions::builders::ListObjectVersionsFluentBuilder;
use aws_sdk_s3::operation::list_object_versions::{
    ListObjectVersionsError, ListObjectVersionsOutput,
};
use aws_sdk_s3::operation::list_objects_v2::builders::ListObjectsV2FluentBuilder;
use aws_sdk_s3::operation::list_objects_v2::{ListObjectsV2Error, ListObjectsV2Output};
use http::{HeaderValue, Method};
use serde_json::{Value, json};
use tigris_core::transport::{SignedTransport, TigrisRequest};
use tracing::Instrument;

use crate::create_bucket::CreateBucketOperation;
use crate::error::{Error, Operation, Result};
use crate::header::{self, AddHeaders, CaptureHeaders};
use crate::snapshot::bucket_name;

/// How long deleted objects and buckets are kept: a whole number of days from
/// [`MIN_DAYS`](Self::MIN_DAYS) to [`MAX_DAYS`](Self::MAX_DAYS), checked when it is made.
///
/// ```
/// use tigris_headers::soft_delete::Retention;
/// assert_eq!(Retention::days(30)?.as_days(), 30);
/// assert_eq!(Retention::default().as_days(), 7);
/// assert!(Retention::days(6).is_err());
/// assert!(Retention::days(91).is_err());
/// # Ok::<(), tigris_headers::soft_delete::InvalidRetention>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Retention(u32);

impl Retention {
    /// The shortest window Tigris accepts.
    pub const MIN_DAYS: u32 = 7;
    /// The longest window Tigris accepts.
    pub const MAX_DAYS: u32 = 90;

    /// A window of `days` days.
    ///
    /// # Errors
    /// [`InvalidRetention`] outside 7..=90.
    pub fn days(days: u32) -> Result<Self, InvalidRetention> {
        if (Self::MIN_DAYS..=Self::MAX_DAYS).contains(&days) {
            Ok(Self(days))
        } else {
            Err(InvalidRetention { days })
        }
    }

    /// The window in days.
    pub fn as_days(self) -> u32 {
        self.0
    }
}

/// Tigris's default window, 7 days.
impl Default for Retention {
    fn default() -> Self {
        Self(Self::MIN_DAYS)
    }
}

/// A retention outside Tigris's 7 to 90 days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRetention {
    days: u32,
}

impl fmt::Display for InvalidRetention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a soft-delete retention must be {} to {} days, got {}",
            Retention::MIN_DAYS,
            Retention::MAX_DAYS,
            self.days
        )
    }
}

impl std::error::Error for InvalidRetention {}

impl From<InvalidRetention> for Error {
    fn from(err: InvalidRetention) -> Self {
        Error::invalid_input(
            Operation::SoftDeleteSetting {
                bucket: String::new(),
            },
            "the soft-delete retention must be 7 to 90 days",
            err,
        )
    }
}

/// Creating a bucket with soft delete on.
///
/// ```compile_fail
/// # fn demo(s3: aws_sdk_s3::Client) {
/// use tigris_headers::soft_delete::{Retention, SoftDeleteCreateExt};
/// // Only CreateBucket has it.
/// let _ = s3.put_object().bucket("b").key("k").enable_soft_delete(Retention::default());
/// # }
/// ```
pub trait SoftDeleteCreateExt: sealed::Sealed {
    /// Creates the bucket with soft delete on for `retention` (`X-Tigris-Soft-Delete: <days>`).
    fn enable_soft_delete(self, retention: Retention) -> CreateBucketOperation;
}

impl SoftDeleteCreateExt for CreateBucketFluentBuilder {
    fn enable_soft_delete(self, retention: Retention) -> CreateBucketOperation {
        self.customize().enable_soft_delete(retention)
    }
}

impl SoftDeleteCreateExt for CreateBucketOperation {
    fn enable_soft_delete(self, retention: Retention) -> CreateBucketOperation {
        self.interceptor(AddHeaders::new(
            header::SOFT_DELETE,
            retention.as_days().to_string(),
        ))
    }
}

/// `ListObjectsV2` with Tigris options attached.
pub type ListObjectsV2Operation =
    CustomizableOperation<ListObjectsV2Output, ListObjectsV2Error, ListObjectsV2FluentBuilder>;
/// `ListObjectVersions` with Tigris options attached.
pub type ListObjectVersionsOperation = CustomizableOperation<
    ListObjectVersionsOutput,
    ListObjectVersionsError,
    ListObjectVersionsFluentBuilder,
>;

/// The soft-delete view of a listing (`X-Tigris-Soft-Delete: true`): only what was deleted
/// and is still recoverable, live objects left out.
///
/// On `list_objects_v2` each deleted key once (its most recent deletion); on
/// `list_object_versions` every deleted version, the most recent deletion of a key marked
/// latest, with the version ids that [`SoftDeleteClientExt`] takes.
pub trait SoftDeleteViewExt: sealed::Sealed {
    /// The customized operation this returns.
    type Operation;

    /// Lists soft-deleted objects instead of live ones.
    fn soft_deleted(self) -> Self::Operation;
}

impl SoftDeleteViewExt for ListObjectsV2FluentBuilder {
    type Operation = ListObjectsV2Operation;
    fn soft_deleted(self) -> ListObjectsV2Operation {
        self.customize().soft_deleted()
    }
}

impl SoftDeleteViewExt for ListObjectsV2Operation {
    type Operation = ListObjectsV2Operation;
    fn soft_deleted(self) -> ListObjectsV2Operation {
        self.interceptor(AddHeaders::new(header::SOFT_DELETE, "true"))
    }
}

impl SoftDeleteViewExt for ListObjectVersionsFluentBuilder {
    type Operation = ListObjectVersionsOperation;
    fn soft_deleted(self) -> ListObjectVersionsOperation {
        self.customize().soft_deleted()
    }
}

impl SoftDeleteViewExt for ListObjectVersionsOperation {
    type Operation = ListObjectVersionsOperation;
    fn soft_deleted(self) -> ListObjectVersionsOperation {
        self.interceptor(AddHeaders::new(header::SOFT_DELETE, "true"))
    }
}

/// Restoring and purging soft-deleted objects, on the S3 client.
pub trait SoftDeleteClientExt: sealed::Sealed {
    /// Brings a deleted object back as `key`'s live object. See
    /// [`RestoreDeletedObjectFluentBuilder`].
    fn restore_deleted_object(
        &self,
        bucket: impl AsRef<str>,
        key: impl AsRef<str>,
    ) -> RestoreDeletedObjectFluentBuilder;

    /// Drops deleted version `version_id` of `key` for good. See
    /// [`PurgeDeletedObjectFluentBuilder`].
    fn purge_deleted_object(
        &self,
        bucket: impl AsRef<str>,
        key: impl AsRef<str>,
        version_id: impl AsRef<str>,
    ) -> PurgeDeletedObjectFluentBuilder;
}

impl SoftDeleteClientExt for Client {
    fn restore_deleted_object(
        &self,
        bucket: impl AsRef<str>,
        key: impl AsRef<str>,
    ) -> RestoreDeletedObjectFluentBuilder {
        RestoreDeletedObjectFluentBuilder {
            client: self.clone(),
            bucket: bucket.as_ref().to_owned(),
            key: key.as_ref().to_owned(),
            version_id: None,
        }
    }

    fn purge_deleted_object(
        &self,
        bucket: impl AsRef<str>,
        key: impl AsRef<str>,
        version_id: impl AsRef<str>,
    ) -> PurgeDeletedObjectFluentBuilder {
        PurgeDeletedObjectFluentBuilder {
            client: self.clone(),
            bucket: bucket.as_ref().to_owned(),
            key: key.as_ref().to_owned(),
            version_id: version_id.as_ref().to_owned(),
        }
    }
}

fn check_key(key: &str, operation: impl Fn() -> Operation) -> Result<()> {
    if key.is_empty() {
        return Err(Error::invalid_argument(
            operation(),
            "the object key must not be empty",
        ));
    }
    if key.len() > 1024 {
        return Err(Error::invalid_argument(
            operation(),
            "the object key must be at most 1024 bytes long",
        ));
    }
    Ok(())
}

/// Restores a soft-deleted object; from [`SoftDeleteClientExt::restore_deleted_object`].
///
/// Sends `RestoreObject` (no restore request body) with `X-Tigris-Restore-Type: soft-delete`
/// and, with [`version_id`](Self::version_id), `X-Tigris-Restore-Version`; without one the
/// most recent deletion comes back. A restored object is a new write of the key, replacing a
/// live object if there is one.
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct RestoreDeletedObjectFluentBuilder {
    client: Client,
    bucket: String,
    key: String,
    version_id: Option<String>,
}

/// What a restore answered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RestoredObject {
    /// The version id of the restored (live) object, when the service gave it.
    pub version_id: Option<String>,
}

impl RestoreDeletedObjectFluentBuilder {
    /// The deleted version to restore (from the soft-delete view of `list_object_versions`).
    pub fn version_id(mut self, version_id: impl Into<String>) -> Self {
        self.version_id = Some(version_id.into());
        self
    }

    /// Validates the input, then restores.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for an
    /// invalid bucket name, an empty or over-long key, or an empty version id;
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) when nothing deleted matches;
    /// otherwise the service's refusal.
    pub async fn send(self) -> Result<RestoredObject> {
        let span =
            tracing::debug_span!("restore_deleted_object", bucket = %self.bucket, key = %self.key);
        async {
            let operation = || Operation::RestoreDeletedObject {
                bucket: self.bucket.clone(),
                key: self.key.clone(),
            };
            let bucket = bucket_name(&self.bucket, operation)?;
            check_key(&self.key, operation)?;
            let mut headers = AddHeaders::new(header::RESTORE_TYPE, "soft-delete");
            if let Some(v) = &self.version_id {
                if v.is_empty() {
                    return Err(Error::invalid_argument(
                        operation(),
                        "the version id must not be empty",
                    ));
                }
                headers = headers.with(header::RESTORE_VERSION, v.clone());
            }
            let (capture, captured) = CaptureHeaders::new(&[header::VERSION_ID]);
            self.client
                .restore_object()
                .bucket(bucket.as_str())
                .key(&self.key)
                .customize()
                .interceptor(headers)
                .interceptor(capture)
                .send()
                .await
                .map_err(|e| Error::from_sdk(operation(), e))?;
            let version_id = captured
                .take()
                .and_then(|h| header::find(&h, header::VERSION_ID).map(str::to_owned));
            tracing::debug!(?version_id, "deleted object restored");
            Ok(RestoredObject { version_id })
        }
        .instrument(span)
        .await
    }
}

/// Drops one soft-deleted version for good; from
/// [`SoftDeleteClientExt::purge_deleted_object`].
///
/// Sends `DeleteObject` with the version id and `X-Tigris-Soft-Delete: true`. Without the
/// header a `DeleteObject` would delete the live object instead, so this is its own entry point.
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct PurgeDeletedObjectFluentBuilder {
    client: Client,
    bucket: String,
    key: String,
    version_id: String,
}

impl PurgeDeletedObjectFluentBuilder {
    /// Validates the input, then purges.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for an
    /// invalid bucket name, an empty or over-long key, or an empty version id;
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) when no such deleted version exists;
    /// otherwise the service's refusal.
    pub async fn send(self) -> Result<()> {
        let span = tracing::debug_span!("purge_deleted_object", bucket = %self.bucket, key = %self.key, version = %self.version_id);
        async {
            let operation = || Operation::PurgeDeletedObject {
                bucket: self.bucket.clone(),
                key: self.key.clone(),
                version: self.version_id.clone(),
            };
            let bucket = bucket_name(&self.bucket, operation)?;
            check_key(&self.key, operation)?;
            if self.version_id.is_empty() || self.version_id == "null" {
                return Err(Error::invalid_argument(
                    operation(),
                    "a purge needs the version id of a deleted version",
                ));
            }
            self.client
                .delete_object()
                .bucket(bucket.as_str())
                .key(&self.key)
                .version_id(&self.version_id)
                .customize()
                .interceptor(AddHeaders::new(header::SOFT_DELETE, "true"))
                .send()
                .await
                .map_err(|e| Error::from_sdk(operation(), e))?;
            tracing::debug!("deleted version purged");
            Ok(())
        }
        .instrument(span)
        .await
    }
}

/// Soft delete's endpoints outside the S3 API, on the [`SignedTransport`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let emu = tigris_emulator::Emulator::start().await?;
/// # let sdk = tigris_test_support::root_sdk_config(&emu, aws_sdk_s3::config::retry::RetryConfig::standard());
/// use tigris_headers::SignedTransport;
/// use tigris_headers::soft_delete::SoftDeleteTransportExt;
///
/// # tigris_headers::config::s3_client(&sdk).create_bucket().bucket("logs").send().await?;
/// let tigris = SignedTransport::new(&sdk)?;
/// tigris.set_soft_delete("logs").retention_days(14).send().await?;
/// # tigris_headers::config::s3_client(&sdk).delete_bucket().bucket("logs").send().await?;
/// let deleted = tigris.list_deleted_buckets().send().await?;
/// assert_eq!(deleted.buckets()[0].name(), "logs");
/// tigris.restore_bucket("logs").send().await?;
/// # Ok(()) }
/// ```
pub trait SoftDeleteTransportExt: sealed::Sealed {
    /// Turns soft delete on or off for `bucket`. See [`SetSoftDeleteFluentBuilder`].
    fn set_soft_delete(&self, bucket: impl AsRef<str>) -> SetSoftDeleteFluentBuilder;

    /// Lists the account's soft-deleted buckets. See [`ListDeletedBucketsFluentBuilder`].
    fn list_deleted_buckets(&self) -> ListDeletedBucketsFluentBuilder;

    /// Restores the soft-deleted `bucket` with its objects. See [`RestoreBucketFluentBuilder`].
    fn restore_bucket(&self, bucket: impl AsRef<str>) -> RestoreBucketFluentBuilder;
}

impl SoftDeleteTransportExt for SignedTransport {
    fn set_soft_delete(&self, bucket: impl AsRef<str>) -> SetSoftDeleteFluentBuilder {
        SetSoftDeleteFluentBuilder {
            transport: self.clone(),
            bucket: bucket.as_ref().to_owned(),
            enabled: None,
            retention_days: None,
        }
    }

    fn list_deleted_buckets(&self) -> ListDeletedBucketsFluentBuilder {
        ListDeletedBucketsFluentBuilder {
            transport: self.clone(),
            max_buckets: None,
            continuation_token: None,
        }
    }

    fn restore_bucket(&self, bucket: impl AsRef<str>) -> RestoreBucketFluentBuilder {
        RestoreBucketFluentBuilder {
            transport: self.clone(),
            bucket: bucket.as_ref().to_owned(),
        }
    }
}

/// Turns soft delete on or off; from [`SoftDeleteTransportExt::set_soft_delete`].
///
/// Sends `PATCH /{bucket}` with `{"soft_delete": {"enabled": true, "retention_days": N}}` or
/// `{"soft_delete": {"enabled": false}}`; no other setting changes. Objects and buckets already
/// deleted keep the window they were deleted with. Tigris says the change can take up to tens
/// of seconds to reach every delete.
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct SetSoftDeleteFluentBuilder {
    transport: SignedTransport,
    bucket: String,
    enabled: Option<bool>,
    retention_days: Option<u32>,
}

impl SetSoftDeleteFluentBuilder {
    /// On (`true`, with the bucket's current retention or Tigris's default) or off (`false`).
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = Some(enabled);
        self
    }

    /// On, keeping deleted data `days` days (7 to 90, checked by `send()`).
    pub fn retention_days(mut self, days: u32) -> Self {
        self.retention_days = Some(days);
        self
    }

    /// On, for `retention`.
    pub fn retention(self, retention: Retention) -> Self {
        self.retention_days(retention.as_days())
    }

    fn body(&self, operation: impl Fn() -> Operation) -> Result<Value> {
        let invalid = |reason| Err(Error::invalid_argument(operation(), reason));
        match (self.enabled, self.retention_days) {
            (None, None) => invalid("say whether soft delete is on (enabled or retention_days)"),
            (Some(false), Some(_)) => {
                invalid("retention_days only applies when enabling soft delete")
            }
            (Some(false), None) => Ok(json!({"soft_delete": {"enabled": false}})),
            (Some(true), None) => Ok(json!({"soft_delete": {"enabled": true}})),
            (_, Some(days)) => {
                let days = Retention::days(days).map_err(|e| {
                    Error::invalid_input(
                        operation(),
                        "the soft-delete retention must be 7 to 90 days",
                        e,
                    )
                })?;
                Ok(json!({"soft_delete": {"enabled": true, "retention_days": days.as_days()}}))
            }
        }
    }

    /// Validates the input, then changes the setting.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for an
    /// invalid bucket name, a retention outside 7 to 90 days, a retention with
    /// `enabled(false)`, or nothing set; otherwise the service's refusal.
    pub async fn send(self) -> Result<()> {
        let span = tracing::debug_span!("set_soft_delete", bucket = %self.bucket);
        async {
            let operation = || Operation::SoftDeleteSetting {
                bucket: self.bucket.clone(),
            };
            let bucket = bucket_name(&self.bucket, operation)?;
            let body = self.body(operation)?;
            let request = TigrisRequest::new(Method::PATCH)
                .bucket(bucket)
                .header(
                    http::header::ACCEPT,
                    HeaderValue::from_static("application/json"),
                )
                .json(body.to_string());
            self.transport
                .send(&request)
                .await
                .map_err(|e| Error::from_sdk(operation(), e))?;
            tracing::debug!("soft-delete setting changed");
            Ok(())
        }
        .instrument(span)
        .await
    }
}

/// Lists soft-deleted buckets, a page at a time; from
/// [`SoftDeleteTransportExt::list_deleted_buckets`].
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
    pub async fn send(&self) -> Result<DeletedBucketsPage> {
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

    /// Every deleted bucket, following continuation tokens.
    ///
    /// # Errors
    /// The first page's failure, as [`send`](Self::send).
    pub async fn send_all(mut self) -> Result<Vec<DeletedBucket>> {
        let mut all = Vec::new();
        loop {
            let page = self.send().await?;
            all.extend(page.buckets);
            match page.continuation_token {
                Some(t) if self.continuation_token.as_ref() != Some(&t) => {
                    self.continuation_token = Some(t);
                }
                _ => return Ok(all),
            }
        }
    }
}

/// Reads Tigris's JSON bucket listing; a single bucket may come as an object, none as null.
fn parse_deleted_page(body: &[u8]) -> Option<DeletedBucketsPage> {
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
                created: crate::fork::timestamp(e.get("InitialCreatedDate")),
                deleted: crate::fork::timestamp(e.get("CreationDate")),
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

/// Restores a soft-deleted bucket with its objects; from
/// [`SoftDeleteTransportExt::restore_bucket`]. Sends `POST /{bucket}?restore`.
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct RestoreBucketFluentBuilder {
    transport: SignedTransport,
    bucket: String,
}

impl RestoreBucketFluentBuilder {
    /// Validates the name, then restores.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for an
    /// invalid name; [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) when no deleted bucket
    /// of that name is in its window; a refusal (`InvalidArgument`) when the bucket is live.
    pub async fn send(self) -> Result<()> {
        let span = tracing::debug_span!("restore_bucket", bucket = %self.bucket);
        async {
            let operation = || Operation::RestoreBucket {
                bucket: self.bucket.clone(),
            };
            let bucket = bucket_name(&self.bucket, operation)?;
            // Repeating a restore that was applied answers InvalidArgument: not idempotent.
            let request = TigrisRequest::new(Method::POST)
                .bucket(bucket)
                .query_param("restore", "");
            self.transport
                .send(&request)
                .await
                .map_err(|e| Error::from_sdk(operation(), e))?;
            tracing::debug!("bucket restored");
            Ok(())
        }
        .instrument(span)
        .await
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for aws_sdk_s3::Client {}
    impl Sealed for tigris_core::transport::SignedTransport {}
    impl Sealed for super::CreateBucketFluentBuilder {}
    impl Sealed for super::CreateBucketOperation {}
    impl Sealed for super::ListObjectsV2FluentBuilder {}
    impl Sealed for super::ListObjectsV2Operation {}
    impl Sealed for super::ListObjectVersionsFluentBuilder {}
    impl Sealed for super::ListObjectVersionsOperation {}
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

    #[test]
    fn retention_errors_say_the_range() {
        let err = Retention::days(3).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a soft-delete retention must be 7 to 90 days, got 3"
        );
        let err: Error = err.into();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
    }
}
