//! Acceptance tests against the in-process emulator, which verifies SigV4 (and the body's
//! `x-amz-content-sha256`) on every request and really POSTs events to webhooks.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use common::{TestServer, response, sdk_config};
use http_body_util::{BodyExt, Full};
use tigris_core::BucketName;
use tigris_emulator::Emulator;
use tigris_notify::{
    ErrorKind, EventName, NotificationConfig, Notifications, ObjectEvent, SignedTransport,
    WebhookAuth, WebhookPayload,
};
use tokio::sync::mpsc;

struct Fixture {
    emu: Emulator,
    s3: aws_sdk_s3::Client,
    notifications: Notifications,
}

impl Fixture {
    async fn start() -> Self {
        let retry = aws_sdk_s3::config::retry::RetryConfig::standard()
            .with_initial_backoff(Duration::from_millis(10));
        let env = tigris_test_support::TestEnv::builder()
            .retry(retry)
            .start()
            .await;
        let transport = SignedTransport::new(&env.sdk).unwrap();
        let (emu, s3) = (env.emu, env.s3);
        Self {
            emu,
            s3,
            notifications: Notifications::new(transport),
        }
    }

    async fn bucket(&self, name: &str) -> BucketName {
        self.s3.create_bucket().bucket(name).send().await.unwrap();
        name.parse().unwrap()
    }

    async fn put(&self, bucket: &BucketName, key: &str, body: &'static [u8]) {
        self.s3
            .put_object()
            .bucket(bucket.as_str())
            .key(key)
            .body(ByteStream::from_static(body))
            .send()
            .await
            .unwrap();
    }

    async fn delete(&self, bucket: &BucketName, key: &str) {
        self.s3
            .delete_object()
            .bucket(bucket.as_str())
            .key(key)
            .send()
            .await
            .unwrap();
    }

    fn transport(&self) -> &SignedTransport {
        self.notifications.transport()
    }
}

/// A webhook receiver on loopback built on this crate's receiving side: it checks the
/// `Authorization` header with [`WebhookAuth`], parses bodies with [`WebhookPayload`], answers
/// 500 to the first `fail_first` authorised deliveries, and forwards the events it accepts.
struct Receiver {
    server: TestServer,
    events: mpsc::UnboundedReceiver<ObjectEvent>,
    rejected: Arc<AtomicUsize>,
}

impl Receiver {
    async fn start(auth: Option<WebhookAuth>, fail_first: usize) -> Self {
        let (tx, events) = mpsc::unbounded_channel();
        let rejected = Arc::new(AtomicUsize::new(0));
        let failed = AtomicUsize::new(0);
        let counter = Arc::clone(&rejected);
        let server = TestServer::start(move |_, request| {
            if auth
                .as_ref()
                .is_some_and(|auth| auth.verify_headers(&request.headers).is_err())
            {
                counter.fetch_add(1, Ordering::SeqCst);
                return response(401, "");
            }
            if failed.fetch_add(1, Ordering::SeqCst) < fail_first {
                return response(500, "");
            }
            match WebhookPayload::from_slice(&request.body) {
                Ok(payload) => {
                    for event in payload {
                        tx.send(event).ok();
                    }
                    response(204, "")
                }
                Err(_) => response(400, ""),
            }
        })
        .await;
        Self {
            server,
            events,
            rejected,
        }
    }

    fn url(&self) -> String {
        format!("{}/hook", self.server.endpoint())
    }

    async fn next(&mut self) -> ObjectEvent {
        tokio::time::timeout(Duration::from_secs(10), self.events.recv())
            .await
            .expect("an event within 10 s")
            .expect("the receiver is running")
    }

    /// Checks that no event is on its way without sleeping: a marker bucket notifying this
    /// receiver (with `marker`, whose auth it accepts) gets a marker object, and the marker's
    /// event must be the next one. The emulator orders one key's events, not one URL's (see its
    /// README), so this can miss a stray event of another key still in flight, never invent one.
    async fn assert_quiet(&mut self, fx: &Fixture, marker: NotificationConfig) {
        let bucket = fx.bucket("quiet-marker").await;
        fx.notifications.set(&bucket, &marker).await.unwrap();
        fx.put(&bucket, "marker", b"m").await;
        let event = self.next().await;
        assert_eq!(
            (event.bucket(), event.object().key()),
            ("quiet-marker", "marker"),
            "unexpected event before the marker: {event:?}"
        );
    }
}

#[tokio::test]
async fn token_auth_delivers_a_typed_put_event() {
    let fx = Fixture::start().await;
    let bucket = fx.bucket("events-token").await;
    let mut receiver = Receiver::start(Some(WebhookAuth::bearer("t0ken-for-tests")), 0).await;
    let config = NotificationConfig::builder(receiver.url())
        .token("t0ken-for-tests")
        .build()
        .unwrap();
    fx.notifications.set(&bucket, &config).await.unwrap();

    fx.put(&bucket, "path/to/myfile.txt", b"hello world").await;

    let event = receiver.next().await;
    assert_eq!(event.name(), &EventName::ObjectCreatedPut);
    assert_eq!(event.bucket(), "events-token");
    assert_eq!(event.source(), "tigris");
    assert_eq!(event.version(), "1");
    assert!(
        event.timestamp().is_some(),
        "eventTime is RFC 3339: {}",
        event.time()
    );
    assert_eq!(event.object().key(), "path/to/myfile.txt");
    assert_eq!(event.object().size(), 11);
    assert_eq!(
        event.object().etag(),
        Some("5eb63bbbe01eeed093cb22bb8f5acdc3")
    );
    assert_eq!(receiver.rejected.load(Ordering::SeqCst), 0);
    let delivered = &receiver.server.requests()[0];
    assert_eq!(delivered.method, http::Method::POST);
    assert_eq!(delivered.uri.path(), "/hook");
}

#[tokio::test]
async fn basic_auth_delivers_events_with_verified_credentials() {
    let fx = Fixture::start().await;
    let bucket = fx.bucket("events-basic").await;
    let mut receiver = Receiver::start(Some(WebhookAuth::basic("agent", "pa:ss w0rd")), 0).await;
    let config = NotificationConfig::builder(receiver.url())
        .username("agent")
        .password("pa:ss w0rd")
        .build()
        .unwrap();
    fx.notifications.set(&bucket, &config).await.unwrap();

    fx.put(&bucket, "a.txt", b"abc").await;

    let event = receiver.next().await;
    assert_eq!(
        (event.name(), event.object().key(), event.object().size()),
        (&EventName::ObjectCreatedPut, "a.txt", 3)
    );
    assert_eq!(receiver.rejected.load(Ordering::SeqCst), 0);
    let header = receiver.server.requests()[0].headers["authorization"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(header.starts_with("Basic "), "{header}");
}

#[tokio::test]
async fn a_receiver_expecting_another_token_rejects_every_delivery() {
    let fx = Fixture::start().await;
    let bucket = fx.bucket("events-wrong-token").await;
    let mut receiver = Receiver::start(Some(WebhookAuth::bearer("the-right-token")), 0).await;
    let config = NotificationConfig::builder(receiver.url())
        .token("a-wrong-token")
        .build()
        .unwrap();
    fx.notifications.set(&bucket, &config).await.unwrap();

    fx.put(&bucket, "k", b"x").await;

    tokio::time::timeout(Duration::from_secs(10), async {
        while receiver.rejected.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the delivery with the wrong token is refused");
    let marker = NotificationConfig::builder(receiver.url())
        .token("the-right-token")
        .build()
        .unwrap();
    receiver.assert_quiet(&fx, marker).await;
}

#[tokio::test]
async fn a_key_filter_selects_matching_keys_only() {
    let fx = Fixture::start().await;
    let bucket = fx.bucket("events-key-filter").await;
    let mut receiver = Receiver::start(None, 0).await;
    let config = NotificationConfig::builder(receiver.url())
        .filter(r#"WHERE `key` REGEXP "^results/""#)
        .build()
        .unwrap();
    fx.notifications.set(&bucket, &config).await.unwrap();

    fx.put(&bucket, "scratch/1", b"x").await;
    fx.put(&bucket, "results/1", b"xy").await;

    let event = receiver.next().await;
    assert_eq!(
        (event.object().key(), event.object().size()),
        ("results/1", 2)
    );
    receiver
        .assert_quiet(
            &fx,
            NotificationConfig::builder(receiver.url()).build().unwrap(),
        )
        .await;
}

#[tokio::test]
async fn an_event_type_filter_selects_deletions_only() {
    let fx = Fixture::start().await;
    let bucket = fx.bucket("events-type-filter").await;
    let mut receiver = Receiver::start(None, 0).await;
    let config = NotificationConfig::builder(receiver.url())
        .filter(r#"WHERE `Event-Type` = "OBJECT_DELETED""#)
        .build()
        .unwrap();
    fx.notifications.set(&bucket, &config).await.unwrap();

    fx.put(&bucket, "doomed", b"x").await;
    fx.delete(&bucket, "doomed").await;

    let event = receiver.next().await;
    assert_eq!(
        (event.name(), event.object().key()),
        (&EventName::ObjectDeleted, "doomed")
    );
    receiver
        .assert_quiet(
            &fx,
            NotificationConfig::builder(receiver.url()).build().unwrap(),
        )
        .await;
}

#[tokio::test]
async fn filters_joined_with_and_need_both_to_match() {
    let fx = Fixture::start().await;
    let bucket = fx.bucket("events-and-filter").await;
    let mut receiver = Receiver::start(None, 0).await;
    let filter = r#"WHERE `key` REGEXP "^results/" AND `Event-Type` = "OBJECT_CREATED_PUT""#;
    let config = NotificationConfig::builder(receiver.url())
        .filter(filter)
        .build()
        .unwrap();
    fx.notifications.set(&bucket, &config).await.unwrap();

    fx.put(&bucket, "other/1", b"x").await;
    fx.put(&bucket, "results/1", b"x").await;
    fx.delete(&bucket, "results/1").await;

    let event = receiver.next().await;
    assert_eq!(
        (event.name(), event.object().key()),
        (&EventName::ObjectCreatedPut, "results/1")
    );
    receiver
        .assert_quiet(
            &fx,
            NotificationConfig::builder(receiver.url()).build().unwrap(),
        )
        .await;
}

#[tokio::test]
async fn a_copy_is_reported_as_created_copy() {
    let fx = Fixture::start().await;
    let bucket = fx.bucket("events-copy").await;
    fx.put(&bucket, "src", b"12345").await;
    let mut receiver = Receiver::start(None, 0).await;
    fx.notifications
        .set(
            &bucket,
            &NotificationConfig::builder(receiver.url()).build().unwrap(),
        )
        .await
        .unwrap();

    fx.s3
        .copy_object()
        .bucket(bucket.as_str())
        .key("dst")
        .copy_source("events-copy/src")
        .send()
        .await
        .unwrap();

    let event = receiver.next().await;
    assert_eq!(
        (event.name(), event.object().key(), event.object().size()),
        (&EventName::ObjectCreatedCopy, "dst", 5)
    );
}

#[tokio::test]
async fn clearing_stops_delivery() {
    let fx = Fixture::start().await;
    let bucket = fx.bucket("events-clear").await;
    let mut receiver = Receiver::start(None, 0).await;
    fx.notifications
        .set(
            &bucket,
            &NotificationConfig::builder(receiver.url()).build().unwrap(),
        )
        .await
        .unwrap();
    fx.put(&bucket, "before", b"x").await;
    assert_eq!(receiver.next().await.object().key(), "before");

    fx.notifications.clear(&bucket).await.unwrap();
    fx.put(&bucket, "after", b"x").await;

    receiver
        .assert_quiet(
            &fx,
            NotificationConfig::builder(receiver.url()).build().unwrap(),
        )
        .await;
}

#[tokio::test]
async fn a_failing_receiver_gets_the_event_again() {
    let fx = Fixture::start().await;
    let bucket = fx.bucket("events-retry").await;
    let mut receiver = Receiver::start(None, 1).await;
    fx.notifications
        .set(
            &bucket,
            &NotificationConfig::builder(receiver.url()).build().unwrap(),
        )
        .await
        .unwrap();

    fx.put(&bucket, "k", b"x").await;

    assert_eq!(receiver.next().await.object().key(), "k");
    assert_eq!(
        receiver.server.requests().len(),
        2,
        "one 500, then the retry"
    );
}

#[tokio::test]
async fn injected_service_unavailable_is_retried_by_the_transport() {
    let fx = Fixture::start().await;
    let bucket = fx.bucket("events-503").await;
    let mut receiver = Receiver::start(None, 0).await;
    fx.emu
        .faults()
        .fail_next("PatchBucket", 2, 503, "ServiceUnavailable");

    fx.notifications
        .set(
            &bucket,
            &NotificationConfig::builder(receiver.url()).build().unwrap(),
        )
        .await
        .unwrap();

    assert_eq!(fx.emu.faults().count("PatchBucket"), 3);
    fx.put(&bucket, "k", b"x").await;
    assert_eq!(receiver.next().await.object().key(), "k");
}

#[tokio::test]
async fn persistent_failures_surface_the_service_error_after_the_last_attempt() {
    let fx = Fixture::start().await;
    let bucket = fx.bucket("events-503-forever").await;
    fx.emu
        .faults()
        .fail_next("PatchBucket", 10, 503, "ServiceUnavailable");

    let err = fx.notifications.clear(&bucket).await.unwrap_err();

    assert_eq!(
        (err.status(), err.code()),
        (Some(503), Some("ServiceUnavailable"))
    );
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert_eq!(fx.emu.faults().count("PatchBucket"), 3);
}

#[tokio::test]
async fn a_filter_tigris_cannot_parse_is_an_invalid_argument_not_retried() {
    let fx = Fixture::start().await;
    let bucket = fx.bucket("events-bad-filter").await;
    let config = NotificationConfig::builder("http://127.0.0.1:9/hook")
        .filter("WHERE nonsense")
        .build()
        .unwrap();

    let err = fx.notifications.set(&bucket, &config).await.unwrap_err();

    assert_eq!(
        (err.status(), err.code()),
        (Some(400), Some("InvalidArgument"))
    );
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(fx.emu.faults().count("PatchBucket"), 1);
}

#[tokio::test]
async fn a_missing_bucket_is_no_such_bucket() {
    let fx = Fixture::start().await;
    let err = fx
        .notifications
        .clear(&"never-created".parse().unwrap())
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(404), Some("NoSuchBucket"))
    );
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn a_request_signed_with_the_wrong_secret_is_rejected() {
    let fx = Fixture::start().await;
    let bucket = fx.bucket("events-wrong-secret").await;
    let mut receiver = Receiver::start(None, 0).await;
    let sdk = sdk_config(
        &fx.emu.endpoint(),
        fx.emu.root_credentials().access_key_id(),
        "not-the-secret",
    );
    let impostor = Notifications::new(SignedTransport::new(&sdk).unwrap());

    let err = impostor
        .set(
            &bucket,
            &NotificationConfig::builder(receiver.url()).build().unwrap(),
        )
        .await
        .unwrap_err();

    assert_eq!(
        (err.status(), err.code()),
        (Some(403), Some("SignatureDoesNotMatch"))
    );
    assert_eq!(err.kind(), ErrorKind::AccessDenied);
    assert!(!err.is_retryable());
    fx.put(&bucket, "k", b"x").await;
    receiver
        .assert_quiet(
            &fx,
            NotificationConfig::builder(receiver.url()).build().unwrap(),
        )
        .await;
}

#[tokio::test]
async fn query_parameters_are_signed_as_the_server_canonicalises_them() {
    let fx = Fixture::start().await;
    let bucket = fx.bucket("events-query").await;
    fx.put(&bucket, "a b/c+d.txt", b"x").await;
    fx.put(&bucket, "other", b"x").await;
    let request = tigris_core::transport::TigrisRequest::new(http::Method::GET)
        .bucket(bucket.clone())
        .query_param("list-type", "2")
        .query_param("prefix", "a b/c+");

    let answer = fx.transport().send(&request).await.unwrap();

    let listing = String::from_utf8(answer.body().to_vec()).unwrap();
    assert!(listing.contains("<Key>a b/c+d.txt</Key>"), "{listing}");
    assert!(!listing.contains("<Key>other</Key>"), "{listing}");
}

/// Signs a PATCH with the transport's lower layer and sends it with a plain hyper client,
/// replacing the body after signing when `tampered_body` is given.
async fn send_signed_patch(
    transport: &SignedTransport,
    bucket: &BucketName,
    body: &str,
    tampered_body: Option<&str>,
) -> u16 {
    let mut request = http::Request::patch(format!("{}/{bucket}", transport.endpoint()))
        .header("content-type", "application/json")
        .body(Bytes::from(body.to_owned()))
        .unwrap();
    transport.sign(&mut request).await.unwrap();
    if let Some(tampered) = tampered_body {
        *request.body_mut() = Bytes::from(tampered.to_owned());
    }
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    let answer = client.request(request.map(Full::new)).await.unwrap();
    let status = answer.status().as_u16();
    answer.into_body().collect().await.unwrap();
    status
}

#[tokio::test]
async fn a_body_changed_after_signing_is_rejected() {
    let fx = Fixture::start().await;
    let bucket = fx.bucket("events-tampered").await;
    let mut receiver = Receiver::start(None, 0).await;
    let original = r#"{"object_notifications":{}}"#;
    let tampered = format!(
        r#"{{"object_notifications":{{"enabled":true,"web_hook":"{}","filter":""}}}}"#,
        receiver.url()
    );

    let status = send_signed_patch(fx.transport(), &bucket, original, Some(&tampered)).await;

    assert!(
        (400..500).contains(&status),
        "tampered body answered {status}"
    );
    fx.put(&bucket, "k", b"x").await;
    receiver
        .assert_quiet(
            &fx,
            NotificationConfig::builder(receiver.url()).build().unwrap(),
        )
        .await;
    // The same lower layer without tampering is accepted, so the signature itself was fine.
    assert_eq!(
        send_signed_patch(fx.transport(), &bucket, &tampered, None).await,
        200
    );
    fx.put(&bucket, "k2", b"x").await;
    assert_eq!(receiver.next().await.object().key(), "k2");
}

#[tokio::test]
async fn invalid_configs_are_rejected_before_any_request() {
    let fx = Fixture::start().await;
    let url = "https://hooks.example.com/tigris";
    for builder in [
        NotificationConfig::builder("not a url"),
        NotificationConfig::builder("ftp://hooks.example.com/tigris"),
        NotificationConfig::builder("https://"),
        NotificationConfig::builder(""),
        NotificationConfig::builder(url)
            .token("t")
            .username("u")
            .password("p"),
        NotificationConfig::builder(url).username("u"),
        NotificationConfig::builder(url).password("p"),
        NotificationConfig::builder(url).token("  "),
        NotificationConfig::builder(url).username("u").password(""),
    ] {
        let err = builder.build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }
    assert_eq!(fx.emu.faults().count("PatchBucket"), 0);
}

#[tokio::test]
async fn the_ready_made_receiver_yields_authorised_events_and_refuses_others() {
    use tigris_notify::receiver::WebhookReceiver;
    let fx = Fixture::start().await;
    let bucket = fx.bucket("receiver-test").await;
    let mut receiver = WebhookReceiver::bind(
        "127.0.0.1:0".parse().unwrap(),
        Some(WebhookAuth::bearer("right")),
    )
    .await
    .unwrap();
    let config = NotificationConfig::builder(receiver.url())
        .token("right")
        .build()
        .unwrap();
    fx.notifications.set(&bucket, &config).await.unwrap();
    fx.put(&bucket, "a.txt", b"abc").await;
    let event = tokio::time::timeout(Duration::from_secs(10), receiver.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(event.object().key(), "a.txt");
    assert_eq!(event.object().size(), 3);
    assert_eq!(receiver.rejected(), 0);

    let wrong = NotificationConfig::builder(receiver.url())
        .token("wrong")
        .build()
        .unwrap();
    fx.notifications.set(&bucket, &wrong).await.unwrap();
    fx.put(&bucket, "b.txt", b"abc").await;
    tokio::time::timeout(Duration::from_secs(10), async {
        while receiver.rejected() == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the delivery with the wrong token is refused");
    assert!(receiver.try_next().is_none());
}
