//! Presigns more part URLs for a multipart upload already started:
//! [`Client::presign_upload_parts`](crate::Client::presign_upload_parts).

use std::time::Duration;

use crate::create_presigned_multipart_upload::{
    DEFAULT_PART_URL_EXPIRY, PresignedPart, check_expiry, check_part_number, check_upload,
    presign_parts,
};
use crate::error::{Error, Operation, Result};

/// Presigns more part URLs for an upload already started; from
/// [`Client::presign_upload_parts`](crate::Client::presign_upload_parts). Signed locally: no
/// request.
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct PresignUploadPartsFluentBuilder {
    client: crate::Client,
    bucket: String,
    key: String,
    upload_id: String,
    part_numbers: Vec<u32>,
    expires_in: Duration,
}

impl PresignUploadPartsFluentBuilder {
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

    /// The part numbers to presign (1 to 10,000 each; at least one).
    pub fn part_numbers(mut self, numbers: impl IntoIterator<Item = u32>) -> Self {
        self.part_numbers.extend(numbers);
        self
    }

    /// How long the URLs stay valid (default [`DEFAULT_PART_URL_EXPIRY`], at most
    /// [`MAX_PART_URL_EXPIRY`](crate::create_presigned_multipart_upload::MAX_PART_URL_EXPIRY)).
    pub fn expires_in(mut self, expires_in: Duration) -> Self {
        self.expires_in = expires_in;
        self
    }

    /// Signs the URLs, in the order the part numbers were given.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for an invalid bucket name
    /// or key, no upload id, no part number or one outside 1 to 10,000, or an expiry outside 1
    /// second to 7 days; [`ErrorKind::Configuration`](crate::ErrorKind::Configuration) when the
    /// client's credentials cannot be resolved.
    pub async fn send(self) -> Result<Vec<PresignedPart>> {
        let operation = Operation::PresignParts {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
        };
        check_upload(&self.bucket, &self.key, &self.upload_id, &operation)?;
        if self.part_numbers.is_empty() {
            return Err(Error::invalid_argument(
                operation,
                "no part number was given: set them with .part_numbers(..)",
            ));
        }
        for &n in &self.part_numbers {
            check_part_number(n, &operation)?;
        }
        check_expiry(self.expires_in, &operation)?;
        let s3 = &self.client.s3;
        presign_parts(
            s3,
            &self.bucket,
            &self.key,
            &self.upload_id,
            self.part_numbers.iter().copied(),
            self.expires_in,
            &operation,
        )
        .await
    }
}

impl crate::Client {
    /// Presigns more part URLs for a started upload. See [`PresignUploadPartsFluentBuilder`].
    pub fn presign_upload_parts(&self) -> PresignUploadPartsFluentBuilder {
        PresignUploadPartsFluentBuilder {
            client: self.clone(),
            bucket: String::new(),
            key: String::new(),
            upload_id: String::new(),
            part_numbers: Vec::new(),
            expires_in: DEFAULT_PART_URL_EXPIRY,
        }
    }
}
