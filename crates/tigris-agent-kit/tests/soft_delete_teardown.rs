//! Teardown on a bucket with soft delete on: gone for good, not restorable, and a failed
//! delete leaves the bucket with its soft delete as it was.

mod common;

use common::Env;
use tigris_agent_kit::{Leftover, Step};
use tigris_api::update_bucket::SoftDeleteSetting;
use tigris_headers::ErrorKind;

async fn soft_delete_workspace(
    env: &Env,
    name: &str,
) -> (tigris_agent_kit::Workspace, tigris_api::Client) {
    let ws = env
        .kit
        .create_workspace()
        .bucket(name)
        .send()
        .await
        .unwrap();
    let tigris = tigris_api::Client::new(&env.sdk).unwrap();
    tigris
        .update_bucket()
        .bucket(name)
        .soft_delete(SoftDeleteSetting::Enabled { retention_days: 30 })
        .send()
        .await
        .unwrap();
    env.put(name, "kept.txt", "data").await;
    env.put(name, "deleted.txt", "old").await;
    env.s3
        .delete_object()
        .bucket(name)
        .key("deleted.txt")
        .send()
        .await
        .unwrap();
    (ws, tigris)
}

#[tokio::test]
async fn teardown_of_a_soft_delete_workspace_leaves_nothing_restorable() {
    let env = Env::start().await;
    let (ws, tigris) = soft_delete_workspace(&env, "ws-soft").await;

    ws.teardown().await.unwrap();

    assert!(env.buckets().await.is_empty());
    assert!(
        tigris
            .list_deleted_buckets()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .unwrap()
            .is_empty(),
        "not kept as a deleted bucket"
    );
    let err = tigris
        .restore_bucket()
        .bucket("ws-soft")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    // The name is free at once, as after any real delete.
    env.s3
        .create_bucket()
        .bucket("ws-soft")
        .send()
        .await
        .unwrap();
    assert_eq!(env.emu.retained_versions(), 0, "no body is kept");
}

#[tokio::test]
async fn teardown_of_a_plain_workspace_reads_the_setting_and_sends_no_patch() {
    let env = Env::start().await;
    let ws = env
        .kit
        .create_workspace()
        .bucket("ws-plain")
        .send()
        .await
        .unwrap();
    ws.teardown().await.unwrap();
    assert_eq!(env.emu.faults().count("GetBucketMetadata"), 1);
    assert_eq!(env.emu.faults().count("PatchBucket"), 0);
    assert!(env.buckets().await.is_empty());
}

#[tokio::test]
async fn a_failed_delete_turns_soft_delete_back_on_and_a_second_teardown_finishes() {
    let env = Env::start().await;
    let (ws, tigris) = soft_delete_workspace(&env, "ws-retry").await;
    env.fail_next("DeleteBucket", 500, "InternalError");

    let err = ws.teardown().await.unwrap_err();
    assert_eq!(err.failures().len(), 1, "{err}");
    assert_eq!(err.failures()[0].step(), Some(Step::DeleteBucket));
    assert_eq!(
        err.leftovers(),
        [Leftover::Bucket {
            bucket: ws.bucket().clone()
        }]
    );
    let setting = tigris
        .bucket_metadata()
        .bucket("ws-retry")
        .send()
        .await
        .unwrap()
        .soft_delete();
    assert!(setting.enabled, "the leftover keeps its protection");
    assert_eq!(setting.retention_days, Some(30));
    assert_eq!(
        env.get("ws-retry", "kept.txt").await.as_deref(),
        Some("data")
    );

    ws.teardown().await.unwrap();
    assert!(env.buckets().await.is_empty());
    assert!(
        tigris
            .list_deleted_buckets()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_setting_that_cannot_be_read_keeps_the_bucket_and_reports_it() {
    let env = Env::start().await;
    let (ws, tigris) = soft_delete_workspace(&env, "ws-unread").await;
    env.fail_next("GetBucketMetadata", 500, "InternalError");

    let err = ws.teardown().await.unwrap_err();
    assert_eq!(err.failures()[0].step(), Some(Step::ReadSoftDelete));
    assert_eq!(
        err.leftovers(),
        [Leftover::Bucket {
            bucket: ws.bucket().clone()
        }]
    );
    assert_eq!(
        env.buckets().await,
        ["ws-unread"],
        "not deleted half-knowing"
    );
    assert!(
        tigris
            .bucket_metadata()
            .bucket("ws-unread")
            .send()
            .await
            .unwrap()
            .soft_delete()
            .enabled
    );
    ws.teardown().await.unwrap();
    assert!(
        tigris
            .list_deleted_buckets()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .unwrap()
            .is_empty()
    );
}
