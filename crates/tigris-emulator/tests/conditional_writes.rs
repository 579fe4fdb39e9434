//! Conditional writes (`If-Match`, `If-None-Match`, `x-amz-copy-source-if-*`) through an
//! unmodified `aws-sdk-s3` client: checked atomically with the write, 412 as S3 answers.

use std::time::{Duration, SystemTime};

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::{ByteStream, DateTime};
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use tigris_emulator::Emulator;

mod common;
use common::client;

async fn setup() -> (Emulator, aws_sdk_s3::Client) {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("data").send().await.unwrap();
    (emu, s3)
}

async fn put(s3: &aws_sdk_s3::Client, key: &str, body: &str) -> String {
    s3.put_object()
        .bucket("data")
        .key(key)
        .body(ByteStream::from(body.as_bytes().to_vec()))
        .send()
        .await
        .unwrap()
        .e_tag
        .unwrap()
}

async fn get(s3: &aws_sdk_s3::Client, key: &str) -> String {
    let out = s3
        .get_object()
        .bucket("data")
        .key(key)
        .send()
        .await
        .unwrap();
    String::from_utf8(out.body.collect().await.unwrap().to_vec()).unwrap()
}

fn code<E: ProvideErrorMetadata>(e: &aws_sdk_s3::error::SdkError<E>) -> Option<String> {
    e.as_service_error()
        .and_then(|s| s.code())
        .map(str::to_owned)
}

fn status<E>(e: &aws_sdk_s3::error::SdkError<E>) -> Option<u16> {
    e.raw_response().map(|r| r.status().as_u16())
}

#[tokio::test]
async fn concurrent_if_none_match_star_puts_create_the_key_exactly_once() {
    let (_emu, s3) = setup().await;
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let s3 = s3.clone();
            tokio::spawn(async move {
                s3.put_object()
                    .bucket("data")
                    .key("lock")
                    .if_none_match("*")
                    .body(ByteStream::from(format!("writer {i}").into_bytes()))
                    .send()
                    .await
                    .map(|_| i)
            })
        })
        .collect();
    let mut winners = Vec::new();
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(i) => winners.push(i),
            Err(e) => {
                assert_eq!(code(&e).as_deref(), Some("PreconditionFailed"), "{e:?}");
                assert_eq!(status(&e), Some(412));
                refused += 1;
            }
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    assert_eq!(refused, 31);
    assert_eq!(get(&s3, "lock").await, format!("writer {}", winners[0]));
}

#[tokio::test]
async fn if_match_with_a_stale_etag_is_refused_and_changes_nothing() {
    let (_emu, s3) = setup().await;
    let stale = put(&s3, "doc", "v1").await;
    let current = put(&s3, "doc", "v2").await;
    let err = s3
        .put_object()
        .bucket("data")
        .key("doc")
        .if_match(&stale)
        .body(ByteStream::from_static(b"v3"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("PreconditionFailed"));
    assert_eq!(status(&err), Some(412));
    assert_eq!(get(&s3, "doc").await, "v2");
    // The current ETag swaps.
    s3.put_object()
        .bucket("data")
        .key("doc")
        .if_match(&current)
        .body(ByteStream::from_static(b"v3"))
        .send()
        .await
        .unwrap();
    assert_eq!(get(&s3, "doc").await, "v3");
}

#[tokio::test]
async fn if_match_on_a_missing_key_is_no_such_key() {
    let (_emu, s3) = setup().await;
    let err = s3
        .put_object()
        .bucket("data")
        .key("absent")
        .if_match("\"0123\"")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("NoSuchKey"));
    assert!(
        s3.head_object()
            .bucket("data")
            .key("absent")
            .send()
            .await
            .is_err()
    );
}

async fn start_upload(s3: &aws_sdk_s3::Client, key: &str) -> (String, CompletedMultipartUpload) {
    let upload = s3
        .create_multipart_upload()
        .bucket("data")
        .key(key)
        .send()
        .await
        .unwrap()
        .upload_id
        .unwrap();
    let part = s3
        .upload_part()
        .bucket("data")
        .key(key)
        .upload_id(&upload)
        .part_number(1)
        .body(ByteStream::from_static(b"multipart body"))
        .send()
        .await
        .unwrap();
    let parts = CompletedMultipartUpload::builder()
        .parts(
            CompletedPart::builder()
                .part_number(1)
                .e_tag(part.e_tag.unwrap())
                .build(),
        )
        .build();
    (upload, parts)
}

#[tokio::test]
async fn complete_multipart_with_if_none_match_star_refuses_an_existing_key() {
    let (_emu, s3) = setup().await;
    let (upload, parts) = start_upload(&s3, "big").await;
    put(&s3, "big", "already here").await;
    let err = s3
        .complete_multipart_upload()
        .bucket("data")
        .key("big")
        .upload_id(&upload)
        .multipart_upload(parts)
        .if_none_match("*")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("PreconditionFailed"));
    assert_eq!(get(&s3, "big").await, "already here");
}

#[tokio::test]
async fn complete_multipart_with_if_match_swaps_the_current_etag_only() {
    let (_emu, s3) = setup().await;
    let stale = put(&s3, "big", "v1").await;
    let current = put(&s3, "big", "v2").await;
    let (upload, parts) = start_upload(&s3, "big").await;
    let err = s3
        .complete_multipart_upload()
        .bucket("data")
        .key("big")
        .upload_id(&upload)
        .multipart_upload(parts.clone())
        .if_match(&stale)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("PreconditionFailed"));
    assert_eq!(get(&s3, "big").await, "v2");
    // The refused completion kept the upload: the right ETag completes it.
    s3.complete_multipart_upload()
        .bucket("data")
        .key("big")
        .upload_id(&upload)
        .multipart_upload(parts)
        .if_match(&current)
        .send()
        .await
        .unwrap();
    assert_eq!(get(&s3, "big").await, "multipart body");
}

#[tokio::test]
async fn copy_with_destination_if_none_match_star_does_not_overwrite() {
    let (_emu, s3) = setup().await;
    put(&s3, "src", "source").await;
    put(&s3, "dst", "destination").await;
    let err = s3
        .copy_object()
        .bucket("data")
        .key("dst")
        .copy_source("data/src")
        .if_none_match("*")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("PreconditionFailed"));
    assert_eq!(get(&s3, "dst").await, "destination");
    s3.copy_object()
        .bucket("data")
        .key("new")
        .copy_source("data/src")
        .if_none_match("*")
        .send()
        .await
        .unwrap();
    assert_eq!(get(&s3, "new").await, "source");
}

#[tokio::test]
async fn copy_source_if_match_and_if_none_match_guard_the_source_etag() {
    let (_emu, s3) = setup().await;
    let etag = put(&s3, "src", "source").await;
    let refused = s3
        .copy_object()
        .bucket("data")
        .key("dst")
        .copy_source("data/src")
        .copy_source_if_match("\"not-the-etag\"")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&refused).as_deref(), Some("PreconditionFailed"));
    let refused = s3
        .copy_object()
        .bucket("data")
        .key("dst")
        .copy_source("data/src")
        .copy_source_if_none_match(&etag)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&refused).as_deref(), Some("PreconditionFailed"));
    assert!(
        s3.head_object()
            .bucket("data")
            .key("dst")
            .send()
            .await
            .is_err()
    );
    s3.copy_object()
        .bucket("data")
        .key("dst")
        .copy_source("data/src")
        .copy_source_if_match(&etag)
        .send()
        .await
        .unwrap();
    assert_eq!(get(&s3, "dst").await, "source");
}

#[tokio::test]
async fn copy_source_date_conditions_compare_with_last_modified() {
    let (_emu, s3) = setup().await;
    put(&s3, "src", "source").await;
    let hour = Duration::from_secs(3600);
    let past = DateTime::from(SystemTime::now() - hour);
    let future = DateTime::from(SystemTime::now() + hour);
    let copy = |key: &'static str| {
        s3.copy_object()
            .bucket("data")
            .key(key)
            .copy_source("data/src")
    };
    let err = copy("a")
        .copy_source_if_modified_since(future)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("PreconditionFailed"));
    let err = copy("b")
        .copy_source_if_unmodified_since(past)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("PreconditionFailed"));
    copy("c")
        .copy_source_if_modified_since(past)
        .send()
        .await
        .unwrap();
    copy("d")
        .copy_source_if_unmodified_since(future)
        .send()
        .await
        .unwrap();
    assert_eq!(get(&s3, "c").await, "source");
    assert_eq!(get(&s3, "d").await, "source");
}

#[tokio::test]
async fn delete_if_match_deletes_only_the_version_it_names() {
    let (_emu, s3) = setup().await;
    let stale = put(&s3, "lease", "holder a").await;
    let current = put(&s3, "lease", "holder b").await;
    let err = s3
        .delete_object()
        .bucket("data")
        .key("lease")
        .if_match(&stale)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("PreconditionFailed"));
    assert_eq!(status(&err), Some(412));
    assert_eq!(get(&s3, "lease").await, "holder b", "nothing was deleted");
    s3.delete_object()
        .bucket("data")
        .key("lease")
        .if_match(&current)
        .send()
        .await
        .unwrap();
    let gone = s3
        .delete_object()
        .bucket("data")
        .key("lease")
        .if_match(&current)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&gone).as_deref(), Some("NoSuchKey"));
    // Without a condition a missing key is still a 204.
    s3.delete_object()
        .bucket("data")
        .key("lease")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_weak_etag_does_not_satisfy_if_match_on_put() {
    let (_emu, s3) = setup().await;
    let current = put(&s3, "doc", "v1").await;
    let err = s3
        .put_object()
        .bucket("data")
        .key("doc")
        .if_match(format!("W/{current}"))
        .body(ByteStream::from_static(b"v2"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("PreconditionFailed"));
    assert_eq!(get(&s3, "doc").await, "v1");
}

#[tokio::test]
async fn a_weak_etag_does_not_satisfy_if_match_on_delete() {
    let (_emu, s3) = setup().await;
    let current = put(&s3, "doc", "v1").await;
    let err = s3
        .delete_object()
        .bucket("data")
        .key("doc")
        .if_match(format!("W/{current}"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("PreconditionFailed"));
    assert_eq!(get(&s3, "doc").await, "v1");
}
