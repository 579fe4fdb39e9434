//! The console's pages. Each reads what it shows through the read-only accessors, one lock
//! at a time, then renders; every value from the state is escaped where it is written.

use std::fmt::Write as _;
use std::sync::Arc;

use serde_json::Value;

use super::Query;
use super::html::{Page, bytes, escape, href, link, table, time};
use crate::iam::policy::{self, PolicyDocument, RequestContext};
use crate::state::Shared;
use crate::store::{BucketView, DiffKind, DiffRow, LIVE, ListQuery, StoreError, time_of};

/// A page that cannot be shown: an unknown bucket, key or page.
#[derive(Debug)]
pub(crate) struct NotFound(pub(crate) String);

/// Objects counted per bucket for the overview; beyond, the count reads "more than".
const COUNT_LIMIT: usize = 100_000;
/// Keys listed per page of the object browser.
const PAGE: usize = 200;
/// Rows a fork diff shows.
const DIFF_LIMIT: usize = 1_000;
/// Objects up to this size are previewed when they are UTF-8 text.
const PREVIEW_LIMIT: u64 = 64 * 1024;

type Rendered = Result<String, NotFound>;

fn bucket_link(name: &str) -> String {
    link("bucket", &[("name", name)], name)
}

fn settings_summary(b: &BucketView) -> String {
    let s = &b.settings;
    let mut parts = vec![
        s.storage_class().to_owned(),
        if s.regions.is_empty() {
            "global".to_owned()
        } else {
            s.regions.clone()
        },
        if s.public { "public-read" } else { "private" }.to_owned(),
    ];
    if s.public_list {
        parts.push("public listing".into());
    }
    if b.has_lifecycle {
        parts.push("lifecycle rules".into());
    }
    if s.custom_domain.is_some() {
        parts.push("custom domain".into());
    }
    escape(&parts.join(" · "))
}

fn bucket_type(b: &BucketView) -> String {
    let kind = if b.snapshots_enabled {
        "snapshots"
    } else {
        "regular"
    };
    match &b.fork {
        Some((parent, ..)) => format!("{kind}, fork of {}", bucket_link(parent)),
        None => kind.to_owned(),
    }
}

fn soft_delete(days: Option<u32>) -> String {
    days.map_or_else(|| "off".to_owned(), |d| format!("{d} days"))
}

fn counted(count: Option<(u64, u64)>) -> (String, String) {
    match count {
        Some((n, size)) => (n.to_string(), bytes(size)),
        None => (format!("more than {COUNT_LIMIT}"), "—".to_owned()),
    }
}

/// `/_console/`: counts, the fork tree, every bucket.
pub(crate) fn overview(shared: &Shared) -> Rendered {
    let buckets = shared.store().bucket_views();
    let deleted = shared.store().deleted_buckets();
    // One lock per bucket, so a big store does not stall requests for the whole page.
    let counts: Vec<_> = buckets
        .iter()
        .map(|b| shared.store().count_objects(&b.name, COUNT_LIMIT))
        .collect();
    let keys = shared.iam().console_view().keys.len();
    let webhooks = shared.notifier.stats.snapshot().len();
    let forks = buckets.iter().filter(|b| b.fork.is_some()).count();
    let snapshots: usize = buckets.iter().map(|b| b.snapshots.len()).sum();

    let mut page = Page::new("Overview");
    page.push(&format!(
        "<ul class=\"stats\"><li><b>{}</b> buckets</li><li><b>{forks}</b> forks</li>\
         <li><b>{snapshots}</b> snapshots</li><li><b>{keys}</b> access keys</li>\
         <li><b>{webhooks}</b> webhook URLs</li></ul>",
        buckets.len()
    ));
    let tree = super::tree::render(&buckets)
        .unwrap_or_else(|| "<p class=\"empty\">No forks yet.</p>".into());
    page.section("Fork tree", "fork-tree", &tree);
    let rows: Vec<Vec<String>> = buckets
        .iter()
        .zip(counts)
        .map(|(b, count)| {
            let (n, size) = counted(count);
            vec![
                bucket_link(&b.name),
                bucket_type(b),
                soft_delete(b.soft_delete_days),
                if b.settings.protected { "on" } else { "off" }.to_owned(),
                settings_summary(b),
                b.snapshots.len().to_string(),
                n,
                size,
                time(b.created),
            ]
        })
        .collect();
    let list = if rows.is_empty() {
        "<p class=\"empty\">No buckets yet.</p>".to_owned()
    } else {
        table(
            "buckets",
            &[
                "bucket",
                "type",
                "soft delete",
                "protection",
                "settings",
                "snapshots",
                "objects",
                "size",
                "created",
            ],
            &rows,
        )
    };
    page.section("Buckets", "buckets", &list);
    if !deleted.is_empty() {
        let rows: Vec<Vec<String>> = deleted
            .iter()
            .map(|d| {
                vec![
                    escape(&d.name),
                    time(d.deleted_at),
                    soft_delete(d.retention_days),
                ]
            })
            .collect();
        page.section(
            "Soft-deleted buckets",
            "deleted-buckets",
            &table("deleted", &["bucket", "deleted", "retention"], &rows),
        );
    }
    Ok(page.finish())
}

/// `/_console/bucket?name=…[&prefix=…][&at=…][&after=…]`: settings, snapshots, forks, the
/// diff against the parent for a fork, and the object browser.
pub(crate) fn bucket(shared: &Shared, q: &Query) -> Rendered {
    let name = q
        .get("name")
        .ok_or_else(|| NotFound("which bucket? (name=…)".into()))?;
    let view = shared
        .store()
        .bucket_view(name)
        .map_err(|_| NotFound(format!("no bucket named {name}")))?;
    let forks = shared.store().forks_of(name).unwrap_or_default();
    let count = shared.store().count_objects(name, COUNT_LIMIT);
    let notifications = masked_notifications(shared, name);

    let mut page = Page::new(&format!("Bucket {name}"));
    let (n, size) = counted(count);
    let mut settings = serde_json::Map::new();
    view.settings.write_metadata(&mut settings);
    let mut rows = vec![
        vec!["type".into(), bucket_type(&view)],
        vec!["created".into(), time(view.created)],
        vec!["objects".into(), format!("{n} ({size})")],
        vec!["soft delete".into(), soft_delete(view.soft_delete_days)],
        vec![
            "lifecycle rules".into(),
            if view.has_lifecycle { "yes" } else { "no" }.into(),
        ],
    ];
    for (key, value) in &settings {
        rows.push(vec![escape(key), json_cell(value)]);
    }
    rows.push(vec![
        "object notifications".into(),
        notifications
            .as_ref()
            .map_or_else(|| "off".into(), json_cell),
    ]);
    let settings_table = table("settings", &["setting", "value"], &rows);

    if view.fork.is_some() {
        page.section("Changes against the parent", "diff", &diff(shared, name));
    }
    let snapshots: Vec<Vec<String>> = view
        .snapshots
        .iter()
        .rev()
        .map(|(version, label)| {
            let v = version.to_string();
            vec![
                escape(label.as_deref().unwrap_or("")),
                escape(&v),
                time(time_of(*version)),
                link("bucket", &[("name", name), ("at", &v)], "browse at it"),
            ]
        })
        .collect();
    if !snapshots.is_empty() {
        page.section(
            "Snapshots",
            "snapshots",
            &table("snapshots", &["name", "version", "taken", ""], &snapshots),
        );
    }
    if !forks.is_empty() {
        let list: Vec<String> = forks
            .iter()
            .map(|f| format!("<li>{}</li>", bucket_link(f)))
            .collect();
        page.section(
            "Forks",
            "forks",
            &format!("<ul class=\"forks\">{}</ul>", list.concat()),
        );
    }
    page.section("Objects", "objects", &objects(shared, &view, q));
    page.section("Settings", "settings", &settings_table);
    Ok(page.finish())
}

/// A JSON value in a cell: strings as text, anything else as compact JSON, escaped.
fn json_cell(value: &Value) -> String {
    match value {
        Value::String(s) => escape(s),
        other => format!("<code>{}</code>", escape(&other.to_string())),
    }
}

/// The fork's diff against its parent, as the agent kit computes it: fork now and parent now,
/// each against the parent at the fork point, by ETag and size.
fn diff(shared: &Shared, fork: &str) -> String {
    let Ok((parent, point)) = shared.store().fork_base(fork) else {
        return "<p class=\"empty\">Not a fork.</p>".into();
    };
    let mut rows: Vec<DiffRow> = Vec::new();
    let mut after: Option<String> = None;
    let mut truncated = false;
    loop {
        // One lock per chunk: writers interleave, as they do between the kit's listing pages.
        let chunk = shared
            .store()
            .diff_chunk(fork, &parent, point, after.as_deref());
        let (chunk, next) = match chunk {
            Ok(found) => found,
            Err(e) => return format!("<p class=\"error\">{}</p>", escape(&store_error(&e))),
        };
        rows.extend(chunk);
        if rows.len() > DIFF_LIMIT {
            rows.truncate(DIFF_LIMIT);
            truncated = true;
            break;
        }
        match next {
            Some(key) => after = Some(key),
            None => break,
        }
    }
    let count = |side: fn(&DiffRow) -> Option<DiffKind>, kind: DiffKind| {
        rows.iter().filter(|r| side(r) == Some(kind)).count()
    };
    let mut out = String::new();
    let _ = write!(
        out,
        "<p class=\"diff-summary\">Against {parent} at its fork point {point} ({when}). \
         The fork: <b>{fa}</b> added, <b>{fm}</b> modified, <b>{fd}</b> deleted. \
         The parent since: <b>{pa}</b> added, <b>{pm}</b> modified, <b>{pd}</b> deleted. \
         <b class=\"conflicts\">{c}</b> conflict(s).</p>",
        parent = bucket_link(&parent),
        when = time(time_of(point)),
        fa = count(|r| r.fork, DiffKind::Added),
        fm = count(|r| r.fork, DiffKind::Modified),
        fd = count(|r| r.fork, DiffKind::Deleted),
        pa = count(|r| r.parent, DiffKind::Added),
        pm = count(|r| r.parent, DiffKind::Modified),
        pd = count(|r| r.parent, DiffKind::Deleted),
        c = rows.iter().filter(|r| r.conflict).count(),
    );
    if rows.is_empty() {
        out.push_str("<p class=\"empty\">Neither side changed anything.</p>");
        return out;
    }
    out.push_str(
        "<table class=\"diff\"><thead><tr><th>key</th><th>in the fork</th>\
         <th>in the parent</th><th>size</th><th></th></tr></thead><tbody>",
    );
    let kind = |k: Option<DiffKind>| match k {
        Some(k) => format!("<span class=\"kind {0}\">{0}</span>", k.as_str()),
        None => "<span class=\"kind same\">—</span>".into(),
    };
    for r in &rows {
        let key = if r.fork == Some(DiffKind::Deleted) {
            escape(&r.key)
        } else {
            link("object", &[("bucket", fork), ("key", &r.key)], &r.key)
        };
        let _ = write!(
            out,
            "<tr class=\"change{cls}\" data-key=\"{k}\" data-fork=\"{f}\" data-parent=\"{p}\">\
             <td class=\"key\">{key}</td><td>{fk}</td><td>{pk}</td><td>{size}</td><td>{mark}</td></tr>",
            cls = if r.conflict { " conflict" } else { "" },
            k = escape(&r.key),
            f = r.fork.map_or("", DiffKind::as_str),
            p = r.parent.map_or("", DiffKind::as_str),
            fk = kind(r.fork),
            pk = kind(r.parent),
            size = bytes(r.size),
            mark = if r.conflict {
                "<span class=\"conflict-mark\">conflict</span>"
            } else {
                ""
            },
        );
    }
    out.push_str("</tbody></table>");
    if truncated {
        let _ = write!(
            out,
            "<p class=\"empty\">The first {DIFF_LIMIT} changed keys are shown.</p>"
        );
    }
    out
}

fn store_error(e: &StoreError) -> String {
    match e {
        StoreError::NoSuchBucket(b) => format!("no bucket named {b}"),
        StoreError::NoSuchKey(k) => format!("no object {k}"),
        StoreError::NotSnapshotEnabled(b) => {
            format!("{b} does not have snapshots enabled, so it has no reads at a snapshot")
        }
        other => format!("{other:?}"),
    }
}

/// `at=` as a version: empty or absent is now.
fn version_param(q: &Query) -> Result<Option<u64>, String> {
    match q.get("at").filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| format!("at={v} is not a snapshot version")),
    }
}

/// The prefix browser: common prefixes and objects under `prefix`, a page at a time, now or
/// at a snapshot.
fn objects(shared: &Shared, view: &BucketView, q: &Query) -> String {
    let name = view.name.as_str();
    let prefix = q.get("prefix").unwrap_or("");
    let after = q.get("after").filter(|a| !a.is_empty());
    let at = match version_param(q) {
        Ok(at) => at,
        Err(why) => return format!("<p class=\"error\">{}</p>", escape(&why)),
    };
    let at_text = at.map(|v| v.to_string()).unwrap_or_default();
    let mut out = String::new();
    // Browse form: prefix and the snapshot to read at.
    let _ = write!(
        out,
        "<form class=\"browse\" method=\"get\" action=\"{action}\">\
         <input type=\"hidden\" name=\"name\" value=\"{name}\">\
         <label>prefix <input name=\"prefix\" value=\"{prefix}\"></label> \
         <label>read at <select name=\"at\"><option value=\"\">now</option>",
        action = href("bucket", &[]),
        name = escape(name),
        prefix = escape(prefix),
    );
    for (version, label) in view.snapshots.iter().rev() {
        let v = version.to_string();
        let _ = write!(
            out,
            "<option value=\"{v}\"{sel}>{text}</option>",
            sel = if at == Some(*version) {
                " selected"
            } else {
                ""
            },
            text = escape(&match label {
                Some(l) => format!("{l} ({v})"),
                None => v.clone(),
            }),
        );
    }
    if let Some(v) = at
        && !view.snapshots.iter().any(|(s, _)| *s == v)
    {
        let _ = write!(out, "<option value=\"{v}\" selected>version {v}</option>");
    }
    out.push_str("</select></label> <button type=\"submit\">browse</button></form>");

    // Breadcrumbs.
    let mut crumbs = vec![link("bucket", &[("name", name), ("at", &at_text)], name)];
    let mut walked = String::new();
    for part in prefix.split_inclusive('/') {
        walked.push_str(part);
        crumbs.push(link(
            "bucket",
            &[("name", name), ("prefix", &walked), ("at", &at_text)],
            part,
        ));
    }
    let _ = write!(out, "<p class=\"crumbs\">{}</p>", crumbs.join(" "));

    let listing = shared.store().list(
        name,
        &ListQuery {
            prefix,
            delimiter: Some("/"),
            after,
            max_keys: PAGE,
            version: at.unwrap_or(LIVE),
        },
    );
    let listing = match listing {
        Ok(l) => l,
        Err(e) => {
            let _ = write!(out, "<p class=\"error\">{}</p>", escape(&store_error(&e)));
            return out;
        }
    };
    let mut rows: Vec<Vec<String>> = listing
        .common_prefixes
        .iter()
        .map(|p| {
            let shown = p.strip_prefix(prefix).unwrap_or(p);
            vec![
                link(
                    "bucket",
                    &[("name", name), ("prefix", p), ("at", &at_text)],
                    shown,
                ),
                "folder".into(),
                String::new(),
                String::new(),
                String::new(),
            ]
        })
        .collect();
    rows.extend(listing.objects.iter().map(|(key, o)| {
        let shown = key.strip_prefix(prefix).unwrap_or(key);
        vec![
            link(
                "object",
                &[("bucket", name), ("key", key), ("at", &at_text)],
                shown,
            ),
            escape(o.content_type.as_deref().unwrap_or("")),
            bytes(o.size()),
            format!("<code>{}</code>", escape(&o.etag)),
            time(o.last_modified),
        ]
    }));
    if rows.is_empty() {
        out.push_str("<p class=\"empty\">Nothing here.</p>");
    } else {
        out.push_str(&table(
            "objects",
            &["key", "content type", "size", "ETag", "last modified"],
            &rows,
        ));
    }
    if listing.is_truncated
        && let Some(next) = &listing.next_marker
    {
        let _ = write!(
            out,
            "<p>{}</p>",
            link(
                "bucket",
                &[
                    ("name", name),
                    ("prefix", prefix),
                    ("at", &at_text),
                    ("after", next)
                ],
                "next page →"
            )
        );
    }
    out
}

/// `/_console/object?bucket=…&key=…[&at=…]`: metadata and a preview of small text.
pub(crate) fn object(shared: &Shared, q: &Query) -> Rendered {
    let (Some(bucket), Some(key)) = (q.get("bucket"), q.get("key")) else {
        return Err(NotFound("which object? (bucket=…&key=…)".into()));
    };
    let at = version_param(q).map_err(NotFound)?;
    let version = at.unwrap_or(LIVE);
    let (object, entry) = {
        let store = shared.store();
        let object = store
            .get(bucket, key, version)
            .map_err(|e| NotFound(store_error(&e)))?;
        let entry = store.entry_at(bucket, key, version).ok().flatten();
        (object, entry)
    };
    let mut page = Page::new(&format!("Object {key}"));
    let mut rows = vec![
        vec!["bucket".into(), bucket_link(bucket)],
        vec![
            "key".into(),
            format!("<code class=\"key\">{}</code>", escape(key)),
        ],
        vec![
            "read at".into(),
            at.map_or_else(|| "now".into(), |v| format!("snapshot version {v}")),
        ],
        vec!["size".into(), bytes(object.size())],
        vec![
            "ETag".into(),
            format!("<code>{}</code>", escape(&object.etag)),
        ],
        vec![
            "content type".into(),
            escape(object.content_type.as_deref().unwrap_or("")),
        ],
        vec!["last modified".into(), time(object.last_modified)],
    ];
    if let Some((version_id, _)) = entry {
        rows.push(vec!["version id".into(), version_id.to_string()]);
    }
    for (name, value) in &object.metadata {
        rows.push(vec![format!("x-amz-meta-{}", escape(name)), escape(value)]);
    }
    page.section(
        "Metadata",
        "metadata",
        &table("metadata", &["field", "value"], &rows),
    );
    let preview = if object.size() > PREVIEW_LIMIT {
        format!(
            "<p class=\"empty\">Larger than {}: no preview.</p>",
            bytes(PREVIEW_LIMIT)
        )
    } else {
        match std::str::from_utf8(&object.data) {
            Ok(text) if !text.contains('\0') => {
                format!("<pre class=\"preview\">{}</pre>", escape(text))
            }
            _ => "<p class=\"empty\">Not UTF-8 text: no preview.</p>".into(),
        }
    };
    page.section("Preview", "preview", &preview);
    Ok(page.finish())
}

/// What a key may do on a bucket, by the same evaluation that authorizes its requests.
const ABILITIES: [(&str, &str, bool); 5] = [
    ("list", "s3:ListBucket", false),
    ("read", "s3:GetObject", true),
    ("write", "s3:PutObject", true),
    ("delete", "s3:DeleteObject", true),
    ("delete bucket", "s3:DeleteBucket", false),
];

/// `/_console/keys`: every access key, its policies, and what they allow on each bucket.
pub(crate) fn keys(shared: &Shared) -> Rendered {
    let iam = shared.iam().console_view();
    let buckets: Vec<String> = shared
        .store()
        .names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let now = shared.clock().now();
    let mut page = Page::new("Keys and policies");
    page.push(&format!(
        "<p>The root key <code>{}</code> may do everything. Secrets are never shown. \
         What each key may do is evaluated as its requests are (conditions for now; a \
         condition on the source address counts as unmet); objects means any key in the \
         bucket, so a grant on a prefix only shows in the policy below.</p>",
        escape(&shared.root_access_key)
    ));
    let mut matrix = String::new();
    for (id, created, policies) in &iam.keys {
        let docs: Vec<Arc<PolicyDocument>> =
            policies.iter().map(|p| Arc::clone(&p.parsed)).collect();
        let allowed = |action: &str, resource: &str| {
            let ctx = RequestContext {
                action,
                resource,
                now,
                source_ip: None,
            };
            policy::allowed(docs.iter().map(|d| &**d), &ctx)
        };
        let rows: Vec<Vec<String>> = buckets
            .iter()
            .filter_map(|b| {
                let abilities: Vec<&str> = ABILITIES
                    .iter()
                    .filter(|(_, action, on_objects)| {
                        let resource = if *on_objects {
                            format!("arn:aws:s3:::{b}/*")
                        } else {
                            format!("arn:aws:s3:::{b}")
                        };
                        allowed(action, &resource)
                    })
                    .map(|(label, ..)| *label)
                    .collect();
                (!abilities.is_empty()).then(|| {
                    let chips: String = abilities
                        .iter()
                        .map(|a| format!("<span class=\"chip\">{a}</span>"))
                        .collect();
                    vec![bucket_link(b), chips]
                })
            })
            .collect();
        let attached: Vec<String> = policies
            .iter()
            .map(|p| format!("<code>{}</code>", escape(&p.name)))
            .collect();
        let _ = write!(
            matrix,
            "<div class=\"key-card\" data-key-id=\"{id}\"><h3><code>{id}</code></h3>\
             <p>created {created}; policies: {attached}</p>{grants}</div>",
            id = escape(id),
            created = time(*created),
            attached = if attached.is_empty() {
                "none".into()
            } else {
                attached.join(", ")
            },
            grants = if rows.is_empty() {
                "<p class=\"empty\">No bucket access.</p>".into()
            } else {
                table("grants", &["bucket", "may"], &rows)
            },
        );
    }
    if matrix.is_empty() {
        matrix = "<p class=\"empty\">No access keys made through IAM.</p>".into();
    }
    page.section("Access keys", "access-keys", &matrix);
    let mut docs = String::new();
    for p in &iam.policies {
        let pretty = serde_json::from_str::<Value>(&p.document)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or_else(|| p.document.clone());
        let _ = write!(
            docs,
            "<div class=\"policy\"><h3><code>{name}</code></h3><p><code>{arn}</code> · \
             attached to {n} key(s){desc}</p><pre>{doc}</pre></div>",
            name = escape(&p.name),
            arn = escape(&p.arn),
            n = p.attachments,
            desc = p
                .description
                .as_deref()
                .map(|d| format!(" · {}", escape(d)))
                .unwrap_or_default(),
            doc = escape(&pretty),
        );
    }
    if docs.is_empty() {
        docs = "<p class=\"empty\">No policies.</p>".into();
    }
    page.section("Policies", "policies", &docs);
    Ok(page.finish())
}

/// A bucket's notification settings with the token, the password and the URL's credentials
/// masked.
fn masked_notifications(shared: &Shared, bucket: &str) -> Option<Value> {
    let mut shown = shared.notifier.masked(bucket)?;
    if let Value::Object(map) = &mut shown
        && let Some(url) = map.get("web_hook").and_then(Value::as_str)
    {
        let url = shown_url(url);
        map.insert("web_hook".into(), Value::String(url));
    }
    Some(shown)
}

/// A webhook URL without what may be a credential: the user info and the query are masked.
fn shown_url(url: &str) -> String {
    let Ok(uri) = url.parse::<http::Uri>() else {
        return "(unreadable URL)".into();
    };
    let host = uri.host().unwrap_or("");
    let port = uri.port_u16().map(|p| format!(":{p}")).unwrap_or_default();
    let user = if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        "****@"
    } else {
        ""
    };
    let query = if uri.query().is_some() { "?****" } else { "" };
    format!(
        "{}://{user}{host}{port}{}{query}",
        uri.scheme_str().unwrap_or("http"),
        uri.path()
    )
}

/// `/_console/webhooks`: notification settings per bucket, and per URL the queue, drops and
/// recent deliveries.
pub(crate) fn webhooks(shared: &Shared) -> Rendered {
    let names: Vec<String> = shared
        .store()
        .names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let configured: Vec<(String, Value)> = names
        .into_iter()
        .filter_map(|b| masked_notifications(shared, &b).map(|v| (b, v)))
        .collect();
    let stats = shared.notifier.stats.snapshot();
    let mut page = Page::new("Webhooks");
    let rows: Vec<Vec<String>> = configured
        .iter()
        .map(|(b, v)| vec![bucket_link(b), json_cell(v)])
        .collect();
    page.section(
        "Buckets with notifications",
        "configured",
        &if rows.is_empty() {
            "<p class=\"empty\">No bucket sends notifications.</p>".into()
        } else {
            table(
                "configured",
                &["bucket", "settings (secrets masked)"],
                &rows,
            )
        },
    );
    let mut out = String::new();
    for (url, s) in &stats {
        let _ = write!(
            out,
            "<div class=\"webhook\" data-url=\"{u}\"><h3><code>{u}</code></h3>\
             <ul class=\"stats\"><li><b>{depth}</b> queued</li><li><b>{ok}</b> delivered</li>\
             <li><b>{failed}</b> given up</li><li><b>{dropped}</b> dropped (queue full)</li></ul>",
            u = escape(&shown_url(url)),
            depth = s.depth(),
            ok = s.delivered,
            failed = s.failed,
            dropped = s.dropped,
        );
        let rows: Vec<Vec<String>> = s
            .recent
            .iter()
            .rev()
            .map(|d| {
                vec![
                    time(d.at),
                    escape(&d.event),
                    bucket_link(&d.bucket),
                    escape(&d.key),
                    d.attempts.to_string(),
                    d.status
                        .map_or_else(|| "no answer".into(), |s| s.to_string()),
                    if d.delivered {
                        "<span class=\"ok\">delivered</span>".into()
                    } else {
                        "<span class=\"bad\">gave up</span>".into()
                    },
                ]
            })
            .collect();
        out.push_str(&if rows.is_empty() {
            "<p class=\"empty\">No delivery finished yet.</p>".into()
        } else {
            table(
                "deliveries",
                &[
                    "finished", "event", "bucket", "key", "attempts", "status", "",
                ],
                &rows,
            )
        });
        out.push_str("</div>");
    }
    if out.is_empty() {
        out = "<p class=\"empty\">No event sent yet.</p>".into();
    }
    page.section("Deliveries by URL", "deliveries", &out);
    Ok(page.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_are_shown_without_credentials() {
        assert_eq!(
            shown_url("http://user:pw@hook.local:8080/in?token=s3cret"),
            "http://****@hook.local:8080/in?****"
        );
        assert_eq!(shown_url("http://127.0.0.1:9/x"), "http://127.0.0.1:9/x");
    }
}
