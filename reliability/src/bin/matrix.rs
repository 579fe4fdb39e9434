//! The fault matrix: every workflow, every request position, every fault kind.
//!
//! For each workflow: a clean run records the requests it makes (the emulator's request record,
//! after the workflow's preconditions are set up). Then one run per request position `k` and
//! fault kind, each on a fresh emulator, with the k-th request of the workflow failing: a 500,
//! a 403, a 503 SlowDown, a connection dropped before the request is applied, or one dropped
//! after it was applied (a lost response). After each run the emulator's buckets, snapshots,
//! access keys, policies and attachments are listed: each is either one the workflow did not own
//! (its preconditions), or named by the result (what a successful call hands back, or a handle
//! the caller still holds from an earlier completed step) or by the error (a leftover). Anything
//! else is a silent leak.
//!
//! The SDK retries as configured by default (standard, 3 attempts; the backoff shortened to
//! 1 ms so the matrix runs in minutes). `--quick`: the first position of each distinct
//! operation, with a 500 and a lost response only. `--only TEXT`: only the workflows whose
//! name contains TEXT.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::primitives::ByteStream;
use tigris_agent_kit::{Leftover, Role};
use tigris_emulator::Fault;
use tigris_headers::prelude::*;
use tigris_test_support::TestEnv;

type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Something the emulator holds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Item {
    Bucket(String),
    Snapshot(String, u64),
    Key(String),
    Policy(String),
    Attachment(String, String),
    Object(String, String),
    Upload(String, String, String),
}

impl std::fmt::Display for Item {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Bucket(b) => write!(f, "bucket {b}"),
            Self::Snapshot(b, v) => write!(f, "snapshot {v} of {b}"),
            Self::Key(k) => write!(f, "access key {k}"),
            Self::Policy(p) => write!(f, "policy {p}"),
            Self::Attachment(u, p) => write!(f, "attachment of {p} to {u}"),
            Self::Object(b, k) => write!(f, "object {b}/{k}"),
            Self::Upload(b, k, id) => write!(f, "multipart upload {id} of {b}/{k}"),
        }
    }
}

/// What a result or an error names, by which the caller can find and remove it.
#[derive(Debug, Clone)]
enum Name {
    Bucket(String),
    Snapshot(String, u64),
    Key(String),
    Policy(String),
    PolicyNamed(String),
    /// A key that may exist: one of these ids.
    MaybeKey(Vec<String>),
    /// An object (a lease or a task claim).
    Object(String, String),
    /// A multipart upload, by id.
    Upload(String),
}

impl Name {
    fn covers(&self, item: &Item) -> bool {
        match (self, item) {
            (Self::Bucket(b), Item::Bucket(i) | Item::Snapshot(i, _) | Item::Object(i, _)) => {
                b == i
            }
            (Self::Snapshot(b, v), Item::Snapshot(i, w)) => b == i && v == w,
            (Self::Key(k), Item::Key(i) | Item::Attachment(i, _)) => k == i,
            (Self::Policy(p), Item::Policy(i) | Item::Attachment(_, i)) => p == i,
            (Self::PolicyNamed(n), Item::Policy(i) | Item::Attachment(_, i)) => {
                i.rsplit('/').next() == Some(n.as_str())
            }
            (Self::MaybeKey(ids), Item::Key(i) | Item::Attachment(i, _)) => ids.contains(i),
            (Self::Object(b, k), Item::Object(i, j)) => b == i && k == j,
            (Self::Upload(id), Item::Upload(_, _, i)) => id == i,
            _ => false,
        }
    }
}

fn iam_names(leftover: &tigris_iam::Leftover) -> Vec<Name> {
    match leftover {
        tigris_iam::Leftover::AccessKey { id } => vec![Name::Key(id.clone())],
        tigris_iam::Leftover::Policy { arn } => vec![Name::Policy(arn.clone())],
        tigris_iam::Leftover::PolicyNamed { name } => vec![Name::PolicyNamed(name.clone())],
        tigris_iam::Leftover::Attachment { user, policy_arn } => {
            vec![Name::Key(user.clone()), Name::Policy(policy_arn.clone())]
        }
        tigris_iam::Leftover::MaybeAccessKey { candidates, .. } => {
            vec![Name::MaybeKey(candidates.clone())]
        }
        _ => Vec::new(),
    }
}

fn kit_names(leftover: &Leftover) -> Vec<Name> {
    match leftover {
        Leftover::Bucket { bucket } => vec![Name::Bucket(bucket.to_string())],
        Leftover::Snapshot { bucket, version } => {
            vec![Name::Snapshot(bucket.to_string(), version.as_u64())]
        }
        Leftover::Iam(l) => iam_names(l),
        Leftover::Lease { bucket, key } | Leftover::QueueObject { bucket, key } => {
            vec![Name::Object(bucket.to_string(), key.clone())]
        }
        _ => Vec::new(),
    }
}

/// Every leftover an agent-kit error names, its nested failures' included, and a merge it
/// carries (its checkpoint).
fn error_names(err: &tigris_agent_kit::Error, out: &mut Vec<Name>) -> usize {
    let mut reported = err.leftovers().len();
    out.extend(err.leftovers().iter().flat_map(kit_names));
    if let Some(merge) = err.merge() {
        out.extend(merge_names(err.bucket().unwrap_or_default(), merge));
    }
    for failure in err.failures() {
        reported += error_names(failure, out);
    }
    reported
}

fn merge_names(base: &str, merge: &tigris_agent_kit::Merge) -> Vec<Name> {
    vec![
        Name::Snapshot(base.to_owned(), merge.checkpoint().version().as_u64()),
        Name::Snapshot(base.to_owned(), merge.version().as_u64()),
    ]
}

fn key_names(key: &tigris_iam::ScopedAccessKey) -> Vec<Name> {
    vec![
        Name::Key(key.access_key_id().to_owned()),
        Name::Policy(key.policy_arn().to_owned()),
    ]
}

fn set_names(set: &tigris_agent_kit::ForkSet, out: &mut Vec<Name>) -> usize {
    if set.took_snapshot() {
        out.push(Name::Snapshot(
            set.base().to_string(),
            set.snapshot().as_u64(),
        ));
    }
    for fork in set.forks() {
        out.push(Name::Bucket(fork.bucket().to_string()));
        out.extend(fork.credentials().map(key_names).unwrap_or_default());
    }
    set.failures()
        .iter()
        .map(|f| error_names(f.error(), out))
        .sum()
}

/// How a run ended.
#[derive(Debug)]
enum Outcome {
    /// Succeeded, holding what the names say.
    Ok(Vec<Name>),
    /// Failed (or partly failed), naming these; `reported` leftovers.
    Failed {
        names: Vec<Name>,
        reported: usize,
        error: String,
    },
}

/// One run: a fresh emulator and clients, and the fault to inject when the workflow begins.
struct Run {
    env: TestEnv,
    fault: Option<Fault>,
    /// What the workflow does not own: the inventory at `mark` (or at `begin` without one).
    foreign: std::sync::Mutex<Option<BTreeSet<Item>>>,
}

impl Run {
    async fn start(fault: Option<Fault>) -> Self {
        let retry = RetryConfig::standard()
            .with_max_attempts(3)
            .with_initial_backoff(Duration::from_millis(1));
        Self {
            env: TestEnv::builder().retry(retry).start().await,
            fault,
            foreign: std::sync::Mutex::new(None),
        }
    }

    fn inventory(&self) -> BTreeSet<Item> {
        let inv = self.env.emu.inventory();
        let mut items = BTreeSet::new();
        items.extend(inv.buckets.into_iter().map(Item::Bucket));
        items.extend(inv.snapshots.into_iter().map(|(b, v)| Item::Snapshot(b, v)));
        items.extend(inv.access_keys.into_iter().map(Item::Key));
        items.extend(inv.policies.into_iter().map(Item::Policy));
        items.extend(
            inv.attachments
                .into_iter()
                .map(|(u, p)| Item::Attachment(u, p)),
        );
        items.extend(inv.objects.into_iter().map(|(b, k)| Item::Object(b, k)));
        items.extend(
            inv.multipart_uploads
                .into_iter()
                .map(|(b, k, id)| Item::Upload(b, k, id)),
        );
        items
    }

    /// What exists now is not the workflow's: what is made after this, before `begin`, is (a
    /// teardown's workspace).
    fn mark(&self) {
        *self.lock() = Some(self.inventory());
    }

    /// The workflow proper starts: record requests and arm the fault.
    fn begin(&self) {
        let mut foreign = self.lock();
        if foreign.is_none() {
            *foreign = Some(self.inventory());
        }
        self.env.emu.faults().record();
        if let Some(fault) = &self.fault {
            self.env.emu.faults().inject(fault.clone());
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<BTreeSet<Item>>> {
        self.foreign
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn bucket(&self, name: &str, snapshots: bool) -> Result<(), String> {
        let create = self.env.s3.create_bucket().bucket(name);
        let sent = if snapshots {
            create.enable_snapshots().send().await
        } else {
            create.send().await
        };
        sent.map_err(|e| format!("setup: {e:?}"))?;
        Ok(())
    }

    async fn put(&self, bucket: &str, key: &str) -> Result<(), String> {
        self.env
            .s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from_static(b"data"))
            .send()
            .await
            .map_err(|e| format!("setup: {e:?}"))?;
        Ok(())
    }
}

type Setup = Result<Outcome, String>;

fn notifications() -> tigris_notify::NotificationConfig {
    // Nothing is written to the workspace, so nothing is delivered: only the setting matters.
    tigris_notify::NotificationConfig::builder("http://127.0.0.1:9/hook")
        .token("matrix-token")
        .build()
        .expect("a valid notification config")
}

async fn workspace_create(r: &Run) -> Setup {
    r.begin();
    let ws = match r
        .env
        .kit
        .create_workspace()
        .bucket("work")
        .ttl_days(7)
        .credentials(Role::Editor)
        .send()
        .await
    {
        Ok(ws) => ws,
        Err(err) => return Ok(failed(&err)),
    };
    let mut held = vec![Name::Bucket(ws.bucket().to_string())];
    held.extend(ws.credentials().map(key_names).unwrap_or_default());
    match r.env.kit.set_notifications(&ws, &notifications()).await {
        Ok(()) => Ok(Outcome::Ok(held)),
        // The workspace was made and the caller holds it (teardown removes it).
        Err(err) => {
            let Outcome::Failed {
                mut names,
                reported,
                error,
            } = failed(&err)
            else {
                unreachable!()
            };
            names.extend(held);
            Ok(Outcome::Failed {
                names,
                reported,
                error,
            })
        }
    }
}

fn failed(err: &tigris_agent_kit::Error) -> Outcome {
    let mut names = Vec::new();
    let reported = error_names(err, &mut names);
    Outcome::Failed {
        names,
        reported,
        error: err.to_string(),
    }
}

fn teardown_result(result: tigris_agent_kit::Result<()>) -> Outcome {
    match result {
        Ok(()) => Outcome::Ok(Vec::new()),
        Err(err) => failed(&err),
    }
}

async fn workspace_teardown(r: &Run) -> Setup {
    let ws = r
        .env
        .kit
        .create_workspace()
        .bucket("work")
        .ttl_days(7)
        .credentials(Role::Editor)
        .send()
        .await
        .map_err(|e| format!("setup: {e}"))?;
    r.env
        .kit
        .set_notifications(&ws, &notifications())
        .await
        .map_err(|e| format!("setup: {e}"))?;
    r.put("work", "work.txt").await?;
    r.begin();
    Ok(teardown_result(ws.teardown().await))
}

async fn create_forks(r: &Run) -> Setup {
    r.bucket("base", true).await?;
    r.put("base", "data.txt").await?;
    r.begin();
    match r
        .env
        .kit
        .create_forks()
        .base("base")
        .count(2)
        .credentials(Role::Editor)
        .send()
        .await
    {
        Ok(set) => {
            let mut names = Vec::new();
            let reported = set_names(&set, &mut names);
            if set.is_complete() {
                Ok(Outcome::Ok(names))
            } else {
                Ok(Outcome::Failed {
                    names,
                    reported,
                    error: format!("{} of 2 forks failed", set.failures().len()),
                })
            }
        }
        Err(err) => Ok(failed(&err)),
    }
}

async fn fork_set_teardown(r: &Run) -> Setup {
    r.bucket("base", true).await?;
    r.put("base", "data.txt").await?;
    r.mark();
    let set = r
        .env
        .kit
        .create_forks()
        .base("base")
        .count(2)
        .credentials(Role::Editor)
        .send()
        .await
        .map_err(|e| format!("setup: {e}"))?;
    r.begin();
    Ok(teardown_result(set.teardown().await))
}

async fn checkpoint(r: &Run) -> Setup {
    r.bucket("work", true).await?;
    r.put("work", "data.txt").await?;
    r.begin();
    match r
        .env
        .kit
        .checkpoint()
        .bucket("work")
        .name("before-change")
        .send()
        .await
    {
        Ok(cp) => Ok(Outcome::Ok(vec![Name::Snapshot(
            "work".to_owned(),
            cp.version().as_u64(),
        )])),
        Err(err) => Ok(failed(&err)),
    }
}

async fn restore(r: &Run) -> Setup {
    r.bucket("work", true).await?;
    r.put("work", "data.txt").await?;
    let cp = r
        .env
        .kit
        .checkpoint()
        .bucket("work")
        .send()
        .await
        .map_err(|e| format!("setup: {e}"))?;
    r.begin();
    match r
        .env
        .kit
        .restore()
        .bucket("work")
        .version(cp.version().as_str())
        .send()
        .await
    {
        Ok(bucket) => Ok(Outcome::Ok(vec![Name::Bucket(bucket.to_string())])),
        Err(err) => Ok(failed(&err)),
    }
}

async fn merge(r: &Run) -> Setup {
    r.bucket("base", true).await?;
    r.put("base", "data.txt").await?;
    let set = r
        .env
        .kit
        .create_forks()
        .base("base")
        .count(1)
        .send()
        .await
        .map_err(|e| format!("setup: {e}"))?;
    let fork = set.forks()[0].bucket().to_string();
    r.put(&fork, "result.txt").await?;
    r.begin();
    match r.env.kit.merge().fork(&fork).send().await {
        Ok(merge) => Ok(Outcome::Ok(merge_names("base", &merge))),
        Err(err) => Ok(failed(&err)),
    }
}

async fn promote(r: &Run) -> Setup {
    r.bucket("base", true).await?;
    r.put("base", "data.txt").await?;
    r.mark();
    let set = r
        .env
        .kit
        .create_forks()
        .base("base")
        .count(2)
        .credentials(Role::Editor)
        .send()
        .await
        .map_err(|e| format!("setup: {e}"))?;
    let winner = set.forks()[0].clone();
    r.put(winner.bucket().as_str(), "result.txt").await?;
    r.begin();
    match set.promote(&winner).send().await {
        Ok(merge) => Ok(Outcome::Ok(merge_names("base", &merge))),
        Err(err) => {
            let Outcome::Failed {
                mut names,
                reported,
                error,
            } = failed(&err)
            else {
                unreachable!()
            };
            // The caller still holds the set (its teardown removes it) when the merge step
            // failed; a failed teardown step reports its own leftovers above.
            if err.merge().is_none() {
                set_names(&set, &mut names);
            }
            Ok(Outcome::Failed {
                names,
                reported,
                error,
            })
        }
    }
}

async fn key_create(r: &Run) -> Setup {
    r.bucket("work", false).await?;
    r.begin();
    match r
        .env
        .kit
        .iam()
        .create_scoped_key()
        .name("agent")
        .bucket("work".parse().map_err(|e| format!("{e}"))?)
        .role(Role::Editor)
        .send()
        .await
    {
        Ok(key) => Ok(Outcome::Ok(key_names(&key))),
        Err(err) => Ok(iam_failed(&err)),
    }
}

fn iam_failed(err: &tigris_iam::Error) -> Outcome {
    Outcome::Failed {
        names: err.leftovers().iter().flat_map(iam_names).collect(),
        reported: err.leftovers().len(),
        error: err.to_string(),
    }
}

async fn key_with_bucket_roles_create(r: &Run) -> Setup {
    r.bucket("work", false).await?;
    r.bucket("data", false).await?;
    r.begin();
    match r
        .env
        .kit
        .iam()
        .create_key_with_bucket_roles()
        .name("agent")
        .bucket_role("work".parse().map_err(|e| format!("{e}"))?, Role::Editor)
        .bucket_role("data".parse().map_err(|e| format!("{e}"))?, Role::ReadOnly)
        .send()
        .await
    {
        Ok(key) => Ok(Outcome::Ok(vec![Name::Key(key.access_key_id().to_owned())])),
        Err(err) => Ok(iam_failed(&err)),
    }
}

async fn key_with_bucket_roles_delete(r: &Run) -> Setup {
    r.bucket("work", false).await?;
    r.mark();
    let key = r
        .env
        .kit
        .iam()
        .create_key_with_bucket_roles()
        .name("agent")
        .bucket_role("work".parse().map_err(|e| format!("{e}"))?, Role::Editor)
        .send()
        .await
        .map_err(|e| format!("setup: {e}"))?;
    r.begin();
    match r.env.kit.iam().delete_key(key.access_key_id()).await {
        Ok(()) => Ok(Outcome::Ok(Vec::new())),
        Err(err) => Ok(iam_failed(&err)),
    }
}

async fn key_revoke(r: &Run) -> Setup {
    r.bucket("work", false).await?;
    r.mark();
    let key = r
        .env
        .kit
        .iam()
        .create_scoped_key()
        .name("agent")
        .bucket("work".parse().map_err(|e| format!("{e}"))?)
        .role(Role::Editor)
        .send()
        .await
        .map_err(|e| format!("setup: {e}"))?;
    r.begin();
    match r.env.kit.iam().revoke(&key).await {
        Ok(()) => Ok(Outcome::Ok(Vec::new())),
        Err(err) => Ok(iam_failed(&err)),
    }
}

async fn bundle_to_directory(r: &Run) -> Setup {
    r.bucket("data", false).await?;
    let keys = ["a.txt", "dir/b.txt", "dir/c.txt"];
    for key in keys {
        r.put("data", key).await?;
    }
    let dir = tempfile::tempdir().map_err(|e| format!("setup: {e}"))?;
    let transport = tigris_api::Client::new(&r.env.sdk).map_err(|e| format!("setup: {e}"))?;
    r.begin();
    let written = match transport.bundle().bucket("data").keys(keys).send().await {
        Ok(stream) => stream.write_to_dir(dir.path()).await,
        Err(err) => Err(err),
    };
    // Nothing is made on the server; a failed bundle is a plain error.
    Ok(match written {
        Ok(_) => Outcome::Ok(Vec::new()),
        Err(err) => Outcome::Failed {
            names: Vec::new(),
            reported: 0,
            error: err.to_string(),
        },
    })
}

/// A presigned multipart upload: create (with its part URLs), each part PUT to its URL
/// without credentials, complete. Afterwards no upload is left in progress unless the error
/// names it (`Error::leftover_uploads`) or the caller holds its id (a create that succeeded).
async fn presigned_multipart(r: &Run) -> Setup {
    r.bucket("media", false).await?;
    let api = tigris_api::Client::new(&r.env.sdk).map_err(|e| format!("setup: {e}"))?;
    r.begin();
    let upload = match api
        .create_presigned_multipart_upload()
        .bucket("media")
        .key("big")
        .parts(1)
        .send()
        .await
    {
        Ok(upload) => upload,
        Err(err) => {
            let names: Vec<Name> = err
                .leftover_uploads()
                .iter()
                .map(|id| Name::Upload(id.clone()))
                .collect();
            return Ok(Outcome::Failed {
                reported: names.len(),
                names,
                error: err.to_string(),
            });
        }
    };
    let held = Name::Upload(upload.upload_id().to_owned());
    let etag = put_unsigned(upload.parts()[0].url(), b"part").await;
    let done = match etag {
        Some(etag) => {
            api.complete_multipart_upload()
                .bucket("media")
                .key("big")
                .upload_id(upload.upload_id())
                .part(1, etag)
                .send()
                .await
        }
        None => {
            return Ok(Outcome::Failed {
                names: vec![held],
                reported: 0,
                error: "the part upload failed".into(),
            });
        }
    };
    Ok(match done {
        Ok(_) => Outcome::Ok(Vec::new()),
        Err(err) => Outcome::Failed {
            names: vec![held],
            reported: 0,
            error: err.to_string(),
        },
    })
}

/// PUTs `body` to a presigned URL with no credentials; the ETag of a 200 answer.
async fn put_unsigned(url: &str, body: &[u8]) -> Option<String> {
    let answer = tigris_test_support::unsigned_request("PUT", url, &[], body.to_vec())
        .await
        .ok()
        .filter(|a| a.status == 200)?;
    answer.header("etag").map(str::to_owned)
}

/// Acquires a lease, renews it and releases it: afterwards the lease object is gone, or the
/// error names it (or the caller still holds the lease).
async fn lease_cycle(r: &Run) -> Setup {
    r.bucket("coord", false).await?;
    r.begin();
    let lease = r
        .env
        .kit
        .lease()
        .bucket("coord")
        .key("locks/leader")
        .ttl(Duration::from_secs(30));
    let mut lease = match lease.acquire().await {
        Ok(lease) => lease,
        Err(err) => return Ok(failed(&err)),
    };
    let held = Name::Object("coord".to_owned(), lease.key().to_owned());
    if let Err(err) = lease.renew().await {
        return Ok(with_held(failed(&err), held));
    }
    Ok(match lease.release().await {
        Ok(()) => Outcome::Ok(Vec::new()),
        Err(err) => failed(&err),
    })
}

/// Claims the one task of a queue and completes it: the task's record is the result; after a
/// failure the record or the index is named by the error, or the caller still holds the task.
async fn task_cycle(r: &Run) -> Setup {
    r.bucket("coord", false).await?;
    let queue = r
        .env
        .kit
        .task_queue()
        .bucket("coord")
        .prefix("queue/")
        .ttl(Duration::from_secs(30))
        .open()
        .map_err(|e| format!("setup: {e}"))?;
    queue
        .push_with_id("t1", b"work".to_vec())
        .await
        .map_err(|e| format!("setup: {e}"))?;
    r.begin();
    let task = match queue.claim().await {
        Ok(Some(task)) => task,
        Ok(None) => {
            return Ok(Outcome::Failed {
                names: Vec::new(),
                reported: 0,
                error: "no task claimed".to_owned(),
            });
        }
        Err(err) => return Ok(failed(&err)),
    };
    let record = Name::Object("coord".to_owned(), task.record_key());
    Ok(match task.complete().await {
        Ok(()) => Outcome::Ok(vec![record]),
        Err(err) => failed(&err),
    })
}

/// Pushes a batch of three tasks to a new queue: its batch object and the index are the
/// result; after a failure the error names them, or the batch was rolled back.
async fn task_push_batch(r: &Run) -> Setup {
    r.bucket("coord", false).await?;
    let queue = r
        .env
        .kit
        .task_queue()
        .bucket("coord")
        .prefix("queue/")
        .open()
        .map_err(|e| format!("setup: {e}"))?;
    r.begin();
    Ok(
        match queue
            .push_batch([b"a".to_vec(), b"b".to_vec(), b"c".to_vec()])
            .await
        {
            Ok(ids) => {
                let batch = ids[0].rsplit_once('.').map_or("", |(b, _)| b);
                Outcome::Ok(vec![
                    Name::Object("coord".to_owned(), queue.index_key().to_owned()),
                    Name::Object("coord".to_owned(), format!("queue/batches/{batch}")),
                ])
            }
            Err(err) => failed(&err),
        },
    )
}

/// Claims a task and fails it on its last attempt: it lands in the dead letters (in the
/// index), which are listed and re-queued. Nothing new is stored.
async fn task_dead_letter(r: &Run) -> Setup {
    r.bucket("coord", false).await?;
    let queue = r
        .env
        .kit
        .task_queue()
        .bucket("coord")
        .prefix("queue/")
        .max_attempts(1)
        .open()
        .map_err(|e| format!("setup: {e}"))?;
    queue
        .push_with_id("poison", b"bad".to_vec())
        .await
        .map_err(|e| format!("setup: {e}"))?;
    r.begin();
    let task = match queue.claim().await {
        Ok(Some(task)) => task,
        Ok(None) => {
            return Ok(Outcome::Failed {
                names: Vec::new(),
                reported: 0,
                error: "no task claimed".to_owned(),
            });
        }
        Err(err) => return Ok(failed(&err)),
    };
    if let Err(err) = task.fail("poison").await {
        return Ok(failed(&err));
    }
    let mut letters = queue.dead_letters().into_paginator().items().send();
    while let Some(letter) = letters.next().await {
        let letter = match letter {
            Ok(letter) => letter,
            Err(err) => return Ok(failed(&err)),
        };
        if let Err(err) = queue.requeue(letter.id()).await {
            return Ok(failed(&err));
        }
    }
    Ok(Outcome::Ok(Vec::new()))
}

/// A failed outcome that also names what the caller still holds.
fn with_held(outcome: Outcome, held: Name) -> Outcome {
    match outcome {
        Outcome::Failed {
            mut names,
            reported,
            error,
        } => {
            names.push(held);
            Outcome::Failed {
                names,
                reported,
                error,
            }
        }
        ok => ok,
    }
}

/// A workflow of the matrix: its name and how to run it (`None`: not written yet).
struct Workflow {
    name: &'static str,
    run: Option<for<'a> fn(&'a Run) -> Boxed<'a, Setup>>,
}

macro_rules! workflow {
    ($name:expr, $f:ident) => {{
        fn run(r: &Run) -> Boxed<'_, Setup> {
            Box::pin($f(r))
        }
        Workflow {
            name: $name,
            run: Some(run),
        }
    }};
}

fn workflows() -> Vec<Workflow> {
    vec![
        workflow!(
            "workspace create (TTL, credentials, notifications)",
            workspace_create
        ),
        workflow!("workspace teardown", workspace_teardown),
        workflow!("create_forks (2, with credentials)", create_forks),
        workflow!("fork-set teardown", fork_set_teardown),
        workflow!("checkpoint", checkpoint),
        workflow!("restore", restore),
        workflow!("merge", merge),
        workflow!("promote", promote),
        workflow!("scoped key create", key_create),
        workflow!("scoped key revoke", key_revoke),
        workflow!("key with bucket roles create", key_with_bucket_roles_create),
        workflow!("key with bucket roles delete", key_with_bucket_roles_delete),
        workflow!("bundle to directory", bundle_to_directory),
        workflow!(
            "presigned multipart upload (create, part URL, complete)",
            presigned_multipart
        ),
        workflow!("lease acquire/renew/release", lease_cycle),
        workflow!("task claim/complete", task_cycle),
        workflow!("task push batch", task_push_batch),
        workflow!("task fail to dead letter, list, requeue", task_dead_letter),
    ]
}

/// The ways a request fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Status500,
    Status403,
    SlowDown,
    DropBefore,
    LostResponse,
}

const KINDS: [Kind; 5] = [
    Kind::Status500,
    Kind::Status403,
    Kind::SlowDown,
    Kind::DropBefore,
    Kind::LostResponse,
];

impl Kind {
    fn fault(self, k: usize) -> Fault {
        let any = Fault::any().skip(u32::try_from(k).unwrap_or(u32::MAX));
        match self {
            Self::Status500 => any.status(500).code("InternalError"),
            Self::Status403 => any.status(403).code("AccessDenied"),
            Self::SlowDown => any.status(503).code("SlowDown"),
            Self::DropBefore => any.drop_connection(),
            Self::LostResponse => any.after_apply().drop_connection(),
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Status500 => "500",
            Self::Status403 => "403",
            Self::SlowDown => "503 SlowDown",
            Self::DropBefore => "dropped before applying",
            Self::LostResponse => "lost response after applying",
        }
    }
}

#[derive(Debug, Default)]
struct Row {
    requests: Vec<String>,
    tried: usize,
    leaks: usize,
    reported: usize,
    succeeded: usize,
    failed_clean: usize,
    not_reached: usize,
}

/// A leak found: where, and what.
struct Leak {
    workflow: &'static str,
    position: usize,
    operation: String,
    kind: Kind,
    items: Vec<Item>,
}

/// The run's unnamed items: what exists now, is not foreign, and nothing names.
fn unnamed(run: &Run, outcome: &Outcome) -> Vec<Item> {
    let foreign = run.lock().clone().unwrap_or_default();
    let names = match outcome {
        Outcome::Ok(names) | Outcome::Failed { names, .. } => names,
    };
    run.inventory()
        .into_iter()
        // Objects are data the workflow writes on purpose (a merge's result); what must not
        // leak is the containers, credentials, and coordination records: lease objects
        // (`locks/`) and the task queue's index, batches and task records (`queue/`).
        .filter(|i| match i {
            Item::Object(_, key) => key.starts_with("locks/") || key.starts_with("queue/"),
            _ => true,
        })
        .filter(|i| !foreign.contains(i))
        .filter(|i| !names.iter().any(|n| n.covers(i)))
        .collect()
}

async fn run_matrix(
    quick: bool,
    only: Option<&str>,
) -> Result<(Vec<(&'static str, Option<Row>)>, Vec<Leak>), String> {
    let mut rows = Vec::new();
    let mut leaks = Vec::new();
    for workflow in workflows() {
        if only.is_some_and(|only| !workflow.name.contains(only)) {
            continue;
        }
        let Some(body) = workflow.run else {
            rows.push((workflow.name, None));
            continue;
        };
        let clean = Run::start(None).await;
        let outcome = body(&clean)
            .await
            .map_err(|e| format!("{}: {e}", workflow.name))?;
        if let Outcome::Failed { error, .. } = &outcome {
            return Err(format!(
                "{}: the run without faults failed: {error}",
                workflow.name
            ));
        }
        let stray = unnamed(&clean, &outcome);
        if !stray.is_empty() {
            return Err(format!(
                "{}: the run without faults leaves unnamed {stray:?}",
                workflow.name
            ));
        }
        let requests = clean.env.emu.faults().recorded();
        drop(clean);
        let mut row = Row {
            requests: requests.clone(),
            ..Row::default()
        };
        let plan: Vec<(usize, Kind)> = if quick {
            let mut seen = BTreeSet::new();
            requests
                .iter()
                .enumerate()
                .filter(|(_, op)| seen.insert(op.as_str()))
                .flat_map(|(k, _)| [(k, Kind::Status500), (k, Kind::LostResponse)])
                .collect()
        } else {
            (0..requests.len())
                .flat_map(|k| KINDS.map(|kind| (k, kind)))
                .collect()
        };
        for (k, kind) in plan {
            let run = Run::start(Some(kind.fault(k))).await;
            let outcome = body(&run)
                .await
                .map_err(|e| format!("{} at {k} ({}): {e}", workflow.name, kind.label()))?;
            row.tried += 1;
            if run.env.emu.faults().recorded().len() <= k {
                row.not_reached += 1;
            }
            let stray = unnamed(&run, &outcome);
            if !stray.is_empty() {
                row.leaks += 1;
                leaks.push(Leak {
                    workflow: workflow.name,
                    position: k,
                    operation: requests[k].clone(),
                    kind,
                    items: stray,
                });
            }
            match outcome {
                Outcome::Ok(_) => row.succeeded += 1,
                Outcome::Failed { reported: 0, .. } => row.failed_clean += 1,
                Outcome::Failed { .. } => row.reported += 1,
            }
        }
        rows.push((workflow.name, Some(row)));
    }
    Ok((rows, leaks))
}

fn sequence(requests: &[String]) -> String {
    // Runs of the same operation collapse: `CreateBucket, PutObject ×3`.
    let mut out: Vec<(String, usize)> = Vec::new();
    for op in requests {
        match out.last_mut() {
            Some((last, n)) if last == op => *n += 1,
            _ => out.push((op.clone(), 1)),
        }
    }
    out.iter()
        .map(|(op, n)| {
            if *n > 1 {
                format!("{op} ×{n}")
            } else {
                op.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::process::ExitCode {
    let quick = tigris_reliability::quick_from(std::env::args());
    let started = Instant::now();
    // `--only TEXT`: the workflows whose name contains TEXT.
    let only = std::env::args().skip_while(|a| a != "--only").nth(1);
    let (rows, leaks) = match run_matrix(quick, only.as_deref()).await {
        Ok(found) => found,
        Err(err) => {
            println!("## Fault matrix\n\nThe matrix could not run: {err}\n");
            return std::process::ExitCode::FAILURE;
        }
    };
    let elapsed = started.elapsed();
    let mut out = String::new();
    let _ = writeln!(out, "## Fault matrix\n");
    let _ = writeln!(
        out,
        "Each workflow ran once without faults to record its requests (the emulator's request \
         record, after its preconditions are set up), then once per request position k and \
         fault kind on a fresh emulator, the k-th request failing: {}. SDK retries are on \
         (standard, 3 attempts, backoff shortened to 1 ms). After each run every bucket, \
         snapshot, access key, policy and attachment the emulator holds is either one the \
         workflow did not own, or named by its result or by its error as a leftover; anything \
         else is a silent leak. A workflow with concurrent steps (create_forks) may order \
         its requests differently from run to run; position k is the k-th request to arrive.\n",
        if quick {
            "a 500 and a lost response, at the first position of each distinct operation \
             (`--quick`)"
                .to_owned()
        } else {
            KINDS
                .iter()
                .map(|k| k.label())
                .collect::<Vec<_>>()
                .join(", ")
        },
    );
    let _ = writeln!(
        out,
        "| workflow | requests | fault points × kinds tried | silent leaks | leftovers reported | retried and succeeded | failed, nothing left |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
    let mut total = (0, 0, 0, 0, 0);
    for (name, row) in &rows {
        match row {
            None => {
                let _ = writeln!(out, "| {name} | pending | | | | | |");
            }
            Some(row) => {
                total.0 += row.tried;
                total.1 += row.leaks;
                total.2 += row.reported;
                total.3 += row.succeeded;
                total.4 += row.failed_clean;
                let _ = writeln!(
                    out,
                    "| {name} | {} | {} | {} | {} | {} | {} |",
                    row.requests.len(),
                    row.tried,
                    row.leaks,
                    row.reported,
                    row.succeeded,
                    row.failed_clean
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "| **all** | | **{}** | **{}** | {} | {} | {} |\n",
        total.0, total.1, total.2, total.3, total.4
    );
    let not_reached: usize = rows
        .iter()
        .filter_map(|(_, r)| r.as_ref())
        .map(|r| r.not_reached)
        .sum();
    let _ = writeln!(
        out,
        "Runs whose fault position was never reached (the failure took another path first): \
         {not_reached}. \"Named by its \
         result\" includes, for a workflow of two calls (workspace create + notifications, \
         promote = merge + teardown), the handle the caller still holds from the first call when \
         the second fails. Run time: {:.0} s.\n",
        elapsed.as_secs_f64()
    );
    if leaks.is_empty() {
        let _ = writeln!(out, "No silent leaks.\n");
    } else {
        let _ = writeln!(out, "Silent leaks:\n");
        let _ = writeln!(out, "| workflow | k | request | fault | left unnamed |");
        let _ = writeln!(out, "|---|---:|---|---|---|");
        for leak in &leaks {
            let items = leak
                .items
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {items} |",
                leak.workflow,
                leak.position,
                leak.operation,
                leak.kind.label()
            );
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(
        out,
        "<details><summary>The requests of each workflow</summary>\n"
    );
    for (name, row) in &rows {
        if let Some(row) = row {
            let _ = writeln!(out, "- {name}: {}", sequence(&row.requests));
        }
    }
    let _ = writeln!(out, "\n</details>\n");
    print!("{out}");
    if leaks.is_empty() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
