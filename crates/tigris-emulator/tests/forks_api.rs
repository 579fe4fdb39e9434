//! Fork listing, bucket metadata, merge and rebase over HTTP, signed as the released clients
//! sign them.

use aws_sdk_s3::primitives::ByteStream;
use http_body_util::BodyExt;
use serde_json::Value;
use tigris_emulator::Emulator;

mod common;
use common::{client, policy, scoped_key};

struct Answer {
    status: u16,
    snapshot_version: Option<String>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// Sends a bodyless request signed for service `s3`, region `auto`, as the clients do.
async fn signed(
    emu: &Emulator,
    key: (&str, &str),
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
) -> Answer {
    let resp = common::signed_request(emu, key, method, path_and_query, headers, b"").await;
    let status = resp.status().as_u16();
    let snapshot_version = resp
        .headers()
        .get("x-tigris-snapshot-version")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        snapshot_version,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

fn root(emu: &Emulator) -> (String, String) {
    let r = emu.root_credentials();
    (
        r.access_key_id().to_owned(),
        r.secret_access_key().to_owned(),
    )
}

async fn as_root(emu: &Emulator, method: &str, path: &str, headers: &[(&str, &str)]) -> Answer {
    let (id, secret) = root(emu);
    signed(emu, (&id, &secret), method, path, headers).await
}

async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: &'static str) {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from_static(body.as_bytes()))
        .send()
        .await
        .unwrap();
}

async fn read(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Option<String> {
    let out = s3.get_object().bucket(bucket).key(key).send().await.ok()?;
    let bytes = out.body.collect().await.unwrap().into_bytes();
    Some(String::from_utf8(bytes.to_vec()).unwrap())
}

async fn keys(s3: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    let out = s3.list_objects_v2().bucket(bucket).send().await.unwrap();
    out.contents()
        .iter()
        .map(|o| o.key().unwrap().to_owned())
        .collect()
}

async fn snapshot_bucket(s3: &aws_sdk_s3::Client, name: &str) {
    s3.create_bucket()
        .bucket(name)
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("x-tigris-enable-snapshot", "true");
        })
        .send()
        .await
        .unwrap();
}

async fn fork(emu: &Emulator, name: &str, source: &str, snapshot: Option<&str>) {
    let mut headers = vec![("x-tigris-fork-source-bucket", source)];
    if let Some(v) = snapshot {
        headers.push(("x-tigris-fork-source-bucket-snapshot", v));
    }
    let a = as_root(emu, "PUT", &format!("/{name}"), &headers).await;
    assert_eq!(a.status, 200, "{}", a.body);
}

async fn merge(emu: &Emulator, fork: &str, into: &str) -> Answer {
    as_root(
        emu,
        "PUT",
        &format!("/{into}"),
        &[("x-tigris-merge-source-bucket", fork)],
    )
    .await
}

async fn rebase(emu: &Emulator, fork: &str) -> Answer {
    as_root(
        emu,
        "PUT",
        &format!("/{fork}"),
        &[("x-tigris-rebase", "true")],
    )
    .await
}

async fn list_forks(emu: &Emulator, source: &str, query: &str) -> Answer {
    as_root(
        emu,
        "GET",
        &format!("/{query}"),
        &[("accept", "application/json"), ("x-tigris-fork", source)],
    )
    .await
}

#[tokio::test]
async fn fork_listing_reports_lineage_and_pages_by_max_buckets() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    snapshot_bucket(&s3, "src").await;
    let named = as_root(
        &emu,
        "PUT",
        "/src",
        &[("x-tigris-snapshot", "true; name=v1")],
    )
    .await;
    let version = named.snapshot_version.unwrap();
    fork(&emu, "src-a", "src", Some(&version)).await;
    fork(&emu, "src-b", "src", None).await;
    fork(&emu, "src-c", "src", None).await;
    fork(&emu, "src-a-child", "src-a", None).await;

    let first = list_forks(&emu, "src", "?max-buckets=2").await;
    assert_eq!(first.status, 200, "{}", first.body);
    let first = first.json();
    let names: Vec<&str> = first["Buckets"]["Bucket"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["src-a", "src-b"]);
    let a = &first["Buckets"]["Bucket"][0];
    assert_eq!(a["ForkInfo"]["HasChildren"], true);
    let parent = &a["ForkInfo"]["Parents"][0];
    assert_eq!(parent["BucketName"], "src");
    assert_eq!(parent["Snapshot"], format!("{version}; name=v1"));
    for field in ["ForkCreatedAt", "SnapshotCreatedAt"] {
        assert!(parent[field].as_str().unwrap().ends_with('Z'), "{parent}");
    }
    let token = first["ContinuationToken"].as_str().unwrap();
    assert_eq!(token, "src-b");

    let rest = list_forks(
        &emu,
        "src",
        &format!("?max-buckets=2&continuation-token={token}"),
    )
    .await
    .json();
    let bucket = &rest["Buckets"]["Bucket"];
    assert_eq!(bucket.as_array().unwrap().len(), 1);
    assert_eq!(bucket[0]["Name"], "src-c");
    assert_eq!(rest["ContinuationToken"], "");
}

#[tokio::test]
async fn fork_listing_of_an_unknown_source_is_denied_and_of_a_bucket_without_forks_empty() {
    let emu = Emulator::start().await.unwrap();
    snapshot_bucket(&client(&emu), "lonely").await;
    let unknown = list_forks(&emu, "nope", "").await;
    assert_eq!(unknown.status, 403, "{}", unknown.body);
    assert!(unknown.body.contains("AccessDenied"));
    let empty = list_forks(&emu, "lonely", "").await.json();
    assert_eq!(empty["Buckets"]["Bucket"], Value::Array(Vec::new()));
    let bad = list_forks(&emu, "lonely", "?max-buckets=0").await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn metadata_reports_type_fork_parents_children_and_sizes() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    snapshot_bucket(&s3, "meta").await;
    put(&s3, "meta", "a", "12345").await;
    fork(&emu, "meta-fork", "meta", None).await;
    s3.create_bucket().bucket("plain").send().await.unwrap();

    let parent = as_root(&emu, "GET", "/meta?metadata&with-size=true", &[]).await;
    assert_eq!(parent.status, 200, "{}", parent.body);
    let parent = parent.json();
    assert_eq!(parent["type"], 1);
    assert_eq!(parent["ForkInfo"]["HasChildren"], true);
    assert_eq!(parent["ForkInfo"]["Parents"], Value::Array(Vec::new()));
    assert_eq!(parent["estimated_unique_rows"], 1);
    assert_eq!(parent["estimated_size"], 5);

    let child = as_root(&emu, "GET", "/meta-fork?metadata", &[])
        .await
        .json();
    assert_eq!(child["ForkInfo"]["Parents"][0]["BucketName"], "meta");
    assert_eq!(child["ForkInfo"]["HasChildren"], false);
    assert!(child.get("estimated_size").is_none());

    let plain = as_root(&emu, "GET", "/plain?metadata", &[]).await.json();
    assert_eq!(plain["type"], 0);
    assert_eq!(plain["object_regions"], "");

    let missing = as_root(&emu, "GET", "/missing?metadata", &[]).await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn merge_writes_the_forks_changes_into_the_parent_and_answers_a_snapshot_of_it() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    snapshot_bucket(&s3, "main").await;
    put(&s3, "main", "keep", "main").await;
    put(&s3, "main", "edit", "before").await;
    put(&s3, "main", "drop", "x").await;
    fork(&emu, "main-exp", "main", None).await;
    put(&s3, "main-exp", "edit", "after").await;
    put(&s3, "main-exp", "added", "new").await;
    s3.delete_object()
        .bucket("main-exp")
        .key("drop")
        .send()
        .await
        .unwrap();

    let merged = merge(&emu, "main-exp", "main").await;
    assert_eq!(merged.status, 200, "{}", merged.body);
    let snapshot = merged.snapshot_version.unwrap();
    assert_eq!(keys(&s3, "main").await, ["added", "edit", "keep"]);
    assert_eq!(read(&s3, "main", "edit").await.as_deref(), Some("after"));

    // The answered version is a snapshot of the parent, listed and readable.
    put(&s3, "main", "later", "l").await;
    let at = s3
        .list_objects_v2()
        .bucket("main")
        .customize()
        .mutate_request(move |r| {
            r.headers_mut()
                .insert("x-tigris-snapshot-version", snapshot.clone());
        })
        .send()
        .await
        .unwrap();
    let at: Vec<_> = at.contents().iter().map(|o| o.key().unwrap()).collect();
    assert_eq!(at, ["added", "edit", "keep"]);
}

#[tokio::test]
async fn merge_goes_only_into_the_direct_parent() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    snapshot_bucket(&s3, "root").await;
    snapshot_bucket(&s3, "elsewhere").await;
    fork(&emu, "root-1", "root", None).await;
    fork(&emu, "root-1-1", "root-1", None).await;
    for (fork, into) in [
        ("root-1-1", "root"),
        ("root-1", "elsewhere"),
        ("root", "root-1"),
    ] {
        let a = merge(&emu, fork, into).await;
        assert_eq!(a.status, 400, "{fork} into {into}: {}", a.body);
        assert!(a.body.contains("InvalidArgument"), "{}", a.body);
    }
    assert_eq!(merge(&emu, "ghost", "root").await.status, 404);
}

#[tokio::test]
async fn rebase_moves_the_fork_onto_its_parents_present_and_keeps_its_writes() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    snapshot_bucket(&s3, "base").await;
    put(&s3, "base", "shared", "old").await;
    fork(&emu, "base-f", "base", None).await;
    put(&s3, "base-f", "mine", "m").await;
    put(&s3, "base", "shared", "new").await;
    put(&s3, "base", "more", "x").await;
    assert_eq!(read(&s3, "base-f", "shared").await.as_deref(), Some("old"));

    let rebased = rebase(&emu, "base-f").await;
    assert_eq!(rebased.status, 200, "{}", rebased.body);
    let version = rebased.snapshot_version.unwrap();
    assert_eq!(keys(&s3, "base-f").await, ["mine", "more", "shared"]);
    assert_eq!(read(&s3, "base-f", "shared").await.as_deref(), Some("new"));
    let head = s3.head_bucket().bucket("base-f").send().await;
    assert!(head.is_ok());
    let listed = list_forks(&emu, "base", "").await.json();
    assert_eq!(
        listed["Buckets"]["Bucket"][0]["ForkInfo"]["Parents"][0]["Snapshot"],
        version
    );
    let not_a_fork = rebase(&emu, "base").await;
    assert_eq!(not_a_fork.status, 400, "{}", not_a_fork.body);
}

#[tokio::test]
async fn a_scoped_key_needs_write_on_the_parent_and_read_on_the_fork_to_merge() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    snapshot_bucket(&s3, "prod").await;
    fork(&emu, "prod-try", "prod", None).await;
    put(&s3, "prod-try", "k", "v").await;

    // Reads both, writes neither: merge and rebase refused, listing allowed.
    let read_both = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
        "Action":["s3:GetObject","s3:ListBucket"],
        "Resource":["arn:aws:s3:::prod","arn:aws:s3:::prod/*",
                    "arn:aws:s3:::prod-try","arn:aws:s3:::prod-try/*"]}]}"#;
    let (id, secret, _) = scoped_key(&emu, "read-both", read_both).await;
    let key = (id.as_str(), secret.as_str());
    let merge_hdr = [("x-tigris-merge-source-bucket", "prod-try")];
    let denied = signed(&emu, key, "PUT", "/prod", &merge_hdr).await;
    assert_eq!(denied.status, 403, "{}", denied.body);
    // A rebase would bring this into the fork: a write of prod-try/new.
    put(&s3, "prod", "new", "v").await;
    let denied = signed(
        &emu,
        key,
        "PUT",
        "/prod-try",
        &[("x-tigris-rebase", "true")],
    )
    .await;
    assert_eq!(denied.status, 403, "{}", denied.body);
    let listing = [("x-tigris-fork", "prod")];
    assert_eq!(signed(&emu, key, "GET", "/", &listing).await.status, 200);

    // Only the fork's own bucket: no listing of prod's forks, no metadata of prod.
    let fork_only = policy(&["s3:*"], "prod-try", None);
    let (id2, secret2, _) = scoped_key(&emu, "fork-only", &fork_only).await;
    let key2 = (id2.as_str(), secret2.as_str());
    assert_eq!(signed(&emu, key2, "GET", "/", &listing).await.status, 403);
    assert_eq!(
        signed(&emu, key2, "GET", "/prod?metadata", &[])
            .await
            .status,
        403
    );
    assert_eq!(
        signed(&emu, key2, "PUT", "/prod", &merge_hdr).await.status,
        403
    );

    // Write on the parent and read on the fork: the merge goes through.
    let merger = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":["s3:PutObject","s3:DeleteObject"],
         "Resource":["arn:aws:s3:::prod/*"]},
        {"Effect":"Allow","Action":"s3:CreateBucket","Resource":"arn:aws:s3:::prod"},
        {"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],
         "Resource":["arn:aws:s3:::prod-try","arn:aws:s3:::prod-try/*"]}]}"#;
    let (id3, secret3, _) = scoped_key(&emu, "merger", merger).await;
    let merged = signed(&emu, (&id3, &secret3), "PUT", "/prod", &merge_hdr).await;
    assert_eq!(merged.status, 200, "{}", merged.body);
    assert_eq!(read(&s3, "prod", "k").await.as_deref(), Some("v"));
}

#[tokio::test]
async fn merges_and_rebases_survive_a_restart_with_a_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let start = || Emulator::builder().data_dir(dir.path()).start();
    let emu = start().await.unwrap();
    let s3 = client(&emu);
    snapshot_bucket(&s3, "par").await;
    put(&s3, "par", "a", "parent").await;
    fork(&emu, "par-f", "par", None).await;
    put(&s3, "par-f", "a", "fork").await;
    put(&s3, "par-f", "b", "fork-b").await;
    let snap = merge(&emu, "par-f", "par").await.snapshot_version.unwrap();
    put(&s3, "par", "c", "after").await;
    let base = rebase(&emu, "par-f").await.snapshot_version.unwrap();
    emu.shutdown().await;

    let emu = start().await.unwrap();
    let s3 = client(&emu);
    assert_eq!(keys(&s3, "par").await, ["a", "b", "c"]);
    assert_eq!(read(&s3, "par", "a").await.as_deref(), Some("fork"));
    assert_eq!(read(&s3, "par-f", "c").await.as_deref(), Some("after"));
    let listed = list_forks(&emu, "par", "").await.json();
    assert_eq!(
        listed["Buckets"]["Bucket"][0]["ForkInfo"]["Parents"][0]["Snapshot"],
        base
    );
    let snaps = s3
        .list_buckets()
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("x-tigris-snapshot", "par");
        })
        .send()
        .await
        .unwrap();
    assert!(
        snaps
            .buckets()
            .iter()
            .any(|b| b.name() == Some(snap.as_str()))
    );
    // A second merge after the restart has nothing new from before it.
    put(&s3, "par", "a", "parent again").await;
    assert_eq!(merge(&emu, "par-f", "par").await.status, 200);
    assert_eq!(read(&s3, "par", "a").await.as_deref(), Some("parent again"));
}
