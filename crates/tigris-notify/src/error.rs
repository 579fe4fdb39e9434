//! [`Error`], the one error type of this crate. Its [`ErrorKind`] is the workspace's
//! ([`tigris_core::ErrorKind`]): one service answer is one kind in every crate.

use std::error::Error as StdError;
use std::fmt;

use tigris_core::error::Classified;
use tigris_core::transport::TransportError;

pub use tigris_core::ErrorKind;
pub use tigris_core::transport::ServiceError;

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The error returned by everything in this crate.
///
/// Branch on [`Error::kind`]. `Display` is one sentence naming what failed (and the bucket, when
/// there is one); it never includes the underlying cause, which is available via
/// [`source()`](StdError::source), nor any secret or webhook URL.
///
/// Kinds used here: [`ErrorKind::InvalidInput`] for input rejected before any request (and for
/// a webhook body that is not a Tigris event payload), [`ErrorKind::AccessDenied`] for a
/// webhook request whose `Authorization` does not match (and for refused credentials),
/// [`ErrorKind::Configuration`] when the transport cannot sign, and the kinds of
/// [`Classified::from_sdk`] for a failed request.
pub struct Error {
    kind: ErrorKind,
    message: String,
    operation: Option<&'static str>,
    code: Option<String>,
    status: Option<u16>,
    request_id: Option<String>,
    source: Option<BoxError>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            operation: None,
            code: None,
            status: None,
            request_id: None,
            source: None,
        }
    }

    pub(crate) fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    pub(crate) fn with_operation(mut self, operation: &'static str) -> Self {
        self.operation = Some(operation);
        self
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// A failed request through the signed transport, read by the shared classifier.
    pub(crate) fn from_transport(what: impl fmt::Display, err: TransportError) -> Self {
        let mut classified = Classified::from_sdk(&err);
        let message = match (classified.code(), classified.status()) {
            (Some(code), Some(status)) => {
                format!("{what} failed: Tigris answered {code} (HTTP {status})")
            }
            (None, Some(status)) => format!("{what} failed: Tigris answered HTTP {status}"),
            _ => format!("{what} failed: {}", classified.kind()),
        };
        Self {
            kind: classified.kind(),
            message,
            operation: None,
            code: classified.take_code(),
            status: classified.status(),
            request_id: classified.request_id().map(str::to_owned),
            source: Some(Box::new(err)),
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The call that failed (`"SetNotifications"`, `"ClearNotifications"`); `None` for an error
    /// not tied to a request (a config or webhook body rejected locally).
    pub fn operation(&self) -> Option<&'static str> {
        self.operation
    }

    /// The error code Tigris answered with (`InvalidArgument`, `NoSuchBucket`, ...), if any.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// The HTTP status of Tigris's answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The request id Tigris gave, for support requests.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// Whether the same call may succeed if tried again later: throttling, a 5xx, a timeout or a
    /// connection failure. The transport has already retried these as far as the `SdkConfig`'s
    /// retry settings allow.
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The source is shown by type-erased Debug; none of our sources carry secrets (request
        // headers are never attached to an error).
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("code", &self.code)
            .field("status", &self.status)
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

impl From<tigris_core::transport::ConfigError> for Error {
    fn from(err: tigris_core::transport::ConfigError) -> Self {
        Self::new(ErrorKind::Configuration, err.to_string()).with_source(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_the_sentence_and_never_the_source() {
        let err = Error::new(
            ErrorKind::Transient,
            "could not reach Tigris at http://127.0.0.1:1",
        )
        .with_source(std::io::Error::other("secret-looking detail"));
        assert_eq!(
            err.to_string(),
            "could not reach Tigris at http://127.0.0.1:1"
        );
        assert!(err.source().is_some());
        assert!(err.is_retryable());
        assert!(!Error::invalid_input("bad").is_retryable());
    }
}
