//! Bucket settings (CreateBucket headers, `PATCH /{bucket}` keys), their read-back from the
//! metadata endpoint and the JSON bucket listing, delete protection, the IAM actions, and
//! persistence, over HTTP signed as the released clients sign them.

use aws_sdk_s3::primitives::ByteStream;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tigris_emulator::Emulator;

mod common;
use common::{client, scoped_key};

fn root(emu: &Emulator) -> (String, String) {
    let r = emu.root_credentials();
    (
        r.access_key_id().to_owned(),
        r.secret_access_key().to_owned(),
    )
}

/// (status, body as JSON or `Null`, body text).
async fn call(
    emu: &Emulator,
    key: (&str, &str),
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Value, String) {
    let resp = common::signed_request(emu, key, method, path, headers, body.as_bytes()).await;
    let status = resp.status().as_u16();
    let text = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    )
}

async fn patch(
    emu: &Emulator,
    bucket: &str,
    headers: &[(&str, &str)],
    body: Value,
) -> (u16, String) {
    let (id, secret) = root(emu);
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    let (status, _, text) = call(
        emu,
        (&id, &secret),
        "PATCH",
        &format!("/{bucket}"),
        &all,
        &body.to_string(),
    )
    .await;
    (status, text)
}

async fn metadata(emu: &Emulator, bucket: &str) -> Value {
    let (id, secret) = root(emu);
    let (status, body, text) = call(
        emu,
        (&id, &secret),
        "GET",
        &format!("/{bucket}?metadata"),
        &[("accept", "application/json")],
        "",
    )
    .await;
    assert_eq!(status, 200, "{text}");
    body
}

async fn listing(emu: &Emulator, key: (&str, &str), query: &str) -> (u16, Value, String) {
    call(
        emu,
        key,
        "GET",
        &format!("/?{query}"),
        &[("accept", "application/json")],
        "",
    )
    .await
}

#[tokio::test]
async fn creation_headers_set_placement_class_and_access_and_metadata_reads_them() {
    let emu = Emulator::start().await.unwrap();
    let (id, secret) = root(&emu);
    let (status, _, text) = call(
        &emu,
        (&id, &secret),
        "PUT",
        "/bkt3",
        &[
            ("x-amz-acl", "public-read"),
            ("x-amz-storage-class", "STANDARD_IA"),
            ("x-tigris-regions", "iad,sjc"),
            ("x-amz-acl-public-list-objects-enabled", "true"),
        ],
        "",
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let m = metadata(&emu, "bkt3").await;
    assert_eq!(m["object_regions"], "iad,sjc");
    assert_eq!(m["storage_class"], "STANDARD_IA");
    assert_eq!(m["acl_list_objects"], "true");
    let (_, page, _) = listing(
        &emu,
        (&id, &secret),
        "IncludeVisibility=true&IncludeRegionsInfo=true",
    )
    .await;
    let entry = &page["Buckets"]["Bucket"][0];
    assert_eq!(entry["Visibility"]["IsPublic"], true);
    assert_eq!(entry["Regions"], "iad,sjc");
}

#[tokio::test]
async fn invalid_creation_headers_create_nothing() {
    let emu = Emulator::start().await.unwrap();
    let (id, secret) = root(&emu);
    for (name, value) in [
        ("x-tigris-regions", "mars"),
        ("x-tigris-regions", "usa,eur"),
        ("x-tigris-regions", "iad,iad"),
        ("x-amz-storage-class", "DEEP_ARCHIVE"),
        ("x-amz-acl-public-list-objects-enabled", "yes"),
    ] {
        let (status, _, text) =
            call(&emu, (&id, &secret), "PUT", "/nope", &[(name, value)], "").await;
        assert_eq!(status, 400, "{name}: {value}: {text}");
        assert!(text.contains("InvalidArgument"), "{text}");
    }
    let buckets = client(&emu).list_buckets().send().await.unwrap();
    assert!(buckets.buckets().is_empty());
}

#[tokio::test]
async fn a_patch_changes_only_the_keys_it_sends() {
    let emu = Emulator::start().await.unwrap();
    client(&emu)
        .create_bucket()
        .bucket("bkt")
        .send()
        .await
        .unwrap();
    let (status, text) = patch(
        &emu,
        "bkt",
        &[("x-amz-acl", "public-read")],
        json!({"object_regions": "fra", "cache_control": "max-age=60",
               "acl_settings": {"allow_object_acl": true},
               "website": {"domain_name": "cdn.example.com"},
               "additional_http_headers": {"X-Content-Type-Options": "nosniff"}}),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let (status, text) = patch(&emu, "bkt", &[], json!({"storage_class": "GLACIER_IR"})).await;
    assert_eq!(status, 200, "{text}");
    let m = metadata(&emu, "bkt").await;
    assert_eq!(m["object_regions"], "fra");
    assert_eq!(m["storage_class"], "GLACIER_IR");
    assert_eq!(m["cache_control"], "max-age=60");
    assert_eq!(m["acl_settings"]["allow_object_acl"], true);
    assert_eq!(m["website"]["domain_name"], "cdn.example.com");
    assert_eq!(
        m["additional_http_headers"]["X-Content-Type-Options"],
        "nosniff"
    );
    // Clearing: "" for cache control, domain and regions (global), null for the headers.
    let (status, text) = patch(
        &emu,
        "bkt",
        &[],
        json!({"cache_control": "", "website": {"domain_name": ""}, "object_regions": "",
               "additional_http_headers": null}),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let m = metadata(&emu, "bkt").await;
    assert_eq!(m["object_regions"], "");
    for gone in ["cache_control", "website", "additional_http_headers"] {
        assert!(m.get(gone).is_none(), "{gone}: {m}");
    }
    assert_eq!(m["storage_class"], "GLACIER_IR");
}

#[tokio::test]
async fn a_patch_with_one_bad_key_changes_nothing() {
    let emu = Emulator::start().await.unwrap();
    client(&emu)
        .create_bucket()
        .bucket("bkt")
        .send()
        .await
        .unwrap();
    for (headers, body, code) in [
        (
            vec![],
            json!({"cache_control": "x", "object_regions": "mars"}),
            "InvalidArgument",
        ),
        (
            vec![],
            json!({"cache_control": "x", "storage_class": "COLD"}),
            "InvalidArgument",
        ),
        (
            vec![("x-amz-acl", "authenticated-read")],
            json!({"cache_control": "x"}),
            "InvalidArgument",
        ),
        (
            vec![],
            json!({"cache_control": "x", "protection": {"protected": 1}}),
            "InvalidArgument",
        ),
        (
            vec![],
            json!({"cache_control": "x", "no_such_setting": 1}),
            "NotImplemented",
        ),
        (
            vec![],
            json!({"cache_control": "x", "object_notifications": {"enabled": true}}),
            "InvalidArgument",
        ),
    ] {
        let (status, text) = patch(&emu, "bkt", &headers, body.clone()).await;
        assert!((400..=501).contains(&status), "{body}: {status} {text}");
        assert!(text.contains(code), "{body}: {text}");
    }
    let m = metadata(&emu, "bkt").await;
    assert!(m.get("cache_control").is_none(), "{m}");
    assert!(m.get("object_notifications").is_none(), "{m}");
}

#[tokio::test]
async fn a_protected_bucket_refuses_delete_even_forced_until_protection_is_off() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("keep").send().await.unwrap();
    let (status, text) = patch(
        &emu,
        "keep",
        &[],
        json!({"protection": {"protected": true}}),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        metadata(&emu, "keep").await["protection"]["protected"],
        true
    );
    let (id, secret) = root(&emu);
    for force in [
        None,
        Some("x-tigris-force-delete"),
        Some("tigris-force-delete"),
    ] {
        let headers: Vec<(&str, &str)> = force.map(|h| (h, "true")).into_iter().collect();
        let (status, _, text) = call(&emu, (&id, &secret), "DELETE", "/keep", &headers, "").await;
        assert_eq!(status, 409, "{force:?}: {text}");
        assert!(text.contains("BucketProtected"), "{text}");
    }
    patch(
        &emu,
        "keep",
        &[],
        json!({"protection": {"protected": false}}),
    )
    .await;
    s3.delete_bucket().bucket("keep").send().await.unwrap();
}

#[tokio::test]
async fn each_settings_group_needs_its_own_action() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("bkt").send().await.unwrap();
    let doc = |action: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["{action}","s3:ListBucket"],
            "Resource":["arn:aws:s3:::bkt"]}}]}}"#
        )
    };
    let (acl_id, acl_secret, _) = scoped_key(&emu, "acl", &doc("s3:PutBucketAcl")).await;
    let (set_id, set_secret, _) = scoped_key(&emu, "settings", &doc("s3:PutBucketSettings")).await;
    let send = |key: (String, String), headers: Vec<(&'static str, &'static str)>, body: Value| {
        let emu = &emu;
        async move {
            let mut all = vec![("content-type", "application/json")];
            all.extend(headers);
            call(
                emu,
                (&key.0, &key.1),
                "PATCH",
                "/bkt",
                &all,
                &body.to_string(),
            )
            .await
        }
    };
    let acl = (acl_id.clone(), acl_secret.clone());
    let settings = (set_id.clone(), set_secret.clone());
    let (status, _, text) = send(acl.clone(), vec![("x-amz-acl", "public-read")], json!({})).await;
    assert_eq!(status, 200, "{text}");
    let (status, _, text) = send(acl.clone(), vec![], json!({"storage_class": "GLACIER"})).await;
    assert_eq!(status, 403, "{text}");
    let (status, _, text) = send(
        settings.clone(),
        vec![],
        json!({"storage_class": "GLACIER"}),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    for (headers, body) in [
        (vec![("x-amz-acl", "private")], json!({})),
        (vec![], json!({"website": {"domain_name": "a.example.com"}})),
        (vec![], json!({"object_notifications": {}})),
        (
            vec![],
            json!({"storage_class": "STANDARD", "acl_settings": {"allow_object_acl": true}}),
        ),
    ] {
        let (status, _, text) = send(settings.clone(), headers, body.clone()).await;
        assert_eq!(status, 403, "{body}: {text}");
    }
    let m = metadata(&emu, "bkt").await;
    assert_eq!(m["storage_class"], "GLACIER");
    assert_eq!(m["acl_settings"]["allow_object_acl"], false);
    // The listing needs s3:ListAllMyBuckets.
    let (status, _, text) = listing(&emu, (&set_id, &set_secret), "").await;
    assert_eq!(status, 403, "{text}");
}

#[tokio::test]
async fn the_listing_pages_in_name_order_with_lineage_type_and_stats() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("a-plain").send().await.unwrap();
    let (id, secret) = root(&emu);
    call(
        &emu,
        (&id, &secret),
        "PUT",
        "/b-parent",
        &[
            ("x-tigris-enable-snapshot", "true"),
            ("x-tigris-regions", "usa"),
        ],
        "",
    )
    .await;
    for (bucket, key, body) in [("a-plain", "x", "12345"), ("b-parent", "y", "123")] {
        s3.put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(body.as_bytes().to_vec()))
            .send()
            .await
            .unwrap();
    }
    call(
        &emu,
        (&id, &secret),
        "PUT",
        "/c-fork",
        &[("x-tigris-fork-source-bucket", "b-parent")],
        "",
    )
    .await;
    let key = (id.as_str(), secret.as_str());
    let (status, page, text) = listing(
        &emu,
        key,
        "IncludeRegionsInfo=true&IncludeTypeInfo=true&IncludeForkInfo=true&IncludeStats=true&max-buckets=2",
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let names: Vec<&str> = page["Buckets"]["Bucket"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a-plain", "b-parent"]);
    let parent = &page["Buckets"]["Bucket"][1];
    assert_eq!(parent["Type"], "Snapshot");
    assert_eq!(parent["Regions"], "usa");
    assert_eq!(parent["ForkInfo"]["HasChildren"], true);
    assert!(
        page["Buckets"]["Bucket"][0].get("Regions").is_none(),
        "global has no Regions"
    );
    assert_eq!(
        page["Stats"],
        json!({"ActiveBuckets": 2, "TotalObjects": 2, "TotalStorageBytes": 8, "TotalUniqueObjects": 2})
    );
    let token = page["ContinuationToken"].as_str().unwrap();
    assert_eq!(token, "b-parent");
    let (_, rest, _) = listing(
        &emu,
        key,
        &format!("IncludeForkInfo=true&continuation-token={token}"),
    )
    .await;
    let fork = &rest["Buckets"]["Bucket"][0];
    assert_eq!(fork["Name"], "c-fork");
    assert_eq!(fork["ForkInfo"]["Parents"][0]["BucketName"], "b-parent");
    assert_eq!(rest["ContinuationToken"], "");
    assert!(rest.get("Stats").is_none());
    let (_, forks, _) = listing(&emu, key, "OnlyForked=true").await;
    assert_eq!(forks["Buckets"]["Bucket"].as_array().unwrap().len(), 1);
    let (status, _, _) = listing(&emu, key, "max-buckets=0").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn settings_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::builder()
        .data_dir(dir.path())
        .start()
        .await
        .unwrap();
    let (id, secret) = root(&emu);
    call(
        &emu,
        (&id, &secret),
        "PUT",
        "/kept",
        &[
            ("x-tigris-regions", "ams"),
            ("x-amz-storage-class", "GLACIER"),
        ],
        "",
    )
    .await;
    patch(
        &emu,
        "kept",
        &[("x-amz-acl-public-list-objects-enabled", "true")],
        json!({"cache_control": "no-cache", "protection": {"protected": true}}),
    )
    .await;
    client(&emu)
        .create_bucket()
        .bucket("typed-kept")
        .send()
        .await
        .unwrap();
    patch(&emu, "typed-kept", &[], json!({"type": 1})).await;
    let before = metadata(&emu, "kept").await;
    emu.shutdown().await;
    let emu = Emulator::builder()
        .data_dir(dir.path())
        .start()
        .await
        .unwrap();
    let after = metadata(&emu, "kept").await;
    assert_eq!(before, after);
    assert_eq!(after["object_regions"], "ams");
    assert_eq!(after["storage_class"], "GLACIER");
    assert_eq!(after["cache_control"], "no-cache");
    assert_eq!(after["acl_list_objects"], "true");
    assert_eq!(after["protection"]["protected"], true);
    assert_eq!(metadata(&emu, "typed-kept").await["type"], 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn snapshots_turned_off_keep_their_history_and_read_again_once_back_on() {
    let emu = Emulator::start().await.unwrap();
    let s3 = client(&emu);
    s3.create_bucket().bucket("typed").send().await.unwrap();
    let put = |body: &'static str| {
        s3.put_object()
            .bucket("typed")
            .key("k")
            .body(ByteStream::from_static(body.as_bytes()))
            .send()
    };
    put("v1").await.unwrap();
    let (status, text) = patch(&emu, "typed", &[], json!({"type": 1})).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(metadata(&emu, "typed").await["type"], 1);
    let (id, secret) = root(&emu);
    let resp = common::signed_request(
        &emu,
        (&id, &secret),
        "PUT",
        "/typed",
        &[("x-tigris-snapshot", "true")],
        b"",
    )
    .await;
    assert_eq!(resp.status(), 200);
    let version = resp.headers()["x-tigris-snapshot-version"]
        .to_str()
        .unwrap()
        .to_owned();
    put("v2").await.unwrap();
    let (status, text) = patch(&emu, "typed", &[], json!({"type": 0})).await;
    assert_eq!(status, 200, "{text}");
    put("v3").await.unwrap();
    let at_snapshot = [("x-tigris-snapshot-version", version.as_str())];
    let (status, _, _) = call(&emu, (&id, &secret), "GET", "/typed/k", &at_snapshot, "").await;
    assert_eq!(status, 400, "a regular bucket serves no snapshot reads");
    patch(&emu, "typed", &[], json!({"type": 1})).await;
    let (status, _, text) = call(&emu, (&id, &secret), "GET", "/typed/k", &at_snapshot, "").await;
    assert_eq!((status, text.as_str()), (200, "v1"));
}

#[tokio::test]
async fn type_changes_tigris_refuses_change_nothing() {
    let emu = Emulator::start().await.unwrap();
    let (id, secret) = root(&emu);
    call(
        &emu,
        (&id, &secret),
        "PUT",
        "/parent",
        &[("x-tigris-enable-snapshot", "true")],
        "",
    )
    .await;
    call(
        &emu,
        (&id, &secret),
        "PUT",
        "/child",
        &[("x-tigris-fork-source-bucket", "parent")],
        "",
    )
    .await;
    for bucket in ["parent", "child"] {
        let (status, text) =
            patch(&emu, bucket, &[], json!({"type": 0, "cache_control": "x"})).await;
        assert_eq!(status, 400, "{bucket}: {text}");
        let m = metadata(&emu, bucket).await;
        assert_eq!(m["type"], 1);
        assert!(m.get("cache_control").is_none(), "{m}");
    }
    client(&emu)
        .create_bucket()
        .bucket("cold")
        .send()
        .await
        .unwrap();
    let (status, text) = patch(
        &emu,
        "cold",
        &[],
        json!({"type": 1, "storage_class": "GLACIER"}),
    )
    .await;
    assert_eq!(status, 400, "{text}");
    let m = metadata(&emu, "cold").await;
    assert_eq!(
        (m["type"].clone(), m["storage_class"].clone()),
        (json!(0), json!("STANDARD"))
    );
    let (status, text) = patch(&emu, "cold", &[], json!({"type": 2})).await;
    assert_eq!(status, 400, "{text}");
}
