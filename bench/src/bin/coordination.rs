//! Benchmark: 32 agents draining 1,000 tasks through `tigris-agent-kit`'s `TaskQueue` (claims
//! are conditional writes), with 5 % of the agents killed mid-task, versus a naive
//! list-then-put queue (agents list unclaimed tasks and claim with a plain PUT). Checks that
//! the kit completes every task exactly once and counts the naive queue's duplicate runs.
//! Prints a Markdown section; `cargo xtask bench` collects it into `docs/benchmarks.md`.
//!
//! Killed agents claim a task and stop; their claims lapse after the real TTL ([`TTL`], judged
//! by the emulator's clock, which is not advanced here), and survivors claim those tasks again.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_s3::config::Credentials;
use aws_sdk_s3::primitives::ByteStream;
use futures::StreamExt;
use tigris_agent_kit::AgentKit;
use tigris_core::config;

const AGENTS: usize = 32;
const TASKS: usize = 1_000;
/// 5 % of 32, rounded up.
const KILLED: usize = 2;
const TTL: Duration = Duration::from_secs(2);
/// How long an idle agent waits before it polls again.
const POLL: Duration = Duration::from_millis(100);
const LATENCY: Duration = Duration::from_millis(20);

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug)]
struct Run {
    elapsed: Duration,
    /// Successful claims (first claims and re-claims of lapsed ones).
    claims: usize,
    /// Task runs beyond one per task (at-least-once re-runs after a kill, or naive races).
    duplicate_runs: usize,
    /// Completions beyond one per task.
    duplicate_completions: usize,
    lost: usize,
    requests: u64,
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let emu = tigris_emulator::Emulator::start().await?;
    let root = emu.root_credentials();
    let creds = Credentials::new(
        root.access_key_id(),
        root.secret_access_key(),
        None,
        None,
        "bench",
    );
    let sdk = config::builder()
        .endpoint_url(emu.endpoint())
        .credentials(creds)
        .build();
    let kit = AgentKit::new(&sdk)?;

    let mut rows = Vec::new();
    for (label, latency) in [("loopback", Duration::ZERO), ("20 ms per request", LATENCY)] {
        emu.faults().set_latency(Duration::ZERO);
        let bucket = format!("bench-queue-{}", latency.as_millis());
        kit.s3().create_bucket().bucket(&bucket).send().await?;
        push_all(&kit, &bucket).await?;
        eprintln!("{label}: pushed");
        emu.faults().set_latency(latency);
        let before = emu.faults().total();
        eprintln!("{label}: kit queue");
        let mut kit_run = drain_with_kit(&kit, &bucket).await?;
        kit_run.requests = emu.faults().total() - before;
        eprintln!("{label}: {kit_run:?}");

        emu.faults().set_latency(Duration::ZERO);
        let naive_bucket = format!("bench-naive-{}", latency.as_millis());
        kit.s3()
            .create_bucket()
            .bucket(&naive_bucket)
            .send()
            .await?;
        push_all(&kit, &naive_bucket).await?;
        emu.faults().set_latency(latency);
        let before = emu.faults().total();
        eprintln!("{label}: naive queue");
        let mut naive_run = drain_naive(&kit, &naive_bucket).await?;
        naive_run.requests = emu.faults().total() - before;
        eprintln!("{label}: {naive_run:?}");
        emu.faults().set_latency(Duration::ZERO);
        assert_eq!(kit_run.lost, 0, "no task lost");
        assert_eq!(kit_run.duplicate_completions, 0, "exactly-once completion");
        rows.push((label, kit_run, naive_run));
    }

    println!("## Coordination: exactly-once task claims versus list-then-put\n");
    println!(
        "{AGENTS} agents drain {TASKS} tasks from one `TaskQueue` (claims are conditional writes; \
         the TTL is {} s of the emulator's clock); {KILLED} agents ({:.0} %) are killed holding a \
         claim, which lapses and is claimed again. The naive queue: each agent lists the tasks and \
         claims, picks an unclaimed one at random, claims it with a plain PUT and runs it (no \
         kills). One run each, `cargo run --release -p tigris-bench --bin coordination` \
         (embedded emulator, 2 shared cores). Every kit run completed every task exactly once \
         (checked); the time includes waiting out the killed agents' TTL.\n",
        TTL.as_secs(),
        KILLED as f64 * 100.0 / AGENTS as f64,
    );
    println!(
        "| latency | queue | time | claims/s | lost tasks | duplicate completions | duplicate runs (per 1,000 tasks) | requests per task |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (label, kit_run, naive_run) in &rows {
        for (name, run) in [
            ("kit `TaskQueue`", kit_run),
            ("naive list-then-put", naive_run),
        ] {
            println!(
                "| {label} | {name} | {:.2} s | {:.0} | {} | {} | {} | {:.1} |",
                run.elapsed.as_secs_f64(),
                run.claims as f64 / run.elapsed.as_secs_f64(),
                run.lost,
                run.duplicate_completions,
                run.duplicate_runs,
                run.requests as f64 / TASKS as f64,
            );
        }
    }
    println!();
    for (label, kit_run, naive_run) in &rows {
        let ratio = if kit_run.duplicate_runs == 0 {
            "no duplicate runs at all".to_owned()
        } else {
            format!(
                "{:.1}x the kit's",
                naive_run.duplicate_runs as f64 / kit_run.duplicate_runs as f64
            )
        };
        println!(
            "- {label}: the naive queue ran {} tasks twice or more ({ratio}, whose only re-runs are \
             the {} tasks of the killed agents) and cannot tell which completion counts; the kit \
             refused every completion by a claimant that lost its claim.",
            naive_run.duplicate_runs, kit_run.duplicate_runs
        );
    }
    emu.shutdown().await;
    Ok(())
}

async fn push_all(kit: &AgentKit, bucket: &str) -> Result<(), BoxError> {
    let queue = kit.task_queue(bucket, "jobs").open()?;
    let queue = &queue;
    let pushes = (0..TASKS).map(|i| async move {
        queue
            .push_with_id(&format!("t-{i:04}"), format!("task {i}").into_bytes())
            .await
    });
    let mut stream = futures::stream::iter(pushes).buffer_unordered(64);
    while let Some(pushed) = stream.next().await {
        pushed?;
    }
    Ok(())
}

async fn drain_with_kit(kit: &AgentKit, bucket: &str) -> Result<Run, BoxError> {
    let runs = Arc::new(Mutex::new(HashMap::<String, usize>::new()));
    let completions = Arc::new(Mutex::new(HashMap::<String, usize>::new()));
    let claims = Arc::new(Mutex::new(0usize));
    let started = Instant::now();
    let agents = (0..AGENTS).map(|i| {
        let kit = kit.clone();
        let bucket = bucket.to_owned();
        let (runs, completions, claims) = (
            Arc::clone(&runs),
            Arc::clone(&completions),
            Arc::clone(&claims),
        );
        tokio::spawn(async move {
            let queue = kit
                .task_queue(&bucket, "jobs")
                .ttl(TTL)
                .owner(format!("agent-{i}"))
                .open()?;
            loop {
                match queue.claim().await? {
                    Some(task) => {
                        *claims.lock().unwrap() += 1;
                        *runs
                            .lock()
                            .unwrap()
                            .entry(task.id().to_owned())
                            .or_default() += 1;
                        if i < KILLED {
                            // Killed mid-task: the claim is never completed and lapses.
                            return Ok::<(), BoxError>(());
                        }
                        let id = task.id().to_owned();
                        match task.complete().await {
                            Ok(()) => *completions.lock().unwrap().entry(id).or_default() += 1,
                            Err(e) if e.is_lease_lost() => {}
                            Err(e) => return Err(e.into()),
                        }
                    }
                    None if queue.status().await?.is_drained() => return Ok(()),
                    None => tokio::time::sleep(POLL).await,
                }
            }
        })
    });
    for agent in futures::future::join_all(agents).await {
        agent??;
    }
    let elapsed = started.elapsed();
    let runs = runs.lock().unwrap();
    let completions = completions.lock().unwrap();
    let claims = *claims.lock().unwrap();
    Ok(Run {
        elapsed,
        claims,
        duplicate_runs: runs.values().filter(|&&n| n > 1).count(),
        duplicate_completions: completions.values().map(|&n| n.saturating_sub(1)).sum(),
        lost: TASKS - completions.len(),
        requests: 0,
    })
}

/// Keys under `prefix`, every page.
async fn list(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<String>, BoxError> {
    let mut keys = Vec::new();
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_continuation_token(token.take())
            .send()
            .await?;
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key())
                .map(|k| k.trim_start_matches(prefix).to_owned()),
        );
        match page.next_continuation_token() {
            Some(next) => token = Some(next.to_owned()),
            None => return Ok(keys),
        }
    }
}

async fn drain_naive(kit: &AgentKit, bucket: &str) -> Result<Run, BoxError> {
    let runs = Arc::new(Mutex::new(HashMap::<String, usize>::new()));
    let started = Instant::now();
    let agents = (0..AGENTS).map(|i| {
        let s3 = kit.s3().clone();
        let bucket = bucket.to_owned();
        let runs = Arc::clone(&runs);
        tokio::spawn(async move {
            let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ (i as u64 + 1).wrapping_mul(0xff51_afd7);
            loop {
                let tasks = list(&s3, &bucket, "jobs/tasks/").await?;
                let claimed: HashSet<_> = list(&s3, &bucket, "jobs/claims/")
                    .await?
                    .into_iter()
                    .collect();
                let open: Vec<_> = tasks.iter().filter(|t| !claimed.contains(*t)).collect();
                if open.is_empty() {
                    return Ok::<(), BoxError>(());
                }
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let id = open[(state % open.len() as u64) as usize].clone();
                s3.put_object()
                    .bucket(&bucket)
                    .key(format!("jobs/claims/{id}"))
                    .body(ByteStream::from(format!("agent-{i}").into_bytes()))
                    .send()
                    .await?;
                *runs.lock().unwrap().entry(id.clone()).or_default() += 1;
                s3.put_object()
                    .bucket(&bucket)
                    .key(format!("jobs/done/{id}"))
                    .body(ByteStream::from_static(b""))
                    .send()
                    .await?;
            }
        })
    });
    for agent in futures::future::join_all(agents).await {
        agent??;
    }
    let elapsed = started.elapsed();
    let runs = runs.lock().unwrap();
    let total: usize = runs.values().sum();
    Ok(Run {
        elapsed,
        claims: total,
        duplicate_runs: runs.values().filter(|&&n| n > 1).count(),
        // Every run writes the done marker: each extra run is an extra completion.
        duplicate_completions: total - runs.len(),
        lost: TASKS - runs.len(),
        requests: 0,
    })
}
