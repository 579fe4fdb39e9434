//! Write-through to a shadow bucket (`s3/shadow.rs`) across two emulators: the second stands in
//! for the old provider. A write the bucket refuses never reaches the shadow; a multi-delete
//! reaches it key by key.

use aws_sdk_s3::primitives::ByteStream;
use tigris_emulator::Emulator;

mod common;
use common::{client, signed_request};

const BUCKET: &str = "media";
const LEGACY: &str = "legacy-media";

/// `media` on `tigris`, shadowed (write-through) by `legacy-media` on `legacy`, and `k` written
/// through to both as `v1`.
async fn write_through(tigris: &Emulator, legacy: &Emulator) -> aws_sdk_s3::Client {
    client(legacy)
        .create_bucket()
        .bucket(LEGACY)
        .send()
        .await
        .unwrap();
    let s3 = client(tigris);
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    let root = legacy.root_credentials();
    let body = serde_json::json!({"shadow_bucket": {
        "name": LEGACY, "endpoint": legacy.endpoint(), "region": "auto",
        "access_key": root.access_key_id(), "secret_key": root.secret_access_key(),
        "write_through": true,
    }})
    .to_string();
    let key = tigris.root_credentials();
    let resp = signed_request(
        tigris,
        (key.access_key_id(), key.secret_access_key()),
        "PATCH",
        &format!("/{BUCKET}"),
        &[("content-type", "application/json")],
        body.as_bytes(),
    )
    .await;
    assert_eq!(resp.status(), 200);
    s3.put_object()
        .bucket(BUCKET)
        .key("k")
        .body(ByteStream::from_static(b"v1"))
        .send()
        .await
        .unwrap();
    s3
}

async fn legacy_body(legacy: &Emulator) -> Option<Vec<u8>> {
    let got = client(legacy)
        .get_object()
        .bucket(LEGACY)
        .key("k")
        .send()
        .await
        .ok()?;
    Some(got.body.collect().await.unwrap().to_vec())
}

#[tokio::test]
async fn a_put_that_fails_its_precondition_leaves_the_shadow_unchanged() {
    let (tigris, legacy) = (
        Emulator::start().await.unwrap(),
        Emulator::start().await.unwrap(),
    );
    let s3 = write_through(&tigris, &legacy).await;
    let err = s3
        .put_object()
        .bucket(BUCKET)
        .key("k")
        .if_match("\"00000000000000000000000000000000\"")
        .body(ByteStream::from_static(b"v2"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 412);
    assert_eq!(legacy_body(&legacy).await.as_deref(), Some(&b"v1"[..]));
}

#[tokio::test]
async fn a_delete_that_fails_its_precondition_leaves_the_shadow_unchanged() {
    let (tigris, legacy) = (
        Emulator::start().await.unwrap(),
        Emulator::start().await.unwrap(),
    );
    let s3 = write_through(&tigris, &legacy).await;
    let err = s3
        .delete_object()
        .bucket(BUCKET)
        .key("k")
        .if_match("\"00000000000000000000000000000000\"")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 412);
    assert_eq!(legacy_body(&legacy).await.as_deref(), Some(&b"v1"[..]));
}

#[tokio::test]
async fn a_multi_delete_on_a_write_through_bucket_deletes_in_the_shadow_too() {
    let (tigris, legacy) = (
        Emulator::start().await.unwrap(),
        Emulator::start().await.unwrap(),
    );
    let s3 = write_through(&tigris, &legacy).await;
    let out = s3
        .delete_objects()
        .bucket(BUCKET)
        .delete(
            aws_sdk_s3::types::Delete::builder()
                .objects(
                    aws_sdk_s3::types::ObjectIdentifier::builder()
                        .key("k")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert!(out.errors().is_empty(), "{:?}", out.errors());
    assert_eq!(legacy_body(&legacy).await, None);
    // Nothing left in the shadow to read through and copy back in.
    let err = s3
        .get_object()
        .bucket(BUCKET)
        .key("k")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 404);
}
