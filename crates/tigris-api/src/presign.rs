//! Presigned GET and PUT URLs from Tigris's presign endpoint (`POST /?func=presign`). Start
//! from [`Client::presign_url`](crate::Client::presign_url).
//!
//! aws-sdk-s3's own `presigned()` also works against Tigris and needs no request. This
//! endpoint adds what only Tigris knows: a URL on the bucket's custom domain, if it has one,
//! and GET URLs pinned to an object as it was at a snapshot. Expiry is up to 90 days (SDK
//! presigning stops at 7).
//!
//! ```no_run
//! # async fn demo(sdk: &aws_types::SdkConfig) -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//!
//! let tigris = tigris_api::Client::new(sdk)?;
//! let link = tigris
//!     .presign_url().bucket("assets").key("report.pdf")
//!     .expires_in(Duration::from_secs(600))
//!     .send()
//!     .await?;
//! println!("{}", link.url());
//! # Ok(()) }
//! ```

use std::fmt;
use std::time::Duration;

use http::{HeaderName, HeaderValue, Method};
use serde_json::{Value, json};
use tigris_core::transport::{SignedTransport, TigrisRequest};
use tracing::Instrument;

use crate::error::{Error, Operation, Result};
use crate::wire::bucket_name;
use tigris_headers::SnapshotVersion;

/// The longest a Tigris presigned URL may stay valid: 90 days.
pub const MAX_EXPIRES_IN: Duration = Duration::from_secs(90 * 24 * 60 * 60);

/// How long URLs stay valid unless [`PresignUrlFluentBuilder::expires_in`] says otherwise:
/// one hour, as in Tigris's own clients.
pub const DEFAULT_EXPIRES_IN: Duration = Duration::from_secs(3600);

const MAX_KEY_BYTES: usize = 1024;

/// What a presigned URL lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PresignMethod {
    /// Download the object.
    Get,
    /// Upload (replace) the object.
    Put,
}

impl PresignMethod {
    fn wire(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::Put => "put",
        }
    }
}

/// A key secret Tigris may answer along with a URL. `Debug` shows `**redacted**`; read it
/// with [`expose_secret`](Self::expose_secret).
///
/// ```
/// # use tigris_api::presign::KeySecret;
/// let secret = KeySecret::from("tsec_abc".to_owned());
/// assert_eq!(format!("{secret:?}"), "KeySecret(**redacted**)");
/// assert_eq!(secret.expose_secret(), "tsec_abc");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct KeySecret(String);

impl KeySecret {
    /// The secret itself. Do not log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl From<String> for KeySecret {
    fn from(secret: String) -> Self {
        Self(secret)
    }
}

impl fmt::Debug for KeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeySecret(**redacted**)")
    }
}

/// A presigned URL, as [`PresignUrlFluentBuilder::send`] returns it.
///
/// The URL is a bearer credential until it expires: whoever holds it may do what it grants.
///
/// ```no_run
/// # async fn demo(tigris: tigris_api::Client) -> Result<(), tigris_api::Error> {
///
/// let upload = tigris.presign_url().bucket("assets").key("incoming/photo.jpg").put().send().await?;
/// println!("PUT {} (or {:?})", upload.url(), upload.custom_domain_url());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PresignedUrl {
    url: String,
    custom_domain_url: Option<String>,
    key_secret: Option<KeySecret>,
    method: PresignMethod,
    expires_in: Duration,
    version_id: Option<String>,
}

impl PresignedUrl {
    /// The URL on Tigris's endpoint.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The same URL on the bucket's custom domain, when it has one.
    pub fn custom_domain_url(&self) -> Option<&str> {
        self.custom_domain_url.as_deref()
    }

    /// A key secret, when Tigris answers one.
    pub fn key_secret(&self) -> Option<&KeySecret> {
        self.key_secret.as_ref()
    }

    /// What the URL allows.
    pub fn method(&self) -> PresignMethod {
        self.method
    }

    /// How long the URL was signed to stay valid.
    pub fn expires_in(&self) -> Duration {
        self.expires_in
    }

    /// The object version a snapshot-pinned GET resolved to.
    pub fn version_id(&self) -> Option<&str> {
        self.version_id.as_deref()
    }
}

/// Asks Tigris for a presigned URL; from
/// [`Client::presign_url`](crate::Client::presign_url).
///
/// A GET for one hour unless told otherwise. Inputs are checked before any request: the bucket
/// name, a key of 1 to 1024 bytes, an expiry from 1 second to [`MAX_EXPIRES_IN`], a snapshot
/// only with GET. The URL is signed with the transport's own access key, which must be allowed
/// `s3:GetObject` (or `s3:PutObject`) on the object.
///
/// ```no_run
/// # async fn demo(tigris: tigris_api::Client) -> Result<(), tigris_api::Error> {
/// use std::time::Duration;
///
/// let old = tigris
///     .presign_url().bucket("assets").key("config.json")
///     .at_snapshot("1792757954482613190")
///     .expires_in(Duration::from_secs(7 * 24 * 3600))
///     .send()
///     .await?;
/// println!("{} (version {:?})", old.url(), old.version_id());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "does nothing until `.send().await`"]
pub struct PresignUrlFluentBuilder {
    transport: SignedTransport,
    bucket: String,
    key: String,
    method: PresignMethod,
    expires_in: Duration,
    snapshot: Option<String>,
}

impl PresignUrlFluentBuilder {
    pub(crate) fn new(transport: SignedTransport, bucket: String, key: String) -> Self {
        Self {
            transport,
            bucket,
            key,
            method: PresignMethod::Get,
            expires_in: DEFAULT_EXPIRES_IN,
            snapshot: None,
        }
    }

    /// The bucket (required).
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = bucket.as_ref().to_owned();
        self
    }

    /// The object key (required).
    pub fn key(mut self, key: impl AsRef<str>) -> Self {
        self.key = key.as_ref().to_owned();
        self
    }

    /// A URL to download the object (the default).
    pub fn get(mut self) -> Self {
        self.method = PresignMethod::Get;
        self
    }

    /// A URL to upload the object.
    pub fn put(mut self) -> Self {
        self.method = PresignMethod::Put;
        self
    }

    /// How long the URL stays valid, in whole seconds (fractions are dropped); 1 second to
    /// [`MAX_EXPIRES_IN`].
    pub fn expires_in(mut self, expires_in: Duration) -> Self {
        self.expires_in = expires_in;
        self
    }

    /// Pins a GET to the object as it was at snapshot `version`: the newest version of the
    /// key at or before it. Resolved with a `HeadObject` at the snapshot first; an object that
    /// did not exist then (or was deleted) is [`ErrorKind::NotFound`](crate::ErrorKind::NotFound).
    pub fn at_snapshot(mut self, version: impl AsRef<str>) -> Self {
        self.snapshot = Some(version.as_ref().to_owned());
        self
    }

    fn operation(&self) -> Operation {
        Operation::Presign {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            method: match self.method {
                PresignMethod::Get => "GET",
                PresignMethod::Put => "PUT",
            },
        }
    }

    /// Checks the inputs, then asks Tigris for the URL.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for
    /// invalid inputs; [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for a missing
    /// bucket, or an object missing at the snapshot;
    /// [`ErrorKind::AccessDenied`](crate::ErrorKind::AccessDenied) when the key may not do
    /// what the URL would grant.
    pub async fn send(self) -> Result<PresignedUrl> {
        let span = tracing::debug_span!("presign_url", bucket = %self.bucket, key = %self.key);
        async {
            let op = || self.operation();
            let bucket = bucket_name(&self.bucket, op)?;
            if self.key.is_empty() || self.key.len() > MAX_KEY_BYTES {
                return Err(Error::invalid_argument(
                    op(),
                    "the key must be 1 to 1024 bytes",
                ));
            }
            let secs = self.expires_in.as_secs();
            if secs == 0 || self.expires_in > MAX_EXPIRES_IN {
                return Err(Error::invalid_argument(
                    op(),
                    "the expiry must be between 1 second and 90 days",
                ));
            }
            let snapshot = match &self.snapshot {
                None => None,
                Some(_) if self.method == PresignMethod::Put => {
                    return Err(Error::invalid_argument(
                        op(),
                        "a snapshot pins GET URLs only; snapshots are read-only",
                    ));
                }
                Some(raw) => Some(SnapshotVersion::new(raw.as_str()).map_err(|e| {
                    Error::invalid_input(op(), "the snapshot version is invalid", e)
                })?),
            };
            let key_id = self.transport.access_key_id().await.map_err(|e| {
                Error::configuration(op(), "no credentials to sign with").with_source(e)
            })?;
            let version_id = match &snapshot {
                None => None,
                Some(version) => Some(self.version_at(bucket.clone(), version).await?),
            };
            let mut body = json!({
                "bucket": bucket.as_str(),
                "key": self.key,
                "key_id": key_id,
                "type": self.method.wire(),
                "expires_in": secs,
            });
            if let Some(v) = &version_id {
                body["version_id"] = v.clone().into();
            }
            let request = TigrisRequest::new(Method::POST)
                .query_param("func", "presign")
                .header(
                    http::header::ACCEPT,
                    HeaderValue::from_static("application/json"),
                )
                .json(body.to_string())
                .idempotent(true);
            let response = self
                .transport
                .send(&request)
                .await
                .map_err(|e| Error::from_sdk(op(), e))?;
            let answer: Value = serde_json::from_slice(response.body()).map_err(|e| {
                Error::unexpected_response(op(), "the presign answer is not JSON").with_source(e)
            })?;
            let text = |name: &str| {
                answer
                    .get(name)
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            };
            let url = text("url")
                .ok_or_else(|| Error::unexpected_response(op(), "the presign answer has no url"))?;
            Ok(PresignedUrl {
                url,
                custom_domain_url: text("custom_domain_url"),
                key_secret: text("key_secret").map(KeySecret),
                method: self.method,
                expires_in: Duration::from_secs(secs),
                version_id,
            })
        }
        .instrument(span)
        .await
    }

    /// The version id of the key as read at `snapshot`, from `HEAD` with
    /// `X-Tigris-Snapshot-Version`.
    async fn version_at(
        &self,
        bucket: tigris_headers::BucketName,
        snapshot: &SnapshotVersion,
    ) -> Result<String> {
        let op = || self.operation();
        let value = HeaderValue::from_str(snapshot.as_str())
            .map_err(|e| Error::invalid_input(op(), "the snapshot version is invalid", e))?;
        let request = TigrisRequest::new(Method::HEAD)
            .bucket(bucket)
            .key(self.key.clone())
            .header(
                HeaderName::from_static(crate::wire::SNAPSHOT_VERSION),
                value,
            );
        let response = self
            .transport
            .send(&request)
            .await
            .map_err(|e| Error::from_sdk(op(), e))?;
        response
            .headers()
            .get("x-amz-version-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && *v != "null")
            .map(str::to_owned)
            .ok_or_else(|| {
                Error::unexpected_response(op(), "the object at the snapshot has no version id")
            })
    }
}

impl crate::Client {
    /// A presigned GET (or, with `.put()`, PUT) URL from Tigris's presign endpoint. See [`PresignUrlFluentBuilder`].
    pub fn presign_url(&self) -> PresignUrlFluentBuilder {
        PresignUrlFluentBuilder::new(self.transport.clone(), String::new(), String::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_a_presigned_url_redacts_the_key_secret() {
        let url = PresignedUrl {
            url: "https://b.t3.tigrisfiles.io/k?X-Amz-Signature=abc".into(),
            custom_domain_url: None,
            key_secret: Some(KeySecret("tsec_very_secret".into())),
            method: PresignMethod::Get,
            expires_in: Duration::from_secs(60),
            version_id: None,
        };
        let debug = format!("{url:?}");
        assert!(!debug.contains("tsec_very_secret"), "{debug}");
        assert!(debug.contains("**redacted**"), "{debug}");
    }
}
