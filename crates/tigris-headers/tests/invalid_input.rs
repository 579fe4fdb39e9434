//! Invalid input is a typed error, and no request reaches the server.

mod common;

use common::TestEnv;
use tigris_headers::prelude::*;
use tigris_headers::{BucketName, Error, ErrorKind, SnapshotName, SnapshotVersion};

/// Asserts `result` failed with `InvalidInput` and that the emulator saw no new request.
#[track_caller]
fn assert_rejected_locally<T: std::fmt::Debug>(
    env: &TestEnv,
    before: u64,
    result: Result<T, Error>,
) -> Error {
    let err = result.expect_err("invalid input must fail");
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert_eq!(err.code(), None);
    assert_eq!(err.status(), None);
    assert_eq!(env.requests(), before, "no request may reach the server");
    err
}

#[tokio::test]
async fn invalid_bucket_names_fail_before_any_request() {
    let env = TestEnv::start().await;
    let before = env.requests();

    for bad in [
        "Bad_Name",
        "ab",
        "xn--punycode",
        "bucket-s3alias",
        "192.168.0.1",
        "a..b",
        "-dash",
    ] {
        let err = assert_rejected_locally(
            &env,
            before,
            env.s3.create_snapshot().bucket(bad).send().await,
        );
        assert_eq!(
            err.to_string(),
            format!("creating a snapshot of bucket {bad:?} failed: the bucket name is invalid")
        );
        assert!(std::error::Error::source(&err).is_some_and(|s| s.to_string().contains(bad)));
        assert_rejected_locally(
            &env,
            before,
            env.s3.list_snapshots().bucket(bad).send().await,
        );
        assert_rejected_locally(
            &env,
            before,
            env.s3
                .list_snapshots()
                .bucket(bad)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await,
        );
        assert_rejected_locally(
            &env,
            before,
            env.s3
                .delete_snapshot()
                .bucket(bad)
                .version("1")
                .send()
                .await,
        );
        assert_rejected_locally(&env, before, env.s3.bucket_info().bucket(bad).send().await);
        assert_rejected_locally(
            &env,
            before,
            env.s3
                .move_object()
                .bucket(bad)
                .from_key("a")
                .to_key("b")
                .send()
                .await,
        );
    }
}

#[tokio::test]
async fn empty_or_malformed_snapshot_versions_fail_before_any_request() {
    let env = TestEnv::start().await;
    env.create_snapshot_bucket("snaps").await;
    env.snapshot("snaps").await;
    let before = env.requests();

    for bad in ["", " ", "12a", "-1", "1.0", "99999999999999999999999"] {
        let err = assert_rejected_locally(
            &env,
            before,
            env.s3
                .delete_snapshot()
                .bucket("snaps")
                .version(bad)
                .send()
                .await,
        );
        assert!(
            err.to_string().contains("the snapshot version is invalid"),
            "{err}"
        );
    }
    assert!(
        env.bucket_exists("snaps").await,
        "the bucket survived every attempt"
    );
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
}

#[tokio::test]
async fn snapshot_names_tigris_cannot_represent_fail_before_any_request() {
    let env = TestEnv::start().await;
    env.create_snapshot_bucket("snaps").await;
    let before = env.requests();

    for bad in ["a;b", "k=v", "", "new\nline", " padded", &"n".repeat(129)] {
        let err = assert_rejected_locally(
            &env,
            before,
            env.s3
                .create_snapshot()
                .bucket("snaps")
                .name(bad)
                .send()
                .await,
        );
        assert!(
            err.to_string().contains("the snapshot name is invalid"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn bad_page_sizes_and_keys_fail_before_any_request() {
    let env = TestEnv::start().await;
    env.create_snapshot_bucket("snaps").await;
    let before = env.requests();

    assert_rejected_locally(
        &env,
        before,
        env.s3
            .list_snapshots()
            .bucket("snaps")
            .max_buckets(0)
            .send()
            .await,
    );
    assert_rejected_locally(
        &env,
        before,
        env.s3
            .list_snapshots()
            .bucket("snaps")
            .max_buckets(10_001)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await,
    );
    assert_rejected_locally(
        &env,
        before,
        env.s3
            .move_object()
            .bucket("snaps")
            .from_key("a")
            .send()
            .await,
    );
    assert_rejected_locally(
        &env,
        before,
        env.s3
            .move_object()
            .bucket("snaps")
            .to_key("a")
            .send()
            .await,
    );
    assert_rejected_locally(
        &env,
        before,
        env.s3
            .move_object()
            .bucket("snaps")
            .from_key("")
            .to_key("a")
            .send()
            .await,
    );
    assert_rejected_locally(
        &env,
        before,
        env.s3
            .move_object()
            .bucket("snaps")
            .from_key("same")
            .to_key("same")
            .send()
            .await,
    );
    let long = "k".repeat(1025);
    assert_rejected_locally(
        &env,
        before,
        env.s3
            .move_object()
            .bucket("snaps")
            .from_key(&long)
            .to_key("a")
            .send()
            .await,
    );
}

#[test]
fn names_for_extension_methods_are_validated_when_parsed() {
    let cases: [Result<(), Error>; 4] = [
        "Bad_Bucket"
            .parse::<BucketName>()
            .map(drop)
            .map_err(Error::from),
        "".parse::<SnapshotVersion>().map(drop).map_err(Error::from),
        "v1".parse::<SnapshotVersion>()
            .map(drop)
            .map_err(Error::from),
        "a;b".parse::<SnapshotName>().map(drop).map_err(Error::from),
    ];
    for result in cases {
        assert_eq!(result.unwrap_err().kind(), ErrorKind::InvalidInput);
    }
}

#[tokio::test]
async fn unreachable_endpoint_is_transient_while_invalid_input_is_not() {
    let env = TestEnv::start().await;
    let offline = env.s3_for_closed_port().await;

    let err = offline
        .create_snapshot()
        .bucket("valid-bucket")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    assert_eq!(err.status(), None);

    let err = offline
        .create_snapshot()
        .bucket("Invalid_Bucket")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}
