//! Object sub-resources and stored headers: tags (`x-amz-tagging`, `?tagging`), the stored
//! response headers (Cache-Control, Content-Disposition, Content-Encoding, Content-Language,
//! Expires) and the `response-*` overrides of a GET.

use http::HeaderName;
use s3s::dto::{
    DeleteBucketTaggingInput, DeleteBucketTaggingOutput, DeleteObjectTaggingInput,
    DeleteObjectTaggingOutput, GetBucketTaggingInput, GetBucketTaggingOutput,
    GetObjectTaggingInput, GetObjectTaggingOutput, PutBucketTaggingInput, PutBucketTaggingOutput,
    PutObjectTaggingInput, PutObjectTaggingOutput, Tag, Tagging,
};

use super::*;
use crate::store::ObjectExtra;

/// The headers S3 stores with an object and serves back on GET and HEAD.
pub(crate) const STORED_HEADERS: [&str; 5] = [
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "expires",
];

/// S3's limits on a tag set: 10 tags on an object (50 on a bucket), keys up to 128 and values
/// up to 256 characters, no key twice.
const MAX_OBJECT_TAGS: usize = 10;
const MAX_BUCKET_TAGS: usize = 50;
const MAX_TAG_KEY: usize = 128;
const MAX_TAG_VALUE: usize = 256;

/// The stored headers a write sent. `aws-chunked`, a transfer coding, is not kept as the
/// object's Content-Encoding; the other codings are kept as sent (`deflate, gzip` stays so).
pub(crate) fn stored_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    STORED_HEADERS
        .iter()
        .filter_map(|name| {
            let value = header_str(headers, name)?;
            let value = if *name == "content-encoding" {
                let codings: Vec<&str> = value.split(',').map(str::trim).collect();
                let kept: Vec<&str> = codings
                    .iter()
                    .copied()
                    .filter(|c| !c.eq_ignore_ascii_case("aws-chunked") && !c.is_empty())
                    .collect();
                if kept.is_empty() {
                    return None;
                }
                if kept.len() == codings.len() {
                    value.to_owned()
                } else {
                    kept.join(", ")
                }
            } else {
                value.to_owned()
            };
            Some(((*name).to_owned(), value))
        })
        .collect()
}

/// Checks a tag set against S3's limits.
pub(crate) fn validate_tags(tags: &[(String, String)], max: usize) -> S3Result<()> {
    if tags.len() > max {
        return Err(s3_error!(
            InvalidTag,
            "The TagSet has {} tags; at most {max} are allowed",
            tags.len()
        ));
    }
    for (i, (k, v)) in tags.iter().enumerate() {
        if k.is_empty() || k.chars().count() > MAX_TAG_KEY {
            return Err(s3_error!(
                InvalidTag,
                "A tag key must be 1 to {MAX_TAG_KEY} characters long"
            ));
        }
        if v.chars().count() > MAX_TAG_VALUE {
            return Err(s3_error!(
                InvalidTag,
                "A tag value must be at most {MAX_TAG_VALUE} characters long"
            ));
        }
        if tags[..i].iter().any(|(other, _)| other == k) {
            return Err(s3_error!(
                InvalidTag,
                "Cannot provide multiple Tags with the same key"
            ));
        }
    }
    Ok(())
}

/// Parses `x-amz-tagging` (a URL query string, `k1=v1&k2=v2`) and checks it.
pub(crate) fn tagging_header(headers: &HeaderMap) -> S3Result<Vec<(String, String)>> {
    let Some(raw) = header_str(headers, "x-amz-tagging") else {
        return Ok(Vec::new());
    };
    let decode = |s: &str| {
        urlencoding::decode(&s.replace('+', " "))
            .map(|c| c.into_owned())
            .map_err(|_| s3_error!(InvalidArgument, "x-amz-tagging is not valid URL encoding"))
    };
    let mut tags = Vec::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        tags.push((decode(k)?, decode(v)?));
    }
    validate_tags(&tags, MAX_OBJECT_TAGS)?;
    Ok(tags)
}

/// A tag set as S3 answers it: sorted by key.
fn tag_set(tags: &[(String, String)]) -> Vec<Tag> {
    let mut tags = tags.to_vec();
    tags.sort();
    tags.iter()
        .map(|(k, v)| Tag {
            key: Some(k.clone()),
            value: Some(v.clone()),
        })
        .collect()
}

fn from_tagging(tagging: Tagging, max: usize) -> S3Result<Vec<(String, String)>> {
    let tags: Vec<(String, String)> = tagging
        .tag_set
        .into_iter()
        .map(|t| (t.key.unwrap_or_default(), t.value.unwrap_or_default()))
        .collect();
    validate_tags(&tags, max)?;
    Ok(tags)
}

/// The response headers of a GET or HEAD for the object's stored headers, its tag count, and
/// the `response-*` query overrides (GET only) on top.
pub(crate) fn object_headers(
    extra: &ObjectExtra,
    overrides: &[(&'static str, Option<String>)],
) -> S3Result<HeaderMap> {
    let mut headers = HeaderMap::new();
    for (name, value) in &extra.headers {
        headers.insert(
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                s3_error!(InternalError, "a stored header name is not a header name")
            })?,
            hv(value)?,
        );
    }
    if !extra.tags.is_empty() {
        headers.insert("x-amz-tagging-count", hv(&extra.tags.len().to_string())?);
    }
    for (name, value) in overrides {
        if let Some(value) = value {
            headers.insert(*name, hv(value)?);
        }
    }
    Ok(headers)
}

/// `response-expires` as an HTTP date.
pub(crate) fn http_date(t: &Timestamp) -> Option<String> {
    let mut buf = Vec::new();
    t.format(s3s::dto::TimestampFormat::HttpDate, &mut buf)
        .ok()?;
    String::from_utf8(buf).ok()
}

pub(super) async fn put_object_tagging(
    backend: &Backend,
    req: S3Request<PutObjectTaggingInput>,
) -> S3Result<S3Response<PutObjectTaggingOutput>> {
    let input = req.input;
    let tags = from_tagging(input.tagging, MAX_OBJECT_TAGS)?;
    backend
        .shared
        .store()
        .update_extra(&input.bucket, &input.key, |e| e.tags = tags)?;
    Ok(S3Response::new(PutObjectTaggingOutput::default()))
}

pub(super) async fn get_object_tagging(
    backend: &Backend,
    req: S3Request<GetObjectTaggingInput>,
) -> S3Result<S3Response<GetObjectTaggingOutput>> {
    let input = req.input;
    let object = backend
        .shared
        .store()
        .get(&input.bucket, &input.key, LIVE)?;
    Ok(S3Response::new(GetObjectTaggingOutput {
        tag_set: tag_set(&object.extra.tags),
        ..Default::default()
    }))
}

pub(super) async fn delete_object_tagging(
    backend: &Backend,
    req: S3Request<DeleteObjectTaggingInput>,
) -> S3Result<S3Response<DeleteObjectTaggingOutput>> {
    let input = req.input;
    backend
        .shared
        .store()
        .update_extra(&input.bucket, &input.key, |e| e.tags.clear())?;
    Ok(S3Response::with_status(
        DeleteObjectTaggingOutput::default(),
        StatusCode::NO_CONTENT,
    ))
}

pub(super) async fn put_bucket_tagging(
    backend: &Backend,
    req: S3Request<PutBucketTaggingInput>,
) -> S3Result<S3Response<PutBucketTaggingOutput>> {
    let input = req.input;
    let tags = from_tagging(input.tagging, MAX_BUCKET_TAGS)?;
    backend
        .shared
        .store()
        .set_bucket_extra(&input.bucket, |e| e.tags = Some(tags))?;
    Ok(S3Response::new(PutBucketTaggingOutput::default()))
}

pub(super) async fn get_bucket_tagging(
    backend: &Backend,
    req: S3Request<GetBucketTaggingInput>,
) -> S3Result<S3Response<GetBucketTaggingOutput>> {
    let store = backend.shared.store();
    let bucket = store.bucket(&req.input.bucket)?;
    let Some(tags) = &bucket.extra.tags else {
        return Err(s3_error!(NoSuchTagSet, "The TagSet does not exist"));
    };
    Ok(S3Response::new(GetBucketTaggingOutput {
        tag_set: tag_set(tags),
    }))
}

pub(super) async fn delete_bucket_tagging(
    backend: &Backend,
    req: S3Request<DeleteBucketTaggingInput>,
) -> S3Result<S3Response<DeleteBucketTaggingOutput>> {
    backend
        .shared
        .store()
        .set_bucket_extra(&req.input.bucket, |e| e.tags = None)?;
    Ok(S3Response::with_status(
        DeleteBucketTaggingOutput::default(),
        StatusCode::NO_CONTENT,
    ))
}
