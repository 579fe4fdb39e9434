//! Authentication (SigV4 secrets from the key table) and the per-request access hook.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use http::{HeaderMap, StatusCode};
use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::{S3Auth, SecretKey};
use s3s::dto::{
    CopyObjectInput, CopySource, CreateBucketInput, DeleteObjectInput, DeleteObjectsInput,
    PostObjectInput,
};
use s3s::path::S3Path;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Result, s3_error};

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

/// What a request touches beyond its own path, read from its parsed input by the per-operation
/// hooks below, so the check sees exactly what the handler will act on.
///
/// This is the one place that declares, per operation, every (action, resource) pair a request
/// needs: [`path_resources`] for the path it names, the `AccessHook` per-operation methods for the
/// rest (fork sources, copy and rename sources, each key of a multi-delete).
fn path_resources(op: &str, path: &S3Path, headers: &HeaderMap) -> Vec<(String, String)> {
    let action = policy::s3_action(op);
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    match path {
        S3Path::Root => match header(crate::header::SNAPSHOT) {
            // Listing a bucket's snapshots reads that bucket.
            Some(bucket) if op == "ListBuckets" => vec![list_bucket(bucket)],
            _ => vec![(action, "arn:aws:s3:::*".into())],
        },
        // Each key is checked once the body is parsed (`AccessHook::delete_objects`).
        S3Path::Bucket { .. } if op == "DeleteObjects" => Vec::new(),
        // A browser form upload names its key in the form (`AccessHook::post_object`).
        S3Path::Bucket { .. } if op == "PostObject" => Vec::new(),
        // Merges and rebases change objects, not buckets: `AccessHook::create_bucket` checks.
        S3Path::Bucket { .. } if op == "CreateBucket" && is_merge_or_rebase(headers) => Vec::new(),
        // The soft-delete view of a listing reads deleted versions too.
        S3Path::Bucket { bucket }
            if op == "ListObjectsV2" && crate::s3::is_true(headers, crate::header::SOFT_DELETE) =>
        {
            vec![
                (action, format!("arn:aws:s3:::{bucket}")),
                (
                    "s3:ListBucketVersions".into(),
                    format!("arn:aws:s3:::{bucket}"),
                ),
            ]
        }
        S3Path::Bucket { bucket } => vec![(action, format!("arn:aws:s3:::{bucket}"))],
        S3Path::Object { bucket, key } => vec![(action, object_arn(bucket, key))],
    }
}

fn object_arn(bucket: &str, key: &str) -> String {
    format!("arn:aws:s3:::{bucket}/{key}")
}

fn list_bucket(bucket: &str) -> (String, String) {
    ("s3:ListBucket".into(), format!("arn:aws:s3:::{bucket}"))
}

/// The resources a fork reads: the source bucket's listing and every object in it (a fork
/// serves them all, at the snapshot if one is named).
fn fork_source_resources(headers: &HeaderMap) -> S3Result<Vec<(String, String)>> {
    let Some(source) = headers.get(crate::header::FORK_SOURCE_BUCKET) else {
        return Ok(Vec::new());
    };
    let source = source.to_str().map_err(|_| {
        s3_error!(
            InvalidArgument,
            "X-Tigris-Fork-Source-Bucket is not a bucket name"
        )
    })?;
    Ok(vec![
        list_bucket(source),
        ("s3:GetObject".into(), object_arn(source, "*")),
    ])
}

fn is_merge_or_rebase(headers: &HeaderMap) -> bool {
    headers.contains_key(crate::header::MERGE_SOURCE_BUCKET)
        || crate::s3::is_true(headers, crate::header::REBASE)
}

/// Reading a whole bucket: its listing and every object in it.
fn read_all(bucket: &str) -> [(String, String); 2] {
    [
        list_bucket(bucket),
        ("s3:GetObject".into(), object_arn(bucket, "*")),
    ]
}

/// Changing any object of a bucket: a put or a delete of any key.
fn write_all(bucket: &str) -> [(String, String); 2] {
    [
        ("s3:PutObject".into(), object_arn(bucket, "*")),
        ("s3:DeleteObject".into(), object_arn(bucket, "*")),
    ]
}

/// What a merge (`PUT /{parent}` with `X-Tigris-Merge-Source-Bucket`) or a rebase (`PUT /{fork}`
/// with `X-Tigris-Rebase: true`) touches. A merge reads the fork and may put or delete any key
/// of the parent. A rebase changes what every key of the fork reads, to the parent's present:
/// it reads the parent and writes the fork. An unknown fork needs nothing more (the handler
/// answers `NoSuchBucket`).
fn merge_and_rebase_resources(
    shared: &Shared,
    bucket: &str,
    headers: &HeaderMap,
) -> S3Result<Vec<(String, String)>> {
    let mut needs = Vec::new();
    if let Some(fork) = headers.get(crate::header::MERGE_SOURCE_BUCKET) {
        let fork = fork.to_str().map_err(|_| {
            s3_error!(
                InvalidArgument,
                "X-Tigris-Merge-Source-Bucket is not a bucket name"
            )
        })?;
        needs.extend(read_all(fork));
        needs.extend(write_all(bucket));
    } else if crate::s3::is_true(headers, crate::header::REBASE) {
        let parent = shared
            .store()
            .bucket(bucket)
            .ok()
            .and_then(|b| b.fork.as_ref().map(|f| f.parent_name.clone()));
        if let Some(parent) = parent {
            needs.extend(read_all(&parent));
            needs.extend(write_all(bucket));
        }
    }
    Ok(needs)
}

/// The requester's identity and context, as the policy evaluator needs them.
///
/// The key's policies are read once, when the requester is made, so a request that checks many
/// resources (each key of a DeleteObjects or a bundle) evaluates them without taking the IAM
/// lock again, and never while it holds another lock.
pub(crate) struct Requester {
    root: bool,
    policies: Vec<Arc<policy::PolicyDocument>>,
    peer: Option<SocketAddr>,
    now: SystemTime,
}

impl Requester {
    pub(crate) fn new(shared: &Shared, access_key: &str, peer: Option<SocketAddr>) -> Self {
        let root = access_key == shared.root_access_key;
        Self {
            root,
            policies: if root {
                Vec::new()
            } else {
                shared.iam().policies_of(access_key)
            },
            peer,
            now: SystemTime::now(),
        }
    }

    fn is_root(&self) -> bool {
        self.root
    }

    /// Whether the requester may perform `action` on `resource`.
    pub(crate) fn may(&self, action: &str, resource: &str) -> bool {
        self.first_denied(&[(action.to_owned(), resource.to_owned())])
            .is_none()
    }

    /// The first (action, resource) the key may not perform, if any.
    fn first_denied<'r>(
        &self,
        needs: impl IntoIterator<Item = &'r (String, String)>,
    ) -> Option<&'r (String, String)> {
        if self.is_root() {
            return None;
        }
        needs.into_iter().find(|(action, resource)| {
            let ctx = RequestContext {
                action,
                resource,
                now: self.now,
                source_ip: self.peer.map(|p| p.ip()),
            };
            !policy::allowed(self.policies.iter().map(|p| &**p), &ctx)
        })
    }

    fn require(&self, needs: &[(String, String)]) -> S3Result<()> {
        match self.first_denied(needs) {
            None => Ok(()),
            Some((action, resource)) => Err(denied(action, resource)),
        }
    }
}

fn denied(action: &str, resource: &str) -> S3Error {
    s3_error!(
        AccessDenied,
        "Access Denied: {action} on {resource} is not allowed for this key"
    )
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
    Requester::new(shared, access_key, peer).require(&path_resources(op, path, headers))
}

/// Keys of a DeleteObjects request the requester may not delete: taken out of the input by the
/// access hook and answered as per-key `AccessDenied` errors, as S3 does.
#[derive(Debug, Clone, Default)]
pub(crate) struct DeniedKeys(pub(crate) Vec<String>);

/// Runs after the signature is verified and the operation is known: counts the request,
/// applies injected faults, then authorizes the key against its policies.
#[derive(Debug, Clone)]
pub(crate) struct AccessHook(pub(crate) Arc<Shared>);

#[async_trait::async_trait]
impl S3Access for AccessHook {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let Some(access_key) = cx.credentials().map(|c| c.access_key.clone()) else {
            // Anonymous: reads of a public-read bucket's or object's objects, nothing else.
            // A missing bucket is 404 for them, as on S3.
            return match (cx.s3_op().name(), cx.s3_path()) {
                ("GetObject" | "HeadObject", S3Path::Object { bucket, key }) => {
                    crate::s3::anonymous_read(&self.0, bucket, key)
                }
                _ => Err(s3_error!(AccessDenied, "Signature is required")),
            };
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
            Some((failure, Timing::Before)) => {
                self.0.drop_later(cx.extensions_mut(), &failure);
                return Err(injected_error(&failure));
            }
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

    async fn create_bucket(&self, req: &mut S3Request<CreateBucketInput>) -> S3Result<()> {
        let requester = self.requester(req)?;
        requester.require(&fork_source_resources(&req.headers)?)?;
        requester.require(&merge_and_rebase_resources(
            &self.0,
            &req.input.bucket,
            &req.headers,
        )?)
    }

    async fn copy_object(&self, req: &mut S3Request<CopyObjectInput>) -> S3Result<()> {
        let requester = self.requester(req)?;
        // The source exactly as the handler reads it: s3s's parse, decoding included.
        let CopySource::Bucket { bucket, key, .. } = &req.input.copy_source else {
            return Ok(()); // the handler refuses other sources
        };
        let mut needs = vec![("s3:GetObject".to_owned(), object_arn(bucket, key))];
        if crate::s3::is_true(&req.headers, crate::header::RENAME) {
            // A rename deletes its source.
            needs.push(("s3:DeleteObject".to_owned(), object_arn(bucket, key)));
        }
        requester.require(&needs)
    }

    async fn upload_part_copy(
        &self,
        req: &mut S3Request<s3s::dto::UploadPartCopyInput>,
    ) -> S3Result<()> {
        // The source is read: the key needs s3:GetObject on it too.
        let CopySource::Bucket { bucket, key, .. } = &req.input.copy_source else {
            return Ok(()); // the handler refuses other sources
        };
        let needs = [("s3:GetObject".to_owned(), object_arn(bucket, key))];
        self.requester(req)?.require(&needs)
    }

    async fn post_object(&self, req: &mut S3Request<PostObjectInput>) -> S3Result<()> {
        let need = [(
            "s3:PutObject".to_owned(),
            object_arn(&req.input.bucket, &req.input.key),
        )];
        self.requester(req)?.require(&need)
    }

    async fn delete_object(&self, req: &mut S3Request<DeleteObjectInput>) -> S3Result<()> {
        // Purging a soft-deleted version drops a version for good.
        if req.input.version_id.is_some()
            && crate::s3::is_true(&req.headers, crate::header::SOFT_DELETE)
        {
            let need = [(
                "s3:DeleteObjectVersion".to_owned(),
                object_arn(&req.input.bucket, &req.input.key),
            )];
            self.requester(req)?.require(&need)?;
        }
        Ok(())
    }

    async fn delete_objects(&self, req: &mut S3Request<DeleteObjectsInput>) -> S3Result<()> {
        let requester = self.requester(req)?;
        if requester.is_root() {
            return Ok(());
        }
        let bucket = req.input.bucket.clone();
        let mut denied = Vec::new();
        req.input.delete.objects.retain(|id| {
            let need = [("s3:DeleteObject".to_owned(), object_arn(&bucket, &id.key))];
            let allowed = requester.first_denied(&need).is_none();
            if !allowed {
                denied.push(id.key.clone());
            }
            allowed
        });
        req.extensions.insert(DeniedKeys(denied));
        Ok(())
    }
}

impl AccessHook {
    fn requester<T>(&self, req: &S3Request<T>) -> S3Result<Requester> {
        let access_key = req
            .credentials
            .as_ref()
            .map(|c| c.access_key.as_str())
            .ok_or_else(|| s3_error!(AccessDenied, "Signature is required"))?;
        let peer = req.extensions.get::<PeerAddr>().map(|p| p.0);
        Ok(Requester::new(&self.0, access_key, peer))
    }
}
