//! Gives up a multipart upload:
//! [`Client::abort_multipart_upload`](crate::Client::abort_multipart_upload).

use crate::create_presigned_multipart_upload::check_upload;
use crate::error::{Error, Operation, Result};

/// Gives up a multipart upload, dropping its parts; from
/// [`Client::abort_multipart_upload`](crate::Client::abort_multipart_upload).
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct AbortMultipartUploadFluentBuilder {
    client: crate::Client,
    bucket: String,
    key: String,
    upload_id: String,
}

impl AbortMultipartUploadFluentBuilder {
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

    /// The upload's id (required).
    pub fn upload_id(mut self, upload_id: impl Into<String>) -> Self {
        self.upload_id = upload_id.into();
        self
    }

    /// Aborts the upload.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for an
    /// invalid bucket name or key or no upload id;
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for an unknown upload.
    pub async fn send(self) -> Result<()> {
        let operation = Operation::AbortMultipart {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
        };
        check_upload(&self.bucket, &self.key, &self.upload_id, &operation)?;
        let s3 = &self.client.s3;
        s3.abort_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(&self.upload_id)
            .send()
            .await
            .map_err(|e| Error::from_sdk(operation, e))?;
        Ok(())
    }
}

impl crate::Client {
    /// Aborts a multipart upload. See [`AbortMultipartUploadFluentBuilder`].
    pub fn abort_multipart_upload(&self) -> AbortMultipartUploadFluentBuilder {
        AbortMultipartUploadFluentBuilder {
            client: self.clone(),
            bucket: String::new(),
            key: String::new(),
            upload_id: String::new(),
        }
    }
}
