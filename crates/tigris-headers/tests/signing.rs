//! Every Tigris header is covered by SigV4: changing or removing it after signing makes the
//! emulator reject the request, while the untouched request succeeds.

mod common;

use aws_sdk_s3::error::ProvideErrorMetadata;
use common::{Sighting, Tamper, TestEnv};
use tigris_headers::prelude::*;
use tigris_headers::{ErrorKind, SnapshotVersion};

/// The header was present with `value` and listed in `SignedHeaders` on every attempt.
#[track_caller]
fn assert_signed(tamper: &Tamper, value: &str) {
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
}

/// An SDK error is the emulator's signature rejection.
#[track_caller]
fn assert_signature_rejected<E: ProvideErrorMetadata>(err: &aws_sdk_s3::error::SdkError<E>) {
    let status = err.raw_response().map(|r| r.status().as_u16());
    assert_eq!(status, Some(403), "rejected as forbidden");
    // HEAD responses have no body, so only the status tells.
    if let Some(code) = err.code() {
        assert_eq!(code, "SignatureDoesNotMatch");
    }
}

#[track_caller]
fn assert_tigris_signature_rejected(err: &tigris_headers::Error) {
    assert_eq!(err.kind(), ErrorKind::AccessDenied, "{err}");
    assert_eq!(err.status(), Some(403));
    if let Some(code) = err.code() {
        assert_eq!(code, "SignatureDoesNotMatch");
    }
}

#[tokio::test]
async fn enable_snapshot_header_is_signed() {
    let env = TestEnv::start().await;
    let tamper = Tamper::replace("x-tigris-enable-snapshot", "false");
    let tampered = env.s3_with(tamper.clone());

    let err = tampered
        .create_bucket()
        .bucket("snaps")
        .enable_snapshots()
        .send()
        .await
        .unwrap_err();
    assert_signature_rejected(&err);
    assert_signed(&tamper, "true");
    assert!(!env.bucket_exists("snaps").await);

    env.s3
        .create_bucket()
        .bucket("snaps")
        .enable_snapshots()
        .send()
        .await
        .unwrap();
    assert!(
        env.s3
            .bucket_info()
            .bucket("snaps")
            .send()
            .await
            .unwrap()
            .snapshots_enabled()
    );
}

#[tokio::test]
async fn enable_snapshot_header_removed_after_signing_is_rejected() {
    let env = TestEnv::start().await;
    let tamper = Tamper::remove("x-tigris-enable-snapshot");

    let err = env
        .s3_with(tamper.clone())
        .create_bucket()
        .bucket("snaps")
        .enable_snapshots()
        .send()
        .await
        .unwrap_err();

    assert_signature_rejected(&err);
    assert_signed(&tamper, "true");
    assert!(
        !env.bucket_exists("snaps").await,
        "the request did not create a plain bucket instead"
    );
}

#[tokio::test]
async fn fork_source_header_is_signed() {
    let env = TestEnv::start().await;
    let parent = env.create_snapshot_bucket("parent").await;
    env.create_snapshot_bucket("other").await;
    let tamper = Tamper::replace("x-tigris-fork-source-bucket", "other");

    let err = env
        .s3_with(tamper.clone())
        .create_bucket()
        .bucket("child")
        .fork_of(&parent)
        .send()
        .await
        .unwrap_err();
    assert_signature_rejected(&err);
    assert_signed(&tamper, "parent");
    assert!(!env.bucket_exists("child").await);

    env.s3
        .create_bucket()
        .bucket("child")
        .fork_of(&parent)
        .send()
        .await
        .unwrap();
    assert_eq!(
        env.s3
            .bucket_info()
            .bucket("child")
            .send()
            .await
            .unwrap()
            .fork_parent(),
        Some(&parent)
    );
}

#[tokio::test]
async fn fork_source_snapshot_header_is_signed() {
    let env = TestEnv::start().await;
    let parent = env.create_snapshot_bucket("parent").await;
    let first = env.snapshot("parent").await;
    let _second = env.snapshot("parent").await;
    let tamper = Tamper::remove("x-tigris-fork-source-bucket-snapshot");

    let err = env
        .s3_with(tamper.clone())
        .create_bucket()
        .bucket("child")
        .fork_of_snapshot(&parent, &first)
        .send()
        .await
        .unwrap_err();
    assert_signature_rejected(&err);
    assert_signed(&tamper, first.as_str());
    assert!(!env.bucket_exists("child").await);

    env.s3
        .create_bucket()
        .bucket("child")
        .fork_of_snapshot(&parent, &first)
        .send()
        .await
        .unwrap();
    assert_eq!(
        env.s3
            .bucket_info()
            .bucket("child")
            .send()
            .await
            .unwrap()
            .fork_snapshot(),
        Some(&first)
    );
}

#[tokio::test]
async fn create_snapshot_header_is_signed() {
    let env = TestEnv::start().await;
    env.create_snapshot_bucket("snaps").await;
    let tamper = Tamper::replace("x-tigris-snapshot", "true; name=forged");

    let err = env
        .s3_with(tamper.clone())
        .create_snapshot()
        .bucket("snaps")
        .name("real")
        .send()
        .await
        .unwrap_err();
    assert_tigris_signature_rejected(&err);
    assert_signed(&tamper, "true; name=real");
    assert!(
        env.s3
            .list_snapshots()
            .bucket("snaps")
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .unwrap()
            .is_empty()
    );

    env.s3
        .create_snapshot()
        .bucket("snaps")
        .name("real")
        .send()
        .await
        .unwrap();
    let listed = env
        .s3
        .list_snapshots()
        .bucket("snaps")
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        listed.iter().map(|s| s.name()).collect::<Vec<_>>(),
        [Some("real")]
    );
}

#[tokio::test]
async fn list_snapshots_header_is_signed() {
    let env = TestEnv::start().await;
    env.create_snapshot_bucket("snaps").await;
    env.create_snapshot_bucket("secret").await;
    env.snapshot("snaps").await;
    let tamper = Tamper::replace("x-tigris-snapshot", "secret");

    let err = env
        .s3_with(tamper.clone())
        .list_snapshots()
        .bucket("snaps")
        .send()
        .await
        .unwrap_err();
    assert_tigris_signature_rejected(&err);
    assert_signed(&tamper, "snaps");

    assert_eq!(
        env.s3
            .list_snapshots()
            .bucket("snaps")
            .send()
            .await
            .unwrap()
            .snapshots()
            .len(),
        1
    );
}

/// A bucket where `k` was `old` at the returned snapshot and is `new` now.
async fn updated_bucket(env: &TestEnv) -> SnapshotVersion {
    env.create_snapshot_bucket("snaps").await;
    env.put("snaps", "k", "old").await;
    let version = env.snapshot("snaps").await;
    env.put("snaps", "k", "new").await;
    version
}

#[tokio::test]
async fn snapshot_version_header_on_get_object_is_signed() {
    let env = TestEnv::start().await;
    let version = updated_bucket(&env).await;
    let tamper = Tamper::remove("x-tigris-snapshot-version");

    let err = env
        .s3_with(tamper.clone())
        .get_object()
        .bucket("snaps")
        .key("k")
        .at_snapshot(&version)
        .send()
        .await
        .unwrap_err();
    assert_signature_rejected(&err);
    assert_signed(&tamper, version.as_str());

    let out = env
        .s3
        .get_object()
        .bucket("snaps")
        .key("k")
        .at_snapshot(&version)
        .send()
        .await
        .unwrap();
    assert_eq!(tigris_test_support::body_string(out.body).await, "old");
}

#[tokio::test]
async fn snapshot_version_header_on_head_object_is_signed() {
    let env = TestEnv::start().await;
    let version = updated_bucket(&env).await;
    let tamper = Tamper::replace("x-tigris-snapshot-version", "1");

    let err = env
        .s3_with(tamper.clone())
        .head_object()
        .bucket("snaps")
        .key("k")
        .at_snapshot(&version)
        .send()
        .await
        .unwrap_err();
    assert_signature_rejected(&err);
    assert_signed(&tamper, version.as_str());

    let out = env
        .s3
        .head_object()
        .bucket("snaps")
        .key("k")
        .at_snapshot(&version)
        .send()
        .await
        .unwrap();
    assert_eq!(out.content_length(), Some(3));
}

#[tokio::test]
async fn snapshot_version_header_on_list_objects_v2_is_signed() {
    let env = TestEnv::start().await;
    let version = updated_bucket(&env).await;
    let tamper = Tamper::remove("x-tigris-snapshot-version");

    let err = env
        .s3_with(tamper.clone())
        .list_objects_v2()
        .bucket("snaps")
        .at_snapshot(&version)
        .send()
        .await
        .unwrap_err();
    assert_signature_rejected(&err);
    assert_signed(&tamper, version.as_str());

    let out = env
        .s3
        .list_objects_v2()
        .bucket("snaps")
        .at_snapshot(&version)
        .send()
        .await
        .unwrap();
    assert_eq!(out.contents().len(), 1);
}

#[tokio::test]
async fn snapshot_version_header_on_list_objects_is_signed() {
    let env = TestEnv::start().await;
    let version = updated_bucket(&env).await;
    let tamper = Tamper::remove("x-tigris-snapshot-version");

    let err = env
        .s3_with(tamper.clone())
        .list_objects()
        .bucket("snaps")
        .at_snapshot(&version)
        .send()
        .await
        .unwrap_err();
    assert_signature_rejected(&err);
    assert_signed(&tamper, version.as_str());

    let out = env
        .s3
        .list_objects()
        .bucket("snaps")
        .at_snapshot(&version)
        .send()
        .await
        .unwrap();
    assert_eq!(out.contents().len(), 1);
}

#[tokio::test]
async fn snapshot_version_header_on_delete_snapshot_is_signed() {
    let env = TestEnv::start().await;
    let version = updated_bucket(&env).await;
    // Removing the header would turn the request into "delete the bucket": the signature
    // must stop that.
    let tamper = Tamper::remove("x-tigris-snapshot-version");

    let err = env
        .s3_with(tamper.clone())
        .delete_snapshot()
        .bucket("snaps")
        .version(&version)
        .send()
        .await
        .unwrap_err();
    assert_tigris_signature_rejected(&err);
    assert_signed(&tamper, version.as_str());
    assert!(env.bucket_exists("snaps").await);
    assert_eq!(
        env.s3
            .list_snapshots()
            .bucket("snaps")
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .unwrap()
            .len(),
        1
    );

    env.s3
        .delete_snapshot()
        .bucket("snaps")
        .version(&version)
        .send()
        .await
        .unwrap();
    assert!(
        env.s3
            .list_snapshots()
            .bucket("snaps")
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .unwrap()
            .is_empty()
    );
    assert!(env.bucket_exists("snaps").await);
}

#[tokio::test]
async fn force_delete_header_is_signed() {
    let env = TestEnv::start().await;
    env.create_bucket("full").await;
    env.put("full", "k", "v").await;
    let tamper = Tamper::replace("tigris-force-delete", "false");

    let err = env
        .s3_with(tamper.clone())
        .delete_bucket()
        .bucket("full")
        .force_delete()
        .send()
        .await
        .unwrap_err();
    assert_signature_rejected(&err);
    assert_signed(&tamper, "true");
    assert!(env.bucket_exists("full").await);

    env.s3
        .delete_bucket()
        .bucket("full")
        .force_delete()
        .send()
        .await
        .unwrap();
    assert!(!env.bucket_exists("full").await);
}

#[tokio::test]
async fn rename_header_is_signed() {
    let env = TestEnv::start().await;
    env.create_bucket("files").await;
    env.put("files", "a.txt", "x").await;
    let tamper = Tamper::remove("x-tigris-rename");

    let err = env
        .s3_with(tamper.clone())
        .move_object()
        .bucket("files")
        .from_key("a.txt")
        .to_key("b.txt")
        .send()
        .await
        .unwrap_err();
    assert_tigris_signature_rejected(&err);
    assert_signed(&tamper, "true");
    assert_eq!(
        env.keys("files").await,
        ["a.txt"],
        "neither moved nor copied"
    );

    env.s3
        .move_object()
        .bucket("files")
        .from_key("a.txt")
        .to_key("b.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(env.keys("files").await, ["b.txt"]);
}

#[tokio::test]
async fn a_tamper_that_finds_no_header_changes_nothing() {
    // Control: the tampering client itself works for requests without Tigris headers.
    let env = TestEnv::start().await;
    let tamper = Tamper::remove("x-tigris-rename");
    let client = env.s3_with(tamper.clone());

    client.create_bucket().bucket("plain").send().await.unwrap();
    tigris_test_support::put(&client, "plain", "k", "v").await;
    assert_eq!(tigris_test_support::get(&client, "plain", "k").await, "v");
    assert!(tamper.sightings().is_empty());
}

#[tokio::test]
async fn cas_header_on_get_object_is_signed() {
    let env = TestEnv::start().await;
    env.create_bucket("data").await;
    env.put("data", "k", "value").await;
    let tamper = Tamper::replace("x-tigris-cas", "false");

    let err = env
        .s3_with(tamper.clone())
        .get_object()
        .bucket("data")
        .key("k")
        .consistent_read()
        .send()
        .await
        .unwrap_err();
    assert_signature_rejected(&err);
    assert_signed(&tamper, "true");

    let out = env
        .s3
        .get_object()
        .bucket("data")
        .key("k")
        .consistent_read()
        .send()
        .await
        .unwrap();
    assert_eq!(tigris_test_support::body_string(out.body).await, "value");
}

#[tokio::test]
async fn cas_header_on_head_object_is_signed() {
    let env = TestEnv::start().await;
    env.create_bucket("data").await;
    env.put("data", "k", "value").await;
    let tamper = Tamper::remove("x-tigris-cas");

    let err = env
        .s3_with(tamper.clone())
        .head_object()
        .bucket("data")
        .key("k")
        .consistent_read()
        .send()
        .await
        .unwrap_err();
    assert_signature_rejected(&err);
    assert_signed(&tamper, "true");

    let head = env
        .s3
        .head_object()
        .bucket("data")
        .key("k")
        .consistent_read()
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(5));
}

#[tokio::test]
async fn query_header_on_list_objects_v2_is_signed() {
    let env = TestEnv::start().await;
    env.create_bucket("data").await;
    env.put("data", "k", "value").await;
    let query: tigris_headers::query::MetadataQuery = "WHERE `key` = \"k\"".parse().unwrap();
    let tamper = Tamper::replace("x-tigris-query", "WHERE `key` = \"other\"");

    let err = env
        .s3_with(tamper.clone())
        .list_objects_v2()
        .bucket("data")
        .query(&query)
        .send()
        .await
        .unwrap_err();
    assert_signature_rejected(&err);
    assert_signed(&tamper, query.as_str());
}
