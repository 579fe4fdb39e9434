//! `POST /{bucket}?bundle`: many objects as one streamed tar, read back with the `tar` crate.

use std::io::Read;

use aws_sdk_s3::primitives::ByteStream;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tigris_emulator::Emulator;

mod common;
use common::{client, policy, scoped_key, signed_request};

struct Bundle {
    status: u16,
    content_type: String,
    body: Vec<u8>,
    trailers: Option<http::HeaderMap>,
}

async fn bundle(
    emu: &Emulator,
    key: (&str, &str),
    keys: &[&str],
    extra: &[(&str, &str)],
) -> Bundle {
    let body = json!({ "keys": keys }).to_string();
    let mut headers = vec![
        ("content-type", "application/json"),
        ("x-tigris-bundle-format", "tar"),
        ("te", "trailers"),
    ];
    headers.extend_from_slice(extra);
    let resp = signed_request(emu, key, "POST", "/data?bundle", &headers, body.as_bytes()).await;
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let collected = resp.into_body().collect().await.unwrap();
    let trailers = collected.trailers().cloned();
    Bundle {
        status,
        content_type,
        body: collected.to_bytes().to_vec(),
        trailers,
    }
}

fn root(emu: &Emulator) -> (String, String) {
    let r = emu.root_credentials();
    (r.access_key_id().into(), r.secret_access_key().into())
}

/// (name, contents) of every entry, in order.
fn entries(tar_bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = tar::Archive::new(tar_bytes);
    archive
        .entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let name = e.path().unwrap().to_string_lossy().into_owned();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            (name, data)
        })
        .collect()
}

async fn setup() -> (Emulator, Vec<u8>) {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("data").send().await.unwrap();
    // Larger than one streamed slice, and not a multiple of the tar block size.
    let big: Vec<u8> = (0..700_001u32).map(|i| (i % 251) as u8).collect();
    for (key, body) in [
        ("a.txt", b"alpha".to_vec()),
        ("dir/big.bin", big.clone()),
        ("pub/x", b"public".to_vec()),
        ("secret", b"hidden".to_vec()),
    ] {
        s3.put_object()
            .bucket("data")
            .key(key)
            .body(ByteStream::from(body))
            .send()
            .await
            .unwrap();
    }
    (emu, big)
}

#[tokio::test]
async fn entries_come_in_request_order_and_missing_keys_are_reported() {
    let (emu, big) = setup().await;
    let (id, secret) = root(&emu);
    let got = bundle(&emu, (&id, &secret), &["dir/big.bin", "nope", "a.txt"], &[]).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.content_type, "application/x-tar");
    let listed = entries(&got.body);
    let names: Vec<&str> = listed.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["dir/big.bin", "a.txt", "__bundle_errors.json"]);
    assert_eq!(listed[0].1, big);
    assert_eq!(listed[1].1, b"alpha");
    let report: Value = serde_json::from_slice(&listed[2].1).unwrap();
    assert_eq!(
        report,
        json!({"skipped": [{"key": "nope", "reason": "NoSuchKey"}]})
    );
    let trailers = got.trailers.expect("trailers for a client that asked");
    assert_eq!(trailers["x-tigris-bundle-count"], "2");
    assert_eq!(
        trailers["x-tigris-bundle-bytes"],
        (big.len() + 5).to_string().as_str()
    );
    assert_eq!(trailers["x-tigris-bundle-skipped"], "1");
}

#[tokio::test]
async fn fail_mode_refuses_before_streaming_and_lists_every_missing_key() {
    let (emu, _) = setup().await;
    let (id, secret) = root(&emu);
    let got = bundle(
        &emu,
        (&id, &secret),
        &["a.txt", "gone-1", "gone-2"],
        &[("x-tigris-bundle-on-error", "fail")],
    )
    .await;
    assert_eq!(got.status, 404);
    let text = String::from_utf8(got.body).unwrap();
    assert!(text.contains("<Code>BundleKeyNotFound</Code>"), "{text}");
    assert!(
        text.contains("<MissingKeys><Key>gone-1</Key><Key>gone-2</Key></MissingKeys>"),
        "{text}"
    );
}

#[tokio::test]
async fn gzip_and_zstd_streams_hold_the_same_tar() {
    let (emu, _) = setup().await;
    let (id, secret) = root(&emu);
    let keys = ["a.txt", "dir/big.bin"];
    let plain = bundle(&emu, (&id, &secret), &keys, &[]).await.body;
    let gz = bundle(
        &emu,
        (&id, &secret),
        &keys,
        &[("x-tigris-bundle-compression", "gzip")],
    )
    .await;
    assert_eq!(gz.content_type, "application/gzip");
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&gz.body[..])
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, plain);
    let zs = bundle(
        &emu,
        (&id, &secret),
        &keys,
        &[("x-tigris-bundle-compression", "zstd")],
    )
    .await;
    assert_eq!(zstd::decode_all(&zs.body[..]).unwrap(), plain);
}

#[tokio::test]
async fn long_and_non_ascii_keys_keep_their_full_names() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("data").send().await.unwrap();
    let long = format!("{}/ünïcødé-file.txt", "deep/".repeat(60));
    s3.put_object()
        .bucket("data")
        .key(&long)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    let (id, secret) = root(&emu);
    let got = bundle(&emu, (&id, &secret), &[&long], &[]).await;
    let listed = entries(&got.body);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].0, long);
}

#[tokio::test]
async fn a_scoped_key_gets_only_the_objects_it_may_read() {
    let (emu, _) = setup().await;
    let doc = policy(&["s3:GetObject"], "data", None).replace("data/*", "data/pub/*");
    let (id, secret, _) = scoped_key(&emu, "reader", &doc).await;
    let got = bundle(&emu, (&id, &secret), &["pub/x", "secret"], &[]).await;
    assert_eq!(got.status, 200);
    let listed = entries(&got.body);
    assert_eq!(listed[0], ("pub/x".to_owned(), b"public".to_vec()));
    let report: Value = serde_json::from_slice(&listed[1].1).unwrap();
    assert_eq!(report["skipped"][0]["reason"], "AccessDenied");
    let failed = bundle(
        &emu,
        (&id, &secret),
        &["pub/x", "secret"],
        &[("x-tigris-bundle-on-error", "fail")],
    )
    .await;
    assert_eq!(failed.status, 403);
}

#[tokio::test]
async fn bad_requests_are_refused_before_streaming() {
    let (emu, _) = setup().await;
    let (id, secret) = root(&emu);
    let no_format = signed_request(
        &emu,
        (&id, &secret),
        "POST",
        "/data?bundle",
        &[("content-type", "application/json")],
        br#"{"keys":["a.txt"]}"#,
    )
    .await;
    assert_eq!(no_format.status(), 400);
    let too_many: Vec<String> = (0..5001).map(|i| format!("k{i}")).collect();
    let refs: Vec<&str> = too_many.iter().map(String::as_str).collect();
    assert_eq!(bundle(&emu, (&id, &secret), &refs, &[]).await.status, 400);
    assert_eq!(bundle(&emu, (&id, &secret), &[""], &[]).await.status, 400);
}

#[tokio::test]
async fn a_key_with_a_nul_byte_is_skipped_with_a_reason_instead_of_posing_as_another_key() {
    let (emu, _) = setup().await;
    let s3 = client(&emu);
    for (key, body) in [("report.pdf", "real"), ("report.pdf\0.evil", "evil")] {
        s3.put_object()
            .bucket("data")
            .key(key)
            .body(ByteStream::from(body.as_bytes().to_vec()))
            .send()
            .await
            .unwrap();
    }
    let (id, secret) = root(&emu);
    let got = bundle(
        &emu,
        (&id, &secret),
        &["report.pdf", "report.pdf\0.evil"],
        &[],
    )
    .await;
    assert_eq!(got.status, 200);
    let listed = entries(&got.body);
    let names: Vec<&str> = listed.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["report.pdf", "__bundle_errors.json"]);
    assert_eq!(listed[0].1, b"real");
    let report: Value = serde_json::from_slice(&listed[1].1).unwrap();
    assert_eq!(
        report,
        json!({"skipped": [{"key": "report.pdf\0.evil", "reason": "InvalidKeyName"}]})
    );
}

#[tokio::test]
async fn a_key_with_no_rights_gets_the_same_answer_for_a_missing_and_an_existing_bucket() {
    let (emu, _) = setup().await;
    let doc = policy(&["s3:GetObject"], "elsewhere", None);
    let (id, secret, _) = scoped_key(&emu, "nobody", &doc).await;
    let mut statuses = Vec::new();
    for path in ["/data?bundle", "/no-such-bucket?bundle"] {
        let resp = signed_request(
            &emu,
            (&id, &secret),
            "POST",
            path,
            &[
                ("content-type", "application/json"),
                ("x-tigris-bundle-format", "tar"),
            ],
            br#"{"keys":["a.txt"]}"#,
        )
        .await;
        statuses.push(resp.status().as_u16());
    }
    assert_eq!(statuses, [403, 403]);
}
