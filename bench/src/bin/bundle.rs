//! Bundle benchmark: 1,000 objects of 4 KiB at 20 ms injected latency fetched as one bundle
//! versus GetObject with 16 requests in flight; and the peak memory of streaming a 1 GiB
//! bundle, in the client (this process) and in the emulator (the release binary, its own
//! process).
//!
//! Run with `cargo xtask bench` (or `cargo run --release -p tigris-bench --bin bundle -- PATH`,
//! which appends its Markdown section to PATH, or prints it). Every number comes from this one
//! run; nothing here is asserted.

use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use futures::StreamExt;
use tigris_core::config::{self, s3_client};
use tigris_emulator::Emulator;
use tokio::io::AsyncReadExt;

const SMALL_COUNT: usize = 1_000;
const SMALL_SIZE: usize = 4 * 1024;
const LATENCY: Duration = Duration::from_millis(20);
const IN_FLIGHT: usize = 16;
// 256 x 4 MiB: the client never holds more than one 4 MiB body while loading them, so its
// peak while reading the bundle is the bundle's own cost.
const BIG_OBJECTS: usize = 256;
const BIG_SIZE: usize = 4 * 1024 * 1024;

fn sdk(endpoint: &str, key: &str, secret: &str) -> aws_types::SdkConfig {
    config::builder()
        .endpoint_url(endpoint)
        .credentials(Credentials::new(key, secret, None, None, "bench"))
        .build()
}

/// Reads every entry to its end, keeping nothing; answers the bytes read.
async fn drain(tigris: &tigris_api::Client, bucket: &str, keys: Vec<String>) -> u64 {
    let mut bundle = tigris
        .bundle()
        .bucket(bucket)
        .keys(keys)
        .send()
        .await
        .expect("bundle");
    let mut total = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    while let Some(mut entry) = bundle.next_entry().await.expect("entry") {
        loop {
            let n = entry.read(&mut buf).await.expect("read");
            if n == 0 {
                break;
            }
            total += n as u64;
        }
    }
    total
}

async fn latency_comparison() -> (Duration, Duration) {
    let emu = Emulator::start().await.expect("emulator");
    let root = emu.root_credentials();
    let sdk = sdk(
        &emu.endpoint(),
        root.access_key_id(),
        root.secret_access_key(),
    );
    let s3 = s3_client(&sdk);
    s3.create_bucket()
        .bucket("small")
        .send()
        .await
        .expect("bucket");
    let body = Bytes::from(vec![7u8; SMALL_SIZE]);
    let keys: Vec<String> = (0..SMALL_COUNT).map(|i| format!("obj/{i:05}")).collect();
    futures::stream::iter(keys.iter().cloned())
        .map(|key| {
            let (s3, body) = (s3.clone(), body.clone());
            async move {
                s3.put_object()
                    .bucket("small")
                    .key(key)
                    .body(ByteStream::from(body))
                    .send()
                    .await
                    .expect("put");
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<_>>()
        .await;
    emu.faults().set_latency(LATENCY);
    let tigris = tigris_api::Client::new(&sdk).expect("transport");
    let start = Instant::now();
    let bytes = drain(&tigris, "small", keys.clone()).await;
    let one_bundle = start.elapsed();
    assert_eq!(bytes as usize, SMALL_COUNT * SMALL_SIZE);
    let start = Instant::now();
    futures::stream::iter(keys)
        .map(|key| {
            let s3 = s3.clone();
            async move {
                let out = s3
                    .get_object()
                    .bucket("small")
                    .key(key)
                    .send()
                    .await
                    .expect("get");
                out.body.collect().await.expect("body").into_bytes().len()
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<_>>()
        .await;
    let gets = start.elapsed();
    (one_bundle, gets)
}

/// (client peak resident memory, client peak growth, emulator peak growth) in MiB while a
/// 1 GiB bundle streams.
async fn memory_of_a_big_bundle() -> Result<(u64, u64, u64), String> {
    let (mut child, endpoint) = tigris_bench::spawn_emulator_binary()?;
    let pid = child.id().to_string();
    let result = async {
        let sdk = sdk(
            &endpoint,
            tigris_emulator::DEFAULT_ACCESS_KEY_ID,
            tigris_emulator::DEFAULT_SECRET_ACCESS_KEY,
        );
        let s3 = s3_client(&sdk);
        s3.create_bucket()
            .bucket("big")
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?;
        let mut keys = Vec::new();
        for i in 0..BIG_OBJECTS {
            let key = format!("part-{i:03}");
            s3.put_object()
                .bucket("big")
                .key(&key)
                .body(ByteStream::from(vec![i as u8; BIG_SIZE]))
                .send()
                .await
                .map_err(|e| format!("{e:?}"))?;
            keys.push(key);
        }
        let tigris = tigris_api::Client::new(&sdk).map_err(|e| e.to_string())?;
        if !tigris_bench::reset_peak("self") || !tigris_bench::reset_peak(&pid) {
            return Err("could not reset VmHWM".to_owned());
        }
        let (client_before, emu_before) = (
            tigris_bench::status_kib("self", "VmRSS:"),
            tigris_bench::status_kib(&pid, "VmRSS:"),
        );
        let bytes = drain(&tigris, "big", keys).await;
        assert_eq!(bytes as usize, BIG_OBJECTS * BIG_SIZE);
        let client_peak = tigris_bench::status_kib("self", "VmHWM:");
        let client = client_peak.saturating_sub(client_before) / 1024;
        let emu = tigris_bench::status_kib(&pid, "VmHWM:").saturating_sub(emu_before) / 1024;
        Ok((client_peak / 1024, client, emu))
    }
    .await;
    child.kill().ok();
    child.wait().ok();
    result
}

#[tokio::main]
async fn main() {
    let out = std::env::args().nth(1);
    let (bundle, gets) = latency_comparison().await;
    let memory = memory_of_a_big_bundle().await;
    let memory_rows = match memory {
        Ok((peak, client, emu)) => format!(
            "| client (this process) peak resident memory while reading a 1 GiB bundle ({BIG_OBJECTS} x 4 MiB), whole process | {peak} MiB |\n\
             | client peak resident memory growth while reading it | {client} MiB |\n\
             | emulator (release binary) peak resident memory growth while serving it, beyond the objects it stores | {emu} MiB |\n"
        ),
        Err(e) => format!("| memory of a 1 GiB bundle | not measured: {e} |\n"),
    };
    let report = format!(
        "\n## Bundles\n\n\
         From `cargo run --release -p tigris-bench --bin bundle` (one run, {cores} cores; the \
         client reads every entry to its end and keeps nothing).\n\n\
         | workload | time | ratio |\n|---|---|---|\n\
         | {SMALL_COUNT} x 4 KiB as one bundle, {lat} ms latency per request | {b:.0} ms | {r:.1}x faster |\n\
         | the same with GetObject, {IN_FLIGHT} in flight | {g:.0} ms | 1x |\n\n\
         | memory | value |\n|---|---|\n{memory_rows}",
        cores = std::thread::available_parallelism().map_or(0, usize::from),
        lat = LATENCY.as_millis(),
        b = bundle.as_secs_f64() * 1000.0,
        g = gets.as_secs_f64() * 1000.0,
        r = gets.as_secs_f64() / bundle.as_secs_f64(),
    );
    match out {
        Some(path) => {
            let mut text = std::fs::read_to_string(&path).unwrap_or_default();
            text.push_str(&report);
            std::fs::write(&path, text).expect("write report");
            eprintln!("appended to {path}");
        }
        None => print!("{report}"),
    }
}
