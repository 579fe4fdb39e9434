//! The S3 operations, with Tigris's header-driven extras, on top of [`crate::store`].

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures::TryStreamExt;
use http::{HeaderMap, HeaderValue, StatusCode};
use s3s::dto::{
    AbortMultipartUploadInput, AbortMultipartUploadOutput, Bucket as DtoBucket, ChecksumMode,
    ChecksumType, CommonPrefix, CompleteMultipartUploadInput, CompleteMultipartUploadOutput,
    CopyObjectInput, CopyObjectOutput, CopyObjectResult, CopySource, CreateBucketInput,
    CreateBucketOutput, CreateMultipartUploadInput, CreateMultipartUploadOutput, DeleteBucketInput,
    DeleteBucketLifecycleInput, DeleteBucketLifecycleOutput, DeleteBucketOutput, DeleteObjectInput,
    DeleteObjectOutput, DeleteObjectsInput, DeleteObjectsOutput, DeletedObject, ETag,
    GetBucketLifecycleConfigurationInput, GetBucketLifecycleConfigurationOutput,
    GetBucketLocationInput, GetBucketLocationOutput, GetObjectInput, GetObjectOutput,
    HeadBucketInput, HeadBucketOutput, HeadObjectInput, HeadObjectOutput, ListBucketsInput,
    ListBucketsOutput, ListObjectsInput, ListObjectsOutput, ListObjectsV2Input,
    ListObjectsV2Output, ListPartsInput, ListPartsOutput, MetadataDirective, Object as DtoObject,
    Part, PutBucketLifecycleConfigurationInput, PutBucketLifecycleConfigurationOutput,
    PutObjectInput, PutObjectOutput, StreamingBlob, Timestamp, UploadPartInput, UploadPartOutput,
};
use s3s::{S3, S3Error, S3ErrorCode, S3Request, S3Response, S3Result, s3_error};

use std::collections::BTreeMap;

mod acl;
mod archive;
pub(crate) use acl::{anonymous_list, anonymous_read};
pub(crate) use archive::is_archive_restore;
mod bucket;
mod checksum;
pub(crate) mod conditional;
mod extra;
mod list;
mod multipart;
mod object;
pub(crate) mod request_id;
pub(crate) mod shadow;
pub(crate) mod shadow_state;
mod soft_delete;

use crate::header;
use crate::state::Shared;
use crate::store::multipart::{Upload, UploadError};
use crate::store::{LIVE, ListQuery, Object, StoreError};

/// The emulator's implementation of the S3 API.
#[derive(Debug, Clone)]
pub(crate) struct Backend {
    pub(crate) shared: Arc<Shared>,
}

/// A status the server puts on a response where s3s fixes another (RestoreObject's 202).
#[derive(Debug, Clone, Copy)]
pub(crate) struct StatusOverride(pub(crate) StatusCode);

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
            StoreError::NoSuchVersion(v) => {
                s3_error!(NoSuchVersion, "The specified version does not exist: {v}")
            }
            StoreError::BucketAlreadyExists(b) => {
                // Tigris answers this for a name taken by anyone, the caller included (its
                // gateway's s3-tests list expects it on re-creating your own bucket).
                s3_error!(
                    BucketAlreadyExists,
                    "The requested bucket name {b} is not available"
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
            StoreError::BucketProtected(b) => custom_error(
                "BucketProtected",
                StatusCode::CONFLICT,
                format!("The bucket {b} has delete protection on; turn it off first"),
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
            StoreError::Storage(m) => s3_error!(InternalError, "the data directory: {m}"),
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
            UploadError::EntityTooSmall(n, size) => s3_error!(
                EntityTooSmall,
                "Part {n} is {size} bytes; every part but the last must be at least 5 MiB"
            ),
        }
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

pub(crate) fn is_true(headers: &HeaderMap, name: &str) -> bool {
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
    crate::http::sigv4::uri_encode(s, true)
}

/// Reads a request body into one buffer, sized once from `Content-Length` when the client sent
/// it, so a PUT holds its body about once (not once as chunks and again as the joined copy). A
/// body that arrives as one (small) chunk is copied to a buffer of its own size. The body's hex
/// MD5 is computed chunk by chunk as it arrives (while the chunk is in cache, and without a
/// second pass over the whole body): its ETag, and what `Content-MD5` is checked against.
async fn collect_body_md5(
    body: Option<StreamingBlob>,
    content_length: Option<i64>,
) -> S3Result<(Bytes, String)> {
    use md5::Digest;
    let mut md5 = md5::Md5::new();
    let Some(mut body) = body else {
        return Ok((Bytes::new(), hex::encode(md5.finalize())));
    };
    let read_err = |e: s3s::StdError| s3_error!(IncompleteBody, "reading the body failed: {e}");
    let Some(first) = body.try_next().await.map_err(read_err)? else {
        return Ok((Bytes::new(), hex::encode(md5.finalize())));
    };
    md5.update(&first);
    let Some(second) = body.try_next().await.map_err(read_err)? else {
        // Copied: a single chunk is usually a slice of the connection's read buffer, and
        // keeping it would pin that whole buffer for as long as the object is stored.
        return Ok((Bytes::copy_from_slice(&first), hex::encode(md5.finalize())));
    };
    md5.update(&second);
    // A hint only: the buffer still grows if the client sent more than it announced.
    let hint = content_length
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0)
        .min(MAX_PRESIZE);
    let mut buf = BytesMut::with_capacity(hint.max(first.len() + second.len()));
    buf.extend_from_slice(&first);
    drop(first);
    buf.extend_from_slice(&second);
    drop(second);
    while let Some(chunk) = body.try_next().await.map_err(read_err)? {
        md5.update(&chunk);
        buf.extend_from_slice(&chunk);
    }
    Ok((buf.freeze(), hex::encode(md5.finalize())))
}

/// The largest buffer reserved up front from a client's `Content-Length` (S3's single PUT limit).
const MAX_PRESIZE: usize = 5 << 30;

/// S3's limit on user-defined metadata: the UTF-8 bytes of all keys and values together.
const MAX_METADATA_BYTES: usize = 2 * 1024;

fn metadata_vec(m: Option<s3s::dto::Metadata>) -> S3Result<Vec<(String, String)>> {
    let mut v: Vec<_> = m.unwrap_or_default().into_iter().collect();
    let size: usize = v.iter().map(|(k, val)| k.len() + val.len()).sum();
    if size > MAX_METADATA_BYTES {
        return Err(s3_error!(
            MetadataTooLarge,
            "Your metadata headers exceed the maximum allowed metadata size ({size} > {MAX_METADATA_BYTES} bytes)"
        ));
    }
    v.sort();
    Ok(v)
}

fn metadata_map(v: &[(String, String)]) -> Option<s3s::dto::Metadata> {
    (!v.is_empty()).then(|| v.iter().cloned().collect())
}

impl Backend {
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

#[async_trait::async_trait]
impl S3 for Backend {
    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        bucket::create_bucket(self, req).await
    }

    async fn delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        bucket::delete_bucket(self, req).await
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        bucket::head_bucket(self, req).await
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        bucket::get_bucket_location(self, req).await
    }

    async fn list_buckets(
        &self,
        req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        bucket::list_buckets(self, req).await
    }

    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        object::put_object(self, req).await
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        if shadow::is_live_read(&req.headers, req.input.version_id.as_deref()) {
            shadow::copy_in(&self.shared, &req.input.bucket, &req.input.key).await?;
        }
        object::get_object(self, req).await
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        if shadow::is_live_read(&req.headers, req.input.version_id.as_deref()) {
            let (bucket, key) = (&req.input.bucket, &req.input.key);
            if is_true(&req.headers, shadow::SCHEDULE_MIGRATION) {
                shadow::copy_in(&self.shared, bucket, key).await?;
            } else if let Some(output) = shadow::head_from_shadow(&self.shared, bucket, key).await?
            {
                let mut response = S3Response::new(output);
                response.headers.insert(
                    shadow::READ_SOURCE,
                    HeaderValue::from_static("block_shadow"),
                );
                return Ok(response);
            }
        }
        object::head_object(self, req).await
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        object::delete_object(self, req).await
    }

    async fn delete_objects(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        object::delete_objects(self, req).await
    }

    async fn copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        object::copy_object(self, req).await
    }

    async fn list_object_versions(
        &self,
        req: S3Request<s3s::dto::ListObjectVersionsInput>,
    ) -> S3Result<S3Response<s3s::dto::ListObjectVersionsOutput>> {
        soft_delete::list_object_versions(self, req).await
    }

    async fn restore_object(
        &self,
        req: S3Request<s3s::dto::RestoreObjectInput>,
    ) -> S3Result<S3Response<s3s::dto::RestoreObjectOutput>> {
        if archive::is_archive_restore(&req.headers) {
            archive::restore_object(self, req)
        } else {
            soft_delete::restore_object(self, req).await
        }
    }

    async fn list_objects(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        list::list_objects(self, req).await
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        if let Some(source) = shadow::list_source(&self.shared, &req.input.bucket, &req.headers)? {
            return Ok(S3Response::new(
                shadow::list(&self.shared, &source, &req.input).await?,
            ));
        }
        list::list_objects_v2(self, req).await
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        multipart::create_multipart_upload(self, req).await
    }

    async fn upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        multipart::upload_part(self, req).await
    }

    async fn list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        multipart::list_parts(self, req).await
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        multipart::complete_multipart_upload(self, req).await
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        multipart::abort_multipart_upload(self, req).await
    }

    async fn put_bucket_lifecycle_configuration(
        &self,
        req: S3Request<PutBucketLifecycleConfigurationInput>,
    ) -> S3Result<S3Response<PutBucketLifecycleConfigurationOutput>> {
        bucket::put_bucket_lifecycle_configuration(self, req).await
    }

    async fn get_bucket_lifecycle_configuration(
        &self,
        req: S3Request<GetBucketLifecycleConfigurationInput>,
    ) -> S3Result<S3Response<GetBucketLifecycleConfigurationOutput>> {
        bucket::get_bucket_lifecycle_configuration(self, req).await
    }

    async fn list_multipart_uploads(
        &self,
        req: S3Request<s3s::dto::ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<s3s::dto::ListMultipartUploadsOutput>> {
        multipart::list_multipart_uploads(self, req).await
    }

    async fn upload_part_copy(
        &self,
        req: S3Request<s3s::dto::UploadPartCopyInput>,
    ) -> S3Result<S3Response<s3s::dto::UploadPartCopyOutput>> {
        multipart::upload_part_copy(self, req).await
    }

    async fn get_bucket_acl(
        &self,
        req: S3Request<s3s::dto::GetBucketAclInput>,
    ) -> S3Result<S3Response<s3s::dto::GetBucketAclOutput>> {
        acl::get_bucket_acl(self, req).await
    }

    async fn put_bucket_acl(
        &self,
        req: S3Request<s3s::dto::PutBucketAclInput>,
    ) -> S3Result<S3Response<s3s::dto::PutBucketAclOutput>> {
        acl::put_bucket_acl(self, req).await
    }

    async fn get_object_acl(
        &self,
        req: S3Request<s3s::dto::GetObjectAclInput>,
    ) -> S3Result<S3Response<s3s::dto::GetObjectAclOutput>> {
        acl::get_object_acl(self, req).await
    }

    async fn put_object_acl(
        &self,
        req: S3Request<s3s::dto::PutObjectAclInput>,
    ) -> S3Result<S3Response<s3s::dto::PutObjectAclOutput>> {
        acl::put_object_acl(self, req).await
    }

    async fn put_bucket_ownership_controls(
        &self,
        req: S3Request<s3s::dto::PutBucketOwnershipControlsInput>,
    ) -> S3Result<S3Response<s3s::dto::PutBucketOwnershipControlsOutput>> {
        acl::put_bucket_ownership_controls(self, req).await
    }

    async fn get_bucket_ownership_controls(
        &self,
        req: S3Request<s3s::dto::GetBucketOwnershipControlsInput>,
    ) -> S3Result<S3Response<s3s::dto::GetBucketOwnershipControlsOutput>> {
        acl::get_bucket_ownership_controls(self, req).await
    }

    async fn delete_bucket_ownership_controls(
        &self,
        req: S3Request<s3s::dto::DeleteBucketOwnershipControlsInput>,
    ) -> S3Result<S3Response<s3s::dto::DeleteBucketOwnershipControlsOutput>> {
        acl::delete_bucket_ownership_controls(self, req).await
    }

    async fn put_public_access_block(
        &self,
        req: S3Request<s3s::dto::PutPublicAccessBlockInput>,
    ) -> S3Result<S3Response<s3s::dto::PutPublicAccessBlockOutput>> {
        acl::put_public_access_block(self, req).await
    }

    async fn get_public_access_block(
        &self,
        req: S3Request<s3s::dto::GetPublicAccessBlockInput>,
    ) -> S3Result<S3Response<s3s::dto::GetPublicAccessBlockOutput>> {
        acl::get_public_access_block(self, req).await
    }

    async fn delete_public_access_block(
        &self,
        req: S3Request<s3s::dto::DeletePublicAccessBlockInput>,
    ) -> S3Result<S3Response<s3s::dto::DeletePublicAccessBlockOutput>> {
        acl::delete_public_access_block(self, req).await
    }

    async fn get_bucket_policy_status(
        &self,
        req: S3Request<s3s::dto::GetBucketPolicyStatusInput>,
    ) -> S3Result<S3Response<s3s::dto::GetBucketPolicyStatusOutput>> {
        acl::get_bucket_policy_status(self, req).await
    }

    async fn put_bucket_cors(
        &self,
        req: S3Request<s3s::dto::PutBucketCorsInput>,
    ) -> S3Result<S3Response<s3s::dto::PutBucketCorsOutput>> {
        acl::put_bucket_cors(self, req).await
    }

    async fn get_bucket_cors(
        &self,
        req: S3Request<s3s::dto::GetBucketCorsInput>,
    ) -> S3Result<S3Response<s3s::dto::GetBucketCorsOutput>> {
        acl::get_bucket_cors(self, req).await
    }

    async fn delete_bucket_cors(
        &self,
        req: S3Request<s3s::dto::DeleteBucketCorsInput>,
    ) -> S3Result<S3Response<s3s::dto::DeleteBucketCorsOutput>> {
        acl::delete_bucket_cors(self, req).await
    }

    async fn put_object_tagging(
        &self,
        req: S3Request<s3s::dto::PutObjectTaggingInput>,
    ) -> S3Result<S3Response<s3s::dto::PutObjectTaggingOutput>> {
        extra::put_object_tagging(self, req).await
    }

    async fn get_object_tagging(
        &self,
        req: S3Request<s3s::dto::GetObjectTaggingInput>,
    ) -> S3Result<S3Response<s3s::dto::GetObjectTaggingOutput>> {
        extra::get_object_tagging(self, req).await
    }

    async fn delete_object_tagging(
        &self,
        req: S3Request<s3s::dto::DeleteObjectTaggingInput>,
    ) -> S3Result<S3Response<s3s::dto::DeleteObjectTaggingOutput>> {
        extra::delete_object_tagging(self, req).await
    }

    async fn put_bucket_tagging(
        &self,
        req: S3Request<s3s::dto::PutBucketTaggingInput>,
    ) -> S3Result<S3Response<s3s::dto::PutBucketTaggingOutput>> {
        extra::put_bucket_tagging(self, req).await
    }

    async fn get_bucket_tagging(
        &self,
        req: S3Request<s3s::dto::GetBucketTaggingInput>,
    ) -> S3Result<S3Response<s3s::dto::GetBucketTaggingOutput>> {
        extra::get_bucket_tagging(self, req).await
    }

    async fn delete_bucket_tagging(
        &self,
        req: S3Request<s3s::dto::DeleteBucketTaggingInput>,
    ) -> S3Result<S3Response<s3s::dto::DeleteBucketTaggingOutput>> {
        extra::delete_bucket_tagging(self, req).await
    }

    async fn delete_bucket_lifecycle(
        &self,
        req: S3Request<DeleteBucketLifecycleInput>,
    ) -> S3Result<S3Response<DeleteBucketLifecycleOutput>> {
        bucket::delete_bucket_lifecycle(self, req).await
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
