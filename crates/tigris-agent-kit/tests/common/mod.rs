//! Shared set-up: an in-process emulator (SigV4 verified, IAM policies enforced, faults
//! injectable), a kit built the way a user builds one, and root clients to check what is left.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_types::SdkConfig;
use tigris_agent_kit::{AgentKit, BucketName, ScopedAccessKey};
use tigris_emulator::Emulator;
use tigris_headers::prelude::*;
use tigris_test_support::TestEnv;

/// A running emulator, a kit on it, and root clients to inspect it.
pub(crate) struct Env {
    pub(crate) emu: Emulator,
    pub(crate) sdk: SdkConfig,
    pub(crate) kit: AgentKit,
    /// S3 as root, to set up and to check what exists.
    pub(crate) s3: aws_sdk_s3::Client,
    /// IAM as root, to check which keys and policies exist.
    pub(crate) iam: aws_sdk_iam::Client,
    /// Fork `CreateBucket` requests in flight, as seen by the HTTP client.
    pub(crate) forks_in_flight: Arc<InFlight>,
}

impl Env {
    /// Retries off, so that one injected fault is one failed step.
    pub(crate) async fn start() -> Self {
        Self::start_with(|builder| builder).await
    }

    pub(crate) async fn start_with(
        configure: impl FnOnce(tigris_agent_kit::AgentKitBuilder) -> tigris_agent_kit::AgentKitBuilder
        + 'static,
    ) -> Self {
        Self::start_with_retry(RetryConfig::disabled(), configure).await
    }

    /// With the SDK's retries configured by `retry`.
    pub(crate) async fn start_with_retry(
        retry: RetryConfig,
        configure: impl FnOnce(tigris_agent_kit::AgentKitBuilder) -> tigris_agent_kit::AgentKitBuilder
        + 'static,
    ) -> Self {
        let forks_in_flight = Arc::new(InFlight::default());
        let counter = Arc::clone(&forks_in_flight);
        let TestEnv {
            emu,
            sdk,
            s3,
            iam,
            kit,
        } = TestEnv::builder()
            .retry(retry)
            .wrap_http_client(move |inner| {
                SharedHttpClient::new(CountingClient {
                    inner,
                    in_flight: counter,
                })
            })
            .configure_kit(configure)
            .start()
            .await;
        Self {
            s3,
            emu,
            sdk,
            kit,
            iam,
            forks_in_flight,
        }
    }

    /// How many authenticated requests reached the emulator so far.
    pub(crate) fn requests(&self) -> u64 {
        self.emu.faults().total()
    }

    pub(crate) fn fail_next(&self, operation: &str, status: u16, code: &str) {
        self.emu.faults().fail_next(operation, 1, status, code);
    }

    /// Every bucket, by name.
    pub(crate) async fn buckets(&self) -> Vec<String> {
        let out = self.s3.list_buckets().send().await.expect("list buckets");
        out.buckets()
            .iter()
            .filter_map(|b| b.name().map(str::to_owned))
            .collect()
    }

    /// Every IAM access key id (the root key is not an IAM key).
    pub(crate) async fn access_keys(&self) -> Vec<String> {
        let out = self
            .iam
            .list_access_keys()
            .send()
            .await
            .expect("list access keys");
        out.access_key_metadata()
            .iter()
            .filter_map(|k| k.access_key_id().map(str::to_owned))
            .collect()
    }

    /// Every IAM policy ARN.
    pub(crate) async fn policies(&self) -> Vec<String> {
        let out = self
            .iam
            .list_policies()
            .send()
            .await
            .expect("list policies");
        out.policies()
            .iter()
            .filter_map(|p| p.arn().map(str::to_owned))
            .collect()
    }

    /// Asserts that exactly `buckets` exist and no IAM key or policy does.
    pub(crate) async fn assert_only(&self, buckets: &[&str]) {
        let mut expected: Vec<String> = buckets.iter().map(|b| (*b).to_owned()).collect();
        expected.sort();
        assert_eq!(self.buckets().await, expected, "buckets");
        assert_eq!(
            self.access_keys().await,
            Vec::<String>::new(),
            "access keys"
        );
        assert_eq!(self.policies().await, Vec::<String>::new(), "policies");
    }

    /// The snapshot versions of `bucket`.
    pub(crate) async fn snapshots(&self, bucket: &str) -> Vec<String> {
        self.s3
            .list_snapshots()
            .bucket(bucket)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .expect("list snapshots")
            .iter()
            .map(|s| s.version().to_string())
            .collect()
    }

    /// Creates a bucket with snapshots enabled, as root.
    pub(crate) async fn base(&self, name: &str) -> BucketName {
        self.s3
            .create_bucket()
            .bucket(name)
            .enable_snapshots()
            .send()
            .await
            .expect("create base bucket");
        name.parse().unwrap()
    }

    pub(crate) async fn put(&self, bucket: &str, key: &str, body: &str) {
        put_with(&self.s3, bucket, key, body)
            .await
            .expect("put object as root");
    }

    /// The object's body, or `None` if it does not exist.
    pub(crate) async fn get(&self, bucket: &str, key: &str) -> Option<String> {
        match self.s3.get_object().bucket(bucket).key(key).send().await {
            Ok(out) => {
                let bytes = out.body.collect().await.expect("read body").into_bytes();
                Some(String::from_utf8(bytes.to_vec()).expect("utf-8 body"))
            }
            Err(err) if err.code() == Some("NoSuchKey") => None,
            Err(err) => panic!("get {bucket}/{key}: {err:?}"),
        }
    }

    /// An S3 client that signs with `key`, as an agent given those credentials would.
    pub(crate) fn s3_as(&self, key: &ScopedAccessKey) -> aws_sdk_s3::Client {
        tigris_test_support::s3_signed_as(&self.emu, key.to_credentials())
    }
}

/// Puts an object with `s3`, returning the error code on failure.
pub(crate) async fn put_with(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    body: &str,
) -> Result<(), String> {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body.as_bytes().to_vec()))
        .send()
        .await
        .map(drop)
        .map_err(|e| e.code().unwrap_or("no code").to_owned())
}

/// Counts requests in flight and remembers the most at once.
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    now: AtomicUsize,
    max: AtomicUsize,
    total: AtomicUsize,
}

impl InFlight {
    pub(crate) fn max(&self) -> usize {
        self.max.load(Ordering::SeqCst)
    }

    pub(crate) fn total(&self) -> usize {
        self.total.load(Ordering::SeqCst)
    }

    fn enter(self: &Arc<Self>) -> InFlightGuard {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(now, Ordering::SeqCst);
        self.total.fetch_add(1, Ordering::SeqCst);
        InFlightGuard(Arc::clone(self))
    }
}

struct InFlightGuard(Arc<InFlight>);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// An HTTP client that counts fork requests (`CreateBucket` with
/// `X-Tigris-Fork-Source-Bucket`) while they are on the wire.
#[derive(Debug, Clone)]
struct CountingClient {
    inner: SharedHttpClient,
    in_flight: Arc<InFlight>,
}

impl HttpClient for CountingClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(CountingConnector {
            inner: self.inner.http_connector(settings, components),
            in_flight: Arc::clone(&self.in_flight),
        })
    }
}

#[derive(Debug)]
struct CountingConnector {
    inner: SharedHttpConnector,
    in_flight: Arc<InFlight>,
}

impl HttpConnector for CountingConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let is_fork = request
            .headers()
            .get("x-tigris-fork-source-bucket")
            .is_some();
        let in_flight = Arc::clone(&self.in_flight);
        let response = self.inner.call(request);
        HttpConnectorFuture::new(async move {
            let _guard = is_fork.then(|| in_flight.enter());
            response.await
        })
    }
}
