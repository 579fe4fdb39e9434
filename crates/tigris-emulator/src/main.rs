//! `tigris-emulator`: serve a local Tigris-compatible endpoint until stopped.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
Usage: tigris-emulator [--host ADDR] [--port PORT] [--access-key ID] [--secret-key SECRET]
                       [--max-connections N] [--data-dir DIR [--discard-unjournaled-bodies]]
                       [--console | --no-console]

Serves a local Tigris-compatible S3 endpoint until interrupted (Ctrl-C). In memory by
default; with --data-dir the state is kept in DIR and survives restarts, even kill -9.
Prints `ready: <endpoint>` once listening; `GET /health` without credentials answers 200.
A read-only console (buckets, the fork tree, each fork's changes, objects, keys, webhooks) is
served at /_console/ on the same port, to clients on this machine only by default.

Options:
  --host ADDR          address to bind (default 127.0.0.1)
  --port PORT          port to bind (default 9000; 0 picks a free one)
  --access-key ID      root access key id (default tid_emulator_root)
  --secret-key SECRET  root secret access key (default tsec_emulator_root_secret)
  --max-connections N  connections served at once; more get 503 SlowDown (default 512)
  --data-dir DIR       keep buckets, objects, snapshots, forks, IAM keys and policies and
                       notification settings in DIR (created if missing); every change is
                       on disk before it is answered. In-progress multipart uploads are not kept.
                       A missing or empty DIR/journal.redb beside object bodies in DIR/objects is
                       refused (starting would serve an empty store)
  --discard-unjournaled-bodies
                       start anyway, and delete the object bodies no journal record names
  --console            serve the console to every client that reaches the port, not only
                       loopback ones (it shows names, keys and contents without credentials)
  --no-console         do not serve the console
  -h, --help           print this help

Logs go to stderr; RUST_LOG sets the level (default: warn, info for the emulator, and off for
s3s's per-request error lines, which report every 4xx answer as an error), e.g. RUST_LOG=debug
or RUST_LOG=tigris_emulator=debug.";

struct Args {
    host: IpAddr,
    port: u16,
    access_key: String,
    secret_key: String,
    max_connections: Option<usize>,
    data_dir: Option<PathBuf>,
    console: tigris_emulator::ConsoleAccess,
    discard_unjournaled_bodies: bool,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut parsed = Args {
        host: IpAddr::from([127, 0, 0, 1]),
        port: 9000,
        access_key: tigris_emulator::DEFAULT_ACCESS_KEY_ID.to_owned(),
        secret_key: tigris_emulator::DEFAULT_SECRET_ACCESS_KEY.to_owned(),
        max_connections: None,
        data_dir: None,
        console: tigris_emulator::ConsoleAccess::Loopback,
        discard_unjournaled_bodies: false,
    };
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        if flag == "--console" || flag == "--no-console" {
            parsed.console = if flag == "--console" {
                tigris_emulator::ConsoleAccess::AnyPeer
            } else {
                tigris_emulator::ConsoleAccess::Off
            };
            continue;
        }
        if flag == "--discard-unjournaled-bodies" {
            parsed.discard_unjournaled_bodies = true;
            continue;
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--host" => {
                parsed.host = value
                    .parse()
                    .map_err(|_| format!("--host: not an IP address: {value}"))?
            }
            "--port" => {
                parsed.port = value
                    .parse()
                    .map_err(|_| format!("--port: not a port number: {value}"))?
            }
            "--access-key" => parsed.access_key = value,
            "--secret-key" => parsed.secret_key = value,
            "--max-connections" => {
                parsed.max_connections =
                    Some(value.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                        format!("--max-connections: not a positive number: {value}")
                    })?)
            }
            "--data-dir" => parsed.data_dir = Some(PathBuf::from(value)),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(Some(parsed))
}

/// Warnings (connection limit reached, accept failures backing off, dropped webhook
/// deliveries) go to stderr, filtered by `RUST_LOG` in `tracing`'s target syntax.
fn init_logging() -> Result<(), String> {
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::prelude::*;
    let spec = std::env::var("RUST_LOG")
        .unwrap_or_else(|_| "warn,s3s::ops=off,tigris_emulator=info".into());
    let filter: Targets = spec
        .parse()
        .map_err(|err| format!("RUST_LOG={spec}: {err}"))?;
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(filter),
        )
        .try_init()
        .map_err(|err| format!("cannot install the logger: {err}"))
}

#[tokio::main]
async fn main() -> ExitCode {
    if let Err(msg) = init_logging() {
        eprintln!("tigris-emulator: {msg}");
        return ExitCode::from(2);
    }
    let args = match parse(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("tigris-emulator: {msg}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let addr = SocketAddr::new(args.host, args.port);
    let mut builder = tigris_emulator::Emulator::builder()
        .bind(addr)
        .credentials(args.access_key, args.secret_key)
        .console(args.console);
    if let Some(max) = args.max_connections {
        builder = builder.max_connections(max);
    }
    if let Some(dir) = &args.data_dir {
        builder = builder
            .data_dir(dir)
            .discard_unjournaled_bodies(args.discard_unjournaled_bodies);
    }
    let emu = match builder.start().await {
        Ok(emu) => emu,
        Err(err) => {
            // The message says what failed: the data directory or the listener.
            eprintln!("tigris-emulator: {err}");
            return ExitCode::FAILURE;
        }
    };
    let creds = emu.root_credentials();
    // Printing the root secret is the point here: it is how a user connects to a local server.
    println!("tigris-emulator listening on {}", emu.endpoint());
    println!("  AWS_ENDPOINT_URL_S3={}", emu.endpoint());
    println!("  AWS_ACCESS_KEY_ID={}", creds.access_key_id());
    println!("  AWS_SECRET_ACCESS_KEY={}", creds.secret_access_key());
    println!("  AWS_REGION=auto  (use path-style addressing)");
    match &args.data_dir {
        Some(dir) => println!("  on disk: {}", dir.display()),
        None => println!("  in memory: data is lost when it stops"),
    }
    println!("  health: GET {}/health (no credentials)", emu.endpoint());
    match (emu.console_url(), args.console) {
        (None, _) => println!("  console: off"),
        (Some(url), tigris_emulator::ConsoleAccess::AnyPeer) => {
            println!("  console: {url} (served to every client)")
        }
        (Some(url), _) => println!("  console: {url} (this machine only)"),
    }
    if !args.host.is_loopback() {
        eprintln!(
            "warning: listening on {} which is not a loopback address",
            args.host
        );
    }
    // The last line, once the listener is bound: scripts wait for it.
    println!("ready: {}", emu.endpoint());
    {
        use std::io::Write;
        // Nothing useful to do when stdout is gone; the server keeps serving.
        std::io::stdout().flush().ok();
    }
    if let Err(err) = tokio::signal::ctrl_c().await {
        eprintln!("tigris-emulator: cannot wait for Ctrl-C: {err}");
    }
    emu.shutdown().await;
    ExitCode::SUCCESS
}
