#![doc = include_str!("../README.md")]
//!
//! # Crate organization
//! - [`BucketName`]: a bucket name checked against Tigris's rules.
//! - [`DEFAULT_ENDPOINT`], [`DEFAULT_REGION`]: where Tigris is, defined once.
//! - [`config`]: the `SdkConfig` builder for Tigris, [`s3_client`](config::s3_client) and the
//!   one [`default_http_client`].
//! - [`error`]: the one [`ErrorKind`] of the workspace and [`Classified`](error::Classified),
//!   the one reading of a failed request (kind, and whether it may have been applied).
//! - [`pagination`]: the SDK's paginator streams, which every listing of the workspace returns.
//! - [`transport`]: [`SignedTransport`](transport::SignedTransport), SigV4-signed requests to
//!   Tigris's JSON/XML endpoints on the `SdkConfig`'s HTTP client, retry and timeout settings.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod config;
pub mod error;
pub mod pagination;
pub mod transport;

pub use error::ErrorKind;

/// The Tigris S3 endpoint (IAM is served at `https://iam.storageapi.dev`).
pub const DEFAULT_ENDPOINT: &str = "https://t3.storage.dev";

/// The region Tigris expects in signatures: it is global, so `auto`.
pub const DEFAULT_REGION: &str = "auto";

/// The Tigris IAM endpoint.
pub const DEFAULT_IAM_ENDPOINT: &str = "https://iam.storageapi.dev";

pub use config::default_http_client;

use std::fmt;
use std::str::FromStr;

/// A bucket name that follows Tigris's rules.
///
/// 3 to 63 characters; lowercase letters, digits, `.` and `-`; starts and ends with a letter or
/// digit; no `..`; not prefixed `xn--` nor suffixed `-s3alias`; not an IPv4 address.
///
/// ```
/// use tigris_core::BucketName;
/// assert!(BucketName::new("my-bucket.v2").is_ok());
/// let err = BucketName::new("ab").unwrap_err();
/// assert_eq!(err.to_string(), "invalid bucket name \"ab\": it must be 3 to 63 characters long");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BucketName(String);

/// Why a string is not a valid [`BucketName`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidBucketName {
    name: String,
    reason: &'static str,
}

impl InvalidBucketName {
    /// The rejected name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The rule it breaks, as a sentence fragment.
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}

impl fmt::Display for InvalidBucketName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid bucket name {:?}: {}", self.name, self.reason)
    }
}

impl std::error::Error for InvalidBucketName {}

impl BucketName {
    /// The longest bucket name Tigris accepts.
    pub const MAX_LEN: usize = 63;

    /// Validates `name`.
    ///
    /// # Errors
    /// [`InvalidBucketName`] naming the rule the name breaks.
    pub fn new(name: impl Into<String>) -> Result<Self, InvalidBucketName> {
        let name = name.into();
        match why_invalid(&name) {
            None => Ok(Self(name)),
            Some(reason) => Err(InvalidBucketName { name, reason }),
        }
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as an owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

fn why_invalid(name: &str) -> Option<&'static str> {
    let bytes = name.as_bytes();
    if !(3..=BucketName::MAX_LEN).contains(&bytes.len()) {
        return Some("it must be 3 to 63 characters long");
    }
    if !bytes
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
    {
        return Some("it may only contain lowercase letters, digits, '.' and '-'");
    }
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return Some("it must start and end with a letter or digit");
    }
    if name.contains("..") {
        return Some("it must not contain two adjacent periods");
    }
    if name.starts_with("xn--") {
        return Some("the prefix 'xn--' is reserved");
    }
    if name.ends_with("-s3alias") {
        return Some("the suffix '-s3alias' is reserved");
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Some("it must not be formatted as an IP address");
    }
    None
}

impl FromStr for BucketName {
    type Err = InvalidBucketName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<&str> for BucketName {
    type Error = InvalidBucketName;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl TryFrom<String> for BucketName {
    type Error = InvalidBucketName;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl AsRef<str> for BucketName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BucketName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<BucketName> for String {
    fn from(b: BucketName) -> Self {
        b.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_names_are_accepted() {
        for name in [
            "abc",
            "my-bucket",
            "a.b.c",
            "123",
            "a-1.b-2",
            &"a".repeat(63),
        ] {
            assert!(BucketName::new(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn each_rule_rejects_its_case() {
        let cases = [
            ("ab", "3 to 63"),
            (&"a".repeat(64) as &str, "3 to 63"),
            ("My-Bucket", "lowercase"),
            ("under_score", "lowercase"),
            ("-abc", "start and end"),
            ("abc.", "start and end"),
            ("a..b", "adjacent periods"),
            ("xn--abc", "xn--"),
            ("abc-s3alias", "-s3alias"),
            ("192.168.1.1", "IP address"),
            ("", "3 to 63"),
        ];
        for (name, reason) in cases {
            let err = BucketName::new(name).unwrap_err();
            assert!(err.reason().contains(reason), "{name}: {}", err.reason());
            assert_eq!(err.name(), name);
        }
    }
}
