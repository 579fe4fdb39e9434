//! Leases: mutual exclusion between agents on Tigris's conditional writes.
//!
//! A lease is one small object (owner, token, TTL). [`LeaseBuilder::acquire`] creates it with
//! `If-None-Match: *`; [`Lease::renew`] rewrites and [`Lease::release`] deletes it with
//! `If-Match` on the ETag the holder last saw, so a holder that lost the lease cannot touch it.
//! Taking over a lapsed lease is itself an `If-Match` write on the lapsed holder's ETag: of two
//! agents that both find it lapsed, one wins.
//!
//! # Time
//! Whether a lease has lapsed is judged by the server's clock alone: the lease object's
//! `Last-Modified` (when its last write was applied) plus its TTL, against the `Date` of the
//! answer that read it. Both are whole seconds, so a lease is taken over no earlier than its TTL
//! after its last renewal and up to two seconds later (when an answer carries no `Date`, the
//! challenger's clock stands in, and the skew between the two clocks adds to that). Agents'
//! clocks never decide expiry; the holder counts its own validity on its monotonic clock from
//! the moment it *sent* the write that won ([`Lease::valid_for`]), which is never later than
//! the server applied it, so a holder that stops work when `valid_for` reaches zero never
//! overlaps a challenger unless the two clocks' rates differ.
//!
//! # Bucket types
//! Conditional writes from several regions are only serialised in single-region and
//! multi-region buckets; in a global bucket, writes from two regions to one key can both
//! succeed. Keep leases and queues in a single- or multi-region bucket when agents run in
//! several regions.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tigris_core::BucketName;
use tokio::sync::{oneshot, watch};

use crate::AgentKit;
use crate::cas::{self, Condition, Record, Slot, State, Written};
use crate::error::{Error, ErrorKind, Operation, Result, Step};
use crate::validate;

/// The TTL of a lease unless [`LeaseBuilder::ttl`] says otherwise.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(30);

/// The longest TTL a lease may have.
pub const MAX_TTL: Duration = cas::MAX_TTL;

/// Starts acquiring a lease; from [`AgentKit::lease`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let emu = tigris_emulator::Emulator::start().await?;
/// # let root = emu.root_credentials();
/// # let sdk = tigris_core::config::builder()
/// #     .endpoint_url(emu.endpoint())
/// #     .credentials(aws_sdk_s3::config::Credentials::new(
/// #         root.access_key_id(), root.secret_access_key(), None, None, "doc"))
/// #     .build();
/// # let kit = tigris_agent_kit::AgentKit::new(&sdk)?;
/// # kit.s3().create_bucket().bucket("fleet").send().await?;
/// use std::time::Duration;
///
/// let lease = kit.lease().bucket("fleet").key("leases/indexer").ttl(Duration::from_secs(60))
///     .owner("agent-3").acquire().await?;
/// // Only one agent gets here until the lease is released or lapses.
/// let second = kit.lease().bucket("fleet").key("leases/indexer").owner("agent-4").acquire().await;
/// assert_eq!(second.unwrap_err().lease_holder(), Some("agent-3"));
/// lease.release().await?;
/// # Ok(()) }
/// ```
#[must_use = "call acquire() to take the lease"]
pub struct LeaseBuilder {
    kit: AgentKit,
    bucket: Option<String>,
    key: Option<String>,
    ttl: Duration,
    owner: Option<String>,
}

impl fmt::Debug for LeaseBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LeaseBuilder")
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .field("ttl", &self.ttl)
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

impl LeaseBuilder {
    pub(crate) fn new(kit: AgentKit) -> Self {
        Self {
            kit,
            bucket: None,
            key: None,
            ttl: DEFAULT_LEASE_TTL,
            owner: None,
        }
    }

    /// The bucket the lease object lives in (required).
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = Some(bucket.as_ref().to_owned());
        self
    }

    /// The lease object's key (required): agents that name the same bucket and key contend
    /// for the same lease.
    pub fn key(mut self, key: impl AsRef<str>) -> Self {
        self.key = Some(key.as_ref().to_owned());
        self
    }

    /// How long the lease holds without a renewal: 1 second to 1 day, default
    /// [`DEFAULT_LEASE_TTL`]. Expiry is judged in whole seconds of the server's clock.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The holder's name, shown to agents that find the lease taken (default: a random
    /// `agent-…` name). 1 to 256 bytes, no control characters.
    pub fn owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = Some(owner.into());
        self
    }

    /// Takes the lease: creates the lease object if there is none, or takes it over if its
    /// holder's TTL has lapsed (by the server's clock), each a conditional write.
    ///
    /// A write whose response was lost is read back, so a retried or unanswered acquisition
    /// that did take the lease still returns it.
    ///
    /// # Errors
    /// - [`ErrorKind::InvalidInput`] for no [`bucket`](Self::bucket) or [`key`](Self::key), a
    ///   bad bucket name, key, owner or TTL, before any request;
    /// - [`ErrorKind::Conflict`] when another agent holds it (its name in
    ///   [`Error::lease_holder`]) or won the race to take it over;
    /// - otherwise the request's failure; when the outcome of a write could not be read back,
    ///   the lease object is named in [`Error::leftovers`].
    #[tracing::instrument(skip_all, fields(bucket = ?self.bucket, key = ?self.key))]
    pub async fn acquire(self) -> Result<Lease> {
        let operation = Operation::AcquireLease {
            bucket: self.bucket.clone().unwrap_or_default(),
            key: self.key.clone().unwrap_or_default(),
        };
        let raw_bucket = validate::required(&operation, "bucket", self.bucket)?;
        let key = validate::required(&operation, "key", self.key)?;
        let owner = self.owner.unwrap_or_else(default_owner);
        let bucket = parse_bucket(&operation, &raw_bucket)?;
        cas::check_key(&operation, &key, "lease key")?;
        cas::check_owner_and_ttl(&operation, &owner, self.ttl)?;
        let record = Record::new(&owner, self.ttl, 0);
        let taken = try_take(&self.kit, &operation, &bucket, &key, record)
            .await?
            .map_err(|refused| refused.into_error(&operation, &key))?;
        Ok(Lease {
            kit: self.kit,
            bucket,
            key,
            record: taken.record,
            etag: taken.etag,
            sent: taken.sent,
            previous_owner: taken.previous_owner,
        })
    }
}

/// What [`take`] won.
pub(crate) struct Taken {
    pub(crate) record: Record,
    pub(crate) etag: String,
    pub(crate) sent: Instant,
    pub(crate) previous_owner: Option<String>,
}

/// Why [`try_take`] did not take the record.
pub(crate) enum Refused {
    /// Held by someone and not lapsed.
    Held(cas::Seen),
    /// A completed task's claim: terminal.
    Done(cas::Seen),
    /// Someone else won the takeover, or the record kept changing.
    Raced(Option<cas::Seen>),
}

impl Refused {
    pub(crate) fn into_error(self, operation: &Operation, key: &str) -> Error {
        let (seen, why) = match &self {
            Refused::Held(seen) => (Some(seen), " and has not lapsed"),
            Refused::Done(seen) => (
                Some(seen),
                " and is done (a completed task is not claimable)",
            ),
            Refused::Raced(seen) => (seen.as_ref(), ", who took it over first"),
        };
        let reason = match seen {
            Some(seen) => format!("{key} is held by {:?}{why}", seen.record.owner),
            None => format!("{key} kept changing hands while this agent tried to take it"),
        };
        Error::lease(
            ErrorKind::Conflict,
            operation.clone(),
            Step::WriteLease,
            seen.map(|s| s.record.owner.clone()),
            reason,
        )
    }
}

/// Creates the object at `key`, or takes over the record there if it lapsed (or failed); the
/// record written counts the previous attempt + 1 when `record.attempt` is non-zero.
pub(crate) async fn try_take(
    kit: &AgentKit,
    operation: &Operation,
    bucket: &BucketName,
    key: &str,
    record: Record,
) -> Result<std::result::Result<Taken, Refused>> {
    let slot = Slot {
        s3: kit.s3(),
        bucket,
        key,
        operation,
    };
    // A few rounds: a lease released between our create and our read is created again.
    for _ in 0..3 {
        let seen = match slot.write(Condition::Absent, &record).await? {
            Written::Won { etag, sent } => {
                return Ok(Ok(Taken {
                    record,
                    etag,
                    sent,
                    previous_owner: None,
                }));
            }
            Written::Beaten(seen) => seen,
        };
        let Some(seen) = seen else { continue };
        if seen.record.state == State::Done {
            return Ok(Err(Refused::Done(seen)));
        }
        if seen.record.state != State::Failed && !seen.is_expired() {
            return Ok(Err(Refused::Held(seen)));
        }
        let mut next = record.clone();
        if record.attempt > 0 {
            next.attempt = seen.record.attempt + 1;
        }
        match slot.write(Condition::Etag(&seen.etag), &next).await? {
            Written::Won { etag, sent } => {
                tracing::debug!(previous = %seen.record.owner, "lapsed lease taken over");
                return Ok(Ok(Taken {
                    record: next,
                    etag,
                    sent,
                    previous_owner: Some(seen.record.owner),
                }));
            }
            Written::Beaten(Some(other)) => return Ok(Err(Refused::Raced(Some(other)))),
            Written::Beaten(None) => continue,
        }
    }
    Ok(Err(Refused::Raced(None)))
}

pub(crate) fn parse_bucket(operation: &Operation, bucket: &str) -> Result<BucketName> {
    bucket.parse().map_err(|e| {
        Error::invalid_input(operation.clone(), format!("bad bucket name: {e}")).with_source(e)
    })
}

fn default_owner() -> String {
    format!("agent-{}", &cas::new_token()[..12])
}

/// A held lease: the lease object at [`key`](Self::key) holds this holder's token until the
/// TTL after the last renewal.
///
/// Renew it before [`valid_for`](Self::valid_for) runs out (or hand it to a [`LeaseGuard`]),
/// release it when done. Dropping it without a release leaves the object to lapse after its
/// TTL, as when the agent dies.
pub struct Lease {
    kit: AgentKit,
    bucket: BucketName,
    key: String,
    record: Record,
    etag: String,
    sent: Instant,
    previous_owner: Option<String>,
}

impl fmt::Debug for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lease")
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .field("owner", &self.record.owner)
            .field("ttl", &self.record.ttl)
            .field("etag", &self.etag)
            .finish_non_exhaustive()
    }
}

impl Lease {
    /// The bucket the lease object is in.
    pub fn bucket(&self) -> &BucketName {
        &self.bucket
    }

    /// The lease object's key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The holder's name.
    pub fn owner(&self) -> &str {
        &self.record.owner
    }

    /// The lease's TTL.
    pub fn ttl(&self) -> Duration {
        self.record.ttl
    }

    /// The ETag of the lease object as this holder last wrote it: every renew and the release
    /// are conditioned on it.
    pub fn etag(&self) -> &str {
        &self.etag
    }

    /// The holder whose lapsed lease this one took over, if it did.
    pub fn previous_owner(&self) -> Option<&str> {
        self.previous_owner.as_deref()
    }

    /// How long the lease certainly still holds, counted on this machine's monotonic clock
    /// from when the last winning write was sent. Zero means: stop, the lease may be taken.
    pub fn valid_for(&self) -> Duration {
        (self.sent + self.record.ttl).saturating_duration_since(Instant::now())
    }

    fn operation_renew(&self) -> Operation {
        Operation::RenewLease {
            bucket: self.bucket.to_string(),
            key: self.key.clone(),
        }
    }

    /// Extends the lease by its TTL from now: rewrites the lease object with `If-Match` on
    /// [`etag`](Self::etag).
    ///
    /// # Errors
    /// A lost lease ([`Error::is_lease_lost`], [`ErrorKind::PreconditionFailed`]): another
    /// agent took it over after it lapsed (its name in [`Error::lease_holder`]), or it is gone.
    /// Otherwise the request's failure; the lease is still held at the old ETag (retry
    /// before [`valid_for`](Self::valid_for) runs out).
    #[tracing::instrument(skip_all, fields(bucket = %self.bucket, key = %self.key))]
    pub async fn renew(&mut self) -> Result<()> {
        let operation = self.operation_renew();
        let next = self.record.next(State::Held, "");
        renew_record(
            &self.kit,
            &operation,
            &self.bucket,
            &self.key,
            &mut self.record,
            &mut self.etag,
            &mut self.sent,
            next,
        )
        .await
    }

    /// Gives the lease up: deletes the lease object with `If-Match` on
    /// [`etag`](Self::etag), so a lease taken over in the meantime is left to its new holder.
    ///
    /// # Errors
    /// A lost lease ([`Error::is_lease_lost`]) when someone else holds it now (nothing was
    /// deleted). A failure whose outcome could not be read back names the lease object in
    /// [`Error::leftovers`]; it lapses by itself after the TTL.
    #[tracing::instrument(skip_all, fields(bucket = %self.bucket, key = %self.key))]
    pub async fn release(self) -> Result<()> {
        let operation = Operation::ReleaseLease {
            bucket: self.bucket.to_string(),
            key: self.key.clone(),
        };
        let slot = Slot {
            s3: self.kit.s3(),
            bucket: &self.bucket,
            key: &self.key,
            operation: &operation,
        };
        if slot.delete(&self.etag, &self.record).await? {
            return Ok(());
        }
        let seen = slot.read().await.ok().flatten();
        Err(cas::lost(
            operation,
            Step::DeleteLease,
            &self.key,
            seen.as_ref(),
        ))
    }

    /// Hands the lease to a background task that renews it every `every` (a third of the TTL
    /// is a good choice) and tells the holder when it is lost. Needs a Tokio runtime.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let emu = tigris_emulator::Emulator::start().await?;
    /// # let root = emu.root_credentials();
    /// # let sdk = tigris_core::config::builder()
    /// #     .endpoint_url(emu.endpoint())
    /// #     .credentials(aws_sdk_s3::config::Credentials::new(
    /// #         root.access_key_id(), root.secret_access_key(), None, None, "doc"))
    /// #     .build();
    /// # let kit = tigris_agent_kit::AgentKit::new(&sdk)?;
    /// # kit.s3().create_bucket().bucket("fleet").send().await?;
    /// use std::time::Duration;
    ///
    /// let lease = kit.lease().bucket("fleet").key("leases/leader").ttl(Duration::from_secs(30)).acquire().await?;
    /// let guard = lease.guard(Duration::from_secs(10));
    /// tokio::select! {
    ///     lost = guard.lost() => eprintln!("stop: {lost}"),
    ///     _ = async { /* the work the lease protects */ } => {}
    /// }
    /// guard.release().await?;
    /// # Ok(()) }
    /// ```
    pub fn guard(self, every: Duration) -> LeaseGuard {
        LeaseGuard::start(self, every)
    }
}

/// Renews `record` at `etag` with `next`, updating all three on success.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn renew_record(
    kit: &AgentKit,
    operation: &Operation,
    bucket: &BucketName,
    key: &str,
    record: &mut Record,
    etag: &mut String,
    sent: &mut Instant,
    next: Record,
) -> Result<()> {
    let slot = Slot {
        s3: kit.s3(),
        bucket,
        key,
        operation,
    };
    match slot.write(Condition::Etag(etag), &next).await? {
        Written::Won {
            etag: new_etag,
            sent: new_sent,
        } => {
            *record = next;
            *etag = new_etag;
            *sent = new_sent;
            Ok(())
        }
        Written::Beaten(seen) => Err(cas::lost(
            operation.clone(),
            Step::WriteLease,
            key,
            seen.as_ref(),
        )),
    }
}

/// What a [`LeaseGuard`] last knew.
#[derive(Debug, Clone)]
enum Status {
    Held,
    Lost(Arc<Error>),
}

/// A lease renewed in the background; from [`Lease::guard`].
///
/// [`lost`](Self::lost) resolves when a renewal finds the lease taken over, or when renewals
/// kept failing until the lease's [validity](Lease::valid_for) ran out. Dropping the guard stops
/// the renewals and leaves the lease to lapse; [`release`](Self::release) gives it up at once.
pub struct LeaseGuard {
    status: watch::Receiver<Status>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Option<Lease>>>,
    key: String,
}

impl fmt::Debug for LeaseGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LeaseGuard")
            .field("key", &self.key)
            .field("held", &self.is_held())
            .finish_non_exhaustive()
    }
}

impl LeaseGuard {
    fn start(mut lease: Lease, every: Duration) -> Self {
        let (tx, status) = watch::channel(Status::Held);
        let (stop, mut stopped) = oneshot::channel();
        let key = lease.key.clone();
        let every = every.max(Duration::from_millis(10));
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut stopped => return Some(lease),
                    () = tokio::time::sleep(every) => {}
                }
                match lease.renew().await {
                    Ok(()) => {}
                    Err(e) if e.is_lease_lost() => {
                        let _ = tx.send(Status::Lost(Arc::new(e)));
                        return None;
                    }
                    Err(e) if lease.valid_for().is_zero() => {
                        tracing::warn!(key = %lease.key, "lease lapsed while renewals failed");
                        let _ = tx.send(Status::Lost(Arc::new(e)));
                        return Some(lease);
                    }
                    Err(e) => tracing::debug!(error = %e, "lease renewal failed; retrying"),
                }
            }
        });
        Self {
            status,
            stop: Some(stop),
            task: Some(task),
            key,
        }
    }

    /// Whether the lease is still held as far as the guard knows.
    pub fn is_held(&self) -> bool {
        matches!(*self.status.borrow(), Status::Held)
    }

    /// Resolves when the lease is lost, with the renewal's error (see
    /// [`Error::is_lease_lost`]; a lease that lapsed while renewals failed gives the last
    /// failure).
    pub async fn lost(&self) -> Arc<Error> {
        let mut status = self.status.clone();
        loop {
            if let Status::Lost(e) = &*status.borrow_and_update() {
                return Arc::clone(e);
            }
            if status.changed().await.is_err() {
                // The renewing task ended without a loss: it was stopped.
                std::future::pending::<()>().await;
            }
        }
    }

    /// Stops renewing and returns the lease if it is still held.
    pub async fn stop(mut self) -> Option<Lease> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.ok().flatten(),
            None => None,
        }
    }

    /// Stops renewing and releases the lease.
    ///
    /// # Errors
    /// As [`Lease::release`]; a lease the guard already lost is a lost-lease error.
    pub async fn release(self) -> Result<()> {
        let lost = match &*self.status.borrow() {
            Status::Lost(e) => Some(Arc::clone(e)),
            Status::Held => None,
        };
        let key = self.key.clone();
        match self.stop().await {
            // Lapsed while renewals failed but maybe not taken: release if still ours.
            Some(lease) => lease.release().await,
            None => Err(Error::lease(
                ErrorKind::PreconditionFailed,
                Operation::ReleaseLease {
                    bucket: lost
                        .as_ref()
                        .and_then(|e| e.bucket().map(str::to_owned))
                        .unwrap_or_default(),
                    key: key.clone(),
                },
                Step::WriteLease,
                lost.as_ref()
                    .and_then(|e| e.lease_holder().map(str::to_owned)),
                format!("the lease object {key} was lost before the release"),
            )),
        }
    }
}

impl Drop for LeaseGuard {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

impl AgentKit {
    /// Starts acquiring a lease: mutual exclusion between agents on a conditional write. See
    /// [`LeaseBuilder`] and [`crate::lease`].
    pub fn lease(&self) -> LeaseBuilder {
        LeaseBuilder::new(self.clone())
    }
}
