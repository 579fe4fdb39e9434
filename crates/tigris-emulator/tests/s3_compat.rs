//! S3 answers ceph/s3-tests checks where the emulator answers as Tigris does: re-creating a
//! bucket, stored content codings, `Expect: 100-continue`. One behaviour per test.

use std::time::Duration;

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::BucketCannedAcl;
use tigris_emulator::Emulator;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod common;
use common::client;

#[tokio::test]
async fn re_creating_a_bucket_you_own_is_bucket_already_exists_as_on_tigris() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("mine").send().await.unwrap();
    let err = s3.create_bucket().bucket("mine").send().await.unwrap_err();
    assert_eq!(err.code(), Some("BucketAlreadyExists"));
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 409);
}

#[tokio::test]
async fn re_creating_a_bucket_with_an_acl_is_refused_and_keeps_its_objects() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("mine").send().await.unwrap();
    s3.put_object()
        .bucket("mine")
        .key("k")
        .body(ByteStream::from_static(b"v"))
        .send()
        .await
        .unwrap();
    let err = s3
        .create_bucket()
        .bucket("mine")
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("BucketAlreadyExists"));
    let listed = s3.list_objects_v2().bucket("mine").send().await.unwrap();
    assert_eq!(listed.key_count(), Some(1));
}

#[tokio::test]
async fn a_content_encoding_list_is_stored_as_sent_when_it_has_no_aws_chunked() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("bkt").send().await.unwrap();
    for (sent, kept) in [
        ("deflate, gzip", Some("deflate, gzip")),
        ("gzip, aws-chunked", Some("gzip")),
        ("aws-chunked, deflate, gzip", Some("deflate, gzip")),
        ("aws-chunked", None),
    ] {
        s3.put_object()
            .bucket("bkt")
            .key("k")
            .content_encoding(sent)
            .body(ByteStream::from_static(b"v"))
            .send()
            .await
            .unwrap();
        let head = s3
            .head_object()
            .bucket("bkt")
            .key("k")
            .send()
            .await
            .unwrap();
        assert_eq!(head.content_encoding(), kept, "sent {sent:?}");
    }
}

/// Sends `head` (a request without its body) and reads the first answer the server sends.
async fn first_answer(emu: &Emulator, head: &str) -> (String, tokio::net::TcpStream) {
    let mut stream = tokio::net::TcpStream::connect(emu.local_addr())
        .await
        .unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0; 4096];
    // A guard against a hung test, not a synchronisation.
    let n = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut buf))
        .await
        .expect("the server answers at once")
        .unwrap();
    (String::from_utf8_lossy(&buf[..n]).into_owned(), stream)
}

/// An empty PUT of `/bkt/k` with `Expect: 100-continue`, signed by the root key, as raw bytes.
fn signed_empty_put(emu: &Emulator) -> String {
    use aws_sigv4::http_request::{SignableBody, SigningSettings};
    let root = emu.root_credentials();
    let mut req = http::Request::builder()
        .method("PUT")
        .uri(format!("{}/bkt/k", emu.endpoint()))
        .header("host", emu.local_addr().to_string())
        .header("expect", "100-continue")
        .header("content-length", "0")
        .header(
            "x-amz-content-sha256",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        )
        .body(())
        .unwrap();
    common::sign(
        &mut req,
        (root.access_key_id(), root.secret_access_key()),
        SignableBody::Bytes(b""),
        SigningSettings::default(),
    );
    let mut raw = String::from("PUT /bkt/k HTTP/1.1\r\n");
    for (name, value) in req.headers() {
        raw.push_str(&format!("{name}: {}\r\n", value.to_str().unwrap()));
    }
    raw.push_str("\r\n");
    raw
}

#[tokio::test]
async fn an_empty_put_with_expect_100_continue_gets_100_continue_or_a_closed_connection() {
    // botocore sends `Expect: 100-continue` on an empty PUT too and then waits for `100
    // Continue`: a final answer must close the connection, or the client misreads the next one.
    let emu = Emulator::start().await.unwrap();
    client(&emu)
        .create_bucket()
        .bucket("bkt")
        .send()
        .await
        .unwrap();
    let (answer, mut stream) = first_answer(&emu, &signed_empty_put(&emu)).await;
    if answer.starts_with("HTTP/1.1 100") {
        return;
    }
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut rest))
        .await
        .expect("the server closes the connection")
        .ok();
}

#[tokio::test]
async fn a_refused_put_with_expect_100_continue_is_answered_without_waiting_for_its_body() {
    let emu = Emulator::start().await.unwrap();
    // Unsigned: refused before any body byte is wanted.
    let (answer, _) = first_answer(
        &emu,
        &format!(
            "PUT /bkt/k HTTP/1.1\r\nHost: {}\r\nExpect: 100-continue\r\nContent-Length: 123\r\n\r\n",
            emu.local_addr()
        ),
    )
    .await;
    assert!(
        answer.starts_with("HTTP/1.1 403") || answer.starts_with("HTTP/1.1 404"),
        "{answer}"
    );
}

#[tokio::test]
async fn head_with_a_part_number_answers_the_parts_count_and_that_part_length() {
    use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("bkt").send().await.unwrap();
    let id = s3
        .create_multipart_upload()
        .bucket("bkt")
        .key("mp")
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_owned();
    let mut parts = Vec::new();
    for (n, body) in [(1, vec![b'a'; 5 << 20]), (2, b"tail".to_vec())] {
        let out = s3
            .upload_part()
            .bucket("bkt")
            .key("mp")
            .upload_id(&id)
            .part_number(n)
            .body(ByteStream::from(body))
            .send()
            .await
            .unwrap();
        parts.push(
            CompletedPart::builder()
                .part_number(n)
                .e_tag(out.e_tag().unwrap())
                .build(),
        );
    }
    s3.complete_multipart_upload()
        .bucket("bkt")
        .key("mp")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let head = s3
        .head_object()
        .bucket("bkt")
        .key("mp")
        .part_number(2)
        .send()
        .await
        .unwrap();
    assert_eq!(head.parts_count(), Some(2));
    assert_eq!(head.content_length(), Some(4));
    let plain = s3
        .head_object()
        .bucket("bkt")
        .key("mp")
        .send()
        .await
        .unwrap();
    assert_eq!(plain.parts_count(), None);
}

/// A PUT of `path` with `headers`, signed by `key` over `signed_body`'s digest, as the AWS
/// SDKs sign it over plain HTTP; its body is the caller's.
fn signed_put(
    emu: &Emulator,
    key: (&str, &str),
    path: &str,
    headers: &[(&str, &str)],
    signed_body: &[u8],
) -> http::Request<()> {
    use aws_sigv4::http_request::{
        PayloadChecksumKind, PercentEncodingMode, SignableBody, SigningSettings,
        UriPathNormalizationMode,
    };
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    let mut builder = http::Request::builder()
        .method("PUT")
        .uri(format!("{}{path}", emu.endpoint()));
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let mut req = builder.body(()).unwrap();
    common::sign(&mut req, key, SignableBody::Bytes(signed_body), settings);
    req
}

/// Sends `req` over a fresh connection; answers the status and the body.
async fn send<B>(req: http::Request<B>) -> (u16, String)
where
    B: hyper::body::Body<Data = bytes::Bytes> + Send + Unpin + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    use http_body_util::BodyExt;
    let resp = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http()
        .request(req)
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// Sends `req` over a fresh connection with a body the test hands over a frame at a time
/// through the sender; the body ends when the sender is dropped. Answers the sender and the
/// task that waits for the status and body of the answer.
fn send_held(
    req: http::Request<()>,
) -> (
    tokio::sync::mpsc::Sender<&'static [u8]>,
    tokio::task::JoinHandle<(u16, String)>,
) {
    let (tx, rx) = tokio::sync::mpsc::channel::<&'static [u8]>(1);
    let frames = futures::stream::unfold(rx, |mut rx| async move {
        let data = rx.recv().await?;
        let frame = hyper::body::Frame::data(bytes::Bytes::from_static(data));
        Some((Ok::<_, std::convert::Infallible>(frame), rx))
    });
    let req = req.map(|()| http_body_util::StreamBody::new(Box::pin(frames)));
    (tx, tokio::spawn(send(req)))
}

/// Sends a PUT of `path` with `Transfer-Encoding: chunked` and no `Content-Length`, its body in
/// `frames`, signed by `key` over `signed_body`'s digest; answers the status and the body.
async fn chunked_put(
    emu: &Emulator,
    key: (&str, &str),
    path: &str,
    frames: &[&[u8]],
    signed_body: &[u8],
) -> (u16, String) {
    let req = signed_put(emu, key, path, &[], signed_body);
    let frames: Vec<Result<hyper::body::Frame<bytes::Bytes>, std::convert::Infallible>> = frames
        .iter()
        .map(|f| Ok(hyper::body::Frame::data(bytes::Bytes::copy_from_slice(f))))
        .collect();
    // A stream body has no known length: hyper sends it chunked, without `Content-Length`.
    let req = req.map(|()| http_body_util::StreamBody::new(futures::stream::iter(frames)));
    assert!(!req.headers().contains_key("content-length"));
    send(req).await
}

#[tokio::test]
async fn a_put_sent_chunked_without_content_length_is_stored_whole() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("bkt").send().await.unwrap();
    let root = emu.root_credentials();
    let key = (root.access_key_id(), root.secret_access_key());
    let big = vec![b'x'; 3 << 20];
    let frames: [&[u8]; 3] = [b"first ", &big, b" last"];
    let whole = frames.concat();
    let (status, body) = chunked_put(&emu, key, "/bkt/k", &frames, &whole).await;
    assert_eq!(status, 200, "{body}");
    let got = s3.get_object().bucket("bkt").key("k").send().await.unwrap();
    assert_eq!(got.content_length(), Some(whole.len() as i64));
    let read = got.body.collect().await.unwrap().into_bytes();
    assert!(read == whole, "the stored body differs from the one sent");
}

#[tokio::test]
async fn a_chunked_put_of_a_key_that_needs_percent_encoding_is_stored_under_that_key() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("bkt").send().await.unwrap();
    let root = emu.root_credentials();
    let key = (root.access_key_id(), root.secret_access_key());
    let path = "/bkt/dir/a%20b%2Bc%C3%A9";
    let (status, body) = chunked_put(&emu, key, path, &[b"enc", b"oded"], b"encoded").await;
    assert_eq!(status, 200, "{body}");
    let got = s3
        .get_object()
        .bucket("bkt")
        .key("dir/a b+c\u{e9}")
        .send()
        .await
        .unwrap();
    let read = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(&read[..], b"encoded");
}

#[tokio::test]
async fn a_chunked_put_by_a_key_that_may_not_write_is_refused_before_its_body_is_read() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("bkt").send().await.unwrap();
    let read_only = common::policy(&["s3:GetObject", "s3:ListBucket"], "bkt", None);
    let (id, secret, _) = common::scoped_key(&emu, "read-only", &read_only).await;
    let req = signed_put(&emu, (&id, &secret), "/bkt/k", &[], b"never sent whole");
    // The body's first frame is sent and the rest held back: the answer has to come without it.
    let (tx, answer) = send_held(req);
    tx.send(b"never ").await.unwrap();
    let (status, body) = tokio::time::timeout(std::time::Duration::from_secs(30), answer)
        .await
        .expect("answered while the body was still open")
        .unwrap();
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("AccessDenied"), "{body}");
    drop(tx);
    assert_absent(&s3, "k").await;
}

#[tokio::test]
async fn a_chunked_put_whose_body_differs_from_its_signed_digest_is_refused() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("bkt").send().await.unwrap();
    let root = emu.root_credentials();
    let key = (root.access_key_id(), root.secret_access_key());
    let (status, body) = chunked_put(&emu, key, "/bkt/k", &[b"swapped"], b"signed").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("Sha256Mismatch"), "{body}");
    assert_absent(&s3, "k").await;
}

#[tokio::test]
async fn a_chunked_put_signed_with_a_wrong_secret_is_refused_and_stores_nothing() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("bkt").send().await.unwrap();
    let root = emu.root_credentials();
    let key = (root.access_key_id(), "not-the-secret");
    let (status, body) = chunked_put(&emu, key, "/bkt/k", &[b"body"], b"body").await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("SignatureDoesNotMatch"), "{body}");
    assert_absent(&s3, "k").await;
}

/// Asserts that `bkt/key` is not stored: HEAD answers 404.
async fn assert_absent(s3: &aws_sdk_s3::Client, key: &str) {
    let err = s3
        .head_object()
        .bucket("bkt")
        .key(key)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 404);
}

#[tokio::test]
async fn a_part_uploaded_chunked_without_content_length_is_assembled() {
    let (emu, s3, id) = bucket_with_upload().await;
    let root = emu.root_credentials();
    let key = (root.access_key_id(), root.secret_access_key());
    let path = format!("/bkt/mp?partNumber=1&uploadId={id}");
    let (status, body) = chunked_put(&emu, key, &path, &[b"part ", b"one"], b"part one").await;
    assert_eq!(status, 200, "{body}");
    let parts = s3
        .list_parts()
        .bucket("bkt")
        .key("mp")
        .upload_id(&id)
        .send()
        .await
        .unwrap();
    let etag = parts.parts()[0].e_tag().unwrap();
    complete(&s3, &id, &[(1, etag)]).await.unwrap();
    assert_eq!(read_mp(&s3).await, b"part one");
}

/// An emulator with bucket `bkt` and a multipart upload of `bkt/mp` begun; answers the upload id.
async fn bucket_with_upload() -> (Emulator, aws_sdk_s3::Client, String) {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("bkt").send().await.unwrap();
    let id = s3
        .create_multipart_upload()
        .bucket("bkt")
        .key("mp")
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_owned();
    (emu, s3, id)
}

async fn upload_part_1(s3: &aws_sdk_s3::Client, id: &str, body: &'static [u8]) -> String {
    s3.upload_part()
        .bucket("bkt")
        .key("mp")
        .upload_id(id)
        .part_number(1)
        .body(ByteStream::from_static(body))
        .send()
        .await
        .unwrap()
        .e_tag()
        .unwrap()
        .to_owned()
}

/// Completes upload `id` of `bkt/mp` listing `parts` (part number, ETag) in that order.
async fn complete(
    s3: &aws_sdk_s3::Client,
    id: &str,
    parts: &[(i32, &str)],
) -> Result<
    aws_sdk_s3::operation::complete_multipart_upload::CompleteMultipartUploadOutput,
    aws_sdk_s3::error::SdkError<
        aws_sdk_s3::operation::complete_multipart_upload::CompleteMultipartUploadError,
    >,
> {
    use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
    let parts = parts
        .iter()
        .map(|(n, e)| CompletedPart::builder().part_number(*n).e_tag(*e).build())
        .collect();
    s3.complete_multipart_upload()
        .bucket("bkt")
        .key("mp")
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
}

async fn read_mp(s3: &aws_sdk_s3::Client) -> Vec<u8> {
    let got = s3
        .get_object()
        .bucket("bkt")
        .key("mp")
        .send()
        .await
        .unwrap();
    got.body.collect().await.unwrap().into_bytes().to_vec()
}

#[tokio::test]
async fn a_part_re_sent_while_its_first_upload_is_in_flight_is_the_first_upload_once_that_finishes()
{
    let (emu, s3, id) = bucket_with_upload().await;
    let root = emu.root_credentials();
    let key = (root.access_key_id(), root.secret_access_key());
    // The first upload of part 1 sends half its body and waits.
    let path = format!("/bkt/mp?partNumber=1&uploadId={id}");
    let req = signed_put(&emu, key, &path, &[("content-length", "8")], b"AAAAAAAA");
    let (tx, first) = send_held(req);
    tx.send(b"AAAA").await.unwrap();
    // The re-sent part 1 is uploaded whole meanwhile, then the first upload finishes.
    let resent = upload_part_1(&s3, &id, b"BBBBBBBB").await;
    tx.send(b"AAAA").await.unwrap();
    drop(tx);
    let (status, body) = first.await.unwrap();
    assert_eq!(status, 200, "{body}");
    let etag = {
        use md5::Digest;
        format!("\"{}\"", hex::encode(md5::Md5::digest(b"AAAAAAAA")))
    };
    assert_ne!(resent, etag);
    // The client lists both answers, in the order they came.
    complete(&s3, &id, &[(1, &resent), (1, &etag)])
        .await
        .unwrap();
    assert_eq!(read_mp(&s3).await, b"AAAAAAAA");
}

#[tokio::test]
async fn a_part_number_listed_twice_in_a_row_is_assembled_once() {
    let (_emu, s3, id) = bucket_with_upload().await;
    let etag = upload_part_1(&s3, &id, b"once").await;
    let done = complete(&s3, &id, &[(1, &etag), (1, &etag)]).await.unwrap();
    assert!(
        done.e_tag().unwrap().ends_with("-1\""),
        "{:?}",
        done.e_tag()
    );
    assert_eq!(read_mp(&s3).await, b"once");
}

#[tokio::test]
async fn completing_with_the_etag_of_a_part_uploaded_again_since_is_invalid_part() {
    let (_emu, s3, id) = bucket_with_upload().await;
    let replaced = upload_part_1(&s3, &id, b"first").await;
    let kept = upload_part_1(&s3, &id, b"second").await;
    // The last ETag listed for a part number is the one checked.
    let err = complete(&s3, &id, &[(1, &kept), (1, &replaced)])
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidPart"));
    complete(&s3, &id, &[(1, &kept)]).await.unwrap();
    assert_eq!(read_mp(&s3).await, b"second");
}

#[tokio::test]
async fn a_part_list_that_goes_back_down_is_invalid_part_order() {
    let (_emu, s3, id) = bucket_with_upload().await;
    let etag = upload_part_1(&s3, &id, b"one").await;
    let err = complete(&s3, &id, &[(1, &etag), (2, &etag), (1, &etag)])
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidPartOrder"));
}
