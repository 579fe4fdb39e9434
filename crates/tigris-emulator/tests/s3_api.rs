//! The emulator speaks S3 to an unmodified `aws-sdk-s3` client, with signatures verified.

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, Delete, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter, ObjectIdentifier,
};
use tigris_emulator::Emulator;

mod common;
use common::{client, client_with};

async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: &str) {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body.as_bytes().to_vec()))
        .send()
        .await
        .unwrap();
}

async fn get(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> String {
    let out = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    String::from_utf8(out.body.collect().await.unwrap().to_vec()).unwrap()
}

#[tokio::test]
async fn objects_round_trip_with_metadata_and_etag() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("data").send().await.unwrap();
    s3.put_object()
        .bucket("data")
        .key("dir/hello.txt")
        .content_type("text/plain")
        .metadata("owner", "agent-1")
        .body(ByteStream::from_static(b"hello"))
        .send()
        .await
        .unwrap();
    assert_eq!(get(&s3, "data", "dir/hello.txt").await, "hello");
    let head = s3
        .head_object()
        .bucket("data")
        .key("dir/hello.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(5));
    assert_eq!(head.content_type(), Some("text/plain"));
    assert_eq!(
        head.metadata().unwrap().get("owner").map(String::as_str),
        Some("agent-1")
    );
    assert_eq!(head.e_tag(), Some("\"5d41402abc4b2a76b9719d911017c592\""));
}

#[tokio::test]
async fn ranged_gets_return_the_slice() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("data").send().await.unwrap();
    put(&s3, "data", "k", "0123456789").await;
    let out = s3
        .get_object()
        .bucket("data")
        .key("k")
        .range("bytes=2-4")
        .send()
        .await
        .unwrap();
    assert_eq!(out.content_range(), Some("bytes 2-4/10"));
    assert_eq!(&out.body.collect().await.unwrap().to_vec()[..], b"234");
}

#[tokio::test]
async fn missing_things_get_standard_error_codes() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    let err = s3
        .get_object()
        .bucket("nope")
        .key("k")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("NoSuchBucket"));
    s3.create_bucket().bucket("data").send().await.unwrap();
    let err = s3
        .get_object()
        .bucket("data")
        .key("k")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("NoSuchKey"));
    let err = s3.create_bucket().bucket("data").send().await.unwrap_err();
    assert_eq!(err.code(), Some("BucketAlreadyExists"));
    put(&s3, "data", "k", "v").await;
    let err = s3.delete_bucket().bucket("data").send().await.unwrap_err();
    assert_eq!(err.code(), Some("BucketNotEmpty"));
    s3.delete_object()
        .bucket("data")
        .key("k")
        .send()
        .await
        .unwrap();
    s3.delete_bucket().bucket("data").send().await.unwrap();
    let err = s3.head_bucket().bucket("data").send().await.unwrap_err();
    assert!(err.into_service_error().is_not_found());
}

#[tokio::test]
async fn list_v2_pages_through_prefixes_and_delimiters() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("data").send().await.unwrap();
    for k in ["a/1", "a/2", "b", "c/x/1", "c/y", "d", "e"] {
        put(&s3, "data", k, k).await;
    }
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket("data")
            .delimiter("/")
            .max_keys(2)
            .set_continuation_token(token)
            .send()
            .await
            .unwrap();
        seen.extend(
            page.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix().map(str::to_owned)),
        );
        seen.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
        assert!(page.key_count().unwrap() <= 2);
        token = page.next_continuation_token().map(str::to_owned);
        if !page.is_truncated().unwrap() {
            break;
        }
    }
    seen.sort();
    assert_eq!(seen, ["a/", "b", "c/", "d", "e"]);

    let under_c = s3
        .list_objects_v2()
        .bucket("data")
        .prefix("c/")
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = under_c.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["c/x/1", "c/y"]);

    let all: Vec<String> = s3
        .list_objects_v2()
        .bucket("data")
        .max_keys(3)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
        .iter()
        .flat_map(|p| {
            p.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned))
        })
        .collect();
    assert_eq!(all.len(), 7);
}

#[tokio::test]
async fn list_v1_uses_markers() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("data").send().await.unwrap();
    for k in ["k1", "k2", "k3"] {
        put(&s3, "data", k, k).await;
    }
    let first = s3
        .list_objects()
        .bucket("data")
        .max_keys(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.is_truncated(), Some(true));
    let last = first.contents().last().unwrap().key().unwrap().to_owned();
    let rest = s3
        .list_objects()
        .bucket("data")
        .marker(last)
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = rest.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["k3"]);
    assert_eq!(rest.is_truncated(), Some(false));
}

#[tokio::test]
async fn copy_and_multi_delete() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("src").send().await.unwrap();
    s3.create_bucket().bucket("dst").send().await.unwrap();
    put(&s3, "src", "a b+c.txt", "payload").await;
    s3.copy_object()
        .bucket("dst")
        .key("copy.txt")
        .copy_source("src/a%20b%2Bc.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(get(&s3, "dst", "copy.txt").await, "payload");
    assert_eq!(
        get(&s3, "src", "a b+c.txt").await,
        "payload",
        "a plain copy keeps its source"
    );
    let delete = Delete::builder()
        .objects(ObjectIdentifier::builder().key("copy.txt").build().unwrap())
        .objects(
            ObjectIdentifier::builder()
                .key("never-existed")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    s3.delete_objects()
        .bucket("dst")
        .delete(delete)
        .send()
        .await
        .unwrap();
    let listed = s3.list_objects_v2().bucket("dst").send().await.unwrap();
    assert_eq!(listed.key_count(), Some(0));
}

#[tokio::test]
async fn lifecycle_configuration_round_trips() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("ttl").send().await.unwrap();
    let err = s3
        .get_bucket_lifecycle_configuration()
        .bucket("ttl")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("NoSuchLifecycleConfiguration"));
    let rule = LifecycleRule::builder()
        .id("ttl")
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .expiration(LifecycleExpiration::builder().days(7).build())
        .build()
        .unwrap();
    let config = BucketLifecycleConfiguration::builder()
        .rules(rule)
        .build()
        .unwrap();
    s3.put_bucket_lifecycle_configuration()
        .bucket("ttl")
        .lifecycle_configuration(config)
        .send()
        .await
        .unwrap();
    let got = s3
        .get_bucket_lifecycle_configuration()
        .bucket("ttl")
        .send()
        .await
        .unwrap();
    let rule = &got.rules()[0];
    assert_eq!(rule.id(), Some("ttl"));
    assert_eq!(rule.expiration().and_then(|e| e.days()), Some(7));
    s3.delete_bucket_lifecycle()
        .bucket("ttl")
        .send()
        .await
        .unwrap();
    assert!(
        s3.get_bucket_lifecycle_configuration()
            .bucket("ttl")
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_wrong_secret_is_rejected() {
    let emu = Emulator::start().await.unwrap();
    let root = emu.root_credentials().access_key_id().to_owned();
    let s3 = client_with(&emu, &root, "not-the-secret");
    let err = s3.list_buckets().send().await.unwrap_err();
    assert_eq!(err.code(), Some("SignatureDoesNotMatch"));
    assert_eq!(emu.faults().total(), 0, "rejected before any operation ran");
}

#[tokio::test]
async fn an_unknown_access_key_is_rejected() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client_with(&emu, "AKIDUNKNOWN", "whatever");
    let err = s3.list_buckets().send().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidAccessKeyId"));
}

#[tokio::test]
async fn injected_faults_fail_exactly_the_requested_requests() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    emu.faults()
        .fail_next("CreateBucket", 1, 409, "OperationAborted");
    let err = s3
        .create_bucket()
        .bucket("bucket-1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("OperationAborted"));
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(409));
    s3.create_bucket().bucket("bucket-1").send().await.unwrap();
    assert_eq!(emu.faults().count("CreateBucket"), 2);
}

#[tokio::test]
async fn injected_latency_delays_requests() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    emu.faults()
        .set_latency(std::time::Duration::from_millis(200));
    let started = std::time::Instant::now();
    s3.list_buckets().send().await.unwrap();
    assert!(started.elapsed() >= std::time::Duration::from_millis(200));
}

#[tokio::test]
async fn malformed_requests_get_s3_errors_not_panics() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let emu = Emulator::start().await.unwrap();
    for raw in [
        "GET /bucket/key HTTP/1.1\r\nHost: x\r\nAuthorization: AWS4-HMAC-SHA256 garbage\r\n\r\n",
        "PUT /%ZZ HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    ] {
        let mut sock = tokio::net::TcpStream::connect(emu.local_addr())
            .await
            .unwrap();
        sock.write_all(raw.as_bytes()).await.unwrap();
        let mut buf = vec![0; 4096];
        let n = sock.read(&mut buf).await.unwrap();
        let text = String::from_utf8_lossy(&buf[..n]);
        assert!(text.starts_with("HTTP/1.1 4"), "{raw:?} -> {text}");
        assert!(text.contains("<Code>"), "{text}");
    }
    // Still serving afterwards.
    client(&emu).list_buckets().send().await.unwrap();
}

#[tokio::test]
async fn aws_chunked_uploads_with_trailers_are_refused_like_tigris() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let emu = Emulator::start().await.unwrap();
    let raw = "PUT /b/k HTTP/1.1\r\nHost: x\r\nx-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\n\
               x-amz-trailer: x-amz-checksum-crc32\r\nContent-Encoding: aws-chunked\r\nContent-Length: 0\r\n\r\n";
    let mut sock = tokio::net::TcpStream::connect(emu.local_addr())
        .await
        .unwrap();
    sock.write_all(raw.as_bytes()).await.unwrap();
    let mut buf = vec![0; 4096];
    let n = sock.read(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(
        text.contains("<Code>InvalidContentEncoding</Code>"),
        "{text}"
    );
}

#[tokio::test]
async fn multipart_uploads_assemble_parts_in_order() {
    use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("data").send().await.unwrap();
    let created = s3
        .create_multipart_upload()
        .bucket("data")
        .key("big")
        .send()
        .await
        .unwrap();
    let id = created.upload_id().unwrap();
    let mut parts = Vec::new();
    // Every part but the last is at least 5 MiB, as S3 requires.
    const MIB5: usize = 5 << 20;
    for (n, chunk) in [
        (1, vec![b'1'; MIB5]),
        (2, vec![b'2'; MIB5]),
        (3, b"third".to_vec()),
    ] {
        let out = s3
            .upload_part()
            .bucket("data")
            .key("big")
            .upload_id(id)
            .part_number(n)
            .body(ByteStream::from(chunk))
            .send()
            .await
            .unwrap();
        parts.push(
            CompletedPart::builder()
                .part_number(n)
                .e_tag(out.e_tag().unwrap())
                .build(),
        );
    }
    let listed = s3
        .list_parts()
        .bucket("data")
        .key("big")
        .upload_id(id)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.parts().len(), 3);
    let done = s3
        .complete_multipart_upload()
        .bucket("data")
        .key("big")
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(
        done.e_tag().unwrap().ends_with("-3\""),
        "{:?}",
        done.e_tag()
    );
    let body = get(&s3, "data", "big").await;
    assert_eq!(body.len(), 2 * MIB5 + 5);
    assert!(body.starts_with('1') && body[MIB5..].starts_with('2') && body.ends_with("2third"));
    let err = s3
        .abort_multipart_upload()
        .bucket("data")
        .key("big")
        .upload_id(id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("NoSuchUpload"));
}

#[tokio::test]
async fn faults_can_target_one_bucket_or_header_and_fire_after_the_change() {
    use tigris_emulator::Fault;
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("keep").send().await.unwrap();
    s3.create_bucket()
        .bucket("lost-reply")
        .send()
        .await
        .unwrap();
    emu.faults().inject(
        Fault::on("DeleteBucket")
            .bucket("lost-reply")
            .after_apply()
            .status(503)
            .code("SlowDown"),
    );
    // Other buckets are not affected by the rule.
    s3.delete_bucket().bucket("keep").send().await.unwrap();
    // The bucket is gone, though the client saw an error (a lost response; retries then see
    // NoSuchBucket, as they would on a real service).
    assert!(
        s3.delete_bucket()
            .bucket("lost-reply")
            .send()
            .await
            .is_err()
    );
    let err = s3
        .head_bucket()
        .bucket("lost-reply")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_not_found());

    emu.faults().inject(
        Fault::on("PutObject")
            .with_header("x-amz-meta-tag")
            .status(400)
            .code("InvalidRequest"),
    );
    s3.create_bucket().bucket("data").send().await.unwrap();
    put(&s3, "data", "plain", "served").await;
    let tagged = s3
        .put_object()
        .bucket("data")
        .key("tagged")
        .metadata("tag", "x")
        .body(ByteStream::from_static(b"x"));
    assert_eq!(
        tagged.send().await.unwrap_err().code(),
        Some("InvalidRequest")
    );
}

#[tokio::test]
async fn a_part_number_marker_of_i32_max_lists_no_parts() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("parts").send().await.unwrap();
    let up = s3
        .create_multipart_upload()
        .bucket("parts")
        .key("k")
        .send()
        .await
        .unwrap();
    let id = up.upload_id().unwrap();
    s3.upload_part()
        .bucket("parts")
        .key("k")
        .upload_id(id)
        .part_number(1)
        .body(ByteStream::from_static(b"part"))
        .send()
        .await
        .unwrap();
    let parts = s3
        .list_parts()
        .bucket("parts")
        .key("k")
        .upload_id(id)
        .part_number_marker("2147483647")
        .send()
        .await
        .unwrap();
    assert!(parts.parts().is_empty(), "{:?}", parts.parts());
    assert_eq!(parts.is_truncated(), Some(false));
}

#[tokio::test]
async fn delete_objects_with_more_than_1000_keys_is_malformed() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("parts").send().await.unwrap();
    put(&s3, "parts", "keep", "x").await;
    let ids: Vec<_> = (0..1001)
        .map(|i| {
            ObjectIdentifier::builder()
                .key(if i == 0 {
                    "keep".to_owned()
                } else {
                    format!("k{i}")
                })
                .build()
                .unwrap()
        })
        .collect();
    let err = s3
        .delete_objects()
        .bucket("parts")
        .delete(Delete::builder().set_objects(Some(ids)).build().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("MalformedXML"));
    assert_eq!(get(&s3, "parts", "keep").await, "x");
}

#[tokio::test]
async fn a_dropped_connection_is_seen_as_no_response_and_any_picks_the_kth_request() {
    use tigris_emulator::Fault;
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    let iam = common::iam(&emu);
    emu.faults().record();
    // Position 1 (the second request from now), whatever it is: carried out, then no answer.
    emu.faults()
        .inject(Fault::any().skip(1).after_apply().drop_connection());
    s3.create_bucket().bucket("first").send().await.unwrap();
    let no_retry = aws_sdk_s3::config::retry::RetryConfig::disabled();
    let err = s3
        .create_bucket()
        .bucket("second")
        .customize()
        .config_override(aws_sdk_s3::Config::builder().retry_config(no_retry))
        .send()
        .await
        .unwrap_err();
    // No status at all: the SDK saw the connection end, not an error response.
    assert!(err.raw_response().is_none(), "{err:?}");
    assert!(emu.inventory().buckets.contains(&"second".to_owned()));
    // Before serving: nothing is made, and again no answer.
    emu.faults()
        .inject(Fault::on("CreateAccessKey").drop_connection());
    let err = iam
        .create_access_key()
        .customize()
        .config_override(
            aws_sdk_iam::Config::builder()
                .retry_config(aws_sdk_iam::config::retry::RetryConfig::disabled()),
        )
        .send()
        .await
        .unwrap_err();
    assert!(err.raw_response().is_none(), "{err:?}");
    let inventory = emu.inventory();
    assert!(inventory.access_keys.is_empty(), "{inventory:?}");
    assert_eq!(inventory.buckets, ["first", "second"]);
    assert_eq!(
        emu.faults().recorded(),
        ["CreateBucket", "CreateBucket", "CreateAccessKey"]
    );
}
