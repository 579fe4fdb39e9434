//! IAM requests signed for service `s3`, as `@tigrisdata/iam` signs them, are verified as
//! strictly as those signed for `iam`.

use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode, sign,
};
use http_body_util::{BodyExt, Full};
use tigris_emulator::Emulator;

mod common;

/// `POST /` with a form `body`, signed the way `@tigrisdata/iam` signs (region `auto`,
/// `x-amz-content-sha256` over the body, `accept` and `content-type` signed) for `service`
/// with the root key id and `secret` (the root secret when `None`).
async fn tigris_iam_call(
    emu: &Emulator,
    service: &str,
    secret: Option<&str>,
    body: &str,
) -> (u16, String) {
    let (status, _, text) = tigris_iam_call_typed(emu, service, secret, body).await;
    (status, text)
}

/// [`tigris_iam_call`], answering (status, content-type, body).
async fn tigris_iam_call_typed(
    emu: &Emulator,
    service: &str,
    secret: Option<&str>,
    body: &str,
) -> (u16, String, String) {
    let uri = format!("{}/", emu.endpoint());
    let root = emu.root_credentials();
    let creds = aws_credential_types::Credentials::new(
        root.access_key_id(),
        secret.unwrap_or(root.secret_access_key()),
        None,
        None,
        "test",
    );
    let identity = creds.into();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("auto")
        .name(service)
        .time(std::time::SystemTime::now())
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let mut req = http::Request::post(&uri)
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(())
        .unwrap();
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str(), v.to_str().unwrap()));
    let signable =
        SignableRequest::new("POST", &uri, headers, SignableBody::Bytes(body.as_bytes())).unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    instructions.apply_to_request_http1x(&mut req);
    let req = req.map(|()| Full::new(bytes::Bytes::from(body.to_owned())));
    let resp = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http()
        .request(req)
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        content_type,
        String::from_utf8_lossy(&text).into_owned(),
    )
}

const CREATE_KEY: &str = "Action=CreateAccessKey&Version=2010-05-08";

#[tokio::test]
async fn an_iam_call_signed_for_service_s3_creates_an_access_key() {
    let emu = Emulator::start().await.unwrap();
    let (status, text) = tigris_iam_call(&emu, "s3", None, CREATE_KEY).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("<AccessKeyId>"), "{text}");
    let listed = common::iam(&emu).list_access_keys().send().await.unwrap();
    assert_eq!(
        listed.access_key_metadata().len(),
        1,
        "the new key is there"
    );
}

#[tokio::test]
async fn an_iam_call_signed_for_service_s3_with_the_wrong_secret_is_refused() {
    let emu = Emulator::start().await.unwrap();
    let (status, text) = tigris_iam_call(&emu, "s3", Some("not-the-secret"), CREATE_KEY).await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("SignatureDoesNotMatch"), "{text}");
    let listed = common::iam(&emu).list_access_keys().send().await.unwrap();
    assert!(listed.access_key_metadata().is_empty(), "no key was made");
}

#[tokio::test]
async fn an_iam_call_signed_for_another_service_is_refused() {
    let emu = Emulator::start().await.unwrap();
    for service in ["sts", "s3-object-lambda", "S3", ""] {
        let (status, text) = tigris_iam_call(&emu, service, None, CREATE_KEY).await;
        assert_eq!(status, 400, "{service:?}: {text}");
        assert!(text.contains("IncompleteSignature"), "{service:?}: {text}");
    }
    let listed = common::iam(&emu).list_access_keys().send().await.unwrap();
    assert!(listed.access_key_metadata().is_empty(), "no key was made");
}

#[tokio::test]
async fn a_refused_signature_is_answered_as_json_to_a_client_that_accepts_json() {
    let emu = Emulator::start().await.unwrap();
    let (status, content_type, text) =
        tigris_iam_call_typed(&emu, "s3", Some("not-the-secret"), CREATE_KEY).await;
    assert_eq!(status, 403, "{text}");
    assert_eq!(content_type, "application/json");
    let error: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(error["Code"], "SignatureDoesNotMatch", "{text}");
    assert!(
        error["Message"].as_str().is_some_and(|m| !m.is_empty()),
        "{text}"
    );
}

#[tokio::test]
async fn a_failed_action_is_answered_as_json_with_its_message_to_a_client_that_accepts_json() {
    let emu = Emulator::start().await.unwrap();
    let body = "Action=DeleteAccessKey&Version=2010-05-08&AccessKeyId=tid_nosuchkey";
    let (status, content_type, text) = tigris_iam_call_typed(&emu, "s3", None, body).await;
    assert_eq!(status, 404, "{text}");
    assert_eq!(content_type, "application/json");
    let error: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(error["Code"], "NoSuchEntity", "{text}");
    assert!(
        error["Message"]
            .as_str()
            .is_some_and(|m| m.contains("tid_nosuchkey")),
        "{text}"
    );
}

#[tokio::test]
async fn an_aws_sdk_still_reads_iam_errors_as_xml() {
    let emu = Emulator::start().await.unwrap();
    let err = common::iam(&emu)
        .delete_access_key()
        .access_key_id("tid_nosuchkey")
        .send()
        .await
        .unwrap_err();
    let err = err.into_service_error();
    assert!(err.is_no_such_entity_exception(), "{err:?}");
}
