//! Promoting the best fork of a set: the winner merged into the base behind a checkpoint, the
//! whole set torn down, and with a fault at any request, nothing left that is not reported.

mod common;

use std::collections::HashSet;

use common::Env;
use tigris_agent_kit::{ErrorKind, ForkSet, Leftover, Role, Step};
use tigris_emulator::Fault;

/// Every operation a promotion sends; a clean run checks the list is complete.
const OPERATIONS: [&str; 8] = [
    "HeadBucket",
    "ListObjectsV2",
    "CreateBucket",
    "DeleteBucket",
    // The soft-delete setting a fork's teardown reads before deleting it.
    "GetBucketMetadata",
    "DetachUserPolicy",
    "DeletePolicy",
    "DeleteAccessKey",
];

/// A base with two objects and three forks with credentials; fork 1 edited one object and
/// added another.
async fn set_with_winner(env: &Env) -> ForkSet {
    env.base("base").await;
    env.put("base", "data.txt", "v1").await;
    env.put("base", "notes.txt", "n").await;
    let set = env
        .kit
        .create_forks()
        .base("base")
        .count(3)
        .prefix("agent")
        .credentials(Role::Editor)
        .send()
        .await
        .unwrap();
    env.put("agent-1", "data.txt", "v2").await;
    env.put("agent-1", "result.txt", "42").await;
    env.put("agent-0", "data.txt", "worse").await;
    set
}

fn counts(env: &Env) -> Vec<u64> {
    OPERATIONS
        .iter()
        .map(|op| env.emu.faults().count(op))
        .collect()
}

#[tokio::test]
async fn promote_merges_the_winner_and_tears_down_the_whole_set() {
    let env = Env::start().await;
    let set = set_with_winner(&env).await;

    let merged = set.promote(&set.forks()[1]).send().await.unwrap();

    let changes: Vec<String> = merged
        .diff()
        .fork_changes()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        changes,
        ["modified data.txt (2 bytes)", "added result.txt (2 bytes)"]
    );
    assert_eq!(env.get("base", "data.txt").await.as_deref(), Some("v2"));
    assert_eq!(env.get("base", "result.txt").await.as_deref(), Some("42"));
    env.assert_only(&["base"]).await;
    let mut expected = vec![
        merged.checkpoint().version().to_string(),
        merged.version().to_string(),
    ];
    expected.sort();
    let mut snapshots = env.snapshots("base").await;
    snapshots.sort();
    assert_eq!(
        snapshots, expected,
        "the checkpoint and the merge's snapshot remain; the set's snapshot is gone"
    );
}

#[tokio::test]
async fn promote_refuses_when_the_base_changed_the_same_keys_and_keeps_the_set() {
    let env = Env::start().await;
    let set = set_with_winner(&env).await;
    env.put("base", "data.txt", "v1-fixed").await;

    let err = set.promote(&set.forks()[1]).send().await.unwrap_err();

    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(err.conflicts(), ["data.txt"]);
    assert!(err.merge().is_none());
    assert_eq!(env.buckets().await.len(), 4, "the set is untouched");
    set.teardown().await.unwrap();
    env.assert_only(&["base"]).await;
}

#[tokio::test]
async fn a_winner_from_another_set_is_rejected_before_any_request() {
    let env = Env::start().await;
    let set = set_with_winner(&env).await;
    env.base("other").await;
    let others = env
        .kit
        .create_forks()
        .base("other")
        .count(1)
        .prefix("other-agent")
        .send()
        .await
        .unwrap();
    let requests = env.requests();

    let err = set.promote(&others.forks()[0]).send().await.unwrap_err();

    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(env.requests(), requests);
    others.teardown().await.unwrap();
    set.teardown().await.unwrap();
}

/// Asserts that after a failed promotion everything still there is either the untouched set
/// (the merge did not complete) or reported as a leftover, then that teardown clears it.
async fn assert_nothing_leaked(env: &Env, set: &ForkSet, err: &tigris_agent_kit::Error, at: &str) {
    let leftovers: HashSet<Leftover> = err.leftovers().iter().cloned().collect();
    let reported_bucket = |b: &str| {
        leftovers.contains(&Leftover::Bucket {
            bucket: b.parse().unwrap(),
        })
    };
    let reported_snapshot = |v: &str| {
        leftovers.iter().any(|l| {
            matches!(l, Leftover::Snapshot { bucket, version }
                if bucket.as_str() == "base" && version.to_string() == v)
        })
    };
    let snapshots = env.snapshots("base").await;
    match err.merge() {
        None => {
            // No teardown ran: the set is whole, and the caller still holds it.
            let mut expected = vec!["agent-0", "agent-1", "agent-2", "base"];
            expected.sort_unstable();
            assert_eq!(env.buckets().await, expected, "{at}: {err}");
            assert_eq!(env.access_keys().await.len(), 3, "{at}");
            // A snapshot whose response was lost (the checkpoint's, or the one a merge
            // answers with) has no known version: it stays with the base, as every such
            // snapshot does (see the crate docs on ambiguous failures).
            let unknown = snapshots
                .iter()
                .filter(|v| *v != &set.snapshot().to_string() && !reported_snapshot(v))
                .count();
            let lost_version = matches!(err.step(), Some(Step::CreateSnapshot | Step::Merge));
            assert!(
                unknown <= usize::from(lost_version),
                "{at}: {unknown} snapshots neither the set's nor reported: {err}"
            );
        }
        Some(merged) => {
            assert_eq!(err.step(), None, "{at}: a teardown aggregate");
            for bucket in env.buckets().await {
                assert!(
                    bucket == "base" || reported_bucket(&bucket),
                    "{at}: bucket {bucket} not reported: {err}"
                );
            }
            for id in env.access_keys().await {
                assert!(
                    leftovers.contains(&Leftover::Iam(tigris_iam::Leftover::AccessKey {
                        id: id.clone()
                    })),
                    "{at}: access key {id} not reported: {err}"
                );
            }
            for arn in env.policies().await {
                assert!(
                    leftovers.contains(&Leftover::Iam(tigris_iam::Leftover::Policy {
                        arn: arn.clone()
                    })),
                    "{at}: policy {arn} not reported: {err}"
                );
            }
            for v in &snapshots {
                assert!(
                    v == &merged.checkpoint().version().to_string()
                        || v == &merged.version().to_string()
                        || reported_snapshot(v),
                    "{at}: snapshot {v} not reported: {err}"
                );
            }
        }
    }
    // The fault is used up: a teardown removes whatever is left.
    set.teardown().await.unwrap_or_else(|e| panic!("{at}: {e}"));
    env.assert_only(&["base"]).await;
    assert!(
        !env.snapshots("base")
            .await
            .contains(&set.snapshot().to_string()),
        "{at}"
    );
}

#[tokio::test]
async fn a_fault_at_any_request_of_a_promotion_is_rolled_back_or_reported() {
    // A clean run: how many requests of each operation a promotion sends.
    let env = Env::start().await;
    let set = set_with_winner(&env).await;
    let (before, total) = (counts(&env), env.requests());
    set.promote(&set.forks()[1]).send().await.unwrap();
    let sent: Vec<u64> = counts(&env)
        .iter()
        .zip(&before)
        .map(|(a, b)| a - b)
        .collect();
    assert_eq!(
        sent.iter().sum::<u64>(),
        env.requests() - total,
        "OPERATIONS lists every request: {sent:?}"
    );

    let mut positions = 0;
    for (operation, &n) in OPERATIONS.iter().zip(&sent) {
        for skip in 0..n {
            for after_apply in [false, true] {
                let at = format!(
                    "{operation} #{skip}{}",
                    if after_apply { " (response lost)" } else { "" }
                );
                let env = Env::start().await;
                let set = set_with_winner(&env).await;
                let mut fault = Fault::on(operation).skip(u32::try_from(skip).unwrap());
                if after_apply {
                    fault = fault.after_apply();
                }
                env.emu.faults().inject(fault);
                match set.promote(&set.forks()[1]).send().await {
                    Ok(_) => {
                        // Only a lost response of an idempotent cleanup step can end well.
                        env.assert_only(&["base"]).await;
                    }
                    Err(err) => {
                        assert_ne!(err.kind(), ErrorKind::InvalidInput, "{at}: {err}");
                        if err.step() == Some(Step::Merge) {
                            // A server error may have come after the merge: the checkpoint
                            // is kept, to restore from, with the merge's own snapshot when
                            // it went through.
                            let expected = if after_apply { 2 } else { 1 };
                            assert_eq!(err.leftovers().len(), expected, "{at}: {err}");
                        }
                        assert_nothing_leaked(&env, &set, &err, &at).await;
                    }
                }
                positions += 1;
            }
        }
    }
    assert!(positions >= 2 * 14, "every position was tried: {positions}");
}
