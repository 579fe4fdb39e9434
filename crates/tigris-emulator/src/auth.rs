//! Authentication (SigV4 secrets from the key table) and the per-request access hook.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use http::{HeaderMap, StatusCode};
use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::{S3Auth, SecretKey};
use s3s::path::S3Path;
use s3s::{S3Error, S3ErrorCode, S3Result, s3_error};

use crate::policy::{self, RequestContext};

use crate::faults::{InjectedFailure, Timing};
use crate::state::Shared;

/// Looks secrets up in the emulator's key table, so keys made at run time sign at once.
#[derive(Debug, Clone)]
pub(crate) struct KeyTable(pub(crate) Arc<Shared>);

#[async_trait::async_trait]
impl S3Auth for KeyTable {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        let keys = self.0.keys();
        let secret = keys.secret(access_key).ok_or_else(|| {
            s3_error!(
                InvalidAccessKeyId,
                "The access key ID you provided does not exist in our records"
            )
        })?;
        Ok(SecretKey::from(secret))
    }
}

/// Turns an injected failure into the S3 error the client will see.
pub(crate) fn injected_error(failure: &InjectedFailure) -> S3Error {
    let code =
        S3ErrorCode::from_bytes(failure.code.as_bytes()).unwrap_or(S3ErrorCode::InternalError);
    let mut err = S3Error::with_message(code, "injected by the emulator's fault injection");
    err.set_status_code(
        StatusCode::from_u16(failure.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
    );
    err
}

/// A request's number, put into request extensions by the server so that a failure injected
/// "after apply" can be matched to the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct RequestTag(pub(crate) u64);

/// The client's address, put into request extensions by the server for `aws:SourceIp`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PeerAddr(pub(crate) SocketAddr);

/// The ARN a request acts on, and for a copy the source object it reads.
fn resources(op: &str, path: &S3Path, headers: &HeaderMap) -> Vec<(String, String)> {
    let action = policy::s3_action(op);
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    match path {
        S3Path::Root => match header(crate::header::SNAPSHOT) {
            // Listing a bucket's snapshots reads that bucket.
            Some(bucket) if op == "ListBuckets" => {
                vec![("s3:ListBucket".into(), format!("arn:aws:s3:::{bucket}"))]
            }
            _ => vec![(action, "arn:aws:s3:::*".into())],
        },
        S3Path::Bucket { bucket } if op == "DeleteObjects" => {
            vec![(action, format!("arn:aws:s3:::{bucket}/*"))]
        }
        S3Path::Bucket { bucket } => vec![(action, format!("arn:aws:s3:::{bucket}"))],
        S3Path::Object { bucket, key } => {
            let mut out = vec![(action, format!("arn:aws:s3:::{bucket}/{key}"))];
            if op == "CopyObject"
                && let Some(source) = header("x-amz-copy-source")
            {
                let source =
                    urlencoding::decode(source.trim_start_matches('/')).map(|s| s.into_owned());
                let source = source.unwrap_or_default();
                let source = source.split("?versionId=").next().unwrap_or_default();
                out.push(("s3:GetObject".into(), format!("arn:aws:s3:::{source}")));
            }
            out
        }
    }
}

/// Whether `access_key` may perform `op` on `path`: the root key may do everything, other keys
/// what their attached policies allow.
pub(crate) fn authorize(
    shared: &Shared,
    access_key: &str,
    op: &str,
    path: &S3Path,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> S3Result<()> {
    if access_key == shared.root_access_key {
        return Ok(());
    }
    let policies = shared.iam().policies_of(access_key);
    let now = SystemTime::now();
    for (action, resource) in resources(op, path, headers) {
        let ctx = RequestContext {
            action: &action,
            resource: &resource,
            now,
            source_ip: peer.map(|p| p.ip()),
        };
        if !policy::allowed(policies.iter().map(|p| &**p), &ctx) {
            return Err(s3_error!(
                AccessDenied,
                "Access Denied: {action} on {resource} is not allowed for this key"
            ));
        }
    }
    Ok(())
}

/// Runs after the signature is verified and the operation is known: counts the request,
/// applies injected faults, then authorizes the key against its policies.
#[derive(Debug, Clone)]
pub(crate) struct AccessHook(pub(crate) Arc<Shared>);

#[async_trait::async_trait]
impl S3Access for AccessHook {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let Some(access_key) = cx.credentials().map(|c| c.access_key.clone()) else {
            return Err(s3_error!(AccessDenied, "Signature is required"));
        };
        let op = cx.s3_op().name().to_owned();
        let bucket = match cx.s3_path() {
            S3Path::Root => None,
            S3Path::Bucket { bucket } | S3Path::Object { bucket, .. } => Some(bucket.to_string()),
        };
        match self
            .0
            .faults
            .on_request(&op, bucket.as_deref(), cx.headers())
        {
            Some((failure, Timing::Before)) => return Err(injected_error(&failure)),
            Some((failure, Timing::After)) => {
                // Served first; the server swaps the response for this failure afterwards.
                if let Some(tag) = cx.extensions_mut().get::<RequestTag>().copied() {
                    self.0.fail_after(tag, failure);
                }
            }
            None => {}
        }
        let peer = cx.extensions_mut().get::<PeerAddr>().map(|p| p.0);
        authorize(&self.0, &access_key, &op, cx.s3_path(), cx.headers(), peer)
    }
}
