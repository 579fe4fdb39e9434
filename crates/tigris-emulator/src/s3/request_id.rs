//! Request ids: every S3 answer carries `x-amz-request-id` and `x-amz-id-2`, and an error body
//! names the same id in `<RequestId>` (and `<HostId>`), as S3 and Tigris answer.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::BodyExt;

/// Error bodies larger than this are passed through as they are (S3 error documents are small).
const MAX_ERROR_BODY: usize = 64 * 1024;

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn next_id() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    format!("{:016X}{:08X}", nanos, n as u32)
}

/// Adds the request id headers to `resp`, and the id to its XML error body.
pub(crate) async fn stamp(resp: http::Response<s3s::Body>) -> http::Response<s3s::Body> {
    let id = next_id();
    let (mut parts, body) = resp.into_parts();
    if let Ok(v) = http::HeaderValue::from_str(&id) {
        parts.headers.insert("x-amz-request-id", v.clone());
        parts.headers.insert("x-amz-id-2", v);
    }
    let is_xml_error = parts.status.as_u16() >= 400
        && parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.contains("xml"));
    let small = http_body::Body::size_hint(&body)
        .upper()
        .is_some_and(|n| n <= MAX_ERROR_BODY as u64);
    if !(is_xml_error && small) {
        return http::Response::from_parts(parts, body);
    }
    let Ok(collected) = body.collect().await else {
        return http::Response::from_parts(parts, s3s::Body::empty());
    };
    let bytes = collected.to_bytes();
    let text = String::from_utf8_lossy(&bytes);
    let body = match text.rfind("</Error>") {
        Some(at) if !text.contains("<RequestId>") => {
            let stamped = format!(
                "{}<RequestId>{id}</RequestId><HostId>{id}</HostId>{}",
                &text[..at],
                &text[at..]
            );
            parts.headers.insert(
                http::header::CONTENT_LENGTH,
                http::HeaderValue::from(stamped.len()),
            );
            Bytes::from(stamped)
        }
        _ => bytes,
    };
    http::Response::from_parts(parts, s3s::Body::from(body))
}
