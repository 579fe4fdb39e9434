//! Benchmark: agents draining a task queue at depth. Three queues side by side:
//! - the kit's `TaskQueue` (one index object, compare-and-set, group commit; the agents of the
//!   process share one committer through `TaskQueue::with_owner`);
//! - a claim-object queue (a claim object per task, found by listing four prefixes; built
//!   from the kit's `queue::legacy` behind its `bench-legacy-queue` feature);
//! - a naive list-then-put queue (agents list the tasks and the claims, pick an unclaimed task
//!   at random and claim it with a plain PUT).
//!
//! For every depth (tasks queued before the agents start), agent count and latency (loopback,
//! or a delay added to every request by the embedded emulator), 5 % of the agents (rounded up)
//! are killed holding their first claim; their claims lapse after the real TTL ([`TTL`], by
//! the emulator's clock, not advanced here) and survivors claim those tasks again. The naive
//! queue has no kills (it has no lapse to recover from).
//!
//! Budgets: the claim-object queue and the naive queue list the queue for every claim, so their
//! drains cost O(n²) requests and do not finish 10,000 or 100,000 tasks in any reasonable
//! time. Each of their runs stops at `--budget-secs` (claims in flight are cancelled at that
//! instant) and its row says so: "stopped after N claims", with the rate and the requests per
//! claim it had reached. The kit's runs have their own budget (`--kit-budget-secs`), meant to
//! be large enough to drain.
//!
//! Rates: a run's claims per second are counted over its hand-out phase, from the start to the
//! first claim of the last task never claimed before (for a stopped run, to the budget); the
//! requests per claim over the same span. The wait for the killed agents' claims to lapse (TTL
//! plus 2 s of clock slack) and the idle polling during it are in the drain's time and in its
//! requests per task, not in the rate: that wait does not depend on the depth, and counting it
//! in the rate would make the shallow queues look slow for a reason unrelated to their claims.
//!
//! Short phases: a drained run whose hand-out phase is shorter than `--min-phase-secs` is run
//! again on a fresh bucket, until the phases add up to it (at most [`MAX_ROUNDS`] rounds), and
//! its row pools the rounds (claims, requests and hand-out time summed; latencies pooled).
//! A 1,000-task queue is handed out in a fraction of a second over loopback, too short to
//! average out whatever else the machine runs; pooling gives every depth a phase of comparable
//! length.
//!
//! Prints a Markdown section; `cargo xtask bench` collects it into `docs/benchmarks.md`.
//!
//! ```text
//! cargo run --release -p tigris-bench --bin coordination -- \
//!     [--depths 1000,10000,100000] [--agents 32,128] [--latencies 0,20] \
//!     [--queues kit,claims,naive] [--budget-secs 15] [--kit-budget-secs 900] \
//!     [--min-phase-secs 3]
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
use tigris_emulator::Emulator;
use tigris_headers::prelude::*;

const TTL: Duration = Duration::from_secs(2);
/// How long an idle agent waits before it polls again.
const POLL: Duration = Duration::from_millis(100);
/// Tasks per `push_batch` of the kit's queue.
const BATCH: usize = 1_000;
/// The most rounds a configuration with a short hand-out phase is run (see the module docs).
const MAX_ROUNDS: usize = 20;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Design {
    Kit,
    ClaimObjects,
    Naive,
}

impl Design {
    fn label(self) -> &'static str {
        match self {
            Self::Kit => "kit `TaskQueue`",
            Self::ClaimObjects => "claim objects",
            Self::Naive => "naive list-then-put",
        }
    }

    fn flag(self) -> &'static str {
        match self {
            Self::Kit => "kit",
            Self::ClaimObjects => "claims",
            Self::Naive => "naive",
        }
    }
}

struct Args {
    depths: Vec<usize>,
    agents: Vec<usize>,
    latencies: Vec<u64>,
    queues: Vec<Design>,
    /// The budget of a run of the claim-object queue or the naive queue.
    budget: Duration,
    /// The budget of a run of the kit's queue.
    kit_budget: Duration,
    /// The shortest hand-out phase a drained configuration is measured over.
    min_phase: Duration,
}

fn parse_args() -> Result<Args, BoxError> {
    let mut args = Args {
        depths: vec![1_000, 10_000, 100_000],
        agents: vec![32, 128],
        latencies: vec![0, 20],
        queues: vec![Design::Kit, Design::ClaimObjects, Design::Naive],
        budget: Duration::from_secs(15),
        kit_budget: Duration::from_secs(900),
        min_phase: Duration::from_secs(3),
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
            "--kit-budget-secs" => args.kit_budget = Duration::from_secs(value.parse()?),
            "--min-phase-secs" => args.min_phase = Duration::from_secs(value.parse()?),
            "--queues" => {
                args.queues = value
                    .split(',')
                    .map(|q| match q {
                        "kit" => Ok(Design::Kit),
                        "claims" => Ok(Design::ClaimObjects),
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
    /// At the first claim of the latest task never claimed before: the time since the
    /// drain started, the requests served since and the claims made since.
    handed_out: (Duration, u64, usize),
}

/// The agents' shared record of a drain.
struct Recorder {
    emu: Arc<Emulator>,
    started: Instant,
    /// The emulator's request count when the drain started.
    before: u64,
    stats: Mutex<Stats>,
}

impl Recorder {
    fn new(emu: &Arc<Emulator>) -> Arc<Self> {
        Arc::new(Self {
            emu: Arc::clone(emu),
            started: Instant::now(),
            before: emu.faults().total(),
            stats: Mutex::new(Stats::default()),
        })
    }

    fn claimed(&self, id: &str, latency: Duration) {
        let mut s = self.stats.lock().unwrap();
        s.claims += 1;
        s.latencies.push(latency);
        let first = {
            let runs = s.runs.entry(id.to_owned()).or_default();
            *runs += 1;
            *runs == 1
        };
        if first {
            let requests = self.emu.faults().total() - self.before;
            s.handed_out = (self.started.elapsed(), requests, s.claims);
        }
    }

    fn completed(&self, id: String) {
        *self
            .stats
            .lock()
            .unwrap()
            .completions
            .entry(id)
            .or_default() += 1;
    }

    fn requests(&self) -> u64 {
        self.emu.faults().total() - self.before
    }
}

#[derive(Debug)]
struct Run {
    design: Design,
    latency_ms: u64,
    tasks: usize,
    agents: usize,
    /// Whether every task was completed before the budget ran out, in every round.
    drained: bool,
    /// Drains pooled in this row, each of `tasks` tasks on a fresh bucket.
    rounds: usize,
    elapsed: Duration,
    claims: usize,
    completed: usize,
    /// The hand-out phase: its length, requests and claims.
    handout: (Duration, u64, usize),
    /// Every successful claim's latency, sorted.
    latencies: Vec<Duration>,
    p50: Duration,
    p99: Duration,
    duplicate_runs: usize,
    duplicate_completions: usize,
    requests: u64,
}

impl Run {
    /// Over the hand-out phase for a drained run, over the whole run for a stopped one.
    fn claims_per_sec(&self) -> f64 {
        if self.drained {
            self.handout.2 as f64 / self.handout.0.as_secs_f64().max(1e-3)
        } else {
            self.claims as f64 / self.elapsed.as_secs_f64()
        }
    }

    /// Over the same span as [`claims_per_sec`](Self::claims_per_sec).
    fn requests_per_claim(&self) -> f64 {
        if self.drained {
            self.handout.1 as f64 / self.handout.2.max(1) as f64
        } else {
            self.requests as f64 / self.claims.max(1) as f64
        }
    }

    /// Every request of a drained run, lapse recovery and idle polls included.
    fn requests_per_task(&self) -> Option<f64> {
        self.drained
            .then(|| self.requests as f64 / (self.tasks * self.rounds).max(1) as f64)
    }

    fn lost(&self) -> Option<usize> {
        self.drained
            .then(|| self.tasks * self.rounds - self.completed)
    }

    /// This row and `other`, a further round of the same configuration, pooled.
    fn pool(&mut self, other: Self) {
        self.drained &= other.drained;
        self.rounds += other.rounds;
        self.elapsed += other.elapsed;
        self.claims += other.claims;
        self.completed += other.completed;
        self.handout = (
            self.handout.0 + other.handout.0,
            self.handout.1 + other.handout.1,
            self.handout.2 + other.handout.2,
        );
        self.latencies.extend(other.latencies);
        self.latencies.sort();
        (self.p50, self.p99) = (
            percentile(&self.latencies, 0.5),
            percentile(&self.latencies, 0.99),
        );
        self.duplicate_runs += other.duplicate_runs;
        self.duplicate_completions += other.duplicate_completions;
        self.requests += other.requests;
    }
}

/// The `p` quantile (0 to 1) of `sorted`, zero when it is empty.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn killed(agents: usize) -> usize {
    agents.div_ceil(20)
}

/// `/proc/loadavg`'s three load averages, when there is one.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".to_owned())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = parse_args()?;
    let emu = Arc::new(Emulator::start().await?);
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

    let load_before = load_average();
    let began = Instant::now();
    let mut rows = Vec::new();
    let mut n = 0;
    for &latency_ms in &args.latencies {
        for &tasks in &args.depths {
            for &agents in &args.agents {
                for &design in &args.queues {
                    let mut row: Option<Run> = None;
                    loop {
                        n += 1;
                        let round =
                            drain_once(&kit, &emu, &args, n, design, latency_ms, tasks, agents)
                                .await?;
                        let row = match &mut row {
                            Some(row) => {
                                row.pool(round);
                                row
                            }
                            None => row.insert(round),
                        };
                        if !row.drained
                            || row.handout.0 >= args.min_phase
                            || row.rounds >= MAX_ROUNDS
                        {
                            break;
                        }
                        eprintln!(
                            "  hand-out phases so far {:.1} s (< {} s): another round",
                            row.handout.0.as_secs_f64(),
                            args.min_phase.as_secs()
                        );
                    }
                    rows.extend(row);
                }
            }
        }
    }
    let load_after = load_average();
    print_report(&args, &rows, &load_before, &load_after, began.elapsed());
    drop(kit);
    if let Ok(emu) = Arc::try_unwrap(emu) {
        emu.shutdown().await;
    }
    Ok(())
}

/// One drain of `tasks` tasks by `agents` agents on a fresh bucket (`bench-{n}`), deleted
/// afterwards.
#[allow(clippy::too_many_arguments)]
async fn drain_once(
    kit: &AgentKit,
    emu: &Arc<Emulator>,
    args: &Args,
    n: usize,
    design: Design,
    latency_ms: u64,
    tasks: usize,
    agents: usize,
) -> Result<Run, BoxError> {
    emu.faults().set_latency(Duration::ZERO);
    let bucket = format!("bench-{n}");
    kit.s3().create_bucket().bucket(&bucket).send().await?;
    let pushed = Instant::now();
    push_all(kit, &bucket, design, tasks).await?;
    eprintln!(
        "{} ms, {tasks} tasks, {agents} agents, {}: pushed in {:.1} s (load {})",
        latency_ms,
        design.label(),
        pushed.elapsed().as_secs_f64(),
        load_average(),
    );
    emu.faults().set_latency(Duration::from_millis(latency_ms));
    let budget = if design == Design::Kit {
        args.kit_budget
    } else {
        args.budget
    };
    let rec = Recorder::new(emu);
    let deadline = tokio::time::Instant::from_std(rec.started + budget);
    match design {
        Design::Kit => drain_kit(kit, &bucket, agents, deadline, &rec).await?,
        Design::ClaimObjects => drain_claim_objects(kit, &bucket, agents, deadline, &rec).await?,
        Design::Naive => drain_naive(kit, &bucket, agents, deadline, &rec).await?,
    }
    let elapsed = rec.started.elapsed();
    let requests = rec.requests();
    emu.faults().set_latency(Duration::ZERO);
    let stats = std::mem::take(&mut *rec.stats.lock().unwrap());
    let run = summarize(design, latency_ms, tasks, agents, elapsed, requests, stats);
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
    if design == Design::Kit && !run.drained {
        eprintln!("  the kit's queue did not drain within its budget");
    }
    // The bucket's objects and the emulator's memory of them go.
    kit.s3()
        .delete_bucket()
        .bucket(&bucket)
        .force_delete()
        .send()
        .await?;
    Ok(run)
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
        rounds: 1,
        handout: stats.handed_out,
        p50: percentile(&stats.latencies, 0.5),
        p99: percentile(&stats.latencies, 0.99),
        latencies: stats.latencies,
        duplicate_runs: stats.runs.values().filter(|&&n| n > 1).count(),
        duplicate_completions: stats
            .completions
            .values()
            .map(|&n| n.saturating_sub(1))
            .sum(),
        requests,
    }
}

fn latency_label(latency_ms: u64) -> String {
    if latency_ms == 0 {
        "loopback".to_owned()
    } else {
        format!("{latency_ms} ms per request")
    }
}

fn print_report(args: &Args, rows: &[Run], load_before: &str, load_after: &str, took: Duration) {
    let build = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!("## Coordination: task queues at depth\n");
    println!(
        "Agents drain a queue of {} tasks pushed before they start. The kit's `TaskQueue` keeps \
         one index object updated with compare-and-set and group commit (the agents of the \
         process share one committer); the claim-object queue writes a claim object per task and \
         finds work by listing four prefixes; the naive queue lists tasks and claims, picks an \
         unclaimed task at random and claims it with a plain PUT. 5 % of the agents (rounded \
         up) are killed holding their first claim, which lapses after the TTL ({} s, plus 2 s \
         of clock slack, real time) and is claimed again; the naive queue runs without kills.\n\n\
         **Budgets.** The claim-object queue and the naive queue list the queue for every claim \
         (O(n²) requests to drain), so each of their runs stops at {} s, cancelling the claims \
         in flight; such a row reads \"stopped after N claims\" and shows the rate and the \
         requests per claim reached by then (a row stopped before its first claim shows all \
         its requests there, as if it had made one; its lost tasks are not counted, `–`; its \
         duplicate counts are partial). The kit's runs have a budget of {} s.\n\n\
         **Columns.** Requests are every request the embedded emulator served during the drain \
         (pushes excluded). For a drained run, claims/s and requests per claim are counted over \
         the hand-out phase: from the start to the first claim of the last task never claimed \
         before; the wait for the killed agents' claims to lapse and the idle polling during it \
         come after, and are in the time column and in requests per task (all requests of the \
         drain divided by the tasks). Claim latency is one successful `claim` call (the naive \
         queue: its two listings and its PUT). Duplicate runs are tasks claimed more than once \
         (the killed agents' tasks, for the kit); duplicate completions are tasks completed more \
         than once. A drained configuration whose hand-out phase is shorter than {} s is run \
         again on a fresh bucket until the phases add up to it (at most {MAX_ROUNDS} rounds); \
         its row pools the rounds (\"yes (N rounds pooled)\": times, claims and requests summed, \
         latencies pooled, lost tasks and duplicates added up).\n\n\
         One run, {build} build, 2 cores shared with other engineers' builds: load average \
         (1, 5, 15 min) {load_before} at the start and {load_after} at the end; {:.0} min in \
         all. Compare the rows with each other, not with other sections.\n\n\
         `cargo run{} -p tigris-bench --bin coordination -- --depths {} --agents {} \
         --latencies {} --queues {} --budget-secs {} --kit-budget-secs {} --min-phase-secs {}`\n",
        args.depths
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        TTL.as_secs(),
        args.budget.as_secs(),
        args.kit_budget.as_secs(),
        args.min_phase.as_secs(),
        took.as_secs_f64() / 60.0,
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
            .map(|q| q.flag())
            .collect::<Vec<_>>()
            .join(","),
        args.budget.as_secs(),
        args.kit_budget.as_secs(),
        args.min_phase.as_secs(),
    );
    println!(
        "| latency | tasks | agents | queue | drained | time | claims/s | requests per claim | requests per task | p50 claim | p99 claim | lost tasks | duplicate completions | duplicate runs |"
    );
    println!("|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for run in rows {
        println!(
            "| {} | {} | {} | {} | {} | {:.1} s | {:.0} | {:.2} | {} | {} | {} | {} | {} | {} |",
            latency_label(run.latency_ms),
            run.tasks,
            run.agents,
            run.design.label(),
            if run.drained && run.rounds > 1 {
                format!("yes ({} rounds pooled)", run.rounds)
            } else if run.drained {
                "yes".to_owned()
            } else {
                format!(
                    "stopped after {} claims ({} of {} done)",
                    run.claims, run.completed, run.tasks
                )
            },
            run.elapsed.as_secs_f64(),
            run.claims_per_sec(),
            run.requests_per_claim(),
            run.requests_per_task()
                .map_or("–".to_owned(), |r| format!("{r:.2}")),
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
    let (Some(&min), Some(&max)) = (args.depths.iter().min(), args.depths.iter().max()) else {
        return;
    };
    let mark = |ok: bool| if ok { "met" } else { "**missed**" };
    for &latency_ms in &args.latencies {
        for &agents in &args.agents {
            let at = |tasks: usize| {
                kit.iter()
                    .find(|r| r.tasks == tasks && r.agents == agents && r.latency_ms == latency_ms)
            };
            if let (Some(small), Some(large)) = (at(min), at(max))
                && min != max
            {
                let requests = large.requests_per_claim() / small.requests_per_claim();
                let rate = large.claims_per_sec() / small.claims_per_sec();
                println!(
                    "- kit, {agents} agents, {}: requests per claim at {max} tasks are {requests:.2}x \
                     those at {min} (goal: at most 1.2x, {}); claims/s {rate:.2}x (goal: at least \
                     1/1.5 = 0.67x, {}).",
                    latency_label(latency_ms),
                    mark(requests <= 1.2),
                    mark(rate >= 1.0 / 1.5),
                );
            }
        }
    }
    let mut beaten = 0;
    let mut compared = 0;
    let mut exact = true;
    for run in &kit {
        exact &= run.drained && run.lost() == Some(0) && run.duplicate_completions == 0;
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
             configurations ({}).",
            mark(beaten == compared),
        );
    }
    if !kit.is_empty() {
        println!(
            "- Every kit run drained with 0 lost tasks and 0 duplicate completions: {}.",
            if exact { "yes" } else { "**no**" }
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
        // One at a time: the order of the batches is the order of the tasks.
        for start in (0..tasks).step_by(BATCH) {
            let end = (start + BATCH).min(tasks);
            queue
                .push_batch((start..end).map(|i| format!("task {i}").into_bytes()))
                .await?;
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

/// Waits a poll interval, or until the deadline if that comes first; `false` at the deadline.
async fn idle(deadline: tokio::time::Instant) -> bool {
    let wake = tokio::time::Instant::now() + POLL;
    tokio::time::sleep_until(wake.min(deadline)).await;
    wake < deadline
}

async fn drain_kit(
    kit: &AgentKit,
    bucket: &str,
    agents: usize,
    deadline: tokio::time::Instant,
    rec: &Arc<Recorder>,
) -> Result<(), BoxError> {
    let queue = kit
        .task_queue()
        .bucket(bucket)
        .prefix("jobs")
        .ttl(TTL)
        .open()?;
    let kills = killed(agents);
    let handles = (0..agents).map(|i| {
        let rec = Arc::clone(rec);
        let queue = queue.with_owner(format!("agent-{i}"));
        tokio::spawn(async move {
            let queue = queue?;
            loop {
                let asked = Instant::now();
                let Ok(claimed) = tokio::time::timeout_at(deadline, queue.claim()).await else {
                    return Ok::<(), BoxError>(());
                };
                match claimed? {
                    Some(task) => {
                        let id = task.id().to_owned();
                        rec.claimed(&id, asked.elapsed());
                        if i < kills {
                            // Killed mid-task: the claim is never completed and lapses.
                            return Ok(());
                        }
                        let Ok(done) = tokio::time::timeout_at(deadline, task.complete()).await
                        else {
                            return Ok(());
                        };
                        match done {
                            Ok(()) => rec.completed(id),
                            Err(e) if e.is_lease_lost() => {}
                            Err(e) => return Err(e.into()),
                        }
                    }
                    None => {
                        let Ok(status) = tokio::time::timeout_at(deadline, queue.status()).await
                        else {
                            return Ok(());
                        };
                        if status?.is_drained() || !idle(deadline).await {
                            return Ok(());
                        }
                    }
                }
            }
        })
    });
    for agent in futures::future::join_all(handles).await {
        agent??;
    }
    Ok(())
}

async fn drain_claim_objects(
    kit: &AgentKit,
    bucket: &str,
    agents: usize,
    deadline: tokio::time::Instant,
    rec: &Arc<Recorder>,
) -> Result<(), BoxError> {
    let kills = killed(agents);
    let handles = (0..agents).map(|i| {
        let kit = kit.clone();
        let bucket = bucket.to_owned();
        let rec = Arc::clone(rec);
        tokio::spawn(async move {
            let queue = legacy::builder(&kit, &bucket, "jobs")
                .ttl(TTL)
                .owner(format!("agent-{i}"))
                .open()?;
            loop {
                let asked = Instant::now();
                let Ok(claimed) = tokio::time::timeout_at(deadline, queue.claim()).await else {
                    return Ok::<(), BoxError>(());
                };
                match claimed? {
                    Some(task) => {
                        let id = task.id().to_owned();
                        rec.claimed(&id, asked.elapsed());
                        if i < kills {
                            return Ok(());
                        }
                        let Ok(done) = tokio::time::timeout_at(deadline, task.complete()).await
                        else {
                            return Ok(());
                        };
                        match done {
                            Ok(()) => rec.completed(id),
                            Err(e) if e.is_lease_lost() => {}
                            Err(e) => return Err(e.into()),
                        }
                    }
                    None => {
                        let Ok(status) = tokio::time::timeout_at(deadline, queue.status()).await
                        else {
                            return Ok(());
                        };
                        if status?.is_drained() || !idle(deadline).await {
                            return Ok(());
                        }
                    }
                }
            }
        })
    });
    for agent in futures::future::join_all(handles).await {
        agent??;
    }
    Ok(())
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

/// One naive claim: list tasks and claims, pick an unclaimed task at random, PUT its claim.
/// `None` when every task is claimed.
async fn naive_claim(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    owner: &str,
    state: &mut u64,
) -> Result<Option<String>, BoxError> {
    let tasks = list(s3, bucket, "jobs/tasks/").await?;
    let claimed: HashSet<_> = list(s3, bucket, "jobs/claims/")
        .await?
        .into_iter()
        .collect();
    let open: Vec<_> = tasks.iter().filter(|t| !claimed.contains(*t)).collect();
    if open.is_empty() {
        return Ok(None);
    }
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    let id = open[(*state % open.len() as u64) as usize].clone();
    s3.put_object()
        .bucket(bucket)
        .key(format!("jobs/claims/{id}"))
        .body(ByteStream::from(owner.as_bytes().to_vec()))
        .send()
        .await?;
    Ok(Some(id))
}

async fn drain_naive(
    kit: &AgentKit,
    bucket: &str,
    agents: usize,
    deadline: tokio::time::Instant,
    rec: &Arc<Recorder>,
) -> Result<(), BoxError> {
    let handles = (0..agents).map(|i| {
        let s3 = kit.s3().clone();
        let bucket = bucket.to_owned();
        let rec = Arc::clone(rec);
        tokio::spawn(async move {
            let owner = format!("agent-{i}");
            let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ (i as u64 + 1).wrapping_mul(0xff51_afd7);
            loop {
                let asked = Instant::now();
                let claim = naive_claim(&s3, &bucket, &owner, &mut state);
                let Ok(claimed) = tokio::time::timeout_at(deadline, claim).await else {
                    return Ok::<(), BoxError>(());
                };
                let Some(id) = claimed? else {
                    return Ok(());
                };
                rec.claimed(&id, asked.elapsed());
                let done = s3
                    .put_object()
                    .bucket(&bucket)
                    .key(format!("jobs/done/{id}"))
                    .body(ByteStream::from_static(b""))
                    .send();
                let Ok(done) = tokio::time::timeout_at(deadline, done).await else {
                    return Ok(());
                };
                done?;
                // Every run writes the done marker: each extra run is an extra completion.
                rec.completed(id);
            }
        })
    });
    for agent in futures::future::join_all(handles).await {
        agent??;
    }
    Ok(())
}
