//! Load: N agents, each on its own fork with its own scoped key, write M objects and read them
//! back while one coordinator receives their events. Goal: no error, no lost write, no
//! cross-fork read, every event delivered at least once. Prints p50/p99 per request kind,
//! measured in the client. `--quick`: 8 agents × 20 objects (full: 32 × 100).

use std::collections::{BTreeSet, HashMap};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_types::retry::RetryConfig;
use tigris_agent_kit::AgentKit;
use tigris_agent_kit::{NotificationConfig, Role, WebhookAuth};
use tigris_core::error::{Classified, ErrorKind};
use tigris_notify::receiver::WebhookReceiver;
use tigris_reliability::load::Latencies;
use tigris_test_support::{Emulator, root_sdk_config, s3_signed_as};

struct Env {
    emu: Emulator,
    s3: aws_sdk_s3::Client,
    kit: AgentKit,
}

/// How long the coordinator waits for the next event before it gives up on the missing ones.
const EVENT_IDLE: Duration = Duration::from_secs(20);

#[derive(Debug, Default)]
struct AgentResult {
    errors: Vec<String>,
    lost: usize,
    wrong_body: usize,
    cross_fork_reads: usize,
    cross_fork_denied: usize,
    latencies: Latencies,
}

#[tokio::main]
async fn main() -> ExitCode {
    let quick = tigris_reliability::quick();
    let (agents, objects) = if quick { (8, 20) } else { (32, 100) };
    let started = Instant::now();
    let outcome = run(agents, objects).await;
    let elapsed = started.elapsed();
    println!("## Load\n");
    println!(
        "`cargo run --release -p tigris-reliability --bin load{}`: {agents} agents, each on its \
         own fork of one workspace with its own Editor key, each writing {objects} objects and \
         reading them back with that key, while one coordinator (a `WebhookReceiver` with a \
         bearer token) receives every fork's object events. In-process emulator over loopback, \
         SDK retries off (every failed attempt counts). The emulator runs with its default \
         webhook delivery (8 requests in flight per URL, 8,192 events queued at most); events it \
         had to drop would be counted in `dropped_webhook_events` (goal: 0). {:.1} s in all.\n",
        if quick { " -- --quick" } else { "" },
        elapsed.as_secs_f64()
    );
    match outcome {
        Ok(report) => {
            print!("{}", report.markdown);
            if report.ok {
                ExitCode::SUCCESS
            } else {
                println!("\n**Goal missed.**");
                ExitCode::FAILURE
            }
        }
        Err(err) => {
            println!("**The run could not complete:** {err}");
            ExitCode::FAILURE
        }
    }
}

struct Report {
    markdown: String,
    ok: bool,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn run(agents: usize, objects: usize) -> Result<Report, BoxError> {
    // The emulator's default webhook delivery must keep up with the run: no event dropped.
    let emu = Emulator::builder().start().await?;
    let sdk = root_sdk_config(&emu, RetryConfig::disabled());
    let env = Env {
        kit: AgentKit::builder(&sdk)
            .iam_endpoint(emu.endpoint())
            .build()?,
        s3: tigris_core::config::s3_client(&sdk),
        emu,
    };
    let mut setup = Latencies::default();

    let t = Instant::now();
    let workspace = env
        .kit
        .create_workspace()
        .bucket("load-base")
        .send()
        .await?;
    setup.record("create_workspace", t.elapsed());
    let base = workspace.bucket().to_string();
    env.s3
        .put_object()
        .bucket(&base)
        .key("seed.txt")
        .body(ByteStream::from_static(b"seed"))
        .send()
        .await?;

    let token = "load-coordinator-token";
    let mut receiver =
        WebhookReceiver::bind("127.0.0.1:0".parse()?, Some(WebhookAuth::bearer(token))).await?;

    let t = Instant::now();
    let forks = env
        .kit
        .create_forks()
        .base(&base)
        .count(agents)
        .credentials(Role::Editor)
        .send()
        .await?;
    setup.record("create_forks", t.elapsed());
    if !forks.is_complete() {
        return Err(format!("{} forks failed", forks.failures().len()).into());
    }
    let config = NotificationConfig::builder(receiver.url())
        .token(token)
        .build()?;
    for fork in forks.forks() {
        let t = Instant::now();
        env.kit.set_notifications(fork.bucket(), &config).await?;
        setup.record("set_notifications", t.elapsed());
    }

    let names: Vec<String> = forks
        .forks()
        .iter()
        .map(|f| f.bucket().to_string())
        .collect();
    let mut expected: BTreeSet<(String, String)> = BTreeSet::new();
    for name in &names {
        for j in 0..objects {
            expected.insert((name.clone(), key(j)));
        }
    }

    // The coordinator counts deliveries per (bucket, key) until every expected one came, or
    // nothing came for EVENT_IDLE.
    let wanted = expected.clone();
    let coordinator = tokio::spawn(async move {
        let mut seen: HashMap<(String, String), usize> = HashMap::new();
        let mut others = 0usize;
        let mut missing = wanted.len();
        while missing > 0 {
            match tokio::time::timeout(EVENT_IDLE, receiver.next()).await {
                Ok(Some(event)) => {
                    let id = (event.bucket().to_owned(), event.object().key().to_owned());
                    if !wanted.contains(&id) {
                        others += 1;
                        continue;
                    }
                    let n = seen.entry(id).or_default();
                    if *n == 0 {
                        missing -= 1;
                    }
                    *n += 1;
                }
                Ok(None) | Err(_) => break,
            }
        }
        (seen, others, receiver.rejected(), receiver.pushed_back())
    });

    let t = Instant::now();
    let mut tasks = Vec::new();
    for (i, fork) in forks.forks().iter().enumerate() {
        let creds = fork
            .credentials()
            .ok_or("forks were asked for credentials")?
            .to_credentials();
        let s3 = s3_signed_as(&env.emu, creds);
        let own = names[i].clone();
        let other = names[(i + 1) % names.len()].clone();
        tasks.push(tokio::spawn(agent(s3, own, other, objects)));
    }
    let mut result = AgentResult::default();
    for task in tasks {
        let r = task.await?;
        result.errors.extend(r.errors);
        result.lost += r.lost;
        result.wrong_body += r.wrong_body;
        result.cross_fork_reads += r.cross_fork_reads;
        result.cross_fork_denied += r.cross_fork_denied;
        result.latencies.extend(r.latencies);
    }
    let agents_took = t.elapsed();
    let (seen, other_events, rejected, pushed_back) = coordinator.await?;
    let delivered_once = seen.len();
    let duplicates: usize = seen.values().map(|n| n - 1).sum();
    let missing_events = expected.len() - delivered_once;

    // What each fork holds, read as root: exactly its own objects plus the inherited seed.
    let mut foreign_keys = 0usize;
    for name in &names {
        let mut keys = BTreeSet::new();
        let mut pages = env
            .s3
            .list_objects_v2()
            .bucket(name)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for object in page?.contents() {
                keys.insert(object.key().unwrap_or_default().to_owned());
            }
        }
        let mut want: BTreeSet<String> = (0..objects).map(key).collect();
        want.insert("seed.txt".into());
        foreign_keys += keys.symmetric_difference(&want).count();
    }
    let dropped = env.emu.dropped_webhook_events();

    let t = Instant::now();
    forks.teardown().await?;
    setup.record("ForkSet::teardown", t.elapsed());
    let t = Instant::now();
    workspace.teardown().await?;
    setup.record("Workspace::teardown", t.elapsed());
    let left = env.s3.list_buckets().send().await?.buckets().len();

    let requests = result
        .latencies
        .summary()
        .iter()
        .map(|(_, n, _, _)| n)
        .sum::<usize>();
    let ok = result.errors.is_empty()
        && result.lost == 0
        && result.wrong_body == 0
        && result.cross_fork_reads == 0
        && result.cross_fork_denied == agents
        && missing_events == 0
        && dropped == 0
        && foreign_keys == 0
        && left == 0;

    let mut md = String::new();
    use std::fmt::Write as _;
    writeln!(md, "| check | result | goal |\n|---|---|---|")?;
    writeln!(
        md,
        "| agent requests (writes, read-backs, cross-fork probes) | {requests} in {:.2} s ({:.0}/s) | - |",
        agents_took.as_secs_f64(),
        requests as f64 / agents_took.as_secs_f64()
    )?;
    writeln!(md, "| errors | {} | 0 |", result.errors.len())?;
    writeln!(
        md,
        "| lost writes (acknowledged, not read back) | {} of {} | 0 |",
        result.lost,
        agents * objects
    )?;
    writeln!(
        md,
        "| read-backs with another body | {} | 0 |",
        result.wrong_body
    )?;
    writeln!(
        md,
        "| an agent's key reading another agent's fork | {} read, {} denied (of {agents}) | 0 read, all denied |",
        result.cross_fork_reads, result.cross_fork_denied
    )?;
    writeln!(
        md,
        "| keys in a fork that are not its own (listed as root) | {foreign_keys} | 0 |"
    )?;
    writeln!(
        md,
        "| events delivered at least once | {delivered_once} of {} ({duplicates} duplicates, {other_events} others) | all |",
        expected.len()
    )?;
    writeln!(
        md,
        "| deliveries dropped by the emulator / rejected / pushed back by the receiver | {dropped} / {rejected} / {pushed_back} | 0 dropped |"
    )?;
    writeln!(md, "| buckets left after both teardowns | {left} | 0 |")?;
    for err in result.errors.iter().take(5) {
        writeln!(md, "\nerror: `{err}`")?;
    }
    writeln!(
        md,
        "\nLatency per request, measured in the client (all agents at once):\n\n\
         | request | count | p50 | p99 |\n|---|---|---|---|"
    )?;
    let mut all = result.latencies;
    all.extend(setup);
    for (kind, n, p50, p99) in all.summary() {
        writeln!(
            md,
            "| {kind} | {n} | {:.2} ms | {:.2} ms |",
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3
        )?;
    }
    Ok(Report { markdown: md, ok })
}

fn key(j: usize) -> String {
    format!("out/obj-{j:04}")
}

fn body(bucket: &str, j: usize) -> String {
    format!("{bucket} object {j}")
}

/// One agent: writes its objects, reads each back, reads the seed through its fork, and tries
/// to read another agent's fork with its own key.
async fn agent(s3: aws_sdk_s3::Client, own: String, other: String, objects: usize) -> AgentResult {
    let mut r = AgentResult::default();
    let mut acknowledged = Vec::new();
    for j in 0..objects {
        let t = Instant::now();
        let put = s3
            .put_object()
            .bucket(&own)
            .key(key(j))
            .body(ByteStream::from(body(&own, j).into_bytes()))
            .send()
            .await;
        r.latencies.record("PutObject", t.elapsed());
        match put {
            Ok(_) => acknowledged.push(j),
            Err(e) => r.errors.push(format!("put {own}/{}: {e}", key(j))),
        }
    }
    for j in acknowledged {
        let t = Instant::now();
        let got = read(&s3, &own, &key(j)).await;
        r.latencies.record("GetObject", t.elapsed());
        match got {
            Ok(b) if b == body(&own, j) => {}
            Ok(_) => r.wrong_body += 1,
            Err((ErrorKind::NotFound, _)) => r.lost += 1,
            Err((_, e)) => r.errors.push(format!("get {own}/{}: {e}", key(j))),
        }
    }
    let t = Instant::now();
    match read(&s3, &own, "seed.txt").await {
        Ok(b) if b == "seed" => {}
        Ok(_) => r.wrong_body += 1,
        Err((_, e)) => r.errors.push(format!("get {own}/seed.txt: {e}")),
    }
    r.latencies
        .record("GetObject (read through to the base)", t.elapsed());
    let t = Instant::now();
    match read(&s3, &other, &key(0)).await {
        Ok(_) => r.cross_fork_reads += 1,
        Err((ErrorKind::AccessDenied, _)) => r.cross_fork_denied += 1,
        Err((_, e)) => r
            .errors
            .push(format!("get {other}/{} as {own}'s key: {e}", key(0))),
    }
    r.latencies
        .record("GetObject (another fork, denied)", t.elapsed());
    r
}

async fn read(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<String, (ErrorKind, String)> {
    match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(out) => match out.body.collect().await {
            Ok(b) => Ok(String::from_utf8_lossy(&b.into_bytes()).into_owned()),
            Err(e) => Err((ErrorKind::Transient, e.to_string())),
        },
        Err(e) => Err((Classified::from_sdk(&e).kind(), format!("{e:?}"))),
    }
}
