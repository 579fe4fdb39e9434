//! The error answer of a Tigris endpoint: S3 XML or JSON, whichever the endpoint speaks.

use std::fmt;

use aws_smithy_types::error::metadata::{ErrorMetadata, ProvideErrorMetadata};
use http::HeaderMap;

/// An error answer from Tigris: the HTTP status plus what the body says, when it says it in
/// S3 XML (`<Error><Code/><Message/><RequestId/></Error>`) or JSON (`{"Code","Message","RequestId"}`
/// or `{"status":"error","message":..}`).
///
/// It is the service error of [`TransportError`](super::TransportError); read it through
/// [`ProvideErrorMetadata`] (`code()`, `message()`) or its own accessors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    status: u16,
    meta: ErrorMetadata,
}

impl ServiceError {
    /// Builds the error for an error `status` from what the body and headers say.
    ///
    /// Bodies Tigris uses: S3 XML `<Error><Code/><Message/><RequestId/></Error>`, JSON
    /// `{"Code","Message","RequestId"}`, and JSON `{"status":"error","message":..}`. Anything
    /// else (an empty body, an HTML page from a proxy) gives the status only.
    ///
    /// ```
    /// use tigris_core::transport::ServiceError;
    /// let body = b"<Error><Code>NoSuchBucket</Code><Message>gone</Message></Error>";
    /// let err = ServiceError::parse(404, &http::HeaderMap::new(), body);
    /// assert_eq!(err.code(), Some("NoSuchBucket"));
    /// assert_eq!(err.status(), 404);
    /// ```
    pub fn parse(status: u16, headers: &HeaderMap, body: &[u8]) -> Self {
        let text = String::from_utf8_lossy(body);
        let text = text.trim_start();
        let (code, message, request_id) = if text.starts_with('<') {
            (
                xml_field(text, "Code"),
                xml_field(text, "Message"),
                xml_field(text, "RequestId"),
            )
        } else if text.starts_with('{') {
            json_fields(text)
        } else {
            (None, None, None)
        };
        let request_id = request_id.or_else(|| {
            headers
                .get("x-amz-request-id")
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        });
        let mut meta = ErrorMetadata::builder();
        if let Some(code) = code {
            meta = meta.code(code);
        }
        if let Some(message) = message {
            meta = meta.message(message);
        }
        if let Some(request_id) = request_id {
            meta = meta.custom("request_id", request_id);
        }
        Self {
            status,
            meta: meta.build(),
        }
    }

    /// The HTTP status code, e.g. `400`.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The error code, e.g. `InvalidArgument`, when the body has one.
    pub fn code(&self) -> Option<&str> {
        self.meta.code()
    }

    /// The human-readable message from the body, when it has one.
    pub fn message(&self) -> Option<&str> {
        self.meta.message()
    }

    /// The request id from the body or the `x-amz-request-id` header, for support requests.
    pub fn request_id(&self) -> Option<&str> {
        self.meta.extra("request_id")
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code() {
            Some(code) => write!(f, "Tigris answered HTTP {} ({code})", self.status),
            None => write!(f, "Tigris answered HTTP {}", self.status),
        }
    }
}

impl std::error::Error for ServiceError {}

impl ProvideErrorMetadata for ServiceError {
    fn meta(&self) -> &ErrorMetadata {
        &self.meta
    }
}

/// The text of the first `<tag>..</tag>`, unescaped; `None` when absent or empty.
fn xml_field(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml.find(&open)? + open.len();
    let len = xml[start..].find(&close)?;
    non_empty(unescape_xml(xml[start..start + len].trim()))
}

fn unescape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let entity = rest.find(';').map(|end| (&rest[1..end], end));
        let decoded = entity.and_then(|(name, end)| {
            let ch = match name {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let number = name.strip_prefix('#')?;
                    let code = match number.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => number.parse().ok()?,
                    };
                    char::from_u32(code)?
                }
            };
            Some((ch, end))
        });
        match decoded {
            Some((ch, end)) => {
                out.push(ch);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

type Fields = (Option<String>, Option<String>, Option<String>);

fn json_fields(text: &str) -> Fields {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(text) else {
        return (None, None, None);
    };
    let field = |names: &[&str]| {
        names
            .iter()
            .find_map(|name| map.get(*name).and_then(serde_json::Value::as_str))
            .map(str::to_owned)
            .and_then(non_empty)
    };
    (
        field(&["Code", "code"]),
        field(&["Message", "message"]),
        field(&["RequestId", "requestId", "request_id"]),
    )
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Error bodies come from the service or from whatever proxy answered: any bytes, or
        /// anything shaped like an S3 XML or a JSON error, give a `ServiceError`, never a panic.
        #[test]
        fn any_error_body_parses_without_panicking(
            status in any::<u16>(),
            body in prop_oneof![
                prop::collection::vec(any::<u8>(), 0..256),
                "<Error>(<(Code|Message|RequestId)>.{0,12}(</(Code|Message|RequestId)>)?){0,4}.{0,8}"
                    .prop_map(String::into_bytes),
                "\\{(\"(Code|Message|code|message|__type)\": ?(\".{0,8}\"|[0-9]{1,3}|null|\\{\\}),? ?){0,4}\\}?"
                    .prop_map(String::into_bytes),
            ],
            request_id in proptest::option::of("[ -~]{0,16}"),
        ) {
            let mut headers = HeaderMap::new();
            if let Some(id) = request_id.and_then(|id| http::HeaderValue::from_str(&id).ok()) {
                headers.insert("x-amz-request-id", id);
            }
            let err = ServiceError::parse(status, &headers, &body);
            prop_assert_eq!(err.status(), status);
            let _ = err.to_string();
        }
    }

    fn parse_body(status: u16, body: &str) -> ServiceError {
        ServiceError::parse(status, &HeaderMap::new(), body.as_bytes())
    }

    #[test]
    fn s3_xml_errors_give_code_message_and_request_id() {
        let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match &amp; &lt;so&gt; &#65;&#x42;</Message><RequestId>req-1</RequestId></Error>"#;
        let err = parse_body(403, body);
        assert_eq!(err.status(), 403);
        assert_eq!(err.code(), Some("SignatureDoesNotMatch"));
        assert_eq!(
            err.message(),
            Some("The request signature we calculated does not match & <so> AB")
        );
        assert_eq!(err.request_id(), Some("req-1"));
    }

    #[test]
    fn tigris_json_errors_give_code_message_and_request_id() {
        let err = parse_body(
            400,
            r#"{"Code":"InvalidArgument","Message":"bad filter","RequestId":"r-2"}"#,
        );
        assert_eq!(
            (err.code(), err.message(), err.request_id()),
            (Some("InvalidArgument"), Some("bad filter"), Some("r-2"))
        );
    }

    #[test]
    fn status_error_json_gives_the_message() {
        let err = parse_body(
            400,
            r#" {"status":"error","message":"No existing notification configuration found"}"#,
        );
        assert_eq!(err.code(), None);
        assert_eq!(
            err.message(),
            Some("No existing notification configuration found")
        );
    }

    #[test]
    fn unreadable_bodies_keep_the_status_and_the_header_request_id() {
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-request-id", "hdr-3".parse().unwrap());
        for body in [
            "",
            "<html>bad gateway</html>",
            "{not json",
            "[1,2]",
            "plain text",
        ] {
            let err = ServiceError::parse(502, &headers, body.as_bytes());
            assert_eq!(
                (err.status(), err.code(), err.message()),
                (502, None, None),
                "{body}"
            );
            assert_eq!(err.request_id(), Some("hdr-3"));
        }
    }

    #[test]
    fn the_body_request_id_wins_over_the_header() {
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-request-id", "hdr".parse().unwrap());
        let err = ServiceError::parse(
            500,
            &headers,
            b"<Error><Code>InternalError</Code><RequestId>body</RequestId></Error>",
        );
        assert_eq!(err.request_id(), Some("body"));
        assert_eq!(err.message(), None);
    }

    #[test]
    fn broken_entities_are_kept_verbatim() {
        assert_eq!(
            unescape_xml("a & b &bogus; &#xZZ; &amp"),
            "a & b &bogus; &#xZZ; &amp"
        );
    }
}
