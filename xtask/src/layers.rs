//! The module layering checks `lint` runs.
//!
//! - The agent kit: no two top-level modules import each other, directly or through others (a
//!   workflow may import `kit.rs`, `kit.rs` imports no workflow, and nothing low imports a
//!   workflow).
//! - The emulator: every module is in one of [`EMULATOR_LAYERS`] and imports only modules of its
//!   own layer or of those below; below the request layer, no modules import each other either.
//!
//! Both read the same thing: the `crate::`, `super::` and `self::` paths each file names
//! (comment lines and a trailing `#[cfg(test)] mod tests` left out).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The emulator's layers (`crates/tigris-emulator/src`), lowest first: a module may import
/// modules of its own layer and of the layers below it, never of one above. A module is in the
/// layer of the longest path listed here that it is, or is inside of (`iam::tables` is data,
/// the rest of `iam` handles requests). The crate root (`lib.rs`, the `Emulator`) is above
/// every layer.
pub(crate) const EMULATOR_LAYERS: &[(&str, &[&str])] = &[
    ("base", &["clock", "header", "strategies"]),
    (
        "data",
        &[
            "store",
            "iam::policy",
            "iam::tables",
            "http::faults",
            "console::access",
            "s3::shadow_state",
        ],
    ),
    ("delivery", &["notify"]),
    ("state", &["state"]),
    ("requests", &["http", "s3", "api", "iam", "console"]),
];

/// A module path from the crate root (`["iam", "tables"]`; the root itself is empty).
type ModPath = Vec<String>;

fn read(p: &Path) -> Result<String, String> {
    std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))
}

/// The names `lib.rs` re-exports (`pub use m::{A, B}`, `pub use m::n::C`), each with the module
/// path it comes from.
fn exports(src: &Path) -> Result<BTreeMap<String, ModPath>, String> {
    let lib = read(&src.join("lib.rs"))?;
    let mut exported = BTreeMap::new();
    for statement in lib.split(';') {
        let statement = statement.trim();
        let Some(rest) = statement
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with("pub use "))
            .map(|first| {
                let from = statement.find(first).unwrap_or(0);
                statement[from + "pub use ".len()..].to_owned()
            })
        else {
            continue;
        };
        let split = rest
            .find("::{")
            .map(|at| (&rest[..at], &rest[at + 2..]))
            .or_else(|| rest.rsplit_once("::"));
        let Some((module, names)) = split else {
            continue;
        };
        let module: ModPath = module.split("::").map(|s| s.trim().to_owned()).collect();
        let names = names.trim_start_matches('{').trim_end_matches('}');
        for name in names.split(',') {
            let name = name.trim();
            if !name.is_empty() {
                exported.insert(name.to_owned(), module.clone());
            }
        }
    }
    Ok(exported)
}

/// Each source file's module path (`store/mod.rs` is `store`, `iam/tables.rs` is
/// `iam::tables`) with the paths it names, resolved from the crate root. `lib.rs` and
/// `main.rs` (the crate roots) are left out.
fn references(src: &Path) -> Result<Vec<(ModPath, BTreeSet<ModPath>)>, String> {
    let mut files = Vec::new();
    collect(src, &mut files)?;
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let rel = file.strip_prefix(src).map_err(|e| e.to_string())?;
        let mut module: ModPath = rel
            .components()
            .filter_map(|c| c.as_os_str().to_str())
            .map(|c| c.trim_end_matches(".rs").to_owned())
            .collect();
        if module.last().is_some_and(|last| last == "mod") {
            module.pop();
        }
        if module == ["lib"] || module == ["main"] {
            continue;
        }
        let text = read(&file)?;
        let code: String = text
            .split("#[cfg(test)]\nmod tests")
            .next()
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let paths = named_paths(&code, &module);
        out.push((module, paths));
    }
    Ok(out)
}

/// The paths `code`, in module `module`, names through `crate::`, `super::` or `self::`, from
/// the crate root; a `{a::B, c}` group gives one path per member. An inline module that is not
/// a test module would resolve `super::` one level too high (none of the checked crates has
/// one).
fn named_paths(code: &str, module: &[String]) -> BTreeSet<ModPath> {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = BTreeSet::new();
    let mut at = 0;
    while at < code.len() {
        let rest = &code[at..];
        let starts_word =
            !code[..at].chars().next_back().is_some_and(is_ident) && !code[..at].ends_with("::");
        let (base, len): (ModPath, usize) = if !starts_word {
            (Vec::new(), 0)
        } else if rest.starts_with("crate::") {
            (Vec::new(), "crate::".len())
        } else if rest.starts_with("self::") {
            (module.to_vec(), "self::".len())
        } else if rest.starts_with("super::") {
            let mut base = module.to_vec();
            let mut len = 0;
            while rest[len..].starts_with("super::") {
                base.pop();
                len += "super::".len();
            }
            (base, len)
        } else {
            (Vec::new(), 0)
        };
        if len == 0 {
            at += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        }
        at += len;
        at += tree(&code[at..], &base, &mut out);
    }
    out
}

/// Reads one use tree (`a::b::C`, `a::{b, c::D as E}`, `a::*`) at the start of `s`, adding
/// each path it names under `prefix` to `out`; answers the bytes read.
fn tree(s: &str, prefix: &[String], out: &mut BTreeSet<ModPath>) -> usize {
    let space = |s: &str| s.len() - s.trim_start().len();
    let mut path = prefix.to_vec();
    let mut at = 0;
    loop {
        if s[at..].starts_with('{') {
            at += 1;
            loop {
                at += space(&s[at..]);
                if at >= s.len() || s[at..].starts_with('}') {
                    return (at + 1).min(s.len());
                }
                at += tree(&s[at..], &path, out);
                at += space(&s[at..]);
                if s[at..].starts_with(',') {
                    at += 1;
                } else if !s[at..].starts_with('}') {
                    // Not a use group after all (a macro, an expression): stop here.
                    return at;
                }
            }
        }
        let ident: String = s[at..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        at += ident.len();
        if !ident.is_empty() && s[at..].starts_with("::") {
            if ident != "self" {
                path.push(ident);
            }
            at += 2;
            continue;
        }
        let glob = ident.is_empty() && s[at..].starts_with('*');
        let itself = ident == "self";
        if glob {
            at += 1;
        } else if !ident.is_empty() && !itself {
            path.push(ident);
        }
        if glob || itself || path.len() > prefix.len() {
            out.insert(path);
        }
        // `C as D`: the alias names nothing more.
        let after = &s[at..];
        if let Some(alias) = after.trim_start().strip_prefix("as ") {
            let name = alias.trim_start();
            let len = name
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .count();
            at = s.len() - name.len() + len;
        }
        return at;
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// Whether `name` is a top-level module of the crate in `src`.
fn is_module(src: &Path, name: &str) -> bool {
    !name.is_empty() && (src.join(format!("{name}.rs")).exists() || src.join(name).is_dir())
}

/// `path` with a name `lib.rs` re-exports (`crate::Faults`) replaced by the module it comes
/// from.
fn unexported(path: &[String], exported: &BTreeMap<String, ModPath>) -> ModPath {
    match path.split_first() {
        Some((first, rest)) => match exported.get(first) {
            Some(module) => module.iter().chain(rest).cloned().collect(),
            None => path.to_vec(),
        },
        None => Vec::new(),
    }
}

/// The crate's top-level modules and the other top-level modules each one refers to (tests
/// left out). A name re-exported by `lib.rs` (`pub use m::{A, B}`) counts as its module.
fn imports(src: &Path) -> Result<BTreeMap<String, BTreeSet<String>>, String> {
    let exported = exports(src)?;
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, paths) in references(src)? {
        let top = module.first().cloned().unwrap_or_default();
        let deps = graph.entry(top.clone()).or_default();
        for path in paths {
            let target = unexported(&path, &exported);
            let Some(first) = target.first() else {
                continue;
            };
            if is_module(src, first) && *first != top {
                deps.insert(first.clone());
            }
        }
    }
    Ok(graph)
}

/// The sets of modules that import each other (strongly connected, more than one module).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Two modules are in one cycle when each reaches the other.
    let reach = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.to_owned()];
        while let Some(m) = stack.pop() {
            for d in graph.get(&m).into_iter().flatten() {
                if seen.insert(d.clone()) {
                    stack.push(d.clone());
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&String, BTreeSet<String>> =
        graph.keys().map(|m| (m, reach(m))).collect();
    let mut out: Vec<Vec<String>> = Vec::new();
    for m in graph.keys() {
        if out.iter().any(|c| c.contains(m)) {
            continue;
        }
        let mut cycle: Vec<String> = graph
            .keys()
            .filter(|o| *o != m && reached[m].contains(*o) && reached[*o].contains(m))
            .cloned()
            .collect();
        if !cycle.is_empty() {
            cycle.push(m.clone());
            cycle.sort();
            out.push(cycle);
        }
    }
    out
}

/// Fails naming every set of the crate's modules that import each other.
pub(crate) fn check(src: &Path) -> Result<(), String> {
    let found = cycles(&imports(src)?);
    if found.is_empty() {
        eprintln!("{}: no module import cycles", src.display());
        return Ok(());
    }
    let list = found
        .iter()
        .map(|c| c.join(" <-> "))
        .collect::<Vec<_>>()
        .join("; ");
    Err(format!(
        "modules of {} import each other: {list}",
        src.display()
    ))
}

/// The entry of `layers` that `path` is, or is inside of (the longest), with its layer's index.
fn layer_of<'a>(path: &[String], layers: &[(&str, &[&'a str])]) -> Option<(usize, &'a str)> {
    let joined = path.join("::");
    layers
        .iter()
        .enumerate()
        .flat_map(|(rank, (_, entries))| entries.iter().map(move |e| (rank, *e)))
        .filter(|(_, e)| joined == *e || joined.starts_with(&format!("{e}::")))
        .max_by_key(|(_, e)| e.len())
}

/// Fails naming every import in the crate at `src` that goes up `layers` (lowest first), every
/// module in none of them, and every set of modules below the top layer that import each
/// other.
pub(crate) fn check_layers(src: &Path, layers: &[(&str, &[&str])]) -> Result<(), String> {
    let exported = exports(src)?;
    let top = layers.len().saturating_sub(1);
    let mut problems = Vec::new();
    let mut below_top: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, paths) in references(src)? {
        let name = module.join("::");
        let Some((rank, entry)) = layer_of(&module, layers) else {
            problems.push(format!("{name} is in no layer"));
            continue;
        };
        for path in paths {
            let target = unexported(&path, &exported);
            let shown = target.join("::");
            let to = match target.first() {
                Some(first) if is_module(src, first) => layer_of(&target, layers),
                // An item of the crate root: above every layer.
                _ => Some((layers.len(), "the crate root")),
            };
            match to {
                None => problems.push(format!("{name} imports {shown}, which is in no layer")),
                Some((to_rank, _)) if to_rank > rank => problems.push(format!(
                    "{name} ({}) imports {shown} ({})",
                    layers[rank].0,
                    layers.get(to_rank).map_or("the crate root", |l| l.0),
                )),
                Some((to_rank, to_entry)) => {
                    if rank < top && to_rank == rank && to_entry != entry {
                        below_top
                            .entry(entry.to_owned())
                            .or_default()
                            .insert(to_entry.to_owned());
                    }
                    below_top.entry(entry.to_owned()).or_default();
                }
            }
        }
    }
    for cycle in cycles(&below_top) {
        problems.push(format!("{} import each other", cycle.join(" <-> ")));
    }
    if problems.is_empty() {
        let names: Vec<&str> = layers.iter().map(|(name, _)| *name).collect();
        eprintln!(
            "{}: every import stays in its layer or goes down ({})",
            src.display(),
            names.join(" < ")
        );
        return Ok(());
    }
    Err(format!(
        "the layers of {} are crossed: {}",
        src.display(),
        problems.join("; ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &str)]) -> BTreeMap<String, BTreeSet<String>> {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            g.entry((*a).to_owned())
                .or_default()
                .insert((*b).to_owned());
            g.entry((*b).to_owned()).or_default();
        }
        g
    }

    /// A crate's `src` in a fresh temporary directory, removed when dropped.
    struct Fixture(PathBuf);

    impl Fixture {
        fn new(name: &str, files: &[(&str, &str)]) -> Self {
            let dir =
                std::env::temp_dir().join(format!("xtask-layers-{}-{name}", std::process::id()));
            std::fs::remove_dir_all(&dir).ok();
            for (path, text) in files {
                let file = dir.join(path);
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(file, text).unwrap();
            }
            Self(dir)
        }
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            std::fs::remove_dir_all(&self.0).ok();
        }
    }

    const FIXTURE_LAYERS: &[(&str, &[&str])] = &[
        ("base", &["clock"]),
        ("data", &["store", "http::faults"]),
        ("state", &["state"]),
        ("requests", &["http"]),
    ];

    /// A small emulator-shaped crate, layered as [`FIXTURE_LAYERS`] asks, with `extra` files
    /// added or replaced.
    fn emulator_like(name: &str, extra: &[(&'static str, &'static str)]) -> Fixture {
        let mut files: BTreeMap<&str, &str> = BTreeMap::from([
            (
                "lib.rs",
                "mod clock;\nmod http;\nmod state;\nmod store;\npub use http::faults::Faults;\npub struct Emulator;\n",
            ),
            ("clock.rs", "pub(crate) struct Clock;\n"),
            (
                "store/mod.rs",
                "mod group;\nuse crate::clock::Clock;\npub(crate) struct Store;\n",
            ),
            ("store/group.rs", "use super::Store;\n"),
            (
                "state.rs",
                "use crate::store::Store;\nuse crate::{clock::Clock, http::faults::Faults};\n",
            ),
            ("http/mod.rs", "pub(crate) mod faults;\nmod server;\n"),
            ("http/faults.rs", "pub struct Faults;\n"),
            (
                "http/server.rs",
                "use crate::state::Shared;\nuse super::faults::Faults;\n",
            ),
        ]);
        files.extend(extra.iter().copied());
        let files: Vec<(&str, &str)> = files.into_iter().collect();
        Fixture::new(name, &files)
    }

    #[test]
    fn the_agent_kits_modules_do_not_import_each_other() {
        let src = crate::root().join("crates/tigris-agent-kit/src");
        let graph = imports(&src).unwrap();
        assert_eq!(graph["kit"], BTreeSet::from(["error".to_owned()]));
        assert!(graph["merge"].contains("kit"));
        assert_eq!(graph["error"], BTreeSet::from(["types".to_owned()]));
        check(&src).unwrap();
    }

    #[test]
    fn the_emulators_modules_import_only_their_own_layer_and_those_below() {
        let src = crate::root().join("crates/tigris-emulator/src");
        check_layers(&src, EMULATOR_LAYERS).unwrap();
    }

    #[test]
    fn a_layered_graph_has_no_cycles() {
        let g = graph(&[("merge", "kit"), ("merge", "error"), ("kit", "error")]);
        assert!(cycles(&g).is_empty());
    }

    #[test]
    fn a_low_module_importing_a_workflow_closes_a_cycle() {
        let g = graph(&[
            ("merge", "kit"),
            ("kit", "error"),
            ("error", "merge"),
            ("cas", "lease"),
            ("lease", "cas"),
        ]);
        assert_eq!(
            cycles(&g),
            vec![
                vec!["cas".to_owned(), "lease".to_owned()],
                vec!["error".to_owned(), "kit".to_owned(), "merge".to_owned()],
            ]
        );
    }

    #[test]
    fn paths_are_read_through_groups_super_and_self() {
        let code = "use crate::{store::{Store, group::put}, http::faults::Faults as F};\n\
                    use super::super::clock::*;\nlet x = self::inner::f();\n\
                    $crate::s3::checksum!(a);\nlet y = my_crate::not::this;";
        let module = vec!["iam".to_owned(), "tables".to_owned()];
        let found: Vec<String> = named_paths(code, &module)
            .into_iter()
            .map(|p| p.join("::"))
            .collect();
        assert_eq!(
            found,
            [
                "clock",
                "http::faults::Faults",
                "iam::tables::inner::f",
                "s3::checksum",
                "store::Store",
                "store::group::put",
            ]
        );
    }

    #[test]
    fn a_layered_crate_passes_the_layer_check() {
        let fixture = emulator_like("layered", &[]);
        check_layers(&fixture.0, FIXTURE_LAYERS).unwrap();
    }

    #[test]
    fn a_store_file_importing_state_fails_the_layer_check() {
        // The circle: state imports the store, the store's group commit imports state.
        let fixture = emulator_like(
            "circle",
            &[(
                "store/group.rs",
                "use super::Store;\nuse crate::state::Shared;\n",
            )],
        );
        let err = check_layers(&fixture.0, FIXTURE_LAYERS).unwrap_err();
        assert!(
            err.contains("store::group (data) imports state::Shared (state)"),
            "{err}"
        );
    }

    #[test]
    fn state_importing_a_handler_fails_the_layer_check() {
        let fixture = emulator_like(
            "handler",
            &[(
                "state.rs",
                "use crate::store::Store;\nuse crate::http::server::Tag;\n",
            )],
        );
        let err = check_layers(&fixture.0, FIXTURE_LAYERS).unwrap_err();
        assert!(
            err.contains("state (state) imports http::server::Tag (requests)"),
            "{err}"
        );
    }

    #[test]
    fn a_low_file_inside_a_handler_directory_may_not_reach_its_parent() {
        let fixture = emulator_like(
            "parent",
            &[("http/faults.rs", "use super::server::Verified;\n")],
        );
        let err = check_layers(&fixture.0, FIXTURE_LAYERS).unwrap_err();
        assert!(
            err.contains("http::faults (data) imports http::server::Verified (requests)"),
            "{err}"
        );
    }

    #[test]
    fn a_low_module_naming_the_crate_root_fails_the_layer_check() {
        let fixture = emulator_like("root", &[("clock.rs", "use crate::Emulator;\n")]);
        let err = check_layers(&fixture.0, FIXTURE_LAYERS).unwrap_err();
        assert!(
            err.contains("clock (base) imports Emulator (the crate root)"),
            "{err}"
        );
    }

    #[test]
    fn modules_of_one_low_layer_importing_each_other_fail_the_layer_check() {
        let fixture = emulator_like(
            "same-layer",
            &[
                ("http/faults.rs", "use crate::store::Store;\n"),
                ("store/group.rs", "use crate::Faults;\n"),
            ],
        );
        let err = check_layers(&fixture.0, FIXTURE_LAYERS).unwrap_err();
        assert!(
            err.contains("http::faults <-> store import each other"),
            "{err}"
        );
    }

    #[test]
    fn a_module_in_no_layer_fails_the_layer_check() {
        let fixture = emulator_like("unlisted", &[("notify.rs", "use crate::store::Store;\n")]);
        let err = check_layers(&fixture.0, FIXTURE_LAYERS).unwrap_err();
        assert!(err.contains("notify is in no layer"), "{err}");
    }
}
