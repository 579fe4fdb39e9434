//! Checksums as S3 has them: `x-amz-checksum-*` (CRC32, CRC32C, CRC64NVME, SHA1, SHA256) and
//! `Content-MD5` verified against the body, stored, and answered with `ChecksumMode`; multipart
//! uploads with a checksum algorithm, per-part checksums and composite or full-object totals.
//! The expected values were computed independently of the emulator (Python's `zlib` and
//! `hashlib`, and table-driven CRC32C and CRC64NVME), and match ceph/s3-tests' constants.

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, ChecksumMode, ChecksumType, CompletedMultipartUpload, CompletedPart,
};
use tigris_emulator::Emulator;

mod common;
use common::client;

const BODY: &[u8] = b"hello, checksums";
const MIB5: usize = 5 << 20;

async fn setup(emu: &Emulator) -> aws_sdk_s3::Client {
    let s3 = client(emu);
    s3.create_bucket().bucket("bkt").send().await.unwrap();
    s3
}

#[tokio::test]
async fn a_put_answers_the_sha256_checksum_it_was_sent() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let sha = "b2darrQbIjx0s7bDYfT7cco+mBDlphvBlpaMzTHXqR4=";
    let out = s3
        .put_object()
        .bucket("bkt")
        .key("k")
        .checksum_sha256(sha)
        .body(ByteStream::from_static(BODY))
        .send()
        .await
        .unwrap();
    assert_eq!(out.checksum_sha256(), Some(sha));
    assert_eq!(out.checksum_type(), Some(&ChecksumType::FullObject));
}

#[tokio::test]
async fn a_put_whose_checksum_does_not_match_the_body_is_bad_digest_and_writes_nothing() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let err = s3
        .put_object()
        .bucket("bkt")
        .key("k")
        // The CRC32 of another body.
        .checksum_crc32("tzf7Gg==")
        .body(ByteStream::from_static(BODY))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("BadDigest"), "{err:?}");
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 400);
    let missing = s3.head_object().bucket("bkt").key("k").send().await;
    assert!(missing.unwrap_err().into_service_error().is_not_found());
}

#[tokio::test]
async fn every_checksum_algorithm_is_verified_on_put() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let good = [
        ("CRC32", "kS/8zQ=="),
        ("CRC32C", "CvIVhQ=="),
        ("CRC64NVME", "Q7quz+pv0O4="),
        ("SHA1", "UvaCbQNXufuU94McTxs0+q72M/A="),
        ("SHA256", "b2darrQbIjx0s7bDYfT7cco+mBDlphvBlpaMzTHXqR4="),
    ];
    // The same algorithms' values for 1024 bytes of `A`: right format, wrong body.
    let wrong = [
        "tzf7Gg==",
        "9mB6kg==",
        "Qeh8oXvGiSo=",
        "dGw/TShsUx4GXor3bgrAhogxxrQ=",
        "arcu6553sHVAiX4MjW0j7I7vD4w6R+Gz9Ok0Q9lTa+0=",
    ];
    for ((algorithm, value), wrong) in good.into_iter().zip(wrong) {
        let put = |value: &'static str| {
            let header = format!("x-amz-checksum-{}", algorithm.to_ascii_lowercase());
            s3.put_object()
                .bucket("bkt")
                .key(algorithm)
                .body(ByteStream::from_static(BODY))
                .customize()
                .mutate_request(move |r| {
                    r.headers_mut().insert(header.clone(), value);
                })
                .send()
        };
        put(value)
            .await
            .unwrap_or_else(|e| panic!("{algorithm}: {e:?}"));
        let err = put(wrong).await.unwrap_err();
        assert_eq!(err.code(), Some("BadDigest"), "{algorithm}");
    }
}

#[tokio::test]
async fn head_answers_the_stored_checksum_only_with_checksum_mode_enabled() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let crc = "Q7quz+pv0O4=";
    s3.put_object()
        .bucket("bkt")
        .key("k")
        .checksum_crc64_nvme(crc)
        .body(ByteStream::from_static(BODY))
        .send()
        .await
        .unwrap();
    let plain = s3
        .head_object()
        .bucket("bkt")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(plain.checksum_crc64_nvme(), None);
    let with = s3
        .head_object()
        .bucket("bkt")
        .key("k")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(with.checksum_crc64_nvme(), Some(crc));
    assert_eq!(with.checksum_type(), Some(&ChecksumType::FullObject));
}

#[tokio::test]
async fn get_with_checksum_mode_answers_a_checksum_the_sdk_validates() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let crc = "kS/8zQ==";
    s3.put_object()
        .bucket("bkt")
        .key("k")
        .checksum_crc32(crc)
        .body(ByteStream::from_static(BODY))
        .send()
        .await
        .unwrap();
    let got = s3
        .get_object()
        .bucket("bkt")
        .key("k")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(got.checksum_crc32(), Some(crc));
    // The SDK checks the body against the answered checksum while reading it.
    let body = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(&body[..], BODY);
}

#[tokio::test]
async fn a_ranged_get_answers_no_whole_object_checksum() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    s3.put_object()
        .bucket("bkt")
        .key("k")
        .checksum_crc32("kS/8zQ==")
        .body(ByteStream::from_static(BODY))
        .send()
        .await
        .unwrap();
    let got = s3
        .get_object()
        .bucket("bkt")
        .key("k")
        .range("bytes=0-4")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(got.checksum_crc32(), None);
    let body = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(&body[..], &BODY[..5]);
}

#[tokio::test]
async fn a_content_md5_that_does_not_match_the_body_is_bad_digest() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    s3.put_object()
        .bucket("bkt")
        .key("k")
        .content_md5("peQkv8F5MrJbcsQLQfdojg==")
        .body(ByteStream::from_static(BODY))
        .send()
        .await
        .unwrap();
    let err = s3
        .put_object()
        .bucket("bkt")
        .key("k")
        // The MD5 of the empty body.
        .content_md5("1B2M2Y8AsgTpgAmY7PhCfg==")
        .body(ByteStream::from_static(BODY))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("BadDigest"), "{err:?}");
}

#[tokio::test]
async fn a_content_md5_that_is_not_an_md5_is_invalid_digest() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let err = s3
        .put_object()
        .bucket("bkt")
        .key("k")
        .content_md5("not base64!")
        .body(ByteStream::from_static(BODY))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidDigest"), "{err:?}");
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 400);
}

/// A two-part upload of 5 MiB of `a` and `tail`, with `algorithm` and each part's checksum.
async fn two_parts(
    s3: &aws_sdk_s3::Client,
    algorithm: ChecksumAlgorithm,
    kind: Option<ChecksumType>,
    checksums: [&str; 2],
) -> (String, Vec<CompletedPart>) {
    let created = s3
        .create_multipart_upload()
        .bucket("bkt")
        .key("mp")
        .checksum_algorithm(algorithm.clone())
        .set_checksum_type(kind)
        .send()
        .await
        .unwrap();
    assert_eq!(created.checksum_algorithm(), Some(&algorithm));
    let id = created.upload_id().unwrap().to_owned();
    let mut parts = Vec::new();
    for (n, (body, sum)) in [
        (vec![b'a'; MIB5], checksums[0]),
        (b"tail".to_vec(), checksums[1]),
    ]
    .into_iter()
    .enumerate()
    {
        let n = n as i32 + 1;
        let header = format!("x-amz-checksum-{}", algorithm.as_str().to_ascii_lowercase());
        let sum = sum.to_owned();
        let out = s3
            .upload_part()
            .bucket("bkt")
            .key("mp")
            .upload_id(&id)
            .part_number(n)
            .body(ByteStream::from(body))
            .customize()
            .mutate_request(move |r| {
                r.headers_mut().insert(header.clone(), sum.clone());
            })
            .send()
            .await
            .unwrap();
        let mut part = CompletedPart::builder()
            .part_number(n)
            .e_tag(out.e_tag().unwrap());
        match algorithm {
            ChecksumAlgorithm::Sha256 => {
                assert_eq!(out.checksum_sha256(), Some(checksums[n as usize - 1]));
                part = part.checksum_sha256(out.checksum_sha256().unwrap());
            }
            ChecksumAlgorithm::Crc32 => {
                assert_eq!(out.checksum_crc32(), Some(checksums[n as usize - 1]));
                part = part.checksum_crc32(out.checksum_crc32().unwrap());
            }
            ChecksumAlgorithm::Crc64Nvme => {
                assert_eq!(out.checksum_crc64_nvme(), Some(checksums[n as usize - 1]));
                part = part.checksum_crc64_nvme(out.checksum_crc64_nvme().unwrap());
            }
            _ => unreachable!("not used here"),
        }
        parts.push(part.build());
    }
    (id, parts)
}

const SHA_PARTS: [&str; 2] = [
    "oplo+tLngqqfIECjXwWtuX7Yl56x9XLIyOp4Y34nXzw=",
    "DGL4du8d6oMN6fMsL0tG3W101Q0ViW4J71ovzUrH4dc=",
];
/// A CompleteMultipartUpload of upload `id` of `mp` listing `parts`.
fn complete(
    s3: &aws_sdk_s3::Client,
    id: &str,
    parts: &[CompletedPart],
) -> aws_sdk_s3::operation::complete_multipart_upload::builders::CompleteMultipartUploadFluentBuilder
{
    s3.complete_multipart_upload()
        .bucket("bkt")
        .key("mp")
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts.to_vec()))
                .build(),
        )
}

const SHA_COMPOSITE: &str = "02fcpk5/QKJNsvzEdkeBlFeIWeYNwKJOAWPjbe9fHIs=-2";

#[tokio::test]
async fn an_upload_part_whose_checksum_does_not_match_is_bad_digest() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let created = s3
        .create_multipart_upload()
        .bucket("bkt")
        .key("mp")
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .send()
        .await
        .unwrap();
    let err = s3
        .upload_part()
        .bucket("bkt")
        .key("mp")
        .upload_id(created.upload_id().unwrap())
        .part_number(1)
        .checksum_sha256(SHA_PARTS[0])
        .body(ByteStream::from_static(b"tail"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("BadDigest"), "{err:?}");
}

/// Uploads `BODY` as part 1 of a new upload of `mp`, with `content_md5`.
async fn part_with_content_md5(
    s3: &aws_sdk_s3::Client,
    content_md5: &str,
) -> Result<
    aws_sdk_s3::operation::upload_part::UploadPartOutput,
    aws_sdk_s3::error::SdkError<aws_sdk_s3::operation::upload_part::UploadPartError>,
> {
    let created = s3
        .create_multipart_upload()
        .bucket("bkt")
        .key("mp")
        .send()
        .await
        .unwrap();
    s3.upload_part()
        .bucket("bkt")
        .key("mp")
        .upload_id(created.upload_id().unwrap())
        .part_number(1)
        .content_md5(content_md5)
        .body(ByteStream::from_static(BODY))
        .send()
        .await
}

#[tokio::test]
async fn an_upload_part_whose_content_md5_does_not_match_is_bad_digest() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    // The MD5 of the empty body.
    let err = part_with_content_md5(&s3, "1B2M2Y8AsgTpgAmY7PhCfg==")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("BadDigest"), "{err:?}");
}

#[tokio::test]
async fn an_upload_part_with_its_content_md5_answers_that_md5_as_its_etag() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let out = part_with_content_md5(&s3, "peQkv8F5MrJbcsQLQfdojg==")
        .await
        .unwrap();
    assert_eq!(out.e_tag(), Some("\"a5e424bfc17932b25b72c40b41f7688e\""));
}

#[tokio::test]
async fn complete_answers_the_composite_sha256_of_the_parts_and_head_keeps_it() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let (id, parts) = two_parts(&s3, ChecksumAlgorithm::Sha256, None, SHA_PARTS).await;
    let done = complete(&s3, &id, &parts)
        .checksum_sha256(SHA_COMPOSITE)
        .send()
        .await
        .unwrap();
    assert_eq!(done.checksum_sha256(), Some(SHA_COMPOSITE));
    assert_eq!(done.checksum_type(), Some(&ChecksumType::Composite));
    let head = s3
        .head_object()
        .bucket("bkt")
        .key("mp")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(head.checksum_sha256(), Some(SHA_COMPOSITE));
    assert_eq!(head.checksum_type(), Some(&ChecksumType::Composite));
}

#[tokio::test]
async fn complete_with_a_wrong_whole_object_checksum_is_bad_digest_and_keeps_the_upload() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let (id, parts) = two_parts(&s3, ChecksumAlgorithm::Sha256, None, SHA_PARTS).await;
    let finish = |sum: &str| complete(&s3, &id, &parts).checksum_sha256(sum).send();
    let err = finish("bad").await.unwrap_err();
    assert_eq!(err.code(), Some("BadDigest"), "{err:?}");
    finish(SHA_COMPOSITE).await.unwrap();
}

#[tokio::test]
async fn complete_naming_a_part_checksum_other_than_the_uploaded_one_is_invalid_part() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let (id, mut parts) = two_parts(&s3, ChecksumAlgorithm::Sha256, None, SHA_PARTS).await;
    parts[1] = CompletedPart::builder()
        .part_number(2)
        .e_tag(parts[1].e_tag().unwrap())
        .checksum_sha256(SHA_PARTS[0])
        .build();
    let err = complete(&s3, &id, &parts).send().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidPart"), "{err:?}");
}

#[tokio::test]
async fn a_full_object_crc64nvme_upload_answers_the_crc_of_the_whole_body() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let (id, parts) = two_parts(
        &s3,
        ChecksumAlgorithm::Crc64Nvme,
        Some(ChecksumType::FullObject),
        ["PbvLEkWUSgg=", "sAra2CkCEgw="],
    )
    .await;
    let done = complete(&s3, &id, &parts).send().await.unwrap();
    assert_eq!(done.checksum_crc64_nvme(), Some("b4bnuwQ4s4A="));
    assert_eq!(done.checksum_type(), Some(&ChecksumType::FullObject));
}

#[tokio::test]
async fn a_composite_crc32_upload_answers_the_crc_of_the_part_crcs() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let (id, parts) = two_parts(
        &s3,
        ChecksumAlgorithm::Crc32,
        Some(ChecksumType::Composite),
        ["r/zBbw==", "fDe0XQ=="],
    )
    .await;
    let done = complete(&s3, &id, &parts).send().await.unwrap();
    assert_eq!(done.checksum_crc32(), Some("4fn9rQ==-2"));
}

#[tokio::test]
async fn a_repeated_complete_answers_the_same_etag_and_checksum() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let (id, parts) = two_parts(&s3, ChecksumAlgorithm::Sha256, None, SHA_PARTS).await;
    let finish = || {
        complete(&s3, &id, &parts)
            .checksum_sha256(SHA_COMPOSITE)
            .send()
    };
    let first = finish().await.unwrap();
    let again = finish().await.unwrap();
    assert_eq!(first.e_tag(), again.e_tag());
    assert_eq!(again.checksum_sha256(), Some(SHA_COMPOSITE));
}

#[tokio::test]
async fn list_parts_names_the_algorithm_and_each_part_checksum() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
    let (id, _) = two_parts(&s3, ChecksumAlgorithm::Sha256, None, SHA_PARTS).await;
    let listed = s3
        .list_parts()
        .bucket("bkt")
        .key("mp")
        .upload_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        listed.checksum_algorithm(),
        Some(&ChecksumAlgorithm::Sha256)
    );
    let sums: Vec<_> = listed
        .parts()
        .iter()
        .map(|p| p.checksum_sha256().unwrap_or_default())
        .collect();
    assert_eq!(sums, SHA_PARTS);
}

/// A presigned UploadPart URL of `query` (upload id and part number) that also carries
/// `x-amz-checksum-crc32` of the empty body and `x-amz-sdk-checksum-algorithm`, signed into
/// the query as the AWS JavaScript SDK v3's presigner does for a part.
fn presigned_part_with_empty_checksum(emu: &Emulator, query: &str) -> String {
    use aws_sigv4::http_request::{
        PayloadChecksumKind, SignableBody, SignatureLocation, SigningSettings,
    };
    let root = emu.root_credentials();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(std::time::Duration::from_secs(300));
    settings.payload_checksum_kind = PayloadChecksumKind::NoHeader;
    let uri = format!(
        "{}/bkt/mp?{query}&x-amz-checksum-crc32=AAAAAA%3D%3D&x-amz-sdk-checksum-algorithm=CRC32",
        emu.endpoint()
    );
    let mut req = http::Request::builder()
        .method("PUT")
        .uri(&uri)
        .header("host", emu.local_addr().to_string())
        .body(())
        .unwrap();
    common::sign(
        &mut req,
        (root.access_key_id(), root.secret_access_key()),
        SignableBody::UnsignedPayload,
        settings,
    );
    req.uri().to_string()
}

#[tokio::test]
async fn a_presigned_upload_part_carrying_the_empty_body_checksum_in_its_query_is_accepted() {
    let emu = Emulator::start().await.unwrap();
    let s3 = setup(&emu).await;
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
    let url = presigned_part_with_empty_checksum(&emu, &format!("partNumber=1&uploadId={id}"));
    let req = http::Request::builder()
        .method("PUT")
        .uri(&url)
        .body(http_body_util::Full::new(bytes::Bytes::from_static(BODY)))
        .unwrap();
    let resp = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http()
        .request(req)
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let parts = s3
        .list_parts()
        .bucket("bkt")
        .key("mp")
        .upload_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(parts.parts()[0].size(), Some(BODY.len() as i64));
}
