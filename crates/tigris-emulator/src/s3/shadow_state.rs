//! What the shared state keeps for shadow buckets (`s3/shadow.rs`): the HTTP client that
//! reaches them, and what each bucket copied in since the emulator started.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// Objects copied in from a bucket's shadow, and copies that failed; shown in `?metadata` as
/// `shadow_bucket_migration` (the emulator's own field: Tigris documents none).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Progress {
    pub(crate) copied: u64,
    pub(crate) bytes: u64,
    pub(crate) failed: u64,
}

/// The client that reaches shadows, and each bucket's [`Progress`] since the emulator started.
#[derive(Debug, Default)]
pub(crate) struct ShadowState {
    client: OnceLock<Client<HttpConnector, Full<Bytes>>>,
    progress: Mutex<HashMap<String, Progress>>,
}

impl ShadowState {
    pub(super) fn client(&self) -> &Client<HttpConnector, Full<Bytes>> {
        self.client.get_or_init(|| {
            Client::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(30))
                .build_http()
        })
    }

    pub(crate) fn progress(&self, bucket: &str) -> Progress {
        self.progress
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(bucket)
            .copied()
            .unwrap_or_default()
    }

    pub(super) fn record(&self, bucket: &str, f: impl FnOnce(&mut Progress)) {
        f(self
            .progress
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(bucket.to_owned())
            .or_default());
    }
}
