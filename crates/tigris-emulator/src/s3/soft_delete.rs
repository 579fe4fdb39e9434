//! Soft delete on the S3 operations: the setting on CreateBucket and DeleteBucket, the
//! deleted-object views of ListObjectsV2 and ListObjectVersions (`X-Tigris-Soft-Delete: true`),
//! RestoreObject with `X-Tigris-Restore-Type: soft-delete`, and purging one deleted version
//! (DeleteObject with a version id and `X-Tigris-Soft-Delete: true`).

use super::*;
use crate::store::{DEFAULT_RETENTION_DAYS, check_retention};
use s3s::dto::{
    DeleteMarkerEntry, ListObjectVersionsInput, ListObjectVersionsOutput, ObjectVersion,
    RestoreObjectInput, RestoreObjectOutput,
};

/// `X-Tigris-Soft-Delete` as a retention: `true` (the default 7 days, or `current`), a whole
/// number of days from 7 to 90, or `false` (off). `None` when the header is absent.
pub(super) fn retention_header(
    headers: &HeaderMap,
    current: Option<u32>,
) -> S3Result<Option<Option<u32>>> {
    let Some(value) = header_str(headers, header::SOFT_DELETE) else {
        return Ok(None);
    };
    if value.eq_ignore_ascii_case("true") {
        return Ok(Some(Some(current.unwrap_or(DEFAULT_RETENTION_DAYS))));
    }
    if value.eq_ignore_ascii_case("false") {
        return Ok(Some(None));
    }
    let days = value.parse::<u32>().map_err(|_| {
        s3_error!(
            InvalidArgument,
            "X-Tigris-Soft-Delete must be true, false or a number of days, got {value:?}"
        )
    })?;
    check_retention(days)
        .map(|d| Some(Some(d)))
        .map_err(|e| s3_error!(InvalidArgument, "{}", e.0))
}

/// Whether the request asks for the soft-delete view.
pub(super) fn wants_view(headers: &HeaderMap) -> bool {
    is_true(headers, header::SOFT_DELETE)
}

fn parse_version_id(id: &str) -> S3Result<u64> {
    id.parse::<u64>()
        .map_err(|_| s3_error!(NoSuchVersion, "The specified version does not exist: {id}"))
}

/// ListObjectsV2 in the soft-delete view: each key with a deleted version, showing its most
/// recent deletion. Pages and continues as the live listing does; no delimiter.
pub(super) fn list_deleted_v2(
    backend: &Backend,
    input: &ListObjectsV2Input,
) -> S3Result<S3Response<ListObjectsV2Output>> {
    if input.delimiter.as_deref().is_some_and(|d| !d.is_empty()) {
        return Err(s3_error!(
            InvalidArgument,
            "the soft-delete view lists keys without a delimiter"
        ));
    }
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
    let after = token.as_deref().or(input.start_after.as_deref());
    let prefix = input.prefix.as_deref().unwrap_or("");
    let max = input.max_keys.map_or(1000, |m| m.clamp(0, 1000) as usize);
    let mut store = backend.shared.store();
    store.expire()?;
    let latest: Vec<_> = store
        .deleted_versions(&input.bucket, prefix)?
        .into_iter()
        .filter(|d| d.is_latest && after.is_none_or(|a| d.key.as_str() > a))
        .collect();
    drop(store);
    let truncated = latest.len() > max;
    let page = &latest[..latest.len().min(max)];
    let enc_url = input
        .encoding_type
        .as_ref()
        .is_some_and(|e| e.as_str() == "url");
    let enc = |s: &str| if enc_url { url_encode(s) } else { s.to_owned() };
    let contents: Vec<DtoObject> = page
        .iter()
        .map(|d| DtoObject {
            key: Some(enc(&d.key)),
            size: Some(d.object.size() as i64),
            e_tag: Some(ETag::Strong(d.object.etag.clone())),
            last_modified: Some(timestamp(d.object.last_modified)),
            ..DtoObject::default()
        })
        .collect();
    let next = (truncated && max > 0)
        .then(|| page.last().map(|d| hex::encode(d.key.as_bytes())))
        .flatten();
    Ok(S3Response::new(ListObjectsV2Output {
        name: Some(input.bucket.clone()),
        prefix: Some(enc(prefix)),
        start_after: input.start_after.as_deref().map(enc),
        max_keys: Some(max as i32),
        key_count: Some(contents.len() as i32),
        is_truncated: Some(next.is_some()),
        continuation_token: input.continuation_token.clone(),
        next_continuation_token: next,
        contents: Some(contents),
        encoding_type: input.encoding_type.clone(),
        ..Default::default()
    }))
}

/// One row of a version listing: key, version id, and the object (`None`: a delete marker).
struct Row {
    key: String,
    version: u64,
    object: Option<Arc<Object>>,
    is_latest: bool,
}

/// ListObjectVersions: with `X-Tigris-Soft-Delete: true` the deleted versions (each key's most
/// recent deletion is the latest), otherwise the history the bucket's own level keeps
/// (objects and delete markers). Key order, newest first; `key-marker` and
/// `version-id-marker` continue. No delimiter.
pub(super) async fn list_object_versions(
    backend: &Backend,
    req: S3Request<ListObjectVersionsInput>,
) -> S3Result<S3Response<ListObjectVersionsOutput>> {
    let input = &req.input;
    if input.delimiter.as_deref().is_some_and(|d| !d.is_empty()) {
        return Err(s3_error!(
            NotImplemented,
            "the emulator lists versions without a delimiter"
        ));
    }
    let prefix = input.prefix.as_deref().unwrap_or("");
    let max = input.max_keys.map_or(1000, |m| m.clamp(0, 1000) as usize);
    let rows: Vec<Row> = {
        let mut store = backend.shared.store();
        if wants_view(&req.headers) {
            store.expire()?;
            store
                .deleted_versions(&input.bucket, prefix)?
                .into_iter()
                .map(|d| Row {
                    key: d.key,
                    version: d.version,
                    object: Some(d.object),
                    is_latest: d.is_latest,
                })
                .collect()
        } else {
            store
                .listed_versions(&input.bucket, prefix)?
                .into_iter()
                .map(|v| Row {
                    key: v.key,
                    version: v.version,
                    object: v.object,
                    is_latest: v.is_latest,
                })
                .collect()
        }
    };
    let version_marker = input
        .version_id_marker
        .as_deref()
        .filter(|v| !v.is_empty())
        .map(parse_version_id)
        .transpose()?;
    let rest: Vec<&Row> = rows
        .iter()
        .filter(
            |r| match input.key_marker.as_deref().filter(|k| !k.is_empty()) {
                None => true,
                Some(k) => match version_marker {
                    // Newest first within a key: after the marker come older versions.
                    Some(v) if r.key == k => r.version < v,
                    _ => r.key.as_str() > k,
                },
            },
        )
        .collect();
    let truncated = rest.len() > max && max > 0;
    let page = &rest[..rest.len().min(max)];
    // `encoding-type=url` percent-encodes every key the answer names, as the listings do.
    let url = input
        .encoding_type
        .as_ref()
        .is_some_and(|e| e.as_str() == "url");
    let enc = |k: &str| if url { url_encode(k) } else { k.to_owned() };
    let mut versions = Vec::new();
    let mut markers = Vec::new();
    for r in page {
        match &r.object {
            Some(o) => versions.push(ObjectVersion {
                key: Some(enc(&r.key)),
                version_id: Some(r.version.to_string()),
                is_latest: Some(r.is_latest),
                size: Some(o.size() as i64),
                e_tag: Some(ETag::Strong(o.etag.clone())),
                last_modified: Some(timestamp(o.last_modified)),
                ..ObjectVersion::default()
            }),
            None => markers.push(DeleteMarkerEntry {
                key: Some(enc(&r.key)),
                version_id: Some(r.version.to_string()),
                is_latest: Some(r.is_latest),
                last_modified: Some(timestamp(crate::store::version_time(r.version))),
                ..DeleteMarkerEntry::default()
            }),
        }
    }
    let last = page.last().filter(|_| truncated);
    Ok(S3Response::new(ListObjectVersionsOutput {
        name: Some(input.bucket.clone()),
        prefix: Some(enc(prefix)),
        key_marker: input.key_marker.as_deref().map(enc),
        version_id_marker: input.version_id_marker.clone(),
        max_keys: Some(max as i32),
        is_truncated: Some(truncated),
        next_key_marker: last.map(|r| enc(&r.key)),
        next_version_id_marker: last.map(|r| r.version.to_string()),
        versions: Some(versions),
        delete_markers: Some(markers),
        encoding_type: input.encoding_type.clone(),
        ..Default::default()
    }))
}

/// RestoreObject with `X-Tigris-Restore-Type: soft-delete`: writes a deleted version back as
/// the key's live object (`X-Tigris-Restore-Version` or `?versionId=` names it; otherwise the
/// most recent deletion). Answers 200 with the new write's `x-amz-version-id`. Archive restores
/// (without the header) are not emulated.
pub(super) async fn restore_object(
    backend: &Backend,
    req: S3Request<RestoreObjectInput>,
) -> S3Result<S3Response<RestoreObjectOutput>> {
    let restore_type = header_str(&req.headers, header::RESTORE_TYPE);
    if !restore_type.is_some_and(|t| t.eq_ignore_ascii_case("soft-delete")) {
        return Err(s3_error!(
            NotImplemented,
            "the emulator restores soft-deleted objects only (X-Tigris-Restore-Type: soft-delete)"
        ));
    }
    let input = &req.input;
    let version = header_str(&req.headers, header::RESTORE_VERSION)
        .or(input.version_id.as_deref())
        .filter(|v| !v.is_empty())
        .map(parse_version_id)
        .transpose()?;
    let new_version = backend
        .shared
        .store()
        .restore_deleted(&input.bucket, &input.key, version)?;
    let mut resp = S3Response::new(RestoreObjectOutput::default());
    resp.headers
        .insert("x-amz-version-id", hv(&new_version.to_string())?);
    Ok(resp)
}

/// DeleteObject with a version id and `X-Tigris-Soft-Delete: true`: drops that deleted version
/// for good. `None` when the request is not a purge.
pub(super) fn purge(
    backend: &Backend,
    headers: &HeaderMap,
    input: &DeleteObjectInput,
) -> Option<S3Result<S3Response<DeleteObjectOutput>>> {
    let version = input.version_id.as_deref().filter(|v| *v != "null")?;
    if !wants_view(headers) {
        return None;
    }
    Some((|| {
        let version = parse_version_id(version)?;
        backend
            .shared
            .store()
            .purge_deleted(&input.bucket, &input.key, version)?;
        let mut resp =
            S3Response::with_status(DeleteObjectOutput::default(), StatusCode::NO_CONTENT);
        resp.headers
            .insert("x-amz-version-id", hv(&version.to_string())?);
        Ok(resp)
    })())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn header_values_never_panic(value in "\\PC{0,16}", current in proptest::option::of(7u32..=90)) {
            let mut headers = HeaderMap::new();
            if let Ok(v) = http::HeaderValue::from_str(&value) {
                headers.insert(header::SOFT_DELETE, v);
            }
            if let Ok(Some(Some(days))) = retention_header(&headers, current) {
                prop_assert!((7..=90).contains(&days));
            }
            let _ = wants_view(&headers);
            let _ = parse_version_id(&value);
        }
    }
}
