//! Benchmark: snapshots and forks cost the same whatever the bucket holds.
//!
//! Run with `cargo xtask bench` (or `cargo run --release -p tigris-bench --bin emulator -- PATH`); writes the Markdown report to the path given
//! as the first argument, or prints it. Every number comes from this one run, side by side.

use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use aws_sdk_s3::config::{BehaviorVersion, Region, RequestChecksumCalculation};
use aws_sdk_s3::primitives::ByteStream;
use futures::StreamExt;
use tigris_emulator::Emulator;

const SMALL: usize = 10;
const LARGE: usize = 100_000;
const COPY_BASELINE: usize = 10_000;
const REPEATS: usize = 25;
const MERGE_CHANGES: usize = 10;

fn client(emu: &Emulator) -> aws_sdk_s3::Client {
    let root = emu.root_credentials();
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(tigris_core::config::default_http_client())
        .region(Region::new("auto"))
        .endpoint_url(emu.endpoint())
        .force_path_style(true)
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .credentials_provider(Credentials::new(
            root.access_key_id(),
            root.secret_access_key(),
            None,
            None,
            "bench",
        ))
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// Resident set size of this process (the emulator runs in it), in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(str::to_owned)
        })
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

async fn create_snapshot_bucket(s3: &aws_sdk_s3::Client, bucket: &str) {
    s3.create_bucket()
        .bucket(bucket)
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("x-tigris-enable-snapshot", "true");
        })
        .send()
        .await
        .expect("create bucket");
}

async fn seed(s3: &aws_sdk_s3::Client, bucket: &str, count: usize) {
    futures::stream::iter(0..count)
        .map(|i| async move {
            let body = ByteStream::from(format!("object number {i:08}").into_bytes());
            s3.put_object()
                .bucket(bucket)
                .key(format!("data/{i:08}"))
                .body(body)
                .send()
                .await
                .expect("put");
        })
        .buffer_unordered(64)
        .collect::<Vec<()>>()
        .await;
}

async fn time_snapshots(s3: &aws_sdk_s3::Client, bucket: &str) -> Duration {
    let mut samples = Vec::new();
    for _ in 0..REPEATS {
        let started = Instant::now();
        s3.create_bucket()
            .bucket(bucket)
            .customize()
            .mutate_request(|r| {
                r.headers_mut().insert("x-tigris-snapshot", "true");
            })
            .send()
            .await
            .expect("snapshot");
        samples.push(started.elapsed());
    }
    median(samples)
}

async fn time_forks(s3: &aws_sdk_s3::Client, bucket: &str) -> Duration {
    let mut samples = Vec::new();
    for i in 0..REPEATS {
        let source = bucket.to_owned();
        let started = Instant::now();
        s3.create_bucket()
            .bucket(format!("{bucket}-fork-{i}"))
            .customize()
            .mutate_request(move |r| {
                r.headers_mut()
                    .insert("x-tigris-fork-source-bucket", source.clone());
            })
            .send()
            .await
            .expect("fork");
        samples.push(started.elapsed());
    }
    median(samples)
}

/// Median time to merge a fork holding 10 changes back into `bucket` (each of the bucket's
/// forks from `time_forks` gets 10 new keys, then is merged).
async fn time_merges(s3: &aws_sdk_s3::Client, bucket: &str) -> Duration {
    let mut samples = Vec::new();
    for i in 0..REPEATS {
        let fork = format!("{bucket}-fork-{i}");
        for j in 0..MERGE_CHANGES {
            s3.put_object()
                .bucket(&fork)
                .key(format!("merged/{i:03}/{j:03}"))
                .body(ByteStream::from_static(b"changed in the fork"))
                .send()
                .await
                .expect("write to fork");
        }
        let started = Instant::now();
        s3.create_bucket()
            .bucket(bucket)
            .customize()
            .mutate_request(move |r| {
                r.headers_mut()
                    .insert("x-tigris-merge-source-bucket", fork.clone());
            })
            .send()
            .await
            .expect("merge");
        samples.push(started.elapsed());
    }
    median(samples)
}

async fn time_copy_all(s3: &aws_sdk_s3::Client, from: &str, to: &str, count: usize) -> Duration {
    s3.create_bucket()
        .bucket(to)
        .send()
        .await
        .expect("create copy target");
    let started = Instant::now();
    futures::stream::iter(0..count)
        .map(|i| async move {
            let key = format!("data/{i:08}");
            s3.copy_object()
                .bucket(to)
                .key(&key)
                .copy_source(format!("{from}/{key}"))
                .send()
                .await
                .expect("copy");
        })
        .buffer_unordered(64)
        .collect::<Vec<()>>()
        .await;
    started.elapsed()
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

#[tokio::main]
async fn main() {
    let out = std::env::args().nth(1);
    let emu = Emulator::start().await.expect("start emulator");
    let s3 = client(&emu);

    create_snapshot_bucket(&s3, "small").await;
    seed(&s3, "small", SMALL).await;
    let rss_before_large = rss_kib();
    create_snapshot_bucket(&s3, "large").await;
    let seeding = Instant::now();
    seed(&s3, "large", LARGE).await;
    let seeding = seeding.elapsed();
    let rss_after_large = rss_kib();

    let snap_small = time_snapshots(&s3, "small").await;
    let snap_large = time_snapshots(&s3, "large").await;
    let fork_small = time_forks(&s3, "small").await;
    let rss_before_forks = rss_kib();
    let fork_large = time_forks(&s3, "large").await;
    let rss_after_forks = rss_kib();

    let merge_small = time_merges(&s3, "small").await;
    let merge_large = time_merges(&s3, "large").await;

    create_snapshot_bucket(&s3, "copy-src").await;
    seed(&s3, "copy-src", COPY_BASELINE).await;
    let fork_copy_src = time_forks(&s3, "copy-src").await;
    let copy_all = time_copy_all(&s3, "copy-src", "copy-dst", COPY_BASELINE).await;

    // A fork must read through to its parent: one read proves the data is there.
    let got = s3
        .get_object()
        .bucket("large-fork-0")
        .key("data/00099999")
        .send()
        .await
        .expect("read through fork");
    let body = got.body.collect().await.expect("body").into_bytes();
    assert_eq!(&body[..], b"object number 00099999");

    let data_kib = rss_after_large.saturating_sub(rss_before_large);
    let fork_kib = rss_after_forks.saturating_sub(rss_before_forks);
    let report = format!(
        "# Benchmarks\n\n\
         Produced by `cargo xtask bench` (release build; the emulator runs in the benchmark's process and \
         is driven over loopback by `aws-sdk-s3`, SigV4 verified on every request). The sections come from \
         separate runs, each naming its command (the first three: `--bin emulator`); ratios are what to \
         compare, absolute times depend on the machine (this one: {cores} cores).\n\n\
         ## Snapshots and forks are O(1) in the object count\n\n\
         | operation | {SMALL} objects | {LARGE} objects | ratio (large / small) |\n\
         |---|---|---|---|\n\
         | create snapshot (median of {REPEATS}) | {ss} | {sl} | {sr:.2} |\n\
         | create fork (median of {REPEATS}) | {fs} | {fl} | {fr:.2} |\n\
         | merge a fork with {MERGE_CHANGES} changes into its parent (median of {REPEATS}) | {ms_} | {ml} | {mr:.2} |\n\n\
         A ratio near 1.0 means the cost does not grow with the bucket: the store keeps each key's history \
         and a fork reads through to its parent as of the fork version, so neither copies objects; a \
         merge walks only the keys the fork wrote, so it costs the fork's changes, not the parent's size.\n\n\
         ## Fork versus copying the objects\n\n\
         | {COPY_BASELINE} objects | time |\n|---|---|\n\
         | fork (median of {REPEATS}) | {fc} |\n\
         | CopyObject of every object, 64 in flight | {ca} |\n\
         | ratio (copy / fork) | {cr:.0}x |\n\n\
         ## Memory\n\n\
         | what | resident memory added |\n|---|---|\n\
         | {LARGE} objects written (~22 bytes each, plus keys and metadata) | {data_kib} KiB |\n\
         | {REPEATS} forks of that bucket | {fork_kib} KiB |\n\n\
         Seeding {LARGE} objects took {seed_s:.1} s ({rate:.0} PUTs/s with 64 in flight).\n",
        cores = std::thread::available_parallelism().map_or(0, usize::from),
        ss = ms(snap_small),
        sl = ms(snap_large),
        sr = snap_large.as_secs_f64() / snap_small.as_secs_f64(),
        fs = ms(fork_small),
        fl = ms(fork_large),
        fr = fork_large.as_secs_f64() / fork_small.as_secs_f64(),
        ms_ = ms(merge_small),
        ml = ms(merge_large),
        mr = merge_large.as_secs_f64() / merge_small.as_secs_f64(),
        fc = ms(fork_copy_src),
        ca = ms(copy_all),
        cr = copy_all.as_secs_f64() / fork_copy_src.as_secs_f64(),
        seed_s = seeding.as_secs_f64(),
        rate = LARGE as f64 / seeding.as_secs_f64(),
    );
    match out {
        Some(path) => {
            std::fs::write(&path, &report).expect("write report");
            eprintln!("wrote {path}");
        }
        None => print!("{report}"),
    }
    emu.shutdown().await;
}
