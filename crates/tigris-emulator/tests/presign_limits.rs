//! What S3 checks on a presigned URL beyond its signature: a lifetime of 1 second to 7 days,
//! and no `x-amz-*` / `x-tigris-*` header that the signature does not cover.

use std::time::{Duration, SystemTime};

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioExecutor;
use tigris_emulator::Emulator;

mod common;
use common::client;

async fn fetch(method: &str, uri: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let mut builder = http::Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let req = builder
        .body(Full::new(Bytes::copy_from_slice(body)))
        .unwrap();
    let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http();
    let resp = client.request(req).await.unwrap();
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn setup(emu: &Emulator) -> aws_sdk_s3::Client {
    let s3 = client(emu);
    s3.create_bucket().bucket("pre").send().await.unwrap();
    for (key, body) in [("private.txt", "private"), ("public.txt", "public")] {
        s3.put_object()
            .bucket("pre")
            .key(key)
            .body(ByteStream::from_static(body.as_bytes()))
            .send()
            .await
            .unwrap();
    }
    s3
}

async fn presigned_put(s3: &aws_sdk_s3::Client, key: &str) -> String {
    s3.put_object()
        .bucket("pre")
        .key(key)
        .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).unwrap())
        .await
        .unwrap()
        .uri()
        .to_owned()
}

async fn body_of(s3: &aws_sdk_s3::Client, key: &str) -> Option<String> {
    let out = s3.get_object().bucket("pre").key(key).send().await.ok()?;
    let bytes = out.body.collect().await.unwrap().into_bytes();
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn a_presigned_put_with_an_unsigned_copy_source_is_refused_and_copies_nothing() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let url = presigned_put(&s3, "upload.txt").await;
    let (status, body) = fetch(
        "PUT",
        &url,
        &[("x-amz-copy-source", "pre/private.txt")],
        b"",
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("AccessDenied"), "{body}");
    assert_eq!(body_of(&s3, "upload.txt").await, None);
}

#[tokio::test]
async fn a_presigned_put_with_an_unsigned_rename_header_is_refused_and_keeps_the_source() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let url = presigned_put(&s3, "moved.txt").await;
    let (status, body) = fetch(
        "PUT",
        &url,
        &[
            ("x-amz-copy-source", "pre/public.txt"),
            ("X-Tigris-Rename", "true"),
        ],
        b"",
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body_of(&s3, "public.txt").await.as_deref(), Some("public"));
    assert_eq!(body_of(&s3, "moved.txt").await, None);
}

#[tokio::test]
async fn a_presigned_put_sent_with_only_its_signed_headers_still_works() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let url = presigned_put(&s3, "upload.txt").await;
    let (status, body) = fetch("PUT", &url, &[], b"uploaded").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body_of(&s3, "upload.txt").await.as_deref(),
        Some("uploaded")
    );
}

/// A presigned GET of `pre/public.txt` signed with the root key for `expires`, which the SDK's
/// presigner caps at 7 days, so it is signed here with `aws-sigv4` directly.
fn presigned_get_for(emu: &Emulator, expires: Duration) -> String {
    use aws_sigv4::http_request::{
        SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
    };
    let root = emu.root_credentials();
    let identity = aws_credential_types::Credentials::new(
        root.access_key_id(),
        root.secret_access_key(),
        None,
        None,
        "test",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(expires);
    settings.payload_checksum_kind = aws_sigv4::http_request::PayloadChecksumKind::NoHeader;
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("auto")
        .name("s3")
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let uri = format!("{}/pre/public.txt", emu.endpoint());
    let host = uri.split('/').nth(2).unwrap().to_owned();
    let signable = SignableRequest::new(
        "GET",
        &uri,
        [("host", host.as_str())].into_iter(),
        SignableBody::UnsignedPayload,
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut req = http::Request::builder()
        .method("GET")
        .uri(&uri)
        .body(())
        .unwrap();
    instructions.apply_to_request_http1x(&mut req);
    req.uri().to_string()
}

#[tokio::test]
async fn presigned_urls_valid_for_more_than_seven_days_are_refused() {
    let emu = Emulator::start().await.unwrap();
    setup(&emu).await;
    let day = 86_400;
    let ok = presigned_get_for(&emu, Duration::from_secs(7 * day));
    assert_eq!(fetch("GET", &ok, &[], b"").await.0, 200);
    for secs in [8 * day, 91 * day, 136 * 365 * day] {
        let url = presigned_get_for(&emu, Duration::from_secs(secs));
        let (status, body) = fetch("GET", &url, &[], b"").await;
        assert_eq!(status, 403, "{secs} s: {body}");
        assert!(body.contains("AccessDenied"), "{body}");
    }
}

#[tokio::test]
async fn presigned_urls_valid_for_zero_seconds_are_refused() {
    let emu = Emulator::start().await.unwrap();
    setup(&emu).await;
    let url = presigned_get_for(&emu, Duration::from_secs(0));
    let (status, body) = fetch("GET", &url, &[], b"").await;
    assert_eq!(status, 403, "{body}");
}

#[tokio::test]
async fn presigned_urls_with_a_negative_expiry_are_refused_403_before_their_signature_is_read() {
    let emu = Emulator::start().await.unwrap();
    setup(&emu).await;
    // boto3 signs `ExpiresIn=-7` as it is; a negative lifetime is refused as an out-of-range
    // one, not as a malformed request.
    let url = presigned_get_for(&emu, Duration::from_secs(60))
        .replace("X-Amz-Expires=60", "X-Amz-Expires=-7");
    let (status, body) = fetch("GET", &url, &[], b"").await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("AccessDenied"), "{body}");
}
