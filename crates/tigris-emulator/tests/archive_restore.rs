//! The archive tier (GLACIER): an archived object is unreadable until restored; RestoreObject
//! starts a restore that completes after the emulator's restore delay and expires after `Days`,
//! both by the emulator's clock.

use std::time::Duration;

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{RestoreRequest, StorageClass};
use tigris_emulator::Emulator;

mod common;
use common::{client, client_with, policy, scoped_key, signed_request};

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);
const RESTORE_BODY: &[u8] =
    b"<RestoreRequest xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Days>2</Days></RestoreRequest>";

async fn archived(delay: Duration) -> (Emulator, aws_sdk_s3::Client) {
    let emu = Emulator::builder()
        .restore_delay(delay)
        .start()
        .await
        .unwrap();
    let s3 = archive_one(&emu).await;
    (emu, s3)
}

/// Creates the bucket `cold` holding `k` in GLACIER; answers the root client.
async fn archive_one(emu: &Emulator) -> aws_sdk_s3::Client {
    let s3 = client(emu);
    s3.create_bucket().bucket("cold").send().await.unwrap();
    s3.put_object()
        .bucket("cold")
        .key("k")
        .storage_class(StorageClass::Glacier)
        .body(ByteStream::from_static(b"frozen"))
        .send()
        .await
        .unwrap();
    s3
}

fn root(emu: &Emulator) -> (String, String) {
    let c = emu.root_credentials();
    (
        c.access_key_id().to_owned(),
        c.secret_access_key().to_owned(),
    )
}

/// RestoreObject of `cold/k` for 2 days, signed by `key`; the answer's status.
async fn restore_status(emu: &Emulator, key: (&str, &str)) -> u16 {
    signed_request(emu, key, "POST", "/cold/k?restore", &[], RESTORE_BODY)
        .await
        .status()
        .as_u16()
}

async fn read(s3: &aws_sdk_s3::Client) -> Result<String, String> {
    match s3.get_object().bucket("cold").key("k").send().await {
        Ok(out) => {
            let bytes = out.body.collect().await.unwrap().into_bytes();
            Ok(String::from_utf8(bytes.to_vec()).unwrap())
        }
        Err(e) => Err(e.into_service_error().code().unwrap_or("").to_owned()),
    }
}

async fn restore_header(s3: &aws_sdk_s3::Client) -> Option<String> {
    let head = s3
        .head_object()
        .bucket("cold")
        .key("k")
        .send()
        .await
        .unwrap();
    head.restore().map(str::to_owned)
}

#[tokio::test]
async fn an_archived_object_cannot_be_read_before_a_restore() {
    let (_emu, s3) = archived(HOUR).await;
    assert_eq!(read(&s3).await.unwrap_err(), "InvalidObjectState");
}

#[tokio::test]
async fn head_reports_the_archive_class_and_no_restore_before_one_is_asked() {
    let (_emu, s3) = archived(HOUR).await;
    let head = s3
        .head_object()
        .bucket("cold")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(head.storage_class(), Some(&StorageClass::Glacier));
    assert_eq!(head.restore(), None);
}

#[tokio::test]
async fn a_bucket_default_tier_of_glacier_archives_new_objects() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket()
        .bucket("cold")
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("x-amz-storage-class", "GLACIER");
        })
        .send()
        .await
        .unwrap();
    s3.put_object()
        .bucket("cold")
        .key("k")
        .body(ByteStream::from_static(b"frozen"))
        .send()
        .await
        .unwrap();
    assert_eq!(read(&s3).await.unwrap_err(), "InvalidObjectState");
}

#[tokio::test]
async fn a_first_restore_is_accepted_and_reported_as_ongoing() {
    let (emu, s3) = archived(HOUR).await;
    let (id, secret) = root(&emu);
    assert_eq!(restore_status(&emu, (&id, &secret)).await, 202);
    assert_eq!(
        restore_header(&s3).await.as_deref(),
        Some("ongoing-request=\"true\"")
    );
    assert_eq!(read(&s3).await.unwrap_err(), "InvalidObjectState");
}

#[tokio::test]
async fn a_second_restore_while_one_is_under_way_is_a_conflict() {
    let (emu, _s3) = archived(HOUR).await;
    let (id, secret) = root(&emu);
    assert_eq!(restore_status(&emu, (&id, &secret)).await, 202);
    assert_eq!(restore_status(&emu, (&id, &secret)).await, 409);
}

#[tokio::test]
async fn the_restored_copy_is_readable_once_the_restore_delay_has_passed() {
    let (emu, s3) = archived(HOUR).await;
    s3.restore_object()
        .bucket("cold")
        .key("k")
        .restore_request(RestoreRequest::builder().days(2).build())
        .send()
        .await
        .unwrap();
    emu.advance_clock(HOUR);
    assert_eq!(read(&s3).await.unwrap(), "frozen");
    let header = restore_header(&s3).await.unwrap();
    assert!(
        header.starts_with("ongoing-request=\"false\", expiry-date=\""),
        "{header}"
    );
}

#[tokio::test]
async fn a_restore_of_an_already_restored_object_answers_200() {
    let (emu, _s3) = archived(Duration::ZERO).await;
    let (id, secret) = root(&emu);
    assert_eq!(restore_status(&emu, (&id, &secret)).await, 202);
    assert_eq!(restore_status(&emu, (&id, &secret)).await, 200);
}

#[tokio::test]
async fn the_restored_copy_expires_after_its_days() {
    let (emu, s3) = archived(Duration::ZERO).await;
    let (id, secret) = root(&emu);
    assert_eq!(restore_status(&emu, (&id, &secret)).await, 202);
    assert_eq!(read(&s3).await.unwrap(), "frozen");
    emu.advance_clock(2 * DAY);
    assert_eq!(read(&s3).await.unwrap_err(), "InvalidObjectState");
    assert_eq!(restore_header(&s3).await, None);
}

#[tokio::test]
async fn restoring_a_standard_object_is_an_invalid_object_state() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("cold").send().await.unwrap();
    s3.put_object()
        .bucket("cold")
        .key("k")
        .body(ByteStream::from_static(b"warm"))
        .send()
        .await
        .unwrap();
    let (id, secret) = root(&emu);
    assert_eq!(restore_status(&emu, (&id, &secret)).await, 403);
}

#[tokio::test]
async fn a_restore_without_days_is_refused() {
    let (emu, _s3) = archived(HOUR).await;
    let (id, secret) = root(&emu);
    let resp = signed_request(
        &emu,
        (&id, &secret),
        "POST",
        "/cold/k?restore",
        &[],
        b"<RestoreRequest xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"></RestoreRequest>",
    )
    .await;
    assert_eq!(resp.status().as_u16(), 400);
}

#[tokio::test]
async fn an_archive_restore_needs_s3_restore_object() {
    let (emu, _s3) = archived(HOUR).await;
    let doc = policy(&["s3:GetObject", "s3:PutObject"], "cold", None);
    let (id, secret, _) = scoped_key(&emu, "no-restore", &doc).await;
    assert_eq!(restore_status(&emu, (&id, &secret)).await, 403);
    let doc = policy(&["s3:RestoreObject"], "cold", None);
    let (id, secret, _) = scoped_key(&emu, "restorer", &doc).await;
    assert_eq!(restore_status(&emu, (&id, &secret)).await, 202);
}

#[tokio::test]
async fn a_restore_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let start = || {
        Emulator::builder()
            .restore_delay(HOUR)
            .data_dir(dir.path())
            .start()
    };
    {
        let emu = start().await.unwrap();
        archive_one(&emu).await;
        let (id, secret) = root(&emu);
        assert_eq!(restore_status(&emu, (&id, &secret)).await, 202);
    }
    let emu = start().await.unwrap();
    let (id, secret) = root(&emu);
    let s3 = client_with(&emu, &id, &secret);
    assert_eq!(
        restore_header(&s3).await.as_deref(),
        Some("ongoing-request=\"true\"")
    );
}

#[tokio::test]
async fn a_restore_of_one_version_is_not_implemented_and_starts_nothing() {
    let (emu, s3) = archived(HOUR).await;
    let (id, secret) = root(&emu);
    let resp = signed_request(
        &emu,
        (&id, &secret),
        "POST",
        "/cold/k?restore&versionId=1",
        &[],
        RESTORE_BODY,
    )
    .await;
    assert_eq!(resp.status().as_u16(), 501);
    assert_eq!(restore_header(&s3).await, None);
}

#[tokio::test]
async fn a_lifecycle_transition_to_glacier_archives_the_object() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("cold").send().await.unwrap();
    s3.put_object()
        .bucket("cold")
        .key("k")
        .body(ByteStream::from_static(b"warm"))
        .send()
        .await
        .unwrap();
    let (id, secret) = root(&emu);
    let rules = br#"{"lifecycle_rules":[{"id":"cold","transitions":[{"storage_class":"GLACIER","days":1}],"status":1}]}"#;
    let resp = signed_request(
        &emu,
        (&id, &secret),
        "PATCH",
        "/cold",
        &[("content-type", "application/json")],
        rules,
    )
    .await;
    assert_eq!(resp.status().as_u16(), 200);
    emu.advance_clock(2 * DAY);
    assert_eq!(read(&s3).await.unwrap_err(), "InvalidObjectState");
}
