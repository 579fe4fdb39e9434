//! Snapshots against the emulator: create, list, read at, delete.

mod common;

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use common::TestEnv;
use tigris_headers::prelude::*;
use tigris_headers::{ErrorKind, SnapshotName};

#[tokio::test]
async fn create_bucket_with_snapshots_enabled() {
    let env = TestEnv::start().await;
    env.s3
        .create_bucket()
        .bucket("snap-bucket")
        .enable_snapshots()
        .send()
        .await
        .unwrap();

    assert!(env.bucket_exists("snap-bucket").await);
    assert!(
        env.s3
            .bucket_info()
            .bucket("snap-bucket")
            .send()
            .await
            .unwrap()
            .snapshots_enabled()
    );
}

#[tokio::test]
async fn named_and_unnamed_snapshots_have_distinct_versions() {
    let env = TestEnv::start().await;
    env.create_snapshot_bucket("snap-bucket").await;

    let named = env
        .s3
        .create_snapshot()
        .bucket("snap-bucket")
        .name("v1")
        .send()
        .await
        .unwrap();
    let unnamed = env
        .s3
        .create_snapshot()
        .bucket("snap-bucket")
        .send()
        .await
        .unwrap();
    let typed_name: SnapshotName = "nightly".parse().unwrap();
    let named_again = env
        .s3
        .create_snapshot()
        .bucket("snap-bucket")
        .name(&typed_name)
        .send()
        .await
        .unwrap();

    let versions: HashSet<_> = [&named, &unnamed, &named_again].into_iter().collect();
    assert_eq!(versions.len(), 3);
    assert!(
        named < unnamed && unnamed < named_again,
        "versions increase: {named} {unnamed} {named_again}"
    );
}

#[tokio::test]
async fn list_snapshots_returns_exactly_the_snapshots_taken_with_names_and_times() {
    let env = TestEnv::start().await;
    env.create_snapshot_bucket("snap-bucket").await;
    env.create_snapshot_bucket("other-bucket").await;
    env.snapshot("other-bucket").await;
    let before = SystemTime::now() - Duration::from_secs(5);

    let first = env
        .s3
        .create_snapshot()
        .bucket("snap-bucket")
        .name("first")
        .send()
        .await
        .unwrap();
    let second = env
        .s3
        .create_snapshot()
        .bucket("snap-bucket")
        .send()
        .await
        .unwrap();
    let third = env
        .s3
        .create_snapshot()
        .bucket("snap-bucket")
        .name("test snapshot name")
        .send()
        .await
        .unwrap();

    let page = env
        .s3
        .list_snapshots()
        .bucket("snap-bucket")
        .send()
        .await
        .unwrap();
    assert_eq!(page.continuation_token(), None);
    let mut listed: Vec<_> = page
        .snapshots()
        .iter()
        .map(|s| (s.version().clone(), s.name().map(str::to_owned)))
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        vec![
            (first, Some("first".to_owned())),
            (second, None),
            (third, Some("test snapshot name".to_owned()))
        ]
    );
    let after = SystemTime::now() + Duration::from_secs(5);
    for snapshot in page.snapshots() {
        let created = snapshot.created().expect("creation time listed");
        assert!(before <= created && created <= after, "{snapshot:?}");
    }
}

#[tokio::test]
async fn list_snapshots_pages_follow_continuation_tokens() {
    let env = TestEnv::start().await;
    env.create_snapshot_bucket("snap-bucket").await;
    let mut taken = Vec::new();
    for _ in 0..5 {
        taken.push(env.snapshot("snap-bucket").await);
    }

    let first = env
        .s3
        .list_snapshots()
        .bucket("snap-bucket")
        .max_buckets(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.snapshots().len(), 2);
    let token = first.continuation_token().expect("more pages").to_owned();
    let second = env
        .s3
        .list_snapshots()
        .bucket("snap-bucket")
        .max_buckets(2)
        .continuation_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(second.snapshots().len(), 2);
    assert!(
        second
            .snapshots()
            .iter()
            .all(|s| !first.snapshots().contains(s))
    );

    let mut all: Vec<_> = env
        .s3
        .list_snapshots()
        .bucket("snap-bucket")
        .max_buckets(2)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.version().clone())
        .collect();
    all.sort();
    assert_eq!(all, taken);
}

#[tokio::test]
async fn list_snapshots_of_a_bucket_without_snapshots_is_empty() {
    let env = TestEnv::start().await;
    env.create_snapshot_bucket("snap-bucket").await;

    let all = env
        .s3
        .list_snapshots()
        .bucket("snap-bucket")
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    assert!(all.is_empty());
}

#[tokio::test]
async fn snapshot_of_a_bucket_without_snapshots_enabled_is_refused() {
    let env = TestEnv::start().await;
    env.create_bucket("plain-bucket").await;

    let err = env
        .s3
        .create_snapshot()
        .bucket("plain-bucket")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.code(), Some("InvalidArgument"));
    assert_eq!(err.status(), Some(400));
}

#[tokio::test]
async fn snapshot_of_a_missing_bucket_is_not_found_and_says_which() {
    let env = TestEnv::start().await;

    let err = env
        .s3
        .create_snapshot()
        .bucket("no-such-bucket")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.code(), Some("NoSuchBucket"));
    assert_eq!(err.status(), Some(404));
    assert_eq!(
        err.to_string(),
        "creating a snapshot of bucket \"no-such-bucket\" failed: the service answered NoSuchBucket (HTTP 404)"
    );
    assert!(
        std::error::Error::source(&err).is_some(),
        "the SDK error is kept as the source"
    );
}

/// Two objects, a snapshot, then an update and two more objects.
async fn bucket_with_history(env: &TestEnv) -> tigris_headers::SnapshotVersion {
    env.create_snapshot_bucket("history").await;
    env.put("history", "v1.txt", "first version").await;
    env.put("history", "data/a.txt", "alpha").await;
    let version = env
        .s3
        .create_snapshot()
        .bucket("history")
        .name("before-update")
        .send()
        .await
        .unwrap();
    env.put("history", "v1.txt", "second version, longer").await;
    env.put("history", "v2.txt", "new").await;
    env.put("history", "data/b.txt", "beta").await;
    version
}

#[tokio::test]
async fn get_object_at_snapshot_returns_the_old_bytes() {
    let env = TestEnv::start().await;
    let version = bucket_with_history(&env).await;

    let old = env
        .s3
        .get_object()
        .bucket("history")
        .key("v1.txt")
        .at_snapshot(&version)
        .send()
        .await
        .unwrap();
    assert_eq!(
        tigris_test_support::body_string(old.body).await,
        "first version"
    );
    assert_eq!(env.get("history", "v1.txt").await, "second version, longer");
}

#[tokio::test]
async fn get_object_at_snapshot_does_not_see_later_objects() {
    let env = TestEnv::start().await;
    let version = bucket_with_history(&env).await;

    let err = env
        .s3
        .get_object()
        .bucket("history")
        .key("v2.txt")
        .at_snapshot(&version)
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error().is_some_and(|e| e.is_no_such_key()),
        "{err:?}"
    );
}

#[tokio::test]
async fn head_object_at_snapshot_describes_the_old_version() {
    let env = TestEnv::start().await;
    env.create_snapshot_bucket("history").await;
    env.put("history", "v1.txt", "first version").await;
    let before = env
        .s3
        .head_object()
        .bucket("history")
        .key("v1.txt")
        .send()
        .await
        .unwrap();
    let version = env.snapshot("history").await;
    env.put("history", "v1.txt", "second version, longer").await;

    let at = env
        .s3
        .head_object()
        .bucket("history")
        .key("v1.txt")
        .at_snapshot(&version)
        .send()
        .await
        .unwrap();
    assert_eq!(at.content_length(), Some("first version".len() as i64));
    assert_eq!(at.e_tag(), before.e_tag());
    let live = env
        .s3
        .head_object()
        .bucket("history")
        .key("v1.txt")
        .send()
        .await
        .unwrap();
    assert_ne!(live.e_tag(), before.e_tag());
}

#[tokio::test]
async fn list_objects_v2_at_snapshot_lists_exactly_the_objects_then() {
    let env = TestEnv::start().await;
    let version = bucket_with_history(&env).await;

    let out = env
        .s3
        .list_objects_v2()
        .bucket("history")
        .at_snapshot(&version)
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = out.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["data/a.txt", "v1.txt"]);
    assert_eq!(
        env.keys("history").await,
        ["data/a.txt", "data/b.txt", "v1.txt", "v2.txt"]
    );

    let prefixed = env
        .s3
        .list_objects_v2()
        .bucket("history")
        .prefix("data/")
        .at_snapshot(&version)
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = prefixed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["data/a.txt"]);
}

#[tokio::test]
async fn list_objects_v1_at_snapshot_lists_exactly_the_objects_then() {
    let env = TestEnv::start().await;
    let version = bucket_with_history(&env).await;

    let out = env
        .s3
        .list_objects()
        .bucket("history")
        .at_snapshot(&version)
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = out.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["data/a.txt", "v1.txt"]);
}

#[tokio::test]
async fn snapshot_options_chain_with_other_customizations() {
    let env = TestEnv::start().await;
    let version = bucket_with_history(&env).await;

    // `at_snapshot` on an already customized operation keeps the earlier customization.
    let out = env
        .s3
        .get_object()
        .bucket("history")
        .key("v1.txt")
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("x-test-extra", "1");
        })
        .at_snapshot(&version)
        .send()
        .await
        .unwrap();
    assert_eq!(
        tigris_test_support::body_string(out.body).await,
        "first version"
    );
}

#[tokio::test]
async fn delete_snapshot_removes_only_that_snapshot() {
    let env = TestEnv::start().await;
    env.create_snapshot_bucket("snap-bucket").await;
    env.put("snap-bucket", "k", "v").await;
    let keep = env.snapshot("snap-bucket").await;
    let doomed = env.snapshot("snap-bucket").await;

    env.s3
        .delete_snapshot()
        .bucket("snap-bucket")
        .version(&doomed)
        .send()
        .await
        .unwrap();

    let listed: Vec<_> = env
        .s3
        .list_snapshots()
        .bucket("snap-bucket")
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.version().clone())
        .collect();
    assert_eq!(listed, [keep]);
    assert!(env.bucket_exists("snap-bucket").await);
    assert_eq!(env.get("snap-bucket", "k").await, "v");
}

#[tokio::test]
async fn delete_unknown_snapshot_is_not_found() {
    let env = TestEnv::start().await;
    env.create_snapshot_bucket("snap-bucket").await;

    let err = env
        .s3
        .delete_snapshot()
        .bucket("snap-bucket")
        .version("12345")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(env.bucket_exists("snap-bucket").await);
}

#[tokio::test]
async fn create_snapshot_retries_transient_failures_and_reads_the_last_answer() {
    let env = TestEnv::start().await;
    env.create_snapshot_bucket("snap-bucket").await;
    env.emu
        .faults()
        .fail_next("CreateBucket", 1, 503, "ServiceUnavailable");

    let version = env
        .s3
        .create_snapshot()
        .bucket("snap-bucket")
        .send()
        .await
        .unwrap();

    assert_eq!(
        env.emu.faults().count("CreateBucket"),
        3,
        "bucket creation, failed attempt, retry"
    );
    let listed = env
        .s3
        .list_snapshots()
        .bucket("snap-bucket")
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        listed.iter().map(|s| s.version()).collect::<Vec<_>>(),
        [&version]
    );
}

#[tokio::test]
async fn create_snapshot_reports_persistent_server_errors_as_transient() {
    let env = TestEnv::start().await;
    env.create_snapshot_bucket("snap-bucket").await;
    env.emu
        .faults()
        .fail_next("CreateBucket", 10, 503, "ServiceUnavailable");

    let err = env
        .s3
        .create_snapshot()
        .bucket("snap-bucket")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert_eq!(err.code(), Some("ServiceUnavailable"));
    assert_eq!(err.status(), Some(503));
}

#[tokio::test]
async fn snapshot_headers_do_not_leak_into_other_requests() {
    let env = TestEnv::start().await;
    env.create_snapshot_bucket("snap-bucket").await;
    env.put("snap-bucket", "k", "old").await;
    let version = env.snapshot("snap-bucket").await;
    env.put("snap-bucket", "k", "new").await;

    let builder = env.s3.get_object().bucket("snap-bucket").key("k");
    let at = builder.clone().at_snapshot(&version).send().await.unwrap();
    let live = builder.send().await.unwrap();
    assert_eq!(tigris_test_support::body_string(at.body).await, "old");
    assert_eq!(tigris_test_support::body_string(live.body).await, "new");
    // A plain CreateBucket on the same client still creates buckets, not snapshots.
    env.s3.create_bucket().bucket("after").send().await.unwrap();
    assert!(env.bucket_exists("after").await);
}
