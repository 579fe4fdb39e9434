//! Tigris's presign endpoint, `POST /?func=presign`, signed as the released clients sign it:
//! the URLs it answers work over plain HTTP, and requests it must refuse are refused.

use std::time::SystemTime;

use aws_sdk_s3::primitives::ByteStream;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode, sign,
};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use tigris_emulator::Emulator;

mod common;
use common::{client, policy, scoped_key};

async fn send(req: http::Request<Full<Bytes>>) -> (u16, String) {
    let (status, _, body) = send_full(req).await;
    (status, body)
}

async fn send_full(req: http::Request<Full<Bytes>>) -> (u16, http::HeaderMap, String) {
    let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http();
    let resp = client.request(req).await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

/// `POST /?func=presign` with `body`, signed by `key` for service `s3`, region `auto`.
async fn presign(emu: &Emulator, key: (&str, &str), body: &Value) -> (u16, String) {
    let (status, _, body) = signed(emu, key, "POST", "/?func=presign", &[], body.to_string()).await;
    (status, body)
}

/// A request signed as the released clients sign Tigris's JSON endpoints.
async fn signed(
    emu: &Emulator,
    key: (&str, &str),
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: String,
) -> (u16, http::HeaderMap, String) {
    let uri = format!("{}{path_and_query}", emu.endpoint());
    let creds = aws_credential_types::Credentials::new(key.0, key.1, None, None, "test");
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
    let mut builder = http::Request::builder()
        .method(method)
        .uri(&uri)
        .header("content-type", "application/json")
        .header("accept", "application/json");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let mut req = builder.body(()).unwrap();
    let signable = SignableRequest::new(
        method,
        &uri,
        req.headers()
            .iter()
            .map(|(k, v)| (k.as_str(), v.to_str().unwrap())),
        SignableBody::Bytes(body.as_bytes()),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    instructions.apply_to_request_http1x(&mut req);
    send_full(req.map(|()| Full::new(Bytes::from(body)))).await
}

fn root(emu: &Emulator) -> (String, String) {
    let r = emu.root_credentials();
    (
        r.access_key_id().to_owned(),
        r.secret_access_key().to_owned(),
    )
}

fn request(key_id: &str, kind: &str, key: &str, expires_in: u64) -> Value {
    json!({"bucket": "pre", "key": key, "key_id": key_id, "type": kind, "expires_in": expires_in})
}

/// The `url` of a successful answer.
fn url_of((status, body): (u16, String)) -> String {
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert!(v.get("key_secret").is_none(), "{body}");
    v["url"].as_str().unwrap().to_owned()
}

async fn fetch(method: &str, url: &str, body: &'static [u8]) -> (u16, String) {
    let req = http::Request::builder()
        .method(method)
        .uri(url)
        .body(Full::new(Bytes::from_static(body)))
        .unwrap();
    send(req).await
}

async fn setup(emu: &Emulator, snapshots: bool) -> aws_sdk_s3::Client {
    let s3 = client(emu);
    let mut create = s3.create_bucket().bucket("pre").customize();
    if snapshots {
        create = create.mutate_request(|r| {
            r.headers_mut().insert("x-tigris-enable-snapshot", "true");
        });
    }
    create.send().await.unwrap();
    put(&s3, "dir/a file.txt", "hello").await;
    s3
}

async fn put(s3: &aws_sdk_s3::Client, key: &str, body: &'static str) {
    s3.put_object()
        .bucket("pre")
        .key(key)
        .body(ByteStream::from_static(body.as_bytes()))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn presigned_get_url_reads_the_object_without_credentials() {
    let emu = Emulator::start().await.unwrap();
    setup(&emu, false).await;
    let (id, secret) = root(&emu);
    let url = url_of(
        presign(
            &emu,
            (&id, &secret),
            &request(&id, "get", "dir/a file.txt", 600),
        )
        .await,
    );
    assert!(url.contains("X-Amz-Expires=600"), "{url}");
    assert_eq!(fetch("GET", &url, b"").await, (200, "hello".into()));
}

#[tokio::test]
async fn presigned_put_url_writes_the_object() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu, false).await;
    let (id, secret) = root(&emu);
    let url = url_of(presign(&emu, (&id, &secret), &request(&id, "put", "up.txt", 60)).await);
    assert_eq!(fetch("PUT", &url, b"uploaded").await.0, 200);
    let got = s3
        .get_object()
        .bucket("pre")
        .key("up.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(
        &got.body.collect().await.unwrap().into_bytes()[..],
        b"uploaded"
    );
}

#[tokio::test]
async fn presigned_get_url_does_not_write() {
    let emu = Emulator::start().await.unwrap();
    setup(&emu, false).await;
    let (id, secret) = root(&emu);
    let url = url_of(
        presign(
            &emu,
            (&id, &secret),
            &request(&id, "get", "dir/a file.txt", 60),
        )
        .await,
    );
    assert_eq!(fetch("PUT", &url, b"overwritten").await.0, 403);
}

#[tokio::test]
async fn expiry_of_ninety_days_is_accepted_and_longer_is_400() {
    let emu = Emulator::start().await.unwrap();
    setup(&emu, false).await;
    let (id, secret) = root(&emu);
    let ninety_days = 90 * 24 * 3600;
    let url = url_of(
        presign(
            &emu,
            (&id, &secret),
            &request(&id, "get", "dir/a file.txt", ninety_days),
        )
        .await,
    );
    assert_eq!(fetch("GET", &url, b"").await.0, 200);
    for expires_in in [ninety_days + 1, 0] {
        let (status, body) = presign(
            &emu,
            (&id, &secret),
            &request(&id, "get", "dir/a file.txt", expires_in),
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("InvalidArgument"), "{body}");
    }
}

#[tokio::test]
async fn unknown_type_is_400() {
    let emu = Emulator::start().await.unwrap();
    setup(&emu, false).await;
    let (id, secret) = root(&emu);
    let (status, body) = presign(&emu, (&id, &secret), &request(&id, "delete", "k", 60)).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn signer_without_put_object_cannot_presign_a_put() {
    let emu = Emulator::start().await.unwrap();
    setup(&emu, false).await;
    let doc = policy(&["s3:GetObject"], "pre", None);
    let (id, secret, _) = scoped_key(&emu, "ro", &doc).await;
    let url = url_of(
        presign(
            &emu,
            (&id, &secret),
            &request(&id, "get", "dir/a file.txt", 60),
        )
        .await,
    );
    assert_eq!(fetch("GET", &url, b"").await.0, 200);
    let (status, body) = presign(&emu, (&id, &secret), &request(&id, "put", "x", 60)).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("AccessDenied"), "{body}");
}

#[tokio::test]
async fn presigning_with_another_keys_id_is_refused_403() {
    let emu = Emulator::start().await.unwrap();
    setup(&emu, false).await;
    let (root_id, _) = root(&emu);
    let doc = policy(&["s3:GetObject"], "pre", None);
    let (id, secret, _) = scoped_key(&emu, "ro", &doc).await;
    let (status, body) = presign(&emu, (&id, &secret), &request(&root_id, "put", "x", 60)).await;
    assert_eq!(status, 403, "{body}");
}

#[tokio::test]
async fn presigning_in_a_missing_bucket_is_404() {
    let emu = Emulator::start().await.unwrap();
    let (id, secret) = root(&emu);
    let (status, body) = presign(&emu, (&id, &secret), &request(&id, "get", "k", 60)).await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("NoSuchBucket"), "{body}");
}

#[tokio::test]
async fn version_id_from_a_snapshot_read_pins_the_url_to_that_version() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu, true).await;
    let head = s3
        .head_object()
        .bucket("pre")
        .key("dir/a file.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(head.version_id(), None, "live reads carry no version id");
    let version = snapshot_version(&emu).await;
    put(&s3, "dir/a file.txt", "changed").await;
    let at_snapshot = s3
        .head_object()
        .bucket("pre")
        .key("dir/a file.txt")
        .customize()
        .mutate_request(move |r| {
            r.headers_mut()
                .insert("x-tigris-snapshot-version", version.clone());
        })
        .send()
        .await
        .unwrap();
    let version_id = at_snapshot.version_id().unwrap().to_owned();
    let (id, secret) = root(&emu);
    let mut body = request(&id, "get", "dir/a file.txt", 60);
    body["version_id"] = version_id.clone().into();
    let url = url_of(presign(&emu, (&id, &secret), &body).await);
    assert!(url.contains(&format!("versionId={version_id}")), "{url}");
    assert_eq!(fetch("GET", &url, b"").await, (200, "hello".into()));
    let live = url_of(
        presign(
            &emu,
            (&id, &secret),
            &request(&id, "get", "dir/a file.txt", 60),
        )
        .await,
    );
    assert_eq!(fetch("GET", &live, b"").await, (200, "changed".into()));
}

/// Takes a snapshot of `pre` and returns its version.
async fn snapshot_version(emu: &Emulator) -> String {
    let (id, secret) = root(emu);
    let (status, headers, body) = signed(
        emu,
        (&id, &secret),
        "PUT",
        "/pre",
        &[("x-tigris-snapshot", "true")],
        String::new(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    headers["x-tigris-snapshot-version"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn version_id_that_names_no_version_of_the_key_is_404() {
    let emu = Emulator::start().await.unwrap();
    setup(&emu, true).await;
    let (id, secret) = root(&emu);
    let mut body = request(&id, "get", "dir/a file.txt", 60);
    body["version_id"] = "12345".into();
    let (status, text) = presign(&emu, (&id, &secret), &body).await;
    assert_eq!(status, 404, "{text}");
    assert!(text.contains("NoSuchVersion"), "{text}");
}
