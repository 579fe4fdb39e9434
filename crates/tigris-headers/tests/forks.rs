//! Forks and bucket info against the emulator.

mod common;

use aws_sdk_s3::error::ProvideErrorMetadata;
use common::TestEnv;
use tigris_headers::prelude::*;
use tigris_headers::{BucketName, ErrorKind};

fn name(s: &str) -> BucketName {
    s.parse().unwrap()
}

#[tokio::test]
async fn fork_sees_parent_data_as_of_the_fork_and_not_later_writes() {
    let env = TestEnv::start().await;
    let parent = env.create_snapshot_bucket("parent").await;
    env.put("parent", "shared.txt", "before fork").await;

    env.s3
        .create_bucket()
        .bucket("child")
        .fork_of(&parent)
        .send()
        .await
        .unwrap();
    env.put("parent", "shared.txt", "after fork").await;
    env.put("parent", "late.txt", "late").await;

    assert_eq!(env.get("child", "shared.txt").await, "before fork");
    assert_eq!(env.try_get("child", "late.txt").await, None);
    assert_eq!(env.keys("child").await, ["shared.txt"]);
}

#[tokio::test]
async fn writes_to_a_fork_never_reach_the_parent() {
    let env = TestEnv::start().await;
    let parent = env.create_snapshot_bucket("parent").await;
    env.put("parent", "shared.txt", "parent data").await;
    env.s3
        .create_bucket()
        .bucket("child")
        .fork_of(&parent)
        .send()
        .await
        .unwrap();

    env.put("child", "shared.txt", "child data").await;
    env.put("child", "child-only.txt", "x").await;
    env.s3
        .delete_object()
        .bucket("child")
        .key("shared.txt")
        .send()
        .await
        .unwrap();

    assert_eq!(env.get("parent", "shared.txt").await, "parent data");
    assert_eq!(env.try_get("parent", "child-only.txt").await, None);
    assert_eq!(env.keys("parent").await, ["shared.txt"]);
}

#[tokio::test]
async fn fork_from_a_snapshot_sees_the_snapshot_state() {
    let env = TestEnv::start().await;
    let parent = env.create_snapshot_bucket("parent").await;
    env.put("parent", "a.txt", "v1").await;
    let version = env.snapshot("parent").await;
    env.put("parent", "a.txt", "v2").await;
    env.put("parent", "b.txt", "later").await;

    env.s3
        .create_bucket()
        .bucket("restored")
        .fork_of_snapshot(&parent, &version)
        .send()
        .await
        .unwrap();

    assert_eq!(env.get("restored", "a.txt").await, "v1");
    assert_eq!(env.keys("restored").await, ["a.txt"]);
}

#[tokio::test]
async fn two_forks_of_one_source_are_isolated() {
    let env = TestEnv::start().await;
    let parent = env.create_snapshot_bucket("parent").await;
    env.put("parent", "base.txt", "base").await;
    env.s3
        .create_bucket()
        .bucket("fork-a")
        .fork_of(&parent)
        .send()
        .await
        .unwrap();
    env.s3
        .create_bucket()
        .bucket("fork-b")
        .fork_of(&parent)
        .send()
        .await
        .unwrap();

    env.put("fork-a", "base.txt", "changed in a").await;
    env.put("fork-a", "only-a.txt", "a").await;

    assert_eq!(env.get("fork-b", "base.txt").await, "base");
    assert_eq!(env.keys("fork-b").await, ["base.txt"]);
    assert_eq!(env.get("parent", "base.txt").await, "base");
}

#[tokio::test]
async fn fork_options_chain_with_enable_snapshots() {
    let env = TestEnv::start().await;
    let parent = env.create_snapshot_bucket("parent").await;

    env.s3
        .create_bucket()
        .bucket("child")
        .enable_snapshots()
        .fork_of(&parent)
        .send()
        .await
        .unwrap();

    let info = env.s3.bucket_info().bucket("child").send().await.unwrap();
    assert_eq!(info.fork_parent(), Some(&parent));
    assert!(info.snapshots_enabled());
}

#[tokio::test]
async fn bucket_info_of_a_regular_bucket_has_no_tigris_features() {
    let env = TestEnv::start().await;
    env.create_bucket("plain").await;

    let info = env.s3.bucket_info().bucket("plain").send().await.unwrap();
    assert!(!info.snapshots_enabled());
    assert_eq!(info.fork_parent(), None);
    assert_eq!(info.fork_snapshot(), None);
    assert!(!info.is_fork_parent());
}

#[tokio::test]
async fn bucket_info_of_a_snapshot_bucket_stays_enabled_after_snapshots() {
    let env = TestEnv::start().await;
    env.create_snapshot_bucket("snaps").await;
    for _ in 0..3 {
        env.snapshot("snaps").await;
    }

    let info = env.s3.bucket_info().bucket("snaps").send().await.unwrap();
    assert!(info.snapshots_enabled());
    assert_eq!(info.fork_parent(), None);
    assert_eq!(info.fork_snapshot(), None);
}

#[tokio::test]
async fn bucket_info_of_a_fork_from_a_snapshot_names_parent_and_snapshot() {
    let env = TestEnv::start().await;
    let parent = env.create_snapshot_bucket("parent").await;
    let version = env.snapshot("parent").await;
    env.s3
        .create_bucket()
        .bucket("child")
        .fork_of_snapshot(&parent, &version)
        .send()
        .await
        .unwrap();

    let info = env.s3.bucket_info().bucket("child").send().await.unwrap();
    assert!(info.snapshots_enabled(), "forks inherit snapshots");
    assert_eq!(info.fork_parent(), Some(&parent));
    assert_eq!(info.fork_snapshot(), Some(&version));
    assert!(!info.is_fork_parent());
}

#[tokio::test]
async fn bucket_info_of_a_fork_from_now_still_has_a_snapshot() {
    let env = TestEnv::start().await;
    let parent = env.create_snapshot_bucket("parent").await;
    env.s3
        .create_bucket()
        .bucket("child")
        .fork_of(&parent)
        .send()
        .await
        .unwrap();

    let info = env.s3.bucket_info().bucket("child").send().await.unwrap();
    assert!(info.snapshots_enabled());
    assert_eq!(info.fork_parent(), Some(&name("parent")));
    assert!(info.fork_snapshot().is_some_and(|v| !v.as_str().is_empty()));
}

#[tokio::test]
async fn bucket_info_of_a_parent_after_a_fork_says_it_is_a_fork_parent() {
    let env = TestEnv::start().await;
    let parent = env.create_snapshot_bucket("parent").await;
    assert!(
        !env.s3
            .bucket_info()
            .bucket("parent")
            .send()
            .await
            .unwrap()
            .is_fork_parent()
    );
    env.s3
        .create_bucket()
        .bucket("child")
        .fork_of(&parent)
        .send()
        .await
        .unwrap();

    let info = env.s3.bucket_info().bucket("parent").send().await.unwrap();
    assert!(info.is_fork_parent());
    assert_eq!(info.fork_parent(), None);
}

#[tokio::test]
async fn bucket_info_of_a_missing_bucket_is_not_found() {
    let env = TestEnv::start().await;

    let err = env
        .s3
        .bucket_info()
        .bucket("missing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.status(), Some(404));
}

#[tokio::test]
async fn deleting_a_bucket_with_forks_is_refused_even_with_force() {
    let env = TestEnv::start().await;
    let parent = env.create_snapshot_bucket("parent").await;
    env.s3
        .create_bucket()
        .bucket("child")
        .fork_of(&parent)
        .send()
        .await
        .unwrap();

    let plain = env
        .s3
        .delete_bucket()
        .bucket("parent")
        .send()
        .await
        .unwrap_err();
    assert_eq!(plain.code(), Some("BucketHasForks"));
    assert_eq!(plain.raw_response().map(|r| r.status().as_u16()), Some(409));
    let forced = env
        .s3
        .delete_bucket()
        .bucket("parent")
        .force_delete()
        .send()
        .await
        .unwrap_err();
    assert_eq!(forced.code(), Some("BucketHasForks"));
    assert!(env.bucket_exists("parent").await);

    env.s3.delete_bucket().bucket("child").send().await.unwrap();
    env.s3
        .delete_bucket()
        .bucket("parent")
        .send()
        .await
        .unwrap();
    assert!(!env.bucket_exists("parent").await);
}

#[tokio::test]
async fn forking_a_bucket_without_snapshots_is_refused() {
    let env = TestEnv::start().await;
    env.create_bucket("plain").await;

    let err = env
        .s3
        .create_bucket()
        .bucket("child")
        .fork_of(&name("plain"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidArgument"));
    assert!(!env.bucket_exists("child").await);
}
