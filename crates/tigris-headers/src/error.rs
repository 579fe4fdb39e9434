//! The crate's one error type: what was attempted, what kind of failure, and the cause.
//!
//! ```no_run
//! # async fn demo(s3: aws_sdk_s3::Client) {
//! use tigris_headers::{ErrorKind, TigrisClientExt};
//!
//! match s3.create_snapshot().bucket("datasets").send().await {
//!     Ok(version) => println!("snapshot {version}"),
//!     Err(e) if e.kind() == ErrorKind::NotFound => println!("no such bucket"),
//!     Err(e) => eprintln!("{e} (code {:?}, HTTP {:?})", e.code(), e.status()),
//! }
//! # }
//! ```

use std::error::Error as StdError;
use std::fmt;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use crate::names::{InvalidBucketName, InvalidName, NameKind};
use tigris_core::error::ErrorReport;

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub use tigris_core::ErrorKind;

/// The Tigris operation an [`Error`] belongs to, with the names it was about.
#[derive(Debug, Clone)]
pub(crate) enum Operation {
    CreateSnapshot {
        bucket: String,
    },
    ListSnapshots {
        bucket: String,
    },
    DeleteSnapshot {
        bucket: String,
        version: String,
    },
    BucketInfo {
        bucket: String,
    },
    RenameObject {
        bucket: String,
        from: String,
        to: String,
    },
    RestoreDeletedObject {
        bucket: String,
        key: String,
    },
    PurgeDeletedObject {
        bucket: String,
        key: String,
        version: String,
    },
}

impl Operation {
    /// The operation's name, as [`Error::operation`] reports it.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::CreateSnapshot { .. } => "CreateSnapshot",
            Self::ListSnapshots { .. } => "ListSnapshots",
            Self::DeleteSnapshot { .. } => "DeleteSnapshot",
            Self::BucketInfo { .. } => "BucketInfo",
            Self::RenameObject { .. } => "MoveObject",
            Self::RestoreDeletedObject { .. } => "RestoreDeletedObject",
            Self::PurgeDeletedObject { .. } => "PurgeDeletedObject",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CreateSnapshot { bucket } => {
                write!(f, "creating a snapshot of bucket {bucket:?}")
            }
            Self::ListSnapshots { bucket } => {
                write!(f, "listing the snapshots of bucket {bucket:?}")
            }
            Self::DeleteSnapshot { bucket, version } => {
                write!(f, "deleting snapshot {version:?} of bucket {bucket:?}")
            }
            Self::BucketInfo { bucket } => {
                write!(f, "reading the Tigris settings of bucket {bucket:?}")
            }
            Self::RenameObject { bucket, from, to } => {
                write!(f, "renaming {from:?} to {to:?} in bucket {bucket:?}")
            }
            Self::RestoreDeletedObject { bucket, key } => {
                write!(f, "restoring deleted {key:?} in bucket {bucket:?}")
            }
            Self::PurgeDeletedObject {
                bucket,
                key,
                version,
            } => write!(
                f,
                "purging deleted version {version:?} of {key:?} in bucket {bucket:?}"
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
pub struct Error(Box<ErrorReport<Operation>>);

impl Error {
    fn new(report: ErrorReport<Operation>) -> Self {
        Self(Box::new(report))
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind()
    }

    /// The operation that failed, as named in the crate's docs (`"CreateSnapshot"`,
    /// `"MoveObject"`, ...); `None` for an error not tied to one (a name parsed on its own).
    pub fn operation(&self) -> Option<&'static str> {
        self.0.operation().map(Operation::name)
    }

    /// Whether the same request may succeed if sent again: the failure is transient.
    pub fn is_retryable(&self) -> bool {
        self.0.kind().is_retryable()
    }

    /// The error code the service answered with (`"NoSuchBucket"`, `"BucketNotEmpty"`, ...),
    /// when it answered with one.
    pub fn code(&self) -> Option<&str> {
        self.0.code()
    }

    /// The HTTP status of the service's answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        self.0.status()
    }

    /// The request id the service gave, useful when asking Tigris support.
    pub fn request_id(&self) -> Option<&str> {
        self.0.request_id()
    }

    pub(crate) fn invalid_input(
        operation: Operation,
        reason: &'static str,
        source: impl Into<BoxError>,
    ) -> Self {
        Self::new(
            ErrorReport::new(ErrorKind::InvalidInput)
                .with_operation(operation)
                .with_reason(reason)
                .with_source(source),
        )
    }

    /// A value rejected on its own, before it is part of an operation.
    pub(crate) fn invalid_value(reason: &'static str, source: impl Into<BoxError>) -> Self {
        Self::new(
            ErrorReport::new(ErrorKind::InvalidInput)
                .with_reason(reason)
                .with_source(source),
        )
    }

    pub(crate) fn invalid_argument(operation: Operation, reason: &'static str) -> Self {
        Self::new(
            ErrorReport::new(ErrorKind::InvalidInput)
                .with_operation(operation)
                .with_reason(reason),
        )
    }

    pub(crate) fn invalid_query(reason: &'static str) -> Self {
        Self::new(ErrorReport::new(ErrorKind::InvalidInput).with_reason(reason))
    }

    pub(crate) fn unexpected_response(operation: Operation, reason: &'static str) -> Self {
        Self::new(
            ErrorReport::new(ErrorKind::UnexpectedResponse)
                .with_operation(operation)
                .with_reason(reason),
        )
    }

    pub(crate) fn with_source(self, source: impl Into<BoxError>) -> Self {
        Self::new(self.0.with_source(source))
    }

    pub(crate) fn from_sdk<E>(operation: Operation, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        Self::new(ErrorReport::from_sdk(operation, err))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.source()
    }
}

impl From<InvalidName> for Error {
    fn from(err: InvalidName) -> Self {
        let reason = match err.kind() {
            NameKind::SnapshotName => "invalid snapshot name",
            NameKind::SnapshotVersion => "invalid snapshot version",
        };
        Self::invalid_value(reason, err)
    }
}

impl From<InvalidBucketName> for Error {
    fn from(err: InvalidBucketName) -> Self {
        Self::invalid_value("invalid bucket name", err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::{BucketName, SnapshotName};

    fn bucket_op() -> Operation {
        Operation::CreateSnapshot {
            bucket: "datasets".into(),
        }
    }

    #[test]
    fn display_of_each_operation_reads_as_a_sentence() {
        let cases = [
            (
                Operation::ListSnapshots {
                    bucket: "b1".into(),
                },
                "listing the snapshots of bucket \"b1\"",
            ),
            (
                Operation::DeleteSnapshot {
                    bucket: "b1".into(),
                    version: "42".into(),
                },
                "deleting snapshot \"42\" of bucket \"b1\"",
            ),
            (
                Operation::BucketInfo {
                    bucket: "b1".into(),
                },
                "reading the Tigris settings of bucket \"b1\"",
            ),
            (
                Operation::RenameObject {
                    bucket: "b1".into(),
                    from: "a b".into(),
                    to: "c".into(),
                },
                "renaming \"a b\" to \"c\" in bucket \"b1\"",
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
            "creating a snapshot of bucket \"datasets\" failed: the service answered NoSuchBucket (HTTP 404)"
        );
        assert_eq!(err.operation(), Some("CreateSnapshot"));
        assert_eq!(err.code(), Some("NoSuchBucket"));
        assert_eq!(err.status(), Some(404));
        assert_eq!(err.kind(), ErrorKind::NotFound);
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
