//! Force delete and rename against the emulator.

mod common;

use aws_sdk_s3::error::ProvideErrorMetadata;
use common::TestEnv;
use tigris_headers::ErrorKind;
use tigris_headers::prelude::*;

#[tokio::test]
async fn plain_delete_of_a_non_empty_bucket_fails_with_bucket_not_empty() {
    let env = TestEnv::start().await;
    env.create_bucket("full").await;
    env.put("full", "k", "v").await;

    let err = env
        .s3
        .delete_bucket()
        .bucket("full")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("BucketNotEmpty"));
    assert!(env.bucket_exists("full").await);
}

#[tokio::test]
async fn force_delete_removes_a_non_empty_bucket() {
    let env = TestEnv::start().await;
    env.create_bucket("full").await;
    env.put("full", "k", "v").await;
    env.put("full", "nested/k2", "v2").await;

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
async fn force_delete_removes_a_bucket_with_snapshots() {
    let env = TestEnv::start().await;
    env.create_snapshot_bucket("snaps").await;
    env.put("snaps", "k", "v").await;
    env.snapshot("snaps").await;

    env.s3
        .delete_bucket()
        .bucket("snaps")
        .force_delete()
        .send()
        .await
        .unwrap();

    assert!(!env.bucket_exists("snaps").await);
}

async fn assert_moved(env: &TestEnv, bucket: &str, from: &str, to: &str, body: &str) {
    assert_eq!(env.try_get(bucket, from).await, None, "{from:?} is gone");
    assert_eq!(env.get(bucket, to).await, body, "{to:?} has the contents");
}

#[tokio::test]
async fn rename_moves_an_object() {
    let env = TestEnv::start().await;
    env.create_bucket("files").await;
    env.put("files", "old.txt", "contents").await;

    let out = env
        .s3
        .move_object()
        .bucket("files")
        .from_key("old.txt")
        .to_key("new.txt")
        .send()
        .await
        .unwrap();

    assert!(out.copy_object_result().and_then(|r| r.e_tag()).is_some());
    assert_moved(&env, "files", "old.txt", "new.txt", "contents").await;
    assert_eq!(env.keys("files").await, ["new.txt"]);
}

#[tokio::test]
async fn rename_moves_nested_keys() {
    let env = TestEnv::start().await;
    env.create_bucket("files").await;
    env.put("files", "inbox/2026/report.csv", "a,b").await;

    env.s3
        .move_object()
        .bucket("files")
        .from_key("inbox/2026/report.csv")
        .to_key("archive/2026/11/report.csv")
        .send()
        .await
        .unwrap();

    assert_moved(
        &env,
        "files",
        "inbox/2026/report.csv",
        "archive/2026/11/report.csv",
        "a,b",
    )
    .await;
}

#[tokio::test]
async fn rename_handles_keys_with_special_characters() {
    let env = TestEnv::start().await;
    env.create_bucket("files").await;
    let cases = [
        ("weird name + and #hash.txt", "renamed weird + #.txt"),
        ("a%b?c.txt", "plain.txt"),
        ("sp ace/ünï cödé & more=.txt", "dest/ünï.txt"),
    ];
    for (i, (from, to)) in cases.iter().enumerate() {
        let body = format!("body {i}");
        env.put("files", from, &body).await;

        env.s3
            .move_object()
            .bucket("files")
            .from_key(*from)
            .to_key(*to)
            .send()
            .await
            .unwrap();

        assert_moved(&env, "files", from, to, &body).await;
    }
}

#[tokio::test]
async fn rename_overwrites_an_existing_destination() {
    let env = TestEnv::start().await;
    env.create_bucket("files").await;
    env.put("files", "src.txt", "new").await;
    env.put("files", "dst.txt", "old").await;

    env.s3
        .move_object()
        .bucket("files")
        .from_key("src.txt")
        .to_key("dst.txt")
        .send()
        .await
        .unwrap();

    assert_moved(&env, "files", "src.txt", "dst.txt", "new").await;
}

#[tokio::test]
async fn rename_of_a_missing_object_is_not_found() {
    let env = TestEnv::start().await;
    env.create_bucket("files").await;

    let err = env
        .s3
        .move_object()
        .bucket("files")
        .from_key("missing.txt")
        .to_key("x.txt")
        .send()
        .await
        .unwrap_err();

    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.code(), Some("NoSuchKey"));
    assert_eq!(env.try_get("files", "x.txt").await, None);
}

#[tokio::test]
async fn plain_copy_without_rename_keeps_the_source() {
    let env = TestEnv::start().await;
    env.create_bucket("files").await;
    env.put("files", "a.txt", "x").await;

    env.s3
        .copy_object()
        .bucket("files")
        .key("b.txt")
        .copy_source("files/a.txt")
        .send()
        .await
        .unwrap();

    assert_eq!(env.get("files", "a.txt").await, "x");
    assert_eq!(env.get("files", "b.txt").await, "x");
}
