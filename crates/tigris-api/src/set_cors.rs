//! A bucket's CORS rules, as Tigris's own clients set them: [`Client::set_cors`](crate::Client::set_cors); read
//! them with [`Client::get_cors`](crate::Client::get_cors), remove them with
//! [`Client::clear_cors`](crate::Client::clear_cors).
//!
//! The rules go in the settings `PATCH /{bucket}` (`cors`), and are read back from
//! `GET /{bucket}?metadata`. They are the same rules S3's PutBucketCors sets: browsers get CORS
//! headers from the first rule matching the request's origin and method (and, for a preflight
//! `OPTIONS`, its requested headers).
//!
//! ```no_run
//! # async fn demo(tigris: tigris_api::Client) -> Result<(), tigris_api::Error> {
//! use std::time::Duration;
//! use tigris_api::set_cors::CorsRule;
//!
//! let uploads = CorsRule::new()
//!     .allowed_origin("https://app.example.com")
//!     .allowed_methods(["GET", "PUT"])
//!     .allowed_header("Content-Type")
//!     .expose_header("ETag")
//!     .max_age(Duration::from_secs(600));
//! tigris.set_cors().bucket("assets").rule(uploads).send().await?;
//! let rules = tigris.get_cors().bucket("assets").send().await?;
//! assert_eq!(rules.len(), 1);
//! tigris.clear_cors().bucket("assets").send().await?;
//! # Ok(()) }
//! ```

use std::time::Duration;

use serde_json::{Value, json};
use tigris_core::transport::SignedTransport;
use tracing::Instrument;

use crate::error::{Error, Operation, Result};
use crate::wire::{Invalid, bucket_name, patch_bucket};

/// The methods a CORS rule may allow, as Tigris's clients accept them (or `*` alone).
pub const CORS_METHODS: [&str; 9] = [
    "GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT",
];

/// The most rules one bucket may have (S3's limit, which this crate also applies to Tigris).
pub const MAX_CORS_RULES: usize = 100;

/// One CORS rule: which origins may use which methods and headers, which response headers the
/// browser may read, and how long it may cache a preflight answer.
///
/// Built with named setters and checked when sent ([`validate`](Self::validate) checks it
/// earlier):
/// - at least one origin; each is `*`, or an origin with at most one `*` standing for any
///   text (`https://*.example.com`), without spaces;
/// - at least one method, from [`CORS_METHODS`], or `*`;
/// - headers are header names (allowed headers may hold one `*`, as in `x-amz-*`);
/// - `*` is never combined with other values in one list;
/// - a max age of at least one second.
///
/// ```
/// use tigris_api::set_cors::CorsRule;
///
/// let rule = CorsRule::new().allowed_origin("*").allowed_methods(["GET", "HEAD"]);
/// assert!(rule.validate().is_ok());
/// let bad = CorsRule::new().allowed_origin("*").allowed_methods(["FETCH"]);
/// assert!(bad.validate().is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CorsRule {
    allowed_origins: Vec<String>,
    allowed_methods: Vec<String>,
    allowed_headers: Vec<String>,
    expose_headers: Vec<String>,
    max_age: Option<Duration>,
}

impl CorsRule {
    /// An empty rule; give it at least an origin and a method.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an allowed origin (`https://app.example.com`, `https://*.example.com`, or `*`).
    pub fn allowed_origin(mut self, origin: impl Into<String>) -> Self {
        self.allowed_origins.push(origin.into());
        self
    }

    /// Adds allowed methods (`GET`, `PUT`, ..., or `*`).
    pub fn allowed_methods<I, S>(mut self, methods: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_methods
            .extend(methods.into_iter().map(Into::into));
        self
    }

    /// Adds a request header a preflight may ask for (`Content-Type`, `x-amz-*`, or `*`).
    pub fn allowed_header(mut self, header: impl Into<String>) -> Self {
        self.allowed_headers.push(header.into());
        self
    }

    /// Adds a response header the browser may read (`ETag`, for multipart uploads).
    pub fn expose_header(mut self, header: impl Into<String>) -> Self {
        self.expose_headers.push(header.into());
        self
    }

    /// How long a browser may cache the preflight answer (whole seconds, at least one).
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// The allowed origins.
    pub fn get_allowed_origins(&self) -> &[String] {
        &self.allowed_origins
    }

    /// The allowed methods.
    pub fn get_allowed_methods(&self) -> &[String] {
        &self.allowed_methods
    }

    /// The request headers a preflight may ask for.
    pub fn get_allowed_headers(&self) -> &[String] {
        &self.allowed_headers
    }

    /// The response headers the browser may read.
    pub fn get_expose_headers(&self) -> &[String] {
        &self.expose_headers
    }

    /// How long a preflight answer may be cached, when set.
    pub fn get_max_age(&self) -> Option<Duration> {
        self.max_age
    }

    /// Checks the rule as [`SetCorsFluentBuilder::send`] does, without sending anything.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput), saying which value is
    /// wrong (see the type's docs for the rules).
    pub fn validate(&self) -> Result<()> {
        self.problem().map_or(Ok(()), |p| {
            Err(Error::invalid_value("the CORS rule is invalid", Invalid(p)))
        })
    }

    fn problem(&self) -> Option<String> {
        if self.allowed_origins.is_empty() {
            return Some("a CORS rule needs at least one allowed origin".into());
        }
        if self.allowed_methods.is_empty() {
            return Some("a CORS rule needs at least one allowed method".into());
        }
        for (what, list) in [
            ("origins", &self.allowed_origins),
            ("methods", &self.allowed_methods),
            ("allowed headers", &self.allowed_headers),
            ("exposed headers", &self.expose_headers),
        ] {
            if list.len() > 1 && list.iter().any(|v| v == "*") {
                return Some(format!("`*` cannot be combined with other {what}"));
            }
        }
        for origin in &self.allowed_origins {
            if !valid_origin(origin) {
                return Some(format!("origin {origin:?} has spaces or more than one `*`"));
            }
        }
        for method in &self.allowed_methods {
            if method != "*" && !CORS_METHODS.contains(&method.as_str()) {
                return Some(format!(
                    "method {method:?} is not one of {} (or `*`)",
                    CORS_METHODS.join(", ")
                ));
            }
        }
        for header in &self.allowed_headers {
            if header.matches('*').count() > 1 || !is_token(header) {
                return Some(format!(
                    "allowed header {header:?} is not a header name (with at most one `*`)"
                ));
            }
        }
        for header in &self.expose_headers {
            if header != "*" && (header.contains('*') || !is_token(header)) {
                return Some(format!("exposed header {header:?} is not a header name"));
            }
        }
        match self.max_age {
            Some(age) if age.as_secs() == 0 || age.subsec_nanos() != 0 => Some(format!(
                "a max age of {age:?} is not a whole number of seconds, at least one"
            )),
            Some(age) if age.as_secs() > u64::from(u32::MAX) => {
                Some(format!("a max age of {age:?} is too long"))
            }
            _ => None,
        }
    }

    fn to_wire(&self) -> Value {
        let mut rule = json!({
            "allowedOrigin": self.allowed_origins,
            "allowedMethods": self.allowed_methods,
            "allowedHeaders": self.allowed_headers,
            "exposeHeaders": self.expose_headers,
        });
        if let Some(age) = self.max_age {
            rule["maxAge"] = age.as_secs().into();
        }
        rule
    }

    /// Reads one rule of `cors.rules` from the metadata; `None` for a value that is not one.
    pub(crate) fn from_wire(value: &Value) -> Option<Self> {
        let list = |key: &str| -> Option<Vec<String>> {
            match value.get(key) {
                None | Some(Value::Null) => Some(Vec::new()),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect(),
                Some(_) => None,
            }
        };
        Some(Self {
            allowed_origins: list("allowedOrigin")?,
            allowed_methods: list("allowedMethods")?,
            allowed_headers: list("allowedHeaders")?,
            expose_headers: list("exposeHeaders")?,
            max_age: value
                .get("maxAge")
                .and_then(Value::as_u64)
                .map(Duration::from_secs),
        })
    }
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && http::HeaderName::from_bytes(s.as_bytes()).is_ok()
}

/// `*`, or an origin (`https://app.example.com`) with at most one `*` standing for any text
/// (`https://*.example.com`, as S3 matches origins); no spaces or control characters.
fn valid_origin(origin: &str) -> bool {
    !origin.is_empty()
        && origin.matches('*').count() <= 1
        && origin.chars().all(|c| c.is_ascii_graphic())
}

/// Replaces a bucket's CORS rules; from [`Client::set_cors`](crate::Client::set_cors).
///
/// Sends `PATCH /{bucket}` with `{"cors": {"rules": [...]}}`: the rules given, in order (the
/// first that matches a request answers it), replacing any the bucket had. Every rule is
/// checked first ([`CorsRule`]); no rule at all, or more than [`MAX_CORS_RULES`], is refused
/// too (clear them with [`Client::clear_cors`](crate::Client::clear_cors)).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let emu = tigris_emulator::Emulator::start().await?;
/// # let sdk = tigris_core::config::builder().endpoint_url(emu.endpoint())
/// #     .credentials(aws_sdk_s3::config::Credentials::new(emu.root_credentials().access_key_id(),
/// #         emu.root_credentials().secret_access_key(), None, None, "doc")).build();
/// # tigris_core::config::s3_client(&sdk).create_bucket().bucket("site").send().await?;
/// use tigris_api::set_cors::CorsRule;
///
/// let tigris = tigris_api::Client::new(&sdk)?;
/// tigris
///     .set_cors().bucket("site")
///     .rule(CorsRule::new().allowed_origin("*").allowed_methods(["GET", "HEAD"]))
///     .send()
///     .await?;
/// let rules = tigris.get_cors().bucket("site").send().await?;
/// assert_eq!(rules[0].get_allowed_origins(), ["*"]);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct SetCorsFluentBuilder {
    transport: SignedTransport,
    bucket: String,
    rules: Vec<CorsRule>,
}

impl SetCorsFluentBuilder {
    /// The bucket (required).
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = bucket.as_ref().to_owned();
        self
    }

    /// Adds a rule after those already added.
    pub fn rule(mut self, rule: CorsRule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Adds rules after those already added.
    pub fn rules(mut self, rules: impl IntoIterator<Item = CorsRule>) -> Self {
        self.rules.extend(rules);
        self
    }

    /// Checks every rule, then replaces the bucket's rules with them.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for an
    /// invalid bucket name or rule, no rule, or too many; otherwise what Tigris answers
    /// ([`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for an unknown bucket).
    pub async fn send(self) -> Result<()> {
        let span = tracing::debug_span!("set_cors", bucket = %self.bucket);
        async {
            let operation = Operation::SetCors {
                bucket: self.bucket.clone(),
            };
            let bucket = bucket_name(&self.bucket, || operation.clone())?;
            if self.rules.is_empty() {
                return Err(Error::invalid_argument(
                    operation,
                    "no CORS rule was given: add one with .rule(..), or use clear_cors",
                ));
            }
            if self.rules.len() > MAX_CORS_RULES {
                return Err(Error::invalid_argument(
                    operation,
                    "a bucket may have at most 100 CORS rules",
                ));
            }
            for (i, rule) in self.rules.iter().enumerate() {
                if let Some(problem) = rule.problem() {
                    return Err(Error::invalid_input(
                        operation,
                        "a CORS rule is invalid",
                        Invalid(format!("rule {}: {problem}", i + 1)),
                    ));
                }
            }
            let rules: Vec<Value> = self.rules.iter().map(CorsRule::to_wire).collect();
            patch_bucket(
                &self.transport,
                bucket,
                json!({ "cors": { "rules": rules } }),
                &operation,
            )
            .await
        }
        .instrument(span)
        .await
    }
}

impl crate::Client {
    /// Replaces a bucket's CORS rules. See [`SetCorsFluentBuilder`].
    pub fn set_cors(&self) -> SetCorsFluentBuilder {
        SetCorsFluentBuilder {
            transport: self.transport.clone(),
            bucket: String::new(),
            rules: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> CorsRule {
        CorsRule::new()
            .allowed_origin("https://app.example.com")
            .allowed_methods(["GET"])
    }

    #[test]
    fn a_rule_with_an_origin_and_a_method_is_valid() {
        assert!(ok().validate().is_ok());
        assert!(
            ok().allowed_origin("https://*.example.com:8443")
                .allowed_header("x-amz-*")
                .expose_header("ETag")
                .max_age(Duration::from_secs(600))
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn each_bad_value_is_refused_with_what_is_wrong() {
        let cases = [
            (CorsRule::new().allowed_methods(["GET"]), "origin"),
            (CorsRule::new().allowed_origin("*"), "method"),
            (ok().allowed_origin("*"), "combined"),
            (ok().allowed_methods(["FETCH"]), "FETCH"),
            (ok().allowed_methods(["get"]), "get"),
            (
                CorsRule::new()
                    .allowed_origin("https://app example.com")
                    .allowed_methods(["GET"]),
                "origin",
            ),
            (
                CorsRule::new()
                    .allowed_origin("https://*.*.example.com")
                    .allowed_methods(["GET"]),
                "origin",
            ),
            (
                CorsRule::new().allowed_origin("").allowed_methods(["GET"]),
                "origin",
            ),
            (ok().allowed_header("bad header"), "header"),
            (ok().expose_header("x-*"), "exposed"),
            (ok().max_age(Duration::ZERO), "max age"),
            (ok().max_age(Duration::from_millis(1500)), "max age"),
        ];
        for (rule, needle) in cases {
            let err = rule.validate().expect_err(needle);
            assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
            let why = std::error::Error::source(&err).unwrap().to_string();
            assert!(why.contains(needle), "{why} should mention {needle}");
        }
    }

    #[test]
    fn the_wire_form_uses_tigris_field_names_and_reads_back() {
        let rule = ok().expose_header("ETag").max_age(Duration::from_secs(60));
        let wire = rule.to_wire();
        assert_eq!(
            wire,
            json!({"allowedOrigin": ["https://app.example.com"], "allowedMethods": ["GET"],
                "allowedHeaders": [], "exposeHeaders": ["ETag"], "maxAge": 60})
        );
        assert_eq!(CorsRule::from_wire(&wire), Some(rule));
        assert_eq!(CorsRule::from_wire(&json!({"allowedOrigin": "x"})), None);
    }
}
