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

/// The HTTP/2 connection preface (RFC 9113 §3.4) and an empty SETTINGS frame.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

#[tokio::test]
async fn a_cleartext_http2_connection_is_not_served_as_http2() {
    let emu = Emulator::start().await.unwrap();
    let mut h2 = TcpStream::connect(emu.local_addr()).await.unwrap();
    h2.write_all(H2_PREFACE).await.unwrap();
    // The first bytes the server sends, or none when it closes.
    let mut answer = Vec::new();
    tokio::time::timeout(GUARD, async {
        let mut buf = [0u8; 64];
        while answer.len() < 9 {
            match h2.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .expect("the server answers or closes");
    // An HTTP/2 server answers with its SETTINGS frame (type 4 in the fourth byte); an
    // HTTP/1.1 server answers an HTTP/1.1 error or closes.
    assert!(
        answer.is_empty() || answer.starts_with(b"HTTP/1.1 "),
        "answered {:?}",
        String::from_utf8_lossy(&answer)
    );
}

/// Sends a form upload's head (`Content-Length: declared`) and `body`, never the rest, and
/// answers what the server sends before it closes the connection.
async fn partial_form(emu: &Emulator, declared: u64, body: &[u8]) -> String {
    let mut stream = TcpStream::connect(emu.local_addr()).await.unwrap();
    let head = format!(
        "POST /mine HTTP/1.1\r\nHost: {}\r\nContent-Type: multipart/form-data; boundary=b0undary\r\n\
         Content-Length: {declared}\r\n\r\n",
        emu.local_addr()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    // The rest never comes: only an answer given before the body ends closes this.
    read_until_closed(&mut stream).await
}

#[tokio::test]
async fn a_form_upload_declaring_more_than_5_gib_is_refused_before_its_body_is_read() {
    let emu = Emulator::start().await.unwrap();
    let answer = partial_form(&emu, 6 << 30, b"").await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("EntityTooLarge"), "{answer}");
}

#[tokio::test]
async fn an_unsigned_form_is_refused_once_its_fields_are_read_not_after_its_file() {
    let emu = Emulator::start().await.unwrap();
    client(&emu)
        .create_bucket()
        .bucket("mine")
        .send()
        .await
        .unwrap();
    let mut body = Vec::new();
    for (name, value) in [
        ("key", "k"),
        ("x-amz-algorithm", "AWS4-HMAC-SHA256"),
        (
            "x-amz-credential",
            "tid_emulator_root/20260101/auto/s3/aws4_request",
        ),
        ("x-amz-date", "20260101T000000Z"),
        ("policy", "eyJjb25kaXRpb25zIjpbXX0="),
        ("x-amz-signature", "00"),
    ] {
        body.extend_from_slice(
            format!(
                "--b0undary\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        b"--b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\n",
    );
    body.extend(std::iter::repeat_n(b'x', 256 << 10));
    // 64 MiB promised, 256 KiB of file sent: the signature is checked from the fields alone.
    let answer = partial_form(&emu, 64 << 20, &body).await;
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
    assert!(
        client(&emu)
            .list_objects_v2()
            .bucket("mine")
            .send()
            .await
            .unwrap()
            .contents()
            .is_empty()
    );
}
