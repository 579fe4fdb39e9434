//! The emulator's console in a real browser: a small fleet (a workspace, four forks with their
//! own keys, writes, a merge, a webhook) runs through the agent kit, then headless Chromium
//! loads the console's pages. The DOM Chromium dumps (after the page's script has run) must
//! show every fork under its parent, each fork's changed keys with conflicts marked, a key
//! named `<script>alert(1)</script>` as text, webhook deliveries, and no secret. Screenshots go
//! to `target/console-*.png`.
//!
//! Needs Debian's `chromium` (`.ci/run` installs it; `CHROMIUM` names another binary). Where
//! it is absent the test says so and passes, unless `TIGRIS_CONSOLE_BROWSER_REQUIRED=1`
//! (set by `.ci/run`) makes that a failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use tigris_agent_kit::{NotificationConfig, Role};
use tigris_notify::receiver::WebhookReceiver;
use tigris_test_support::TestEnv;

const SCRIPT_KEY: &str = "<script>alert(1)</script>";

/// The Chromium binary: `$CHROMIUM`, or `chromium` / `chromium-browser` on the `PATH`.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let dirs = std::env::var_os("PATH")?;
    std::env::split_paths(&dirs)
        .flat_map(|d| ["chromium", "chromium-browser"].map(|n| d.join(n)))
        .find(|p| p.is_file())
}

/// The workspace's `target/` directory, where screenshots go.
fn target_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

/// Runs headless Chromium once on `url` with a fresh profile: `--dump-dom` (the DOM after the
/// page's scripts ran for `budget_ms` of virtual time) or a screenshot. A run that does not
/// end in two minutes is killed and fails the test.
fn run_chromium(browser: &Path, url: &str, output: Output<'_>, budget_ms: u32) -> String {
    let profile = std::env::temp_dir().join(format!(
        "tigris-console-chromium-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&profile).unwrap();
    let mut cmd = Command::new(browser);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .arg(format!("--virtual-time-budget={budget_ms}"));
    match output {
        Output::Dom => {
            cmd.arg("--dump-dom");
        }
        Output::Screenshot(path, (w, h)) => {
            cmd.arg(format!("--screenshot={}", path.display()))
                .arg(format!("--window-size={w},{h}"));
        }
    }
    let mut child = cmd
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", browser.display()));
    // Stdout is read on a thread (a large DOM cannot fill the pipe and stall Chromium); it
    // ends when Chromium exits, or the two-minute deadline passes and Chromium is killed.
    let mut stdout = child.stdout.take().unwrap();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let read = std::io::Read::read_to_string(&mut stdout, &mut text).map(|_| text);
        done.send(read).ok();
    });
    let dom = match finished.recv_timeout(Duration::from_secs(120)) {
        Ok(read) => read.unwrap(),
        Err(_) => {
            child.kill().ok();
            child.wait().ok();
            panic!("chromium did not finish loading {url} in two minutes");
        }
    };
    let status = child.wait().unwrap();
    std::fs::remove_dir_all(&profile).ok();
    assert!(status.success(), "chromium failed on {url}: {status}");
    dom
}

#[derive(Clone, Copy)]
enum Output<'a> {
    Dom,
    Screenshot(&'a Path, (u32, u32)),
}

/// Loads `url` in Chromium off the async workers (the emulator serves it on them).
async fn browse(browser: &Path, url: String, output: OwnedOutput) -> String {
    let browser = browser.to_owned();
    tokio::task::spawn_blocking(move || {
        let output = match &output {
            OwnedOutput::Dom => Output::Dom,
            OwnedOutput::Screenshot(path, size) => Output::Screenshot(path, *size),
        };
        run_chromium(&browser, &url, output, 5_000)
    })
    .await
    .unwrap()
}

enum OwnedOutput {
    Dom,
    Screenshot(PathBuf, (u32, u32)),
}

async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: &str) {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body.as_bytes().to_vec()))
        .send()
        .await
        .unwrap();
}

/// The `<tag ...>` opening the first element with attribute `attr="value"`.
fn element_with<'a>(dom: &'a str, attr: &str, value: &str) -> Option<&'a str> {
    let at = dom.find(&format!("{attr}=\"{value}\""))?;
    let start = dom[..at].rfind('<')?;
    let end = at + dom[at..].find('>')?;
    Some(&dom[start..=end])
}

fn attribute<'a>(element: &'a str, name: &str) -> Option<&'a str> {
    let pattern = format!(" {name}=\"");
    let at = element.find(&pattern)? + pattern.len();
    Some(&element[at..at + element[at..].find('"')?])
}

/// Fetches a console page over plain HTTP (for waiting on the emulator's state).
async fn fetch(addr: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    socket.read_to_end(&mut response).await.unwrap();
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_shows_a_fleets_fork_tree_and_diffs_and_hostile_keys_as_text() {
    let Some(browser) = chromium() else {
        let required = std::env::var("TIGRIS_CONSOLE_BROWSER_REQUIRED").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "chromium is not installed (TIGRIS_CONSOLE_BROWSER_REQUIRED=1)"
        );
        eprintln!(
            "skipped: no chromium on the PATH (apt-get install chromium, or set CHROMIUM); \
             the console's browser test did not run"
        );
        return;
    };
    let env = TestEnv::start().await;
    let kit = &env.kit;
    let console = env.emu.console_url().expect("the console is on by default");

    // The fleet: a workspace with a webhook, four forks with their own keys.
    let ws = kit.create_workspace().bucket("fleet").send().await.unwrap();
    let base = ws.bucket().as_str().to_owned();
    for (key, body) in [
        ("plan.md", "# plan v0"),
        ("shared.txt", "base"),
        ("notes/readme.txt", "read me"),
    ] {
        put(&env.s3, &base, key, body).await;
    }
    let mut receiver = WebhookReceiver::bind(
        "127.0.0.1:0".parse().unwrap(),
        Some(tigris_agent_kit::WebhookAuth::bearer("fleet-webhook-token")),
    )
    .await
    .unwrap();
    let config = NotificationConfig::builder(receiver.url())
        .token("fleet-webhook-token")
        .build()
        .unwrap();
    kit.set_notifications(ws.bucket(), &config).await.unwrap();
    let set = kit
        .create_forks()
        .base(ws.bucket())
        .count(4)
        .prefix("fleet-agent")
        .credentials(Role::Editor)
        .send()
        .await
        .unwrap();
    assert!(set.is_complete());
    let forks: Vec<String> = set.forks().iter().map(|f| f.bucket().to_string()).collect();
    let agents: Vec<aws_sdk_s3::Client> = set
        .forks()
        .iter()
        .map(|f| env.s3_as(f.credentials().unwrap()))
        .collect();
    for (i, (agent, fork)) in agents.iter().zip(&forks).enumerate() {
        put(
            agent,
            fork,
            &format!("results/agent-{i}.json"),
            "{\"ok\":true}",
        )
        .await;
    }
    put(&agents[0], &forks[0], "plan.md", "# plan v1 by agent 0").await;
    put(&agents[1], &forks[1], "plan.md", "# plan v1 by agent 1").await;
    put(&agents[1], &forks[1], SCRIPT_KEY, "hostile key").await;
    agents[2]
        .delete_object()
        .bucket(&forks[2])
        .key("notes/readme.txt")
        .send()
        .await
        .unwrap();
    put(&agents[3], &forks[3], "shared.txt", "agent 3 was here").await;
    // Agent 0's work goes into the workspace: agent 1's plan.md now conflicts with it.
    kit.merge().fork(&forks[0]).send().await.unwrap();
    put(&env.s3, &base, "status.txt", "merged agent 0").await;
    let event = tokio::time::timeout(Duration::from_secs(30), receiver.next())
        .await
        .expect("a webhook event within 30 s")
        .unwrap();
    assert_eq!(event.bucket(), base);
    // The delivery is recorded once the webhook has answered: wait for the console to say so.
    let addr = env.emu.local_addr();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !fetch(addr, "/_console/webhooks")
        .await
        .contains(">delivered<")
    {
        assert!(Instant::now() < deadline, "no delivery recorded in 30 s");
        tokio::task::yield_now().await;
    }

    let target = target_dir();
    std::fs::create_dir_all(&target).unwrap();
    let mut pages = String::new();

    // The overview: every fork drawn under the workspace, one level deeper; live updates ran.
    let overview = browse(&browser, console.clone(), OwnedOutput::Dom).await;
    let parent = element_with(&overview, "data-bucket", &base).expect("the workspace node");
    let parent_depth: u32 = attribute(parent, "data-depth").unwrap().parse().unwrap();
    for fork in &forks {
        let node = element_with(&overview, "data-bucket", fork)
            .unwrap_or_else(|| panic!("{fork} is not in the fork tree"));
        assert_eq!(
            attribute(node, "data-parent"),
            Some(base.as_str()),
            "{node}"
        );
        let depth: u32 = attribute(node, "data-depth").unwrap().parse().unwrap();
        assert_eq!(depth, parent_depth + 1, "{node}");
        // Drawn after (below) its parent.
        assert!(overview.find(node) > overview.find(parent));
    }
    let at = overview.find("<body").unwrap();
    let body = &overview[at..=at + overview[at..].find('>').unwrap()];
    let refreshed: u32 = attribute(body, "data-refreshed")
        .expect("the console's script ran")
        .parse()
        .unwrap();
    assert!(refreshed >= 1, "the page refreshed itself: {body}");
    pages.push_str(&overview);

    // Agent 1's fork: its changed keys, the conflict on plan.md, the hostile key as text.
    let fork_url = format!("{console}bucket?name={}", forks[1]);
    let fork_page = browse(&browser, fork_url.clone(), OwnedOutput::Dom).await;
    for (key, kind) in [("plan.md", "modified"), ("results/agent-1.json", "added")] {
        let row = element_with(&fork_page, "data-key", key)
            .unwrap_or_else(|| panic!("{key} is not in the diff"));
        assert_eq!(attribute(row, "data-fork"), Some(kind), "{row}");
    }
    let plan = element_with(&fork_page, "data-key", "plan.md").unwrap();
    assert!(
        attribute(plan, "class").unwrap().contains("conflict"),
        "{plan}"
    );
    assert_eq!(attribute(plan, "data-parent"), Some("modified"));
    let results = element_with(&fork_page, "data-key", "results/agent-1.json").unwrap();
    assert!(!attribute(results, "class").unwrap().contains("conflict"));
    assert!(
        fork_page.contains(">&lt;script&gt;alert(1)&lt;/script&gt;</a>"),
        "the hostile key is a text node in the diff"
    );
    assert!(
        !fork_page.contains(SCRIPT_KEY),
        "no script element was made from the key"
    );
    pages.push_str(&fork_page);

    // Agent 2's deletion and agent 3's edit show in their own diffs.
    let page = browse(
        &browser,
        format!("{console}bucket?name={}", forks[2]),
        OwnedOutput::Dom,
    )
    .await;
    let row = element_with(&page, "data-key", "notes/readme.txt").unwrap();
    assert_eq!(attribute(row, "data-fork"), Some("deleted"));
    pages.push_str(&page);

    // Keys, webhooks: shown, with no secret anywhere.
    let keys = browse(&browser, format!("{console}keys"), OwnedOutput::Dom).await;
    for fork in set.forks() {
        let id = fork.credentials().unwrap().access_key_id();
        assert!(keys.contains(id), "{id} is not on the keys page");
    }
    pages.push_str(&keys);
    let hooks = browse(&browser, format!("{console}webhooks"), OwnedOutput::Dom).await;
    assert!(
        hooks.contains(">delivered<") && hooks.contains(">204<"),
        "{hooks}"
    );
    pages.push_str(&hooks);
    let root = env.emu.root_credentials();
    for fork in set.forks() {
        let secret = fork.credentials().unwrap().secret().expose_secret();
        assert!(!pages.contains(secret), "a fork key's secret is on a page");
    }
    assert!(!pages.contains(root.secret_access_key()));
    assert!(!pages.contains("fleet-webhook-token"));

    for (name, url, size) in [
        ("overview", console.clone(), (1280, 900)),
        ("fork", fork_url, (1280, 900)),
        ("keys", format!("{console}keys"), (1280, 900)),
        ("webhooks", format!("{console}webhooks"), (1280, 700)),
    ] {
        let path = target.join(format!("console-{name}.png"));
        std::fs::remove_file(&path).ok();
        browse(&browser, url, OwnedOutput::Screenshot(path.clone(), size)).await;
        assert!(
            std::fs::metadata(&path).is_ok_and(|m| m.len() > 0),
            "{}",
            path.display()
        );
    }

    set.teardown().await.unwrap();
    kit.clear_notifications(ws.bucket()).await.unwrap();
    ws.teardown().await.unwrap();
}
