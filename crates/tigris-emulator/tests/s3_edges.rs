//! Small S3 behaviours clients rely on: max-keys=0, ranges of empty objects, signing regions.

use aws_credential_types::Credentials;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use tigris_emulator::Emulator;

mod common;
use common::client;

async fn bucket_with_two_objects(emu: &Emulator) -> aws_sdk_s3::Client {
    let s3 = client(emu);
    s3.create_bucket().bucket("edges").send().await.unwrap();
    for key in ["a", "b"] {
        s3.put_object()
            .bucket("edges")
            .key(key)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
    }
    s3
}

#[tokio::test]
async fn max_keys_zero_is_an_empty_page_that_is_not_truncated() {
    let emu = Emulator::start().await.unwrap();
    let s3 = bucket_with_two_objects(&emu).await;
    let v2 = s3
        .list_objects_v2()
        .bucket("edges")
        .max_keys(0)
        .send()
        .await
        .unwrap();
    assert_eq!(v2.is_truncated(), Some(false));
    assert_eq!(v2.next_continuation_token(), None);
    assert!(v2.contents().is_empty());
    assert_eq!(v2.key_count(), Some(0));
    let v1 = s3
        .list_objects()
        .bucket("edges")
        .max_keys(0)
        .delimiter("/")
        .send()
        .await
        .unwrap();
    assert_eq!(v1.is_truncated(), Some(false));
    assert_eq!(v1.next_marker(), None);
    assert!(v1.contents().is_empty());
}

#[tokio::test]
async fn every_range_of_an_empty_object_is_unsatisfiable() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("edges").send().await.unwrap();
    s3.put_object()
        .bucket("edges")
        .key("empty")
        .body(ByteStream::from_static(b""))
        .send()
        .await
        .unwrap();
    for range in ["bytes=-5", "bytes=0-", "bytes=0-0"] {
        let err = s3
            .get_object()
            .bucket("edges")
            .key("empty")
            .range(range)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("InvalidRange"), "{range}");
        assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(416));
    }
    let whole = s3
        .get_object()
        .bucket("edges")
        .key("empty")
        .send()
        .await
        .unwrap();
    assert_eq!(whole.content_length(), Some(0));
}

fn client_in_region(emu: &Emulator, region: &'static str) -> aws_sdk_s3::Client {
    let root = emu.root_credentials();
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .http_client(common::http_client())
        .region(aws_sdk_s3::config::Region::new(region))
        .endpoint_url(emu.endpoint())
        .force_path_style(true)
        .credentials_provider(Credentials::new(
            root.access_key_id(),
            root.secret_access_key(),
            None,
            None,
            "test",
        ))
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

#[tokio::test]
async fn requests_signed_for_auto_or_a_real_region_are_served_and_others_refused() {
    let emu = Emulator::start().await.unwrap();
    for region in ["auto", "us-east-1", "eu-central-1", "iad"] {
        client_in_region(&emu, region)
            .list_buckets()
            .send()
            .await
            .unwrap_or_else(|e| panic!("{region}: {e:?}"));
    }
    for region in ["moon", "not-a-region"] {
        let err = client_in_region(&emu, region)
            .list_buckets()
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("AuthorizationHeaderMalformed"), "{region}");
    }
    let root = emu.root_credentials();
    let iam = aws_sdk_iam::Client::from_conf(
        aws_sdk_iam::Config::builder()
            .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
            .http_client(common::http_client())
            .region(aws_sdk_iam::config::Region::new("moon"))
            .endpoint_url(emu.endpoint())
            .credentials_provider(Credentials::new(
                root.access_key_id(),
                root.secret_access_key(),
                None,
                None,
                "test",
            ))
            .build(),
    );
    let err = iam.list_policies().send().await.unwrap_err();
    assert_eq!(
        aws_sdk_iam::error::ProvideErrorMetadata::code(&err),
        Some("SignatureDoesNotMatch")
    );
}

#[tokio::test]
async fn an_advanced_clock_dates_writes_and_responses_but_not_signatures() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("clock").send().await.unwrap();
    s3.put_object()
        .bucket("clock")
        .key("before")
        .body(ByteStream::from_static(b"1"))
        .send()
        .await
        .unwrap();
    let day = std::time::Duration::from_secs(86_400);
    emu.advance_clock(10 * day);
    // The client still signs with the real time, and is served.
    s3.put_object()
        .bucket("clock")
        .key("after")
        .body(ByteStream::from_static(b"2"))
        .send()
        .await
        .unwrap();
    let modified = |key: &'static str| {
        let s3 = s3.clone();
        async move {
            let head = s3
                .head_object()
                .bucket("clock")
                .key(key)
                .send()
                .await
                .unwrap();
            head.last_modified().unwrap().secs()
        }
    };
    let (before, after) = (modified("before").await, modified("after").await);
    assert!(after - before >= 10 * 86_400, "{before} -> {after}");
    // The Date header is the advanced clock too.
    let url = format!("{}/clock/after", emu.endpoint());
    let resp = reqwest_free_get(&url).await;
    let date = resp.headers()[http::header::DATE]
        .to_str()
        .unwrap()
        .to_owned();
    let real = time::OffsetDateTime::now_utc();
    let served = time::OffsetDateTime::parse(&date, &time::format_description::well_known::Rfc2822)
        .unwrap_or_else(|e| panic!("{date}: {e}"));
    assert!(
        served - real >= time::Duration::days(10) - time::Duration::minutes(1),
        "{date}"
    );
    // IAM too: the first call is signed with the real time, the second with the time the SDK
    // read from the first answer's `Date`.
    let iam = common::iam(&emu);
    iam.list_access_keys().send().await.unwrap();
    iam.list_access_keys().send().await.unwrap();
}

/// An unsigned GET: refused (403), but with the emulator's headers.
async fn reqwest_free_get(url: &str) -> http::Response<hyper::body::Incoming> {
    use hyper_util::client::legacy::Client;
    let client = Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    client.get(url.parse().unwrap()).await.unwrap()
}
