//! Soft delete: deleted objects and buckets stay recoverable for a retention window (7 to 90
//! days).
//!
//! - Turn it on when creating a bucket, with
//!   [`CreateBucketExt::enable_soft_delete`](crate::CreateBucketExt::enable_soft_delete)
//!   (`X-Tigris-Soft-Delete: <days>`), or later, on or off, with
//!   `tigris_api::Client::update_bucket` (`PATCH /{bucket}` with `soft_delete`).
//! - See what was deleted with [`SoftDeleteViewExt::soft_deleted`] on `list_objects_v2` (the
//!   deleted keys) and `list_object_versions` (their versions, with the ids to restore or purge).
//! - Bring an object back with [`TigrisClientExt::restore_deleted_object`](crate::TigrisClientExt::restore_deleted_object) (RestoreObject
//!   with `X-Tigris-Restore-Type: soft-delete`), or drop one deleted version for good with
//!   [`TigrisClientExt::purge_deleted_object`](crate::TigrisClientExt::purge_deleted_object).
//! - Deleted buckets are listed and restored through `tigris_api::Client`
//!   (`list_deleted_buckets`, `restore_bucket`).
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
//! use tigris_core::config::s3_client;
//! use tigris_headers::prelude::*;
//! use tigris_headers::soft_delete::Retention;
//!
//! let s3 = s3_client(&sdk);
//! s3.create_bucket().bucket("datasets").enable_soft_delete(Retention::days(30)?).send().await?;
//! s3.put_object().bucket("datasets").key("a.csv").body(b"1,2".to_vec().into()).send().await?;
//! s3.delete_object().bucket("datasets").key("a.csv").send().await?;
//!
//! let deleted = s3.list_object_versions().bucket("datasets").soft_deleted().send().await?;
//! let version = deleted.versions()[0].version_id().unwrap_or_default().to_owned();
//! s3.restore_deleted_object().bucket("datasets").key("a.csv").version_id(version).send().await?;
//! assert!(s3.get_object().bucket("datasets").key("a.csv").send().await.is_ok());
//! # Ok(()) }
//! ```

use std::fmt;

use aws_sdk_s3::Client;
use aws_sdk_s3::client::customize::CustomizableOperation;
use aws_sdk_s3::operation::list_object_versions::builders::ListObjectVersionsFluentBuilder;
use aws_sdk_s3::operation::list_object_versions::{
    ListObjectVersionsError, ListObjectVersionsOutput,
};
use aws_sdk_s3::operation::list_objects_v2::builders::ListObjectsV2FluentBuilder;
use aws_sdk_s3::operation::list_objects_v2::{ListObjectsV2Error, ListObjectsV2Output};
use tracing::Instrument;

use crate::error::{Error, Operation, Result};
use crate::header::{self, AddHeaders, CaptureHeaders};
use crate::names::bucket_name;

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
        Error::invalid_value("the soft-delete retention must be 7 to 90 days", err)
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
/// latest, with the version ids that [`TigrisClientExt`](crate::TigrisClientExt) takes.
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

/// Restores a soft-deleted object; from [`TigrisClientExt::restore_deleted_object`](crate::TigrisClientExt::restore_deleted_object).
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
    pub(crate) fn new(client: Client) -> Self {
        Self {
            client,
            bucket: String::new(),
            key: String::new(),
            version_id: None,
        }
    }

    /// The bucket (required).
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = bucket.as_ref().to_owned();
        self
    }

    /// The key of the deleted object (required).
    pub fn key(mut self, key: impl AsRef<str>) -> Self {
        self.key = key.as_ref().to_owned();
        self
    }

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
/// [`TigrisClientExt::purge_deleted_object`](crate::TigrisClientExt::purge_deleted_object).
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
    pub(crate) fn new(client: Client) -> Self {
        Self {
            client,
            bucket: String::new(),
            key: String::new(),
            version_id: String::new(),
        }
    }

    /// The bucket (required).
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = bucket.as_ref().to_owned();
        self
    }

    /// The key of the deleted object (required).
    pub fn key(mut self, key: impl AsRef<str>) -> Self {
        self.key = key.as_ref().to_owned();
        self
    }

    /// The deleted version to drop (required).
    pub fn version_id(mut self, version_id: impl AsRef<str>) -> Self {
        self.version_id = version_id.as_ref().to_owned();
        self
    }

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

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::ListObjectsV2FluentBuilder {}
    impl Sealed for super::ListObjectsV2Operation {}
    impl Sealed for super::ListObjectVersionsFluentBuilder {}
    impl Sealed for super::ListObjectVersionsOperation {}
}

#[cfg(test)]
mod tests {
    use super::*;

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
