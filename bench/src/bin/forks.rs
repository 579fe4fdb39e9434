//! Benchmark: creating N forks with credentials, sequentially (as the Python and TypeScript kits
//! do) versus concurrently. Prints a Markdown section; `cargo xtask bench` collects it into
//! `docs/benchmarks.md`.
//!
//! The emulator adds a fixed latency to every request, standing in for the round trip to a
//! remote Tigris region; without it, loopback would hide what concurrency buys.

use std::time::{Duration, Instant};

use aws_sdk_s3::config::Credentials;
use tigris_agent_kit::{AgentKit, Role};
use tigris_core::config;

const FORKS: usize = 16;
const LATENCY: Duration = Duration::from_millis(20);
/// Forks in the round-trip measurement, and the concurrencies compared there.
const WAVE_FORKS: usize = 32;
const WAVE_CONCURRENCIES: [usize; 4] = [8, 16, 32, 64];
const RUNS: usize = 5;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emu = tigris_emulator::Emulator::start().await?;
    let root = emu.root_credentials();
    let creds = Credentials::new(
        root.access_key_id(),
        root.secret_access_key(),
        None,
        None,
        "bench",
    );
    let sdk = config::builder()
        .endpoint_url(emu.endpoint())
        .credentials(creds)
        .build();
    let kit = AgentKit::builder(&sdk)
        .iam_endpoint(emu.iam_endpoint())
        .build()?;
    let base = kit.create_workspace().bucket("bench-base").send().await?;
    emu.faults().set_latency(LATENCY);

    let mut rows = Vec::new();
    for concurrency in [1, 4, 8, 16] {
        let started = Instant::now();
        let set = kit
            .create_forks()
            .base(base.bucket())
            .count(FORKS)
            .prefix(format!("bench-c{concurrency}"))
            .credentials(Role::Editor)
            .concurrency(concurrency)
            .send()
            .await?;
        let created = started.elapsed();
        assert!(set.is_complete(), "every fork made");
        let started = Instant::now();
        set.teardown().await?;
        rows.push((concurrency, created, started.elapsed()));
    }
    // Forks without credentials: one CreateBucket each, so the floor is two round trips (the
    // snapshot, then every fork in one wave) and the concurrency decides how many waves it takes.
    let mut waves = Vec::new();
    for concurrency in WAVE_CONCURRENCIES {
        let mut times = Vec::new();
        for run in 0..RUNS {
            let started = Instant::now();
            let set = kit
                .create_forks()
                .base(base.bucket())
                .count(WAVE_FORKS)
                .prefix(format!("bench-w{concurrency}-{run}"))
                .concurrency(concurrency)
                .send()
                .await?;
            times.push(started.elapsed());
            assert!(set.is_complete(), "every fork made");
            set.teardown().await?;
        }
        times.sort();
        waves.push((concurrency, times[RUNS / 2]));
    }
    emu.faults().set_latency(Duration::ZERO);
    base.teardown().await?;

    let (_, sequential, sequential_teardown) = rows[0];
    println!("## Forks with credentials: sequential versus concurrent\n");
    println!(
        "`tigris-agent-kit` `create_forks({FORKS})` with an Editor key per fork (one snapshot, then per fork: \
         CreateBucket, CreateAccessKey, CreatePolicy, AttachUserPolicy), against the emulator with \
         {} ms added to every request to stand in for a remote round trip. Concurrency 1 is what the \
         Python and TypeScript kits do; the fork set's teardown runs at the same concurrency.\n",
        LATENCY.as_millis()
    );
    println!("| concurrency | create {FORKS} forks | speed-up | teardown |");
    println!("|---|---|---|---|");
    for (concurrency, created, teardown) in rows {
        println!(
            "| {concurrency} | {:.0} ms | {:.1}x | {:.0} ms ({:.1}x) |",
            created.as_secs_f64() * 1e3,
            sequential.as_secs_f64() / created.as_secs_f64(),
            teardown.as_secs_f64() * 1e3,
            sequential_teardown.as_secs_f64() / teardown.as_secs_f64(),
        );
    }
    let floor = 2.0 * LATENCY.as_secs_f64();
    println!(
        "\n`create_forks({WAVE_FORKS})` without credentials (one snapshot, then one CreateBucket per \
         fork), median of {RUNS}, against the same {} ms. The floor is two round trips ({:.0} ms): the \
         snapshot, then every fork in one wave. `tigris_agent_kit::DEFAULT_FORK_CONCURRENCY` is {}.\n",
        LATENCY.as_millis(),
        floor * 1e3,
        tigris_agent_kit::DEFAULT_FORK_CONCURRENCY
    );
    println!(
        "| concurrency | create {WAVE_FORKS} forks | waves | ratio to the two-round-trip floor |"
    );
    println!("|---|---|---|---|");
    for (concurrency, time) in waves {
        println!(
            "| {concurrency} | {:.0} ms | {} | {:.2}x |",
            time.as_secs_f64() * 1e3,
            1 + WAVE_FORKS.div_ceil(concurrency),
            time.as_secs_f64() / floor,
        );
    }
    emu.shutdown().await;
    Ok(())
}
