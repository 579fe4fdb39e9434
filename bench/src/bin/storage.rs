//! Storage benchmark: PUT/GET throughput of the emulator (in memory, and on disk with a data
//! directory) as a fraction of a ceiling measured in the same run, the fsync rate of the data
//! directory's disk, a comparison with moto's server mode, the peak memory of a large PUT, and
//! resident memory under an overwrite loop on a snapshot-enabled bucket.
//!
//! The ceiling is a minimal hyper server in this process that accepts a PUT body into memory
//! and answers a GET with a slice of a static buffer: no signature check, no hashing, no store.
//! It is driven by the same aws-sdk-s3 client over the same loopback at the same concurrency,
//! so the client's own costs (SigV4 signing of the payload, response parsing) count the same
//! way against the ceiling as against the emulator.
//!
//! Run with `cargo xtask bench` (everything) or `cargo xtask bench storage` (this program
//! alone), or `cargo run --release -p tigris-bench --bin storage -- [PATH] [--rounds N]
//! [--no-moto]`, which writes its Markdown section into PATH (replacing an earlier one) or
//! prints it. moto is installed with `pip install "moto[server]"` when
//! `python3 -c "import moto.server"` fails. Every number comes from this one run; nothing here
//! is asserted.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io::Write as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use aws_sdk_s3::config::{BehaviorVersion, Region, RequestChecksumCalculation};
use aws_sdk_s3::primitives::ByteStream;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use http_body_util::{BodyExt, Full};
use tigris_emulator::Emulator;

const SMALL_COUNT: usize = 1_000;
const SMALL_SIZE: usize = 64 * 1024;
const LARGE_COUNT: usize = 4;
const LARGE_SIZE: usize = 32 * 1024 * 1024;
const TINY_COUNT: usize = 4_000;
const TINY_SIZE: usize = 4 * 1024;
const PEAK_SIZE: usize = 256 * 1024 * 1024;
const OVERWRITES: usize = 10_000;
const IN_FLIGHT: usize = 16;
const FSYNC_PROBE: Duration = Duration::from_secs(2);

fn client(endpoint: &str, region: &str, key: &str, secret: &str) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(tigris_core::config::default_http_client())
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .credentials_provider(Credentials::new(key, secret, None, None, "bench"))
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// Peak resident memory the emulator process adds while a 256 MiB object is overwritten,
/// divided by the object's size.
async fn put_peak_ratio() -> Result<f64, String> {
    let (mut child, endpoint) = tigris_bench::spawn_emulator_binary()?;
    let pid = child.id().to_string();
    let s3 = client(
        &endpoint,
        "auto",
        tigris_emulator::DEFAULT_ACCESS_KEY_ID,
        tigris_emulator::DEFAULT_SECRET_ACCESS_KEY,
    );
    let big = Bytes::from(vec![3u8; PEAK_SIZE]);
    let result = async {
        s3.create_bucket()
            .bucket("bench-peak")
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?;
        let put_big = || {
            s3.put_object()
                .bucket("bench-peak")
                .key("big")
                .body(ByteStream::from(big.clone()))
                .send()
        };
        put_big().await.map_err(|e| format!("{e:?}"))?;
        if !tigris_bench::reset_peak(&pid) {
            return Err("could not reset VmHWM".to_owned());
        }
        let before = tigris_bench::status_kib(&pid, "VmRSS:");
        put_big().await.map_err(|e| format!("{e:?}"))?;
        let peak = tigris_bench::status_kib(&pid, "VmHWM:");
        Ok((peak.saturating_sub(before) * 1024) as f64 / PEAK_SIZE as f64)
    }
    .await;
    child.kill().ok();
    child.wait().ok();
    result
}

/// One measured workload: a number of PUTs or GETs of one size, [`IN_FLIGHT`] at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Workload {
    SmallPut,
    SmallGet,
    LargePut,
    LargeGet,
    TinyPut,
}

impl Workload {
    const ALL: [Self; 5] = [
        Self::SmallPut,
        Self::SmallGet,
        Self::LargePut,
        Self::LargeGet,
        Self::TinyPut,
    ];

    fn count(self) -> usize {
        match self {
            Self::SmallPut | Self::SmallGet => SMALL_COUNT,
            Self::LargePut | Self::LargeGet => LARGE_COUNT,
            Self::TinyPut => TINY_COUNT,
        }
    }

    fn size(self) -> usize {
        match self {
            Self::SmallPut | Self::SmallGet => SMALL_SIZE,
            Self::LargePut | Self::LargeGet => LARGE_SIZE,
            Self::TinyPut => TINY_SIZE,
        }
    }

    fn is_put(self) -> bool {
        matches!(self, Self::SmallPut | Self::LargePut | Self::TinyPut)
    }

    fn prefix(self) -> &'static str {
        match self {
            Self::SmallPut | Self::SmallGet => "small",
            Self::LargePut | Self::LargeGet => "large",
            Self::TinyPut => "tiny",
        }
    }

    fn label(self) -> String {
        let (op, size) = match self {
            Self::SmallPut => ("PUT", "64 KiB"),
            Self::SmallGet => ("GET", "64 KiB"),
            Self::LargePut => ("PUT", "32 MiB"),
            Self::LargeGet => ("GET", "32 MiB"),
            Self::TinyPut => ("PUT", "4 KiB"),
        };
        format!("{op} {} x {size}", thousands(self.count()))
    }

    /// The figure to report for one run: MiB/s, or requests per second for the 4 KiB PUTs
    /// (their cost is per request, not per byte).
    fn rate(self, took: Duration) -> f64 {
        let per_second = self.count() as f64 / took.as_secs_f64();
        match self {
            Self::TinyPut => per_second,
            _ => per_second * self.size() as f64 / (1024.0 * 1024.0),
        }
    }

    fn format(self, took: Duration) -> String {
        match self {
            Self::TinyPut => format!("{} PUT/s", thousands(self.rate(took).round() as usize)),
            _ => format!("{:.0} MiB/s", self.rate(took)),
        }
    }
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Runs `workload` once against `s3` (round `round` of the PUTs writes new keys; GETs read
/// the keys of round 0); answers the wall time.
async fn run(s3: &aws_sdk_s3::Client, bucket: &str, workload: Workload, round: usize) -> Duration {
    let size = workload.size();
    let body = Bytes::from(vec![7u8; size]);
    let prefix = workload.prefix();
    let round = if workload.is_put() { round } else { 0 };
    let started = Instant::now();
    futures::stream::iter(0..workload.count())
        .map(|i| {
            let (s3, body) = (s3.clone(), body.clone());
            let key = format!("{prefix}/r{round}/{i:06}");
            async move {
                if workload.is_put() {
                    s3.put_object()
                        .bucket(bucket)
                        .key(key)
                        .body(ByteStream::from(body))
                        .send()
                        .await
                        .expect("put");
                } else {
                    let got = s3
                        .get_object()
                        .bucket(bucket)
                        .key(key)
                        .send()
                        .await
                        .expect("get");
                    let body = got.body.collect().await.expect("body").into_bytes();
                    assert_eq!(body.len(), size);
                }
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<_>>()
        .await;
    started.elapsed()
}

/// What the ceiling server keeps: the size of every key PUT to it, the buffer its GETs slice,
/// and the first PUT's `x-amz-content-sha256` (to report what the client signs).
#[derive(Debug)]
struct CeilingState {
    sizes: Mutex<HashMap<String, usize>>,
    body: Bytes,
    content_sha256: OnceLock<String>,
}

/// The ceiling: a minimal hyper server on a free loopback port, stopped on drop.
#[derive(Debug)]
struct Ceiling {
    endpoint: String,
    state: Arc<CeilingState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Ceiling {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn ceiling_answer(
    state: Arc<CeilingState>,
    req: http::Request<hyper::body::Incoming>,
) -> Result<http::Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    let mut resp = http::Response::new(Full::new(Bytes::new()));
    match *req.method() {
        http::Method::PUT => {
            if let Some(v) = req.headers().get("x-amz-content-sha256")
                && path.matches('/').count() > 1
            {
                state
                    .content_sha256
                    .get_or_init(|| String::from_utf8_lossy(v.as_bytes()).into_owned());
            }
            let hint = req
                .headers()
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
                .unwrap_or(0);
            // Into memory, as a store must hold it: one contiguous buffer.
            let mut buf = BytesMut::with_capacity(hint);
            let mut body = req.into_body();
            while let Some(frame) = body.frame().await {
                match frame.map(|f| f.into_data()) {
                    Ok(Ok(data)) => buf.extend_from_slice(&data),
                    Ok(Err(_)) => {}
                    Err(_) => {
                        *resp.status_mut() = http::StatusCode::BAD_REQUEST;
                        return Ok(resp);
                    }
                }
            }
            let len = buf.len();
            drop(buf);
            state
                .sizes
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(path, len);
            resp.headers_mut().insert(
                http::header::ETAG,
                http::HeaderValue::from_static("\"ceiling\""),
            );
        }
        http::Method::GET => {
            let size = state
                .sizes
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(&path)
                .copied();
            match size {
                Some(n) => *resp.body_mut() = Full::new(state.body.slice(..n)),
                None => *resp.status_mut() = http::StatusCode::NOT_FOUND,
            }
        }
        _ => {}
    }
    Ok(resp)
}

async fn start_ceiling() -> Ceiling {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the ceiling server");
    let endpoint = format!(
        "http://{}",
        listener.local_addr().expect("ceiling server address")
    );
    let state = Arc::new(CeilingState {
        sizes: Mutex::new(HashMap::new()),
        body: Bytes::from(vec![9u8; LARGE_SIZE]),
        content_sha256: OnceLock::new(),
    });
    let shared = Arc::clone(&state);
    let task = tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                continue;
            };
            socket.set_nodelay(true).ok();
            let state = Arc::clone(&shared);
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |req| ceiling_answer(Arc::clone(&state), req));
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(socket), service)
                    .await
                    .ok();
            });
        }
    });
    Ceiling {
        endpoint,
        state,
        task,
    }
}

/// 4 KiB written and fsynced, one after the other, by each of `threads` threads (each to its
/// own file in `dir`) for [`FSYNC_PROBE`]; answers fsyncs per second, all threads together.
fn fsync_rate(dir: &Path, threads: usize) -> f64 {
    let block = [0u8; 4096];
    let started = Instant::now();
    let total: usize = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    let path = dir.join(format!("fsync-probe-{t}"));
                    let mut file = std::fs::File::create(&path).expect("fsync probe file");
                    let mut n = 0usize;
                    while started.elapsed() < FSYNC_PROBE {
                        file.write_all(&block).expect("fsync probe write");
                        file.sync_all().expect("fsync");
                        n += 1;
                    }
                    std::fs::remove_file(&path).ok();
                    n
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or(0)).sum()
    });
    total as f64 / started.elapsed().as_secs_f64()
}

/// moto's server on a free loopback port; killed on drop.
struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

fn ensure_moto() -> Result<(), String> {
    let have = |py: &str| {
        Command::new(py)
            .args(["-c", "import moto.server"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if have("python3") {
        return Ok(());
    }
    eprintln!("$ python3 -m pip install \"moto[server]\"");
    let ok = Command::new("python3")
        .args(["-m", "pip", "install", "--quiet", "moto[server]"])
        .status()
        .map_err(|e| format!("cannot run pip: {e}"))?
        .success();
    if ok && have("python3") {
        Ok(())
    } else {
        Err("moto[server] could not be installed".into())
    }
}

async fn start_moto() -> Result<(Moto, String), String> {
    ensure_moto()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let child = Command::new("python3")
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start moto: {e}"))?;
    let moto = Moto(child);
    let endpoint = format!("http://127.0.0.1:{port}");
    // Bounded poll until it accepts connections (moto prints no machine-readable ready line).
    for _ in 0..300 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok((moto, endpoint));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err("moto did not start listening within 30 s".into())
}

/// Command-line options.
#[derive(Debug)]
struct Options {
    out: Option<String>,
    rounds: usize,
    moto: bool,
    /// `--only WORKLOAD SERVER` (for a profiler): that workload, `rounds` times, against that
    /// server (`ceiling`, `memory` or `disk`), then exit without a report.
    only: Option<(Workload, usize)>,
}

fn options() -> Options {
    let mut opts = Options {
        out: None,
        rounds: 3,
        moto: true,
        only: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rounds" => {
                opts.rounds = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .expect("--rounds takes a positive number");
            }
            "--no-moto" => opts.moto = false,
            "--only" => {
                let workload = match args.next().as_deref() {
                    Some("put-64k") => Workload::SmallPut,
                    Some("get-64k") => Workload::SmallGet,
                    Some("put-32m") => Workload::LargePut,
                    Some("get-32m") => Workload::LargeGet,
                    Some("put-4k") => Workload::TinyPut,
                    _ => panic!("--only takes put-64k, get-64k, put-32m, get-32m or put-4k"),
                };
                let server = match args.next().as_deref() {
                    Some("ceiling") => 0,
                    Some("memory") => 1,
                    Some("disk") => 2,
                    _ => panic!("--only WORKLOAD takes a server: ceiling, memory or disk"),
                };
                opts.only = Some((workload, server));
            }
            path => opts.out = Some(path.to_owned()),
        }
    }
    opts
}

const BUCKET: &str = "bench-throughput";

#[tokio::main]
async fn main() {
    let opts = options();
    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let emu = Emulator::start().await.expect("start emulator");
    let root = emu.root_credentials();
    let (key, secret) = (root.access_key_id(), root.secret_access_key());
    let s3 = client(&emu.endpoint(), "auto", key, secret);
    let dir = tempfile::tempdir().expect("temporary data directory");
    let data_dir = dir.path().join("data");
    let on_disk = Emulator::builder()
        .data_dir(&data_dir)
        .start()
        .await
        .expect("start emulator on disk");
    let disk = client(&on_disk.endpoint(), "auto", key, secret);
    let ceiling = start_ceiling().await;
    let top = client(&ceiling.endpoint, "auto", key, secret);
    for c in [&top, &s3, &disk] {
        c.create_bucket()
            .bucket(BUCKET)
            .send()
            .await
            .expect("create bucket");
    }

    if let Some((workload, server)) = opts.only {
        let (name, c) = [("ceiling", &top), ("in memory", &s3), ("on disk", &disk)][server];
        // A GET reads what the PUTs of the same size wrote.
        match workload {
            Workload::SmallGet => {
                run(c, BUCKET, Workload::SmallPut, 0).await;
            }
            Workload::LargeGet => {
                run(c, BUCKET, Workload::LargePut, 0).await;
            }
            _ => {}
        }
        for round in 0..opts.rounds {
            let took = run(c, BUCKET, workload, round).await;
            eprintln!(
                "round {round}: {} {name}: {}",
                workload.label(),
                workload.format(took)
            );
        }
        return;
    }

    // The disk the data directory is on, measured beside it.
    let probe_dir = dir.path().to_owned();
    let (fsync_one, fsync_many) = tokio::task::spawn_blocking(move || {
        (fsync_rate(&probe_dir, 1), fsync_rate(&probe_dir, IN_FLIGHT))
    })
    .await
    .expect("fsync probe");

    // Each workload against the three servers one after the other, so they meet the same
    // machine load; the best of the rounds is kept for each.
    let targets = [("ceiling", &top), ("in memory", &s3), ("on disk", &disk)];
    let mut best: HashMap<(usize, usize), Duration> = HashMap::new();
    for round in 0..opts.rounds {
        for (w, workload) in Workload::ALL.iter().enumerate() {
            // Each round starts with a different server, so none always follows the same one.
            for turn in 0..targets.len() {
                let t = (turn + round) % targets.len();
                let (name, c) = targets[t];
                let took = run(c, BUCKET, *workload, round).await;
                eprintln!(
                    "round {round}: {} {name}: {}",
                    workload.label(),
                    workload.format(took)
                );
                let slot = best.entry((w, t)).or_insert(took);
                *slot = (*slot).min(took);
            }
        }
    }
    let signed_payload = ceiling.state.content_sha256.get().cloned();
    drop(ceiling);
    on_disk.shutdown().await;
    drop(dir);

    let moto = if opts.moto {
        match start_moto().await {
            Ok((moto, endpoint)) => {
                let m = client(&endpoint, "us-east-1", "testing", "testing");
                m.create_bucket()
                    .bucket(BUCKET)
                    .send()
                    .await
                    .expect("create bucket on moto");
                let mut times = Vec::new();
                for workload in &Workload::ALL[..4] {
                    times.push(run(&m, BUCKET, *workload, 0).await);
                }
                drop(moto);
                Ok(times)
            }
            Err(e) => Err(e),
        }
    } else {
        Err("not run (--no-moto)".to_owned())
    };

    // Peak memory of overwriting a large object, in the emulator's own process.
    let peak = put_peak_ratio().await;

    // Resident memory under an overwrite loop on a snapshot-enabled bucket.
    s3.create_bucket()
        .bucket("bench-overwrite")
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("x-tigris-enable-snapshot", "true");
        })
        .send()
        .await
        .expect("create");
    let body = Bytes::from(vec![5u8; 4096]);
    let mut rss_at = Vec::new();
    for i in 1..=OVERWRITES {
        s3.put_object()
            .bucket("bench-overwrite")
            .key("hot")
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .expect("put");
        if i == 1_000 || i == OVERWRITES {
            rss_at.push(tigris_bench::status_kib("self", "VmRSS:"));
        }
    }
    let retained = emu.retained_versions();
    let load_after = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();

    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let load = |s: &str| s.split_whitespace().next().unwrap_or("?").to_owned();
    let mut report = format!(
        "## Storage: throughput and memory\n\n\
         From `cargo xtask bench storage` (or `cargo run --release -p tigris-bench --bin \
         storage`): one run, {cores} cores, {IN_FLIGHT} requests in flight, one aws-sdk-s3 \
         client configuration for every server, over loopback; the best of {rounds} rounds per \
         cell, the three servers taking turns on each workload (each round starting with another \
         one) so they meet the same load (load average {lb} at the start, {la} at the end). The ceiling is a minimal hyper server in \
         the same process that accepts a PUT body into memory and answers a GET with a slice of \
         a static buffer (no signature check, no hashing, no store), so the client's own costs \
         count the same against it as against the emulator; {signing}. In memory is the \
         emulator without a data directory; on disk is the emulator with one, in a temporary \
         directory (every PUT is answered once its body and its journal record are on disk).\n\n\
         | workload | ceiling | in memory | in memory / ceiling | on disk | on disk / ceiling | \
         on disk / in memory (time) |\n|---|---|---|---|---|---|---|\n",
        rounds = opts.rounds,
        lb = load(&load_before),
        la = load(&load_after),
        signing = match &signed_payload {
            Some(v) if v.len() == 64 => {
                "the client signs each PUT's payload (`x-amz-content-sha256` is the body's \
                 SHA-256, which it computes) and sends no checksum (`WhenRequired`)"
                    .to_owned()
            }
            Some(v) => format!(
                "the client sends `x-amz-content-sha256: {v}` and no checksum (`WhenRequired`)"
            ),
            None => "the client's signing mode was not observed".to_owned(),
        },
    );
    for (w, workload) in Workload::ALL.iter().enumerate() {
        let [top, mem, disk] = [0, 1, 2].map(|t| best[&(w, t)]);
        let pct = |d: Duration| format!("{:.0} %", 100.0 * top.as_secs_f64() / d.as_secs_f64());
        report.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {:.1}x |\n",
            workload.label(),
            workload.format(top),
            workload.format(mem),
            pct(mem),
            workload.format(disk),
            pct(disk),
            disk.as_secs_f64() / mem.as_secs_f64(),
        ));
    }
    report.push_str(&format!(
        "| fsync of the data directory's disk: 4 KiB write + fsync in a loop, one thread | | | \
         | {one} fsync/s | | |\n\
         | the same, {IN_FLIGHT} threads (each its own file) | | | | {many} fsync/s | | |\n",
        one = thousands(fsync_one.round() as usize),
        many = thousands(fsync_many.round() as usize),
    ));
    report.push_str(
        "\nPercentages are the emulator's throughput over the ceiling's; the last column is \
         on-disk time over in-memory time, the cost of durability. The fsync rows bound what \
         a server that fsyncs once per write can do: one write at a time cannot beat the first; \
         writes in flight can only go faster by sharing fsyncs.\n",
    );
    match &moto {
        Ok(times) => {
            report.push_str(
                "\nmoto (server mode) through the same client, one round; ratio = moto time / \
                 in-memory emulator time, so above 1x the emulator is faster:\n\n\
                 | workload | moto | emulator (in memory) | ratio |\n|---|---|---|---|\n",
            );
            for (w, (workload, took)) in Workload::ALL.iter().zip(times).enumerate() {
                let mem = best[&(w, 1)];
                report.push_str(&format!(
                    "| {} | {} | {} | {:.1}x |\n",
                    workload.label(),
                    workload.format(*took),
                    workload.format(mem),
                    took.as_secs_f64() / mem.as_secs_f64(),
                ));
            }
        }
        Err(e) => report.push_str(&format!("\nmoto was not measured: {e}.\n")),
    }
    report.push_str(&format!(
        "\n| memory | value |\n|---|---|\n\
         | peak resident memory the emulator process adds while a 256 MiB object is overwritten, / object size | {peak_col} |\n\
         | resident memory after 1,000 / {overwrites} overwrites of one 4 KiB key in a snapshot-enabled bucket | {r1} / {r2} MiB |\n\
         | versions retained after those overwrites | {retained} |\n\n\
         The peak is measured on the release `tigris-emulator` binary run as its own process \
         (VmHWM reset before the overwrite, minus VmRSS then), so the client's copy of the body \
         is not counted. The old version is held until the new one replaces it, so 1.0x is the \
         floor for an overwrite. The resident memory after the overwrites is this whole process \
         (client, servers, and the objects the throughput runs left in the in-memory emulator); \
         what matters is that it does not grow between the two counts.\n",
        peak_col = match &peak {
            Ok(ratio) => format!("{ratio:.2}x"),
            Err(e) => format!("not measured: {e}"),
        },
        overwrites = thousands(OVERWRITES),
        r1 = rss_at.first().copied().unwrap_or(0) / 1024,
        r2 = rss_at.last().copied().unwrap_or(0) / 1024,
    ));
    report.push('\n');
    report.push_str(include_str!("../../storage-profile.md"));
    match opts.out {
        Some(path) => {
            tigris_bench::write_section(&path, &report).expect("write report");
            eprintln!("wrote the storage section of {path}");
        }
        None => print!("{report}"),
    }
    emu.shutdown().await;
}
