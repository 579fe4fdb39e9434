//! Soft delete: deleted objects and buckets kept for the window, listed, restored, purged, and
//! gone after the window by the emulator's clock.

use std::time::Duration;

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use tigris_emulator::Emulator;

mod common;
use common::{client, client_with, policy, scoped_key, signed_request};

const DAY: Duration = Duration::from_secs(86_400);

fn root(emu: &Emulator) -> (String, String) {
    let c = emu.root_credentials();
    (
        c.access_key_id().to_owned(),
        c.secret_access_key().to_owned(),
    )
}

async fn create_soft(s3: &aws_sdk_s3::Client, bucket: &str, value: &'static str) {
    s3.create_bucket()
        .bucket(bucket)
        .customize()
        .mutate_request(move |r| {
            r.headers_mut().insert("x-tigris-soft-delete", value);
        })
        .send()
        .await
        .unwrap();
}

async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: &str) {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body.as_bytes().to_vec()))
        .send()
        .await
        .unwrap();
}

async fn read(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Option<String> {
    let out = s3.get_object().bucket(bucket).key(key).send().await.ok()?;
    let bytes = out.body.collect().await.unwrap().into_bytes();
    Some(String::from_utf8(bytes.to_vec()).unwrap())
}

/// The deleted versions of `bucket`: (key, version id, is latest), as listed.
async fn deleted_versions(s3: &aws_sdk_s3::Client, bucket: &str) -> Vec<(String, String, bool)> {
    let out = s3
        .list_object_versions()
        .bucket(bucket)
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("x-tigris-soft-delete", "true");
        })
        .send()
        .await
        .unwrap();
    out.versions()
        .iter()
        .map(|v| {
            (
                v.key().unwrap().to_owned(),
                v.version_id().unwrap().to_owned(),
                v.is_latest().unwrap(),
            )
        })
        .collect()
}

async fn deleted_keys(s3: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    let out = s3
        .list_objects_v2()
        .bucket(bucket)
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("x-tigris-soft-delete", "true");
        })
        .send()
        .await
        .unwrap();
    out.contents()
        .iter()
        .map(|o| o.key().unwrap().to_owned())
        .collect()
}

async fn restore(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    version: Option<String>,
) -> Result<(), String> {
    s3.restore_object()
        .bucket(bucket)
        .key(key)
        .customize()
        .mutate_request(move |r| {
            r.headers_mut()
                .insert("x-tigris-restore-type", "soft-delete");
            if let Some(v) = &version {
                r.headers_mut()
                    .insert("x-tigris-restore-version", v.clone());
            }
        })
        .send()
        .await
        .map(|_| ())
        .map_err(|e| e.code().unwrap_or("none").to_owned())
}

async fn purge(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    version: &str,
) -> Result<(), String> {
    s3.delete_object()
        .bucket(bucket)
        .key(key)
        .version_id(version)
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("x-tigris-soft-delete", "true");
        })
        .send()
        .await
        .map(|_| ())
        .map_err(|e| e.code().unwrap_or("none").to_owned())
}

async fn body_json(resp: http::Response<hyper::body::Incoming>) -> (u16, serde_json::Value) {
    use http_body_util::BodyExt;
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

async fn deleted_bucket_names(emu: &Emulator) -> Vec<String> {
    let key = root(emu);
    let resp = signed_request(
        emu,
        (&key.0, &key.1),
        "GET",
        "/?OnlyDeleted=true",
        &[("accept", "application/json")],
        b"",
    )
    .await;
    let (status, json) = body_json(resp).await;
    assert_eq!(status, 200, "{json}");
    json["Buckets"]["Bucket"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["Name"].as_str().unwrap().to_owned())
        .collect()
}

async fn restore_bucket(emu: &Emulator, bucket: &str) -> u16 {
    let key = root(emu);
    let resp = signed_request(
        emu,
        (&key.0, &key.1),
        "POST",
        &format!("/{bucket}?restore"),
        &[],
        b"",
    )
    .await;
    resp.status().as_u16()
}

async fn patch(emu: &Emulator, key: (&str, &str), bucket: &str, body: &str) -> u16 {
    let resp = signed_request(
        emu,
        key,
        "PATCH",
        &format!("/{bucket}"),
        &[("content-type", "application/json")],
        body.as_bytes(),
    )
    .await;
    resp.status().as_u16()
}

async fn metadata_soft_delete(emu: &Emulator, bucket: &str) -> serde_json::Value {
    let key = root(emu);
    let resp = signed_request(
        emu,
        (&key.0, &key.1),
        "GET",
        &format!("/{bucket}?metadata"),
        &[("accept", "application/json")],
        b"",
    )
    .await;
    body_json(resp).await.1["soft_delete"].clone()
}

#[tokio::test]
async fn deleted_objects_are_listed_restored_and_purged() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    create_soft(&s3, "soft", "true").await;
    put(&s3, "soft", "a", "first").await;
    s3.delete_object()
        .bucket("soft")
        .key("a")
        .send()
        .await
        .unwrap();
    put(&s3, "soft", "a", "second").await;
    s3.delete_object()
        .bucket("soft")
        .key("a")
        .send()
        .await
        .unwrap();
    put(&s3, "soft", "live", "stays").await;
    assert_eq!(read(&s3, "soft", "a").await, None);

    assert_eq!(deleted_keys(&s3, "soft").await, ["a"]);
    let versions = deleted_versions(&s3, "soft").await;
    assert_eq!(versions.len(), 2);
    assert!(versions[0].2 && !versions[1].2, "newest deletion first");
    let (first, second) = (versions[1].1.clone(), versions[0].1.clone());

    restore(&s3, "soft", "a", Some(first.clone()))
        .await
        .unwrap();
    assert_eq!(read(&s3, "soft", "a").await.as_deref(), Some("first"));
    let left = deleted_versions(&s3, "soft").await;
    assert_eq!(left, [("a".to_owned(), second.clone(), true)]);

    assert_eq!(
        purge(&s3, "soft", "a", &first).await.unwrap_err(),
        "NoSuchVersion"
    );
    purge(&s3, "soft", "a", &second).await.unwrap();
    assert!(deleted_versions(&s3, "soft").await.is_empty());
    assert_eq!(
        restore(&s3, "soft", "a", None).await.unwrap_err(),
        "NoSuchKey"
    );
}

#[tokio::test]
async fn restore_without_a_version_brings_back_the_latest_deletion() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    create_soft(&s3, "soft", "30").await;
    for body in ["one", "two"] {
        put(&s3, "soft", "k", body).await;
        s3.delete_object()
            .bucket("soft")
            .key("k")
            .send()
            .await
            .unwrap();
    }
    restore(&s3, "soft", "k", None).await.unwrap();
    assert_eq!(read(&s3, "soft", "k").await.as_deref(), Some("two"));
}

#[tokio::test]
async fn deleted_objects_expire_after_the_window_by_the_emulators_clock() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    create_soft(&s3, "soft", "8").await;
    put(&s3, "soft", "k", "v").await;
    s3.delete_object()
        .bucket("soft")
        .key("k")
        .send()
        .await
        .unwrap();
    emu.advance_clock(7 * DAY);
    assert_eq!(
        deleted_keys(&s3, "soft").await,
        ["k"],
        "still in the window"
    );
    emu.advance_clock(DAY + Duration::from_secs(1));
    assert!(deleted_keys(&s3, "soft").await.is_empty());
    assert_eq!(
        restore(&s3, "soft", "k", None).await.unwrap_err(),
        "NoSuchKey"
    );
    assert_eq!(emu.retained_versions(), 0, "the body is gone too");
}

#[tokio::test]
async fn a_plain_bucket_keeps_nothing_deleted_and_lists_its_versions() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("plain").send().await.unwrap();
    put(&s3, "plain", "gone", "x").await;
    put(&s3, "plain", "kept", "y").await;
    s3.delete_object()
        .bucket("plain")
        .key("gone")
        .send()
        .await
        .unwrap();
    assert!(deleted_keys(&s3, "plain").await.is_empty());
    let out = s3
        .list_object_versions()
        .bucket("plain")
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = out.versions().iter().map(|v| v.key().unwrap()).collect();
    assert_eq!(keys, ["kept"]);
    assert_eq!(out.versions()[0].is_latest(), Some(true));
}

#[tokio::test]
async fn a_bad_retention_on_create_is_refused_and_creates_nothing() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    for bad in ["6", "91", "soon"] {
        let err = s3
            .create_bucket()
            .bucket("never")
            .customize()
            .mutate_request(move |r| {
                r.headers_mut().insert("x-tigris-soft-delete", bad);
            })
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("InvalidArgument"), "{bad}");
    }
    assert!(s3.head_bucket().bucket("never").send().await.is_err());
}

#[tokio::test]
async fn soft_delete_is_turned_on_and_off_by_patch_and_shown_in_metadata() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    let key = root(&emu);
    let key = (key.0.as_str(), key.1.as_str());
    s3.create_bucket().bucket("bkt").send().await.unwrap();
    assert_eq!(
        metadata_soft_delete(&emu, "bkt").await,
        serde_json::json!({"enabled": false})
    );
    let on = r#"{"soft_delete": {"enabled": true, "retention_days": 14}}"#;
    assert_eq!(patch(&emu, key, "bkt", on).await, 200);
    assert_eq!(
        metadata_soft_delete(&emu, "bkt").await,
        serde_json::json!({"enabled": true, "retention_days": 14})
    );
    put(&s3, "bkt", "k", "v").await;
    s3.delete_object()
        .bucket("bkt")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted_keys(&s3, "bkt").await, ["k"]);

    for bad in [
        r#"{"soft_delete": {"enabled": true, "retention_days": 5}}"#,
        r#"{"soft_delete": {"enabled": false, "retention_days": 7}}"#,
    ] {
        assert_eq!(patch(&emu, key, "bkt", bad).await, 400, "{bad}");
    }
    assert_eq!(
        patch(&emu, key, "bkt", r#"{"soft_delete": {"enabled": false}}"#).await,
        200
    );
    assert_eq!(
        metadata_soft_delete(&emu, "bkt").await,
        serde_json::json!({"enabled": false})
    );
    put(&s3, "bkt", "k2", "v").await;
    s3.delete_object()
        .bucket("bkt")
        .key("k2")
        .send()
        .await
        .unwrap();
    assert_eq!(
        deleted_keys(&s3, "bkt").await,
        ["k"],
        "off: new deletes are final, earlier ones keep their window"
    );
}

#[tokio::test]
async fn a_force_deleted_soft_delete_bucket_is_restorable_with_its_objects() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    create_soft(&s3, "soft", "true").await;
    put(&s3, "soft", "k", "kept").await;
    s3.delete_bucket()
        .bucket("soft")
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("x-tigris-force-delete", "true");
        })
        .send()
        .await
        .unwrap();
    assert!(s3.head_bucket().bucket("soft").send().await.is_err());
    assert_eq!(deleted_bucket_names(&emu).await, ["soft"]);
    let again = s3.create_bucket().bucket("soft").send().await.unwrap_err();
    assert_eq!(
        again.code(),
        Some("BucketAlreadyExists"),
        "the name stays reserved"
    );

    assert_eq!(restore_bucket(&emu, "soft").await, 200);
    assert_eq!(read(&s3, "soft", "k").await.as_deref(), Some("kept"));
    assert!(deleted_bucket_names(&emu).await.is_empty());
    assert_eq!(restore_bucket(&emu, "soft").await, 400, "a live bucket");
    assert_eq!(restore_bucket(&emu, "nobody").await, 404);
}

#[tokio::test]
async fn a_deleted_bucket_is_purged_after_its_window_and_its_name_freed() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    create_soft(&s3, "soft", "true").await;
    put(&s3, "soft", "k", "v").await;
    s3.delete_object()
        .bucket("soft")
        .key("k")
        .send()
        .await
        .unwrap();
    s3.delete_bucket().bucket("soft").send().await.unwrap();
    emu.advance_clock(7 * DAY + Duration::from_secs(1));
    assert!(deleted_bucket_names(&emu).await.is_empty());
    assert_eq!(restore_bucket(&emu, "soft").await, 404);
    assert_eq!(emu.retained_versions(), 0);
    s3.create_bucket().bucket("soft").send().await.unwrap();
}

#[tokio::test]
async fn a_delete_with_soft_delete_false_is_final_even_on_a_soft_delete_bucket() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    create_soft(&s3, "soft", "true").await;
    s3.delete_bucket()
        .bucket("soft")
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("x-tigris-soft-delete", "false");
        })
        .send()
        .await
        .unwrap();
    assert!(deleted_bucket_names(&emu).await.is_empty());
}

#[tokio::test]
async fn a_key_without_soft_delete_rights_is_refused() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    create_soft(&s3, "soft", "true").await;
    put(&s3, "soft", "k", "v").await;
    s3.delete_object()
        .bucket("soft")
        .key("k")
        .send()
        .await
        .unwrap();
    let version = deleted_versions(&s3, "soft").await[0].1.clone();
    // Reads and writes objects, but has none of the soft-delete actions.
    let doc = policy(
        &[
            "s3:GetObject",
            "s3:PutObject",
            "s3:DeleteObject",
            "s3:ListBucket",
        ],
        "soft",
        None,
    );
    let (id, secret, _) = scoped_key(&emu, "plain-rw", &doc).await;
    let scoped = client_with(&emu, &id, &secret);
    let listed = scoped
        .list_object_versions()
        .bucket("soft")
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("x-tigris-soft-delete", "true");
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(listed.code(), Some("AccessDenied"));
    let view = scoped
        .list_objects_v2()
        .bucket("soft")
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("x-tigris-soft-delete", "true");
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(view.code(), Some("AccessDenied"));
    assert_eq!(
        restore(&scoped, "soft", "k", None).await.unwrap_err(),
        "AccessDenied"
    );
    assert_eq!(
        purge(&scoped, "soft", "k", &version).await.unwrap_err(),
        "AccessDenied"
    );
    assert_eq!(
        patch(
            &emu,
            (&id, &secret),
            "soft",
            r#"{"soft_delete": {"enabled": false}}"#
        )
        .await,
        403
    );
    let resp = signed_request(&emu, (&id, &secret), "POST", "/soft?restore", &[], b"").await;
    assert_eq!(resp.status().as_u16(), 403);
    // Nothing was changed by the refused requests.
    assert_eq!(deleted_versions(&s3, "soft").await.len(), 1);
    assert_eq!(
        metadata_soft_delete(&emu, "soft").await["enabled"],
        serde_json::json!(true)
    );

    let doc = policy(
        &[
            "s3:ListBucket",
            "s3:ListBucketVersions",
            "s3:RestoreObject",
            "s3:PutObject",
        ],
        "soft",
        None,
    );
    let (id, secret, _) = scoped_key(&emu, "undeleter", &doc).await;
    let allowed = client_with(&emu, &id, &secret);
    assert_eq!(deleted_versions(&allowed, "soft").await.len(), 1);
    restore(&allowed, "soft", "k", None).await.unwrap();
}

#[tokio::test]
async fn soft_deleted_objects_and_buckets_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::builder()
        .data_dir(dir.path())
        .start()
        .await
        .unwrap();
    let s3 = client(&emu);
    create_soft(&s3, "soft", "20").await;
    put(&s3, "soft", "k", "body of k").await;
    s3.delete_object()
        .bucket("soft")
        .key("k")
        .send()
        .await
        .unwrap();
    create_soft(&s3, "gone", "true").await;
    put(&s3, "gone", "inside", "body inside").await;
    s3.delete_bucket()
        .bucket("gone")
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("x-tigris-force-delete", "true");
        })
        .send()
        .await
        .unwrap();
    emu.shutdown().await;

    // Twice: the first start replays the live journal, the second the compacted one.
    for _ in 0..2 {
        let emu = Emulator::builder()
            .data_dir(dir.path())
            .start()
            .await
            .unwrap();
        let s3 = client(&emu);
        assert_eq!(
            metadata_soft_delete(&emu, "soft").await,
            serde_json::json!({"enabled": true, "retention_days": 20})
        );
        assert_eq!(deleted_keys(&s3, "soft").await, ["k"]);
        assert_eq!(deleted_bucket_names(&emu).await, ["gone"]);
        emu.shutdown().await;
    }
    let emu = Emulator::builder()
        .data_dir(dir.path())
        .start()
        .await
        .unwrap();
    let s3 = client(&emu);
    restore(&s3, "soft", "k", None).await.unwrap();
    assert_eq!(read(&s3, "soft", "k").await.as_deref(), Some("body of k"));
    assert_eq!(restore_bucket(&emu, "gone").await, 200);
    assert_eq!(
        read(&s3, "gone", "inside").await.as_deref(),
        Some("body inside")
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn a_fork_with_soft_delete_on_deletes_by_marker_and_the_parent_keeps_its_object() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::builder()
        .data_dir(dir.path())
        .start()
        .await
        .unwrap();
    let s3 = client(&emu);
    let key = root(&emu);
    s3.create_bucket()
        .bucket("parent")
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("x-tigris-enable-snapshot", "true");
        })
        .send()
        .await
        .unwrap();
    put(&s3, "parent", "shared", "parent body").await;
    s3.create_bucket()
        .bucket("fork")
        .customize()
        .mutate_request(|r| {
            r.headers_mut()
                .insert("x-tigris-fork-source-bucket", "parent");
        })
        .send()
        .await
        .unwrap();
    // A fork is snapshot-enabled, so a delete there is a delete marker in its history (as on
    // a snapshot bucket), even with soft delete on.
    let on = r#"{"soft_delete": {"enabled": true}}"#;
    assert_eq!(patch(&emu, (&key.0, &key.1), "fork", on).await, 200);
    s3.delete_object()
        .bucket("fork")
        .key("shared")
        .send()
        .await
        .unwrap();
    assert!(
        deleted_keys(&s3, "fork").await.is_empty(),
        "a delete in a snapshot bucket is a delete marker"
    );
    assert_eq!(read(&s3, "fork", "shared").await, None);
    emu.shutdown().await;

    let emu = Emulator::builder()
        .data_dir(dir.path())
        .start()
        .await
        .unwrap();
    let s3 = client(&emu);
    assert_eq!(
        read(&s3, "parent", "shared").await.as_deref(),
        Some("parent body")
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn restoring_over_a_live_object_needs_put_rights_on_the_key() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    create_soft(&s3, "soft", "true").await;
    put(&s3, "soft", "k", "old").await;
    s3.delete_object()
        .bucket("soft")
        .key("k")
        .send()
        .await
        .unwrap();
    put(&s3, "soft", "k", "live").await;
    let doc = policy(
        &[
            "s3:ListBucket",
            "s3:ListBucketVersions",
            "s3:RestoreObject",
            "s3:GetObject",
        ],
        "soft",
        None,
    );
    let (id, secret, _) = scoped_key(&emu, "restorer", &doc).await;
    let scoped = client_with(&emu, &id, &secret);
    assert_eq!(
        restore(&scoped, "soft", "k", None).await.unwrap_err(),
        "AccessDenied"
    );
    assert_eq!(read(&s3, "soft", "k").await.as_deref(), Some("live"));
}

#[tokio::test]
async fn a_delete_bucket_only_key_cannot_hard_delete_a_soft_delete_bucket() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    create_soft(&s3, "soft", "true").await;
    let doc = policy(&["s3:DeleteBucket"], "soft", None);
    let (id, secret, _) = scoped_key(&emu, "deleter", &doc).await;
    let scoped = client_with(&emu, &id, &secret);
    let hard = scoped
        .delete_bucket()
        .bucket("soft")
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("x-tigris-soft-delete", "false");
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(hard.code(), Some("AccessDenied"));
    s3.head_bucket().bucket("soft").send().await.unwrap();
    // The plain delete honours the bucket's setting: kept, restorable.
    scoped.delete_bucket().bucket("soft").send().await.unwrap();
    assert_eq!(deleted_bucket_names(&emu).await, ["soft"]);
}
