//! Soft delete through this crate's API, against the emulator: create with a retention, the
//! deleted views, restore and purge; bad input is a typed error before any request. (The
//! setting on and off later and deleted buckets are tigris-api's.)

use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use tigris_headers::ErrorKind;
use tigris_headers::prelude::*;
use tigris_headers::soft_delete::Retention;

mod common;
use common::{Sighting, Tamper, TestEnv};

/// The header went out with `value`, listed in `SignedHeaders`, and tampering with it after
/// signing got the request refused (403).
#[track_caller]
fn assert_signed_and_refused(tamper: &Tamper, value: &str, status: Option<u16>) {
    let sightings = tamper.sightings();
    assert!(!sightings.is_empty(), "the header was sent");
    for sighting in sightings {
        assert_eq!(
            sighting,
            Sighting {
                value: value.to_owned(),
                listed_as_signed: true
            }
        );
    }
    assert_eq!(status, Some(403), "the tampered request is refused");
}

async fn put(env: &TestEnv, bucket: &str, key: &str, body: &'static str) {
    env.s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from_static(body.as_bytes()))
        .send()
        .await
        .unwrap();
}

async fn read(env: &TestEnv, bucket: &str, key: &str) -> Option<String> {
    let out = env
        .s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .ok()?;
    let bytes = out.body.collect().await.unwrap().into_bytes();
    Some(String::from_utf8(bytes.to_vec()).unwrap())
}

async fn delete(env: &TestEnv, bucket: &str, key: &str) {
    env.s3
        .delete_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
}

/// (key, version id, latest) of every deleted version.
async fn deleted_versions(env: &TestEnv, bucket: &str) -> Vec<(String, String, bool)> {
    env.s3
        .list_object_versions()
        .bucket(bucket)
        .soft_deleted()
        .send()
        .await
        .unwrap()
        .versions()
        .iter()
        .map(|v| {
            (
                v.key().unwrap().to_owned(),
                v.version_id().unwrap().to_owned(),
                v.is_latest().unwrap_or(false),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_bucket_created_with_soft_delete_keeps_deletes_for_its_retention() {
    let env = TestEnv::start().await;
    env.s3
        .create_bucket()
        .bucket("keeps")
        .enable_soft_delete(Retention::days(10).unwrap())
        .send()
        .await
        .unwrap();
    put(&env, "keeps", "a", "A").await;
    put(&env, "keeps", "b", "B").await;
    delete(&env, "keeps", "a").await;
    let listed = env
        .s3
        .list_objects_v2()
        .bucket("keeps")
        .soft_deleted()
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = listed.contents().iter().map(|o| o.key().unwrap()).collect();
    assert_eq!(keys, ["a"], "only deleted keys, live ones left out");

    env.emu.advance_clock(Duration::from_secs(10 * 86_400 + 1));
    assert!(deleted_versions(&env, "keeps").await.is_empty());
}

#[tokio::test]
async fn restore_by_version_and_latest_then_purge() {
    let env = TestEnv::start().await;
    env.s3
        .create_bucket()
        .bucket("undo")
        .enable_soft_delete(Retention::default())
        .send()
        .await
        .unwrap();
    put(&env, "undo", "k", "one").await;
    delete(&env, "undo", "k").await;
    put(&env, "undo", "k", "two").await;
    delete(&env, "undo", "k").await;
    let versions = deleted_versions(&env, "undo").await;
    assert_eq!(versions.len(), 2);
    let (newest, oldest) = (versions[0].1.clone(), versions[1].1.clone());
    assert!(versions[0].2);

    let restored = env
        .s3
        .restore_deleted_object()
        .bucket("undo")
        .key("k")
        .version_id(&oldest)
        .send()
        .await
        .unwrap();
    assert!(restored.version_id.is_some());
    assert_eq!(read(&env, "undo", "k").await.as_deref(), Some("one"));

    env.s3
        .purge_deleted_object()
        .bucket("undo")
        .key("k")
        .version_id(&newest)
        .send()
        .await
        .unwrap();
    assert!(deleted_versions(&env, "undo").await.is_empty());
    let gone = env
        .s3
        .restore_deleted_object()
        .bucket("undo")
        .key("k")
        .send()
        .await
        .unwrap_err();
    assert_eq!(gone.kind(), ErrorKind::NotFound);

    delete(&env, "undo", "k").await;
    env.s3
        .restore_deleted_object()
        .bucket("undo")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(read(&env, "undo", "k").await.as_deref(), Some("one"));
}

#[tokio::test]
async fn soft_delete_headers_are_sent_as_the_released_clients_send_them_and_signed() {
    let env = TestEnv::start().await;
    // CreateBucket: `X-Tigris-Soft-Delete: 30`, as tigris-boto3-ext's create_soft_delete_bucket.
    let tamper = Tamper::replace("x-tigris-soft-delete", "7");
    let err = env
        .s3_with(tamper.clone())
        .create_bucket()
        .bucket("signed")
        .enable_soft_delete(Retention::days(30).unwrap())
        .send()
        .await
        .unwrap_err();
    assert_signed_and_refused(
        &tamper,
        "30",
        err.raw_response().map(|r| r.status().as_u16()),
    );
    env.s3
        .create_bucket()
        .bucket("signed")
        .enable_soft_delete(Retention::days(30).unwrap())
        .send()
        .await
        .unwrap();
    put(&env, "signed", "k", "v").await;
    delete(&env, "signed", "k").await;
    let version = deleted_versions(&env, "signed").await[0].1.clone();

    // RestoreObject: `X-Tigris-Restore-Type: soft-delete` and `X-Tigris-Restore-Version`.
    for (header, value) in [
        ("x-tigris-restore-type", "soft-delete".to_owned()),
        ("x-tigris-restore-version", version.clone()),
    ] {
        let tamper = Tamper::replace(header, "forged");
        let err = env
            .s3_with(tamper.clone())
            .restore_deleted_object()
            .bucket("signed")
            .key("k")
            .version_id(&version)
            .send()
            .await
            .unwrap_err();
        assert_signed_and_refused(&tamper, &value, err.status());
    }
    // Purge: without its header a versioned DeleteObject would be another request entirely.
    let tamper = Tamper::remove("x-tigris-soft-delete");
    let err = env
        .s3_with(tamper.clone())
        .purge_deleted_object()
        .bucket("signed")
        .key("k")
        .version_id(&version)
        .send()
        .await
        .unwrap_err();
    assert_signed_and_refused(&tamper, "true", err.status());
    assert_eq!(
        deleted_versions(&env, "signed").await.len(),
        1,
        "nothing purged"
    );
}

#[tokio::test]
async fn bad_deleted_object_input_is_refused_before_any_request() {
    let env = TestEnv::start().await;
    let before = env.requests();
    for err in [
        env.s3
            .restore_deleted_object()
            .bucket("b-1")
            .key("")
            .send()
            .await
            .unwrap_err(),
        env.s3
            .restore_deleted_object()
            .bucket("b-1")
            .key("k")
            .version_id("")
            .send()
            .await
            .unwrap_err(),
        env.s3
            .purge_deleted_object()
            .bucket("b-1")
            .key("k")
            .version_id("")
            .send()
            .await
            .unwrap_err(),
        env.s3
            .purge_deleted_object()
            .bucket("B")
            .key("k")
            .version_id("1")
            .send()
            .await
            .unwrap_err(),
        env.s3
            .purge_deleted_object()
            .key("k")
            .version_id("1")
            .send()
            .await
            .unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
    assert!(Retention::days(0).is_err());
    assert_eq!(env.requests(), before, "nothing reached the emulator");
}
