//! The signed transport against a scripted local HTTP server.

mod common;

use std::time::{Duration, Instant, SystemTime};

use aws_types::sdk_config::TimeSource;
use common::{TestServer, delayed, response, sdk_config};
use http::Method;
use sha2::Digest;
use tigris_notify::{
    DEFAULT_ENDPOINT, ErrorKind, NotificationConfig, Notifications, RetryPolicy, SignedTransport,
    TigrisRequest,
};

fn fast_retries(attempts: u32) -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(attempts)
        .with_initial_backoff(Duration::from_millis(5))
        .with_max_backoff(Duration::from_secs(5))
}

fn transport(endpoint: &str, policy: RetryPolicy) -> SignedTransport {
    SignedTransport::builder(&sdk_config(endpoint, "AKIDTEST", "secret"))
        .retry_policy(policy)
        .build()
        .unwrap()
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
    assert!(
        auth.contains("/auto/s3/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, Signature="),
        "{auth}"
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
async fn service_unavailable_twice_then_ok_is_retried_and_resigned() {
    let server = TestServer::start(|i, _| {
        if i < 2 {
            response(503, "")
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
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert!(
        requests.iter().all(
            |r| r.headers.contains_key("authorization") && r.headers.contains_key("x-amz-date")
        )
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn retries_stop_at_max_attempts_with_the_last_service_error() {
    let body = "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>r-9</RequestId></Error>";
    let server = TestServer::start(move |_, _| response(503, body)).await;
    let err = transport(&server.endpoint(), fast_retries(4))
        .send(&patch_bucket())
        .await
        .unwrap_err();
    assert_eq!(server.requests().len(), 4);
    let service = err.service().expect("a service error");
    assert_eq!(
        (service.status(), service.code(), service.request_id()),
        (503, Some("SlowDown"), Some("r-9"))
    );
    assert_eq!(service.message(), Some("Please reduce your request rate."));
    assert!(err.is_retryable());
    assert_eq!(
        err.to_string(),
        "Tigris answered PATCH /my-bucket with HTTP 503 (SlowDown)"
    );
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
        started.elapsed() >= Duration::from_secs(1),
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
    let started = Instant::now();
    let err = transport(&server.endpoint(), fast_retries(3))
        .send(&patch_bucket())
        .await
        .unwrap_err();
    assert_eq!(err.service().map(|s| s.status()), Some(429));
    assert_eq!(server.requests().len(), 1);
    assert!(started.elapsed() < Duration::from_secs(2));
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
    let ErrorKind::Service(service) = err.kind() else {
        panic!("service error expected: {err:?}")
    };
    assert_eq!(service.status(), 400);
    assert_eq!(service.code(), Some("InvalidArgument"));
    assert_eq!(service.message(), Some("invalid filter"));
    assert_eq!(service.request_id(), Some("req-42"));
    assert!(!err.is_retryable());
    assert!(
        !err.to_string().contains("invalid filter"),
        "the message stays out of Display"
    );
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
        err.service().and_then(|s| s.message()),
        Some("bucket not found")
    );
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

#[tokio::test]
async fn a_slow_answer_times_out_and_is_retried() {
    let server = TestServer::start(|i, _| {
        if i == 0 {
            delayed(600, response(200, ""))
        } else {
            response(200, "")
        }
    })
    .await;
    let transport = SignedTransport::builder(&sdk_config(&server.endpoint(), "AKIDTEST", "secret"))
        .request_timeout(Duration::from_millis(200))
        .retry_policy(fast_retries(2))
        .build()
        .unwrap();
    transport.send(&patch_bucket()).await.unwrap();
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn timeouts_that_persist_are_reported_as_timeouts() {
    let server = TestServer::start(|_, _| delayed(300, response(200, ""))).await;
    let transport = SignedTransport::builder(&sdk_config(&server.endpoint(), "AKIDTEST", "secret"))
        .request_timeout(Duration::from_millis(100))
        .retry_policy(fast_retries(2))
        .build()
        .unwrap();
    let err = transport.send(&patch_bucket()).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Timeout);
    assert!(err.is_retryable());
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn connection_refused_is_retried_until_the_server_is_up() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let endpoint = format!("http://{addr}");
    let policy = RetryPolicy::default()
        .with_max_attempts(8)
        .with_initial_backoff(Duration::from_millis(100))
        .with_max_backoff(Duration::from_millis(400));
    let transport = transport(&endpoint, policy);
    let late_server = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        TestServer::serve(
            listener,
            std::sync::Arc::new(|_, _: &common::Recorded| response(200, "")),
        )
    });
    transport.send(&patch_bucket()).await.unwrap();
    let server = late_server.await.unwrap();
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn connection_refused_without_retries_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let err = transport(&endpoint, RetryPolicy::disabled())
        .send(&patch_bucket())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Transport);
    assert!(err.is_retryable());
    assert!(std::error::Error::source(&err).is_some());
    assert!(
        err.to_string()
            .starts_with("could not connect to Tigris at http://127.0.0.1:"),
        "{err}"
    );
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

#[tokio::test]
async fn notifications_set_and_clear_send_the_documented_bodies() {
    let server =
        TestServer::start(|_, _| response(200, r#"{"Bucket":"my-bucket","Update":"success"}"#))
            .await;
    let notifications = Notifications::new(transport(&server.endpoint(), fast_retries(1)));
    let bucket = "my-bucket".parse().unwrap();
    let config = NotificationConfig::builder("https://hooks.example.com/t")
        .token("tok")
        .build()
        .unwrap();
    notifications.set(&bucket, &config).await.unwrap();
    notifications.clear(&bucket).await.unwrap();

    let requests = server.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.method == Method::PATCH && r.uri.path() == "/my-bucket")
    );
    let bodies: Vec<serde_json::Value> = requests
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(
        bodies,
        [
            serde_json::json!({"object_notifications": {"enabled": true, "web_hook": "https://hooks.example.com/t",
                                                        "filter": "", "auth": {"token": "tok"}}}),
            serde_json::json!({"object_notifications": {}}),
        ]
    );
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
fn debug_shows_endpoint_and_region_only() {
    let transport = SignedTransport::new(&sdk_config(
        "http://127.0.0.1:9",
        "AKIDVISIBLE",
        "hidden-secret",
    ))
    .unwrap();
    let shown = format!("{transport:?}");
    assert_eq!(
        shown,
        r#"SignedTransport { endpoint: "http://127.0.0.1:9", region: "auto", .. }"#
    );
}

#[test]
fn a_config_without_credentials_is_refused() {
    let err = SignedTransport::new(&aws_types::SdkConfig::builder().build()).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Credentials);
}

#[test]
fn bad_endpoints_are_refused() {
    let sdk = sdk_config("ftp://example.com", "AKID", "SECRET");
    assert_eq!(
        SignedTransport::new(&sdk).unwrap_err().kind(),
        &ErrorKind::InvalidInput
    );
}
