//! Reads whether a bucket is public:
//! [`Client::get_bucket_access`](crate::Client::get_bucket_access).

use http::Method;
use tigris_core::transport::{SignedTransport, TigrisRequest};
use tigris_headers::bucket_settings::Access;

use crate::acl_xml::access_of;
use crate::error::{Error, Operation, Result};
use crate::wire::bucket_name;

/// Reads whether a bucket is public; from
/// [`Client::get_bucket_access`](crate::Client::get_bucket_access).
///
/// Sends GetBucketAcl (`GET /{bucket}?acl`): [`Access::Public`] when it grants everyone
/// (`AllUsers`) READ.
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct GetBucketAccessFluentBuilder {
    transport: SignedTransport,
    bucket: String,
}

impl GetBucketAccessFluentBuilder {
    /// The bucket (required).
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = bucket.as_ref().to_owned();
        self
    }

    /// Reads the ACL.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for an
    /// invalid bucket name; [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for an unknown
    /// bucket; [`ErrorKind::UnexpectedResponse`](crate::ErrorKind::UnexpectedResponse) for an
    /// answer that is not an `AccessControlPolicy`.
    pub async fn send(self) -> Result<Access> {
        let operation = Operation::GetBucketAccess {
            bucket: self.bucket.clone(),
        };
        let bucket = bucket_name(&self.bucket, || operation.clone())?;
        let request = TigrisRequest::new(Method::GET)
            .bucket(bucket)
            .query_param("acl", "");
        let response = self
            .transport
            .send(&request)
            .await
            .map_err(|e| Error::from_sdk(operation.clone(), e))?;
        access_of(&String::from_utf8_lossy(response.body())).ok_or_else(|| {
            Error::unexpected_response(operation, "the answer is not an AccessControlPolicy")
        })
    }
}

impl crate::Client {
    /// Reads whether a bucket is public. See [`GetBucketAccessFluentBuilder`].
    pub fn get_bucket_access(&self) -> GetBucketAccessFluentBuilder {
        GetBucketAccessFluentBuilder {
            transport: self.transport.clone(),
            bucket: String::new(),
        }
    }
}
