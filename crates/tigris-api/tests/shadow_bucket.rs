//! Shadow buckets across two emulators: the Tigris side (`TestEnv`) reads through to a second
//! emulator standing in for the old provider, signed with that emulator's own credentials.

use aws_sdk_s3::config::retry::RetryConfig;
use tigris_api::ErrorKind;
use tigris_core::config::s3_client;
use tigris_test_support::{Emulator, get, put, root_sdk_config};

mod common;
use common::TestEnv;

const BUCKET: &str = "media";
const LEGACY: &str = "legacy-media";

/// The old provider: an emulator of its own with the source bucket.
async fn legacy(emu: &Emulator) -> aws_sdk_s3::Client {
    let s3 = s3_client(&root_sdk_config(emu, RetryConfig::disabled()));
    s3.create_bucket().bucket(LEGACY).send().await.unwrap();
    s3
}

async fn shadowed(env: &TestEnv, shadow: &Emulator, write_through: bool) {
    env.create_bucket(BUCKET).await;
    env.api
        .set_shadow_bucket()
        .bucket(BUCKET)
        .source_bucket(LEGACY)
        .endpoint(shadow.endpoint())
        .credentials(
            shadow.root_credentials().access_key_id(),
            shadow.root_credentials().secret_access_key(),
        )
        .write_through(write_through)
        .send()
        .await
        .unwrap();
}

/// The old provider holding `objects` (key, body), a client of it, and a Tigris side whose
/// bucket shadows it.
async fn pair(
    objects: &[(&str, &str)],
    write_through: bool,
) -> (Emulator, aws_sdk_s3::Client, TestEnv) {
    let shadow = Emulator::start().await.unwrap();
    let old = legacy(&shadow).await;
    for (key, body) in objects {
        put(&old, LEGACY, key, body).await;
    }
    let env = TestEnv::start().await;
    shadowed(&env, &shadow, write_through).await;
    (shadow, old, env)
}

async fn holds(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> bool {
    s3.head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .is_ok()
}

/// The Tigris side's own keys, without reading through (`X-Tigris-List-Source: tigris`).
async fn tigris_keys(env: &TestEnv) -> Vec<String> {
    env.s3
        .list_objects_v2()
        .bucket(BUCKET)
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("x-tigris-list-source", "tigris");
        })
        .send()
        .await
        .unwrap()
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn reads_write_through_migrate_and_an_outage_lose_nothing() {
    let dir = std::env::temp_dir().join(format!("shadow-e2e-{}", std::process::id()));
    let start_shadow = |addr| {
        let mut b = Emulator::builder().data_dir(&dir);
        if let Some(addr) = addr {
            b = b.bind(addr);
        }
        b.start()
    };
    let shadow = start_shadow(None).await.unwrap();
    let old = legacy(&shadow).await;
    for key in ["a.jpg", "b.jpg", "c.jpg", "d.jpg"] {
        put(&old, LEGACY, key, &format!("old {key}")).await;
    }
    let env = TestEnv::start().await;
    shadowed(&env, &shadow, true).await;

    // Read-through: a miss is served from the shadow and lands in the Tigris bucket.
    assert_eq!(env.get(BUCKET, "a.jpg").await, "old a.jpg");
    assert_eq!(tigris_keys(&env).await, ["a.jpg"]);

    // Write-through: a new object reaches the shadow too.
    env.put(BUCKET, "new.jpg", "fresh").await;
    assert_eq!(get(&old, LEGACY, "new.jpg").await, "fresh");

    // The shadow goes down: reads of what is not copied yet fail clearly; nothing is lost.
    let addr = shadow.local_addr();
    shadow.shutdown().await;
    let err = env
        .s3
        .get_object()
        .bucket(BUCKET)
        .key("b.jpg")
        .send()
        .await
        .unwrap_err();
    let err = err.into_service_error();
    let message = format!("{:?}", err.meta().message());
    assert_eq!(err.meta().code(), Some("ServiceUnavailable"), "{message}");
    assert!(
        message.contains(LEGACY) && message.contains("cannot be reached"),
        "{message}"
    );
    let refused = env
        .s3
        .put_object()
        .bucket(BUCKET)
        .key("while-down.jpg")
        .body(b"x".to_vec().into())
        .send()
        .await;
    assert!(refused.is_err(), "a write-through PUT with the shadow down");
    assert!(
        !tigris_keys(&env)
            .await
            .contains(&"while-down.jpg".to_owned())
    );
    assert_eq!(env.get(BUCKET, "a.jpg").await, "old a.jpg");
    assert_eq!(env.get(BUCKET, "new.jpg").await, "fresh");

    // Back up: migrate drains the rest, and the status says nothing is left.
    let shadow = start_shadow(Some(addr)).await.unwrap();
    let before = env
        .api
        .migration_status()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    assert_eq!(
        before.remaining_keys().collect::<Vec<_>>(),
        ["b.jpg", "c.jpg", "d.jpg"]
    );
    let report = env.api.migrate().bucket(BUCKET).send().await.unwrap();
    assert_eq!((report.to_migrate(), report.scheduled()), (3, 3));
    assert!(report.failed().is_empty());
    let after = env
        .api
        .migration_status()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    assert!(after.is_complete(), "{after:?}");
    assert_eq!(after.migrated(), 5);
    assert_eq!(
        tigris_keys(&env).await,
        ["a.jpg", "b.jpg", "c.jpg", "d.jpg", "new.jpg"]
    );
    // Now the Tigris side holds everything even with the shadow gone.
    shadow.shutdown().await;
    assert_eq!(env.get(BUCKET, "d.jpg").await, "old d.jpg");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn a_read_through_copies_the_object_in() {
    let (_shadow, _, env) = pair(&[("k", "v")], false).await;
    assert!(
        !env.api
            .object_migrated()
            .bucket(BUCKET)
            .key("k")
            .send()
            .await
            .unwrap()
    );
    assert_eq!(env.get(BUCKET, "k").await, "v");
    assert!(
        env.api
            .object_migrated()
            .bucket(BUCKET)
            .key("k")
            .send()
            .await
            .unwrap()
    );
    let m = env
        .api
        .bucket_metadata()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    assert_eq!(m.extra()["shadow_bucket_migration"]["objects_copied"], 1);
}

#[tokio::test]
async fn a_plain_head_answers_from_the_shadow_without_copying() {
    let (_shadow, _, env) = pair(&[("k", "four")], false).await;
    let head = env
        .s3
        .head_object()
        .bucket(BUCKET)
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(4));
    assert!(tigris_keys(&env).await.is_empty());
}

#[tokio::test]
async fn without_write_through_writes_stay_in_tigris_and_listing_shows_tigris() {
    let (_shadow, old, env) = pair(&[("only-old", "x")], false).await;
    env.put(BUCKET, "only-new", "y").await;
    assert!(!holds(&old, LEGACY, "only-new").await);
    assert_eq!(env.keys(BUCKET).await, ["only-new"]);
}

#[tokio::test]
async fn with_write_through_the_default_listing_is_the_shadow() {
    let (_shadow, _, env) = pair(&[("only-old", "x")], true).await;
    assert_eq!(env.keys(BUCKET).await, ["only-old"]);
}

#[tokio::test]
async fn a_write_through_delete_removes_the_object_from_both() {
    let (_shadow, old, env) = pair(&[], true).await;
    env.put(BUCKET, "k", "v").await;
    assert!(holds(&old, LEGACY, "k").await);
    env.s3
        .delete_object()
        .bucket(BUCKET)
        .key("k")
        .send()
        .await
        .unwrap();
    assert!(!holds(&old, LEGACY, "k").await);
    assert!(!holds(&env.s3, BUCKET, "k").await);
}

#[tokio::test]
async fn wrong_shadow_credentials_are_refused_naming_the_shadow() {
    let shadow = Emulator::start().await.unwrap();
    let old = legacy(&shadow).await;
    put(&old, LEGACY, "k", "v").await;
    let env = TestEnv::start().await;
    env.create_bucket(BUCKET).await;
    env.api
        .set_shadow_bucket()
        .bucket(BUCKET)
        .source_bucket(LEGACY)
        .endpoint(shadow.endpoint())
        .credentials(shadow.root_credentials().access_key_id(), "not-the-secret")
        .send()
        .await
        .unwrap();
    let err = env
        .s3
        .get_object()
        .bucket(BUCKET)
        .key("k")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.meta().code(), Some("AccessDenied"));
    let message = err.meta().message().unwrap_or_default().to_owned();
    assert!(
        message.contains(LEGACY) && message.contains("SignatureDoesNotMatch"),
        "{message}"
    );
    assert!(!message.contains("not-the-secret"));
}

#[tokio::test]
async fn metadata_shows_the_shadow_with_the_secret_masked() {
    let (shadow, _, env) = pair(&[], true).await;
    let m = env
        .api
        .bucket_metadata()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let s = m.shadow_bucket().expect("a shadow");
    assert_eq!(s.source_bucket, LEGACY);
    assert_eq!(s.endpoint, shadow.endpoint());
    assert!(s.write_through);
    let secret = shadow.root_credentials().secret_access_key();
    assert!(!format!("{m:?}").contains(secret));
}

#[tokio::test]
async fn clearing_the_shadow_stops_reads_falling_through() {
    let (_shadow, _, env) = pair(&[("k", "v")], false).await;
    env.api
        .clear_shadow_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let m = env
        .api
        .bucket_metadata()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    assert_eq!(m.shadow_bucket(), None);
    assert!(!holds(&env.s3, BUCKET, "k").await);
}

#[tokio::test]
async fn the_emulator_refuses_itself_as_a_shadow() {
    let env = TestEnv::start().await;
    env.create_bucket(BUCKET).await;
    // Sent raw, past the client's own check, to see the server's.
    let body = serde_json::json!({"shadow_bucket": {"access_key": "AK", "secret_key": "SK",
        "region": "auto", "name": LEGACY, "endpoint": env.emu.endpoint(), "write_through": false}});
    let request = tigris_core::transport::TigrisRequest::new(http::Method::PATCH)
        .bucket(BUCKET.parse().unwrap())
        .json(body.to_string());
    let err = env.api.transport().send(&request).await.unwrap_err();
    let shown = format!("{err:?}");
    assert!(
        shown.contains("Migration source cannot be Tigris endpoint"),
        "{shown}"
    );
}

#[tokio::test]
async fn migrate_of_a_prefix_copies_only_that_prefix() {
    let shadow = Emulator::start().await.unwrap();
    let old = legacy(&shadow).await;
    for key in ["img/1", "img/2", "doc/1"] {
        put(&old, LEGACY, key, key).await;
    }
    let env = TestEnv::start().await;
    shadowed(&env, &shadow, false).await;
    let report = env
        .api
        .migrate()
        .bucket(BUCKET)
        .prefix("img/")
        .send()
        .await
        .unwrap();
    assert_eq!(report.scheduled_keys(), ["img/1", "img/2"]);
    assert_eq!(tigris_keys(&env).await, ["img/1", "img/2"]);
    let rest = env
        .api
        .migration_status()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    assert_eq!(rest.remaining_keys().collect::<Vec<_>>(), ["doc/1"]);
}

#[tokio::test]
async fn a_key_absent_from_both_sides_is_not_found() {
    let (_shadow, _, env) = pair(&[], false).await;
    let err = env
        .api
        .object_migrated()
        .bucket(BUCKET)
        .key("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn the_shadow_and_its_secret_survive_a_restart() {
    let shadow = Emulator::start().await.unwrap();
    let old = legacy(&shadow).await;
    put(&old, LEGACY, "k", "v").await;
    let dir = std::env::temp_dir().join(format!("shadow-restart-{}", std::process::id()));
    let start = || Emulator::builder().data_dir(&dir).start();
    let emu = start().await.unwrap();
    let api = tigris_api::Client::new(&root_sdk_config(&emu, RetryConfig::disabled())).unwrap();
    let s3 = s3_client(&root_sdk_config(&emu, RetryConfig::disabled()));
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    api.set_shadow_bucket()
        .bucket(BUCKET)
        .source_bucket(LEGACY)
        .endpoint(shadow.endpoint())
        .credentials(
            shadow.root_credentials().access_key_id(),
            shadow.root_credentials().secret_access_key(),
        )
        .send()
        .await
        .unwrap();
    emu.shutdown().await;
    let emu = start().await.unwrap();
    let s3 = s3_client(&root_sdk_config(&emu, RetryConfig::disabled()));
    // Reading through signs with the secret the journal kept.
    assert_eq!(get(&s3, BUCKET, "k").await, "v");
    emu.shutdown().await;
    std::fs::remove_dir_all(&dir).ok();
}
