//! Multipart uploads: create, upload part, list parts, complete, abort.

use super::*;

pub(super) async fn create_multipart_upload(
    backend: &Backend,
    req: S3Request<CreateMultipartUploadInput>,
) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
    let input = req.input;
    backend.shared.store().bucket(&input.bucket)?;
    let upload = Upload {
        bucket: input.bucket.clone(),
        key: input.key.clone(),
        content_type: input.content_type,
        metadata: metadata_vec(input.metadata)?,
        parts: BTreeMap::new(),
    };
    let upload_id = backend.shared.uploads().create(upload);
    Ok(S3Response::new(CreateMultipartUploadOutput {
        bucket: Some(input.bucket),
        key: Some(input.key),
        upload_id: Some(upload_id),
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
    let condition = crate::conditional::WriteCondition {
        if_match: input.if_match,
        if_none_match: input.if_none_match,
    };
    // Checked once before the upload is consumed, so a failing condition keeps the upload for a
    // retry, and again atomically with the write.
    crate::conditional::check_live(
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
    crate::conditional::write_if(
        &mut backend.shared.store(),
        &input.bucket,
        &input.key,
        Some(object.clone()),
        &condition,
    )?;
    backend.shared.uploads().finish(&input.upload_id);
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
