//! [`Error`], the one error type of this crate, and the [`ErrorKind`] callers branch on.

use std::error::Error as StdError;
use std::fmt;

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, for callers that branch on it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input was rejected before any request was sent: a webhook URL that is not http(s),
    /// conflicting or partial webhook auth, an empty value, an endpoint that is not a URL.
    InvalidInput,
    /// No credentials provider was configured, or it failed to provide credentials.
    Credentials,
    /// Tigris answered with an error status; the details are in the [`ServiceError`].
    Service(ServiceError),
    /// The request never got an answer: connection refused or reset, TLS failure, DNS failure.
    Transport,
    /// The request (or its connection) took longer than the configured timeout.
    Timeout,
    /// A webhook body is not a Tigris event payload.
    InvalidPayload,
    /// A webhook request's `Authorization` header is missing or does not match.
    Unauthorized,
}

/// An error answer from Tigris: the HTTP status plus what the body says, when it says it in
/// S3 XML (`<Error><Code/><Message/><RequestId/></Error>`) or JSON (`{"Code","Message","RequestId"}`
/// or `{"status":"error","message":..}`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServiceError {
    status: u16,
    code: Option<String>,
    message: Option<String>,
    request_id: Option<String>,
}

impl ServiceError {
    pub(crate) fn new(
        status: u16,
        code: Option<String>,
        message: Option<String>,
        request_id: Option<String>,
    ) -> Self {
        Self {
            status,
            code,
            message,
            request_id,
        }
    }

    /// The HTTP status code, e.g. `400`.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The error code, e.g. `InvalidArgument` or `SignatureDoesNotMatch`, when the body has one.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// The human-readable message from the body, when it has one.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// The request id from the body or the `x-amz-request-id` header, for support requests.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// Whether the status says the same request may succeed later (429 or 5xx).
    pub fn is_retryable(&self) -> bool {
        self.status == 429 || (500..600).contains(&self.status)
    }
}

/// The error returned by everything in this crate.
///
/// Branch on [`Error::kind`]. `Display` is one sentence naming what failed (and the bucket, when
/// there is one); it never includes the underlying cause, which is available via
/// [`source()`](StdError::source), nor any secret or webhook URL.
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<BoxError>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The service's answer, when Tigris answered with an error status.
    pub fn service(&self) -> Option<&ServiceError> {
        match &self.kind {
            ErrorKind::Service(service) => Some(service),
            _ => None,
        }
    }

    /// Whether the same call may succeed if tried again later: throttling, a 5xx, a timeout or a
    /// connection failure. The transport has already retried these as far as its
    /// [`RetryPolicy`](crate::RetryPolicy) allows.
    pub fn is_retryable(&self) -> bool {
        match &self.kind {
            ErrorKind::Service(service) => service.is_retryable(),
            ErrorKind::Transport | ErrorKind::Timeout => true,
            _ => false,
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The source is shown by type-erased Debug; none of our sources carry secrets (request
        // headers are never attached to an error).
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_ref()
            .map(|e| e.as_ref() as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_the_sentence_and_never_the_source() {
        let err = Error::new(
            ErrorKind::Transport,
            "could not reach Tigris at http://127.0.0.1:1",
        )
        .with_source(std::io::Error::other("secret-looking detail"));
        assert_eq!(
            err.to_string(),
            "could not reach Tigris at http://127.0.0.1:1"
        );
        assert!(err.source().is_some());
        assert!(err.is_retryable());
    }

    #[test]
    fn service_errors_are_retryable_only_for_throttling_and_5xx() {
        let svc = |status| {
            Error::new(
                ErrorKind::Service(ServiceError::new(status, None, None, None)),
                "x",
            )
        };
        assert!(svc(429).is_retryable());
        assert!(svc(503).is_retryable());
        assert!(!svc(400).is_retryable());
        assert!(!svc(403).is_retryable());
        assert_eq!(svc(400).service().map(ServiceError::status), Some(400));
        assert!(!Error::invalid_input("bad").is_retryable());
    }
}
