//! `--data-dir` / `EmulatorBuilder::data_dir`: what was acknowledged survives a restart, even a
//! `kill -9`.

use std::path::Path;
use std::process::{Child, Command};

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter,
};
use tigris_emulator::{DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, Emulator};

mod common;
use common::{client, client_at, iam_at};

const OBJECTS: usize = 200;

/// The binary serving `dir`, with its endpoint and the banner it printed before `ready:`.
struct Running {
    child: Child,
    endpoint: String,
    banner: Vec<String>,
}

impl Running {
    async fn spawn(dir: &Path) -> Self {
        let args = [
            std::ffi::OsStr::new("--port"),
            std::ffi::OsStr::new("0"),
            std::ffi::OsStr::new("--data-dir"),
            dir.as_os_str(),
        ];
        let (child, endpoint, banner) = common::spawn_binary(args).await;
        Self {
            child,
            endpoint,
            banner,
        }
    }

    fn root(&self) -> aws_sdk_s3::Client {
        client_at(
            &self.endpoint,
            DEFAULT_ACCESS_KEY_ID,
            DEFAULT_SECRET_ACCESS_KEY,
        )
    }

    /// SIGKILL: no shutdown code runs.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: String) {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body.into_bytes()))
        .send()
        .await
        .unwrap();
}

/// The body of `key`, `None` when it does not exist; at `snapshot` when given.
async fn read(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    snapshot: Option<&str>,
) -> Option<String> {
    let version = snapshot.map(str::to_owned);
    let got = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .customize()
        .mutate_request(move |r| {
            if let Some(v) = &version {
                r.headers_mut()
                    .insert("x-tigris-snapshot-version", v.clone());
            }
        })
        .send()
        .await;
    match got {
        Ok(out) => {
            let bytes = out.body.collect().await.unwrap().into_bytes();
            Some(String::from_utf8(bytes.to_vec()).unwrap())
        }
        Err(e) if e.code() == Some("NoSuchKey") => None,
        Err(e) => panic!("get {bucket}/{key}: {e:?}"),
    }
}

/// The bucket's snapshots as ListBuckets with `X-Tigris-Snapshot` names them.
async fn snapshots(s3: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    let bucket = bucket.to_owned();
    let listed = s3
        .list_buckets()
        .customize()
        .mutate_request(move |r| {
            r.headers_mut().insert("x-tigris-snapshot", bucket.clone());
        })
        .send()
        .await
        .unwrap();
    listed
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_owned))
        .collect()
}

fn object_key(i: usize) -> String {
    format!("obj/{i:03}")
}

#[tokio::test]
async fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Running::spawn(dir.path()).await;
    let on_disk = format!("on disk: {}", dir.path().display());
    assert!(
        emu.banner.iter().any(|l| l.contains(&on_disk)),
        "{:?}",
        emu.banner
    );
    let s3 = emu.root();
    s3.create_bucket()
        .bucket("data")
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("x-tigris-enable-snapshot", "true");
        })
        .send()
        .await
        .unwrap();
    for i in 0..OBJECTS {
        put(&s3, "data", &object_key(i), format!("v1-{i}")).await;
    }
    s3.create_bucket()
        .bucket("data")
        .customize()
        .mutate_request(|r| {
            r.headers_mut()
                .insert("x-tigris-snapshot", "true; name=before");
        })
        .send()
        .await
        .unwrap();
    for i in 0..10 {
        put(&s3, "data", &object_key(i), format!("v2-{i}")).await;
    }
    s3.delete_object()
        .bucket("data")
        .key(object_key(OBJECTS - 1))
        .send()
        .await
        .unwrap();
    s3.create_bucket()
        .bucket("fork")
        .customize()
        .mutate_request(|r| {
            r.headers_mut()
                .insert("x-tigris-fork-source-bucket", "data");
        })
        .send()
        .await
        .unwrap();
    put(&s3, "fork", "fork-only", "mine".into()).await;

    let iam = iam_at(
        &emu.endpoint,
        DEFAULT_ACCESS_KEY_ID,
        DEFAULT_SECRET_ACCESS_KEY,
    );
    let key = iam.create_access_key().send().await.unwrap();
    let key = key.access_key().unwrap().clone();
    let policy = iam
        .create_policy()
        .policy_name("read-data")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
                "Action":["s3:GetObject","s3:ListBucket"],
                "Resource":["arn:aws:s3:::data","arn:aws:s3:::data/*"]}]}"#,
        )
        .send()
        .await
        .unwrap();
    iam.attach_user_policy()
        .user_name(key.access_key_id())
        .policy_arn(policy.policy().unwrap().arn().unwrap())
        .send()
        .await
        .unwrap();
    emu.kill();

    let emu = Running::spawn(dir.path()).await;
    let s3 = emu.root();
    for i in 0..OBJECTS - 1 {
        let expected = if i < 10 {
            format!("v2-{i}")
        } else {
            format!("v1-{i}")
        };
        assert_eq!(
            read(&s3, "data", &object_key(i), None).await,
            Some(expected)
        );
    }
    assert_eq!(
        read(&s3, "data", &object_key(OBJECTS - 1), None).await,
        None
    );

    let snaps = snapshots(&s3, "data").await;
    assert_eq!(snaps.len(), 1, "{snaps:?}");
    let (version, name) = snaps[0].split_once("; name=").unwrap();
    assert_eq!(name, "before");
    for i in [0, 9, 10, OBJECTS - 1] {
        assert_eq!(
            read(&s3, "data", &object_key(i), Some(version)).await,
            Some(format!("v1-{i}")),
            "the snapshot still reads {}",
            object_key(i)
        );
    }

    assert_eq!(
        read(&s3, "fork", "fork-only", None).await.as_deref(),
        Some("mine")
    );
    assert_eq!(
        read(&s3, "fork", &object_key(0), None).await.as_deref(),
        Some("v2-0")
    );
    assert_eq!(
        read(&s3, "fork", &object_key(OBJECTS - 1), None).await,
        None
    );
    assert_eq!(read(&s3, "data", "fork-only", None).await, None);

    let scoped = client_at(&emu.endpoint, key.access_key_id(), key.secret_access_key());
    assert_eq!(
        read(&scoped, "data", &object_key(10), None)
            .await
            .as_deref(),
        Some("v1-10"),
        "the scoped key still authenticates"
    );
    let denied = scoped
        .put_object()
        .bucket("data")
        .key("nope")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Some("AccessDenied"));
    let denied = scoped
        .get_object()
        .bucket("fork")
        .key("fork-only")
        .send()
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Some("AccessDenied"), "still scoped to data");
    emu.kill();
}

#[tokio::test]
async fn an_unreadable_data_dir_fails_with_a_message_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("journal.redb"), b"this is not a database").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tigris-emulator"))
        .args(["--port", "0", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("data directory"), "{stderr}");
    assert!(stderr.contains("journal.redb"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

fn lifecycle() -> BucketLifecycleConfiguration {
    let rule = LifecycleRule::builder()
        .id("ttl")
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("logs/").build())
        .expiration(LifecycleExpiration::builder().days(7).build())
        .build()
        .unwrap();
    BucketLifecycleConfiguration::builder()
        .rules(rule)
        .build()
        .unwrap()
}

fn body_files(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("objects")).unwrap().count()
}

#[tokio::test]
async fn a_graceful_restart_through_the_builder_keeps_settings_and_only_live_versions() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::builder()
        .data_dir(dir.path())
        .start()
        .await
        .unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("plain").send().await.unwrap();
    s3.put_bucket_lifecycle_configuration()
        .bucket("plain")
        .lifecycle_configuration(lifecycle())
        .send()
        .await
        .unwrap();
    for i in 0..20 {
        put(&s3, "plain", "hot", format!("write {i}")).await;
    }
    put(&s3, "plain", "gone", "soon".into()).await;
    s3.delete_object()
        .bucket("plain")
        .key("gone")
        .send()
        .await
        .unwrap();
    s3.create_bucket().bucket("dropped").send().await.unwrap();
    s3.delete_bucket().bucket("dropped").send().await.unwrap();
    assert_eq!(
        body_files(dir.path()),
        1,
        "overwritten and deleted versions leave the disk"
    );
    emu.shutdown().await;

    let emu = Emulator::builder()
        .data_dir(dir.path())
        .start()
        .await
        .unwrap();
    let s3 = client(&emu);
    assert_eq!(
        read(&s3, "plain", "hot", None).await.as_deref(),
        Some("write 19")
    );
    assert_eq!(read(&s3, "plain", "gone", None).await, None);
    let names: Vec<_> = s3
        .list_buckets()
        .send()
        .await
        .unwrap()
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_owned))
        .collect();
    assert_eq!(names, ["plain"]);
    let got = s3
        .get_bucket_lifecycle_configuration()
        .bucket("plain")
        .send()
        .await
        .unwrap();
    assert_eq!(got.rules()[0].id(), Some("ttl"));
    assert_eq!(got.rules()[0].expiration().and_then(|e| e.days()), Some(7));
    assert_eq!(emu.retained_versions(), 1);
    assert_eq!(body_files(dir.path()), 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn without_a_data_dir_nothing_outlives_the_emulator() {
    let emu = Emulator::start().await.unwrap();
    client(&emu)
        .create_bucket()
        .bucket("kept")
        .send()
        .await
        .unwrap();
    emu.shutdown().await;
    let emu = Emulator::start().await.unwrap();
    let listed = client(&emu).list_buckets().send().await.unwrap();
    assert!(listed.buckets().is_empty());
}

#[tokio::test]
async fn a_data_dir_is_open_in_one_emulator_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let first = Emulator::builder()
        .data_dir(dir.path())
        .start()
        .await
        .unwrap();
    let err = Emulator::builder()
        .data_dir(dir.path())
        .start()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("data directory"), "{err}");
    first.shutdown().await;
}

#[tokio::test]
async fn dropping_an_emulator_lets_the_next_one_open_its_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::builder()
        .data_dir(dir.path())
        .start()
        .await
        .unwrap();
    client(&emu)
        .create_bucket()
        .bucket("kept")
        .send()
        .await
        .unwrap();
    drop(emu);
    let emu = Emulator::builder()
        .data_dir(dir.path())
        .start()
        .await
        .unwrap();
    let listed = client(&emu).list_buckets().send().await.unwrap();
    assert_eq!(listed.buckets()[0].name(), Some("kept"));
}

#[tokio::test]
async fn a_missing_object_body_is_reported_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::builder()
        .data_dir(dir.path())
        .start()
        .await
        .unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("kept").send().await.unwrap();
    put(&s3, "kept", "k", "body".into()).await;
    emu.shutdown().await;
    for file in std::fs::read_dir(dir.path().join("objects")).unwrap() {
        std::fs::remove_file(file.unwrap().path()).unwrap();
    }
    let err = Emulator::builder()
        .data_dir(dir.path())
        .start()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    assert!(err.to_string().contains("objects"), "{err}");
}
