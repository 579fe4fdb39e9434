//! The fork tree, drawn server-side as SVG: each bucket that has forks or is one, its forks
//! beneath it, each labelled with the snapshot it came from and when it was made.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::html::{escape, href, time};
use crate::store::BucketView;

const ROW: u32 = 34;
const INDENT: u32 = 30;
const LEFT: u32 = 14;
const TOP: u32 = 20;

/// The SVG, or `None` when no bucket has a fork.
pub(crate) fn render(buckets: &[BucketView]) -> Option<String> {
    let live: BTreeSet<&str> = buckets.iter().map(|b| b.name.as_str()).collect();
    let mut children: BTreeMap<&str, Vec<&BucketView>> = BTreeMap::new();
    for b in buckets {
        if let Some((parent, ..)) = &b.fork {
            children.entry(parent.as_str()).or_default().push(b);
        }
    }
    if children.is_empty() {
        return None;
    }
    // Roots: buckets that are not forks (or whose parent is gone) and have forks.
    let roots: Vec<&BucketView> = buckets
        .iter()
        .filter(|b| {
            let is_root = b
                .fork
                .as_ref()
                .is_none_or(|(p, ..)| !live.contains(p.as_str()));
            is_root && children.contains_key(b.name.as_str())
        })
        .collect();
    let mut rows: Vec<(u32, &BucketView)> = Vec::new();
    let mut stack: Vec<(u32, &BucketView)> = roots.iter().rev().map(|b| (0, *b)).collect();
    // Every bucket appears once; a cycle cannot occur (a fork's parent is older), but the
    // guard keeps a drawing finite whatever the data.
    let mut seen = BTreeSet::new();
    while let Some((depth, b)) = stack.pop() {
        if !seen.insert(b.name.as_str()) {
            continue;
        }
        rows.push((depth, b));
        if let Some(kids) = children.get(b.name.as_str()) {
            stack.extend(kids.iter().rev().map(|k| (depth + 1, *k)));
        }
    }
    let max_depth = rows.iter().map(|(d, _)| *d).max().unwrap_or(0);
    let width = LEFT + max_depth * INDENT + 640;
    let height = TOP + rows.len() as u32 * ROW;
    let mut svg = format!(
        "<svg class=\"tree\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" \
         height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" \
         aria-label=\"fork tree\">"
    );
    // Where each drawn bucket sits, for its forks' edges.
    let mut at: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    let mut edges = String::new();
    let mut nodes = String::new();
    for (i, (depth, b)) in rows.iter().enumerate() {
        let x = LEFT + depth * INDENT;
        let y = TOP + i as u32 * ROW;
        at.insert(b.name.as_str(), (x, y));
        let parent = b.fork.as_ref().map(|(p, ..)| p.as_str()).unwrap_or("");
        if let Some((px, py)) = at.get(parent) {
            let _ = write!(edges, "<path class=\"edge\" d=\"M{px} {py} V{y} H{x}\"/>");
        }
        let detail = match &b.fork {
            Some((_, version, snapshot)) => format!(
                "fork of {} at snapshot {} · {}",
                parent,
                snapshot
                    .as_deref()
                    .map_or_else(|| version.to_string(), |n| format!("{n} ({version})")),
                time(b.created)
            ),
            None => format!(
                "{} snapshot(s) · created {}",
                b.snapshots.len(),
                time(b.created)
            ),
        };
        let _ = write!(
            nodes,
            "<a href=\"{link}\"><g class=\"node{kind}\" data-bucket=\"{name}\" \
             data-parent=\"{parent}\" data-depth=\"{depth}\">\
             <circle cx=\"{x}\" cy=\"{y}\" r=\"6\"/>\
             <text class=\"name\" x=\"{tx}\" y=\"{ty}\">{name}</text>\
             <text class=\"detail\" x=\"{tx}\" y=\"{dy}\">{detail}</text></g></a>",
            link = href("bucket", &[("name", &b.name)]),
            kind = if b.fork.is_some() { " fork" } else { " root" },
            name = escape(&b.name),
            parent = escape(parent),
            tx = x + 12,
            ty = y + 4,
            dy = y + 17,
            detail = escape(&detail),
        );
    }
    svg.push_str(&edges);
    svg.push_str(&nodes);
    svg.push_str("</svg>");
    Some(svg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    fn bucket(name: &str, parent: Option<&str>) -> BucketView {
        BucketView {
            name: name.into(),
            created: SystemTime::UNIX_EPOCH,
            snapshots_enabled: true,
            fork: parent.map(|p| (p.to_owned(), 7, Some("<snap>".into()))),
            soft_delete_days: None,
            has_lifecycle: false,
            settings: Default::default(),
            snapshots: Vec::new(),
        }
    }

    #[test]
    fn forks_are_drawn_under_their_parent_one_level_deeper_and_names_are_escaped() {
        let svg = render(&[
            bucket("base", None),
            bucket("base-a", Some("base")),
            bucket("base-a-x", Some("base-a")),
            bucket("base-b", Some("base")),
            bucket("lonely", None),
        ])
        .unwrap();
        let order: Vec<&str> = svg
            .match_indices("data-bucket=\"")
            .map(|(i, m)| {
                let rest = &svg[i + m.len()..];
                &rest[..rest.find('"').unwrap()]
            })
            .collect();
        assert_eq!(order, ["base", "base-a", "base-a-x", "base-b"]);
        assert!(svg.contains("data-bucket=\"base-a-x\" data-parent=\"base-a\" data-depth=\"2\""));
        assert!(svg.contains("&lt;snap&gt; (7)") && !svg.contains("<snap>"));
        assert!(render(&[bucket("lonely", None)]).is_none());
    }
}
