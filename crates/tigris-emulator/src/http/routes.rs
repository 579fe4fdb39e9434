//! Tigris's endpoints outside the S3 API, on the S3 listener: `PATCH /{bucket}` settings (see
//! `notify.rs`), the fork listing (`GET /` with `X-Tigris-Fork`) and bucket metadata
//! (`GET /{bucket}?metadata`), both JSON, and presigned URLs (`POST /?func=presign`, see
//! `presign.rs`), and the JSON bucket listing with lineage, placement and stats (`GET /` with
//! `Accept: application/json`). s3s takes one custom route; this one dispatches.

use std::sync::Arc;
use std::time::SystemTime;

use s3s::path::S3Path;
use s3s::{Body, S3Request, S3Response, S3Result, s3_error};
use serde_json::{Value, json};

use crate::notify::PatchBucket;
use crate::state::Shared;
use crate::store::{Lineage, Store, version_time};

/// Fork listing pages hold at most this many buckets (S3's ListBuckets ceiling).
const MAX_BUCKETS: usize = 10_000;

/// Which endpoint a request matched; put into its extensions by `is_match`.
#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Patch,
    ListForks,
    ListBuckets,
    Metadata,
    Bundle,
    Presign,
    ListDeletedBuckets,
    RestoreBucket,
}

/// The emulator's one s3s custom route.
#[derive(Debug, Clone)]
pub(crate) struct Routes {
    shared: Arc<Shared>,
    patch: PatchBucket,
}

impl Routes {
    pub(crate) fn new(shared: &Arc<Shared>) -> Self {
        Self {
            shared: Arc::clone(shared),
            patch: PatchBucket(Arc::clone(shared)),
        }
    }
}

fn single_bucket(uri: &http::Uri) -> Option<&str> {
    let path = uri.path().trim_start_matches('/').trim_end_matches('/');
    (!path.is_empty() && !path.contains('/')).then_some(path)
}

fn accepts_json(headers: &http::HeaderMap) -> bool {
    headers
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

fn has_query_key(uri: &http::Uri, key: &str) -> bool {
    uri.query()
        .is_some_and(|q| q.split('&').any(|p| p.split('=').next() == Some(key)))
}

fn query_value(uri: &http::Uri, key: &str) -> Option<String> {
    uri.query()?.split('&').find_map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        (k == key).then(|| urlencoding::decode(v).map_or_else(|_| v.to_owned(), |v| v.into_owned()))
    })
}

#[async_trait::async_trait]
impl s3s::route::S3Route for Routes {
    fn is_match(
        &self,
        method: &http::Method,
        uri: &http::Uri,
        headers: &http::HeaderMap,
        extensions: &mut http::Extensions,
    ) -> bool {
        let endpoint = if self.patch.is_match(method, uri, headers, extensions) {
            Endpoint::Patch
        } else if method == http::Method::GET
            && uri.path() == "/"
            && headers.contains_key(crate::header::FORK)
        {
            Endpoint::ListForks
        } else if method == http::Method::GET
            && uri.path() == "/"
            && accepts_json(headers)
            && !headers.contains_key(crate::header::SNAPSHOT)
            && query_value(uri, "OnlyDeleted").is_none_or(|v| !v.eq_ignore_ascii_case("true"))
        {
            Endpoint::ListBuckets
        } else if method == http::Method::POST
            && uri.path() == "/"
            && query_value(uri, "func").as_deref() == Some("presign")
        {
            Endpoint::Presign
        } else if method == http::Method::GET
            && single_bucket(uri).is_some()
            && has_query_key(uri, "metadata")
        {
            Endpoint::Metadata
        } else if method == http::Method::POST
            && single_bucket(uri).is_some()
            && has_query_key(uri, "bundle")
        {
            Endpoint::Bundle
        } else if crate::api::soft_delete::is_deleted_listing(method, uri) {
            Endpoint::ListDeletedBuckets
        } else if method == http::Method::POST
            && single_bucket(uri).is_some()
            && has_query_key(uri, "restore")
        {
            Endpoint::RestoreBucket
        } else {
            return false;
        };
        extensions.insert(endpoint);
        true
    }

    async fn call(&self, req: S3Request<Body>) -> S3Result<S3Response<Body>> {
        // A presigned URL for a custom route is held to the same limits as for an S3 operation.
        if let Some(query) = req.uri.query()
            && crate::api::presign::is_presigned(Some(query))
        {
            crate::api::presign::check_presigned(query, &req.headers)?;
        }
        match req.extensions.get::<Endpoint>().copied() {
            Some(Endpoint::Patch) => self.patch.call(req).await,
            Some(Endpoint::ListForks) => self.list_forks(&req),
            Some(Endpoint::ListBuckets) => self.list_buckets(&req),
            Some(Endpoint::Metadata) => self.metadata(&req),
            Some(Endpoint::Bundle) => self.bundle(req).await,
            Some(Endpoint::Presign) => crate::api::presign::presign(&self.shared, req).await,
            Some(Endpoint::ListDeletedBuckets) => {
                crate::api::soft_delete::list_deleted_buckets(&self.shared, &req)
            }
            Some(Endpoint::RestoreBucket) => {
                let bucket = single_bucket(&req.uri).unwrap_or_default().to_owned();
                crate::api::soft_delete::restore_bucket(&self.shared, &req, &bucket)
            }
            None => Err(s3_error!(InternalError, "unrouted request")),
        }
    }
}

impl Routes {
    /// Faults and the policy check, as for an S3 operation named `op` on `bucket`.
    fn admit(&self, req: &S3Request<Body>, op: &str, bucket: &str) -> S3Result<()> {
        let access_key = req
            .credentials
            .as_ref()
            .map(|c| c.access_key.clone())
            .unwrap_or_default();
        if let Some((failure, _)) = self
            .shared
            .faults
            .on_request(op, Some(bucket), &req.headers)
        {
            self.shared.drop_later(&req.extensions, &failure);
            return Err(crate::http::auth::injected_error(&failure));
        }
        let peer = req
            .extensions
            .get::<crate::http::auth::PeerAddr>()
            .map(|p| p.0);
        let path = S3Path::Bucket {
            bucket: bucket.into(),
        };
        crate::http::auth::authorize(&self.shared, &access_key, op, &path, &req.headers, peer)
    }

    /// `GET /` with `X-Tigris-Fork: <source>`: the buckets forked directly from `source`, in
    /// name order, `max-buckets` per page, continued by `continuation-token` (the last name
    /// served). Needs `s3:ListBucket` on the source; an unknown source is `403 AccessDenied`,
    /// as on Tigris.
    fn list_forks(&self, req: &S3Request<Body>) -> S3Result<S3Response<Body>> {
        let source = req
            .headers
            .get(crate::header::FORK)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| s3_error!(InvalidArgument, "X-Tigris-Fork must name a bucket"))?
            .to_owned();
        self.admit(req, "ListForks", &source)?;
        let limit = page_size(&req.uri)?;
        let after = query_value(&req.uri, "continuation-token").filter(|t| !t.is_empty());
        let store = self.shared.store();
        let forks = store
            .forks_of(&source)
            .map_err(|_| s3_error!(AccessDenied, "Access Denied: no bucket {source} of yours"))?;
        let rest: Vec<&String> = forks
            .iter()
            .filter(|n| after.as_ref().is_none_or(|a| n.as_str() > a.as_str()))
            .collect();
        let truncated = rest.len() > limit;
        let page = &rest[..rest.len().min(limit)];
        let token = match (truncated, page.last()) {
            (true, Some(last)) => last.as_str(),
            _ => "",
        };
        let buckets = page
            .iter()
            .map(|name| fork_entry(&store, name))
            .collect::<S3Result<Vec<_>>>()?;
        Ok(json_response(&json!({
            "ContinuationToken": token,
            "Buckets": { "Bucket": buckets },
        })))
    }

    /// `GET /` with `Accept: application/json`: Tigris's bucket listing, in name order,
    /// `max-buckets` per page, continued by `continuation-token` (the last name served). Each
    /// `Include*` flag adds its field to the entries (`IncludeRegionsInfo`: `Regions`, absent
    /// for global placement; `IncludeTypeInfo`: `Type`; `IncludeVisibility`: `Visibility`;
    /// `IncludeForkInfo`: `ForkInfo`; `IncludeOwnerInfo`: `OwnerInfo`); `IncludeStats` adds
    /// `Stats` summed over the page's buckets; `OnlyForked` keeps forks only. The emulator has
    /// one owner, so `OwnedBy` selects nothing out. Needs `s3:ListAllMyBuckets`.
    fn list_buckets(&self, req: &S3Request<Body>) -> S3Result<S3Response<Body>> {
        let access_key = req
            .credentials
            .as_ref()
            .map(|c| c.access_key.clone())
            .unwrap_or_default();
        if let Some((failure, _)) = self
            .shared
            .faults
            .on_request("ListBuckets", None, &req.headers)
        {
            return Err(crate::http::auth::injected_error(&failure));
        }
        let peer = req
            .extensions
            .get::<crate::http::auth::PeerAddr>()
            .map(|p| p.0);
        crate::http::auth::authorize(
            &self.shared,
            &access_key,
            "ListBuckets",
            &S3Path::Root,
            &req.headers,
            peer,
        )?;
        let flag = |name: &str| {
            query_value(&req.uri, name).is_some_and(|v| v.eq_ignore_ascii_case("true"))
        };
        let limit = page_size(&req.uri)?;
        let after = query_value(&req.uri, "continuation-token").filter(|t| !t.is_empty());
        let store = self.shared.store();
        let only_forks = flag("OnlyForked");
        let rest: Vec<&str> = store
            .names()
            .into_iter()
            .filter(|n| after.as_ref().is_none_or(|a| *n > a.as_str()))
            .filter(|n| !only_forks || store.bucket(n).is_ok_and(|b| b.fork.is_some()))
            .collect();
        let truncated = rest.len() > limit;
        let page = &rest[..rest.len().min(limit)];
        let token = match (truncated, page.last()) {
            (true, Some(last)) => *last,
            _ => "",
        };
        let owner = self.shared.root_access_key.as_str();
        let mut buckets = Vec::with_capacity(page.len());
        let (mut objects, mut bytes, mut rows) = (0u64, 0u64, 0u64);
        for name in page {
            let b = store.bucket(name)?;
            let mut entry = json!({
                "Name": name,
                "CreationDate": rfc3339(b.created),
            });
            if flag("IncludeRegionsInfo") && !b.settings.regions.is_empty() {
                entry["Regions"] = b.settings.regions.clone().into();
            }
            if flag("IncludeTypeInfo") {
                entry["Type"] = if b.snapshots_enabled {
                    "Snapshot"
                } else {
                    "Regular"
                }
                .into();
            }
            if flag("IncludeVisibility") {
                entry["Visibility"] = json!({ "IsPublic": b.settings.public });
            }
            if flag("IncludeForkInfo") {
                entry["ForkInfo"] = fork_info(&store, name)?;
            }
            if flag("IncludeOwnerInfo") {
                entry["OwnerInfo"] = json!({ "OwnerUserId": owner, "OwnerHumanUserId": owner });
            }
            if flag("IncludeStats") {
                let (o, by, r) = store.size_estimate(name)?;
                objects += o;
                bytes += by;
                rows += r;
            }
            buckets.push(entry);
        }
        let mut body = json!({
            "Owner": { "ID": owner, "DisplayName": owner },
            "ContinuationToken": token,
            "Buckets": { "Bucket": buckets },
        });
        if flag("IncludeStats") {
            body["Stats"] = json!({
                "ActiveBuckets": page.len(),
                "TotalObjects": rows,
                "TotalStorageBytes": bytes,
                "TotalUniqueObjects": objects,
            });
        }
        Ok(json_response(&body))
    }

    /// `POST /{bucket}?bundle`: the named objects as one streamed tar (see `bundle.rs`). Needs
    /// `s3:GetObject` on each key, checked per key.
    async fn bundle(&self, mut req: S3Request<Body>) -> S3Result<S3Response<Body>> {
        let bucket = single_bucket(&req.uri).unwrap_or_default().to_owned();
        if let Some((failure, _)) =
            self.shared
                .faults
                .on_request("Bundle", Some(&bucket), &req.headers)
        {
            self.shared.drop_later(&req.extensions, &failure);
            return Err(crate::http::auth::injected_error(&failure));
        }
        // Reading the body checks it against the signed x-amz-content-sha256.
        let body = req
            .input
            .store_all_limited(crate::api::bundle::MAX_BODY)
            .await
            .map_err(|_| s3_error!(InvalidArgument, "a bundle request body is at most 5 MB"))?;
        let access_key = req
            .credentials
            .as_ref()
            .map(|c| c.access_key.clone())
            .unwrap_or_default();
        let peer = req
            .extensions
            .get::<crate::http::auth::PeerAddr>()
            .map(|p| p.0);
        let requester = crate::http::auth::Requester::new(&self.shared, &access_key, peer);
        let may_read =
            |key: &str| requester.may("s3:GetObject", &format!("arn:aws:s3:::{bucket}/{key}"));
        crate::api::bundle::serve(&self.shared, &req, &bucket, &body, may_read)
    }

    /// `GET /{bucket}?metadata[&with-size=true]`: Tigris's bucket metadata JSON, with the
    /// fields the emulator has. Needs `s3:ListBucket` on the bucket, as HeadBucket does.
    fn metadata(&self, req: &S3Request<Body>) -> S3Result<S3Response<Body>> {
        let bucket = single_bucket(&req.uri).unwrap_or_default().to_owned();
        self.admit(req, "GetBucketMetadata", &bucket)?;
        let with_size =
            query_value(&req.uri, "with-size").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let store = self.shared.store();
        let b = store.bucket(&bucket)?;
        let mut body = json!({
            "name": bucket,
            "created_at": rfc3339(b.created),
            "type": u8::from(b.snapshots_enabled),
            "ForkInfo": fork_info(&store, &bucket)?,
            "soft_delete": crate::api::soft_delete::metadata(b.soft_delete),
        });
        if let Value::Object(map) = &mut body {
            b.settings.write_metadata(map);
        }
        if let Some(notifications) = self.shared.notifier.masked(&bucket) {
            body["object_notifications"] = notifications;
        }
        if with_size {
            let (objects, bytes, rows) = store.size_estimate(&bucket)?;
            body["estimated_unique_rows"] = objects.into();
            body["estimated_size"] = bytes.into();
            body["estimated_rows"] = rows.into();
        }
        Ok(json_response(&body))
    }
}

/// `max-buckets`: 1 to [`MAX_BUCKETS`], that many when absent.
fn page_size(uri: &http::Uri) -> S3Result<usize> {
    match query_value(uri, "max-buckets") {
        None => Ok(MAX_BUCKETS),
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_BUCKETS).contains(n))
            .ok_or_else(|| {
                s3_error!(
                    InvalidArgument,
                    "max-buckets must be an integer from 1 to {MAX_BUCKETS}, got {v:?}"
                )
            }),
    }
}

pub(crate) fn json_response(body: &Value) -> S3Response<Body> {
    let mut resp = S3Response::new(Body::from(body.to_string()));
    resp.headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    resp
}

/// RFC 3339 in UTC with milliseconds, which every client's date parser reads.
pub(crate) fn rfc3339(t: SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    let t = t
        .replace_nanosecond(t.nanosecond() / 1_000_000 * 1_000_000)
        .unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// `Snapshot` as Tigris writes it: the version, with `; name=<name>` for a named snapshot.
fn snapshot_label(step: &Lineage) -> String {
    match &step.snapshot_name {
        Some(name) => format!("{}; name={name}", step.snapshot),
        None => step.snapshot.to_string(),
    }
}

/// `ForkInfo`: whether forks read through `bucket`, and its ancestry, direct parent first.
fn fork_info(store: &Store, bucket: &str) -> S3Result<Value> {
    let parents: Vec<Value> = store
        .lineage(bucket)?
        .iter()
        .map(|step| {
            json!({
                "BucketName": step.parent,
                "ForkCreatedAt": rfc3339(step.forked_at),
                "Snapshot": snapshot_label(step),
                "SnapshotCreatedAt": rfc3339(version_time(step.snapshot)),
            })
        })
        .collect();
    Ok(json!({
        "HasChildren": store.bucket(bucket)?.children > 0,
        "Parents": parents,
    }))
}

fn fork_entry(store: &Store, name: &str) -> S3Result<Value> {
    let b = store.bucket(name)?;
    Ok(json!({
        "Name": name,
        "CreationDate": rfc3339(b.created),
        "Type": "Snapshot",
        "ForkInfo": fork_info(store, name)?,
    }))
}
