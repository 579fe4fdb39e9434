//! Query-string SigV4 (presigned URLs from aws-sdk-s3's `presigned()`) over plain HTTP: the
//! emulator honours them while valid and refuses expired or altered ones.

use std::time::{Duration, SystemTime};

use aws_sdk_s3::presigning::{PresignedRequest, PresigningConfig};
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioExecutor;
use tigris_emulator::Emulator;

mod common;
use common::client;

/// Sends a presigned request as a browser or `curl` would: its method, URL and headers only.
async fn send(req: &PresignedRequest, body: &'static [u8]) -> (u16, Bytes) {
    fetch(req.method(), req.uri(), req.headers(), body).await
}

async fn fetch<'a>(
    method: &str,
    uri: &str,
    headers: impl Iterator<Item = (&'a str, &'a str)>,
    body: &'static [u8],
) -> (u16, Bytes) {
    let mut builder = http::Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    let req = builder.body(Full::new(Bytes::from_static(body))).unwrap();
    let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http();
    let resp = client.request(req).await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.into_body().collect().await.unwrap().to_bytes())
}

fn valid_for(secs: u64) -> PresigningConfig {
    PresigningConfig::expires_in(Duration::from_secs(secs)).unwrap()
}

async fn bucket_with_object(emu: &Emulator) -> aws_sdk_s3::Client {
    let s3 = client(emu);
    s3.create_bucket().bucket("pre").send().await.unwrap();
    s3.put_object()
        .bucket("pre")
        .key("dir/a file.txt")
        .body(ByteStream::from_static(b"hello"))
        .send()
        .await
        .unwrap();
    s3
}

#[tokio::test]
async fn presigned_get_reads_the_object_over_plain_http() {
    let emu = Emulator::start().await.unwrap();
    let s3 = bucket_with_object(&emu).await;
    let req = s3
        .get_object()
        .bucket("pre")
        .key("dir/a file.txt")
        .presigned(valid_for(300))
        .await
        .unwrap();
    assert!(req.uri().starts_with("http://"), "{}", req.uri());
    let (status, body) = send(&req, b"").await;
    assert_eq!(status, 200, "{body:?}");
    assert_eq!(&body[..], b"hello");
}

#[tokio::test]
async fn presigned_put_writes_the_object() {
    let emu = Emulator::start().await.unwrap();
    let s3 = bucket_with_object(&emu).await;
    let req = s3
        .put_object()
        .bucket("pre")
        .key("uploaded.txt")
        .presigned(valid_for(300))
        .await
        .unwrap();
    let (status, body) = send(&req, b"from a presigned put").await;
    assert_eq!(status, 200, "{body:?}");
    let got = s3
        .get_object()
        .bucket("pre")
        .key("uploaded.txt")
        .send()
        .await
        .unwrap();
    let got = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(&got[..], b"from a presigned put");
}

#[tokio::test]
async fn expired_presigned_url_is_refused_403() {
    let emu = Emulator::start().await.unwrap();
    let s3 = bucket_with_object(&emu).await;
    let config = PresigningConfig::builder()
        .start_time(SystemTime::now() - Duration::from_secs(3600))
        .expires_in(Duration::from_secs(60))
        .build()
        .unwrap();
    let req = s3
        .get_object()
        .bucket("pre")
        .key("dir/a file.txt")
        .presigned(config)
        .await
        .unwrap();
    let (status, body) = send(&req, b"").await;
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));
    assert!(!body.starts_with(b"hello"));
}

#[tokio::test]
async fn presigned_url_with_another_key_is_refused_403() {
    let emu = Emulator::start().await.unwrap();
    let s3 = bucket_with_object(&emu).await;
    s3.put_object()
        .bucket("pre")
        .key("secret.txt")
        .body(ByteStream::from_static(b"not for you"))
        .send()
        .await
        .unwrap();
    let req = s3
        .get_object()
        .bucket("pre")
        .key("dir/a file.txt")
        .presigned(valid_for(300))
        .await
        .unwrap();
    let tampered = req
        .uri()
        .replace("/pre/dir/a%20file.txt", "/pre/secret.txt");
    assert_ne!(tampered, req.uri());
    let (status, body) = fetch(req.method(), &tampered, req.headers(), b"").await;
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));
}

#[tokio::test]
async fn presigned_url_with_a_longer_expiry_is_refused_403() {
    let emu = Emulator::start().await.unwrap();
    let s3 = bucket_with_object(&emu).await;
    let req = s3
        .get_object()
        .bucket("pre")
        .key("dir/a file.txt")
        .presigned(valid_for(300))
        .await
        .unwrap();
    let tampered = req.uri().replace("X-Amz-Expires=300", "X-Amz-Expires=600");
    assert_ne!(tampered, req.uri());
    let (status, body) = fetch(req.method(), &tampered, req.headers(), b"").await;
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));
}
