//! Bounded resources: idle and half-sent connections are closed, a connection flood is answered
//! `503 SlowDown` instead of exhausting file descriptors, and S3's metadata limits hold.

use std::time::Duration;

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use tigris_emulator::Emulator;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod common;
use common::client;

/// A guard against a hung test, not a synchronisation: the server closes well before it.
const GUARD: Duration = Duration::from_secs(20);

/// Reads until the server closes the connection; returns what it sent.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    tokio::time::timeout(GUARD, stream.read_to_end(&mut out))
        .await
        .expect("the server closes the connection")
        .ok();
    String::from_utf8_lossy(&out).into_owned()
}

async fn short_timeouts() -> Emulator {
    Emulator::builder()
        .header_read_timeout(Duration::from_millis(300))
        .idle_timeout(Duration::from_millis(600))
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_connection_that_never_sends_its_headers_is_closed() {
    let emu = short_timeouts().await;
    let mut half = TcpStream::connect(emu.local_addr()).await.unwrap();
    half.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    read_until_closed(&mut half).await;
    let mut silent = TcpStream::connect(emu.local_addr()).await.unwrap();
    read_until_closed(&mut silent).await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_and_a_stalled_body_are_closed() {
    let emu = short_timeouts().await;
    let mut idle = TcpStream::connect(emu.local_addr()).await.unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answered = read_until_closed(&mut idle).await;
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");

    // Headers complete, body promised but never sent: only the idle timeout ends it.
    let mut stalled = TcpStream::connect(emu.local_addr()).await.unwrap();
    stalled
        .write_all(
            b"PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\
              x-amz-content-sha256: UNSIGNED-PAYLOAD\r\n\r\npartial",
        )
        .await
        .unwrap();
    read_until_closed(&mut stalled).await;
}

#[tokio::test]
async fn connections_over_the_limit_get_slow_down_and_the_server_keeps_serving() {
    let emu = Emulator::builder()
        .max_connections(2)
        .start()
        .await
        .unwrap();
    // Two connections that hold their permit: each has completed a request and stays open.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut c = TcpStream::connect(emu.local_addr()).await.unwrap();
        c.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 12];
        c.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"HTTP/1.1 200");
        held.push(c);
    }
    let mut third = TcpStream::connect(emu.local_addr()).await.unwrap();
    let answer = read_until_closed(&mut third).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("<Code>SlowDown</Code>"), "{answer}");

    // Once the held connections close, the permits come back: an SDK client (which retries
    // SlowDown) gets through.
    drop(held);
    client(&emu).list_buckets().send().await.unwrap();
}

#[tokio::test]
async fn a_hundred_metadata_headers_are_accepted_and_more_than_2_kb_is_refused() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("meta").send().await.unwrap();
    let mut put = s3.put_object().bucket("meta").key("many");
    for i in 0..100 {
        put = put.metadata(format!("k{i:03}"), "v");
    }
    // (Reading them back is left out: the SDK's own HTTP client refuses responses with over
    // 100 header lines.)
    put.body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();

    let err = s3
        .put_object()
        .bucket("meta")
        .key("big")
        .metadata("big", "x".repeat(2048))
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("MetadataTooLarge"));
    let err = s3
        .create_multipart_upload()
        .bucket("meta")
        .key("big")
        .metadata("big", "x".repeat(2048))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("MetadataTooLarge"));
}
