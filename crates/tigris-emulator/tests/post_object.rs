//! Browser form uploads (POST object) as S3 reads their fields: `${filename}` in the key, the
//! policy's expiration format, and policy conditions failing as `403 AccessDenied`; each form
//! is signed with SigV4 by the root key and sent over a raw connection.

use tigris_emulator::Emulator;

mod common;
use common::client;

/// One form upload to `/{bucket}`.
struct Form<'a> {
    bucket: &'a str,
    /// The policy's `expiration`; `None` is ten minutes from now, as ISO 8601.
    expiration: Option<&'a str>,
    /// Conditions besides the signing fields'.
    conditions: Vec<serde_json::Value>,
    /// Fields besides the signing fields, in order.
    fields: Vec<(&'a str, &'a str)>,
    filename: &'a str,
    signed: bool,
}

impl Form<'_> {
    /// Sends the form; answers the status code and the whole answer.
    async fn post(&self, emu: &Emulator) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let root = emu.root_credentials();
        let now = std::time::SystemTime::now();
        let stamp = time::OffsetDateTime::from(now);
        let date = format!(
            "{:04}{:02}{:02}",
            stamp.year(),
            u8::from(stamp.month()),
            stamp.day()
        );
        let amz_date = format!(
            "{date}T{:02}{:02}{:02}Z",
            stamp.hour(),
            stamp.minute(),
            stamp.second()
        );
        let credential = format!("{}/{date}/auto/s3/aws4_request", root.access_key_id());
        let expiration = match self.expiration {
            Some(e) => e.to_owned(),
            None => {
                let at = time::OffsetDateTime::from(now + std::time::Duration::from_secs(600));
                format!(
                    "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                    at.year(),
                    u8::from(at.month()),
                    at.day(),
                    at.hour(),
                    at.minute(),
                    at.second()
                )
            }
        };
        let mut conditions = self.conditions.clone();
        conditions.extend([
            serde_json::json!({"x-amz-algorithm": "AWS4-HMAC-SHA256"}),
            serde_json::json!({"x-amz-credential": credential}),
            serde_json::json!({"x-amz-date": amz_date}),
        ]);
        let policy = serde_json::json!({"expiration": expiration, "conditions": conditions});
        let policy = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            policy.to_string(),
        );
        let signing_key =
            aws_sigv4::sign::v4::generate_signing_key(root.secret_access_key(), now, "auto", "s3");
        let signature = aws_sigv4::sign::v4::calculate_signature(signing_key, policy.as_bytes());
        let boundary = "----emulator-form-boundary";
        let mut fields = self.fields.clone();
        fields.extend([
            ("x-amz-algorithm", "AWS4-HMAC-SHA256"),
            ("x-amz-credential", credential.as_str()),
            ("x-amz-date", amz_date.as_str()),
            ("policy", policy.as_str()),
        ]);
        if self.signed {
            fields.push(("x-amz-signature", signature.as_str()));
        }
        let mut body = String::new();
        for (name, value) in fields {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\n\
             Content-Type: text/plain\r\n\r\nform body\r\n--{boundary}--\r\n",
            self.filename
        ));
        let request = format!(
            "POST /{} HTTP/1.1\r\nHost: {}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.bucket,
            emu.local_addr(),
            body.len()
        );
        let mut stream = tokio::net::TcpStream::connect(emu.local_addr())
            .await
            .unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        let status = answer
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, answer)
    }
}

/// A form to `bkt` for key `k` whose policy names the bucket and the key's prefix.
fn form<'a>(key: &'a str) -> Form<'a> {
    Form {
        bucket: "bkt",
        expiration: None,
        conditions: vec![
            serde_json::json!({"bucket": "bkt"}),
            serde_json::json!(["starts-with", "$key", "up/"]),
        ],
        fields: vec![("key", key)],
        filename: "photo.txt",
        signed: true,
    }
}

async fn setup(emu: &Emulator) -> aws_sdk_s3::Client {
    let s3 = client(emu);
    for bucket in ["bkt", "other"] {
        s3.create_bucket().bucket(bucket).send().await.unwrap();
    }
    s3
}

async fn body_of(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Option<Vec<u8>> {
    let got = s3.get_object().bucket(bucket).key(key).send().await.ok()?;
    Some(got.body.collect().await.unwrap().to_vec())
}

#[tokio::test]
async fn a_key_naming_filename_stores_the_object_under_the_uploaded_file_name() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let (status, answer) = form("up/${filename}").post(&emu).await;
    assert_eq!(status, 204, "{answer}");
    assert_eq!(
        body_of(&s3, "bkt", "up/photo.txt").await.as_deref(),
        Some(&b"form body"[..])
    );
}

#[tokio::test]
async fn a_policy_expiration_that_is_not_iso8601_utc_is_400_invalid_policy_document() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let mut bad = form("up/k");
    bad.expiration = Some("2099-01-01 00:00:00.000000+00:00");
    let (status, answer) = bad.post(&emu).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("InvalidPolicyDocument"), "{answer}");
    assert!(body_of(&s3, "bkt", "up/k").await.is_none());
}

#[tokio::test]
async fn a_key_failing_the_policy_starts_with_condition_is_403_access_denied() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let (status, answer) = form("elsewhere/k").post(&emu).await;
    assert_eq!(status, 403, "{answer}");
    assert!(answer.contains("AccessDenied"), "{answer}");
    assert!(body_of(&s3, "bkt", "elsewhere/k").await.is_none());
}

#[tokio::test]
async fn a_field_failing_the_policy_eq_condition_is_403_access_denied() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let mut bad = form("up/k");
    bad.conditions
        .push(serde_json::json!(["eq", "$x-amz-meta-foo", ""]));
    bad.fields.push(("x-amz-meta-foo", "barclamp"));
    let (status, answer) = bad.post(&emu).await;
    assert_eq!(status, 403, "{answer}");
    assert!(body_of(&s3, "bkt", "up/k").await.is_none());
}

#[tokio::test]
async fn a_form_posted_to_a_bucket_its_policy_does_not_name_is_403() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let mut misdirected = form("up/k");
    misdirected.bucket = "other";
    misdirected.fields.push(("bucket", "bkt"));
    let (status, answer) = misdirected.post(&emu).await;
    assert_eq!(status, 403, "{answer}");
    assert!(body_of(&s3, "other", "up/k").await.is_none());
}

#[tokio::test]
async fn a_form_without_a_signature_is_400_before_its_conditions_are_checked() {
    let emu = Emulator::start().await.unwrap();
    setup(&emu).await;
    let mut unsigned = form("elsewhere/k");
    unsigned.signed = false;
    let (status, answer) = unsigned.post(&emu).await;
    assert_eq!(status, 400, "{answer}");
}

#[tokio::test]
async fn a_form_meeting_its_policy_is_stored_under_its_key() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let (status, answer) = form("up/k").post(&emu).await;
    assert_eq!(status, 204, "{answer}");
    assert_eq!(
        body_of(&s3, "bkt", "up/k").await.as_deref(),
        Some(&b"form body"[..])
    );
}
