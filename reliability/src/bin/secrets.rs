//! Secrets: the quickstart's flow in-process (workspace with a key, checkpoint, forks with a
//! key each, a coordinator with a bearer token, agent writes, restore, diff, promote,
//! teardown), plus scoped keys made and revoked through `tigris-iam` and failures forced at
//! each credentials step, with `tracing` at TRACE captured for every crate (the emulator's
//! included). Every `Debug` and `Display` of every value and error made is kept. Goal: no
//! secret made (root secret, every scoped key's secret, the webhook token) appears anywhere.
//! `--quick` makes 2 forks instead of 4.

use std::fmt::{Debug, Display};
use std::io::Write;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_types::retry::RetryConfig;
use tigris_agent_kit::{AgentKit, NotificationConfig, OnConflict, Role, WebhookAuth};
use tigris_emulator::Fault;
use tigris_notify::receiver::WebhookReceiver;
use tigris_test_support::{Emulator, root_sdk_config, s3_signed_as};

/// Everything the run wrote or formatted, searched at the end.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The formatted values and the secrets to look for.
#[derive(Default)]
struct Seen {
    strings: Vec<(String, String)>,
    secrets: Vec<(String, String)>,
}

impl Seen {
    fn debug(&mut self, what: &str, value: &impl Debug) {
        self.strings
            .push((format!("{what} (Debug)"), format!("{value:?}")));
        self.strings
            .push((format!("{what} (Debug, alternate)"), format!("{value:#?}")));
    }
    fn both(&mut self, what: &str, value: &(impl Debug + Display)) {
        self.debug(what, value);
        self.strings
            .push((format!("{what} (Display)"), value.to_string()));
    }
    fn secret(&mut self, what: &str, secret: &str) {
        self.secrets.push((what.to_owned(), secret.to_owned()));
    }
    fn key(&mut self, what: &str, key: &tigris_iam::ScopedAccessKey) {
        self.debug(what, key);
        self.debug(&format!("{what} secret"), key.secret());
        self.debug(&format!("{what} as SDK credentials"), &key.to_credentials());
        self.secret(&format!("{what} secret"), key.secret().expose_secret());
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> ExitCode {
    let quick = tigris_reliability::quick();
    let forks = if quick { 2 } else { 4 };
    let log = Captured::default();
    let writer = log.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            println!("## Secrets\n\n**The run could not start:** {err}");
            return ExitCode::FAILURE;
        }
    };
    let mut seen = Seen::default();
    let outcome = runtime.block_on(run(forks, &mut seen));
    drop(runtime);
    let log = String::from_utf8_lossy(
        &log.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    )
    .into_owned();
    let log_lines = log.lines().count();

    let mut hits = Vec::new();
    for (name, secret) in &seen.secrets {
        if log.contains(secret.as_str()) {
            let line = log
                .lines()
                .find(|l| l.contains(secret.as_str()))
                .unwrap_or_default();
            hits.push(format!(
                "{name} in the TRACE log: `{}`",
                redact(line, secret)
            ));
        }
        for (what, text) in &seen.strings {
            if text.contains(secret.as_str()) {
                hits.push(format!("{name} in {what}"));
            }
        }
    }
    println!("## Secrets\n");
    println!(
        "`cargo run --release -p tigris-reliability --bin secrets{}`: the quickstart's flow \
         in-process ({forks} forks), scoped keys made and revoked with `tigris-iam`, and \
         failures forced at each credentials step, with a `tracing` subscriber at TRACE for \
         every crate (the SDK's and the emulator's included) writing into a buffer; every \
         `Debug` (plain and `{{:#?}}`) and `Display` of the values and errors made kept too.\n",
        if quick { " -- --quick" } else { "" }
    );
    println!("| check | result | goal |\n|---|---|---|");
    println!(
        "| secrets made and searched for | {} | - |",
        seen.secrets.len()
    );
    println!(
        "| TRACE log searched | {} lines, {} bytes | - |",
        log_lines,
        log.len()
    );
    println!(
        "| `Debug`/`Display` strings searched | {} | - |",
        seen.strings.len()
    );
    println!("| places a secret appears | {} | 0 |", hits.len());
    for hit in &hits {
        println!("\n- {hit}");
    }
    match outcome {
        Err(err) => {
            println!("\n**The run could not complete:** {err}");
            ExitCode::FAILURE
        }
        Ok(()) if hits.is_empty() && seen.secrets.len() > 2 && log_lines > 0 => ExitCode::SUCCESS,
        Ok(()) => {
            println!("\n**Goal missed.**");
            ExitCode::FAILURE
        }
    }
}

fn redact(line: &str, secret: &str) -> String {
    line.replace(secret, "<SECRET>")
        .chars()
        .take(1500)
        .collect()
}

async fn run(forks: usize, seen: &mut Seen) -> Result<(), BoxError> {
    let emu = Emulator::builder()
        .credentials(
            "tid_reliability_root",
            "tsec_reliability_root_secret_4f1c9a",
        )
        .start()
        .await?;
    seen.secret(
        "emulator root secret",
        emu.root_credentials().secret_access_key(),
    );
    seen.debug("Emulator", &emu);
    seen.debug("RootCredentials", emu.root_credentials());
    let sdk = root_sdk_config(&emu, RetryConfig::disabled());
    seen.debug("SdkConfig", &sdk);
    let kit = AgentKit::builder(&sdk)
        .iam_endpoint(emu.endpoint())
        .build()?;
    seen.debug("AgentKit", &kit);
    seen.debug("TigrisIam", kit.iam());
    let s3 = kit.s3().clone();

    // The quickstart.
    let workspace = kit
        .create_workspace()
        .bucket("secrets-ws")
        .credentials(Role::Editor)
        .credentials_expire_at(SystemTime::now() + Duration::from_secs(3600))
        .send()
        .await?;
    seen.debug("Workspace", &workspace);
    let key = workspace.credentials().ok_or("no workspace key")?;
    seen.key("workspace key", key);
    let agent = s3_signed_as(&emu, key.to_credentials());
    for k in ["plan.md", "data/input.csv"] {
        agent
            .put_object()
            .bucket(workspace.bucket().as_str())
            .key(k)
            .body(ByteStream::from_static(b"1. gather data\n"))
            .send()
            .await?;
    }
    let checkpoint = kit
        .checkpoint()
        .bucket(workspace.bucket())
        .name("before-agents")
        .send()
        .await?;
    seen.debug("Checkpoint", &checkpoint);
    seen.both("SnapshotVersion", checkpoint.version());
    let set = kit
        .create_forks()
        .base(workspace.bucket())
        .count(forks)
        .credentials(Role::Editor)
        .send()
        .await?;
    seen.debug("ForkSet", &set);
    for fork in set.forks() {
        seen.debug("Fork", fork);
        seen.key(
            &format!("fork {} key", fork.index()),
            fork.credentials().ok_or("no fork key")?,
        );
    }
    let token = "reliability-webhook-token-77c3e1";
    seen.secret("webhook token", token);
    let mut receiver =
        WebhookReceiver::bind("127.0.0.1:0".parse()?, Some(WebhookAuth::bearer(token))).await?;
    seen.debug("WebhookReceiver", &receiver);
    seen.debug("WebhookAuth", &WebhookAuth::bearer(token));
    seen.debug("WebhookAuth (basic)", &WebhookAuth::basic("user", token));
    let config = NotificationConfig::builder(receiver.url())
        .filter(r#"WHERE `key` REGEXP "^results/""#)
        .token(token)
        .build()?;
    seen.debug("NotificationConfig", &config);
    for fork in set.forks() {
        kit.set_notifications(fork.bucket(), &config).await?;
    }
    for fork in set.forks() {
        let s3 = s3_signed_as(
            &emu,
            fork.credentials().ok_or("no fork key")?.to_credentials(),
        );
        s3.put_object()
            .bucket(fork.bucket().as_str())
            .key(format!("results/agent-{}.json", fork.index()))
            .body(ByteStream::from(
                format!("{{\"score\":{}}}", fork.index()).into_bytes(),
            ))
            .send()
            .await?;
    }
    for _ in 0..set.forks().len() {
        let event = tokio::time::timeout(Duration::from_secs(10), receiver.next())
            .await?
            .ok_or("receiver stopped")?;
        seen.debug("ObjectEvent", &event);
    }
    let restored = kit
        .restore()
        .bucket(workspace.bucket())
        .version(checkpoint.version())
        .fork_name("secrets-ws-restored")
        .send()
        .await?;
    seen.both("restored BucketName", &restored);
    let best = set.forks().last().ok_or("no fork")?.clone();
    let diff = kit.diff().fork(best.bucket()).send().await?;
    seen.debug("ForkDiff", &diff);
    let merged = set
        .promote(&best)
        .on_conflict(OnConflict::Overwrite)
        .send()
        .await?;
    seen.debug("Merge", &merged);

    // Errors from the same calls: a key that no longer exists, a denied read, a bad input.
    let revoked = s3_signed_as(
        &emu,
        best.credentials().ok_or("no fork key")?.to_credentials(),
    );
    let denied = revoked
        .get_object()
        .bucket(workspace.bucket().as_str())
        .key("plan.md")
        .send()
        .await;
    if let Err(err) = &denied {
        seen.both("S3 error as a revoked key", err);
        seen.debug("S3 service error as a revoked key", &err.as_service_error());
    }
    let wrong = aws_credential_types::Credentials::new(
        key.access_key_id(),
        "tsec_a_wrong_secret_for_the_workspace_key",
        None,
        None,
        "reliability",
    );
    seen.secret(
        "wrong secret sent with a real key id",
        "tsec_a_wrong_secret_for_the_workspace_key",
    );
    if let Err(err) = s3_signed_as(&emu, wrong)
        .list_objects_v2()
        .bucket(workspace.bucket().as_str())
        .send()
        .await
    {
        seen.both("S3 error for a wrong secret", &err);
    }
    if let Err(err) = kit
        .create_forks()
        .base(workspace.bucket())
        .count(0)
        .send()
        .await
    {
        seen.both("agent-kit invalid-input error", &err);
    }

    // tigris-iam: a key made and revoked, and a failure forced at each step of its creation.
    let iam = kit.iam();
    let made = iam
        .create_scoped_key()
        .name("secrets-key")
        .bucket(workspace.bucket().clone())
        .role(Role::ReadOnly)
        .send()
        .await?;
    seen.key("tigris-iam key", &made);
    iam.revoke(&made).await?;
    for (step, after) in [
        ("CreateAccessKey", true),
        ("CreatePolicy", false),
        ("AttachUserPolicy", false),
        ("AttachUserPolicy", true),
    ] {
        let fault = Fault::on(step);
        emu.faults()
            .inject(if after { fault.after_apply() } else { fault });
        match iam
            .create_scoped_key()
            .bucket(workspace.bucket().clone())
            .role(Role::Editor)
            .send()
            .await
        {
            Ok(key) => {
                seen.key(&format!("key made despite a {step} fault"), &key);
                iam.revoke(&key).await?;
            }
            Err(err) => {
                seen.both(&format!("tigris-iam error at {step}"), &err);
                for leftover in err.leftovers() {
                    seen.both("tigris-iam Leftover", leftover);
                }
                if !err.leftovers().is_empty() {
                    iam.clean_up(err.leftovers()).await.ok();
                }
            }
        }
    }
    // A workspace whose credentials step fails, and a fork set whose key step fails.
    emu.faults().inject(Fault::on("AttachUserPolicy"));
    if let Err(err) = kit
        .create_workspace()
        .bucket("secrets-ws-2")
        .credentials(Role::Editor)
        .send()
        .await
    {
        seen.both("agent-kit error at the workspace's credentials", &err);
    }
    emu.faults()
        .inject(Fault::on("AttachUserPolicy").after_apply());
    match kit
        .create_forks()
        .base(workspace.bucket())
        .count(2)
        .prefix("secrets-partial")
        .credentials(Role::Editor)
        .send()
        .await
    {
        Ok(partial) => {
            seen.debug("ForkSet with a failure", &partial);
            for failure in partial.failures() {
                seen.both("ForkFailure error", failure.error());
            }
            for fork in partial.forks() {
                if let Some(key) = fork.credentials() {
                    seen.key("partial fork key", key);
                }
            }
            partial.teardown().await?;
        }
        Err(err) => seen.both("agent-kit error at a fork's credentials", &err),
    }

    s3.delete_bucket()
        .bucket(restored.as_str())
        .force_delete()
        .send()
        .await?;
    workspace.teardown().await?;
    emu.shutdown().await;
    Ok(())
}

use tigris_headers::prelude::*;
