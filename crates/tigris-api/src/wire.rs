//! Wire helpers shared by the operations: the bucket-name and key checks, Tigris header
//! names, the settings `PATCH /{bucket}`, and the JSON readings of timestamps and fork
//! lineage.

use std::time::SystemTime;

use http::HeaderValue;
use serde_json::Value;
use tigris_core::transport::{SignedTransport, TigrisRequest, TigrisResponse};
use tigris_headers::{BucketName, SnapshotVersion};

use crate::error::{Error, Operation, Result};
use crate::list_forks::ForkParent;

/// `GET /` (JSON bucket listing): list the forks of the named bucket.
pub(crate) const FORK: &str = "x-tigris-fork";
/// CreateBucket on a fork's parent: merge that fork into it.
pub(crate) const MERGE_SOURCE_BUCKET: &str = "x-tigris-merge-source-bucket";
/// CreateBucket on a fork: move its base to the parent's present (`true`).
pub(crate) const REBASE: &str = "x-tigris-rebase";
/// The snapshot a merge or rebase made; HeadObject at a snapshot.
pub(crate) const SNAPSHOT_VERSION: &str = "x-tigris-snapshot-version";

/// Validates a bucket name given as a string, for an operation's error context. An unset
/// bucket (`""`) says which setter is missing.
pub(crate) fn bucket_name(raw: &str, operation: impl FnOnce() -> Operation) -> Result<BucketName> {
    if raw.is_empty() {
        return Err(Error::invalid_argument(
            operation(),
            "no bucket was given: set it with .bucket(..)",
        ));
    }
    BucketName::new(raw)
        .map_err(|e| Error::invalid_input(operation(), "the bucket name is invalid", e))
}

/// An answer that is not what the operation expects.
pub(crate) fn unexpected(operation: &Operation, reason: &'static str) -> Error {
    Error::unexpected_response(operation.clone(), reason)
}

/// Parses a JSON body; anything else is an unexpected response.
pub(crate) fn parse_json(body: &[u8], operation: &Operation) -> Result<Value> {
    serde_json::from_slice(body).map_err(|e| {
        unexpected(operation, "the response body is not the expected JSON").with_source(e)
    })
}

/// A header value from caller input; one a header cannot carry is invalid input.
pub(crate) fn header_value(value: &str, operation: &Operation) -> Result<HeaderValue> {
    HeaderValue::from_str(value).map_err(|e| {
        Error::invalid_input(
            operation.clone(),
            "the value is not a valid header value",
            e,
        )
    })
}

/// `PATCH /{bucket}` with a JSON body of settings (`cors`, `lifecycle_rules`,
/// `shadow_bucket`, ...): Tigris changes only the fields the body names.
pub(crate) async fn patch_bucket(
    transport: &SignedTransport,
    bucket: BucketName,
    body: Value,
    operation: &Operation,
) -> Result<()> {
    let request = TigrisRequest::new(http::Method::PATCH)
        .bucket(bucket)
        .header(
            http::header::ACCEPT,
            HeaderValue::from_static("application/json"),
        )
        .json(body.to_string())
        .idempotent(true);
    transport
        .send(&request)
        .await
        .map_err(|e| Error::from_sdk(operation.clone(), e))?;
    Ok(())
}

/// Reads the snapshot version a merge or rebase answers with.
pub(crate) fn snapshot_version(
    response: &TigrisResponse,
    operation: &Operation,
) -> Result<SnapshotVersion> {
    let raw = response
        .headers()
        .get(crate::wire::SNAPSHOT_VERSION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            unexpected(
                operation,
                "the response has no x-tigris-snapshot-version header",
            )
        })?;
    SnapshotVersion::new(raw).map_err(|e| {
        unexpected(
            operation,
            "the x-tigris-snapshot-version header is not a snapshot version",
        )
        .with_source(e)
    })
}

/// Reads an RFC 3339 timestamp; anything else is `None`, as the released clients treat it.
pub(crate) fn timestamp(value: Option<&Value>) -> Option<SystemTime> {
    let text = value?.as_str()?;
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(SystemTime::from)
}

/// Parses a `ForkInfo` block: (has children, parents). `Parents` may be null or absent.
pub(crate) fn parse_fork_info(
    info: Option<&Value>,
    operation: &Operation,
) -> Result<(bool, Vec<ForkParent>)> {
    let Some(info) = info.filter(|v| !v.is_null()) else {
        return Ok((false, Vec::new()));
    };
    let has_children = info
        .get("HasChildren")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let parents = match info.get("Parents") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(parents)) => parents
            .iter()
            .map(|p| parse_parent(p, operation))
            .collect::<Result<_>>()?,
        Some(_) => return Err(unexpected(operation, "ForkInfo.Parents is not a list")),
    };
    Ok((has_children, parents))
}

fn parse_parent(parent: &Value, operation: &Operation) -> Result<ForkParent> {
    let bucket = parent
        .get("BucketName")
        .and_then(Value::as_str)
        .ok_or_else(|| unexpected(operation, "a fork parent has no BucketName"))?;
    let bucket = BucketName::new(bucket).map_err(|e| {
        unexpected(operation, "a fork parent's BucketName is not a bucket name").with_source(e)
    })?;
    // `<version>` or `<version>; name=<name>`, as snapshot listings name snapshots.
    let label = parent.get("Snapshot").and_then(Value::as_str).unwrap_or("");
    let (version, name) = match label.split_once("; name=") {
        Some((v, n)) => (v, Some(n)),
        None => (label, None),
    };
    let snapshot = match version.trim() {
        "" => None,
        v => Some(SnapshotVersion::new(v).map_err(|e| {
            unexpected(
                operation,
                "a fork parent's Snapshot is not a snapshot version",
            )
            .with_source(e)
        })?),
    };
    Ok(ForkParent {
        bucket,
        snapshot,
        snapshot_name: name.filter(|n| !n.is_empty()).map(str::to_owned),
        forked_at: timestamp(parent.get("ForkCreatedAt")),
        snapshot_created_at: timestamp(parent.get("SnapshotCreatedAt")),
    })
}

/// Why an input was refused before any request: one sentence naming the value.
#[derive(Debug)]
pub(crate) struct Invalid(pub(crate) String);

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Invalid {}

/// The largest object key S3 and Tigris accept, in bytes.
pub(crate) const MAX_KEY_BYTES: usize = 1024;

/// Validates an object key: 1 to 1024 bytes.
pub(crate) fn object_key(raw: &str, operation: impl FnOnce() -> Operation) -> Result<()> {
    if raw.is_empty() {
        return Err(Error::invalid_argument(
            operation(),
            "no key was given: set it with .key(..)",
        ));
    }
    if raw.len() > MAX_KEY_BYTES {
        return Err(Error::invalid_argument(
            operation(),
            "the key is longer than 1024 bytes",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn op() -> Operation {
        Operation::ListForks {
            bucket: "b1".into(),
        }
    }

    #[test]
    fn fork_info_reads_named_snapshots_and_timestamps() {
        let info = json!({"HasChildren": true, "Parents": [{"BucketName": "src",
            "ForkCreatedAt": "2026-01-02T03:04:05.678Z", "Snapshot": "17; name=v1",
            "SnapshotCreatedAt": "not a date"}]});
        let (children, parents) = parse_fork_info(Some(&info), &op()).unwrap();
        assert!(children);
        assert_eq!(parents[0].bucket().as_str(), "src");
        assert_eq!(parents[0].snapshot().map(SnapshotVersion::as_u64), Some(17));
        assert_eq!(parents[0].snapshot_name(), Some("v1"));
        assert!(parents[0].forked_at().is_some());
        assert_eq!(parents[0].snapshot_created_at(), None);
    }

    #[test]
    fn null_or_missing_fork_info_is_no_lineage() {
        for info in [None, Some(json!(null)), Some(json!({"Parents": null}))] {
            assert_eq!(
                parse_fork_info(info.as_ref(), &op()).unwrap(),
                (false, Vec::new())
            );
        }
    }

    #[test]
    fn a_malformed_parent_is_an_unexpected_response() {
        for info in [
            json!({"Parents": [{"Snapshot": "1"}]}),
            json!({"Parents": [{"BucketName": "Bad Name"}]}),
            json!({"Parents": [{"BucketName": "src", "Snapshot": "v1"}]}),
            json!({"Parents": "src"}),
        ] {
            let err = parse_fork_info(Some(&info), &op()).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::UnexpectedResponse, "{info}");
        }
    }
}
