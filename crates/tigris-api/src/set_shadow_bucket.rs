//! Sets a bucket's shadow: [`Client::set_shadow_bucket`](crate::Client::set_shadow_bucket).
//! A shadow bucket fills a bucket lazily from another S3-compatible bucket (AWS S3, R2, GCS,
//! MinIO, ...). Remove it with [`Client::clear_shadow_bucket`](crate::Client::clear_shadow_bucket),
//! read it back from [`BucketMetadata::shadow_bucket`](crate::bucket_metadata::BucketMetadata::shadow_bucket)
//! (the secret is never read back), drain the rest with [`Client::migrate`](crate::Client::migrate).
//!
//! A read that misses in Tigris is served from the shadow and copied in; with write-through,
//! writes go to both. Tigris refuses a Tigris bucket as the source (`Migration source cannot be
//! Tigris endpoint`): to copy between Tigris buckets, fork.
//!
//! ```no_run
//! # async fn demo(tigris: tigris_api::Client) -> Result<(), tigris_api::Error> {
//! tigris
//!     .set_shadow_bucket()
//!     .bucket("media")
//!     .source_bucket("legacy-media")
//!     .endpoint("https://s3.us-east-1.amazonaws.com")
//!     .region("us-east-1")
//!     .credentials("AKIA...", "secret")
//!     .write_through(true)
//!     .send()
//!     .await?;
//! # Ok(()) }
//! ```

use std::fmt;

use http::Uri;
use serde_json::json;
use tigris_core::transport::SignedTransport;
use tracing::Instrument;

use crate::error::{Error, Operation, Result};
use crate::wire::{bucket_name, patch_bucket};

/// The region sent when none is set: what Tigris asks for with providers that have no regions
/// (R2, GCS).
pub const DEFAULT_REGION: &str = "auto";

/// Host suffixes of Tigris's own endpoints, which Tigris refuses as a shadow source.
const TIGRIS_HOSTS: [&str; 3] = ["storage.dev", "tigris.dev", "storageapi.dev"];

/// A shadow bucket's secret access key. `Debug` shows `**redacted**`; there is no `Display`.
///
/// ```
/// # use tigris_api::set_shadow_bucket::ShadowSecret;
/// let secret = ShadowSecret::from("wJalrXUtnFEMI".to_owned());
/// assert_eq!(format!("{secret:?}"), "ShadowSecret(**redacted**)");
/// assert_eq!(secret.expose_secret(), "wJalrXUtnFEMI");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ShadowSecret(String);

impl ShadowSecret {
    /// The secret itself. Do not log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl From<String> for ShadowSecret {
    fn from(secret: String) -> Self {
        Self(secret)
    }
}

impl fmt::Debug for ShadowSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ShadowSecret(**redacted**)")
    }
}

/// Why a shadow setting was refused before sending.
#[derive(Debug)]
struct InvalidShadow(String);

impl fmt::Display for InvalidShadow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidShadow {}

/// An endpoint as a refusal names it: anything between the scheme and the last `@` (user
/// info, which may hold a password) replaced by `***`.
fn shown(raw: &str) -> String {
    let start = raw.find("://").map_or(0, |i| i + 3);
    match raw.rfind('@') {
        Some(at) if at >= start => format!("{}***{}", &raw[..start], &raw[at..]),
        _ => raw.to_owned(),
    }
}

/// Checks a shadow endpoint: an absolute http(s) URL with a host and no query, not Tigris's
/// own. Returns the reason it is refused.
fn check_endpoint(raw: &str, own: &str) -> Option<String> {
    let show = shown(raw);
    let Ok(uri) = raw.parse::<Uri>() else {
        return Some(format!("endpoint {show:?} is not a URL"));
    };
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Some(format!("endpoint {show:?} is not an http(s) URL")),
    }
    let Some(authority) = uri.authority() else {
        return Some(format!("endpoint {show:?} has no host"));
    };
    if authority.host().is_empty() || authority.as_str().contains('@') {
        return Some(format!("endpoint {show:?} has no host, or has user info"));
    }
    if uri.query().is_some() || !matches!(uri.path(), "" | "/") {
        return Some(format!(
            "endpoint {show:?} has a path or query: give the service's root URL"
        ));
    }
    let host = authority.host().trim_end_matches('.').to_ascii_lowercase();
    if TIGRIS_HOSTS
        .iter()
        .any(|t| host == *t || host.ends_with(&format!(".{t}")))
    {
        return Some(format!(
            "endpoint {show:?} is Tigris's: Migration source cannot be Tigris endpoint (fork the bucket instead)"
        ));
    }
    if let Ok(own) = own.parse::<Uri>()
        && own.authority().map(|a| a.as_str().to_ascii_lowercase())
            == Some(authority.as_str().to_ascii_lowercase())
    {
        return Some(format!(
            "endpoint {show:?} is the endpoint this client talks to: Migration source cannot be Tigris endpoint"
        ));
    }
    None
}

/// A name or credential part: non-empty, printable, no whitespace.
fn check_token(what: &str, value: &str) -> Option<String> {
    if value.is_empty() {
        return Some(format!("no {what} was given"));
    }
    if value.len() > 1024 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some(format!(
            "the {what} has whitespace or control characters, or is over 1024 bytes"
        ));
    }
    None
}

/// Sets a bucket's shadow with `PATCH /{bucket}` (`shadow_bucket`); from
/// [`Client::set_shadow_bucket`](crate::Client::set_shadow_bucket).
///
/// Checked before any request ([`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput)):
/// the bucket name; a source bucket, an access key id and a secret, each non-empty without
/// whitespace; the endpoint, an http(s) URL with a host and no path or query that is not
/// Tigris's own (`*.storage.dev`, `*.tigris.dev`, or the endpoint this client sends to); a
/// region without whitespace (default [`DEFAULT_REGION`]). The credentials need read and list
/// rights on the source, and write and delete too with write-through.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let emu = tigris_emulator::Emulator::start().await?;
/// # let legacy = tigris_emulator::Emulator::start().await?;
/// # let sdk = tigris_test_support::root_sdk_config(&emu, aws_sdk_s3::config::retry::RetryConfig::standard());
/// # let s3 = tigris_core::config::s3_client(&sdk);
/// # s3.create_bucket().bucket("media").send().await?;
/// let tigris = tigris_api::Client::new(&sdk)?;
/// tigris
///     .set_shadow_bucket()
///     .bucket("media")
///     .source_bucket("legacy-media")
///     .endpoint(legacy.endpoint())
///     .credentials(legacy.root_credentials().access_key_id(),
///                  legacy.root_credentials().secret_access_key())
///     .write_through(true)
///     .send()
///     .await?;
/// let shadow = tigris.bucket_metadata().bucket("media").send().await?;
/// let shadow = shadow.shadow_bucket().expect("set");
/// assert_eq!(shadow.source_bucket, "legacy-media");
/// assert!(shadow.write_through);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct SetShadowBucketFluentBuilder {
    transport: SignedTransport,
    bucket: String,
    source_bucket: String,
    endpoint: String,
    region: String,
    access_key_id: String,
    secret: ShadowSecret,
    write_through: bool,
}

impl SetShadowBucketFluentBuilder {
    pub(crate) fn new(transport: SignedTransport) -> Self {
        Self {
            transport,
            bucket: String::new(),
            source_bucket: String::new(),
            endpoint: String::new(),
            region: DEFAULT_REGION.to_owned(),
            access_key_id: String::new(),
            secret: ShadowSecret(String::new()),
            write_through: false,
        }
    }

    /// The Tigris bucket that reads through to the shadow (required).
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = bucket.as_ref().to_owned();
        self
    }

    /// The source bucket's name on the other service (required).
    pub fn source_bucket(mut self, name: impl Into<String>) -> Self {
        self.source_bucket = name.into();
        self
    }

    /// The other service's S3 endpoint, e.g. `https://s3.us-east-1.amazonaws.com` (required).
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = url.into();
        self
    }

    /// The source's region; [`DEFAULT_REGION`] (`auto`) when not set.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }

    /// The access key id and secret Tigris signs its requests to the source with (required).
    pub fn credentials(
        mut self,
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
    ) -> Self {
        self.access_key_id = access_key_id.into();
        self.secret = ShadowSecret(secret_access_key.into());
        self
    }

    /// Whether writes and deletes also go to the source (default off).
    pub fn write_through(mut self, on: bool) -> Self {
        self.write_through = on;
        self
    }

    fn problem(&self) -> Option<String> {
        check_token("source bucket", &self.source_bucket)
            .or_else(|| {
                self.source_bucket
                    .contains('/')
                    .then(|| format!("source bucket {:?} contains '/'", self.source_bucket))
            })
            .or_else(|| {
                if self.endpoint.is_empty() {
                    Some("no endpoint was given: set it with .endpoint(..)".to_owned())
                } else {
                    check_endpoint(&self.endpoint, self.transport.endpoint())
                }
            })
            .or_else(|| check_token("region", &self.region))
            .or_else(|| check_token("access key id", &self.access_key_id))
            .or_else(|| check_token("secret access key", self.secret.expose_secret()))
    }

    /// Checks every setting, then sends them.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request (see the
    /// type's docs); otherwise what Tigris answers: [`ErrorKind::NotFound`](crate::ErrorKind::NotFound)
    /// for an unknown bucket, [`ErrorKind::AccessDenied`](crate::ErrorKind::AccessDenied) for a
    /// key without the rights, [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for
    /// a source Tigris refuses.
    pub async fn send(self) -> Result<()> {
        let span = tracing::debug_span!("set_shadow_bucket", bucket = %self.bucket);
        async {
            let operation = Operation::SetShadowBucket {
                bucket: self.bucket.clone(),
            };
            let bucket = bucket_name(&self.bucket, || operation.clone())?;
            if let Some(problem) = self.problem() {
                return Err(Error::invalid_input(
                    operation,
                    "a shadow-bucket setting is invalid",
                    InvalidShadow(problem),
                ));
            }
            let body = json!({"shadow_bucket": {
                "access_key": self.access_key_id,
                "secret_key": self.secret.expose_secret(),
                "region": self.region,
                "name": self.source_bucket,
                "endpoint": self.endpoint,
                "write_through": self.write_through,
            }});
            patch_bucket(&self.transport, bucket, body, &operation).await
        }
        .instrument(span)
        .await
    }
}

impl crate::Client {
    /// Sets a bucket's shadow: another S3-compatible bucket it reads through to. See
    /// [`SetShadowBucketFluentBuilder`].
    pub fn set_shadow_bucket(&self) -> SetShadowBucketFluentBuilder {
        SetShadowBucketFluentBuilder::new(self.transport.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_checked_for_scheme_host_path_and_tigris() {
        let own = "http://127.0.0.1:9000";
        for ok in [
            "https://s3.us-east-1.amazonaws.com",
            "http://127.0.0.1:9001",
            "https://storage.googleapis.com/",
        ] {
            assert_eq!(check_endpoint(ok, own), None, "{ok}");
        }
        for bad in [
            "s3.amazonaws.com",
            "ftp://host",
            "https://",
            "https://user@host",
            "https://host/bucket",
            "https://host?x=1",
            "https://t3.storage.dev",
            "https://fly.storage.tigris.dev",
            "http://127.0.0.1:9000",
            "not a url",
        ] {
            assert!(check_endpoint(bad, own).is_some(), "{bad}");
        }
    }

    proptest::proptest! {
        /// Caller input: any endpoint text is accepted or refused with a reason, and a refusal
        /// never repeats what stands before an `@`.
        #[test]
        fn any_endpoint_is_checked_without_panicking(
            raw in proptest::prop_oneof![
                ".{0,30}",
                "(https?|ftp)://([a-z]{0,6}(:[a-z]{0,6})?@)?[a-z0-9.:\\[\\]]{0,20}(/[a-z@]{0,6})?(\\?.{0,4})?",
            ],
        ) {
            if let Some(why) = check_endpoint(&raw, "http://127.0.0.1:9000")
                && let Some((before, _)) = raw.rsplit_once('@')
                && let Some((_, user_info)) = before.split_once("://")
                && user_info.len() > 3
            {
                proptest::prop_assert!(!why.contains(before), "{}", why);
            }
        }
    }

    #[test]
    fn a_password_in_a_refused_endpoint_is_not_repeated() {
        for bad in [
            "https://user:hunter2@host",
            "https://user:hunter2@host/bucket",
            "https://user:hun ter2@host",
            "https://user:hun/ter2@host",
        ] {
            let why = check_endpoint(bad, "http://127.0.0.1:9000").expect("refused");
            assert!(!why.contains("hunter2") && !why.contains("ter2"), "{why}");
            assert!(why.contains("***@host"), "{why}");
        }
    }

    #[test]
    fn the_secret_never_shows_in_debug() {
        let b = SetShadowBucketFluentBuilder::new(
            SignedTransport::new(
                &tigris_core::config::builder()
                    .credentials(aws_sdk_s3::config::Credentials::new(
                        "a", "b", None, None, "t",
                    ))
                    .build(),
            )
            .unwrap(),
        )
        .credentials("AKID", "very-secret-value");
        let shown = format!("{b:?}");
        assert!(!shown.contains("very-secret-value"), "{shown}");
        assert!(shown.contains("AKID"));
    }
}
