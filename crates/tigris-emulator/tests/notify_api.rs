//! `PATCH /{bucket}` notification settings and webhook delivery.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime};

use aws_sdk_s3::primitives::ByteStream;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode, sign,
};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use tigris_emulator::Emulator;
use tokio::sync::mpsc;

mod common;
use common::client;

/// A webhook receiver on loopback: forwards (authorization, body) of each POST; the first
/// `fail_first` requests get a 500.
async fn receiver(fail_first: u32) -> (String, mpsc::UnboundedReceiver<(Option<String>, Value)>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    let failures = Arc::new(AtomicU32::new(fail_first));
    tokio::spawn(async move {
        loop {
            let (sock, _) = listener.accept().await.unwrap();
            let (tx, failures) = (tx.clone(), Arc::clone(&failures));
            tokio::spawn(async move {
                let svc =
                    hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        let (tx, failures) = (tx.clone(), Arc::clone(&failures));
                        async move {
                            let auth = req
                                .headers()
                                .get("authorization")
                                .map(|v| v.to_str().unwrap().to_owned());
                            let body = req.into_body().collect().await.unwrap().to_bytes();
                            let fail = failures
                                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                                    n.checked_sub(1)
                                })
                                .is_ok();
                            let status = if fail { 500 } else { 200 };
                            if !fail {
                                tx.send((auth, serde_json::from_slice(&body).unwrap())).ok();
                            }
                            let resp = http::Response::builder()
                                .status(status)
                                .body(Full::new(Bytes::new()))
                                .unwrap();
                            Ok::<_, Infallible>(resp)
                        }
                    });
                hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(sock), svc)
                    .await
                    .ok();
            });
        }
    });
    (url, rx)
}

/// Sends `PATCH /{bucket}` signed like an S3 request; `tamper` changes the body after signing.
async fn patch(
    emu: &Emulator,
    bucket: &str,
    body: &Value,
    secret: Option<&str>,
    tamper: bool,
) -> (u16, String) {
    let body = body.to_string();
    let uri = format!("{}/{bucket}", emu.endpoint());
    let root = emu.root_credentials();
    let creds = aws_credential_types::Credentials::new(
        root.access_key_id(),
        secret.unwrap_or(root.secret_access_key()),
        None,
        None,
        "test",
    );
    let identity = creds.into();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("auto")
        .name("s3")
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let mut req = http::Request::patch(&uri)
        .header("content-type", "application/json")
        .body(body.clone())
        .unwrap();
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str(), v.to_str().unwrap()));
    let signable =
        SignableRequest::new("PATCH", &uri, headers, SignableBody::Bytes(body.as_bytes())).unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    instructions.apply_to_request_http1x(&mut req);
    let body = if tamper {
        body.replace("true", "false")
    } else {
        body
    };
    let req = req.map(|_| Full::new(Bytes::from(body)));
    let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http();
    let resp = client.request(req).await.unwrap();
    let status = resp.status().as_u16();
    let text = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    (status, text)
}

async fn next_event(
    rx: &mut mpsc::UnboundedReceiver<(Option<String>, Value)>,
) -> (Option<String>, Value) {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("an event within 10 s")
        .unwrap()
}

/// Sets the notifications of bucket `events` to `config`, signed by the root key.
async fn set_notifications(emu: &Emulator, config: Value) {
    let (status, body) = patch(
        emu,
        "events",
        &json!({"object_notifications": config}),
        None,
        false,
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

async fn bucket_with_notifications(emu: &Emulator, config: Value) -> aws_sdk_s3::Client {
    let s3 = client(emu);
    s3.create_bucket().bucket("events").send().await.unwrap();
    set_notifications(emu, config).await;
    s3
}

/// Checks that no event of `key` is on its way, without sleeping: notifications are set to
/// `marker` (every event, same URL), `key` is written again, and that write's event must be the
/// next one. The events of one key go through one lane in order, so a stray event of `key`
/// would arrive first.
async fn assert_no_event_before_marker(
    emu: &Emulator,
    s3: &aws_sdk_s3::Client,
    rx: &mut mpsc::UnboundedReceiver<(Option<String>, Value)>,
    marker: Value,
    key: &str,
    what: &str,
) {
    set_notifications(emu, marker).await;
    s3.put_object()
        .bucket("events")
        .key(key)
        .body(ByteStream::from_static(b"marker"))
        .send()
        .await
        .unwrap();
    let (_, payload) = next_event(rx).await;
    let event = &payload["events"][0];
    assert_eq!(
        (
            &event["eventName"],
            &event["object"]["key"],
            &event["object"]["size"]
        ),
        (&json!("OBJECT_CREATED_PUT"), &json!(key), &json!(6)),
        "{what}: {payload}"
    );
}

#[tokio::test]
async fn a_put_delivers_a_tigris_event_with_the_token() {
    let emu = Emulator::start().await.unwrap();
    let (url, mut rx) = receiver(0).await;
    let config =
        json!({"enabled": true, "web_hook": url, "filter": "", "auth": {"token": "s3cr3t"}});
    let s3 = bucket_with_notifications(&emu, config).await;
    s3.put_object()
        .bucket("events")
        .key("a/b.txt")
        .body(ByteStream::from_static(b"hello"))
        .send()
        .await
        .unwrap();
    let (auth, payload) = next_event(&mut rx).await;
    assert_eq!(auth.as_deref(), Some("Bearer s3cr3t"));
    let event = &payload["events"][0];
    assert_eq!(event["eventName"], "OBJECT_CREATED_PUT");
    assert_eq!(event["eventSource"], "tigris");
    assert_eq!(event["bucket"], "events");
    assert_eq!(event["object"]["key"], "a/b.txt");
    assert_eq!(event["object"]["size"], 5);
    assert_eq!(event["object"]["eTag"], "5d41402abc4b2a76b9719d911017c592");
}

#[tokio::test]
async fn basic_auth_filters_and_retries() {
    let emu = Emulator::start().await.unwrap();
    let (url, mut rx) = receiver(2).await;
    let filter = r#"WHERE `key` REGEXP "^results/" AND `Event-Type` = "OBJECT_DELETED""#;
    let config = json!({"enabled": true, "web_hook": url.clone(), "filter": filter, "auth": {"basic_user": "u", "basic_pass": "p"}});
    let s3 = bucket_with_notifications(&emu, config).await;
    s3.put_object()
        .bucket("events")
        .key("results/1")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    s3.put_object()
        .bucket("events")
        .key("other")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    s3.delete_object()
        .bucket("events")
        .key("other")
        .send()
        .await
        .unwrap();
    s3.delete_object()
        .bucket("events")
        .key("results/1")
        .send()
        .await
        .unwrap();
    // The receiver failed twice; the one event the filter selects still arrives.
    let (auth, payload) = next_event(&mut rx).await;
    assert_eq!(auth.as_deref(), Some("Basic dTpw"));
    assert_eq!(payload["events"][0]["eventName"], "OBJECT_DELETED");
    assert_eq!(payload["events"][0]["object"]["key"], "results/1");
    assert_no_event_before_marker(
        &emu,
        &s3,
        &mut rx,
        json!({"enabled": true, "web_hook": url}),
        "other",
        "nothing else matched the filter",
    )
    .await;
}

#[tokio::test]
async fn clearing_stops_delivery() {
    let emu = Emulator::start().await.unwrap();
    let (url, mut rx) = receiver(0).await;
    let s3 =
        bucket_with_notifications(&emu, json!({"enabled": true, "web_hook": url.clone()})).await;
    let (status, _) = patch(
        &emu,
        "events",
        &json!({"object_notifications": {}}),
        None,
        false,
    )
    .await;
    assert_eq!(status, 200);
    s3.put_object()
        .bucket("events")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    assert_no_event_before_marker(
        &emu,
        &s3,
        &mut rx,
        json!({"enabled": true, "web_hook": url}),
        "k",
        "no event after notifications were cleared",
    )
    .await;
}

#[tokio::test]
async fn bad_settings_and_bad_signatures_are_refused() {
    let emu = Emulator::start().await.unwrap();
    client(&emu)
        .create_bucket()
        .bucket("events")
        .send()
        .await
        .unwrap();
    let bad_filter = json!({"object_notifications": {"enabled": true, "web_hook": "http://x/h", "filter": "WHERE nonsense"}});
    let (status, body) = patch(&emu, "events", &bad_filter, None, false).await;
    assert_eq!(status, 400);
    assert!(body.contains("InvalidArgument"), "{body}");
    let config = json!({"object_notifications": {"enabled": true, "web_hook": "http://x/h"}});
    let (status, body) = patch(&emu, "events", &config, Some("wrong"), false).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("SignatureDoesNotMatch"), "{body}");
    let (status, body) = patch(&emu, "events", &config, None, true).await;
    assert!(
        status >= 400,
        "a body changed after signing is rejected: {body}"
    );
    let (status, body) = patch(&emu, "no-such-bucket", &config, None, false).await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test]
async fn renames_and_multipart_completions_are_reported() {
    use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
    let emu = Emulator::start().await.unwrap();
    let (url, mut rx) = receiver(0).await;
    let s3 = bucket_with_notifications(&emu, json!({"enabled": true, "web_hook": url})).await;
    s3.put_object()
        .bucket("events")
        .key("old")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        next_event(&mut rx).await.1["events"][0]["eventName"],
        "OBJECT_CREATED_PUT"
    );
    s3.copy_object()
        .bucket("events")
        .key("new")
        .copy_source("events/old")
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("x-tigris-rename", "true");
        })
        .send()
        .await
        .unwrap();
    let (_, renamed) = next_event(&mut rx).await;
    assert_eq!(renamed["events"][0]["eventName"], "OBJECT_RENAME");
    assert_eq!(renamed["events"][0]["object"]["key"], "new");
    let upload = s3
        .create_multipart_upload()
        .bucket("events")
        .key("big")
        .send()
        .await
        .unwrap();
    let id = upload.upload_id().unwrap();
    let part = s3
        .upload_part()
        .bucket("events")
        .key("big")
        .upload_id(id)
        .part_number(1)
        .body(ByteStream::from_static(b"abc"))
        .send()
        .await
        .unwrap();
    let parts = CompletedMultipartUpload::builder()
        .parts(
            CompletedPart::builder()
                .part_number(1)
                .e_tag(part.e_tag().unwrap())
                .build(),
        )
        .build();
    s3.complete_multipart_upload()
        .bucket("events")
        .key("big")
        .upload_id(id)
        .multipart_upload(parts)
        .send()
        .await
        .unwrap();
    let (_, completed) = next_event(&mut rx).await;
    assert_eq!(
        completed["events"][0]["eventName"],
        "OBJECT_CREATED_MULTIPART"
    );
    assert_eq!(completed["events"][0]["object"]["size"], 3);
}

#[tokio::test]
async fn notification_settings_survive_a_restart_with_a_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let (url, mut rx) = receiver(0).await;
    let emu = Emulator::builder()
        .data_dir(dir.path())
        .start()
        .await
        .unwrap();
    let config = json!({"enabled": true, "web_hook": url, "filter": "WHERE `key` REGEXP \"^keep/\"",
        "auth": {"token": "kept"}});
    bucket_with_notifications(&emu, config).await;
    emu.shutdown().await;

    let emu = Emulator::builder()
        .data_dir(dir.path())
        .start()
        .await
        .unwrap();
    let s3 = client(&emu);
    for key in ["skip/x", "keep/y"] {
        s3.put_object()
            .bucket("events")
            .key(key)
            .body(ByteStream::from_static(b"hello"))
            .send()
            .await
            .unwrap();
    }
    let (auth, payload) = next_event(&mut rx).await;
    assert_eq!(auth.as_deref(), Some("Bearer kept"));
    assert_eq!(payload["events"][0]["object"]["key"], "keep/y");
}

#[tokio::test]
async fn a_deleted_bucket_does_not_bring_its_notifications_back_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (url, mut rx) = receiver(0).await;
    let emu = Emulator::builder()
        .data_dir(dir.path())
        .start()
        .await
        .unwrap();
    let s3 = bucket_with_notifications(&emu, json!({"web_hook": url})).await;
    s3.delete_bucket().bucket("events").send().await.unwrap();
    emu.shutdown().await;

    let emu = Emulator::builder()
        .data_dir(dir.path())
        .start()
        .await
        .unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("events").send().await.unwrap();
    s3.put_object()
        .bucket("events")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    // Configure it again and put once more: were the old setting back, `k` would be delivered
    // (and, queued first, normally arrive first).
    let (status, body) = patch(
        &emu,
        "events",
        &json!({"object_notifications": {"web_hook": url}}),
        None,
        false,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    s3.put_object()
        .bucket("events")
        .key("after")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    let (_, payload) = next_event(&mut rx).await;
    assert_eq!(payload["events"][0]["object"]["key"], "after");
}

async fn put_keys(s3: &aws_sdk_s3::Client, keys: impl Iterator<Item = String>) {
    for key in keys {
        s3.put_object()
            .bucket("events")
            .key(key)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn one_key_s_events_arrive_in_order_even_when_one_is_retried() {
    let emu = Emulator::start().await.unwrap();
    // The first delivery fails and is retried after a backoff; the key's later events wait.
    let (url, mut rx) = receiver(1).await;
    let config = json!({"enabled": true, "web_hook": url, "filter": ""});
    let s3 = bucket_with_notifications(&emu, config).await;
    // One key written 20 times, each body one byte longer: the sizes tell the order.
    for size in 1..=20usize {
        s3.put_object()
            .bucket("events")
            .key("k")
            .body(ByteStream::from(vec![b'x'; size]))
            .send()
            .await
            .unwrap();
    }
    let mut sizes = Vec::new();
    for _ in 1..=20 {
        let (_, payload) = next_event(&mut rx).await;
        sizes.push(payload["events"][0]["object"]["size"].as_u64().unwrap());
    }
    assert_eq!(sizes, (1..=20).collect::<Vec<u64>>());
    assert_eq!(emu.dropped_webhook_events(), 0);
}

#[tokio::test]
async fn a_webhook_gets_several_deliveries_in_flight_at_once() {
    let emu = Emulator::start().await.unwrap();
    // Answers nothing until 4 events of distinct keys are waiting at once: one delivery at a
    // time never gets there (its retries repeat one key), and the guard fails the test.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let open = Arc::new(tokio::sync::Semaphore::new(0));
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let gate = Arc::clone(&open);
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let (gate, tx) = (Arc::clone(&gate), tx.clone());
            tokio::spawn(async move {
                let svc =
                    hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        let (gate, tx) = (Arc::clone(&gate), tx.clone());
                        async move {
                            let body = req.into_body().collect().await.unwrap().to_bytes();
                            let payload: Value = serde_json::from_slice(&body).unwrap();
                            let key = payload["events"][0]["object"]["key"].as_str().unwrap_or("");
                            tx.send(key.to_owned()).ok();
                            // Released once 4 requests are waiting here together.
                            drop(gate.acquire().await);
                            Ok::<_, Infallible>(
                                http::Response::builder()
                                    .status(200)
                                    .body(Full::new(Bytes::new()))
                                    .unwrap(),
                            )
                        }
                    });
                hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(sock), svc)
                    .await
                    .ok();
            });
        }
    });
    let config = json!({"enabled": true, "web_hook": url, "filter": ""});
    let s3 = bucket_with_notifications(&emu, config).await;
    put_keys(&s3, (0..64).map(|i| format!("k{i:02}"))).await;
    let waiting = tokio::time::timeout(Duration::from_secs(60), async {
        let mut keys = std::collections::BTreeSet::new();
        while keys.len() < 4 {
            keys.insert(rx.recv().await.unwrap());
        }
    })
    .await;
    assert!(waiting.is_ok(), "4 deliveries were never in flight at once");
    open.add_permits(1 << 20);
    assert_eq!(emu.dropped_webhook_events(), 0);
}

#[tokio::test]
async fn a_webhook_that_stops_answering_fills_a_bounded_queue_and_requests_go_on() {
    let emu = Emulator::builder()
        .webhook_queue_capacity(4)
        .start()
        .await
        .unwrap();
    // Accepts connections and never answers: the delivery task waits on its first event.
    let hanging = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", hanging.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut sockets = Vec::new();
        while let Ok((sock, _)) = hanging.accept().await {
            sockets.push(sock);
        }
    });
    let config = json!({"enabled": true, "web_hook": url, "filter": ""});
    let s3 = bucket_with_notifications(&emu, config).await;
    put_keys(&s3, (0..20).map(|i| format!("k{i:02}"))).await;
    // Four events over 8 lanes: one queued per lane, and one in flight per lane, so at most
    // 16 of the 20 are held and the rest were dropped; every PUT was answered without
    // waiting for the webhook.
    let dropped = emu.dropped_webhook_events();
    assert!((4..=19).contains(&dropped), "dropped {dropped}");
    held.abort();
}

/// `GET /events?metadata` signed by the root key: the bucket's `object_notifications`.
async fn shown_notifications(emu: &Emulator) -> Value {
    let root = emu.root_credentials();
    let key = (root.access_key_id(), root.secret_access_key());
    let resp = common::signed_request(emu, key, "GET", "/events?metadata", &[], b"").await;
    assert_eq!(resp.status(), 200);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let metadata: Value = serde_json::from_slice(&body).unwrap();
    assert!(
        metadata.get("cors").is_none_or(|c| c != &json!({})),
        "the official CLI cannot read cors: {{}}: {metadata}"
    );
    metadata["object_notifications"].clone()
}

/// PATCHes `config` as `object_notifications` and expects 200.
async fn set(emu: &Emulator, config: Value) {
    let body = json!({ "object_notifications": config });
    let (status, text) = patch(emu, "events", &body, None, false).await;
    assert_eq!(status, 200, "{text}");
}

/// Puts `events/k` with `body`; answers its ETag without quotes.
async fn put_k(s3: &aws_sdk_s3::Client, body: &'static [u8]) -> String {
    let out = s3
        .put_object()
        .bucket("events")
        .key("k")
        .body(ByteStream::from_static(body))
        .send()
        .await
        .unwrap();
    out.e_tag().unwrap().trim_matches('"').to_owned()
}

#[tokio::test]
async fn a_masked_token_sent_back_keeps_delivering_with_the_stored_token() {
    let emu = Emulator::start().await.unwrap();
    let (url, mut rx) = receiver(0).await;
    let config =
        json!({"enabled": true, "web_hook": url, "filter": "", "auth": {"token": "real-token"}});
    let s3 = bucket_with_notifications(&emu, config).await;
    let shown = shown_notifications(&emu).await;
    assert_eq!(shown["auth"], json!({"token": "********"}));
    // What the official CLI sends for `set-notifications --filter ...`: the metadata it read,
    // masked token included, with the new filter.
    let mut sent = shown.clone();
    sent["filter"] = json!("WHERE `key` REGEXP \"^k\"");
    set(&emu, sent).await;
    put_k(&s3, b"x").await;
    let (auth, _) = next_event(&mut rx).await;
    assert_eq!(auth.as_deref(), Some("Bearer real-token"));
    assert_eq!(
        shown_notifications(&emu).await["filter"],
        "WHERE `key` REGEXP \"^k\""
    );
}

#[tokio::test]
async fn a_masked_basic_password_sent_back_keeps_the_stored_password() {
    let emu = Emulator::start().await.unwrap();
    let (url, mut rx) = receiver(0).await;
    let config = json!({"enabled": true, "web_hook": url, "filter": "",
        "auth": {"basic_user": "u", "basic_pass": "p"}});
    let s3 = bucket_with_notifications(&emu, config).await;
    let shown = shown_notifications(&emu).await;
    assert_eq!(
        shown["auth"],
        json!({"basic_user": "u", "basic_pass": "********"})
    );
    set(&emu, shown).await;
    put_k(&s3, b"x").await;
    let (auth, _) = next_event(&mut rx).await;
    assert_eq!(auth.as_deref(), Some("Basic dTpw"), "u:p");
}

#[tokio::test]
async fn disabled_settings_deliver_nothing_and_are_kept_to_be_enabled_again() {
    let emu = Emulator::start().await.unwrap();
    let (url, mut rx) = receiver(0).await;
    let config =
        json!({"enabled": true, "web_hook": url, "filter": "", "auth": {"token": "real-token"}});
    let s3 = bucket_with_notifications(&emu, config).await;
    // `set-notifications --disable`, then `--enable`, as the official CLI sends them.
    let mut sent = shown_notifications(&emu).await;
    sent["enabled"] = json!(false);
    set(&emu, sent).await;
    let shown = shown_notifications(&emu).await;
    assert_eq!(shown["enabled"], false);
    assert_eq!(shown["web_hook"], url.as_str());
    put_k(&s3, b"while disabled").await;
    let mut sent = shown;
    sent["enabled"] = json!(true);
    set(&emu, sent).await;
    let etag = put_k(&s3, b"enabled again").await;
    // One key's events go through one lane in order: had the write made while disabled been
    // queued, it would arrive first.
    let (auth, payload) = next_event(&mut rx).await;
    assert_eq!(payload["events"][0]["object"]["eTag"], etag.as_str());
    assert_eq!(auth.as_deref(), Some("Bearer real-token"));
}

#[tokio::test]
async fn a_masked_token_with_no_stored_token_is_refused() {
    let emu = Emulator::start().await.unwrap();
    let (url, _rx) = receiver(0).await;
    bucket_with_notifications(&emu, json!({"enabled": true, "web_hook": url})).await;
    let body = json!({"object_notifications":
        {"enabled": true, "web_hook": url, "auth": {"token": "********"}}});
    let (status, text) = patch(&emu, "events", &body, None, false).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("no token is stored"), "{text}");
    assert!(shown_notifications(&emu).await.get("auth").is_none());
}

#[tokio::test]
async fn settings_without_auth_show_no_auth_field() {
    let emu = Emulator::start().await.unwrap();
    let (url, _rx) = receiver(0).await;
    bucket_with_notifications(
        &emu,
        json!({"enabled": true, "web_hook": url, "auth": null}),
    )
    .await;
    let shown = shown_notifications(&emu).await;
    assert!(
        shown.get("auth").is_none(),
        "auth: null breaks the CLI: {shown}"
    );
    assert_eq!(shown["filter"], "", "{shown}");
    assert_eq!(shown["enabled"], true, "{shown}");
}

#[tokio::test]
async fn a_kept_token_and_a_disabled_state_survive_a_restart_with_a_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let (url, mut rx) = receiver(0).await;
    let emu = Emulator::builder()
        .data_dir(dir.path())
        .start()
        .await
        .unwrap();
    let config = json!({"enabled": true, "web_hook": url, "filter": "", "auth": {"token": "kept"}});
    bucket_with_notifications(&emu, config).await;
    let mut sent = shown_notifications(&emu).await;
    sent["enabled"] = json!(false);
    set(&emu, sent).await;
    emu.shutdown().await;

    let emu = Emulator::builder()
        .data_dir(dir.path())
        .start()
        .await
        .unwrap();
    let shown = shown_notifications(&emu).await;
    assert_eq!(shown["enabled"], false, "{shown}");
    set(&emu, json!({"enabled": true})).await;
    let etag = put_k(&client(&emu), b"after the restart").await;
    let (auth, payload) = next_event(&mut rx).await;
    assert_eq!(auth.as_deref(), Some("Bearer kept"));
    assert_eq!(payload["events"][0]["object"]["eTag"], etag.as_str());
}

#[tokio::test]
async fn switching_on_settings_that_were_never_set_is_refused() {
    let emu = Emulator::start().await.unwrap();
    client(&emu)
        .create_bucket()
        .bucket("events")
        .send()
        .await
        .unwrap();
    let body = json!({"object_notifications": {"enabled": true}});
    let (status, text) = patch(&emu, "events", &body, None, false).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("no notification settings"), "{text}");
}
