//! `cargo xtask package`: the crates.io readiness check.
//!
//! 1. MSRV: the toolchain building is the workspace's `rust-version` (else `cargo +MSRV check`).
//! 2. Manifests: every crate under `crates/` says whether it is published; a published one has
//!    the metadata crates.io and docs.rs show, a README whose example is a doctest, the docs.rs
//!    feature badges, and reads no file outside itself; the workspace gives every published
//!    internal dependency a version ([`check_workspace`], unit-tested below).
//! 3. `cargo package --no-verify` of every published crate (versions on every dependency, the
//!    file lists), then the `.crate` files unpacked into a workspace of their own
//!    (`target/package-check`, [`unpack`]) and `cargo check --all-targets` there: every crate,
//!    its examples and (the emulator's) tests compile from the packaged contents alone. This is
//!    what `cargo package`'s verification proves, in check mode and reusing the built
//!    dependencies: a verified `cargo package` of all seven crates took 17 minutes here.
//! 4. The emulator is installed from its unpacked package (`cargo install --path`, `--debug`)
//!    and its binary started: it must print `ready:` and answer `GET /health` with 200.
//! 5. Public APIs: `cargo check-external-types` per published crate against its
//!    `external-types.toml`, the foreign types it exposes on purpose.
//! 6. The docs as docs.rs builds them: `--cfg docsrs`, all features, `-D warnings`.
//!
//! Steps 5 and 6 need `RUSTC_BOOTSTRAP=1` and build in `target/bootstrap` (see
//! [`bootstrap_target_dir`]).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{cargo, root, run, target_dir};

/// The cargo-check-external-types release whose rustdoc JSON format (57) the toolchain writes.
const EXTERNAL_TYPES_TOOL: &str = "cargo-check-external-types";
const EXTERNAL_TYPES_VERSION: &str = "0.5.0";

pub(crate) fn package() -> Result<(), String> {
    let root = root();
    let workspace = read(&root.join("Cargo.toml"))?;
    msrv(&workspace)?;

    let crates = read_crates(&root)?;
    let problems = check_workspace(&workspace, &crates);
    if !problems.is_empty() {
        return Err(format!(
            "not ready for crates.io:\n  {}",
            problems.join("\n  ")
        ));
    }
    let published: Vec<&str> = crates
        .iter()
        .filter(|c| c.publish == Some(true))
        .map(|c| c.name.as_str())
        .collect();
    eprintln!("published crates: {}", published.join(", "));

    let cargo = cargo();
    let mut args = vec!["package", "--locked", "--no-verify"];
    for name in &published {
        args.extend(["-p", name]);
    }
    run(&cargo, &args, &[])?;
    let unpacked = unpack(&workspace, &published)?;
    let manifest = unpacked.join("Cargo.toml");
    let manifest = manifest.to_str().ok_or("non-UTF-8 path")?;
    run(
        &cargo,
        &[
            "check",
            "--manifest-path",
            manifest,
            "--workspace",
            "--all-targets",
            "--all-features",
        ],
        &[],
    )?;
    install_packaged_emulator(&unpacked, &workspace_version(&workspace)?)?;
    external_types(&root, &crates)?;

    let mut args = vec!["doc", "--locked", "--no-deps", "--all-features"];
    for name in &published {
        args.extend(["-p", name]);
    }
    // docs.rs builds with a nightly and `--cfg docsrs`; RUSTC_BOOTSTRAP lets this stable
    // toolchain accept `feature(doc_cfg)` the same way.
    let bootstrap = bootstrap_target_dir();
    run(
        &cargo,
        &args,
        &[
            ("RUSTC_BOOTSTRAP", "1"),
            ("RUSTDOCFLAGS", "--cfg docsrs -D warnings"),
            ("CARGO_TARGET_DIR", &bootstrap),
        ],
    )
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// The value of `key = "value"` on a line of its own (the first one), without quotes.
fn string_value<'a>(toml: &'a str, key: &str) -> Option<&'a str> {
    toml.lines().find_map(|line| {
        let rest = line
            .trim()
            .strip_prefix(key)?
            .trim_start()
            .strip_prefix('=')?;
        Some(rest.trim().trim_matches('"'))
    })
}

fn workspace_version(workspace: &str) -> Result<String, String> {
    string_value(workspace, "version")
        .map(str::to_owned)
        .ok_or_else(|| "no version in [workspace.package]".to_owned())
}

/// MSRV: CI's toolchain is the `rust-version` itself, so every build of the run checks it;
/// on another toolchain the workspace is checked with `cargo +MSRV`.
fn msrv(workspace: &str) -> Result<(), String> {
    let msrv = string_value(workspace, "rust-version")
        .ok_or("no rust-version in [workspace.package]")?
        .to_owned();
    let out = Command::new("rustc")
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run rustc: {e}"))?;
    let version = String::from_utf8_lossy(&out.stdout).into_owned();
    let active = version.split_whitespace().nth(1).unwrap_or("");
    if active == msrv || active.starts_with(&format!("{msrv}.")) {
        eprintln!("MSRV {msrv}: building with {}", version.trim());
        return Ok(());
    }
    eprintln!("MSRV {msrv}: the active toolchain is {active}; checking with cargo +{msrv}");
    run(
        "cargo",
        &[
            &format!("+{msrv}"),
            "check",
            "--locked",
            "--workspace",
            "--all-targets",
        ],
        &[],
    )
}

/// A crate under `crates/`, as far as the publishing checks read it.
#[derive(Debug)]
pub(crate) struct CrateDir {
    pub(crate) dir: String,
    pub(crate) name: String,
    /// `Some(true)` for `publish = true`; `Some(false)` for `publish = false` or inherited
    /// from the workspace (which says false); `None` when the manifest does not say.
    pub(crate) publish: Option<bool>,
    pub(crate) manifest: String,
    pub(crate) readme: Option<String>,
    pub(crate) lib_rs: Option<String>,
}

fn read_crates(root: &Path) -> Result<Vec<CrateDir>, String> {
    let dir = root.join("crates");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("Cargo.toml").is_file())
        .collect();
    dirs.sort();
    dirs.iter()
        .map(|path| {
            let manifest = read(&path.join("Cargo.toml"))?;
            Ok(CrateDir {
                dir: path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                name: string_value(&manifest, "name")
                    .unwrap_or_default()
                    .to_owned(),
                publish: publish_flag(&manifest),
                readme: std::fs::read_to_string(path.join("README.md")).ok(),
                lib_rs: std::fs::read_to_string(path.join("src/lib.rs")).ok(),
                manifest,
            })
        })
        .collect()
}

fn publish_flag(manifest: &str) -> Option<bool> {
    manifest.lines().find_map(|line| match line.trim() {
        "publish = true" => Some(true),
        "publish = false" | "publish.workspace = true" => Some(false),
        _ => None,
    })
}

/// Everything that keeps the workspace from being published as it is; empty when ready.
pub(crate) fn check_workspace(workspace: &str, crates: &[CrateDir]) -> Vec<String> {
    let mut problems = Vec::new();
    let version = string_value(workspace, "version").unwrap_or("");
    let published: BTreeSet<&str> = crates
        .iter()
        .filter(|c| c.publish == Some(true))
        .map(|c| c.name.as_str())
        .collect();
    for c in crates {
        let name = &c.name;
        let Some(publish) = c.publish else {
            problems.push(format!(
                "{name}: say `publish = true` (a library users depend on) or `publish = false` (internal)"
            ));
            continue;
        };
        if !publish {
            continue;
        }
        for key in ["description", "documentation", "readme"] {
            if string_value(&c.manifest, key).is_none() {
                problems.push(format!("{name}: no `{key}` in Cargo.toml"));
            }
        }
        for key in ["keywords", "categories"] {
            if !c
                .manifest
                .lines()
                .any(|l| l.starts_with(key) && l.contains("[\""))
            {
                problems.push(format!("{name}: no `{key}` in Cargo.toml"));
            }
        }
        for inherited in [
            "version",
            "edition",
            "rust-version",
            "license",
            "repository",
        ] {
            if !c
                .manifest
                .contains(&format!("{inherited}.workspace = true"))
            {
                problems.push(format!("{name}: `{inherited}` is not the workspace's"));
            }
        }
        let docs_rs = c
            .manifest
            .split("[package.metadata.docs.rs]")
            .nth(1)
            .unwrap_or("");
        if !docs_rs.contains("all-features = true")
            || !docs_rs.contains(r#"rustdoc-args = ["--cfg", "docsrs"]"#)
        {
            problems.push(format!(
                "{name}: [package.metadata.docs.rs] needs all-features = true and rustdoc-args = [\"--cfg\", \"docsrs\"]"
            ));
        }
        match &c.readme {
            Some(readme) if readme.contains("```rust") => {}
            Some(_) => problems.push(format!("{name}: README.md has no ```rust example")),
            None => problems.push(format!("{name}: no README.md")),
        }
        match &c.lib_rs {
            Some(lib) => {
                if !lib.contains(r#"include_str!("../README.md")"#) {
                    problems.push(format!(
                        "{name}: src/lib.rs does not compile README.md's example (include_str!(\"../README.md\"))"
                    ));
                }
                if !lib.contains("#![cfg_attr(docsrs, feature(doc_cfg))]") {
                    problems.push(format!(
                        "{name}: src/lib.rs lacks #![cfg_attr(docsrs, feature(doc_cfg))] (docs.rs feature badges)"
                    ));
                }
                if lib.contains(r#"include_str!("../../"#)
                    || lib.contains(r#"include_bytes!("../../"#)
                {
                    problems.push(format!(
                        "{name}: src/lib.rs reads a file outside the crate, which the package lacks"
                    ));
                }
            }
            None => problems.push(format!("{name}: no src/lib.rs")),
        }
        if !c.manifest.contains("external-types.toml") {
            problems.push(format!(
                "{name}: no crates/{}/external-types.toml excluded from the package",
                c.dir
            ));
        }
    }
    // Internal dependencies are declared once, in [workspace.dependencies]: a published one
    // needs a version there, or packaging its dependents fails.
    for line in workspace.lines() {
        let line = line.trim();
        let Some((dep, spec)) = line.split_once(" = {") else {
            continue;
        };
        if published.contains(dep)
            && spec.contains("path = ")
            && !spec.contains(&format!("version = \"{version}\""))
        {
            problems.push(format!(
                "[workspace.dependencies] {dep}: needs version = \"{version}\" beside its path"
            ));
        }
    }
    problems
}

/// Unpacks every published crate's `.crate` into `target/package-check/` and makes them a
/// workspace of their own: `[patch.crates-io]` points their registry dependencies on each other
/// at the unpacked copies, the lockfile and `[profile]`s are the repository's (so the
/// dependencies already built are reused). Only what the packages hold is there.
fn unpack(workspace: &str, published: &[&str]) -> Result<PathBuf, String> {
    let version = workspace_version(workspace)?;
    let packages = target_dir().join("package");
    let dir = target_dir().join("package-check");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let dir_str = dir.to_str().ok_or("non-UTF-8 path")?;
    let mut members = String::new();
    let mut patches = String::new();
    for name in published {
        let tarball = packages.join(format!("{name}-{version}.crate"));
        run(
            "tar",
            &[
                "-xzf",
                tarball.to_str().ok_or("non-UTF-8 path")?,
                "-C",
                dir_str,
            ],
            &[],
        )?;
        members.push_str(&format!("    \"{name}-{version}\",\n"));
        patches.push_str(&format!("{name} = {{ path = \"{name}-{version}\" }}\n"));
    }
    let profiles = workspace
        .find("\n[profile.")
        .map_or("", |at| &workspace[at..]);
    let manifest = format!(
        "# Made by `cargo xtask package`: the published crates as unpacked from their .crate files.\n\
         [workspace]\nresolver = \"3\"\nmembers = [\n{members}]\n\n[patch.crates-io]\n{patches}{profiles}"
    );
    std::fs::write(dir.join("Cargo.toml"), manifest)
        .map_err(|e| format!("cannot write {}: {e}", dir.display()))?;
    std::fs::copy(root().join("Cargo.lock"), dir.join("Cargo.lock"))
        .map_err(|e| format!("cannot copy Cargo.lock: {e}"))?;
    Ok(dir)
}

/// Installs the emulator from its unpacked package as a user's `cargo install` would
/// (`--debug` to stay quick, the shared target directory so built dependencies are reused),
/// then starts the binary.
fn install_packaged_emulator(unpacked: &Path, version: &str) -> Result<(), String> {
    let path = unpacked.join(format!("tigris-emulator-{version}"));
    let install_root = target_dir().join("package-install");
    let target = target_dir();
    run(
        &cargo(),
        &[
            "install",
            "--debug",
            "--force",
            "--path",
            path.to_str().ok_or("non-UTF-8 path")?,
            "--root",
            install_root.to_str().ok_or("non-UTF-8 path")?,
            "--target-dir",
            target.to_str().ok_or("non-UTF-8 path")?,
        ],
        &[],
    )?;
    smoke_test(&install_root.join("bin/tigris-emulator"))
}

/// Starts the installed binary on a free port: it must print `ready: http://ADDR` and answer an
/// unsigned `GET /health` with 200.
fn smoke_test(binary: &Path) -> Result<(), String> {
    eprintln!("$ {} --port 0", binary.display());
    let mut child = Command::new(binary)
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let result = (|| {
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let line = lines
                .next()
                .ok_or("the emulator exited before printing `ready:`")?
                .map_err(|e| format!("reading the emulator's output: {e}"))?;
            if let Some(endpoint) = line.strip_prefix("ready: http://") {
                break endpoint.trim().to_owned();
            }
        };
        let mut stream = std::net::TcpStream::connect(&addr)
            .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .map_err(|e| e.to_string())?;
        write!(
            stream,
            "GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .map_err(|e| format!("cannot send to {addr}: {e}"))?;
        let mut answer = String::new();
        stream
            .read_to_string(&mut answer)
            .map_err(|e| format!("no answer from {addr}: {e}"))?;
        let status = answer.lines().next().unwrap_or("");
        if status.starts_with("HTTP/1.1 200") {
            eprintln!("installed emulator: ready on {addr}, GET /health: {status}");
            Ok(())
        } else {
            Err(format!(
                "GET /health on the installed emulator answered {status:?}"
            ))
        }
    })();
    let _ = child.kill();
    let _ = child.wait();
    result
}

/// Runs cargo-check-external-types on each published crate with its allow-list.
///
/// The tool reads rustdoc's JSON output, unstable: `RUSTC_BOOTSTRAP=1` lets the stable
/// toolchain write it, and the pinned tool release reads that toolchain's format version (it
/// says so when they disagree).
fn external_types(root: &Path, crates: &[CrateDir]) -> Result<(), String> {
    // The tool has no `--version` as a cargo subcommand; `--help` tells it is there.
    let installed = Command::new(cargo())
        .args(["check-external-types", "--help"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        return Err(format!(
            "{EXTERNAL_TYPES_TOOL} is not installed: cargo install {EXTERNAL_TYPES_TOOL} --locked --version {EXTERNAL_TYPES_VERSION}"
        ));
    }
    for c in crates.iter().filter(|c| c.publish == Some(true)) {
        let dir = root.join("crates").join(&c.dir);
        let manifest = dir.join("Cargo.toml");
        let config = dir.join("external-types.toml");
        run(
            &cargo(),
            &[
                "check-external-types",
                "--all-features",
                "--manifest-path",
                manifest.to_str().ok_or("non-UTF-8 path")?,
                "--config",
                config.to_str().ok_or("non-UTF-8 path")?,
            ],
            &[
                ("RUSTC_BOOTSTRAP", "1"),
                ("CARGO_TARGET_DIR", &bootstrap_target_dir()),
            ],
        )?;
    }
    Ok(())
}

/// Where builds with `RUSTC_BOOTSTRAP=1` go: cargo's fingerprints include that variable, so in
/// the shared target directory they would rebuild every dependency there, and back after.
fn bootstrap_target_dir() -> String {
    target_dir()
        .join("bootstrap")
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready_crate() -> CrateDir {
        CrateDir {
            dir: "tigris-x".to_owned(),
            name: "tigris-x".to_owned(),
            publish: Some(true),
            manifest: r#"[package]
name = "tigris-x"
description = "x"
version.workspace = true
edition.workspace = true
rust-version.workspace = true
license.workspace = true
repository.workspace = true
publish = true
documentation = "https://docs.rs/tigris-x"
readme = "README.md"
keywords = ["tigris"]
categories = ["api-bindings"]
exclude = ["external-types.toml"]

[package.metadata.docs.rs]
all-features = true
rustdoc-args = ["--cfg", "docsrs"]
"#
            .to_owned(),
            readme: Some("# x\n```rust\nlet _ = 1;\n```\n".to_owned()),
            lib_rs: Some(
                "#![doc = include_str!(\"../README.md\")]\n#![cfg_attr(docsrs, feature(doc_cfg))]\n"
                    .to_owned(),
            ),
        }
    }

    const WORKSPACE: &str = r#"[workspace.package]
version = "0.1.0"

[workspace.dependencies]
tigris-x = { version = "0.1.0", path = "crates/tigris-x" }
"#;

    #[test]
    fn a_ready_crate_passes() {
        assert_eq!(
            check_workspace(WORKSPACE, &[ready_crate()]),
            Vec::<String>::new()
        );
    }

    #[test]
    fn each_missing_piece_is_named() {
        let mut c = ready_crate();
        c.manifest = c.manifest.replace("keywords = [\"tigris\"]\n", "");
        c.manifest = c.manifest.replace("all-features = true\n", "");
        c.readme = Some("# x, no example\n".to_owned());
        c.lib_rs = Some("#[doc = include_str!(\"../../../README.md\")]\n".to_owned());
        let problems = check_workspace(WORKSPACE, &[c]);
        for expected in [
            "no `keywords`",
            "[package.metadata.docs.rs]",
            "no ```rust example",
            "does not compile README.md",
            "doc_cfg",
            "outside the crate",
        ] {
            assert!(
                problems.iter().any(|p| p.contains(expected)),
                "{expected:?} not in {problems:#?}"
            );
        }
    }

    #[test]
    fn a_path_only_internal_dependency_is_refused() {
        let workspace = WORKSPACE.replace("version = \"0.1.0\", path", "path");
        let problems = check_workspace(&workspace, &[ready_crate()]);
        assert_eq!(
            problems,
            ["[workspace.dependencies] tigris-x: needs version = \"0.1.0\" beside its path"]
        );
    }

    #[test]
    fn a_crate_that_does_not_say_is_refused() {
        let mut c = ready_crate();
        c.manifest = c.manifest.replace("publish = true\n", "");
        c.publish = publish_flag(&c.manifest);
        let problems = check_workspace(WORKSPACE, &[c]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("publish = true"));
    }

    /// The real workspace: every crate under crates/ is ready (or says it is internal).
    #[test]
    fn the_workspace_is_ready_for_crates_io() {
        let root = root();
        let workspace = read(&root.join("Cargo.toml")).unwrap();
        let crates = read_crates(&root).unwrap();
        assert!(
            crates
                .iter()
                .any(|c| c.name == "tigris-ext" && c.publish == Some(true))
        );
        assert!(
            crates
                .iter()
                .any(|c| c.name == "tigris-test-support" && c.publish == Some(false))
        );
        assert_eq!(check_workspace(&workspace, &crates), Vec::<String>::new());
    }
}
