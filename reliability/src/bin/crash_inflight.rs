//! Crash of the server while requests are in flight: the emulator binary on `--data-dir`,
//! written to by concurrent writers of every kind (object put, multipart upload, copy, rename,
//! multi-delete, snapshot, fork, merge, soft delete, IAM access keys, notification settings;
//! two writers per kind), SIGKILLed once a random number of requests has been sent (seeded;
//! `--seed N` repeats a run) while the others are mid-request, restarted on the same directory,
//! and checked: every change a writer was told succeeded is there, and each writer's last
//! unanswered change is either wholly there or wholly absent (a rename leaves one key, never
//! both). Goal: 0 lost, 0 half-applied. `--quick`: 4 kills (full: 40).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, ExitCode};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, Delete, ObjectIdentifier};
use aws_smithy_types::retry::RetryConfig;
use tigris_core::config::{self, s3_client};
use tigris_headers::prelude::*;
use tigris_headers::soft_delete::Retention;
use tigris_notify::{NotificationConfig, Notifications, SignedTransport};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const KINDS: [&str; 11] = [
    "object",
    "multipart",
    "copy",
    "rename",
    "multi-delete",
    "snapshot",
    "fork",
    "merge",
    "soft delete",
    "IAM",
    "notification settings",
];
const PER_KIND: usize = 2;

/// The running emulator process.
#[derive(Debug, Default)]
struct Server {
    child: Mutex<Option<Child>>,
    sent: AtomicU64,
    kill_at: AtomicU64,
}

impl Server {
    fn kill(&self) {
        if let Some(mut child) = self.child.lock().unwrap_or_else(|e| e.into_inner()).take() {
            child.kill().ok();
            child.wait().ok();
        }
    }

    /// Counts a request about to be sent; the planned one kills the server first, so the
    /// requests other writers have in flight meet the kill.
    fn before_request(&self) {
        let n = self.sent.fetch_add(1, Ordering::SeqCst) + 1;
        if n == self.kill_at.load(Ordering::SeqCst) {
            self.kill();
        }
    }
}

fn spawn(dir: &Path) -> Result<(Child, String), BoxError> {
    use std::io::BufRead;
    let bin = std::env::current_exe()?.with_file_name("tigris-emulator");
    let mut child = std::process::Command::new(&bin)
        .args(["--port", "0", "--data-dir"])
        .arg(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    for line in std::io::BufReader::new(stdout).lines() {
        if let Some(endpoint) = line?.strip_prefix("ready: ") {
            return Ok((child, endpoint.to_owned()));
        }
    }
    Err("the emulator exited before it was ready".into())
}

/// Clients for one emulator process.
#[derive(Clone)]
struct Clients {
    s3: aws_sdk_s3::Client,
    iam: aws_sdk_iam::Client,
    notifications: Arc<Notifications>,
    api: tigris_api::Client,
}

fn clients(endpoint: &str, retries: bool) -> Result<Clients, BoxError> {
    let creds = aws_credential_types::Credentials::new(
        tigris_emulator::DEFAULT_ACCESS_KEY_ID,
        tigris_emulator::DEFAULT_SECRET_ACCESS_KEY,
        None,
        None,
        "crash",
    );
    let retry = if retries {
        RetryConfig::standard()
    } else {
        RetryConfig::disabled()
    };
    let sdk = config::builder()
        .endpoint_url(endpoint)
        .credentials(creds)
        .retry_config(retry)
        .timeout_config(
            aws_smithy_types::timeout::TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_secs(10))
                .build(),
        )
        .build();
    let iam_conf = aws_sdk_iam::config::Builder::from(&sdk)
        .endpoint_url(endpoint)
        .build();
    Ok(Clients {
        s3: s3_client(&sdk),
        iam: aws_sdk_iam::Client::from_conf(iam_conf),
        notifications: Arc::new(Notifications::new(SignedTransport::new(&sdk)?)),
        api: tigris_api::Client::new(&sdk)?,
    })
}

/// What one writer knows: the state its acknowledged changes made, and its one change that got
/// no answer (applied or not: both are allowed, half of it is not).
#[derive(Debug, Default, Clone)]
struct Writer {
    kind: usize,
    id: usize,
    /// Sequence number of the writer's next change.
    n: u64,
    /// object / multipart / copy / merge / notification settings: the value acknowledged last.
    value: Option<String>,
    /// rename: the key the object lives at now.
    at: Option<String>,
    /// multi-delete and soft delete: keys whose deletion was acknowledged (the latest ones).
    gone: Vec<String>,
    /// snapshot, fork, IAM: names (snapshot names, fork buckets, access key ids) acknowledged.
    made: Vec<String>,
    /// IAM: access keys whose deletion was acknowledged.
    deleted: Vec<String>,
    /// The change in flight when the server died: its value, key or name.
    pending: Option<String>,
    acknowledged: u64,
}

fn kind_bucket(kind: usize) -> String {
    format!("crash-k{kind}")
}

/// The buckets every writer needs, made before the first kill.
async fn setup(c: &Clients) -> Result<(), BoxError> {
    for (kind, name) in KINDS.iter().enumerate() {
        let bucket = kind_bucket(kind);
        match *name {
            "snapshot" | "fork" => {
                c.s3.create_bucket()
                    .bucket(&bucket)
                    .enable_snapshots()
                    .send()
                    .await?;
            }
            "soft delete" => {
                c.s3.create_bucket()
                    .bucket(&bucket)
                    .enable_soft_delete(Retention::default())
                    .send()
                    .await?;
            }
            "merge" => {
                for id in 0..PER_KIND {
                    let parent = format!("crash-mp{id}");
                    c.s3.create_bucket()
                        .bucket(&parent)
                        .enable_snapshots()
                        .send()
                        .await?;
                    c.s3.create_bucket()
                        .bucket(format!("crash-mf{id}"))
                        .fork_of(&parent.parse()?)
                        .send()
                        .await?;
                }
            }
            "notification settings" => {
                for id in 0..PER_KIND {
                    c.s3.create_bucket()
                        .bucket(format!("crash-nt{id}"))
                        .send()
                        .await?;
                }
            }
            _ => {
                c.s3.create_bucket().bucket(&bucket).send().await?;
            }
        }
    }
    Ok(())
}

async fn put(c: &Clients, bucket: &str, key: &str, body: &str) -> Result<(), BoxError> {
    c.s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body.as_bytes().to_vec()))
        .send()
        .await?;
    Ok(())
}

/// One change of `w`'s kind; `Ok` only when every request of it was acknowledged. `w.pending`
/// is set before the first request and cleared by the caller on success.
async fn step(c: &Clients, server: &Server, w: &mut Writer) -> Result<(), BoxError> {
    let bucket = kind_bucket(w.kind);
    let n = w.n;
    let tag = format!("w{}-{n}", w.id);
    match KINDS[w.kind] {
        "object" => {
            w.pending = Some(tag.clone());
            server.before_request();
            put(c, &bucket, &format!("w{}/obj", w.id), &tag).await?;
            w.value = Some(tag);
        }
        "multipart" => {
            w.pending = Some(tag.clone());
            let key = format!("w{}/mp", w.id);
            server.before_request();
            let up =
                c.s3.create_multipart_upload()
                    .bucket(&bucket)
                    .key(&key)
                    .send()
                    .await?;
            let upload = up.upload_id().ok_or("no upload id")?;
            server.before_request();
            let part =
                c.s3.upload_part()
                    .bucket(&bucket)
                    .key(&key)
                    .upload_id(upload)
                    .part_number(1)
                    .body(ByteStream::from(tag.clone().into_bytes()))
                    .send()
                    .await?;
            let done = CompletedPart::builder()
                .part_number(1)
                .set_e_tag(part.e_tag().map(str::to_owned))
                .build();
            server.before_request();
            c.s3.complete_multipart_upload()
                .bucket(&bucket)
                .key(&key)
                .upload_id(upload)
                .multipart_upload(CompletedMultipartUpload::builder().parts(done).build())
                .send()
                .await?;
            w.value = Some(tag);
        }
        "copy" => {
            let src = format!("w{}/src", w.id);
            server.before_request();
            put(c, &bucket, &src, &tag).await?;
            w.pending = Some(tag.clone());
            server.before_request();
            c.s3.copy_object()
                .bucket(&bucket)
                .key(format!("w{}/copy", w.id))
                .copy_source(format!("{bucket}/{src}"))
                .send()
                .await?;
            w.value = Some(tag);
        }
        "rename" => {
            let next = format!("w{}/r/{n}", w.id);
            match w.at.clone() {
                None => {
                    w.pending = Some(next.clone());
                    server.before_request();
                    put(c, &bucket, &next, &tag).await?;
                }
                Some(at) => {
                    w.pending = Some(next.clone());
                    server.before_request();
                    c.s3.move_object()
                        .bucket(&bucket)
                        .from_key(&at)
                        .to_key(&next)
                        .send()
                        .await?;
                }
            }
            w.at = Some(next);
        }
        "multi-delete" => {
            let keys: Vec<String> = (0..3).map(|i| format!("w{}/md/{n}/{i}", w.id)).collect();
            for key in &keys {
                server.before_request();
                put(c, &bucket, key, &tag).await?;
            }
            let ids = keys
                .iter()
                .map(|k| ObjectIdentifier::builder().key(k).build())
                .collect::<Result<Vec<_>, _>>()?;
            server.before_request();
            c.s3.delete_objects()
                .bucket(&bucket)
                .delete(Delete::builder().set_objects(Some(ids)).build()?)
                .send()
                .await?;
            w.gone.extend(keys);
        }
        "snapshot" => {
            w.pending = Some(tag.clone());
            server.before_request();
            c.s3.create_snapshot()
                .bucket(&bucket)
                .name(&tag)
                .send()
                .await?;
            w.made.push(tag);
        }
        "fork" => {
            let fork = format!("crash-fk{}-{n}", w.id);
            w.pending = Some(fork.clone());
            server.before_request();
            c.s3.create_bucket()
                .bucket(&fork)
                .fork_of(&bucket.parse()?)
                .send()
                .await?;
            w.made.push(fork);
        }
        "merge" => {
            let fork = format!("crash-mf{}", w.id);
            server.before_request();
            put(c, &fork, "merged", &tag).await?;
            w.pending = Some(tag.clone());
            server.before_request();
            c.api
                .merge_fork()
                .fork(&fork)
                .parent(format!("crash-mp{}", w.id))
                .send()
                .await?;
            w.value = Some(tag);
        }
        "soft delete" => {
            let key = format!("w{}/s/{n}", w.id);
            server.before_request();
            put(c, &bucket, &key, &tag).await?;
            server.before_request();
            c.s3.delete_object()
                .bucket(&bucket)
                .key(&key)
                .send()
                .await?;
            w.gone.push(key);
        }
        "IAM" => {
            if n % 3 == 2
                && let Some(id) = w.made.pop()
            {
                w.pending = Some(id.clone());
                server.before_request();
                let deleted = c.iam.delete_access_key().access_key_id(&id).send().await;
                if let Err(e) = deleted {
                    w.made.push(id);
                    return Err(e.into());
                }
                w.deleted.push(id);
            } else {
                w.pending = None;
                server.before_request();
                let key = c.iam.create_access_key().send().await?;
                let id = key
                    .access_key()
                    .map(|k| k.access_key_id().to_owned())
                    .ok_or("no key")?;
                w.made.push(id);
            }
        }
        "notification settings" => {
            let url = format!("http://127.0.0.1:9/w{}/{n}", w.id);
            w.pending = Some(url.clone());
            let config = NotificationConfig::builder(&url).build()?;
            server.before_request();
            c.notifications
                .set(&format!("crash-nt{}", w.id).parse()?, &config)
                .await?;
            w.value = Some(url);
        }
        other => return Err(format!("unknown kind {other}").into()),
    }
    Ok(())
}

/// Runs `w` until a request fails (the server was killed); returns it.
async fn run_writer(c: Clients, server: Arc<Server>, mut w: Writer) -> Writer {
    loop {
        w.pending = None;
        match step(&c, &server, &mut w).await {
            Ok(()) => {
                w.pending = None;
                w.acknowledged += 1;
                w.n += 1;
            }
            Err(_) => {
                w.n += 1;
                return w;
            }
        }
    }
}

async fn body(c: &Clients, bucket: &str, key: &str) -> Result<Option<String>, BoxError> {
    match c.s3.get_object().bucket(bucket).key(key).send().await {
        Ok(out) => {
            let data = out.body.collect().await?.into_bytes();
            Ok(Some(String::from_utf8_lossy(&data).into_owned()))
        }
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn keys(c: &Clients, bucket: &str, prefix: &str) -> Result<Vec<String>, BoxError> {
    let out =
        c.s3.list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .send()
            .await?;
    Ok(out
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect())
}

/// A value read back must be the acknowledged one or the pending one (then adopted), never
/// older.
fn value_is(found: Option<String>, w: &mut Writer, who: &str, problems: &mut Vec<String>) {
    if found == w.value {
        return;
    }
    if found.is_some() && found == w.pending {
        w.value = found;
        return;
    }
    problems.push(format!(
        "{who}: found {found:?}, acknowledged {:?} (pending {:?})",
        w.value, w.pending
    ));
}

/// Checks `w` against the restarted server: returns (lost, half-applied) findings, and moves
/// `w` to the state the server holds (its pending change adopted when it was applied).
async fn check(c: &Clients, w: &mut Writer) -> Result<Vec<String>, BoxError> {
    let mut problems = Vec::new();
    let bucket = kind_bucket(w.kind);
    let who = format!("{} writer {}", KINDS[w.kind], w.id);
    match KINDS[w.kind] {
        "object" => value_is(
            body(c, &bucket, &format!("w{}/obj", w.id)).await?,
            w,
            &who,
            &mut problems,
        ),
        "multipart" => value_is(
            body(c, &bucket, &format!("w{}/mp", w.id)).await?,
            w,
            &who,
            &mut problems,
        ),
        "copy" => value_is(
            body(c, &bucket, &format!("w{}/copy", w.id)).await?,
            w,
            &who,
            &mut problems,
        ),
        "merge" => value_is(
            body(c, &format!("crash-mp{}", w.id), "merged").await?,
            w,
            &who,
            &mut problems,
        ),
        "notification settings" => {
            let meta = c
                .api
                .bucket_metadata()
                .bucket(format!("crash-nt{}", w.id))
                .send()
                .await?;
            let url = meta.notifications().and_then(|n| n.url.clone());
            value_is(url, w, &who, &mut problems);
        }
        "rename" => {
            let found = keys(c, &bucket, &format!("w{}/r/", w.id)).await?;
            let allowed: BTreeSet<_> = w.at.iter().chain(w.pending.iter()).collect();
            if found.len() > 1 {
                problems.push(format!("{who}: half-applied rename, both {found:?} exist"));
            } else if let Some(key) = found.first() {
                if !allowed.contains(key) {
                    problems.push(format!("{who}: found {key}, acknowledged {:?}", w.at));
                }
                w.at = Some(key.clone());
            } else if w.at.is_some() {
                problems.push(format!("{who}: lost {:?}", w.at));
            }
        }
        "multi-delete" | "soft delete" => {
            let prefix = if KINDS[w.kind] == "soft delete" {
                format!("w{}/s/", w.id)
            } else {
                format!("w{}/md/", w.id)
            };
            let live: BTreeSet<String> = keys(c, &bucket, &prefix).await?.into_iter().collect();
            for key in &w.gone {
                if live.contains(key) {
                    problems.push(format!("{who}: deleted {key} is back"));
                }
            }
            w.gone.clear();
        }
        "snapshot" => {
            let page = c.s3.list_snapshots().bucket(&bucket).send().await?;
            let names: BTreeSet<String> = page
                .snapshots()
                .iter()
                .filter_map(|s| s.name().map(str::to_owned))
                .collect();
            for name in &w.made {
                if !names.contains(name) {
                    problems.push(format!("{who}: snapshot {name} lost"));
                }
            }
        }
        "fork" => {
            for fork in &w.made {
                if c.s3.head_bucket().bucket(fork).send().await.is_err() {
                    problems.push(format!("{who}: fork {fork} lost"));
                }
            }
        }
        "IAM" => {
            let listed = c.iam.list_access_keys().send().await?;
            let ids: BTreeSet<String> = listed
                .access_key_metadata()
                .iter()
                .filter_map(|k| k.access_key_id().map(str::to_owned))
                .collect();
            for id in &w.made {
                if !ids.contains(id) && w.pending.as_ref() != Some(id) {
                    problems.push(format!("{who}: access key {id} lost"));
                }
            }
            for id in &w.deleted {
                if ids.contains(id) {
                    problems.push(format!("{who}: deleted access key {id} is back"));
                }
            }
            if let Some(id) = &w.pending
                && !ids.contains(id)
            {
                w.made.retain(|m| m != id);
                w.deleted.push(id.clone());
            }
        }
        _ => {}
    }
    w.pending = None;
    Ok(problems)
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("crash_inflight: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<bool, BoxError> {
    let quick = tigris_reliability::quick();
    let seed = std::env::args()
        .skip_while(|a| a != "--seed")
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    let mut rng = fastrand::Rng::with_seed(seed);
    let kills = if quick { 4 } else { 40 };
    let most = if quick { 6 } else { 20 };
    let dir = tempfile::tempdir()?;
    let mut writers: Vec<Writer> = (0..KINDS.len())
        .flat_map(|kind| {
            (0..PER_KIND).map(move |id| Writer {
                kind,
                id,
                ..Writer::default()
            })
        })
        .collect();
    let (child, endpoint) = spawn(dir.path())?;
    let server = Arc::new(Server::default());
    *server.child.lock().unwrap_or_else(|e| e.into_inner()) = Some(child);
    setup(&clients(&endpoint, true)?).await?;
    let mut acknowledged = 0u64;
    let mut problems = Vec::new();
    let mut endpoint = endpoint;
    for round in 0..kills {
        let c = clients(&endpoint, false)?;
        server.sent.store(0, Ordering::SeqCst);
        // Between one and several requests per writer into the round.
        let kill_at = rng.u64(writers.len() as u64..=writers.len() as u64 * most);
        server.kill_at.store(kill_at, Ordering::SeqCst);
        let tasks: Vec<_> = writers
            .drain(..)
            .map(|w| tokio::spawn(run_writer(c.clone(), Arc::clone(&server), w)))
            .collect();
        for task in tasks {
            writers.push(task.await?);
        }
        server.kill();
        let (child, restarted) = spawn(dir.path())?;
        *server.child.lock().unwrap_or_else(|e| e.into_inner()) = Some(child);
        endpoint = restarted;
        let check_clients = clients(&endpoint, true)?;
        for w in &mut writers {
            acknowledged += std::mem::take(&mut w.acknowledged);
            let found = check(&check_clients, w).await?;
            for p in found {
                problems.push(format!("kill {}: {p}", round + 1));
            }
        }
        eprintln!(
            "kill {}/{kills}: {acknowledged} acknowledged so far, {} problems",
            round + 1,
            problems.len()
        );
    }
    server.kill();
    println!("## Crash with requests in flight\n");
    println!(
        "`cargo run{} -p tigris-reliability --bin crash_inflight -- --seed {seed}{}` (the \
         seed repeats the run): the `tigris-emulator` binary on `--data-dir`, {} writers ({} per \
         kind: {}) sending concurrently, SIGKILLed when a random request (between one and {most} per \
         writer into the round) is about to be sent, so the others' requests are in flight; \
         restarted on the same directory and checked: each acknowledged change present, each \
         writer's unanswered change wholly there or wholly absent (a rename leaves exactly one \
         key). SDK retries off while writing.\n",
        if cfg!(debug_assertions) {
            ""
        } else {
            " --release"
        },
        if quick { " --quick" } else { "" },
        KINDS.len() * PER_KIND,
        PER_KIND,
        KINDS.join(", "),
    );
    println!("| kills | acknowledged changes | lost or half-applied |");
    println!("|---|---|---|");
    println!("| {kills} | {acknowledged} | {} |", problems.len());
    for p in &problems {
        println!("\n- {p}");
    }
    Ok(problems.is_empty())
}
