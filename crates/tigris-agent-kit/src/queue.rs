//! A task queue on a key prefix whose claims cost the same at any depth: one index object
//! updated with compare-and-set and group commit, tasks in immutable batch objects, and every
//! task completed exactly once.
//!
//! # Layout
//! Under the queue's prefix `p`:
//! - `p/queue.json`, the index: the batches whose tasks are not all handed out yet (a key and
//!   two counters each, not the tasks), the tasks queued again after a failure or a lapsed
//!   claim, the claims held (claimant, token, attempt, time), and the dead letters. It is
//!   written only with `If-Match` on the ETag its writer read (`If-None-Match: *` for the
//!   first write), so every change is a compare-and-set on the whole queue;
//! - `p/batches/{key}`: the tasks of one push, ids and payloads, written once;
//! - `p/done/{id}`: a completed task's record (claimant, attempt, result), written after the
//!   completion was committed. Completed tasks are not in the index: they leave the hot path
//!   at once, and their records and payloads stay readable ([`TaskQueue::task`]).
//!
//! # Group commit
//! Handles that share a committer ([`TaskQueue::with_owner`] and clones) queue their
//! operations (claims, completions, failures, renewals, pushes); one of them reads the index
//! once, applies every queued operation to it and writes it back in one conditional `PUT`,
//! then answers them all. A commit beaten by another committer (another process, or a
//! handle opened separately) reads the index again and re-applies its operations. So a
//! claim costs one share of a `PUT` (and of a `GET` when another committer wrote in
//! between), plus the batch object's `GET` once per batch and process, whatever the
//! number of tasks queued or completed before: the index holds what is in flight, not the
//! history. Its size grows with the claims held, the retries, the dead letters, the batches
//! pending and the recent batch keys (at most 4,096): push many tasks with
//! [`TaskQueue::push_batch`], where a batch is one entry of about 60 bytes. Tasks pushed one
//! at a time are one entry each, so a deep queue of them makes every commit rewrite a larger
//! index (100,000 single pushes pending: about 6 MB); at 1,000 tasks per batch, 100,000 tasks
//! add about 9 KB.
//!
//! # Why this design
//! `tigris-bench --bin coordination` measures this queue beside two that list: a claim object
//! per task, found by listing four prefixes, and a naive list-then-put queue (figures in
//! `docs/benchmarks.md`). Both list the queue for every claim, so a claim's cost grows with
//! everything ever pushed and draining costs O(n²) requests: in the release run (32 and 128
//! agents, loopback and 20 ms per request) they make 9 to 427 claims per second at 10,000 tasks
//! and at most 133 at 100,000 (none at all within 15 seconds in six of the eight runs), while
//! this queue's requests per claim stay between 0.98 and 1.16 at every depth (one shared index
//! write per group of operations, one record per completion) and its claims per second at
//! 100,000 tasks are 0.73x to 1.08x those at 1,000. The other candidates were weighed, not
//! built: a cursor over time-ordered task ids avoids the listing but still needs one
//! conditional write per claim on a per-task object, with every agent racing for the head of
//! the cursor; a broker elected with a [`Lease`](crate::Lease) would batch claims across
//! processes, at the cost of a network hop the kit does not provide. One index object with
//! group commit (the shape of turbopuffer's object-storage queue: one JSON file,
//! compare-and-set, group commit, a stateless committer) takes a process's claims in one write;
//! processes that share no committer stay correct and only contend on the index's ETag.
//!
//! # Guarantees
//! - **Exactly-once completion.** A claim carries a token; a completion, failure or renewal
//!   is applied only while the index still holds the claim with that token. A claim that
//!   lapsed and was handed to another agent cannot be completed by its first claimant.
//! - **Lease expiry.** A claim not renewed within its TTL (plus 2 seconds, for the server
//!   clock's whole-second resolution) is queued again by the next commit, with the attempt
//!   count one higher. Time is the server's: each committer reads it from the `Date` of the
//!   index's responses.
//! - **At-least-once delivery.** A claimant that dies leaves its task to lapse and be claimed
//!   again; work must tolerate running twice, its completion cannot happen twice.
//! - **Order.** Tasks are handed out in the order their pushes were committed, and within a
//!   push in the order given (FIFO per queue). Tasks queued again (a failure, a lapsed claim,
//!   a re-queued dead letter) are handed out before fresh ones, in the order they were queued
//!   again. Completion order is the claimants' business.
//! - **Dead letters.** A task whose claim failed or lapsed for the
//!   [maximum attempts](TaskQueueBuilder::max_attempts) goes to the dead letters with its last
//!   error, listed by [`TaskQueue::dead_letters`] and queued again by [`TaskQueue::requeue`].
//!
//! # Waking idle agents
//! [`TaskQueue::claim`] answers `None` when nothing is claimable now; poll it again later, or
//! [set notifications](crate::AgentKit::set_notifications) on the bucket with a filter on the
//! index key and claim when an event arrives (webhooks are at least once and unordered: they
//! only wake, the claim decides).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_s3::primitives::ByteStream;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use tigris_core::BucketName;
use tigris_core::error::Classified;
use tokio::sync::{OnceCell, oneshot};

use crate::AgentKit;
use crate::cas::{self, DateCapture};
use crate::error::{Error, ErrorKind, Leftover, Operation, Result, Step};
use crate::lease::{self, DEFAULT_LEASE_TTL};
use crate::validate;

mod index;
#[cfg(feature = "bench-legacy-queue")]
#[doc(hidden)]
pub mod legacy;

use index::{Index, Op, Outcome};

/// The longest task id, in bytes.
pub const MAX_TASK_ID_LEN: usize = 200;
/// The most tasks one [`TaskQueue::push_batch`] takes.
pub const MAX_BATCH_TASKS: usize = 10_000;
/// The default [maximum attempts](TaskQueueBuilder::max_attempts) of a task.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;
/// Rounds a commit tries before it gives up (each beaten by another committer).
const MAX_ROUNDS: usize = 64;
/// Batch objects a committer keeps read.
const BATCH_CACHE: usize = 256;

/// Opens a task queue; from [`AgentKit::task_queue`].
#[must_use = "call open() to get the TaskQueue"]
pub struct TaskQueueBuilder {
    kit: AgentKit,
    bucket: Option<String>,
    prefix: String,
    ttl: Duration,
    owner: Option<String>,
    max_attempts: u32,
}

impl fmt::Debug for TaskQueueBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskQueueBuilder")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("ttl", &self.ttl)
            .field("owner", &self.owner)
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

impl TaskQueueBuilder {
    pub(crate) fn new(kit: AgentKit) -> Self {
        Self {
            kit,
            bucket: None,
            prefix: String::new(),
            ttl: DEFAULT_LEASE_TTL,
            owner: None,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }

    /// The bucket the queue's objects live in (required).
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = Some(bucket.as_ref().to_owned());
        self
    }

    /// The key prefix the queue's objects live under (default: the bucket's root); a `/` is
    /// added when it does not end with one. Handles that name the same bucket and prefix
    /// share one queue.
    pub fn prefix(mut self, prefix: impl AsRef<str>) -> Self {
        self.prefix = prefix.as_ref().to_owned();
        self
    }

    /// How long a claim holds without a renewal (1 second to 1 day, default
    /// [`DEFAULT_LEASE_TTL`]): a claim whose claimant died is claimable again this long
    /// after its last renewal (plus up to 2 seconds).
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The claimant's name recorded in its claims (default: a random `agent-…` name).
    pub fn owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = Some(owner.into());
        self
    }

    /// Claims a task gets before a failure or a lapse sends it to the dead letters (1 to
    /// 1,000, default [`DEFAULT_MAX_ATTEMPTS`]). Applied by this handle's commits: give every
    /// handle of a queue the same value.
    pub fn max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts;
        self
    }

    /// Checks the settings; sends nothing.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for no [`bucket`](Self::bucket), a bad bucket name,
    /// prefix (at most 512 bytes, no control characters), owner, TTL or maximum attempts.
    pub fn open(self) -> Result<TaskQueue> {
        let operation = Operation::ClaimTask {
            bucket: self.bucket.clone().unwrap_or_default(),
            prefix: self.prefix.clone(),
        };
        let raw = validate::required(&operation, "bucket", self.bucket.as_deref())?;
        let bucket = lease::parse_bucket(&operation, raw)?;
        if self.prefix.len() > 512 || self.prefix.chars().any(char::is_control) {
            return Err(Error::invalid_input(
                operation,
                "the queue prefix must be at most 512 bytes without control characters",
            ));
        }
        if !(1..=1_000).contains(&self.max_attempts) {
            return Err(Error::invalid_input(
                operation,
                "the maximum attempts must be 1 to 1,000",
            ));
        }
        let owner = self.owner.unwrap_or_else(default_owner);
        cas::check_owner_and_ttl(&operation, &owner, self.ttl)?;
        let mut prefix = self.prefix;
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        Ok(TaskQueue {
            shared: Arc::new(Shared {
                kit: self.kit,
                index_key: format!("{prefix}queue.json"),
                bucket,
                prefix,
                ttl: self.ttl,
                max_attempts: self.max_attempts,
                pending: Mutex::new(Pending::default()),
                cache: tokio::sync::Mutex::new(None),
                clock: Mutex::new(None),
                batches: Mutex::new(HashMap::new()),
            }),
            owner,
        })
    }
}

fn default_owner() -> String {
    format!("agent-{}", &cas::new_token()[..12])
}

/// One agent's handle on a task queue: push, claim, look tasks up.
///
/// Clones and [`with_owner`](Self::with_owner) handles share one committer, whose
/// index writes carry all their operations at once (see the [module docs](crate::queue)):
/// give the agents of a process handles of one queue.
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
/// let queue = kit.task_queue().bucket("fleet").prefix("jobs").open()?;
/// let ids = queue.push_batch([b"photo-1.jpg".to_vec(), b"photo-2.jpg".to_vec()]).await?;
///
/// let agent = queue.with_owner("agent-1")?;
/// while let Some(task) = agent.claim().await? {
///     println!("{} (attempt {})", task.id(), task.attempt());
///     task.complete_with(b"resized".to_vec()).await?;
/// }
/// assert!(agent.status().await?.is_drained());
/// let first = agent.task(&ids[0]).await?.expect("pushed");
/// assert_eq!(first.result(), Some(&b"resized"[..]));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct TaskQueue {
    shared: Arc<Shared>,
    owner: String,
}

impl fmt::Debug for TaskQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskQueue")
            .field("bucket", &self.shared.bucket)
            .field("prefix", &self.shared.prefix)
            .field("ttl", &self.shared.ttl)
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

/// What the handles of one queue share: the committer's queue of operations, the index as
/// last read or written, the server's clock and the batch objects read.
struct Shared {
    kit: AgentKit,
    bucket: BucketName,
    prefix: String,
    index_key: String,
    ttl: Duration,
    max_attempts: u32,
    pending: Mutex<Pending>,
    /// The index and its ETag (`None`: not on the server yet) as last seen; held by the
    /// committer while it commits.
    cache: tokio::sync::Mutex<Option<(Index, Option<String>)>>,
    /// The server's time (ms) at the last `Date` seen, and when it was seen here.
    clock: Mutex<Option<(u64, Instant)>>,
    batches: Mutex<HashMap<String, Arc<OnceCell<Arc<Batch>>>>>,
}

type Reply = oneshot::Sender<std::result::Result<(Outcome, Instant), Arc<Error>>>;

#[derive(Default)]
struct Pending {
    ops: Vec<(Op, Reply)>,
    running: bool,
}

/// A batch object's body.
#[derive(Debug, Serialize, Deserialize)]
struct Batch {
    v: u32,
    tasks: Vec<BatchTask>,
}

#[derive(Debug, Serialize, Deserialize)]
struct BatchTask {
    id: String,
    /// Base64.
    payload: String,
}

/// A completed task's record (`p/done/{id}`).
#[derive(Debug, Serialize, Deserialize)]
struct DoneRecord {
    id: String,
    owner: String,
    attempt: u32,
    /// Base64, when the claimant gave a result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    result: Option<String>,
}

/// Counts from the queue's index ([`TaskQueue::status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct QueueStatus {
    /// Tasks pushed.
    pub tasks: usize,
    /// Tasks completed.
    pub done: usize,
    /// Tasks held by a claimant (working, or lapsed and not yet queued again).
    pub claimed: usize,
    /// Tasks queued: never claimed, or queued again.
    pub unclaimed: usize,
    /// Tasks in the dead letters.
    pub dead: usize,
}

impl QueueStatus {
    /// Whether nothing is queued or held: every task pushed is completed or dead.
    pub fn is_drained(&self) -> bool {
        self.unclaimed == 0 && self.claimed == 0
    }
}

/// Where a task is ([`TaskInfo::state`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskState {
    /// Waiting for a claim (never claimed, or queued again).
    Queued,
    /// Held by a claimant.
    Claimed,
    /// Completed.
    Done,
    /// In the dead letters.
    Dead,
}

/// One task as the queue knows it ([`TaskQueue::task`]).
#[derive(Debug, Clone)]
pub struct TaskInfo {
    id: String,
    state: TaskState,
    attempts: u32,
    claimant: Option<String>,
    last_error: Option<String>,
    payload: Vec<u8>,
    result: Option<Vec<u8>>,
}

impl TaskInfo {
    /// The task's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Where the task is.
    pub fn state(&self) -> TaskState {
        self.state
    }

    /// Claims so far (0 for a task never claimed, or re-queued from the dead letters).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The claimant holding it, or who completed it, or the last one to fail it.
    pub fn claimant(&self) -> Option<&str> {
        self.claimant.as_deref()
    }

    /// Why its last claim failed or lapsed, if one did.
    pub fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }

    /// The payload, as pushed.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The result its claimant completed it with ([`ClaimedTask::complete_with`]).
    pub fn result(&self) -> Option<&[u8]> {
        self.result.as_deref()
    }
}

impl TaskQueue {
    /// The bucket the queue is in.
    pub fn bucket(&self) -> &BucketName {
        &self.shared.bucket
    }

    /// The queue's prefix (with a trailing `/` unless empty).
    pub fn prefix(&self) -> &str {
        &self.shared.prefix
    }

    /// The key of the queue's index object.
    pub fn index_key(&self) -> &str {
        &self.shared.index_key
    }

    /// The name this handle claims under.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// A handle claiming under another name that shares this one's committer (one index
    /// write carries both handles' operations).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for a bad owner name.
    pub fn with_owner(&self, owner: impl Into<String>) -> Result<TaskQueue> {
        let owner = owner.into();
        cas::check_owner_and_ttl(&self.claim_operation(), &owner, self.shared.ttl)?;
        Ok(TaskQueue {
            shared: Arc::clone(&self.shared),
            owner,
        })
    }

    fn claim_operation(&self) -> Operation {
        Operation::ClaimTask {
            bucket: self.shared.bucket.to_string(),
            prefix: self.shared.prefix.clone(),
        }
    }

    fn key(&self, kind: &str, id: &str) -> String {
        format!("{}{kind}/{id}", self.shared.prefix)
    }

    /// Pushes one task with a new id and returns the id (`{batch}.0`). Many tasks: use
    /// [`push_batch`](Self::push_batch), one request for all of them.
    ///
    /// # Errors
    /// As [`push_batch`](Self::push_batch).
    pub async fn push(&self, payload: impl Into<Vec<u8>>) -> Result<String> {
        let mut ids = self.push_batch([payload]).await?;
        Ok(ids.pop().unwrap_or_default())
    }

    /// Pushes tasks (1 to [`MAX_BATCH_TASKS`]) in one batch object (one `PUT`) and queues
    /// them with one index commit (shared with other operations); returns their ids,
    /// `{batch}.{n}` in the order given, which is the order they are claimed in.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for an empty or too large
    /// batch, before any request. Otherwise the request's failure: when the batch object was
    /// written and queuing it may have applied, [`Error::leftovers`] names the batch
    /// ([`Leftover::QueueObject`]); when it certainly did not apply, the batch object is deleted.
    #[tracing::instrument(skip_all, fields(bucket = %self.shared.bucket, prefix = %self.shared.prefix))]
    pub async fn push_batch<I, P>(&self, payloads: I) -> Result<Vec<String>>
    where
        I: IntoIterator<Item = P>,
        P: Into<Vec<u8>>,
    {
        let payloads: Vec<Vec<u8>> = payloads.into_iter().map(Into::into).collect();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let key = format!("{nanos:020}{}", &cas::new_token()[..8]);
        let operation = Operation::PushTask {
            bucket: self.shared.bucket.to_string(),
            key: self.key("batches", &key),
        };
        if payloads.is_empty() || payloads.len() > MAX_BATCH_TASKS {
            return Err(Error::invalid_input(
                operation,
                format!("a batch holds 1 to {MAX_BATCH_TASKS} tasks"),
            ));
        }
        let ids: Vec<String> = (0..payloads.len())
            .map(|i| index::task_id(&key, i as u32, false))
            .collect();
        let body = batch_body(ids.iter().cloned().zip(payloads));
        self.write_batch(&operation, &key, body, false).await?;
        self.register(&operation, &key, ids.len() as u32, false)
            .await?;
        Ok(ids)
    }

    /// Pushes a task under `id` (1 to [`MAX_TASK_ID_LEN`] bytes of `A-Z a-z 0-9 . _ -`, not
    /// ending in `.` and digits: those are the ids of batched tasks). Pushing the same id with
    /// the same payload again is a no-op, so a producer may retry a push whose response was
    /// lost (within the last 4,096 pushes to the queue).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for a bad id, before any
    /// request; [`ErrorKind::Conflict`] when a task with that id
    /// exists with another payload; otherwise as [`push_batch`](Self::push_batch).
    #[tracing::instrument(skip_all, fields(bucket = %self.shared.bucket, id))]
    pub async fn push_with_id(&self, id: &str, payload: impl Into<Vec<u8>>) -> Result<()> {
        let operation = Operation::PushTask {
            bucket: self.shared.bucket.to_string(),
            key: self.key("batches", id),
        };
        check_id(&operation, id)?;
        let body = batch_body([(id.to_owned(), payload.into())]);
        self.write_batch(&operation, id, body, true).await?;
        self.register(&operation, id, 1, true).await
    }

    /// Writes a batch object with `If-None-Match: *`; an identical object already there (a
    /// retried push) is fine.
    async fn write_batch(
        &self,
        operation: &Operation,
        key: &str,
        body: Vec<u8>,
        single: bool,
    ) -> Result<()> {
        let answer = self
            .shared
            .kit
            .s3()
            .put_object()
            .bucket(self.shared.bucket.as_str())
            .key(self.key("batches", key))
            .content_type("application/json")
            .if_none_match("*")
            .body(ByteStream::from(body.clone()))
            .send()
            .await;
        let err = match answer {
            Ok(_) => return Ok(()),
            Err(e) => Error::from_s3(operation.clone(), Step::WriteTask, e),
        };
        if err.kind() == ErrorKind::PreconditionFailed || err.kind().is_retryable() {
            match self.read_batch_object(operation, key).await {
                Ok(Some(there)) if there == body => return Ok(()),
                Ok(Some(_)) if err.kind() == ErrorKind::PreconditionFailed => {
                    let what = if single { "task" } else { "batch" };
                    return Err(Error::lease(
                        ErrorKind::Conflict,
                        operation.clone(),
                        Step::WriteTask,
                        None,
                        format!("{what} {key:?} was already pushed with another payload"),
                    ));
                }
                _ => {}
            }
        }
        Err(err)
    }

    async fn register(&self, operation: &Operation, key: &str, n: u32, single: bool) -> Result<()> {
        let op = Op::Register {
            key: key.to_owned(),
            n,
            single,
        };
        match self.shared.submit(op).await {
            Ok(_) => Ok(()),
            Err(shared) => {
                let e = Error::clone_for(operation, &shared);
                if e.leftovers().is_empty() {
                    // Certainly not queued: roll the batch object back.
                    let deleted = self
                        .shared
                        .kit
                        .s3()
                        .delete_object()
                        .bucket(self.shared.bucket.as_str())
                        .key(self.key("batches", key))
                        .send()
                        .await;
                    if deleted.is_ok() {
                        return Err(e);
                    }
                }
                Err(e.with_leftovers(vec![Leftover::QueueObject {
                    bucket: self.shared.bucket.clone(),
                    key: self.key("batches", key),
                }]))
            }
        }
    }

    async fn read_batch_object(&self, operation: &Operation, key: &str) -> Result<Option<Vec<u8>>> {
        let answer = self
            .shared
            .kit
            .s3()
            .get_object()
            .bucket(self.shared.bucket.as_str())
            .key(self.key("batches", key))
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

    /// A batch object, read once per committer.
    async fn batch(&self, operation: &Operation, key: &str) -> Result<Option<Arc<Batch>>> {
        let cell = {
            let mut batches = self
                .shared
                .batches
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if batches.len() >= BATCH_CACHE && !batches.contains_key(key) {
                batches.clear();
            }
            Arc::clone(batches.entry(key.to_owned()).or_default())
        };
        let read = cell
            .get_or_try_init(|| async {
                match self.read_batch_object(operation, key).await? {
                    Some(body) => serde_json::from_slice::<Batch>(&body)
                        .map(Arc::new)
                        .map_err(|_| {
                            Error::unexpected(
                                operation.clone(),
                                Step::ReadTask,
                                "the batch object is not a task batch written by this kit",
                            )
                        }),
                    None => Err(Error::lease(
                        ErrorKind::NotFound,
                        operation.clone(),
                        Step::ReadTask,
                        None,
                        format!("batch object {key:?} is missing"),
                    )),
                }
            })
            .await;
        match read {
            Ok(batch) => Ok(Some(Arc::clone(batch))),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                self.shared
                    .batches
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(key);
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    async fn payload(&self, operation: &Operation, slot: &index::Slot) -> Result<Option<Vec<u8>>> {
        let Some(batch) = self.batch(operation, &slot.batch).await? else {
            return Ok(None);
        };
        Ok(batch
            .tasks
            .get(slot.idx as usize)
            .and_then(|t| B64.decode(&t.payload).ok()))
    }

    /// Claims the next task: the first queued again, else the oldest never claimed. `None`
    /// when nothing is claimable now (every task is done, dead, or held by a claimant whose
    /// claim has not lapsed): try again later, or when a notification wakes the agent.
    ///
    /// # Errors
    /// A failed request. A commit whose outcome could not be read back names the index in
    /// [`Error::leftovers`]: if it applied, the claim lapses after the TTL and the task is
    /// claimed again.
    #[tracing::instrument(skip_all, fields(bucket = %self.shared.bucket, prefix = %self.shared.prefix))]
    pub async fn claim(&self) -> Result<Option<ClaimedTask>> {
        let operation = self.claim_operation();
        let op = Op::Claim {
            owner: self.owner.clone(),
            ttl_ms: self.shared.ttl.as_millis() as u64,
        };
        let (outcome, sent) = self
            .shared
            .submit(op)
            .await
            .map_err(|e| Error::clone_for(&operation, &e))?;
        let Outcome::Claimed(id, held) = outcome else {
            return Ok(None);
        };
        let payload = match self.payload(&operation, &held.slot).await {
            Ok(Some(payload)) => payload,
            // A task whose batch object is gone: nothing to run; dead-letter it.
            Ok(None) => {
                let task = self.claimed(id, held, Vec::new(), sent);
                let _ = task.fail("the task's batch object is missing").await;
                return Ok(None);
            }
            Err(e) => {
                // The claim lapses and the task is claimed again.
                return Err(e.with_leftovers(vec![Leftover::Lease {
                    bucket: self.shared.bucket.clone(),
                    key: self.shared.index_key.clone(),
                }]));
            }
        };
        Ok(Some(self.claimed(id, held, payload, sent)))
    }

    fn claimed(
        &self,
        id: String,
        held: index::Held,
        payload: Vec<u8>,
        sent: Instant,
    ) -> ClaimedTask {
        ClaimedTask {
            queue: self.clone(),
            id,
            payload,
            held,
            sent,
        }
    }

    /// Reads the index and counts its tasks.
    ///
    /// # Errors
    /// The read's failure.
    pub async fn status(&self) -> Result<QueueStatus> {
        let operation = Operation::QueueStatus {
            bucket: self.shared.bucket.to_string(),
            prefix: self.shared.prefix.clone(),
        };
        let (index, _) = self.shared.read(&operation).await?;
        Ok(QueueStatus {
            tasks: index.pushed as usize,
            done: index.done as usize,
            claimed: index.held.len(),
            unclaimed: index.queued() as usize,
            dead: index.dead.len(),
        })
    }

    /// Looks a task up: its state, attempts, claimant, last error, payload and result.
    /// `None` for an id the queue never had. A task neither queued, held nor dead is done:
    /// its record holds the result ([`ClaimedTask::complete_with`]).
    ///
    /// # Errors
    /// A failed read.
    pub async fn task(&self, id: &str) -> Result<Option<TaskInfo>> {
        let operation = Operation::QueueStatus {
            bucket: self.shared.bucket.to_string(),
            prefix: self.shared.prefix.clone(),
        };
        let (index, _) = self.shared.read(&operation).await?;
        let mut info = TaskInfo {
            id: id.to_owned(),
            state: TaskState::Done,
            attempts: 0,
            claimant: None,
            last_error: None,
            payload: Vec::new(),
            result: None,
        };
        let (batch, idx, _) = index::parse_id(id);
        let mut slot = index::Slot {
            batch: batch.to_owned(),
            idx,
        };
        if let Some(held) = index.held.get(id) {
            info.state = TaskState::Claimed;
            info.attempts = held.attempt;
            info.claimant = Some(held.owner.clone());
            slot = held.slot.clone();
        } else if let Some(dead) = index.dead.get(id) {
            info.state = TaskState::Dead;
            info.attempts = dead.attempts;
            info.claimant = Some(dead.owner.clone());
            info.last_error = Some(dead.error.clone());
            slot = dead.slot.clone();
        } else if let Some((queued, attempts)) = index.queued_slot(id) {
            info.state = TaskState::Queued;
            info.attempts = attempts;
            if let Some(retry) = index.retry.iter().find(|r| r.id == id) {
                info.claimant = Some(retry.owner.clone());
                info.last_error = Some(retry.error.clone());
            }
            slot = queued;
        }
        if let Some(retry) = index.retry.iter().find(|r| r.id == id) {
            info.last_error = Some(retry.error.clone());
        }
        let Some(payload) = self.payload(&operation, &slot).await? else {
            return Ok(None);
        };
        info.payload = payload;
        if info.state == TaskState::Done
            && let Some(record) = self.done_record(&operation, id).await?
        {
            info.attempts = record.attempt;
            info.claimant = Some(record.owner);
            info.result = record.result.and_then(|r| B64.decode(r).ok());
        }
        Ok(Some(info))
    }

    async fn done_record(&self, operation: &Operation, id: &str) -> Result<Option<DoneRecord>> {
        let answer = self
            .shared
            .kit
            .s3()
            .get_object()
            .bucket(self.shared.bucket.as_str())
            .key(self.key("done", id))
            .send()
            .await;
        match answer {
            Ok(out) => {
                let body = out.body.collect().await.map_err(|e| {
                    Error::transient(operation.clone(), Step::ReadTask).with_source(e)
                })?;
                Ok(serde_json::from_slice(&body.into_bytes()).ok())
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(Error::from_s3(operation.clone(), Step::ReadTask, e)),
        }
    }

    /// Lists the dead letters: tasks whose claims failed or lapsed
    /// [`max_attempts`](TaskQueueBuilder::max_attempts) times, by id.
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
    /// let queue = kit.task_queue().bucket("fleet").prefix("jobs").max_attempts(1).open()?;
    /// queue.push_with_id("poison", b"bad input".to_vec()).await?;
    /// let task = queue.claim().await?.expect("queued");
    /// task.fail("cannot parse").await?;
    ///
    /// let mut letters = queue.dead_letters().into_paginator().items().send();
    /// while let Some(letter) = letters.next().await {
    ///     let letter = letter?;
    ///     assert_eq!((letter.id(), letter.last_error()), ("poison", "cannot parse"));
    ///     queue.requeue(letter.id()).await?;
    /// }
    /// assert!(queue.claim().await?.is_some());
    /// # Ok(()) }
    /// ```
    pub fn dead_letters(&self) -> ListDeadLetters {
        ListDeadLetters {
            queue: self.clone(),
            page_size: 100,
            start_after: None,
        }
    }

    /// Queues a dead letter again, its attempts counted from 0.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] when no dead letter has that id;
    /// otherwise the commit's failure.
    pub async fn requeue(&self, id: &str) -> Result<()> {
        let operation = Operation::PushTask {
            bucket: self.shared.bucket.to_string(),
            key: self.key("dead", id),
        };
        let (outcome, _) = self
            .shared
            .submit(Op::Requeue { id: id.to_owned() })
            .await
            .map_err(|e| Error::clone_for(&operation, &e))?;
        match outcome {
            Outcome::Ok(_) => Ok(()),
            _ => Err(Error::lease(
                ErrorKind::NotFound,
                operation,
                Step::WriteTask,
                None,
                format!("no dead letter {id:?}"),
            )),
        }
    }
}

/// Lists a queue's dead letters; from [`TaskQueue::dead_letters`].
#[must_use = "call send() or into_paginator()"]
#[derive(Debug)]
pub struct ListDeadLetters {
    queue: TaskQueue,
    page_size: usize,
    start_after: Option<String>,
}

impl ListDeadLetters {
    /// Dead letters per page (1 to 1,000, default 100).
    pub fn page_size(mut self, page_size: usize) -> Self {
        self.page_size = page_size.clamp(1, 1_000);
        self
    }

    /// Starts after this id (ids are listed in byte order).
    pub fn start_after(mut self, id: impl Into<String>) -> Self {
        self.start_after = Some(id.into());
        self
    }

    /// One page.
    ///
    /// # Errors
    /// A failed read.
    pub async fn send(self) -> Result<DeadLetterPage> {
        let operation = Operation::QueueStatus {
            bucket: self.queue.shared.bucket.to_string(),
            prefix: self.queue.shared.prefix.clone(),
        };
        let (index, _) = self.queue.shared.read(&operation).await?;
        let mut letters = Vec::new();
        let range = match &self.start_after {
            Some(after) => index
                .dead
                .range::<String, _>((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded)),
            None => index.dead.range::<String, _>(..),
        };
        let mut more = false;
        for (id, dead) in range {
            if letters.len() == self.page_size {
                more = true;
                break;
            }
            let payload = self
                .queue
                .payload(&operation, &dead.slot)
                .await?
                .unwrap_or_default();
            letters.push(DeadLetter {
                id: id.clone(),
                attempts: dead.attempts,
                last_owner: dead.owner.clone(),
                last_error: dead.error.clone(),
                payload,
            });
        }
        let next = if more {
            letters.last().map(|l| l.id.clone())
        } else {
            None
        };
        Ok(DeadLetterPage { letters, next })
    }

    /// Every page, as a stream: [`send`](DeadLetterPaginator::send) yields pages,
    /// [`items`](DeadLetterPaginator::items) the dead letters one by one.
    pub fn into_paginator(self) -> DeadLetterPaginator {
        DeadLetterPaginator { list: self }
    }
}

/// One page of dead letters.
#[derive(Debug, Clone)]
pub struct DeadLetterPage {
    letters: Vec<DeadLetter>,
    next: Option<String>,
}

impl DeadLetterPage {
    /// The dead letters of the page.
    pub fn letters(&self) -> &[DeadLetter] {
        &self.letters
    }

    /// The id to start the next page after; `None` on the last page.
    pub fn next_start_after(&self) -> Option<&str> {
        self.next.as_deref()
    }
}

/// A task in the dead letters.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    id: String,
    attempts: u32,
    last_owner: String,
    last_error: String,
    payload: Vec<u8>,
}

impl DeadLetter {
    /// The task's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Claims it had.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The claimant of its last claim.
    pub fn last_owner(&self) -> &str {
        &self.last_owner
    }

    /// Why its last claim failed or lapsed.
    pub fn last_error(&self) -> &str {
        &self.last_error
    }

    /// The payload, as pushed.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }
}

/// Pages of dead letters; from [`ListDeadLetters::into_paginator`].
#[must_use = "call send() or items()"]
#[derive(Debug)]
pub struct DeadLetterPaginator {
    list: ListDeadLetters,
}

impl DeadLetterPaginator {
    /// The pages, fetched as [`next`](DeadLetterPages::next) is called.
    pub fn send(self) -> DeadLetterPages {
        DeadLetterPages {
            list: Some(self.list),
        }
    }

    /// The dead letters one by one, across pages.
    pub fn items(self) -> DeadLetterItemsPaginator {
        DeadLetterItemsPaginator { list: self.list }
    }
}

/// A stream of dead-letter pages; from [`DeadLetterPaginator::send`].
#[derive(Debug)]
pub struct DeadLetterPages {
    list: Option<ListDeadLetters>,
}

impl DeadLetterPages {
    /// The next page; `None` after the last.
    pub async fn next(&mut self) -> Option<Result<DeadLetterPage>> {
        let list = self.list.take()?;
        let (queue, page_size) = (list.queue.clone(), list.page_size);
        match list.send().await {
            Ok(page) => {
                if let Some(after) = &page.next {
                    self.list = Some(ListDeadLetters {
                        queue,
                        page_size,
                        start_after: Some(after.clone()),
                    });
                }
                Some(Ok(page))
            }
            Err(e) => Some(Err(e)),
        }
    }
}

/// Dead letters one by one; from [`DeadLetterPaginator::items`].
#[must_use = "call send()"]
#[derive(Debug)]
pub struct DeadLetterItemsPaginator {
    list: ListDeadLetters,
}

impl DeadLetterItemsPaginator {
    /// The stream of dead letters.
    pub fn send(self) -> DeadLetterItems {
        DeadLetterItems {
            pages: DeadLetterPaginator { list: self.list }.send(),
            buffered: std::collections::VecDeque::new(),
        }
    }
}

/// A stream of dead letters; from [`DeadLetterItemsPaginator::send`].
#[derive(Debug)]
pub struct DeadLetterItems {
    pages: DeadLetterPages,
    buffered: std::collections::VecDeque<DeadLetter>,
}

impl DeadLetterItems {
    /// The next dead letter; `None` after the last.
    pub async fn next(&mut self) -> Option<Result<DeadLetter>> {
        loop {
            if let Some(letter) = self.buffered.pop_front() {
                return Some(Ok(letter));
            }
            match self.pages.next().await? {
                Ok(page) => self.buffered.extend(page.letters),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

impl Shared {
    fn now_ms(&self) -> u64 {
        let clock = *self.clock.lock().unwrap_or_else(|e| e.into_inner());
        match clock {
            Some((server, seen)) => server + seen.elapsed().as_millis() as u64,
            None => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
        }
    }

    fn saw(&self, dates: &DateCapture) {
        let server = dates
            .server_now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        *self.clock.lock().unwrap_or_else(|e| e.into_inner()) = Some((server, Instant::now()));
    }

    /// Reads the index (an empty one when there is none yet) and keeps it as the cache.
    async fn read(&self, operation: &Operation) -> Result<(Index, Option<String>)> {
        let dates = DateCapture::default();
        let answer = self
            .kit
            .s3()
            .get_object()
            .bucket(self.bucket.as_str())
            .key(&self.index_key)
            .customize()
            .interceptor(dates.clone())
            .send()
            .await;
        let out = match answer {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
                self.saw(&dates);
                return Ok((Index::empty(), None));
            }
            Err(e) => return Err(Error::from_s3(operation.clone(), Step::ReadLease, e)),
        };
        self.saw(&dates);
        let etag = out.e_tag().map(str::to_owned);
        let body = out
            .body
            .collect()
            .await
            .map_err(|e| Error::transient(operation.clone(), Step::ReadLease).with_source(e))?;
        match (Index::decode(&body.into_bytes()), etag) {
            (Some(index), Some(etag)) => Ok((index, Some(etag))),
            _ => Err(Error::unexpected(
                operation.clone(),
                Step::ReadLease,
                "the queue's index object is not one written by this kit (or has no ETag)",
            )),
        }
    }

    /// Queues `op` for the next group commit and waits for its outcome; starts a committer
    /// when none is running.
    async fn submit(
        self: &Arc<Self>,
        op: Op,
    ) -> std::result::Result<(Outcome, Instant), Arc<Error>> {
        let (tx, rx) = oneshot::channel();
        let start = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            pending.ops.push((op, tx));
            !std::mem::replace(&mut pending.running, true)
        };
        if start {
            let shared = Arc::clone(self);
            tokio::spawn(async move { shared.run_commits().await });
        }
        match rx.await {
            Ok(answer) => answer,
            Err(_) => Err(Arc::new(Error::transient(
                Operation::ClaimTask {
                    bucket: self.bucket.to_string(),
                    prefix: self.prefix.clone(),
                },
                Step::WriteLease,
            ))),
        }
    }

    /// Commits queued operations, group by group, until none is left.
    async fn run_commits(self: Arc<Self>) {
        loop {
            let ops = {
                let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
                if pending.ops.is_empty() {
                    pending.running = false;
                    return;
                }
                std::mem::take(&mut pending.ops)
            };
            let (ops, replies): (Vec<Op>, Vec<Reply>) = ops.into_iter().unzip();
            match self.commit(&ops).await {
                Ok((outcomes, sent)) => {
                    for (reply, outcome) in replies.into_iter().zip(outcomes) {
                        let _ = reply.send(Ok((outcome, sent)));
                    }
                }
                Err(e) => {
                    let e = Arc::new(e);
                    for reply in replies {
                        let _ = reply.send(Err(Arc::clone(&e)));
                    }
                }
            }
        }
    }

    /// One group commit: apply `ops` to the index and write it with `If-Match`, reading it
    /// again and re-applying when another committer wrote first.
    async fn commit(&self, ops: &[Op]) -> Result<(Vec<Outcome>, Instant)> {
        let operation = Operation::ClaimTask {
            bucket: self.bucket.to_string(),
            prefix: self.prefix.clone(),
        };
        let mut cache = self.cache.lock().await;
        let mut fresh = false;
        for round in 0..MAX_ROUNDS {
            let (index, etag) = match cache.take() {
                Some(cached) => cached,
                None => {
                    fresh = true;
                    self.read(&operation).await?
                }
            };
            let mut next = index.clone();
            let outcomes = next.apply(ops, self.now_ms(), self.max_attempts);
            if next == index {
                if fresh {
                    *cache = Some((index, etag));
                    return Ok((outcomes, Instant::now()));
                }
                // Nothing to do by the cached index: a newer one may have work.
                fresh = true;
                *cache = Some(self.read(&operation).await?);
                continue;
            }
            next.commit = cas::new_token();
            let sent = Instant::now();
            match self.write(&operation, &next, etag.as_deref()).await {
                Ok(Some(new_etag)) => {
                    *cache = Some((next, Some(new_etag)));
                    return Ok((outcomes, sent));
                }
                // Beaten: back off (jittered, growing with the rounds lost, so committers of
                // separately opened handles do not beat each other in lockstep), read again
                // and re-apply.
                Ok(None) => {
                    tokio::time::sleep(beaten_backoff(round)).await;
                    fresh = true;
                    *cache = Some(self.read(&operation).await?);
                }
                Err(e) => return Err(e),
            }
        }
        Err(Error::lease(
            ErrorKind::Conflict,
            operation,
            Step::WriteLease,
            None,
            format!(
                "the index {} kept changing: {MAX_ROUNDS} commits in a row were beaten",
                self.index_key
            ),
        ))
    }

    /// Writes the index conditionally: the new ETag, or `None` when another write came
    /// first. A failure that may have applied is settled by reading the index back (its
    /// commit token tells); when that read fails too, the error names the index.
    async fn write(
        &self,
        operation: &Operation,
        index: &Index,
        etag: Option<&str>,
    ) -> Result<Option<String>> {
        let dates = DateCapture::default();
        let request = self
            .kit
            .s3()
            .put_object()
            .bucket(self.bucket.as_str())
            .key(&self.index_key)
            .content_type("application/json")
            .body(ByteStream::from(index.encode()));
        let request = match etag {
            Some(etag) => request.if_match(etag),
            None => request.if_none_match("*"),
        };
        let answer = request.customize().interceptor(dates.clone()).send().await;
        let error = match answer {
            Ok(out) => {
                self.saw(&dates);
                if let Some(etag) = out.e_tag() {
                    return Ok(Some(etag.to_owned()));
                }
                None
            }
            Err(e) => {
                let status = e.raw_response().map(|r| r.status().as_u16());
                let refused =
                    matches!(status, Some(412 | 409)) || (status == Some(404) && etag.is_some());
                let may_have_applied = Classified::from_sdk(&e).may_have_applied();
                let error = Error::from_s3(operation.clone(), Step::WriteLease, e);
                if !refused && !may_have_applied {
                    return Err(error);
                }
                Some(error)
            }
        };
        // Refused (maybe by a retry of this very write), lost, or without an ETag: read back.
        match self.read(operation).await {
            Ok((there, Some(etag))) if there.commit == index.commit => Ok(Some(etag)),
            Ok(_) => Ok(None),
            Err(probe) => Err(error.unwrap_or(probe).with_leftovers(vec![Leftover::Lease {
                bucket: self.bucket.clone(),
                key: self.index_key.clone(),
            }])),
        }
    }
}

/// A task this agent holds the claim of; from [`TaskQueue::claim`].
///
/// [`complete`](Self::complete) or [`fail`](Self::fail) it, and [`renew`](Self::renew) the
/// claim while the work takes longer than the TTL. Dropping it leaves the claim to lapse, and
/// the task is claimed again with the attempt count one higher.
pub struct ClaimedTask {
    queue: TaskQueue,
    id: String,
    payload: Vec<u8>,
    held: index::Held,
    sent: Instant,
}

impl fmt::Debug for ClaimedTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClaimedTask")
            .field("bucket", &self.queue.shared.bucket)
            .field("id", &self.id)
            .field("attempt", &self.held.attempt)
            .field("owner", &self.held.owner)
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
        self.held.attempt
    }

    /// The claimant whose lapsed or failed claim this one follows.
    pub fn previous_owner(&self) -> Option<&str> {
        self.held.previous.as_deref()
    }

    /// How long the claim certainly still holds, counted on this machine's monotonic clock
    /// from when the commit that took or renewed it was sent.
    pub fn valid_for(&self) -> Duration {
        (self.sent + Duration::from_millis(self.held.ttl_ms))
            .saturating_duration_since(Instant::now())
    }

    fn operation(&self, f: fn(String, String) -> Operation) -> Operation {
        f(
            self.queue.shared.bucket.to_string(),
            format!("{}#{}", self.queue.shared.index_key, self.id),
        )
    }

    async fn settle(&self, operation: &Operation, op: Op) -> Result<(Outcome, Instant)> {
        let (outcome, sent) = self
            .queue
            .shared
            .submit(op)
            .await
            .map_err(|e| Error::clone_for(operation, &e))?;
        if let Outcome::Lost(holder) = &outcome {
            let reason = match holder {
                Some(holder) => format!(
                    "the claim of task {:?} lapsed and {holder:?} holds it now",
                    self.id
                ),
                None => format!(
                    "the claim of task {:?} is no longer held (it lapsed and was queued again, \
                     completed or dead-lettered)",
                    self.id
                ),
            };
            return Err(Error::lease(
                ErrorKind::PreconditionFailed,
                operation.clone(),
                Step::WriteLease,
                holder.clone(),
                reason,
            ));
        }
        Ok((outcome, sent))
    }

    /// Extends the claim by its TTL from now.
    ///
    /// # Errors
    /// A lost claim ([`Error::is_lease_lost`]): it lapsed and was queued again or taken over.
    /// Otherwise the commit's failure; the claim still holds until
    /// [`valid_for`](Self::valid_for) runs out.
    pub async fn renew(&mut self) -> Result<()> {
        let operation = self.operation(|bucket, key| Operation::RenewClaim { bucket, key });
        let op = Op::Renew {
            id: self.id.clone(),
            token: self.held.token.clone(),
        };
        let (_, sent) = self.settle(&operation, op).await?;
        self.sent = sent;
        Ok(())
    }

    /// Completes the task without a result; see [`complete_with`](Self::complete_with).
    ///
    /// # Errors
    /// As [`complete_with`](Self::complete_with).
    pub async fn complete(self) -> Result<()> {
        self.finish(None).await
    }

    /// Completes the task: removes its claim from the index if this claimant still holds
    /// it (exactly once: never after the claim was taken over), then writes the task's
    /// record with `result`, readable with [`TaskQueue::task`].
    ///
    /// # Errors
    /// A lost claim ([`Error::is_lease_lost`]): the claim lapsed and the task was queued
    /// again or taken over; this completion is refused. A failed commit. When the completion
    /// was committed but its record could not be written, the request's failure: the task is
    /// completed all the same, without its record.
    pub async fn complete_with(self, result: impl Into<Vec<u8>>) -> Result<()> {
        self.finish(Some(result.into())).await
    }

    #[tracing::instrument(skip_all, fields(id = %self.id))]
    async fn finish(self, result: Option<Vec<u8>>) -> Result<()> {
        let operation = self.operation(|bucket, key| Operation::CompleteTask { bucket, key });
        let op = Op::Complete {
            id: self.id.clone(),
            token: self.held.token.clone(),
        };
        self.settle(&operation, op).await?;
        let record = DoneRecord {
            id: self.id.clone(),
            owner: self.held.owner.clone(),
            attempt: self.held.attempt,
            result: result.map(|r| B64.encode(r)),
        };
        let body = serde_json::to_vec(&record).unwrap_or_default();
        self.queue
            .shared
            .kit
            .s3()
            .put_object()
            .bucket(self.queue.shared.bucket.as_str())
            .key(self.queue.key("done", &self.id))
            .content_type("application/json")
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| {
                let may_have_applied = Classified::from_sdk(&e).may_have_applied();
                let err = Error::from_s3(operation, Step::WriteTask, e);
                if may_have_applied {
                    err.with_leftovers(vec![Leftover::QueueObject {
                        bucket: self.queue.shared.bucket.clone(),
                        key: self.queue.key("done", &self.id),
                    }])
                } else {
                    err
                }
            })?;
        Ok(())
    }

    /// The key of the record [`complete`](Self::complete) writes.
    pub fn record_key(&self) -> String {
        self.queue.key("done", &self.id)
    }

    /// Gives the task up: it is queued again at once (attempt + 1), or goes to the dead
    /// letters with `reason` when this was its last attempt.
    ///
    /// # Errors
    /// As [`complete`](Self::complete).
    #[tracing::instrument(skip_all, fields(id = %self.id))]
    pub async fn fail(self, reason: &str) -> Result<()> {
        let operation = self.operation(|bucket, key| Operation::FailTask { bucket, key });
        let error: String = reason
            .chars()
            .take(512)
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let op = Op::Fail {
            id: self.id.clone(),
            token: self.held.token.clone(),
            error,
        };
        self.settle(&operation, op).await?;
        Ok(())
    }
}

fn batch_body(tasks: impl IntoIterator<Item = (String, Vec<u8>)>) -> Vec<u8> {
    let batch = Batch {
        v: 1,
        tasks: tasks
            .into_iter()
            .map(|(id, payload)| BatchTask {
                id,
                payload: B64.encode(payload),
            })
            .collect(),
    };
    serde_json::to_vec(&batch).unwrap_or_default()
}

fn check_id(operation: &Operation, id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= MAX_TASK_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && id != "."
        && id != ".."
        && index::parse_id(id).2;
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(
            operation.clone(),
            format!(
                "a task id must be 1 to {MAX_TASK_ID_LEN} bytes of A-Z a-z 0-9 . _ -, not \
                 ending in . and digits"
            ),
        ))
    }
}
/// How long a committer whose write was beaten `round + 1` times in a row waits before it
/// reads the index again: a random time up to 1 ms doubled per round, at most 64 ms.
fn beaten_backoff(round: usize) -> Duration {
    let cap_us = 1_000u64 << round.min(6);
    let token = cas::new_token();
    let random = u64::from_str_radix(&token[..12], 16).unwrap_or(cap_us / 2);
    Duration::from_micros(random % cap_us)
}

impl AgentKit {
    /// Starts opening a task queue: push tasks, claim them exactly once. See
    /// [`TaskQueue`](crate::TaskQueue) and [`crate::queue`].
    pub fn task_queue(&self) -> TaskQueueBuilder {
        TaskQueueBuilder::new(self.clone())
    }
}
