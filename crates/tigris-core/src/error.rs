//! One failure taxonomy for every crate of the workspace: [`ErrorKind`], and [`Classified`], the
//! one reading of a failed request (a service error code, an HTTP status, a connector failure)
//! that every crate maps its errors through, so that one answer is one kind everywhere.
//!
//! Each crate keeps its own `Error` (what was attempted, context, leftovers) and calls
//! [`Classified::from_sdk`] or [`Classified::from_answer`] to fill in the kind.
//!
//! ```
//! use tigris_core::error::{Classified, ErrorKind};
//!
//! let answer = Classified::from_answer(Some(404), Some("NoSuchBucket"));
//! assert_eq!(answer.kind(), ErrorKind::NotFound);
//! assert!(!answer.may_have_applied());
//!
//! let failure = Classified::from_answer(Some(500), Some("InternalError"));
//! assert_eq!(failure.kind(), ErrorKind::Transient);
//! assert!(failure.may_have_applied(), "a server failure may come after the work was done");
//! ```

use std::error::Error as StdError;
use std::fmt;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::{ConnectorError, SdkError};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// What went wrong, for callers that branch on it. The same in every crate of the workspace.
///
/// ```
/// use tigris_core::ErrorKind;
/// assert_eq!(ErrorKind::Transient.to_string(), "transient failure");
/// assert!(ErrorKind::Transient.is_retryable());
/// assert!(!ErrorKind::NotFound.is_retryable());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input was rejected: by the crate before any request was sent, or by the service as
    /// malformed (`InvalidArgument`, `MalformedXML`, `ValidationError`, ...). Also an incoming
    /// webhook body that is not a Tigris event.
    InvalidInput,
    /// The client cannot work as configured: no credentials, an endpoint that is not a URL, a
    /// request the SDK could not build from its configuration.
    Configuration,
    /// The bucket, object, snapshot, key or policy does not exist (HTTP 404, `NoSuchEntity`).
    NotFound,
    /// The credentials were rejected or lack permission (HTTP 401/403); also an incoming webhook
    /// whose `Authorization` does not match.
    AccessDenied,
    /// The request conflicts with the current state: the name is taken, the bucket is not
    /// empty or still has forks, the entity is in use (HTTP 409).
    Conflict,
    /// A condition of the request did not hold (HTTP 412, `PreconditionFailed`): for a
    /// conditional write, someone else wrote first.
    PreconditionFailed,
    /// Throttled, timed out, a server failure, or the service was never reached: trying again
    /// may succeed.
    Transient,
    /// The service refused the request for a reason not sorted above; see the error's code.
    Service,
    /// The service answered, but not with what Tigris promises (a missing header, a body that
    /// cannot be read).
    UnexpectedResponse,
}

impl ErrorKind {
    /// Whether the same request may succeed when tried again later.
    pub fn is_retryable(self) -> bool {
        self == Self::Transient
    }

    fn describe(self) -> &'static str {
        match self {
            Self::InvalidInput => "invalid input",
            Self::Configuration => "configuration problem",
            Self::NotFound => "not found",
            Self::AccessDenied => "access denied",
            Self::Conflict => "conflict",
            Self::PreconditionFailed => "precondition failed",
            Self::Transient => "transient failure",
            Self::Service => "service error",
            Self::UnexpectedResponse => "unexpected response",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// The one reading of a failed request: its [`ErrorKind`], whether the service may have carried
/// it out anyway, and what the answer said (code, status, request id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    kind: ErrorKind,
    may_have_applied: bool,
    code: Option<String>,
    status: Option<u16>,
    request_id: Option<String>,
}

impl Classified {
    /// Reads a service answer from its HTTP `status` and error `code`: the code first, then the
    /// status.
    ///
    /// ```
    /// use tigris_core::error::{Classified, ErrorKind};
    /// assert_eq!(Classified::from_answer(Some(400), Some("InvalidArgument")).kind(), ErrorKind::InvalidInput);
    /// assert_eq!(Classified::from_answer(Some(503), Some("SlowDown")).kind(), ErrorKind::Transient);
    /// assert_eq!(Classified::from_answer(Some(409), None).kind(), ErrorKind::Conflict);
    /// ```
    pub fn from_answer(status: Option<u16>, code: Option<&str>) -> Self {
        let kind = kind_of_answer(status, code);
        let may_have_applied = match status {
            Some(status) => answer_may_have_applied(status, code),
            None => !code.is_some_and(is_throttling_code) && kind == ErrorKind::Transient,
        };
        Self {
            kind,
            may_have_applied,
            code: code.map(str::to_owned),
            status,
            request_id: None,
        }
    }

    /// Reads a failed SDK call (`aws-sdk-s3`, `aws-sdk-iam`, or the [`SignedTransport`]).
    ///
    /// - `ConstructionFailure`: [`ErrorKind::Configuration`] (the crates check their input
    ///   before building a request, so what is left is the client's setup); never applied.
    /// - `TimeoutError`: transient, may have applied.
    /// - `DispatchFailure`: transient for I/O, timeouts and failures the SDK marks transient,
    ///   else configuration (no credentials); may have applied unless the connection was
    ///   refused.
    /// - `ResponseError`: the answer could not be read — [`ErrorKind::UnexpectedResponse`], or
    ///   what its status says for an error status; may have applied.
    /// - `ServiceError`: by code, then status ([`from_answer`](Self::from_answer)).
    ///
    /// [`SignedTransport`]: crate::transport::SignedTransport
    pub fn from_sdk<E>(err: &SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata,
    {
        let status = err.raw_response().map(|r| r.status().as_u16());
        let code = err.code();
        let request_id = err
            .raw_response()
            .and_then(|r| r.headers().get("x-amz-request-id"))
            .map(str::to_owned)
            .or_else(|| {
                let meta = err.meta();
                meta.extra("request_id")
                    .or_else(|| meta.extra("aws_request_id"))
                    .map(str::to_owned)
            });
        let mut out = match err {
            SdkError::ConstructionFailure(_) => Self::plain(ErrorKind::Configuration, false),
            SdkError::TimeoutError(_) => Self::plain(ErrorKind::Transient, true),
            SdkError::DispatchFailure(failure) => match failure.as_connector_error() {
                Some(connector) => Self::from_connector(connector),
                None => Self::plain(ErrorKind::Configuration, false),
            },
            SdkError::ResponseError(_) => match status {
                Some(s) if s >= 400 => Self::from_answer(status, code),
                _ => Self::plain(ErrorKind::UnexpectedResponse, true),
            },
            _ => Self::from_answer(status, code),
        };
        out.code = code.map(str::to_owned);
        out.status = status;
        out.request_id = request_id;
        out
    }

    /// Reads a connector failure (the request got no answer): transient for I/O, timeouts and
    /// failures marked transient, else configuration; may have applied unless the connection
    /// was refused.
    pub fn from_connector(err: &ConnectorError) -> Self {
        use aws_smithy_types::retry::ErrorKind as RetryKind;
        let transient = err.is_io()
            || err.is_timeout()
            || matches!(
                err.as_other(),
                Some(
                    RetryKind::TransientError | RetryKind::ThrottlingError | RetryKind::ServerError
                )
            );
        if transient {
            Self::plain(ErrorKind::Transient, !is_connection_refused(err))
        } else {
            Self::plain(ErrorKind::Configuration, false)
        }
    }

    fn plain(kind: ErrorKind, may_have_applied: bool) -> Self {
        Self {
            kind,
            may_have_applied,
            code: None,
            status: None,
            request_id: None,
        }
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Whether the service may have carried the request out although it failed: a server
    /// failure, a timeout or a broken connection after sending. A rejection (4xx), throttling,
    /// a refused connection or a request never built mean it did not.
    pub fn may_have_applied(&self) -> bool {
        self.may_have_applied
    }

    /// The error code the service answered with, if any.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// Takes the error code out.
    pub fn take_code(&mut self) -> Option<String> {
        self.code.take()
    }

    /// The HTTP status of the answer, if there was one.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The request id the service gave, if any.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
}

/// What a crate's `Error` holds, shared so that every crate answers the same accessors from the
/// same fields and says the same sentence: what was attempted, then why.
///
/// A crate wraps one in its own boxed `Error`, with its own operation type `Op` (whose
/// `Display` says what was attempted, e.g. `listing the forks of bucket "b"`), answers
/// `kind`, `operation`, `code`, `status`, `request_id` and `is_retryable` from it, and adds
/// what is its own beside it.
///
/// ```
/// use tigris_core::error::{Classified, ErrorKind, ErrorReport};
///
/// let answer = Classified::from_answer(Some(404), Some("NoSuchBucket"));
/// let report = ErrorReport::from_classified("reading bucket \"b\"", answer);
/// assert_eq!(report.kind(), ErrorKind::NotFound);
/// assert_eq!(
///     report.to_string(),
///     "reading bucket \"b\" failed: the service answered NoSuchBucket (HTTP 404)"
/// );
///
/// let refused = ErrorReport::new(ErrorKind::InvalidInput)
///     .with_operation("reading bucket \"Bad_Name\"")
///     .with_reason("the bucket name is invalid");
/// assert_eq!(refused.to_string(), "reading bucket \"Bad_Name\" failed: the bucket name is invalid");
/// ```
#[derive(Debug)]
pub struct ErrorReport<Op> {
    kind: ErrorKind,
    operation: Option<Op>,
    reason: Option<&'static str>,
    code: Option<String>,
    status: Option<u16>,
    request_id: Option<String>,
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
}

impl<Op> ErrorReport<Op> {
    /// A failure of `kind`, with nothing else known yet.
    pub fn new(kind: ErrorKind) -> Self {
        Self {
            kind,
            operation: None,
            reason: None,
            code: None,
            status: None,
            request_id: None,
            source: None,
        }
    }

    /// The service's answer to `operation`, as [`Classified`] read it.
    pub fn from_classified(operation: Op, mut classified: Classified) -> Self {
        Self {
            code: classified.take_code(),
            status: classified.status,
            request_id: classified.request_id.take(),
            operation: Some(operation),
            ..Self::new(classified.kind)
        }
    }

    /// An SDK error of `operation`, classified once here; the SDK error is kept as the source.
    pub fn from_sdk<E>(operation: Op, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        Self::from_classified(operation, Classified::from_sdk(&err)).with_source(err)
    }

    /// The same failure, reported as part of `operation`.
    #[must_use]
    pub fn with_operation(mut self, operation: Op) -> Self {
        self.operation = Some(operation);
        self
    }

    /// Why it failed, when the crate knows better than the answer (the sentence's end).
    #[must_use]
    pub fn with_reason(mut self, reason: &'static str) -> Self {
        self.reason = Some(reason);
        self
    }

    /// The lower-level error, for [`source()`](StdError::source); never repeated in `Display`.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// What was attempted, when the failure belongs to an operation.
    pub fn operation(&self) -> Option<&Op> {
        self.operation.as_ref()
    }

    /// The error code the service answered with.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// The HTTP status of the service's answer.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The request id the service gave.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The lower-level error, if any.
    pub fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_ref()
            .map(|e| e.as_ref() as &(dyn StdError + 'static))
    }
}

impl<Op: fmt::Display> fmt::Display for ErrorReport<Op> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(operation) = &self.operation {
            write!(f, "{operation} failed: ")?;
        }
        if let Some(reason) = self.reason {
            return f.write_str(reason);
        }
        match (self.kind, &self.code, self.status) {
            (ErrorKind::Transient, None, None) => {
                f.write_str("the service could not be reached or did not answer in time")
            }
            (ErrorKind::InvalidInput, None, None) => f.write_str("the request could not be built"),
            (ErrorKind::UnexpectedResponse, None, _) => {
                f.write_str("the response could not be read")
            }
            (_, Some(code), Some(status)) => {
                write!(f, "the service answered {code} (HTTP {status})")
            }
            (_, Some(code), None) => write!(f, "the service answered {code}"),
            (_, None, Some(status)) => write!(f, "the service answered HTTP {status}"),
            (_, None, None) => f.write_str("the service refused the request"),
        }
    }
}

/// Sorts a service answer by its code first, then its status.
fn kind_of_answer(status: Option<u16>, code: Option<&str>) -> ErrorKind {
    match code {
        Some(
            "NoSuchBucket"
            | "NoSuchKey"
            | "NoSuchSnapshot"
            | "NotFound"
            | "NoSuchVersion"
            | "NoSuchUpload"
            | "NoSuchEntity"
            | "NoSuchEntityException",
        ) => ErrorKind::NotFound,
        Some(
            "AccessDenied"
            | "AccessDeniedException"
            | "SignatureDoesNotMatch"
            | "InvalidAccessKeyId"
            | "InvalidClientTokenId"
            | "UnrecognizedClientException"
            | "ExpiredToken"
            | "RequestTimeTooSkewed"
            | "Forbidden",
        ) => ErrorKind::AccessDenied,
        Some(
            "BucketNotEmpty"
            | "BucketHasForks"
            | "BucketAlreadyExists"
            | "BucketAlreadyOwnedByYou"
            | "OperationAborted"
            | "EntityAlreadyExists"
            | "DeleteConflict"
            | "ConcurrentModification",
        ) => ErrorKind::Conflict,
        Some("PreconditionFailed" | "ConditionalRequestConflict") => ErrorKind::PreconditionFailed,
        Some(
            "RequestTimeout" | "InternalError" | "InternalFailure" | "ServiceFailure"
            | "ServiceUnavailable",
        ) => ErrorKind::Transient,
        Some(c) if is_throttling_code(c) => ErrorKind::Transient,
        Some(
            "InvalidArgument"
            | "InvalidRequest"
            | "InvalidBucketName"
            | "InvalidRange"
            | "MalformedXML"
            | "MalformedPolicyDocument"
            | "InvalidInput"
            | "ValidationError"
            | "InvalidParameterValue"
            | "KeyTooLongError"
            | "MetadataTooLarge"
            | "EntityTooLarge",
        ) => ErrorKind::InvalidInput,
        _ => match status {
            Some(404) => ErrorKind::NotFound,
            Some(401 | 403) => ErrorKind::AccessDenied,
            Some(409) => ErrorKind::Conflict,
            Some(412) => ErrorKind::PreconditionFailed,
            Some(408 | 429 | 500..=599) => ErrorKind::Transient,
            _ => ErrorKind::Service,
        },
    }
}

/// Whether `code` is a throttling error code (S3's `SlowDown`, the AWS `Throttling` family).
/// A throttled request was refused: retry it later, it did nothing.
///
/// ```
/// use tigris_core::error::is_throttling_code;
/// assert!(is_throttling_code("SlowDown"));
/// assert!(!is_throttling_code("InternalError"));
/// ```
pub fn is_throttling_code(code: &str) -> bool {
    matches!(
        code,
        "SlowDown"
            | "Throttling"
            | "ThrottlingException"
            | "TooManyRequests"
            | "TooManyRequestsException"
            | "RequestLimitExceeded"
    )
}

/// Whether a request answered with `status` (and error `code`) may have been carried out: yes
/// for a server failure, or a success status whose body could not be read; no for a rejection
/// (4xx) or a throttled request (even when throttling comes as a 503).
///
/// ```
/// use tigris_core::error::answer_may_have_applied;
/// assert!(answer_may_have_applied(500, Some("InternalError")));
/// assert!(!answer_may_have_applied(503, Some("SlowDown")));
/// assert!(!answer_may_have_applied(409, Some("BucketAlreadyOwnedByYou")));
/// ```
pub fn answer_may_have_applied(status: u16, code: Option<&str>) -> bool {
    !(400..500).contains(&status) && !code.is_some_and(is_throttling_code)
}

/// Whether a connector failure may have come after the request reached the service: I/O
/// errors, timeouts and other failures may have; a refused connection sent nothing.
pub fn connector_may_have_applied(err: &ConnectorError) -> bool {
    (err.is_io() || err.is_timeout() || err.as_other().is_some()) && !is_connection_refused(err)
}

/// Whether `err`, or one of its causes, is a refused connection: then the request never left
/// the client.
///
/// ```
/// use tigris_core::error::is_connection_refused;
/// let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
/// assert!(is_connection_refused(&refused));
/// ```
pub fn is_connection_refused(err: &(dyn StdError + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(err) = next {
        if err
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
        {
            return true;
        }
        next = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Wrapper(std::io::Error);

    impl fmt::Display for Wrapper {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("wrapped")
        }
    }

    impl StdError for Wrapper {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_report_names_the_attempt_and_never_the_source() {
        let source = "Bad_Name".parse::<crate::BucketName>().unwrap_err();
        let report = ErrorReport::new(ErrorKind::InvalidInput)
            .with_operation("reading bucket \"Bad_Name\"")
            .with_reason("the bucket name is invalid")
            .with_source(source.clone());
        assert_eq!(
            report.to_string(),
            "reading bucket \"Bad_Name\" failed: the bucket name is invalid"
        );
        let shown = report.source().expect("source kept").to_string();
        assert_eq!(shown, source.to_string());
        assert!(!report.to_string().contains(&shown));
    }

    #[test]
    fn a_report_without_a_reason_says_what_the_service_answered() {
        let cases = [
            (
                Some(404),
                Some("NoSuchBucket"),
                "the service answered NoSuchBucket (HTTP 404)",
            ),
            (None, Some("SlowDown"), "the service answered SlowDown"),
            (Some(418), None, "the service answered HTTP 418"),
        ];
        for (status, code, said) in cases {
            let report = ErrorReport::from_classified("op", Classified::from_answer(status, code));
            assert_eq!(report.to_string(), format!("op failed: {said}"));
            assert_eq!(report.code(), code);
            assert_eq!(report.status(), status);
        }
        let unreached = ErrorReport::<&str>::new(ErrorKind::Transient);
        assert_eq!(
            unreached.to_string(),
            "the service could not be reached or did not answer in time"
        );
    }

    #[test]
    fn refused_connections_are_found_among_the_causes() {
        assert!(is_connection_refused(&Wrapper(
            std::io::ErrorKind::ConnectionRefused.into()
        )));
        assert!(!is_connection_refused(&Wrapper(
            std::io::ErrorKind::ConnectionReset.into()
        )));
    }

    #[test]
    fn server_failures_may_have_applied_but_rejections_and_throttling_did_not() {
        assert!(answer_may_have_applied(502, None));
        assert!(
            answer_may_have_applied(200, None),
            "a reply that could not be read"
        );
        assert!(!answer_may_have_applied(429, None));
        assert!(!answer_may_have_applied(503, Some("Throttling")));
    }

    #[test]
    fn codes_and_statuses_map_to_kinds() {
        use ErrorKind::*;
        let cases = [
            (Some(404), Some("NoSuchBucket"), NotFound),
            (Some(404), Some("NoSuchSnapshot"), NotFound),
            (Some(404), Some("NoSuchEntity"), NotFound),
            (Some(404), None, NotFound),
            (Some(403), Some("SignatureDoesNotMatch"), AccessDenied),
            (Some(403), Some("InvalidClientTokenId"), AccessDenied),
            (Some(403), None, AccessDenied),
            (Some(409), Some("BucketNotEmpty"), Conflict),
            (Some(409), Some("BucketHasForks"), Conflict),
            (Some(409), Some("EntityAlreadyExists"), Conflict),
            (Some(412), Some("PreconditionFailed"), PreconditionFailed),
            (Some(503), Some("SlowDown"), Transient),
            (Some(400), Some("Throttling"), Transient),
            (Some(502), Some("Whatever"), Transient),
            (Some(400), Some("InvalidArgument"), InvalidInput),
            (Some(400), Some("MalformedPolicyDocument"), InvalidInput),
            (Some(400), Some("Whatever"), Service),
            (None, None, Service),
        ];
        for (status, code, kind) in cases {
            assert_eq!(
                Classified::from_answer(status, code).kind(),
                kind,
                "{code:?} {status:?}"
            );
        }
    }

    #[test]
    fn connector_failures_are_transient_and_refusals_were_not_applied() {
        let refused = ConnectorError::io(Box::new(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        )));
        let reset = ConnectorError::io(Box::new(std::io::Error::from(
            std::io::ErrorKind::ConnectionReset,
        )));
        let refused = Classified::from_connector(&refused);
        assert_eq!(refused.kind(), ErrorKind::Transient);
        assert!(!refused.may_have_applied());
        let reset = Classified::from_connector(&reset);
        assert_eq!(reset.kind(), ErrorKind::Transient);
        assert!(reset.may_have_applied());
        let other = Classified::from_connector(&ConnectorError::other("no creds".into(), None));
        assert_eq!(other.kind(), ErrorKind::Configuration);
    }
}
