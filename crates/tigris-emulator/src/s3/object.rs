//! Object operations: put, get (ranges, conditions), head, delete, multi-delete, copy and rename.

use super::*;
use crate::s3::conditional::{self, SourceCondition, WriteCondition};
use crate::store::VersionDeleted;

pub(super) async fn put_object(
    backend: &Backend,
    req: S3Request<PutObjectInput>,
) -> S3Result<S3Response<PutObjectOutput>> {
    let input = req.input;
    let metadata = metadata_vec(input.metadata)?;
    let tags = extra::tagging_header(&req.headers)?;
    super::acl::check_upload_acl(
        &backend.shared.store(),
        &input.bucket,
        input.acl.as_ref().map(|a| a.as_str()),
    )?;
    let (data, md5) = collect_body_md5(input.body, input.content_length).await?;
    let checksum = super::checksum::verify(&req.headers, &data, &md5, None)?;
    let mut object = Object::with_etag(data, md5, input.content_type, metadata);
    object.extra.headers = extra::stored_headers(&req.headers);
    object.extra.checksums = checksum.iter().cloned().collect();
    object.extra.tags = tags;
    object.extra.acl = upload_acl(input.acl.as_ref().map(|a| a.as_str()));
    object.extra.storage_class =
        super::archive::write_class(backend, &input.bucket, input.storage_class.as_ref())?;
    let etag = object.etag.clone();
    let condition = WriteCondition {
        if_match: input.if_match,
        if_none_match: input.if_none_match,
    };
    // A write the bucket refuses never reaches the shadow: the condition is checked before the
    // write-through, and again under the store lock with the write.
    conditional::check_live(
        &backend.shared.store(),
        &input.bucket,
        &input.key,
        &condition,
    )?;
    super::shadow::put_through(&backend.shared, &input.bucket, &input.key, &object).await?;
    if condition.is_empty() {
        // Group-committed on a data directory, its body written outside the store lock.
        backend
            .shared
            .put(&input.bucket, &input.key, object.clone())
            .await?;
    } else {
        conditional::write_if(
            &mut backend.shared.store(),
            &input.bucket,
            &input.key,
            Some(object.clone()),
            &condition,
        )?;
    }
    backend.emit(
        &input.bucket,
        &input.key,
        crate::notify::EventName::Put,
        Some(&object),
    );
    let mut output = PutObjectOutput {
        e_tag: Some(ETag::Strong(etag)),
        ..Default::default()
    };
    if let Some((algorithm, value)) = checksum {
        output.checksum_type = Some(ChecksumType::from_static(super::checksum::FULL_OBJECT));
        super::checksum::set_checksum!(output, algorithm.as_str(), value);
    }
    Ok(S3Response::new(output))
}

pub(super) async fn get_object(
    backend: &Backend,
    req: S3Request<GetObjectInput>,
) -> S3Result<S3Response<GetObjectOutput>> {
    let input = req.input;
    let (object, version_id) = read_object(
        backend,
        &req.headers,
        &input.bucket,
        &input.key,
        input.version_id.as_deref(),
    )?;
    crate::s3::conditional::check_read(
        &object,
        input.if_match.as_ref(),
        input.if_none_match.as_ref(),
        input.if_modified_since.as_ref(),
        input.if_unmodified_since.as_ref(),
    )?;
    super::archive::check_readable(backend, &object.extra)?;
    let headers = extra::object_headers(
        &object.extra,
        &[
            ("cache-control", input.response_cache_control.clone()),
            (
                "content-disposition",
                input.response_content_disposition.clone(),
            ),
            ("content-encoding", input.response_content_encoding.clone()),
            ("content-language", input.response_content_language.clone()),
            ("content-type", input.response_content_type.clone()),
            (
                "expires",
                input.response_expires.as_ref().and_then(extra::http_date),
            ),
        ],
    )?;
    let full = object.size();
    // `?partNumber=N`: that part of a multipart object (a single PUT is one part).
    let parts_count = object.extra.parts.len().max(1);
    let part = match input.part_number {
        None => None,
        Some(n) if n < 1 || n as usize > parts_count => {
            return Err(custom_error(
                "InvalidPartNumber",
                StatusCode::RANGE_NOT_SATISFIABLE,
                "The requested partnumber is not satisfiable".to_owned(),
            ));
        }
        Some(n) if object.extra.parts.is_empty() => Some((0, full, n)),
        Some(n) => {
            let before: u64 = object.extra.parts[..n as usize - 1].iter().sum();
            Some((before, object.extra.parts[n as usize - 1], n))
        }
    };
    let (body, range, status) = match &input.range {
        Some(_) if part.is_some() => {
            return Err(s3_error!(
                InvalidRequest,
                "Cannot specify both Range header and partNumber query parameter"
            ));
        }
        None if let Some((start, len, _)) = part => {
            let body = object.data.slice(start as usize..(start + len) as usize);
            let range = format!("bytes {start}-{}/{full}", (start + len).saturating_sub(1));
            (body, Some(range), StatusCode::PARTIAL_CONTENT)
        }
        // Every range of an empty object is unsatisfiable, a suffix range included.
        Some(_) if full == 0 => {
            return Err(s3_error!(
                InvalidRange,
                "The requested range is not satisfiable"
            ));
        }
        Some(r) => {
            let span = r
                .check(full)
                .map_err(|_| s3_error!(InvalidRange, "The requested range is not satisfiable"))?;
            let body = object.data.slice(span.start as usize..span.end as usize);
            let range = format!("bytes {}-{}/{full}", span.start, span.end.saturating_sub(1));
            (body, Some(range), StatusCode::PARTIAL_CONTENT)
        }
        None => (object.data.clone(), None, StatusCode::OK),
    };
    let whole = range.is_none() || (part.is_some() && parts_count == 1);
    let mut output = GetObjectOutput {
        content_length: Some(body.len() as i64),
        content_range: range,
        accept_ranges: Some("bytes".into()),
        body: Some(StreamingBlob::from(s3s::Body::from(body))),
        e_tag: Some(ETag::Strong(object.etag.clone())),
        last_modified: Some(timestamp(object.last_modified)),
        content_type: object.content_type.clone(),
        metadata: metadata_map(&object.metadata),
        version_id,
        parts_count: part.map(|_| parts_count as i32),
        storage_class: object
            .extra
            .storage_class
            .clone()
            .map(s3s::dto::StorageClass::from),
        ..Default::default()
    };
    if whole && checksum_mode(input.checksum_mode.as_ref()) {
        super::checksum::set_stored_checksums!(output, &object.extra.checksums);
    }
    let mut response = S3Response::with_status(output, status);
    response.headers = headers;
    Ok(response)
}

pub(super) async fn head_object(
    backend: &Backend,
    req: S3Request<HeadObjectInput>,
) -> S3Result<S3Response<HeadObjectOutput>> {
    let input = req.input;
    let (object, version_id) = read_object(
        backend,
        &req.headers,
        &input.bucket,
        &input.key,
        input.version_id.as_deref(),
    )?;
    crate::s3::conditional::check_read(
        &object,
        input.if_match.as_ref(),
        input.if_none_match.as_ref(),
        input.if_modified_since.as_ref(),
        input.if_unmodified_since.as_ref(),
    )?;
    let headers = extra::object_headers(&object.extra, &[])?;
    // `?partNumber=N`: that part's length and the parts count, as GET answers them.
    let parts_count = object.extra.parts.len().max(1);
    let length = match input.part_number {
        None => object.size(),
        Some(n) if n < 1 || n as usize > parts_count => {
            return Err(custom_error(
                "InvalidPartNumber",
                StatusCode::RANGE_NOT_SATISFIABLE,
                "The requested partnumber is not satisfiable".to_owned(),
            ));
        }
        Some(_) if object.extra.parts.is_empty() => object.size(),
        Some(n) => object.extra.parts[n as usize - 1],
    };
    let mut output = HeadObjectOutput {
        content_length: Some(length as i64),
        accept_ranges: Some("bytes".into()),
        e_tag: Some(ETag::Strong(object.etag.clone())),
        last_modified: Some(timestamp(object.last_modified)),
        content_type: object.content_type.clone(),
        metadata: metadata_map(&object.metadata),
        version_id,
        storage_class: object
            .extra
            .storage_class
            .clone()
            .map(s3s::dto::StorageClass::from),
        parts_count: input.part_number.map(|_| parts_count as i32),
        ..Default::default()
    };
    if (input.part_number.is_none() || parts_count == 1)
        && checksum_mode(input.checksum_mode.as_ref())
    {
        super::checksum::set_stored_checksums!(output, &object.extra.checksums);
    }
    let mut response = S3Response::new(output);
    response.headers = headers;
    if let Some(restore) = super::archive::restore_header(backend, &object.extra) {
        response.headers.insert("x-amz-restore", hv(&restore)?);
    }
    Ok(response)
}

/// Whether a read asked for the object's checksum (`x-amz-checksum-mode: ENABLED`).
fn checksum_mode(mode: Option<&ChecksumMode>) -> bool {
    mode.is_some_and(|m| m.as_str().eq_ignore_ascii_case(ChecksumMode::ENABLED))
}

/// The object a Get or Head reads: the version `?versionId=` names, the one visible at
/// `X-Tigris-Snapshot-Version`, or the live one. Reads that are not live also answer the
/// version id they read (the write's version), which `?versionId=` and presigned URLs take.
fn read_object(
    backend: &Backend,
    headers: &HeaderMap,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
) -> S3Result<(Arc<Object>, Option<String>)> {
    // A read needs no PUT still being committed: none of them is answered yet.
    let store = backend.shared.store_applied();
    if let Some(id) = version_id.filter(|v| *v != "null") {
        let parsed = id
            .parse::<u64>()
            .map_err(|_| s3_error!(NoSuchVersion, "The specified version does not exist: {id}"))?;
        return Ok((store.get_version(bucket, key, parsed)?, Some(id.to_owned())));
    }
    let version = read_version(headers)?;
    let object = store.get(bucket, key, version)?;
    let id = if version == LIVE {
        None
    } else {
        store
            .entry_at(bucket, key, version)?
            .map(|(v, _)| v.to_string())
    };
    Ok((object, id))
}

pub(super) async fn delete_object(
    backend: &Backend,
    req: S3Request<DeleteObjectInput>,
) -> S3Result<S3Response<DeleteObjectOutput>> {
    if let Some(purged) = super::soft_delete::purge(backend, &req.headers, &req.input) {
        return purged;
    }
    let input = req.input;
    if let Some(version) = input.version_id.as_deref().filter(|v| *v != "null") {
        return delete_version(backend, &input.bucket, &input.key, version);
    }
    let condition = WriteCondition {
        if_match: input.if_match,
        if_none_match: None,
    };
    if input.version_id.is_none() {
        // A delete the bucket refuses never reaches the shadow (see `put_object`).
        conditional::check_live(
            &backend.shared.store(),
            &input.bucket,
            &input.key,
            &condition,
        )?;
        super::shadow::delete_through(&backend.shared, &input.bucket, &input.key).await?;
    }
    // S3 answers 204 for a missing key too, but the bucket must exist. An `If-Match` is checked
    // under the same store lock as the delete, so a conditional delete and a conditional write
    // of one key cannot both pass.
    let deleted = {
        let mut store = backend.shared.store();
        conditional::check_live(&store, &input.bucket, &input.key, &condition)?;
        store.delete_if_present(&input.bucket, &input.key)?
    };
    if deleted {
        backend.emit(
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

/// DeleteObject with a version id: drops that version (see `store/versions.rs`), answering
/// the id and whether it was a delete marker. An id that names no listed version of the key
/// changes nothing and answers 204 too, as S3 does for a version already gone.
fn delete_version(
    backend: &Backend,
    bucket: &str,
    key: &str,
    version: &str,
) -> S3Result<S3Response<DeleteObjectOutput>> {
    let found = drop_version(backend, bucket, key, version)?;
    let mut resp = S3Response::with_status(
        DeleteObjectOutput {
            version_id: Some(version.to_owned()),
            delete_marker: (found == VersionDeleted::DeleteMarker).then_some(true),
            ..Default::default()
        },
        StatusCode::NO_CONTENT,
    );
    resp.headers.insert("x-amz-version-id", hv(version)?);
    Ok(resp)
}

/// Drops `version` of `key`; an id that is no number names no version.
fn drop_version(
    backend: &Backend,
    bucket: &str,
    key: &str,
    version: &str,
) -> S3Result<VersionDeleted> {
    let Ok(parsed) = version.parse::<u64>() else {
        backend.shared.store().bucket(bucket)?;
        return Ok(VersionDeleted::Missing);
    };
    let found = backend.shared.store().delete_version(bucket, key, parsed)?;
    if matches!(found, VersionDeleted::Object | VersionDeleted::Inherited) {
        backend.emit(bucket, key, crate::notify::EventName::Delete, None);
    }
    Ok(found)
}

pub(super) async fn delete_objects(
    backend: &Backend,
    req: S3Request<DeleteObjectsInput>,
) -> S3Result<S3Response<DeleteObjectsOutput>> {
    let denied = req
        .extensions
        .get::<crate::http::auth::DeniedKeys>()
        .map(|d| d.0.clone())
        .unwrap_or_default();
    let input = req.input;
    backend.shared.store().bucket(&input.bucket)?;
    if input.delete.objects.len() + denied.len() > 1000 {
        return Err(s3_error!(
            MalformedXML,
            "A DeleteObjects request can name at most 1000 keys"
        ));
    }
    let quiet = input.delete.quiet.unwrap_or(false);
    let shadow = super::shadow::write_through(&backend.shared, &input.bucket);
    let mut deleted = Vec::new();
    let mut errors = Vec::new();
    for id in input.delete.objects {
        if let Some(version) = id.version_id.filter(|v| v != "null") {
            let found = drop_version(backend, &input.bucket, &id.key, &version)?;
            if !quiet {
                deleted.push(DeletedObject {
                    key: Some(id.key),
                    version_id: Some(version),
                    delete_marker: (found == VersionDeleted::DeleteMarker).then_some(true),
                    ..Default::default()
                });
            }
            continue;
        }
        // Written through as DeleteObject is: the shadow first; a key it refuses stays.
        if let Some(shadow) = &shadow
            && let Err(e) = super::shadow::delete_in(&backend.shared, shadow, &id.key).await
        {
            errors.push(s3s::dto::Error {
                code: Some(e.code().as_str().to_owned()),
                message: e.message().map(str::to_owned),
                key: Some(id.key),
                ..Default::default()
            });
            continue;
        }
        if backend
            .shared
            .store()
            .delete_if_present(&input.bucket, &id.key)?
        {
            backend.emit(
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
    errors.extend(denied.into_iter().map(|key| s3s::dto::Error {
        code: Some("AccessDenied".to_owned()),
        message: Some("Access Denied".to_owned()),
        key: Some(key),
        ..Default::default()
    }));
    Ok(S3Response::new(DeleteObjectsOutput {
        deleted: Some(deleted),
        errors: (!errors.is_empty()).then_some(errors),
        ..Default::default()
    }))
}

pub(super) async fn copy_object(
    backend: &Backend,
    req: S3Request<CopyObjectInput>,
) -> S3Result<S3Response<CopyObjectOutput>> {
    let version = read_version(&req.headers)?;
    let rename = is_true(&req.headers, header::RENAME);
    let destination = WriteCondition::from_headers(&req.headers)?;
    let input = req.input;
    let source_condition = SourceCondition {
        if_match: input.copy_source_if_match.clone(),
        if_none_match: input.copy_source_if_none_match.clone(),
        if_modified_since: input.copy_source_if_modified_since.clone(),
        if_unmodified_since: input.copy_source_if_unmodified_since.clone(),
    };
    let CopySource::Bucket {
        bucket: src_bucket,
        key: src_key,
        version_id: src_version,
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
    // Source conditions, destination conditions and the write hold the one store lock.
    let mut store = backend.shared.store();
    super::acl::check_upload_acl(
        &store,
        &input.bucket,
        input.acl.as_ref().map(|a| a.as_str()),
    )?;
    // `?versionId=` on the copy source copies exactly that version.
    let source = match src_version.as_deref().filter(|v| *v != "null") {
        Some(id) => {
            let parsed = id.parse::<u64>().map_err(|_| {
                s3_error!(NoSuchVersion, "The specified version does not exist: {id}")
            })?;
            store.get_version(src_bucket, src_key, parsed)?
        }
        None => store.get(src_bucket, src_key, version)?,
    };
    source_condition.check(src_key, &source)?;
    let replace = input
        .metadata_directive
        .as_ref()
        .is_some_and(|d| d.as_str() == MetadataDirective::REPLACE);
    let replace_tags = header_str(&req.headers, "x-amz-tagging-directive")
        .is_some_and(|d| d.eq_ignore_ascii_case("REPLACE"));
    // S3 refuses a copy onto itself that changes nothing (the metadata, the storage class).
    if **src_bucket == *input.bucket
        && **src_key == *input.key
        && !replace
        && !rename
        && input.storage_class.is_none()
    {
        return Err(s3_error!(
            InvalidRequest,
            "This copy request is illegal because it is trying to copy an object to itself \
             without changing the object's metadata, storage class, website redirect location \
             or encryption attributes."
        ));
    }
    let mut object = if replace {
        let mut object = Object::new(
            source.data.clone(),
            input.content_type,
            metadata_vec(input.metadata)?,
        );
        object.extra.headers = extra::stored_headers(&req.headers);
        object
    } else {
        let mut object = Object::new(
            source.data.clone(),
            source.content_type.clone(),
            source.metadata.clone(),
        );
        object.extra.headers = source.extra.headers.clone();
        object
    };
    object.extra.tags = if replace_tags {
        extra::tagging_header(&req.headers)?
    } else {
        source.extra.tags.clone()
    };
    object.extra.checksums = source.extra.checksums.clone();
    object.extra.acl = upload_acl(input.acl.as_ref().map(|a| a.as_str()));
    let result = CopyObjectResult {
        e_tag: Some(ETag::Strong(object.etag.clone())),
        last_modified: Some(timestamp(object.last_modified)),
        ..Default::default()
    };
    if rename && **src_key != *input.key {
        // The write and the source's deletion are one journal record.
        conditional::check_live(&store, &input.bucket, &input.key, &destination)?;
        store.rename(&input.bucket, src_key, &input.key, object.clone())?;
    } else {
        conditional::write_if(
            &mut store,
            &input.bucket,
            &input.key,
            Some(object.clone()),
            &destination,
        )?;
    }
    drop(store);
    if rename {
        backend.emit(
            &input.bucket,
            &input.key,
            crate::notify::EventName::Rename,
            Some(&object),
        );
    } else {
        backend.emit(
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

/// The ACL an upload's `x-amz-acl` records: `private` is the default (the object follows its
/// bucket, as Tigris's CLI sends it on every upload), any other canned ACL is the object's own.
pub(super) fn upload_acl(acl: Option<&str>) -> Option<String> {
    acl.filter(|a| *a != "private").map(str::to_owned)
}
