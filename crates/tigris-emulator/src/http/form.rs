//! The fields of a browser form upload (POST object), read ahead of s3s: everything before the
//! file's bytes. From them the emulator does what s3s leaves to the server:
//!
//! - `${filename}` in the `key` field becomes the name of the uploaded file (the form is
//!   rewritten before s3s reads it; the policy is checked against the key so made, as S3 does);
//! - a policy whose `expiration` is not an ISO 8601 UTC date (`2030-01-01T00:00:00Z`, with or
//!   without fractional seconds) is `400 InvalidPolicyDocument`;
//! - a form field failing one of the policy's `eq` or `starts-with` conditions is `403
//!   AccessDenied` ("Invalid according to Policy"), as on S3; the `bucket` condition is checked
//!   against the bucket the form is posted to.
//!
//! The policy is checked only on a form that carries a signature (one without is s3s's `400`),
//! but before s3s verifies it: a form with a wrong signature and a failing condition is `403
//! AccessDenied` where S3 says `403 SignatureDoesNotMatch`. The rest (the signature, the
//! `content-length-range`, fields the policy does not name) is s3s's, after this.

use s3s::post_policy::{PostPolicy, PostPolicyCondition};
use s3s::{S3Error, S3Result, s3_error};

/// The variable S3 replaces in the `key` field with the uploaded file's name.
const FILENAME_VARIABLE: &str = "${filename}";

/// One form field: its name (lower-cased, as S3 compares them) and value, with where the value
/// lies in the form's bytes.
#[derive(Debug)]
struct Field {
    name: String,
    value: String,
    span: std::ops::Range<usize>,
}

/// The part of a form before the file's bytes, parsed.
#[derive(Debug)]
pub(crate) struct Head {
    fields: Vec<Field>,
    /// The uploaded file's name (`filename=` of the file part), if it has one.
    filename: Option<String>,
    /// Where the file's bytes start.
    pub(crate) end: usize,
}

/// The boundary of a `multipart/form-data` content type.
pub(crate) fn boundary(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.trim().split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_owned())
            .filter(|b| !b.is_empty())
    })
}

/// Parses `buf`, the start of a form, up to the file's bytes; `None` while the file part's
/// headers are not all in `buf` (or the form is not one this reading understands: s3s then
/// judges it).
pub(crate) fn parse_head(buf: &[u8], boundary: &str) -> Option<Head> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let mut fields = Vec::new();
    let mut at = find(buf, delimiter, 0)? + delimiter.len();
    loop {
        // Each part: CRLF, headers, a blank line, the value, CRLF, the next delimiter.
        let headers_start = at + 2;
        if buf.get(at..headers_start)? != b"\r\n" {
            return None;
        }
        let headers_end = find(buf, b"\r\n\r\n", headers_start)?;
        let headers = std::str::from_utf8(&buf[headers_start..headers_end]).ok()?;
        let (name, filename) = disposition(headers)?;
        let value_start = headers_end + 4;
        if name.eq_ignore_ascii_case("file") {
            return Some(Head {
                fields,
                filename,
                end: value_start,
            });
        }
        let next = find(buf, delimiter, value_start)?;
        let value_end = next.checked_sub(2).filter(|&e| e >= value_start)?;
        let value = std::str::from_utf8(&buf[value_start..value_end]).ok()?;
        fields.push(Field {
            name: name.to_ascii_lowercase(),
            value: value.to_owned(),
            span: value_start..value_end,
        });
        at = next + delimiter.len();
    }
}

/// The `name` and `filename` of a part's `Content-Disposition: form-data` header.
fn disposition(headers: &str) -> Option<(String, Option<String>)> {
    let line = headers.split("\r\n").find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-disposition")
            .then_some(value)
    })?;
    let mut name = None;
    let mut filename = None;
    for param in line.split(';').skip(1) {
        let Some((key, value)) = param.trim().split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"').to_owned();
        match key.trim().to_ascii_lowercase().as_str() {
            "name" => name = Some(value),
            "filename" => filename = Some(value),
            _ => {}
        }
    }
    Some((name?, filename))
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

impl Head {
    /// The value of the last field named `name` (lower-case).
    fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().rev().find(|f| f.name == name)
    }

    /// Replaces `${filename}` in the `key` field of `buf` (the form these fields were parsed
    /// from) with the uploaded file's name; answers whether it did. `self` then describes the
    /// rewritten form.
    pub(crate) fn substitute_filename(&mut self, buf: &mut Vec<u8>) -> bool {
        let Some(filename) = self.filename.clone().filter(|f| !f.is_empty()) else {
            return false;
        };
        let Some(index) = self
            .fields
            .iter()
            .rposition(|f| f.name == "key" && f.value.contains(FILENAME_VARIABLE))
        else {
            return false;
        };
        let field = &mut self.fields[index];
        let value = field.value.replace(FILENAME_VARIABLE, &filename);
        let span = field.span.clone();
        let grown = value.len() as isize - span.len() as isize;
        buf.splice(span.clone(), value.bytes());
        field.span = span.start..span.start + value.len();
        field.value = value;
        for later in self.fields.iter_mut().filter(|f| f.span.start > span.start) {
            later.span = shift(&later.span, grown);
        }
        self.end = self.end.saturating_add_signed(grown);
        true
    }

    /// Checks the form's policy (if it has one) as described in the module docs. A policy
    /// s3s cannot read is left to s3s, which refuses it.
    pub(crate) fn check_policy(&self, bucket: &str) -> S3Result<()> {
        let Some(encoded) = self.field("policy").map(|f| f.value.trim()) else {
            return Ok(());
        };
        // A form without a signature is s3s's to refuse first (400), as S3 does.
        if self.field("x-amz-signature").is_none() && self.field("signature").is_none() {
            return Ok(());
        }
        let Ok(policy) = PostPolicy::from_base64(encoded) else {
            return Ok(());
        };
        check_expiration_format(encoded)?;
        for condition in &policy.conditions {
            let (field, ok, expected) = match condition {
                PostPolicyCondition::Eq { field, value } => {
                    let actual = self.condition_value(field, bucket);
                    (field, actual == Some(value.as_str()), ("eq", value))
                }
                PostPolicyCondition::StartsWith { field, prefix } => {
                    let actual = self.condition_value(field, bucket).unwrap_or("");
                    (
                        field,
                        actual.starts_with(prefix.as_str()),
                        ("starts-with", prefix),
                    )
                }
                PostPolicyCondition::ContentLengthRange { .. } => continue,
            };
            if !ok {
                let (op, value) = expected;
                return Err(s3_error!(
                    AccessDenied,
                    "Invalid according to Policy: Policy Condition failed: [\"{op}\", \"${field}\", \"{value}\"]"
                ));
            }
        }
        Ok(())
    }

    /// What a condition on `field` compares: the bucket the form is posted to for `bucket`,
    /// otherwise the form's field.
    fn condition_value<'a>(&'a self, field: &str, bucket: &'a str) -> Option<&'a str> {
        if field == "bucket" {
            return Some(bucket);
        }
        self.field(field).map(|f| f.value.as_str())
    }
}

fn shift(span: &std::ops::Range<usize>, by: isize) -> std::ops::Range<usize> {
    span.start.saturating_add_signed(by)..span.end.saturating_add_signed(by)
}

/// `400 InvalidPolicyDocument` unless the policy's `expiration` is an ISO 8601 UTC date-time:
/// `YYYY-MM-DDTHH:MM:SS`, optional fractional seconds, `Z`.
fn check_expiration_format(encoded: &str) -> S3Result<()> {
    let invalid = |value: &str| -> S3Error {
        s3_error!(
            InvalidPolicyDocument,
            "Invalid Policy: Invalid 'expiration' value: '{value}'"
        )
    };
    use base64::Engine as _;
    let json = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok());
    let Some(expiration) = json
        .as_ref()
        .and_then(|j| j.get("expiration"))
        .and_then(|e| e.as_str())
    else {
        return Ok(()); // s3s refuses a policy without one
    };
    if is_iso8601_utc(expiration) {
        Ok(())
    } else {
        Err(invalid(expiration))
    }
}

fn is_iso8601_utc(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let fixed = digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && b.get(10) == Some(&b'T')
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
        && b.get(16) == Some(&b':')
        && digits(17..19);
    let rest = b.get(19..).unwrap_or_default();
    let fraction_ok = match rest {
        [b'Z'] => true,
        [b'.', middle @ .., b'Z'] => !middle.is_empty() && middle.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    fixed
        && fraction_ok
        && time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(fields: &[(&str, &str)], filename: &str) -> Vec<u8> {
        let mut body = String::new();
        for (name, value) in fields {
            body.push_str(&format!(
                "--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str(&format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: text/plain\r\n\r\nbar\r\n--XyZ--\r\n"
        ));
        body.into_bytes()
    }

    #[test]
    fn the_boundary_is_read_from_the_content_type() {
        assert_eq!(
            boundary("multipart/form-data; boundary=\"XyZ\"").as_deref(),
            Some("XyZ")
        );
        assert_eq!(boundary("multipart/form-data"), None);
    }

    #[test]
    fn the_head_ends_where_the_file_bytes_start() {
        let body = form(&[("key", "k"), ("acl", "private")], "a.txt");
        let head = parse_head(&body, "XyZ").unwrap();
        assert_eq!(&body[head.end..head.end + 3], b"bar");
        assert_eq!(head.field("acl").unwrap().value, "private");
    }

    #[test]
    fn a_head_cut_before_the_file_headers_end_is_not_parsed() {
        let body = form(&[("key", "k")], "a.txt");
        let cut = body.len() - "bar\r\n--XyZ--\r\n".len() - 3;
        assert!(parse_head(&body[..cut], "XyZ").is_none());
    }

    #[test]
    fn filename_in_the_key_is_replaced_and_later_fields_follow() {
        let mut body = form(&[("key", "up/${filename}"), ("acl", "private")], "a.txt");
        let mut head = parse_head(&body, "XyZ").unwrap();
        assert!(head.substitute_filename(&mut body));
        assert_eq!(head.field("key").unwrap().value, "up/a.txt");
        let again = parse_head(&body, "XyZ").unwrap();
        assert_eq!(again.field("key").unwrap().value, "up/a.txt");
        assert_eq!(again.field("acl").unwrap().value, "private");
        assert_eq!(again.end, head.end);
        assert_eq!(&body[head.end..head.end + 3], b"bar");
    }

    mod no_panic {
        use super::super::*;
        use proptest::prelude::*;

        /// Forms made of pieces that look like the real thing, cut anywhere.
        fn pieces() -> impl Strategy<Value = Vec<u8>> {
            let piece = prop_oneof![
                Just(b"--XyZ".to_vec()),
                Just(b"\r\n".to_vec()),
                Just(b"\r\n\r\n".to_vec()),
                Just(b"Content-Disposition: form-data; name=\"key\"".to_vec()),
                Just(b"Content-Disposition: form-data; name=\"file\"; filename=\"a\"".to_vec()),
                Just(b"${filename}".to_vec()),
                prop::collection::vec(any::<u8>(), 0..8),
            ];
            prop::collection::vec(piece, 0..16).prop_map(|p| p.concat())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            #[test]
            fn any_form_head_parses_or_not_and_rewrites_in_bounds(mut buf in pieces()) {
                if let Some(mut head) = parse_head(&buf, "XyZ") {
                    head.substitute_filename(&mut buf);
                    prop_assert!(head.end <= buf.len());
                    let _ = head.check_policy("bkt");
                }
            }
        }
    }

    #[test]
    fn only_utc_iso8601_expirations_are_accepted() {
        assert!(is_iso8601_utc("2030-01-01T00:00:00Z"));
        assert!(is_iso8601_utc("2030-01-01T00:00:00.000Z"));
        assert!(!is_iso8601_utc("2030-01-01 00:00:00.123456+00:00"));
        assert!(!is_iso8601_utc("2030-01-01T00:00:00+00:00"));
        assert!(!is_iso8601_utc("2030-13-01T00:00:00Z"));
        assert!(!is_iso8601_utc("2030-01-01T00:00:00.Z"));
    }
}
