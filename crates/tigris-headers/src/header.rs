//! Every Tigris header name, once, and the per-call interceptors that add or read them.
//!
//! Header names are case-insensitive on the wire; they are written here in lower case, the form
//! HTTP/2 and the SigV4 canonical request use.

use std::sync::{Arc, Mutex, PoisonError};

use aws_sdk_s3::config::interceptors::{
    BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextMut,
};
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_s3::error::BoxError;

/// CreateBucket: create the bucket with snapshots enabled (`true`).
pub(crate) const ENABLE_SNAPSHOT: &str = "x-tigris-enable-snapshot";
/// CreateBucket on an existing bucket: take a snapshot (`true` or `true; name=<name>`).
/// ListBuckets: list the snapshots of the named bucket.
pub(crate) const SNAPSHOT: &str = "x-tigris-snapshot";
/// Reads (GetObject, HeadObject, ListObjects, ListObjectsV2) and DeleteBucket: the snapshot
/// to read or delete. Also the CreateBucket response header carrying a new snapshot's version.
pub(crate) const SNAPSHOT_VERSION: &str = "x-tigris-snapshot-version";
/// CreateBucket: fork this bucket. HeadBucket response: the parent of a fork.
pub(crate) const FORK_SOURCE_BUCKET: &str = "x-tigris-fork-source-bucket";
/// CreateBucket: fork as of this snapshot. HeadBucket response: the snapshot a fork came from.
pub(crate) const FORK_SOURCE_SNAPSHOT: &str = "x-tigris-fork-source-bucket-snapshot";
/// HeadBucket response: whether other buckets were forked from this one.
pub(crate) const IS_FORK_PARENT: &str = "x-tigris-is-fork-parent";
/// DeleteBucket: delete even when the bucket holds objects. Spelled as the Tigris JS SDK and
/// CLI spell it, without `x-`.
pub(crate) const FORCE_DELETE: &str = "tigris-force-delete";
/// CopyObject: move instead of copy (`true`).
pub(crate) const RENAME: &str = "x-tigris-rename";
/// GetObject, HeadObject: read from the object's home region, skipping caches (`true`).
pub(crate) const CAS: &str = "x-tigris-cas";
/// ListObjectsV2: a metadata query (`WHERE … [ORDER BY …]`).
pub(crate) const QUERY: &str = "x-tigris-query";
/// CreateBucket: soft delete on (`true` or the retention in days). DeleteObject (with a
/// version id: purge), ListObjectsV2, ListObjectVersions: the soft-delete view (`true`).
pub(crate) const SOFT_DELETE: &str = "x-tigris-soft-delete";
/// RestoreObject: undelete a soft-deleted object (`soft-delete`).
pub(crate) const RESTORE_TYPE: &str = "x-tigris-restore-type";
/// RestoreObject: which deleted version to restore.
pub(crate) const RESTORE_VERSION: &str = "x-tigris-restore-version";
/// S3 response header: the version id of the object written.
pub(crate) const VERSION_ID: &str = "x-amz-version-id";
/// CreateBucket: where the data lives (`iad`, `iad,sjc`, `usa`).
pub(crate) const REGIONS: &str = "x-tigris-regions";
/// CreateBucket: the default storage class of new objects.
pub(crate) const STORAGE_CLASS: &str = "x-amz-storage-class";
/// CreateBucket and `PATCH /{bucket}`: whether anonymous requests may list the bucket.
pub(crate) const PUBLIC_LIST_OBJECTS: &str = "x-amz-acl-public-list-objects-enabled";

/// Adds headers to one request in `modify_before_signing`, so SigV4 signs them, on every
/// attempt. Attached per call, so it never leaks into other requests.
#[derive(Debug, Clone)]
pub(crate) struct AddHeaders {
    headers: Vec<(&'static str, String)>,
}

impl AddHeaders {
    pub(crate) fn new(name: &'static str, value: impl Into<String>) -> Self {
        Self {
            headers: vec![(name, value.into())],
        }
    }

    pub(crate) fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

impl Intercept for AddHeaders {
    fn name(&self) -> &'static str {
        "TigrisAddHeaders"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let headers = context.request_mut().headers_mut();
        for (name, value) in &self.headers {
            headers.try_insert(*name, value.clone())?;
        }
        Ok(())
    }
}

/// Header names with their values, as read from a response.
pub(crate) type HeaderList = Vec<(&'static str, String)>;

/// The response headers a [`CaptureHeaders`] saw, shared with the code that sent the request.
#[derive(Debug, Clone, Default)]
pub(crate) struct Captured(Arc<Mutex<Option<HeaderList>>>);

impl Captured {
    /// The headers of the last response, or `None` when no response was seen.
    pub(crate) fn take(&self) -> Option<HeaderList> {
        // The lock only guards plain data; a panic elsewhere cannot leave it inconsistent.
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

/// Reads the named headers from the response of every attempt; the last attempt wins.
///
/// Successful outputs of the SDK do not expose response headers, so this is the only way to
/// read `x-tigris-*` response headers on success.
#[derive(Debug, Clone)]
pub(crate) struct CaptureHeaders {
    names: &'static [&'static str],
    captured: Captured,
}

impl CaptureHeaders {
    pub(crate) fn new(names: &'static [&'static str]) -> (Self, Captured) {
        let captured = Captured::default();
        (
            Self {
                names,
                captured: captured.clone(),
            },
            captured,
        )
    }
}

impl Intercept for CaptureHeaders {
    fn name(&self) -> &'static str {
        "TigrisCaptureHeaders"
    }

    fn read_before_deserialization(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let headers = context.response().headers();
        let seen = self
            .names
            .iter()
            .filter_map(|name| headers.get(*name).map(|value| (*name, value.to_owned())))
            .collect();
        *self
            .captured
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(seen);
        Ok(())
    }
}

/// The value of `name` among captured headers, trimmed; empty values count as absent.
pub(crate) fn find<'a>(headers: &'a [(&'static str, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}
