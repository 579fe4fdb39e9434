//! The agent story in one run: a workspace with its own key, a checkpoint, four forks, four
//! agents writing at once, their notifications arriving at a coordinator, a restore, the best
//! agent's fork diffed and promoted into the workspace, and a clean teardown. `cargo run --example quickstart`.
//!
//! With no Tigris credentials in the environment it starts an embedded emulator; with
//! `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (or the `TIGRIS_STORAGE_*` variables) set it
//! runs against Tigris, where a webhook on this machine is out of Tigris's reach, so the
//! coordinator step is skipped there.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_s3::config::Credentials;
use aws_sdk_s3::primitives::ByteStream;
use tigris_ext::agent_kit::{
    AgentKit, ForkSet, NotificationConfig, OnConflict, Role, WebhookAuth, Workspace,
};
use tigris_ext::config::{self, from_env};
use tigris_ext::notify::receiver::WebhookReceiver;
use tigris_ext::prelude::*;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

const AGENTS: usize = 4;

/// Prints a numbered step with how long it took.
struct Steps {
    started: Instant,
    n: usize,
}

impl Steps {
    fn done(&mut self, what: impl std::fmt::Display, since: Instant) {
        self.n += 1;
        println!(
            "{:>2}. {what}  [{:.1} ms]",
            self.n,
            since.elapsed().as_secs_f64() * 1e3
        );
    }
}

async fn read(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<String> {
    let body = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await?
        .body
        .collect()
        .await?;
    Ok(String::from_utf8_lossy(&body.into_bytes()).into_owned())
}

async fn write(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: String) -> Result<()> {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body.into_bytes()))
        .send()
        .await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut steps = Steps {
        started: Instant::now(),
        n: 0,
    };
    let t = Instant::now();
    // Tigris from the environment, or an emulator of it on this machine.
    let (sdk, iam_endpoint, emulator) = match from_env() {
        Ok(sdk) => {
            let iam = std::env::var("TIGRIS_IAM_ENDPOINT")
                .unwrap_or_else(|_| tigris_ext::iam::DEFAULT_IAM_ENDPOINT.into());
            (sdk, iam, None)
        }
        Err(missing) => {
            println!("({missing}; using the embedded emulator instead)");
            let emu = tigris_emulator::Emulator::start().await?;
            let root = emu.root_credentials();
            let creds = Credentials::new(
                root.access_key_id(),
                root.secret_access_key(),
                None,
                None,
                "emulator",
            );
            let sdk = config::builder()
                .endpoint_url(emu.endpoint())
                .credentials(creds)
                .build();
            (sdk, emu.iam_endpoint(), Some(emu))
        }
    };
    let live = emulator.is_none();
    let kit = AgentKit::builder(&sdk)
        .iam_endpoint(&iam_endpoint)
        .build()?;
    let where_ = if live {
        format!(
            "Tigris at {}",
            sdk.endpoint_url()
                .unwrap_or(tigris_ext::config::DEFAULT_ENDPOINT)
        )
    } else {
        format!("the emulator at {}", sdk.endpoint_url().unwrap_or("?"))
    };
    steps.done(format!("connected to {where_}"), t);
    let console = emulator.as_ref().and_then(|e| e.console_url());

    let run = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() % 100_000_000;
    let mut made = Made::default();
    let outcome = story(&kit, &sdk, live, run, &mut steps, &mut made).await;
    if let Err(err) = &outcome {
        eprintln!("a step failed: {err}; removing what the quickstart made so far");
        made.clean_up(&kit).await;
    }
    // `-- --serve` keeps the embedded emulator (and its console) up until Ctrl-C.
    let serve = std::env::args().any(|a| a == "--serve");
    if outcome.is_ok() {
        println!(
            "done in {:.1} ms",
            steps.started.elapsed().as_secs_f64() * 1e3
        );
    }
    if let Some(emu) = emulator {
        if let Some(url) = &console {
            if serve {
                println!("see it at {url} (Ctrl-C stops the emulator)");
                tokio::signal::ctrl_c().await?;
            } else {
                println!("see it at {url} (with `-- --serve`, it stays up after the story)");
            }
        }
        emu.shutdown().await;
    }
    outcome
}

/// What the story has made so far, so a failure half-way can still clean up (on live Tigris
/// nothing should outlive the quickstart).
#[derive(Default)]
struct Made {
    workspace: Option<Workspace>,
    forks: Option<ForkSet>,
    restored: Option<String>,
}

impl Made {
    async fn clean_up(&mut self, kit: &AgentKit) {
        if let Some(forks) = self.forks.take()
            && let Err(err) = forks.teardown().await
        {
            eprintln!("  forks: {err}");
        }
        if let Some(bucket) = self.restored.take()
            && let Err(err) = kit
                .s3()
                .delete_bucket()
                .bucket(&bucket)
                .force_delete()
                .send()
                .await
        {
            eprintln!("  {bucket}: {err}");
        }
        if let Some(workspace) = self.workspace.take()
            && let Err(err) = workspace.teardown().await
        {
            eprintln!("  workspace: {err}");
        }
    }
}

async fn story(
    kit: &AgentKit,
    sdk: &aws_types::SdkConfig,
    live: bool,
    run: u128,
    steps: &mut Steps,
    made: &mut Made,
) -> Result<()> {
    let s3 = kit.s3().clone();
    let workspace_name = format!("quickstart-{run:08}");

    let t = Instant::now();
    let workspace = made.workspace.insert(
        kit.create_workspace()
            .bucket(&workspace_name)
            .credentials(Role::Editor)
            .send()
            .await?,
    );
    let key = workspace
        .credentials()
        .ok_or("the workspace was asked for credentials")?;
    steps.done(
        format!(
            "workspace {} created with snapshots and an Editor key {}",
            workspace.bucket(),
            key.access_key_id()
        ),
        t,
    );

    // The workspace's own agent writes with the workspace key, not the admin's.
    let agent_sdk = sdk
        .to_builder()
        .credentials_provider(aws_credential_types_provider(key.to_credentials()))
        .build();
    let agent = tigris_ext::config::s3_client(&agent_sdk);
    let t = Instant::now();
    write(
        &agent,
        workspace.bucket().as_str(),
        "plan.md",
        "1. gather data\n".into(),
    )
    .await?;
    write(
        &agent,
        workspace.bucket().as_str(),
        "data/input.csv",
        "x,y\n1,2\n".into(),
    )
    .await?;
    steps.done(
        "the workspace agent wrote plan.md and data/input.csv with its own key",
        t,
    );

    let t = Instant::now();
    let checkpoint = kit
        .checkpoint()
        .bucket(workspace.bucket())
        .name("before-agents")
        .send()
        .await?;
    steps.done(
        format!(
            "checkpoint {} ({:?})",
            checkpoint.version(),
            checkpoint.name().unwrap_or_default()
        ),
        t,
    );

    let t = Instant::now();
    let forks = made.forks.insert(
        kit.create_forks()
            .base(workspace.bucket())
            .count(AGENTS)
            .prefix(format!("{workspace_name}-agent"))
            .credentials(Role::Editor)
            .send()
            .await?,
    );
    let names: Vec<_> = forks
        .forks()
        .iter()
        .map(|f| f.bucket().to_string())
        .collect();
    steps.done(
        format!(
            "{} forks made concurrently, each with its own key: {}",
            forks.forks().len(),
            names.join(", ")
        ),
        t,
    );

    // The coordinator: a webhook endpoint that verifies the token on every delivery.
    let token = format!("coordinator-{run}");
    let mut coordinator = if live {
        None
    } else {
        let t = Instant::now();
        let receiver = WebhookReceiver::bind(
            "127.0.0.1:0".parse()?,
            Some(WebhookAuth::bearer(token.clone())),
        )
        .await?;
        let config = NotificationConfig::builder(receiver.url())
            .filter(r#"WHERE `key` REGEXP "^results/""#)
            .token(token.clone())
            .build()?;
        for fork in forks.forks() {
            kit.set_notifications(fork.bucket(), &config).await?;
        }
        steps.done(
            format!(
                "notifications of results/ on every fork go to the coordinator at {}",
                receiver.url()
            ),
            t,
        );
        Some(receiver)
    };

    let t = Instant::now();
    let mut agents = Vec::new();
    for fork in forks.forks() {
        let creds = fork
            .credentials()
            .ok_or("forks were asked for credentials")?
            .to_credentials();
        let s3 = tigris_ext::config::s3_client(
            &sdk.to_builder()
                .credentials_provider(aws_credential_types_provider(creds))
                .build(),
        );
        let bucket = fork.bucket().to_string();
        let index = fork.index();
        agents.push(tokio::spawn(async move {
            let plan = read(&s3, &bucket, "plan.md").await?;
            write(
                &s3,
                &bucket,
                "plan.md",
                format!("{plan}2. agent {index} tried idea {index}\n"),
            )
            .await?;
            write(
                &s3,
                &bucket,
                &format!("results/agent-{index}.json"),
                format!("{{\"agent\":{index},\"score\":{}}}", 10 * index),
            )
            .await?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        }));
    }
    for agent in agents {
        agent.await??;
    }
    steps.done(
        format!("{AGENTS} agents wrote to their forks at the same time"),
        t,
    );

    if let Some(receiver) = coordinator.as_mut() {
        let t = Instant::now();
        let mut seen = Vec::new();
        while seen.len() < AGENTS {
            let event = tokio::time::timeout(Duration::from_secs(10), receiver.next())
                .await?
                .ok_or("receiver stopped")?;
            seen.push(format!(
                "{} {}/{}",
                event.name(),
                event.bucket(),
                event.object().key()
            ));
        }
        seen.sort();
        steps.done(
            format!(
                "the coordinator received {} events:\n      {}",
                seen.len(),
                seen.join("\n      ")
            ),
            t,
        );
    } else {
        println!(
            "    (live Tigris cannot reach a webhook on this machine: coordinator step skipped)"
        );
    }

    let t = Instant::now();
    let untouched = read(&s3, workspace.bucket().as_str(), "plan.md").await?;
    let agent0 = read(&s3, forks.forks()[0].bucket().as_str(), "plan.md").await?;
    steps.done(
        format!(
            "the workspace still reads {:?}; fork 0 reads {:?}",
            untouched.trim(),
            agent0.trim()
        ),
        t,
    );

    let t = Instant::now();
    write(
        &agent,
        workspace.bucket().as_str(),
        "plan.md",
        "oops, overwritten\n".into(),
    )
    .await?;
    let restored = kit
        .restore()
        .bucket(workspace.bucket())
        .version(checkpoint.version())
        .fork_name(format!("{workspace_name}-restored"))
        .send()
        .await?;
    made.restored = Some(restored.to_string());
    let back = read(&s3, restored.as_str(), "plan.md").await?;
    steps.done(
        format!(
            "after a bad write, the checkpoint restored into {restored} reads {:?}",
            back.trim()
        ),
        t,
    );

    // The best agent (highest score) wins. Its plan.md conflicts with the bad write above, so
    // the diff shows a conflict, and the promotion is told to let the fork's version win.
    let t = Instant::now();
    let best = forks.forks().last().ok_or("no fork was made")?.clone();
    let diff = kit.diff().fork(best.bucket()).send().await?;
    let conflicts: Vec<String> = diff.conflicts().iter().map(ToString::to_string).collect();
    steps.done(
        format!(
            "{} changed {} keys since its fork point; conflicts with the workspace: {}",
            best.bucket(),
            diff.fork_changes().len(),
            conflicts.join(", ")
        ),
        t,
    );

    let t = Instant::now();
    let merged = forks
        .promote(&best)
        .on_conflict(OnConflict::Overwrite)
        .send()
        .await?;
    made.forks = None;
    let plan = read(&s3, workspace.bucket().as_str(), "plan.md").await?;
    let applied: Vec<String> = merged
        .diff()
        .fork_changes()
        .iter()
        .map(ToString::to_string)
        .collect();
    steps.done(
        format!(
            "promoted {} into the workspace as snapshot {} (undo: restore checkpoint {}) and tore \
             down all forks; the diff applied:\n      {}\n    the workspace's plan.md now \
             reads {:?}",
            best.bucket(),
            merged.version(),
            merged.checkpoint().version(),
            applied.join("\n      "),
            plan.trim()
        ),
        t,
    );

    let t = Instant::now();
    s3.delete_bucket()
        .bucket(restored.as_str())
        .force_delete()
        .send()
        .await?;
    made.restored = None;
    workspace.teardown().await?;
    made.workspace = None;
    steps.done(
        "torn down: the restored bucket, the workspace and its key",
        t,
    );
    Ok(())
}

/// Credentials for one agent, as a provider the SDK accepts.
fn aws_credential_types_provider(
    creds: Credentials,
) -> aws_sdk_s3::config::SharedCredentialsProvider {
    aws_sdk_s3::config::SharedCredentialsProvider::new(creds)
}
