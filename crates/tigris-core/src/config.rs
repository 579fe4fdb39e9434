//! Client configuration for Tigris: endpoint, region `auto`, an explicit rustls (ring) HTTP
//! client, and the checksum settings Tigris accepts.
//!
//! ```no_run
//! use aws_sdk_s3::config::Credentials;
//! use tigris_core::config::{self, s3_client};
//!
//! let sdk = config::builder()
//!     .credentials(Credentials::new("tid_...", "tsec_...", None, None, "example"))
//!     .build();
//! let s3 = s3_client(&sdk);
//! # let _ = s3;
//! ```
//!
//!
//! Keep the [`SdkConfig`]: `aws_sdk_s3::Config::credentials_provider()` always returns `None`,
//! so the S3 client cannot hand its credentials to other clients (IAM, signed requests).

use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, HttpClient, ProvideCredentials, Region,
    RequestChecksumCalculation, ResponseChecksumValidation, SharedCredentialsProvider,
    SharedHttpClient,
};
use aws_types::SdkConfig;

use aws_smithy_http_client::tls;

pub use crate::{DEFAULT_ENDPOINT, DEFAULT_IAM_ENDPOINT, DEFAULT_REGION};

/// Starts a Tigris configuration from the Tigris defaults; see [`TigrisConfigBuilder`].
///
/// The configuration itself is the SDK's own [`SdkConfig`], so every SDK client and config
/// builder takes it as it is (`aws_sdk_s3::config::Builder::from(&sdk)`,
/// `aws_sdk_iam::Client::new(&sdk)`), and so do the crates of this workspace.
///
/// ```no_run
/// use aws_sdk_s3::config::Credentials;
/// use tigris_core::config::{self, s3_client};
///
/// let sdk = config::builder()
///     .endpoint_url("http://127.0.0.1:9000")
///     .credentials(Credentials::new("access-key", "secret", None, None, "static"))
///     .build();
/// assert_eq!(sdk.region().map(|r| r.as_ref()), Some("auto"));
/// let s3 = s3_client(&sdk);
/// # drop(s3);
/// ```
pub fn builder() -> TigrisConfigBuilder {
    TigrisConfigBuilder::default()
}

/// An HTTPS client on rustls with the ring provider (the workspace's one TLS stack); it also
/// speaks plain `http://`, which the local emulator uses. Every configuration built by
/// [`builder`] uses it unless given another.
///
/// ```
/// let client = tigris_core::config::default_http_client();
/// # drop(client);
/// ```
pub fn default_http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// Builds the [`SdkConfig`] for Tigris; start from [`builder`].
///
/// Defaults: endpoint [`DEFAULT_ENDPOINT`], region [`DEFAULT_REGION`], the latest behavior
/// version, standard retries, an HTTPS client on rustls with the ring crypto provider, and
/// checksums only where an operation requires them (Tigris rejects the `aws-chunked` uploads
/// newer SDK defaults produce). Without credentials, requests go out unsigned.
#[derive(Debug, Clone, Default)]
#[must_use = "call build() to get the configuration"]
pub struct TigrisConfigBuilder {
    endpoint_url: Option<String>,
    region: Option<Region>,
    credentials_provider: Option<SharedCredentialsProvider>,
    http_client: Option<SharedHttpClient>,
    retry_config: Option<RetryConfig>,
    timeout_config: Option<TimeoutConfig>,
}

impl TigrisConfigBuilder {
    /// The S3 endpoint; [`DEFAULT_ENDPOINT`] unless set.
    pub fn endpoint_url(mut self, endpoint_url: impl Into<String>) -> Self {
        self.endpoint_url = Some(endpoint_url.into());
        self
    }

    /// The signing region; [`DEFAULT_REGION`] unless set.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(Region::new(region.into()));
        self
    }

    /// Where credentials come from.
    pub fn credentials_provider(mut self, provider: impl ProvideCredentials + 'static) -> Self {
        self.credentials_provider = Some(SharedCredentialsProvider::new(provider));
        self
    }

    /// Static credentials, such as a Tigris access key id and secret.
    pub fn credentials(self, credentials: Credentials) -> Self {
        self.credentials_provider(credentials)
    }

    /// Replaces the default HTTPS client, for example to share one connection pool. Every
    /// request the workspace makes goes through it, S3, IAM and Tigris's other endpoints.
    pub fn http_client(mut self, http_client: impl HttpClient + 'static) -> Self {
        self.http_client = Some(SharedHttpClient::new(http_client));
        self
    }

    /// Replaces the default retry settings ([`RetryConfig::standard`]).
    pub fn retry_config(mut self, retry_config: RetryConfig) -> Self {
        self.retry_config = Some(retry_config);
        self
    }

    /// Sets timeouts (connect, read, per attempt, per operation); the SDK's defaults otherwise.
    pub fn timeout_config(mut self, timeout_config: TimeoutConfig) -> Self {
        self.timeout_config = Some(timeout_config);
        self
    }

    /// The configuration, ready for [`s3_client`] (or any other SDK client).
    pub fn build(self) -> SdkConfig {
        let http_client = self.http_client.unwrap_or_else(default_http_client);
        let mut builder = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(
                self.endpoint_url
                    .unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned()),
            )
            .region(
                self.region
                    .unwrap_or_else(|| Region::from_static(DEFAULT_REGION)),
            )
            .retry_config(self.retry_config.unwrap_or_else(RetryConfig::standard))
            .http_client(http_client)
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        builder.set_credentials_provider(self.credentials_provider);
        builder.set_timeout_config(self.timeout_config);
        builder.build()
    }
}

/// An S3 configuration builder for Tigris from `sdk`: path-style addressing and checksums only
/// when required. Add your own settings before `build()`.
///
/// ```no_run
/// # let sdk = tigris_core::config::builder().build();
/// let conf = tigris_core::config::s3_config(&sdk).app_name(
///     aws_sdk_s3::config::AppName::new("my-agent").expect("valid app name"),
/// );
/// let s3 = aws_sdk_s3::Client::from_conf(conf.build());
/// # let _ = s3;
/// ```
pub fn s3_config(sdk: &SdkConfig) -> aws_sdk_s3::config::Builder {
    aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(true)
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
}

/// An S3 client for Tigris from `sdk`, configured by [`s3_config`].
///
/// ```no_run
/// # let sdk = tigris_core::config::builder().build();
/// let s3 = tigris_core::config::s3_client(&sdk);
/// # let _ = s3;
/// ```
pub fn s3_client(sdk: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(s3_config(sdk).build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_point_at_tigris() {
        let sdk = builder().build();
        assert_eq!(sdk.endpoint_url(), Some(DEFAULT_ENDPOINT));
        assert_eq!(sdk.region().map(|r| r.as_ref()), Some(DEFAULT_REGION));
        assert_eq!(
            sdk.request_checksum_calculation(),
            Some(RequestChecksumCalculation::WhenRequired)
        );
        assert_eq!(
            sdk.response_checksum_validation(),
            Some(ResponseChecksumValidation::WhenRequired)
        );
        assert!(sdk.http_client().is_some());
        assert!(sdk.credentials_provider().is_none());
    }

    #[test]
    fn s3_config_uses_path_style_and_checksums_when_required() {
        let sdk = builder()
            .endpoint_url("http://127.0.0.1:1")
            .region("eu")
            .credentials(Credentials::new("ak", "sk", None, None, "test"))
            .build();
        assert!(sdk.credentials_provider().is_some());
        let conf = s3_config(&sdk).build();
        assert_eq!(conf.region().map(|r| r.as_ref()), Some("eu"));
        assert_eq!(
            conf.request_checksum_calculation(),
            Some(&RequestChecksumCalculation::WhenRequired)
        );
        assert_eq!(
            conf.response_checksum_validation(),
            Some(&ResponseChecksumValidation::WhenRequired)
        );
    }
}
