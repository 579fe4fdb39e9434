//! The crate's one error type: what was attempted, what kind of failure, and the cause.
//!
//! ```no_run
//! # async fn demo(tigris: tigris_api::Client) {
//! use tigris_api::ErrorKind;
//!
//! match tigris.bucket_metadata().bucket("datasets").send().await {
//!     Ok(metadata) => println!("{:?}", metadata.regions()),
//!     Err(e) if e.kind() == ErrorKind::AccessDenied => println!("not yours, or no such bucket"),
//!     Err(e) => eprintln!("{e} (code {:?}, HTTP {:?})", e.code(), e.status()),
//! }
//! # }
//! ```

use std::error::Error as StdError;
use std::fmt;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use tigris_core::error::ErrorReport;
use tigris_headers::names::{InvalidBucketName, InvalidName, NameKind};

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub use tigris_core::ErrorKind;

/// The Tigris operation an [`Error`] belongs to, with the names it was about.
#[derive(Debug, Clone)]
pub(crate) enum Operation {
    PresignPost {
        bucket: String,
        key: String,
    },
    ListForks {
        bucket: String,
    },
    BucketMetadata {
        bucket: String,
    },
    MergeFork {
        fork: String,
        parent: Option<String>,
    },
    RebaseFork {
        fork: String,
    },
    Bundle {
        bucket: String,
        keys: usize,
    },
    Presign {
        bucket: String,
        key: String,
        method: &'static str,
    },
    ListDeletedBuckets,
    RestoreBucket {
        bucket: String,
    },
    UpdateBucket {
        bucket: String,
    },
    SetShadowBucket {
        bucket: String,
    },
    Migrate {
        bucket: String,
        prefix: String,
    },
    ListBuckets,
    AccountStats,
    NewClient,
    SetCors {
        bucket: String,
    },
    GetCors {
        bucket: String,
    },
    ClearCors {
        bucket: String,
    },
    SetLifecycle {
        bucket: String,
    },
    GetLifecycle {
        bucket: String,
    },
    SetObjectAccess {
        bucket: String,
        key: String,
    },
    GetObjectAccess {
        bucket: String,
        key: String,
    },
    SetBucketAccess {
        bucket: String,
    },
    GetBucketAccess {
        bucket: String,
    },
    CreateMultipart {
        bucket: String,
        key: String,
    },
    PresignParts {
        bucket: String,
        key: String,
    },
    CompleteMultipart {
        bucket: String,
        key: String,
    },
    AbortMultipart {
        bucket: String,
        key: String,
    },
}

impl Operation {
    /// The operation's name, as [`Error::operation`] reports it.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::PresignPost { .. } => "PresignPost",
            Self::ListForks { .. } => "ListForks",
            Self::BucketMetadata { .. } => "BucketMetadata",
            Self::MergeFork { .. } => "MergeFork",
            Self::RebaseFork { .. } => "RebaseFork",
            Self::Bundle { .. } => "Bundle",
            Self::Presign { .. } => "PresignUrl",
            Self::ListDeletedBuckets => "ListDeletedBuckets",
            Self::RestoreBucket { .. } => "RestoreBucket",
            Self::UpdateBucket { .. } => "UpdateBucket",
            Self::SetShadowBucket { .. } => "SetShadowBucket",
            Self::Migrate { .. } => "Migrate",
            Self::ListBuckets => "ListBucketsDetailed",
            Self::AccountStats => "AccountStats",
            Self::NewClient => "NewClient",
            Self::SetCors { .. } => "SetCors",
            Self::GetCors { .. } => "GetCors",
            Self::ClearCors { .. } => "ClearCors",
            Self::SetLifecycle { .. } => "SetLifecycleRules",
            Self::GetLifecycle { .. } => "GetLifecycleRules",
            Self::SetObjectAccess { .. } => "SetObjectAccess",
            Self::GetObjectAccess { .. } => "GetObjectAccess",
            Self::SetBucketAccess { .. } => "SetBucketAccess",
            Self::GetBucketAccess { .. } => "GetBucketAccess",
            Self::CreateMultipart { .. } => "CreatePresignedMultipartUpload",
            Self::PresignParts { .. } => "PresignUploadParts",
            Self::CompleteMultipart { .. } => "CompleteMultipartUpload",
            Self::AbortMultipart { .. } => "AbortMultipartUpload",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PresignPost { bucket, key } => {
                write!(
                    f,
                    "presigning a POST upload of {key:?} to bucket {bucket:?}"
                )
            }
            Self::ListForks { bucket } => write!(f, "listing the forks of bucket {bucket:?}"),
            Self::BucketMetadata { bucket } => {
                write!(f, "reading the metadata of bucket {bucket:?}")
            }
            Self::MergeFork {
                fork,
                parent: Some(parent),
            } => write!(f, "merging fork {fork:?} into bucket {parent:?}"),
            Self::MergeFork { fork, parent: None } => write!(f, "merging fork {fork:?}"),
            Self::RebaseFork { fork } => write!(f, "rebasing fork {fork:?}"),
            Self::Bundle { bucket, keys } => {
                write!(f, "bundling {keys} objects of bucket {bucket:?}")
            }
            Self::Presign {
                bucket,
                key,
                method,
            } => write!(
                f,
                "presigning a {method} URL for {key:?} in bucket {bucket:?}"
            ),
            Self::ListDeletedBuckets => f.write_str("listing deleted buckets"),
            Self::RestoreBucket { bucket } => write!(f, "restoring deleted bucket {bucket:?}"),
            Self::UpdateBucket { bucket } => {
                write!(f, "updating the settings of bucket {bucket:?}")
            }
            Self::SetShadowBucket { bucket } => {
                write!(f, "changing the shadow bucket of bucket {bucket:?}")
            }
            Self::Migrate { bucket, prefix } if prefix.is_empty() => {
                write!(f, "migrating bucket {bucket:?} from its shadow")
            }
            Self::Migrate { bucket, prefix } => write!(
                f,
                "migrating {prefix:?} of bucket {bucket:?} from its shadow"
            ),
            Self::ListBuckets => f.write_str("listing the account's buckets"),
            Self::AccountStats => f.write_str("reading the account's storage statistics"),
            Self::NewClient => f.write_str("setting up the Tigris API client"),
            Self::SetCors { bucket } => write!(f, "setting the CORS rules of bucket {bucket:?}"),
            Self::GetCors { bucket } => write!(f, "reading the CORS rules of bucket {bucket:?}"),
            Self::ClearCors { bucket } => {
                write!(f, "clearing the CORS rules of bucket {bucket:?}")
            }
            Self::SetLifecycle { bucket } => {
                write!(f, "setting the lifecycle rules of bucket {bucket:?}")
            }
            Self::GetLifecycle { bucket } => {
                write!(f, "reading the lifecycle rules of bucket {bucket:?}")
            }
            Self::SetObjectAccess { bucket, key } => {
                write!(f, "setting the access of {key:?} in bucket {bucket:?}")
            }
            Self::GetObjectAccess { bucket, key } => {
                write!(f, "reading the access of {key:?} in bucket {bucket:?}")
            }
            Self::SetBucketAccess { bucket } => {
                write!(f, "setting the access of bucket {bucket:?}")
            }
            Self::GetBucketAccess { bucket } => {
                write!(f, "reading the access of bucket {bucket:?}")
            }
            Self::CreateMultipart { bucket, key } => write!(
                f,
                "starting a presigned multipart upload of {key:?} to bucket {bucket:?}"
            ),
            Self::PresignParts { bucket, key } => {
                write!(f, "presigning part uploads of {key:?} to bucket {bucket:?}")
            }
            Self::CompleteMultipart { bucket, key } => write!(
                f,
                "completing the multipart upload of {key:?} to bucket {bucket:?}"
            ),
            Self::AbortMultipart { bucket, key } => write!(
                f,
                "aborting the multipart upload of {key:?} to bucket {bucket:?}"
            ),
        }
    }
}

/// The error of every operation in this crate.
///
/// `Display` is one sentence naming what was attempted and why it failed; the underlying error
/// (an SDK error, or the validation error of a name) is available through
/// [`source()`](std::error::Error::source) and is never repeated in the message.
#[derive(Debug)]
pub struct Error(Box<Inner>);

// Boxed, so that `Result<T, Error>` stays one pointer wide on the error side.
#[derive(Debug)]
struct Inner {
    report: ErrorReport<Operation>,
    missing_keys: Vec<String>,
    leftover_uploads: Vec<String>,
}

impl Error {
    fn new(report: ErrorReport<Operation>) -> Self {
        Self(Box::new(Inner {
            report,
            missing_keys: Vec::new(),
            leftover_uploads: Vec::new(),
        }))
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.0.report.kind()
    }

    /// The operation that failed, as named in the crate's docs (`"ListForks"`,
    /// `"UpdateBucket"`, ...); `None` for an error not tied to one (an invalid name parsed on
    /// its own).
    pub fn operation(&self) -> Option<&'static str> {
        self.0.report.operation().map(Operation::name)
    }

    /// Whether the same request may succeed if sent again: the failure is transient.
    pub fn is_retryable(&self) -> bool {
        self.kind().is_retryable()
    }

    /// The error code the service answered with (`"NoSuchBucket"`, `"BucketNotEmpty"`, ...),
    /// when it answered with one.
    pub fn code(&self) -> Option<&str> {
        self.0.report.code()
    }

    /// The HTTP status of the service's answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        self.0.report.status()
    }

    /// The request id the service gave, useful when asking Tigris support.
    pub fn request_id(&self) -> Option<&str> {
        self.0.report.request_id()
    }

    /// The keys a bundle in fail mode named that do not exist (code `BundleKeyNotFound`);
    /// empty for every other error.
    pub fn missing_keys(&self) -> &[String] {
        &self.0.missing_keys
    }

    /// The ids of multipart uploads a failed
    /// [`create_presigned_multipart_upload`](crate::Client::create_presigned_multipart_upload)
    /// may have started and could not abort: abort them
    /// ([`abort_multipart_upload`](crate::Client::abort_multipart_upload)) or let the bucket's
    /// cleanup take them. Empty for every other error.
    pub fn leftover_uploads(&self) -> &[String] {
        &self.0.leftover_uploads
    }

    pub(crate) fn with_leftover_uploads(mut self, ids: Vec<String>) -> Self {
        self.0.leftover_uploads = ids;
        self
    }

    /// An invalid value checked on its own, outside any operation.
    pub(crate) fn invalid_value(reason: &'static str, source: impl Into<BoxError>) -> Self {
        Self::new(
            ErrorReport::new(ErrorKind::InvalidInput)
                .with_reason(reason)
                .with_source(source),
        )
    }

    fn of(kind: ErrorKind, operation: Operation, reason: &'static str) -> Self {
        Self::new(
            ErrorReport::new(kind)
                .with_operation(operation)
                .with_reason(reason),
        )
    }

    pub(crate) fn invalid_input(
        operation: Operation,
        reason: &'static str,
        source: impl Into<BoxError>,
    ) -> Self {
        Self::of(ErrorKind::InvalidInput, operation, reason).with_source(source)
    }

    pub(crate) fn invalid_argument(operation: Operation, reason: &'static str) -> Self {
        Self::of(ErrorKind::InvalidInput, operation, reason)
    }

    pub(crate) fn configuration(operation: Operation, reason: &'static str) -> Self {
        Self::of(ErrorKind::Configuration, operation, reason)
    }

    pub(crate) fn from_config(err: tigris_core::transport::ConfigError) -> Self {
        Self::new(
            ErrorReport::new(err.kind())
                .with_operation(Operation::NewClient)
                .with_source(err),
        )
    }

    pub(crate) fn unexpected_response(operation: Operation, reason: &'static str) -> Self {
        Self::of(ErrorKind::UnexpectedResponse, operation, reason)
    }

    pub(crate) fn transient(operation: Operation, reason: &'static str) -> Self {
        Self::of(ErrorKind::Transient, operation, reason)
    }

    /// The same error with its report passed through `change` (the report's builders take it
    /// by value).
    fn map_report(
        self,
        change: impl FnOnce(ErrorReport<Operation>) -> ErrorReport<Operation>,
    ) -> Self {
        let inner = *self.0;
        Self(Box::new(Inner {
            report: change(inner.report),
            ..inner
        }))
    }

    /// The same failure, reported as part of `operation`.
    pub(crate) fn with_operation(self, operation: Operation) -> Self {
        self.map_report(|report| report.with_operation(operation))
    }

    pub(crate) fn with_source(self, source: impl Into<BoxError>) -> Self {
        self.map_report(|report| report.with_source(source))
    }

    /// A local file-system failure, classified by what the OS said.
    pub(crate) fn local_io(
        operation: Operation,
        reason: &'static str,
        err: &std::io::Error,
    ) -> Self {
        let kind = match err.kind() {
            std::io::ErrorKind::PermissionDenied => ErrorKind::AccessDenied,
            std::io::ErrorKind::NotFound => ErrorKind::NotFound,
            std::io::ErrorKind::AlreadyExists => ErrorKind::Conflict,
            _ => ErrorKind::Service,
        };
        Self::of(kind, operation, reason)
    }

    /// A bundle request's error, with the missing keys of a `BundleKeyNotFound`.
    pub(crate) fn from_bundle<E>(operation: Operation, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        let missing = err
            .raw_response()
            .and_then(|r| r.body().bytes())
            .map(|body| xml_keys(&String::from_utf8_lossy(body)))
            .unwrap_or_default();
        let mut error = Self::from_sdk(operation, err);
        if error.code() == Some("BundleKeyNotFound") {
            error.0.missing_keys = missing;
        }
        error
    }

    pub(crate) fn from_sdk<E>(operation: Operation, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        Self::new(ErrorReport::from_sdk(operation, err))
    }
}

/// The `<Key>` values of an XML document (the `<MissingKeys>` of `BundleKeyNotFound`).
pub(crate) fn xml_keys(xml: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<Key>") {
        let after = &rest[start + 5..];
        let Some(end) = after.find("</Key>") else {
            break;
        };
        keys.push(
            after[..end]
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&"),
        );
        rest = &after[end + 6..];
    }
    keys
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.report.fmt(f)
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.report.source()
    }
}

impl From<InvalidName> for Error {
    fn from(err: InvalidName) -> Self {
        let reason = match err.kind() {
            NameKind::SnapshotName => "invalid snapshot name",
            NameKind::SnapshotVersion => "invalid snapshot version",
            _ => "invalid name",
        };
        Self::new(
            ErrorReport::new(ErrorKind::InvalidInput)
                .with_reason(reason)
                .with_source(err),
        )
    }
}

impl From<InvalidBucketName> for Error {
    fn from(err: InvalidBucketName) -> Self {
        Self::new(
            ErrorReport::new(ErrorKind::InvalidInput)
                .with_reason("invalid bucket name")
                .with_source(err),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tigris_headers::{BucketName, SnapshotName};

    fn bucket_op() -> Operation {
        Operation::BucketMetadata {
            bucket: "datasets".into(),
        }
    }

    #[test]
    fn display_of_each_operation_reads_as_a_sentence() {
        let cases = [
            (
                Operation::ListForks {
                    bucket: "b1".into(),
                },
                "listing the forks of bucket \"b1\"",
            ),
            (
                Operation::MergeFork {
                    fork: "f".into(),
                    parent: Some("b1".into()),
                },
                "merging fork \"f\" into bucket \"b1\"",
            ),
            (
                Operation::Presign {
                    bucket: "b1".into(),
                    key: "a b".into(),
                    method: "GET",
                },
                "presigning a GET URL for \"a b\" in bucket \"b1\"",
            ),
        ];
        for (operation, expected) in cases {
            let err = Error::unexpected_response(operation, "the response was odd");
            assert_eq!(
                err.to_string(),
                format!("{expected} failed: the response was odd")
            );
        }
    }

    #[test]
    fn service_errors_answer_code_and_status() {
        let answer = tigris_core::error::Classified::from_answer(Some(404), Some("NoSuchBucket"));
        let err = Error::new(ErrorReport::from_classified(bucket_op(), answer));
        assert_eq!(
            err.to_string(),
            "reading the metadata of bucket \"datasets\" failed: the service answered NoSuchBucket (HTTP 404)"
        );
        assert_eq!(err.operation(), Some("BucketMetadata"));
        assert_eq!(err.code(), Some("NoSuchBucket"));
        assert_eq!(err.status(), Some(404));
        assert!(err.missing_keys().is_empty());
    }

    #[test]
    fn errors_can_cross_threads() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<Error>();
    }

    #[test]
    fn name_errors_convert_to_invalid_input() {
        let err: Error = SnapshotName::new("a;b").unwrap_err().into();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(err.to_string(), "invalid snapshot name");
        assert!(err.source().is_some());
        let err: Error = "A".parse::<BucketName>().unwrap_err().into();
        assert_eq!(err.to_string(), "invalid bucket name");
    }
}
