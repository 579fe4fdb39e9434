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
