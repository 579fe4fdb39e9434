//! Shared set-up: an in-process emulator (SigV4 verified on every request) and clients built
//! with `tigris_core::config::builder()`.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::ops::Deref;
use std::sync::{Arc, Mutex};

use aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_s3::error::BoxError;
use tigris_headers::prelude::*;
use tigris_headers::{BucketName, SnapshotVersion};

/// tigris-test-support's environment, with the SDK's standard retries as a user has, and the
/// helpers this crate's tests add to it.
pub(crate) struct TestEnv {
    env: tigris_test_support::TestEnv,
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
        Self { env }
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

    /// The live body of `key`, or `None` when it does not exist.
    pub(crate) async fn try_get(&self, bucket: &str, key: &str) -> Option<String> {
        match self.s3.get_object().bucket(bucket).key(key).send().await {
            Ok(out) => Some(tigris_test_support::body_string(out.body).await),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => None,
            Err(e) => panic!("get {bucket}/{key}: {e:?}"),
        }
    }

    pub(crate) async fn bucket_exists(&self, bucket: &str) -> bool {
        match self.s3.head_bucket().bucket(bucket).send().await {
            Ok(_) => true,
            Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => false,
            Err(e) => panic!("head {bucket}: {e:?}"),
        }
    }
}

/// What [`Tamper`] saw of its header when the request left the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sighting {
    /// The header's value after signing.
    pub(crate) value: String,
    /// Whether the `Authorization` header lists it among `SignedHeaders`.
    pub(crate) listed_as_signed: bool,
}

/// Changes one header *after* signing (`modify_before_transmit`), as a proxy would; if the
/// header was signed, the server must reject the request.
#[derive(Debug, Clone)]
pub(crate) struct Tamper {
    header: &'static str,
    replacement: Option<&'static str>,
    sightings: Arc<Mutex<Vec<Sighting>>>,
}

impl Tamper {
    /// Removes `header` from signed requests.
    pub(crate) fn remove(header: &'static str) -> Self {
        Self {
            header,
            replacement: None,
            sightings: Arc::default(),
        }
    }

    /// Replaces the value of `header` in signed requests.
    pub(crate) fn replace(header: &'static str, replacement: &'static str) -> Self {
        Self {
            header,
            replacement: Some(replacement),
            sightings: Arc::default(),
        }
    }

    /// Every time the header was seen, in order.
    pub(crate) fn sightings(&self) -> Vec<Sighting> {
        self.sightings.lock().unwrap().clone()
    }
}

impl Intercept for Tamper {
    fn name(&self) -> &'static str {
        "TestTamper"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let headers = context.request_mut().headers_mut();
        let Some(value) = headers.get(self.header).map(str::to_owned) else {
            return Ok(());
        };
        let listed_as_signed = headers
            .get("authorization")
            .and_then(|auth| auth.split("SignedHeaders=").nth(1))
            .and_then(|rest| rest.split(',').next())
            .is_some_and(|signed| signed.split(';').any(|h| h == self.header));
        self.sightings.lock().unwrap().push(Sighting {
            value,
            listed_as_signed,
        });
        match self.replacement {
            None => {
                headers.remove(self.header);
            }
            Some(replacement) => {
                headers.insert(self.header, replacement);
            }
        }
        Ok(())
    }
}
