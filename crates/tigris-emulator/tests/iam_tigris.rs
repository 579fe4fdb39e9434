//! Tigris's own IAM actions, sent as `@tigrisdata/iam` sends them (form body, JSON answers,
//! SigV4 for service `s3`): keys with bucket roles, the detailed listing, rotation,
//! `ListUserPolicies`, JSON policy answers and the mgmt `GET /users/whoami`.

use http_body_util::BodyExt;
use serde_json::{Value, json};
use tigris_emulator::Emulator;

mod common;
use common::{client, client_with, signed_request};

/// A request signed as `@tigrisdata/iam` signs it, with `key`/`secret` (the root key when
/// `None`); answers (status, body as JSON, or `Value::Null` when it is not JSON).
async fn call(
    emu: &Emulator,
    as_key: Option<(&str, &str)>,
    method: &str,
    path_and_query: &str,
    body: &str,
) -> (u16, Value) {
    let root = emu.root_credentials();
    let key = as_key.unwrap_or((root.access_key_id(), root.secret_access_key()));
    let content_type = if method == "GET" {
        "application/json"
    } else {
        "application/x-www-form-urlencoded"
    };
    let resp = signed_request(
        emu,
        key,
        method,
        path_and_query,
        &[
            ("accept", "application/json"),
            ("content-type", content_type),
        ],
        body.as_bytes(),
    )
    .await;
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencoding::encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `CreateAccessKeyWithBucketsRole` with `roles` (`[{bucket, role}]`); (id, secret).
async fn create_key(emu: &Emulator, name: &str, roles: Value) -> (String, String) {
    let req = json!({"req_uuid": "u", "name": name, "buckets_role": roles}).to_string();
    let (status, body) = call(
        emu,
        None,
        "POST",
        "/?Action=CreateAccessKeyWithBucketsRole",
        &form(&[("Req", &req)]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let key = &body["CreateAccessKeyResult"]["AccessKey"];
    assert_eq!(key["UserName"], name, "{body}");
    (
        key["AccessKeyId"].as_str().unwrap().to_owned(),
        key["SecretAccessKey"].as_str().unwrap().to_owned(),
    )
}

async fn detailed(emu: &Emulator, extra: &[(&str, &str)]) -> Value {
    let mut pairs = vec![("Action", "ListAccessKeys")];
    pairs.extend_from_slice(extra);
    let (status, body) = call(emu, None, "POST", "/?Detailed", &form(&pairs)).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn buckets(emu: &Emulator, names: &[&str]) {
    let s3 = client(emu);
    for name in names {
        s3.create_bucket().bucket(*name).send().await.unwrap();
    }
}

async fn can_put(s3: &aws_sdk_s3::Client, bucket: &str) -> bool {
    s3.put_object()
        .bucket(bucket)
        .key("k")
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"v"))
        .send()
        .await
        .is_ok()
}

async fn can_list(s3: &aws_sdk_s3::Client, bucket: &str) -> bool {
    s3.list_objects_v2().bucket(bucket).send().await.is_ok()
}

#[tokio::test]
async fn a_key_with_bucket_roles_writes_its_editor_bucket_only_reads_its_read_only_one_and_nothing_else()
 {
    let emu = Emulator::start().await.unwrap();
    buckets(&emu, &["edit-me", "read-me", "not-mine"]).await;
    let (id, secret) = create_key(
        &emu,
        "agent",
        json!([{"bucket": "edit-me", "role": "Editor"}, {"bucket": "read-me", "role": "ReadOnly"}]),
    )
    .await;
    let s3 = client_with(&emu, &id, &secret);
    assert!(can_put(&s3, "edit-me").await);
    assert!(can_list(&s3, "read-me").await);
    assert!(!can_put(&s3, "read-me").await);
    assert!(!can_list(&s3, "not-mine").await);
}

#[tokio::test]
async fn the_detailed_listing_shows_each_keys_name_and_roles_and_filters_by_key_id() {
    let emu = Emulator::start().await.unwrap();
    let (a, _) = create_key(&emu, "first", json!([{"bucket": "b-1", "role": "Editor"}])).await;
    let (b, _) = create_key(&emu, "second", json!([])).await;
    let all = detailed(&emu, &[]).await;
    assert_eq!(all["IsTruncated"], false);
    let keys = all["Keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{all}");
    let one = detailed(&emu, &[("KeyId", &a)]).await;
    assert_eq!(one["Keys"].as_array().unwrap().len(), 1, "{one}");
    let key = &one["Keys"][0];
    assert_eq!(key["access_key_id"], a.as_str());
    assert_eq!(key["username"], "first");
    assert_eq!(key["status"], "active");
    assert_eq!(
        key["buckets_role"],
        json!([{"bucket": "b-1", "role": "Editor"}])
    );
    assert!(key["created_at"].as_str().unwrap().ends_with('Z'));
    assert_ne!(a, b);
}

#[tokio::test]
async fn the_detailed_listing_pages_with_max_items_and_marker() {
    let emu = Emulator::start().await.unwrap();
    for name in ["a", "b", "c"] {
        create_key(&emu, name, json!([])).await;
    }
    let first = detailed(&emu, &[("MaxItems", "2")]).await;
    assert_eq!(first["IsTruncated"], true, "{first}");
    assert_eq!(first["Keys"].as_array().unwrap().len(), 2);
    let marker = first["Marker"].as_str().unwrap().to_owned();
    let second = detailed(&emu, &[("MaxItems", "2"), ("Marker", &marker)]).await;
    assert_eq!(second["IsTruncated"], false, "{second}");
    assert_eq!(second["Marker"], "");
    assert_eq!(second["Keys"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn updating_bucket_roles_replaces_the_whole_set_and_applies_at_once() {
    let emu = Emulator::start().await.unwrap();
    buckets(&emu, &["old-one", "new-one"]).await;
    let (id, secret) =
        create_key(&emu, "k", json!([{"bucket": "old-one", "role": "Editor"}])).await;
    let req = json!({"id": id, "buckets_role": [{"bucket": "new-one", "role": "Editor"}]});
    let (status, body) = call(
        &emu,
        None,
        "POST",
        "/?Action=UpdateAccessKeyWithBucketsRole",
        &form(&[("Req", &req.to_string())]),
    )
    .await;
    assert_eq!(
        (status, &body["status"]),
        (200, &json!("success")),
        "{body}"
    );
    let s3 = client_with(&emu, &id, &secret);
    assert!(can_put(&s3, "new-one").await);
    assert!(!can_put(&s3, "old-one").await, "the old role is gone");
    let roles = &detailed(&emu, &[("KeyId", &id)]).await["Keys"][0]["buckets_role"];
    assert_eq!(roles, &json!([{"bucket": "new-one", "role": "Editor"}]));
}

#[tokio::test]
async fn namespace_admin_may_do_anything_including_iam() {
    let emu = Emulator::start().await.unwrap();
    buckets(&emu, &["any-bucket"]).await;
    let (id, secret) = create_key(
        &emu,
        "admin",
        json!([{"bucket": "*", "role": "NamespaceAdmin"}]),
    )
    .await;
    assert!(can_put(&client_with(&emu, &id, &secret), "any-bucket").await);
    let (status, body) = call(
        &emu,
        Some((&id, &secret)),
        "POST",
        "/?Detailed",
        "Action=ListAccessKeys",
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn rotating_a_key_retires_its_old_secret() {
    let emu = Emulator::start().await.unwrap();
    buckets(&emu, &["rot"]).await;
    let (id, old) = create_key(&emu, "k", json!([{"bucket": "rot", "role": "Editor"}])).await;
    let (status, body) = call(
        &emu,
        None,
        "POST",
        "/?Action=RotateAccessKey",
        &form(&[("Action", "RotateAccessKey"), ("AccessKeyId", &id)]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let result = &body["rotate_access_key_result"];
    assert_eq!(result["id"], id.as_str());
    let new = result["new_secret"].as_str().unwrap();
    assert_ne!(new, old);
    assert!(!can_put(&client_with(&emu, &id, &old), "rot").await);
    assert!(can_put(&client_with(&emu, &id, new), "rot").await);
}

#[tokio::test]
async fn list_user_policies_names_the_policies_attached_to_a_key() {
    let emu = Emulator::start().await.unwrap();
    let (id, _) = create_key(&emu, "k", json!([])).await;
    let document = common::policy(&["s3:GetObject"], "b-1", None);
    let (status, created) = call(
        &emu,
        None,
        "POST",
        "/?Action=CreatePolicy",
        &form(&[("PolicyName", "reader"), ("PolicyDocument", &document)]),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let arn = created["CreatePolicyResult"]["Policy"]["Arn"]
        .as_str()
        .unwrap()
        .to_owned();
    let attach = form(&[("PolicyArn", &arn), ("UserName", &id)]);
    let (status, _) = call(&emu, None, "POST", "/?Action=AttachUserPolicy", &attach).await;
    assert_eq!(status, 200);
    let (status, listed) = call(
        &emu,
        None,
        "POST",
        "/?Action=ListUserPolicies",
        &form(&[("UserName", &id), ("MaxItems", "1000")]),
    )
    .await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(
        listed["ListUserPoliciesResult"]["PolicyNames"],
        json!(["reader"])
    );
}

#[tokio::test]
async fn invalid_bucket_roles_are_refused_and_create_nothing() {
    let emu = Emulator::start().await.unwrap();
    for roles in [
        json!([{"bucket": "b-1", "role": "Owner"}]),
        json!([{"bucket": "*", "role": "Editor"}]),
        json!([{"bucket": "b-1", "role": "Editor"}, {"bucket": "b-1", "role": "ReadOnly"}]),
        json!("Editor"),
    ] {
        let req = json!({"name": "k", "buckets_role": roles}).to_string();
        let (status, body) = call(
            &emu,
            None,
            "POST",
            "/?Action=CreateAccessKeyWithBucketsRole",
            &form(&[("Req", &req)]),
        )
        .await;
        assert_eq!(
            (status, &body["Code"]),
            (400, &json!("ValidationError")),
            "{roles}: {body}"
        );
    }
    assert_eq!(detailed(&emu, &[]).await["Keys"], json!([]));
}

#[tokio::test]
async fn a_key_without_the_iam_action_may_not_make_keys_with_roles() {
    let emu = Emulator::start().await.unwrap();
    let (id, secret) = create_key(&emu, "weak", json!([{"bucket": "b-1", "role": "Editor"}])).await;
    let req =
        json!({"name": "escalated", "buckets_role": [{"bucket": "*", "role": "NamespaceAdmin"}]});
    let (status, body) = call(
        &emu,
        Some((&id, &secret)),
        "POST",
        "/?Action=CreateAccessKeyWithBucketsRole",
        &form(&[("Req", &req.to_string())]),
    )
    .await;
    assert_eq!(
        (status, &body["Code"]),
        (403, &json!("AccessDenied")),
        "{body}"
    );
    assert_eq!(
        detailed(&emu, &[]).await["Keys"].as_array().unwrap().len(),
        1
    );
}

#[tokio::test]
async fn whoami_names_the_signing_key_and_the_namespace() {
    let emu = Emulator::start().await.unwrap();
    let (status, body) = call(&emu, None, "GET", "/users/whoami", "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["UserId"], emu.root_credentials().access_key_id());
    assert!(body["NamespaceId"].is_string(), "{body}");
    let (status, _) = call(
        &emu,
        Some(("tid_nobody", "wrong")),
        "GET",
        "/users/whoami",
        "",
    )
    .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn names_roles_and_rotated_secrets_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::builder()
        .data_dir(dir.path())
        .start()
        .await
        .unwrap();
    buckets(&emu, &["kept"]).await;
    let (id, _) = create_key(
        &emu,
        "kept-key",
        json!([{"bucket": "kept", "role": "Editor"}]),
    )
    .await;
    let (_, rotated) = call(
        &emu,
        None,
        "POST",
        "/?Action=RotateAccessKey",
        &form(&[("AccessKeyId", &id)]),
    )
    .await;
    let secret = rotated["rotate_access_key_result"]["new_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    emu.shutdown().await;
    let emu = Emulator::builder()
        .data_dir(dir.path())
        .start()
        .await
        .unwrap();
    let key = &detailed(&emu, &[("KeyId", &id)]).await["Keys"][0];
    assert_eq!(key["username"], "kept-key");
    assert_eq!(
        key["buckets_role"],
        json!([{"bucket": "kept", "role": "Editor"}])
    );
    assert!(can_put(&client_with(&emu, &id, &secret), "kept").await);
}
