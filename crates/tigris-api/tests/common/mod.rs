//! The shared set-up for this crate's tests: tigris-test-support's environment with the SDK's
//! standard retries (as a user has), a `tigris_api::Client` on it, and small S3 helpers.
#![allow(dead_code, unreachable_pub)]

use std::ops::Deref;

use aws_sdk_s3::config::retry::RetryConfig;
use tigris_headers::prelude::*;
use tigris_headers::{BucketName, SnapshotVersion};

pub(crate) struct TestEnv {
    env: tigris_test_support::TestEnv,
    /// The client under test, as root.
    pub(crate) api: tigris_api::Client,
}

impl Deref for TestEnv {
    type Target = tigris_test_support::TestEnv;

    fn deref(&self) -> &Self::Target {
        &self.env
    }
}

impl TestEnv {
    pub(crate) async fn start() -> Self {
        let env = tigris_test_support::TestEnv::builder()
            .retry(RetryConfig::standard())
            .start()
            .await;
        let api = tigris_api::Client::new(&env.sdk).expect("the API client builds");
        Self { env, api }
    }

    pub(crate) async fn create_bucket(&self, bucket: &str) {
        self.s3
            .create_bucket()
            .bucket(bucket)
            .send()
            .await
            .expect("create bucket");
    }

    pub(crate) async fn create_snapshot_bucket(&self, bucket: &str) -> BucketName {
        self.s3
            .create_bucket()
            .bucket(bucket)
            .enable_snapshots()
            .send()
            .await
            .expect("create snapshot bucket");
        bucket.parse().expect("valid bucket name")
    }

    pub(crate) async fn snapshot(&self, bucket: &str) -> SnapshotVersion {
        self.s3
            .create_snapshot()
            .bucket(bucket)
            .send()
            .await
            .expect("create snapshot")
    }

    pub(crate) async fn put(&self, bucket: &str, key: &str, body: &str) {
        self.s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(body.as_bytes().to_vec().into())
            .send()
            .await
            .expect("put object");
    }

    pub(crate) async fn get(&self, bucket: &str, key: &str) -> String {
        let out = self
            .s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .expect("get object");
        let bytes = out.body.collect().await.expect("read body").into_bytes();
        String::from_utf8(bytes.to_vec()).expect("utf-8 body")
    }

    pub(crate) async fn keys(&self, bucket: &str) -> Vec<String> {
        let out = self
            .s3
            .list_objects_v2()
            .bucket(bucket)
            .send()
            .await
            .expect("list objects");
        out.contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_owned))
            .collect()
    }
}
