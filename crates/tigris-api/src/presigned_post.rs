//! Presigned POST: the URL and form fields that let a browser (or any HTTP client without
//! credentials) upload one object with an HTML form, within the limits you sign.
//!
//! `aws-sdk-s3` presigns GET and PUT requests but has no presigned POST; this builds the S3
//! POST policy (expiry, bucket, key, size range, content type, metadata), signs it with SigV4
//! for the client's credentials and region, and returns the form to send. The server enforces
//! every condition: a file outside `content_length_range`, a different `Content-Type` or key, or
//! an upload after the expiry is refused.
//!
//! The form is built from the `SdkConfig` (credentials, region, endpoint) because an
//! `aws_sdk_s3::Client` does not expose its credentials provider.
//!
//! ```no_run
//! # async fn demo(tigris: tigris_api::Client) -> Result<(), tigris_api::Error> {
//! use std::time::Duration;
//!
//! let post = tigris
//!     .presigned_post()
//!     .bucket("uploads")
//!     .key("avatars/user-42.png")
//!     .expires_in(Duration::from_secs(600))
//!     .content_length_range(1, 5 * 1024 * 1024)
//!     .content_type("image/png")
//!     .metadata("owner", "user-42")
//!     .send()
//!     .await?;
//! // An HTML form: <form action="{post.url()}" method="post" enctype="multipart/form-data">,
//! // one hidden input per field, then the file input last.
//! for (name, value) in post.fields() {
//!     println!("{name} = {value}");
//! }
//! # Ok(()) }
//! ```

use std::fmt;
use std::time::{Duration, SystemTime};

use aws_sdk_s3::config::ProvideCredentials;

use aws_types::SdkConfig;
use base64::Engine as _;
use serde_json::{Value, json};

use crate::error::{Error, Operation, Result};
use crate::wire::bucket_name;

/// The longest validity SigV4 allows for a signature: 7 days.
pub const MAX_EXPIRY: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// The longest object key S3 and Tigris accept, in bytes.
const MAX_KEY_BYTES: usize = 1024;

/// What the form's `Content-Type` field must be.
#[derive(Debug, Clone)]
enum ContentType {
    Exactly(String),
    StartsWith(String),
}

/// Builds a presigned POST for one key of one bucket; from [`Client::presigned_post`](crate::Client::presigned_post).
///
/// Defaults: valid for one hour, any size, any content type, no metadata. `send()` checks the
/// input first (bucket name, key, expiry between 1 s and 7 days, `min <= max`, metadata names)
/// and answers [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) without touching
/// the network; it then resolves the client's credentials (no request is sent to S3).
///
/// ```no_run
/// # async fn demo(tigris: tigris_api::Client) -> Result<(), tigris_api::Error> {
/// let post = tigris
///     .presigned_post()
///     .bucket("uploads")
///     .key("report.csv")
///     .content_type_starts_with("text/")
///     .send()
///     .await?;
/// assert!(post.fields().iter().any(|(name, _)| name == "x-amz-signature"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct PresignedPostFluentBuilder {
    sdk: SdkConfig,
    bucket: String,
    key: String,
    expires_in: Duration,
    length: Option<(u64, u64)>,
    content_type: Option<ContentType>,
    metadata: Vec<(String, String)>,
    start_time: Option<SystemTime>,
}

impl PresignedPostFluentBuilder {
    pub(crate) fn new(sdk: &SdkConfig, bucket: String, key: String) -> Self {
        Self {
            sdk: sdk.clone(),
            bucket,
            key,
            expires_in: Duration::from_secs(3600),
            length: None,
            content_type: None,
            metadata: Vec::new(),
            start_time: None,
        }
    }

    /// The bucket to upload to (required).
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = bucket.as_ref().to_owned();
        self
    }

    /// The key of the uploaded object (required).
    pub fn key(mut self, key: impl AsRef<str>) -> Self {
        self.key = key.as_ref().to_owned();
        self
    }

    /// How long the form may be used, from now: 1 second to [`MAX_EXPIRY`] (default one hour).
    pub fn expires_in(mut self, duration: Duration) -> Self {
        self.expires_in = duration;
        self
    }

    /// Signs as of `time` instead of now (like the SDK's `PresigningConfig::start_time`): the
    /// form is valid from then until `time + expires_in`.
    pub fn start_time(mut self, time: SystemTime) -> Self {
        self.start_time = Some(time);
        self
    }

    /// The uploaded file's size must be between `min` and `max` bytes, both included.
    pub fn content_length_range(mut self, min: u64, max: u64) -> Self {
        self.length = Some((min, max));
        self
    }

    /// The form's `Content-Type` field is set to `content_type`, and must stay so.
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(ContentType::Exactly(content_type.into()));
        self
    }

    /// The form's `Content-Type` must start with `prefix` (e.g. `image/`); the browser sets it.
    pub fn content_type_starts_with(mut self, prefix: impl Into<String>) -> Self {
        self.content_type = Some(ContentType::StartsWith(prefix.into()));
        self
    }

    /// Stores `value` as user metadata `name` (`x-amz-meta-<name>`) on the object; the form
    /// must send exactly this value.
    pub fn metadata(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.push((name.into(), value.into()));
        self
    }

    fn operation(&self) -> Operation {
        Operation::PresignPost {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
        }
    }

    fn validate(&self) -> Result<()> {
        let op = || self.operation();
        bucket_name(&self.bucket, op)?;
        if self.key.is_empty() || self.key.len() > MAX_KEY_BYTES {
            return Err(Error::invalid_argument(
                op(),
                "the key must be 1 to 1024 bytes",
            ));
        }
        if self.expires_in < Duration::from_secs(1) || self.expires_in > MAX_EXPIRY {
            return Err(Error::invalid_argument(
                op(),
                "the expiry must be between 1 second and 7 days",
            ));
        }
        if let Some((min, max)) = self.length
            && min > max
        {
            return Err(Error::invalid_argument(
                op(),
                "content_length_range needs min <= max",
            ));
        }
        let token = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        };
        if self.metadata.iter().any(|(name, _)| !token(name)) {
            return Err(Error::invalid_argument(
                op(),
                "metadata names must be ASCII letters, digits, '-', '_' or '.'",
            ));
        }
        Ok(())
    }

    /// Where the form is posted: the bucket's path-style URL at the `SdkConfig`'s endpoint,
    /// as [`config::s3_client`](tigris_core::config::s3_client) addresses it.
    fn bucket_url(&self) -> String {
        let endpoint = self
            .sdk
            .endpoint_url()
            .unwrap_or(tigris_core::DEFAULT_ENDPOINT)
            .trim_end_matches('/');
        format!("{endpoint}/{}", self.bucket)
    }

    /// Signs the policy and returns the URL and the form fields.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for bad input (before
    /// anything else); [`ErrorKind::Configuration`](crate::ErrorKind::Configuration) when the
    /// client has no credentials or they cannot be resolved.
    pub async fn send(self) -> Result<PresignedPost> {
        self.validate()?;
        let provider = self.sdk.credentials_provider().ok_or_else(|| {
            Error::configuration(
                self.operation(),
                "the SdkConfig has no credentials provider",
            )
        })?;
        let credentials = provider.provide_credentials().await.map_err(|e| {
            Error::configuration(
                self.operation(),
                "the client's credentials could not be resolved",
            )
            .with_source(e)
        })?;
        let region = self
            .sdk
            .region()
            .map_or_else(|| "auto".to_owned(), |r| r.to_string());
        let url = self.bucket_url();
        let now = self.start_time.unwrap_or_else(SystemTime::now);
        Ok(self.sign(
            url,
            &region,
            credentials.access_key_id(),
            credentials.secret_access_key(),
            credentials.session_token(),
            now,
        ))
    }

    fn sign(
        self,
        url: String,
        region: &str,
        access_key_id: &str,
        secret: &str,
        session_token: Option<&str>,
        now: SystemTime,
    ) -> PresignedPost {
        let stamp = time::OffsetDateTime::from(now);
        let date = format!(
            "{:04}{:02}{:02}",
            stamp.year(),
            u8::from(stamp.month()),
            stamp.day()
        );
        let amz_date = format!(
            "{date}T{:02}{:02}{:02}Z",
            stamp.hour(),
            stamp.minute(),
            stamp.second()
        );
        let expiry = time::OffsetDateTime::from(now + self.expires_in);
        let expiration = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
            expiry.year(),
            u8::from(expiry.month()),
            expiry.day(),
            expiry.hour(),
            expiry.minute(),
            expiry.second()
        );
        let credential = format!("{access_key_id}/{date}/{region}/s3/aws4_request");

        let mut fields = vec![("key".to_owned(), self.key.clone())];
        let mut conditions: Vec<Value> =
            vec![json!({ "bucket": self.bucket }), json!({ "key": self.key })];
        match &self.content_type {
            Some(ContentType::Exactly(ct)) => {
                fields.push(("Content-Type".to_owned(), ct.clone()));
                conditions.push(json!({ "Content-Type": ct }));
            }
            Some(ContentType::StartsWith(prefix)) => {
                conditions.push(json!(["starts-with", "$Content-Type", prefix]));
            }
            None => {}
        }
        if let Some((min, max)) = self.length {
            conditions.push(json!(["content-length-range", min, max]));
        }
        for (name, value) in &self.metadata {
            let field = format!("x-amz-meta-{}", name.to_ascii_lowercase());
            conditions.push(json!({ field.clone(): value }));
            fields.push((field, value.clone()));
        }
        let mut signed = vec![
            ("x-amz-algorithm", "AWS4-HMAC-SHA256".to_owned()),
            ("x-amz-credential", credential),
            ("x-amz-date", amz_date),
        ];
        if let Some(token) = session_token {
            signed.push(("x-amz-security-token", token.to_owned()));
        }
        for (name, value) in signed {
            conditions.push(json!({ name: value }));
            fields.push((name.to_owned(), value));
        }
        let policy = json!({ "expiration": expiration, "conditions": conditions }).to_string();
        let policy = base64::engine::general_purpose::STANDARD.encode(policy);
        let signing_key = aws_sigv4::sign::v4::generate_signing_key(secret, now, region, "s3");
        let signature = aws_sigv4::sign::v4::calculate_signature(signing_key, policy.as_bytes());
        fields.push(("policy".to_owned(), policy));
        fields.push(("x-amz-signature".to_owned(), signature));
        PresignedPost {
            url,
            fields,
            expires_at: now + self.expires_in,
        }
    }
}

/// A signed upload form: POST it as `multipart/form-data` to [`url`](Self::url) with every
/// field of [`fields`](Self::fields), in order, and the file last, in a field named `file`.
///
/// `Debug` shows the URL and field names but not the session token, if the credentials had
/// one; the secret key is never part of it.
#[derive(Clone)]
pub struct PresignedPost {
    url: String,
    fields: Vec<(String, String)>,
    expires_at: SystemTime,
}

impl PresignedPost {
    /// The URL to POST the form to (the bucket's URL).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The form fields, in the order to send them, before the file.
    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }

    /// When the form stops being accepted.
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }
}

impl fmt::Debug for PresignedPost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<(&str, &str)> = self
            .fields
            .iter()
            .map(|(name, value)| {
                let shown = if name == "x-amz-security-token" {
                    "** redacted **"
                } else {
                    value.as_str()
                };
                (name.as_str(), shown)
            })
            .collect();
        f.debug_struct("PresignedPost")
            .field("url", &self.url)
            .field("fields", &fields)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl crate::Client {
    /// A browser upload form (an S3 POST policy) for one key, signed locally with the
    /// credentials of the client's `SdkConfig` for its region and posted to the bucket's URL at
    /// its endpoint; no request is sent. See [`PresignedPostFluentBuilder`].
    pub fn presigned_post(&self) -> PresignedPostFluentBuilder {
        PresignedPostFluentBuilder::new(&self.sdk, String::new(), String::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sdk() -> SdkConfig {
        tigris_core::config::builder().build()
    }

    fn builder() -> PresignedPostFluentBuilder {
        PresignedPostFluentBuilder::new(&sdk(), "uploads".into(), "k".into())
    }

    #[test]
    fn bad_input_is_refused_before_anything_is_signed() {
        let cases = [
            builder().expires_in(Duration::ZERO),
            builder().expires_in(MAX_EXPIRY + Duration::from_secs(1)),
            builder().content_length_range(10, 1),
            builder().metadata("bad name", "v"),
            PresignedPostFluentBuilder::new(&sdk(), "No_Such".into(), "k".into()),
            PresignedPostFluentBuilder::new(&sdk(), "uploads".into(), String::new()),
        ];
        for case in cases {
            let err = case.validate().unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::InvalidInput, "{err}");
        }
        builder().validate().unwrap();
    }

    #[test]
    fn the_policy_carries_every_condition_and_the_signature_covers_it() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_780_000_000);
        let post = builder()
            .content_length_range(1, 100)
            .content_type("text/plain")
            .metadata("Owner", "me")
            .expires_in(Duration::from_secs(60))
            .sign(
                "http://h/uploads".into(),
                "auto",
                "AKID",
                "SECRET",
                Some("TOKEN"),
                now,
            );
        let field = |n: &str| {
            post.fields()
                .iter()
                .find(|(name, _)| name == n)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        let policy = base64::engine::general_purpose::STANDARD
            .decode(field("policy"))
            .unwrap();
        let policy: Value = serde_json::from_slice(&policy).unwrap();
        let conditions = policy["conditions"].to_string();
        for expected in [
            r#"{"bucket":"uploads"}"#,
            r#"["content-length-range",1,100]"#,
            r#"{"Content-Type":"text/plain"}"#,
            r#"{"x-amz-meta-owner":"me"}"#,
            r#"{"x-amz-security-token":"TOKEN"}"#,
        ] {
            assert!(conditions.contains(expected), "{expected} in {conditions}");
        }
        assert!(field("x-amz-credential").ends_with("/auto/s3/aws4_request"));
        let key = aws_sigv4::sign::v4::generate_signing_key("SECRET", now, "auto", "s3");
        let expected = aws_sigv4::sign::v4::calculate_signature(key, field("policy").as_bytes());
        assert_eq!(field("x-amz-signature"), expected);
        let shown = format!("{post:?}");
        assert!(
            !shown.contains("TOKEN") && !shown.contains("SECRET"),
            "{shown}"
        );
    }
}
