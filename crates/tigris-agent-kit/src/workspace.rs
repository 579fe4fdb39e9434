//! Workspaces: one bucket per agent, optionally with a TTL and scoped credentials, created
//! whole or not at all, and torn down idempotently.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter,
};
use tigris_core::BucketName;
use tigris_headers::prelude::*;
use tigris_iam::{Role, ScopedAccessKey};

use crate::ambiguous::{self, Makes};
use crate::error::{Error, Leftover, Operation, Result, Step};
use crate::kit::AgentKit;
use crate::undo::{Undo, UndoLog, delete_for_good};
use crate::validate;

/// The id of the lifecycle rule a workspace TTL is set with.
pub const TTL_RULE_ID: &str = "workspace-ttl";

/// Creates a workspace; from [`AgentKit::create_workspace`].
///
/// In order, each step only if asked for:
/// 1. `CreateBucket`, with snapshots enabled unless [`snapshots(false)`](Self::snapshots);
/// 2. [`ttl_days`](Self::ttl_days): `PutBucketLifecycleConfiguration` with one rule for the
///    whole bucket (id [`TTL_RULE_ID`], empty prefix filter, `Expiration.Days`, `Enabled`);
/// 3. [`credentials`](Self::credentials): an access key that may only act on this bucket, with
///    the role, named after the bucket (see [`tigris_iam::CreateScopedKey`]).
///
/// Everything is validated before the first request. If step 2 or 3 fails, the bucket is
/// force-deleted again (and `tigris-iam` removes what it made of the key), so a failed call
/// leaves nothing behind; what could not be removed is listed in
/// [`Error::leftovers`](crate::Error::leftovers).
///
/// If step 1 fails ambiguously (a timeout, a connection lost after sending, a server error:
/// the bucket may have been created and only the response lost), a `HeadBucket` checks for
/// the bucket; if it is there with the settings asked for, it is force-deleted too (see
/// [the crate docs](crate#ambiguous-failures)).
///
/// ```no_run
/// # async fn demo(kit: tigris_agent_kit::AgentKit) -> Result<(), tigris_agent_kit::Error> {
/// use std::time::{Duration, SystemTime};
/// use tigris_agent_kit::Role;
///
/// let workspace = kit
///     .create_workspace().bucket("agent-7-scratch")
///     .credentials(Role::Editor)
///     .credentials_expire_at(SystemTime::now() + Duration::from_secs(3600))
///     .send()
///     .await?;
/// let agent_credentials = workspace.credentials().map(|key| key.to_credentials());
/// // ... hand them to the agent ...
/// workspace.teardown().await?;
/// # drop(agent_credentials);
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "nothing is created until send() is awaited"]
pub struct CreateWorkspace {
    kit: AgentKit,
    bucket: Option<String>,
    snapshots: bool,
    ttl_days: Option<u32>,
    role: Option<Role>,
    expires_at: Option<SystemTime>,
}

impl CreateWorkspace {
    pub(crate) fn new(kit: AgentKit) -> Self {
        Self {
            kit,
            bucket: None,
            snapshots: true,
            ttl_days: None,
            role: None,
            expires_at: None,
        }
    }

    /// The bucket to create for the workspace (required).
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = Some(bucket.as_ref().to_owned());
        self
    }

    /// Whether the bucket can take snapshots (checkpoints) and be forked; on unless set to
    /// `false`. Tigris can only enable this when the bucket is created.
    pub fn snapshots(mut self, enabled: bool) -> Self {
        self.snapshots = enabled;
        self
    }

    /// Makes objects expire `days` days after they were last written (at least 1).
    ///
    /// Tigris documents that object expiration is not supported on snapshot-enabled buckets:
    /// for a TTL that Tigris applies, combine it with [`snapshots(false)`](Self::snapshots).
    /// The rule is still sent when snapshots are on; Tigris accepting it is not a promise that
    /// objects expire.
    pub fn ttl_days(mut self, days: u32) -> Self {
        self.ttl_days = Some(days);
        self
    }

    /// Creates an access key that may only act on this bucket, with `role`. It is revoked by
    /// [`Workspace::teardown`].
    pub fn credentials(mut self, role: Role) -> Self {
        self.role = Some(role);
        self
    }

    /// Makes the credentials stop working at `expires_at` (rounded down to the second; it
    /// must be in the future). Requires [`credentials`](Self::credentials).
    pub fn credentials_expire_at(mut self, expires_at: SystemTime) -> Self {
        self.expires_at = Some(expires_at);
        self
    }

    /// Validates the input, then creates the workspace, or nothing.
    ///
    /// # Errors
    /// - [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request: no
    ///   [`bucket`](Self::bucket) or an invalid bucket name, a TTL of 0 days (or more than `i32::MAX`), an expiry that is not
    ///   in the future or without credentials;
    /// - [`ErrorKind::Conflict`](crate::ErrorKind::Conflict) when the bucket exists already (it
    ///   is left alone);
    /// - otherwise the failed [`Step`](crate::Step), after rollback, with
    ///   [`leftovers`](crate::Error::leftovers) listing what could not be removed. A
    ///   `CreateBucket` that failed ambiguously keeps its own error (kind and code) even when
    ///   the probe found the bucket and removed it; a bucket that could not be checked or
    ///   removed is a [`Leftover::Bucket`].
    ///
    /// # Cleanup
    /// On error, nothing this call created remains except the leftovers (with credentials,
    /// an access key whose creation response was lost is one, as a
    /// [`tigris_iam::Leftover::MaybeAccessKey`]). On success, the workspace stays
    /// until [`Workspace::teardown`] (or the TTL, for its objects); dropping the handle removes
    /// nothing.
    #[tracing::instrument(skip_all, fields(bucket = ?self.bucket, snapshots = self.snapshots))]
    pub async fn send(self) -> Result<Workspace> {
        let operation = Operation::CreateWorkspace {
            bucket: self.bucket.clone().unwrap_or_default(),
        };
        let raw = validate::required(&operation, "bucket", self.bucket.as_deref())?;
        let bucket = validate::bucket_name(&operation, "bucket name", raw)?;
        if let Some(days) = self.ttl_days {
            if days == 0 {
                return Err(Error::invalid_input(
                    operation,
                    "the TTL must be at least 1 day",
                ));
            }
            if i32::try_from(days).is_err() {
                return Err(Error::invalid_input(operation, "the TTL is too long"));
            }
        }
        validate::expiry(
            &operation,
            self.role.is_some(),
            self.expires_at,
            SystemTime::now(),
        )?;
        if self.ttl_days.is_some() && self.snapshots {
            tracing::warn!(
                "a TTL on a snapshot-enabled bucket: Tigris documents that objects in such buckets do not expire"
            );
        }

        let create = self.kit.s3().create_bucket().bucket(bucket.as_str());
        let request = if self.snapshots {
            create.enable_snapshots()
        } else {
            create.customize()
        };
        let makes = Makes::Bucket {
            snapshots: self.snapshots,
        };
        ambiguous::create_bucket(
            &self.kit,
            &operation,
            Step::CreateBucket,
            &bucket,
            makes,
            request,
        )
        .await?;
        tracing::debug!("bucket created");
        let mut log = UndoLog::default();
        log.push(Undo::DeleteBucket(bucket.clone()));

        match self.configure(&bucket, &operation).await {
            Ok(credentials) => Ok(Workspace {
                kit: self.kit,
                bucket,
                snapshots: self.snapshots,
                ttl_days: self.ttl_days,
                credentials,
                torn_down: AtomicBool::new(false),
            }),
            Err(err) => {
                tracing::debug!(step = ?err.step(), "rolling back");
                let leftovers = log.unwind(&self.kit, &operation).await;
                Err(err.with_leftovers(leftovers).rolled_back())
            }
        }
    }

    /// The steps after the bucket exists: TTL, then credentials.
    async fn configure(
        &self,
        bucket: &BucketName,
        operation: &Operation,
    ) -> Result<Option<ScopedAccessKey>> {
        if let Some(days) = self.ttl_days {
            put_ttl(&self.kit, bucket, days, operation).await?;
        }
        let Some(role) = self.role else {
            return Ok(None);
        };
        let mut create = self
            .kit
            .iam()
            .create_scoped_key()
            .name(bucket.as_str())
            .bucket(bucket.clone())
            .role(role);
        if let Some(at) = self.expires_at {
            create = create.expires_at(at);
        }
        let key = create
            .send()
            .await
            .map_err(|e| Error::from_iam(operation.clone(), Step::CreateCredentials, e))?;
        tracing::debug!(access_key_id = key.access_key_id(), "credentials created");
        Ok(Some(key))
    }
}

/// Sets the one-rule lifecycle configuration that expires every object after `days`.
async fn put_ttl(
    kit: &AgentKit,
    bucket: &BucketName,
    days: u32,
    operation: &Operation,
) -> Result<()> {
    let days = i32::try_from(days)
        .map_err(|_| Error::invalid_input(operation.clone(), "the TTL is too long"))?;
    let unbuildable = |e| {
        Error::unexpected(
            operation.clone(),
            Step::PutLifecycle,
            "the lifecycle configuration could not be built",
        )
        .with_source(e)
    };
    let rule = LifecycleRule::builder()
        .id(TTL_RULE_ID)
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .expiration(LifecycleExpiration::builder().days(days).build())
        .build()
        .map_err(unbuildable)?;
    let config = BucketLifecycleConfiguration::builder()
        .rules(rule)
        .build()
        .map_err(unbuildable)?;
    kit.s3()
        .put_bucket_lifecycle_configuration()
        .bucket(bucket.as_str())
        .lifecycle_configuration(config)
        .send()
        .await
        .map_err(|e| Error::from_s3(operation.clone(), Step::PutLifecycle, e))?;
    tracing::debug!(days, "TTL set");
    Ok(())
}

/// A workspace: a bucket for one agent, with its optional scoped credentials.
///
/// Made by [`AgentKit::create_workspace`]. It stays until [`teardown`](Self::teardown);
/// dropping the handle removes nothing (and logs a warning if it was never torn down).
///
/// `Debug` shows everything but the credentials' secret.
#[must_use = "the workspace stays until teardown() removes it"]
pub struct Workspace {
    kit: AgentKit,
    bucket: BucketName,
    snapshots: bool,
    ttl_days: Option<u32>,
    credentials: Option<ScopedAccessKey>,
    torn_down: AtomicBool,
}

impl Workspace {
    /// The workspace's bucket.
    pub fn bucket(&self) -> &BucketName {
        &self.bucket
    }

    /// Whether the bucket was created with snapshots enabled (so it can be checkpointed and
    /// forked).
    pub fn snapshots_enabled(&self) -> bool {
        self.snapshots
    }

    /// The TTL set on the bucket's objects, in days.
    pub fn ttl_days(&self) -> Option<u32> {
        self.ttl_days
    }

    /// The scoped credentials, if they were asked for. Give the agent
    /// [`to_credentials()`](ScopedAccessKey::to_credentials).
    pub fn credentials(&self) -> Option<&ScopedAccessKey> {
        self.credentials.as_ref()
    }

    /// Removes the workspace: revokes the credentials (detach, delete policy, delete key), then
    /// force-deletes the bucket with its objects and snapshots.
    ///
    /// Gone for good, not restorable: if soft delete was turned on for the bucket, it is turned
    /// off first (a metadata read, then `PATCH /{bucket}`), since a force delete of a
    /// soft-delete bucket keeps it, with its objects and its name, for the retention window.
    /// If the delete then fails, soft delete is turned back on with its retention.
    ///
    /// Idempotent: what is already gone counts as removed, so calling it again after a
    /// failure, or twice, is safe. The bucket is deleted even if revoking failed; every failure
    /// is reported.
    ///
    /// # Errors
    /// One error gathering every failed step ([`Error::failures`](crate::Error::failures)) and
    /// everything still present ([`Error::leftovers`](crate::Error::leftovers)). A bucket that
    /// still has forks (restores of it, say) cannot be deleted:
    /// [`ErrorKind::Conflict`](crate::ErrorKind::Conflict), code `BucketHasForks` on the
    /// emulator. Nor can a bucket with delete protection on: teardown never turns protection
    /// off, so the credentials are revoked and the bucket is reported as a leftover
    /// ([`ErrorKind::Conflict`](crate::ErrorKind::Conflict), code `BucketProtected` on the
    /// emulator); turn protection off and tear down again to finish.
    #[tracing::instrument(skip_all, fields(bucket = %self.bucket))]
    pub async fn teardown(&self) -> Result<()> {
        let operation = Operation::TeardownWorkspace {
            bucket: self.bucket.to_string(),
        };
        let mut failures = Vec::new();
        if let Some(key) = &self.credentials
            && let Err(err) = self.kit.iam().revoke(key).await
        {
            failures.push(Error::from_iam(
                operation.clone(),
                Step::RevokeCredentials,
                err,
            ));
        }
        if let Err(errors) = delete_for_good(&self.kit, &self.bucket, operation.clone()).await {
            let leftover = Leftover::Bucket {
                bucket: self.bucket.clone(),
            };
            failures.extend(
                errors
                    .into_iter()
                    .map(|e| e.with_leftovers(vec![leftover.clone()])),
            );
        }
        if failures.is_empty() {
            self.torn_down.store(true, Ordering::Relaxed);
            tracing::debug!("workspace torn down");
            Ok(())
        } else {
            Err(Error::aggregate(operation, failures, Vec::new()))
        }
    }
}

impl fmt::Debug for Workspace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field fails to compile here until someone decides whether
        // it is secret. `ScopedAccessKey`'s own Debug redacts the secret.
        let Self {
            kit: _,
            bucket,
            snapshots,
            ttl_days,
            credentials,
            torn_down,
        } = self;
        f.debug_struct("Workspace")
            .field("bucket", bucket)
            .field("snapshots", snapshots)
            .field("ttl_days", ttl_days)
            .field("credentials", credentials)
            .field("torn_down", &torn_down.load(Ordering::Relaxed))
            .finish()
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        if !self.torn_down.load(Ordering::Relaxed) {
            tracing::warn!(bucket = %self.bucket, "workspace handle dropped without teardown; the bucket and its credentials remain");
        }
    }
}

impl AgentKit {
    /// Starts creating a workspace: a bucket for one agent. See [`CreateWorkspace`].
    pub fn create_workspace(&self) -> CreateWorkspace {
        CreateWorkspace::new(self.clone())
    }
}

impl crate::kit::AsBucket for Workspace {
    fn bucket(&self) -> &BucketName {
        Workspace::bucket(self)
    }
}
