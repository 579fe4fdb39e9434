//! Who may read one object: [`Client::set_object_access`](crate::Client::set_object_access)
//! (read back with [`Client::get_object_access`](crate::Client::get_object_access)), the canned ACLs
//! Tigris has (`private` and `public-read`), as `tigris objects set-access` sends them.
//!
//! An object without an ACL of its own has its bucket's access. A `public-read` object in a
//! private bucket may be read without credentials; a `private` object in a public bucket may
//! not. Tigris applies object ACLs once the bucket allows them
//! ([`UpdateBucketFluentBuilder::allow_object_acl`](crate::update_bucket::UpdateBucketFluentBuilder::allow_object_acl)).
//!
//! ```no_run
//! # async fn demo(tigris: tigris_api::Client) -> Result<(), tigris_api::Error> {
//! use tigris_headers::bucket_settings::Access;
//!
//! tigris.set_object_access().bucket("assets").key("logo.png").access(Access::Public).send().await?;
//! let access = tigris.get_object_access().bucket("assets").key("logo.png").send().await?;
//! assert_eq!(access, Access::Public);
//! # Ok(()) }
//! ```

use http::{HeaderName, HeaderValue, Method};
use tigris_core::transport::{SignedTransport, TigrisRequest};
use tigris_headers::bucket_settings::Access;
use tracing::Instrument;

use crate::error::{Error, Operation, Result};
use crate::wire::{bucket_name, object_key};

/// Sets an object's canned ACL; from
/// [`Client::set_object_access`](crate::Client::set_object_access).
///
/// Sends PutObjectAcl (`PUT /{bucket}/{key}?acl`) with `x-amz-acl: public-read` or `private`.
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct SetObjectAccessFluentBuilder {
    transport: SignedTransport,
    bucket: String,
    key: String,
    access: Option<Access>,
}

impl SetObjectAccessFluentBuilder {
    /// The bucket (required).
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = bucket.as_ref().to_owned();
        self
    }

    /// The object key (required).
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self
    }

    /// The access to give it (required).
    pub fn access(mut self, access: Access) -> Self {
        self.access = Some(access);
        self
    }

    /// Sets the ACL.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for an
    /// invalid bucket name, a key of 0 or more than 1024 bytes, or no access; otherwise what
    /// Tigris answers ([`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for a missing
    /// bucket or object).
    pub async fn send(self) -> Result<()> {
        let span =
            tracing::debug_span!("set_object_access", bucket = %self.bucket, key = %self.key);
        async {
            let operation = Operation::SetObjectAccess {
                bucket: self.bucket.clone(),
                key: self.key.clone(),
            };
            let bucket = bucket_name(&self.bucket, || operation.clone())?;
            object_key(&self.key, || operation.clone())?;
            let Some(access) = self.access else {
                return Err(Error::invalid_argument(
                    operation,
                    "no access was given: set it with .access(..)",
                ));
            };
            let request = TigrisRequest::new(Method::PUT)
                .bucket(bucket)
                .key(self.key.clone())
                .query_param("acl", "")
                .header(
                    HeaderName::from_static("x-amz-acl"),
                    HeaderValue::from_static(access.acl()),
                )
                .idempotent(true);
            self.transport
                .send(&request)
                .await
                .map_err(|e| Error::from_sdk(operation.clone(), e))?;
            Ok(())
        }
        .instrument(span)
        .await
    }
}

impl crate::Client {
    /// Makes one object public or private. See [`SetObjectAccessFluentBuilder`].
    pub fn set_object_access(&self) -> SetObjectAccessFluentBuilder {
        SetObjectAccessFluentBuilder {
            transport: self.transport.clone(),
            bucket: String::new(),
            key: String::new(),
            access: None,
        }
    }
}
