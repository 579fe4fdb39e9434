//! S3 request values the emulator reads itself (Range, copy sources, max-keys, max-parts,
//! part-number-marker, part numbers, max-buckets) are answered, never a dropped connection or a
//! 5xx, whatever their value.

use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::primitives::ByteStream;
use proptest::prelude::*;
use tigris_emulator::Emulator;

mod common;

/// An emulator on its own runtime, with bucket `bkt` holding objects of 0, 1 and 10 bytes and
/// one open multipart upload on `mp`.
struct Fixture {
    rt: tokio::runtime::Runtime,
    _emu: Emulator,
    s3: aws_sdk_s3::Client,
    upload_id: String,
}

/// One fixture per test process: starting an emulator per case would dominate the run.
fn fixture() -> &'static Fixture {
    static FIXTURE: std::sync::OnceLock<Fixture> = std::sync::OnceLock::new();
    FIXTURE.get_or_init(start)
}

fn start() -> Fixture {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (emu, s3, upload_id) = rt.block_on(async {
        let emu = Emulator::start().await.unwrap();
        let s3 = common::client(&emu);
        s3.create_bucket().bucket("bkt").send().await.unwrap();
        for (key, size) in [("empty", 0), ("one", 1), ("ten", 10)] {
            s3.put_object()
                .bucket("bkt")
                .key(key)
                .body(ByteStream::from(vec![b'x'; size]))
                .send()
                .await
                .unwrap();
        }
        let up = s3
            .create_multipart_upload()
            .bucket("bkt")
            .key("mp")
            .send()
            .await
            .unwrap();
        let id = up.upload_id().unwrap().to_owned();
        s3.upload_part()
            .bucket("bkt")
            .key("mp")
            .upload_id(&id)
            .part_number(1)
            .body(ByteStream::from_static(b"part"))
            .send()
            .await
            .unwrap();
        (emu, s3, id)
    });
    Fixture {
        rt,
        _emu: emu,
        s3,
        upload_id,
    }
}

/// `Ok` if the emulator answered: success, or an error response below 500. A request the SDK
/// would not build never reached the emulator and counts as answered.
fn answered<T, E: std::fmt::Debug>(
    result: Result<T, SdkError<E, aws_smithy_runtime_api::http::Response>>,
) -> Result<(), TestCaseError> {
    match result {
        Ok(_) | Err(SdkError::ConstructionFailure(_)) => Ok(()),
        Err(SdkError::ServiceError(e)) if e.raw().status().as_u16() < 500 => Ok(()),
        Err(e) => Err(TestCaseError::fail(format!("not answered: {e:?}"))),
    }
}

fn range() -> impl Strategy<Value = String> {
    prop_oneof![
        "bytes=[0-9]{0,3}-[0-9]{0,3}",
        "bytes=-[0-9]{0,21}",
        "bytes=[0-9]{18,21}-[0-9]{0,21}",
        "(bytes|BYTES|items)=[0-9, -]{0,8}",
        any::<String>(),
    ]
}

fn copy_source() -> impl Strategy<Value = String> {
    prop_oneof![
        "/?bkt/(one|ten|empty|nope)(\\?versionId=[a-z0-9]{0,4})?",
        "(bkt|%62kt|%2F|/){0,3}(%2F|/|%3F|\\?|%ZZ|%)[a-z]{0,3}",
        "arn:aws:s3:[a-z0-9:/-]{0,24}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        // Failures are reported with their minimal input; tests/ has no lib.rs to save beside.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn range_headers_are_answered(range in range(), key in prop::sample::select(vec!["empty", "one", "ten"])) {
        let f = fixture();
        let s3 = &f.s3;
        let (get, head) = f.rt.block_on(async {
            (
                s3.get_object().bucket("bkt").key(key).range(&range).send().await,
                s3.head_object().bucket("bkt").key(key).range(&range).send().await,
            )
        });
        answered(get)?;
        answered(head)?;
    }

    #[test]
    fn copy_sources_are_answered(source in copy_source()) {
        let f = fixture();
        let s3 = &f.s3;
        let copy = f.rt.block_on(
            s3.copy_object().bucket("bkt").key("dst").copy_source(&source).send(),
        );
        answered(copy)?;
    }

    #[test]
    fn list_and_part_parameters_are_answered(
        max in any::<i32>(),
        marker in prop_oneof!["[0-9]{0,11}", "-[0-9]{1,11}", any::<String>()],
        part in any::<i32>(),
    ) {
        let f = fixture();
        let s3 = &f.s3;
        f.rt.block_on(async {
            answered(s3.list_objects_v2().bucket("bkt").max_keys(max).send().await)?;
            answered(s3.list_objects().bucket("bkt").max_keys(max).marker(&marker).send().await)?;
            answered(s3.list_buckets().max_buckets(max).send().await)?;
            answered(
                s3.list_parts()
                    .bucket("bkt")
                    .key("mp")
                    .upload_id(&f.upload_id)
                    .max_parts(max)
                    .part_number_marker(&marker)
                    .send()
                    .await,
            )?;
            answered(
                s3.upload_part()
                    .bucket("bkt")
                    .key("mp")
                    .upload_id(&f.upload_id)
                    .part_number(part)
                    .body(ByteStream::from_static(b"p"))
                    .send()
                    .await,
            )?;
            answered(
                s3.get_object()
                    .bucket("bkt")
                    .key("ten")
                    .part_number(part)
                    .send()
                    .await,
            )
        })?;
    }
}
