//! Which failed attempts the transport retries, read by the SDK's standard retry strategy (so
//! the `SdkConfig`'s `RetryConfig` bounds the attempts and the backoff).

use std::time::{Duration, SystemTime};

use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};
use aws_smithy_types::retry::ErrorKind as RetryKind;

use super::ServiceError;
use crate::error::{is_connection_refused, is_throttling_code};

/// Retries throttling (429, throttling codes, also as 503) always; 5xx answers, timeouts and
/// broken connections only for idempotent requests; refused connections always (nothing was
/// sent). Honours `Retry-After`, and gives up when it asks for longer than `max_backoff`.
#[derive(Debug)]
pub(super) struct TigrisRetryClassifier {
    pub(super) idempotent: bool,
    pub(super) max_backoff: Duration,
}

impl ClassifyRetry for TigrisRetryClassifier {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(Err(error)) = ctx.output_or_error() else {
            return RetryAction::NoActionIndicated;
        };
        if let Some(response) = ctx.response() {
            let status = response.status().as_u16();
            let code = error
                .as_operation_error()
                .and_then(|e| e.downcast_ref::<ServiceError>())
                .and_then(ServiceError::code);
            let throttled = status == 429 || code.is_some_and(is_throttling_code);
            let server = (500..600).contains(&status);
            let kind = if throttled {
                RetryKind::ThrottlingError
            } else if server && self.idempotent {
                RetryKind::ServerError
            } else {
                return RetryAction::RetryForbidden;
            };
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| parse_retry_after(v, SystemTime::now()));
            return match retry_after {
                Some(asked) if asked > self.max_backoff => {
                    tracing::debug!(?asked, "Retry-After is longer than the maximum backoff");
                    RetryAction::RetryForbidden
                }
                Some(asked) => RetryAction::retryable_error_with_explicit_delay(kind, asked),
                None => RetryAction::retryable_error(kind),
            };
        }
        if let Some(connector) = error.as_connector_error() {
            if is_connection_refused(connector) {
                return RetryAction::transient_error();
            }
            if self.idempotent && (connector.is_io() || connector.is_timeout()) {
                return RetryAction::transient_error();
            }
            return RetryAction::RetryForbidden;
        }
        if error.is_timeout_error() && self.idempotent {
            return RetryAction::transient_error();
        }
        RetryAction::NoActionIndicated
    }

    fn name(&self) -> &'static str {
        "Tigris transport"
    }
}

/// Parses `Retry-After` as delta-seconds or an HTTP-date (IMF-fixdate), relative to `now`.
pub(super) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = SystemTime::from(
        time::PrimitiveDateTime::parse(value, &format)
            .ok()?
            .assume_utc(),
    );
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// `Retry-After` is a server's header: any text gives a delay or none, never a panic.
        #[test]
        fn any_retry_after_value_parses_without_panicking(
            value in prop_oneof![".{0,40}", "[0-9]{0,25}", "[A-Za-z]{3}, [0-9]{2} [A-Za-z]{3} [0-9]{4} [0-9:]{8} GMT"],
            now_secs in any::<u32>(),
        ) {
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::from(now_secs));
            let _ = parse_retry_after(&value, now);
        }
    }

    #[test]
    fn retry_after_parses_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse_retry_after(" 3 ", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:27 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
