//! The emulator's IAM Query API, driven by an unmodified `aws-sdk-iam` client, and the
//! enforcement of attached policies on S3 requests.

use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use tigris_emulator::Emulator;

mod common;
use common::{client_with, iam, iam_with, policy, scoped_key, setup_buckets};

#[tokio::test]
async fn a_read_only_key_reads_its_bucket_and_nothing_else() {
    let emu = Emulator::start().await.unwrap();
    setup_buckets(&emu).await;
    let doc = policy(
        &["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"],
        "mine",
        None,
    );
    let (id, secret, _) = scoped_key(&emu, "ro", &doc).await;
    let s3 = client_with(&emu, &id, &secret);
    s3.get_object()
        .bucket("mine")
        .key("seed.txt")
        .send()
        .await
        .unwrap();
    s3.list_objects_v2().bucket("mine").send().await.unwrap();
    s3.head_object()
        .bucket("mine")
        .key("seed.txt")
        .send()
        .await
        .unwrap();
    let denied = [
        s3.put_object()
            .bucket("mine")
            .key("x")
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .map(|_| ())
            .unwrap_err()
            .code()
            .map(str::to_owned),
        s3.delete_object()
            .bucket("mine")
            .key("seed.txt")
            .send()
            .await
            .map(|_| ())
            .unwrap_err()
            .code()
            .map(str::to_owned),
        s3.get_object()
            .bucket("theirs")
            .key("seed.txt")
            .send()
            .await
            .map(|_| ())
            .unwrap_err()
            .code()
            .map(str::to_owned),
        s3.list_buckets()
            .send()
            .await
            .map(|_| ())
            .unwrap_err()
            .code()
            .map(str::to_owned),
    ];
    for code in denied {
        assert_eq!(code.as_deref(), Some("AccessDenied"));
    }
}

#[tokio::test]
async fn an_editor_key_writes_only_its_bucket_and_copies_need_read_on_the_source() {
    let emu = Emulator::start().await.unwrap();
    setup_buckets(&emu).await;
    let (id, secret, _) = scoped_key(&emu, "editor", &policy(&["s3:*"], "mine", None)).await;
    let s3 = client_with(&emu, &id, &secret);
    s3.put_object()
        .bucket("mine")
        .key("new")
        .body(ByteStream::from_static(b"n"))
        .send()
        .await
        .unwrap();
    s3.delete_object()
        .bucket("mine")
        .key("new")
        .send()
        .await
        .unwrap();
    let err = s3
        .put_object()
        .bucket("theirs")
        .key("x")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDenied"));
    let err = s3
        .copy_object()
        .bucket("mine")
        .key("stolen")
        .copy_source("theirs/seed.txt")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDenied"));
    s3.copy_object()
        .bucket("mine")
        .key("copy")
        .copy_source("mine/seed.txt")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn an_expired_key_is_denied() {
    let emu = Emulator::start().await.unwrap();
    setup_buckets(&emu).await;
    let expired = r#"{"DateLessThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}"#;
    let (id, secret, _) = scoped_key(&emu, "old", &policy(&["s3:*"], "mine", Some(expired))).await;
    let err = client_with(&emu, &id, &secret)
        .get_object()
        .bucket("mine")
        .key("seed.txt")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDenied"));
    let fresh = r#"{"DateLessThan":{"aws:CurrentTime":"2999-01-01T00:00:00Z"}}"#;
    let (id, secret, _) = scoped_key(&emu, "new", &policy(&["s3:*"], "mine", Some(fresh))).await;
    client_with(&emu, &id, &secret)
        .get_object()
        .bucket("mine")
        .key("seed.txt")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_key_without_policies_may_do_nothing_and_a_deleted_key_is_unknown() {
    let emu = Emulator::start().await.unwrap();
    setup_buckets(&emu).await;
    let iam = iam(&emu);
    let key = iam.create_access_key().send().await.unwrap();
    let key = key.access_key().unwrap();
    let s3 = client_with(&emu, key.access_key_id(), key.secret_access_key());
    let err = s3
        .list_objects_v2()
        .bucket("mine")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDenied"));
    iam.delete_access_key()
        .access_key_id(key.access_key_id())
        .send()
        .await
        .unwrap();
    let err = s3
        .list_objects_v2()
        .bucket("mine")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidAccessKeyId"));
}

#[tokio::test]
async fn iam_entities_list_and_conflict_like_aws() {
    let emu = Emulator::start().await.unwrap();
    let (id, _, arn) = scoped_key(&emu, "p1", &policy(&["s3:GetObject"], "mine", None)).await;
    let iam = iam(&emu);
    let keys = iam.list_access_keys().send().await.unwrap();
    assert_eq!(keys.access_key_metadata().len(), 1);
    let attached = iam
        .list_attached_user_policies()
        .user_name(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        attached.attached_policies()[0].policy_arn(),
        Some(arn.as_str())
    );
    let got = iam.get_policy().policy_arn(&arn).send().await.unwrap();
    assert_eq!(got.policy().unwrap().attachment_count(), Some(1));
    let err = iam
        .delete_policy()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("DeleteConflict"));
    let err = iam
        .create_policy()
        .policy_name("p1")
        .policy_document(policy(&["s3:*"], "x", None))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("EntityAlreadyExists"));
    let err = iam
        .create_policy()
        .policy_name("bad")
        .policy_document("{")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("MalformedPolicyDocument"));
    iam.detach_user_policy()
        .user_name(&id)
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    let err = iam
        .detach_user_policy()
        .user_name(&id)
        .policy_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("NoSuchEntity"));
    iam.delete_policy().policy_arn(&arn).send().await.unwrap();
    assert!(
        iam.list_policies()
            .send()
            .await
            .unwrap()
            .policies()
            .is_empty()
    );
    let err = iam
        .delete_access_key()
        .access_key_id("tid_NOPE")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("NoSuchEntity"));
}

#[tokio::test]
async fn iam_requests_are_signature_checked() {
    let emu = Emulator::start().await.unwrap();
    let root = emu.root_credentials().access_key_id().to_owned();
    let err = iam_with(&emu, &root, "wrong")
        .list_policies()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("SignatureDoesNotMatch"));
    let err = iam_with(&emu, "tid_UNKNOWN", "x")
        .list_policies()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidClientTokenId"));
    assert_eq!(emu.faults().total(), 0, "no action ran");
}

#[tokio::test]
async fn iam_actions_take_injected_faults() {
    let emu = Emulator::start().await.unwrap();
    let iam = iam(&emu);
    let create = || {
        iam.create_policy()
            .policy_name("p")
            .policy_document(policy(&["s3:*"], "b", None))
            .send()
    };
    emu.faults()
        .fail_next("CreatePolicy", 1, 409, "ConcurrentModification");
    let err = create().await.unwrap_err();
    assert_eq!(err.code(), Some("ConcurrentModification"));
    // A 5xx is retried by the SDK: one injected failure is absorbed by its retry.
    emu.faults()
        .fail_next("CreatePolicy", 1, 500, "ServiceFailure");
    create().await.unwrap();
    assert_eq!(emu.faults().count("CreatePolicy"), 3);
}

#[tokio::test]
async fn an_iam_action_can_fail_after_it_ran() {
    use tigris_emulator::Fault;
    let emu = Emulator::start().await.unwrap();
    let iam = iam(&emu);
    emu.faults().inject(
        Fault::on("CreateAccessKey")
            .after_apply()
            .status(409)
            .code("EntityTemporarilyUnmodifiable"),
    );
    let err = iam.create_access_key().send().await.unwrap_err();
    assert_eq!(err.code(), Some("EntityTemporarilyUnmodifiable"));
    assert_eq!(
        iam.list_access_keys()
            .send()
            .await
            .unwrap()
            .access_key_metadata()
            .len(),
        1,
        "the key was made"
    );
}

fn iam_code<E: ProvideErrorMetadata>(e: E) -> Option<String> {
    e.code().map(str::to_owned)
}

#[tokio::test]
async fn scoped_key_cannot_attach_policy_to_itself() {
    let emu = Emulator::start().await.unwrap();
    setup_buckets(&emu).await;
    let doc = policy(&["s3:GetObject"], "mine", None);
    let (id, secret, _) = scoped_key(&emu, "ro", &doc).await;
    let own = iam_with(&emu, &id, &secret);
    let all = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
    let err = own
        .create_policy()
        .policy_name("escalate")
        .policy_document(all)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        iam_code(err.into_service_error()).as_deref(),
        Some("AccessDenied")
    );
    // Even with a policy made by root, the key cannot attach it to itself.
    let made = iam(&emu)
        .create_policy()
        .policy_name("all")
        .policy_document(all)
        .send()
        .await
        .unwrap();
    let arn = made.policy().unwrap().arn().unwrap();
    let err = own
        .attach_user_policy()
        .user_name(&id)
        .policy_arn(arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        iam_code(err.into_service_error()).as_deref(),
        Some("AccessDenied")
    );
    let s3 = client_with(&emu, &id, &secret);
    assert!(
        s3.put_object()
            .bucket("mine")
            .key("x")
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn scoped_key_cannot_delete_or_detach_other_keys() {
    let emu = Emulator::start().await.unwrap();
    setup_buckets(&emu).await;
    let doc = policy(&["s3:GetObject"], "mine", None);
    let (a, a_secret, _) = scoped_key(&emu, "a", &doc).await;
    let (b, b_secret, b_arn) = scoped_key(&emu, "b", &doc).await;
    let as_a = iam_with(&emu, &a, &a_secret);
    let err = as_a
        .detach_user_policy()
        .user_name(&b)
        .policy_arn(&b_arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        iam_code(err.into_service_error()).as_deref(),
        Some("AccessDenied")
    );
    let err = as_a
        .delete_access_key()
        .access_key_id(&b)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        iam_code(err.into_service_error()).as_deref(),
        Some("AccessDenied")
    );
    // b still works.
    client_with(&emu, &b, &b_secret)
        .get_object()
        .bucket("mine")
        .key("seed.txt")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn key_with_iam_allow_may_call_that_action_only() {
    let emu = Emulator::start().await.unwrap();
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListPolicies","Resource":"*"}]}"#;
    let (id, secret, _) = scoped_key(&emu, "lister", doc).await;
    let own = iam_with(&emu, &id, &secret);
    own.list_policies().send().await.unwrap();
    let err = own.create_access_key().send().await.unwrap_err();
    assert_eq!(
        iam_code(err.into_service_error()).as_deref(),
        Some("AccessDenied")
    );
}

/// Sends a raw, SigV4-signed IAM Query request; the body on the wire may differ from the
/// signed one.
async fn raw_iam(
    emu: &Emulator,
    signed_body: &str,
    sent_body: &str,
    unsigned_payload: bool,
) -> (u16, String) {
    use aws_sigv4::http_request::{
        PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign,
    };
    use http_body_util::{BodyExt, Full};
    let uri = format!("{}/", emu.endpoint());
    let root = emu.root_credentials();
    let creds = aws_credential_types::Credentials::new(
        root.access_key_id(),
        root.secret_access_key(),
        None,
        None,
        "test",
    );
    let identity = creds.into();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("auto")
        .name("iam")
        .time(std::time::SystemTime::now())
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let mut req = http::Request::post(&uri)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(())
        .unwrap();
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str(), v.to_str().unwrap()));
    let body = if unsigned_payload {
        SignableBody::UnsignedPayload
    } else {
        SignableBody::Bytes(signed_body.as_bytes())
    };
    let signable = SignableRequest::new("POST", &uri, headers, body).unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    instructions.apply_to_request_http1x(&mut req);
    let req = req.map(|_| Full::new(bytes::Bytes::from(sent_body.to_owned())));
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    let resp = client.request(req).await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&text).into_owned())
}

#[tokio::test]
async fn iam_body_swapped_after_signing_is_refused() {
    let emu = Emulator::start().await.unwrap();
    let good = "Action=ListPolicies&Version=2010-05-08";
    let (status, _) = raw_iam(&emu, good, good, false).await;
    assert_eq!(status, 200);
    let evil = "Action=CreateAccessKey&Version=2010-05-08";
    let (status, text) = raw_iam(&emu, good, evil, false).await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("SignatureDoesNotMatch"), "{text}");
}

#[tokio::test]
async fn iam_unsigned_payload_is_refused() {
    let emu = Emulator::start().await.unwrap();
    let body = "Action=CreateAccessKey&Version=2010-05-08";
    let (status, text) = raw_iam(&emu, body, body, true).await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("SignatureDoesNotMatch"), "{text}");
}
