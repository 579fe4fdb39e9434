//! S3 behaviours ceph/s3-tests checks and Tigris has (tags, conditional reads, stored headers,
//! multipart extras, copies, listing encodings), one behaviour per test, through the real
//! `aws-sdk-s3` client with signatures verified.

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::{ByteStream, DateTime};
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, Tag, Tagging};
use tigris_emulator::Emulator;

mod common;
use common::client;

const MIB5: usize = 5 << 20;

async fn setup(emu: &Emulator) -> aws_sdk_s3::Client {
    let s3 = client(emu);
    s3.create_bucket().bucket("bkt").send().await.unwrap();
    s3
}

async fn put(s3: &aws_sdk_s3::Client, key: &str, body: &[u8]) -> String {
    s3.put_object()
        .bucket("bkt")
        .key(key)
        .body(ByteStream::from(body.to_vec()))
        .send()
        .await
        .unwrap()
        .e_tag()
        .unwrap()
        .to_owned()
}

fn tagging(pairs: &[(&str, &str)]) -> Tagging {
    let tags = pairs
        .iter()
        .map(|(k, v)| Tag::builder().key(*k).value(*v).build().unwrap())
        .collect();
    Tagging::builder().set_tag_set(Some(tags)).build().unwrap()
}

fn pairs(tags: &[Tag]) -> Vec<(String, String)> {
    tags.iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}

fn owned(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn object_tags_put_with_put_object_tagging_are_read_back_sorted_by_key() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    put(&s3, "k", b"x").await;
    s3.put_object_tagging()
        .bucket("bkt")
        .key("k")
        .tagging(tagging(&[("zeta", "1"), ("alpha", "2")]))
        .send()
        .await
        .unwrap();
    let got = s3
        .get_object_tagging()
        .bucket("bkt")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(
        pairs(got.tag_set()),
        owned(&[("alpha", "2"), ("zeta", "1")])
    );
}

#[tokio::test]
async fn the_tagging_header_on_put_object_is_read_back_and_counted_on_head() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    s3.put_object()
        .bucket("bkt")
        .key("k")
        .tagging("foo=bar&empty")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    let got = s3
        .get_object_tagging()
        .bucket("bkt")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(
        pairs(got.tag_set()),
        owned(&[("empty", ""), ("foo", "bar")])
    );
    let head = s3.get_object().bucket("bkt").key("k").send().await.unwrap();
    assert_eq!(head.tag_count(), Some(2));
}

#[tokio::test]
async fn more_than_ten_object_tags_are_refused_with_invalid_tag() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    put(&s3, "k", b"x").await;
    let keys: Vec<String> = (0..11).map(|i| format!("key{i}")).collect();
    let many: Vec<(&str, &str)> = keys.iter().map(|k| (k.as_str(), "v")).collect();
    let err = s3
        .put_object_tagging()
        .bucket("bkt")
        .key("k")
        .tagging(tagging(&many))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidTag"));
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 400);
}

#[tokio::test]
async fn delete_object_tagging_leaves_an_empty_tag_set_and_the_body() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let etag = put(&s3, "k", b"body").await;
    s3.put_object_tagging()
        .bucket("bkt")
        .key("k")
        .tagging(tagging(&[("a", "b")]))
        .send()
        .await
        .unwrap();
    s3.delete_object_tagging()
        .bucket("bkt")
        .key("k")
        .send()
        .await
        .unwrap();
    let got = s3
        .get_object_tagging()
        .bucket("bkt")
        .key("k")
        .send()
        .await
        .unwrap();
    assert!(got.tag_set().is_empty());
    let obj = s3.get_object().bucket("bkt").key("k").send().await.unwrap();
    assert_eq!(obj.e_tag(), Some(etag.as_str()), "tagging keeps the ETag");
}

#[tokio::test]
async fn bucket_tags_round_trip_and_a_bucket_without_tags_answers_no_such_tag_set() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let err = s3
        .get_bucket_tagging()
        .bucket("bkt")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("NoSuchTagSet"));
    s3.put_bucket_tagging()
        .bucket("bkt")
        .tagging(tagging(&[("team", "storage")]))
        .send()
        .await
        .unwrap();
    let got = s3.get_bucket_tagging().bucket("bkt").send().await.unwrap();
    assert_eq!(pairs(got.tag_set()), owned(&[("team", "storage")]));
    s3.delete_bucket_tagging()
        .bucket("bkt")
        .send()
        .await
        .unwrap();
    let err = s3
        .get_bucket_tagging()
        .bucket("bkt")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("NoSuchTagSet"));
}

#[tokio::test]
async fn if_modified_since_a_later_time_answers_304_with_the_etag() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let etag = put(&s3, "k", b"x").await;
    let later = DateTime::from_secs(DateTime::from(std::time::SystemTime::now()).secs() + 3600);
    let err = s3
        .get_object()
        .bucket("bkt")
        .key("k")
        .if_modified_since(later)
        .send()
        .await
        .unwrap_err();
    let raw = err.raw_response().unwrap();
    assert_eq!(raw.status().as_u16(), 304);
    assert_eq!(raw.headers().get("etag"), Some(etag.as_str()));
}

#[tokio::test]
async fn if_modified_since_an_earlier_time_serves_the_object() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    put(&s3, "k", b"x").await;
    let earlier = DateTime::from_secs(DateTime::from(std::time::SystemTime::now()).secs() - 3600);
    let got = s3
        .get_object()
        .bucket("bkt")
        .key("k")
        .if_modified_since(earlier)
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_length(), Some(1));
}

#[tokio::test]
async fn if_unmodified_since_an_earlier_time_answers_412() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    put(&s3, "k", b"x").await;
    let earlier = DateTime::from_secs(DateTime::from(std::time::SystemTime::now()).secs() - 3600);
    let err = s3
        .head_object()
        .bucket("bkt")
        .key("k")
        .if_unmodified_since(earlier)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 412);
}

#[tokio::test]
async fn stored_headers_are_served_back_on_get_and_head() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    s3.put_object()
        .bucket("bkt")
        .key("k")
        .cache_control("public, max-age=14400")
        .content_disposition("attachment; filename=\"a.txt\"")
        .content_encoding("gzip")
        .content_language("de")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    let got = s3.get_object().bucket("bkt").key("k").send().await.unwrap();
    assert_eq!(got.cache_control(), Some("public, max-age=14400"));
    assert_eq!(
        got.content_disposition(),
        Some("attachment; filename=\"a.txt\"")
    );
    assert_eq!(got.content_encoding(), Some("gzip"));
    assert_eq!(got.content_language(), Some("de"));
    let head = s3
        .head_object()
        .bucket("bkt")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(head.cache_control(), Some("public, max-age=14400"));
    assert_eq!(head.content_language(), Some("de"));
}

#[tokio::test]
async fn response_overrides_on_get_replace_the_stored_headers() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    s3.put_object()
        .bucket("bkt")
        .key("k")
        .cache_control("no-cache")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    let got = s3
        .get_object()
        .bucket("bkt")
        .key("k")
        .response_cache_control("max-age=60")
        .response_content_type("text/plain")
        .response_content_disposition("inline")
        .send()
        .await
        .unwrap();
    assert_eq!(got.cache_control(), Some("max-age=60"));
    assert_eq!(got.content_type(), Some("text/plain"));
    assert_eq!(got.content_disposition(), Some("inline"));
}

async fn upload(s3: &aws_sdk_s3::Client, key: &str) -> String {
    s3.create_multipart_upload()
        .bucket("bkt")
        .key(key)
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_owned()
}

fn completed(parts: &[(i32, &str)]) -> CompletedMultipartUpload {
    CompletedMultipartUpload::builder()
        .set_parts(Some(
            parts
                .iter()
                .map(|(n, e)| CompletedPart::builder().part_number(*n).e_tag(*e).build())
                .collect(),
        ))
        .build()
}

#[tokio::test]
async fn upload_part_copy_copies_the_requested_byte_range_of_the_source() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    put(&s3, "src", b"0123456789").await;
    let id = upload(&s3, "dst").await;
    let part = s3
        .upload_part_copy()
        .bucket("bkt")
        .key("dst")
        .upload_id(&id)
        .part_number(1)
        .copy_source("bkt/src")
        .copy_source_range("bytes=2-5")
        .send()
        .await
        .unwrap();
    let etag = part.copy_part_result().unwrap().e_tag().unwrap().to_owned();
    s3.complete_multipart_upload()
        .bucket("bkt")
        .key("dst")
        .upload_id(&id)
        .multipart_upload(completed(&[(1, &etag)]))
        .send()
        .await
        .unwrap();
    let got = s3
        .get_object()
        .bucket("bkt")
        .key("dst")
        .send()
        .await
        .unwrap();
    assert_eq!(&got.body.collect().await.unwrap().to_vec()[..], b"2345");
}

#[tokio::test]
async fn upload_part_copy_refuses_a_range_past_the_end_of_the_source() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    put(&s3, "src", b"0123456789").await;
    let id = upload(&s3, "dst").await;
    let err = s3
        .upload_part_copy()
        .bucket("bkt")
        .key("dst")
        .upload_id(&id)
        .part_number(1)
        .copy_source("bkt/src")
        .copy_source_range("bytes=5-10")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidRange"));
}

#[tokio::test]
async fn list_multipart_uploads_names_the_uploads_in_progress() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let first = upload(&s3, "a").await;
    let second = upload(&s3, "b").await;
    let listed = s3
        .list_multipart_uploads()
        .bucket("bkt")
        .send()
        .await
        .unwrap();
    let got: Vec<(String, String)> = listed
        .uploads()
        .iter()
        .map(|u| {
            (
                u.key().unwrap().to_owned(),
                u.upload_id().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(got, [("a".to_owned(), first), ("b".to_owned(), second)]);
}

#[tokio::test]
async fn a_repeated_complete_multipart_upload_answers_the_same_etag() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let id = upload(&s3, "k").await;
    let part = s3
        .upload_part()
        .bucket("bkt")
        .key("k")
        .upload_id(&id)
        .part_number(1)
        .body(ByteStream::from_static(b"only part"))
        .send()
        .await
        .unwrap();
    let parts = completed(&[(1, part.e_tag().unwrap())]);
    let complete = || {
        s3.complete_multipart_upload()
            .bucket("bkt")
            .key("k")
            .upload_id(&id)
            .multipart_upload(parts.clone())
            .send()
    };
    let first = complete().await.unwrap();
    let second = complete().await.unwrap();
    assert_eq!(first.e_tag(), second.e_tag());
}

#[tokio::test]
async fn a_part_under_five_mib_that_is_not_the_last_is_entity_too_small() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let id = upload(&s3, "k").await;
    let mut etags = Vec::new();
    for (n, body) in [(1, b"small".to_vec()), (2, vec![b'x'; MIB5])] {
        let out = s3
            .upload_part()
            .bucket("bkt")
            .key("k")
            .upload_id(&id)
            .part_number(n)
            .body(ByteStream::from(body))
            .send()
            .await
            .unwrap();
        etags.push(out.e_tag().unwrap().to_owned());
    }
    let err = s3
        .complete_multipart_upload()
        .bucket("bkt")
        .key("k")
        .upload_id(&id)
        .multipart_upload(completed(&[(1, &etags[0]), (2, &etags[1])]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("EntityTooSmall"));
}

#[tokio::test]
async fn copying_an_object_onto_itself_without_changes_is_invalid_request() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    put(&s3, "k", b"x").await;
    let err = s3
        .copy_object()
        .bucket("bkt")
        .key("k")
        .copy_source("bkt/k")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidRequest"));
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 400);
}

#[tokio::test]
async fn copying_an_object_onto_itself_with_new_metadata_replaces_it() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    put(&s3, "k", b"x").await;
    s3.copy_object()
        .bucket("bkt")
        .key("k")
        .copy_source("bkt/k")
        .metadata_directive(aws_sdk_s3::types::MetadataDirective::Replace)
        .metadata("color", "blue")
        .send()
        .await
        .unwrap();
    let head = s3
        .head_object()
        .bucket("bkt")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(
        head.metadata()
            .and_then(|m| m.get("color"))
            .map(String::as_str),
        Some("blue")
    );
}

#[tokio::test]
async fn a_copy_keeps_the_source_tags_and_stored_headers() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    s3.put_object()
        .bucket("bkt")
        .key("src")
        .tagging("a=1")
        .cache_control("no-store")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    s3.copy_object()
        .bucket("bkt")
        .key("dst")
        .copy_source("bkt/src")
        .send()
        .await
        .unwrap();
    let got = s3
        .get_object_tagging()
        .bucket("bkt")
        .key("dst")
        .send()
        .await
        .unwrap();
    assert_eq!(pairs(got.tag_set()), owned(&[("a", "1")]));
    let head = s3
        .head_object()
        .bucket("bkt")
        .key("dst")
        .send()
        .await
        .unwrap();
    assert_eq!(head.cache_control(), Some("no-store"));
}

#[tokio::test]
async fn list_object_versions_with_url_encoding_encodes_the_keys() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    put(&s3, "c+d %", b"x").await;
    // aws-sdk-s3 hands the keys over as sent; boto3 decodes them, so an unencoded `+` would
    // come back to it as a space.
    let listed = s3
        .list_object_versions()
        .bucket("bkt")
        .encoding_type(aws_sdk_s3::types::EncodingType::Url)
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = listed.versions().iter().filter_map(|v| v.key()).collect();
    assert_eq!(keys, ["c%2Bd%20%25"]);
}

#[tokio::test]
async fn object_tags_stored_headers_and_bucket_tags_survive_a_restart_with_a_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::builder()
        .data_dir(dir.path())
        .start()
        .await
        .unwrap();
    let s3 = setup(&emu).await;
    s3.put_object()
        .bucket("bkt")
        .key("k")
        .tagging("a=1")
        .cache_control("no-store")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    s3.put_bucket_tagging()
        .bucket("bkt")
        .tagging(tagging(&[("team", "storage")]))
        .send()
        .await
        .unwrap();
    emu.shutdown().await;

    let emu = Emulator::builder()
        .data_dir(dir.path())
        .start()
        .await
        .unwrap();
    let s3 = client(&emu);
    let tags = s3
        .get_object_tagging()
        .bucket("bkt")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(pairs(tags.tag_set()), owned(&[("a", "1")]));
    let head = s3
        .head_object()
        .bucket("bkt")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(head.cache_control(), Some("no-store"));
    let bucket_tags = s3.get_bucket_tagging().bucket("bkt").send().await.unwrap();
    assert_eq!(pairs(bucket_tags.tag_set()), owned(&[("team", "storage")]));
    emu.shutdown().await;
}

/// One unsigned HTTP/1.1 request; the status code of the answer.
async fn anonymous(emu: &Emulator, method: &str, path: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = emu.local_addr().to_string();
    let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    socket.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response);
    text.split(' ').nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn get_bucket_acl_answers_the_owner_grant() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let acl = s3.get_bucket_acl().bucket("bkt").send().await.unwrap();
    let owner = acl.owner().and_then(|o| o.id()).unwrap().to_owned();
    assert_eq!(acl.grants().len(), 1);
    let grant = &acl.grants()[0];
    assert_eq!(grant.grantee().and_then(|g| g.id()), Some(owner.as_str()));
    assert_eq!(grant.permission().map(|p| p.as_str()), Some("FULL_CONTROL"));
}

#[tokio::test]
async fn a_public_read_object_acl_is_read_back_as_an_all_users_grant() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    put(&s3, "k", b"x").await;
    s3.put_object_acl()
        .bucket("bkt")
        .key("k")
        .acl(aws_sdk_s3::types::ObjectCannedAcl::PublicRead)
        .send()
        .await
        .unwrap();
    let acl = s3
        .get_object_acl()
        .bucket("bkt")
        .key("k")
        .send()
        .await
        .unwrap();
    let public = acl.grants().iter().any(|g| {
        g.grantee().and_then(|e| e.uri()) == Some("http://acs.amazonaws.com/groups/global/AllUsers")
            && g.permission().map(|p| p.as_str()) == Some("READ")
    });
    assert!(public, "{acl:?}");
}

#[tokio::test]
async fn anonymous_get_of_a_public_read_object_is_served() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    s3.put_object()
        .bucket("bkt")
        .key("pub")
        .acl(aws_sdk_s3::types::ObjectCannedAcl::PublicRead)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous(&emu, "GET", "/bkt/pub").await, 200);
    assert_eq!(anonymous(&emu, "HEAD", "/bkt/pub").await, 200);
}

#[tokio::test]
async fn anonymous_get_of_a_private_object_is_refused() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    put(&s3, "private", b"x").await;
    assert_eq!(anonymous(&emu, "GET", "/bkt/private").await, 403);
}

#[tokio::test]
async fn anonymous_get_in_a_public_read_bucket_is_served_after_put_bucket_acl() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    put(&s3, "k", b"x").await;
    assert_eq!(anonymous(&emu, "GET", "/bkt/k").await, 403);
    s3.put_bucket_acl()
        .bucket("bkt")
        .acl(aws_sdk_s3::types::BucketCannedAcl::PublicRead)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous(&emu, "GET", "/bkt/k").await, 200);
}

#[tokio::test]
async fn anonymous_get_in_a_missing_bucket_is_404() {
    let emu = Emulator::start().await.unwrap();
    assert_eq!(anonymous(&emu, "GET", "/missing/k").await, 404);
}

#[tokio::test]
async fn cors_rules_round_trip_and_delete() {
    use aws_sdk_s3::types::{CorsConfiguration, CorsRule};
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let err = s3.get_bucket_cors().bucket("bkt").send().await.unwrap_err();
    assert_eq!(err.code(), Some("NoSuchCORSConfiguration"));
    let rule = CorsRule::builder()
        .allowed_origins("*.example.com")
        .allowed_methods("GET")
        .allowed_methods("PUT")
        .max_age_seconds(60)
        .build()
        .unwrap();
    s3.put_bucket_cors()
        .bucket("bkt")
        .cors_configuration(
            CorsConfiguration::builder()
                .cors_rules(rule)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let got = s3.get_bucket_cors().bucket("bkt").send().await.unwrap();
    assert_eq!(got.cors_rules()[0].allowed_methods(), ["GET", "PUT"]);
    assert_eq!(got.cors_rules()[0].max_age_seconds(), Some(60));
    s3.delete_bucket_cors().bucket("bkt").send().await.unwrap();
    let err = s3.get_bucket_cors().bucket("bkt").send().await.unwrap_err();
    assert_eq!(err.code(), Some("NoSuchCORSConfiguration"));
}

#[tokio::test]
async fn ownership_controls_round_trip() {
    use aws_sdk_s3::types::{ObjectOwnership, OwnershipControls, OwnershipControlsRule};
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let rule = OwnershipControlsRule::builder()
        .object_ownership(ObjectOwnership::BucketOwnerEnforced)
        .build()
        .unwrap();
    s3.put_bucket_ownership_controls()
        .bucket("bkt")
        .ownership_controls(OwnershipControls::builder().rules(rule).build().unwrap())
        .send()
        .await
        .unwrap();
    let got = s3
        .get_bucket_ownership_controls()
        .bucket("bkt")
        .send()
        .await
        .unwrap();
    let rules = got.ownership_controls().unwrap().rules();
    assert_eq!(
        rules[0].object_ownership(),
        &ObjectOwnership::BucketOwnerEnforced
    );
}

#[tokio::test]
async fn object_ownership_on_create_bucket_is_what_get_bucket_ownership_controls_answers() {
    use aws_sdk_s3::types::ObjectOwnership;
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket()
        .bucket("owned")
        .object_ownership(ObjectOwnership::ObjectWriter)
        .send()
        .await
        .unwrap();
    let got = s3
        .get_bucket_ownership_controls()
        .bucket("owned")
        .send()
        .await
        .unwrap();
    let rules = got.ownership_controls().unwrap().rules();
    assert_eq!(rules[0].object_ownership(), &ObjectOwnership::ObjectWriter);
}

#[tokio::test]
async fn an_unknown_object_ownership_on_create_bucket_is_refused_and_creates_nothing() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    let err = s3
        .create_bucket()
        .bucket("owned")
        .object_ownership("Nobody".into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidArgument"));
    assert!(s3.head_bucket().bucket("owned").send().await.is_err());
}

#[tokio::test]
async fn the_public_access_block_round_trips() {
    use aws_sdk_s3::types::PublicAccessBlockConfiguration;
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    s3.put_public_access_block()
        .bucket("bkt")
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let got = s3
        .get_public_access_block()
        .bucket("bkt")
        .send()
        .await
        .unwrap();
    let c = got.public_access_block_configuration().unwrap();
    assert_eq!(c.block_public_acls(), Some(true));
    assert_eq!(c.ignore_public_acls(), Some(false));
    assert_eq!(c.restrict_public_buckets(), Some(true));
}

#[tokio::test]
async fn bucket_policy_status_is_public_for_a_public_read_bucket() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let status = s3
        .get_bucket_policy_status()
        .bucket("bkt")
        .send()
        .await
        .unwrap();
    assert_eq!(
        status.policy_status().and_then(|p| p.is_public()),
        Some(false)
    );
    s3.put_bucket_acl()
        .bucket("bkt")
        .acl(aws_sdk_s3::types::BucketCannedAcl::PublicRead)
        .send()
        .await
        .unwrap();
    let status = s3
        .get_bucket_policy_status()
        .bucket("bkt")
        .send()
        .await
        .unwrap();
    assert_eq!(
        status.policy_status().and_then(|p| p.is_public()),
        Some(true)
    );
}

#[tokio::test]
async fn an_error_body_names_the_request_id_of_its_header() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let err = s3
        .get_object()
        .bucket("bkt")
        .key("missing")
        .send()
        .await
        .unwrap_err();
    let raw = err.raw_response().unwrap();
    let id = raw.headers().get("x-amz-request-id").unwrap().to_owned();
    let body = String::from_utf8_lossy(raw.body().bytes().unwrap()).into_owned();
    assert!(
        body.contains(&format!("<RequestId>{id}</RequestId>")),
        "{body}"
    );
    assert!(body.contains("<HostId>"), "{body}");
}

#[tokio::test]
async fn list_objects_v1_echoes_an_empty_marker_and_names_owners() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    put(&s3, "k", b"x").await;
    let listed = s3.list_objects().bucket("bkt").send().await.unwrap();
    assert_eq!(listed.marker(), Some(""));
    assert!(listed.contents()[0].owner().and_then(|o| o.id()).is_some());
}

#[tokio::test]
async fn an_empty_delimiter_lists_every_key_and_is_not_echoed() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    put(&s3, "a/b", b"x").await;
    put(&s3, "c", b"x").await;
    let listed = s3
        .list_objects_v2()
        .bucket("bkt")
        .delimiter("")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.delimiter(), None);
    assert_eq!(listed.contents().len(), 2);
    assert!(listed.common_prefixes().is_empty());
}

#[tokio::test]
async fn list_objects_v2_names_owners_only_with_fetch_owner() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    put(&s3, "k", b"x").await;
    let plain = s3.list_objects_v2().bucket("bkt").send().await.unwrap();
    assert!(plain.contents()[0].owner().is_none());
    let owned = s3
        .list_objects_v2()
        .bucket("bkt")
        .fetch_owner(true)
        .send()
        .await
        .unwrap();
    assert!(owned.contents()[0].owner().and_then(|o| o.id()).is_some());
}

#[tokio::test]
async fn get_bucket_location_answers_auto() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let got = s3.get_bucket_location().bucket("bkt").send().await.unwrap();
    assert_eq!(got.location_constraint().map(|l| l.as_str()), Some("auto"));
}

#[tokio::test]
async fn get_with_part_number_answers_that_part_and_the_parts_count() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let id = upload(&s3, "k").await;
    let mut etags = Vec::new();
    for (n, body) in [(1, vec![b'x'; MIB5]), (2, b"tail".to_vec())] {
        let out = s3
            .upload_part()
            .bucket("bkt")
            .key("k")
            .upload_id(&id)
            .part_number(n)
            .body(ByteStream::from(body))
            .send()
            .await
            .unwrap();
        etags.push(out.e_tag().unwrap().to_owned());
    }
    s3.complete_multipart_upload()
        .bucket("bkt")
        .key("k")
        .upload_id(&id)
        .multipart_upload(completed(&[(1, &etags[0]), (2, &etags[1])]))
        .send()
        .await
        .unwrap();
    let got = s3
        .get_object()
        .bucket("bkt")
        .key("k")
        .part_number(2)
        .send()
        .await
        .unwrap();
    assert_eq!(got.parts_count(), Some(2));
    assert_eq!(&got.body.collect().await.unwrap().to_vec()[..], b"tail");
}

#[tokio::test]
async fn get_with_a_part_number_past_the_last_part_is_416() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    put(&s3, "k", b"single").await;
    let err = s3
        .get_object()
        .bucket("bkt")
        .key("k")
        .part_number(2)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 416);
}
