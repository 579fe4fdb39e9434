//! Multipart uploads: create, upload part, list parts, complete, abort.

use super::*;

pub(super) async fn create_multipart_upload(
    backend: &Backend,
    req: S3Request<CreateMultipartUploadInput>,
) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
    let input = req.input;
    backend.shared.store().bucket(&input.bucket)?;
    let mut extra = crate::store::ObjectExtra {
        headers: super::extra::stored_headers(&req.headers),
        tags: super::extra::tagging_header(&req.headers)?,
        acl: input.acl.map(|a| a.as_str().to_owned()),
        ..Default::default()
    };
    let algorithm = input.checksum_algorithm.map(|a| a.as_str().to_owned());
    if let Some(a) = &algorithm {
        extra.checksums.push((a.clone(), String::new()));
    }
    let upload = Upload {
        bucket: input.bucket.clone(),
        key: input.key.clone(),
        content_type: input.content_type,
        metadata: metadata_vec(input.metadata)?,
        extra,
        initiated: std::time::SystemTime::now(),
        parts: BTreeMap::new(),
    };
    let upload_id = backend.shared.uploads().create(upload);
    Ok(S3Response::new(CreateMultipartUploadOutput {
        bucket: Some(input.bucket),
        key: Some(input.key),
        upload_id: Some(upload_id),
        checksum_algorithm: algorithm.map(s3s::dto::ChecksumAlgorithm::from),
        ..Default::default()
    }))
}

pub(super) async fn upload_part(
    backend: &Backend,
    req: S3Request<UploadPartInput>,
) -> S3Result<S3Response<UploadPartOutput>> {
    let input = req.input;
    if !(1..=10_000).contains(&input.part_number) {
        return Err(s3_error!(
            InvalidArgument,
            "Part number must be an integer between 1 and 10000"
        ));
    }
    let data = collect_body(input.body, input.content_length).await?;
    let etag = backend.shared.uploads().put_part(
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

pub(super) async fn list_parts(
    backend: &Backend,
    req: S3Request<ListPartsInput>,
) -> S3Result<S3Response<ListPartsOutput>> {
    let input = req.input;
    let uploads = backend.shared.uploads();
    let upload = uploads.get(&input.upload_id, &input.bucket, &input.key)?;
    let after = input.part_number_marker.unwrap_or(0);
    let max = input.max_parts.map_or(1000, |m| m.clamp(1, 1000)) as usize;
    // Exclusive lower bound: `after + 1` would overflow for a marker of i32::MAX.
    let rest: Vec<_> = upload
        .parts
        .range((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded))
        .collect();
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

pub(super) async fn complete_multipart_upload(
    backend: &Backend,
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
    // A repeated completion of an upload already completed answers as the first did.
    let done = backend
        .shared
        .uploads()
        .completed(&input.upload_id, &input.bucket, &input.key);
    if let Some(etag) = done {
        return Ok(S3Response::new(CompleteMultipartUploadOutput {
            location: Some(format!("/{}/{}", input.bucket, input.key)),
            bucket: Some(input.bucket),
            key: Some(input.key),
            e_tag: Some(ETag::Strong(etag)),
            ..Default::default()
        }));
    }
    let condition = crate::s3::conditional::WriteCondition {
        if_match: input.if_match,
        if_none_match: input.if_none_match,
    };
    // Checked once before the upload is consumed, so a failing condition keeps the upload for a
    // retry, and again atomically with the write.
    crate::s3::conditional::check_live(
        &backend.shared.store(),
        &input.bucket,
        &input.key,
        &condition,
    )?;
    let object =
        backend
            .shared
            .uploads()
            .complete(&input.upload_id, &input.bucket, &input.key, &listed)?;
    let etag = object.etag.clone();
    crate::s3::conditional::write_if(
        &mut backend.shared.store(),
        &input.bucket,
        &input.key,
        Some(object.clone()),
        &condition,
    )?;
    {
        let mut uploads = backend.shared.uploads();
        uploads.finish(&input.upload_id);
        uploads.set_completed_etag(&input.upload_id, &etag);
    }
    backend.emit(
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

pub(super) async fn abort_multipart_upload(
    backend: &Backend,
    req: S3Request<AbortMultipartUploadInput>,
) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
    let input = req.input;
    backend
        .shared
        .uploads()
        .abort(&input.upload_id, &input.bucket, &input.key)?;
    Ok(S3Response::with_status(
        AbortMultipartUploadOutput::default(),
        StatusCode::NO_CONTENT,
    ))
}

pub(super) async fn list_multipart_uploads(
    backend: &Backend,
    req: S3Request<s3s::dto::ListMultipartUploadsInput>,
) -> S3Result<S3Response<s3s::dto::ListMultipartUploadsOutput>> {
    let input = req.input;
    backend.shared.store().bucket(&input.bucket)?;
    let prefix = input.prefix.clone().unwrap_or_default();
    let max = input.max_uploads.map_or(1000, |m| m.clamp(0, 1000)) as usize;
    let uploads = backend.shared.uploads();
    let key_marker = input.key_marker.clone().unwrap_or_default();
    let all: Vec<_> = uploads
        .in_bucket(&input.bucket)
        .into_iter()
        .filter(|(_, u)| u.key.starts_with(&prefix) && u.key > key_marker)
        .collect();
    let truncated = all.len() > max;
    let listed: Vec<s3s::dto::MultipartUpload> = all
        .iter()
        .take(max)
        .map(|(id, u)| s3s::dto::MultipartUpload {
            key: Some(u.key.clone()),
            upload_id: Some((*id).to_owned()),
            initiated: Some(timestamp(u.initiated)),
            storage_class: Some(s3s::dto::StorageClass::from_static("STANDARD")),
            ..Default::default()
        })
        .collect();
    let next_key = truncated
        .then(|| listed.last().and_then(|u| u.key.clone()))
        .flatten();
    let next_id = truncated
        .then(|| listed.last().and_then(|u| u.upload_id.clone()))
        .flatten();
    Ok(S3Response::new(s3s::dto::ListMultipartUploadsOutput {
        bucket: Some(input.bucket),
        prefix: input.prefix,
        delimiter: input.delimiter,
        key_marker: input.key_marker,
        upload_id_marker: input.upload_id_marker,
        max_uploads: Some(max as i32),
        is_truncated: Some(truncated),
        next_key_marker: next_key,
        next_upload_id_marker: next_id,
        uploads: Some(listed),
        ..Default::default()
    }))
}

pub(super) async fn upload_part_copy(
    backend: &Backend,
    req: S3Request<s3s::dto::UploadPartCopyInput>,
) -> S3Result<S3Response<s3s::dto::UploadPartCopyOutput>> {
    let input = req.input;
    if !(1..=10_000).contains(&input.part_number) {
        return Err(s3_error!(
            InvalidArgument,
            "Part number must be an integer between 1 and 10000"
        ));
    }
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
    let source = backend.shared.store().get(src_bucket, src_key, LIVE)?;
    let condition = crate::s3::conditional::SourceCondition {
        if_match: input.copy_source_if_match.clone(),
        if_none_match: input.copy_source_if_none_match.clone(),
        if_modified_since: input.copy_source_if_modified_since.clone(),
        if_unmodified_since: input.copy_source_if_unmodified_since.clone(),
    };
    condition.check(src_key, &source)?;
    let data = match &input.copy_source_range {
        None => source.data.clone(),
        Some(range) => {
            let bad = || {
                s3_error!(
                    InvalidArgument,
                    "The x-amz-copy-source-range value must be of the form bytes=first-last \
                     where first and last are the zero-based offsets of the first and last \
                     bytes to copy"
                )
            };
            let (first, last) = range
                .strip_prefix("bytes=")
                .and_then(|r| r.split_once('-'))
                .ok_or_else(bad)?;
            let first: u64 = first.trim().parse().map_err(|_| bad())?;
            let last: u64 = last.trim().parse().map_err(|_| bad())?;
            if first > last || last >= source.size() {
                return Err(s3_error!(
                    InvalidRange,
                    "The requested range is not satisfiable"
                ));
            }
            source.data.slice(first as usize..=last as usize)
        }
    };
    let etag = backend.shared.uploads().put_part(
        &input.upload_id,
        &input.bucket,
        &input.key,
        input.part_number,
        data,
    )?;
    Ok(S3Response::new(s3s::dto::UploadPartCopyOutput {
        copy_part_result: Some(s3s::dto::CopyPartResult {
            e_tag: Some(ETag::Strong(etag)),
            last_modified: Some(timestamp(source.last_modified)),
            ..Default::default()
        }),
        ..Default::default()
    }))
}
