//! The module layering check `lint` runs on the agent kit: no two modules import each other,
//! directly or through others (a workflow may import `kit.rs`, `kit.rs` imports no workflow,
//! and nothing low imports a workflow).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The crate's top-level modules and the other top-level modules each one refers to through
/// `crate::` paths (tests left out). A name re-exported by `lib.rs` (`pub use m::{A, B}`) counts
/// as its module.
fn imports(src: &Path) -> Result<BTreeMap<String, BTreeSet<String>>, String> {
    let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
    let lib = read(&src.join("lib.rs"))?;
    let mut exported: BTreeMap<String, String> = BTreeMap::new();
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
        let Some((module, names)) = rest.split_once("::") else {
            continue;
        };
        let names = names.trim_start_matches('{').trim_end_matches('}');
        for name in names.split(',') {
            let name = name.trim();
            if !name.is_empty() {
                exported.insert(name.to_owned(), module.trim().to_owned());
            }
        }
    }
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut files = Vec::new();
    collect(src, &mut files)?;
    for file in files {
        let rel = file.strip_prefix(src).map_err(|e| e.to_string())?;
        let module = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or_default()
            .trim_end_matches(".rs")
            .to_owned();
        if module == "lib" {
            continue;
        }
        let text = read(&file)?;
        let text = text
            .split("#[cfg(test)]\nmod tests")
            .next()
            .unwrap_or_default();
        let deps = graph.entry(module.clone()).or_default();
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            let mut rest = line;
            while let Some(at) = rest.find("crate::") {
                rest = &rest[at + "crate::".len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let target = exported.get(&name).cloned().unwrap_or(name);
                let is_module = src.join(format!("{target}.rs")).exists()
                    || src.join(&target).join("mod.rs").exists();
                if is_module && target != module {
                    deps.insert(target);
                }
            }
        }
    }
    Ok(graph)
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> Result<(), String> {
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
}
