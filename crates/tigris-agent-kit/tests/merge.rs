//! Diffs and merges against the emulator: changes from listings, conflicts refused unless
//! overwritten, a checkpoint behind every merge, and what a failed merge leaves.

mod common;

use common::Env;
use tigris_agent_kit::{ChangeKind, ErrorKind, Leftover, OnConflict, Step};
use tigris_emulator::Fault;
use tigris_headers::prelude::*;

/// A base with `keep`, `edit` and `drop`, and a fork `exp` of it at a snapshot.
async fn base_and_fork(env: &Env) {
    env.base("base").await;
    env.put("base", "keep", "k").await;
    env.put("base", "edit", "old").await;
    env.put("base", "drop", "d").await;
    let version = env
        .s3
        .create_snapshot()
        .bucket("base")
        .send()
        .await
        .unwrap();
    env.s3
        .create_bucket()
        .bucket("exp")
        .fork_of_snapshot(&"base".parse().unwrap(), &version)
        .send()
        .await
        .unwrap();
}

async fn delete(env: &Env, bucket: &str, key: &str) {
    env.s3
        .delete_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
}

fn summary(changes: &[tigris_agent_kit::Change]) -> Vec<(String, ChangeKind, u64)> {
    changes
        .iter()
        .map(|c| (c.key().to_owned(), c.kind(), c.size()))
        .collect()
}

#[tokio::test]
async fn a_diff_lists_the_forks_added_modified_and_deleted_keys_with_sizes() {
    let env = Env::start().await;
    base_and_fork(&env).await;
    env.put("exp", "edit", "newer").await;
    env.put("exp", "keep", "k").await; // rewritten, same content: no change
    env.put("exp", "new", "abc").await;
    delete(&env, "exp", "drop").await;

    let diff = env.kit.diff().fork("exp").send().await.unwrap();

    assert_eq!(diff.parent().as_str(), "base");
    assert_eq!(
        summary(diff.fork_changes()),
        [
            ("drop".into(), ChangeKind::Deleted, 1),
            ("edit".into(), ChangeKind::Modified, 5),
            ("new".into(), ChangeKind::Added, 3),
        ]
    );
    assert!(diff.parent_changes().is_empty());
    assert!(diff.conflicts().is_empty());
    let edit = &diff.fork_changes()[1];
    assert_ne!(edit.before().unwrap().etag(), edit.after().unwrap().etag());
    assert_eq!(edit.to_string(), "modified edit (5 bytes)");
}

#[tokio::test]
async fn a_diff_walks_every_page_of_every_listing() {
    let env = Env::start().await;
    base_and_fork(&env).await;
    for i in 0..7 {
        env.put("exp", &format!("f{i}"), "x").await;
        env.put("base", &format!("p{i}"), "y").await;
    }
    let before = env.emu.faults().count("ListObjectsV2");

    let diff = env
        .kit
        .diff()
        .fork("exp")
        .page_size(2)
        .send()
        .await
        .unwrap();

    assert_eq!(diff.fork_changes().len(), 7);
    assert_eq!(diff.parent_changes().len(), 7);
    assert!(
        env.emu.faults().count("ListObjectsV2") - before >= 4 + 2 + 4,
        "pages of 2 keys: fork 10 keys, base then 3, base now 10"
    );
}

#[tokio::test]
async fn keys_both_sides_changed_differently_are_conflicts_and_equal_changes_are_not() {
    let env = Env::start().await;
    base_and_fork(&env).await;
    env.put("exp", "edit", "fork").await;
    env.put("base", "edit", "parent").await;
    delete(&env, "exp", "drop").await;
    delete(&env, "base", "drop").await; // the same change on both sides
    env.put("exp", "same", "s").await;
    env.put("base", "same", "s").await;
    env.put("base", "only-parent", "p").await;

    let diff = env.kit.diff().fork("exp").send().await.unwrap();

    let conflicts: Vec<String> = diff.conflicts().iter().map(|c| c.to_string()).collect();
    assert_eq!(
        conflicts,
        ["edit (modified in the fork, modified in the parent)"]
    );
    assert_eq!(
        summary(diff.parent_changes()),
        [
            ("drop".into(), ChangeKind::Deleted, 1),
            ("edit".into(), ChangeKind::Modified, 6),
            ("only-parent".into(), ChangeKind::Added, 1),
            ("same".into(), ChangeKind::Added, 1),
        ]
    );
}

#[tokio::test]
async fn a_diff_of_a_bucket_that_is_no_fork_is_invalid_input() {
    let env = Env::start().await;
    env.base("base").await;
    let err = env.kit.diff().fork("base").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let err = env.kit.diff().fork("missing").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.step(), Some(Step::ReadForkPoint));
    let requests = env.requests();
    let err = env.kit.diff().fork("Bad Name").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(env.requests(), requests, "no request was sent");
}

#[tokio::test]
async fn a_merge_applies_the_forks_changes_behind_a_checkpoint_that_restores_the_old_parent() {
    let env = Env::start().await;
    base_and_fork(&env).await;
    env.put("exp", "edit", "newer").await;
    env.put("exp", "new", "abc").await;
    delete(&env, "exp", "drop").await;
    env.put("base", "other", "o").await; // no conflict

    let merged = env.kit.merge().fork("exp").send().await.unwrap();

    assert_eq!(merged.diff().fork_changes().len(), 3);
    assert_eq!(merged.checkpoint().name(), Some("before-merge-exp"));
    assert_eq!(env.get("base", "edit").await.as_deref(), Some("newer"));
    assert_eq!(env.get("base", "new").await.as_deref(), Some("abc"));
    assert_eq!(env.get("base", "drop").await, None);
    assert_eq!(env.get("base", "other").await.as_deref(), Some("o"));

    let restored = env
        .kit
        .restore()
        .bucket("base")
        .version(merged.checkpoint().version())
        .fork_name("base-before")
        .send()
        .await
        .unwrap();
    assert_eq!(
        env.get(restored.as_str(), "edit").await.as_deref(),
        Some("old")
    );
    assert_eq!(
        env.get(restored.as_str(), "drop").await.as_deref(),
        Some("d")
    );
    assert_eq!(env.get(restored.as_str(), "new").await, None);
}

#[tokio::test]
async fn a_merge_with_conflicts_is_refused_and_changes_nothing() {
    let env = Env::start().await;
    base_and_fork(&env).await;
    env.put("exp", "edit", "fork").await;
    env.put("base", "edit", "parent").await;
    let snapshots = env.snapshots("base").await;

    let err = env.kit.merge().fork("exp").send().await.unwrap_err();

    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(err.conflicts(), ["edit"]);
    assert!(
        err.to_string()
            .contains("both changed 1 key since the fork point: \"edit\""),
        "{err}"
    );
    assert_eq!(env.get("base", "edit").await.as_deref(), Some("parent"));
    assert_eq!(env.snapshots("base").await, snapshots, "no checkpoint");
    assert_eq!(
        env.emu.faults().count("CreateBucket"),
        3,
        "base, snapshot, fork: no checkpoint, no merge"
    );
}

#[tokio::test]
async fn overwrite_merges_despite_conflicts_and_the_fork_wins() {
    let env = Env::start().await;
    base_and_fork(&env).await;
    env.put("exp", "edit", "fork").await;
    env.put("base", "edit", "parent").await;

    let merged = env
        .kit
        .merge()
        .fork("exp")
        .on_conflict(OnConflict::Overwrite)
        .send()
        .await
        .unwrap();

    assert_eq!(merged.diff().conflicts().len(), 1);
    assert_eq!(env.get("base", "edit").await.as_deref(), Some("fork"));
}

#[tokio::test]
async fn a_refused_merge_request_removes_its_checkpoint() {
    let env = Env::start().await;
    base_and_fork(&env).await;
    env.put("exp", "new", "n").await;
    let snapshots = env.snapshots("base").await;
    env.emu.faults().inject(
        Fault::on("CreateBucket")
            .with_header("x-tigris-merge-source-bucket")
            .status(400)
            .code("InvalidArgument"),
    );

    let err = env.kit.merge().fork("exp").send().await.unwrap_err();

    assert_eq!(err.step(), Some(Step::Merge));
    assert!(err.leftovers().is_empty(), "{err}");
    assert!(
        err.to_string()
            .ends_with("everything it created was removed"),
        "{err}"
    );
    assert_eq!(env.snapshots("base").await, snapshots);
    assert_eq!(env.get("base", "new").await, None);
}

#[tokio::test]
async fn a_merge_whose_response_was_lost_keeps_the_checkpoint_to_restore() {
    let env = Env::start().await;
    base_and_fork(&env).await;
    env.put("exp", "new", "n").await;
    env.emu.faults().inject(
        Fault::on("CreateBucket")
            .with_header("x-tigris-merge-source-bucket")
            .after_apply(),
    );

    let err = env.kit.merge().fork("exp").send().await.unwrap_err();

    assert_eq!(err.step(), Some(Step::Merge));
    // The checkpoint is kept, and the snapshot the merge made (its version was in the lost
    // answer) is found by listing and named too.
    let [
        Leftover::Snapshot { bucket, version },
        Leftover::Snapshot {
            bucket: merged_in,
            version: merged,
        },
    ] = err.leftovers()
    else {
        panic!("the checkpoint and the merge's snapshot: {err}")
    };
    assert_eq!(bucket.as_str(), "base");
    assert_eq!(merged_in.as_str(), "base");
    assert!(merged.as_u64() > version.as_u64());
    let snapshots = env.snapshots("base").await;
    assert!(snapshots.contains(&version.to_string()));
    assert!(snapshots.contains(&merged.to_string()));
    assert_eq!(
        env.get("base", "new").await.as_deref(),
        Some("n"),
        "applied"
    );
}
