//! Every resource a request touches is checked against the key's policies, with the same
//! decoding the handler uses: fork sources, copy sources, each key of a multi-delete and the
//! source of a rename.

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use tigris_emulator::Emulator;

mod common;
use common::{client, client_with, policy, scoped_key, setup_buckets};

fn statement(effect: &str, actions: &[&str], resources: &[&str]) -> String {
    let list = |items: &[&str]| {
        items
            .iter()
            .map(|a| format!("\"{a}\""))
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        r#"{{"Effect":"{effect}","Action":[{}],"Resource":[{}]}}"#,
        list(actions),
        list(resources)
    )
}

fn document(statements: &[String]) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.join(",")
    )
}

async fn exists(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> bool {
    s3.head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .is_ok()
}

async fn create_fork(
    s3: &aws_sdk_s3::Client,
    name: &str,
    source: &'static str,
) -> Result<(), aws_sdk_s3::error::SdkError<aws_sdk_s3::operation::create_bucket::CreateBucketError>>
{
    s3.create_bucket()
        .bucket(name)
        .customize()
        .mutate_request(move |r| {
            r.headers_mut()
                .insert("X-Tigris-Fork-Source-Bucket", source);
        })
        .send()
        .await
        .map(|_| ())
}

#[tokio::test]
async fn forking_a_bucket_the_key_cannot_read_is_denied_and_creates_nothing() {
    let emu = Emulator::start().await.unwrap();
    let root = client(&emu);
    root.create_bucket()
        .bucket("theirs")
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("X-Tigris-Enable-Snapshot", "true");
        })
        .send()
        .await
        .unwrap();
    root.put_object()
        .bucket("theirs")
        .key("secret.txt")
        .body(ByteStream::from_static(b"secret"))
        .send()
        .await
        .unwrap();
    // Everything on `mine*`, nothing on `theirs`.
    let doc = document(&[statement(
        "Allow",
        &["s3:*"],
        &["arn:aws:s3:::mine*", "arn:aws:s3:::mine*/*"],
    )]);
    let (id, secret, _) = scoped_key(&emu, "forker", &doc).await;
    let s3 = client_with(&emu, &id, &secret);

    let err = create_fork(&s3, "mine-fork", "theirs").await.unwrap_err();
    assert_eq!(err.code(), Some("AccessDenied"));
    let head = root.head_bucket().bucket("mine-fork").send().await;
    assert!(head.is_err(), "a refused fork leaves no bucket behind");

    // With read rights on the source, the same fork is allowed.
    let reader = document(&[
        statement(
            "Allow",
            &["s3:*"],
            &["arn:aws:s3:::mine*", "arn:aws:s3:::mine*/*"],
        ),
        statement(
            "Allow",
            &["s3:ListBucket", "s3:GetObject"],
            &["arn:aws:s3:::theirs", "arn:aws:s3:::theirs/*"],
        ),
    ]);
    let (id, secret, _) = scoped_key(&emu, "reader", &reader).await;
    let s3 = client_with(&emu, &id, &secret);
    create_fork(&s3, "mine-fork", "theirs").await.unwrap();
    assert!(exists(&s3, "mine-fork", "secret.txt").await);
}

#[tokio::test]
async fn a_percent_encoded_copy_source_does_not_escape_a_deny() {
    let emu = Emulator::start().await.unwrap();
    setup_buckets(&emu).await;
    let doc = document(&[
        statement("Allow", &["s3:*"], &["arn:aws:s3:::*"]),
        statement("Deny", &["s3:GetObject"], &["arn:aws:s3:::theirs/*"]),
    ]);
    let (id, secret, _) = scoped_key(&emu, "copier", &doc).await;
    let s3 = client_with(&emu, &id, &secret);
    for source in [
        "theirs/seed.txt",
        "/theirs/seed.txt",
        "%2Ftheirs%2Fseed.txt",
        "%2Ftheirs/seed.txt",
        "theirs%2Fseed.txt",
    ] {
        let err = s3
            .copy_object()
            .bucket("mine")
            .key("stolen")
            .copy_source(source)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("AccessDenied"), "copy source {source}");
    }
    assert!(!exists(&client(&emu), "mine", "stolen").await);
    s3.copy_object()
        .bucket("mine")
        .key("copy")
        .copy_source("%2Fmine%2Fseed.txt")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn delete_objects_checks_each_key_and_reports_the_denied_ones() {
    let emu = Emulator::start().await.unwrap();
    setup_buckets(&emu).await;
    let root = client(&emu);
    root.put_object()
        .bucket("mine")
        .key("tmp.txt")
        .body(ByteStream::from_static(b"t"))
        .send()
        .await
        .unwrap();
    let doc = document(&[
        statement(
            "Allow",
            &["s3:*"],
            &["arn:aws:s3:::mine", "arn:aws:s3:::mine/*"],
        ),
        statement("Deny", &["s3:DeleteObject"], &["arn:aws:s3:::mine/seed*"]),
    ]);
    let (id, secret, _) = scoped_key(&emu, "cleaner", &doc).await;
    let s3 = client_with(&emu, &id, &secret);
    let delete = Delete::builder()
        .objects(ObjectIdentifier::builder().key("seed.txt").build().unwrap())
        .objects(ObjectIdentifier::builder().key("tmp.txt").build().unwrap())
        .build()
        .unwrap();
    let out = s3
        .delete_objects()
        .bucket("mine")
        .delete(delete)
        .send()
        .await
        .unwrap();
    let deleted: Vec<_> = out.deleted().iter().filter_map(|d| d.key()).collect();
    assert_eq!(deleted, ["tmp.txt"]);
    let errors: Vec<_> = out
        .errors()
        .iter()
        .map(|e| (e.key().unwrap_or_default(), e.code().unwrap_or_default()))
        .collect();
    assert_eq!(errors, [("seed.txt", "AccessDenied")]);
    assert!(exists(&root, "mine", "seed.txt").await);
    assert!(!exists(&root, "mine", "tmp.txt").await);
}

#[tokio::test]
async fn a_rename_needs_delete_rights_on_its_source() {
    let emu = Emulator::start().await.unwrap();
    setup_buckets(&emu).await;
    let doc = policy(
        &["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
        "mine",
        None,
    );
    let (id, secret, _) = scoped_key(&emu, "mover", &doc).await;
    let s3 = client_with(&emu, &id, &secret);
    let rename = |s3: aws_sdk_s3::Client| async move {
        s3.copy_object()
            .bucket("mine")
            .key("moved.txt")
            .copy_source("mine/seed.txt")
            .customize()
            .mutate_request(|r| {
                r.headers_mut().insert("X-Tigris-Rename", "true");
            })
            .send()
            .await
            .map(|_| ())
    };
    let err = rename(s3.clone()).await.unwrap_err();
    assert_eq!(err.code(), Some("AccessDenied"));
    let root = client(&emu);
    assert!(exists(&root, "mine", "seed.txt").await);
    assert!(!exists(&root, "mine", "moved.txt").await);

    let doc = policy(
        &["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        "mine",
        None,
    );
    let (id, secret, _) = scoped_key(&emu, "mover2", &doc).await;
    rename(client_with(&emu, &id, &secret)).await.unwrap();
    assert!(!exists(&root, "mine", "seed.txt").await);
    assert!(exists(&root, "mine", "moved.txt").await);
}

/// A browser form upload (POST object) of `key` signed by `id`/`secret`, sent over a raw
/// connection; answers the status line and body.
async fn post_form(emu: &Emulator, id: &str, secret: &str, key: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
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
    let credential = format!("{id}/{date}/auto/s3/aws4_request");
    let expiry = time::OffsetDateTime::from(now + std::time::Duration::from_secs(600));
    let expiration = expiry
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let policy = serde_json::json!({
        "expiration": expiration,
        "conditions": [
            {"bucket": "mine"}, {"key": key},
            {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
            {"x-amz-credential": credential}, {"x-amz-date": amz_date},
        ],
    })
    .to_string();
    let policy = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, policy);
    let signing_key = aws_sigv4::sign::v4::generate_signing_key(secret, now, "auto", "s3");
    let signature = aws_sigv4::sign::v4::calculate_signature(signing_key, policy.as_bytes());
    let boundary = "----emulator-test-boundary";
    let mut body = String::new();
    for (name, value) in [
        ("key", key),
        ("x-amz-algorithm", "AWS4-HMAC-SHA256"),
        ("x-amz-credential", &credential),
        ("x-amz-date", &amz_date),
        ("policy", &policy),
        ("x-amz-signature", &signature),
    ] {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.txt\"\r\n\
         Content-Type: text/plain\r\n\r\nform body\r\n--{boundary}--\r\n"
    ));
    let request = format!(
        "POST /mine HTTP/1.1\r\nHost: {}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        emu.local_addr(),
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(emu.local_addr())
        .await
        .unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer
}

#[tokio::test]
async fn a_form_upload_needs_put_rights_on_the_key_it_names() {
    let emu = Emulator::start().await.unwrap();
    setup_buckets(&emu).await;
    let doc = document(&[statement(
        "Allow",
        &["s3:PutObject"],
        &["arn:aws:s3:::mine/ok*"],
    )]);
    let (id, secret, _) = scoped_key(&emu, "uploader", &doc).await;
    let allowed = post_form(&emu, &id, &secret, "ok.txt").await;
    assert!(allowed.starts_with("HTTP/1.1 2"), "{allowed}");
    let denied = post_form(&emu, &id, &secret, "no.txt").await;
    assert!(denied.starts_with("HTTP/1.1 403"), "{denied}");
    assert!(denied.contains("AccessDenied"), "{denied}");
    let root = client(&emu);
    assert!(exists(&root, "mine", "ok.txt").await);
    assert!(!exists(&root, "mine", "no.txt").await);
}
