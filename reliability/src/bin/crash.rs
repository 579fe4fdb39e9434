//! Crash of the server: the emulator binary on `--data-dir`, killed with SIGKILL just before
//! a random request of each workflow reaches it (seeded; the seed is printed and `--seed N`
//! repeats a run), restarted on the same directory and port, then the workflow's cleanup run
//! from what the client reported (the result's handles, or the error's leftovers). Goal:
//! nothing left (no bucket, access key or policy) and every acknowledged write readable after
//! the restart. `--quick`: 2 kills per workflow (full: 8).

use std::path::Path;
use std::process::{Child, ExitCode};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::retry::RetryConfig;
use tigris_agent_kit::{AgentKit, Leftover, Role};
use tigris_core::config::{self, s3_client};
use tigris_headers::prelude::*;
use tigris_test_support::default_http_client;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The running emulator process; killed by the connector at the planned request.
#[derive(Debug, Default)]
struct Server {
    child: Mutex<Option<Child>>,
    requests: AtomicU64,
    kill_at: AtomicU64,
}

impl Server {
    fn kill(&self) {
        if let Some(mut child) = self.child.lock().unwrap_or_else(|e| e.into_inner()).take() {
            child.kill().ok();
            child.wait().ok();
        }
    }
}

#[derive(Debug, Clone)]
struct KillingClient {
    inner: SharedHttpClient,
    server: Arc<Server>,
}

impl HttpClient for KillingClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(KillingConnector {
            inner: self.inner.http_connector(settings, components),
            server: Arc::clone(&self.server),
        })
    }
}

#[derive(Debug)]
struct KillingConnector {
    inner: SharedHttpConnector,
    server: Arc<Server>,
}

impl HttpConnector for KillingConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let n = self.server.requests.fetch_add(1, Ordering::SeqCst) + 1;
        if n == self.server.kill_at.load(Ordering::SeqCst) {
            self.server.kill();
        }
        self.inner.call(request)
    }
}

fn spawn(dir: &Path, port: u16) -> Result<Child, BoxError> {
    use std::io::BufRead;
    let bin = std::env::current_exe()?.with_file_name("tigris-emulator");
    let mut child = std::process::Command::new(&bin)
        .args(["--port", &port.to_string(), "--data-dir"])
        .arg(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| {
            format!(
                "cannot start {} (cargo build --release -p tigris-emulator): {e}",
                bin.display()
            )
        })?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    for line in std::io::BufReader::new(stdout).lines() {
        if line?.starts_with("ready: ") {
            return Ok(child);
        }
    }
    Err("the emulator exited before it was ready".into())
}

/// What the client reported: what to remove, and the writes it was told succeeded.
#[derive(Debug, Default)]
struct Reported {
    buckets: Vec<String>,
    iam: Vec<tigris_iam::Leftover>,
    acknowledged: Vec<(String, String, String)>,
    handles: Vec<Handle>,
}

#[derive(Debug)]
enum Handle {
    Workspace(tigris_agent_kit::Workspace),
    Forks(tigris_agent_kit::ForkSet),
    Key(tigris_iam::ScopedAccessKey),
}

impl Reported {
    fn leftovers(&mut self, leftovers: &[Leftover]) {
        for leftover in leftovers {
            match leftover {
                Leftover::Bucket { bucket } => self.buckets.push(bucket.to_string()),
                Leftover::Iam(iam) => self.iam.push(iam.clone()),
                // A snapshot goes with its bucket.
                _ => {}
            }
        }
    }
}

const WORKFLOWS: [&str; 4] = [
    "workspace create + teardown",
    "create_forks + teardown",
    "checkpoint + restore",
    "scoped key create + revoke",
];

async fn workflow(which: usize, kit: &AgentKit, sdk: &aws_types::SdkConfig, r: &mut Reported) {
    let s3 = kit.s3();
    match which {
        0 => match kit
            .create_workspace()
            .bucket("crash-ws")
            .credentials(Role::Editor)
            .send()
            .await
        {
            Ok(ws) => {
                let body = "acknowledged".to_owned();
                if s3
                    .put_object()
                    .bucket(ws.bucket().as_str())
                    .key("a")
                    .body(ByteStream::from(body.clone().into_bytes()))
                    .send()
                    .await
                    .is_ok()
                {
                    r.acknowledged
                        .push((ws.bucket().to_string(), "a".into(), body));
                }
                match ws.teardown().await {
                    Ok(()) => {}
                    Err(e) => {
                        r.leftovers(e.leftovers());
                        r.handles.push(Handle::Workspace(ws));
                    }
                }
            }
            Err(e) => r.leftovers(e.leftovers()),
        },
        1 | 2 => {
            // The base is made before the kill window opens (see `run`).
            if which == 1 {
                match kit
                    .create_forks()
                    .base("crash-base")
                    .count(2)
                    .credentials(Role::Editor)
                    .send()
                    .await
                {
                    Ok(set) => {
                        for f in set.failures() {
                            r.leftovers(f.error().leftovers());
                        }
                        if let Err(e) = set.teardown().await {
                            r.leftovers(e.leftovers());
                            r.handles.push(Handle::Forks(set));
                        }
                    }
                    Err(e) => r.leftovers(e.leftovers()),
                }
            } else {
                match kit.checkpoint().bucket("crash-base").name("c").send().await {
                    Ok(cp) => match kit
                        .restore()
                        .bucket("crash-base")
                        .version(cp.version())
                        .fork_name("crash-restored")
                        .send()
                        .await
                    {
                        Ok(b) => r.buckets.push(b.to_string()),
                        Err(e) => r.leftovers(e.leftovers()),
                    },
                    Err(e) => r.leftovers(e.leftovers()),
                }
            }
        }
        _ => {
            let iam = kit.iam();
            let base = tigris_core::BucketName::new("crash-base").expect("a valid name");
            match iam
                .create_scoped_key()
                .name("crash-key")
                .bucket(base)
                .role(Role::Editor)
                .send()
                .await
            {
                Ok(key) => {
                    if let Err(e) = iam.revoke(&key).await {
                        r.iam.extend(e.leftovers().iter().cloned());
                        r.handles.push(Handle::Key(key));
                    }
                }
                Err(e) => r.iam.extend(e.leftovers().iter().cloned()),
            }
        }
    }
    let _ = sdk;
}

/// After the restart: acknowledged writes still there, then cleanup, then what is left.
async fn check(kit: &AgentKit, r: Reported) -> (usize, Vec<String>) {
    let s3 = kit.s3();
    let mut lost = 0;
    for (bucket, key, body) in &r.acknowledged {
        let got = match s3.get_object().bucket(bucket).key(key).send().await {
            Ok(o) => o
                .body
                .collect()
                .await
                .map(|b| b.into_bytes().to_vec())
                .unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        // A write acknowledged before a teardown that then succeeded is gone on purpose.
        let torn_down = s3.head_bucket().bucket(bucket).send().await.is_err();
        if got != body.as_bytes() && !torn_down {
            lost += 1;
        }
    }
    for handle in &r.handles {
        let _ = match handle {
            Handle::Workspace(ws) => ws.teardown().await.map_err(|e| e.to_string()),
            Handle::Forks(set) => set.teardown().await.map_err(|e| e.to_string()),
            Handle::Key(key) => kit.iam().revoke(key).await.map_err(|e| e.to_string()),
        };
    }
    for bucket in &r.buckets {
        let _ = s3
            .delete_bucket()
            .bucket(bucket)
            .force_delete()
            .send()
            .await;
    }
    if !r.iam.is_empty() {
        let _ = kit.iam().clean_up(&r.iam).await;
    }
    // A key whose creation answer was lost is named by when it was made: `clean_up` leaves it
    // to the caller, who knows which keys are theirs. Here nothing else makes keys, so every
    // key made since then that the cleanup above left is the lost one.
    for leftover in &r.iam {
        if let tigris_iam::Leftover::MaybeAccessKey { created_after, .. } = leftover {
            let since = *created_after - tigris_iam::KEY_CLOCK_MARGIN;
            let Ok(out) = kit.iam().client().list_access_keys().send().await else {
                continue;
            };
            for key in out.access_key_metadata() {
                let made = key
                    .create_date()
                    .and_then(|d| std::time::SystemTime::try_from(*d).ok());
                if made.is_some_and(|t| t >= since)
                    && let Some(id) = key.access_key_id()
                {
                    let _ = kit
                        .iam()
                        .client()
                        .delete_access_key()
                        .access_key_id(id)
                        .send()
                        .await;
                }
            }
        }
    }
    let mut left = Vec::new();
    if let Ok(out) = s3.list_buckets().send().await {
        for b in out.buckets() {
            let name = b.name().unwrap_or_default();
            if name != "crash-base" {
                left.push(format!("bucket {name}"));
            }
        }
    } else {
        left.push("(the bucket listing failed)".into());
    }
    let iam = kit.iam().client();
    match iam.list_policies().send().await {
        Ok(out) => left.extend(
            out.policies()
                .iter()
                .map(|p| format!("policy {}", p.policy_name().unwrap_or_default())),
        ),
        Err(_) => left.push("(the policy listing failed)".into()),
    }
    match iam.list_access_keys().send().await {
        Ok(out) => left.extend(
            out.access_key_metadata()
                .iter()
                .map(|k| format!("access key {}", k.access_key_id().unwrap_or_default())),
        ),
        Err(_) => left.push("(the access key listing failed)".into()),
    }
    (lost, left)
}

#[tokio::main]
async fn main() -> ExitCode {
    let quick = tigris_reliability::quick();
    let kills = if quick { 2 } else { 8 };
    let args: Vec<String> = std::env::args().collect();
    let seed = args
        .iter()
        .position(|a| a == "--seed")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    println!("## Crash of the server\n");
    println!(
        "`cargo run --release -p tigris-reliability --bin crash -- {}--seed {seed}` (the seed \
         repeats the run): the `tigris-emulator` binary on `--data-dir`, SIGKILLed just before \
         the k-th request of a workflow reaches it (k drawn from the workflow's request count, \
         counted in a clean run first), restarted on the same directory and port, then the \
         cleanup run from what the client reported (result handles, or the error's \
         leftovers). A kill while a request is being applied is not covered (the kill happens \
         between requests). SDK retries off.\n",
        if quick { "--quick " } else { "" }
    );
    match run(seed, kills).await {
        Ok((md, ok)) => {
            print!("{md}");
            if ok {
                ExitCode::SUCCESS
            } else {
                println!("\n**Goal missed.**");
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            println!("**The run could not complete:** {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(seed: u64, kills: usize) -> Result<(String, bool), BoxError> {
    use std::fmt::Write as _;
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut md = String::from(
        "| workflow | requests | killed before request | left after cleanup | acknowledged writes lost |\n|---|---|---|---|---|\n",
    );
    let mut ok = true;
    for (which, name) in WORKFLOWS.iter().enumerate() {
        let mut count = 0;
        for attempt in 0..=kills {
            let dir = tempfile::tempdir()?;
            let port = std::net::TcpListener::bind("127.0.0.1:0")?
                .local_addr()?
                .port();
            let server = Arc::new(Server::default());
            *server.child.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(spawn(dir.path(), port)?);
            let endpoint = format!("http://127.0.0.1:{port}");
            let creds = aws_credential_types::Credentials::new(
                tigris_emulator::DEFAULT_ACCESS_KEY_ID,
                tigris_emulator::DEFAULT_SECRET_ACCESS_KEY,
                None,
                None,
                "crash",
            );
            let sdk = config::builder()
                .endpoint_url(&endpoint)
                .credentials(creds)
                .retry_config(RetryConfig::disabled())
                .http_client(SharedHttpClient::new(KillingClient {
                    inner: default_http_client(),
                    server: Arc::clone(&server),
                }))
                .timeout_config(
                    aws_smithy_types::timeout::TimeoutConfig::builder()
                        .operation_attempt_timeout(Duration::from_secs(5))
                        .build(),
                )
                .build();
            let kit = AgentKit::builder(&sdk).iam_endpoint(&endpoint).build()?;
            let _base = kit.create_workspace().bucket("crash-base").send().await?;
            s3_client(&sdk)
                .put_object()
                .bucket("crash-base")
                .key("seed")
                .body(ByteStream::from_static(b"seed"))
                .send()
                .await?;
            let opened = server.requests.load(Ordering::SeqCst);
            let k = if attempt == 0 { 0 } else { rng.u64(1..=count) };
            server
                .kill_at
                .store(if k == 0 { 0 } else { opened + k }, Ordering::SeqCst);
            let mut reported = Reported::default();
            workflow(which, &kit, &sdk, &mut reported).await;
            if attempt == 0 {
                count = server.requests.load(Ordering::SeqCst) - opened;
                server.kill();
                continue;
            }
            let killed = server
                .child
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_none();
            server.kill();
            server.kill_at.store(0, Ordering::SeqCst);
            *server.child.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(spawn(dir.path(), port)?);
            let (lost, left) = check(&kit, reported).await;
            server.kill();
            if !killed || lost > 0 || !left.is_empty() {
                ok = false;
            }
            writeln!(
                md,
                "| {name} | {count} | {k}{} | {} | {lost} |",
                if killed { "" } else { " (no kill)" },
                if left.is_empty() {
                    "nothing".to_owned()
                } else {
                    left.join(", ")
                }
            )?;
        }
    }
    Ok((md, ok))
}
