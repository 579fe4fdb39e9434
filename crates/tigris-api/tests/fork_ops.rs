//! Fork listing, bucket metadata, merge and rebase on the signed transport, against the emulator.

mod common;

use aws_sdk_s3::config::Credentials;
use common::TestEnv;
use tigris_api::ErrorKind;
use tigris_core::config;
use tigris_headers::prelude::*;

fn transport(env: &TestEnv) -> tigris_api::Client {
    env.api.clone()
}

async fn fork(env: &TestEnv, name: &str, parent: &str) {
    env.s3
        .create_bucket()
        .bucket(name)
        .fork_of(&parent.parse().unwrap())
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn list_forks_pages_through_every_fork_with_its_lineage() {
    let env = TestEnv::start().await;
    env.create_snapshot_bucket("source").await;
    let version = env
        .s3
        .create_snapshot()
        .bucket("source")
        .name("v1")
        .send()
        .await
        .unwrap();
    env.s3
        .create_bucket()
        .bucket("source-0")
        .fork_of_snapshot(&"source".parse().unwrap(), &version)
        .send()
        .await
        .unwrap();
    for name in ["source-1", "source-2"] {
        fork(&env, name, "source").await;
    }
    let tigris = transport(&env);

    let first = tigris
        .list_forks()
        .bucket("source")
        .max_buckets(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.forks().len(), 2);
    assert!(first.continuation_token().is_some());

    let mut pages = tigris
        .list_forks()
        .bucket("source")
        .max_buckets(1)
        .into_paginator()
        .send();
    let mut names = Vec::new();
    while let Some(page) = pages.next().await {
        names.extend(page.unwrap().forks().iter().map(|f| f.name().to_string()));
    }
    assert_eq!(names, ["source-0", "source-1", "source-2"]);

    let forks = tigris
        .list_forks()
        .bucket("source")
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    let parent = &forks[0].parents()[0];
    assert_eq!(parent.bucket().as_str(), "source");
    assert_eq!(parent.snapshot(), Some(&version));
    assert_eq!(parent.snapshot_name(), Some("v1"));
    assert!(parent.forked_at().is_some() && parent.snapshot_created_at().is_some());
    assert!(!forks[0].has_children());
}

#[tokio::test]
async fn list_forks_of_a_bucket_without_forks_is_empty_and_of_an_unknown_one_denied() {
    let env = TestEnv::start().await;
    env.create_snapshot_bucket("alone").await;
    let tigris = transport(&env);
    let page = tigris.list_forks().bucket("alone").send().await.unwrap();
    assert!(page.forks().is_empty());
    assert_eq!(page.continuation_token(), None);
    let err = tigris
        .list_forks()
        .bucket("missing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AccessDenied, "{err}");
}

#[tokio::test]
async fn bucket_metadata_reports_type_lineage_children_and_size() {
    let env = TestEnv::start().await;
    env.create_snapshot_bucket("meta").await;
    env.put("meta", "a.txt", "hello").await;
    fork(&env, "meta-child", "meta").await;
    let tigris = transport(&env);

    let parent = tigris
        .bucket_metadata()
        .bucket("meta")
        .with_size()
        .send()
        .await
        .unwrap();
    assert!(parent.snapshots_enabled());
    assert!(parent.has_children());
    assert!(parent.fork_parents().is_empty());
    assert!(parent.regions().is_empty(), "global");
    assert_eq!(parent.storage_class(), Some("STANDARD"));
    assert_eq!(parent.size().unwrap().objects, Some(1));
    assert_eq!(parent.size().unwrap().bytes, Some(5));

    let child = tigris
        .bucket_metadata()
        .bucket("meta-child")
        .send()
        .await
        .unwrap();
    assert_eq!(child.fork_parents()[0].bucket().as_str(), "meta");
    assert_eq!(child.size(), None);

    let err = tigris
        .bucket_metadata()
        .bucket("no-such-bucket")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}

#[tokio::test]
async fn merge_fork_into_parent_applies_the_forks_changes_and_returns_a_snapshot() {
    let env = TestEnv::start().await;
    env.create_snapshot_bucket("prod").await;
    env.put("prod", "config.json", "v1").await;
    env.put("prod", "old.txt", "x").await;
    fork(&env, "prod-exp", "prod").await;
    env.put("prod-exp", "config.json", "v2").await;
    env.put("prod-exp", "new.txt", "n").await;
    env.s3
        .delete_object()
        .bucket("prod-exp")
        .key("old.txt")
        .send()
        .await
        .unwrap();

    let version = transport(&env)
        .merge_fork()
        .fork("prod-exp")
        .parent("prod")
        .send()
        .await
        .unwrap();
    assert_eq!(env.keys("prod").await, ["config.json", "new.txt"]);
    assert_eq!(env.get("prod", "config.json").await, "v2");
    let snapshots = env
        .s3
        .list_snapshots()
        .bucket("prod")
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    assert!(snapshots.iter().any(|s| s.version() == &version));
}

#[tokio::test]
async fn merge_fork_refuses_bad_input_before_any_request() {
    let env = TestEnv::start().await;
    let tigris = transport(&env);
    let before = env.requests();
    for builder in [
        tigris.merge_fork().fork("Bad_Name").parent("prod"),
        tigris.merge_fork().fork("prod-exp").parent("x"),
        tigris.merge_fork().fork("prod-exp"),
        tigris.merge_fork().fork("prod").parent("prod"),
    ] {
        let err = builder.send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
    let err = tigris.rebase_fork().fork("no").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(env.requests(), before);
}

#[tokio::test]
async fn a_merge_or_rebase_without_a_fork_names_the_missing_setter() {
    let env = TestEnv::start().await;
    let tigris = transport(&env);
    let before = env.requests();
    let merge = tigris.merge_fork().parent("prod").send().await.unwrap_err();
    let rebase = tigris.rebase_fork().send().await.unwrap_err();
    for err in [merge, rebase] {
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(
            err.to_string()
                .ends_with("no fork was given: set it with .fork(..)"),
            "{err}"
        );
    }
    assert_eq!(env.requests(), before);
}

#[tokio::test]
async fn merge_into_a_bucket_that_is_not_the_parent_is_refused() {
    let env = TestEnv::start().await;
    env.create_snapshot_bucket("prod").await;
    env.create_snapshot_bucket("staging").await;
    fork(&env, "prod-exp", "prod").await;
    let err = transport(&env)
        .merge_fork()
        .fork("prod-exp")
        .parent("staging")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert_eq!(err.code(), Some("InvalidArgument"));
}

#[tokio::test]
async fn rebase_fork_moves_it_onto_the_parents_present() {
    let env = TestEnv::start().await;
    env.create_snapshot_bucket("base").await;
    env.put("base", "shared.txt", "old").await;
    fork(&env, "base-work", "base").await;
    env.put("base-work", "mine.txt", "m").await;
    env.put("base", "shared.txt", "new").await;
    let tigris = transport(&env);

    let version = tigris.rebase_fork().fork("base-work").send().await.unwrap();
    assert_eq!(env.get("base-work", "shared.txt").await, "new");
    assert_eq!(env.get("base-work", "mine.txt").await, "m");
    let info = env
        .s3
        .bucket_info()
        .bucket("base-work")
        .send()
        .await
        .unwrap();
    assert_eq!(info.fork_snapshot(), Some(&version));
    let forks = tigris.list_forks().bucket("base").send().await.unwrap();
    assert_eq!(forks.forks()[0].snapshot(), Some(&version));
}

/// A key with one policy attached (the key id is the user name, as on Tigris), and a
/// transport signing with it.
async fn scoped_transport(
    env: &tigris_test_support::TestEnv,
    document: &str,
) -> tigris_api::Client {
    let key = env.iam.create_access_key().send().await.unwrap();
    let key = key.access_key().unwrap();
    let policy = env
        .iam
        .create_policy()
        .policy_name(format!("p-{}", key.access_key_id()))
        .policy_document(document)
        .send()
        .await
        .unwrap();
    env.iam
        .attach_user_policy()
        .user_name(key.access_key_id())
        .policy_arn(policy.policy().unwrap().arn().unwrap())
        .send()
        .await
        .unwrap();
    let sdk = config::builder()
        .endpoint_url(env.emu.endpoint())
        .credentials(Credentials::new(
            key.access_key_id(),
            key.secret_access_key(),
            None,
            None,
            "test",
        ))
        .build();
    tigris_api::Client::new(&sdk).unwrap()
}

#[tokio::test]
async fn a_key_scoped_to_the_fork_is_denied_the_merge_and_the_parents_fork_listing() {
    let env = tigris_test_support::TestEnv::start().await;
    env.s3
        .create_bucket()
        .bucket("prod")
        .enable_snapshots()
        .send()
        .await
        .unwrap();
    env.s3
        .create_bucket()
        .bucket("prod-exp")
        .fork_of(&"prod".parse().unwrap())
        .send()
        .await
        .unwrap();
    let fork_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*",
        "Resource":["arn:aws:s3:::prod-exp","arn:aws:s3:::prod-exp/*"]}]}"#;
    let tigris = scoped_transport(&env, fork_only).await;
    let err = tigris
        .merge_fork()
        .fork("prod-exp")
        .parent("prod")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AccessDenied, "{err}");
    let err = tigris.list_forks().bucket("prod").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AccessDenied, "{err}");
    tigris
        .bucket_metadata()
        .bucket("prod-exp")
        .send()
        .await
        .unwrap();

    let merger = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":["s3:PutObject","s3:DeleteObject"],"Resource":"arn:aws:s3:::prod/*"},
        {"Effect":"Allow","Action":"s3:CreateBucket","Resource":"arn:aws:s3:::prod"},
        {"Effect":"Allow","Action":["s3:ListBucket","s3:GetObject"],
         "Resource":["arn:aws:s3:::prod-exp","arn:aws:s3:::prod-exp/*"]}]}"#;
    let tigris = scoped_transport(&env, merger).await;
    tigris
        .merge_fork()
        .fork("prod-exp")
        .parent("prod")
        .send()
        .await
        .unwrap();
}
