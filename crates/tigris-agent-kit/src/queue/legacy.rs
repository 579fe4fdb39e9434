//! A task queue of a claim object per task, for the coordination benchmark only (feature
//! `bench-legacy-queue`, not part of the public API) as what [`TaskQueue`](super::TaskQueue)
//! is measured against: claims are found by listing the queue's prefixes, so a claim's cost
//! grows with everything ever pushed.
//! Producers push tasks, agents claim them with conditional writes, and a task is completed
//! exactly once.
//!
//! # Layout
//! Under the queue's prefix `p`:
//! - `p/tasks/{id}`: the task's payload, written once (`If-None-Match: *`);
//! - `p/claims/{id}`: the claim, a lease (see [`crate::lease`]) holding the claimant, the
//!   attempt count and the state (held, done, failed). The claim object is the truth: a claim
//!   is created with `If-None-Match: *`, taken over (when its TTL lapsed or it failed) and
//!   completed with `If-Match` on the ETag its holder last saw, and a completed claim is never
//!   taken again. So two agents never hold one task at once, a claimant whose claim lapsed and
//!   was taken over cannot complete it, and a task is completed exactly once;
//! - `p/done/{id}` and `p/retry/{id}`: hints, written after a completion or a failure, so a
//!   listing tells which tasks need no look at their claim. A hint that could not be written
//!   is repaired by the next agent that reads the claim.
//!
//! Delivery is at least once: a task whose claimant died is claimed again once its claim
//! lapses, with the attempt count one higher ([`ClaimedTask::attempt`]). Work a task does must
//! tolerate running twice; its completion cannot happen twice.
//!
//! # Waking idle agents
//! [`TaskQueue::claim`] answers `None` when nothing is claimable now; poll it again later, or
//! [set notifications](crate::AgentKit::set_notifications) on the bucket with a filter on the
//! queue's `tasks/` and `retry/` keys and claim when an event arrives (webhooks are at least
//! once and unordered: they only wake, the claim decides).

use std::collections::HashSet;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_s3::primitives::ByteStream;
use tigris_core::BucketName;

use crate::AgentKit;
use crate::cas::{self, DateCapture, Record, State};
use crate::error::{Error, Operation, Result, Step};
use crate::lease::{self, DEFAULT_LEASE_TTL, Refused};

/// Lost races after which [`TaskQueue::claim`] lists the queue again.
const MISSES_BEFORE_RELISTING: usize = 4;
/// Listings one [`TaskQueue::claim`] makes at most before answering `None`.
const MAX_LISTINGS_PER_CLAIM: usize = 8;

/// The longest task id, in bytes.
pub const MAX_TASK_ID_LEN: usize = 200;

/// Opens a claim-object-per-task queue; from [`builder`].
#[must_use = "call open() to get the TaskQueue"]
pub struct TaskQueueBuilder {
    kit: AgentKit,
    bucket: String,
    prefix: String,
    ttl: Duration,
    owner: Option<String>,
}

impl fmt::Debug for TaskQueueBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskQueueBuilder")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("ttl", &self.ttl)
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

/// Opens a claim-object-per-task queue under `prefix` in `bucket`.
pub fn builder(
    kit: &AgentKit,
    bucket: impl AsRef<str>,
    prefix: impl AsRef<str>,
) -> TaskQueueBuilder {
    TaskQueueBuilder::new(
        kit.clone(),
        bucket.as_ref().to_owned(),
        prefix.as_ref().to_owned(),
    )
}

impl TaskQueueBuilder {
    pub(crate) fn new(kit: AgentKit, bucket: String, prefix: String) -> Self {
        Self {
            kit,
            bucket,
            prefix,
            ttl: DEFAULT_LEASE_TTL,
            owner: None,
        }
    }

    /// How long a claim holds without a renewal (1 second to 1 day, default
    /// [`DEFAULT_LEASE_TTL`]): a claim whose claimant died is claimable again this long
    /// after its last renewal (up to 2 seconds more, see [`crate::lease`]).
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The claimant's name recorded in its claims (default: a random `agent-…` name).
    pub fn owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = Some(owner.into());
        self
    }

    /// Checks the settings; sends nothing.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a bad bucket name,
    /// prefix (at most 512 bytes, no control characters), owner or TTL.
    pub fn open(self) -> Result<TaskQueue> {
        let operation = Operation::ClaimTask {
            bucket: self.bucket.clone(),
            prefix: self.prefix.clone(),
        };
        let bucket = lease::parse_bucket(&operation, &self.bucket)?;
        if self.prefix.len() > 512 || self.prefix.chars().any(char::is_control) {
            return Err(Error::invalid_input(
                operation,
                "the queue prefix must be at most 512 bytes without control characters",
            ));
        }
        let owner = self
            .owner
            .unwrap_or_else(|| format!("agent-{}", &cas::new_token()[..12]));
        cas::check_owner_and_ttl(&operation, &owner, self.ttl)?;
        let mut prefix = self.prefix;
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        Ok(TaskQueue {
            kit: self.kit,
            bucket,
            prefix,
            ttl: self.ttl,
            owner,
            candidates: Mutex::new(Vec::new()),
            rng: Mutex::new(seed()),
        })
    }
}

/// One agent's handle on a task queue: push, claim, and the queue's status.
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
/// use tigris_agent_kit::queue::legacy;
/// let producer = legacy::builder(&kit, "fleet", "jobs").open()?;
/// producer.push_with_id("resize-1", b"photo-1.jpg".to_vec()).await?;
///
/// let agent = legacy::builder(&kit, "fleet", "jobs").owner("agent-1").open()?;
/// while let Some(task) = agent.claim().await? {
///     println!("{} (attempt {})", task.id(), task.attempt());
///     task.complete().await?;
/// }
/// assert!(agent.status().await?.is_drained());
/// # Ok(()) }
/// ```
pub struct TaskQueue {
    kit: AgentKit,
    bucket: BucketName,
    prefix: String,
    ttl: Duration,
    owner: String,
    /// Tasks the last listing found claimable, tried before listing again.
    candidates: Mutex<Vec<Candidate>>,
    rng: Mutex<u64>,
}

impl fmt::Debug for TaskQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskQueue")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("ttl", &self.ttl)
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// No claim yet.
    Fresh,
    /// A `retry/` hint: failed by its claimant.
    Retry,
    /// A claim whose TTL has lapsed by the listing's times.
    Stale,
}

#[derive(Debug, Clone)]
struct Candidate {
    id: String,
    kind: Kind,
}

/// Counts from one listing of the queue ([`TaskQueue::status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct QueueStatus {
    /// Tasks pushed.
    pub tasks: usize,
    /// Tasks with a `done/` hint: completed.
    pub done: usize,
    /// Tasks with a claim and no `done/` hint: being worked on, failed, or lapsed.
    pub claimed: usize,
    /// Tasks never claimed.
    pub unclaimed: usize,
}

impl QueueStatus {
    /// Whether every task pushed so far is completed.
    pub fn is_drained(&self) -> bool {
        self.done >= self.tasks
    }
}

/// A listing of one sub-prefix: ids with their `Last-Modified`, and the server's time.
struct Listed {
    ids: Vec<(String, SystemTime)>,
    now: SystemTime,
}

impl TaskQueue {
    /// The bucket the queue is in.
    pub fn bucket(&self) -> &BucketName {
        &self.bucket
    }

    /// The queue's prefix (with a trailing `/` unless empty).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The name this handle claims under.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    fn key(&self, kind: &str, id: &str) -> String {
        format!("{}{kind}/{id}", self.prefix)
    }

    fn claim_operation(&self) -> Operation {
        Operation::ClaimTask {
            bucket: self.bucket.to_string(),
            prefix: self.prefix.clone(),
        }
    }

    /// Pushes a task with a new id (time-ordered, unique) and returns the id.
    ///
    /// # Errors
    /// As [`push_with_id`](Self::push_with_id).
    pub async fn push(&self, payload: impl Into<Vec<u8>>) -> Result<String> {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let id = format!("{nanos:020}-{}", &cas::new_token()[..8]);
        self.push_with_id(&id, payload).await?;
        Ok(id)
    }

    /// Pushes a task under `id` (1 to [`MAX_TASK_ID_LEN`] bytes of `A-Z a-z 0-9 . _ -`),
    /// written with `If-None-Match: *`: pushing the same id twice is refused, so a producer
    /// may retry a push whose response was lost.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a bad id, before any
    /// request; [`ErrorKind::Conflict`](crate::ErrorKind::Conflict) when a task with that id
    /// exists with another payload; otherwise the request's failure.
    #[tracing::instrument(skip_all, fields(bucket = %self.bucket, id))]
    pub async fn push_with_id(&self, id: &str, payload: impl Into<Vec<u8>>) -> Result<()> {
        let key = self.key("tasks", id);
        let operation = Operation::PushTask {
            bucket: self.bucket.to_string(),
            key: key.clone(),
        };
        check_id(&operation, id)?;
        let payload = payload.into();
        let answer = self
            .kit
            .s3()
            .put_object()
            .bucket(self.bucket.as_str())
            .key(&key)
            .if_none_match("*")
            .body(ByteStream::from(payload.clone()))
            .send()
            .await;
        let err = match answer {
            Ok(_) => return Ok(()),
            Err(e) => Error::from_s3(operation.clone(), Step::WriteTask, e),
        };
        // Refused, or maybe applied: the task is there with this payload only if it is ours
        // (or an identical push, which is the same task).
        if err.kind() == crate::ErrorKind::PreconditionFailed || err.kind().is_retryable() {
            match self.read_task(&operation, id).await {
                Ok(Some(there)) if there == payload => return Ok(()),
                Ok(Some(_)) if err.kind() == crate::ErrorKind::PreconditionFailed => {
                    return Err(Error::lease(
                        crate::ErrorKind::Conflict,
                        operation,
                        Step::WriteTask,
                        None,
                        format!("task {id:?} was already pushed with another payload"),
                    ));
                }
                _ => {}
            }
        }
        Err(err)
    }

    async fn read_task(&self, operation: &Operation, id: &str) -> Result<Option<Vec<u8>>> {
        let answer = self
            .kit
            .s3()
            .get_object()
            .bucket(self.bucket.as_str())
            .key(self.key("tasks", id))
            .send()
            .await;
        match answer {
            Ok(out) => {
                let body = out.body.collect().await.map_err(|e| {
                    Error::transient(operation.clone(), Step::ReadTask).with_source(e)
                })?;
                Ok(Some(body.into_bytes().to_vec()))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(Error::from_s3(operation.clone(), Step::ReadTask, e)),
        }
    }

    async fn list(&self, operation: &Operation, kind: &str) -> Result<Listed> {
        let prefix = format!("{}{kind}/", self.prefix);
        let mut ids = Vec::new();
        let mut token = None;
        let dates = DateCapture::default();
        loop {
            let page = self
                .kit
                .s3()
                .list_objects_v2()
                .bucket(self.bucket.as_str())
                .prefix(&prefix)
                .set_continuation_token(token.take())
                .customize()
                .interceptor(dates.clone())
                .send()
                .await
                .map_err(|e| Error::from_s3(operation.clone(), Step::ListTasks, e))?;
            for object in page.contents() {
                let Some(id) = object.key().and_then(|k| k.strip_prefix(&prefix)) else {
                    continue;
                };
                let modified = object
                    .last_modified()
                    .and_then(|t| SystemTime::try_from(*t).ok())
                    .unwrap_or(SystemTime::UNIX_EPOCH);
                ids.push((id.to_owned(), modified));
            }
            match page.next_continuation_token() {
                Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_owned()),
                _ => break,
            }
        }
        Ok(Listed {
            ids,
            now: dates.server_now(),
        })
    }

    /// Lists the queue and counts its tasks (from the `done/` hints: a completion whose hint
    /// is not written yet counts as claimed).
    ///
    /// # Errors
    /// The listing's failure.
    pub async fn status(&self) -> Result<QueueStatus> {
        let operation = Operation::QueueStatus {
            bucket: self.bucket.to_string(),
            prefix: self.prefix.clone(),
        };
        let tasks = self.list(&operation, "tasks").await?;
        let claims = self.list(&operation, "claims").await?;
        let done = self.list(&operation, "done").await?;
        let done: HashSet<_> = done.ids.into_iter().map(|(id, _)| id).collect();
        let claimed: HashSet<_> = claims.ids.into_iter().map(|(id, _)| id).collect();
        let mut status = QueueStatus {
            tasks: tasks.ids.len(),
            ..QueueStatus::default()
        };
        for (id, _) in &tasks.ids {
            if done.contains(id) {
                status.done += 1;
            } else if claimed.contains(id) {
                status.claimed += 1;
            } else {
                status.unclaimed += 1;
            }
        }
        Ok(status)
    }

    async fn refill(&self, operation: &Operation) -> Result<Vec<Candidate>> {
        let tasks = self.list(operation, "tasks").await?;
        let claims = self.list(operation, "claims").await?;
        let done = self.list(operation, "done").await?;
        let retry = self.list(operation, "retry").await?;
        let done: HashSet<_> = done.ids.into_iter().map(|(id, _)| id).collect();
        let claimed: HashSet<_> = claims.ids.iter().map(|(id, _)| id.clone()).collect();
        let mut fresh = Vec::new();
        let mut again = Vec::new();
        for (id, _) in tasks.ids {
            if !done.contains(&id) && !claimed.contains(&id) {
                fresh.push(Candidate {
                    id,
                    kind: Kind::Fresh,
                });
            }
        }
        let retried: HashSet<_> = retry
            .ids
            .into_iter()
            .map(|(id, _)| id)
            .filter(|id| !done.contains(id))
            .collect();
        for id in &retried {
            again.push(Candidate {
                id: id.clone(),
                kind: Kind::Retry,
            });
        }
        for (id, modified) in claims.ids {
            if !done.contains(&id)
                && !retried.contains(&id)
                && cas::is_expired(modified, self.ttl, claims.now)
            {
                again.push(Candidate {
                    id,
                    kind: Kind::Stale,
                });
            }
        }
        // Shuffled, so that agents listing at once try different tasks; fresh tasks first
        // (they are popped from the end).
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        shuffle(&mut fresh, &mut rng);
        shuffle(&mut again, &mut rng);
        again.extend(fresh);
        Ok(again)
    }

    fn next_candidate(&self) -> Option<Candidate> {
        self.candidates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
    }

    /// Claims a task: the next one nobody holds, with a conditional write of its claim.
    /// `None` when nothing is claimable now (every task is done, or held by a claimant whose
    /// claim has not lapsed): try again later, or when a notification wakes the agent.
    ///
    /// # Errors
    /// A failed listing or request. A claim write whose outcome could not be read back names
    /// the claim object in [`Error::leftovers`]: if it was written, the task is claimable
    /// again after the TTL.
    #[tracing::instrument(skip_all, fields(bucket = %self.bucket, prefix = %self.prefix))]
    pub async fn claim(&self) -> Result<Option<ClaimedTask>> {
        let operation = self.claim_operation();
        // Relist after a few lost races: other agents took those candidates, and a fresh
        // listing costs less than trying a stale list to its end.
        let mut listings = 0;
        let mut misses = 0;
        let mut cut_short = false;
        loop {
            if misses >= MISSES_BEFORE_RELISTING && listings < MAX_LISTINGS_PER_CLAIM {
                self.candidates
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clear();
                misses = 0;
                cut_short = true;
            }
            let candidate = match self.next_candidate() {
                Some(candidate) => candidate,
                None if listings > 0 && !cut_short => return Ok(None),
                None if listings >= MAX_LISTINGS_PER_CLAIM => return Ok(None),
                None => {
                    let fresh = self.refill(&operation).await?;
                    listings += 1;
                    cut_short = false;
                    *self.candidates.lock().unwrap_or_else(|e| e.into_inner()) = fresh;
                    continue;
                }
            };
            match self.try_claim(&operation, &candidate).await? {
                Some(task) => return Ok(Some(task)),
                None => misses += 1,
            }
        }
    }

    async fn try_claim(
        &self,
        operation: &Operation,
        candidate: &Candidate,
    ) -> Result<Option<ClaimedTask>> {
        let id = &candidate.id;
        let claim_key = self.key("claims", id);
        let record = Record::new(&self.owner, self.ttl, 1);
        match lease::try_take(&self.kit, operation, &self.bucket, &claim_key, record).await? {
            Ok(taken) => {
                let payload = match self.read_task(operation, id).await {
                    Ok(Some(payload)) => payload,
                    // A claim (or retry hint) without its task: nothing to run; the claim
                    // lapses.
                    Ok(None) => return Ok(None),
                    Err(e) => {
                        return Err(e.with_leftovers(vec![crate::Leftover::Lease {
                            bucket: self.bucket.clone(),
                            key: claim_key,
                        }]));
                    }
                };
                if candidate.kind != Kind::Fresh || taken.record.attempt > 1 {
                    // The retry hint has served; a leftover one only costs a read.
                    let _ = self
                        .kit
                        .s3()
                        .delete_object()
                        .bucket(self.bucket.as_str())
                        .key(self.key("retry", id))
                        .send()
                        .await;
                }
                Ok(Some(ClaimedTask {
                    kit: self.kit.clone(),
                    bucket: self.bucket.clone(),
                    done_key: self.key("done", id),
                    retry_key: self.key("retry", id),
                    id: id.clone(),
                    claim_key,
                    payload,
                    record: taken.record,
                    etag: taken.etag,
                    sent: taken.sent,
                    previous_owner: taken.previous_owner,
                }))
            }
            Err(Refused::Done(_)) => {
                // Completed, but its hint is missing: repair it so listings skip the task.
                write_hint(&self.kit, &self.bucket, &self.key("done", id)).await;
                Ok(None)
            }
            Err(Refused::Held(_) | Refused::Raced(_)) => Ok(None),
        }
    }
}

async fn write_hint(kit: &AgentKit, bucket: &BucketName, key: &str) -> bool {
    let written = kit
        .s3()
        .put_object()
        .bucket(bucket.as_str())
        .key(key)
        .body(ByteStream::from_static(b""))
        .send()
        .await;
    if let Err(e) = &written {
        tracing::warn!(key, error = %aws_sdk_s3::error::DisplayErrorContext(e),
            "queue hint not written; the next agent reading the claim repairs it");
    }
    written.is_ok()
}

/// A task this agent holds the claim of; from [`TaskQueue::claim`].
///
/// [`complete`](Self::complete) or [`fail`](Self::fail) it, and [`renew`](Self::renew) the
/// claim while the work takes longer than the TTL. Dropping it leaves the claim to lapse, and
/// the task is claimed again with the attempt count one higher.
pub struct ClaimedTask {
    kit: AgentKit,
    bucket: BucketName,
    id: String,
    claim_key: String,
    done_key: String,
    retry_key: String,
    payload: Vec<u8>,
    record: Record,
    etag: String,
    sent: Instant,
    previous_owner: Option<String>,
}

impl fmt::Debug for ClaimedTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClaimedTask")
            .field("bucket", &self.bucket)
            .field("id", &self.id)
            .field("attempt", &self.record.attempt)
            .field("owner", &self.record.owner)
            .finish_non_exhaustive()
    }
}

impl ClaimedTask {
    /// The task's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The task's payload, as pushed.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// Which claim of the task this is: 1 for the first; higher after claimants died or
    /// failed it.
    pub fn attempt(&self) -> u32 {
        self.record.attempt
    }

    /// The claim object's key.
    pub fn claim_key(&self) -> &str {
        &self.claim_key
    }

    /// The claimant whose lapsed or failed claim this one took over.
    pub fn previous_owner(&self) -> Option<&str> {
        self.previous_owner.as_deref()
    }

    /// How long the claim certainly still holds (see [`Lease::valid_for`](crate::Lease::valid_for)).
    pub fn valid_for(&self) -> Duration {
        (self.sent + self.record.ttl).saturating_duration_since(Instant::now())
    }

    fn operation(&self, f: fn(String, String) -> Operation) -> Operation {
        f(self.bucket.to_string(), self.claim_key.clone())
    }

    async fn swap(&mut self, operation: &Operation, state: State, note: &str) -> Result<()> {
        let next = self.record.next(state, note);
        lease::renew_record(
            &self.kit,
            operation,
            &self.bucket,
            &self.claim_key,
            &mut self.record,
            &mut self.etag,
            &mut self.sent,
            next,
        )
        .await
    }

    /// Extends the claim by its TTL from now (`If-Match` on the claim's ETag).
    ///
    /// # Errors
    /// As [`Lease::renew`](crate::Lease::renew): a lost claim is [`Error::is_lease_lost`].
    pub async fn renew(&mut self) -> Result<()> {
        let operation = self.operation(|bucket, key| Operation::RenewClaim { bucket, key });
        self.swap(&operation, State::Held, "").await
    }

    /// Completes the task: marks the claim done with `If-Match` on its ETag, which succeeds
    /// for one claimant only and never after the claim was taken over. Then writes the
    /// `done/` hint.
    ///
    /// # Errors
    /// A lost claim ([`Error::is_lease_lost`]): the claim lapsed and another agent took the
    /// task over; this completion is refused, the other agent's counts. Otherwise the
    /// request's failure (a lost response is read back, so an applied completion is `Ok`).
    #[tracing::instrument(skip_all, fields(bucket = %self.bucket, id = %self.id))]
    pub async fn complete(mut self) -> Result<()> {
        let operation = self.operation(|bucket, key| Operation::CompleteTask { bucket, key });
        self.swap(&operation, State::Done, "").await?;
        write_hint(&self.kit, &self.bucket, &self.done_key).await;
        Ok(())
    }

    /// Gives the task up so that another agent can claim it at once (attempt + 1); `reason`
    /// is kept in the claim object.
    ///
    /// # Errors
    /// As [`complete`](Self::complete).
    #[tracing::instrument(skip_all, fields(bucket = %self.bucket, id = %self.id))]
    pub async fn fail(mut self, reason: &str) -> Result<()> {
        let operation = self.operation(|bucket, key| Operation::FailTask { bucket, key });
        let reason: String = reason.chars().take(512).collect();
        self.swap(&operation, State::Failed, &reason).await?;
        write_hint(&self.kit, &self.bucket, &self.retry_key).await;
        Ok(())
    }
}

fn check_id(operation: &Operation, id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= MAX_TASK_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && id != "."
        && id != "..";
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(
            operation.clone(),
            format!("a task id must be 1 to {MAX_TASK_ID_LEN} bytes of A-Z a-z 0-9 . _ -"),
        ))
    }
}

fn seed() -> u64 {
    let token = cas::new_token();
    u64::from_str_radix(&token[..16], 16).unwrap_or(0x9e37_79b9_7f4a_7c15) | 1
}

/// Fisher–Yates with xorshift64: enough to spread agents over candidates.
fn shuffle<T>(items: &mut [T], state: &mut u64) {
    for i in (1..items.len()).rev() {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        let j = (*state % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}
