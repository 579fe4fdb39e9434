//! Workspace automation, reached as `cargo xtask <task>` (an alias in `.cargo/config.toml`).
//!
//! Tasks shell out to cargo; this crate has no dependencies so it builds in a second.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod adoption;
mod layers;
mod package;

const USAGE: &str = "\
Usage: cargo xtask <task>

Tasks:
  test          run every test: cargo nextest (or cargo test) on the workspace, then doctests
  lint          cargo fmt --check, the agent kit's modules without import cycles, the
                emulator's modules importing only their own layer and those below
                (xtask/src/layers.rs), clippy -D warnings, rustdoc -D warnings, cargo deny
  compat        boto3 and the AWS CLI (independent S3/IAM clients), the released Tigris
                clients tigris-boto3-ext and @tigrisdata/storage, and the official CLI
                @tigrisdata/cli command by command, against the emulator binary; writes the
                CLI's table to docs/compat.md
  package       crates.io readiness: MSRV, manifests, cargo package (emulator and facade
                verified from their packages), the packaged emulator installed and started,
                public APIs against each crate's external-types.toml, docs as docs.rs builds them
  ci            test, reliability --quick, compat, lint and package: what .ci/run runs
  bench [storage]
                run the benchmark programs (release) and write docs/benchmarks.md; with
                `storage`, only the storage benchmark (throughput against a ceiling server,
                fsync rate, memory), which replaces its section of the file
  reliability [--quick]
                build reliability/ in release, run each of its programs (src/bin/*.rs, in
                file-name order) and write their sections to docs/reliability.md; --quick is
                the reduced form CI runs (debug build, seconds; written to
                target/reliability-quick.md). Fails if a program misses its goal.
  integration [--live] [--keep] [FILTER]
                the end-to-end suite in tests/: against an emulator it starts itself, or with
                --live against Tigris (credentials from the environment; skipped, with the
                missing variable names, when absent). Live resources are named with a run id
                and swept at the end unless --keep.
  s3-tests [DIR] [--moto] [--debug] [-k EXPR]
                ceph/s3-tests (a checkout in DIR) against the release emulator binary (--debug:
                the debug build), the selection in xtask/s3tests/run.py with a fresh bucket
                prefix per test; --moto runs the same against moto_server (without it,
                an earlier full moto run's results in target/s3-tests are reused). Writes
                docs/s3-compatibility.md (not with -k: then target/s3-tests/partial.md).
                Without DIR (CI cannot reach GitHub) it says so and succeeds.
  adoption-cost [--dir DIR] [--keep]
                cold builds, one after the other, of a fresh crate on aws-sdk-s3 + aws-sdk-iam
                and of one on tigris-ext (default features), each with its own empty target
                directory (in DIR, default a temporary directory, removed unless --keep);
                writes the ratio, the load before each build and the top compile-time costs
                from `cargo build --timings` to the \"Adoption cost\" section of
                docs/benchmarks.md.";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_owned()
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// Runs a command in the workspace root, echoing it; Err names what failed.
fn run(program: &str, args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed ({status})", args.join(" ")))
    }
}

fn has_cargo_subcommand(name: &str) -> bool {
    Command::new(cargo())
        .args([name, "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn test() -> Result<(), String> {
    let cargo = cargo();
    if has_cargo_subcommand("nextest") {
        run(
            &cargo,
            &["nextest", "run", "--workspace", "--no-fail-fast"],
            &[],
        )?;
    } else {
        eprintln!("cargo-nextest not found; using cargo test");
        run(
            &cargo,
            &[
                "test",
                "--workspace",
                "--lib",
                "--bins",
                "--tests",
                "--examples",
            ],
            &[],
        )?;
    }
    run(&cargo, &["test", "--workspace", "--doc"], &[])
}

/// Cargo's target directory: `$CARGO_TARGET_DIR`, else `target/` in the workspace.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// The features of `tigris-ext`, each checked on its own by `lint`.
const FACADE_FEATURES: [&str; 5] = ["headers", "api", "iam", "notify", "agent-kit"];

fn lint() -> Result<(), String> {
    let cargo = cargo();
    run(&cargo, &["fmt", "--all", "--check"], &[])?;
    layers::check(&root().join("crates/tigris-agent-kit/src"))?;
    layers::check_layers(
        &root().join("crates/tigris-emulator/src"),
        layers::EMULATOR_LAYERS,
    )?;
    run(
        &cargo,
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;
    run(
        &cargo,
        &["doc", "--workspace", "--no-deps"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )?;
    // The facade with each feature on its own, and with none, so that no module leans on
    // another's feature.
    for features in std::iter::once("").chain(FACADE_FEATURES) {
        let mut args = vec!["clippy", "--package", "tigris-ext", "--no-default-features"];
        if !features.is_empty() {
            args.extend(["--features", features]);
        }
        args.extend(["--", "-D", "warnings"]);
        run(&cargo, &args, &[])?;
    }
    if has_cargo_subcommand("deny") {
        run(
            &cargo,
            &[
                "deny",
                "check",
                "--hide-inclusion-graph",
                "licenses",
                "bans",
                "sources",
            ],
            &[],
        )
    } else {
        Err("cargo-deny is not installed: cargo install cargo-deny --locked".to_owned())
    }
}

/// The released Tigris clients the compat run checks the emulator against. The Node ones are
/// pinned, with their dependencies, by `tests/compat/node/package-lock.json` (the library) and
/// `tests/compat/cli/package-lock.json` (the command line).
const TIGRIS_BOTO3_EXT: &str = "tigris-boto3-ext==0.8.0";

/// Runs the compatibility scripts against the emulator binary: boto3 and the AWS CLI, the
/// released tigris-boto3-ext (both in a venv it makes), the released @tigrisdata/storage and
/// the official CLI @tigrisdata/cli (each installed from its lockfile with `npm ci` into the
/// target directory). The CLI's run writes its command-by-command table to `docs/compat.md`,
/// and fails on a command expected to work (commands owned by parts of issue 24 built
/// elsewhere are reported as pending).
fn compat() -> Result<(), String> {
    run(
        &cargo(),
        &[
            "build",
            "--quiet",
            "-p",
            "tigris-emulator",
            "--bin",
            "tigris-emulator",
        ],
        &[],
    )?;
    let venv = target_dir().join("compat-venv");
    let python = venv.join("bin/python");
    if !python.exists() {
        run(
            "python3",
            &["-m", "venv", venv.to_str().ok_or("non-UTF-8 path")?],
            &[],
        )?;
    }
    let python = python.to_str().ok_or("non-UTF-8 path")?.to_owned();
    run(
        &python,
        &[
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "boto3>=1.34",
            "awscli>=1.32",
            TIGRIS_BOTO3_EXT,
        ],
        &[],
    )?;
    let emulator = target_dir().join("debug/tigris-emulator");
    let emulator = emulator.to_str().ok_or("non-UTF-8 path")?;
    // The scripts import each other from tests/compat; keep __pycache__ out of the tree.
    let no_pycache = [("PYTHONDONTWRITEBYTECODE", "1")];
    run(
        &python,
        &["tests/compat/python_clients.py", emulator],
        &no_pycache,
    )?;
    run(
        &python,
        &["tests/compat/boto3_ext_client.py", emulator],
        &no_pycache,
    )?;
    let node = compat_node("node", "storage.mjs", &[emulator]);
    let report = root().join("docs/compat.md");
    let cli = compat_node(
        "cli",
        "cli.mjs",
        &[emulator, report.to_str().ok_or("non-UTF-8 path")?],
    );
    node.and(cli)
}

/// Installs the Node package in `tests/compat/{name}` from its lockfile into
/// `target/compat-{name}` (again only when the lockfile changes; install scripts are not run)
/// and runs its `script` there with `args`.
fn compat_node(name: &str, script: &str, args: &[&str]) -> Result<(), String> {
    let source = root().join("tests/compat").join(name);
    let dir = target_dir().join(format!("compat-{name}"));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
    let lock = read(&source.join("package-lock.json"))?;
    // A copy of the lockfile written after a successful install, so a failed one is redone.
    let stamp = dir.join("installed-package-lock.json");
    for file in ["package.json", "package-lock.json", script] {
        std::fs::copy(source.join(file), dir.join(file))
            .map_err(|e| format!("cannot copy {file} to {}: {e}", dir.display()))?;
    }
    if read(&stamp).ok().as_ref() != Some(&lock) {
        let prefix = dir.to_str().ok_or("non-UTF-8 path")?;
        run(
            "npm",
            &[
                "ci",
                "--prefix",
                prefix,
                "--no-audit",
                "--no-fund",
                "--ignore-scripts",
                "--quiet",
            ],
            &[],
        )?;
        std::fs::write(&stamp, &lock)
            .map_err(|e| format!("cannot write {}: {e}", stamp.display()))?;
    }
    let script = dir.join(script);
    let mut argv = vec![script.to_str().ok_or("non-UTF-8 path")?];
    argv.extend_from_slice(args);
    run("node", &argv, &[("NODE_NO_WARNINGS", "1")])
}

/// `cargo xtask s3-tests [DIR] [--moto] [--debug] [-k EXPR]`: see USAGE. The Python driver
/// (`xtask/s3tests/run.py`) starts the binary, makes the alt and tenant keys, runs pytest and
/// writes the report; this function builds the binary and prepares the virtualenv.
fn s3_tests(args: &[String]) -> Result<(), String> {
    let mut dir = None;
    let mut moto = false;
    let mut debug = false;
    let mut keyword = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--moto" => moto = true,
            "--debug" => debug = true,
            "-k" => keyword = Some(rest.next().ok_or("-k needs an expression")?.clone()),
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
            path => dir = Some(PathBuf::from(path)),
        }
    }
    let Some(dir) = dir.filter(|d| d.join("s3tests/functional/test_s3.py").exists()) else {
        eprintln!(
            "xtask s3-tests: no ceph/s3-tests checkout given (or it has no \
             s3tests/functional/test_s3.py); skipped. Clone https://github.com/ceph/s3-tests \
             and pass its directory."
        );
        return Ok(());
    };
    let dir = dir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut build = vec![
        "build",
        "--quiet",
        "-p",
        "tigris-emulator",
        "--bin",
        "tigris-emulator",
    ];
    if !debug {
        build.push("--release");
    }
    run(&cargo(), &build, &[])?;
    let emulator = target_dir()
        .join(if debug { "debug" } else { "release" })
        .join("tigris-emulator");
    let work = target_dir().join("s3-tests");
    let venv = target_dir().join("s3tests-venv");
    let python = venv.join("bin/python");
    if !python.exists() {
        run(
            "python3",
            &["-m", "venv", venv.to_str().ok_or("non-UTF-8 path")?],
            &[],
        )?;
        let requirements = dir.join("requirements.txt");
        run(
            python.to_str().ok_or("non-UTF-8 path")?,
            &[
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
                requirements.to_str().ok_or("non-UTF-8 path")?,
                "moto[server]",
            ],
            &[],
        )?;
    }
    let out = if keyword.is_some() {
        work.join("partial.md")
    } else {
        root().join("docs/s3-compatibility.md")
    };
    let driver = root().join("xtask/s3tests/run.py");
    let path = |p: &Path| p.to_str().map(str::to_owned).ok_or("non-UTF-8 path");
    let mut driver_args = vec![
        path(&driver)?,
        "--suite".to_owned(),
        path(&dir)?,
        "--emulator".to_owned(),
        path(&emulator)?,
        "--out".to_owned(),
        path(&out)?,
        "--work".to_owned(),
        path(&work)?,
    ];
    if moto {
        driver_args.push("--moto".to_owned());
    }
    if let Some(k) = keyword {
        driver_args.push("-k".to_owned());
        driver_args.push(k);
    }
    let driver_args: Vec<&str> = driver_args.iter().map(String::as_str).collect();
    run(
        &path(&python)?,
        &driver_args,
        &[("PYTHONDONTWRITEBYTECODE", "1")],
    )?;
    eprintln!(
        "xtask s3-tests: wrote {} (logs in {})",
        out.display(),
        work.display()
    );
    Ok(())
}

/// The variables a live run needs. Only their names are ever printed.
const LIVE_CREDENTIALS: [&str; 2] = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];

fn run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mixed = (nanos as u64) ^ (u64::from(std::process::id()) << 32);
    format!(
        "tigris-it-{:08x}",
        mixed.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32
    )
}

fn integration(args: &[String]) -> Result<(), String> {
    let live = args.iter().any(|a| a == "--live");
    let keep = args.iter().any(|a| a == "--keep");
    let filter: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .map(String::as_str)
        .collect();
    let cargo = cargo();
    let nextest = has_cargo_subcommand("nextest");
    let mut test_args: Vec<&str> = if nextest {
        vec![
            "nextest",
            "run",
            "-p",
            "tigris-integration-tests",
            "--no-fail-fast",
        ]
    } else {
        vec!["test", "-p", "tigris-integration-tests", "--tests"]
    };
    if !live {
        test_args.extend(&filter);
        return run(&cargo, &test_args, &[]);
    }
    let missing: Vec<&str> = LIVE_CREDENTIALS
        .iter()
        .copied()
        .filter(|v| std::env::var_os(v).is_none())
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "xtask integration --live: skipped; set {} to run against Tigris",
            missing.join(" and ")
        );
        return Ok(());
    }
    let id = run_id();
    eprintln!("xtask integration --live: run id {id} (every resource is named with it)");
    if nextest {
        test_args.extend(["--test-threads", "4"]);
    }
    test_args.extend(&filter);
    let env = [("TIGRIS_IT_LIVE", "1"), ("TIGRIS_IT_RUN_ID", id.as_str())];
    let tested = run(&cargo, &test_args, &env);
    let swept = if keep {
        eprintln!(
            "--keep: resources of {id} left in place; remove them with: cargo run -p tigris-integration-tests --bin sweep -- {id}"
        );
        Ok(())
    } else {
        run(
            &cargo,
            &[
                "run",
                "--quiet",
                "-p",
                "tigris-integration-tests",
                "--bin",
                "sweep",
                "--",
                &id,
            ],
            &[],
        )
    };
    eprintln!("xtask integration --live: run id {id} done");
    tested.and(swept)
}

/// The storage benchmark: it runs the emulator binary as its own process (to measure that
/// process's memory), so both are built, in one invocation (one feature resolution, so neither
/// build invalidates the other); it writes its section of `path` in place.
fn bench_storage(path: &str) -> Result<(), String> {
    run(
        &cargo(),
        &[
            "build",
            "--release",
            "-p",
            "tigris-bench",
            "--bin",
            "storage",
            "-p",
            "tigris-emulator",
            "--bin",
            "tigris-emulator",
        ],
        &[],
    )?;
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    let storage = target.join("release").join("storage");
    let storage = storage.to_str().ok_or("non-UTF-8 target path")?;
    run(storage, &[path], &[])
}

fn bench(args: &[String]) -> Result<(), String> {
    let out = root().join("docs/benchmarks.md");
    let path = out.to_str().ok_or("non-UTF-8 path")?;
    match args {
        [] => {}
        [only] if only == "storage" => return bench_storage(path),
        _ => return Err("usage: cargo xtask bench [storage]".to_owned()),
    }
    // The emulator's program writes the report anew; the sections other programs append
    // follow, and the adoption cost section (`cargo xtask adoption-cost`, not rerun here: a
    // cold build of two crates) is kept as it was.
    let adoption = std::fs::read_to_string(&out)
        .ok()
        .and_then(|text| adoption::section_of(&text).map(str::to_owned));
    run(
        &cargo(),
        &[
            "run",
            "--release",
            "-p",
            "tigris-bench",
            "--bin",
            "emulator",
            "--",
            path,
        ],
        &[],
    )?;
    bench_storage(path)?;
    // The bundle benchmark appends its section (it also runs the emulator binary).
    run(
        &cargo(),
        &[
            "run",
            "--release",
            "-p",
            "tigris-bench",
            "--bin",
            "bundle",
            "--",
            path,
        ],
        &[],
    )?;
    // The agent kit's benchmarks print their sections; they are appended in this order.
    let mut report =
        std::fs::read_to_string(&out).map_err(|e| format!("cannot read {path}: {e}"))?;
    for bin in ["forks", "coordination"] {
        eprintln!("$ cargo run --release -p tigris-bench --bin {bin} >> {path}");
        let kit = Command::new(cargo())
            .args([
                "run",
                "--quiet",
                "--release",
                "-p",
                "tigris-bench",
                "--bin",
                bin,
            ])
            .current_dir(root())
            .output()
            .map_err(|e| format!("cannot run the {bin} benchmark: {e}"))?;
        if !kit.status.success() {
            return Err(format!(
                "the {bin} benchmark failed: {}",
                String::from_utf8_lossy(&kit.stderr)
            ));
        }
        report.push('\n');
        report.push_str(&String::from_utf8_lossy(&kit.stdout));
    }
    if let Some(adoption) = adoption {
        report = format!("{}\n\n{adoption}\n", report.trim_end());
    }
    std::fs::write(&out, report).map_err(|e| format!("cannot write {path}: {e}"))
}

/// `cargo xtask reliability [--quick]`: every program of `reliability/src/bin/`, in file-name
/// order, each printing one markdown section; `docs/reliability.md` is a header and those
/// sections, written even when a program fails (the command then fails).
fn reliability(args: &[String]) -> Result<(), String> {
    let quick = match args {
        [] => false,
        [flag] if flag == "--quick" => true,
        _ => return Err("usage: cargo xtask reliability [--quick]".to_owned()),
    };
    let root = root();
    let mut programs: Vec<String> = std::fs::read_dir(root.join("reliability/src/bin"))
        .map_err(|e| format!("cannot list reliability/src/bin: {e}"))?
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".rs").map(str::to_owned)
        })
        .collect();
    programs.sort();
    // The full form in release; the quick one (CI) in the debug profile the tests built. The
    // emulator binary is built too: the crash program starts and kills it.
    let mut build = vec![
        "build",
        "-p",
        "tigris-reliability",
        "-p",
        "tigris-emulator",
        "--bins",
    ];
    if !quick {
        build.push("--release");
    }
    run(&cargo(), &build, &[])?;
    let profile = if quick { "debug" } else { "release" };
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let mut sections = Vec::new();
    let mut failed = Vec::new();
    for program in &programs {
        let path = target.join(profile).join(program);
        let mut command = Command::new(&path);
        if quick {
            command.arg("--quick");
        }
        eprintln!(
            "$ {}{}",
            path.display(),
            if quick { " --quick" } else { "" }
        );
        let started = std::time::Instant::now();
        let output = command
            .current_dir(&root)
            .stderr(std::process::Stdio::inherit())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", path.display()))?;
        eprintln!(
            "  {program}: {:.1} s, {}",
            started.elapsed().as_secs_f64(),
            output.status
        );
        let mut section = String::from_utf8_lossy(&output.stdout).into_owned();
        if !output.status.success() {
            failed.push(program.clone());
            section.push_str(&format!(
                "\n**`{program}` missed its goal ({}).**\n",
                output.status
            ));
        }
        sections.push(section);
    }
    let machine = machine();
    let mut report = format!(
        "# Reliability\n\n\
         Produced by `cargo xtask reliability{}` (rerun it to reproduce; `--quick` is the reduced \
         form CI may run). Each section below comes from one program in `reliability/src/bin/`, \
         run against in-process emulators over loopback with SigV4 verified. Do not edit by \
         hand.\n\n\
         Run: {} on {machine}.\n\n",
        if quick { " --quick" } else { "" },
        utc_now(),
    );
    for section in &sections {
        report.push_str(section.trim_end());
        report.push_str("\n\n");
    }
    // The quick form's figures are not the published ones: they go beside the build.
    let out = if quick {
        target.join("reliability-quick.md")
    } else {
        root.join("docs/reliability.md")
    };
    std::fs::write(&out, report.trim_end().to_owned() + "\n")
        .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    eprintln!("wrote {}", out.display());
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "reliability programs missed their goal: {}",
            failed.join(", ")
        ))
    }
}

/// The CPU model and core count, and the OS, as far as this machine tells.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let os = Command::new("uname")
        .args(["-sr"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| std::env::consts::OS.to_owned());
    format!("{cpu}, {cores} cores, {os}")
}

/// Now as `YYYY-MM-DD HH:MM UTC`, from the system clock (civil-from-days, no dependencies).
fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's days_from_civil inverse.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3_600,
        rem % 3_600 / 60
    )
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().cloned().unwrap_or_default();
    let result = match task.as_str() {
        "test" => test(),
        "lint" => lint(),
        "compat" => compat(),
        "package" => package::package(),
        "ci" => test()
            .and_then(|()| reliability(&["--quick".to_owned()]))
            .and_then(|()| compat())
            .and_then(|()| lint())
            .and_then(|()| package::package()),
        "bench" => bench(&args[1..]),
        "reliability" => reliability(&args[1..]),
        "integration" => integration(&args[1..]),
        "s3-tests" => s3_tests(&args[1..]),
        "adoption-cost" => adoption::adoption_cost(&args[1..]),
        "" | "-h" | "--help" | "help" => {
            eprintln!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => Err(format!("unknown task {other:?}\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("xtask {task}: {msg}");
            ExitCode::FAILURE
        }
    }
}
