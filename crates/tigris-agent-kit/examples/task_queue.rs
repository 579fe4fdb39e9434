//! A fleet on a task queue: 8 agents, each on its own fork of a dataset, drain a queue of 24
//! tasks pushed in one batch (claims are group commits on the queue's index object, so no task
//! runs on two agents at once and each is completed once); one agent crashes holding a claim,
//! which lapses and is claimed again; one task is poison and lands in the dead letters after
//! its maximum attempts, from where it is re-queued once fixed; a coordinator watches the forks'
//! result events and wakes on them instead of polling. A leader lease decides which process
//! pushes the tasks.
//! `cargo run -p tigris-agent-kit --example task_queue` (embedded emulator, offline).

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_s3::config::Credentials;
use aws_sdk_s3::primitives::ByteStream;
use tigris_agent_kit::{AgentKit, EventName, NotificationConfig, WebhookAuth};
use tigris_core::config;
use tigris_notify::receiver::WebhookReceiver;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

const AGENTS: usize = 8;
const TASKS: usize = 24;
const TTL: Duration = Duration::from_secs(30);
const MAX_ATTEMPTS: u32 = 3;

#[tokio::main]
async fn main() -> Result<()> {
    let emu = tigris_emulator::Emulator::start().await?;
    let root = emu.root_credentials();
    let creds = Credentials::new(
        root.access_key_id(),
        root.secret_access_key(),
        None,
        None,
        "example",
    );
    let sdk = config::builder()
        .endpoint_url(emu.endpoint())
        .credentials(creds)
        .build();
    let kit = AgentKit::builder(&sdk)
        .iam_endpoint(emu.iam_endpoint())
        .build()?;
    if let Some(url) = emu.console_url() {
        println!("see it at {url}");
    }

    // The queue lives in its own bucket (single- or multi-region on Tigris: see the lease
    // module's bucket-type caveat); the data is forked per agent.
    let control = kit
        .create_workspace()
        .bucket("fleet-control")
        .send()
        .await?;
    let base = kit.create_workspace().bucket("fleet-data").send().await?;
    kit.s3()
        .put_object()
        .bucket(base.bucket().as_str())
        .key("corpus.txt")
        .body(ByteStream::from_static(b"the shared dataset"))
        .send()
        .await?;
    let forks = kit
        .create_forks()
        .base(base.bucket())
        .count(AGENTS)
        .prefix("fleet-agent")
        .send()
        .await?;

    // Only the leader pushes the tasks: a lease decides who that is.
    let leader = kit
        .lease()
        .bucket(control.bucket())
        .key("leases/producer")
        .ttl(TTL)
        .owner("producer")
        .acquire()
        .await?;
    let queue = kit
        .task_queue()
        .bucket(control.bucket())
        .prefix("jobs")
        .ttl(TTL)
        .max_attempts(MAX_ATTEMPTS)
        .open()?;
    // One request for the payloads, one index commit; ids come back in claim order.
    let ids = queue
        .push_batch((0..TASKS).map(|i| format!("shard {i}").into_bytes()))
        .await?;
    leader.release().await?;
    let poison = ids[TASKS / 2].clone();
    println!(
        "pushed {TASKS} tasks in one batch ({} … {})",
        ids[0],
        ids[TASKS - 1]
    );

    // The coordinator: result writes on every fork arrive as webhook events.
    let token = "task-queue-demo-token";
    let mut coordinator =
        WebhookReceiver::bind("127.0.0.1:0".parse()?, Some(WebhookAuth::bearer(token))).await?;
    let config = NotificationConfig::builder(coordinator.url())
        .filter(r#"WHERE `key` REGEXP "^results/""#)
        .token(token)
        .build()?;
    for fork in forks.forks() {
        kit.set_notifications(fork, &config).await?;
    }

    // Agent 0 crashes right after its first claim; the others drain what is claimable. The
    // poison task fails every time until it is fixed. The agents of this process share the
    // queue's committer (`with_owner`): one index write carries all their claims.
    let (kit_ref, queue_ref, poison_ref, forks_ref) = (&kit, &queue, &poison, &forks);
    let run = move |round: usize| {
        forks_ref.forks().iter().enumerate().map(move |(i, fork)| {
            let kit = kit_ref.clone();
            let fork = fork.bucket().to_string();
            let queue = queue_ref.with_owner(format!("agent-{i}"));
            let poison = poison_ref.clone();
            tokio::spawn(async move {
                let queue = queue?;
                let mut done = 0;
                while let Some(task) = queue.claim().await? {
                    if round == 0 && i == 0 {
                        println!("agent-0 crashed holding {}", task.id());
                        return Ok::<_, Box<dyn std::error::Error + Send + Sync>>(done);
                    }
                    if task.id() == poison && round < 2 {
                        let why = format!("corrupt shard (attempt {})", task.attempt());
                        task.fail(&why).await?;
                        continue;
                    }
                    let result = format!("{} by agent-{i}, attempt {}", task.id(), task.attempt());
                    kit.s3()
                        .put_object()
                        .bucket(&fork)
                        .key(format!("results/{}.txt", task.id()))
                        .body(ByteStream::from(result.into_bytes()))
                        .send()
                        .await?;
                    task.complete_with(b"ok".to_vec()).await?;
                    done += 1;
                }
                Ok(done)
            })
        })
    };
    let mut completed = 0;
    for agent in futures::future::join_all(run(0)).await {
        completed += agent??;
    }
    let status = queue.status().await?;
    println!(
        "first round: {completed} completed, {} still claimed (the crashed agent's), {} dead",
        status.claimed, status.dead
    );
    // Time passes (on the emulator's clock): the crashed agent's claim lapses.
    emu.advance_clock(TTL + Duration::from_secs(3));
    for agent in futures::future::join_all(run(1)).await {
        completed += agent??;
    }
    let status = queue.status().await?;
    assert!(status.is_drained());
    assert_eq!(status.dead, 1);

    // The poison task is in the dead letters with its last error; fixed, it is re-queued.
    let mut letters = queue.dead_letters().into_paginator().items().send();
    while let Some(letter) = letters.next().await {
        let letter = letter?;
        println!(
            "dead letter {} after {} attempts: {}",
            letter.id(),
            letter.attempts(),
            letter.last_error()
        );
        queue.requeue(letter.id()).await?;
    }
    for agent in futures::future::join_all(run(2)).await {
        completed += agent??;
    }
    let status = queue.status().await?;
    assert!(status.is_drained() && status.dead == 0 && status.done == TASKS);
    let fixed = queue
        .task(&poison)
        .await?
        .ok_or("the poison task is gone")?;
    println!(
        "{} is {:?} by {} (attempt {}), result {:?}",
        fixed.id(),
        fixed.state(),
        fixed.claimant().unwrap_or("?"),
        fixed.attempts(),
        String::from_utf8_lossy(fixed.result().unwrap_or_default())
    );

    // Webhooks are at least once and unordered: the coordinator counts distinct keys.
    let mut seen = BTreeSet::new();
    while seen.len() < TASKS {
        let event = tokio::time::timeout(Duration::from_secs(10), coordinator.next())
            .await?
            .ok_or("stopped")?;
        if event.name() == &EventName::ObjectCreatedPut {
            seen.insert(event.object().key().to_owned());
        }
    }
    println!(
        "coordinator saw {} results; {completed} completions, every task exactly once",
        seen.len()
    );

    for fork in forks.forks() {
        kit.clear_notifications(fork).await?;
    }
    forks.teardown().await?;
    base.teardown().await?;
    control.teardown().await?;
    emu.shutdown().await;
    Ok(())
}
