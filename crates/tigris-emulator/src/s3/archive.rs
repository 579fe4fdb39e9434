//! The archive tier (GLACIER): reads of an archived object answer 403 `InvalidObjectState`
//! until a RestoreObject's copy is ready; HeadObject reports the restore in `x-amz-restore`.
//! Readiness and expiry are judged by the emulator's clock (`Emulator::advance_clock`).

use super::*;
use crate::store::{ARCHIVE_CLASS, ArchiveRestore, ObjectExtra, RestoreState};
use s3s::dto::{RestoreObjectInput, RestoreObjectOutput, StorageClass};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const DAY_MS: u64 = 86_400_000;

/// Milliseconds since the Unix epoch (0 before it, saturating far after).
fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn now_ms(backend: &Backend) -> u64 {
    millis(backend.shared.clock().now())
}

/// GetObject's guard: an archived object not (or no longer) restored cannot be read.
pub(super) fn check_readable(backend: &Backend, extra: &ObjectExtra) -> S3Result<()> {
    match extra.restore_state(now_ms(backend)) {
        RestoreState::NotArchived | RestoreState::Restored { .. } => Ok(()),
        RestoreState::Archived | RestoreState::Ongoing => Err(custom_error(
            "InvalidObjectState",
            StatusCode::FORBIDDEN,
            "The operation is not valid for the object's storage class: restore the archived \
             object first (RestoreObject)"
                .to_owned(),
        )),
    }
}

/// The `x-amz-restore` value HeadObject answers, when a restore is in progress or its copy is
/// readable.
pub(super) fn restore_header(backend: &Backend, extra: &ObjectExtra) -> Option<String> {
    match extra.restore_state(now_ms(backend)) {
        RestoreState::Ongoing => Some("ongoing-request=\"true\"".to_owned()),
        RestoreState::Restored { expiry_ms } => {
            let expiry = UNIX_EPOCH + Duration::from_millis(expiry_ms);
            let date = super::extra::http_date(&timestamp(expiry))?;
            Some(format!("ongoing-request=\"false\", expiry-date=\"{date}\""))
        }
        RestoreState::NotArchived | RestoreState::Archived => None,
    }
}

/// The storage class a PutObject stores: `x-amz-storage-class`, else the bucket's default
/// tier; `None` for STANDARD.
pub(super) fn write_class(
    backend: &Backend,
    bucket: &str,
    requested: Option<&StorageClass>,
) -> S3Result<Option<String>> {
    let class = match requested {
        Some(c) => crate::store::settings::parse_storage_class(c.as_str())?,
        // A read: `store_applied`, so a PUT does not wait here for the commits in flight.
        None => backend
            .shared
            .store_applied()
            .bucket(bucket)?
            .settings
            .storage_class()
            .to_owned(),
    };
    Ok((class != "STANDARD").then_some(class))
}

/// Whether a RestoreObject restores an archived object: it names no `X-Tigris-Restore-Type`
/// (whatever its value, a request with one is a soft-delete restore). The one test the access
/// hook and the handler both decide by.
pub(crate) fn is_archive_restore(headers: &HeaderMap) -> bool {
    !headers.contains_key(crate::header::RESTORE_TYPE)
}

/// RestoreObject of an archived object (no `X-Tigris-Restore-Type`): 202 when a restore
/// starts, 200 when the copy is already readable (its expiry moves to `Days` from now), 409
/// `RestoreAlreadyInProgress` while one is under way. The copy is ready after the emulator's
/// restore delay ([`EmulatorBuilder::restore_delay`](crate::EmulatorBuilder::restore_delay))
/// and readable for `Days` days after that.
pub(super) fn restore_object(
    backend: &Backend,
    req: S3Request<RestoreObjectInput>,
) -> S3Result<S3Response<RestoreObjectOutput>> {
    let input = req.input;
    let days = input
        .restore_request
        .as_ref()
        .and_then(|r| r.days)
        .ok_or_else(|| {
            s3_error!(
                InvalidArgument,
                "RestoreRequest needs Days (how long the restored copy stays readable)"
            )
        })?;
    if days < 1 {
        return Err(s3_error!(
            InvalidArgument,
            "RestoreRequest Days must be at least 1"
        ));
    }
    let lifetime = u64::try_from(days).unwrap_or(0).saturating_mul(DAY_MS);
    let delay = u64::try_from(backend.shared.restore_delay.as_millis()).unwrap_or(u64::MAX);
    let mut store = backend.shared.store();
    let object = store.get(&input.bucket, &input.key, LIVE)?;
    if input
        .version_id
        .as_deref()
        .is_some_and(|v| !v.is_empty() && v != "null")
    {
        return Err(s3_error!(
            NotImplemented,
            "the emulator restores the live version of an archived object only (no versionId)"
        ));
    }
    let now = millis(backend.shared.clock().now());
    let (restore, status) = match object.extra.restore_state(now) {
        RestoreState::NotArchived => {
            return Err(custom_error(
                "InvalidObjectState",
                StatusCode::FORBIDDEN,
                format!(
                    "Restore is not allowed for the object's current storage class: only \
                     {ARCHIVE_CLASS} objects are restored"
                ),
            ));
        }
        RestoreState::Ongoing => {
            return Err(custom_error(
                "RestoreAlreadyInProgress",
                StatusCode::CONFLICT,
                "Object restore is already in progress".to_owned(),
            ));
        }
        RestoreState::Restored { .. } => (
            ArchiveRestore {
                ready_ms: object.extra.restore.map_or(now, |r| r.ready_ms),
                expiry_ms: now.saturating_add(lifetime),
            },
            StatusCode::OK,
        ),
        RestoreState::Archived => {
            let ready = now.saturating_add(delay);
            (
                ArchiveRestore {
                    ready_ms: ready,
                    expiry_ms: ready.saturating_add(lifetime),
                },
                StatusCode::ACCEPTED,
            )
        }
    };
    drop(object);
    // Journaled with the object (its extras) before it is applied.
    store.update_extra(&input.bucket, &input.key, |e| e.restore = Some(restore))?;
    // s3s answers RestoreObject 200 whatever the handler says; the server applies this.
    let mut resp = S3Response::new(RestoreObjectOutput::default());
    resp.extensions.insert(StatusOverride(status));
    Ok(resp)
}
