//! Starts a presigned multipart upload, for browsers uploading large files without credentials, as
//! `@tigrisdata/storage` offers them: the server starts the upload and hands out one presigned
//! URL per part; the browser PUTs each part to its URL and reports the `ETag`s back; the server
//! completes the upload.
//!
//! - [`Client::create_presigned_multipart_upload`](crate::Client::create_presigned_multipart_upload):
//!   CreateMultipartUpload, then a presigned UploadPart URL for each part (signed locally);
//! - [`Client::presign_upload_parts`](crate::Client::presign_upload_parts): more part URLs for
//!   an upload already started (no request);
//! - [`Client::complete_multipart_upload`](crate::Client::complete_multipart_upload):
//!   CompleteMultipartUpload with the parts' ETags;
//! - [`Client::abort_multipart_upload`](crate::Client::abort_multipart_upload): gives it up.
//!
//! A browser reading the `ETag` of a cross-origin PUT needs the bucket's CORS rules to expose
//! it ([`CorsRule::expose_header`](crate::set_cors::CorsRule::expose_header)).
//!
//! ```no_run
//! # async fn demo(tigris: tigris_api::Client) -> Result<(), tigris_api::Error> {
//! use std::time::Duration;
//!
//! let upload = tigris
//!     .create_presigned_multipart_upload().bucket("media").key("video.mp4")
//!     .parts(3)
//!     .expires_in(Duration::from_secs(3600))
//!     .send()
//!     .await?;
//! for part in upload.parts() {
//!     println!("PUT part {} to {}", part.part_number(), part.url());
//! }
//! // ... the browser uploads and reports each part's ETag ...
//! let etags = ["\"e1\"", "\"e2\"", "\"e3\""];
//! let done = tigris
//!     .complete_multipart_upload().bucket("media").key("video.mp4")
//!     .upload_id(upload.upload_id())
//!     .parts((1..).zip(etags))
//!     .send()
//!     .await?;
//! println!("{:?}", done.etag());
//! # Ok(()) }
//! ```

use std::time::{Duration, SystemTime};

use aws_sdk_s3::presigning::PresigningConfig;
use http::HeaderValue;
use tigris_core::error::Classified;
use tracing::Instrument;

use crate::error::{Error, Operation, Result};
use crate::wire::{Invalid, bucket_name, object_key};

/// The longest a SigV4 presigned URL may stay valid: 7 days.
pub const MAX_PART_URL_EXPIRY: Duration = Duration::from_secs(7 * 24 * 3600);

/// How long part URLs stay valid unless told otherwise: one hour, as in Tigris's clients.
pub const DEFAULT_PART_URL_EXPIRY: Duration = Duration::from_secs(3600);

/// The most parts one multipart upload may have.
pub const MAX_PARTS: u32 = 10_000;

/// How far back, before a CreateMultipartUpload whose answer was lost, an upload found by
/// listing may have been started by it (clock differences between client and server).
const LOST_ANSWER_MARGIN: Duration = Duration::from_secs(60);

/// One part's presigned upload URL: PUT the part's bytes to it, with no other header, and keep
/// the `ETag` of the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PresignedPart {
    part_number: u32,
    url: String,
}

impl PresignedPart {
    /// The part's number, from 1.
    pub fn part_number(&self) -> u32 {
        self.part_number
    }

    /// The presigned URL. Whoever holds it may upload this part until it expires.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// A started multipart upload with its part URLs; from
/// [`CreatePresignedMultipartUploadFluentBuilder::send`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PresignedMultipartUpload {
    bucket: String,
    key: String,
    upload_id: String,
    parts: Vec<PresignedPart>,
    expires_at: SystemTime,
}

impl PresignedMultipartUpload {
    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The object key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The upload id, for presigning more parts, completing or aborting.
    pub fn upload_id(&self) -> &str {
        &self.upload_id
    }

    /// The part URLs, part 1 first.
    pub fn parts(&self) -> &[PresignedPart] {
        &self.parts
    }

    /// When the part URLs stop working.
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }
}

/// Checks what names a started upload: a valid bucket name and key, and an upload id.
pub(crate) fn check_upload(
    bucket: &str,
    key: &str,
    upload_id: &str,
    operation: &Operation,
) -> Result<()> {
    bucket_name(bucket, || operation.clone())?;
    object_key(key, || operation.clone())?;
    if upload_id.is_empty() {
        return Err(Error::invalid_argument(
            operation.clone(),
            "no upload id was given: set it with .upload_id(..)",
        ));
    }
    Ok(())
}

pub(crate) fn check_expiry(expires_in: Duration, operation: &Operation) -> Result<()> {
    if expires_in < Duration::from_secs(1) || expires_in > MAX_PART_URL_EXPIRY {
        return Err(Error::invalid_input(
            operation.clone(),
            "the part URLs' expiry is invalid",
            Invalid(format!(
                "an expiry of {expires_in:?} is outside 1 second to 7 days"
            )),
        ));
    }
    Ok(())
}

pub(crate) fn check_part_number(number: u32, operation: &Operation) -> Result<()> {
    if number == 0 || number > MAX_PARTS {
        return Err(Error::invalid_input(
            operation.clone(),
            "a part number is invalid",
            Invalid(format!("part number {number} is outside 1 to 10000")),
        ));
    }
    Ok(())
}

/// Presigns UploadPart for each of `numbers`; signed locally, no request.
pub(crate) async fn presign_parts(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    upload_id: &str,
    numbers: impl Iterator<Item = u32>,
    expires_in: Duration,
    operation: &Operation,
) -> Result<Vec<PresignedPart>> {
    let config = PresigningConfig::expires_in(expires_in).map_err(|e| {
        Error::invalid_input(operation.clone(), "the part URLs' expiry is invalid", e)
    })?;
    let mut parts = Vec::new();
    for number in numbers {
        let presigned = s3
            .upload_part()
            .bucket(bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(i32::try_from(number).unwrap_or(i32::MAX))
            .presigned(config.clone())
            .await
            .map_err(|e| Error::from_sdk(operation.clone(), e))?;
        parts.push(PresignedPart {
            part_number: number,
            url: presigned.uri().to_owned(),
        });
    }
    Ok(parts)
}

/// Starts a multipart upload and presigns a URL for each part; from
/// [`Client::create_presigned_multipart_upload`](crate::Client::create_presigned_multipart_upload).
///
/// Checked before any request: the bucket name, a key of 1 to 1024 bytes, 1 to 10,000 parts,
/// an expiry of 1 second to 7 days, a valid content type. The URLs are signed with the
/// client's credentials, which must be allowed `s3:PutObject` on the key.
///
/// CreateMultipartUpload is sent without automatic retry: when its answer is lost, the uploads
/// of the key started since are listed; if there are any, the error names them
/// ([`Error::leftover_uploads`]) rather than starting another. If signing the part URLs fails,
/// the upload is aborted (or named as a leftover if that fails too).
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct CreatePresignedMultipartUploadFluentBuilder {
    client: crate::Client,
    bucket: String,
    key: String,
    parts: u32,
    expires_in: Duration,
    content_type: Option<String>,
}

impl CreatePresignedMultipartUploadFluentBuilder {
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

    /// How many parts to presign, 1 to 10,000 (required). More can be presigned later with
    /// [`Client::presign_upload_parts`](crate::Client::presign_upload_parts).
    pub fn parts(mut self, parts: u32) -> Self {
        self.parts = parts;
        self
    }

    /// How long the part URLs stay valid (default [`DEFAULT_PART_URL_EXPIRY`], at most
    /// [`MAX_PART_URL_EXPIRY`]).
    pub fn expires_in(mut self, expires_in: Duration) -> Self {
        self.expires_in = expires_in;
        self
    }

    /// The completed object's `Content-Type`.
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    fn operation(&self) -> Operation {
        Operation::CreateMultipart {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
        }
    }

    /// Starts the upload and signs the part URLs.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for bad
    /// input (see the type's docs); otherwise what Tigris answers
    /// ([`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for an unknown bucket), with
    /// [`Error::leftover_uploads`] naming uploads that may have been started.
    pub async fn send(self) -> Result<PresignedMultipartUpload> {
        let span = tracing::debug_span!("create_presigned_multipart_upload", bucket = %self.bucket, key = %self.key);
        async {
            let operation = self.operation();
            bucket_name(&self.bucket, || operation.clone())?;
            object_key(&self.key, || operation.clone())?;
            if self.parts == 0 {
                return Err(Error::invalid_argument(
                    operation,
                    "no parts were asked for: set how many with .parts(..)",
                ));
            }
            check_part_number(self.parts, &operation)?;
            check_expiry(self.expires_in, &operation)?;
            if let Some(ct) = &self.content_type
                && HeaderValue::from_str(ct).is_err()
            {
                return Err(Error::invalid_input(
                    operation,
                    "the content type is invalid",
                    Invalid(format!("{ct:?} is not a valid header value")),
                ));
            }
            let s3 = &self.client.s3;
            let upload_id = self.start(s3, &operation).await?;
            let expires_at = SystemTime::now() + self.expires_in;
            match presign_parts(
                s3,
                &self.bucket,
                &self.key,
                &upload_id,
                1..=self.parts,
                self.expires_in,
                &operation,
            )
            .await
            {
                Ok(parts) => Ok(PresignedMultipartUpload {
                    bucket: self.bucket,
                    key: self.key,
                    upload_id,
                    parts,
                    expires_at,
                }),
                Err(err) => {
                    let aborted = s3
                        .abort_multipart_upload()
                        .bucket(&self.bucket)
                        .key(&self.key)
                        .upload_id(&upload_id)
                        .send()
                        .await;
                    Err(match aborted {
                        Ok(_) => err,
                        Err(_) => err.with_leftover_uploads(vec![upload_id]),
                    })
                }
            }
        }
        .instrument(span)
        .await
    }

    /// CreateMultipartUpload, attempt by attempt: a failure that may have been applied is
    /// retried only when no upload of the key was started since.
    async fn start(&self, s3: &aws_sdk_s3::Client, operation: &Operation) -> Result<String> {
        let retry = self.client.sdk.retry_config().cloned();
        let attempts = retry.as_ref().map_or(1, |r| r.max_attempts().max(1));
        let mut attempt = 1;
        loop {
            let sent_at = SystemTime::now();
            let sent = s3
                .create_multipart_upload()
                .bucket(&self.bucket)
                .key(&self.key)
                .set_content_type(self.content_type.clone())
                .customize()
                .config_override(
                    aws_sdk_s3::Config::builder()
                        .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled()),
                )
                .send()
                .await;
            let err = match sent {
                Ok(out) => {
                    return out.upload_id().map(str::to_owned).ok_or_else(|| {
                        Error::unexpected_response(
                            operation.clone(),
                            "CreateMultipartUpload answered no UploadId",
                        )
                    });
                }
                Err(e) => e,
            };
            let classified = Classified::from_sdk(&err);
            let error = Error::from_sdk(operation.clone(), err);
            if classified.may_have_applied() {
                let since = sent_at - LOST_ANSWER_MARGIN;
                match self.uploads_since(s3, since).await {
                    Ok(ids) if ids.is_empty() => {}
                    Ok(ids) => return Err(error.with_leftover_uploads(ids)),
                    // Unknown whether one was started: say so rather than start another.
                    Err(_) => return Err(error),
                }
            }
            if !error.is_retryable() || attempt >= attempts {
                return Err(error);
            }
            attempt += 1;
        }
    }

    /// The ids of this key's uploads started at or after `since`.
    async fn uploads_since(
        &self,
        s3: &aws_sdk_s3::Client,
        since: SystemTime,
    ) -> std::result::Result<Vec<String>, ()> {
        let mut ids = Vec::new();
        let (mut key_marker, mut id_marker) = (None::<String>, None::<String>);
        loop {
            let page = s3
                .list_multipart_uploads()
                .bucket(&self.bucket)
                .prefix(&self.key)
                .set_key_marker(key_marker.take())
                .set_upload_id_marker(id_marker.take())
                .send()
                .await
                .map_err(|_| ())?;
            for upload in page.uploads() {
                let recent = upload
                    .initiated()
                    .and_then(|t| SystemTime::try_from(*t).ok())
                    .is_none_or(|t| t >= since);
                if upload.key() == Some(self.key.as_str()) && recent {
                    ids.extend(upload.upload_id().map(str::to_owned));
                }
            }
            if page.is_truncated() != Some(true) {
                break;
            }
            key_marker = page.next_key_marker().map(str::to_owned);
            id_marker = page.next_upload_id_marker().map(str::to_owned);
            if key_marker.is_none() && id_marker.is_none() {
                break;
            }
        }
        Ok(ids)
    }
}

impl crate::Client {
    /// Starts a multipart upload and presigns its part URLs. See
    /// [`CreatePresignedMultipartUploadFluentBuilder`].
    pub fn create_presigned_multipart_upload(&self) -> CreatePresignedMultipartUploadFluentBuilder {
        CreatePresignedMultipartUploadFluentBuilder {
            client: self.clone(),
            bucket: String::new(),
            key: String::new(),
            parts: 0,
            expires_in: DEFAULT_PART_URL_EXPIRY,
            content_type: None,
        }
    }
}
