//! Coordination: two agents work on forks of a shared bucket; a coordinator receives their
//! object events as a typed stream and reacts as results arrive.
//! `cargo run -p tigris-agent-kit --example coordination` (embedded emulator).

use std::time::Duration;

use aws_sdk_s3::config::{Credentials, SharedCredentialsProvider};
use aws_sdk_s3::primitives::ByteStream;
use tigris_agent_kit::{AgentKit, EventName, NotificationConfig, Role, WebhookAuth};
use tigris_core::config::{self, s3_client};
use tigris_notify::receiver::WebhookReceiver;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

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

    // The shared starting point, and one fork per agent with a key for that fork only.
    let base = kit
        .create_workspace()
        .bucket("coordination-base")
        .send()
        .await?;
    kit.s3()
        .put_object()
        .bucket(base.bucket().as_str())
        .key("task.txt")
        .body(ByteStream::from_static(b"find the best learning rate"))
        .send()
        .await?;
    let forks = kit
        .create_forks()
        .base(base.bucket())
        .count(2)
        .prefix("coordination-agent")
        .credentials(Role::Editor)
        .send()
        .await?;

    // The coordinator: a webhook endpoint checking a token, fed by both forks' results/ writes.
    let token = "coordination-demo-token";
    let mut coordinator =
        WebhookReceiver::bind("127.0.0.1:0".parse()?, Some(WebhookAuth::bearer(token))).await?;
    let config = NotificationConfig::builder(coordinator.url())
        .filter(r#"WHERE `key` REGEXP "^results/""#)
        .token(token)
        .build()?;
    for fork in forks.forks() {
        kit.set_notifications(fork, &config).await?;
    }
    println!("coordinator listening at {}", coordinator.url());

    // Each agent reads the task from its fork and writes a result, with its own key.
    let mut agents = Vec::new();
    for fork in forks.forks() {
        let key = fork
            .credentials()
            .ok_or("forks were asked for credentials")?
            .to_credentials();
        let agent_sdk = sdk
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(key))
            .build();
        let s3 = s3_client(&agent_sdk);
        let bucket = fork.bucket().to_string();
        let rate = 0.1 / (fork.index() as f64 + 1.0);
        agents.push(tokio::spawn(async move {
            s3.get_object()
                .bucket(&bucket)
                .key("task.txt")
                .send()
                .await?;
            let result = format!("{{\"learning_rate\":{rate},\"loss\":{:.3}}}", 1.0 - rate);
            s3.put_object()
                .bucket(&bucket)
                .key("results/run.json")
                .body(ByteStream::from(result.into_bytes()))
                .send()
                .await?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        }));
    }

    // The coordinator reacts to events as they come, typed: name, bucket, key, size.
    let mut results = 0;
    while results < forks.forks().len() {
        let event = tokio::time::timeout(Duration::from_secs(10), coordinator.next())
            .await?
            .ok_or("stopped")?;
        if event.name() == &EventName::ObjectCreatedPut {
            results += 1;
            println!(
                "{} wrote {} ({} bytes)",
                event.bucket(),
                event.object().key(),
                event.object().size()
            );
        }
    }
    for agent in agents {
        agent.await??;
    }
    println!("both agents reported; tearing down");

    for fork in forks.forks() {
        kit.clear_notifications(fork).await?;
    }
    forks.teardown().await?;
    base.teardown().await?;
    emu.shutdown().await;
    Ok(())
}
