//! Reads who may read one object:
//! [`Client::get_object_access`](crate::Client::get_object_access).

use http::Method;
use tigris_core::transport::{SignedTransport, TigrisRequest};
use tigris_headers::bucket_settings::Access;

use crate::acl_xml::access_of;
use crate::error::{Error, Operation, Result};
use crate::wire::{bucket_name, object_key};

/// Reads who may read an object; from
/// [`Client::get_object_access`](crate::Client::get_object_access).
///
/// Sends GetObjectAcl (`GET /{bucket}/{key}?acl`): [`Access::Public`] when it grants everyone
/// (`AllUsers`) READ.
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct GetObjectAccessFluentBuilder {
    transport: SignedTransport,
    bucket: String,
    key: String,
}

impl GetObjectAccessFluentBuilder {
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

    /// Reads the ACL.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for an
    /// invalid bucket name or key; [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for a
    /// missing bucket or object;
    /// [`ErrorKind::UnexpectedResponse`](crate::ErrorKind::UnexpectedResponse) for an answer
    /// that is not an `AccessControlPolicy`.
    pub async fn send(self) -> Result<Access> {
        let operation = Operation::GetObjectAccess {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
        };
        let bucket = bucket_name(&self.bucket, || operation.clone())?;
        object_key(&self.key, || operation.clone())?;
        let request = TigrisRequest::new(Method::GET)
            .bucket(bucket)
            .key(self.key.clone())
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
    /// Reads whether one object is public. See [`GetObjectAccessFluentBuilder`].
    pub fn get_object_access(&self) -> GetObjectAccessFluentBuilder {
        GetObjectAccessFluentBuilder {
            transport: self.transport.clone(),
            bucket: String::new(),
            key: String::new(),
        }
    }
}
