//! An independent SigV4 verifier for requests s3s does not take: IAM Query requests, which are
//! signed without `x-amz-content-sha256`.
//!
//! Written from the SigV4 specification rather than on top of the signing library the clients
//! use, so a signing bug in a client cannot be mirrored by the same bug here.

use std::time::{Duration, SystemTime};

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// How far a request's `x-amz-date` may be from the server clock.
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// Why a request's signature was refused, as an AWS error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SigError {
    /// No or unparsable `Authorization` header.
    Missing,
    /// The header is there but not complete.
    Incomplete,
    /// The access key is unknown.
    UnknownKey,
    /// The date is too far from now.
    Skewed,
    /// The signature does not match.
    Mismatch,
}

impl SigError {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::Missing => "MissingAuthenticationToken",
            Self::Incomplete => "IncompleteSignature",
            Self::UnknownKey => "InvalidClientTokenId",
            Self::Skewed => "RequestTimeTooSkewed",
            Self::Mismatch => "SignatureDoesNotMatch",
        }
    }

    pub(crate) fn message(self) -> &'static str {
        match self {
            Self::Missing => "Request is missing Authentication Token",
            Self::Incomplete => "The request signature is incomplete or malformed",
            Self::UnknownKey => "The security token included in the request is invalid",
            Self::Skewed => "Signature expired: the request time is too far from the server time",
            Self::Mismatch => {
                "The request signature we calculated does not match the signature you provided"
            }
        }
    }
}

/// The parts of an `Authorization: AWS4-HMAC-SHA256 ...` header.
#[derive(Debug)]
struct Authorization<'a> {
    access_key: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Result<Authorization<'_>, SigError> {
    let rest = value
        .strip_prefix("AWS4-HMAC-SHA256")
        .ok_or(SigError::Missing)?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let credential = credential.ok_or(SigError::Incomplete)?;
    let mut scope = credential.split('/');
    let mut next = || {
        scope
            .next()
            .filter(|s| !s.is_empty())
            .ok_or(SigError::Incomplete)
    };
    let (access_key, date, region, service, terminator) =
        (next()?, next()?, next()?, next()?, next()?);
    if terminator != "aws4_request" {
        return Err(SigError::Incomplete);
    }
    let signed_headers: Vec<&str> = signed.ok_or(SigError::Incomplete)?.split(';').collect();
    Ok(Authorization {
        access_key,
        date,
        region,
        service,
        signed_headers,
        signature: signature.ok_or(SigError::Incomplete)?,
    })
}

/// Parses `YYYYMMDDTHHMMSSZ`.
fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let dt = time::PrimitiveDateTime::parse(s, format).ok()?.assume_utc();
    let secs = u64::try_from(dt.unix_timestamp()).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// RFC 3986 encoding as SigV4 wants it: everything but unreserved characters (and `/` if asked).
pub(crate) fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%'
            && let Some(hex) = bytes
                .get(i + 1..i + 3)
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
        {
            let digit = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
            out.push(digit(hex[0]) * 16 + digit(hex[1]));
            i += 3;
            continue;
        }
        out.push(if b == b'+' && plus_is_space { b' ' } else { b });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Decodes an `application/x-www-form-urlencoded` body or query string into pairs.
pub(crate) fn parse_form(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

fn canonical_query(query: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> = query
        .map(|q| {
            q.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (
                        uri_encode(&percent_decode(k, false), false),
                        uri_encode(&percent_decode(v, false), false),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    pairs.sort();
    pairs
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Verifies a SigV4-signed request for a non-S3 service; returns the access key id.
///
/// `secret_for` looks the signing key's secret up.
pub(crate) fn verify(
    parts: &http::request::Parts,
    body: &[u8],
    expected_service: &str,
    now: SystemTime,
    secret_for: impl FnOnce(&str) -> Option<String>,
) -> Result<String, SigError> {
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let auth = parse_authorization(header("authorization").ok_or(SigError::Missing)?)?;
    if auth.service != expected_service {
        return Err(SigError::Incomplete);
    }
    let amz_date = header("x-amz-date").ok_or(SigError::Incomplete)?;
    let when = parse_amz_date(amz_date).ok_or(SigError::Incomplete)?;
    let skew = now.duration_since(when).unwrap_or_else(|e| e.duration());
    if skew > MAX_SKEW {
        return Err(SigError::Skewed);
    }
    if !amz_date.starts_with(auth.date) || !auth.signed_headers.contains(&"host") {
        return Err(SigError::Incomplete);
    }
    let secret = secret_for(auth.access_key).ok_or(SigError::UnknownKey)?;

    let mut canonical_headers = String::new();
    for name in &auth.signed_headers {
        let values: Vec<String> = parts
            .headers
            .get_all(*name)
            .iter()
            .map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    // The body is hashed here, never taken from the client: a claimed hash that does not match
    // (a body swapped after signing, or `UNSIGNED-PAYLOAD`) fails.
    let payload_hash = sha256_hex(body);
    if header("x-amz-content-sha256").is_some_and(|claimed| claimed != payload_hash) {
        return Err(SigError::Mismatch);
    }
    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        parts.method.as_str(),
        uri_encode(parts.uri.path(), true),
        canonical_query(parts.uri.query()),
        canonical_headers,
        auth.signed_headers.join(";"),
        payload_hash,
    );
    let scope = format!(
        "{}/{}/{}/aws4_request",
        auth.date, auth.region, auth.service
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let mut key = hmac(format!("AWS4{secret}").as_bytes(), auth.date.as_bytes());
    for part in [auth.region, auth.service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let expected = hex::encode(hmac(&key, string_to_sign.as_bytes()));
    if constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        Ok(auth.access_key.to_owned())
    } else {
        Err(SigError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example from the AWS SigV4 documentation ("Signature Version 4 test suite", get-vanilla).
    #[test]
    fn matches_the_published_get_vanilla_example() {
        let req = http::Request::builder()
            .method("GET")
            .uri("/")
            .header("host", "example.amazonaws.com")
            .header("x-amz-date", "20150830T123600Z")
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                 SignedHeaders=host;x-amz-date, \
                 Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            )
            .body(())
            .unwrap();
        let (parts, ()) = req.into_parts();
        let at = parse_amz_date("20150830T123600Z").unwrap();
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        assert_eq!(
            verify(&parts, b"", "service", at, |_| Some(secret.into())),
            Ok("AKIDEXAMPLE".into())
        );
        assert_eq!(
            verify(&parts, b"", "service", at, |_| Some("other".into())),
            Err(SigError::Mismatch)
        );
        let later = at + Duration::from_secs(3600);
        assert_eq!(
            verify(&parts, b"", "service", later, |_| Some(secret.into())),
            Err(SigError::Skewed)
        );
        assert_eq!(
            verify(&parts, b"", "iam", at, |_| Some(secret.into())),
            Err(SigError::Incomplete)
        );
    }

    #[test]
    fn form_bodies_decode() {
        let pairs =
            parse_form("Action=CreatePolicy&PolicyDocument=%7B%22a%22%3A1%7D&Name=a+b&Bad=%ZZ");
        assert_eq!(pairs[0], ("Action".into(), "CreatePolicy".into()));
        assert_eq!(pairs[1].1, "{\"a\":1}");
        assert_eq!(pairs[2].1, "a b");
        assert_eq!(pairs[3].1, "%ZZ");
    }
}
