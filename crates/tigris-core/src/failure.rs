//! How to read a failed request, shared by the crates so they agree: which error codes mean
//! "throttled", and whether a failure may have been carried out by the service anyway.

use std::error::Error as StdError;

/// Whether `code` is a throttling error code (S3's `SlowDown`, the AWS `Throttling` family).
/// A throttled request was refused: retry it later, it did nothing.
///
/// ```
/// use tigris_core::failure::is_throttling_code;
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
/// use tigris_core::failure::answer_may_have_applied;
/// assert!(answer_may_have_applied(500, Some("InternalError")));
/// assert!(!answer_may_have_applied(503, Some("SlowDown")));
/// assert!(!answer_may_have_applied(409, Some("BucketAlreadyOwnedByYou")));
/// ```
pub fn answer_may_have_applied(status: u16, code: Option<&str>) -> bool {
    !(400..500).contains(&status) && !code.is_some_and(is_throttling_code)
}

/// Whether `err`, or one of its causes, is a refused connection: then the request never left
/// the client.
///
/// ```
/// use tigris_core::failure::is_connection_refused;
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

    impl std::fmt::Display for Wrapper {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("wrapped")
        }
    }

    impl StdError for Wrapper {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&self.0)
        }
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
}
