//! A bucket's Tigris settings, read from the `HeadBucket` response headers.

use aws_sdk_s3::Client;
use tracing::Instrument;

use crate::error::{Error, Operation, Result};
use crate::header::{self, CaptureHeaders};
use crate::names::bucket_name;
use crate::names::{BucketName, SnapshotVersion};

const INFO_HEADERS: &[&str] = &[
    header::ENABLE_SNAPSHOT,
    header::FORK_SOURCE_BUCKET,
    header::FORK_SOURCE_SNAPSHOT,
    header::IS_FORK_PARENT,
];

/// A bucket's snapshot and fork settings.
///
/// ```no_run
/// # async fn demo(s3: aws_sdk_s3::Client) -> Result<(), tigris_headers::Error> {
/// use tigris_headers::TigrisClientExt;
///
/// let info = s3.bucket_info().bucket("datasets-experiment").send().await?;
/// if let Some(parent) = info.fork_parent() {
///     println!("forked from {parent} at {:?}", info.fork_snapshot());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BucketInfo {
    snapshots_enabled: bool,
    fork_parent: Option<BucketName>,
    fork_snapshot: Option<SnapshotVersion>,
    is_fork_parent: bool,
}

impl BucketInfo {
    /// Whether the bucket can take snapshots and be forked. Forks inherit it from their source.
    pub fn snapshots_enabled(&self) -> bool {
        self.snapshots_enabled
    }

    /// The bucket this one was forked from, if it is a fork.
    pub fn fork_parent(&self) -> Option<&BucketName> {
        self.fork_parent.as_ref()
    }

    /// The snapshot of the parent this fork was made from. Tigris reports one even for a fork
    /// of the parent's current state.
    pub fn fork_snapshot(&self) -> Option<&SnapshotVersion> {
        self.fork_snapshot.as_ref()
    }

    /// Whether other buckets were forked from this one (such a bucket cannot be deleted
    /// before its forks).
    pub fn is_fork_parent(&self) -> bool {
        self.is_fork_parent
    }

    /// Reads the captured `HeadBucket` response headers.
    fn from_headers(
        headers: &[(&'static str, String)],
        operation: impl Fn() -> Operation,
    ) -> Result<Self> {
        let flag =
            |name| header::find(headers, name).is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let fork_parent = header::find(headers, header::FORK_SOURCE_BUCKET)
            .map(|v| {
                BucketName::new(v).map_err(|e| {
                    Error::unexpected_response(
                        operation(),
                        "the x-tigris-fork-source-bucket header is not a bucket name",
                    )
                    .with_source(e)
                })
            })
            .transpose()?;
        let fork_snapshot = header::find(headers, header::FORK_SOURCE_SNAPSHOT)
            .map(|v| {
                SnapshotVersion::new(v).map_err(|e| {
                    Error::unexpected_response(
                        operation(),
                        "the x-tigris-fork-source-bucket-snapshot header is not a snapshot version",
                    )
                    .with_source(e)
                })
            })
            .transpose()?;
        Ok(Self {
            snapshots_enabled: flag(header::ENABLE_SNAPSHOT),
            fork_parent,
            fork_snapshot,
            is_fork_parent: flag(header::IS_FORK_PARENT),
        })
    }
}

/// Reads a bucket's Tigris settings; from [`TigrisClientExt::bucket_info`](crate::TigrisClientExt::bucket_info).
///
/// Sends `HeadBucket` and reads `x-tigris-enable-snapshot`, `x-tigris-fork-source-bucket`,
/// `x-tigris-fork-source-bucket-snapshot` and `x-tigris-is-fork-parent` from the response.
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct BucketInfoFluentBuilder {
    client: Client,
    bucket: String,
}

impl BucketInfoFluentBuilder {
    pub(crate) fn new(client: Client, bucket: String) -> Self {
        Self { client, bucket }
    }

    /// The bucket to read (required).
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = bucket.as_ref().to_owned();
        self
    }

    /// Validates the bucket name, then reads the settings.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for an
    /// invalid bucket name; [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) when the bucket
    /// does not exist; [`ErrorKind::UnexpectedResponse`](crate::ErrorKind::UnexpectedResponse)
    /// when a fork header holds something that is not a bucket name or version.
    pub async fn send(self) -> Result<BucketInfo> {
        let span = tracing::debug_span!("bucket_info", bucket = %self.bucket);
        async {
            let operation = || Operation::BucketInfo {
                bucket: self.bucket.clone(),
            };
            let bucket = bucket_name(&self.bucket, operation)?;
            let (capture, captured) = CaptureHeaders::new(INFO_HEADERS);
            self.client
                .head_bucket()
                .bucket(bucket.as_str())
                .customize()
                .interceptor(capture)
                .send()
                .await
                .map_err(|e| Error::from_sdk(operation(), e))?;
            BucketInfo::from_headers(&captured.take().unwrap_or_default(), operation)
        }
        .instrument(span)
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The settings come as response headers: any values give settings or an unexpected
        /// response, never a panic.
        #[test]
        fn any_tigris_header_values_parse_without_panicking(
            values in prop::collection::vec(prop_oneof![".{0,20}", "[0-9]{0,22}", "[a-z0-9.-]{0,70}"], 4),
        ) {
            let names = [
                header::ENABLE_SNAPSHOT,
                header::FORK_SOURCE_BUCKET,
                header::FORK_SOURCE_SNAPSHOT,
                header::IS_FORK_PARENT,
            ];
            let headers: Vec<_> = names.iter().zip(&values).map(|(n, v)| (*n, v.as_str())).collect();
            if let Err(err) = info(&headers) {
                prop_assert_eq!(err.kind(), crate::ErrorKind::UnexpectedResponse);
            }
        }
    }

    fn info(headers: &[(&'static str, &str)]) -> Result<BucketInfo> {
        let owned: Vec<_> = headers.iter().map(|(n, v)| (*n, (*v).to_owned())).collect();
        BucketInfo::from_headers(&owned, || Operation::BucketInfo {
            bucket: "b1".into(),
        })
    }

    #[test]
    fn a_regular_bucket_has_no_tigris_headers() {
        let info = info(&[]).unwrap();
        assert!(!info.snapshots_enabled());
        assert_eq!(info.fork_parent(), None);
        assert_eq!(info.fork_snapshot(), None);
        assert!(!info.is_fork_parent());
    }

    #[test]
    fn flags_compare_case_insensitively() {
        let info = info(&[
            (header::ENABLE_SNAPSHOT, "True"),
            (header::IS_FORK_PARENT, "TRUE"),
        ])
        .unwrap();
        assert!(info.snapshots_enabled());
        assert!(info.is_fork_parent());
        let info = super::tests::info(&[
            (header::ENABLE_SNAPSHOT, "false"),
            (header::IS_FORK_PARENT, "yes"),
        ])
        .unwrap();
        assert!(!info.snapshots_enabled());
        assert!(!info.is_fork_parent());
    }

    #[test]
    fn fork_headers_are_parsed_into_names() {
        let info = info(&[
            (header::FORK_SOURCE_BUCKET, "parent"),
            (header::FORK_SOURCE_SNAPSHOT, "17"),
        ])
        .unwrap();
        assert_eq!(info.fork_parent().map(BucketName::as_str), Some("parent"));
        assert_eq!(info.fork_snapshot().map(SnapshotVersion::as_u64), Some(17));
    }

    #[test]
    fn malformed_fork_headers_are_unexpected_responses() {
        for headers in [
            [(header::FORK_SOURCE_BUCKET, "Not A Bucket")],
            [(header::FORK_SOURCE_SNAPSHOT, "v17")],
        ] {
            let err = info(&headers).unwrap_err();
            assert_eq!(
                err.kind(),
                crate::ErrorKind::UnexpectedResponse,
                "{headers:?}"
            );
        }
    }
}
