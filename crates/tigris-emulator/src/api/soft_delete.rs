//! Soft delete's endpoints outside the S3 API: the deleted-bucket listing (`GET /?OnlyDeleted=
//! true`, JSON), restoring a bucket (`POST /{bucket}?restore`), and the `soft_delete` key of
//! `PATCH /{bucket}`. The S3-side parts (headers on CreateBucket, DeleteBucket, the listings,
//! RestoreObject and purge) are in `s3/soft_delete.rs`; the state is in `store/soft_delete.rs`.

use s3s::path::S3Path;
use s3s::{Body, S3Request, S3Response, S3Result, s3_error};
use serde_json::{Map, Value, json};

use crate::state::Shared;
use crate::store::{DEFAULT_RETENTION_DAYS, check_retention};

/// Deleted-bucket listing pages hold at most this many buckets.
const MAX_BUCKETS: usize = 10_000;

/// Faults and the policy check for a request named `op` on `path`.
fn admit(shared: &Shared, req: &S3Request<Body>, op: &str, path: &S3Path) -> S3Result<()> {
    let access_key = req
        .credentials
        .as_ref()
        .map(|c| c.access_key.clone())
        .unwrap_or_default();
    let bucket = match path {
        S3Path::Root => None,
        S3Path::Bucket { bucket } | S3Path::Object { bucket, .. } => Some(&**bucket),
    };
    if let Some((failure, _)) = shared.faults.on_request(op, bucket, &req.headers) {
        return Err(crate::http::auth::injected_error(&failure));
    }
    let peer = req
        .extensions
        .get::<crate::http::auth::PeerAddr>()
        .map(|p| p.0);
    crate::http::auth::authorize(shared, &access_key, op, path, &req.headers, peer)
}

/// Whether a request is the deleted-bucket listing.
pub(crate) fn is_deleted_listing(method: &http::Method, uri: &http::Uri) -> bool {
    method == http::Method::GET
        && uri.path() == "/"
        && uri.query().is_some_and(|q| {
            q.split('&').any(|p| {
                p.split_once('=')
                    .is_some_and(|(k, v)| k == "OnlyDeleted" && v.eq_ignore_ascii_case("true"))
            })
        })
}

fn query_value(uri: &http::Uri, key: &str) -> Option<String> {
    uri.query()?.split('&').find_map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        (k == key).then(|| urlencoding::decode(v).map_or_else(|_| v.to_owned(), |v| v.into_owned()))
    })
}

/// `GET /?OnlyDeleted=true[&max-buckets=N][&continuation-token=T]`: the soft-deleted buckets
/// still in their window, in name order, as Tigris's JSON bucket listing: `Name`,
/// `CreationDate` (the deletion), `InitialCreatedDate`, `SoftDeleteInfo {Enabled,
/// RetentionDays}`. Needs `s3:ListAllMyBuckets`.
pub(crate) fn list_deleted_buckets(
    shared: &Shared,
    req: &S3Request<Body>,
) -> S3Result<S3Response<Body>> {
    admit(shared, req, "ListDeletedBuckets", &S3Path::Root)?;
    let limit = match query_value(&req.uri, "max-buckets") {
        None => MAX_BUCKETS,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_BUCKETS).contains(n))
            .ok_or_else(|| {
                s3_error!(
                    InvalidArgument,
                    "max-buckets must be an integer from 1 to {MAX_BUCKETS}, got {v:?}"
                )
            })?,
    };
    let after = query_value(&req.uri, "continuation-token").filter(|t| !t.is_empty());
    let deleted = {
        let mut store = shared.store();
        store.expire()?;
        store.deleted_buckets()
    };
    let rest: Vec<_> = deleted
        .iter()
        .filter(|b| after.as_ref().is_none_or(|a| b.name.as_str() > a.as_str()))
        .collect();
    let truncated = rest.len() > limit;
    let page = &rest[..rest.len().min(limit)];
    let token = match (truncated, page.last()) {
        (true, Some(last)) => last.name.as_str(),
        _ => "",
    };
    let buckets: Vec<Value> = page
        .iter()
        .map(|b| {
            json!({
                "Name": b.name,
                "CreationDate": crate::http::routes::rfc3339(b.deleted_at),
                "InitialCreatedDate": crate::http::routes::rfc3339(b.created),
                "SoftDeleteInfo": {
                    "Enabled": true,
                    "RetentionDays": b.retention_days,
                },
            })
        })
        .collect();
    Ok(crate::http::routes::json_response(&json!({
        "ContinuationToken": token,
        "Buckets": { "Bucket": buckets },
    })))
}

/// `POST /{bucket}?restore`: makes a soft-deleted bucket live again with its objects. A live
/// bucket is `400 InvalidArgument`; an unknown or expired one `404 NoSuchBucket`. Needs
/// `s3:CreateBucket` on the bucket.
pub(crate) fn restore_bucket(
    shared: &Shared,
    req: &S3Request<Body>,
    bucket: &str,
) -> S3Result<S3Response<Body>> {
    let path = S3Path::Bucket {
        bucket: bucket.into(),
    };
    admit(shared, req, "RestoreBucket", &path)?;
    shared.store().restore_bucket(bucket)?;
    Ok(crate::http::routes::json_response(&json!({
        "Bucket": bucket,
        "Restore": "success",
    })))
}

/// The `soft_delete` key of a `PATCH /{bucket}` body, taken out of `settings` and checked:
/// `{"enabled": true[, "retention_days": 7..=90]}` (without a retention: the bucket's current
/// one, else 7) or `{"enabled": false}` (a retention with it is refused, as the released
/// clients do). `None` when the body has no `soft_delete`. `Some(None)` turns it off.
pub(crate) fn take_patch(
    settings: &mut Map<String, Value>,
    current: Option<u32>,
) -> S3Result<Option<Option<u32>>> {
    let Some(value) = settings.remove("soft_delete") else {
        return Ok(None);
    };
    let invalid = |m: String| s3_error!(InvalidArgument, "soft_delete: {m}");
    let Value::Object(o) = value else {
        return Err(invalid("must be an object".into()));
    };
    let enabled = o
        .get("enabled")
        .and_then(Value::as_bool)
        .ok_or_else(|| invalid("enabled must be true or false".into()))?;
    let days = match o.get("retention_days") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .and_then(|d| u32::try_from(d).ok())
                .ok_or_else(|| {
                    invalid(format!("retention_days must be a whole number, got {v}"))
                })?,
        ),
    };
    if let Some(other) = o.keys().find(|k| *k != "enabled" && *k != "retention_days") {
        return Err(invalid(format!("unknown field {other:?}")));
    }
    if !enabled {
        if days.is_some() {
            return Err(invalid(
                "retention_days only applies when enabling soft delete".into(),
            ));
        }
        return Ok(Some(None));
    }
    let days = days.unwrap_or(current.unwrap_or(DEFAULT_RETENTION_DAYS));
    check_retention(days)
        .map(|d| Some(Some(d)))
        .map_err(|e| invalid(e.0))
}

/// What the bucket metadata JSON says about soft delete.
pub(crate) fn metadata(retention_days: Option<u32>) -> Value {
    match retention_days {
        Some(days) => json!({ "enabled": true, "retention_days": days }),
        None => json!({ "enabled": false }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(body: Value, current: Option<u32>) -> S3Result<Option<Option<u32>>> {
        let Value::Object(mut m) = body else {
            unreachable!()
        };
        take_patch(&mut m, current)
    }

    #[test]
    fn patch_bodies_turn_soft_delete_on_and_off() {
        assert_eq!(take(json!({}), None).unwrap(), None);
        assert_eq!(
            take(
                json!({"soft_delete": {"enabled": true, "retention_days": 30}}),
                None
            )
            .unwrap(),
            Some(Some(30))
        );
        assert_eq!(
            take(json!({"soft_delete": {"enabled": true}}), Some(14)).unwrap(),
            Some(Some(14))
        );
        assert_eq!(
            take(json!({"soft_delete": {"enabled": true}}), None).unwrap(),
            Some(Some(7))
        );
        assert_eq!(
            take(json!({"soft_delete": {"enabled": false}}), Some(9)).unwrap(),
            Some(None)
        );
    }

    #[test]
    fn patch_bodies_out_of_range_or_conflicting_are_refused() {
        for bad in [
            json!({"soft_delete": {"enabled": true, "retention_days": 6}}),
            json!({"soft_delete": {"enabled": true, "retention_days": 91}}),
            json!({"soft_delete": {"enabled": true, "retention_days": -1}}),
            json!({"soft_delete": {"enabled": true, "retention_days": "7"}}),
            json!({"soft_delete": {"enabled": false, "retention_days": 7}}),
            json!({"soft_delete": {"enabled": "yes"}}),
            json!({"soft_delete": {"enabled": true, "days": 7}}),
            json!({"soft_delete": true}),
        ] {
            assert!(take(bad.clone(), None).is_err(), "{bad}");
        }
    }

    mod no_panic {
        use super::*;
        use proptest::prelude::*;

        /// Any JSON a client could send, a few levels deep.
        fn json_value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                any::<u64>().prop_map(Value::from),
                any::<f64>().prop_map(Value::from),
                ".{0,12}".prop_map(Value::from),
            ];
            leaf.prop_recursive(3, 24, 4, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                    prop::collection::btree_map(
                        prop_oneof![
                            Just("enabled".to_owned()),
                            Just("retention_days".to_owned()),
                            ".{0,8}"
                        ],
                        inner,
                        0..4
                    )
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        proptest! {
            #[test]
            fn patch_values(value in json_value(), current in proptest::option::of(any::<u32>())) {
                let mut m = Map::new();
                m.insert("soft_delete".to_owned(), value);
                if let Ok(Some(Some(days))) = take_patch(&mut m, current) {
                    prop_assert!((7..=90).contains(&days) || current == Some(days));
                }
            }
        }
    }
}
