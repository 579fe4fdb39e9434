//! Wire helpers shared by the operations: the bucket-name check, Tigris header names, and the
//! JSON readings of timestamps and fork lineage.

use std::time::SystemTime;

use serde_json::Value;
use tigris_headers::{BucketName, SnapshotVersion};

use crate::error::{Error, Operation, Result};
use crate::fork::ForkParent;

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

fn unexpected(operation: &Operation, reason: &'static str) -> Error {
    Error::unexpected_response(operation.clone(), reason)
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
