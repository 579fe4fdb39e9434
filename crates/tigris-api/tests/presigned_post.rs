//! Presigned POST forms, submitted by Node's own `fetch` + `FormData` (a multipart encoder no
//! one here wrote) to the emulator, which checks the signature and every policy condition.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use tigris_api::presigned_post::PresignedPost;

mod common;
use common::TestEnv;

/// Posts `post` with a file of `file` bytes typed `content_type`, after `edit` changes the
/// fields; answers (status, body). Node runs on a blocking thread so the in-process emulator
/// keeps serving meanwhile.
async fn submit(
    post: &PresignedPost,
    file: &str,
    content_type: &str,
    edit: impl FnOnce(&mut Vec<(String, String)>),
) -> (u16, String) {
    let mut fields = post.fields().to_vec();
    edit(&mut fields);
    let input = json!({
        "url": post.url(),
        "fields": fields,
        "file": file,
        "filename": "upload.txt",
        "type": content_type,
    });
    tokio::task::spawn_blocking(move || run_node(&input))
        .await
        .unwrap()
}

fn run_node(input: &Value) -> (u16, String) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/post_form.mjs");
    let mut node = Command::new("node")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node (Node.js 18+) runs the form upload");
    node.stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = node.wait_with_output().unwrap();
    assert!(out.status.success(), "node failed");
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        answer["status"].as_u64().unwrap() as u16,
        answer["body"].as_str().unwrap_or_default().to_owned(),
    )
}

async fn env_with_bucket() -> TestEnv {
    let env = TestEnv::start().await;
    env.s3
        .create_bucket()
        .bucket("uploads")
        .send()
        .await
        .unwrap();
    env
}

async fn form(env: &TestEnv) -> PresignedPost {
    env.api
        .presigned_post()
        .bucket("uploads")
        .key("avatars/a 1.txt")
        .content_length_range(1, 64)
        .content_type("text/plain")
        .metadata("owner", "user-42")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_browser_form_within_the_policy_uploads_the_object() {
    let env = env_with_bucket().await;
    let post = form(&env).await;
    assert!(post.url().ends_with("/uploads"), "{}", post.url());
    let (status, body) = submit(&post, "hello form", "text/plain", |_| {}).await;
    assert!((200..300).contains(&status), "{status} {body}");
    let got = env
        .s3
        .get_object()
        .bucket("uploads")
        .key("avatars/a 1.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("text/plain"));
    assert_eq!(
        got.metadata()
            .and_then(|m| m.get("owner"))
            .map(String::as_str),
        Some("user-42")
    );
    let data = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(&data[..], b"hello form");
}

#[tokio::test]
async fn forms_outside_the_policy_are_refused_and_store_nothing() {
    let env = env_with_bucket().await;
    let post = form(&env).await;
    let set = |name: &'static str, value: &'static str| {
        move |fields: &mut Vec<(String, String)>| {
            for (n, v) in fields.iter_mut() {
                if n == name {
                    *v = value.to_owned();
                }
            }
        }
    };
    let too_big = "x".repeat(65);
    let cases: Vec<(&str, (u16, String))> = vec![
        (
            "file over the size range",
            submit(&post, &too_big, "text/plain", |_| {}).await,
        ),
        (
            "another key",
            submit(&post, "hi", "text/plain", set("key", "elsewhere.txt")).await,
        ),
        (
            "another content type",
            submit(&post, "hi", "text/plain", set("Content-Type", "text/html")).await,
        ),
        (
            "other metadata",
            submit(
                &post,
                "hi",
                "text/plain",
                set("x-amz-meta-owner", "mallory"),
            )
            .await,
        ),
        (
            "a tampered signature",
            submit(&post, "hi", "text/plain", set("x-amz-signature", "00")).await,
        ),
    ];
    for (what, (status, body)) in cases {
        let code = if what == "a tampered signature" {
            "SignatureDoesNotMatch"
        } else if what == "file over the size range" {
            "EntityTooLarge"
        } else {
            // S3 refuses a field outside the policy's conditions with 403 AccessDenied.
            "AccessDenied"
        };
        assert!((400..500).contains(&status), "{what}: {status} {body}");
        assert!(
            body.contains(&format!("<Code>{code}</Code>")),
            "{what}: {body}"
        );
    }
    let listed = env
        .s3
        .list_objects_v2()
        .bucket("uploads")
        .send()
        .await
        .unwrap();
    assert!(listed.contents().is_empty(), "{:?}", listed.contents());
}

#[tokio::test]
async fn an_expired_form_is_refused() {
    let env = env_with_bucket().await;
    let post = env
        .api
        .presigned_post()
        .bucket("uploads")
        .key("late.txt")
        // Signed ten minutes ago (within the clock-skew allowance), valid for five.
        .start_time(SystemTime::now() - Duration::from_secs(600))
        .expires_in(Duration::from_secs(300))
        .send()
        .await
        .unwrap();
    let (status, body) = submit(&post, "late", "text/plain", |_| {}).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
}
