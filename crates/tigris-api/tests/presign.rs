//! Presigned URLs from Tigris's presign endpoint on the signed transport, against the emulator:
//! the URLs work without credentials, snapshot pins read the past, bad input never leaves.

mod common;

use std::time::Duration;

use common::TestEnv;
use tigris_api::ErrorKind;
use tigris_api::presign::{MAX_EXPIRES_IN, PresignMethod};

fn transport(env: &TestEnv) -> tigris_api::Client {
    env.api.clone()
}

/// Sends `method url` with `body` and no credentials, as `curl` would; status and body.
async fn fetch(method: &'static str, url: &str, body: &'static str) -> (u16, String) {
    let answer = common::raw(method, url, &[], body.as_bytes().to_vec()).await;
    (
        answer.status,
        String::from_utf8(answer.body).expect("a UTF-8 body"),
    )
}

#[tokio::test]
async fn presigned_get_url_downloads_the_object_without_credentials() {
    let env = TestEnv::start().await;
    env.create_bucket("assets").await;
    env.put("assets", "dir/report 1.txt", "quarterly").await;
    let link = transport(&env)
        .presign_url()
        .bucket("assets")
        .key("dir/report 1.txt")
        .expires_in(Duration::from_secs(600))
        .send()
        .await
        .unwrap();
    assert_eq!(link.method(), PresignMethod::Get);
    assert_eq!(link.expires_in(), Duration::from_secs(600));
    assert_eq!(link.custom_domain_url(), None);
    assert!(link.key_secret().is_none());
    assert_eq!(
        fetch("GET", link.url(), "").await,
        (200, "quarterly".into())
    );
}

#[tokio::test]
async fn presigned_put_url_uploads_the_object() {
    let env = TestEnv::start().await;
    env.create_bucket("assets").await;
    let link = transport(&env)
        .presign_url()
        .bucket("assets")
        .key("incoming/photo.jpg")
        .put()
        .send()
        .await
        .unwrap();
    assert_eq!(fetch("PUT", link.url(), "jpeg bytes").await.0, 200);
    assert_eq!(env.get("assets", "incoming/photo.jpg").await, "jpeg bytes");
}

#[tokio::test]
async fn ninety_day_urls_are_accepted() {
    let env = TestEnv::start().await;
    env.create_bucket("assets").await;
    env.put("assets", "k", "v").await;
    let link = transport(&env)
        .presign_url()
        .bucket("assets")
        .key("k")
        .expires_in(MAX_EXPIRES_IN)
        .send()
        .await
        .unwrap();
    assert_eq!(fetch("GET", link.url(), "").await, (200, "v".into()));
}

#[tokio::test]
async fn snapshot_pinned_get_reads_the_object_as_it_was() {
    let env = TestEnv::start().await;
    env.create_snapshot_bucket("assets").await;
    env.put("assets", "config.json", "v1").await;
    let version = env.snapshot("assets").await;
    env.put("assets", "config.json", "v2").await;
    let tigris = transport(&env);
    let old = tigris
        .presign_url()
        .bucket("assets")
        .key("config.json")
        .at_snapshot(version.as_str())
        .send()
        .await
        .unwrap();
    assert!(old.version_id().is_some());
    assert_eq!(fetch("GET", old.url(), "").await, (200, "v1".into()));
    let live = tigris
        .presign_url()
        .bucket("assets")
        .key("config.json")
        .send()
        .await
        .unwrap();
    assert_eq!(live.version_id(), None);
    assert_eq!(fetch("GET", live.url(), "").await, (200, "v2".into()));
}

#[tokio::test]
async fn snapshot_pin_of_a_key_deleted_before_the_snapshot_is_not_found() {
    let env = TestEnv::start().await;
    env.create_snapshot_bucket("assets").await;
    env.put("assets", "gone.txt", "v1").await;
    env.s3
        .delete_object()
        .bucket("assets")
        .key("gone.txt")
        .send()
        .await
        .unwrap();
    let version = env.snapshot("assets").await;
    env.put("assets", "gone.txt", "back again").await;
    let err = transport(&env)
        .presign_url()
        .bucket("assets")
        .key("gone.txt")
        .at_snapshot(version.as_str())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}

#[tokio::test]
async fn missing_bucket_is_not_found() {
    let env = TestEnv::start().await;
    let err = transport(&env)
        .presign_url()
        .bucket("nowhere")
        .key("k")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}

#[tokio::test]
async fn invalid_inputs_fail_before_any_request() {
    let env = TestEnv::start().await;
    let tigris = transport(&env);
    let before = env.requests();
    let cases = [
        tigris
            .presign_url()
            .bucket("assets")
            .key("k")
            .expires_in(Duration::from_millis(500)),
        tigris
            .presign_url()
            .bucket("assets")
            .key("k")
            .expires_in(MAX_EXPIRES_IN + Duration::from_secs(1)),
        tigris.presign_url().bucket("Not A Bucket").key("k"),
        tigris.presign_url().bucket("assets").key(""),
        tigris.presign_url().bucket("assets").key("k".repeat(1025)),
        tigris
            .presign_url()
            .bucket("assets")
            .key("k")
            .put()
            .at_snapshot("1792757954482613190"),
        tigris
            .presign_url()
            .bucket("assets")
            .key("k")
            .at_snapshot("yesterday"),
    ];
    for case in cases {
        let err = case.send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().starts_with("presigning a "), "{err}");
    }
    assert_eq!(env.requests(), before);
}
