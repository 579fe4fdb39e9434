//! CORS (preflight and answers, rules from S3 XML or Tigris JSON), lifecycle rules (validation,
//! JSON and XML as one configuration, expiry and transitions by the emulator's clock, kept in
//! the journal) and access (public buckets, object ACLs), one behaviour per test.

use std::time::Duration;

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, CorsConfiguration, CorsRule, ExpirationStatus,
    LifecycleExpiration, LifecycleRule, LifecycleRuleFilter, ObjectCannedAcl,
};
use http_body_util::BodyExt;
use tigris_emulator::Emulator;

mod common;
use common::{client, signed_request};

const DAY: Duration = Duration::from_secs(24 * 3600);

async fn setup(emu: &Emulator) -> aws_sdk_s3::Client {
    let s3 = client(emu);
    s3.create_bucket().bucket("bkt").send().await.unwrap();
    s3
}

async fn put(s3: &aws_sdk_s3::Client, key: &str) {
    s3.put_object()
        .bucket("bkt")
        .key(key)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
}

/// Whether HeadObject finds `key` in `bkt`.
async fn exists(s3: &aws_sdk_s3::Client, key: &str) -> bool {
    s3.head_object().bucket("bkt").key(key).send().await.is_ok()
}

/// One unsigned HTTP/1.1 request: status and the answer's head, lower-cased.
async fn unsigned(
    emu: &Emulator,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = emu.local_addr().to_string();
    let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let extra: String = headers
        .iter()
        .map(|(n, v)| format!("{n}: {v}\r\n"))
        .collect();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    socket.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response).to_ascii_lowercase();
    let status = text.split(' ').nth(1).unwrap().parse().unwrap();
    let head = text.split("\r\n\r\n").next().unwrap().to_owned();
    (status, head)
}

async fn patch(emu: &Emulator, body: &str) -> u16 {
    let root = emu.root_credentials();
    let key = (root.access_key_id(), root.secret_access_key());
    signed_request(
        emu,
        key,
        "PATCH",
        "/bkt",
        &[("content-type", "application/json")],
        body.as_bytes(),
    )
    .await
    .status()
    .as_u16()
}

async fn metadata(emu: &Emulator) -> serde_json::Value {
    let root = emu.root_credentials();
    let key = (root.access_key_id(), root.secret_access_key());
    let resp = signed_request(
        emu,
        key,
        "GET",
        "/bkt?metadata",
        &[("accept", "application/json")],
        b"",
    )
    .await;
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&body).unwrap()
}

async fn xml_cors(s3: &aws_sdk_s3::Client, origins: &[&str], methods: &[&str]) {
    let mut rule = CorsRule::builder();
    for o in origins {
        rule = rule.allowed_origins(*o);
    }
    for m in methods {
        rule = rule.allowed_methods(*m);
    }
    let config = CorsConfiguration::builder()
        .cors_rules(rule.allowed_headers("content-type").build().unwrap())
        .build()
        .unwrap();
    s3.put_bucket_cors()
        .bucket("bkt")
        .cors_configuration(config)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_preflight_without_origin_is_400() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    xml_cors(&s3, &["*"], &["GET"]).await;
    assert_eq!(unsigned(&emu, "OPTIONS", "/bkt/k", &[]).await.0, 400);
}

#[tokio::test]
async fn a_preflight_a_rule_allows_is_answered_without_a_signature() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    xml_cors(&s3, &["https://*.example.com"], &["GET", "PUT"]).await;
    let (status, head) = unsigned(
        &emu,
        "OPTIONS",
        "/bkt/k",
        &[
            ("Origin", "https://app.example.com"),
            ("Access-Control-Request-Method", "PUT"),
            ("Access-Control-Request-Headers", "Content-Type"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        head.contains("access-control-allow-origin: https://app.example.com"),
        "{head}"
    );
    assert!(
        head.contains("access-control-allow-methods: get, put"),
        "{head}"
    );
}

#[tokio::test]
async fn a_preflight_from_an_origin_no_rule_allows_is_403() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    xml_cors(&s3, &["https://app.example.com"], &["GET"]).await;
    let asked = [
        ("Origin", "https://evil.example.com"),
        ("Access-Control-Request-Method", "GET"),
    ];
    assert_eq!(unsigned(&emu, "OPTIONS", "/bkt/k", &asked).await.0, 403);
}

#[tokio::test]
async fn a_preflight_asking_for_a_header_no_rule_allows_is_403() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    xml_cors(&s3, &["*"], &["GET"]).await;
    let asked = [
        ("Origin", "https://a.example"),
        ("Access-Control-Request-Method", "GET"),
        ("Access-Control-Request-Headers", "x-custom"),
    ];
    assert_eq!(unsigned(&emu, "OPTIONS", "/bkt/k", &asked).await.0, 403);
}

#[tokio::test]
async fn a_preflight_to_a_missing_bucket_is_404() {
    let emu = Emulator::start().await.unwrap();
    let asked = [
        ("Origin", "https://a"),
        ("Access-Control-Request-Method", "GET"),
    ];
    assert_eq!(unsigned(&emu, "OPTIONS", "/missing/k", &asked).await.0, 404);
}

#[tokio::test]
async fn an_answer_to_a_request_with_an_allowed_origin_carries_the_rule_headers() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    put(&s3, "k").await;
    s3.put_object_acl()
        .bucket("bkt")
        .key("k")
        .acl(ObjectCannedAcl::PublicRead)
        .send()
        .await
        .unwrap();
    xml_cors(&s3, &["*"], &["GET"]).await;
    let (status, head) = unsigned(&emu, "GET", "/bkt/k", &[("Origin", "https://a.example")]).await;
    assert_eq!(status, 200);
    assert!(head.contains("access-control-allow-origin: *"), "{head}");
    let (_, plain) = unsigned(&emu, "GET", "/bkt/k", &[]).await;
    assert!(!plain.contains("access-control-allow-origin"), "{plain}");
}

#[tokio::test]
async fn cors_rules_patched_in_json_are_what_get_bucket_cors_answers() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let body = r#"{"cors":{"rules":[{"allowedOrigin":["https://a"],"allowedMethods":["GET","PATCH"],"allowedHeaders":[],"exposeHeaders":["ETag"],"maxAge":600}]}}"#;
    assert_eq!(patch(&emu, body).await, 200);
    let got = s3.get_bucket_cors().bucket("bkt").send().await.unwrap();
    assert_eq!(got.cors_rules()[0].allowed_methods(), ["GET", "PATCH"]);
    assert_eq!(got.cors_rules()[0].expose_headers(), ["ETag"]);
    assert_eq!(metadata(&emu).await["cors"]["rules"][0]["maxAge"], 600);
}

#[tokio::test]
async fn cors_null_in_a_patch_clears_the_rules() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    xml_cors(&s3, &["*"], &["GET"]).await;
    assert_eq!(patch(&emu, r#"{"cors":null}"#).await, 200);
    let err = s3.get_bucket_cors().bucket("bkt").send().await.unwrap_err();
    assert_eq!(err.code(), Some("NoSuchCORSConfiguration"));
    assert!(metadata(&emu).await.get("cors").is_none());
}

#[tokio::test]
async fn a_cors_rule_with_an_unknown_method_in_a_patch_is_refused() {
    let emu = Emulator::start().await.unwrap();
    setup(&emu).await;
    let body = r#"{"cors":{"rules":[{"allowedOrigin":["*"],"allowedMethods":["FETCH"]}]}}"#;
    assert_eq!(patch(&emu, body).await, 400);
}

#[tokio::test]
async fn a_cors_rule_in_xml_with_two_wildcards_in_an_origin_is_refused() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let rule = CorsRule::builder()
        .allowed_origins("https://*.example.*")
        .allowed_methods("GET")
        .build()
        .unwrap();
    let err = s3
        .put_bucket_cors()
        .bucket("bkt")
        .cors_configuration(
            CorsConfiguration::builder()
                .cors_rules(rule)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidRequest"), "{err:?}");
}

#[tokio::test]
async fn more_than_100_cors_rules_in_xml_are_refused() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let rule = CorsRule::builder()
        .allowed_origins("*")
        .allowed_methods("GET")
        .build()
        .unwrap();
    let config = CorsConfiguration::builder()
        .set_cors_rules(Some(vec![rule; 101]))
        .build()
        .unwrap();
    let err = s3
        .put_bucket_cors()
        .bucket("bkt")
        .cors_configuration(config)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidRequest"), "{err:?}");
}

fn rule(id: Option<&str>, prefix: &str, days: i32) -> LifecycleRule {
    LifecycleRule::builder()
        .set_id(id.map(str::to_owned))
        .filter(LifecycleRuleFilter::builder().prefix(prefix).build())
        .status(ExpirationStatus::Enabled)
        .expiration(LifecycleExpiration::builder().days(days).build())
        .build()
        .unwrap()
}

async fn put_lifecycle(s3: &aws_sdk_s3::Client, rules: Vec<LifecycleRule>) -> Result<(), String> {
    s3.put_bucket_lifecycle_configuration()
        .bucket("bkt")
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .set_rules(Some(rules))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .map(|_| ())
        .map_err(|e| e.code().unwrap_or("").to_owned())
}

#[tokio::test]
async fn lifecycle_rules_without_an_id_are_given_one() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    put_lifecycle(&s3, vec![rule(None, "a/", 1), rule(None, "b/", 2)])
        .await
        .unwrap();
    let got = s3
        .get_bucket_lifecycle_configuration()
        .bucket("bkt")
        .send()
        .await
        .unwrap();
    assert!(
        got.rules()
            .iter()
            .all(|r| r.id().is_some_and(|id| !id.is_empty()))
    );
}

#[tokio::test]
async fn two_lifecycle_rules_with_one_id_are_refused() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let got = put_lifecycle(
        &s3,
        vec![rule(Some("x"), "a/", 1), rule(Some("x"), "b/", 2)],
    )
    .await;
    assert_eq!(got, Err("InvalidArgument".to_owned()));
}

#[tokio::test]
async fn a_lifecycle_expiry_date_not_at_midnight_is_refused() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let date = aws_sdk_s3::primitives::DateTime::from_secs(1_900_000_000 + 3600);
    let mut r = rule(Some("x"), "a/", 1);
    r.expiration = Some(LifecycleExpiration::builder().date(date).build());
    assert_eq!(
        put_lifecycle(&s3, vec![r]).await,
        Err("InvalidArgument".to_owned())
    );
}

#[tokio::test]
async fn lifecycle_rules_patched_in_json_read_back_with_their_ids_in_both_apis() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let rules = r#"[{"id":"tmp-ttl","expiration":{"days":7,"enabled":true},"filter":{"prefix":"tmp/"},"status":1}]"#;
    assert_eq!(
        patch(&emu, &format!(r#"{{"lifecycle_rules":{rules}}}"#)).await,
        200
    );
    let expected: serde_json::Value = serde_json::from_str(rules).unwrap();
    assert_eq!(metadata(&emu).await["lifecycle_rules"], expected);
    let got = s3
        .get_bucket_lifecycle_configuration()
        .bucket("bkt")
        .send()
        .await
        .unwrap();
    assert_eq!(got.rules()[0].id(), Some("tmp-ttl"));
    assert_eq!(got.rules()[0].expiration().and_then(|e| e.days()), Some(7));
}

#[tokio::test]
async fn lifecycle_rules_on_a_snapshot_bucket_are_kept_but_never_applied() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket()
        .bucket("bkt")
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("x-tigris-enable-snapshot", "true");
        })
        .send()
        .await
        .unwrap();
    put(&s3, "tmp/a").await;
    let body = r#"{"lifecycle_rules":[{"id":"a","expiration":{"days":1},"status":1}]}"#;
    assert_eq!(patch(&emu, body).await, 200);
    emu.advance_clock(3 * DAY);
    s3.head_object()
        .bucket("bkt")
        .key("tmp/a")
        .send()
        .await
        .expect("a snapshot bucket's objects do not expire");
}

#[tokio::test]
async fn an_expiry_rule_deletes_objects_under_its_prefix_once_the_clock_passes_it() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    put(&s3, "tmp/a").await;
    put(&s3, "keep/b").await;
    put_lifecycle(&s3, vec![rule(None, "tmp/", 1)])
        .await
        .unwrap();
    emu.advance_clock(DAY / 2);
    assert!(exists(&s3, "tmp/a").await);
    emu.advance_clock(2 * DAY);
    assert!(!exists(&s3, "tmp/a").await);
    assert!(exists(&s3, "keep/b").await);
}

#[tokio::test]
async fn a_disabled_expiry_rule_deletes_nothing() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    put(&s3, "tmp/a").await;
    let body =
        r#"{"lifecycle_rules":[{"id":"a","expiration":{"days":1,"enabled":false},"status":2}]}"#;
    assert_eq!(patch(&emu, body).await, 200);
    emu.advance_clock(3 * DAY);
    assert!(exists(&s3, "tmp/a").await);
}

#[tokio::test]
async fn a_transition_rule_changes_the_storage_class_objects_report() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    put(&s3, "logs/1").await;
    let body = r#"{"lifecycle_rules":[{"id":"a","transitions":[{"storage_class":"GLACIER_IR","days":1}],"status":1}]}"#;
    assert_eq!(patch(&emu, body).await, 200);
    emu.advance_clock(2 * DAY);
    let head = s3
        .head_object()
        .bucket("bkt")
        .key("logs/1")
        .send()
        .await
        .unwrap();
    assert_eq!(head.storage_class().map(|c| c.as_str()), Some("GLACIER_IR"));
    let listed = s3.list_objects_v2().bucket("bkt").send().await.unwrap();
    assert_eq!(
        listed.contents()[0].storage_class().map(|c| c.as_str()),
        Some("GLACIER_IR")
    );
}

#[tokio::test]
async fn an_object_expired_by_a_rule_stays_gone_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::builder()
        .data_dir(dir.path())
        .start()
        .await
        .unwrap();
    let s3 = setup(&emu).await;
    put(&s3, "tmp/a").await;
    put_lifecycle(&s3, vec![rule(None, "tmp/", 1)])
        .await
        .unwrap();
    emu.advance_clock(2 * DAY);
    emu.shutdown().await;
    let emu = Emulator::builder()
        .data_dir(dir.path())
        .start()
        .await
        .unwrap();
    let s3 = client(&emu);
    let listed = s3.list_objects_v2().bucket("bkt").send().await.unwrap();
    assert!(listed.contents().is_empty(), "{listed:?}");
}

#[tokio::test]
async fn a_patch_with_an_empty_body_and_x_amz_acl_makes_the_bucket_public() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    put(&s3, "k").await;
    assert_eq!(unsigned(&emu, "GET", "/bkt/k", &[]).await.0, 403);
    let root = emu.root_credentials();
    let key = (root.access_key_id(), root.secret_access_key());
    let resp = signed_request(
        &emu,
        key,
        "PATCH",
        "/bkt",
        &[
            ("content-type", "application/json"),
            ("x-amz-acl", "public-read"),
        ],
        b"{}",
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(unsigned(&emu, "GET", "/bkt/k", &[]).await.0, 200);
}

#[tokio::test]
async fn an_anonymous_put_to_a_public_bucket_is_refused() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    s3.put_bucket_acl()
        .bucket("bkt")
        .acl(aws_sdk_s3::types::BucketCannedAcl::PublicRead)
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned(&emu, "PUT", "/bkt/k", &[]).await.0, 403);
    assert!(!exists(&s3, "k").await);
}

#[tokio::test]
async fn put_object_acl_private_keeps_an_object_of_a_public_bucket_from_anonymous_reads() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    put(&s3, "k").await;
    s3.put_bucket_acl()
        .bucket("bkt")
        .acl(aws_sdk_s3::types::BucketCannedAcl::PublicRead)
        .send()
        .await
        .unwrap();
    s3.put_object_acl()
        .bucket("bkt")
        .key("k")
        .acl(ObjectCannedAcl::Private)
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned(&emu, "GET", "/bkt/k", &[]).await.0, 403);
}

#[tokio::test]
async fn an_upload_marked_private_follows_its_public_bucket() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    s3.put_bucket_acl()
        .bucket("bkt")
        .acl(aws_sdk_s3::types::BucketCannedAcl::PublicRead)
        .send()
        .await
        .unwrap();
    s3.put_object()
        .bucket("bkt")
        .key("k")
        .acl(ObjectCannedAcl::Private)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned(&emu, "GET", "/bkt/k", &[]).await.0, 200);
}

#[tokio::test]
async fn get_object_acl_of_an_object_in_a_public_bucket_grants_all_users_read() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    put(&s3, "k").await;
    s3.put_bucket_acl()
        .bucket("bkt")
        .acl(aws_sdk_s3::types::BucketCannedAcl::PublicRead)
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
    assert_eq!(acl.grants().len(), 2, "{acl:?}");
}

/// Puts a public access block on `bkt` with only `BlockPublicAcls` or `IgnorePublicAcls` set.
async fn block_public(s3: &aws_sdk_s3::Client, block_acls: bool, ignore_acls: bool) {
    let config = aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
        .block_public_acls(block_acls)
        .ignore_public_acls(ignore_acls)
        .block_public_policy(false)
        .restrict_public_buckets(false)
        .build();
    s3.put_public_access_block()
        .bucket("bkt")
        .public_access_block_configuration(config)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_public_read_upload_to_a_bucket_blocking_public_acls_is_403_and_stores_nothing() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    block_public(&s3, true, false).await;
    let err = s3
        .put_object()
        .bucket("bkt")
        .key("k")
        .acl(ObjectCannedAcl::PublicRead)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 403);
    assert_eq!(err.code(), Some("AccessDenied"));
    assert!(!exists(&s3, "k").await);
}

#[tokio::test]
async fn a_private_upload_to_a_bucket_blocking_public_acls_is_stored() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    block_public(&s3, true, false).await;
    s3.put_object()
        .bucket("bkt")
        .key("k")
        .acl(ObjectCannedAcl::Private)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    assert!(exists(&s3, "k").await);
}

#[tokio::test]
async fn put_bucket_acl_public_read_on_a_bucket_blocking_public_acls_is_403_and_keeps_it_private() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    put(&s3, "k").await;
    block_public(&s3, true, false).await;
    let err = s3
        .put_bucket_acl()
        .bucket("bkt")
        .acl(aws_sdk_s3::types::BucketCannedAcl::PublicRead)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 403);
    assert_eq!(unsigned(&emu, "GET", "/bkt/k", &[]).await.0, 403);
}

#[tokio::test]
async fn put_object_acl_public_read_on_a_bucket_blocking_public_acls_is_403() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    put(&s3, "k").await;
    block_public(&s3, true, false).await;
    let err = s3
        .put_object_acl()
        .bucket("bkt")
        .key("k")
        .acl(ObjectCannedAcl::PublicRead)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 403);
    assert_eq!(unsigned(&emu, "GET", "/bkt/k", &[]).await.0, 403);
}

#[tokio::test]
async fn ignore_public_acls_stops_a_public_bucket_serving_anonymous_reads() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    put(&s3, "k").await;
    s3.put_bucket_acl()
        .bucket("bkt")
        .acl(aws_sdk_s3::types::BucketCannedAcl::PublicRead)
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned(&emu, "GET", "/bkt/k", &[]).await.0, 200);
    block_public(&s3, false, true).await;
    assert_eq!(unsigned(&emu, "GET", "/bkt/k", &[]).await.0, 403);
}

#[tokio::test]
async fn an_anonymous_delete_in_a_missing_bucket_is_404_no_such_bucket() {
    let emu = Emulator::start().await.unwrap();
    let (status, head) = unsigned(&emu, "DELETE", "/gone/k", &[]).await;
    assert_eq!(status, 404, "{head}");
}

#[tokio::test]
async fn get_bucket_acl_of_a_public_bucket_lists_the_all_users_grant_then_the_owner() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    s3.put_bucket_acl()
        .bucket("bkt")
        .acl(aws_sdk_s3::types::BucketCannedAcl::PublicRead)
        .send()
        .await
        .unwrap();
    let acl = s3.get_bucket_acl().bucket("bkt").send().await.unwrap();
    let grantees: Vec<_> = acl
        .grants()
        .iter()
        .map(|g| {
            let who = g.grantee().unwrap();
            (
                who.uri().or(who.id()).unwrap().to_owned(),
                who.display_name().is_some(),
            )
        })
        .collect();
    assert_eq!(
        grantees,
        [
            (
                "http://acs.amazonaws.com/groups/global/AllUsers".to_owned(),
                false
            ),
            ("000000000000".to_owned(), true),
        ]
    );
}

/// PutBucketAcl with an AccessControlPolicy body granting `grantee` FULL_CONTROL beside the
/// owner.
async fn put_acl_granting(
    s3: &aws_sdk_s3::Client,
    grantee: aws_sdk_s3::types::Grantee,
) -> aws_sdk_s3::error::SdkError<aws_sdk_s3::operation::put_bucket_acl::PutBucketAclError> {
    use aws_sdk_s3::types::{AccessControlPolicy, Grant, Owner, Permission};
    let policy = AccessControlPolicy::builder()
        .owner(Owner::builder().id("000000000000").build())
        .grants(
            Grant::builder()
                .grantee(grantee)
                .permission(Permission::FullControl)
                .build(),
        )
        .build();
    s3.put_bucket_acl()
        .bucket("bkt")
        .access_control_policy(policy)
        .send()
        .await
        .unwrap_err()
}

#[tokio::test]
async fn an_acl_granting_an_email_address_is_unresolvable_grant_by_email_address() {
    use aws_sdk_s3::types::{Grantee, Type};
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let grantee = Grantee::builder()
        .r#type(Type::AmazonCustomerByEmail)
        .email_address("nobody@example.com")
        .build()
        .unwrap();
    let err = put_acl_granting(&s3, grantee).await;
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 400);
    assert_eq!(err.code(), Some("UnresolvableGrantByEmailAddress"));
}

#[tokio::test]
async fn an_acl_granting_a_canonical_user_other_than_the_account_is_invalid_argument() {
    use aws_sdk_s3::types::{Grantee, Type};
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let grantee = Grantee::builder()
        .r#type(Type::CanonicalUser)
        .id("_foo")
        .build()
        .unwrap();
    let err = put_acl_granting(&s3, grantee).await;
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 400);
    assert_eq!(err.code(), Some("InvalidArgument"));
}

#[tokio::test]
async fn list_buckets_names_the_account_as_owner() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let listed = s3.list_buckets().send().await.unwrap();
    let owner = listed.owner().unwrap();
    assert_eq!(owner.id(), Some("000000000000"));
    assert_eq!(owner.display_name(), Some("tigris-emulator"));
}

/// Creates `bkt` with `x-amz-acl` `acl` and public listing `list` (Tigris's creation headers).
async fn create_listed(emu: &Emulator, acl: &str, list: &str) {
    let root = emu.root_credentials();
    let key = (root.access_key_id(), root.secret_access_key());
    let resp = signed_request(
        emu,
        key,
        "PUT",
        "/bkt",
        &[
            ("x-amz-acl", acl),
            ("x-amz-acl-public-list-objects-enabled", list),
        ],
        b"",
    )
    .await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn a_public_bucket_with_public_listing_on_is_listed_without_a_signature() {
    let emu = Emulator::start().await.unwrap();
    create_listed(&emu, "public-read", "true").await;
    put(&client(&emu), "k").await;
    let (status, head) = unsigned(&emu, "GET", "/bkt?list-type=2", &[]).await;
    assert_eq!(status, 200, "{head}");
}

#[tokio::test]
async fn a_public_bucket_without_public_listing_is_not_listed_without_a_signature() {
    let emu = Emulator::start().await.unwrap();
    create_listed(&emu, "public-read", "false").await;
    assert_eq!(unsigned(&emu, "GET", "/bkt", &[]).await.0, 403);
}
