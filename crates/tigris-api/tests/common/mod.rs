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
}

pub(crate) use tigris_test_support::RawAnswer;

/// One HTTP/1.1 request with no credentials (a browser, or `curl`), to a full `http://` URL.
pub(crate) async fn raw(
    method: &'static str,
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> RawAnswer {
    tigris_test_support::unsigned_request(method, url, headers, body)
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}
