//! Fork sets: N copy-on-write forks of a base bucket from one snapshot, made concurrently, each
//! with optional scoped credentials; partial failure is reported fork by fork.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use futures::stream::{self, StreamExt};
use tigris_core::BucketName;
use tigris_headers::SnapshotVersion;
use tigris_headers::prelude::*;
use tigris_iam::{Role, ScopedAccessKey};
use tracing::Instrument;

use crate::ambiguous::{self, Makes};
use crate::error::{Error, Leftover, Operation, Result, Step};
use crate::kit::AgentKit;
use crate::merge::{self, OnConflict};
use crate::types::Merge;
use crate::undo::{Undo, UndoLog, delete_for_good, delete_snapshot, force_delete};
use crate::validate;

/// The most forks one [`create_forks`](AgentKit::create_forks) call makes.
pub const MAX_FORKS: usize = 1000;

/// How many digits a snapshot version is assumed to have at most when the default fork names
/// are validated, before the snapshot (and so its version) exists.
///
/// Versions are nanosecond Unix timestamps: 19 digits until the year 2286.
pub const MAX_SNAPSHOT_VERSION_DIGITS: usize = 19;

/// Creates a set of forks of a base bucket; from [`AgentKit::create_forks`].
///
/// 1. Takes **one** snapshot of the base (which must have snapshots enabled), unless
///    [`from_snapshot`](Self::from_snapshot) names an existing one;
/// 2. creates the forks `{prefix}-0` to `{prefix}-{count-1}` from that snapshot,
///    [`concurrency`](Self::concurrency) at a time; the default prefix is
///    `{base}-fork-{snapshot version}`;
/// 3. with [`credentials`](Self::credentials), gives each fork its own access key, scoped to
///    that fork only, as part of making the fork.
///
/// Every fork name is validated before the first request. For the default prefix the version
/// is not known yet, so the names are checked as if it had [`MAX_SNAPSHOT_VERSION_DIGITS`]
/// digits: base names up to `63 - 26 - digits(count - 1)` characters fit (36 for up to 10
/// forks).
///
/// A fork that cannot be made is reported in [`ForkSet::failures`] and the others are still
/// made: the set is never silently shorter than asked. A fork whose credentials fail is
/// removed again and reported as a failure too (with a [`Leftover`] if it could not be
/// removed). If no fork at all can be made, the call fails and deletes the snapshot it took.
///
/// A fork's `CreateBucket` that fails ambiguously (a timeout, a connection lost after
/// sending, a server error) may have made the fork anyway: a `HeadBucket` checks, and a
/// bucket that is a fork of the base at the set's snapshot is force-deleted; that fork is a
/// failure like any other, with a [`Leftover::Bucket`] if the check or the delete failed. The
/// snapshot the set takes is sent without automatic retry; if its answer is lost, the base's
/// snapshots taken since are listed and reported as [`Leftover::Snapshot`]s (none: it is sent
/// again). See [the crate docs](crate#ambiguous-failures).
///
/// ```no_run
/// # async fn demo(kit: tigris_agent_kit::AgentKit) -> Result<(), tigris_agent_kit::Error> {
/// use tigris_agent_kit::Role;
///
/// let set = kit.create_forks().base("datasets").count(4).credentials(Role::Editor).send().await?;
/// for fork in set.forks() {
///     println!("agent {} works in {}", fork.index(), fork.bucket());
/// }
/// for failure in set.failures() {
///     eprintln!("fork {} failed: {}", failure.index(), failure.error());
/// }
/// set.teardown().await?;
/// # Ok(()) }
/// ```
///
/// The future is not cancel-safe: dropped half-way, what it created so far stays.
#[derive(Debug)]
#[must_use = "nothing is created until send() is awaited"]
pub struct CreateForks {
    kit: AgentKit,
    base: Option<String>,
    count: Option<usize>,
    prefix: Option<String>,
    snapshot: Option<String>,
    role: Option<Role>,
    expires_at: Option<SystemTime>,
    concurrency: Option<usize>,
}

impl CreateForks {
    pub(crate) fn new(kit: AgentKit) -> Self {
        Self {
            kit,
            base: None,
            count: None,
            prefix: None,
            snapshot: None,
            role: None,
            expires_at: None,
            concurrency: None,
        }
    }

    /// The bucket to fork (required); it must have snapshots enabled.
    pub fn base(mut self, base: impl AsRef<str>) -> Self {
        self.base = Some(base.as_ref().to_owned());
        self
    }

    /// How many forks to make (required), from 1 to [`MAX_FORKS`].
    pub fn count(mut self, count: usize) -> Self {
        self.count = Some(count);
        self
    }

    /// Names the forks `{prefix}-{i}` instead of `{base}-fork-{snapshot version}-{i}`.
    pub fn prefix(mut self, prefix: impl AsRef<str>) -> Self {
        self.prefix = Some(prefix.as_ref().to_owned());
        self
    }

    /// Forks from an existing snapshot of the base (a checkpoint) instead of taking a new
    /// one. The set then does not own the snapshot: teardown leaves it.
    pub fn from_snapshot(mut self, version: impl AsRef<str>) -> Self {
        self.snapshot = Some(version.as_ref().to_owned());
        self
    }

    /// Gives each fork its own access key with `role`, scoped to that fork only.
    pub fn credentials(mut self, role: Role) -> Self {
        self.role = Some(role);
        self
    }

    /// Makes the forks' credentials stop working at `expires_at` (rounded down to the second;
    /// it must be in the future). Requires [`credentials`](Self::credentials).
    pub fn credentials_expire_at(mut self, expires_at: SystemTime) -> Self {
        self.expires_at = Some(expires_at);
        self
    }

    /// How many forks to make at once for this call (at least 1); the kit's
    /// [`fork_concurrency`](AgentKit::fork_concurrency) unless set.
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = Some(concurrency);
        self
    }

    fn operation(&self) -> Operation {
        Operation::CreateForks {
            base: self.base.clone().unwrap_or_default(),
        }
    }

    /// Everything that can be checked before the first request.
    fn check(&self) -> Result<Checked> {
        let operation = self.operation();
        let raw = validate::required(&operation, "base", self.base.as_deref())?;
        let base = validate::bucket_name(&operation, "base bucket name", raw)?;
        let count = validate::required(&operation, "count", self.count)?;
        if !(1..=MAX_FORKS).contains(&count) {
            return Err(Error::invalid_input(
                operation,
                format!("the fork count must be between 1 and {MAX_FORKS}, not {count}"),
            ));
        }
        let concurrency = self.concurrency.unwrap_or(self.kit.fork_concurrency());
        if concurrency == 0 {
            return Err(Error::invalid_input(
                operation,
                "the concurrency must be at least 1",
            ));
        }
        validate::expiry(
            &operation,
            self.role.is_some(),
            self.expires_at,
            SystemTime::now(),
        )?;
        let snapshot = self
            .snapshot
            .as_deref()
            .map(|raw| {
                SnapshotVersion::new(raw).map_err(|e| {
                    Error::invalid_input(
                        operation.clone(),
                        format!("the snapshot version {raw:?} is invalid: {}", e.reason()),
                    )
                    .with_source(e)
                })
            })
            .transpose()?;
        let prefix = match (&self.prefix, &snapshot) {
            (Some(prefix), _) => prefix.clone(),
            (None, Some(version)) => default_prefix(&base, version.as_str()),
            (None, None) => {
                let longest = default_prefix(&base, &"9".repeat(MAX_SNAPSHOT_VERSION_DIGITS));
                let last = format!("{longest}-{}", count - 1);
                if last.len() > BucketName::MAX_LEN {
                    return Err(Error::invalid_input(
                        operation,
                        format!(
                            "the default fork names `{base}-fork-<snapshot version>-<i>` can be {} \
                             characters long, more than the {} a bucket name may have: give a \
                             shorter prefix",
                            last.len(),
                            BucketName::MAX_LEN
                        ),
                    ));
                }
                longest
            }
        };
        // Every name, not just the longest: a prefix can break other rules too.
        let names = fork_names(&operation, &prefix, count)?;
        let names_are_final = self.prefix.is_some() || snapshot.is_some();
        Ok(Checked {
            base,
            count,
            snapshot,
            names: names_are_final.then_some(names),
            concurrency,
        })
    }

    /// Validates the input, takes the snapshot, and creates the forks.
    ///
    /// # Errors
    /// - [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request: no
    ///   [`base`](Self::base) or [`count`](Self::count), an invalid base name, a count outside `1..=`[`MAX_FORKS`], a fork name that would be
    ///   invalid, a concurrency of 0, an invalid snapshot version, an expiry that is not in the
    ///   future or without credentials;
    /// - the snapshot's failure ([`Step::CreateSnapshot`](crate::Step::CreateSnapshot)), for
    ///   instance [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for an unknown base;
    /// - when no fork could be made: every fork's failure in
    ///   [`Error::failures`](crate::Error::failures), after deleting the snapshot the call took
    ///   (or listing it in [`Error::leftovers`](crate::Error::leftovers)).
    ///
    /// Forks that fail while others succeed are not an error: see [`ForkSet::failures`].
    ///
    /// # Cleanup
    /// The forks, their credentials and the snapshot stay until [`ForkSet::teardown`]. A failed
    /// call leaves nothing but its leftovers (a snapshot whose creation answer was lost is one,
    /// found by listing the base's snapshots).
    #[tracing::instrument(skip_all, fields(bucket = ?self.base, count = ?self.count))]
    pub async fn send(self) -> Result<ForkSet> {
        let checked = self.check()?;
        let operation = self.operation();
        let (snapshot, took_snapshot) = match checked.snapshot {
            Some(version) => (version, false),
            None => {
                let version =
                    crate::ambiguous::create_snapshot(&self.kit, &checked.base, None, &operation)
                        .await?;
                tracing::debug!(%version, "base snapshot taken");
                (version, true)
            }
        };
        let mut undo_snapshot = UndoLog::default();
        if took_snapshot {
            undo_snapshot.push(Undo::DeleteSnapshot {
                bucket: checked.base.clone(),
                version: snapshot.clone(),
            });
        }
        let names = match checked.names {
            Some(names) => names,
            None => {
                let prefix = default_prefix(&checked.base, snapshot.as_str());
                match fork_names(&operation, &prefix, checked.count) {
                    Ok(names) => names,
                    Err(err) => {
                        // Only a version longer than MAX_SNAPSHOT_VERSION_DIGITS gets here.
                        let leftovers = undo_snapshot.unwind(&self.kit, &operation).await;
                        return Err(err.with_leftovers(leftovers).rolled_back());
                    }
                }
            }
        };

        let plan = ForkPlan {
            kit: &self.kit,
            base: &checked.base,
            snapshot: &snapshot,
            role: self.role,
            expires_at: self.expires_at,
        };
        let mut results: Vec<Result<Fork, ForkFailure>> =
            stream::iter(names.into_iter().enumerate())
                .map(|(index, bucket)| {
                    let span = tracing::debug_span!("fork", index, bucket = %bucket);
                    plan.make_fork(index, bucket).instrument(span)
                })
                .buffer_unordered(checked.concurrency)
                .collect()
                .await;
        results.sort_by_key(|r| match r {
            Ok(fork) => fork.index,
            Err(failure) => failure.index,
        });
        let (mut forks, mut failures) = (Vec::new(), Vec::new());
        for result in results {
            match result {
                Ok(fork) => forks.push(fork),
                Err(failure) => failures.push(failure),
            }
        }
        tracing::debug!(made = forks.len(), failed = failures.len(), "forks created");

        if forks.is_empty() {
            let errors: Vec<Error> = failures.into_iter().map(|f| f.error).collect();
            let forks_remain = errors.iter().any(|e| has_bucket_leftover(e.leftovers()));
            let leftovers = if forks_remain {
                // A fork that could not be removed still reads through the snapshot.
                undo_snapshot.leftovers()
            } else {
                undo_snapshot.unwind(&self.kit, &operation).await
            };
            return Err(Error::aggregate(operation, errors, leftovers));
        }
        Ok(ForkSet {
            kit: self.kit,
            base: checked.base,
            snapshot,
            took_snapshot,
            forks,
            failures,
            concurrency: checked.concurrency,
            torn_down: AtomicBool::new(false),
        })
    }
}

/// The checked input of a [`CreateForks`].
struct Checked {
    base: BucketName,
    count: usize,
    snapshot: Option<SnapshotVersion>,
    /// The fork names, when they do not depend on a snapshot still to be taken.
    names: Option<Vec<BucketName>>,
    concurrency: usize,
}

fn default_prefix(base: &BucketName, version: &str) -> String {
    format!("{base}-fork-{version}")
}

fn fork_names(operation: &Operation, prefix: &str, count: usize) -> Result<Vec<BucketName>> {
    (0..count)
        .map(|i| validate::bucket_name(operation, "fork name", &format!("{prefix}-{i}")))
        .collect()
}

fn has_bucket_leftover(leftovers: &[Leftover]) -> bool {
    leftovers
        .iter()
        .any(|l| matches!(l, Leftover::Bucket { .. }))
}

/// What every fork of one call shares.
struct ForkPlan<'a> {
    kit: &'a AgentKit,
    base: &'a BucketName,
    snapshot: &'a SnapshotVersion,
    role: Option<Role>,
    expires_at: Option<SystemTime>,
}

impl ForkPlan<'_> {
    /// Makes one fork and its credentials, or nothing (or reports what is left).
    async fn make_fork(&self, index: usize, bucket: BucketName) -> Result<Fork, ForkFailure> {
        let operation = Operation::CreateFork {
            bucket: bucket.to_string(),
        };
        let request = self
            .kit
            .s3()
            .create_bucket()
            .bucket(bucket.as_str())
            .fork_of_snapshot(self.base, self.snapshot);
        let makes = Makes::Fork {
            base: self.base,
            snapshot: self.snapshot,
        };
        let created = ambiguous::create_bucket(
            self.kit,
            &operation,
            Step::CreateFork,
            &bucket,
            makes,
            request,
        )
        .await;
        if let Err(error) = created {
            tracing::debug!(kind = ?error.kind(), "fork failed");
            return Err(ForkFailure {
                index,
                bucket,
                error,
            });
        }
        let Some(role) = self.role else {
            return Ok(Fork {
                index,
                bucket,
                credentials: None,
            });
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
        match create.send().await {
            Ok(key) => Ok(Fork {
                index,
                bucket,
                credentials: Some(key),
            }),
            Err(err) => {
                let error = Error::from_iam(operation.clone(), Step::CreateCredentials, err);
                tracing::debug!(kind = ?error.kind(), "credentials failed; removing the fork");
                let mut log = UndoLog::default();
                log.push(Undo::DeleteBucket(bucket.clone()));
                let leftovers = log.unwind(self.kit, &operation).await;
                Err(ForkFailure {
                    index,
                    bucket,
                    error: error.with_leftovers(leftovers).rolled_back(),
                })
            }
        }
    }
}

/// One fork of a [`ForkSet`]: its bucket and optional scoped credentials.
///
/// `Debug` shows everything but the credentials' secret.
#[derive(Clone)]
pub struct Fork {
    index: usize,
    bucket: BucketName,
    credentials: Option<ScopedAccessKey>,
}

impl Fork {
    /// Its position in the set, from 0; the bucket name ends in `-{index}`.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The fork's bucket.
    pub fn bucket(&self) -> &BucketName {
        &self.bucket
    }

    /// Its credentials, scoped to this fork only, if they were asked for.
    pub fn credentials(&self) -> Option<&ScopedAccessKey> {
        self.credentials.as_ref()
    }
}

impl fmt::Debug for Fork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `ScopedAccessKey`'s own Debug redacts the secret.
        let Self {
            index,
            bucket,
            credentials,
        } = self;
        f.debug_struct("Fork")
            .field("index", index)
            .field("bucket", bucket)
            .field("credentials", credentials)
            .finish()
    }
}

/// A fork of a [`ForkSet`] that could not be made, and why.
///
/// Whatever it had created was removed again, except the
/// [`leftovers`](crate::Error::leftovers) of its error, which [`ForkSet::teardown`] retries.
#[derive(Debug)]
pub struct ForkFailure {
    index: usize,
    bucket: BucketName,
    error: Error,
}

impl ForkFailure {
    /// The position the fork would have had in the set.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The bucket name the fork would have had.
    pub fn bucket(&self) -> &BucketName {
        &self.bucket
    }

    /// What went wrong ([`Error::step`](crate::Error::step) says which step), and what is left.
    pub fn error(&self) -> &Error {
        &self.error
    }
}

/// Forks of one base bucket from one snapshot; made by [`AgentKit::create_forks`].
///
/// Holds the forks that were made and the [`failures`](Self::failures) of those that were not:
/// `forks().len() + failures().len()` is always the count asked for. Stays until
/// [`teardown`](Self::teardown); dropping the handle removes nothing (and logs a warning if it
/// was never torn down).
///
/// `Debug` shows everything but the credentials' secrets.
#[must_use = "the forks stay until teardown() removes them"]
pub struct ForkSet {
    kit: AgentKit,
    base: BucketName,
    snapshot: SnapshotVersion,
    took_snapshot: bool,
    forks: Vec<Fork>,
    failures: Vec<ForkFailure>,
    concurrency: usize,
    torn_down: AtomicBool,
}

impl ForkSet {
    /// The bucket the forks were made from.
    pub fn base(&self) -> &BucketName {
        &self.base
    }

    /// The snapshot of the base the forks were made from.
    pub fn snapshot(&self) -> &SnapshotVersion {
        &self.snapshot
    }

    /// Whether this set took the snapshot (and so deletes it on teardown), rather than
    /// forking from an existing one with [`CreateForks::from_snapshot`].
    pub fn took_snapshot(&self) -> bool {
        self.took_snapshot
    }

    /// The forks that were made, by index.
    pub fn forks(&self) -> &[Fork] {
        &self.forks
    }

    /// The forks that could not be made, by index.
    pub fn failures(&self) -> &[ForkFailure] {
        &self.failures
    }

    /// Whether every fork asked for was made.
    pub fn is_complete(&self) -> bool {
        self.failures.is_empty()
    }

    /// Removes the set, concurrently: for each fork, revokes its credentials, then
    /// force-deletes its bucket; retries removing what failed forks left behind; then, once no
    /// fork bucket remains, deletes the snapshot the set took of the base (one given with
    /// [`CreateForks::from_snapshot`] is left alone). The base bucket is never touched.
    ///
    /// Forks are deleted for good, as by [`Workspace::teardown`](crate::Workspace::teardown):
    /// a fork someone turned soft delete on for has it turned off first, so it does not stay
    /// restorable.
    ///
    /// Idempotent: what is already gone counts as removed, so calling it again after a
    /// failure, or twice, is safe. Every fork is attempted whatever happens to the others.
    ///
    /// # Errors
    /// One error gathering every failed step ([`Error::failures`](crate::Error::failures)) and
    /// everything still present ([`Error::leftovers`](crate::Error::leftovers)); the snapshot
    /// is among the leftovers while a fork bucket remains.
    #[tracing::instrument(skip_all, fields(bucket = %self.base, forks = self.forks.len()))]
    pub async fn teardown(&self) -> Result<()> {
        let operation = Operation::TeardownForks {
            base: self.base.to_string(),
        };
        self.teardown_as(operation).await
    }

    /// Starts promoting `winner`: merging it into the base, then tearing down the whole set.
    /// See [`Promote`].
    ///
    /// ```no_run
    /// # async fn demo(kit: tigris_agent_kit::AgentKit) -> Result<(), tigris_agent_kit::Error> {
    /// let set = kit.create_forks().base("datasets").count(4).send().await?;
    /// // ... the agents work; the second one did best ...
    /// let merged = set.promote(&set.forks()[1]).send().await?;
    /// for change in merged.diff().fork_changes() {
    ///     println!("{change}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn promote(&self, winner: &Fork) -> Promote<'_> {
        Promote {
            set: self,
            winner: winner.bucket.clone(),
            on_conflict: OnConflict::default(),
            page_size: None,
        }
    }

    /// [`teardown`](Self::teardown), with errors labelled by `operation`.
    async fn teardown_as(&self, operation: Operation) -> Result<()> {
        let jobs = self
            .forks
            .iter()
            .map(Job::Fork)
            .chain(self.failures.iter().map(Job::Failure));
        let mut results: Vec<(usize, Vec<Error>)> = stream::iter(jobs.enumerate())
            .map(|(i, job)| async move { (i, job.run(&self.kit).await) })
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        results.sort_by_key(|(i, _)| *i);
        let mut failures: Vec<Error> = results.into_iter().flat_map(|(_, e)| e).collect();
        let forks_remain = failures.iter().any(|e| has_bucket_leftover(e.leftovers()));

        let mut leftovers = Vec::new();
        if self.took_snapshot {
            let snapshot = Leftover::Snapshot {
                bucket: self.base.clone(),
                version: self.snapshot.clone(),
            };
            if forks_remain {
                leftovers.push(snapshot);
            } else if let Err(err) =
                delete_snapshot(&self.kit, &self.base, &self.snapshot, operation.clone()).await
            {
                failures.push(err.with_leftovers(vec![snapshot]));
            }
        }
        if failures.is_empty() && leftovers.is_empty() {
            self.torn_down.store(true, Ordering::Relaxed);
            tracing::debug!("fork set torn down");
            Ok(())
        } else {
            Err(Error::aggregate(operation, failures, leftovers))
        }
    }
}

/// Promotes the best fork of a set; from [`ForkSet::promote`].
///
/// 1. [Merges](crate::AgentKit::merge) the winner into the base: a diff, a refusal on
///    conflicts unless [`on_conflict`](Self::on_conflict) says
///    [`Overwrite`](OnConflict::Overwrite), a checkpoint of the base, the merge;
/// 2. [tears down](ForkSet::teardown) the set: every fork's credentials and bucket (the
///    winner's too: its changes are in the base now, and it reads through the set's snapshot),
///    what failed forks left, then the set's snapshot.
///
/// If step 1 fails, nothing of the set was touched (a merge whose response was lost keeps its
/// checkpoint, reported as a leftover), and promoting again is safe. If step 2 fails, the
/// error has the applied merge in [`Error::merge`] and what remains in
/// [`Error::leftovers`]; [`ForkSet::teardown`] retries it.
#[derive(Debug)]
#[must_use = "nothing is promoted until send() is awaited"]
pub struct Promote<'a> {
    set: &'a ForkSet,
    winner: BucketName,
    on_conflict: OnConflict,
    page_size: Option<i32>,
}

impl Promote<'_> {
    /// What to do with keys the base changed too; [`OnConflict::Refuse`] unless set.
    pub fn on_conflict(mut self, on_conflict: OnConflict) -> Self {
        self.on_conflict = on_conflict;
        self
    }

    /// The diff's listing page size, as [`DiffFork::page_size`](crate::DiffFork::page_size).
    pub fn page_size(mut self, keys: i32) -> Self {
        self.page_size = Some(keys);
        self
    }

    /// Merges the winner, then tears the set down; returns the merge.
    ///
    /// # Errors
    /// - [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request when
    ///   the winner is not a fork of this set, or for a page size below 1;
    /// - as [`MergeFork::send`](crate::MergeFork::send), with the set untouched;
    /// - as [`ForkSet::teardown`], with [`Error::merge`] set.
    #[tracing::instrument(skip_all, fields(base = %self.set.base, winner = %self.winner))]
    pub async fn send(self) -> Result<Merge> {
        let set = self.set;
        let operation = Operation::Promote {
            base: set.base.to_string(),
            fork: self.winner.to_string(),
        };
        if !set.forks.iter().any(|f| f.bucket == self.winner) {
            return Err(Error::invalid_input(
                operation,
                format!("{} is not a fork of this set", self.winner),
            ));
        }
        if self.page_size.is_some_and(|n| n < 1) {
            return Err(Error::invalid_input(
                operation,
                "the page size must be at least 1",
            ));
        }
        let merged = merge::merge(
            &set.kit,
            &operation,
            self.winner,
            self.on_conflict,
            self.page_size,
        )
        .await?;
        match set.teardown_as(operation).await {
            Ok(()) => Ok(merged),
            Err(err) => Err(err.with_merge(merged)),
        }
    }
}

/// One unit of a fork set's teardown.
enum Job<'a> {
    Fork(&'a Fork),
    Failure(&'a ForkFailure),
}

impl Job<'_> {
    /// Runs every step of the job; returns the failures, each with what it left.
    async fn run(self, kit: &AgentKit) -> Vec<Error> {
        let mut failures = Vec::new();
        match self {
            Job::Fork(fork) => {
                let operation = Operation::TeardownFork {
                    bucket: fork.bucket.to_string(),
                };
                if let Some(key) = &fork.credentials
                    && let Err(err) = kit.iam().revoke(key).await
                {
                    failures.push(Error::from_iam(
                        operation.clone(),
                        Step::RevokeCredentials,
                        err,
                    ));
                }
                if let Err(errors) = delete_for_good(kit, &fork.bucket, operation).await {
                    let leftover = Leftover::Bucket {
                        bucket: fork.bucket.clone(),
                    };
                    failures.extend(
                        errors
                            .into_iter()
                            .map(|e| e.with_leftovers(vec![leftover.clone()])),
                    );
                }
            }
            Job::Failure(failure) => {
                let operation = Operation::TeardownFork {
                    bucket: failure.bucket.to_string(),
                };
                let (mut iam, mut buckets) = (Vec::new(), Vec::new());
                for leftover in failure.error.leftovers() {
                    match leftover {
                        Leftover::Iam(l) => iam.push(l.clone()),
                        Leftover::Bucket { bucket } => buckets.push(bucket.clone()),
                        _ => {}
                    }
                }
                if !iam.is_empty()
                    && let Err(err) = kit.iam().clean_up(&iam).await
                {
                    failures.push(Error::from_iam(
                        operation.clone(),
                        Step::CleanUpCredentials,
                        err,
                    ));
                }
                for bucket in buckets {
                    if let Err(err) = force_delete(kit, &bucket, operation.clone()).await {
                        failures.push(err.with_leftovers(vec![Leftover::Bucket { bucket }]));
                    }
                }
            }
        }
        failures
    }
}

impl fmt::Debug for ForkSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            kit: _,
            base,
            snapshot,
            took_snapshot,
            forks,
            failures,
            concurrency,
            torn_down,
        } = self;
        f.debug_struct("ForkSet")
            .field("base", base)
            .field("snapshot", snapshot)
            .field("took_snapshot", took_snapshot)
            .field("forks", forks)
            .field("failures", failures)
            .field("concurrency", concurrency)
            .field("torn_down", &torn_down.load(Ordering::Relaxed))
            .finish()
    }
}

impl Drop for ForkSet {
    fn drop(&mut self) {
        if !self.torn_down.load(Ordering::Relaxed) && !self.forks.is_empty() {
            tracing::warn!(base = %self.base, forks = self.forks.len(), "fork set dropped without teardown; its forks, credentials and snapshot remain");
        }
    }
}

impl AgentKit {
    /// Starts creating [`count`](CreateForks::count) forks of a [`base`](CreateForks::base)
    /// bucket from one snapshot of it. See [`CreateForks`].
    pub fn create_forks(&self) -> CreateForks {
        CreateForks::new(self.clone())
    }
}

impl crate::kit::AsBucket for Fork {
    fn bucket(&self) -> &BucketName {
        Fork::bucket(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op() -> Operation {
        Operation::CreateForks {
            base: "base".into(),
        }
    }

    #[test]
    fn fork_names_count_from_zero() {
        let names = fork_names(&op(), "exp", 3).unwrap();
        let names: Vec<&str> = names.iter().map(BucketName::as_str).collect();
        assert_eq!(names, ["exp-0", "exp-1", "exp-2"]);
    }

    #[test]
    fn the_first_invalid_fork_name_is_reported() {
        let long = "p".repeat(61);
        // "{61}-9" fits in 63 characters, "{61}-10" does not.
        assert!(fork_names(&op(), &long, 10).is_ok());
        let err = fork_names(&op(), &long, 11).unwrap_err();
        assert!(err.to_string().contains(&format!("{long}-10")), "{err}");
        assert!(err.to_string().contains("3 to 63"), "{err}");
    }
}
