//! Benchmark: agents draining a task queue at depth. Three queues side by side:
//! - the kit's `TaskQueue` (one index object, compare-and-set, group commit; the agents of the
//!   process share one committer through `TaskQueue::with_owner`);
//! - the previous design (a claim object per task, found by listing four prefixes; kept
//!   runnable behind the kit's `bench-legacy-queue` feature);
//! - a naive list-then-put queue (agents list the tasks and the claims, pick an unclaimed task
//!   at random and claim it with a plain PUT).
//!
//! For every depth (tasks queued before the agents start), agent count and latency (loopback,
//! or a delay added to every request by the embedded emulator), 5 % of the agents (rounded up)
//! are killed holding their first claim; their claims lapse after the real TTL ([`TTL`], by
//! the emulator's clock, not advanced here) and survivors claim those tasks again. The naive
//! queue has no kills (it has no lapse to recover from). A run stops at its time budget: the
//! queues whose claims cost grows with depth do not drain 100,000 tasks in any reasonable
//! time, and their rows show the rate they reached before the budget ran out.
//!
//! Prints a Markdown section; `cargo xtask bench` collects it into `docs/benchmarks.md`.
//!
//! ```text
//! cargo run --release -p tigris-bench --bin coordination -- \
//!     [--depths 1000,10000,100000] [--agents 32,128] [--latencies 0,20] \
//!     [--queues kit,previous,naive] [--budget-secs 60]
//! ```

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_s3::config::Credentials;
use aws_sdk_s3::primitives::ByteStream;
use futures::StreamExt;
use tigris_agent_kit::AgentKit;
use tigris_agent_kit::queue::legacy;
use tigris_core::config;

const TTL: Duration = Duration::from_secs(2);
/// How long an idle agent waits before it polls again.
const POLL: Duration = Duration::from_millis(100);
/// Tasks per `push_batch` of the kit's queue.
const BATCH: usize = 1_000;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Design {
    Kit,
    Previous,
    Naive,
}

impl Design {
    fn label(self) -> &'static str {
        match self {
            Self::Kit => "kit `TaskQueue`",
            Self::Previous => "previous design",
            Self::Naive => "naive list-then-put",
        }
    }
}

struct Args {
    depths: Vec<usize>,
    agents: Vec<usize>,
    latencies: Vec<u64>,
    queues: Vec<Design>,
    budget: Duration,
}

fn parse_args() -> Result<Args, BoxError> {
    let mut args = Args {
        depths: vec![1_000, 10_000, 100_000],
        agents: vec![32, 128],
        latencies: vec![0, 20],
        queues: vec![Design::Kit, Design::Previous, Design::Naive],
        budget: Duration::from_secs(60),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let numbers = || -> Result<Vec<u64>, BoxError> {
            value
                .split(',')
                .map(|v| v.trim().replace('_', "").parse().map_err(Into::into))
                .collect()
        };
        match flag.as_str() {
            "--depths" => args.depths = numbers()?.into_iter().map(|n| n as usize).collect(),
            "--agents" => args.agents = numbers()?.into_iter().map(|n| n as usize).collect(),
            "--latencies" => args.latencies = numbers()?,
            "--budget-secs" => args.budget = Duration::from_secs(value.parse()?),
            "--queues" => {
                args.queues = value
                    .split(',')
                    .map(|q| match q {
                        "kit" => Ok(Design::Kit),
                        "previous" => Ok(Design::Previous),
                        "naive" => Ok(Design::Naive),
                        other => Err(format!("unknown queue {other:?}")),
                    })
                    .collect::<Result<_, _>>()?;
            }
            other => return Err(format!("unknown flag {other:?}").into()),
        }
    }
    Ok(args)
}

/// What one drain recorded.
#[derive(Default)]
struct Stats {
    claims: usize,
    latencies: Vec<Duration>,
    runs: HashMap<String, usize>,
    completions: HashMap<String, usize>,
}

#[derive(Debug)]
struct Run {
    design: Design,
    latency_ms: u64,
    tasks: usize,
    agents: usize,
    /// Whether every task was completed before the budget ran out.
    drained: bool,
    elapsed: Duration,
    claims: usize,
    completed: usize,
    p50: Duration,
    p99: Duration,
    duplicate_runs: usize,
    duplicate_completions: usize,
    requests: u64,
}

impl Run {
    fn claims_per_sec(&self) -> f64 {
        self.claims as f64 / self.elapsed.as_secs_f64()
    }

    fn requests_per_claim(&self) -> f64 {
        self.requests as f64 / self.claims.max(1) as f64
    }

    fn lost(&self) -> Option<usize> {
        self.drained.then(|| self.tasks - self.completed)
    }
}

fn killed(agents: usize) -> usize {
    agents.div_ceil(20)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = parse_args()?;
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
    let mut n = 0;
    for &latency_ms in &args.latencies {
        for &tasks in &args.depths {
            for &agents in &args.agents {
                for &design in &args.queues {
                    n += 1;
                    emu.faults().set_latency(Duration::ZERO);
                    let bucket = format!("bench-{n}");
                    kit.s3().create_bucket().bucket(&bucket).send().await?;
                    let pushed = Instant::now();
                    push_all(&kit, &bucket, design, tasks).await?;
                    eprintln!(
                        "{} ms, {tasks} tasks, {agents} agents, {}: pushed in {:.1} s",
                        latency_ms,
                        design.label(),
                        pushed.elapsed().as_secs_f64()
                    );
                    emu.faults().set_latency(Duration::from_millis(latency_ms));
                    let before = emu.faults().total();
                    let started = Instant::now();
                    let deadline = started + args.budget;
                    let stats = match design {
                        Design::Kit => drain_kit(&kit, &bucket, agents, deadline).await?,
                        Design::Previous => drain_previous(&kit, &bucket, agents, deadline).await?,
                        Design::Naive => drain_naive(&kit, &bucket, agents, deadline).await?,
                    };
                    let elapsed = started.elapsed();
                    let requests = emu.faults().total() - before;
                    emu.faults().set_latency(Duration::ZERO);
                    let run =
                        summarize(design, latency_ms, tasks, agents, elapsed, requests, stats);
                    eprintln!(
                        "  drained {} in {:.1} s: {:.0} claims/s, {:.2} requests/claim, p50 {:?} p99 {:?}",
                        run.drained,
                        run.elapsed.as_secs_f64(),
                        run.claims_per_sec(),
                        run.requests_per_claim(),
                        run.p50,
                        run.p99
                    );
                    if design != Design::Naive && run.drained {
                        assert_eq!(run.lost(), Some(0), "no task lost: {run:?}");
                        assert_eq!(run.duplicate_completions, 0, "exactly once: {run:?}");
                    }
                    rows.push(run);
                }
            }
        }
    }
    print_report(&args, &rows);
    emu.shutdown().await;
    Ok(())
}

fn summarize(
    design: Design,
    latency_ms: u64,
    tasks: usize,
    agents: usize,
    elapsed: Duration,
    requests: u64,
    mut stats: Stats,
) -> Run {
    stats.latencies.sort();
    let pct = |p: f64| {
        if stats.latencies.is_empty() {
            Duration::ZERO
        } else {
            let i = ((stats.latencies.len() as f64 - 1.0) * p).round() as usize;
            stats.latencies[i]
        }
    };
    let completed = stats.completions.len();
    Run {
        design,
        latency_ms,
        tasks,
        agents,
        drained: completed == tasks,
        elapsed,
        claims: stats.claims,
        completed,
        p50: pct(0.5),
        p99: pct(0.99),
        duplicate_runs: stats.runs.values().filter(|&&n| n > 1).count(),
        duplicate_completions: stats
            .completions
            .values()
            .map(|&n| n.saturating_sub(1))
            .sum(),
        requests,
    }
}

fn print_report(args: &Args, rows: &[Run]) {
    println!("## Coordination: task queues at depth\n");
    println!(
        "Agents drain a queue of 1,000 to 100,000 tasks pushed before they start. The kit's \
         `TaskQueue` keeps one index object updated with compare-and-set and group commit (the \
         agents of the process share one committer); the previous design writes a claim object \
         per task and finds work by listing four prefixes; the naive queue lists tasks and \
         claims, picks an unclaimed task at random and claims it with a plain PUT. 5 % of the \
         agents (rounded up) are killed holding their first claim, which lapses after the TTL \
         ({} s, plus 2 s of clock slack, real time) and is claimed again; the naive queue runs \
         without kills. Each run stops at a budget of {} s; a run cut short shows the rate it \
         reached (its lost tasks are not counted, `–`). Requests are every request the \
         embedded emulator served during the drain (pushes excluded), divided by the successful \
         claims; claim latency is one successful `claim` call (the naive queue: its two \
         listings and its PUT). One run each, 2 shared cores, {} build:\n\n\
         `cargo run{} -p tigris-bench --bin coordination -- --depths {} --agents {} \
         --latencies {} --queues {} --budget-secs {}`\n",
        TTL.as_secs(),
        args.budget.as_secs(),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        if cfg!(debug_assertions) {
            ""
        } else {
            " --release"
        },
        join(&args.depths),
        join(&args.agents),
        join(&args.latencies),
        args.queues
            .iter()
            .map(|q| match q {
                Design::Kit => "kit",
                Design::Previous => "previous",
                Design::Naive => "naive",
            })
            .collect::<Vec<_>>()
            .join(","),
        args.budget.as_secs(),
    );
    println!(
        "| latency | tasks | agents | queue | drained | time | claims/s | requests per claim | p50 claim | p99 claim | lost tasks | duplicate completions | duplicate runs |"
    );
    println!("|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for run in rows {
        println!(
            "| {} | {} | {} | {} | {} | {:.1} s | {:.0} | {:.2} | {} | {} | {} | {} | {} |",
            if run.latency_ms == 0 {
                "loopback".to_owned()
            } else {
                format!("{} ms per request", run.latency_ms)
            },
            run.tasks,
            run.agents,
            run.design.label(),
            if run.drained {
                "yes".to_owned()
            } else {
                format!("no ({} of {} done)", run.completed, run.tasks)
            },
            run.elapsed.as_secs_f64(),
            run.claims_per_sec(),
            run.requests_per_claim(),
            ms(run.p50),
            ms(run.p99),
            run.lost().map_or("–".to_owned(), |n| n.to_string()),
            run.duplicate_completions,
            run.duplicate_runs,
        );
    }
    println!();
    // The done-when checks, for the kit: depth ratios and the comparison with the naive queue.
    let kit: Vec<&Run> = rows.iter().filter(|r| r.design == Design::Kit).collect();
    let (Some(min), Some(max)) = (args.depths.iter().min(), args.depths.iter().max()) else {
        return;
    };
    for &latency_ms in &args.latencies {
        for &agents in &args.agents {
            let at = |tasks: usize| {
                kit.iter()
                    .find(|r| r.tasks == tasks && r.agents == agents && r.latency_ms == latency_ms)
            };
            if let (Some(small), Some(large)) = (at(*min), at(*max))
                && min != max
            {
                println!(
                    "- kit, {agents} agents, {}: requests per claim at {max} tasks are {:.2}x those at {min}; claims/s {:.2}x.",
                    if latency_ms == 0 {
                        "loopback".to_owned()
                    } else {
                        format!("{latency_ms} ms")
                    },
                    large.requests_per_claim() / small.requests_per_claim(),
                    large.claims_per_sec() / small.claims_per_sec(),
                );
            }
        }
    }
    let mut beaten = 0;
    let mut compared = 0;
    for run in &kit {
        if let Some(naive) = rows.iter().find(|r| {
            r.design == Design::Naive
                && r.tasks == run.tasks
                && r.agents == run.agents
                && r.latency_ms == run.latency_ms
        }) {
            compared += 1;
            if run.claims_per_sec() >= naive.claims_per_sec() {
                beaten += 1;
            }
        }
    }
    if compared > 0 {
        println!(
            "- The kit's claims/s are at least the naive queue's in {beaten} of {compared} \
             configurations; every kit run that drained completed every task exactly once \
             (checked), while the naive queue's duplicate completions are its races."
        );
    }
}

fn join<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

async fn push_all(
    kit: &AgentKit,
    bucket: &str,
    design: Design,
    tasks: usize,
) -> Result<(), BoxError> {
    if design == Design::Kit {
        let queue = kit
            .task_queue()
            .bucket(bucket)
            .prefix("jobs")
            .ttl(TTL)
            .open()?;
        let queue = &queue;
        let batches = (0..tasks).step_by(BATCH).map(|start| async move {
            let end = (start + BATCH).min(tasks);
            queue
                .push_batch((start..end).map(|i| format!("task {i}").into_bytes()))
                .await
        });
        // One at a time: the order of the batches is the order of the tasks.
        let mut stream = futures::stream::iter(batches).buffered(1);
        while let Some(pushed) = stream.next().await {
            pushed?;
        }
        return Ok(());
    }
    let queue = legacy::builder(kit, bucket, "jobs").open()?;
    let queue = &queue;
    let pushes = (0..tasks).map(|i| async move {
        queue
            .push_with_id(&format!("t-{i:06}"), format!("task {i}").into_bytes())
            .await
    });
    let mut stream = futures::stream::iter(pushes).buffer_unordered(64);
    while let Some(pushed) = stream.next().await {
        pushed?;
    }
    Ok(())
}

async fn drain_kit(
    kit: &AgentKit,
    bucket: &str,
    agents: usize,
    deadline: Instant,
) -> Result<Stats, BoxError> {
    let stats = Arc::new(Mutex::new(Stats::default()));
    let queue = kit
        .task_queue()
        .bucket(bucket)
        .prefix("jobs")
        .ttl(TTL)
        .open()?;
    let kills = killed(agents);
    let handles = (0..agents).map(|i| {
        let stats = Arc::clone(&stats);
        let queue = queue.with_owner(format!("agent-{i}"));
        tokio::spawn(async move {
            let queue = queue?;
            loop {
                if Instant::now() >= deadline {
                    return Ok::<(), BoxError>(());
                }
                let asked = Instant::now();
                match queue.claim().await? {
                    Some(task) => {
                        let id = task.id().to_owned();
                        {
                            let mut s = stats.lock().unwrap();
                            s.latencies.push(asked.elapsed());
                            s.claims += 1;
                            *s.runs.entry(id.clone()).or_default() += 1;
                        }
                        if i < kills {
                            // Killed mid-task: the claim is never completed and lapses.
                            return Ok(());
                        }
                        match task.complete().await {
                            Ok(()) => {
                                *stats.lock().unwrap().completions.entry(id).or_default() += 1
                            }
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
    for agent in futures::future::join_all(handles).await {
        agent??;
    }
    Ok(Arc::try_unwrap(stats)
        .map_err(|_| "stats shared")?
        .into_inner()?)
}

async fn drain_previous(
    kit: &AgentKit,
    bucket: &str,
    agents: usize,
    deadline: Instant,
) -> Result<Stats, BoxError> {
    let stats = Arc::new(Mutex::new(Stats::default()));
    let kills = killed(agents);
    let handles = (0..agents).map(|i| {
        let kit = kit.clone();
        let bucket = bucket.to_owned();
        let stats = Arc::clone(&stats);
        tokio::spawn(async move {
            let queue = legacy::builder(&kit, &bucket, "jobs")
                .ttl(TTL)
                .owner(format!("agent-{i}"))
                .open()?;
            loop {
                if Instant::now() >= deadline {
                    return Ok::<(), BoxError>(());
                }
                let asked = Instant::now();
                match queue.claim().await? {
                    Some(task) => {
                        let id = task.id().to_owned();
                        {
                            let mut s = stats.lock().unwrap();
                            s.latencies.push(asked.elapsed());
                            s.claims += 1;
                            *s.runs.entry(id.clone()).or_default() += 1;
                        }
                        if i < kills {
                            return Ok(());
                        }
                        match task.complete().await {
                            Ok(()) => {
                                *stats.lock().unwrap().completions.entry(id).or_default() += 1
                            }
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
    for agent in futures::future::join_all(handles).await {
        agent??;
    }
    Ok(Arc::try_unwrap(stats)
        .map_err(|_| "stats shared")?
        .into_inner()?)
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

async fn drain_naive(
    kit: &AgentKit,
    bucket: &str,
    agents: usize,
    deadline: Instant,
) -> Result<Stats, BoxError> {
    let stats = Arc::new(Mutex::new(Stats::default()));
    let handles = (0..agents).map(|i| {
        let s3 = kit.s3().clone();
        let bucket = bucket.to_owned();
        let stats = Arc::clone(&stats);
        tokio::spawn(async move {
            let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ (i as u64 + 1).wrapping_mul(0xff51_afd7);
            loop {
                if Instant::now() >= deadline {
                    return Ok::<(), BoxError>(());
                }
                let asked = Instant::now();
                let tasks = list(&s3, &bucket, "jobs/tasks/").await?;
                let claimed: HashSet<_> = list(&s3, &bucket, "jobs/claims/")
                    .await?
                    .into_iter()
                    .collect();
                let open: Vec<_> = tasks.iter().filter(|t| !claimed.contains(*t)).collect();
                if open.is_empty() {
                    return Ok(());
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
                {
                    let mut s = stats.lock().unwrap();
                    s.latencies.push(asked.elapsed());
                    s.claims += 1;
                    *s.runs.entry(id.clone()).or_default() += 1;
                }
                s3.put_object()
                    .bucket(&bucket)
                    .key(format!("jobs/done/{id}"))
                    .body(ByteStream::from_static(b""))
                    .send()
                    .await?;
                // Every run writes the done marker: each extra run is an extra completion.
                *stats.lock().unwrap().completions.entry(id).or_default() += 1;
            }
        })
    });
    for agent in futures::future::join_all(handles).await {
        agent??;
    }
    Ok(Arc::try_unwrap(stats)
        .map_err(|_| "stats shared")?
        .into_inner()?)
}
