//! Bucket-creating `CreateBucket` requests whose failure is ambiguous: the request timed out,
//! the connection broke after it was sent, or the server failed, so the bucket may exist
//! although the call failed (a lost response). The bucket is then probed for and, if it is
//! there and is what the request makes, removed like any bucket the call created.
//!
//! With SDK retries on, a lost response usually reads as a conflict: the retry finds the bucket
//! the first attempt made (`409 BucketAlreadyExists` on Tigris, which answers that for your own
//! buckets too; `BucketAlreadyOwnedByYou` elsewhere). So every attempt is watched, not only
//! the last.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use aws_sdk_s3::config::interceptors::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_s3::error::{BoxError, DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_s3::operation::create_bucket::CreateBucketError;
use tigris_core::BucketName;
use tigris_core::error::{answer_may_have_applied, connector_may_have_applied};
use tigris_headers::SnapshotVersion;
use tigris_headers::bucket_info::BucketInfo;
use tigris_headers::create_bucket::CreateBucketOperation;
use tigris_headers::prelude::*;

use crate::error::{Error, Leftover, Operation, Result, Step};
use crate::kit::AgentKit;
use crate::undo::{Undo, UndoLog};

/// What a bucket-creating request makes, to tell it from a bucket that was there before.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Makes<'a> {
    /// A new bucket, with snapshots enabled or not.
    Bucket { snapshots: bool },
    /// A fork of `base` at `snapshot`.
    Fork {
        base: &'a BucketName,
        snapshot: &'a SnapshotVersion,
    },
}

impl Makes<'_> {
    /// Whether `info` describes a bucket this request could just have made. A bucket that has
    /// forks of its own is older than that.
    fn matches(self, info: &BucketInfo) -> bool {
        if info.is_fork_parent() {
            return false;
        }
        match self {
            Self::Bucket { snapshots } => {
                info.fork_parent().is_none() && info.snapshots_enabled() == snapshots
            }
            Self::Fork { base, snapshot } => {
                info.fork_parent() == Some(base) && info.fork_snapshot() == Some(snapshot)
            }
        }
    }
}

/// Sends `request`, which creates `bucket`; on an ambiguous failure, finds out whether the
/// bucket exists and removes it if so.
///
/// The error is always the request's own (`step`), with the bucket as a [`Leftover`] when the
/// probe or the removal failed, and marked rolled back when the bucket was found and removed.
pub(crate) async fn create_bucket(
    kit: &AgentKit,
    operation: &Operation,
    step: Step,
    bucket: &BucketName,
    makes: Makes<'_>,
    request: CreateBucketOperation,
) -> Result<()> {
    let (watch, attempts) = AttemptWatch::new();
    let Err(err) = request.interceptor(watch).send().await else {
        return Ok(());
    };
    let err = Error::from_s3(operation.clone(), step, err);
    if !attempts.may_have_applied() {
        return Err(err);
    }
    tracing::debug!(%bucket, "the request may have created the bucket; probing for it");
    Err(settle(kit, operation, bucket, makes, err).await)
}

/// Removes `bucket` if it exists and is what the failed request makes.
async fn settle(
    kit: &AgentKit,
    operation: &Operation,
    bucket: &BucketName,
    makes: Makes<'_>,
    err: Error,
) -> Error {
    match kit.s3().bucket_info().bucket(bucket).send().await {
        Ok(info) if makes.matches(&info) => {
            if matches!(makes, Makes::Bucket { .. }) && !is_empty(kit, bucket).await {
                // A bucket this call just made holds nothing yet: one with objects was there
                // before (the server failed before acting), and its data is never touched.
                tracing::debug!(%bucket, "a non-empty bucket by that name exists; left alone");
                return err;
            }
            let mut log = UndoLog::default();
            log.push(Undo::DeleteBucket(bucket.clone()));
            let leftovers = log.unwind(kit, operation).await;
            err.with_leftovers(leftovers).rolled_back()
        }
        Ok(info) => {
            // Not what the request makes, so not this call's: never delete it.
            tracing::debug!(%bucket, ?info, "a different bucket by that name exists; left alone");
            err
        }
        Err(probe) if probe.kind() == tigris_headers::ErrorKind::NotFound => {
            tracing::debug!(%bucket, "the bucket was not created");
            err
        }
        Err(probe) => {
            tracing::warn!(%bucket, error = %DisplayErrorContext(&probe), "could not find out whether the bucket was created; reporting it as a leftover");
            err.with_leftovers(vec![Leftover::Bucket {
                bucket: bucket.clone(),
            }])
        }
    }
}

/// Whether `bucket` holds no object; `false` when that cannot be found out, so that doubt
/// never leads to a delete.
async fn is_empty(kit: &AgentKit, bucket: &BucketName) -> bool {
    match kit
        .s3()
        .list_objects_v2()
        .bucket(bucket.as_str())
        .max_keys(1)
        .send()
        .await
    {
        Ok(page) => page.key_count().unwrap_or(0) == 0 && page.contents().is_empty(),
        Err(_) => false,
    }
}

/// What an [`AttemptWatch`] saw, shared with the code that sent the request.
#[derive(Debug, Default)]
struct Attempts {
    started: AtomicU32,
    finished: AtomicU32,
    may_have_applied: AtomicBool,
}

impl Attempts {
    /// Whether any attempt may have been carried out although it failed. An attempt that
    /// never finished (cut off by the operation timeout) counts as one.
    fn may_have_applied(&self) -> bool {
        self.may_have_applied.load(Ordering::SeqCst)
            || self.started.load(Ordering::SeqCst) > self.finished.load(Ordering::SeqCst)
    }
}

/// Classifies the outcome of every attempt of one `CreateBucket` request.
#[derive(Debug)]
struct AttemptWatch(Arc<Attempts>);

impl AttemptWatch {
    fn new() -> (Self, Arc<Attempts>) {
        let attempts = Arc::new(Attempts::default());
        (Self(Arc::clone(&attempts)), attempts)
    }
}

impl Intercept for AttemptWatch {
    fn name(&self) -> &'static str {
        "TigrisAgentKitAttemptWatch"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.started.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.finished.fetch_add(1, Ordering::SeqCst);
        let may_have_applied = match context.output_or_error() {
            Some(Err(err)) if err.is_timeout_error() => true,
            Some(Err(err)) => match (err.as_connector_error(), context.response()) {
                (Some(connector), _) => connector_may_have_applied(connector),
                (None, Some(response)) => {
                    let code = err
                        .as_operation_error()
                        .and_then(|e| e.downcast_ref::<CreateBucketError>())
                        .and_then(ProvideErrorMetadata::code);
                    answer_may_have_applied(response.status().as_u16(), code)
                }
                // Failed before anything was sent (signing, for instance).
                (None, None) => false,
            },
            Some(Ok(_)) | None => false,
        };
        if may_have_applied {
            self.0.may_have_applied.store(true, Ordering::SeqCst);
        }
        Ok(())
    }
}

/// How much earlier than the request's sending time a snapshot found by listing may say it was
/// taken (the service's clock may be behind the client's).
const SNAPSHOT_CLOCK_MARGIN: std::time::Duration = std::time::Duration::from_secs(60);

/// Takes a snapshot of `bucket` (named `name`, if given) without the SDK's automatic retry: a
/// retry after a lost response takes a second snapshot and leaves the first with a version
/// nobody knows. After a failure that may have taken it (a transient failure, or a 2xx without
/// the version) the bucket's snapshots taken since the request was sent (with that name, for a
/// named one) are listed: none means it is sent again, up to the client's retry attempts; some
/// are named in the error as [`Leftover::Snapshot`]s (one of them is this call's; another
/// may be a concurrent caller's), and a failed listing as a [`Leftover::MaybeSnapshot`].
pub(crate) async fn create_snapshot(
    kit: &AgentKit,
    bucket: &BucketName,
    name: Option<&str>,
    operation: &Operation,
) -> Result<SnapshotVersion> {
    let config = kit.s3().config();
    let attempts = config.retry_config().map_or(1, |r| r.max_attempts().max(1));
    let mut backoff = config
        .retry_config()
        .map_or(std::time::Duration::from_millis(100), |r| {
            r.initial_backoff()
        });
    let sleep = config.sleep_impl();
    let once = aws_sdk_s3::Client::from_conf(
        config
            .to_builder()
            .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
            .build(),
    );
    let mut attempt = 1;
    loop {
        let sent_at = std::time::SystemTime::now();
        let mut create = once.create_snapshot().bucket(bucket);
        if let Some(name) = name {
            create = create.name(name);
        }
        let err = match create.send().await {
            Ok(version) => return Ok(version),
            Err(err) => err,
        };
        let kind = err.kind();
        let ambiguous = matches!(
            kind,
            tigris_headers::ErrorKind::Transient | tigris_headers::ErrorKind::UnexpectedResponse
        );
        let err = Error::from_headers(operation.clone(), Step::CreateSnapshot, err);
        if ambiguous {
            let created_after = sent_at
                .checked_sub(SNAPSHOT_CLOCK_MARGIN)
                .unwrap_or(std::time::UNIX_EPOCH);
            match kit
                .s3()
                .list_snapshots()
                .bucket(bucket)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
            {
                Ok(all) => {
                    let found: Vec<Leftover> = all
                        .iter()
                        .filter(|s| s.created().is_none_or(|c| c >= created_after))
                        .filter(|s| name.is_none_or(|n| s.name() == Some(n)))
                        .map(|s| Leftover::Snapshot {
                            bucket: bucket.clone(),
                            version: s.version().clone(),
                        })
                        .collect();
                    if !found.is_empty() {
                        return Err(err.with_leftovers(found));
                    }
                    tracing::debug!("no snapshot was taken; the request may be sent again");
                }
                Err(list) => {
                    tracing::warn!(error = %DisplayErrorContext(&list), "could not list the snapshots to find one whose creation answer was lost");
                    return Err(err.with_leftovers(vec![Leftover::MaybeSnapshot {
                        bucket: bucket.clone(),
                        created_after,
                    }]));
                }
            }
        }
        if kind != tigris_headers::ErrorKind::Transient || attempt >= attempts {
            return Err(err);
        }
        attempt += 1;
        if let Some(sleep) = &sleep {
            aws_sdk_s3::config::AsyncSleep::sleep(sleep, backoff).await;
        }
        backoff = backoff
            .saturating_mul(2)
            .min(std::time::Duration::from_secs(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::error::ConnectorError;

    #[test]
    fn server_failures_may_have_applied_but_rejections_and_throttling_did_not() {
        assert!(answer_may_have_applied(500, Some("InternalError")));
        assert!(answer_may_have_applied(503, Some("ServiceUnavailable")));
        assert!(answer_may_have_applied(502, None));
        assert!(
            answer_may_have_applied(200, None),
            "a reply the SDK could not read"
        );
        assert!(!answer_may_have_applied(503, Some("SlowDown")));
        assert!(!answer_may_have_applied(429, None));
        assert!(!answer_may_have_applied(409, Some("BucketAlreadyExists")));
        assert!(!answer_may_have_applied(
            409,
            Some("BucketAlreadyOwnedByYou")
        ));
        assert!(!answer_may_have_applied(400, Some("InvalidBucketName")));
    }

    #[test]
    fn a_refused_connection_sent_nothing() {
        let refused = ConnectorError::io(Box::new(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        )));
        assert!(!connector_may_have_applied(&refused));
        let reset = ConnectorError::io(Box::new(std::io::Error::from(
            std::io::ErrorKind::ConnectionReset,
        )));
        assert!(connector_may_have_applied(&reset));
        let timeout =
            ConnectorError::timeout(Box::new(std::io::Error::from(std::io::ErrorKind::TimedOut)));
        assert!(connector_may_have_applied(&timeout));
        let user = ConnectorError::user("bad request".into());
        assert!(!connector_may_have_applied(&user));
    }
}
