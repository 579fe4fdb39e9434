//! Checkpoints, restores and listings against the emulator.

mod common;

use std::time::{Duration, UNIX_EPOCH};

use common::Env;
use tigris_agent_kit::{ErrorKind, Leftover, Step};
use tigris_emulator::Fault;
use tigris_headers::prelude::*;

#[tokio::test]
async fn restore_gets_the_default_name_and_the_bytes_from_before_the_mutation() {
    let env = Env::start().await;
    let ws = env
        .kit
        .create_workspace()
        .bucket("ws-r")
        .send()
        .await
        .unwrap();
    env.put("ws-r", "state.json", "v1").await;
    let checkpoint = env
        .kit
        .checkpoint()
        .bucket(ws.bucket())
        .name("before")
        .send()
        .await
        .unwrap();
    env.put("ws-r", "state.json", "v2").await;
    env.put("ws-r", "later.txt", "late").await;

    let restored = env
        .kit
        .restore()
        .bucket(ws.bucket())
        .version(checkpoint.version())
        .send()
        .await
        .unwrap();
    assert_eq!(
        restored.as_str(),
        format!("ws-r-restore-{}", checkpoint.version())
    );
    assert_eq!(
        env.get(restored.as_str(), "state.json").await.as_deref(),
        Some("v1")
    );
    assert_eq!(env.get(restored.as_str(), "later.txt").await, None);
    assert_eq!(
        env.get("ws-r", "state.json").await.as_deref(),
        Some("v2"),
        "untouched"
    );

    let named = env
        .kit
        .restore()
        .bucket("ws-r")
        .version(checkpoint.version())
        .fork_name("ws-r-named")
        .send()
        .await
        .unwrap();
    assert_eq!(named.as_str(), "ws-r-named");

    for bucket in [&restored, &named] {
        env.s3
            .delete_bucket()
            .bucket(bucket.as_str())
            .force_delete()
            .send()
            .await
            .unwrap();
    }
    ws.teardown().await.unwrap();
    env.assert_only(&[]).await;
}

#[tokio::test]
async fn checkpoints_are_listed_newest_first_with_names_and_server_times() {
    let env = Env::start().await;
    let ws = env
        .kit
        .create_workspace()
        .bucket("ws-list")
        .send()
        .await
        .unwrap();
    let first = env.kit.checkpoint().bucket("ws-list").send().await.unwrap();
    let second = env
        .kit
        .checkpoint()
        .bucket("ws-list")
        .name("the second one")
        .send()
        .await
        .unwrap();
    let third = env
        .kit
        .checkpoint()
        .bucket("ws-list")
        .name("third")
        .send()
        .await
        .unwrap();
    assert_eq!(second.name(), Some("the second one"));
    assert_eq!(first.name(), None);

    let mut listed = env
        .kit
        .list_checkpoints()
        .bucket("ws-list")
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    listed.sort_by(|a, b| b.version().cmp(a.version()));
    assert_eq!(listed.len(), 3);
    let versions: Vec<_> = listed.iter().map(|c| c.version().clone()).collect();
    assert_eq!(
        versions,
        [
            third.version().clone(),
            second.version().clone(),
            first.version().clone()
        ]
    );
    let names: Vec<_> = listed.iter().map(|c| c.name()).collect();
    assert_eq!(names, [Some("third"), Some("the second one"), None]);

    // The time a checkpoint reports is the server's: its version is a nanosecond timestamp.
    let nanos = first.version().as_u64();
    assert_eq!(first.created(), UNIX_EPOCH + Duration::from_nanos(nanos));
    for checkpoint in &listed {
        let since = checkpoint.created().duration_since(UNIX_EPOCH).unwrap();
        let from_version = Duration::from_nanos(checkpoint.version().as_u64());
        // The listing's CreationDate has at most millisecond precision.
        assert!(
            from_version.abs_diff(since) < Duration::from_secs(1),
            "{checkpoint:?}"
        );
    }
    ws.teardown().await.unwrap();
}

#[tokio::test]
async fn a_bucket_without_checkpoints_lists_none() {
    let env = Env::start().await;
    let ws = env
        .kit
        .create_workspace()
        .bucket("ws-empty")
        .send()
        .await
        .unwrap();
    assert!(
        env.kit
            .list_checkpoints()
            .bucket(ws.bucket())
            .send()
            .await
            .unwrap()
            .checkpoints()
            .is_empty()
    );
    ws.teardown().await.unwrap();
}

#[tokio::test]
async fn a_bucket_without_snapshots_cannot_be_checkpointed() {
    let env = Env::start().await;
    let ws = env
        .kit
        .create_workspace()
        .bucket("ws-nosnap")
        .snapshots(false)
        .send()
        .await
        .unwrap();
    let err = env
        .kit
        .checkpoint()
        .bucket(ws.bucket())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.step(), Some(Step::CreateSnapshot));
    assert_eq!(err.bucket(), Some("ws-nosnap"));
    ws.teardown().await.unwrap();
}

#[tokio::test]
async fn restoring_onto_a_taken_name_is_a_conflict_and_leaves_that_bucket_alone() {
    let env = Env::start().await;
    let ws = env
        .kit
        .create_workspace()
        .bucket("ws-c")
        .send()
        .await
        .unwrap();
    let checkpoint = env.kit.checkpoint().bucket("ws-c").send().await.unwrap();
    env.base("taken").await;
    env.put("taken", "keep.txt", "precious").await;
    let err = env
        .kit
        .restore()
        .bucket("ws-c")
        .version(checkpoint.version())
        .fork_name("taken")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(err.step(), Some(Step::CreateFork));
    assert_eq!(
        env.get("taken", "keep.txt").await.as_deref(),
        Some("precious")
    );
    ws.teardown().await.unwrap();
    env.assert_only(&["taken"]).await;
}

#[tokio::test]
async fn a_restore_whose_creation_response_was_lost_leaves_no_bucket() {
    let env = Env::start().await;
    let ws = env
        .kit
        .create_workspace()
        .bucket("ws-l")
        .send()
        .await
        .unwrap();
    let checkpoint = env.kit.checkpoint().bucket("ws-l").send().await.unwrap();
    env.emu.faults().inject(
        Fault::on("CreateBucket")
            .with_header("x-tigris-fork-source-bucket")
            .after_apply()
            .status(502)
            .code("BadGateway"),
    );
    let err = env
        .kit
        .restore()
        .bucket("ws-l")
        .version(checkpoint.version())
        .fork_name("ws-l-restored")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.step(), Some(Step::CreateFork));
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert_eq!(err.code(), Some("BadGateway"));
    assert!(err.leftovers().is_empty(), "{err}");
    assert!(
        err.to_string()
            .ends_with("; everything it created was removed"),
        "{err}"
    );
    assert_eq!(env.buckets().await, ["ws-l"]);

    ws.teardown().await.unwrap();
    env.assert_only(&[]).await;
}

#[tokio::test]
async fn a_lost_restore_whose_rollback_fails_reports_the_bucket_really_there() {
    let env = Env::start().await;
    let ws = env
        .kit
        .create_workspace()
        .bucket("ws-m")
        .send()
        .await
        .unwrap();
    let checkpoint = env.kit.checkpoint().bucket("ws-m").send().await.unwrap();
    env.emu.faults().inject(
        Fault::on("CreateBucket")
            .with_header("x-tigris-fork-source-bucket")
            .after_apply(),
    );
    env.fail_next("DeleteBucket", 500, "InternalError");
    let err = env
        .kit
        .restore()
        .bucket("ws-m")
        .version(checkpoint.version())
        .fork_name("ws-m-restored")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.leftovers(),
        [Leftover::Bucket {
            bucket: "ws-m-restored".parse().unwrap()
        }]
    );
    let mut buckets = env.buckets().await;
    buckets.sort();
    assert_eq!(buckets, ["ws-m", "ws-m-restored"], "the leftover is real");

    env.s3
        .delete_bucket()
        .bucket("ws-m-restored")
        .force_delete()
        .send()
        .await
        .unwrap();
    ws.teardown().await.unwrap();
    env.assert_only(&[]).await;
}

#[tokio::test]
async fn checkpoints_page_by_page_and_item_by_item_cover_every_checkpoint_once() {
    let env = Env::start().await;
    let ws = env
        .kit
        .create_workspace()
        .bucket("ws-pages")
        .send()
        .await
        .unwrap();
    let mut taken = Vec::new();
    for _ in 0..5 {
        let checkpoint = env
            .kit
            .checkpoint()
            .bucket(ws.bucket())
            .send()
            .await
            .unwrap();
        taken.push(checkpoint.version().clone());
    }
    let pages = env
        .kit
        .list_checkpoints()
        .bucket(ws.bucket())
        .max_checkpoints(2)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .unwrap();
    let sizes: Vec<_> = pages.iter().map(|p| p.checkpoints().len()).collect();
    assert_eq!(sizes, [2, 2, 1]);
    let mut items: Vec<_> = env
        .kit
        .list_checkpoints()
        .bucket(ws.bucket())
        .max_checkpoints(2)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.version().clone())
        .collect();
    items.sort();
    assert_eq!(items, taken);
    ws.teardown().await.unwrap();
}

#[tokio::test]
async fn listing_an_unknown_bucket_is_not_found() {
    let env = Env::start().await;
    let err = env
        .kit
        .list_checkpoints()
        .bucket("nowhere")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.step(), Some(Step::ListSnapshots));
}

#[tokio::test]
async fn invalid_input_is_rejected_before_any_request() {
    let env = Env::start().await;
    let kit = &env.kit;
    let long = format!("b{}", "a".repeat(35)); // 36 + "-restore-" + 19 digits = 64
    let version = "1792493847118382304";
    let errors = [
        kit.checkpoint().bucket("Bad").send().await.unwrap_err(),
        kit.checkpoint()
            .bucket("ws-1")
            .name("a;b")
            .send()
            .await
            .unwrap_err(),
        kit.checkpoint()
            .bucket("ws-1")
            .name("k=v")
            .send()
            .await
            .unwrap_err(),
        kit.checkpoint()
            .bucket("ws-1")
            .name("")
            .send()
            .await
            .unwrap_err(),
        kit.restore()
            .bucket("ws-1")
            .version("")
            .send()
            .await
            .unwrap_err(),
        kit.restore()
            .bucket("ws-1")
            .version("latest")
            .send()
            .await
            .unwrap_err(),
        kit.restore()
            .bucket("Bad")
            .version(version)
            .send()
            .await
            .unwrap_err(),
        kit.restore()
            .bucket("ws-1")
            .version(version)
            .fork_name("No_Good")
            .send()
            .await
            .unwrap_err(),
        kit.restore()
            .bucket(&long)
            .version(version)
            .send()
            .await
            .unwrap_err(),
        kit.list_checkpoints()
            .bucket("Bad")
            .send()
            .await
            .unwrap_err(),
    ];
    for err in errors {
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains("invalid input"), "{err}");
    }
    assert_eq!(env.requests(), 0, "no request was sent");
}
