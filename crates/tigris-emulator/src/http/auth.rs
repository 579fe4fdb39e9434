//! Authentication (SigV4 secrets from the key table) and the per-request access hook.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use http::{HeaderMap, StatusCode};
use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::{S3Auth, SecretKey};
use s3s::dto::{
    CopyObjectInput, CopySource, CreateBucketInput, DeleteBucketInput, DeleteObjectInput,
    DeleteObjectsInput, PostObjectInput, RestoreObjectInput,
};
use s3s::path::S3Path;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Result, s3_error};

use crate::iam::policy::{self, RequestContext};

use crate::http::faults::{InjectedFailure, RequestTag, Timing};
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

/// What a fork (`CreateBucket` with `X-Tigris-Fork-Source-Bucket`), a merge (`PUT /{parent}`
/// with `X-Tigris-Merge-Source-Bucket`) or a rebase (`PUT /{fork}` with `X-Tigris-Rebase: true`)
/// needs before any bucket is looked up: the listing of each bucket it reads or rewrites that
/// the request names (the fork's source; a merge's fork; the fork a rebase moves), and for a
/// merge the snapshot of the parent it takes.
/// A key without these learns nothing, not even whether the buckets exist. The objects are
/// checked one by one later, under the store lock ([`require_fork`], [`require_merge`],
/// [`require_rebase`]).
fn fork_merge_rebase_gates(bucket: &str, headers: &HeaderMap) -> S3Result<Vec<(String, String)>> {
    let named = |name: &str| -> S3Result<Option<String>> {
        headers
            .get(name)
            .map(|v| {
                v.to_str()
                    .map(str::to_owned)
                    .map_err(|_| s3_error!(InvalidArgument, "{name} is not a bucket name"))
            })
            .transpose()
    };
    let mut needs = Vec::new();
    if let Some(source) = named(crate::header::FORK_SOURCE_BUCKET)? {
        needs.push(list_bucket(&source));
    }
    if let Some(fork) = named(crate::header::MERGE_SOURCE_BUCKET)? {
        needs.push(list_bucket(&fork));
        // A merge ends with a snapshot of the parent, authorized as that snapshot would be
        // (`CreateBucket` with `X-Tigris-Snapshot`), so even a merge with nothing to write
        // needs a right on the parent.
        needs.push((
            "s3:CreateBucket".to_owned(),
            format!("arn:aws:s3:::{bucket}"),
        ));
    } else if crate::s3::is_true(headers, crate::header::REBASE) {
        needs.push(list_bucket(bucket));
    }
    Ok(needs)
}

fn is_merge_or_rebase(headers: &HeaderMap) -> bool {
    headers.contains_key(crate::header::MERGE_SOURCE_BUCKET)
        || crate::s3::is_true(headers, crate::header::REBASE)
}

/// The requester the access hook put in the request, for checks the handler makes under the
/// store lock. Missing only if the hook did not run, which is refused.
fn requester_of(extensions: &http::Extensions) -> S3Result<&Requester> {
    extensions
        .get::<Requester>()
        .ok_or_else(|| s3_error!(AccessDenied, "the request was not authorized"))
}

/// A fork of `source` exposes each of `keys` (every object visible where it forks): the key
/// must be allowed to read each one, as it would to read them one by one.
pub(crate) fn require_fork(
    extensions: &http::Extensions,
    source: &str,
    keys: &[String],
) -> S3Result<()> {
    let requester = requester_of(extensions)?;
    if requester.is_root() {
        return Ok(());
    }
    let needs: Vec<(String, String)> = keys
        .iter()
        .map(|key| ("s3:GetObject".to_owned(), object_arn(source, key)))
        .collect();
    requester.require(&needs)
}

/// The plain reads and writes of bucket `to` that `touches` stand for, copying from `from`: a
/// put reads the object from `from` and puts it in `to`; a delete deletes it from `to`.
fn touch_needs(from: &str, to: &str, touches: &[crate::store::Touch]) -> Vec<(String, String)> {
    use crate::store::Touch;
    let mut needs = Vec::with_capacity(touches.len() * 2);
    for touch in touches {
        match touch {
            Touch::Put(key) => {
                needs.push(("s3:GetObject".to_owned(), object_arn(from, key)));
                needs.push(("s3:PutObject".to_owned(), object_arn(to, key)));
            }
            Touch::Delete(key) => needs.push(("s3:DeleteObject".to_owned(), object_arn(to, key))),
        }
    }
    needs
}

/// A merge of `fork` into `parent` writes each of `touches` into the parent: each put needs
/// `s3:GetObject` on the fork's object and `s3:PutObject` on the parent's key, each delete
/// `s3:DeleteObject` on the parent's key.
pub(crate) fn require_merge(
    extensions: &http::Extensions,
    parent: &str,
    fork: &str,
    touches: &[crate::store::Touch],
) -> S3Result<()> {
    let requester = requester_of(extensions)?;
    if requester.is_root() {
        return Ok(());
    }
    requester.require(&touch_needs(fork, parent, touches))
}

/// A rebase of `fork` onto its parent's present changes what the fork shows for each of
/// `touches`: `s3:ListBucket` on the parent, then per key `s3:GetObject` on the parent's object
/// and `s3:PutObject` on the fork's key (a put), or `s3:DeleteObject` on the fork's key.
pub(crate) fn require_rebase(
    extensions: &http::Extensions,
    fork: &str,
    parent: &str,
    touches: &[crate::store::Touch],
) -> S3Result<()> {
    let requester = requester_of(extensions)?;
    if requester.is_root() {
        return Ok(());
    }
    let mut needs = vec![list_bucket(parent)];
    needs.extend(touch_needs(parent, fork, touches));
    requester.require(&needs)
}

/// The requester's identity and context, as the policy evaluator needs them.
///
/// The key's policies are read once, when the requester is made, so a request that checks many
/// resources (each key of a DeleteObjects or a bundle) evaluates them without taking the IAM
/// lock again, and never while it holds another lock.
#[derive(Clone)]
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
            now: shared.clock().now(),
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
            // Anonymous: reads of a public-read bucket's or object's objects, and listings of
            // a public bucket with public listing on, nothing else.
            // A missing bucket is 404 for them, as on S3, whatever the operation (but the
            // one that creates it).
            return match (cx.s3_op().name(), cx.s3_path()) {
                ("GetObject" | "HeadObject", S3Path::Object { bucket, key }) => {
                    crate::s3::anonymous_read(&self.0, bucket, key)
                }
                ("ListObjects" | "ListObjectsV2", S3Path::Bucket { bucket }) => {
                    crate::s3::anonymous_list(&self.0, bucket)
                }
                ("CreateBucket", _) | (_, S3Path::Root) => {
                    Err(s3_error!(AccessDenied, "Signature is required"))
                }
                (_, S3Path::Bucket { bucket } | S3Path::Object { bucket, .. }) => {
                    self.0.store().bucket(bucket)?;
                    Err(s3_error!(AccessDenied, "Signature is required"))
                }
            };
        };
        // A form upload's signature is verified from here on (server.rs reads its rest).
        if let Some(verified) = cx.extensions_mut().get::<crate::http::server::Verified>() {
            verified.set();
        }
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
        if let Some(query) = cx.uri().query()
            && crate::api::presign::is_presigned(Some(query))
        {
            crate::api::presign::check_presigned(query, cx.headers())?;
        }
        let peer = cx.extensions_mut().get::<PeerAddr>().map(|p| p.0);
        authorize(&self.0, &access_key, &op, cx.s3_path(), cx.headers(), peer)
    }

    async fn create_bucket(&self, req: &mut S3Request<CreateBucketInput>) -> S3Result<()> {
        let requester = self.requester(req)?;
        requester.require(&fork_merge_rebase_gates(&req.input.bucket, &req.headers)?)?;
        // The objects a fork, merge or rebase touches are checked by the handler, under the
        // store lock it changes them with.
        req.extensions.insert(requester);
        Ok(())
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
        // Deleting a version (or purging a soft-deleted one) drops that version, as on AWS.
        if req.input.version_id.as_deref().is_some_and(|v| v != "null") {
            let need = [(
                "s3:DeleteObjectVersion".to_owned(),
                object_arn(&req.input.bucket, &req.input.key),
            )];
            self.requester(req)?.require(&need)?;
        }
        Ok(())
    }

    async fn restore_object(&self, req: &mut S3Request<RestoreObjectInput>) -> S3Result<()> {
        // Every RestoreObject has needed s3:RestoreObject on the object (`check`). Restoring a
        // soft-deleted version also writes it as the key's live object, replacing whatever is
        // there: a put of the key. Decided from the header alone, before anything is looked up.
        if crate::s3::is_archive_restore(&req.headers) {
            return Ok(());
        }
        let need = [(
            "s3:PutObject".to_owned(),
            object_arn(&req.input.bucket, &req.input.key),
        )];
        self.requester(req)?.require(&need)
    }

    async fn delete_bucket(&self, req: &mut S3Request<DeleteBucketInput>) -> S3Result<()> {
        // `X-Tigris-Soft-Delete: false` (or a retention) overrides the bucket's soft-delete
        // setting for this delete, which is changing that setting: s3:PutBucketVersioning,
        // as the PATCH that turns soft delete off needs. Checked from the header alone, so
        // nothing about the bucket is looked up first.
        if req.headers.contains_key(crate::header::SOFT_DELETE) {
            let need = [(
                policy::s3_action("PutBucketSoftDelete"),
                format!("arn:aws:s3:::{}", req.input.bucket),
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
            let action = if id.version_id.as_deref().is_some_and(|v| v != "null") {
                "s3:DeleteObjectVersion"
            } else {
                "s3:DeleteObject"
            };
            let need = [(action.to_owned(), object_arn(&bucket, &id.key))];
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
