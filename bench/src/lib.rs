//! Shared pieces of the benchmark programs under `src/bin/`: reading a process's memory from
//! `/proc`, starting the release emulator binary as its own process, and writing a program's
//! section of `docs/benchmarks.md`.
//!
//! ```no_run
//! let (mut child, endpoint) = tigris_bench::spawn_emulator_binary()?;
//! println!("{endpoint}: {} KiB", tigris_bench::status_kib(&child.id().to_string(), "VmRSS:"));
//! child.kill().ok();
//! # Ok::<(), String>(())
//! ```

/// A field of `/proc/<pid>/status` in KiB (`VmRSS:`, `VmHWM:`); `pid` may be `self`. 0 when
/// unreadable (not Linux).
pub fn status_kib(pid: &str, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Resets a process's VmHWM to its current RSS (Linux: writing 5 to `clear_refs`); whether it
/// could.
pub fn reset_peak(pid: &str) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// The release `tigris-emulator` binary beside the running benchmark, started on a free port so
/// its memory is measured apart from the client's; answers (child, endpoint) once it printed
/// its `ready:` line.
///
/// # Errors
/// When the binary is missing (`cargo build --release -p tigris-emulator`) or exits early.
pub fn spawn_emulator_binary() -> Result<(std::process::Child, String), String> {
    use std::io::BufRead;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let bin = exe.with_file_name("tigris-emulator");
    let mut child = std::process::Command::new(&bin)
        .args(["--port", "0"])
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
        let line = line.map_err(|e| e.to_string())?;
        if let Some(endpoint) = line.strip_prefix("ready: ") {
            return Ok((child, endpoint.to_owned()));
        }
    }
    Err("the emulator exited before it was ready".into())
}

/// Writes `section` (Markdown that starts with its `## ` heading line) into the report at
/// `path`: in place of the section with the same heading when there is one (up to the next
/// `## ` heading), else appended. So a program re-run alone does not duplicate its section.
///
/// # Errors
/// When the file cannot be written, or `section` does not start with a `## ` heading.
pub fn write_section(path: &str, section: &str) -> Result<(), String> {
    let section = section.trim_matches('\n');
    let heading = section
        .lines()
        .next()
        .filter(|l| l.starts_with("## "))
        .ok_or("a section starts with its `## ` heading")?;
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let start = text.lines().scan(0, |at, line| {
        let here = *at;
        *at += line.len() + 1;
        Some((here, line))
    });
    let start = start
        .filter(|(_, l)| *l == heading)
        .map(|(at, _)| at)
        .next();
    let updated = match start {
        Some(at) => {
            let after = at + heading.len();
            let end = text[after..].find("\n## ").map(|n| after + n + 1);
            match end {
                Some(end) => format!("{}{section}\n\n{}", &text[..at], &text[end..]),
                None => format!("{}{section}\n", &text[..at]),
            }
        }
        None if text.trim().is_empty() => format!("{section}\n"),
        None => format!("{}\n\n{section}\n", text.trim_end()),
    };
    std::fs::write(path, updated).map_err(|e| format!("cannot write {path}: {e}"))
}
