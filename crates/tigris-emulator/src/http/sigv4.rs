//! An independent SigV4 verifier for requests s3s does not take: IAM Query requests, which are
//! signed without `x-amz-content-sha256`. Its pieces ([`signature`], [`amz_date`],
//! [`canonical_query_of`]) also sign what the emulator sends: presigned URLs and requests to
//! shadow buckets, both of which s3s verifies on their way back in.
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

pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

pub(crate) fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
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
    let pairs: Vec<(String, String)> = query
        .map(|q| {
            q.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (percent_decode(k, false), percent_decode(v, false))
                })
                .collect()
        })
        .unwrap_or_default();
    canonical_query_of(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// The canonical query string of decoded `(name, value)` pairs: each encoded, sorted by name
/// and then value, joined with `&`.
pub(crate) fn canonical_query_of<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    let mut pairs: Vec<(String, String)> = pairs
        .into_iter()
        .map(|(k, v)| (uri_encode(k, false), uri_encode(v, false)))
        .collect();
    pairs.sort();
    pairs
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// `t` as `x-amz-date` writes it: `YYYYMMDDTHHMMSSZ`.
pub(crate) fn amz_date(t: SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The hex SigV4 signature of `canonical_request`, made at `amz_date` (`YYYYMMDDTHHMMSSZ`) with
/// `secret` for the scope `{day}/{region}/{service}/aws4_request`.
pub(crate) fn signature(
    secret: &str,
    amz_date: &str,
    day: &str,
    region: &str,
    service: &str,
    canonical_request: &str,
) -> String {
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{day}/{region}/{service}/aws4_request\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let mut key = hmac(format!("AWS4{secret}").as_bytes(), day.as_bytes());
    for part in [region, service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    hex::encode(hmac(&key, string_to_sign.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Verifies a SigV4-signed request for a non-S3 endpoint; returns the access key id.
///
/// The credential scope's service must be one of `services`; `secret_for` looks the signing
/// key's secret up.
pub(crate) fn verify(
    parts: &http::request::Parts,
    body: &[u8],
    services: &[&str],
    now: SystemTime,
    secret_for: impl FnOnce(&str) -> Option<String>,
) -> Result<String, SigError> {
    verify_with(parts, Payload::Body(body), services, now, secret_for)
}

/// Verifies the signature of an S3 request signed in its `Authorization` header, before its
/// body is read; returns the access key id.
///
/// The payload line of the canonical request is the `x-amz-content-sha256` the client declared
/// (a hex digest or `UNSIGNED-PAYLOAD`; streaming uploads are refused as `Incomplete`): whoever
/// reads the body still has to check it against that digest, as s3s does. The path is
/// canonicalised as S3 wants it, encoded once, with the path as sent as a fallback.
pub(crate) fn verify_s3_headers(
    parts: &http::request::Parts,
    now: SystemTime,
    secret_for: impl FnOnce(&str) -> Option<String>,
) -> Result<String, SigError> {
    verify_with(parts, Payload::Declared, &["s3"], now, secret_for)
}

/// What the last line of the canonical request is made of.
#[derive(Debug, Clone, Copy)]
enum Payload<'a> {
    /// The body, hashed here (non-S3 endpoints, which sign a body they send whole).
    Body(&'a [u8]),
    /// The hash the client declared in `x-amz-content-sha256` (S3, before the body is read).
    Declared,
}

fn verify_with(
    parts: &http::request::Parts,
    payload: Payload<'_>,
    services: &[&str],
    now: SystemTime,
    secret_for: impl FnOnce(&str) -> Option<String>,
) -> Result<String, SigError> {
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let auth = parse_authorization(header("authorization").ok_or(SigError::Missing)?)?;
    if !services.contains(&auth.service) {
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
    let path = parts.uri.path();
    let (payload_hash, uris) = match payload {
        Payload::Body(body) => {
            // The body is hashed here, never taken from the client: a claimed hash that does
            // not match (a body swapped after signing, or `UNSIGNED-PAYLOAD`) fails.
            let payload_hash = sha256_hex(body);
            if header("x-amz-content-sha256").is_some_and(|claimed| claimed != payload_hash) {
                return Err(SigError::Mismatch);
            }
            (payload_hash, vec![uri_encode(path, true)])
        }
        Payload::Declared => {
            let declared = header("x-amz-content-sha256").ok_or(SigError::Incomplete)?;
            if declared.starts_with("STREAMING-") {
                return Err(SigError::Incomplete);
            }
            let once = uri_encode(&percent_decode(path, false), true);
            (declared.to_owned(), vec![once, path.to_owned()])
        }
    };
    let query = canonical_query(parts.uri.query());
    let signed_headers = auth.signed_headers.join(";");
    for uri in uris {
        let canonical_request = format!(
            "{}\n{uri}\n{query}\n{canonical_headers}\n{signed_headers}\n{payload_hash}",
            parts.method.as_str(),
        );
        let expected = signature(
            &secret,
            amz_date,
            auth.date,
            auth.region,
            auth.service,
            &canonical_request,
        );
        if constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
            return Ok(auth.access_key.to_owned());
        }
    }
    Err(SigError::Mismatch)
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
            verify(&parts, b"", &["service"], at, |_| Some(secret.into())),
            Ok("AKIDEXAMPLE".into())
        );
        assert_eq!(
            verify(&parts, b"", &["service"], at, |_| Some("other".into())),
            Err(SigError::Mismatch)
        );
        let later = at + Duration::from_secs(3600);
        assert_eq!(
            verify(&parts, b"", &["service"], later, |_| Some(secret.into())),
            Err(SigError::Skewed)
        );
        assert_eq!(
            verify(&parts, b"", &["iam"], at, |_| Some(secret.into())),
            Err(SigError::Incomplete)
        );
    }

    #[test]
    fn amz_dates_are_basic_iso_8601() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        assert_eq!(amz_date(t), "20150830T123600Z");
        assert_eq!(parse_amz_date(&amz_date(t)), Some(t));
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

    mod no_panic {
        //! Every parser of client input answers `Ok` or `Err`, whatever the bytes.
        use super::super::*;
        use proptest::prelude::*;

        /// Pieces of an `Authorization` header, valid or nearly: each may be empty, non-ASCII
        /// or out of place, so the parser's later steps are reached too.
        fn authorization() -> impl Strategy<Value = String> {
            let piece = prop_oneof![
                Just(String::new()),
                "[A-Za-z0-9_]{1,12}",
                "[0-9]{8}",
                Just("aws4_request".to_owned()),
                Just("iam".to_owned()),
                Just("host".to_owned()),
                Just("x-amz-date".to_owned()),
                any::<String>(),
                "[/,;= é€\u{0}]{1,3}",
            ];
            let scope = prop::collection::vec(piece.clone(), 0..7).prop_map(|p| p.join("/"));
            let headers = prop::collection::vec(piece.clone(), 0..4).prop_map(|p| p.join(";"));
            (
                prop_oneof![
                    Just("AWS4-HMAC-SHA256 "),
                    Just("AWS4-HMAC-SHA256"),
                    Just("AWS4")
                ],
                scope,
                headers,
                piece,
                prop::sample::select(vec![", ", ",", " ,", ",,", "é"]),
            )
                .prop_map(|(prefix, scope, headers, sig, sep)| {
                    format!(
                        "{prefix}Credential={scope}{sep}SignedHeaders={headers}{sep}Signature={sig}"
                    )
                })
        }

        fn amz_date() -> impl Strategy<Value = String> {
            prop_oneof![
                "[0-9]{8}T[0-9]{6}Z",
                "[0-9]{0,9}T?[0-9]{0,7}Z?",
                "[0-9é]{8}T[0-9€]{6}Z",
                any::<String>(),
            ]
        }

        fn form() -> impl Strategy<Value = String> {
            let token = prop_oneof![
                "[A-Za-z]{1,8}",
                "%[0-9A-Fa-fGz]{0,2}",
                "[+&=%]",
                "%[CcDdEeFf][0-9A-Fa-f]",
                any::<String>(),
            ];
            prop::collection::vec(token, 0..12).prop_map(|t| t.concat())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            #[test]
            fn authorization_headers_parse_or_fail(s in prop_oneof![any::<String>(), authorization()]) {
                let _ = parse_authorization(&s);
            }

            #[test]
            fn amz_dates_parse_or_fail(s in amz_date()) {
                let _ = parse_amz_date(&s);
            }

            #[test]
            fn forms_and_queries_decode(s in form()) {
                let pairs = parse_form(&s);
                prop_assert!(pairs.len() <= s.len());
                let _ = canonical_query(Some(&s));
            }

            /// The whole verifier, on requests whose headers, query and body are arbitrary
            /// or nearly valid.
            #[test]
            fn verify_answers_every_request(
                auth in prop_oneof![authorization(), any::<String>()],
                raw_auth in prop::collection::vec(any::<u8>(), 0..64),
                date in amz_date(),
                query in form(),
                claimed in prop_oneof![Just(None), Just(Some("UNSIGNED-PAYLOAD".to_owned())), "[0-9a-f]{64}".prop_map(Some)],
                body in prop::collection::vec(any::<u8>(), 0..64),
                raw in any::<bool>(),
            ) {
                let mut req = http::Request::builder().method("POST");
                if let Ok(uri) = format!("/?{query}").parse::<http::Uri>() {
                    req = req.uri(uri);
                }
                let Ok(req) = req.body(()) else { return Ok(()) };
                let (mut parts, ()) = req.into_parts();
                let value = if raw {
                    http::HeaderValue::from_bytes(&raw_auth)
                } else {
                    http::HeaderValue::from_str(&auth)
                };
                if let Ok(v) = value {
                    parts.headers.insert("authorization", v);
                }
                if let Ok(v) = http::HeaderValue::from_str(&date) {
                    parts.headers.insert("x-amz-date", v);
                }
                if let Some(Ok(v)) = claimed.map(|c| http::HeaderValue::from_str(&c)) {
                    parts.headers.insert("x-amz-content-sha256", v);
                }
                parts.headers.insert("host", http::HeaderValue::from_static("localhost"));
                let now = parse_amz_date(&date).unwrap_or(SystemTime::UNIX_EPOCH);
                let _ = verify(&parts, &body, &["iam"], now, |_| Some("secret".into()));
            }

            /// A well-formed header whose scope matches the date, so the canonical request and
            /// signature steps run on arbitrary signed-header names and query strings.
            #[test]
            fn verify_reaches_the_signature_check(
                date in "20[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9])T[0-2][0-9][0-5][0-9][0-5][0-9]Z",
                extra in prop::collection::vec(prop_oneof!["[a-z-]{1,10}", any::<String>()], 0..3),
                query in form(),
                signature in prop_oneof!["[0-9a-f]{64}", any::<String>()],
                body in prop::collection::vec(any::<u8>(), 0..64),
            ) {
                let headers = [vec!["host".to_owned(), "x-amz-date".to_owned()], extra].concat();
                let auth = format!(
                    "AWS4-HMAC-SHA256 Credential=AK/{}/auto/iam/aws4_request, SignedHeaders={}, Signature={signature}",
                    &date[..8],
                    headers.join(";"),
                );
                let Ok(auth) = http::HeaderValue::from_str(&auth) else { return Ok(()) };
                let uri = format!("/?{query}").parse::<http::Uri>().unwrap_or_default();
                let req = http::Request::post(uri)
                    .header("host", "localhost")
                    .header("x-amz-date", &date)
                    .header("authorization", auth)
                    .body(())
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let (parts, ()) = req.into_parts();
                if let Some(now) = parse_amz_date(&date) {
                    let got = verify(&parts, &body, &["iam"], now, |_| Some("secret".into()));
                    // Non-ASCII header values read as no header at all (`Missing`).
                    prop_assert!(got.is_err(), "{got:?}");
                }
            }

            /// The S3 verifier that runs before a body is read, on arbitrary paths (its
            /// percent-decoding included) and declared payload hashes, with a scope that
            /// matches the date so the signature step runs.
            #[test]
            fn verify_s3_headers_answers_every_request(
                date in "20[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9])T[0-2][0-9][0-5][0-9][0-5][0-9]Z",
                path in prop_oneof!["/[A-Za-z0-9%/._~+-]{0,24}", form().prop_map(|f| format!("/{f}"))],
                declared in prop_oneof![
                    Just(None),
                    Just(Some("UNSIGNED-PAYLOAD".to_owned())),
                    Just(Some("STREAMING-AWS4-HMAC-SHA256-PAYLOAD".to_owned())),
                    "[0-9a-f]{64}".prop_map(Some),
                    any::<String>().prop_map(Some),
                ],
                auth in prop_oneof![authorization(), Just(String::new())],
                signature in prop_oneof!["[0-9a-f]{64}", any::<String>()],
            ) {
                let auth = if auth.is_empty() {
                    format!(
                        "AWS4-HMAC-SHA256 Credential=AK/{}/auto/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={signature}",
                        &date[..8],
                    )
                } else {
                    auth
                };
                let Ok(uri) = path.parse::<http::Uri>() else { return Ok(()) };
                let mut req = http::Request::put(uri)
                    .header("host", "localhost")
                    .header("x-amz-date", &date);
                if let Ok(v) = http::HeaderValue::from_str(&auth) {
                    req = req.header("authorization", v);
                }
                if let Some(Ok(v)) = declared.map(|d| http::HeaderValue::from_str(&d)) {
                    req = req.header("x-amz-content-sha256", v);
                }
                let Ok(req) = req.body(()) else { return Ok(()) };
                let (parts, ()) = req.into_parts();
                if let Some(now) = parse_amz_date(&date) {
                    let got = verify_s3_headers(&parts, now, |_| Some("secret".into()));
                    prop_assert!(got.is_err(), "{got:?}");
                }
            }
        }
    }
}
