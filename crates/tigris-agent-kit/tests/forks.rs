//! Fork sets against the emulator: partial failure fork by fork, rollback of a fork whose
//! credentials fail, leftovers that are really there, bounded concurrency, and teardown.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use aws_sdk_s3::config::retry::RetryConfig;
use common::{Env, put_with};
use tigris_agent_kit::{ErrorKind, Leftover, Role, Step};
use tigris_emulator::Fault;

/// A base bucket with one object, and a checkpoint of it to fork from without taking a
/// snapshot (so that the only `CreateBucket` requests are the forks').
async fn base_with_checkpoint(env: &Env, name: &str) -> String {
    env.base(name).await;
    env.put(name, "data.txt", "base data").await;
    env.kit
        .checkpoint()
        .bucket(name)
        .send()
        .await
        .unwrap()
        .version()
        .to_string()
}

fn names(set: &tigris_agent_kit::ForkSet) -> Vec<String> {
    set.forks().iter().map(|f| f.bucket().to_string()).collect()
}

#[tokio::test]
async fn forks_get_default_names_and_distinct_keys_scoped_to_their_own_fork() {
    let env = Env::start().await;
    env.base("base").await;
    env.put("base", "data.txt", "before").await;
    let set = env
        .kit
        .create_forks()
        .base("base")
        .count(3)
        .credentials(Role::Editor)
        .send()
        .await
        .unwrap();
    env.put("base", "data.txt", "after").await;

    assert!(set.is_complete());
    assert!(set.took_snapshot());
    let snapshot = set.snapshot().to_string();
    assert_eq!(
        names(&set),
        (0..3)
            .map(|i| format!("base-fork-{snapshot}-{i}"))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        env.snapshots("base").await,
        std::slice::from_ref(&snapshot),
        "one snapshot"
    );
    assert_eq!(
        env.emu.faults().count("CreateBucket"),
        5,
        "the base, one snapshot, three forks"
    );
    assert_eq!(env.forks_in_flight.total(), 3);

    let keys: Vec<_> = set
        .forks()
        .iter()
        .map(|f| f.credentials().expect("credentials were asked for"))
        .collect();
    let ids: HashSet<&str> = keys.iter().map(|k| k.access_key_id()).collect();
    assert_eq!(ids.len(), 3, "one key per fork");
    for (fork, key) in set.forks().iter().zip(&keys) {
        assert_eq!(key.buckets(), [fork.bucket().clone()]);
        assert_eq!(
            env.get(fork.bucket().as_str(), "data.txt").await.as_deref(),
            Some("before"),
            "a fork sees the base as of the snapshot"
        );
    }
    let (first, second) = (&set.forks()[0], &set.forks()[1]);
    let agent = env.s3_as(keys[0]);
    put_with(&agent, first.bucket().as_str(), "mine.txt", "ok")
        .await
        .unwrap();
    assert_eq!(
        put_with(&agent, second.bucket().as_str(), "theirs.txt", "no").await,
        Err("AccessDenied".to_owned())
    );
    assert_eq!(
        put_with(&agent, "base", "base.txt", "no").await,
        Err("AccessDenied".to_owned())
    );

    set.teardown().await.unwrap();
    env.assert_only(&["base"]).await;
    assert_eq!(
        env.snapshots("base").await,
        Vec::<String>::new(),
        "the set's snapshot is deleted"
    );
    set.teardown().await.unwrap();
    assert_eq!(env.get("base", "data.txt").await.as_deref(), Some("after"));
}

#[tokio::test]
async fn one_failed_fork_is_reported_and_the_others_are_made() {
    let env = Env::start().await;
    let version = base_with_checkpoint(&env, "base").await;
    env.fail_next("CreateBucket", 500, "InternalError");
    let set = env
        .kit
        .create_forks()
        .base("base")
        .count(5)
        .from_snapshot(&version)
        .prefix("exp")
        .send()
        .await
        .unwrap();

    assert_eq!(set.forks().len(), 4);
    let [failure] = set.failures() else {
        panic!("one failure: {:?}", set.failures())
    };
    assert_eq!(failure.error().step(), Some(Step::CreateFork));
    assert_eq!(failure.error().kind(), ErrorKind::Transient);
    assert_eq!(failure.error().bucket(), Some(failure.bucket().as_str()));
    assert!(failure.error().leftovers().is_empty());
    assert_eq!(
        failure.bucket().as_str(),
        format!("exp-{}", failure.index())
    );
    let mut indices: Vec<usize> = set.forks().iter().map(|f| f.index()).collect();
    indices.push(failure.index());
    indices.sort_unstable();
    assert_eq!(indices, [0, 1, 2, 3, 4], "never silently shorter");

    let mut expected: Vec<String> = names(&set);
    expected.push("base".into());
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    env.assert_only(&expected).await;

    set.teardown().await.unwrap();
    env.assert_only(&["base"]).await;
    assert_eq!(
        env.snapshots("base").await,
        [version],
        "a snapshot the set did not take is left alone"
    );
}

/// Fails the fork `CreateBucket` of `bucket` after it was carried out: the fork exists, the
/// response is lost.
fn lose_fork_response(env: &Env, bucket: &str) {
    env.emu.faults().inject(
        Fault::on("CreateBucket")
            .with_header("x-tigris-fork-source-bucket")
            .bucket(bucket)
            .after_apply()
            .status(500)
            .code("InternalError"),
    );
}

#[tokio::test]
async fn a_fork_whose_creation_response_was_lost_is_a_failure_and_its_bucket_is_gone() {
    let env = Env::start().await;
    let version = base_with_checkpoint(&env, "base").await;
    lose_fork_response(&env, "exp-2");
    let set = env
        .kit
        .create_forks()
        .base("base")
        .count(4)
        .from_snapshot(&version)
        .prefix("exp")
        .credentials(Role::Editor)
        .send()
        .await
        .unwrap();

    assert_eq!(names(&set), ["exp-0", "exp-1", "exp-3"]);
    let [failure] = set.failures() else {
        panic!("one failure: {:?}", set.failures())
    };
    assert_eq!(failure.index(), 2);
    assert_eq!(failure.error().step(), Some(Step::CreateFork));
    assert_eq!(failure.error().code(), Some("InternalError"));
    assert!(failure.error().leftovers().is_empty());
    assert_eq!(
        failure.error().to_string(),
        "could not create fork \"exp-2\": creating the fork failed (transient failure, code \
         InternalError); everything it created was removed"
    );
    assert_eq!(
        env.emu.faults().count("CreateAccessKey"),
        3,
        "no key for the lost fork"
    );
    let mut buckets = env.buckets().await;
    buckets.sort();
    assert_eq!(buckets, ["base", "exp-0", "exp-1", "exp-3"]);

    set.teardown().await.unwrap();
    env.assert_only(&["base"]).await;
}

#[tokio::test]
async fn a_lost_fork_whose_rollback_fails_is_a_leftover_and_keeps_the_snapshot() {
    let env = Env::start().await;
    env.base("base").await;
    lose_fork_response(&env, "exp-0");
    env.fail_next("DeleteBucket", 500, "InternalError");
    let err = env
        .kit
        .create_forks()
        .base("base")
        .count(1)
        .prefix("exp")
        .send()
        .await
        .unwrap_err();

    let [failure] = err.failures() else {
        panic!("one failure: {err}")
    };
    assert_eq!(failure.step(), Some(Step::CreateFork));
    assert_eq!(failure.code(), Some("InternalError"));
    let [snapshot] = &env.snapshots("base").await[..] else {
        panic!("the snapshot is still there")
    };
    // The fork still reads through the snapshot, so the snapshot is kept too.
    assert_eq!(
        err.leftovers(),
        [
            Leftover::Bucket {
                bucket: "exp-0".parse().unwrap()
            },
            Leftover::Snapshot {
                bucket: "base".parse().unwrap(),
                version: snapshot.parse().unwrap()
            }
        ]
    );
    let mut buckets = env.buckets().await;
    buckets.sort();
    assert_eq!(buckets, ["base", "exp-0"], "the leftovers are real");
}

#[tokio::test]
async fn a_bucket_at_a_fork_name_that_is_not_that_fork_is_never_deleted_after_a_server_error() {
    let env = Env::start().await;
    let version = base_with_checkpoint(&env, "base").await;
    env.base("exp-1").await;
    env.put("exp-1", "keep.txt", "precious").await;
    // A server error before the fork was attempted: the probe finds someone else's bucket.
    env.emu.faults().inject(
        Fault::on("CreateBucket")
            .with_header("x-tigris-fork-source-bucket")
            .bucket("exp-1"),
    );
    let set = env
        .kit
        .create_forks()
        .base("base")
        .count(2)
        .from_snapshot(&version)
        .prefix("exp")
        .send()
        .await
        .unwrap();

    let [failure] = set.failures() else {
        panic!("one failure")
    };
    assert_eq!(failure.index(), 1);
    assert_eq!(failure.error().kind(), ErrorKind::Transient);
    assert!(failure.error().leftovers().is_empty());
    assert_eq!(env.emu.faults().count("HeadBucket"), 1, "probed");
    assert_eq!(env.emu.faults().count("DeleteBucket"), 0);
    set.teardown().await.unwrap();
    env.assert_only(&["base", "exp-1"]).await;
    assert_eq!(
        env.get("exp-1", "keep.txt").await.as_deref(),
        Some("precious")
    );
}

#[tokio::test]
async fn a_snapshot_whose_response_was_lost_is_found_and_named_as_a_leftover() {
    // The version was only in the lost response: the snapshot is sent without automatic retry
    // (a retry would take a second one), and the bucket's snapshots taken since are listed.
    for lost in [
        Fault::on("CreateBucket")
            .with_header("x-tigris-snapshot")
            .after_apply(),
        Fault::on("CreateBucket")
            .with_header("x-tigris-snapshot")
            .after_apply()
            .drop_connection(),
    ] {
        let env = Env::start_with_retry(RetryConfig::standard().with_max_attempts(3), |builder| {
            builder
        })
        .await;
        env.base("base").await;
        env.emu.faults().inject(lost);
        let err = env
            .kit
            .create_forks()
            .base("base")
            .count(2)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.step(), Some(Step::CreateSnapshot));
        let snapshots = env.snapshots("base").await;
        assert_eq!(snapshots.len(), 1, "never taken twice");
        assert_eq!(
            err.leftovers(),
            [Leftover::Snapshot {
                bucket: "base".parse().unwrap(),
                version: snapshots[0].parse().unwrap(),
            }]
        );
        assert_eq!(env.forks_in_flight.total(), 0, "no fork was attempted");
    }
}

#[tokio::test]
async fn a_snapshot_that_was_not_taken_is_sent_again() {
    let env = Env::start_with_retry(RetryConfig::standard().with_max_attempts(3), |builder| {
        builder
    })
    .await;
    env.base("base").await;
    env.emu.faults().inject(
        Fault::on("CreateBucket")
            .with_header("x-tigris-snapshot")
            .drop_connection(),
    );
    let set = env
        .kit
        .create_forks()
        .base("base")
        .count(1)
        .send()
        .await
        .unwrap();
    assert_eq!(
        env.snapshots("base").await,
        [set.snapshot().to_string()],
        "one snapshot, the set's"
    );
    set.teardown().await.unwrap();
}

#[tokio::test]
async fn a_taken_fork_name_fails_that_fork_only_and_the_existing_bucket_is_untouched() {
    let env = Env::start().await;
    env.base("base").await;
    env.base("exp-1").await;
    env.put("exp-1", "keep.txt", "precious").await;
    let set = env
        .kit
        .create_forks()
        .base("base")
        .count(3)
        .prefix("exp")
        .send()
        .await
        .unwrap();
    assert_eq!(names(&set), ["exp-0", "exp-2"]);
    let [failure] = set.failures() else {
        panic!("one failure")
    };
    assert_eq!(failure.index(), 1);
    assert_eq!(failure.error().kind(), ErrorKind::Conflict);

    set.teardown().await.unwrap();
    env.assert_only(&["base", "exp-1"]).await;
    assert_eq!(
        env.get("exp-1", "keep.txt").await.as_deref(),
        Some("precious")
    );
}

#[tokio::test]
async fn a_fork_whose_credentials_fail_at_any_step_is_removed_and_reported() {
    for operation in ["CreateAccessKey", "CreatePolicy", "AttachUserPolicy"] {
        let env = Env::start().await;
        let version = base_with_checkpoint(&env, "base").await;
        env.fail_next(operation, 500, "ServiceFailure");
        let set = env
            .kit
            .create_forks()
            .base("base")
            .count(3)
            .from_snapshot(&version)
            .credentials(Role::Editor)
            .send()
            .await
            .unwrap();
        assert_eq!(set.forks().len(), 2, "{operation}");
        let [failure] = set.failures() else {
            panic!("{operation}: one failure")
        };
        assert_eq!(failure.error().step(), Some(Step::CreateCredentials));
        assert!(failure.error().leftovers().is_empty(), "{operation}");
        assert!(
            failure
                .error()
                .to_string()
                .ends_with("everything it created was removed"),
            "{}",
            failure.error()
        );
        assert!(set.forks().iter().all(|f| f.credentials().is_some()));

        // Only the two good forks and their keys remain.
        let mut buckets = names(&set);
        buckets.push("base".into());
        buckets.sort();
        assert_eq!(env.buckets().await, buckets, "{operation}");
        assert_eq!(env.access_keys().await.len(), 2, "{operation}");
        assert_eq!(env.policies().await.len(), 2, "{operation}");

        set.teardown().await.unwrap();
        env.assert_only(&["base"]).await;
    }
}

#[tokio::test]
async fn a_fork_rollback_that_fails_leaves_a_real_leftover_that_teardown_removes() {
    let env = Env::start().await;
    env.base("base").await;
    env.fail_next("CreateAccessKey", 500, "ServiceFailure");
    env.fail_next("DeleteBucket", 500, "InternalError");
    let set = env
        .kit
        .create_forks()
        .base("base")
        .count(2)
        .prefix("exp")
        .credentials(Role::ReadOnly)
        .concurrency(1)
        .send()
        .await
        .unwrap();
    let [failure] = set.failures() else {
        panic!("one failure")
    };
    assert_eq!(failure.index(), 0, "concurrency 1 makes fork 0 first");
    assert_eq!(
        failure.error().leftovers(),
        [Leftover::Bucket {
            bucket: "exp-0".parse().unwrap()
        }]
    );
    let mut buckets = env.buckets().await;
    buckets.sort();
    assert_eq!(buckets, ["base", "exp-0", "exp-1"], "the leftover is real");

    set.teardown().await.unwrap();
    env.assert_only(&["base"]).await;
    assert_eq!(env.snapshots("base").await, Vec::<String>::new());
}

#[tokio::test]
async fn no_fork_made_is_an_error_and_the_snapshot_is_deleted() {
    let env = Env::start().await;
    env.base("base").await;
    env.base("exp-0").await;
    env.base("exp-1").await;
    let err = env
        .kit
        .create_forks()
        .base("base")
        .count(2)
        .prefix("exp")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(err.bucket(), Some("base"));
    assert_eq!(err.failures().len(), 2);
    assert!(err.leftovers().is_empty());
    assert!(
        err.to_string()
            .starts_with("could not create forks of \"base\": 2 steps failed: for \"exp-0\", creating the fork failed (conflict"),
        "{err}"
    );
    assert_eq!(env.snapshots("base").await, Vec::<String>::new());
    env.assert_only(&["base", "exp-0", "exp-1"]).await;
}

#[tokio::test]
async fn a_failed_snapshot_creates_nothing() {
    let env = Env::start().await;
    env.base("base").await;
    env.fail_next("CreateBucket", 503, "ServiceUnavailable");
    let err = env
        .kit
        .create_forks()
        .base("base")
        .count(3)
        .credentials(Role::Editor)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.step(), Some(Step::CreateSnapshot));
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert!(err.leftovers().is_empty());
    assert_eq!(env.forks_in_flight.total(), 0, "no fork was attempted");
    assert_eq!(env.snapshots("base").await, Vec::<String>::new());
    env.assert_only(&["base"]).await;
}

#[tokio::test]
async fn no_fork_made_and_the_snapshot_not_deletable_reports_the_snapshot_really_there() {
    let env = Env::start().await;
    env.base("base").await;
    env.base("exp-0").await;
    // Deleting a snapshot is DeleteBucket with a version header; no fork is deleted here.
    env.fail_next("DeleteBucket", 500, "InternalError");
    let err = env
        .kit
        .create_forks()
        .base("base")
        .count(1)
        .prefix("exp")
        .send()
        .await
        .unwrap_err();
    let [snapshot] = &env.snapshots("base").await[..] else {
        panic!("the snapshot is still there")
    };
    assert_eq!(
        err.leftovers(),
        [Leftover::Snapshot {
            bucket: "base".parse().unwrap(),
            version: snapshot.parse().unwrap()
        }]
    );
    assert_eq!(
        err.kind(),
        ErrorKind::Conflict,
        "the fork's failure comes first"
    );
    env.assert_only(&["base", "exp-0"]).await;
}

#[tokio::test]
async fn no_fork_made_with_a_fork_left_behind_keeps_and_reports_the_snapshot() {
    let env = Env::start().await;
    env.base("base").await;
    env.fail_next("CreateAccessKey", 500, "ServiceFailure");
    env.fail_next("DeleteBucket", 500, "InternalError");
    let err = env
        .kit
        .create_forks()
        .base("base")
        .count(1)
        .prefix("exp")
        .credentials(Role::Editor)
        .send()
        .await
        .unwrap_err();
    let [snapshot] = &env.snapshots("base").await[..] else {
        panic!("the snapshot is kept while a fork reads through it")
    };
    assert_eq!(
        err.leftovers(),
        [
            Leftover::Bucket {
                bucket: "exp-0".parse().unwrap()
            },
            Leftover::Snapshot {
                bucket: "base".parse().unwrap(),
                version: snapshot.parse().unwrap()
            }
        ]
    );
    env.assert_only(&["base", "exp-0"]).await;
}

#[tokio::test]
async fn teardown_failures_are_gathered_and_the_snapshot_waits_for_the_last_fork() {
    let env = Env::start().await;
    env.base("base").await;
    let set = env
        .kit
        .create_forks()
        .base("base")
        .count(3)
        .prefix("exp")
        .credentials(Role::Editor)
        .send()
        .await
        .unwrap();
    env.fail_next("DeleteBucket", 500, "InternalError");
    env.fail_next("DeleteAccessKey", 500, "ServiceFailure");
    let err = set.teardown().await.unwrap_err();
    assert_eq!(err.failures().len(), 2, "{err}");
    let steps: HashSet<_> = err.failures().iter().map(|f| f.step()).collect();
    assert_eq!(
        steps,
        HashSet::from([Some(Step::DeleteBucket), Some(Step::RevokeCredentials)])
    );
    let snapshot = Leftover::Snapshot {
        bucket: "base".parse().unwrap(),
        version: set.snapshot().clone(),
    };
    assert!(err.leftovers().contains(&snapshot), "{err}");
    let buckets_left = err
        .leftovers()
        .iter()
        .filter(|l| matches!(l, Leftover::Bucket { .. }))
        .count();
    let keys_left = err
        .leftovers()
        .iter()
        .filter(|l| matches!(l, Leftover::Iam(tigris_iam::Leftover::AccessKey { .. })))
        .count();
    assert_eq!((buckets_left, keys_left), (1, 1), "{err}");
    assert_eq!(env.buckets().await.len(), 2, "base and the fork left");
    assert_eq!(env.access_keys().await.len(), 1);
    assert_eq!(env.snapshots("base").await.len(), 1);

    set.teardown().await.unwrap();
    env.assert_only(&["base"]).await;
    assert_eq!(env.snapshots("base").await, Vec::<String>::new());
}

#[tokio::test]
async fn forks_are_made_concurrently_within_the_bound() {
    let env = Env::start().await;
    let version = base_with_checkpoint(&env, "base").await;
    env.emu.faults().set_latency(Duration::from_millis(100));
    let set = env
        .kit
        .create_forks()
        .base("base")
        .count(8)
        .from_snapshot(&version)
        .prefix("par")
        .concurrency(3)
        .send()
        .await
        .unwrap();
    env.emu.faults().set_latency(Duration::ZERO);
    assert_eq!(set.forks().len(), 8);
    assert_eq!(env.forks_in_flight.total(), 8);
    let max = env.forks_in_flight.max();
    assert!(max <= 3, "at most 3 forks in flight, saw {max}");
    assert!(max >= 2, "forks overlap, saw at most {max} in flight");
    set.teardown().await.unwrap();
}

#[tokio::test]
async fn the_kit_default_concurrency_applies() {
    let env = Env::start_with(|b| b.fork_concurrency(2)).await;
    let version = base_with_checkpoint(&env, "base").await;
    env.emu.faults().set_latency(Duration::from_millis(50));
    let set = env
        .kit
        .create_forks()
        .base("base")
        .count(6)
        .from_snapshot(&version)
        .prefix("par")
        .send()
        .await
        .unwrap();
    env.emu.faults().set_latency(Duration::ZERO);
    assert!(
        env.forks_in_flight.max() <= 2,
        "{}",
        env.forks_in_flight.max()
    );
    set.teardown().await.unwrap();
}

#[tokio::test]
async fn default_names_fit_for_the_longest_base_that_fits() {
    let env = Env::start().await;
    // 36 + "-fork-" + 19 digits + "-0" = 63 characters.
    let base = format!("b{}", "a".repeat(35));
    env.base(&base).await;
    let set = env
        .kit
        .create_forks()
        .base(&base)
        .count(1)
        .send()
        .await
        .unwrap();
    let name = set.forks()[0].bucket().as_str().to_owned();
    assert_eq!(name, format!("{base}-fork-{}-0", set.snapshot()));
    assert!(name.len() <= 63, "{name}");
    set.teardown().await.unwrap();
}

#[tokio::test]
async fn invalid_input_is_rejected_before_any_request() {
    let env = Env::start().await;
    let long_base = format!("b{}", "a".repeat(36)); // one character too long for the default names
    let kit = &env.kit;
    let cases = [
        (
            kit.create_forks().base("base").count(0),
            "between 1 and 1000",
        ),
        (
            kit.create_forks().base("base").count(1001),
            "between 1 and 1000",
        ),
        (kit.create_forks().base("Base").count(1), "base bucket name"),
        (
            kit.create_forks().base(&long_base).count(1),
            "give a shorter prefix",
        ),
        (
            kit.create_forks()
                .base("base")
                .count(11)
                .prefix("p".repeat(61)),
            "-10\"",
        ),
        (
            kit.create_forks().base("base").count(2).prefix("Exp"),
            "\"Exp-0\"",
        ),
        (
            kit.create_forks().base("base").count(2).prefix(""),
            "\"-0\"",
        ),
        (
            kit.create_forks().base("base").count(2).concurrency(0),
            "concurrency",
        ),
        (
            kit.create_forks().base("base").count(2).from_snapshot(""),
            "snapshot version",
        ),
        (
            kit.create_forks()
                .base("base")
                .count(2)
                .from_snapshot("12ab"),
            "snapshot version",
        ),
        (
            kit.create_forks()
                .base("base")
                .count(2)
                .credentials_expire_at(std::time::SystemTime::now() + Duration::from_secs(60)),
            "without credentials",
        ),
    ];
    for (builder, reason) in cases {
        let err = builder.send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains(reason), "{reason}: {err}");
    }
    assert_eq!(env.requests(), 0, "no request was sent");
}

#[tokio::test]
async fn an_unknown_base_fails_at_the_snapshot_and_creates_nothing() {
    let env = Env::start().await;
    let err = env
        .kit
        .create_forks()
        .base("nowhere")
        .count(2)
        .credentials(Role::Editor)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.step(), Some(Step::CreateSnapshot));
    env.assert_only(&[]).await;
}

#[tokio::test]
async fn debug_output_never_contains_a_secret() {
    let env = Env::start().await;
    env.base("base").await;
    env.fail_next("CreatePolicy", 500, "ServiceFailure");
    let set = env
        .kit
        .create_forks()
        .base("base")
        .count(2)
        .credentials(Role::Editor)
        .send()
        .await
        .unwrap();
    let secrets: Vec<String> = set
        .forks()
        .iter()
        .filter_map(|f| f.credentials())
        .map(|k| k.secret().expose_secret().to_owned())
        .collect();
    assert_eq!(secrets.len(), 1);
    let shown = [
        format!("{set:?}"),
        format!("{set:#?}"),
        format!("{:?}", set.forks()),
        format!("{:?}", set.failures()),
        set.failures()[0].error().to_string(),
    ];
    for text in shown {
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "{text}");
        }
    }
    set.teardown().await.unwrap();
}
