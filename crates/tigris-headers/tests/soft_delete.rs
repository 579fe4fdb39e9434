//! Soft delete through this crate's API, against the emulator: create with a retention, the
//! deleted views, restore and purge, the setting on and off, deleted buckets; bad input is a
//! typed error before any request.

use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use tigris_headers::prelude::*;
use tigris_headers::soft_delete::Retention;
use tigris_headers::{ErrorKind, SignedTransport};

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
    let tigris = SignedTransport::new(&env.sdk).unwrap();
    let setting = tigris
        .bucket_metadata("keeps")
        .send()
        .await
        .unwrap()
        .soft_delete();
    assert!(setting.enabled);
    assert_eq!(setting.retention_days, Some(10));

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
        .restore_deleted_object("undo", "k")
        .version_id(&oldest)
        .send()
        .await
        .unwrap();
    assert!(restored.version_id.is_some());
    assert_eq!(read(&env, "undo", "k").await.as_deref(), Some("one"));

    env.s3
        .purge_deleted_object("undo", "k", &newest)
        .send()
        .await
        .unwrap();
    assert!(deleted_versions(&env, "undo").await.is_empty());
    let gone = env
        .s3
        .restore_deleted_object("undo", "k")
        .send()
        .await
        .unwrap_err();
    assert_eq!(gone.kind(), ErrorKind::NotFound);

    delete(&env, "undo", "k").await;
    env.s3
        .restore_deleted_object("undo", "k")
        .send()
        .await
        .unwrap();
    assert_eq!(read(&env, "undo", "k").await.as_deref(), Some("one"));
}

#[tokio::test]
async fn soft_delete_is_turned_on_and_off_later() {
    let env = TestEnv::start().await;
    env.create_bucket("later").await;
    let tigris = SignedTransport::new(&env.sdk).unwrap();
    tigris
        .set_soft_delete("later")
        .retention_days(21)
        .send()
        .await
        .unwrap();
    let m = tigris.bucket_metadata("later").send().await.unwrap();
    assert_eq!(m.soft_delete().retention_days, Some(21));
    put(&env, "later", "k", "v").await;
    delete(&env, "later", "k").await;
    assert_eq!(deleted_versions(&env, "later").await.len(), 1);

    tigris
        .set_soft_delete("later")
        .enabled(false)
        .send()
        .await
        .unwrap();
    assert!(
        !tigris
            .bucket_metadata("later")
            .send()
            .await
            .unwrap()
            .soft_delete()
            .enabled
    );
    put(&env, "later", "k2", "v").await;
    delete(&env, "later", "k2").await;
    assert_eq!(deleted_versions(&env, "later").await.len(), 1);
}

#[tokio::test]
async fn bad_soft_delete_input_is_refused_before_any_request() {
    let env = TestEnv::start().await;
    let tigris = SignedTransport::new(&env.sdk).unwrap();
    let before = env.requests();
    let cases = [
        tigris.set_soft_delete("later").retention_days(6),
        tigris.set_soft_delete("later").retention_days(91),
        tigris
            .set_soft_delete("later")
            .enabled(false)
            .retention_days(7),
        tigris.set_soft_delete("later"),
        tigris.set_soft_delete("Bad_Name").enabled(true),
    ];
    for case in cases {
        let err = case.send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
    for err in [
        env.s3
            .restore_deleted_object("b-1", "")
            .send()
            .await
            .unwrap_err(),
        env.s3
            .restore_deleted_object("b-1", "k")
            .version_id("")
            .send()
            .await
            .unwrap_err(),
        env.s3
            .purge_deleted_object("b-1", "k", "")
            .send()
            .await
            .unwrap_err(),
        env.s3
            .purge_deleted_object("B", "k", "1")
            .send()
            .await
            .unwrap_err(),
        tigris.restore_bucket("x").send().await.unwrap_err(),
        tigris
            .list_deleted_buckets()
            .max_buckets(0)
            .send()
            .await
            .unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
    assert!(Retention::days(0).is_err());
    assert_eq!(env.requests(), before, "nothing reached the emulator");
    assert_eq!(env.emu.faults().count("PatchBucket"), 0);
}

#[tokio::test]
async fn a_deleted_bucket_is_listed_and_restored_with_its_objects() {
    let env = TestEnv::start().await;
    env.s3
        .create_bucket()
        .bucket("whole")
        .enable_soft_delete(Retention::days(30).unwrap())
        .send()
        .await
        .unwrap();
    put(&env, "whole", "k", "kept").await;
    env.s3
        .delete_bucket()
        .bucket("whole")
        .force_delete()
        .send()
        .await
        .unwrap();
    let tigris = SignedTransport::new(&env.sdk).unwrap();
    let deleted = tigris.list_deleted_buckets().send_all().await.unwrap();
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].name(), "whole");
    assert_eq!(deleted[0].retention_days(), Some(30));
    assert!(deleted[0].created().is_some() && deleted[0].deleted().is_some());

    tigris.restore_bucket("whole").send().await.unwrap();
    assert_eq!(read(&env, "whole", "k").await.as_deref(), Some("kept"));
    let again = tigris.restore_bucket("whole").send().await.unwrap_err();
    assert_eq!(again.code(), Some("InvalidArgument"));
    let none = tigris.restore_bucket("never-was").send().await.unwrap_err();
    assert_eq!(none.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn deleted_bucket_pages_follow_continuation_tokens() {
    let env = TestEnv::start().await;
    for name in ["del-a", "del-b", "del-c"] {
        env.s3
            .create_bucket()
            .bucket(name)
            .enable_soft_delete(Retention::default())
            .send()
            .await
            .unwrap();
        env.s3.delete_bucket().bucket(name).send().await.unwrap();
    }
    let tigris = SignedTransport::new(&env.sdk).unwrap();
    let first = tigris
        .list_deleted_buckets()
        .max_buckets(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.buckets().len(), 2);
    let token = first.continuation_token().unwrap().to_owned();
    let all = tigris
        .list_deleted_buckets()
        .max_buckets(2)
        .send_all()
        .await
        .unwrap();
    let names: Vec<_> = all.iter().map(|b| b.name()).collect();
    assert_eq!(names, ["del-a", "del-b", "del-c"]);
    let rest = tigris
        .list_deleted_buckets()
        .continuation_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(rest.buckets()[0].name(), "del-c");
}

#[tokio::test]
async fn soft_delete_headers_are_sent_as_the_released_clients_send_them_and_signed() {
    let env = TestEnv::start().await;
    // CreateBucket: `X-Tigris-Soft-Delete: 30`, as tigris-boto3-ext's create_soft_delete_bucket.
    let tamper = Tamper::replace("x-tigris-soft-delete", "7");
    let err = env
        .client_with(tamper.clone())
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
            .client_with(tamper.clone())
            .restore_deleted_object("signed", "k")
            .version_id(&version)
            .send()
            .await
            .unwrap_err();
        assert_signed_and_refused(&tamper, &value, err.status());
    }
    // Purge: without its header a versioned DeleteObject would be another request entirely.
    let tamper = Tamper::remove("x-tigris-soft-delete");
    let err = env
        .client_with(tamper.clone())
        .purge_deleted_object("signed", "k", &version)
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
