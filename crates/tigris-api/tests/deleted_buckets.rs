//! Soft delete's endpoints outside the S3 API, against the emulator: the setting on and off
//! through the one settings update, deleted buckets listed (page by page and item by item) and
//! restored; bad input is a typed error before any request.

use std::time::Duration;

use tigris_api::ErrorKind;
use tigris_api::update_bucket::SoftDeleteSetting;
use tigris_headers::prelude::*;
use tigris_headers::soft_delete::Retention;

mod common;
use common::TestEnv;

async fn put(env: &TestEnv, bucket: &str, key: &str, body: &str) {
    env.put(bucket, key, body).await;
}

async fn read(env: &TestEnv, bucket: &str, key: &str) -> Option<String> {
    let out = env
        .s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .ok()?;
    let bytes = out.body.collect().await.unwrap().into_bytes();
    Some(String::from_utf8(bytes.to_vec()).unwrap())
}

async fn delete(env: &TestEnv, bucket: &str, key: &str) {
    env.s3
        .delete_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
}

/// The keys of every deleted version.
async fn deleted_versions(env: &TestEnv, bucket: &str) -> Vec<String> {
    env.s3
        .list_object_versions()
        .bucket(bucket)
        .soft_deleted()
        .send()
        .await
        .unwrap()
        .versions()
        .iter()
        .map(|v| v.key().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_bucket_created_with_soft_delete_reads_back_its_retention() {
    let env = TestEnv::start().await;
    env.s3
        .create_bucket()
        .bucket("keeps")
        .enable_soft_delete(Retention::days(10).unwrap())
        .send()
        .await
        .unwrap();
    let setting = env
        .api
        .bucket_metadata()
        .bucket("keeps")
        .send()
        .await
        .unwrap()
        .soft_delete();
    assert!(setting.enabled);
    assert_eq!(setting.retention_days, Some(10));
    // The retention is the one the emulator applies: a delete is kept for 10 days.
    put(&env, "keeps", "a", "A").await;
    delete(&env, "keeps", "a").await;
    assert_eq!(deleted_versions(&env, "keeps").await, ["a"]);
    env.emu.advance_clock(Duration::from_secs(10 * 86_400 + 1));
    assert!(deleted_versions(&env, "keeps").await.is_empty());
}

#[tokio::test]
async fn soft_delete_is_turned_on_and_off_later() {
    let env = TestEnv::start().await;
    env.create_bucket("later").await;
    let tigris = &env.api;
    tigris
        .update_bucket()
        .bucket("later")
        .soft_delete(SoftDeleteSetting::Enabled { retention_days: 21 })
        .send()
        .await
        .unwrap();
    let m = tigris
        .bucket_metadata()
        .bucket("later")
        .send()
        .await
        .unwrap();
    assert_eq!(m.soft_delete().retention_days, Some(21));
    put(&env, "later", "k", "v").await;
    delete(&env, "later", "k").await;
    assert_eq!(deleted_versions(&env, "later").await.len(), 1);

    tigris
        .update_bucket()
        .bucket("later")
        .soft_delete(SoftDeleteSetting::Disabled)
        .send()
        .await
        .unwrap();
    assert!(
        !tigris
            .bucket_metadata()
            .bucket("later")
            .send()
            .await
            .unwrap()
            .soft_delete()
            .enabled
    );
    put(&env, "later", "k2", "v").await;
    delete(&env, "later", "k2").await;
    assert_eq!(deleted_versions(&env, "later").await.len(), 1);
}

#[tokio::test]
async fn bad_soft_delete_input_is_refused_before_any_request() {
    let env = TestEnv::start().await;
    let tigris = &env.api;
    let before = env.requests();
    let cases = [
        tigris
            .update_bucket()
            .bucket("later")
            .soft_delete(SoftDeleteSetting::Enabled { retention_days: 6 }),
        tigris
            .update_bucket()
            .bucket("later")
            .soft_delete(SoftDeleteSetting::Enabled { retention_days: 91 }),
        tigris
            .update_bucket()
            .bucket("Bad_Name")
            .soft_delete(SoftDeleteSetting::Disabled),
        tigris
            .update_bucket()
            .soft_delete(SoftDeleteSetting::Disabled),
    ];
    for case in cases {
        let err = case.send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
    for err in [
        tigris
            .restore_bucket()
            .bucket("x")
            .send()
            .await
            .unwrap_err(),
        tigris
            .list_deleted_buckets()
            .max_buckets(0)
            .send()
            .await
            .unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
    assert_eq!(env.requests(), before, "nothing reached the emulator");
    assert_eq!(env.emu.faults().count("PatchBucket"), 0);
}

#[tokio::test]
async fn a_deleted_bucket_is_listed_and_restored_with_its_objects() {
    let env = TestEnv::start().await;
    env.s3
        .create_bucket()
        .bucket("whole")
        .enable_soft_delete(Retention::days(30).unwrap())
        .send()
        .await
        .unwrap();
    put(&env, "whole", "k", "kept").await;
    env.s3
        .delete_bucket()
        .bucket("whole")
        .force_delete()
        .send()
        .await
        .unwrap();
    let tigris = &env.api;
    let deleted = tigris
        .list_deleted_buckets()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].name(), "whole");
    assert_eq!(deleted[0].retention_days(), Some(30));
    assert!(deleted[0].created().is_some() && deleted[0].deleted().is_some());

    tigris
        .restore_bucket()
        .bucket("whole")
        .send()
        .await
        .unwrap();
    assert_eq!(read(&env, "whole", "k").await.as_deref(), Some("kept"));
    let again = tigris
        .restore_bucket()
        .bucket("whole")
        .send()
        .await
        .unwrap_err();
    assert_eq!(again.code(), Some("InvalidArgument"));
    let none = tigris
        .restore_bucket()
        .bucket("never-was")
        .send()
        .await
        .unwrap_err();
    assert_eq!(none.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn deleted_bucket_pages_follow_continuation_tokens() {
    let env = TestEnv::start().await;
    for name in ["del-a", "del-b", "del-c"] {
        env.s3
            .create_bucket()
            .bucket(name)
            .enable_soft_delete(Retention::default())
            .send()
            .await
            .unwrap();
        env.s3.delete_bucket().bucket(name).send().await.unwrap();
    }
    let tigris = &env.api;
    let first = tigris
        .list_deleted_buckets()
        .max_buckets(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.buckets().len(), 2);
    let token = first.continuation_token().unwrap().to_owned();
    let all = tigris
        .list_deleted_buckets()
        .max_buckets(2)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    let names: Vec<_> = all.iter().map(|b| b.name()).collect();
    assert_eq!(names, ["del-a", "del-b", "del-c"]);
    let rest = tigris
        .list_deleted_buckets()
        .continuation_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(rest.buckets()[0].name(), "del-c");
}
