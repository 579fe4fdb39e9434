//! `cargo xtask adoption-cost`: what it costs a user to adopt the crates, in build time.
//!
//! Two fresh binary crates in a scratch directory, each built cold (its own empty target
//! directory; dependencies already downloaded) one after the other, debug profile:
//! - `sdk-user` depends on `aws-sdk-s3` + `aws-sdk-iam` with the features the workspace uses,
//!   and `aws-smithy-http-client` with rustls + ring, the same TLS stack;
//! - `ext-user` depends only on `tigris-ext` (a path dependency, default features).
//!
//! Both pin the workspace's `Cargo.lock`, so they build the same versions. The ratio of the
//! wall times, the load average before each build and the top compile-time costs from
//! `cargo build --timings` replace the "Adoption cost" section of `docs/benchmarks.md`. The
//! scratch directory is removed afterwards unless `--keep`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::{cargo, root};

/// The section of `docs/benchmarks.md` this task owns (up to the next `## ` heading).
const SECTION: &str = "## Adoption cost";

/// How many of the costliest compilation units to report.
const TOP: usize = 5;

struct Build {
    name: &'static str,
    what: &'static str,
    seconds: f64,
    load_before: String,
    top: Vec<(String, f64)>,
}

pub(crate) fn adoption_cost(args: &[String]) -> Result<(), String> {
    let keep = args.iter().any(|a| a == "--keep");
    let scratch = match args.iter().position(|a| a == "--dir") {
        Some(i) => PathBuf::from(args.get(i + 1).ok_or("--dir needs a directory")?),
        None => std::env::temp_dir().join("tigris-adoption-cost"),
    };
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch)
            .map_err(|e| format!("cannot clear {}: {e}", scratch.display()))?;
    }
    let result = measure(&scratch);
    if keep {
        eprintln!("kept {}", scratch.display());
    } else if let Err(e) = std::fs::remove_dir_all(&scratch) {
        eprintln!("could not remove {}: {e}", scratch.display());
    }
    let builds = result?;
    let section = render(&builds);
    println!("{section}");
    let doc = root().join("docs/benchmarks.md");
    let text = std::fs::read_to_string(&doc).map_err(|e| format!("cannot read {doc:?}: {e}"))?;
    std::fs::write(&doc, replace_section(&text, &section))
        .map_err(|e| format!("cannot write {doc:?}: {e}"))?;
    eprintln!("wrote the {SECTION:?} section of docs/benchmarks.md");
    Ok(())
}

fn measure(scratch: &Path) -> Result<Vec<Build>, String> {
    let lock = root().join("Cargo.lock");
    let ext = root().join("crates/tigris-ext");
    let sdk_user = scratch.join("sdk-user");
    let ext_user = scratch.join("ext-user");
    write_crate(
        &sdk_user,
        "sdk-user",
        "aws-sdk-s3 = { version = \"1\", default-features = false, features = [\"rt-tokio\", \"behavior-version-latest\"] }\n\
         aws-sdk-iam = { version = \"1\", default-features = false, features = [\"rt-tokio\", \"behavior-version-latest\"] }\n\
         aws-smithy-http-client = { version = \"1\", default-features = false, features = [\"rustls-ring\", \"rt-tokio\"] }\n",
        "fn main() {\n    println!(\"{} {}\", std::any::type_name::<aws_sdk_s3::Client>(), std::any::type_name::<aws_sdk_iam::Client>());\n}\n",
        &lock,
    )?;
    write_crate(
        &ext_user,
        "ext-user",
        &format!(
            "tigris-ext = {{ path = {:?} }}\n",
            ext.display().to_string()
        ),
        "fn main() {\n    println!(\"{}\", std::any::type_name::<tigris_ext::aws_sdk_s3::Client>());\n}\n",
        &lock,
    )?;
    Ok(vec![
        build(&sdk_user, "sdk-user", "aws-sdk-s3 + aws-sdk-iam")?,
        build(&ext_user, "ext-user", "tigris-ext, default features")?,
    ])
}

fn write_crate(
    dir: &Path,
    name: &str,
    dependencies: &str,
    main: &str,
    lock: &Path,
) -> Result<(), String> {
    let io = |e: std::io::Error| format!("cannot write {}: {e}", dir.display());
    std::fs::create_dir_all(dir.join("src")).map_err(io)?;
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\n{dependencies}\n[workspace]\n"
        ),
    )
    .map_err(io)?;
    std::fs::write(dir.join("src/main.rs"), main).map_err(io)?;
    std::fs::copy(lock, dir.join("Cargo.lock")).map_err(io)?;
    Ok(())
}

fn build(dir: &Path, name: &'static str, what: &'static str) -> Result<Build, String> {
    let target = dir.join("target");
    let load_before = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(", "))
        .unwrap_or_else(|_| "unknown".to_owned());
    eprintln!(
        "$ cargo build --offline --timings   (in {}, load {load_before})",
        dir.display()
    );
    let started = Instant::now();
    let status = Command::new(cargo())
        .args(["build", "--offline", "--timings"])
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS")
        .current_dir(dir)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let seconds = started.elapsed().as_secs_f64();
    if !status.success() {
        return Err(format!("building {name} failed ({status})"));
    }
    let timings = target.join("cargo-timings/cargo-timing.html");
    let html = std::fs::read_to_string(&timings)
        .map_err(|e| format!("cannot read {}: {e}", timings.display()))?;
    Ok(Build {
        name,
        what,
        seconds,
        load_before,
        top: top_units(&html),
    })
}

/// The costliest packages in a `--timings` report: each unit's `duration`, summed per package
/// (a library and its build script are one cost), largest first.
fn top_units(html: &str) -> Vec<(String, f64)> {
    let data = html.split_once("UNIT_DATA = ").map_or("", |(_, rest)| {
        rest.split_once("];").map_or(rest, |(d, _)| d)
    });
    let data = without_blanks(data);
    let mut totals: Vec<(String, f64)> = Vec::new();
    for object in data.split("{\"i\":").skip(1) {
        let (Some(name), Some(duration)) = (field(object, "name"), field(object, "duration"))
        else {
            continue;
        };
        let name = name.trim_matches('"').to_owned();
        let Ok(duration) = duration.parse::<f64>() else {
            continue;
        };
        match totals.iter_mut().find(|(n, _)| *n == name) {
            Some((_, total)) => *total += duration,
            None => totals.push((name, duration)),
        }
    }
    totals.sort_by(|a, b| b.1.total_cmp(&a.1));
    totals.truncate(TOP);
    totals
}

/// JSON text without the white space outside strings (cargo pretty-prints the report).
fn without_blanks(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

/// The raw value of `"key":` in one flat JSON object's text.
fn field<'a>(object: &'a str, key: &str) -> Option<&'a str> {
    let start = object.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = &object[start..];
    let end = if let Some(quoted) = rest.strip_prefix('"') {
        quoted.find('"')? + 2
    } else {
        rest.find([',', '}']).unwrap_or(rest.len())
    };
    Some(&rest[..end])
}

fn render(builds: &[Build]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{SECTION}: a cold build on tigris-ext versus the SDK alone\n\n\
         What a user pays in build time to adopt the crates, measured by `cargo xtask adoption-cost`:\n\
         two fresh binary crates in a scratch directory, each built cold (its own empty target\n\
         directory, dependencies already downloaded) one after the other in one run, debug profile,\n\
         both pinned to the workspace's `Cargo.lock`:\n\n\
         - `sdk-user` depends on `aws-sdk-s3` + `aws-sdk-iam` with the features the workspace uses\n  \
           (`rt-tokio`, `behavior-version-latest`, no default features) and `aws-smithy-http-client`\n  \
           with `rustls-ring`, the same TLS stack;\n\
         - `ext-user` depends only on `tigris-ext` with its default features (every layer).\n\n\
         | crate | cold build (wall) | load average before (1, 5, 15 min) | top {TOP} compile-time costs (`cargo build --timings`, per package) |\n\
         | --- | --- | --- | --- |"
    );
    for b in builds {
        let top = b
            .top
            .iter()
            .map(|(n, s)| format!("{n} {s:.0} s"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            out,
            "| `{}` ({}) | {:.0} s | {} | {top} |",
            b.name, b.what, b.seconds, b.load_before
        );
    }
    if let [sdk, ext] = builds {
        let _ = writeln!(
            out,
            "\nRatio ext / sdk: {:.2} (the goal is at most 1.3). A cold build's wall time depends on\n\
             what else the machine runs: the load average before each build is in the table, and\n\
             the ratio is only as fair as the two loads are alike.",
            ext.seconds / sdk.seconds
        );
    }
    out
}

/// `text` with the section that starts at [`SECTION`] replaced by `section` (appended when
/// there is none).
/// The "Adoption cost" section of `text` (a `docs/benchmarks.md`), up to the next `## `
/// heading, when it has one: `cargo xtask bench` rewrites the file and keeps it.
pub(crate) fn section_of(text: &str) -> Option<&str> {
    let start = text.find(SECTION)?;
    let after = &text[start + SECTION.len()..];
    let end = after
        .find("\n## ")
        .map_or(text.len(), |i| start + SECTION.len() + i + 1);
    Some(text[start..end].trim_end())
}

fn replace_section(text: &str, section: &str) -> String {
    let Some(start) = text.find(SECTION) else {
        return format!("{}\n\n{section}", text.trim_end());
    };
    let after = &text[start + SECTION.len()..];
    let section = section.trim_end();
    match after.find("\n## ") {
        Some(i) => format!("{}{section}\n\n{}", &text[..start], &after[i + 1..]),
        None => format!("{}{section}\n", &text[..start]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_section_is_found_up_to_the_next_heading_and_put_back_in_place() {
        let doc = "# B\n\n## Coordination\n\nrows\n\n## Adoption cost: x\n\nold\n\n## Later\n\nz\n";
        assert_eq!(section_of(doc), Some("## Adoption cost: x\n\nold"));
        assert_eq!(
            section_of("# B\n\n## Adoption cost\n\nlast\n"),
            Some("## Adoption cost\n\nlast")
        );
        assert_eq!(section_of("# B\n"), None);
        let replaced = replace_section(doc, "## Adoption cost: y\n\nnew\n");
        assert_eq!(
            replaced,
            "# B\n\n## Coordination\n\nrows\n\n## Adoption cost: y\n\nnew\n\n## Later\n\nz\n"
        );
    }

    #[test]
    fn units_are_summed_per_package_and_sorted() {
        let html = r#"const UNIT_DATA = [
  {
    "i": 0,
    "name": "a",
    "version": "1",
    "mode": "run-custom-build",
    "target": " a \"build script\"",
    "start": 0.1,
    "duration": 2.5,
    "unblocked_units": [1]
  },
  {"i":1,"name":"b","version":"1","mode":"todo","target":"","start":0,"duration":4.0,"sections":null},
  {"i": 2, "name": "a", "version": "1", "mode": "todo", "target": " a", "start": 3, "duration": 2.0}
];"#;
        assert_eq!(
            top_units(html),
            vec![("a".to_owned(), 4.5), ("b".to_owned(), 4.0)]
        );
    }

    #[test]
    fn only_the_owned_section_is_replaced() {
        let text = "# B\n\n## One\nx\n\n## Adoption cost: old\nold\n\n## Two\ny\n";
        assert_eq!(
            replace_section(text, "## Adoption cost: new\n"),
            "# B\n\n## One\nx\n\n## Adoption cost: new\n\n## Two\ny\n"
        );
        assert_eq!(
            replace_section("# B\n", "## Adoption cost\n"),
            "# B\n\n## Adoption cost\n"
        );
    }
}
