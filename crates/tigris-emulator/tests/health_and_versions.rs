//! The liveness probe, the binary's readiness line, and version collection seen from a client.

mod common;

use aws_sdk_s3::primitives::ByteStream;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Sends one raw HTTP/1.1 request and returns the whole response.
async fn raw_request(addr: &str, request: &str) -> String {
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    socket.read_to_end(&mut response).await.unwrap();
    String::from_utf8(response).unwrap()
}

fn get_health(host: &str) -> String {
    format!("GET /health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
}

#[tokio::test]
async fn health_answers_without_credentials_and_signed_requests_still_reach_s3() {
    let emu = tigris_emulator::Emulator::start().await.unwrap();
    let addr = emu.local_addr().to_string();
    let resp = raw_request(&addr, &get_health(&addr)).await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.ends_with("ok\n"), "{resp}");
    // Unsigned S3 requests elsewhere are still refused.
    let s3 = common::client(&emu);
    s3.create_bucket().bucket("other").send().await.unwrap();
    let other = format!("GET /other HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let resp = raw_request(&addr, &other).await;
    assert!(resp.starts_with("HTTP/1.1 403"), "{resp}");
    // A signed GET /health is ListObjects on a bucket called `health`.
    let err = s3
        .list_objects_v2()
        .bucket("health")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.into_service_error().meta().code(), Some("NoSuchBucket"));
    s3.create_bucket().bucket("health").send().await.unwrap();
    let listed = s3.list_objects_v2().bucket("health").send().await.unwrap();
    assert_eq!(listed.key_count(), Some(0));
}

#[tokio::test]
async fn the_binary_prints_ready_once_listening_and_serves_health() {
    let (mut child, endpoint, banner) = common::spawn_binary(["--port", "0"]).await;
    assert!(
        banner
            .iter()
            .any(|l| l.contains("in memory: data is lost when it stops")),
        "{banner:?}"
    );
    let addr = endpoint.strip_prefix("http://").unwrap();
    let resp = raw_request(addr, &get_health(addr)).await;
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
}

async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: String) {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body.into_bytes()))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn overwrites_keep_only_reachable_versions() {
    let emu = tigris_emulator::Emulator::start().await.unwrap();
    let s3 = common::client(&emu);
    s3.create_bucket()
        .bucket("snaps")
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("X-Tigris-Enable-Snapshot", "true");
        })
        .send()
        .await
        .unwrap();
    for i in 0..500 {
        put(&s3, "snaps", "k", format!("v{i}")).await;
    }
    put(&s3, "snaps", "other", "x".into()).await;
    assert_eq!(emu.retained_versions(), 2, "one live version per key");

    s3.create_bucket()
        .bucket("fork")
        .customize()
        .mutate_request(|r| {
            r.headers_mut()
                .insert("X-Tigris-Fork-Source-Bucket", "snaps");
        })
        .send()
        .await
        .unwrap();
    for i in 0..100 {
        put(&s3, "snaps", "k", format!("w{i}")).await;
    }
    assert_eq!(emu.retained_versions(), 3, "the fork point pins v499");
    let forked = s3
        .get_object()
        .bucket("fork")
        .key("k")
        .send()
        .await
        .unwrap();
    let body = forked.body.collect().await.unwrap().into_bytes();
    assert_eq!(&body[..], b"v499");

    s3.delete_bucket()
        .bucket("fork")
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("Tigris-Force-Delete", "true");
        })
        .send()
        .await
        .unwrap();
    assert_eq!(emu.retained_versions(), 2, "deleting the fork frees v499");
    s3.delete_object()
        .bucket("snaps")
        .key("other")
        .send()
        .await
        .unwrap();
    assert_eq!(emu.retained_versions(), 1);
}
