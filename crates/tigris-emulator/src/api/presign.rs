//! Tigris's presign endpoint, `POST /?func=presign`: a JSON request for a query-string SigV4
//! URL to GET or PUT one object, signed with the named key's secret (which the emulator holds),
//! so the URL works without the signer's credentials. The clients send
//! `{bucket, key, key_id, type, expires_in[, version_id]}` and read `url` (and, when the
//! bucket has a custom domain, `custom_domain_url`). The emulator has no custom domains and
//! never answers `key_secret`.

use std::time::SystemTime;

use s3s::path::S3Path;
use s3s::{Body, S3Request, S3Response, S3Result, s3_error};
use serde_json::{Value, json};

use crate::http::sigv4::{amz_date, canonical_query_of, signature, uri_encode};
use crate::state::Shared;

/// Tigris's ceiling on a presigned URL's lifetime: 90 days.
pub(crate) const MAX_EXPIRES_IN: u64 = 90 * 24 * 60 * 60;

/// SigV4's ceiling on `X-Amz-Expires` (7 days), as S3 enforces it on any presigned URL.
pub(crate) const MAX_SIGV4_EXPIRES: u64 = 7 * 24 * 60 * 60;

/// The signed query parameter that marks a URL this endpoint made, whose lifetime may be up to
/// [`MAX_EXPIRES_IN`]; it is covered by the signature, so only the key's holder can add it.
const ENDPOINT_MARK: &str = "X-Tigris-Presign";

/// Presign request bodies are a few hundred bytes; anything far larger is refused unread.
const MAX_BODY: usize = 64 * 1024;

/// The request, validated.
#[derive(Debug)]
struct Presign {
    bucket: String,
    key: String,
    key_id: String,
    put: bool,
    expires_in: u64,
    version_id: Option<u64>,
}

fn parse(body: &[u8]) -> S3Result<Presign> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| s3_error!(InvalidArgument, "the presign request is not JSON: {e}"))?;
    let text = |name: &str| -> S3Result<String> {
        v.get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| s3_error!(InvalidArgument, "{name} must be a non-empty string"))
    };
    let put = match text("type")?.as_str() {
        "get" => false,
        "put" => true,
        other => {
            return Err(s3_error!(
                InvalidArgument,
                "type must be \"get\" or \"put\", got {other:?}"
            ));
        }
    };
    let expires_in = v
        .get("expires_in")
        .and_then(Value::as_u64)
        .filter(|n| (1..=MAX_EXPIRES_IN).contains(n))
        .ok_or_else(|| {
            s3_error!(
                InvalidArgument,
                "expires_in must be a whole number of seconds from 1 to {MAX_EXPIRES_IN} (90 days)"
            )
        })?;
    let version_id =
        match v.get("version_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if !put => Some(s.parse::<u64>().map_err(|_| {
                s3_error!(NoSuchVersion, "The specified version does not exist: {s}")
            })?),
            Some(_) => {
                return Err(s3_error!(
                    InvalidArgument,
                    "version_id must be a string, and only with type \"get\""
                ));
            }
        };
    Ok(Presign {
        bucket: text("bucket")?,
        key: text("key")?,
        key_id: text("key_id")?,
        put,
        expires_in,
        version_id,
    })
}

/// Answers `POST /?func=presign`. The signer must be allowed the operation the URL grants
/// (`s3:GetObject` or `s3:PutObject` on the object), and `key_id` must be the signer's own key:
/// the URL carries that key's authority, so naming another key would lend its rights.
pub(crate) async fn presign(shared: &Shared, req: S3Request<Body>) -> S3Result<S3Response<Body>> {
    let access_key = req
        .credentials
        .as_ref()
        .map(|c| c.access_key.clone())
        .unwrap_or_default();
    let host = req
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| s3_error!(InvalidRequest, "the request has no Host header"))?;
    let peer = req
        .extensions
        .get::<crate::http::auth::PeerAddr>()
        .map(|p| p.0);
    let headers = req.headers.clone();
    let mut input = req.input;
    // Reading the body checks it against the signed x-amz-content-sha256.
    let body = input
        .store_all_limited(MAX_BODY)
        .await
        .map_err(|e| s3_error!(InvalidRequest, "cannot read the presign request: {e}"))?;
    let p = parse(&body)?;
    let op = if p.put { "PutObject" } else { "GetObject" };
    if let Some((failure, _)) = shared.faults.on_request(op, Some(&p.bucket), &headers) {
        shared.drop_later(&req.extensions, &failure);
        return Err(crate::http::auth::injected_error(&failure));
    }
    if p.key_id != access_key {
        return Err(s3_error!(
            AccessDenied,
            "key_id must be the access key that signs the presign request"
        ));
    }
    let path = S3Path::Object {
        bucket: p.bucket.clone().into(),
        key: p.key.clone().into(),
    };
    crate::http::auth::authorize(shared, &access_key, op, &path, &headers, peer)?;
    {
        let store = shared.store();
        store.bucket(&p.bucket)?;
        if let Some(v) = p.version_id {
            store.get_version(&p.bucket, &p.key, v)?;
        }
    }
    let secret = shared
        .keys()
        .secret(&p.key_id)
        .map(str::to_owned)
        .ok_or_else(|| s3_error!(InvalidAccessKeyId, "no access key {}", p.key_id))?;
    let url = sign_url(&p, &secret, &host, SystemTime::now());
    let mut resp = S3Response::new(Body::from(json!({ "url": url }).to_string()));
    resp.headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}

/// A query-string SigV4 URL (service `s3`, region `auto`, only `host` signed, unsigned payload).
fn sign_url(p: &Presign, secret: &str, host: &str, now: SystemTime) -> String {
    let stamp = amz_date(now);
    let date = &stamp[..8];
    let scope = format!("{date}/auto/s3/aws4_request");
    let path = format!("/{}/{}", p.bucket, uri_encode(&p.key, true));
    let mut query: Vec<(String, String)> = vec![
        ("X-Amz-Algorithm".into(), "AWS4-HMAC-SHA256".into()),
        ("X-Amz-Credential".into(), format!("{}/{scope}", p.key_id)),
        ("X-Amz-Date".into(), stamp.clone()),
        ("X-Amz-Expires".into(), p.expires_in.to_string()),
        ("X-Amz-SignedHeaders".into(), "host".into()),
        (ENDPOINT_MARK.into(), "1".into()),
    ];
    if let Some(v) = p.version_id {
        query.push(("versionId".into(), v.to_string()));
    }
    let canonical_query = canonical_query_of(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let method = if p.put { "PUT" } else { "GET" };
    let canonical =
        format!("{method}\n{path}\n{canonical_query}\nhost:{host}\n\nhost\nUNSIGNED-PAYLOAD");
    let signature = signature(secret, &stamp, date, "auto", "s3", &canonical);
    format!("http://{host}{path}?{canonical_query}&X-Amz-Signature={signature}")
}

/// The value of query parameter `name` (percent-decoded), if present.
fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = urlencoding::decode(k).ok()?;
        (k == name).then(|| urlencoding::decode(v).ok().map(|v| v.into_owned()))?
    })
}

/// Whether a request's query makes it a presigned (query-string SigV4) request.
pub(crate) fn is_presigned(query: Option<&str>) -> bool {
    query.is_some_and(|q| query_param(q, "X-Amz-Signature").is_some())
}

/// What S3 checks on a presigned request beyond its signature (which s3s verifies): the
/// lifetime is 1 second to 7 days (up to 90 days for a URL from this endpoint), and every
/// `x-amz-*` or `x-tigris-*` header sent is one the signature covers — an unsigned one could
/// turn a presigned PUT into a copy or a rename. Both are `403 AccessDenied`.
pub(crate) fn check_presigned(query: &str, headers: &http::HeaderMap) -> S3Result<()> {
    let max = if query_param(query, ENDPOINT_MARK).as_deref() == Some("1") {
        MAX_EXPIRES_IN
    } else {
        MAX_SIGV4_EXPIRES
    };
    let expires = query_param(query, "X-Amz-Expires").and_then(|v| v.parse::<u64>().ok());
    if !expires.is_some_and(|e| (1..=max).contains(&e)) {
        return Err(s3_error!(
            AccessDenied,
            "X-Amz-Expires must be a number of seconds from 1 to {max}"
        ));
    }
    let signed = query_param(query, "X-Amz-SignedHeaders").unwrap_or_default();
    let signed: Vec<String> = signed.split(';').map(str::to_ascii_lowercase).collect();
    if let Some(name) = headers.keys().map(http::HeaderName::as_str).find(|name| {
        (name.starts_with("x-amz-") || name.starts_with("x-tigris-"))
            && !signed.iter().any(|s| s == name)
    }) {
        return Err(s3_error!(
            AccessDenied,
            "There were headers present in the request which were not signed: {name}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_beyond_ninety_days_is_refused() {
        let body = br#"{"bucket":"b","key":"k","key_id":"id","type":"get","expires_in":7776001}"#;
        assert!(parse(body).is_err());
        let body = br#"{"bucket":"b","key":"k","key_id":"id","type":"get","expires_in":7776000}"#;
        assert_eq!(parse(body).unwrap().expires_in, MAX_EXPIRES_IN);
    }

    #[test]
    fn version_id_only_with_get() {
        let body = br#"{"bucket":"b","key":"k","key_id":"id","type":"put","expires_in":60,"version_id":"1"}"#;
        assert!(parse(body).is_err());
    }

    mod no_panic {
        //! The presign request parser answers `Ok` or `Err` on any body.
        use super::super::*;
        use proptest::prelude::*;

        /// Bodies near the real shape, with each field arbitrary, so the checks all run.
        fn body() -> impl Strategy<Value = Vec<u8>> {
            let value = prop_oneof![
                any::<String>().prop_map(serde_json::Value::from),
                any::<i64>().prop_map(serde_json::Value::from),
                any::<f64>().prop_map(serde_json::Value::from),
                Just(serde_json::Value::Null),
            ];
            (value.clone(), value.clone(), value.clone(), value).prop_map(
                |(key, kind, exp, ver)| {
                    serde_json::json!({
                        "bucket": "b", "key": key, "key_id": "id",
                        "type": kind, "expires_in": exp, "version_id": ver,
                    })
                    .to_string()
                    .into_bytes()
                },
            )
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            #[test]
            fn presign_bodies_parse_or_fail(
                bytes in prop_oneof![prop::collection::vec(any::<u8>(), 0..256), body()],
            ) {
                let _ = parse(&bytes);
            }
        }
    }
}
