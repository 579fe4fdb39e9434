//! Forks, merges and rebases are authorized object by object, as the plain reads and writes
//! they stand for would be: a narrow Deny applies to them as it does to GetObject, PutObject
//! and DeleteObject. A key without rights learns nothing about buckets it names.

use aws_sdk_s3::primitives::ByteStream;
use tigris_emulator::Emulator;

mod common;
use common::{client, client_with, signed_request};

/// A key with one policy of `statements` (JSON objects) attached.
async fn key_with(emu: &Emulator, statements: &[String]) -> (String, String) {
    let doc = format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.join(",")
    );
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let name = format!(
        "k{}",
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let (id, secret, _) = common::scoped_key(emu, &name, &doc).await;
    (id, secret)
}

fn allow_all() -> String {
    r#"{"Effect":"Allow","Action":"s3:*","Resource":"*"}"#.to_owned()
}

fn deny(action: &str, resource: &str) -> String {
    format!(r#"{{"Effect":"Deny","Action":"{action}","Resource":"arn:aws:s3:::{resource}"}}"#)
}

async fn snapshot_bucket(s3: &aws_sdk_s3::Client, name: &str) {
    s3.create_bucket()
        .bucket(name)
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("X-Tigris-Enable-Snapshot", "true");
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
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// Sends a bodyless request signed with `key`; answers the status.
async fn send(emu: &Emulator, key: &(String, String), path: &str, h: &[(&str, &str)]) -> u16 {
    signed_request(emu, (&key.0, &key.1), "PUT", path, h, b"")
        .await
        .status()
        .as_u16()
}

async fn fork_as(emu: &Emulator, key: &(String, String), name: &str, source: &str) -> u16 {
    let path = format!("/{name}");
    send(emu, key, &path, &[("x-tigris-fork-source-bucket", source)]).await
}

async fn merge_as(emu: &Emulator, key: &(String, String), fork: &str, into: &str) -> u16 {
    let path = format!("/{into}");
    send(emu, key, &path, &[("x-tigris-merge-source-bucket", fork)]).await
}

async fn rebase_as(emu: &Emulator, key: &(String, String), fork: &str) -> u16 {
    let path = format!("/{fork}");
    send(emu, key, &path, &[("x-tigris-rebase", "true")]).await
}

fn root(emu: &Emulator) -> (String, String) {
    let r = emu.root_credentials();
    (r.access_key_id().into(), r.secret_access_key().into())
}

#[tokio::test]
async fn a_key_denied_reading_secret_objects_cannot_fork_the_bucket_holding_them() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    snapshot_bucket(&s3, "src").await;
    put(&s3, "src", "secret/plans.txt", "classified").await;
    put(&s3, "src", "public/readme.txt", "hello").await;
    let key = key_with(&emu, &[allow_all(), deny("s3:GetObject", "src/secret/*")]).await;
    assert_eq!(fork_as(&emu, &key, "copy", "src").await, 403);
    assert!(s3.head_bucket().bucket("copy").send().await.is_err());
}

#[tokio::test]
async fn a_narrow_deny_that_matches_no_object_does_not_stop_a_fork() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    snapshot_bucket(&s3, "src").await;
    put(&s3, "src", "public/readme.txt", "hello").await;
    let key = key_with(&emu, &[allow_all(), deny("s3:GetObject", "src/secret/*")]).await;
    assert_eq!(fork_as(&emu, &key, "copy", "src").await, 200);
    let own = client_with(&emu, &key.0, &key.1);
    assert_eq!(
        read(&own, "copy", "public/readme.txt").await.as_deref(),
        Some("hello")
    );
}

#[tokio::test]
async fn a_rebase_cannot_bring_in_an_object_the_key_may_not_read() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    snapshot_bucket(&s3, "src").await;
    put(&s3, "src", "public/readme.txt", "hello").await;
    let key = key_with(&emu, &[allow_all(), deny("s3:GetObject", "src/secret/*")]).await;
    assert_eq!(fork_as(&emu, &key, "copy", "src").await, 200);
    put(&s3, "src", "secret/plans.txt", "classified").await;
    assert_eq!(rebase_as(&emu, &key, "copy").await, 403);
    assert_eq!(read(&s3, "copy", "secret/plans.txt").await, None);
    // Once the secret is gone from the parent, the rebase is what the key may do by hand.
    s3.delete_object()
        .bucket("src")
        .key("secret/plans.txt")
        .send()
        .await
        .unwrap();
    put(&s3, "src", "public/new.txt", "new").await;
    assert_eq!(rebase_as(&emu, &key, "copy").await, 200);
    assert_eq!(
        read(&s3, "copy", "public/new.txt").await.as_deref(),
        Some("new")
    );
}

#[tokio::test]
async fn a_merge_cannot_put_a_key_the_parent_denies_putting() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    snapshot_bucket(&s3, "parent").await;
    put(&s3, "parent", "locked/config", "original").await;
    let key = key_with(
        &emu,
        &[allow_all(), deny("s3:PutObject", "parent/locked/*")],
    )
    .await;
    assert_eq!(fork_as(&emu, &key, "work", "parent").await, 200);
    let own = client_with(&emu, &key.0, &key.1);
    put(&own, "work", "locked/config", "changed").await;
    assert_eq!(merge_as(&emu, &key, "work", "parent").await, 403);
    assert_eq!(
        read(&s3, "parent", "locked/config").await.as_deref(),
        Some("original")
    );
}

#[tokio::test]
async fn a_merge_cannot_delete_a_key_the_parent_denies_deleting() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    snapshot_bucket(&s3, "parent").await;
    put(&s3, "parent", "locked/config", "original").await;
    let key = key_with(
        &emu,
        &[allow_all(), deny("s3:DeleteObject", "parent/locked/*")],
    )
    .await;
    assert_eq!(fork_as(&emu, &key, "work", "parent").await, 200);
    let own = client_with(&emu, &key.0, &key.1);
    own.delete_object()
        .bucket("work")
        .key("locked/config")
        .send()
        .await
        .unwrap();
    assert_eq!(merge_as(&emu, &key, "work", "parent").await, 403);
    assert_eq!(
        read(&s3, "parent", "locked/config").await.as_deref(),
        Some("original")
    );
    // Writes the parent allows still merge.
    put(&own, "work", "open/notes", "merged").await;
    own.put_object()
        .bucket("work")
        .key("locked/config")
        .body(ByteStream::from_static(b"original"))
        .send()
        .await
        .unwrap();
    let key2 = key_with(
        &emu,
        &[
            allow_all(),
            deny("s3:DeleteObject", "parent/locked/*"),
            deny("s3:PutObject", "parent/locked/*"),
        ],
    )
    .await;
    // The fork now puts locked/config back, which the parent denies putting too.
    assert_eq!(merge_as(&emu, &key2, "work", "parent").await, 403);
    assert_eq!(merge_as(&emu, &key, "work", "parent").await, 200);
    assert_eq!(
        read(&s3, "parent", "open/notes").await.as_deref(),
        Some("merged")
    );
}

#[tokio::test]
async fn a_rebase_by_a_key_with_no_rights_does_not_reveal_whether_the_bucket_exists() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    snapshot_bucket(&s3, "src").await;
    assert_eq!(fork_as(&emu, &root(&emu), "copy", "src").await, 200);
    let key = key_with(&emu, &[deny("s3:*", "*")]).await;
    let existing = rebase_as(&emu, &key, "copy").await;
    let missing = rebase_as(&emu, &key, "no-such-fork").await;
    assert_eq!((existing, missing), (403, 403));
    let existing = merge_as(&emu, &key, "copy", "src").await;
    let missing = merge_as(&emu, &key, "no-such-fork", "no-such-parent").await;
    assert_eq!((existing, missing), (403, 403));
}

#[tokio::test]
async fn a_patch_by_a_key_with_no_rights_does_not_reveal_whether_the_bucket_exists() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("real").send().await.unwrap();
    let key = key_with(
        &emu,
        &[r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}"#.to_owned()],
    )
    .await;
    let mut statuses = Vec::new();
    for bucket in ["real", "no-such-bucket"] {
        let body = br#"{"soft_delete":{"enabled":true}}"#;
        let resp = signed_request(
            &emu,
            (&key.0, &key.1),
            "PATCH",
            &format!("/{bucket}"),
            &[("content-type", "application/json")],
            body,
        )
        .await;
        statuses.push(resp.status().as_u16());
    }
    assert_eq!(statuses, [403, 403]);
}

#[tokio::test]
async fn a_merge_with_nothing_to_write_still_needs_the_right_to_snapshot_the_parent() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    snapshot_bucket(&s3, "parent").await;
    assert_eq!(fork_as(&emu, &root(&emu), "work", "parent").await, 200);
    let fork_only = key_with(
        &emu,
        &[r#"{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::work","arn:aws:s3:::work/*"]}"#.to_owned()],
    )
    .await;
    assert_eq!(merge_as(&emu, &fork_only, "work", "parent").await, 403);
    let snapshots = s3
        .list_buckets()
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("x-tigris-snapshot", "parent");
        })
        .send()
        .await
        .unwrap();
    assert!(snapshots.buckets().is_empty(), "{snapshots:?}");
}
