//! Whether a bucket is public: [`Client::set_bucket_access`](crate::Client::set_bucket_access)
//! (read back with [`Client::get_bucket_access`](crate::Client::get_bucket_access)).
//!
//! Objects of a public bucket may be read (GET, HEAD) without credentials, unless an object
//! has a `private` ACL of its own; writes always need credentials. Listing without
//! credentials needs public listing as well.
//!
//! ```no_run
//! # async fn demo(tigris: tigris_api::Client) -> Result<(), tigris_api::Error> {
//! use tigris_headers::bucket_settings::Access;
//!
//! tigris.set_bucket_access().bucket("site").access(Access::Public).send().await?;
//! assert_eq!(tigris.get_bucket_access().bucket("site").send().await?, Access::Public);
//! # Ok(()) }
//! ```

use http::{HeaderName, HeaderValue, Method};
use tigris_core::transport::{SignedTransport, TigrisRequest};
use tigris_headers::bucket_settings::Access;
use tracing::Instrument;

use crate::error::{Error, Operation, Result};
use crate::wire::bucket_name;

/// Makes a bucket public or private; from
/// [`Client::set_bucket_access`](crate::Client::set_bucket_access).
///
/// Sends `PATCH /{bucket}` with the body `{}` and the setting in headers, as `tigris buckets
/// set --access` does: `X-Amz-Acl: public-read` or `private`, and with
/// [`public_listing`](Self::public_listing) `X-Amz-Acl-Public-List-Objects-Enabled`.
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct SetBucketAccessFluentBuilder {
    transport: SignedTransport,
    bucket: String,
    access: Option<Access>,
    public_listing: Option<bool>,
}

impl SetBucketAccessFluentBuilder {
    /// The bucket (required).
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = bucket.as_ref().to_owned();
        self
    }

    /// The access to give it (required).
    pub fn access(mut self, access: Access) -> Self {
        self.access = Some(access);
        self
    }

    /// Also whether anonymous requests may list the bucket (only a public bucket is listed).
    pub fn public_listing(mut self, enabled: bool) -> Self {
        self.public_listing = Some(enabled);
        self
    }

    /// Sets the access.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for an
    /// invalid bucket name or no access; otherwise what Tigris answers
    /// ([`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for an unknown bucket).
    pub async fn send(self) -> Result<()> {
        let span = tracing::debug_span!("set_bucket_access", bucket = %self.bucket);
        async {
            let operation = Operation::SetBucketAccess {
                bucket: self.bucket.clone(),
            };
            let bucket = bucket_name(&self.bucket, || operation.clone())?;
            let Some(access) = self.access else {
                return Err(Error::invalid_argument(
                    operation,
                    "no access was given: set it with .access(..)",
                ));
            };
            let mut request = TigrisRequest::new(Method::PATCH)
                .bucket(bucket)
                .header(
                    http::header::ACCEPT,
                    HeaderValue::from_static("application/json"),
                )
                .header(
                    HeaderName::from_static("x-amz-acl"),
                    HeaderValue::from_static(access.acl()),
                )
                .json("{}")
                .idempotent(true);
            if let Some(listing) = self.public_listing {
                request = request.header(
                    HeaderName::from_static("x-amz-acl-public-list-objects-enabled"),
                    HeaderValue::from_static(if listing { "true" } else { "false" }),
                );
            }
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
    /// Makes a bucket public or private. See [`SetBucketAccessFluentBuilder`].
    pub fn set_bucket_access(&self) -> SetBucketAccessFluentBuilder {
        SetBucketAccessFluentBuilder {
            transport: self.transport.clone(),
            bucket: String::new(),
            access: None,
            public_listing: None,
        }
    }
}
