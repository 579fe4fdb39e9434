//! Conditional writes: `If-Match` / `If-None-Match` on the written key (PutObject,
//! CompleteMultipartUpload, CopyObject's destination) and `x-amz-copy-source-if-*` on a copy's
//! source, checked against the store under the same lock as the write they guard, so two
//! conditional writes of one key can never both pass.

use std::time::{SystemTime, UNIX_EPOCH};

use http::HeaderMap;
use s3s::dto::{ETagCondition, Timestamp};
use s3s::{S3Error, S3Result, s3_error};

use crate::store::{LIVE, Object, Store, StoreError};

/// `If-Match` / `If-None-Match` on the key a request writes.
#[derive(Debug, Default, Clone)]
pub(crate) struct WriteCondition {
    pub(crate) if_match: Option<ETagCondition>,
    pub(crate) if_none_match: Option<ETagCondition>,
}

impl WriteCondition {
    /// Reads the conditions from the request headers (for operations whose s3s input does not
    /// carry them, such as CopyObject).
    pub(crate) fn from_headers(headers: &HeaderMap) -> S3Result<Self> {
        let parse = |name: &str| -> S3Result<Option<ETagCondition>> {
            headers
                .get(name)
                .map(|v| {
                    ETagCondition::parse_http_header(v.as_bytes())
                        .map_err(|_| s3_error!(InvalidArgument, "{name} is not an ETag or '*'"))
                })
                .transpose()
        };
        Ok(Self {
            if_match: parse("if-match")?,
            if_none_match: parse("if-none-match")?,
        })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.if_match.is_none() && self.if_none_match.is_none()
    }

    /// Whether a write may replace `current` (the live object, or none), as S3 answers:
    /// `If-None-Match` that matches ⇒ 412; `If-Match` that does not ⇒ 412, or 404 NoSuchKey
    /// when there is no object at all.
    pub(crate) fn check(&self, key: &str, current: Option<&Object>) -> S3Result<()> {
        if let Some(cond) = &self.if_none_match
            && current.is_some_and(|o| etag_matches(cond, &o.etag))
        {
            return Err(precondition_failed("If-None-Match", key));
        }
        if let Some(cond) = &self.if_match {
            let Some(object) = current else {
                return Err(s3_error!(
                    NoSuchKey,
                    "If-Match was given but the key does not exist: {key}"
                ));
            };
            if !etag_matches_strongly(cond, &object.etag) {
                return Err(precondition_failed("If-Match", key));
            }
        }
        Ok(())
    }
}

/// The conditions of a GET or HEAD, as S3 answers them: a failing `If-Match` is 412 (and a
/// passing one overrides a failing `If-Unmodified-Since`); a matching `If-None-Match` is 304
/// (and a non-matching one overrides a failing `If-Modified-Since`). Dates compare at the
/// one-second precision of HTTP dates.
pub(crate) fn check_read(
    object: &Object,
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
    if_modified_since: Option<&Timestamp>,
    if_unmodified_since: Option<&Timestamp>,
) -> S3Result<()> {
    let modified = seconds(object.last_modified);
    match if_match {
        Some(cond) if !etag_matches_strongly(cond, &object.etag) => {
            return Err(s3_error!(
                PreconditionFailed,
                "If-Match did not match the object's ETag"
            ));
        }
        Some(_) => {}
        None => {
            if if_unmodified_since.is_some_and(|t| modified > timestamp_seconds(t)) {
                return Err(s3_error!(
                    PreconditionFailed,
                    "The object was modified after If-Unmodified-Since"
                ));
            }
        }
    }
    let not_modified = match if_none_match {
        Some(cond) => etag_matches(cond, &object.etag),
        None => if_modified_since.is_some_and(|t| modified <= timestamp_seconds(t)),
    };
    if not_modified {
        // A 304 carries the ETag (and Last-Modified) a cache revalidates against.
        let mut err = s3_error!(NotModified, "Not Modified");
        let mut headers = HeaderMap::new();
        if let Ok(v) = http::HeaderValue::from_str(&format!("\"{}\"", object.etag)) {
            headers.insert(http::header::ETAG, v);
        }
        err.set_headers(headers);
        return Err(err);
    }
    Ok(())
}

/// `x-amz-copy-source-if-*` on a copy's source object.
#[derive(Debug, Default, Clone)]
pub(crate) struct SourceCondition {
    pub(crate) if_match: Option<ETagCondition>,
    pub(crate) if_none_match: Option<ETagCondition>,
    pub(crate) if_modified_since: Option<Timestamp>,
    pub(crate) if_unmodified_since: Option<Timestamp>,
}

impl SourceCondition {
    /// Whether `source` may be copied. As S3: a passing `if-match` overrides a failing
    /// `if-unmodified-since`, and a passing `if-none-match` overrides a failing
    /// `if-modified-since`. Dates compare at the one-second precision of HTTP dates.
    pub(crate) fn check(&self, key: &str, source: &Object) -> S3Result<()> {
        let modified = seconds(source.last_modified);
        let match_ok = self
            .if_match
            .as_ref()
            .map(|c| etag_matches_strongly(c, &source.etag));
        let none_match_ok = self
            .if_none_match
            .as_ref()
            .map(|c| !etag_matches(c, &source.etag));
        let unmodified_ok = self
            .if_unmodified_since
            .as_ref()
            .map(|t| modified <= timestamp_seconds(t));
        let modified_ok = self
            .if_modified_since
            .as_ref()
            .map(|t| modified > timestamp_seconds(t));
        if match_ok == Some(false) {
            return Err(precondition_failed("x-amz-copy-source-if-match", key));
        }
        if match_ok.is_none() && unmodified_ok == Some(false) {
            return Err(precondition_failed(
                "x-amz-copy-source-if-unmodified-since",
                key,
            ));
        }
        if none_match_ok == Some(false) {
            return Err(precondition_failed("x-amz-copy-source-if-none-match", key));
        }
        if none_match_ok.is_none() && modified_ok == Some(false) {
            return Err(precondition_failed(
                "x-amz-copy-source-if-modified-since",
                key,
            ));
        }
        Ok(())
    }
}

/// Writes `object` (or deletes, with `None`) at `key` if `condition` holds for the live object.
/// The caller's `&mut Store` is the store lock: the check and the write cannot interleave with
/// another writer, and the write itself goes through [`Store::write`] (and so the journal).
pub(crate) fn write_if(
    store: &mut Store,
    bucket: &str,
    key: &str,
    object: Option<Object>,
    condition: &WriteCondition,
) -> S3Result<u64> {
    check_live(store, bucket, key, condition)?;
    Ok(store.write(bucket, key, object)?)
}

/// Checks `condition` against the live object at `key`, without writing.
pub(crate) fn check_live(
    store: &Store,
    bucket: &str,
    key: &str,
    condition: &WriteCondition,
) -> S3Result<()> {
    if condition.is_empty() {
        return Ok(());
    }
    let current = match store.get(bucket, key, LIVE) {
        Ok(o) => Some(o),
        Err(StoreError::NoSuchKey(_)) => None,
        Err(e) => return Err(e.into()),
    };
    condition.check(key, current.as_deref())
}

/// The weak comparison (RFC 9110), which `If-None-Match` uses: `W/"x"` matches `"x"`.
pub(crate) fn etag_matches(condition: &ETagCondition, etag: &str) -> bool {
    match condition {
        ETagCondition::Any => true,
        ETagCondition::ETag(tag) => tag.value() == etag,
    }
}

/// The strong comparison, which `If-Match` uses (as S3 does): a weak tag `W/"x"` never
/// matches, whatever its value.
pub(crate) fn etag_matches_strongly(condition: &ETagCondition, etag: &str) -> bool {
    match condition {
        ETagCondition::Any => true,
        ETagCondition::ETag(tag) => tag.as_strong() == Some(etag),
    }
}

fn precondition_failed(header: &str, key: &str) -> S3Error {
    s3_error!(
        PreconditionFailed,
        "At least one of the pre-conditions you specified did not hold ({header}, key {key})"
    )
}

fn seconds(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn timestamp_seconds(t: &Timestamp) -> i64 {
    time::OffsetDateTime::from(t.clone()).unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use s3s::dto::ETag;

    fn obj(data: &'static str) -> Object {
        Object::new(Bytes::from_static(data.as_bytes()), None, Vec::new())
    }

    fn tag(o: &Object) -> ETagCondition {
        ETagCondition::ETag(ETag::Strong(o.etag.clone()))
    }

    #[test]
    fn if_none_match_star_passes_only_when_absent() {
        let c = WriteCondition {
            if_none_match: Some(ETagCondition::Any),
            ..Default::default()
        };
        assert!(c.check("k", None).is_ok());
        assert!(c.check("k", Some(&obj("a"))).is_err());
    }

    #[test]
    fn if_match_needs_the_current_etag_and_an_object() {
        let a = obj("a");
        let c = WriteCondition {
            if_match: Some(tag(&a)),
            ..Default::default()
        };
        assert!(c.check("k", Some(&a)).is_ok());
        assert!(c.check("k", Some(&obj("b"))).is_err());
        let missing = c.check("k", None).unwrap_err();
        assert_eq!(*missing.code(), s3s::S3ErrorCode::NoSuchKey);
    }

    #[test]
    fn if_match_compares_strongly_and_if_none_match_weakly() {
        let a = obj("a");
        let weak = ETagCondition::ETag(ETag::Weak(a.etag.clone()));
        let if_match = WriteCondition {
            if_match: Some(weak.clone()),
            ..Default::default()
        };
        assert!(if_match.check("k", Some(&a)).is_err());
        let if_none_match = WriteCondition {
            if_none_match: Some(weak),
            ..Default::default()
        };
        assert!(if_none_match.check("k", Some(&a)).is_err());
    }

    #[test]
    fn copy_source_if_match_overrides_a_failing_unmodified_since() {
        let a = obj("a");
        let past = Timestamp::from(UNIX_EPOCH);
        let c = SourceCondition {
            if_match: Some(tag(&a)),
            if_unmodified_since: Some(past.clone()),
            ..Default::default()
        };
        assert!(c.check("k", &a).is_ok());
        let only_date = SourceCondition {
            if_unmodified_since: Some(past),
            ..Default::default()
        };
        assert!(only_date.check("k", &a).is_err());
    }

    #[test]
    fn copy_source_modified_since_compares_whole_seconds() {
        let a = obj("a");
        let now = Timestamp::from(a.last_modified);
        let c = SourceCondition {
            if_modified_since: Some(now),
            ..Default::default()
        };
        assert!(c.check("k", &a).is_err());
    }
}
