//! The check of the `Authorization` header Tigris sends with each webhook request.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;
use http::header::AUTHORIZATION;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{Error, ErrorKind, Result};
use crate::secret::{WebhookPassword, WebhookToken};

/// Checks the `Authorization` header of a webhook request against the configured secret, in
/// constant time.
///
/// Tigris sends `Authorization: Bearer <token>` or `Authorization: Basic base64(user:password)`,
/// whichever the bucket's notification config names. The expected value is kept only as a
/// SHA-256 digest and compared digest to digest, so neither its content nor its length leaks
/// through timing. `Debug` shows only the scheme.
///
/// ```
/// use tigris_notify::WebhookAuth;
/// let auth = WebhookAuth::bearer("s3cr3t");
/// let request = http::Request::post("/hook").header("authorization", "Bearer s3cr3t").body(())?;
/// assert!(auth.verify(&request).is_ok());
/// let forged = http::Request::post("/hook").header("authorization", "Bearer guess").body(())?;
/// assert!(auth.verify(&forged).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct WebhookAuth {
    scheme: Scheme,
    expected: [u8; 32],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Bearer,
    Basic,
}

impl WebhookAuth {
    /// Accepts `Authorization: Bearer <token>`.
    pub fn bearer(token: impl Into<WebhookToken>) -> Self {
        Self {
            scheme: Scheme::Bearer,
            expected: digest(token.into().expose_secret().as_bytes()),
        }
    }

    /// Accepts `Authorization: Basic base64(<username>:<password>)`.
    pub fn basic(username: impl Into<String>, password: impl Into<WebhookPassword>) -> Self {
        let mut credentials = zeroize::Zeroizing::new(username.into());
        credentials.push(':');
        credentials.push_str(password.into().expose_secret());
        Self {
            scheme: Scheme::Basic,
            expected: digest(credentials.as_bytes()),
        }
    }

    /// Checks the request's `Authorization` header.
    ///
    /// # Errors
    /// [`ErrorKind::AccessDenied`] when the header is missing, repeated, of another scheme, or
    /// does not match. Answer such requests with `401`.
    pub fn verify<B>(&self, request: &http::Request<B>) -> Result<()> {
        self.verify_headers(request.headers())
    }

    /// Checks the `Authorization` header in `headers`.
    ///
    /// # Errors
    /// As for [`verify`](Self::verify).
    pub fn verify_headers(&self, headers: &HeaderMap) -> Result<()> {
        let mut values = headers.get_all(AUTHORIZATION).iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            return Err(unauthorized(
                "the webhook request has no single Authorization header",
            ));
        };
        let value = value.as_bytes();
        let split = value.iter().position(|b| *b == b' ').unwrap_or(value.len());
        let (scheme, credentials) = (&value[..split], value[split..].trim_ascii_start());
        let expected_scheme: &[u8] = match self.scheme {
            Scheme::Bearer => b"bearer",
            Scheme::Basic => b"basic",
        };
        if !scheme.eq_ignore_ascii_case(expected_scheme) {
            return Err(unauthorized(
                "the webhook request's Authorization header uses another scheme",
            ));
        }
        let received = match self.scheme {
            Scheme::Bearer => digest(credentials),
            Scheme::Basic => match STANDARD.decode(credentials) {
                Ok(decoded) => digest(&zeroize::Zeroizing::new(decoded)),
                Err(_) => {
                    return Err(unauthorized(
                        "the webhook request's Basic credentials are not base64",
                    ));
                }
            },
        };
        if bool::from(received.ct_eq(&self.expected)) {
            Ok(())
        } else {
            Err(unauthorized(
                "the webhook request's Authorization header does not match",
            ))
        }
    }
}

impl fmt::Debug for WebhookAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookAuth")
            .field("scheme", &self.scheme)
            .field("expected", &"** redacted **")
            .finish()
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn unauthorized(message: &'static str) -> Error {
    Error::new(ErrorKind::AccessDenied, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(AUTHORIZATION, value.parse().unwrap());
        }
        map
    }

    fn check(auth: &WebhookAuth, values: &[&str]) -> bool {
        match auth.verify_headers(&headers(values)) {
            Ok(()) => true,
            Err(err) => {
                assert_eq!(err.kind(), ErrorKind::AccessDenied);
                false
            }
        }
    }

    #[test]
    fn bearer_accepts_the_token_with_any_scheme_case() {
        let auth = WebhookAuth::bearer("tok-123");
        assert!(check(&auth, &["Bearer tok-123"]));
        assert!(check(&auth, &["bearer tok-123"]));
        assert!(check(&auth, &["BEARER  tok-123"]));
    }

    #[test]
    fn bearer_rejects_wrong_missing_or_extra_values() {
        let auth = WebhookAuth::bearer("tok-123");
        for values in [
            &[][..],
            &["Bearer tok-124"],
            &["Bearer tok-1234"],
            &["Bearer tok-12"],
            &["Bearer "],
            &["Bearer"],
            &["tok-123"],
            &["Basic tok-123"],
            &["Token tok-123"],
            &["Bearer tok-123", "Bearer tok-123"],
        ] {
            assert!(!check(&auth, values), "{values:?}");
        }
    }

    #[test]
    fn basic_accepts_the_encoded_user_and_password() {
        let auth = WebhookAuth::basic("alice", "pa:ss wörd");
        let encoded = STANDARD.encode("alice:pa:ss wörd");
        assert!(check(&auth, &[&format!("Basic {encoded}")]));
        assert!(check(&auth, &[&format!("basic {encoded}")]));
    }

    #[test]
    fn basic_rejects_wrong_credentials_and_schemes() {
        let auth = WebhookAuth::basic("alice", "secret");
        let good = STANDARD.encode("alice:secret");
        for value in [
            format!("Basic {}", STANDARD.encode("alice:secreT")),
            format!("Basic {}", STANDARD.encode("bob:secret")),
            format!("Basic {}", STANDARD.encode("alice:")),
            "Basic not base64!".to_owned(),
            format!("Bearer {good}"),
            "Bearer secret".to_owned(),
            good.clone(),
        ] {
            assert!(!check(&auth, &[&value]), "{value}");
        }
    }

    #[test]
    fn verify_reads_the_request_headers() {
        let auth = WebhookAuth::bearer("t");
        let ok = http::Request::post("/")
            .header(AUTHORIZATION, "Bearer t")
            .body(Vec::<u8>::new())
            .unwrap();
        let missing = http::Request::post("/").body(()).unwrap();
        assert!(auth.verify(&ok).is_ok());
        assert_eq!(
            auth.verify(&missing).unwrap_err().kind(),
            ErrorKind::AccessDenied
        );
    }

    #[test]
    fn debug_shows_only_the_scheme() {
        let bearer = WebhookAuth::bearer("tok-not-for-logs");
        let basic = WebhookAuth::basic("alice", "pw-not-for-logs");
        assert_eq!(
            format!("{bearer:?}"),
            r#"WebhookAuth { scheme: Bearer, expected: "** redacted **" }"#
        );
        assert_eq!(
            format!("{basic:#?}"),
            "WebhookAuth {\n    scheme: Basic,\n    expected: \"** redacted **\",\n}"
        );
    }
}
