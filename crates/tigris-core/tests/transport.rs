//! The signed transport against a scripted local HTTP server: signing, encoding, and the SDK's
//! retry and timeout settings applied to every attempt.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use aws_types::sdk_config::TimeSource;
use common::{TestServer, delayed, response, sdk_config, sdk_config_with};
use http::Method;
use sha2::Digest;
use tigris_core::error::Classified;
use tigris_core::transport::{SignedTransport, TigrisRequest, TransportError};
use tigris_core::{DEFAULT_ENDPOINT, ErrorKind};

fn fast_retries(attempts: u32) -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(attempts)
        .with_initial_backoff(Duration::from_millis(5))
        .with_max_backoff(Duration::from_secs(5))
}

fn transport(endpoint: &str, retry: RetryConfig) -> SignedTransport {
    SignedTransport::new(&sdk_config_with(endpoint, "AKIDTEST", "secret", retry)).unwrap()
}

fn patch_bucket() -> TigrisRequest {
    TigrisRequest::new(Method::PATCH)
        .bucket("my-bucket".parse().unwrap())
        .json(r#"{"object_notifications":{}}"#)
}

fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn kind(err: &TransportError) -> ErrorKind {
    Classified::from_sdk(err).kind()
}

#[tokio::test]
async fn requests_are_path_style_and_signed_for_s3_with_the_payload_hash() {
    let server = TestServer::start(|_, _| response(200, "")).await;
    transport(&server.endpoint(), fast_retries(1))
        .send(&patch_bucket())
        .await
        .unwrap();

    let [request] = &server.requests()[..] else {
        panic!("one request expected")
    };
    assert_eq!(request.method, Method::PATCH);
    assert_eq!(request.uri.path(), "/my-bucket");
    assert_eq!(&request.body[..], br#"{"object_notifications":{}}"#);
    assert_eq!(request.headers["content-type"], "application/json");
    assert_eq!(
        request.headers["x-amz-content-sha256"],
        sha256_hex(&request.body).as_str()
    );
    let auth = request.headers["authorization"].to_str().unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDTEST/"),
        "{auth}"
    );
    assert!(auth.contains("/auto/s3/aws4_request, "), "{auth}");
    let signed = auth
        .split("SignedHeaders=")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .unwrap();
    for header in ["content-type", "host", "x-amz-content-sha256", "x-amz-date"] {
        assert!(
            signed.split(';').any(|h| h == header),
            "{header} in {signed}"
        );
    }
}

#[tokio::test]
async fn a_put_or_post_without_a_body_says_content_length_zero_and_a_get_does_not() {
    let server = TestServer::start(|_, _| response(200, "")).await;
    let transport = transport(&server.endpoint(), fast_retries(1));
    for method in [Method::PUT, Method::POST, Method::GET] {
        let request = TigrisRequest::new(method).bucket("my-bucket".parse().unwrap());
        transport.send(&request).await.unwrap();
    }
    let requests = server.requests();
    let lengths: Vec<_> = requests
        .iter()
        .map(|r| {
            (
                r.method.clone(),
                r.headers
                    .get("content-length")
                    .map(|v| v.to_str().unwrap().to_owned()),
                r.headers.contains_key("transfer-encoding"),
            )
        })
        .collect();
    assert_eq!(
        lengths,
        [
            (Method::PUT, Some("0".to_owned()), false),
            (Method::POST, Some("0".to_owned()), false),
            (Method::GET, None, false),
        ]
    );
}

#[tokio::test]
async fn query_parameters_are_encoded_and_bare_names_stay_bare() {
    let server = TestServer::start(|_, _| response(200, r#"{"name":"b"}"#)).await;
    let request = TigrisRequest::new(Method::GET)
        .bucket("my-bucket".parse().unwrap())
        .query_param("metadata", "")
        .query_param("with-size", "true")
        .query_param("q", "a b/c");
    let answer = transport(&server.endpoint(), fast_retries(1))
        .send(&request)
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(&answer.body()[..], br#"{"name":"b"}"#);
    assert_eq!(
        server.requests()[0].uri.to_string(),
        "/my-bucket?metadata&with-size=true&q=a%20b%2Fc"
    );
}

#[tokio::test]
async fn a_streamed_body_is_handed_over_unread() {
    let body = "x".repeat(256 * 1024);
    let server = TestServer::start(move |_, _| response(200, &body)).await;
    let answer = transport(&server.endpoint(), fast_retries(1))
        .send_streaming(&TigrisRequest::new(Method::GET).bucket("my-bucket".parse().unwrap()))
        .await
        .unwrap();
    let mut stream = answer.into_body();
    let mut total = 0;
    let mut chunks = 0;
    while let Some(chunk) = stream.next().await {
        total += chunk.unwrap().len();
        chunks += 1;
    }
    assert_eq!(total, 256 * 1024);
    assert!(chunks >= 1);
}

#[tokio::test]
async fn service_unavailable_twice_then_ok_is_retried_and_resigned() {
    let server = TestServer::start(|i, _| {
        if i < 2 {
            response(503, "")
        } else {
            response(200, "")
        }
    })
    .await;
    transport(&server.endpoint(), fast_retries(3))
        .send(&patch_bucket())
        .await
        .unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert!(
        requests.iter().all(
            |r| r.headers.contains_key("authorization") && r.headers.contains_key("x-amz-date")
        )
    );
}

#[tokio::test]
async fn the_sdk_retry_config_bounds_the_attempts_and_keeps_the_last_error() {
    let body = "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>r-9</RequestId></Error>";
    let server = TestServer::start(move |_, _| response(503, body)).await;
    let err = transport(&server.endpoint(), fast_retries(4))
        .send(&patch_bucket())
        .await
        .unwrap_err();
    assert_eq!(server.requests().len(), 4);
    let service = err.as_service_error().expect("a service error");
    assert_eq!(
        (service.status(), service.code(), service.request_id()),
        (503, Some("SlowDown"), Some("r-9"))
    );
    assert_eq!(service.message(), Some("Please reduce your request rate."));
    let classified = Classified::from_sdk(&err);
    assert_eq!(classified.kind(), ErrorKind::Transient);
    assert!(!classified.may_have_applied(), "throttled: refused");

    let server = TestServer::start(move |_, _| response(503, "")).await;
    transport(&server.endpoint(), fast_retries(2))
        .send(&patch_bucket())
        .await
        .unwrap_err();
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_request_that_is_not_idempotent_is_not_repeated_after_a_server_failure() {
    let server = TestServer::start(|_, _| response(500, "")).await;
    let err = transport(&server.endpoint(), fast_retries(3))
        .send(&TigrisRequest::new(Method::POST).bucket("my-bucket".parse().unwrap()))
        .await
        .unwrap_err();
    assert_eq!(server.requests().len(), 1);
    let classified = Classified::from_sdk(&err);
    assert_eq!(classified.kind(), ErrorKind::Transient);
    assert!(classified.may_have_applied());

    let throttled = TestServer::start(|i, _| {
        if i == 0 {
            response(503, "<Error><Code>SlowDown</Code></Error>")
        } else {
            response(200, "")
        }
    })
    .await;
    transport(&throttled.endpoint(), fast_retries(3))
        .send(&TigrisRequest::new(Method::POST).bucket("my-bucket".parse().unwrap()))
        .await
        .expect("a throttled request did nothing, so it is retried");
    assert_eq!(throttled.requests().len(), 2);
}

#[tokio::test]
async fn too_many_requests_waits_for_retry_after() {
    let server = TestServer::start(|i, _| {
        if i == 0 {
            http::Response::builder()
                .status(429)
                .header("retry-after", "1")
                .body(Default::default())
                .unwrap()
        } else {
            response(200, "")
        }
    })
    .await;
    let started = Instant::now();
    transport(&server.endpoint(), fast_retries(3))
        .send(&patch_bucket())
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 2);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_retry_after_beyond_the_maximum_backoff_is_not_waited_for() {
    let server = TestServer::start(|_, _| {
        http::Response::builder()
            .status(429)
            .header("retry-after", "3600")
            .body(Default::default())
            .unwrap()
    })
    .await;
    let err = transport(&server.endpoint(), fast_retries(3))
        .send(&patch_bucket())
        .await
        .unwrap_err();
    assert_eq!(err.as_service_error().map(|s| s.status()), Some(429));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_json_client_error_is_typed_and_not_retried() {
    let server = TestServer::start(|_, _| {
        response(
            400,
            r#"{"Code":"InvalidArgument","Message":"invalid filter","RequestId":"req-42"}"#,
        )
    })
    .await;
    let err = transport(&server.endpoint(), fast_retries(3))
        .send(&patch_bucket())
        .await
        .unwrap_err();
    assert_eq!(server.requests().len(), 1);
    let service = err.as_service_error().expect("a service error");
    assert_eq!(service.status(), 400);
    assert_eq!(service.code(), Some("InvalidArgument"));
    assert_eq!(service.message(), Some("invalid filter"));
    assert_eq!(service.request_id(), Some("req-42"));
    assert_eq!(kind(&err), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn a_status_error_json_body_is_typed() {
    let server = TestServer::start(|_, _| {
        response(404, r#"{"status":"error","message":"bucket not found"}"#)
    })
    .await;
    let err = transport(&server.endpoint(), fast_retries(3))
        .send(&patch_bucket())
        .await
        .unwrap_err();
    assert_eq!(
        err.as_service_error().and_then(|s| s.message()),
        Some("bucket not found")
    );
    assert_eq!(kind(&err), ErrorKind::NotFound);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn one_connection_serves_consecutive_requests() {
    let server = TestServer::start(|i, _| {
        if i == 1 {
            response(503, "")
        } else {
            response(200, "")
        }
    })
    .await;
    let transport = transport(&server.endpoint(), fast_retries(3));
    for _ in 0..4 {
        transport.send(&patch_bucket()).await.unwrap();
    }
    let clone = transport.clone();
    clone.send(&patch_bucket()).await.unwrap();
    assert_eq!(server.requests().len(), 6);
    assert_eq!(server.connections(), 1);
}

fn with_attempt_timeout(endpoint: &str, timeout: Duration, attempts: u32) -> SignedTransport {
    let sdk = sdk_config_with(endpoint, "AKIDTEST", "secret", fast_retries(attempts))
        .into_builder()
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(timeout)
                .build(),
        )
        .build();
    SignedTransport::new(&sdk).unwrap()
}

#[tokio::test]
async fn the_sdk_timeout_config_bounds_each_attempt_and_slow_answers_are_retried() {
    let server = TestServer::start(|i, _| {
        if i == 0 {
            delayed(800, response(200, ""))
        } else {
            response(200, "")
        }
    })
    .await;
    with_attempt_timeout(&server.endpoint(), Duration::from_millis(200), 2)
        .send(&patch_bucket())
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn timeouts_that_persist_are_transient_and_may_have_applied() {
    // Generous margins: an attempt timeout also covers connecting and writing, and on a loaded
    // machine a 100 ms budget can expire before the second attempt reaches the server.
    let server = TestServer::start(|_, _| delayed(10_000, response(200, ""))).await;
    let err = with_attempt_timeout(&server.endpoint(), Duration::from_millis(1_000), 2)
        .send(&patch_bucket())
        .await
        .unwrap_err();
    let classified = Classified::from_sdk(&err);
    assert_eq!(classified.kind(), ErrorKind::Transient);
    assert!(classified.may_have_applied());
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn connection_refused_without_retries_is_transient_and_was_not_applied() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let err = transport(&endpoint, RetryConfig::disabled())
        .send(&patch_bucket())
        .await
        .unwrap_err();
    let classified = Classified::from_sdk(&err);
    assert_eq!(classified.kind(), ErrorKind::Transient);
    assert!(!classified.may_have_applied());
}

#[derive(Debug)]
struct FixedClock;

impl TimeSource for FixedClock {
    fn now(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000) // 2023-11-14T22:13:20Z
    }
}

#[tokio::test]
async fn the_sdk_time_source_dates_the_signature() {
    let server = TestServer::start(|_, _| response(200, "")).await;
    let sdk = sdk_config(&server.endpoint(), "AKIDTEST", "secret")
        .into_builder()
        .time_source(FixedClock)
        .build();
    SignedTransport::new(&sdk)
        .unwrap()
        .send(&patch_bucket())
        .await
        .unwrap();
    let request = &server.requests()[0];
    assert_eq!(request.headers["x-amz-date"], "20231114T221320Z");
    assert!(
        request.headers["authorization"]
            .to_str()
            .unwrap()
            .contains("Credential=AKIDTEST/20231114/auto/s3/")
    );
}

/// An HTTP client that counts requests and hands them to the real one.
#[derive(Debug, Clone)]
struct Recording {
    inner: SharedHttpClient,
    seen: Arc<AtomicUsize>,
}

#[derive(Debug)]
struct RecordingConnector {
    inner: SharedHttpConnector,
    seen: Arc<AtomicUsize>,
}

impl HttpConnector for RecordingConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        self.seen.fetch_add(1, Ordering::SeqCst);
        self.inner.call(request)
    }
}

impl HttpClient for Recording {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(RecordingConnector {
            inner: self.inner.http_connector(settings, components),
            seen: Arc::clone(&self.seen),
        })
    }
}

#[tokio::test]
async fn requests_go_through_the_sdk_config_http_client() {
    let server = TestServer::start(|_, _| response(200, "")).await;
    let seen = Arc::new(AtomicUsize::new(0));
    let sdk = sdk_config(&server.endpoint(), "AKIDTEST", "secret")
        .into_builder()
        .http_client(Recording {
            inner: tigris_core::default_http_client(),
            seen: Arc::clone(&seen),
        })
        .build();
    let transport = SignedTransport::new(&sdk).unwrap();
    transport.send(&patch_bucket()).await.unwrap();
    transport.send(&patch_bucket()).await.unwrap();
    assert_eq!(seen.load(Ordering::SeqCst), 2);
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn defaults_come_from_the_sdk_config_or_tigris() {
    let sdk = aws_types::SdkConfig::builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new("AKID", "SECRET", None, None, "tests"),
            ),
        )
        .build();
    let transport = SignedTransport::new(&sdk).unwrap();
    assert_eq!(transport.endpoint(), DEFAULT_ENDPOINT);
    assert_eq!(transport.region(), "auto");
    let overridden = SignedTransport::builder(&sdk)
        .endpoint_url("http://localhost:9000/")
        .region("eu")
        .build()
        .unwrap();
    assert_eq!(
        (overridden.endpoint(), overridden.region()),
        ("http://localhost:9000", "eu")
    );
}

#[test]
fn debug_shows_no_credentials() {
    let transport = SignedTransport::new(&sdk_config(
        "http://127.0.0.1:9",
        "AKIDVISIBLE",
        "hidden-secret",
    ))
    .unwrap();
    let shown = format!("{transport:?}");
    assert!(
        shown.contains(r#"endpoint: "http://127.0.0.1:9", region: "auto""#),
        "{shown}"
    );
    assert!(!shown.contains("hidden-secret"), "{shown}");
    assert!(!shown.contains("AKIDVISIBLE"), "{shown}");
}

#[test]
fn bad_endpoints_are_refused() {
    let sdk = sdk_config("ftp://example.com", "AKID", "SECRET");
    assert_eq!(
        SignedTransport::new(&sdk).unwrap_err().kind(),
        ErrorKind::Configuration
    );
}
