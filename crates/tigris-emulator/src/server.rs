//! The listener and the outer HTTP service that routes to S3 (and, later, IAM).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use s3s::service::{S3Service, S3ServiceBuilder};
use tokio::net::TcpListener;
use tokio::sync::watch;

use http_body_util::{BodyExt, Limited};

use crate::auth::{AccessHook, KeyTable, PeerAddr, injected_error};
use crate::iam;
use crate::notify::PatchBucket;
use crate::s3::Backend;
use crate::state::Shared;

type Response = http::Response<s3s::Body>;

pub(crate) fn s3_service(shared: &Arc<Shared>) -> S3Service {
    let mut builder = S3ServiceBuilder::new(Backend {
        shared: Arc::clone(shared),
    });
    builder.set_auth(KeyTable(Arc::clone(shared)));
    builder.set_access(AccessHook(Arc::clone(shared)));
    builder.set_route(PatchBucket(Arc::clone(shared)));
    builder.build()
}

fn plain(status: u16, body: &'static str) -> Response {
    let mut resp = http::Response::new(s3s::Body::from(body.to_owned()));
    *resp.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
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

/// The most an IAM request body may be.
const MAX_IAM_BODY: usize = 1 << 20;

async fn handle(
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
    let latency = shared.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if iam::is_iam_request(&req) {
        let (parts, body) = req.into_parts();
        let body = match Limited::new(body, MAX_IAM_BODY).collect().await {
            Ok(body) => body.to_bytes(),
            Err(_) => {
                return Ok(iam::error_response(
                    400,
                    "RequestEntityTooLarge",
                    "the request body is too large or broken",
                ));
            }
        };
        return Ok(iam::handle(&shared, &parts, &body));
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
        return Ok(err
            .to_http_response()
            .unwrap_or_else(|_| plain(400, "InvalidContentEncoding")));
    }
    req.extensions_mut().insert(PeerAddr(peer));
    let tag = shared.next_tag();
    req.extensions_mut().insert(tag);
    let served = hyper::service::Service::call(&s3, req).await;
    let late = shared.take_after(tag);
    match served {
        Ok(resp) => match late {
            Some(failure) if resp.status().is_success() => Ok(injected_error(&failure)
                .to_http_response()
                .unwrap_or_else(|_| plain(500, "InternalError"))),
            _ => Ok(resp),
        },
        Err(err) => {
            tracing::warn!(?err, "request failed outside the S3 error model");
            Ok(plain(500, "internal error"))
        }
    }
}

/// Serves connections from `listener` until `stop` flips to true.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let s3 = s3_service(&shared);
    loop {
        let (socket, peer): (_, SocketAddr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    tracing::warn!(%err, "accept failed");
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        let (shared, s3) = (Arc::clone(&shared), s3.clone());
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                handle(Arc::clone(&shared), s3.clone(), peer, req)
            });
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            let conn = builder.serve_connection(TokioIo::new(socket), service);
            tokio::pin!(conn);
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(err) = result {
                        tracing::debug!(%peer, %err, "connection ended with an error");
                    }
                }
                _ = stop.changed() => conn.as_mut().graceful_shutdown(),
            }
        });
    }
}
