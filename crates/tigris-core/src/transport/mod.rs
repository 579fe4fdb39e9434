//! The signed transport for Tigris's non-S3 endpoints on the S3 gateway, on the SDK's own HTTP
//! stack.
//!
//! Tigris serves JSON and XML endpoints next to the S3 API (`PATCH /{bucket}` for bucket
//! settings, `GET /{bucket}?metadata`, ...). They are signed like S3 requests: SigV4, service
//! `s3`, `x-amz-content-sha256` signed, single percent-encoding, no path normalisation,
//! path-style `{endpoint}/{bucket}`. [`SignedTransport`] sends them through the smithy
//! orchestrator with everything taken from the same [`SdkConfig`] as the S3 client: its
//! `HttpClient` (so a custom client, its TLS and its connection pool apply), `RetryConfig`
//! (attempts, backoff), `TimeoutConfig`, async sleep, time source, credentials provider and
//! identity cache. Failures come back as [`TransportError`], the SDK's own `SdkError`, for the
//! crates to classify with [`Classified::from_sdk`](crate::error::Classified::from_sdk).
//!
//! ```no_run
//! # async fn demo(sdk: &aws_types::SdkConfig) -> Result<(), Box<dyn std::error::Error>> {
//! use tigris_core::transport::{SignedTransport, TigrisRequest};
//!
//! let transport = SignedTransport::new(sdk)?;
//! let request = TigrisRequest::new(http::Method::GET)
//!     .bucket("my-bucket".parse()?)
//!     .query_param("metadata", "");
//! let response = transport.send(&request).await?;
//! println!("{}", String::from_utf8_lossy(response.body()));
//! # Ok(()) }
//! ```

mod request;
mod retry;
mod service_error;
mod signing;

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_runtime::auth::sigv4::{SCHEME_ID as SIGV4, SigV4AuthScheme};
use aws_runtime::auth::{SigV4OperationSigningConfig, SigningOptions};
use aws_smithy_async::rt::sleep::SharedAsyncSleep;
use aws_smithy_async::time::SharedTimeSource;
use aws_smithy_runtime::client::identity::IdentityCache;
use aws_smithy_runtime::client::orchestrator::operation::Operation;
use aws_smithy_runtime_api::client::auth::AuthSchemeOptionResolverParams;
use aws_smithy_runtime_api::client::auth::static_resolver::StaticAuthSchemeOptionResolver;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::identity::SharedIdentityCache;
use aws_smithy_runtime_api::client::interceptors::context::{Error, Output};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse, OrchestratorError};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder;
use aws_smithy_runtime_api::client::runtime_plugin::StaticRuntimePlugin;
use aws_smithy_runtime_api::client::ser_de::DeserializeResponse;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use aws_smithy_types::config_bag::{FrozenLayer, Layer};
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use aws_types::SdkConfig;
use aws_types::SigningName;
use aws_types::region::SigningRegion;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode};

use crate::{DEFAULT_ENDPOINT, DEFAULT_REGION};

pub use request::{StreamingResponse, TigrisRequest, TigrisResponse};
pub use service_error::ServiceError;

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// How a request through the [`SignedTransport`] failed: the SDK's own `SdkError`, with the
/// error answer parsed as a [`ServiceError`].
pub type TransportError = SdkError<ServiceError, HttpResponse>;

/// A SigV4-signed transport for Tigris's non-S3 endpoints, on the `SdkConfig`'s HTTP client,
/// retry and timeout settings.
///
/// Cheap to clone: clones share the HTTP client (and so its connection pool). Every attempt is
/// signed afresh (new `x-amz-date`, current credentials), so retries never replay a stale
/// signature.
#[derive(Clone)]
pub struct SignedTransport {
    inner: Arc<Inner>,
    operations: Arc<Operations>,
}

/// The orchestrated operations, built once per transport (not per request): buffered and
/// streaming, each for requests that are idempotent (index 1) and that are not (index 0).
struct Operations {
    buffered: [Operation<TigrisRequest, TigrisResponse, ServiceError>; 2],
    streaming: [Operation<TigrisRequest, StreamingResponse, ServiceError>; 2],
}

impl Operations {
    fn new(inner: &Inner) -> Self {
        let buffered = |idempotent| {
            operation_builder(inner, idempotent, "TigrisRequest")
                .deserializer_impl::<TigrisResponse, ServiceError>(Buffered)
                .build()
        };
        let streaming = |idempotent| {
            operation_builder(inner, idempotent, "TigrisStreamingRequest")
                .deserializer_impl::<StreamingResponse, ServiceError>(Streaming)
                .build()
        };
        Self {
            buffered: [buffered(false), buffered(true)],
            streaming: [streaming(false), streaming(true)],
        }
    }
}

struct Inner {
    endpoint: String,
    region: String,
    credentials: SharedCredentialsProvider,
    identity_cache: SharedIdentityCache,
    http_client: SharedHttpClient,
    retry: RetryConfig,
    timeouts: Option<TimeoutConfig>,
    sleep: Option<SharedAsyncSleep>,
    time_source: Option<SharedTimeSource>,
    signing: FrozenLayer,
}

impl fmt::Debug for SignedTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedTransport")
            .field("endpoint", &self.inner.endpoint)
            .field("region", &self.inner.region)
            .field("retry", &self.inner.retry)
            .field("timeouts", &self.inner.timeouts)
            .finish_non_exhaustive()
    }
}

impl SignedTransport {
    /// A transport from the same `SdkConfig` as the S3 client: its credentials provider,
    /// region (or `auto`), endpoint URL (or [`DEFAULT_ENDPOINT`]), HTTP client, retry and
    /// timeout settings.
    ///
    /// # Errors
    /// [`ConfigError`] when the config has no credentials provider, or the endpoint is not an
    /// http(s) URL with a host.
    pub fn new(sdk: &SdkConfig) -> Result<Self, ConfigError> {
        Self::builder(sdk).build()
    }

    /// Options before building: endpoint, region, retries, timeouts.
    pub fn builder(sdk: &SdkConfig) -> SignedTransportBuilder {
        SignedTransportBuilder {
            credentials: sdk.credentials_provider(),
            identity_cache: sdk.identity_cache(),
            http_client: sdk.http_client(),
            endpoint: sdk.endpoint_url().map(str::to_owned),
            region: sdk.region().map(|r| r.as_ref().to_owned()),
            retry: sdk.retry_config().cloned(),
            timeouts: sdk.timeout_config().cloned(),
            sleep: sdk.sleep_impl(),
            time_source: sdk.time_source(),
        }
    }

    /// The endpoint requests go to, without a trailing slash.
    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    /// The region requests are signed for.
    pub fn region(&self) -> &str {
        &self.inner.region
    }

    /// Signs, sends and retries `request`; returns the first 2xx answer with its body read.
    ///
    /// Retries follow the `SdkConfig`'s `RetryConfig` (attempts and backoff, with jitter):
    /// throttling always, honouring `Retry-After`; 5xx answers, timeouts and broken
    /// connections for idempotent requests only ([`TigrisRequest::idempotent`]); refused
    /// connections always.
    ///
    /// # Errors
    /// The SDK's `SdkError`: `ServiceError` for an error answer (the last, when retries ran
    /// out), `TimeoutError` / `DispatchFailure` when no answer came, `ConstructionFailure`
    /// when the request could not be built or signed.
    #[tracing::instrument(skip_all, fields(method = %request.method, bucket = request.bucket_str()))]
    pub async fn send(&self, request: &TigrisRequest) -> Result<TigrisResponse, TransportError> {
        self.operations.buffered[usize::from(request.idempotent)]
            .invoke(request.clone())
            .await
    }

    /// As [`send`](Self::send), but the body of the 2xx answer is handed over as a stream
    /// instead of read into memory. Error answers are read (they are small).
    ///
    /// # Errors
    /// As [`send`](Self::send).
    #[tracing::instrument(skip_all, fields(method = %request.method, bucket = request.bucket_str()))]
    pub async fn send_streaming(
        &self,
        request: &TigrisRequest,
    ) -> Result<StreamingResponse, TransportError> {
        self.operations.streaming[usize::from(request.idempotent)]
            .invoke(request.clone())
            .await
    }

    /// The access key id of the credentials the transport signs with (an identifier, not a
    /// secret), for requests that name the signer's own key, such as Tigris's presign endpoint.
    ///
    /// # Errors
    /// [`ConfigError`] when credentials could not be loaded.
    ///
    /// ```no_run
    /// # async fn demo(sdk: aws_types::SdkConfig) -> Result<(), Box<dyn std::error::Error>> {
    /// let transport = tigris_core::transport::SignedTransport::new(&sdk)?;
    /// println!("signing as {}", transport.access_key_id().await?);
    /// # Ok(()) }
    /// ```
    pub async fn access_key_id(&self) -> Result<String, ConfigError> {
        let credentials = self
            .inner
            .credentials
            .provide_credentials()
            .await
            .map_err(|e| ConfigError::new("could not load credentials").with_source(e))?;
        Ok(credentials.access_key_id().to_owned())
    }

    /// Signs `request` as [`send`](Self::send) does, without sending it: adds `x-amz-date`,
    /// `x-amz-content-sha256` (of the body), `authorization` and, with temporary credentials,
    /// `x-amz-security-token`, the last two marked sensitive. The URI must be absolute.
    ///
    /// # Errors
    /// [`ConfigError`] when credentials could not be loaded, the URI is not absolute or a
    /// header value is not visible ASCII.
    pub async fn sign(&self, request: &mut http::Request<Bytes>) -> Result<(), ConfigError> {
        let credentials = self
            .inner
            .credentials
            .provide_credentials()
            .await
            .map_err(|e| {
                ConfigError::new("could not load credentials to sign the request").with_source(e)
            })?;
        let now = self
            .inner
            .time_source
            .as_ref()
            .map_or_else(SystemTime::now, |ts| ts.now());
        signing::sign_request(request, &credentials, &self.inner.region, now)
    }
}

fn operation_builder(
    inner: &Inner,
    idempotent: bool,
    name: &'static str,
) -> aws_smithy_runtime::client::orchestrator::operation::OperationBuilder<TigrisRequest> {
    let mut components = RuntimeComponentsBuilder::new("tigris-core transport")
        .with_auth_scheme_option_resolver(Some(StaticAuthSchemeOptionResolver::new(vec![SIGV4])))
        .with_auth_scheme(SigV4AuthScheme::new())
        .with_identity_cache(Some(inner.identity_cache.clone()));
    components.set_identity_resolver(SIGV4, inner.credentials.clone());
    let mut builder = Operation::builder()
        .service_name("s3")
        .operation_name(name)
        .http_client(inner.http_client.clone())
        .endpoint_url(&inner.endpoint)
        .standard_retry(&inner.retry)
        .retry_classifier(retry::TigrisRetryClassifier {
            idempotent,
            max_backoff: inner.retry.max_backoff(),
        })
        .interceptor(BodyOutOfLogs)
        .runtime_plugin(
            StaticRuntimePlugin::new()
                .with_config(inner.signing.clone())
                .with_runtime_components(components),
        );
    if let Some(timeouts) = &inner.timeouts {
        builder = builder.timeout_config(timeouts.clone());
    }
    if let Some(sleep) = &inner.sleep {
        builder = builder.sleep_impl(sleep.clone());
    }
    if let Some(time_source) = &inner.time_source {
        builder = builder.time_source(time_source.clone());
    }
    builder.serializer(serialize)
}

/// Keeps request bodies out of the orchestrator's TRACE log. The orchestrator logs each
/// request it transmits with `Debug`, which prints an in-memory body byte for byte, and a body
/// here can hold a secret (a notification setting's webhook token). After signing (which hashes
/// the in-memory bytes), the attempt sends the same bytes as a stream, which `Debug` shows as
/// `BoxBody`; each retry starts again from the in-memory body.
#[derive(Debug)]
struct BodyOutOfLogs;

impl aws_smithy_runtime_api::client::interceptors::Intercept for BodyOutOfLogs {
    fn name(&self) -> &'static str {
        "BodyOutOfLogs"
    }

    fn modify_before_transmit(
        &self,
        context: &mut aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut<'_>,
        _components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        _cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        if let Some(bytes) = request.body().bytes() {
            let bytes = Bytes::copy_from_slice(bytes);
            *request.body_mut() = SdkBody::from_body_1_x(http_body_util::Full::new(bytes));
        }
        Ok(())
    }
}

/// The relative request; the endpoint resolver adds scheme, host and any base path.
fn serialize(request: TigrisRequest) -> Result<HttpRequest, BoxError> {
    let mut http_request = http::Request::new(SdkBody::from(request.body.clone()));
    *http_request.method_mut() = request.method.clone();
    *http_request.uri_mut() = request.path_and_query().parse()?;
    *http_request.headers_mut() = request.headers;
    // A PUT or POST without a body says so, as the released clients do; without it some
    // servers wait for a body or refuse the request (411).
    if request.body.is_empty() && matches!(request.method, Method::PUT | Method::POST) {
        http_request
            .headers_mut()
            .insert(http::header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    }
    Ok(HttpRequest::try_from(http_request)?)
}

fn headers_of(response: &HttpResponse) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in response.headers() {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        ) {
            headers.append(name, value);
        }
    }
    headers
}

fn status_of(response: &HttpResponse) -> StatusCode {
    StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn service_error(response: &HttpResponse) -> OrchestratorError<Error> {
    let body = response.body().bytes().unwrap_or_default();
    let error = ServiceError::parse(response.status().as_u16(), &headers_of(response), body);
    OrchestratorError::operation(Error::erase(error))
}

/// A 2xx answer whose body was read; an error answer as the service error.
fn read_success(response: &HttpResponse) -> Result<TigrisResponse, OrchestratorError<Error>> {
    if !response.status().is_success() {
        return Err(service_error(response));
    }
    Ok(TigrisResponse {
        status: status_of(response),
        headers: headers_of(response),
        body: Bytes::copy_from_slice(response.body().bytes().unwrap_or_default()),
    })
}

#[derive(Debug)]
struct Buffered;

impl DeserializeResponse for Buffered {
    fn deserialize_nonstreaming(
        &self,
        response: &HttpResponse,
    ) -> Result<Output, OrchestratorError<Error>> {
        read_success(response).map(Output::erase)
    }
}

#[derive(Debug)]
struct Streaming;

impl DeserializeResponse for Streaming {
    fn deserialize_streaming(
        &self,
        response: &mut HttpResponse,
    ) -> Option<Result<Output, OrchestratorError<Error>>> {
        if !response.status().is_success() {
            // Read the (small) error body, then `deserialize_nonstreaming` builds the error.
            return None;
        }
        let body = std::mem::replace(response.body_mut(), SdkBody::taken());
        Some(Ok(Output::erase(StreamingResponse {
            status: status_of(response),
            headers: headers_of(response),
            body: ByteStream::new(body),
        })))
    }

    fn deserialize_nonstreaming(
        &self,
        response: &HttpResponse,
    ) -> Result<Output, OrchestratorError<Error>> {
        read_success(response).map(|read| {
            Output::erase(StreamingResponse {
                status: read.status,
                headers: read.headers,
                body: ByteStream::from(read.body),
            })
        })
    }
}

/// Builds a [`SignedTransport`]; start from [`SignedTransport::builder`]. Every setting starts
/// from the `SdkConfig`; the setters here override it for this transport only.
#[derive(Clone)]
#[must_use = "call build() to get the transport"]
pub struct SignedTransportBuilder {
    credentials: Option<SharedCredentialsProvider>,
    identity_cache: Option<SharedIdentityCache>,
    http_client: Option<SharedHttpClient>,
    endpoint: Option<String>,
    region: Option<String>,
    retry: Option<RetryConfig>,
    timeouts: Option<TimeoutConfig>,
    sleep: Option<SharedAsyncSleep>,
    time_source: Option<SharedTimeSource>,
}

impl fmt::Debug for SignedTransportBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedTransportBuilder")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("retry", &self.retry)
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

impl SignedTransportBuilder {
    /// Overrides the endpoint, e.g. `http://127.0.0.1:9000` for a local emulator.
    pub fn endpoint_url(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Overrides the signing region.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Overrides the retry settings (by default the `SdkConfig`'s, or
    /// [`RetryConfig::standard`]).
    pub fn retry_config(mut self, retry: RetryConfig) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Overrides the timeouts (by default the `SdkConfig`'s).
    pub fn timeout_config(mut self, timeouts: TimeoutConfig) -> Self {
        self.timeouts = Some(timeouts);
        self
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`ConfigError`] without a credentials provider, for an endpoint that is not an
    /// http(s) URL with a host, or an empty region.
    pub fn build(self) -> Result<SignedTransport, ConfigError> {
        let credentials = self.credentials.ok_or_else(|| {
            ConfigError::new("the SdkConfig has no credentials provider to sign requests with")
        })?;
        let endpoint = normalize_endpoint(self.endpoint.as_deref().unwrap_or(DEFAULT_ENDPOINT))?;
        let region = self.region.unwrap_or_else(|| DEFAULT_REGION.to_owned());
        if region.trim().is_empty() {
            return Err(ConfigError::new("the signing region must not be empty"));
        }
        let mut signing = Layer::new("tigris-core signing");
        signing.store_put(AuthSchemeOptionResolverParams::new(()));
        let mut options = SigningOptions::default();
        options.double_uri_encode = false;
        options.content_sha256_header = true;
        options.normalize_uri_path = false;
        signing.store_put(SigV4OperationSigningConfig {
            region: Some(SigningRegion::from(aws_types::region::Region::new(
                region.clone(),
            ))),
            name: Some(SigningName::from_static("s3")),
            signing_options: options,
            ..Default::default()
        });
        let inner = Arc::new(Inner {
            endpoint,
            region,
            credentials,
            identity_cache: self
                .identity_cache
                .unwrap_or_else(|| IdentityCache::lazy().build()),
            http_client: self.http_client.unwrap_or_else(crate::default_http_client),
            retry: self.retry.unwrap_or_else(RetryConfig::standard),
            timeouts: self.timeouts,
            sleep: self.sleep,
            time_source: self.time_source,
            signing: signing.freeze(),
        });
        let operations = Arc::new(Operations::new(&inner));
        Ok(SignedTransport { inner, operations })
    }
}

fn normalize_endpoint(endpoint: &str) -> Result<String, ConfigError> {
    let invalid =
        || ConfigError::new("the endpoint must be an http or https URL with a host, and no query");
    let uri: http::Uri = endpoint.parse().map_err(|e| invalid().with_source(e))?;
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    if !scheme_ok || uri.host().is_none_or(str::is_empty) || uri.query().is_some() {
        return Err(invalid());
    }
    Ok(endpoint.trim_end_matches('/').to_owned())
}

/// The transport cannot be set up as configured, or a request cannot be signed; its kind is
/// [`ErrorKind::Configuration`](crate::ErrorKind::Configuration).
#[derive(Debug)]
pub struct ConfigError {
    reason: &'static str,
    source: Option<BoxError>,
}

impl ConfigError {
    fn new(reason: &'static str) -> Self {
        Self {
            reason,
            source: None,
        }
    }

    fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Always [`ErrorKind::Configuration`](crate::ErrorKind::Configuration).
    pub fn kind(&self) -> crate::ErrorKind {
        crate::ErrorKind::Configuration
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason)
    }
}

impl StdError for ConfigError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_ref()
            .map(|e| e.as_ref() as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_must_be_http_urls_with_a_host() {
        assert_eq!(
            normalize_endpoint("https://t3.storage.dev/").unwrap(),
            "https://t3.storage.dev"
        );
        assert_eq!(
            normalize_endpoint("http://127.0.0.1:9000").unwrap(),
            "http://127.0.0.1:9000"
        );
        for bad in [
            "",
            "t3.storage.dev",
            "ftp://t3.storage.dev",
            "https://t3.storage.dev/?x=1",
            "not a url",
        ] {
            assert!(normalize_endpoint(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_config_without_credentials_is_refused() {
        let err = SignedTransport::new(&SdkConfig::builder().build()).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Configuration);
        assert!(err.to_string().contains("credentials"), "{err}");
    }
}
