//! A small SigV4-signed HTTP transport for Tigris's non-S3 endpoints on the S3 gateway.
//!
//! Tigris serves a few JSON endpoints next to the S3 API (`PATCH /{bucket}` for bucket settings,
//! `GET /{bucket}?metadata`, ...). They are signed like S3 requests: SigV4, service `s3`,
//! `x-amz-content-sha256` signed, single percent-encoding, no path normalisation, path-style
//! `{endpoint}/{bucket}`. [`SignedTransport`] does exactly that, from the same
//! [`SdkConfig`] as the S3 client, with one pooled HTTP client, timeouts and retries.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use aws_types::SdkConfig;
use aws_types::sdk_config::SharedTimeSource;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue};
use http::{HeaderMap, Method};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tigris_core::BucketName;

use crate::error::{Error, ErrorKind, Result};
use crate::service_error;

/// The Tigris S3 gateway, used when the `SdkConfig` names no endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://t3.storage.dev";
/// The region Tigris signs with, used when the `SdkConfig` names none.
pub const DEFAULT_REGION: &str = "auto";

/// The largest response body read into memory; Tigris's JSON answers are far smaller.
const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;
const X_AMZ_SECURITY_TOKEN: HeaderName = HeaderName::from_static("x-amz-security-token");

type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A SigV4-signed HTTP transport for Tigris's non-S3 endpoints.
///
/// Cheap to clone: clones share one connection pool. Every attempt is signed afresh (new
/// `x-amz-date`, current credentials), so retries never replay a stale signature.
///
/// ```no_run
/// # async fn _demo(sdk: &aws_types::SdkConfig) -> Result<(), Box<dyn std::error::Error>> {
/// use tigris_notify::{SignedTransport, TigrisRequest};
/// let transport = SignedTransport::new(sdk)?;
/// let request = TigrisRequest::new(http::Method::GET).bucket("my-bucket".parse()?).query_param("metadata", "");
/// let response = transport.send(&request).await?;
/// println!("{}", String::from_utf8_lossy(response.body()));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SignedTransport {
    inner: Arc<Inner>,
}

struct Inner {
    client: HttpClient,
    credentials: SharedCredentialsProvider,
    time_source: Option<SharedTimeSource>,
    endpoint: String,
    region: String,
    request_timeout: Duration,
    retry: RetryPolicy,
}

impl fmt::Debug for SignedTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedTransport")
            .field("endpoint", &self.inner.endpoint)
            .field("region", &self.inner.region)
            .finish_non_exhaustive()
    }
}

impl SignedTransport {
    /// A transport with the default timeouts and retry policy, from the same `SdkConfig` as the
    /// S3 client: its credentials provider, region (or `auto`), endpoint URL (or
    /// [`DEFAULT_ENDPOINT`]) and time source.
    ///
    /// # Errors
    /// [`ErrorKind::Credentials`] when the config has no credentials provider;
    /// [`ErrorKind::InvalidInput`] when the endpoint is not an http(s) URL;
    /// [`ErrorKind::Transport`] when an https endpoint is configured and no root certificates
    /// could be loaded.
    pub fn new(sdk: &SdkConfig) -> Result<Self> {
        Self::builder(sdk).build()
    }

    /// Options before building: endpoint, region, timeouts, retries.
    pub fn builder(sdk: &SdkConfig) -> SignedTransportBuilder {
        SignedTransportBuilder {
            credentials: sdk.credentials_provider(),
            time_source: sdk.time_source(),
            endpoint: sdk.endpoint_url().map(str::to_owned),
            region: sdk.region().map(|r| r.as_ref().to_owned()),
            connect_timeout: SignedTransportBuilder::DEFAULT_CONNECT_TIMEOUT,
            request_timeout: SignedTransportBuilder::DEFAULT_REQUEST_TIMEOUT,
            retry: RetryPolicy::default(),
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

    /// Signs, sends, and retries `request`; returns the response of the first 2xx answer.
    ///
    /// Throttling (429), 5xx answers, connection failures and timeouts are retried as the
    /// [`RetryPolicy`] allows, honouring `Retry-After`. Use it for requests that are safe to
    /// repeat (settings updates and reads are).
    ///
    /// # Errors
    /// [`ErrorKind::Service`] for an error answer (the last one, when retries ran out);
    /// [`ErrorKind::Timeout`] / [`ErrorKind::Transport`] when no answer came;
    /// [`ErrorKind::Credentials`] when credentials could not be loaded;
    /// [`ErrorKind::InvalidInput`] when a header value cannot be signed.
    #[tracing::instrument(skip_all, fields(method = %request.method, bucket = request.bucket_str()))]
    pub async fn send(&self, request: &TigrisRequest) -> Result<http::Response<Bytes>> {
        let uri = self.uri_for(request)?;
        let policy = &self.inner.retry;
        let mut attempt = 1;
        loop {
            let failure = match self.attempt(request, &uri).await {
                Ok(response) => return Ok(response),
                Err(failure) => failure,
            };
            if !failure.retry || attempt >= policy.max_attempts {
                return Err(failure.error);
            }
            let Some(delay) = policy.delay(attempt, failure.retry_after, fastrand::f64()) else {
                tracing::debug!(
                    attempt,
                    "Retry-After is longer than the maximum backoff: giving up"
                );
                return Err(failure.error);
            };
            tracing::debug!(attempt, ?delay, error = %failure.error, "retrying");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// Signs `request` as [`send`](Self::send) does, without sending it: adds `x-amz-date`,
    /// `x-amz-content-sha256` (of the body), `authorization` and, with temporary credentials,
    /// `x-amz-security-token`, the last two marked sensitive.
    ///
    /// The URI must be absolute (`http(s)://host/...`). Useful to send through another HTTP stack.
    ///
    /// # Errors
    /// [`ErrorKind::Credentials`] when credentials could not be loaded;
    /// [`ErrorKind::InvalidInput`] when the URI is not absolute or a header value is not ASCII.
    pub async fn sign(&self, request: &mut http::Request<Bytes>) -> Result<()> {
        let credentials = self
            .inner
            .credentials
            .provide_credentials()
            .await
            .map_err(|e| {
                Error::new(
                    ErrorKind::Credentials,
                    "could not load credentials to sign the request",
                )
                .with_source(e)
            })?;
        sign_request(request, &credentials, &self.inner.region, self.now())
    }

    fn now(&self) -> SystemTime {
        self.inner
            .time_source
            .as_ref()
            .map_or_else(SystemTime::now, |ts| ts.now())
    }

    fn uri_for(&self, request: &TigrisRequest) -> Result<http::Uri> {
        let mut uri = format!(
            "{}/{}",
            self.inner.endpoint,
            request.bucket_str().unwrap_or_default()
        );
        for (i, (name, value)) in request.query.iter().enumerate() {
            uri.push(if i == 0 { '?' } else { '&' });
            percent_encode_into(&mut uri, name);
            if !value.is_empty() {
                uri.push('=');
                percent_encode_into(&mut uri, value);
            }
        }
        uri.parse()
            .map_err(|e| Error::invalid_input("the request URI is not valid").with_source(e))
    }

    async fn attempt(
        &self,
        request: &TigrisRequest,
        uri: &http::Uri,
    ) -> Result<http::Response<Bytes>, Failure> {
        let mut http_request = http::Request::new(request.body.clone());
        *http_request.method_mut() = request.method.clone();
        *http_request.uri_mut() = uri.clone();
        *http_request.headers_mut() = request.headers.clone();
        self.sign(&mut http_request).await.map_err(Failure::fatal)?;

        let what = format!("{} {}", request.method, request.path());
        let exchange = async {
            let response = self
                .inner
                .client
                .request(http_request.map(Full::new))
                .await?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_RESPONSE_BYTES)
                .collect()
                .await?
                .to_bytes();
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(http::Response::from_parts(
                parts, body,
            ))
        };
        let response = match tokio::time::timeout(self.inner.request_timeout, exchange).await {
            Err(elapsed) => {
                let message = format!(
                    "{what} at {} timed out after {:?}",
                    self.inner.endpoint, self.inner.request_timeout
                );
                let error = Error::new(ErrorKind::Timeout, message).with_source(elapsed);
                return Err(Failure {
                    error,
                    retry: true,
                    retry_after: None,
                });
            }
            Ok(Err(err)) => return Err(self.transport_failure(&what, err)),
            Ok(Ok(response)) => response,
        };
        if response.status().is_success() {
            return Ok(response);
        }
        let service = service_error::parse(
            response.status().as_u16(),
            response.headers(),
            response.body(),
        );
        let retry = service.is_retryable();
        let retry_after = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, self.now()));
        let message = match service.code() {
            Some(code) => format!(
                "Tigris answered {what} with HTTP {} ({code})",
                service.status()
            ),
            None => format!("Tigris answered {what} with HTTP {}", service.status()),
        };
        Err(Failure {
            error: Error::new(ErrorKind::Service(service), message),
            retry,
            retry_after,
        })
    }

    fn transport_failure(
        &self,
        what: &str,
        err: Box<dyn std::error::Error + Send + Sync>,
    ) -> Failure {
        let connect = err
            .downcast_ref::<hyper_util::client::legacy::Error>()
            .is_some_and(|e| e.is_connect());
        let message = if connect {
            format!(
                "could not connect to Tigris at {} for {what}",
                self.inner.endpoint
            )
        } else {
            format!(
                "{what} at {} failed before an answer arrived",
                self.inner.endpoint
            )
        };
        // Only a failed connect is known not to have reached the server; anything later may have.
        Failure {
            error: Error::new(ErrorKind::Transport, message).with_source(err),
            retry: connect,
            retry_after: None,
        }
    }
}

/// Why one attempt failed, and whether another may be made.
struct Failure {
    error: Error,
    retry: bool,
    retry_after: Option<Duration>,
}

impl Failure {
    fn fatal(error: Error) -> Self {
        Self {
            error,
            retry: false,
            retry_after: None,
        }
    }
}

/// Builds a [`SignedTransport`]; start from [`SignedTransport::builder`].
#[derive(Clone)]
pub struct SignedTransportBuilder {
    credentials: Option<SharedCredentialsProvider>,
    time_source: Option<SharedTimeSource>,
    endpoint: Option<String>,
    region: Option<String>,
    connect_timeout: Duration,
    request_timeout: Duration,
    retry: RetryPolicy,
}

impl fmt::Debug for SignedTransportBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedTransportBuilder")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl SignedTransportBuilder {
    /// How long to wait for a TCP (and TLS) connection, by default.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
    /// How long one attempt may take, from sending to the end of the response body, by default.
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

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

    /// Overrides the connect timeout ([`DEFAULT_CONNECT_TIMEOUT`](Self::DEFAULT_CONNECT_TIMEOUT)).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Overrides the per-attempt timeout ([`DEFAULT_REQUEST_TIMEOUT`](Self::DEFAULT_REQUEST_TIMEOUT)).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Overrides the retry policy ([`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Checks the settings and builds the HTTP client.
    ///
    /// # Errors
    /// [`ErrorKind::Credentials`] without a credentials provider; [`ErrorKind::InvalidInput`]
    /// for an endpoint that is not an http(s) URL with a host, or an empty region;
    /// [`ErrorKind::Transport`] when an https endpoint is configured and no root certificates
    /// could be loaded.
    pub fn build(self) -> Result<SignedTransport> {
        let credentials = self.credentials.ok_or_else(|| {
            Error::new(
                ErrorKind::Credentials,
                "the SdkConfig has no credentials provider to sign requests with",
            )
        })?;
        let endpoint = normalize_endpoint(self.endpoint.as_deref().unwrap_or(DEFAULT_ENDPOINT))?;
        let region = self.region.unwrap_or_else(|| DEFAULT_REGION.to_owned());
        if region.trim().is_empty() {
            return Err(Error::invalid_input("the signing region must not be empty"));
        }
        let client = http_client(endpoint.starts_with("https://"), self.connect_timeout)?;
        Ok(SignedTransport {
            inner: Arc::new(Inner {
                client,
                credentials,
                time_source: self.time_source,
                endpoint,
                region,
                request_timeout: self.request_timeout,
                retry: self.retry,
            }),
        })
    }
}

fn normalize_endpoint(endpoint: &str) -> Result<String> {
    let invalid = || {
        Error::invalid_input("the endpoint must be an http or https URL with a host, and no query")
    };
    let uri: http::Uri = endpoint.parse().map_err(|e| invalid().with_source(e))?;
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    if !scheme_ok || uri.host().is_none_or(str::is_empty) || uri.query().is_some() {
        return Err(invalid());
    }
    Ok(endpoint.trim_end_matches('/').to_owned())
}

fn http_client(https: bool, connect_timeout: Duration) -> Result<HttpClient> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = match hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(Arc::clone(&provider))
    {
        Ok(builder) => builder,
        // A plain-http endpoint (a local emulator) needs no roots; an https one does.
        Err(_) if !https => hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(
            rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| {
                    Error::new(ErrorKind::Transport, "could not configure TLS").with_source(e)
                })?
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth(),
        ),
        Err(e) => {
            return Err(Error::new(
                ErrorKind::Transport,
                "could not load the platform's root certificates",
            )
            .with_source(e));
        }
    };
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(connect_timeout));
    http.set_nodelay(true);
    let connector = tls.https_or_http().enable_http1().wrap_connector(http);
    // The idle timeout needs a timer to take effect.
    Ok(Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .build(connector))
}

/// Signs `request` in place for service `s3` in `region` at `time`.
fn sign_request(
    request: &mut http::Request<Bytes>,
    credentials: &Credentials,
    region: &str,
    time: SystemTime,
) -> Result<()> {
    // A request signed before carries headers that must not feed into the new signature.
    for stale in [
        "authorization",
        "x-amz-date",
        "x-amz-content-sha256",
        "x-amz-security-token",
    ] {
        request.headers_mut().remove(stale);
    }
    if request.uri().authority().is_none() {
        return Err(Error::invalid_input(
            "only a request with an absolute URI can be signed",
        ));
    }
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    let identity: Identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("s3")
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| {
            Error::invalid_input("could not assemble the signing parameters").with_source(e)
        })?
        .into();
    let signing_error = |e| Error::invalid_input("the request could not be signed").with_source(e);
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| Ok((name.as_str(), value.to_str()?)))
        .collect::<Result<Vec<_>, http::header::ToStrError>>()
        .map_err(|e| {
            Error::invalid_input("a request header value is not visible ASCII").with_source(e)
        })?;
    let signable = SignableRequest::new(
        request.method().as_str(),
        request.uri().to_string(),
        headers.into_iter(),
        SignableBody::Bytes(request.body()),
    )
    .map_err(signing_error)?;
    let (instructions, _signature) = sign(signable, &params).map_err(signing_error)?.into_parts();
    instructions.apply_to_request_http1x(request);
    mark_sensitive(request.headers_mut());
    Ok(())
}

/// Keeps credentials out of `Debug` output and logs of the headers (and out of HPACK tables).
fn mark_sensitive(headers: &mut HeaderMap) {
    for name in [AUTHORIZATION, X_AMZ_SECURITY_TOKEN] {
        if let http::header::Entry::Occupied(mut entry) = headers.entry(name) {
            for value in entry.iter_mut() {
                value.set_sensitive(true);
            }
        }
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters, as SigV4 canonicalises.
fn percent_encode_into(out: &mut String, s: &str) {
    for byte in s.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
}

/// Parses `Retry-After` as delta-seconds or an HTTP-date (IMF-fixdate), relative to `now`.
fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = SystemTime::from(
        time::PrimitiveDateTime::parse(value, &format)
            .ok()?
            .assume_utc(),
    );
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// How many times a request is tried, and how long to wait in between.
///
/// The wait before retry `n` (1-based) is a random duration up to
/// `min(max_backoff, initial_backoff * 2^(n-1))` ("full jitter"). A `Retry-After` answer is
/// honoured: the wait is at least that long, and when it asks for more than `max_backoff` the
/// transport gives up instead of waiting.
///
/// ```
/// use std::time::Duration;
/// let policy = tigris_notify::RetryPolicy::default()
///     .with_max_attempts(5)
///     .with_initial_backoff(Duration::from_millis(50))
///     .with_max_backoff(Duration::from_secs(5));
/// assert_eq!(policy.max_attempts(), 5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// Three attempts, backoff from 100 ms up to 20 s.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retries.
    pub fn disabled() -> Self {
        Self::default().with_max_attempts(1)
    }

    /// Sets the total number of attempts, the first included (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the backoff before the first retry.
    pub fn with_initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// Sets the longest wait between attempts, `Retry-After` included.
    pub fn with_max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// The total number of attempts, the first included.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The backoff before the first retry.
    pub fn initial_backoff(&self) -> Duration {
        self.initial_backoff
    }

    /// The longest wait between attempts.
    pub fn max_backoff(&self) -> Duration {
        self.max_backoff
    }

    /// The wait after failed attempt `attempt` (1-based), with `jitter` in `[0, 1)`; `None` when
    /// the server asks for a longer wait than `max_backoff`.
    fn delay(&self, attempt: u32, retry_after: Option<Duration>, jitter: f64) -> Option<Duration> {
        let exponent = attempt.saturating_sub(1).min(31);
        let ceiling = self
            .initial_backoff
            .saturating_mul(1 << exponent)
            .min(self.max_backoff);
        let jittered = ceiling.mul_f64(jitter.clamp(0.0, 1.0));
        match retry_after {
            Some(asked) if asked > self.max_backoff => None,
            Some(asked) => Some(asked.max(jittered)),
            None => Some(jittered),
        }
    }
}

/// A request to one of Tigris's non-S3 endpoints: method, optional bucket (path-style), query,
/// extra headers and body. Send it with [`SignedTransport::send`].
///
/// ```
/// use tigris_notify::TigrisRequest;
/// let request = TigrisRequest::new(http::Method::PATCH)
///     .bucket("my-bucket".parse()?)
///     .json(r#"{"object_notifications":{}}"#);
/// assert_eq!(request.path(), "/my-bucket");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct TigrisRequest {
    method: Method,
    bucket: Option<BucketName>,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
}

impl TigrisRequest {
    /// A request for `/` with no body.
    pub fn new(method: Method) -> Self {
        Self {
            method,
            bucket: None,
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }

    /// Targets `/{bucket}`.
    pub fn bucket(mut self, bucket: BucketName) -> Self {
        self.bucket = Some(bucket);
        self
    }

    /// Appends a query parameter; both parts are percent-encoded. An empty value gives a bare
    /// `?name`, as in `?metadata`.
    pub fn query_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// Adds a header, signed with the rest.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }

    /// Sets a JSON body and `Content-Type: application/json`.
    pub fn json(mut self, body: impl Into<Bytes>) -> Self {
        self.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        self.body = body.into();
        self
    }

    /// Sets the body as is.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// The path, `/` or `/{bucket}`.
    pub fn path(&self) -> String {
        format!("/{}", self.bucket_str().unwrap_or_default())
    }

    fn bucket_str(&self) -> Option<&str> {
        self.bucket.as_ref().map(BucketName::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials(token: Option<&str>) -> Credentials {
        Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            token.map(str::to_owned),
            None,
            "test",
        )
    }

    fn patch(body: &'static str) -> http::Request<Bytes> {
        let mut request = http::Request::new(Bytes::from_static(body.as_bytes()));
        *request.method_mut() = Method::PATCH;
        *request.uri_mut() = "http://127.0.0.1:9000/my-bucket".parse().unwrap();
        request
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        request
    }

    #[test]
    fn signing_adds_and_signs_the_payload_hash() {
        let mut request = patch("{}");
        sign_request(
            &mut request,
            &credentials(None),
            "auto",
            SystemTime::UNIX_EPOCH,
        )
        .unwrap();
        let headers = request.headers();
        // SHA-256 of "{}".
        assert_eq!(
            headers["x-amz-content-sha256"],
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert_eq!(headers["x-amz-date"], "19700101T000000Z");
        let auth = headers[AUTHORIZATION].to_str().unwrap();
        assert!(
            auth.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/19700101/auto/s3/aws4_request, "
            ),
            "{auth}"
        );
        assert!(
            auth.contains("SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date,"),
            "{auth}"
        );
        assert!(!headers.contains_key("x-amz-security-token"));
    }

    #[test]
    fn credential_headers_are_sensitive_and_hidden_from_debug() {
        let mut request = patch("{}");
        sign_request(
            &mut request,
            &credentials(Some("session-token-value")),
            "auto",
            SystemTime::now(),
        )
        .unwrap();
        let headers = request.headers();
        assert!(headers[AUTHORIZATION].is_sensitive());
        assert!(headers["x-amz-security-token"].is_sensitive());
        let shown = format!("{headers:?}");
        assert!(!shown.contains("session-token-value"), "{shown}");
        assert!(!shown.contains("Signature="), "{shown}");
    }

    #[test]
    fn re_signing_replaces_the_previous_signature() {
        let mut request = patch("{}");
        sign_request(
            &mut request,
            &credentials(None),
            "auto",
            SystemTime::UNIX_EPOCH,
        )
        .unwrap();
        let first = request.headers()[AUTHORIZATION].clone();
        sign_request(
            &mut request,
            &credentials(None),
            "auto",
            SystemTime::UNIX_EPOCH + Duration::from_secs(60),
        )
        .unwrap();
        assert_eq!(request.headers().get_all(AUTHORIZATION).iter().count(), 1);
        assert_ne!(request.headers()[AUTHORIZATION], first);
        assert_eq!(request.headers()["x-amz-date"], "19700101T000100Z");
    }

    #[test]
    fn backoff_grows_exponentially_up_to_the_cap() {
        let policy = RetryPolicy::default()
            .with_initial_backoff(Duration::from_millis(100))
            .with_max_backoff(Duration::from_secs(1));
        let full = |attempt| policy.delay(attempt, None, 1.0).unwrap();
        assert_eq!(full(1), Duration::from_millis(100));
        assert_eq!(full(2), Duration::from_millis(200));
        assert_eq!(full(3), Duration::from_millis(400));
        assert_eq!(full(5), Duration::from_secs(1));
        assert_eq!(full(u32::MAX), Duration::from_secs(1));
    }

    #[test]
    fn backoff_is_jittered_below_the_ceiling() {
        let policy = RetryPolicy::default().with_initial_backoff(Duration::from_millis(100));
        assert_eq!(policy.delay(1, None, 0.0), Some(Duration::ZERO));
        assert_eq!(policy.delay(2, None, 0.5), Some(Duration::from_millis(100)));
        for _ in 0..100 {
            assert!(policy.delay(3, None, fastrand::f64()).unwrap() <= Duration::from_millis(400));
        }
    }

    #[test]
    fn retry_after_sets_a_floor_and_too_long_gives_up() {
        let policy = RetryPolicy::default().with_max_backoff(Duration::from_secs(10));
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(2)), 0.5),
            Some(Duration::from_secs(2))
        );
        assert_eq!(policy.delay(1, Some(Duration::from_secs(11)), 0.5), None);
    }

    #[test]
    fn retry_after_parses_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse_retry_after(" 3 ", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:27 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn max_attempts_is_at_least_one() {
        assert_eq!(
            RetryPolicy::default().with_max_attempts(0).max_attempts(),
            1
        );
        assert_eq!(RetryPolicy::disabled().max_attempts(), 1);
    }

    #[test]
    fn query_parameters_are_percent_encoded() {
        let mut out = String::new();
        percent_encode_into(&mut out, "a b/ü~");
        assert_eq!(out, "a%20b%2F%C3%BC~");
    }

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
            let err = normalize_endpoint(bad).unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::InvalidInput, "{bad}");
        }
    }
}
