//! Property: for any policy (Allow and Deny statements over action and resource patterns), a
//! fork, a merge, a rebase, a copy and a bundle get the same answer as the plain reads and
//! writes they stand for. The plain requests are probes that cannot change anything (writes
//! carry an `If-Match` no object has, so an authorized one is answered 412 or 404 and a
//! refused one 403), sent to one emulator; each compound request goes to a fresh emulator in
//! the same state.

use aws_sdk_s3::primitives::ByteStream;
use http_body_util::BodyExt;
use proptest::prelude::*;
use tigris_emulator::Emulator;

mod common;
use common::{client, scoped_key, signed_request};

const ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:ListBucket",
    "s3:CreateBucket",
    "s3:Get*",
    "s3:*Object",
    "s3:*",
    "*",
];

const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:s3:::src",
    "arn:aws:s3:::src/*",
    "arn:aws:s3:::src/secret/*",
    "arn:aws:s3:::src/pub/*",
    "arn:aws:s3:::dst",
    "arn:aws:s3:::dst/*",
    "arn:aws:s3:::dst/secret/*",
    "arn:aws:s3:::dst/pub/?",
    "arn:aws:s3:::*/secret/*",
    "arn:aws:s3:::newfork",
    "arn:aws:s3:::*",
];

fn statement() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        prop::sample::subsequence(ACTIONS, 1..=3),
        prop::sample::subsequence(RESOURCES, 1..=3),
    )
        .prop_map(|(allow, actions, resources)| {
            let list = |v: Vec<&str>| {
                v.iter()
                    .map(|s| format!("\"{s}\""))
                    .collect::<Vec<_>>()
                    .join(",")
            };
            format!(
                r#"{{"Effect":"{}","Action":[{}],"Resource":[{}]}}"#,
                if allow { "Allow" } else { "Deny" },
                list(actions),
                list(resources)
            )
        })
}

/// A policy: often "allow everything" plus narrower statements, so both answers come up.
fn policy() -> impl Strategy<Value = String> {
    (any::<bool>(), prop::collection::vec(statement(), 0..4)).prop_map(|(allow_all, mut s)| {
        if allow_all || s.is_empty() {
            s.insert(
                0,
                r#"{"Effect":"Allow","Action":"s3:*","Resource":"*"}"#.to_owned(),
            );
        }
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
            s.join(",")
        )
    })
}

/// The shared state: `src` (snapshots on) forked into `dst`, then both changed.
///
/// - `src` at the fork: `pub/a`, `secret/b`. After it: `pub/e`, `secret/f` added,
///   `secret/b` deleted (a rebase of `dst` puts two keys and deletes one).
/// - `dst` wrote `pub/c` and `secret/d` and deleted `pub/a` (a merge puts two and deletes one).
///
/// Answers the emulator and the scoped key (id, secret) holding `doc`.
async fn world(doc: &str) -> (Emulator, (String, String)) {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket()
        .bucket("src")
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("X-Tigris-Enable-Snapshot", "true");
        })
        .send()
        .await
        .unwrap();
    let put = |bucket: &'static str, key: &'static str| {
        s3.put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from_static(key.as_bytes()))
            .send()
    };
    put("src", "pub/a").await.unwrap();
    put("src", "secret/b").await.unwrap();
    let root = emu.root_credentials();
    let root = (root.access_key_id(), root.secret_access_key());
    let fork = signed_request(
        &emu,
        root,
        "PUT",
        "/dst",
        &[("x-tigris-fork-source-bucket", "src")],
        b"",
    )
    .await;
    assert_eq!(fork.status(), 200);
    put("dst", "pub/c").await.unwrap();
    put("dst", "secret/d").await.unwrap();
    s3.delete_object()
        .bucket("dst")
        .key("pub/a")
        .send()
        .await
        .unwrap();
    put("src", "pub/e").await.unwrap();
    put("src", "secret/f").await.unwrap();
    s3.delete_object()
        .bucket("src")
        .key("secret/b")
        .send()
        .await
        .unwrap();
    let (id, secret, _) = scoped_key(&emu, "subject", doc).await;
    (emu, (id, secret))
}

/// A plain request that changes nothing; whether the key may make it (anything but 403).
async fn probe(emu: &Emulator, key: &(String, String), method: &str, path: &str) -> bool {
    let headers: &[(&str, &str)] = match method {
        // No object has this ETag: an authorized write is 412 (or 404 with no object).
        "PUT" | "DELETE" if path[1..].contains('/') => {
            &[("if-match", "\"00000000000000000000000000000000\"")]
        }
        _ => &[],
    };
    let status = signed_request(emu, (&key.0, &key.1), method, path, headers, b"")
        .await
        .status()
        .as_u16();
    // Reads, and the plain fork's CreateBucket, are the only probes that may succeed.
    let creates_bucket = !path[1..].contains('/');
    assert!(
        !(200..300).contains(&status) || method == "GET" || creates_bucket,
        "a probe changed something: {method} {path} answered {status}"
    );
    status != 403
}

/// Whether every plain request of `plan` is allowed.
async fn all_allowed(emu: &Emulator, key: &(String, String), plan: &[(&str, &str)]) -> bool {
    for (method, path) in plan {
        if !probe(emu, key, method, path).await {
            return false;
        }
    }
    true
}

/// A compound request on a fresh world: whether it was allowed (200) or refused (403).
async fn compound(doc: &str, path: &str, headers: &[(&str, &str)]) -> bool {
    let (emu, key) = world(doc).await;
    let status = signed_request(&emu, (&key.0, &key.1), "PUT", path, headers, b"")
        .await
        .status()
        .as_u16();
    emu.shutdown().await;
    assert!(status == 200 || status == 403, "{path}: {status}");
    status == 200
}

/// The bundle of `dst`'s `keys` on a fresh world: `None` when refused, else the names served.
async fn bundle(doc: &str, keys: &[&str]) -> Option<Vec<String>> {
    let (emu, key) = world(doc).await;
    let body = serde_json::json!({ "keys": keys }).to_string();
    let resp = signed_request(
        &emu,
        (&key.0, &key.1),
        "POST",
        "/dst?bundle",
        &[
            ("content-type", "application/json"),
            ("x-tigris-bundle-format", "tar"),
        ],
        body.as_bytes(),
    )
    .await;
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    emu.shutdown().await;
    match status {
        403 => None,
        200 => {
            let mut archive = tar::Archive::new(&bytes[..]);
            let names = archive
                .entries()
                .unwrap()
                .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
                .filter(|n| n != "__bundle_errors.json")
                .collect();
            Some(names)
        }
        other => panic!("bundle answered {other}"),
    }
}

async fn check(doc: String) -> Result<(), TestCaseError> {
    let (plain, key) = world(&doc).await;
    let fork_plan = [
        ("PUT", "/newfork"),
        ("GET", "/src?list-type=2"),
        ("GET", "/src/pub/a"),
        ("GET", "/src/pub/e"),
        ("GET", "/src/secret/f"),
    ];
    let merge_plan = [
        ("GET", "/dst?list-type=2"),
        // The snapshot of the parent a merge ends with: CreateBucket on it (409 if allowed).
        ("PUT", "/src"),
        ("GET", "/dst/pub/c"),
        ("PUT", "/src/pub/c"),
        ("GET", "/dst/secret/d"),
        ("PUT", "/src/secret/d"),
        ("DELETE", "/src/pub/a"),
    ];
    let rebase_plan = [
        ("GET", "/dst?list-type=2"),
        ("GET", "/src?list-type=2"),
        ("GET", "/src/pub/e"),
        ("PUT", "/dst/pub/e"),
        ("GET", "/src/secret/f"),
        ("PUT", "/dst/secret/f"),
        ("DELETE", "/dst/secret/b"),
    ];
    let copy_plan = [("GET", "/src/secret/f"), ("PUT", "/dst/copy")];
    // The plain fork creates its bucket for real, so it goes last.
    let merge = all_allowed(&plain, &key, &merge_plan).await;
    let rebase = all_allowed(&plain, &key, &rebase_plan).await;
    let copy = all_allowed(&plain, &key, &copy_plan).await;
    // pub/a is deleted in dst: a key that may read it gets it skipped as NoSuchKey.
    let (mut readable, mut may_read_any) = (Vec::new(), false);
    for k in ["pub/c", "secret/d", "pub/a"] {
        if probe(&plain, &key, "GET", &format!("/dst/{k}")).await {
            may_read_any = true;
            if k != "pub/a" {
                readable.push(k.to_owned());
            }
        }
    }
    let fork = all_allowed(&plain, &key, &fork_plan).await;
    plain.shutdown().await;

    let src = [("x-tigris-fork-source-bucket", "src")];
    prop_assert_eq!(compound(&doc, "/newfork", &src).await, fork, "fork");
    let merge_hdr = [("x-tigris-merge-source-bucket", "dst")];
    prop_assert_eq!(compound(&doc, "/src", &merge_hdr).await, merge, "merge");
    let rebase_hdr = [("x-tigris-rebase", "true")];
    prop_assert_eq!(compound(&doc, "/dst", &rebase_hdr).await, rebase, "rebase");
    let copy_hdr = [("x-amz-copy-source", "src/secret/f")];
    prop_assert_eq!(compound(&doc, "/dst/copy", &copy_hdr).await, copy, "copy");
    let served = bundle(&doc, &["pub/c", "secret/d", "pub/a"]).await;
    let expected = may_read_any.then_some(readable);
    prop_assert_eq!(served, expected, "bundle");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 24,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn compound_requests_answer_as_the_plain_requests_they_stand_for(doc in policy()) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(check(doc))?;
    }
}
