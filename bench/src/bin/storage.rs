//! Storage benchmark: PUT/GET throughput of the emulator (in memory, and on disk with a data
//! directory) against moto's server mode through the same aws-sdk-s3 client, the peak memory of a large PUT, and resident memory under an
//! overwrite loop on a snapshot-enabled bucket.
//!
//! Run with `cargo xtask bench` (or `cargo run --release -p tigris-bench --bin storage -- PATH`,
//! which appends its Markdown section to PATH, or prints it). moto is installed with
//! `pip install "moto[server]"` when `python3 -c "import moto.server"` fails. Every number comes
//! from this one run; the report gives ratios side by side, and nothing here is asserted.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use aws_sdk_s3::config::{BehaviorVersion, Region, RequestChecksumCalculation};
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use futures::StreamExt;
use tigris_emulator::Emulator;

const SMALL_COUNT: usize = 1_000;
const SMALL_SIZE: usize = 64 * 1024;
const LARGE_COUNT: usize = 4;
const LARGE_SIZE: usize = 32 * 1024 * 1024;
const PEAK_SIZE: usize = 256 * 1024 * 1024;
const OVERWRITES: usize = 10_000;
const IN_FLIGHT: usize = 16;

fn client(endpoint: &str, region: &str, key: &str, secret: &str) -> aws_sdk_s3::Client {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(http)
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

#[derive(Debug, Clone, Copy)]
struct Throughput {
    small_put: Duration,
    small_get: Duration,
    large_put: Duration,
    large_get: Duration,
}

async fn throughput(s3: &aws_sdk_s3::Client, bucket: &str) -> Throughput {
    s3.create_bucket()
        .bucket(bucket)
        .send()
        .await
        .expect("create bucket");
    let small = Bytes::from(vec![7u8; SMALL_SIZE]);
    let large = Bytes::from(vec![9u8; LARGE_SIZE]);
    let put_all = |count: usize, body: Bytes, prefix: &'static str| {
        let started = Instant::now();
        let s3 = s3.clone();
        async move {
            futures::stream::iter(0..count)
                .map(|i| {
                    let (s3, body) = (s3.clone(), body.clone());
                    async move {
                        s3.put_object()
                            .bucket(bucket)
                            .key(format!("{prefix}/{i:06}"))
                            .body(ByteStream::from(body))
                            .send()
                            .await
                            .expect("put")
                    }
                })
                .buffer_unordered(IN_FLIGHT)
                .collect::<Vec<_>>()
                .await;
            started.elapsed()
        }
    };
    let get_all = |count: usize, size: usize, prefix: &'static str| {
        let started = Instant::now();
        let s3 = s3.clone();
        async move {
            futures::stream::iter(0..count)
                .map(|i| {
                    let s3 = s3.clone();
                    async move {
                        let got = s3
                            .get_object()
                            .bucket(bucket)
                            .key(format!("{prefix}/{i:06}"))
                            .send()
                            .await
                            .expect("get");
                        let body = got.body.collect().await.expect("body").into_bytes();
                        assert_eq!(body.len(), size);
                    }
                })
                .buffer_unordered(IN_FLIGHT)
                .collect::<Vec<_>>()
                .await;
            started.elapsed()
        }
    };
    let small_put = put_all(SMALL_COUNT, small, "small").await;
    let small_get = get_all(SMALL_COUNT, SMALL_SIZE, "small").await;
    let large_put = put_all(LARGE_COUNT, large, "large").await;
    let large_get = get_all(LARGE_COUNT, LARGE_SIZE, "large").await;
    Throughput {
        small_put,
        small_get,
        large_put,
        large_get,
    }
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

fn rate(count: usize, size: usize, took: Duration) -> f64 {
    (count * size) as f64 / (1024.0 * 1024.0) / took.as_secs_f64()
}

#[tokio::main]
async fn main() {
    let out = std::env::args().nth(1);
    let emu = Emulator::start().await.expect("start emulator");
    let root = emu.root_credentials();
    let s3 = client(
        &emu.endpoint(),
        "auto",
        root.access_key_id(),
        root.secret_access_key(),
    );

    let mem = throughput(&s3, "bench-throughput").await;
    let disk = {
        let dir = tempfile::tempdir().expect("temporary data directory");
        let on_disk = Emulator::builder()
            .data_dir(dir.path())
            .start()
            .await
            .expect("start emulator on disk");
        let d = client(
            &on_disk.endpoint(),
            "auto",
            root.access_key_id(),
            root.secret_access_key(),
        );
        let t = throughput(&d, "bench-throughput").await;
        on_disk.shutdown().await;
        t
    };
    let moto = match start_moto().await {
        Ok((moto, endpoint)) => {
            let m = client(&endpoint, "us-east-1", "testing", "testing");
            let t = throughput(&m, "bench-throughput").await;
            drop(moto);
            Ok(t)
        }
        Err(e) => Err(e),
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

    let mib = |d: Duration, count, size| format!("{:.0} MiB/s", rate(count, size, d));
    let moto_col = |f: fn(&Throughput) -> Duration, count, size| match &moto {
        Ok(t) => mib(f(t), count, size),
        Err(_) => "n/a".into(),
    };
    let ratio = |f: fn(&Throughput) -> Duration| match &moto {
        Ok(t) => format!("{:.1}x", f(t).as_secs_f64() / f(&mem).as_secs_f64()),
        Err(_) => "n/a".into(),
    };
    let slowdown = |f: fn(&Throughput) -> Duration| {
        format!("{:.1}x", f(&disk).as_secs_f64() / f(&mem).as_secs_f64())
    };
    let mut report = format!(
        "\n## Storage: throughput and memory\n\n\
         From `cargo run --release -p tigris-bench --bin storage` (one run, {cores} cores, \
         {IN_FLIGHT} requests in flight, the same aws-sdk-s3 client and loopback for both \
         servers; moto in server mode). Ratio = moto time / in-memory emulator time, so above \
         1x means the emulator is faster. On disk = the emulator with a data directory in a \
         temporary directory (every PUT fsyncs its body and a journal commit before it is \
         answered); its ratio is on-disk time / in-memory time, the cost of durability.\n\n\
         | workload | emulator (in memory) | moto | ratio | emulator (on disk) | on disk / in memory |\n\
         |---|---|---|---|---|---|\n\
         | PUT {SMALL_COUNT} x 64 KiB | {a} | {b} | {c} | {a2} | {c2} |\n\
         | GET {SMALL_COUNT} x 64 KiB | {d} | {e} | {f} | {d2} | {f2} |\n\
         | PUT {LARGE_COUNT} x 32 MiB | {g} | {h} | {i} | {g2} | {i2} |\n\
         | GET {LARGE_COUNT} x 32 MiB | {j} | {k} | {l} | {j2} | {l2} |\n\n\
         | memory | value |\n|---|---|\n\
         | peak resident memory the emulator process adds while a 256 MiB object is overwritten, / object size | {peak_col} |\n\
         | resident memory after 1,000 / {OVERWRITES} overwrites of one 4 KiB key in a snapshot-enabled bucket | {r1} / {r2} MiB |\n\
         | versions retained after those overwrites | {retained} |\n",
        cores = std::thread::available_parallelism().map_or(0, usize::from),
        a = mib(mem.small_put, SMALL_COUNT, SMALL_SIZE),
        b = moto_col(|t| t.small_put, SMALL_COUNT, SMALL_SIZE),
        c = ratio(|t| t.small_put),
        d = mib(mem.small_get, SMALL_COUNT, SMALL_SIZE),
        e = moto_col(|t| t.small_get, SMALL_COUNT, SMALL_SIZE),
        f = ratio(|t| t.small_get),
        g = mib(mem.large_put, LARGE_COUNT, LARGE_SIZE),
        h = moto_col(|t| t.large_put, LARGE_COUNT, LARGE_SIZE),
        i = ratio(|t| t.large_put),
        j = mib(mem.large_get, LARGE_COUNT, LARGE_SIZE),
        k = moto_col(|t| t.large_get, LARGE_COUNT, LARGE_SIZE),
        l = ratio(|t| t.large_get),
        a2 = mib(disk.small_put, SMALL_COUNT, SMALL_SIZE),
        c2 = slowdown(|t| t.small_put),
        d2 = mib(disk.small_get, SMALL_COUNT, SMALL_SIZE),
        f2 = slowdown(|t| t.small_get),
        g2 = mib(disk.large_put, LARGE_COUNT, LARGE_SIZE),
        i2 = slowdown(|t| t.large_put),
        j2 = mib(disk.large_get, LARGE_COUNT, LARGE_SIZE),
        l2 = slowdown(|t| t.large_get),
        peak_col = match &peak {
            Ok(ratio) => format!("{ratio:.2}x"),
            Err(e) => format!("not measured: {e}"),
        },
        r1 = rss_at.first().copied().unwrap_or(0) / 1024,
        r2 = rss_at.last().copied().unwrap_or(0) / 1024,
    );
    report.push_str(
        "\nThe peak is measured on the release `tigris-emulator` binary run as its own process \
         (VmHWM reset before the overwrite, minus VmRSS then), so the client's copy of the body \
         is not counted. The old version is held until the new one replaces it, so 1.0x is the \
         floor for an overwrite.\n",
    );
    if let Err(e) = &moto {
        report.push_str(&format!("\nmoto was not measured: {e}.\n"));
    }
    match out {
        Some(path) => {
            let mut text = std::fs::read_to_string(&path).unwrap_or_default();
            text.push_str(&report);
            std::fs::write(&path, text).expect("write report");
            eprintln!("appended to {path}");
        }
        None => print!("{report}"),
    }
    emu.shutdown().await;
}
