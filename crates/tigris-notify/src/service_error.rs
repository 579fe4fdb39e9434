//! Reads an error answer from Tigris: S3 XML or JSON, whichever the endpoint speaks.

use http::HeaderMap;

use crate::error::ServiceError;

/// Builds the [`ServiceError`] for an error `status` from what the body and headers say.
///
/// Bodies Tigris uses: S3 XML `<Error><Code/><Message/><RequestId/></Error>`, JSON
/// `{"Code","Message","RequestId"}`, and JSON `{"status":"error","message":..}`. Anything else
/// (an empty body, an HTML page from a proxy) gives a `ServiceError` with the status only.
pub(crate) fn parse(status: u16, headers: &HeaderMap, body: &[u8]) -> ServiceError {
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
    ServiceError::new(status, code, message, request_id)
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

    fn parse_body(status: u16, body: &str) -> ServiceError {
        parse(status, &HeaderMap::new(), body.as_bytes())
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
            let err = parse(502, &headers, body.as_bytes());
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
        let err = parse(
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
