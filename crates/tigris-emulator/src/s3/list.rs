//! Object listings: ListObjects and ListObjectsV2.

use super::*;

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
        owner: bool,
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
                owner: owner.then(super::acl::owner),
                storage_class: Some(s3s::dto::ObjectStorageClass::from(
                    o.extra
                        .storage_class
                        .clone()
                        .unwrap_or_else(|| "STANDARD".to_owned()),
                )),
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
}

fn max_keys(m: Option<i32>) -> usize {
    m.map_or(1000, |m| m.clamp(0, 1000) as usize)
}

pub(super) async fn list_objects(
    backend: &Backend,
    req: S3Request<ListObjectsInput>,
) -> S3Result<S3Response<ListObjectsOutput>> {
    let input = &req.input;
    let enc = KeyEncoding::of(input.encoding_type.as_ref());
    let prefix = input.prefix.as_deref().unwrap_or("");
    // An empty delimiter is no delimiter, and is not echoed back.
    let delimiter = input.delimiter.as_deref().filter(|d| !d.is_empty());
    let query = ListQuery {
        prefix,
        delimiter,
        after: input.marker.as_deref(),
        max_keys: max_keys(input.max_keys),
        version: LIVE,
    };
    // ListObjects (v1) always names each object's owner.
    let page = backend.page(&input.bucket, &req.headers, &query, enc, true)?;
    // S3 returns NextMarker only when a delimiter is used; clients use the last key otherwise.
    let next_marker = enc.apply_opt(page.next.as_deref().filter(|_| delimiter.is_some()));
    Ok(S3Response::new(ListObjectsOutput {
        name: Some(input.bucket.clone()),
        // As S3: v1 echoes the prefix as given, and the marker (empty when none).
        prefix: Some(prefix.to_owned()),
        marker: Some(enc.apply(input.marker.as_deref().unwrap_or(""))),
        delimiter: enc.apply_opt(delimiter),
        max_keys: Some(query.max_keys as i32),
        is_truncated: Some(page.truncated),
        next_marker,
        contents: Some(page.contents),
        common_prefixes: Some(page.prefixes),
        encoding_type: input.encoding_type.clone(),
        ..Default::default()
    }))
}

pub(super) async fn list_objects_v2(
    backend: &Backend,
    req: S3Request<ListObjectsV2Input>,
) -> S3Result<S3Response<ListObjectsV2Output>> {
    if let Some(text) = header_str(&req.headers, header::QUERY) {
        return list_objects_v2_query(backend, &req.input, &req.headers, text);
    }
    if super::soft_delete::wants_view(&req.headers) {
        return super::soft_delete::list_deleted_v2(backend, &req.input);
    }
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
    let delimiter = input.delimiter.as_deref().filter(|d| !d.is_empty());
    let query = ListQuery {
        prefix,
        delimiter,
        after,
        max_keys: max_keys(input.max_keys),
        version: LIVE,
    };
    let owner = input.fetch_owner.unwrap_or(false);
    let page = backend.page(&input.bucket, &req.headers, &query, enc, owner)?;
    let key_count = (page.contents.len() + page.prefixes.len()) as i32;
    Ok(S3Response::new(ListObjectsV2Output {
        name: Some(input.bucket.clone()),
        prefix: Some(enc.apply(prefix)),
        delimiter: enc.apply_opt(delimiter),
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

/// ListObjectsV2 with `X-Tigris-Query`: the objects under the prefix that match the query, in
/// key order or by its `ORDER BY`, in pages of `max-keys`. Without `ORDER BY` a continuation
/// token is the last key returned, as in any listing; with it, the position in the ordered
/// result (so writes between pages can shift an ordered listing).
fn list_objects_v2_query(
    backend: &Backend,
    input: &ListObjectsV2Input,
    headers: &HeaderMap,
    text: &str,
) -> S3Result<S3Response<ListObjectsV2Output>> {
    use crate::store::query::{Field, Query, Subject};

    let query = Query::parse(text)
        .map_err(|e| s3_error!(InvalidArgument, "Invalid X-Tigris-Query: {e}"))?;
    if query.uses(Field::EventType) {
        return Err(s3_error!(
            InvalidArgument,
            "Invalid X-Tigris-Query: `Event-Type` exists only in notification filters"
        ));
    }
    if input.delimiter.is_some() {
        return Err(s3_error!(
            InvalidArgument,
            "X-Tigris-Query cannot be combined with a delimiter"
        ));
    }
    let bad_token = || {
        s3_error!(
            InvalidArgument,
            "The continuation token provided is incorrect"
        )
    };
    let token = input
        .continuation_token
        .as_deref()
        .map(|t| {
            hex::decode(t)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(bad_token)
        })
        .transpose()?;
    let ordered = query.order_by.is_some();
    let (after, offset) = match (&token, ordered) {
        (Some(t), true) => (
            input.start_after.as_deref(),
            t.strip_prefix('#')
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(bad_token)?,
        ),
        (Some(t), false) => (Some(t.as_str()), 0),
        (None, _) => (input.start_after.as_deref(), 0),
    };
    let prefix = input.prefix.as_deref().unwrap_or("");
    let max = max_keys(input.max_keys);
    let listing = backend.shared.store().list(
        &input.bucket,
        &ListQuery {
            prefix,
            delimiter: None,
            after,
            max_keys: usize::MAX,
            version: read_version(headers)?,
        },
    )?;
    fn subject((key, object): &(String, Arc<Object>)) -> Subject<'_> {
        Subject {
            key: key.as_str(),
            object: Some(object.as_ref()),
            event: None,
        }
    }
    let mut hits: Vec<_> = listing
        .objects
        .iter()
        .filter(|entry| query.matches(&subject(entry)))
        .collect();
    // A stable sort: ties stay in key order.
    hits.sort_by(|a, b| query.order(&subject(a), &subject(b)));
    let rest = hits.get(offset..).unwrap_or_default();
    let page = &rest[..rest.len().min(max)];
    let truncated = rest.len() > page.len();
    let next = match (truncated, page.last()) {
        (false, _) | (true, None) => None,
        (true, Some(_)) if ordered => Some(format!("#{}", offset + page.len())),
        (true, Some((key, _))) => Some(key.clone()),
    };
    let enc = KeyEncoding::of(input.encoding_type.as_ref());
    let contents: Vec<_> = page
        .iter()
        .map(|(k, o)| DtoObject {
            key: Some(enc.apply(k)),
            size: Some(o.size() as i64),
            e_tag: Some(ETag::Strong(o.etag.clone())),
            last_modified: Some(timestamp(o.last_modified)),
            ..DtoObject::default()
        })
        .collect();
    Ok(S3Response::new(ListObjectsV2Output {
        name: Some(input.bucket.clone()),
        prefix: Some(enc.apply(prefix)),
        start_after: enc.apply_opt(input.start_after.as_deref()),
        max_keys: Some(max as i32),
        key_count: Some(contents.len() as i32),
        is_truncated: Some(truncated),
        continuation_token: input.continuation_token.clone(),
        next_continuation_token: next.map(|m| hex::encode(m.as_bytes())),
        contents: Some(contents),
        encoding_type: input.encoding_type.clone(),
        ..Default::default()
    }))
}
