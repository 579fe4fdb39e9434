//! Completes a multipart upload from its parts' ETags:
//! [`Client::complete_multipart_upload`](crate::Client::complete_multipart_upload).

use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use tracing::Instrument;

use crate::create_presigned_multipart_upload::{check_part_number, check_upload};
use crate::error::{Error, Operation, Result};
use crate::wire::Invalid;

/// A completed upload; from [`CompleteMultipartUploadFluentBuilder::send`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CompletedUpload {
    etag: Option<String>,
    version_id: Option<String>,
}

impl CompletedUpload {
    /// The object's ETag (a multipart ETag: `"<md5 of the parts' md5s>-<parts>"`).
    pub fn etag(&self) -> Option<&str> {
        self.etag.as_deref()
    }

    /// The object's version id, when the bucket keeps versions.
    pub fn version_id(&self) -> Option<&str> {
        self.version_id.as_deref()
    }
}

/// Completes a multipart upload from its parts' ETags; from
/// [`Client::complete_multipart_upload`](crate::Client::complete_multipart_upload).
///
/// The parts are sent in part-number order whatever order they were given in. Checked before
/// any request: at least one part, numbers 1 to 10,000 and unique, ETags not empty.
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct CompleteMultipartUploadFluentBuilder {
    client: crate::Client,
    bucket: String,
    key: String,
    upload_id: String,
    parts: Vec<(u32, String)>,
}

impl CompleteMultipartUploadFluentBuilder {
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

    /// Adds a part: its number and the `ETag` its upload answered.
    pub fn part(mut self, part_number: u32, etag: impl Into<String>) -> Self {
        self.parts.push((part_number, etag.into()));
        self
    }

    /// Adds parts as (number, ETag) pairs.
    pub fn parts<I, S>(mut self, parts: I) -> Self
    where
        I: IntoIterator<Item = (u32, S)>,
        S: Into<String>,
    {
        self.parts
            .extend(parts.into_iter().map(|(n, e)| (n, e.into())));
        self
    }

    /// Completes the upload.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for bad
    /// input (see the type's docs), and from Tigris for an ETag that does not match a part
    /// (`InvalidPart`) or a part too small (`EntityTooSmall`);
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for an unknown upload.
    pub async fn send(self) -> Result<CompletedUpload> {
        let span = tracing::debug_span!("complete_multipart_upload", bucket = %self.bucket, key = %self.key);
        async {
            let operation = Operation::CompleteMultipart {
                bucket: self.bucket.clone(),
                key: self.key.clone(),
            };
            check_upload(&self.bucket, &self.key, &self.upload_id, &operation)?;
            if self.parts.is_empty() {
                return Err(Error::invalid_argument(
                    operation,
                    "no part was given: add each with .part(number, etag)",
                ));
            }
            let mut parts = self.parts.clone();
            parts.sort_by_key(|(n, _)| *n);
            for (i, (n, etag)) in parts.iter().enumerate() {
                check_part_number(*n, &operation)?;
                if i > 0 && parts[i - 1].0 == *n {
                    return Err(Error::invalid_input(
                        operation,
                        "a part is given twice",
                        Invalid(format!("part number {n} is given twice")),
                    ));
                }
                if etag.trim_matches('"').is_empty() {
                    return Err(Error::invalid_input(
                        operation,
                        "a part has no ETag",
                        Invalid(format!("part {n} has an empty ETag")),
                    ));
                }
            }
            let completed = CompletedMultipartUpload::builder()
                .set_parts(Some(
                    parts
                        .iter()
                        .map(|(n, etag)| {
                            CompletedPart::builder()
                                .part_number(i32::try_from(*n).unwrap_or(i32::MAX))
                                .e_tag(etag)
                                .build()
                        })
                        .collect(),
                ))
                .build();
            let s3 = &self.client.s3;
            let out = s3
                .complete_multipart_upload()
                .bucket(&self.bucket)
                .key(&self.key)
                .upload_id(&self.upload_id)
                .multipart_upload(completed)
                .send()
                .await
                .map_err(|e| Error::from_sdk(operation.clone(), e))?;
            Ok(CompletedUpload {
                etag: out.e_tag().map(str::to_owned),
                version_id: out.version_id().map(str::to_owned),
            })
        }
        .instrument(span)
        .await
    }
}

impl crate::Client {
    /// Completes a multipart upload. See [`CompleteMultipartUploadFluentBuilder`].
    pub fn complete_multipart_upload(&self) -> CompleteMultipartUploadFluentBuilder {
        CompleteMultipartUploadFluentBuilder {
            client: self.clone(),
            bucket: String::new(),
            key: String::new(),
            upload_id: String::new(),
            parts: Vec::new(),
        }
    }
}
