//! Shadow buckets: a bucket whose misses fall through to another S3-compatible bucket (set with
//! `shadow_bucket` in `PATCH /{bucket}`, `store/settings.rs`).
//!
//! - Read-through: a GetObject, or a HeadObject with `X-Tigris-Schedule-Migration: true`, of a
//!   key the bucket lacks fetches the object from the shadow, writes it into the bucket (a
//!   journaled write, only if the key is still absent) and then answers from the bucket. The
//!   copy is synchronous, before the answer (Tigris copies asynchronously; the emulator's
//!   choice makes every answer final, so tests and Tigris's CLI, which polls, need no waiting).
//!   A plain HeadObject of such a key answers the shadow's headers with
//!   `X-Tigris-Read-Source: block_shadow` and copies nothing.
//! - Write-through: PutObject and DeleteObject go to the shadow first, then to the bucket; when
//!   the shadow refuses or cannot be reached the request fails and the bucket is unchanged. A
//!   write whose precondition (`If-Match`, `If-None-Match`) fails reaches neither. DeleteObjects
//!   deletes key by key the same way; a key the shadow refuses is one of its `Errors` and stays.
//! - ListObjectsV2 with `X-Tigris-List-Source: shadow` (or with no header, on a write-through
//!   bucket, as Tigris documents) lists the shadow; `tigris` lists the bucket.
//!
//! Requests to the shadow are signed with SigV4 (`http/sigv4.rs`'s signing) over plain
//! HTTP/1.1. Failures say what went wrong: `503 ServiceUnavailable` when the shadow cannot be
//! reached or answers 5xx, `403 AccessDenied` when it refuses the credentials, naming the
//! shadow bucket and endpoint, never the secret.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use http_body_util::{BodyExt, Full};
use s3s::dto::{CommonPrefix, ETag, Object as DtoObject, Timestamp};
use s3s::{S3Error, S3Result, s3_error};

use crate::http::sigv4::{amz_date, canonical_query_of, sha256_hex, signature, uri_encode};
use crate::s3::shadow_state::ShadowState;
use crate::state::Shared;
use crate::store::settings::Shadow;
use crate::store::{LIVE, Object};

/// ListObjectsV2: which side to list (`tigris` or `shadow`).
pub(crate) const LIST_SOURCE: &str = "x-tigris-list-source";
/// HeadObject: copy the object in from the shadow now (`true`).
pub(crate) const SCHEDULE_MIGRATION: &str = "x-tigris-schedule-migration";
/// HeadObject response: `block_shadow` while the object is only in the shadow.
pub(crate) const READ_SOURCE: &str = "x-tigris-read-source";

/// How long one request to the shadow may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The shadow's answer to one request.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

/// The bucket's shadow, when it has one.
pub(crate) fn config(shared: &Shared, bucket: &str) -> Option<Shadow> {
    // A read of the bucket's settings, on every PUT's path: no wait for the commits in flight.
    shared
        .store_applied()
        .bucket(bucket)
        .ok()?
        .settings
        .shadow
        .as_deref()
        .cloned()
}

fn where_(shadow: &Shadow) -> String {
    format!("the shadow bucket {:?} at {}", shadow.name, shadow.endpoint)
}

fn unavailable(shadow: &Shadow, why: impl std::fmt::Display) -> S3Error {
    let mut e = s3_error!(ServiceUnavailable, "{} {why}", where_(shadow));
    e.set_status_code(StatusCode::SERVICE_UNAVAILABLE);
    e
}

/// The `<Code>` of an S3 XML error body.
fn error_code(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    tag(&text, "Code").unwrap_or_else(|| "no error code".to_owned())
}

/// Refuses what the shadow refused: credentials as `AccessDenied`, anything else but a 404 as
/// `ServiceUnavailable`.
fn check(shadow: &Shadow, answer: Answer) -> S3Result<Answer> {
    match answer.status {
        s if s.is_success() || s == StatusCode::NOT_FOUND || s == StatusCode::NOT_MODIFIED => {
            Ok(answer)
        }
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(s3_error!(
            AccessDenied,
            "{} refused the emulator's request ({}): check the shadow's access key and secret",
            where_(shadow),
            if answer.body.is_empty() {
                answer.status.to_string()
            } else {
                error_code(&answer.body)
            }
        )),
        s => Err(unavailable(
            shadow,
            format!(
                "answered HTTP {} ({})",
                s.as_u16(),
                error_code(&answer.body)
            ),
        )),
    }
}

/// Sends one SigV4-signed request to the shadow bucket (`key` `None`: the bucket itself).
async fn send(
    state: &ShadowState,
    shadow: &Shadow,
    method: Method,
    key: Option<&str>,
    query: &[(&str, &str)],
    extra: &[(&str, String)],
    body: Bytes,
) -> S3Result<Answer> {
    let base = shadow
        .endpoint
        .parse::<http::Uri>()
        .map_err(|_| unavailable(shadow, "has an endpoint that is not a URL"))?;
    let authority = base
        .authority()
        .ok_or_else(|| unavailable(shadow, "has an endpoint without a host"))?
        .as_str()
        .to_owned();
    let path = match key {
        Some(k) => format!(
            "/{}/{}",
            uri_encode(&shadow.name, false),
            uri_encode(k, true)
        ),
        None => format!("/{}", uri_encode(&shadow.name, false)),
    };
    let canonical_query = canonical_query_of(query.iter().copied());
    let date = amz_date(SystemTime::now());
    let payload = sha256_hex(&body);
    let mut headers: Vec<(String, String)> = vec![
        ("host".into(), authority.clone()),
        ("x-amz-content-sha256".into(), payload.clone()),
        ("x-amz-date".into(), date.clone()),
    ];
    headers.extend(
        extra
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_owned())),
    );
    headers.sort();
    let signed: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
    let signed = signed.join(";");
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let canonical = format!(
        "{}\n{path}\n{canonical_query}\n{canonical_headers}\n{signed}\n{payload}",
        method.as_str()
    );
    let day = &date[..8];
    let scope = format!("{day}/{}/s3/aws4_request", shadow.region);
    let signature = signature(
        &shadow.secret_key,
        &date,
        day,
        &shadow.region,
        "s3",
        &canonical,
    );
    let uri = if canonical_query.is_empty() {
        format!("http://{authority}{path}")
    } else {
        format!("http://{authority}{path}?{canonical_query}")
    };
    let mut request = http::Request::builder().method(method).uri(uri);
    for (k, v) in &headers {
        if k != "host" {
            request = request.header(k.as_str(), v.as_str());
        }
    }
    let request = request
        .header(
            http::header::AUTHORIZATION,
            format!(
                "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={signature}",
                shadow.access_key
            ),
        )
        .body(Full::new(body))
        .map_err(|e| unavailable(shadow, format!("cannot be sent a request: {e}")))?;
    let response = tokio::time::timeout(TIMEOUT, state.client().request(request))
        .await
        .map_err(|_| unavailable(shadow, "did not answer in time"))?
        .map_err(|e| unavailable(shadow, format!("cannot be reached: {e}")))?;
    let (parts, body) = response.into_parts();
    let body = tokio::time::timeout(TIMEOUT, body.collect())
        .await
        .map_err(|_| unavailable(shadow, "did not send its answer in time"))?
        .map_err(|e| unavailable(shadow, format!("broke off its answer: {e}")))?
        .to_bytes();
    check(
        shadow,
        Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        },
    )
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Whether a read is of the live object (no version id, no snapshot), the only reads that
/// fall through to the shadow.
pub(crate) fn is_live_read(headers: &HeaderMap, version_id: Option<&str>) -> bool {
    version_id.is_none() && !headers.contains_key(crate::header::SNAPSHOT_VERSION)
}

/// Copies `key` in from the bucket's shadow when the bucket lacks it. `Ok(false)` when there
/// is nothing to copy (no shadow, the key present, or absent from the shadow too).
pub(crate) async fn copy_in(shared: &Shared, bucket: &str, key: &str) -> S3Result<bool> {
    let Some(shadow) = config(shared, bucket) else {
        return Ok(false);
    };
    if shared.store().get(bucket, key, LIVE).is_ok() {
        return Ok(false);
    }
    let answer = match send(
        &shared.shadow,
        &shadow,
        Method::GET,
        Some(key),
        &[],
        &[],
        Bytes::new(),
    )
    .await
    {
        Ok(a) => a,
        Err(e) => {
            shared.shadow.record(bucket, |p| p.failed += 1);
            return Err(e);
        }
    };
    if answer.status == StatusCode::NOT_FOUND {
        return Ok(false);
    }
    let metadata = answer
        .headers
        .iter()
        .filter_map(|(name, value)| {
            let name = name.as_str().strip_prefix("x-amz-meta-")?;
            Some((name.to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    let size = answer.body.len() as u64;
    let object = Object::new(
        answer.body,
        header(&answer.headers, "content-type").map(str::to_owned),
        metadata,
    );
    // Only if still absent: a write that landed meanwhile is newer than the shadow's copy.
    let written = {
        let mut store = shared.store();
        if store.get(bucket, key, LIVE).is_ok() {
            false
        } else {
            store.write(bucket, key, Some(object))?;
            true
        }
    };
    if written {
        shared.shadow.record(bucket, |p| {
            p.copied += 1;
            p.bytes += size;
        });
    }
    Ok(written)
}

/// A plain HeadObject of a key only the shadow has: the shadow's headers, marked
/// `X-Tigris-Read-Source: block_shadow`. `None` when the bucket has the key or no shadow.
pub(crate) async fn head_from_shadow(
    shared: &Shared,
    bucket: &str,
    key: &str,
) -> S3Result<Option<s3s::dto::HeadObjectOutput>> {
    let Some(shadow) = config(shared, bucket) else {
        return Ok(None);
    };
    if shared.store().get(bucket, key, LIVE).is_ok() {
        return Ok(None);
    }
    let answer = send(
        &shared.shadow,
        &shadow,
        Method::HEAD,
        Some(key),
        &[],
        &[],
        Bytes::new(),
    )
    .await?;
    if answer.status == StatusCode::NOT_FOUND {
        return Ok(None);
    }
    let h = &answer.headers;
    Ok(Some(s3s::dto::HeadObjectOutput {
        content_length: header(h, "content-length").and_then(|v| v.parse().ok()),
        content_type: header(h, "content-type").map(str::to_owned),
        e_tag: header(h, "etag").map(|e| ETag::Strong(e.trim_matches('"').to_owned())),
        last_modified: header(h, "last-modified")
            .and_then(|v| Timestamp::parse(s3s::dto::TimestampFormat::HttpDate, v).ok()),
        accept_ranges: Some("bytes".into()),
        ..Default::default()
    }))
}

/// Write-through of a PutObject: the object goes to the shadow first; a refusal fails the
/// request before the bucket changes.
pub(crate) async fn put_through(
    shared: &Shared,
    bucket: &str,
    key: &str,
    object: &Object,
) -> S3Result<()> {
    let Some(shadow) = write_through(shared, bucket) else {
        return Ok(());
    };
    let mut extra: Vec<(&str, String)> = Vec::new();
    if let Some(ct) = &object.content_type {
        extra.push(("content-type", ct.clone()));
    }
    let meta: Vec<(String, String)> = object
        .metadata
        .iter()
        .map(|(k, v)| (format!("x-amz-meta-{}", k.to_ascii_lowercase()), v.clone()))
        .collect();
    let extra: Vec<(&str, String)> = extra
        .into_iter()
        .chain(meta.iter().map(|(k, v)| (k.as_str(), v.clone())))
        .collect();
    let answer = send(
        &shared.shadow,
        &shadow,
        Method::PUT,
        Some(key),
        &[],
        &extra,
        object.data.clone(),
    )
    .await?;
    if answer.status == StatusCode::NOT_FOUND {
        return Err(unavailable(&shadow, "does not exist (NoSuchBucket)"));
    }
    Ok(())
}

/// The bucket's shadow when it is written through.
pub(crate) fn write_through(shared: &Shared, bucket: &str) -> Option<Shadow> {
    config(shared, bucket).filter(|s| s.write_through)
}

/// Write-through of a DeleteObject: deleted in the shadow first.
pub(crate) async fn delete_through(shared: &Shared, bucket: &str, key: &str) -> S3Result<()> {
    match write_through(shared, bucket) {
        Some(shadow) => delete_in(shared, &shadow, key).await,
        None => Ok(()),
    }
}

/// Deletes `key` in `shadow` (a key it lacks is no error, as on S3).
pub(crate) async fn delete_in(shared: &Shared, shadow: &Shadow, key: &str) -> S3Result<()> {
    let answer = send(
        &shared.shadow,
        shadow,
        Method::DELETE,
        Some(key),
        &[],
        &[],
        Bytes::new(),
    )
    .await?;
    if answer.status == StatusCode::NOT_FOUND && error_code(&answer.body) == "NoSuchBucket" {
        return Err(unavailable(shadow, "does not exist (NoSuchBucket)"));
    }
    Ok(())
}

/// Which side a ListObjectsV2 lists: `Some(shadow)` to list the shadow.
pub(crate) fn list_source(
    shared: &Shared,
    bucket: &str,
    headers: &HeaderMap,
) -> S3Result<Option<Shadow>> {
    let asked = header(headers, LIST_SOURCE).map(str::to_ascii_lowercase);
    let shadow = config(shared, bucket);
    match asked.as_deref() {
        None => Ok(shadow.filter(|s| s.write_through)),
        Some("tigris") => Ok(None),
        Some("shadow") => shadow
            .map(Some)
            .ok_or_else(|| s3_error!(InvalidArgument, "bucket {bucket:?} has no shadow bucket")),
        Some(other) => Err(s3_error!(
            InvalidArgument,
            "{LIST_SOURCE} must be tigris or shadow, got {other:?}"
        )),
    }
}

/// The text of the first `<name>` element in `xml`, unescaped.
fn tag(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(unescape(&xml[start..end]))
}

/// Every `<name>...</name>` block in `xml`, raw.
fn blocks<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{name}>"), format!("</{name}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        out.push(&after[..j]);
        rest = &after[j + close.len()..];
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// ListObjectsV2 of the shadow, with the request's prefix, delimiter, start-after, max-keys
/// and continuation token (the shadow's own), answered in the emulator's shape.
pub(crate) async fn list(
    shared: &Shared,
    shadow: &Shadow,
    input: &s3s::dto::ListObjectsV2Input,
) -> S3Result<s3s::dto::ListObjectsV2Output> {
    let max = input.max_keys.unwrap_or(1000).clamp(0, 1000).to_string();
    let mut query: Vec<(&str, &str)> = vec![("list-type", "2"), ("max-keys", &max)];
    for (k, v) in [
        ("prefix", input.prefix.as_deref()),
        ("delimiter", input.delimiter.as_deref()),
        ("start-after", input.start_after.as_deref()),
        ("continuation-token", input.continuation_token.as_deref()),
    ] {
        if let Some(v) = v {
            query.push((k, v));
        }
    }
    let answer = send(
        &shared.shadow,
        shadow,
        Method::GET,
        None,
        &query,
        &[],
        Bytes::new(),
    )
    .await?;
    if answer.status == StatusCode::NOT_FOUND {
        return Err(unavailable(shadow, "does not exist (NoSuchBucket)"));
    }
    let xml = String::from_utf8_lossy(&answer.body);
    let contents: Vec<DtoObject> = blocks(&xml, "Contents")
        .into_iter()
        .map(|c| DtoObject {
            key: tag(c, "Key"),
            size: tag(c, "Size").and_then(|s| s.parse().ok()),
            e_tag: tag(c, "ETag").map(|e| ETag::Strong(e.trim_matches('"').to_owned())),
            last_modified: tag(c, "LastModified")
                .and_then(|t| Timestamp::parse(s3s::dto::TimestampFormat::DateTime, &t).ok()),
            ..Default::default()
        })
        .collect();
    let prefixes: Vec<CommonPrefix> = blocks(&xml, "CommonPrefixes")
        .into_iter()
        .map(|c| CommonPrefix {
            prefix: tag(c, "Prefix"),
        })
        .collect();
    let key_count = (contents.len() + prefixes.len()) as i32;
    Ok(s3s::dto::ListObjectsV2Output {
        name: Some(input.bucket.clone()),
        prefix: input.prefix.clone(),
        delimiter: input.delimiter.clone(),
        start_after: input.start_after.clone(),
        max_keys: max.parse().ok(),
        key_count: Some(key_count),
        is_truncated: Some(tag(&xml, "IsTruncated").as_deref() == Some("true")),
        continuation_token: input.continuation_token.clone(),
        next_continuation_token: tag(&xml, "NextContinuationToken"),
        contents: Some(contents),
        common_prefixes: Some(prefixes),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_answers_are_read_from_xml() {
        let xml = "<ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>a&amp;b</Key>\
                   <Size>3</Size></Contents><Contents><Key>c</Key></Contents>\
                   <NextContinuationToken>t1</NextContinuationToken></ListBucketResult>";
        let keys: Vec<_> = blocks(xml, "Contents")
            .into_iter()
            .filter_map(|c| tag(c, "Key"))
            .collect();
        assert_eq!(keys, ["a&b", "c"]);
        assert_eq!(tag(xml, "NextContinuationToken").as_deref(), Some("t1"));
        assert_eq!(tag("<a>", "Key"), None);
        assert_eq!(blocks("<Contents><Key>x", "Contents").len(), 0);
    }

    mod no_panic {
        //! The shadow's answers are read whatever their bytes.
        use super::super::*;
        use proptest::prelude::*;

        fn xml() -> impl Strategy<Value = String> {
            prop::collection::vec(
                prop_oneof![
                    prop::sample::select(
                        &[
                            "<Contents>",
                            "</Contents>",
                            "<Key>",
                            "</Key>",
                            "<Code>",
                            "</Code>",
                            "<CommonPrefixes>",
                            "<Prefix>",
                            "</Prefix>",
                            "&amp;",
                            "&lt;",
                            "&",
                            "é",
                        ][..]
                    )
                    .prop_map(str::to_owned),
                    any::<String>(),
                ],
                0..12,
            )
            .prop_map(|parts| parts.concat())
        }

        proptest! {
            #[test]
            fn list_and_error_bodies(xml in xml()) {
                for block in blocks(&xml, "Contents") {
                    let _ = tag(block, "Key");
                }
                for block in blocks(&xml, "CommonPrefixes") {
                    let _ = tag(block, "Prefix");
                }
                let _ = error_code(xml.as_bytes());
            }
        }
    }
}
