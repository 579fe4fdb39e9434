//! DeleteObject and DeleteObjects with version ids delete those versions, not the live one, and
//! a fork's version listing shows what it inherits, so it can be emptied the way S3 clients
//! empty a bucket (list every version, delete each by id, delete the bucket).

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use tigris_emulator::Emulator;

mod common;
use common::{client, signed_request};

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

async fn snapshot(s3: &aws_sdk_s3::Client, bucket: &str) {
    s3.create_bucket()
        .bucket(bucket)
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("X-Tigris-Snapshot", "true");
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

/// Every (key, version id, is a delete marker) the bucket lists, paging to the end.
async fn versions(s3: &aws_sdk_s3::Client, bucket: &str) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    let (mut key_marker, mut version_marker) = (None, None);
    loop {
        let page = s3
            .list_object_versions()
            .bucket(bucket)
            .max_keys(2)
            .set_key_marker(key_marker.clone())
            .set_version_id_marker(version_marker.clone())
            .send()
            .await
            .unwrap();
        for v in page.versions() {
            out.push((
                v.key().unwrap().to_owned(),
                v.version_id().unwrap().to_owned(),
                false,
            ));
        }
        for m in page.delete_markers() {
            out.push((
                m.key().unwrap().to_owned(),
                m.version_id().unwrap().to_owned(),
                true,
            ));
        }
        if page.is_truncated() != Some(true) {
            return out;
        }
        key_marker = page.next_key_marker().map(str::to_owned);
        version_marker = page.next_version_id_marker().map(str::to_owned);
    }
}

/// The version ids of `key`, newest first (object versions only).
async fn object_versions(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Vec<String> {
    versions(s3, bucket)
        .await
        .into_iter()
        .filter(|(k, _, marker)| k == key && !marker)
        .map(|(_, v, _)| v)
        .collect()
}

#[tokio::test]
async fn deleting_an_old_version_by_id_keeps_the_live_one() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    snapshot_bucket(&s3, "docs").await;
    put(&s3, "docs", "doc", "v1").await;
    snapshot(&s3, "docs").await;
    put(&s3, "docs", "doc", "v2").await;
    let ids = object_versions(&s3, "docs", "doc").await;
    assert_eq!(ids.len(), 2, "{ids:?}");
    let out = s3
        .delete_object()
        .bucket("docs")
        .key("doc")
        .version_id(&ids[1])
        .send()
        .await
        .unwrap();
    assert_eq!(out.version_id(), Some(ids[1].as_str()));
    assert_eq!(read(&s3, "docs", "doc").await.as_deref(), Some("v2"));
    assert_eq!(object_versions(&s3, "docs", "doc").await, [ids[0].clone()]);
    let gone = s3
        .get_object()
        .bucket("docs")
        .key("doc")
        .version_id(&ids[1])
        .send()
        .await;
    assert!(gone.is_err(), "the deleted version is still readable");
}

#[tokio::test]
async fn deleting_the_live_version_by_id_makes_the_previous_one_live() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    snapshot_bucket(&s3, "docs").await;
    put(&s3, "docs", "doc", "v1").await;
    snapshot(&s3, "docs").await;
    put(&s3, "docs", "doc", "v2").await;
    let ids = object_versions(&s3, "docs", "doc").await;
    s3.delete_object()
        .bucket("docs")
        .key("doc")
        .version_id(&ids[0])
        .send()
        .await
        .unwrap();
    assert_eq!(read(&s3, "docs", "doc").await.as_deref(), Some("v1"));
}

#[tokio::test]
async fn delete_objects_with_version_ids_deletes_those_versions() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    snapshot_bucket(&s3, "docs").await;
    put(&s3, "docs", "a", "a1").await;
    put(&s3, "docs", "c", "c1").await;
    snapshot(&s3, "docs").await;
    put(&s3, "docs", "a", "a2").await;
    put(&s3, "docs", "c", "c2").await;
    let old_a = object_versions(&s3, "docs", "a").await[1].clone();
    let old_c = object_versions(&s3, "docs", "c").await[1].clone();
    let objects = [("a", &old_a), ("c", &old_c)]
        .into_iter()
        .map(|(k, v)| {
            ObjectIdentifier::builder()
                .key(k)
                .version_id(v)
                .build()
                .unwrap()
        })
        .collect();
    let out = s3
        .delete_objects()
        .bucket("docs")
        .delete(
            Delete::builder()
                .set_objects(Some(objects))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(out.deleted().len(), 2);
    assert_eq!(out.deleted()[0].version_id(), Some(old_a.as_str()));
    assert_eq!(read(&s3, "docs", "a").await.as_deref(), Some("a2"));
    assert_eq!(read(&s3, "docs", "c").await.as_deref(), Some("c2"));
    assert_eq!(object_versions(&s3, "docs", "a").await.len(), 1);
    assert_eq!(object_versions(&s3, "docs", "c").await.len(), 1);
}

/// Deletes every listed version by id, as S3 clients empty a versioned bucket; answers how
/// many rounds of list-and-delete it took.
async fn empty_by_versions(s3: &aws_sdk_s3::Client, bucket: &str) -> usize {
    for round in 1..=3 {
        let listed = versions(s3, bucket).await;
        if listed.is_empty() {
            return round;
        }
        let objects = listed
            .into_iter()
            .map(|(k, v, _)| {
                ObjectIdentifier::builder()
                    .key(k)
                    .version_id(v)
                    .build()
                    .unwrap()
            })
            .collect();
        s3.delete_objects()
            .bucket(bucket)
            .delete(
                Delete::builder()
                    .set_objects(Some(objects))
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }
    panic!("{bucket} still lists versions after 3 rounds");
}

#[tokio::test]
async fn a_fork_lists_the_objects_it_inherits_and_empties_by_version_ids() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    snapshot_bucket(&s3, "src").await;
    for key in ["a", "docs", "c", "d"] {
        put(&s3, "src", key, &format!("src-{key}")).await;
    }
    let root = emu.root_credentials();
    let resp = signed_request(
        &emu,
        (root.access_key_id(), root.secret_access_key()),
        "PUT",
        "/dev",
        &[("x-tigris-fork-source-bucket", "src")],
        b"",
    )
    .await;
    assert_eq!(resp.status(), 200);
    put(&s3, "dev", "a", "dev-a").await; // overwrites an inherited key
    put(&s3, "dev", "e", "dev-e").await; // the fork's own key
    s3.delete_object()
        .bucket("dev")
        .key("docs")
        .send()
        .await
        .unwrap();
    let listed: Vec<String> = versions(&s3, "dev")
        .await
        .into_iter()
        .map(|(k, _, _)| k)
        .collect();
    for key in ["a", "c", "d", "e"] {
        assert!(listed.contains(&key.to_owned()), "{key} not in {listed:?}");
    }
    assert_eq!(empty_by_versions(&s3, "dev").await, 2);
    let left = s3.list_objects_v2().bucket("dev").send().await.unwrap();
    assert_eq!(left.key_count(), Some(0), "{left:?}");
    s3.delete_bucket().bucket("dev").send().await.unwrap();
    for key in ["a", "docs", "c", "d"] {
        let want = format!("src-{key}");
        assert_eq!(read(&s3, "src", key).await, Some(want));
    }
}

#[tokio::test]
async fn a_fork_emptied_version_by_version_in_any_order_stays_empty() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    snapshot_bucket(&s3, "src").await;
    put(&s3, "src", "k", "inherited").await;
    let root = emu.root_credentials();
    let resp = signed_request(
        &emu,
        (root.access_key_id(), root.secret_access_key()),
        "PUT",
        "/dev",
        &[("x-tigris-fork-source-bucket", "src")],
        b"",
    )
    .await;
    assert_eq!(resp.status(), 200);
    put(&s3, "dev", "k", "own").await;
    // Oldest first: the inherited version, then the fork's own.
    let mut listed = versions(&s3, "dev").await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    listed.reverse();
    for (key, version, _) in listed {
        s3.delete_object()
            .bucket("dev")
            .key(key)
            .version_id(version)
            .send()
            .await
            .unwrap();
    }
    assert_eq!(read(&s3, "dev", "k").await, None);
    assert!(versions(&s3, "dev").await.is_empty());
    assert_eq!(read(&s3, "src", "k").await.as_deref(), Some("inherited"));
}

#[tokio::test]
async fn version_deletes_survive_a_restart_with_a_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let start = || Emulator::builder().data_dir(dir.path()).start();
    let emu = start().await.unwrap();
    let s3 = client(&emu);
    snapshot_bucket(&s3, "docs").await;
    put(&s3, "docs", "doc", "v1").await;
    snapshot(&s3, "docs").await;
    put(&s3, "docs", "doc", "v2").await;
    let ids = object_versions(&s3, "docs", "doc").await;
    s3.delete_object()
        .bucket("docs")
        .key("doc")
        .version_id(&ids[0])
        .send()
        .await
        .unwrap();
    emu.shutdown().await;
    let emu = start().await.unwrap();
    let s3 = client(&emu);
    assert_eq!(read(&s3, "docs", "doc").await.as_deref(), Some("v1"));
    assert_eq!(object_versions(&s3, "docs", "doc").await, [ids[1].clone()]);
}

#[tokio::test]
async fn deleting_an_old_version_on_a_soft_delete_bucket_keeps_it_restorable() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket()
        .bucket("soft")
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("x-tigris-soft-delete", "true");
            r.headers_mut().insert("X-Tigris-Enable-Snapshot", "true");
        })
        .send()
        .await
        .unwrap();
    put(&s3, "soft", "k", "old").await;
    snapshot(&s3, "soft").await;
    put(&s3, "soft", "k", "live").await;
    let old = object_versions(&s3, "soft", "k").await[1].clone();
    s3.delete_object()
        .bucket("soft")
        .key("k")
        .version_id(&old)
        .send()
        .await
        .unwrap();
    assert_eq!(read(&s3, "soft", "k").await.as_deref(), Some("live"));
    s3.restore_object()
        .bucket("soft")
        .key("k")
        .customize()
        .mutate_request(move |r| {
            r.headers_mut()
                .insert("x-tigris-restore-type", "soft-delete");
            r.headers_mut()
                .insert("x-tigris-restore-version", old.clone());
        })
        .send()
        .await
        .unwrap();
    assert_eq!(read(&s3, "soft", "k").await.as_deref(), Some("old"));
}

#[tokio::test]
async fn copy_object_copies_the_version_its_source_names() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    snapshot_bucket(&s3, "docs").await;
    put(&s3, "docs", "doc", "v1").await;
    snapshot(&s3, "docs").await;
    put(&s3, "docs", "doc", "v2").await;
    let old = object_versions(&s3, "docs", "doc").await[1].clone();
    s3.copy_object()
        .bucket("docs")
        .key("copy")
        .copy_source(format!("docs/doc?versionId={old}"))
        .send()
        .await
        .unwrap();
    assert_eq!(read(&s3, "docs", "copy").await.as_deref(), Some("v1"));
}
