//! The S3 operations, with Tigris's header-driven extras, on top of [`crate::store`].

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures::TryStreamExt;
use http::{HeaderMap, HeaderValue, StatusCode};
use s3s::dto::{
    AbortMultipartUploadInput, AbortMultipartUploadOutput, Bucket as DtoBucket, CommonPrefix,
    CompleteMultipartUploadInput, CompleteMultipartUploadOutput, CopyObjectInput, CopyObjectOutput,
    CopyObjectResult, CopySource, CreateBucketInput, CreateBucketOutput,
    CreateMultipartUploadInput, CreateMultipartUploadOutput, DeleteBucketInput,
    DeleteBucketLifecycleInput, DeleteBucketLifecycleOutput, DeleteBucketOutput, DeleteObjectInput,
    DeleteObjectOutput, DeleteObjectsInput, DeleteObjectsOutput, DeletedObject, ETag,
    ETagCondition, GetBucketLifecycleConfigurationInput, GetBucketLifecycleConfigurationOutput,
    GetBucketLocationInput, GetBucketLocationOutput, GetObjectInput, GetObjectOutput,
    HeadBucketInput, HeadBucketOutput, HeadObjectInput, HeadObjectOutput, ListBucketsInput,
    ListBucketsOutput, ListObjectsInput, ListObjectsOutput, ListObjectsV2Input,
    ListObjectsV2Output, ListPartsInput, ListPartsOutput, MetadataDirective, Object as DtoObject,
    Part, PutBucketLifecycleConfigurationInput, PutBucketLifecycleConfigurationOutput,
    PutObjectInput, PutObjectOutput, StreamingBlob, Timestamp, UploadPartInput, UploadPartOutput,
};
use s3s::{S3, S3Error, S3ErrorCode, S3Request, S3Response, S3Result, s3_error};

use std::collections::BTreeMap;

use crate::header;
use crate::multipart::{Upload, UploadError};
use crate::state::Shared;
use crate::store::{LIVE, ListQuery, Object, StoreError};

/// The emulator's implementation of the S3 API.
#[derive(Debug, Clone)]
pub(crate) struct Backend {
    pub(crate) shared: Arc<Shared>,
}

fn custom_error(code: &str, status: StatusCode, message: String) -> S3Error {
    let code = S3ErrorCode::from_bytes(code.as_bytes()).unwrap_or(S3ErrorCode::InternalError);
    let mut err = S3Error::with_message(code, message);
    err.set_status_code(status);
    err
}

impl From<StoreError> for S3Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NoSuchBucket(b) => {
                s3_error!(NoSuchBucket, "The specified bucket does not exist: {b}")
            }
            StoreError::NoSuchKey(k) => {
                s3_error!(NoSuchKey, "The specified key does not exist: {k}")
            }
            StoreError::BucketAlreadyExists(b) => {
                s3_error!(
                    BucketAlreadyOwnedByYou,
                    "The bucket {b} already exists and is owned by you"
                )
            }
            StoreError::BucketNotEmpty(b) => {
                s3_error!(BucketNotEmpty, "The bucket {b} is not empty")
            }
            StoreError::BucketHasForks(b) => custom_error(
                "BucketHasForks",
                StatusCode::CONFLICT,
                format!("The bucket {b} has forks; delete the forks first"),
            ),
            StoreError::NotSnapshotEnabled(b) => {
                s3_error!(
                    InvalidArgument,
                    "Source bucket must be of snapshot type: {b} does not have snapshots enabled"
                )
            }
            StoreError::NoSuchSnapshot(v) => custom_error(
                "NoSuchSnapshot",
                StatusCode::NOT_FOUND,
                format!("The snapshot version {v} does not exist"),
            ),
            StoreError::Invalid(m) => s3_error!(InvalidArgument, "{m}"),
        }
    }
}

impl From<UploadError> for S3Error {
    fn from(e: UploadError) -> Self {
        match e {
            UploadError::NoSuchUpload => s3_error!(
                NoSuchUpload,
                "The specified multipart upload does not exist"
            ),
            UploadError::InvalidPart(n) => s3_error!(
                InvalidPart,
                "Part {n} was not uploaded or its ETag does not match"
            ),
            UploadError::InvalidPartOrder => s3_error!(
                InvalidPartOrder,
                "The parts must be listed in ascending order"
            ),
            UploadError::Empty => s3_error!(MalformedXML, "The upload must list at least one part"),
        }
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

fn is_true(headers: &HeaderMap, name: &str) -> bool {
    header_str(headers, name).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

fn parse_version(value: &str, header: &str) -> S3Result<u64> {
    value.parse::<u64>().map_err(|_| {
        s3_error!(
            InvalidArgument,
            "{header} must be a decimal snapshot version, got {value:?}"
        )
    })
}

/// The version a read asks for: `X-Tigris-Snapshot-Version`, or the live state.
fn read_version(headers: &HeaderMap) -> S3Result<u64> {
    header_str(headers, header::SNAPSHOT_VERSION)
        .map_or(Ok(LIVE), |v| parse_version(v, header::SNAPSHOT_VERSION))
}

/// Parses `X-Tigris-Snapshot: true[; name=<name>]`; `None` when it does not ask for a snapshot.
fn snapshot_request(value: &str) -> Option<Option<String>> {
    let mut parts = value.splitn(2, ';');
    if !parts.next()?.trim().eq_ignore_ascii_case("true") {
        return None;
    }
    let name = parts
        .next()
        .and_then(|rest| rest.trim().strip_prefix("name="))
        .map(|n| n.trim().to_owned());
    Some(name.filter(|n| !n.is_empty()))
}

fn timestamp(t: std::time::SystemTime) -> Timestamp {
    Timestamp::from(t)
}

fn hv(s: &str) -> S3Result<HeaderValue> {
    HeaderValue::from_str(s).map_err(|_| s3_error!(InternalError, "unrepresentable header value"))
}

/// Percent-encodes like S3 does for `encoding-type=url`: all but unreserved characters and `/`
/// (the same encoding SigV4 uses for paths).
pub(crate) fn url_encode(s: &str) -> String {
    crate::sigv4::uri_encode(s, true)
}

fn etag_matches(condition: &ETagCondition, etag: &str) -> bool {
    match condition {
        ETagCondition::Any => true,
        ETagCondition::ETag(tag) => tag.value() == etag,
    }
}

async fn collect_body(body: Option<StreamingBlob>) -> S3Result<Bytes> {
    let Some(body) = body else {
        return Ok(Bytes::new());
    };
    let chunks: Vec<Bytes> = body
        .try_collect()
        .await
        .map_err(|e| s3_error!(IncompleteBody, "reading the body failed: {e}"))?;
    let mut buf = BytesMut::with_capacity(chunks.iter().map(Bytes::len).sum());
    for c in chunks {
        buf.extend_from_slice(&c);
    }
    Ok(buf.freeze())
}

fn metadata_vec(m: Option<s3s::dto::Metadata>) -> Vec<(String, String)> {
    let mut v: Vec<_> = m.unwrap_or_default().into_iter().collect();
    v.sort();
    v
}

fn metadata_map(v: &[(String, String)]) -> Option<s3s::dto::Metadata> {
    (!v.is_empty()).then(|| v.iter().cloned().collect())
}

/// How a listing writes keys back: as stored, or percent-encoded for `encoding-type=url`.
#[derive(Debug, Clone, Copy)]
struct KeyEncoding {
    url: bool,
}

impl KeyEncoding {
    fn of(encoding_type: Option<&s3s::dto::EncodingType>) -> Self {
        Self {
            url: encoding_type.is_some_and(|e| e.as_str() == "url"),
        }
    }

    fn apply(self, s: &str) -> String {
        if self.url {
            url_encode(s)
        } else {
            s.to_owned()
        }
    }

    fn apply_opt(self, s: Option<&str>) -> Option<String> {
        s.map(|v| self.apply(v))
    }
}

/// Keys listed and the marker to continue from, shared by ListObjects and ListObjectsV2.
struct Page {
    contents: Vec<DtoObject>,
    prefixes: Vec<CommonPrefix>,
    truncated: bool,
    next: Option<String>,
}

impl Backend {
    fn page(
        &self,
        bucket: &str,
        headers: &HeaderMap,
        q: &ListQuery<'_>,
        enc: KeyEncoding,
    ) -> S3Result<Page> {
        let version = read_version(headers)?;
        let query = ListQuery { version, ..*q };
        let listing = self.shared.store().list(bucket, &query)?;
        let contents = listing
            .objects
            .iter()
            .map(|(k, o)| DtoObject {
                key: Some(enc.apply(k)),
                size: Some(o.size() as i64),
                e_tag: Some(ETag::Strong(o.etag.clone())),
                last_modified: Some(timestamp(o.last_modified)),
                ..DtoObject::default()
            })
            .collect();
        let prefixes = listing
            .common_prefixes
            .iter()
            .map(|p| CommonPrefix {
                prefix: Some(enc.apply(p)),
            })
            .collect();
        Ok(Page {
            contents,
            prefixes,
            truncated: listing.is_truncated,
            next: listing.next_marker,
        })
    }

    fn emit(
        &self,
        bucket: &str,
        key: &str,
        event: crate::notify::EventName,
        object: Option<&Object>,
    ) {
        self.shared.notifier.emit(bucket, key, event, object);
    }
}

fn max_keys(m: Option<i32>) -> usize {
    m.map_or(1000, |m| m.clamp(0, 1000) as usize)
}

#[async_trait::async_trait]
impl S3 for Backend {
    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        let bucket = req.input.bucket.as_str();
        let h = &req.headers;
        let mut store = self.shared.store();
        if let Some(name) = header_str(h, header::SNAPSHOT).and_then(snapshot_request) {
            let version = store.snapshot(bucket, name)?;
            let mut resp = S3Response::new(CreateBucketOutput {
                location: Some(format!("/{bucket}")),
            });
            resp.headers
                .insert(header::SNAPSHOT_VERSION, hv(&version.to_string())?);
            return Ok(resp);
        }
        if let Some(source) = header_str(h, header::FORK_SOURCE_BUCKET) {
            let at = header_str(h, header::FORK_SOURCE_SNAPSHOT)
                .filter(|v| !v.is_empty())
                .map(|v| parse_version(v, header::FORK_SOURCE_SNAPSHOT))
                .transpose()?;
            store.fork_bucket(bucket, source, at)?;
        } else {
            store.create_bucket(bucket, is_true(h, header::ENABLE_SNAPSHOT))?;
        }
        Ok(S3Response::new(CreateBucketOutput {
            location: Some(format!("/{bucket}")),
        }))
    }

    async fn delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        let bucket = req.input.bucket.as_str();
        let h = &req.headers;
        let mut store = self.shared.store();
        if let Some(v) = header_str(h, header::SNAPSHOT_VERSION) {
            store.delete_snapshot(bucket, parse_version(v, header::SNAPSHOT_VERSION)?)?;
        } else {
            let force = is_true(h, header::FORCE_DELETE) || is_true(h, header::X_FORCE_DELETE);
            store.delete_bucket(bucket, force)?;
            drop(store);
            self.shared.notifier.forget(bucket);
        }
        Ok(S3Response::with_status(
            DeleteBucketOutput::default(),
            StatusCode::NO_CONTENT,
        ))
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        let store = self.shared.store();
        let b = store.bucket(req.input.bucket.as_str())?;
        let mut resp = S3Response::new(HeadBucketOutput {
            bucket_region: Some("auto".into()),
            ..Default::default()
        });
        let flag = |on: bool| HeaderValue::from_static(if on { "true" } else { "false" });
        resp.headers
            .insert(header::ENABLE_SNAPSHOT, flag(b.snapshots_enabled));
        resp.headers
            .insert(header::IS_FORK_PARENT, flag(b.children > 0));
        if let Some(fork) = &b.fork {
            resp.headers
                .insert(header::FORK_SOURCE_BUCKET, hv(&fork.parent_name)?);
            resp.headers
                .insert(header::FORK_SOURCE_SNAPSHOT, hv(&fork.version.to_string())?);
        }
        Ok(resp)
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        self.shared.store().bucket(req.input.bucket.as_str())?;
        Ok(S3Response::new(GetBucketLocationOutput::default()))
    }

    async fn list_buckets(
        &self,
        req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        let store = self.shared.store();
        let limit = req
            .input
            .max_buckets
            .map_or(usize::MAX, |m| m.max(1) as usize);
        let after = req.input.continuation_token.as_deref();
        let entries: Vec<(String, std::time::SystemTime)> =
            match header_str(&req.headers, header::SNAPSHOT) {
                Some(bucket) => store
                    .snapshots(bucket)?
                    .into_iter()
                    .map(|s| {
                        let name = match &s.name {
                            Some(n) => format!("{}; name={n}", s.version),
                            None => s.version.to_string(),
                        };
                        (name, s.created())
                    })
                    .collect(),
                None => store.bucket_names(),
            };
        // Entries are in name order (snapshot versions all have the same width), so the last name
        // served is a sufficient continuation token.
        let rest: Vec<_> = entries
            .into_iter()
            .filter(|(n, _)| after.is_none_or(|a| n.as_str() > a))
            .collect();
        let truncated = rest.len() > limit;
        let page: Vec<_> = rest.into_iter().take(limit).collect();
        let continuation_token = truncated
            .then(|| page.last().map(|(n, _)| n.clone()))
            .flatten();
        let buckets = page
            .into_iter()
            .map(|(name, created)| DtoBucket {
                name: Some(name),
                creation_date: Some(timestamp(created)),
                ..DtoBucket::default()
            })
            .collect();
        Ok(S3Response::new(ListBucketsOutput {
            buckets: Some(buckets),
            continuation_token,
            ..Default::default()
        }))
    }

    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let input = req.input;
        let data = collect_body(input.body).await?;
        let object = Object::new(data, input.content_type, metadata_vec(input.metadata));
        let etag = object.etag.clone();
        self.shared
            .store()
            .write(&input.bucket, &input.key, Some(object.clone()))?;
        self.emit(
            &input.bucket,
            &input.key,
            crate::notify::EventName::Put,
            Some(&object),
        );
        Ok(S3Response::new(PutObjectOutput {
            e_tag: Some(ETag::Strong(etag)),
            ..Default::default()
        }))
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let version = read_version(&req.headers)?;
        let input = req.input;
        let object = self
            .shared
            .store()
            .get(&input.bucket, &input.key, version)?;
        if let Some(cond) = &input.if_match
            && !etag_matches(cond, &object.etag)
        {
            return Err(s3_error!(
                PreconditionFailed,
                "If-Match did not match the object's ETag"
            ));
        }
        if let Some(cond) = &input.if_none_match
            && etag_matches(cond, &object.etag)
        {
            return Err(s3_error!(NotModified));
        }
        let full = object.size();
        let (body, range, status) = match &input.range {
            Some(r) => {
                let span = r.check(full).map_err(|_| {
                    s3_error!(InvalidRange, "The requested range is not satisfiable")
                })?;
                let body = object.data.slice(span.start as usize..span.end as usize);
                let range = format!("bytes {}-{}/{full}", span.start, span.end.saturating_sub(1));
                (body, Some(range), StatusCode::PARTIAL_CONTENT)
            }
            None => (object.data.clone(), None, StatusCode::OK),
        };
        let output = GetObjectOutput {
            content_length: Some(body.len() as i64),
            content_range: range,
            accept_ranges: Some("bytes".into()),
            body: Some(StreamingBlob::from(s3s::Body::from(body))),
            e_tag: Some(ETag::Strong(object.etag.clone())),
            last_modified: Some(timestamp(object.last_modified)),
            content_type: object.content_type.clone(),
            metadata: metadata_map(&object.metadata),
            ..Default::default()
        };
        Ok(S3Response::with_status(output, status))
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        let version = read_version(&req.headers)?;
        let input = req.input;
        let object = self
            .shared
            .store()
            .get(&input.bucket, &input.key, version)?;
        if let Some(cond) = &input.if_none_match
            && etag_matches(cond, &object.etag)
        {
            return Err(s3_error!(NotModified));
        }
        Ok(S3Response::new(HeadObjectOutput {
            content_length: Some(object.size() as i64),
            accept_ranges: Some("bytes".into()),
            e_tag: Some(ETag::Strong(object.etag.clone())),
            last_modified: Some(timestamp(object.last_modified)),
            content_type: object.content_type.clone(),
            metadata: metadata_map(&object.metadata),
            ..Default::default()
        }))
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        let input = req.input;
        // S3 answers 204 for a missing key too, but the bucket must exist.
        if self
            .shared
            .store()
            .delete_if_present(&input.bucket, &input.key)?
        {
            self.emit(
                &input.bucket,
                &input.key,
                crate::notify::EventName::Delete,
                None,
            );
        }
        Ok(S3Response::with_status(
            DeleteObjectOutput::default(),
            StatusCode::NO_CONTENT,
        ))
    }

    async fn delete_objects(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let input = req.input;
        self.shared.store().bucket(&input.bucket)?;
        let quiet = input.delete.quiet.unwrap_or(false);
        let mut deleted = Vec::new();
        for id in input.delete.objects {
            if self
                .shared
                .store()
                .delete_if_present(&input.bucket, &id.key)?
            {
                self.emit(
                    &input.bucket,
                    &id.key,
                    crate::notify::EventName::Delete,
                    None,
                );
            }
            if !quiet {
                deleted.push(DeletedObject {
                    key: Some(id.key),
                    ..Default::default()
                });
            }
        }
        Ok(S3Response::new(DeleteObjectsOutput {
            deleted: Some(deleted),
            ..Default::default()
        }))
    }

    async fn copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        let version = read_version(&req.headers)?;
        let rename = is_true(&req.headers, header::RENAME);
        let input = req.input;
        let CopySource::Bucket {
            bucket: src_bucket,
            key: src_key,
            ..
        } = &input.copy_source
        else {
            return Err(s3_error!(
                NotImplemented,
                "Only bucket copy sources are supported"
            ));
        };
        if rename && (**src_bucket != *input.bucket) {
            return Err(s3_error!(
                InvalidArgument,
                "Cross-bucket moves are not supported by the server"
            ));
        }
        let source = self.shared.store().get(src_bucket, src_key, version)?;
        let replace = input
            .metadata_directive
            .as_ref()
            .is_some_and(|d| d.as_str() == MetadataDirective::REPLACE);
        let object = if replace {
            Object::new(
                source.data.clone(),
                input.content_type,
                metadata_vec(input.metadata),
            )
        } else {
            Object::new(
                source.data.clone(),
                source.content_type.clone(),
                source.metadata.clone(),
            )
        };
        let result = CopyObjectResult {
            e_tag: Some(ETag::Strong(object.etag.clone())),
            last_modified: Some(timestamp(object.last_modified)),
            ..Default::default()
        };
        {
            let mut store = self.shared.store();
            store.write(&input.bucket, &input.key, Some(object.clone()))?;
            if rename && **src_key != *input.key {
                store.write(src_bucket, src_key, None)?;
            }
        }
        if rename {
            self.emit(
                &input.bucket,
                &input.key,
                crate::notify::EventName::Rename,
                Some(&object),
            );
        } else {
            self.emit(
                &input.bucket,
                &input.key,
                crate::notify::EventName::Copy,
                Some(&object),
            );
        }
        Ok(S3Response::new(CopyObjectOutput {
            copy_object_result: Some(result),
            ..Default::default()
        }))
    }

    async fn list_objects(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        let input = &req.input;
        let enc = KeyEncoding::of(input.encoding_type.as_ref());
        let prefix = input.prefix.as_deref().unwrap_or("");
        let query = ListQuery {
            prefix,
            delimiter: input.delimiter.as_deref(),
            after: input.marker.as_deref(),
            max_keys: max_keys(input.max_keys),
            version: LIVE,
        };
        let page = self.page(&input.bucket, &req.headers, &query, enc)?;
        // S3 returns NextMarker only when a delimiter is used; clients use the last key otherwise.
        let next_marker = enc.apply_opt(page.next.as_deref().filter(|_| input.delimiter.is_some()));
        Ok(S3Response::new(ListObjectsOutput {
            name: Some(input.bucket.clone()),
            prefix: Some(enc.apply(prefix)),
            marker: enc.apply_opt(input.marker.as_deref()),
            delimiter: enc.apply_opt(input.delimiter.as_deref()),
            max_keys: Some(query.max_keys as i32),
            is_truncated: Some(page.truncated),
            next_marker,
            contents: Some(page.contents),
            common_prefixes: Some(page.prefixes),
            encoding_type: input.encoding_type.clone(),
            ..Default::default()
        }))
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        let input = &req.input;
        let enc = KeyEncoding::of(input.encoding_type.as_ref());
        let token = input
            .continuation_token
            .as_deref()
            .map(|t| {
                hex::decode(t)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| {
                        s3_error!(
                            InvalidArgument,
                            "The continuation token provided is incorrect"
                        )
                    })
            })
            .transpose()?;
        let after = match (&token, input.start_after.as_deref()) {
            (Some(t), _) => Some(t.as_str()),
            (None, s) => s,
        };
        let prefix = input.prefix.as_deref().unwrap_or("");
        let query = ListQuery {
            prefix,
            delimiter: input.delimiter.as_deref(),
            after,
            max_keys: max_keys(input.max_keys),
            version: LIVE,
        };
        let page = self.page(&input.bucket, &req.headers, &query, enc)?;
        let key_count = (page.contents.len() + page.prefixes.len()) as i32;
        Ok(S3Response::new(ListObjectsV2Output {
            name: Some(input.bucket.clone()),
            prefix: Some(enc.apply(prefix)),
            delimiter: enc.apply_opt(input.delimiter.as_deref()),
            start_after: enc.apply_opt(input.start_after.as_deref()),
            max_keys: Some(query.max_keys as i32),
            key_count: Some(key_count),
            is_truncated: Some(page.truncated),
            continuation_token: input.continuation_token.clone(),
            next_continuation_token: page.next.map(|m| hex::encode(m.as_bytes())),
            contents: Some(page.contents),
            common_prefixes: Some(page.prefixes),
            encoding_type: input.encoding_type.clone(),
            ..Default::default()
        }))
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let input = req.input;
        self.shared.store().bucket(&input.bucket)?;
        let upload = Upload {
            bucket: input.bucket.clone(),
            key: input.key.clone(),
            content_type: input.content_type,
            metadata: metadata_vec(input.metadata),
            parts: BTreeMap::new(),
        };
        let upload_id = self.shared.uploads().create(upload);
        Ok(S3Response::new(CreateMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(upload_id),
            ..Default::default()
        }))
    }

    async fn upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        let input = req.input;
        if !(1..=10_000).contains(&input.part_number) {
            return Err(s3_error!(
                InvalidArgument,
                "Part number must be an integer between 1 and 10000"
            ));
        }
        let data = collect_body(input.body).await?;
        let etag = self.shared.uploads().put_part(
            &input.upload_id,
            &input.bucket,
            &input.key,
            input.part_number,
            data,
        )?;
        Ok(S3Response::new(UploadPartOutput {
            e_tag: Some(ETag::Strong(etag)),
            ..Default::default()
        }))
    }

    async fn list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        let input = req.input;
        let uploads = self.shared.uploads();
        let upload = uploads.get(&input.upload_id, &input.bucket, &input.key)?;
        let after = input.part_number_marker.unwrap_or(0);
        let max = input.max_parts.map_or(1000, |m| m.clamp(1, 1000)) as usize;
        let rest: Vec<_> = upload.parts.range(after + 1..).collect();
        let truncated = rest.len() > max;
        let parts: Vec<Part> = rest
            .into_iter()
            .take(max)
            .map(|(n, (data, etag, at))| Part {
                part_number: Some(*n),
                e_tag: Some(ETag::Strong(etag.clone())),
                size: Some(data.len() as i64),
                last_modified: Some(timestamp(*at)),
                ..Default::default()
            })
            .collect();
        let next = truncated
            .then(|| parts.last().and_then(|p| p.part_number))
            .flatten();
        Ok(S3Response::new(ListPartsOutput {
            bucket: Some(input.bucket.clone()),
            key: Some(input.key.clone()),
            upload_id: Some(input.upload_id.clone()),
            is_truncated: Some(truncated),
            next_part_number_marker: next,
            parts: Some(parts),
            ..Default::default()
        }))
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let input = req.input;
        let listed: Vec<(i32, Option<String>)> = input
            .multipart_upload
            .and_then(|m| m.parts)
            .unwrap_or_default()
            .into_iter()
            .map(|p| {
                (
                    p.part_number.unwrap_or(0),
                    p.e_tag.map(|e| e.value().to_owned()),
                )
            })
            .collect();
        let object =
            self.shared
                .uploads()
                .complete(&input.upload_id, &input.bucket, &input.key, &listed)?;
        let etag = object.etag.clone();
        self.shared
            .store()
            .write(&input.bucket, &input.key, Some(object.clone()))?;
        self.emit(
            &input.bucket,
            &input.key,
            crate::notify::EventName::Multipart,
            Some(&object),
        );
        Ok(S3Response::new(CompleteMultipartUploadOutput {
            location: Some(format!("/{}/{}", input.bucket, input.key)),
            bucket: Some(input.bucket),
            key: Some(input.key),
            e_tag: Some(ETag::Strong(etag)),
            ..Default::default()
        }))
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let input = req.input;
        self.shared
            .uploads()
            .abort(&input.upload_id, &input.bucket, &input.key)?;
        Ok(S3Response::with_status(
            AbortMultipartUploadOutput::default(),
            StatusCode::NO_CONTENT,
        ))
    }

    async fn put_bucket_lifecycle_configuration(
        &self,
        req: S3Request<PutBucketLifecycleConfigurationInput>,
    ) -> S3Result<S3Response<PutBucketLifecycleConfigurationOutput>> {
        let input = req.input;
        let config = input
            .lifecycle_configuration
            .ok_or_else(|| s3_error!(MalformedXML, "missing LifecycleConfiguration"))?;
        if config.rules.len() > 10 {
            return Err(s3_error!(
                InvalidArgument,
                "A bucket can have at most 10 lifecycle rules"
            ));
        }
        for rule in &config.rules {
            if rule.id.as_ref().is_some_and(|id| id.len() > 36) {
                return Err(s3_error!(
                    InvalidArgument,
                    "A lifecycle rule ID can be at most 36 characters"
                ));
            }
            if let Some(days) = rule.expiration.as_ref().and_then(|e| e.days)
                && days <= 0
            {
                return Err(s3_error!(
                    InvalidArgument,
                    "Expiration days must be a positive integer"
                ));
            }
        }
        self.shared
            .store_mut_bucket(&input.bucket, |b| b.lifecycle = Some(config))?;
        Ok(S3Response::new(
            PutBucketLifecycleConfigurationOutput::default(),
        ))
    }

    async fn get_bucket_lifecycle_configuration(
        &self,
        req: S3Request<GetBucketLifecycleConfigurationInput>,
    ) -> S3Result<S3Response<GetBucketLifecycleConfigurationOutput>> {
        let store = self.shared.store();
        let bucket = store.bucket(&req.input.bucket)?;
        let config = bucket.lifecycle.clone().ok_or_else(|| {
            s3_error!(
                NoSuchLifecycleConfiguration,
                "The lifecycle configuration does not exist"
            )
        })?;
        Ok(S3Response::new(GetBucketLifecycleConfigurationOutput {
            rules: Some(config.rules),
            ..Default::default()
        }))
    }

    async fn delete_bucket_lifecycle(
        &self,
        req: S3Request<DeleteBucketLifecycleInput>,
    ) -> S3Result<S3Response<DeleteBucketLifecycleOutput>> {
        self.shared
            .store_mut_bucket(&req.input.bucket, |b| b.lifecycle = None)?;
        Ok(S3Response::with_status(
            DeleteBucketLifecycleOutput::default(),
            StatusCode::NO_CONTENT,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_header_values_parse() {
        assert_eq!(snapshot_request("true"), Some(None));
        assert_eq!(
            snapshot_request("TRUE; name=nightly"),
            Some(Some("nightly".into()))
        );
        assert_eq!(
            snapshot_request("true; name=test snapshot name"),
            Some(Some("test snapshot name".into()))
        );
        assert_eq!(snapshot_request("false"), None);
        assert_eq!(snapshot_request("my-bucket"), None);
    }

    #[test]
    fn url_encoding_keeps_slashes_and_escapes_the_rest() {
        assert_eq!(url_encode("a b/c+d%e"), "a%20b/c%2Bd%25e");
    }
}
