//! The journal under `--data-dir`: what is journaled is what is applied, in one order, and a
//! damaged or missing journal is named instead of served as an empty or wrong state.

use std::path::Path;

use aws_sdk_s3::primitives::ByteStream;
use http_body_util::BodyExt;
use tigris_emulator::{DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, Emulator};

mod common;
use common::{client, iam, signed_request};

const ROOT: (&str, &str) = (DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY);

async fn start(dir: &Path) -> Emulator {
    Emulator::builder().data_dir(dir).start().await.unwrap()
}

async fn body_json(resp: http::Response<hyper::body::Incoming>) -> (u16, serde_json::Value) {
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

async fn metadata(emu: &Emulator, bucket: &str) -> serde_json::Value {
    let resp = signed_request(
        emu,
        ROOT,
        "GET",
        &format!("/{bucket}?metadata"),
        &[("accept", "application/json")],
        b"",
    )
    .await;
    let (status, json) = body_json(resp).await;
    assert_eq!(status, 200, "{json}");
    json
}

#[tokio::test]
async fn a_restored_bucket_comes_back_without_its_webhook_with_or_without_a_restart() {
    for restart in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let mut emu = start(dir.path()).await;
        let s3 = client(&emu);
        s3.create_bucket()
            .bucket("soft")
            .customize()
            .mutate_request(|r| {
                r.headers_mut().insert("x-tigris-soft-delete", "true");
            })
            .send()
            .await
            .unwrap();
        let webhook = r#"{"object_notifications":{"enabled":true,"web_hook":"http://127.0.0.1:9/hook","auth":{"token":"tok"}}}"#;
        let resp = signed_request(
            &emu,
            ROOT,
            "PATCH",
            "/soft",
            &[("content-type", "application/json")],
            webhook.as_bytes(),
        )
        .await;
        assert_eq!(resp.status(), 200);
        assert!(metadata(&emu, "soft").await["object_notifications"].is_object());
        s3.delete_bucket().bucket("soft").send().await.unwrap();
        if restart {
            emu.shutdown().await;
            emu = start(dir.path()).await;
        }
        let resp = signed_request(&emu, ROOT, "POST", "/soft?restore", &[], b"").await;
        assert_eq!(resp.status(), 200);
        let shown = metadata(&emu, "soft").await;
        assert!(
            shown.get("object_notifications").is_none(),
            "restart {restart}: {shown}"
        );
        emu.shutdown().await;
    }
}

/// A data directory with bucket `kept` holding `k` = `body`, closed.
async fn dir_with_one_object(body: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let emu = start(dir.path()).await;
    let s3 = client(&emu);
    s3.create_bucket().bucket("kept").send().await.unwrap();
    s3.put_object()
        .bucket("kept")
        .key("k")
        .body(ByteStream::from(body.as_bytes().to_vec()))
        .send()
        .await
        .unwrap();
    emu.shutdown().await;
    dir
}

fn body_files(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir.join("objects"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

#[tokio::test]
async fn a_missing_journal_beside_object_bodies_refuses_to_start_and_deletes_nothing() {
    let dir = dir_with_one_object("precious").await;
    std::fs::remove_file(dir.path().join("journal.redb")).unwrap();
    let err = Emulator::builder()
        .data_dir(dir.path())
        .start()
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("journal.redb"), "{message}");
    assert!(message.contains("objects"), "{message}");
    assert_eq!(body_files(dir.path()).len(), 1, "the body is still there");
}

#[tokio::test]
async fn an_empty_journal_beside_object_bodies_refuses_to_start() {
    let dir = dir_with_one_object("precious").await;
    std::fs::write(dir.path().join("journal.redb"), b"").unwrap();
    let err = Emulator::builder()
        .data_dir(dir.path())
        .start()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("journal.redb"), "{err}");
    assert_eq!(body_files(dir.path()).len(), 1, "the body is still there");
}

#[tokio::test]
async fn discarding_unjournaled_bodies_when_asked_starts_empty() {
    let dir = dir_with_one_object("precious").await;
    std::fs::remove_file(dir.path().join("journal.redb")).unwrap();
    let emu = Emulator::builder()
        .data_dir(dir.path())
        .discard_unjournaled_bodies(true)
        .start()
        .await
        .unwrap();
    assert!(emu.inventory().is_empty());
    assert!(body_files(dir.path()).is_empty());
}

#[tokio::test]
async fn a_flipped_byte_in_a_body_file_is_an_error_not_the_wrong_bytes() {
    let dir = dir_with_one_object("the original body").await;
    let file = body_files(dir.path()).pop().unwrap();
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[4] ^= 0x01;
    std::fs::write(&file, bytes).unwrap();
    let emu = start(dir.path()).await;
    let got = client(&emu)
        .get_object()
        .bucket("kept")
        .key("k")
        .send()
        .await;
    let err = got.map(|_| ()).expect_err("a damaged body is not served");
    let status = err.raw_response().map(|r| r.status().as_u16());
    assert_eq!(status, Some(500), "{err:?}");
}

/// One access key with a policy attached, through IAM.
async fn key_policy_attach(iam: &aws_sdk_iam::Client, i: usize) {
    let key = iam.create_access_key().send().await.unwrap();
    let id = key.access_key().unwrap().access_key_id().to_owned();
    let document = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::bucket-{i}/*"]}}]}}"#
    );
    let policy = iam
        .create_policy()
        .policy_name(format!("policy-{i}"))
        .policy_document(document)
        .send()
        .await
        .unwrap();
    iam.attach_user_policy()
        .user_name(&id)
        .policy_arn(policy.policy().unwrap().arn().unwrap())
        .send()
        .await
        .unwrap();
}

fn journal_size(dir: &Path) -> u64 {
    std::fs::metadata(dir.join("journal.redb")).unwrap().len()
}

#[tokio::test]
async fn iam_changes_journal_the_change_not_the_whole_state() {
    let dir = tempfile::tempdir().unwrap();
    let emu = start(dir.path()).await;
    let iam = iam(&emu);
    const SETS: usize = 100;
    for i in 0..SETS {
        key_policy_attach(&iam, i).await;
    }
    let running = journal_size(dir.path());
    emu.shutdown().await;
    let emu = start(dir.path()).await;
    let compacted = journal_size(dir.path());
    println!(
        "{SETS} key+policy+attach sets: journal {running} bytes, {compacted} after the restart's compaction"
    );
    assert_eq!(emu.inventory().access_keys.len(), SETS);
    assert_eq!(emu.inventory().attachments.len(), SETS);
    // Whole-state records grow with the square of the sets (tens of MB here); change records
    // with the sets.
    assert!(running < 8 << 20, "{running} bytes");
    assert!(compacted <= running, "{compacted} > {running}");
}
