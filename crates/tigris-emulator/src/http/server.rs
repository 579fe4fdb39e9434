//! The listener and the outer HTTP service that routes to S3 (and, later, IAM).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use s3s::path::S3Path;
use s3s::service::{S3Service, S3ServiceBuilder};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};

use crate::http::auth::{AccessHook, KeyTable, PeerAddr, authorize, injected_error};
use crate::http::routes::Routes;
use crate::iam;
use crate::s3::Backend;
use crate::state::Shared;

type Response = http::Response<s3s::Body>;

pub(crate) fn s3_service(shared: &Arc<Shared>) -> S3Service {
    let mut builder = S3ServiceBuilder::new(Backend {
        shared: Arc::clone(shared),
    });
    builder.set_auth(KeyTable(Arc::clone(shared)));
    builder.set_access(AccessHook(Arc::clone(shared)));
    builder.set_route(Routes::new(shared));
    builder.set_config(Arc::new(ClockedConfig::new(shared.clock().clone())));
    builder.build()
}

/// s3s's configuration with the signature clock-skew window widened by how far a test advanced
/// the emulator's clock: the AWS SDKs correct their signing time by the skew they read from
/// `Date`, so after an advance a client may sign with the real time or with the emulator's, and
/// both are served.
#[derive(Debug)]
struct ClockedConfig {
    clock: crate::clock::Clock,
    /// The configuration for the offset it was built for.
    current: std::sync::Mutex<(std::time::Duration, Arc<s3s::config::S3Config>)>,
}

impl ClockedConfig {
    fn new(clock: crate::clock::Clock) -> Self {
        let config = Arc::new(form_limits(s3s::config::S3Config::default()));
        Self {
            clock,
            current: std::sync::Mutex::new((Duration::ZERO, config)),
        }
    }
}

/// s3s's configuration with the form fields of a POST upload bounded by [`MAX_FORM_FIELDS`]:
/// they are read before the signature is checked.
fn form_limits(mut config: s3s::config::S3Config) -> s3s::config::S3Config {
    config.form_max_fields_size = MAX_FORM_FIELDS;
    config.form_max_field_size = config.form_max_field_size.min(MAX_FORM_FIELDS);
    config
}

impl s3s::config::S3ConfigProvider for ClockedConfig {
    fn snapshot(&self) -> Arc<s3s::config::S3Config> {
        let offset = self.clock.offset();
        let mut current = self
            .current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if current.0 != offset {
            let mut config = form_limits(s3s::config::S3Config::default());
            let extra = u32::try_from(offset.as_secs()).unwrap_or(u32::MAX);
            config.presigned_url_max_skew_time_secs = config
                .presigned_url_max_skew_time_secs
                .saturating_add(extra);
            *current = (offset, Arc::new(config));
        }
        Arc::clone(&current.1)
    }
}

fn plain(status: u16, body: &'static str) -> Response {
    let mut resp = http::Response::new(s3s::Body::from(body.to_owned()));
    *resp.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    resp
}

/// `err` as S3 answers it, an XML error body with its status; should that body fail to be
/// written, a plain-text answer with the same status.
fn error_answer(err: s3s::S3Error) -> Response {
    let status = err.status_code().map_or(500, |s| s.as_u16());
    err.to_http_response()
        .unwrap_or_else(|_| plain(status, "error"))
}

/// `400 EntityTooLarge` with `message`, closing the connection: the rest of the body is never
/// read.
fn too_large(message: &'static str) -> Response {
    let mut resp = error_answer(s3s::S3Error::with_message(
        s3s::S3ErrorCode::EntityTooLarge,
        message,
    ));
    resp.headers_mut().insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("close"),
    );
    resp
}

fn is_trailer_upload(headers: &http::HeaderMap) -> bool {
    headers.contains_key("x-amz-trailer")
        || headers
            .get("x-amz-content-sha256")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.ends_with("-TRAILER"))
}

/// `GET /health` (or `HEAD`) without credentials: the liveness probe, like MinIO's
/// `/minio/health/live`. A signed `GET /health` is still ListObjects on a bucket named `health`.
fn is_health_probe<B>(req: &http::Request<B>) -> bool {
    (req.method() == http::Method::GET || req.method() == http::Method::HEAD)
        && req.uri().path() == "/health"
        && !req.headers().contains_key(http::header::AUTHORIZATION)
        && !req
            .uri()
            .query()
            .is_some_and(|q| q.contains("X-Amz-Signature="))
}

/// The region a request was signed for: the third field of the credential scope, from the
/// `Authorization` header or a presigned URL's `X-Amz-Credential`.
fn signing_region<B>(req: &http::Request<B>) -> Option<String> {
    let scope = match req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        Some(auth) => auth
            .split([' ', ','])
            .find_map(|part| part.strip_prefix("Credential="))?
            .to_owned(),
        None => req.uri().query()?.split('&').find_map(|pair| {
            let value = pair.strip_prefix("X-Amz-Credential=")?;
            urlencoding::decode(value).ok().map(|v| v.into_owned())
        })?,
    };
    scope.split('/').nth(2).map(str::to_owned)
}

/// Regions a request may be signed for. Tigris documents `auto`; its clients also send real
/// region names (an AWS-shaped `us-east-1`, or a Tigris location such as `iad`), so those are
/// accepted too. Anything else is refused as a misconfigured client, as S3 refuses a region
/// that is not the bucket's.
pub(crate) fn is_accepted_region(region: &str) -> bool {
    let aws_shaped = {
        let parts: Vec<&str> = region.split('-').collect();
        parts.len() >= 3
            && parts[0].len() == 2
            && parts[..parts.len() - 1]
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
            && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
            && !parts[parts.len() - 1].is_empty()
    };
    let location = region.len() == 3 && region.bytes().all(|b| b.is_ascii_lowercase());
    region == "auto" || aws_shaped || location
}

/// The most a browser form upload (POST object) may be: the largest `content-length-range`
/// S3 lets a POST policy declare (5 GiB), whatever the policy says.
const MAX_FORM_UPLOAD: u64 = 5 << 30;

/// The most the form fields before the file may take (S3 answers
/// `MaxPostPreDataLengthExceeded` past its own limit): what is held of an unauthenticated form
/// before its signature is checked.
pub(crate) const MAX_FORM_FIELDS: usize = 64 << 10;

/// The most of an unauthenticated form's body read (and discarded) after it was refused, so a
/// browser sees the refusal rather than a reset connection.
const MAX_UNVERIFIED_DRAIN: u64 = 8 << 20;

/// Set by the access hook once s3s has verified a request's signature: a form upload is
/// authenticated from then on.
#[derive(Debug, Clone, Default)]
pub(crate) struct Verified(Arc<std::sync::atomic::AtomicBool>);

impl Verified {
    pub(crate) fn set(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    fn get(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Serves a browser form upload without reading its file ahead of s3s: the fields before the
/// file are read first ([`read_form_head`], up to [`MAX_FORM_FIELDS`] and the file part's
/// headers), then the body is pumped to s3s one frame at a time, so before the signature is
/// checked the server holds at most the form fields (twice: s3s parses its own copy) and one
/// frame. A declared length
/// over [`MAX_FORM_UPLOAD`] is refused before any byte is read. When an authenticated form is
/// refused with its file unread (its policy failed), the rest is read and discarded before
/// the answer, so a browser sees the 4xx instead of a reset connection; so is an
/// unauthenticated one declaring at most [`MAX_UNVERIFIED_DRAIN`]; a larger unauthenticated one
/// is answered at once and its connection closed.
async fn form_upload(s3: &S3Service, req: http::Request<Incoming>) -> Response {
    let declared = req
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_FORM_UPLOAD) {
        return too_large("a form upload may be at most 5 GiB, the most a POST policy can allow");
    }
    let verified = Verified::default();
    let (mut parts, mut incoming) = req.into_parts();
    parts.extensions.insert(verified.clone());
    // The fields before the file, read ahead of s3s (`form.rs`): `${filename}`, the policy's
    // expiration and conditions.
    let (head, ended) = match read_form_head(&mut parts, &mut incoming).await {
        Ok(read) => read,
        Err(err) => {
            let mut resp = error_answer(err);
            if declared.is_some_and(|n| n <= MAX_UNVERIFIED_DRAIN) {
                while let Some(frame) = incoming.frame().await {
                    if frame.is_err() {
                        break;
                    }
                }
            } else {
                resp.headers_mut().insert(
                    http::header::CONNECTION,
                    http::HeaderValue::from_static("close"),
                );
            }
            return crate::s3::request_id::stamp(resp).await;
        }
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
    let (drain_tx, drain_rx) = tokio::sync::oneshot::channel::<bool>();
    let pump = tokio::spawn(async move {
        let mut total = head.len() as u64;
        let mut forwarding = true;
        let mut drain_rx = Some(drain_rx);
        if !head.is_empty() && tx.send(Ok(Bytes::from(head))).await.is_err() {
            // s3s answered without reading the fields: read on only if told to.
            forwarding = false;
            let drain = match drain_rx.take() {
                Some(rx) => rx.await.unwrap_or(false),
                None => false,
            };
            if !drain {
                return;
            }
        }
        if ended {
            return;
        }
        loop {
            let Some(frame) = incoming.frame().await else {
                return;
            };
            let Ok(data) = frame.map(|f| f.into_data()) else {
                // A broken body: s3s sees the end of the stream and refuses the form.
                return;
            };
            let Ok(data) = data else { continue };
            total += data.len() as u64;
            if total > MAX_FORM_UPLOAD {
                let err = std::io::Error::other("the form upload is larger than 5 GiB");
                tx.send(Err(err)).await.ok();
                return;
            }
            if forwarding && tx.send(Ok(data)).await.is_err() {
                // s3s answered without reading the rest: read on only if told to.
                forwarding = false;
                let drain = match drain_rx.take() {
                    Some(rx) => rx.await.unwrap_or(false),
                    None => false,
                };
                if !drain {
                    return;
                }
            }
        }
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|item| (item.map(hyper::body::Frame::data), rx))
    });
    let body = s3s::Body::http_body_unsync(http_body_util::StreamBody::new(stream));
    let served = s3.call(http::Request::from_parts(parts, body)).await;
    // A small form is read to its end even when its signature failed (an expired form, say):
    // what is read is discarded, nothing is held.
    let drain = verified.get() || declared.is_some_and(|n| n <= MAX_UNVERIFIED_DRAIN);
    drain_tx.send(drain).ok();
    if drain {
        // The refusal goes out once the client has sent everything.
        pump.await.ok();
    }
    let mut resp = match served {
        Ok(resp) => resp,
        Err(err) => {
            tracing::warn!(?err, "request failed outside the S3 error model");
            plain(500, "internal error")
        }
    };
    if !drain {
        resp.headers_mut().insert(
            http::header::CONNECTION,
            http::HeaderValue::from_static("close"),
        );
    }
    resp
}

/// Reads a form upload's fields, up to the file's bytes, and applies what `form.rs` decides:
/// the bytes read (the `key` field's `${filename}` replaced, `Content-Length` adjusted to
/// match), and whether the body ended within them; or the policy's refusal. A form this
/// reading does not understand, or whose fields run past [`MAX_FORM_FIELDS`], is handed to
/// s3s as it came.
async fn read_form_head(
    parts: &mut http::request::Parts,
    incoming: &mut Incoming,
) -> Result<(Vec<u8>, bool), s3s::S3Error> {
    use crate::http::form;
    let boundary = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(form::boundary);
    let Some(boundary) = boundary else {
        return Ok((Vec::new(), false));
    };
    // Room for the file part's own headers past the fields' limit.
    let limit = MAX_FORM_FIELDS + (4 << 10);
    let mut buf = Vec::new();
    let mut ended = false;
    let parsed = loop {
        if let Some(parsed) = form::parse_head(&buf, &boundary) {
            break Some(parsed);
        }
        if buf.len() > limit {
            break None;
        }
        match incoming.frame().await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    buf.extend_from_slice(&data);
                }
            }
            // A broken body: s3s sees the end of the stream and refuses the form.
            Some(Err(_)) | None => {
                ended = true;
                break form::parse_head(&buf, &boundary);
            }
        }
    };
    let Some(mut head) = parsed else {
        return Ok((buf, ended));
    };
    let before = buf.len();
    if head.substitute_filename(&mut buf) {
        let declared = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if let Some(declared) = declared {
            let adjusted = (declared + buf.len() as u64).saturating_sub(before as u64);
            parts.headers.insert(
                http::header::CONTENT_LENGTH,
                http::HeaderValue::from(adjusted),
            );
        }
    }
    let bucket = parts
        .uri
        .path()
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    let bucket = urlencoding::decode(bucket).map_or_else(|_| bucket.to_owned(), |b| b.into_owned());
    head.check_policy(&bucket)?;
    Ok((buf, ended))
}

/// A POST object (browser form) upload: `POST /{bucket}` with a multipart form body.
fn is_form_upload<B>(req: &http::Request<B>) -> bool {
    req.method() == http::Method::POST
        && req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"))
}

/// The most an IAM request body may be.
const MAX_IAM_BODY: usize = 1 << 20;

/// Marks a response that must not be sent: the connection is closed instead (an injected
/// [`Fault::drop_connection`](crate::Fault::drop_connection)).
#[derive(Debug, Clone, Copy)]
struct DropConnection;

/// A response that is never sent: the server closes the connection in its place.
pub(crate) fn dropped() -> Response {
    let mut resp = plain(500, "dropped");
    resp.extensions_mut().insert(DropConnection);
    resp
}

/// The error handed to hyper for a dropped connection: hyper closes the connection without
/// writing a response.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for Dropped {}

/// Serves one request; the `Date` header is the emulator's clock, so a client judging expiry by
/// the server's time sees the time a test advanced to.
async fn handle(
    shared: Arc<Shared>,
    s3: S3Service,
    peer: SocketAddr,
    req: http::Request<Incoming>,
) -> Result<Response, Dropped> {
    let clock = shared.clock().clone();
    let unanswered_continue = expects_continue_without_body(&req);
    let Ok(mut resp) = route(shared, s3, peer, req).await;
    if resp.extensions().get::<DropConnection>().is_some() {
        return Err(Dropped);
    }
    if let Some(date) = http_date(clock.now()) {
        resp.headers_mut().insert(http::header::DATE, date);
    }
    if unanswered_continue {
        resp.headers_mut().insert(
            http::header::CONNECTION,
            http::HeaderValue::from_static("close"),
        );
    }
    Ok(resp)
}

/// Whether `req` asks for `100 Continue` but has no body: hyper sends `100 Continue` when a
/// body is first read, so this one never gets it. Its answer closes the connection: a client
/// still waiting for the `100` (botocore sends the header on empty PUTs too) would otherwise
/// read the final answer as the `100` and misread the next answer on the connection.
fn expects_continue_without_body(req: &http::Request<Incoming>) -> bool {
    use http_body::Body as _;
    req.headers()
        .get(http::header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"))
        && req.body().is_end_stream()
}

/// An HTTP-date (IMF-fixdate, RFC 9110): `Sun, 06 Nov 1994 08:49:37 GMT`.
fn http_date(t: std::time::SystemTime) -> Option<http::HeaderValue> {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let text = time::OffsetDateTime::from(t).format(&format).ok()?;
    http::HeaderValue::from_str(&text).ok()
}

async fn route(
    shared: Arc<Shared>,
    s3: S3Service,
    peer: SocketAddr,
    mut req: http::Request<Incoming>,
) -> Result<Response, Infallible> {
    if is_health_probe(&req) {
        let mut resp = plain(200, "ok\n");
        resp.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/plain"),
        );
        return Ok(resp);
    }
    if let Some(resp) = crate::console::route(&shared, peer, &req) {
        return Ok(resp);
    }
    let latency = shared.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let wrong_region = signing_region(&req).filter(|r| !is_accepted_region(r));
    if iam::is_whoami(&req) {
        let (parts, _) = req.into_parts();
        return Ok(iam::whoami(&shared, &parts));
    }
    if iam::is_iam_request(&req) {
        if let Some(region) = wrong_region {
            return Ok(iam::error_answer(
                req.headers(),
                400,
                "SignatureDoesNotMatch",
                &format!("the request is signed for region '{region}'; sign for 'auto'"),
            ));
        }
        let (parts, body) = req.into_parts();
        let body = match Limited::new(body, MAX_IAM_BODY).collect().await {
            Ok(body) => body.to_bytes(),
            Err(_) => {
                return Ok(iam::error_answer(
                    &parts.headers,
                    400,
                    "RequestEntityTooLarge",
                    "the request body is too large or broken",
                ));
            }
        };
        return Ok(iam::handle(&shared, &parts, &body));
    }
    if let Some(resp) =
        crate::api::cors::preflight(&shared, req.method(), req.uri().path(), req.headers())
    {
        return Ok(resp);
    }
    if is_trailer_upload(req.headers()) {
        // Tigris refuses the aws-chunked uploads with trailing checksums that newer SDKs send by
        // default; refusing them here too catches a client not configured for Tigris.
        let mut err = s3s::S3Error::with_message(
            s3s::S3ErrorCode::from_bytes(b"InvalidContentEncoding")
                .unwrap_or(s3s::S3ErrorCode::InvalidRequest),
            "aws-chunked uploads with trailing checksums are not supported; set request checksum calculation to WHEN_REQUIRED",
        );
        err.set_status_code(http::StatusCode::BAD_REQUEST);
        return Ok(error_answer(err));
    }
    if let Some(region) = wrong_region {
        let err = s3s::S3Error::with_message(
            s3s::S3ErrorCode::AuthorizationHeaderMalformed,
            format!(
                "The authorization header is malformed; the region '{region}' is wrong; expecting 'auto'"
            ),
        );
        return Ok(error_answer(err));
    }
    // A presigned URL's lifetime is checked before s3s reads its signature: s3s refuses a
    // negative `X-Amz-Expires` as a malformed request (400), S3 as an out-of-range one (403).
    if let Some(query) = req.uri().query()
        && crate::api::presign::is_presigned(Some(query))
        && let Err(err) = crate::api::presign::check_presigned(query, req.headers())
    {
        return Ok(crate::s3::request_id::stamp(error_answer(err)).await);
    }
    req.extensions_mut().insert(PeerAddr(peer));
    let tag = shared.next_tag();
    req.extensions_mut().insert(tag);
    if is_form_upload(&req) {
        let resp = form_upload(&s3, req).await;
        return Ok(match shared.take_after(tag) {
            Some(failure) if failure.drop_connection => dropped(),
            Some(failure) if resp.status().is_success() => error_answer(injected_error(&failure)),
            _ => resp,
        });
    }
    let cors_request = req.headers().contains_key(http::header::ORIGIN).then(|| {
        (
            req.method().clone(),
            req.uri().path().to_owned(),
            req.headers().clone(),
        )
    });
    let req = if is_unsized_upload(&req) {
        match read_unsized_upload(&shared, req, peer).await {
            Ok(req) => req,
            Err(resp) => return Ok(crate::s3::request_id::stamp(*resp).await),
        }
    } else {
        req.map(s3s::Body::from)
    };
    let mut served = s3.call(req).await;
    if let Ok(resp) = &mut served
        && let Some(status) = resp.extensions_mut().remove::<crate::s3::StatusOverride>()
    {
        *resp.status_mut() = status.0;
    }
    if let (Some((method, path, headers)), Ok(resp)) = (&cors_request, &mut served) {
        crate::api::cors::decorate(&shared, method, path, headers, resp.headers_mut());
    }
    let late = shared.take_after(tag);
    match served {
        Ok(resp) => match late {
            Some(failure) if failure.drop_connection => Ok(dropped()),
            Some(failure) if resp.status().is_success() => {
                Ok(error_answer(injected_error(&failure)))
            }
            _ => Ok(crate::s3::request_id::stamp(resp).await),
        },
        Err(err) => {
            tracing::warn!(?err, "request failed outside the S3 error model");
            Ok(plain(500, "internal error"))
        }
    }
}

/// The most an upload sent without `Content-Length` may be: S3's limit on one PUT (5 GiB).
const MAX_UNSIZED_UPLOAD: u64 = 5 << 30;

/// The blocks an upload sent without `Content-Length` is read into: frames are copied out of
/// the connection's buffers, so a stored block never pins a larger read buffer.
const UNSIZED_BLOCK: usize = 1 << 20;

/// Whether `req` is an upload signed in its `Authorization` header whose length is unknown
/// until its body is read: sent with `Transfer-Encoding: chunked` and no `Content-Length`, and
/// not an aws-chunked upload (which declares its decoded length, and s3s reads as it comes).
fn is_unsized_upload(req: &http::Request<Incoming>) -> bool {
    use http_body::Body as _;
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    !req.headers().contains_key(http::header::CONTENT_LENGTH)
        && !req.body().is_end_stream()
        && req.body().size_hint().exact().is_none()
        && header("authorization").is_some_and(|v| v.starts_with("AWS4-HMAC-SHA256 "))
        && header("x-amz-content-sha256").is_some_and(|v| !v.starts_with("STREAMING-"))
}

/// The S3 operation an upload sent without `Content-Length` is read ahead for, and its path:
/// a path-style `PUT /{bucket}/{key}` that is a PutObject (no query, or only `x-id`) or an
/// UploadPart (`partNumber` and `uploadId`). Any other request is left to s3s as it came.
fn unsized_upload_target(parts: &http::request::Parts) -> Option<(&'static str, S3Path)> {
    if parts.method != http::Method::PUT {
        return None;
    }
    let path = s3s::path::parse_path_style(parts.uri.path()).ok()?;
    if !matches!(path, S3Path::Object { .. }) {
        return None;
    }
    let query = crate::http::sigv4::parse_form(parts.uri.query().unwrap_or(""));
    let has = |name: &str| query.iter().any(|(n, _)| n == name);
    if query
        .iter()
        .any(|(n, _)| !matches!(n.as_str(), "partNumber" | "uploadId" | "x-id"))
    {
        return None;
    }
    match (has("partNumber"), has("uploadId")) {
        (true, true) => Some(("UploadPart", path)),
        (false, false) => Some(("PutObject", path)),
        _ => None,
    }
}

/// Reads an upload sent without `Content-Length` (see [`is_unsized_upload`]) and hands it on
/// with the length it turned out to have, as S3 accepts it: s3s needs the length to check the
/// body against the `x-amz-content-sha256` it was signed with.
///
/// Nothing is read before the signature of the request's headers is verified
/// ([`sigv4::verify_s3_headers`](crate::http::sigv4::verify_s3_headers)) and the key is
/// authorized to write the object ([`unsized_upload_target`]'s operation, checked as the access
/// hook checks it), so neither an unauthenticated client nor a key that may not write there
/// can make the emulator hold a body: an unauthorized one is answered at once
/// (`AccessDenied`), and a request that fails the signature check or is not a PutObject or
/// UploadPart goes to s3s as it came, which refuses it as it refuses any unsized upload
/// (`MissingContentLength`) or with its own signature error. s3s then verifies the signature,
/// the body's digest and the policy again, as for every request. A read body is held in
/// memory, as every stored object is, up to [`MAX_UNSIZED_UPLOAD`]; past that it is refused
/// (`EntityTooLarge`) and the connection closed.
async fn read_unsized_upload(
    shared: &Arc<Shared>,
    req: http::Request<Incoming>,
    peer: SocketAddr,
) -> Result<http::Request<s3s::Body>, Box<Response>> {
    use crate::http::sigv4::{SigError, verify_s3_headers};
    let (mut parts, mut incoming) = req.into_parts();
    let secret = |ak: &str| shared.keys().secret(ak).map(str::to_owned);
    let mut verified = verify_s3_headers(&parts, std::time::SystemTime::now(), secret);
    if verified == Err(SigError::Skewed) {
        // A client may sign with the emulator's clock after a test advanced it.
        verified = verify_s3_headers(&parts, shared.clock().now(), secret);
    }
    let (Ok(access_key), Some((op, path))) = (verified, unsized_upload_target(&parts)) else {
        return Ok(http::Request::from_parts(parts, s3s::Body::from(incoming)));
    };
    if let Err(err) = authorize(shared, &access_key, op, &path, &parts.headers, Some(peer)) {
        return Err(Box::new(error_answer(err)));
    }
    let mut blocks: Vec<Bytes> = Vec::new();
    let mut block = bytes::BytesMut::new();
    let mut total: u64 = 0;
    while let Some(frame) = incoming.frame().await {
        let Ok(frame) = frame else {
            let err = s3s::S3Error::with_message(
                s3s::S3ErrorCode::IncompleteBody,
                "the request body ended before its last chunk",
            );
            return Err(Box::new(error_answer(err)));
        };
        let Ok(mut data) = frame.into_data() else {
            continue;
        };
        total += data.len() as u64;
        if total > MAX_UNSIZED_UPLOAD {
            return Err(Box::new(too_large("an upload may be at most 5 GiB")));
        }
        while !data.is_empty() {
            if block.capacity() == block.len() {
                if !block.is_empty() {
                    blocks.push(std::mem::take(&mut block).freeze());
                }
                block.reserve(UNSIZED_BLOCK);
            }
            let room = block.capacity() - block.len();
            let take = data.split_to(room.min(data.len()));
            block.extend_from_slice(&take);
        }
    }
    if !block.is_empty() {
        blocks.push(block.freeze());
    }
    parts
        .headers
        .insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(total));
    let frames = futures::stream::iter(
        blocks
            .into_iter()
            .map(|b| Ok::<_, std::io::Error>(hyper::body::Frame::data(b))),
    );
    let body = s3s::Body::http_body(http_body_util::StreamBody::new(frames));
    Ok(http::Request::from_parts(parts, body))
}

/// Bounds on what one client can hold: connections, and how long a connection may sit idle or
/// take to send its headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Open connections served at once; more are answered `503 SlowDown` and closed.
    pub(crate) max_connections: usize,
    /// How long a client may take to send a request's headers.
    pub(crate) header_read_timeout: Duration,
    /// How long a connection may go without a byte read or written before it is closed: idle
    /// keep-alive connections and bodies that stop half-way.
    pub(crate) idle_timeout: Duration,
    /// Header lines a request may carry (S3 accepts user metadata up to 2 KB, which can take
    /// well over hyper's default of 100 lines).
    pub(crate) max_headers: usize,
    /// Webhook events queued per URL before new ones are dropped.
    pub(crate) webhook_queue: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 512,
            header_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(120),
            max_headers: 1024,
            webhook_queue: crate::notify::QUEUE_CAPACITY,
        }
    }
}

/// When a connection last moved a byte, shared between its I/O and its watchdog.
#[derive(Debug)]
struct Activity {
    origin: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            origin: Instant::now(),
            last_ms: AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.origin + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }
}

/// A socket that records activity on every read and write that moves bytes.
struct Watched<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    // Vectored writes let hyper send a response body straight from its `Bytes` (a stored
    // object) next to the headers; without them it copies the whole body into its own buffer
    // first.
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The answer to a connection over the limit, written before closing it.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
Content-Type: application/xml\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: 125\r\n\r\n\
<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Too many open connections; retry</Message></Error>";

/// Waits before the next accept after an error (out of file descriptors, say), doubling up to a
/// second, so a failing accept does not spin a core.
#[derive(Debug)]
struct Backoff(Duration);

impl Backoff {
    const FIRST: Duration = Duration::from_millis(5);
    const MAX: Duration = Duration::from_secs(1);

    fn reset(&mut self) {
        self.0 = Duration::ZERO;
    }

    fn next(&mut self) -> Duration {
        self.0 = (self.0 * 2).clamp(Self::FIRST, Self::MAX);
        self.0
    }
}

/// Serves connections from `listener` until `stop` flips to true.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let s3 = s3_service(&shared);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let mut backoff = Backoff(Duration::ZERO);
    loop {
        let (mut socket, peer): (_, SocketAddr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => {
                    backoff.reset();
                    pair
                }
                Err(err) => {
                    let wait = backoff.next();
                    tracing::warn!(%err, ?wait, "accept failed; backing off");
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        _ = stop.changed() => break,
                    }
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            tracing::warn!(
                %peer,
                max_connections = limits.max_connections,
                "connection limit reached; answering 503 SlowDown"
            );
            tokio::spawn(async move {
                // Best effort: the client may already be gone.
                socket.write_all(BUSY).await.ok();
                socket.shutdown().await.ok();
            });
            continue;
        };
        // Responses go out as soon as they are written, not held back for an ACK (Nagle).
        socket.set_nodelay(true).ok();
        let (shared, s3) = (Arc::clone(&shared), s3.clone());
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let activity = Arc::new(Activity::new());
            let io = Watched {
                inner: socket,
                activity: Arc::clone(&activity),
            };
            let service = hyper::service::service_fn(move |req| {
                handle(Arc::clone(&shared), s3.clone(), peer, req)
            });
            // HTTP/1.1 only: a cleartext HTTP/2 connection could hold many pending streams, each
            // an unauthenticated request, under one connection permit.
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout)
                .max_headers(limits.max_headers);
            let conn = builder.serve_connection(TokioIo::new(io), service);
            tokio::pin!(conn);
            loop {
                let idle_until = activity.last() + limits.idle_timeout;
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(err) = result {
                            tracing::debug!(%peer, %err, "connection ended with an error");
                        }
                        break;
                    }
                    () = tokio::time::sleep_until(idle_until.into()) => {
                        if activity.last() + limits.idle_timeout <= Instant::now() {
                            tracing::debug!(%peer, "closing an idle connection");
                            break;
                        }
                    }
                    _ = stop.changed() => {
                        conn.as_mut().graceful_shutdown();
                        if let Err(err) = conn.as_mut().await {
                            tracing::debug!(%peer, %err, "connection ended with an error");
                        }
                        break;
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_imf_fixdate() {
        let t = std::time::UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(http_date(t).unwrap(), "Sun, 06 Nov 1994 08:49:37 GMT");
    }

    #[test]
    fn signing_regions_auto_and_real_names_are_accepted() {
        for ok in [
            "auto",
            "us-east-1",
            "eu-west-2",
            "us-gov-west-1",
            "iad",
            "fra",
        ] {
            assert!(is_accepted_region(ok), "{ok}");
        }
        for bad in [
            "",
            "AUTO",
            "x",
            "moon",
            "us-east",
            "us-east-1a",
            "-1",
            "us--1",
            "éé-a-1",
        ] {
            assert!(!is_accepted_region(bad), "{bad}");
        }
    }

    #[test]
    fn the_signing_region_is_read_from_the_header_or_the_query() {
        let header = http::Request::builder()
            .uri("/b")
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AK/20260101/moon/s3/aws4_request, SignedHeaders=host, Signature=00",
            )
            .body(())
            .unwrap();
        assert_eq!(signing_region(&header).as_deref(), Some("moon"));
        let query = http::Request::builder()
            .uri(
                "/b/k?X-Amz-Credential=AK%2F20260101%2Fauto%2Fs3%2Faws4_request&X-Amz-Signature=00",
            )
            .body(())
            .unwrap();
        assert_eq!(signing_region(&query).as_deref(), Some("auto"));
        let unsigned = http::Request::builder().uri("/health").body(()).unwrap();
        assert_eq!(signing_region(&unsigned), None);
    }

    #[test]
    fn accept_backoff_doubles_to_a_second_and_resets() {
        let mut b = Backoff(Duration::ZERO);
        let waits: Vec<_> = (0..10).map(|_| b.next()).collect();
        assert_eq!(waits[0], Backoff::FIRST);
        assert_eq!(waits[1], Backoff::FIRST * 2);
        assert!(waits.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(*waits.last().unwrap(), Backoff::MAX);
        b.reset();
        assert_eq!(b.next(), Backoff::FIRST);
    }

    #[test]
    fn the_busy_answer_is_a_well_formed_http_response() {
        let text = std::str::from_utf8(BUSY).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(body.len(), length);
    }

    #[test]
    fn unsized_uploads_are_read_ahead_only_for_put_object_and_upload_part() {
        let target = |method: &str, uri: &str| {
            let req = http::Request::builder()
                .method(method)
                .uri(uri)
                .body(())
                .unwrap();
            unsized_upload_target(&req.into_parts().0).map(|(op, _)| op)
        };
        assert_eq!(target("PUT", "/bkt/a/b"), Some("PutObject"));
        assert_eq!(target("PUT", "/bkt/k?x-id=PutObject"), Some("PutObject"));
        assert_eq!(
            target("PUT", "/bkt/k?partNumber=2&uploadId=u&x-id=UploadPart"),
            Some("UploadPart")
        );
        assert_eq!(target("PUT", "/bkt/k?partNumber=2"), None);
        assert_eq!(target("PUT", "/bkt/k?tagging"), None);
        assert_eq!(target("PUT", "/bkt/k?acl"), None);
        assert_eq!(target("PUT", "/bkt"), None);
        assert_eq!(target("PUT", "/bkt?tagging"), None);
        assert_eq!(target("POST", "/bkt/k"), None);
    }

    proptest::proptest! {
        /// Whatever the path and query, deciding whether to read an unsized upload ahead
        /// answers without panicking.
        #[test]
        fn unsized_upload_targets_never_panic(
            path in "/[A-Za-z0-9%/._~+-]{0,24}",
            query in proptest::option::of("[A-Za-z=&%0-9-]{0,24}"),
        ) {
            let uri = match &query {
                Some(q) => format!("{path}?{q}"),
                None => path.clone(),
            };
            if let Ok(req) = http::Request::put(uri).body(()) {
                let _ = unsized_upload_target(&req.into_parts().0);
            }
        }
    }
}
