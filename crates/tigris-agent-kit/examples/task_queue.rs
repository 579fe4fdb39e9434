//! A fleet on a task queue: 8 agents, each on its own fork of a dataset, drain a queue of 24
//! tasks (claims are conditional writes, so no task runs on two agents at once and each is
//! completed once); one agent crashes holding a claim, which lapses and is claimed again; a
//! coordinator watches the forks' result events and wakes on them instead of polling.
//! A leader lease decides which process pushes the tasks.
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

    // The queue lives in its own bucket (single- or multi-region on Tigris: see the lease
    // module's bucket-type caveat); the data is forked per agent.
    let control = kit.create_workspace("fleet-control").send().await?;
    let base = kit.create_workspace("fleet-data").send().await?;
    kit.s3()
        .put_object()
        .bucket(base.bucket().as_str())
        .key("corpus.txt")
        .body(ByteStream::from_static(b"the shared dataset"))
        .send()
        .await?;
    let forks = kit
        .create_forks(base.bucket(), AGENTS)
        .prefix("fleet-agent")
        .send()
        .await?;

    // Only the leader pushes the tasks: a lease decides who that is.
    let leader = kit
        .lease(control.bucket(), "leases/producer")
        .ttl(TTL)
        .owner("producer")
        .acquire()
        .await?;
    let queue = kit.task_queue(control.bucket(), "jobs").ttl(TTL).open()?;
    for i in 0..TASKS {
        queue
            .push_with_id(&format!("shard-{i:02}"), format!("shard {i}").into_bytes())
            .await?;
    }
    leader.release().await?;
    println!("pushed {TASKS} tasks");

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

    // Agent 0 crashes right after its first claim; the others drain what is claimable.
    let control_bucket = control.bucket().to_string();
    let (kit_ref, control_ref) = (&kit, &control_bucket);
    let run = |round: usize| {
        forks.forks().iter().enumerate().map(move |(i, fork)| {
            let kit = kit_ref.clone();
            let fork = fork.bucket().to_string();
            let control = control_ref.clone();
            tokio::spawn(async move {
                let queue = kit
                    .task_queue(&control, "jobs")
                    .ttl(TTL)
                    .owner(format!("agent-{i}"))
                    .open()?;
                let mut done = 0;
                while let Some(task) = queue.claim().await? {
                    if round == 0 && i == 0 {
                        println!("agent-0 crashed holding {}", task.id());
                        return Ok::<_, Box<dyn std::error::Error + Send + Sync>>(done);
                    }
                    let result = format!("{} by agent-{i}, attempt {}", task.id(), task.attempt());
                    kit.s3()
                        .put_object()
                        .bucket(&fork)
                        .key(format!("results/{}.txt", task.id()))
                        .body(ByteStream::from(result.into_bytes()))
                        .send()
                        .await?;
                    task.complete().await?;
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
        "first round: {completed} completed, {} still claimed (the crashed agent's)",
        status.claimed
    );
    // Time passes (on the emulator's clock): the crashed agent's claim lapses.
    emu.advance_clock(TTL + Duration::from_secs(2));
    for agent in futures::future::join_all(run(1)).await {
        completed += agent??;
    }
    assert!(queue.status().await?.is_drained());

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
