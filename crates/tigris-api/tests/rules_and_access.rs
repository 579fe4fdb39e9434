//! CORS rules, lifecycle rules, object and bucket access through this crate's calls, against
//! the emulator: what is set reads back, is applied (preflights answered, objects expired by
//! the emulator's clock, anonymous reads served or refused), and bad input sends nothing.

mod common;

use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use common::{TestEnv, raw};
use tigris_api::ErrorKind;
use tigris_api::create_presigned_multipart_upload::PresignedMultipartUpload;
use tigris_api::set_cors::CorsRule;
use tigris_api::set_lifecycle_rules::{LifecycleRule, When};
use tigris_headers::bucket_settings::{Access, StorageClass};

const DAY: Duration = Duration::from_secs(24 * 3600);

fn app_rule() -> CorsRule {
    CorsRule::new()
        .allowed_origin("https://app.example.com")
        .allowed_methods(["GET", "PUT"])
        .allowed_header("Content-Type")
        .expose_header("ETag")
        .max_age(Duration::from_secs(600))
}

/// Creates the bucket `media` and a presigned multipart upload of `key` with `parts` part URLs.
async fn presigned_upload(env: &TestEnv, key: &str, parts: u32) -> PresignedMultipartUpload {
    env.create_bucket("media").await;
    env.api
        .create_presigned_multipart_upload()
        .bucket("media")
        .key(key)
        .parts(parts)
        .send()
        .await
        .unwrap()
}

/// Creates the bucket `site` with one object, `key`, and makes the bucket public.
async fn public_site(env: &TestEnv, key: &str, body: &str) {
    env.create_bucket("site").await;
    env.put("site", key, body).await;
    env.api
        .set_bucket_access()
        .bucket("site")
        .access(Access::Public)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn cors_rules_read_back_in_the_order_they_were_set() {
    let env = TestEnv::start().await;
    env.create_bucket("site").await;
    let open = CorsRule::new().allowed_origin("*").allowed_methods(["GET"]);
    env.api
        .set_cors()
        .bucket("site")
        .rule(app_rule())
        .rule(open.clone())
        .send()
        .await
        .unwrap();
    let rules = env.api.get_cors().bucket("site").send().await.unwrap();
    assert_eq!(rules, [app_rule(), open]);
}

#[tokio::test]
async fn cleared_cors_rules_read_back_as_none() {
    let env = TestEnv::start().await;
    env.create_bucket("site").await;
    env.api
        .set_cors()
        .bucket("site")
        .rule(app_rule())
        .send()
        .await
        .unwrap();
    env.api.clear_cors().bucket("site").send().await.unwrap();
    assert!(
        env.api
            .get_cors()
            .bucket("site")
            .send()
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn cors_rules_set_here_are_what_get_bucket_cors_answers() {
    let env = TestEnv::start().await;
    env.create_bucket("site").await;
    env.api
        .set_cors()
        .bucket("site")
        .rule(app_rule())
        .send()
        .await
        .unwrap();
    let got = env
        .s3
        .get_bucket_cors()
        .bucket("site")
        .send()
        .await
        .unwrap();
    let rule = &got.cors_rules()[0];
    assert_eq!(rule.allowed_origins(), ["https://app.example.com"]);
    assert_eq!(rule.allowed_methods(), ["GET", "PUT"]);
    assert_eq!(rule.max_age_seconds(), Some(600));
}

#[tokio::test]
async fn a_preflight_from_an_allowed_origin_is_answered_with_the_rule() {
    let env = TestEnv::start().await;
    env.create_bucket("site").await;
    env.api
        .set_cors()
        .bucket("site")
        .rule(app_rule())
        .send()
        .await
        .unwrap();
    let url = format!("{}/site/upload.bin", env.emu.endpoint());
    let answer = raw(
        "OPTIONS",
        &url,
        &[
            ("Origin", "https://app.example.com"),
            ("Access-Control-Request-Method", "PUT"),
            ("Access-Control-Request-Headers", "content-type"),
        ],
        Vec::new(),
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert_eq!(answer.header("access-control-max-age"), Some("600"));
    let refused = raw(
        "OPTIONS",
        &url,
        &[
            ("Origin", "https://evil.example.com"),
            ("Access-Control-Request-Method", "PUT"),
        ],
        Vec::new(),
    )
    .await;
    assert_eq!(refused.status, 403);
}

#[tokio::test]
async fn an_invalid_cors_rule_sends_nothing() {
    let env = TestEnv::start().await;
    let before = env.requests();
    let err = env
        .api
        .set_cors()
        .bucket("site")
        .rule(
            CorsRule::new()
                .allowed_origin("*")
                .allowed_methods(["FETCH"]),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(env.requests(), before);
}

#[tokio::test]
async fn lifecycle_rules_read_back_with_the_ids_they_were_given() {
    let env = TestEnv::start().await;
    env.create_bucket("data").await;
    let ttl = LifecycleRule::new()
        .with_id("tmp-ttl")
        .prefix("tmp/")
        .expiration(When::Days(7));
    let archive = LifecycleRule::new()
        .prefix("logs/")
        .transition(StorageClass::Glacier, When::Days(30))
        .expiration(When::Date("2030-01-01".parse().unwrap()))
        .enabled(false);
    env.api
        .set_lifecycle_rules()
        .bucket("data")
        .rules([ttl.clone(), archive.clone()])
        .send()
        .await
        .unwrap();
    let rules = env
        .api
        .get_lifecycle_rules()
        .bucket("data")
        .send()
        .await
        .unwrap();
    assert_eq!(rules, [ttl, archive]);
    env.api
        .set_lifecycle_rules()
        .bucket("data")
        .send()
        .await
        .unwrap();
    let rules = env
        .api
        .get_lifecycle_rules()
        .bucket("data")
        .send()
        .await
        .unwrap();
    assert!(rules.is_empty());
}

#[tokio::test]
async fn an_expiry_rule_deletes_objects_under_its_prefix_once_the_clock_passes_it() {
    let env = TestEnv::start().await;
    env.create_bucket("data").await;
    env.put("data", "tmp/a", "x").await;
    env.put("data", "keep/b", "y").await;
    env.api
        .set_lifecycle_rules()
        .bucket("data")
        .rule(
            LifecycleRule::new()
                .prefix("tmp/")
                .expiration(When::Days(1)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(env.keys("data").await, ["keep/b", "tmp/a"]);
    env.emu.advance_clock(2 * DAY);
    assert_eq!(env.keys("data").await, ["keep/b"]);
}

#[tokio::test]
async fn a_transition_rule_changes_the_storage_class_objects_report() {
    let env = TestEnv::start().await;
    env.create_bucket("data").await;
    env.put("data", "logs/1", "x").await;
    env.api
        .set_lifecycle_rules()
        .bucket("data")
        .rule(LifecycleRule::new().transition(StorageClass::GlacierIr, When::Days(1)))
        .send()
        .await
        .unwrap();
    let class = |env: &TestEnv| {
        let s3 = env.s3.clone();
        async move {
            s3.head_object()
                .bucket("data")
                .key("logs/1")
                .send()
                .await
                .unwrap()
                .storage_class()
                .map(|c| c.as_str().to_owned())
        }
    };
    assert_ne!(class(&env).await.as_deref(), Some("GLACIER_IR"));
    env.emu.advance_clock(2 * DAY);
    assert_eq!(class(&env).await.as_deref(), Some("GLACIER_IR"));
}

#[tokio::test]
async fn lifecycle_rules_on_a_snapshot_bucket_are_stored() {
    let env = TestEnv::start().await;
    env.create_snapshot_bucket("snaps").await;
    env.api
        .set_lifecycle_rules()
        .bucket("snaps")
        .rule(LifecycleRule::new().expiration(When::Days(1)))
        .send()
        .await
        .unwrap();
    let rules = env
        .api
        .get_lifecycle_rules()
        .bucket("snaps")
        .send()
        .await
        .unwrap();
    assert_eq!(rules.len(), 1, "{rules:?}");
}

#[tokio::test]
async fn a_repeated_lifecycle_rule_id_sends_nothing() {
    let env = TestEnv::start().await;
    let before = env.requests();
    let rule = LifecycleRule::new().expiration(When::Days(1));
    let err = env
        .api
        .set_lifecycle_rules()
        .bucket("data")
        .rules([rule.clone(), rule])
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(env.requests(), before);
}

#[tokio::test]
async fn an_object_made_public_is_read_without_credentials_until_made_private() {
    let env = TestEnv::start().await;
    env.create_bucket("assets").await;
    env.put("assets", "logo.png", "png").await;
    let url = format!("{}/assets/logo.png", env.emu.endpoint());
    assert_eq!(raw("GET", &url, &[], Vec::new()).await.status, 403);
    let access = |a| {
        env.api
            .set_object_access()
            .bucket("assets")
            .key("logo.png")
            .access(a)
            .send()
    };
    access(Access::Public).await.unwrap();
    let read = || {
        env.api
            .get_object_access()
            .bucket("assets")
            .key("logo.png")
            .send()
    };
    assert_eq!(read().await.unwrap(), Access::Public);
    let answer = raw("GET", &url, &[], Vec::new()).await;
    assert_eq!((answer.status, answer.body), (200, b"png".to_vec()));
    access(Access::Private).await.unwrap();
    assert_eq!(read().await.unwrap(), Access::Private);
    assert_eq!(raw("GET", &url, &[], Vec::new()).await.status, 403);
}

#[tokio::test]
async fn a_public_bucket_serves_reads_without_credentials_but_never_writes() {
    let env = TestEnv::start().await;
    public_site(&env, "index.html", "<html>").await;
    assert_eq!(
        env.api
            .get_bucket_access()
            .bucket("site")
            .send()
            .await
            .unwrap(),
        Access::Public
    );
    let url = format!("{}/site/index.html", env.emu.endpoint());
    assert_eq!(raw("GET", &url, &[], Vec::new()).await.status, 200);
    assert_eq!(raw("HEAD", &url, &[], Vec::new()).await.status, 200);
    let put = raw("PUT", &url, &[], b"defaced".to_vec()).await;
    assert_eq!(put.status, 403);
    assert_eq!(env.get("site", "index.html").await, "<html>");
}

#[tokio::test]
async fn a_private_object_in_a_public_bucket_is_not_served_without_credentials() {
    let env = TestEnv::start().await;
    public_site(&env, "secret", "s").await;
    env.api
        .set_object_access()
        .bucket("site")
        .key("secret")
        .access(Access::Private)
        .send()
        .await
        .unwrap();
    let url = format!("{}/site/secret", env.emu.endpoint());
    assert_eq!(raw("GET", &url, &[], Vec::new()).await.status, 403);
}

#[tokio::test]
async fn object_access_of_a_missing_object_is_not_found() {
    let env = TestEnv::start().await;
    env.create_bucket("assets").await;
    let err = env
        .api
        .get_object_access()
        .bucket("assets")
        .key("missing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn a_presigned_multipart_upload_completes_from_part_urls_used_without_credentials() {
    let env = TestEnv::start().await;
    let upload = presigned_upload(&env, "big file.bin", 2).await;
    assert_eq!(upload.parts().len(), 2);
    let first = vec![b'a'; 5 * 1024 * 1024];
    let second = b"tail".to_vec();
    let mut etags = Vec::new();
    for (part, body) in upload.parts().iter().zip([first.clone(), second.clone()]) {
        let answer = raw("PUT", part.url(), &[], body).await;
        assert_eq!(
            answer.status,
            200,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        etags.push(answer.header("etag").unwrap().to_owned());
    }
    let done = env
        .api
        .complete_multipart_upload()
        .bucket("media")
        .key("big file.bin")
        .upload_id(upload.upload_id())
        .parts([(2, etags[1].clone()), (1, etags[0].clone())])
        .send()
        .await
        .unwrap();
    assert!(done.etag().unwrap().ends_with("-2\""), "{done:?}");
    let out = env
        .s3
        .get_object()
        .bucket("media")
        .key("big file.bin")
        .send()
        .await
        .unwrap();
    let body = out.body.collect().await.unwrap().into_bytes();
    assert_eq!(body.len(), first.len() + second.len());
    assert!(body.ends_with(b"tail"));
}

#[tokio::test]
async fn part_urls_of_an_aborted_upload_are_refused() {
    let env = TestEnv::start().await;
    let upload = presigned_upload(&env, "k", 1).await;
    env.api
        .abort_multipart_upload()
        .bucket("media")
        .key("k")
        .upload_id(upload.upload_id())
        .send()
        .await
        .unwrap();
    let answer = raw("PUT", upload.parts()[0].url(), &[], b"x".to_vec()).await;
    assert_eq!(answer.status, 404);
}

#[tokio::test]
async fn a_part_url_presigned_later_uploads_that_part() {
    let env = TestEnv::start().await;
    let upload = presigned_upload(&env, "k", 1).await;
    let more = env
        .api
        .presign_upload_parts()
        .bucket("media")
        .key("k")
        .upload_id(upload.upload_id())
        .part_numbers([2])
        .send()
        .await
        .unwrap();
    assert_eq!(more[0].part_number(), 2);
    let answer = raw("PUT", more[0].url(), &[], b"second".to_vec()).await;
    assert_eq!(answer.status, 200);
    let parts = env
        .s3
        .list_parts()
        .bucket("media")
        .key("k")
        .upload_id(upload.upload_id())
        .send()
        .await
        .unwrap();
    assert_eq!(parts.parts()[0].part_number(), Some(2));
}

#[tokio::test]
async fn presigned_multipart_bad_input_sends_nothing() {
    let env = TestEnv::start().await;
    let before = env.requests();
    let create = || {
        env.api
            .create_presigned_multipart_upload()
            .bucket("media")
            .key("k")
    };
    for err in [
        create().send().await.unwrap_err(),
        create().parts(10_001).send().await.unwrap_err(),
        create()
            .parts(1)
            .expires_in(8 * DAY)
            .send()
            .await
            .unwrap_err(),
        create().parts(1).key("").send().await.unwrap_err(),
        env.api
            .complete_multipart_upload()
            .bucket("media")
            .key("k")
            .upload_id("u")
            .parts([(1, "\"a\""), (1, "\"b\"")])
            .send()
            .await
            .unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
    assert_eq!(env.requests(), before);
}

#[tokio::test]
async fn a_part_upload_through_the_sdk_lists_the_upload_until_completed() {
    // The upload a presigned create starts is an ordinary S3 upload: listed until completed.
    let env = TestEnv::start().await;
    let upload = presigned_upload(&env, "k", 1).await;
    let listed = env
        .s3
        .list_multipart_uploads()
        .bucket("media")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.uploads()[0].upload_id(), Some(upload.upload_id()));
    let part = env
        .s3
        .upload_part()
        .bucket("media")
        .key("k")
        .upload_id(upload.upload_id())
        .part_number(1)
        .body(ByteStream::from_static(b"only"))
        .send()
        .await
        .unwrap();
    env.api
        .complete_multipart_upload()
        .bucket("media")
        .key("k")
        .upload_id(upload.upload_id())
        .part(1, part.e_tag().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(env.get("media", "k").await, "only");
}
