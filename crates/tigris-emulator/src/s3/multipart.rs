//! Multipart uploads: create, upload part, list parts, complete, abort.

use super::*;
use crate::store::multipart::PartSums;

pub(super) async fn create_multipart_upload(
    backend: &Backend,
    req: S3Request<CreateMultipartUploadInput>,
) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
    let input = req.input;
    backend.shared.store().bucket(&input.bucket)?;
    super::acl::check_upload_acl(
        &backend.shared.store(),
        &input.bucket,
        input.acl.as_ref().map(|a| a.as_str()),
    )?;
    let extra = crate::store::ObjectExtra {
        headers: super::extra::stored_headers(&req.headers),
        tags: super::extra::tagging_header(&req.headers)?,
        acl: input.acl.map(|a| a.as_str().to_owned()),
        ..Default::default()
    };
    let algorithm = match input.checksum_algorithm {
        None => None,
        Some(a) => Some(super::checksum::algorithm(a.as_str()).ok_or_else(|| {
            s3_error!(
                InvalidRequest,
                "Checksum algorithm provided is unsupported."
            )
        })?),
    };
    // S3's defaults: a composite of the parts', but CRC64NVME is only ever of the whole body;
    // a full-object checksum only for the CRCs.
    let kind = match (algorithm, input.checksum_type.as_ref().map(|t| t.as_str())) {
        (None, None) => None,
        (None, Some(_)) => {
            return Err(s3_error!(
                InvalidRequest,
                "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header."
            ));
        }
        (Some("CRC64NVME"), None) => Some(super::checksum::FULL_OBJECT),
        (Some(_), None) => Some(super::checksum::COMPOSITE),
        (Some(a), Some(t))
            if t.eq_ignore_ascii_case(super::checksum::COMPOSITE) && a != "CRC64NVME" =>
        {
            Some(super::checksum::COMPOSITE)
        }
        (Some(a), Some(t))
            if t.eq_ignore_ascii_case(super::checksum::FULL_OBJECT) && a.starts_with("CRC") =>
        {
            Some(super::checksum::FULL_OBJECT)
        }
        (Some(a), Some(t)) => {
            return Err(s3_error!(
                InvalidRequest,
                "The {t} checksum type cannot be used with the {a} checksum algorithm."
            ));
        }
    };
    let upload = Upload {
        bucket: input.bucket.clone(),
        key: input.key.clone(),
        content_type: input.content_type,
        metadata: metadata_vec(input.metadata)?,
        extra,
        checksum: algorithm
            .zip(kind)
            .map(|(a, k)| (a.to_owned(), k.to_owned())),
        initiated: std::time::SystemTime::now(),
        parts: BTreeMap::new(),
    };
    let upload_id = backend.shared.uploads().create(upload);
    Ok(S3Response::new(CreateMultipartUploadOutput {
        bucket: Some(input.bucket),
        key: Some(input.key),
        upload_id: Some(upload_id),
        checksum_algorithm: algorithm.map(s3s::dto::ChecksumAlgorithm::from_static),
        checksum_type: kind.map(ChecksumType::from_static),
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
    let (data, md5) = collect_body_md5(input.body, input.content_length).await?;
    let algorithm = upload_algorithm(backend, &input.upload_id, &input.bucket, &input.key)?;
    let checksum = super::checksum::verify(&req.headers, &data, &md5, algorithm.as_deref())?;
    let kept = checksum
        .as_ref()
        .filter(|(a, _)| Some(a) == algorithm.as_ref())
        .map(|(_, v)| v.clone());
    let etag = backend.shared.uploads().put_part_with_checksum(
        &input.upload_id,
        &input.bucket,
        &input.key,
        input.part_number,
        data,
        PartSums {
            md5,
            checksum: kept,
        },
    )?;
    let mut output = UploadPartOutput {
        e_tag: Some(ETag::Strong(etag)),
        ..Default::default()
    };
    if let Some((algorithm, value)) = checksum {
        super::checksum::set_checksum!(output, algorithm.as_str(), value);
    }
    Ok(S3Response::new(output))
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
        .map(|(n, (data, etag, at, sum))| {
            let mut part = Part {
                part_number: Some(*n),
                e_tag: Some(ETag::Strong(etag.clone())),
                size: Some(data.len() as i64),
                last_modified: Some(timestamp(*at)),
                ..Default::default()
            };
            if let (Some((algorithm, _)), Some(sum)) = (&upload.checksum, sum) {
                super::checksum::set_checksum!(part, algorithm.as_str(), sum.clone());
            }
            part
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
        checksum_algorithm: upload
            .checksum
            .as_ref()
            .map(|(a, _)| s3s::dto::ChecksumAlgorithm::from(a.clone())),
        checksum_type: upload
            .checksum
            .as_ref()
            .map(|(_, t)| ChecksumType::from(t.clone())),
        ..Default::default()
    }))
}

pub(super) async fn complete_multipart_upload(
    backend: &Backend,
    req: S3Request<CompleteMultipartUploadInput>,
) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
    let input = req.input;
    let mut completed_parts = input
        .multipart_upload
        .and_then(|m| m.parts)
        .unwrap_or_default();
    // A part number listed several times in a row is taken once, with the ETag and checksum
    // listed for it last: a client that re-sent a part lists each answer in the order they
    // came, and the part kept is the upload that finished last (Ceph RGW's reading; S3 asks only
    // for ascending part numbers). A list that goes back down is still `InvalidPartOrder`.
    completed_parts.reverse();
    completed_parts.dedup_by_key(|p| p.part_number);
    completed_parts.reverse();
    let listed: Vec<(i32, Option<String>)> = completed_parts
        .iter()
        .map(|p| {
            (
                p.part_number.unwrap_or(0),
                p.e_tag.as_ref().map(|e| e.value().to_owned()),
            )
        })
        .collect();
    // A repeated completion of an upload already completed answers as the first did.
    let done = backend
        .shared
        .uploads()
        .completed(&input.upload_id, &input.bucket, &input.key);
    if let Some(etag) = done {
        let mut output = CompleteMultipartUploadOutput {
            location: Some(format!("/{}/{}", input.bucket, input.key)),
            bucket: Some(input.bucket.clone()),
            key: Some(input.key.clone()),
            e_tag: Some(ETag::Strong(etag.clone())),
            ..Default::default()
        };
        // The checksum too, while the object it made is still the key's.
        if let Ok(object) = backend.shared.store().get(&input.bucket, &input.key, LIVE)
            && object.etag == etag
        {
            super::checksum::set_stored_checksums!(output, &object.extra.checksums);
        }
        return Ok(S3Response::new(output));
    }
    // The upload's checksum algorithm and type, and each listed part's stored checksum; a
    // listed checksum other than the stored one is `InvalidPart`, as on S3.
    let (checksum, part_sums) = {
        let uploads = backend.shared.uploads();
        let upload = uploads.get(&input.upload_id, &input.bucket, &input.key)?;
        let mut sums = Vec::new();
        if let Some((algorithm, _)) = &upload.checksum {
            for part in &completed_parts {
                let number = part.part_number.unwrap_or(0);
                let stored = upload.parts.get(&number).and_then(|p| p.3.clone());
                let claimed = super::checksum::get_checksum!(part, algorithm.as_str());
                if let (Some(claimed), Some(stored)) = (claimed, &stored)
                    && claimed != stored
                {
                    return Err(UploadError::InvalidPart(number).into());
                }
                sums.push(stored);
            }
        }
        (upload.checksum.clone(), sums)
    };
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
    let mut object =
        backend
            .shared
            .uploads()
            .complete(&input.upload_id, &input.bucket, &input.key, &listed)?;
    if let Some((algorithm, kind)) = &checksum {
        let value = object_checksum(algorithm, kind, &object, part_sums)
            .ok_or_else(|| s3_error!(InvalidPart, "A part's checksum is not valid base64"))?;
        if let Some((claimed_algorithm, claimed)) = super::checksum::claimed(&req.headers)?
            && claimed_algorithm == algorithm.as_str()
            && claimed != value
        {
            return Err(s3_error!(
                BadDigest,
                "The {algorithm} you specified did not match the calculated checksum."
            ));
        }
        object.extra.checksums = vec![(algorithm.clone(), value)];
    }
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
    let mut output = CompleteMultipartUploadOutput {
        location: Some(format!("/{}/{}", input.bucket, input.key)),
        bucket: Some(input.bucket),
        key: Some(input.key),
        e_tag: Some(ETag::Strong(etag)),
        ..Default::default()
    };
    super::checksum::set_stored_checksums!(output, &object.extra.checksums);
    Ok(S3Response::new(output))
}

/// The checksum algorithm of upload `id`, if it was created with one.
fn upload_algorithm(
    backend: &Backend,
    id: &str,
    bucket: &str,
    key: &str,
) -> S3Result<Option<String>> {
    let uploads = backend.shared.uploads();
    let upload = uploads.get(id, bucket, key)?;
    Ok(upload.checksum.as_ref().map(|(a, _)| a.clone()))
}

/// A completed multipart object's checksum: of its whole body (`FULL_OBJECT`), or the
/// composite of its parts' (a part uploaded without one is computed from its bytes).
fn object_checksum(
    algorithm: &str,
    kind: &str,
    object: &crate::store::Object,
    part_sums: Vec<Option<String>>,
) -> Option<String> {
    if kind == super::checksum::FULL_OBJECT {
        return super::checksum::compute(algorithm, &object.data);
    }
    let mut start = 0usize;
    let mut sums = Vec::new();
    for (size, sum) in object.extra.parts.iter().zip(part_sums) {
        let end = start.checked_add(usize::try_from(*size).ok()?)?;
        let sum = match sum {
            Some(sum) => sum,
            None => super::checksum::compute(algorithm, object.data.get(start..end)?)?,
        };
        sums.push(sum);
        start = end;
    }
    super::checksum::composite(algorithm, &sums)
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
    let algorithm = upload_algorithm(backend, &input.upload_id, &input.bucket, &input.key)?;
    let sum = algorithm
        .as_deref()
        .and_then(|a| super::checksum::compute(a, &data));
    let md5 = {
        use md5::Digest as _;
        hex::encode(md5::Md5::digest(&data))
    };
    let etag = backend.shared.uploads().put_part_with_checksum(
        &input.upload_id,
        &input.bucket,
        &input.key,
        input.part_number,
        data,
        PartSums {
            md5,
            checksum: sum.clone(),
        },
    )?;
    let mut result = s3s::dto::CopyPartResult {
        e_tag: Some(ETag::Strong(etag)),
        last_modified: Some(timestamp(source.last_modified)),
        ..Default::default()
    };
    if let (Some(algorithm), Some(sum)) = (algorithm, sum) {
        super::checksum::set_checksum!(result, algorithm.as_str(), sum);
    }
    Ok(S3Response::new(s3s::dto::UploadPartCopyOutput {
        copy_part_result: Some(result),
        ..Default::default()
    }))
}
