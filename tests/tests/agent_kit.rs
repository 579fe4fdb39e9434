//! The agent kit end to end: the reference integration cases (Python agent-kit PR §8.4) and
//! every agent-kit behaviour, against the emulator or live Tigris (`cargo xtask integration`).

use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use tigris_agent_kit::{NotificationConfig, Role};
use tigris_headers::prelude::*;
use tigris_integration_tests::Target;

async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: &str) {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body.as_bytes().to_vec()))
        .send()
        .await
        .unwrap();
}

async fn get(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Option<String> {
    let out = s3.get_object().bucket(bucket).key(key).send().await.ok()?;
    Some(String::from_utf8(out.body.collect().await.unwrap().to_vec()).unwrap())
}

async fn exists(s3: &aws_sdk_s3::Client, bucket: &str) -> bool {
    s3.head_bucket().bucket(bucket).send().await.is_ok()
}

#[tokio::test]
async fn a_default_workspace_has_snapshots_enabled() {
    let t = Target::new().await;
    let kit = t.kit();
    let ws = kit
        .create_workspace()
        .bucket(t.bucket("ws"))
        .send()
        .await
        .unwrap();
    assert!(
        t.s3()
            .bucket_info()
            .bucket(ws.bucket().as_str())
            .send()
            .await
            .unwrap()
            .snapshots_enabled()
    );
    ws.teardown().await.unwrap();
}

#[tokio::test]
async fn a_workspace_without_snapshots_is_a_plain_bucket() {
    let t = Target::new().await;
    let ws = t
        .kit()
        .create_workspace()
        .bucket(t.bucket("plain"))
        .snapshots(false)
        .send()
        .await
        .unwrap();
    let info = t
        .s3()
        .bucket_info()
        .bucket(ws.bucket().as_str())
        .send()
        .await
        .unwrap();
    assert!(!info.snapshots_enabled());
    ws.teardown().await.unwrap();
}

#[tokio::test]
async fn a_workspace_ttl_is_a_lifecycle_rule() {
    let t = Target::new().await;
    let ws = t
        .kit()
        .create_workspace()
        .bucket(t.bucket("ttl"))
        .ttl_days(1)
        .send()
        .await
        .unwrap();
    let rules = t
        .s3()
        .get_bucket_lifecycle_configuration()
        .bucket(ws.bucket().as_str())
        .send()
        .await
        .unwrap();
    assert!(
        rules
            .rules()
            .iter()
            .any(|r| r.expiration().and_then(|e| e.days()) == Some(1)),
        "{rules:?}"
    );
    ws.teardown().await.unwrap();
}

#[tokio::test]
async fn teardown_force_deletes_a_non_empty_workspace_and_is_idempotent() {
    let t = Target::new().await;
    let s3 = t.s3();
    let ws = t
        .kit()
        .create_workspace()
        .bucket(t.bucket("full"))
        .send()
        .await
        .unwrap();
    put(&s3, ws.bucket().as_str(), "notes.txt", "data").await;
    ws.teardown().await.unwrap();
    assert!(!exists(&s3, ws.bucket().as_str()).await);
    ws.teardown().await.unwrap();
}

#[tokio::test]
async fn workspace_credentials_work_on_the_workspace_only_until_teardown() {
    let t = Target::new().await;
    let kit = t.kit();
    let other = kit
        .create_workspace()
        .bucket(t.bucket("other"))
        .send()
        .await
        .unwrap();
    let ws = kit
        .create_workspace()
        .bucket(t.bucket("cred"))
        .credentials(Role::Editor)
        .send()
        .await
        .unwrap();
    let key = ws.credentials().expect("credentials were asked for");
    assert!(!key.access_key_id().is_empty());
    assert!(!key.secret().expose_secret().is_empty());
    assert!(!format!("{ws:?}").contains(key.secret().expose_secret()));
    let agent = t.s3_as(key);
    put(&agent, ws.bucket().as_str(), "mine.txt", "ok").await;
    let denied = agent
        .put_object()
        .bucket(other.bucket().as_str())
        .key("x")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await;
    assert!(
        denied.is_err(),
        "an Editor key of one workspace wrote to another"
    );
    ws.teardown().await.unwrap();
    other.teardown().await.unwrap();
    assert!(!exists(&t.s3(), ws.bucket().as_str()).await);
}

#[tokio::test]
async fn forks_are_named_in_order_and_each_sees_the_base() {
    let t = Target::new().await;
    let s3 = t.s3();
    let kit = t.kit();
    let base = kit
        .create_workspace()
        .bucket(t.bucket("base"))
        .send()
        .await
        .unwrap();
    put(&s3, base.bucket().as_str(), "seed.txt", "seed").await;
    let prefix = format!("{}-exp", base.bucket());
    let set = kit
        .create_forks()
        .base(base.bucket())
        .count(3)
        .prefix(&prefix)
        .send()
        .await
        .unwrap();
    assert!(set.is_complete());
    let names: Vec<_> = set.forks().iter().map(|f| f.bucket().to_string()).collect();
    assert_eq!(
        names,
        [
            format!("{prefix}-0"),
            format!("{prefix}-1"),
            format!("{prefix}-2")
        ]
    );
    for fork in set.forks() {
        assert_eq!(
            get(&s3, fork.bucket().as_str(), "seed.txt")
                .await
                .as_deref(),
            Some("seed")
        );
    }
    set.teardown().await.unwrap();
    base.teardown().await.unwrap();
}

#[tokio::test]
async fn the_default_fork_prefix_names_the_base_and_the_snapshot() {
    let t = Target::new().await;
    let kit = t.kit();
    let base = kit
        .create_workspace()
        .bucket(t.bucket("dflt"))
        .send()
        .await
        .unwrap();
    let set = kit
        .create_forks()
        .base(base.bucket())
        .count(1)
        .send()
        .await
        .unwrap();
    assert_eq!(
        set.forks()[0].bucket().to_string(),
        format!("{}-fork-{}-0", base.bucket(), set.snapshot())
    );
    set.teardown().await.unwrap();
    base.teardown().await.unwrap();
}

#[tokio::test]
async fn forks_are_isolated_from_each_other_and_from_the_base() {
    let t = Target::new().await;
    let s3 = t.s3();
    let kit = t.kit();
    let base = kit
        .create_workspace()
        .bucket(t.bucket("iso"))
        .send()
        .await
        .unwrap();
    put(&s3, base.bucket().as_str(), "shared.txt", "v0").await;
    let set = kit
        .create_forks()
        .base(base.bucket())
        .count(2)
        .prefix(format!("{}-f", base.bucket()))
        .send()
        .await
        .unwrap();
    let (a, b) = (
        set.forks()[0].bucket().as_str(),
        set.forks()[1].bucket().as_str(),
    );
    put(&s3, a, "shared.txt", "from a").await;
    put(&s3, b, "only-b.txt", "b").await;
    put(&s3, base.bucket().as_str(), "later.txt", "base").await;
    assert_eq!(get(&s3, a, "shared.txt").await.as_deref(), Some("from a"));
    assert_eq!(get(&s3, b, "shared.txt").await.as_deref(), Some("v0"));
    assert_eq!(
        get(&s3, base.bucket().as_str(), "shared.txt")
            .await
            .as_deref(),
        Some("v0")
    );
    assert_eq!(get(&s3, a, "only-b.txt").await, None);
    assert_eq!(get(&s3, a, "later.txt").await, None);
    set.teardown().await.unwrap();
    base.teardown().await.unwrap();
}

#[tokio::test]
async fn read_only_fork_credentials_are_distinct_and_scoped_to_their_fork() {
    let t = Target::new().await;
    let s3 = t.s3();
    let kit = t.kit();
    let base = kit
        .create_workspace()
        .bucket(t.bucket("rof"))
        .send()
        .await
        .unwrap();
    put(&s3, base.bucket().as_str(), "seed.txt", "seed").await;
    let set = kit
        .create_forks()
        .base(base.bucket())
        .count(2)
        .prefix(format!("{}-f", base.bucket()))
        .credentials(Role::ReadOnly)
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = set
        .forks()
        .iter()
        .map(|f| f.credentials().unwrap())
        .collect();
    assert_ne!(keys[0].access_key_id(), keys[1].access_key_id());
    let agent0 = t.s3_as(keys[0]);
    let fork0 = set.forks()[0].bucket().as_str();
    let fork1 = set.forks()[1].bucket().as_str();
    assert_eq!(
        get(&agent0, fork0, "seed.txt").await.as_deref(),
        Some("seed")
    );
    assert!(
        agent0
            .put_object()
            .bucket(fork0)
            .key("x")
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .is_err()
    );
    assert_eq!(
        get(&agent0, fork1, "seed.txt").await,
        None,
        "a fork's key read another fork"
    );
    set.teardown().await.unwrap();
    base.teardown().await.unwrap();
}

#[tokio::test]
async fn fork_teardown_removes_non_empty_forks_and_is_idempotent() {
    let t = Target::new().await;
    let s3 = t.s3();
    let kit = t.kit();
    let base = kit
        .create_workspace()
        .bucket(t.bucket("td"))
        .send()
        .await
        .unwrap();
    let set = kit
        .create_forks()
        .base(base.bucket())
        .count(2)
        .prefix(format!("{}-f", base.bucket()))
        .send()
        .await
        .unwrap();
    for fork in set.forks() {
        put(&s3, fork.bucket().as_str(), "work.txt", "w").await;
    }
    set.teardown().await.unwrap();
    for fork in set.forks() {
        assert!(!exists(&s3, fork.bucket().as_str()).await);
    }
    set.teardown().await.unwrap();
    let snapshots = s3
        .list_snapshots()
        .bucket(base.bucket().as_str())
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    assert!(
        snapshots.iter().all(|s| s.version() != set.snapshot()),
        "the fork set's snapshot was left behind"
    );
    base.teardown().await.unwrap();
}

#[tokio::test]
async fn a_checkpoint_restores_the_pre_mutation_bytes() {
    let t = Target::new().await;
    let s3 = t.s3();
    let kit = t.kit();
    let ws = kit
        .create_workspace()
        .bucket(t.bucket("ckpt"))
        .send()
        .await
        .unwrap();
    put(&s3, ws.bucket().as_str(), "model.txt", "original").await;
    let cp = kit
        .checkpoint()
        .bucket(ws.bucket())
        .name("epoch-1")
        .send()
        .await
        .unwrap();
    assert_eq!(cp.name(), Some("epoch-1"));
    assert!(cp.created() > std::time::UNIX_EPOCH);
    put(&s3, ws.bucket().as_str(), "model.txt", "mutated").await;
    let named = format!("{}-r", ws.bucket());
    let restored = kit
        .restore()
        .bucket(ws.bucket())
        .version(cp.version())
        .fork_name(&named)
        .send()
        .await
        .unwrap();
    assert_eq!(restored.as_str(), named);
    assert_eq!(
        get(&s3, restored.as_str(), "model.txt").await.as_deref(),
        Some("original")
    );
    let default = kit
        .restore()
        .bucket(ws.bucket())
        .version(cp.version())
        .send()
        .await
        .unwrap();
    assert_eq!(
        default.to_string(),
        format!("{}-restore-{}", ws.bucket(), cp.version())
    );
    for bucket in [&restored, &default] {
        s3.delete_bucket()
            .bucket(bucket.as_str())
            .force_delete()
            .send()
            .await
            .unwrap();
    }
    ws.teardown().await.unwrap();
}

#[tokio::test]
async fn checkpoints_are_listed_newest_first() {
    let t = Target::new().await;
    let kit = t.kit();
    let ws = kit
        .create_workspace()
        .bucket(t.bucket("list"))
        .send()
        .await
        .unwrap();
    let mut made = Vec::new();
    for name in ["one", "two", "three"] {
        made.push(
            kit.checkpoint()
                .bucket(ws.bucket())
                .name(name)
                .send()
                .await
                .unwrap(),
        );
    }
    let mut listed = kit
        .list_checkpoints()
        .bucket(ws.bucket())
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    listed.sort_by(|a, b| b.version().cmp(a.version()));
    let names: Vec<_> = listed
        .iter()
        .map(|c| c.name().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(names, ["three", "two", "one"]);
    assert_eq!(listed[0].version(), made[2].version());
    ws.teardown().await.unwrap();
}

#[tokio::test]
async fn notifications_can_be_set_and_cleared_on_a_workspace() {
    let t = Target::new().await;
    let kit = t.kit();
    let ws = kit
        .create_workspace()
        .bucket(t.bucket("hook"))
        .send()
        .await
        .unwrap();
    if t.is_live() {
        // Live Tigris cannot reach a webhook on this machine: set and clear are checked to be
        // accepted; the emulator run below checks what they do.
        let config = NotificationConfig::builder("https://example.com/webhook")
            .filter(r#"WHERE `key` REGEXP "^results/""#)
            .token("integration-token")
            .build()
            .unwrap();
        kit.set_notifications(&ws, &config).await.unwrap();
        kit.clear_notifications(&ws).await.unwrap();
        ws.teardown().await.unwrap();
        return;
    }
    let s3 = t.s3();
    let mut sink = tigris_test_support::WebhookSink::start().await;
    let marker = kit
        .create_workspace()
        .bucket(t.bucket("hook-marker"))
        .send()
        .await
        .unwrap();
    kit.set_notifications(&marker, &sink.config())
        .await
        .unwrap();

    kit.set_notifications(&ws, &sink.config()).await.unwrap();
    put(&s3, ws.bucket().as_str(), "results/1.json", "{}").await;
    let event = sink.next_event().await;
    assert_eq!(
        (event.bucket(), event.object().key()),
        (ws.bucket().as_str(), "results/1.json"),
        "events flow after set"
    );

    kit.clear_notifications(&ws).await.unwrap();
    put(&s3, ws.bucket().as_str(), "results/2.json", "{}").await;
    sink.assert_no_more_events(&s3, marker.bucket().as_str())
        .await;

    ws.teardown().await.unwrap();
    marker.teardown().await.unwrap();
}

/// Two agents on two forks; a coordinator receives both agents' events. Needs a webhook Tigris
/// can reach, so it runs against the emulator only.
#[tokio::test]
async fn a_coordinator_receives_the_events_of_agents_on_forks() {
    use tigris_notify::receiver::WebhookReceiver;
    let t = Target::new().await;
    if t.is_live() {
        eprintln!("skipped live: Tigris cannot reach a webhook on this machine");
        return;
    }
    let kit = t.kit();
    let base = kit
        .create_workspace()
        .bucket(t.bucket("coord"))
        .send()
        .await
        .unwrap();
    let set = kit
        .create_forks()
        .base(base.bucket())
        .count(2)
        .prefix(format!("{}-a", base.bucket()))
        .credentials(Role::Editor)
        .send()
        .await
        .unwrap();
    let mut receiver = WebhookReceiver::bind(
        "127.0.0.1:0".parse().unwrap(),
        Some(tigris_agent_kit::WebhookAuth::bearer("coord-token")),
    )
    .await
    .unwrap();
    let config = NotificationConfig::builder(receiver.url())
        .token("coord-token")
        .build()
        .unwrap();
    for fork in set.forks() {
        kit.set_notifications(fork.bucket(), &config).await.unwrap();
    }
    for (i, fork) in set.forks().iter().enumerate() {
        let agent = t.s3_as(fork.credentials().unwrap());
        put(
            &agent,
            fork.bucket().as_str(),
            &format!("results/agent-{i}.json"),
            "{}",
        )
        .await;
    }
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let event = tokio::time::timeout(Duration::from_secs(10), receiver.next())
            .await
            .unwrap()
            .unwrap();
        seen.push((event.bucket().to_owned(), event.object().key().to_owned()));
    }
    seen.sort();
    let expected: Vec<_> = set
        .forks()
        .iter()
        .enumerate()
        .map(|(i, f)| (f.bucket().to_string(), format!("results/agent-{i}.json")))
        .collect();
    assert_eq!(seen, expected);
    set.teardown().await.unwrap();
    base.teardown().await.unwrap();
}
