//! The end-to-end suite's harness: the same tests against the in-process emulator (default) or
//! live Tigris (`TIGRIS_IT_LIVE=1` with credentials in the environment, as `cargo xtask
//! integration --live` sets up).
//!
//! Every resource a test makes is named with the run id (`TIGRIS_IT_RUN_ID`, or a fresh one) so
//! that a crashed run can be swept: `cargo run -p tigris-integration-tests --bin sweep -- RUN_ID`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_types::SdkConfig;
use tigris_core::BucketName;
use tigris_core::config::{self, s3_client};
use tigris_emulator::Emulator;

/// Set to `1` to run against live Tigris.
pub const LIVE_VAR: &str = "TIGRIS_IT_LIVE";
/// The run id prefixing every resource; made up when unset.
pub const RUN_ID_VAR: &str = "TIGRIS_IT_RUN_ID";
/// What every run id starts with, so the sweeper never touches anything else.
pub const RUN_PREFIX: &str = "tigris-it-";

/// The variables a live run needs; their values are never printed.
pub const LIVE_CREDENTIALS: [&str; 2] = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];

/// A fresh run id: `tigris-it-` and 8 hex digits.
pub fn new_run_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mixed = (nanos as u64) ^ (u64::from(std::process::id()) << 32);
    format!(
        "{RUN_PREFIX}{:08x}",
        mixed.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32
    )
}

/// Where the suite runs, and the configuration to reach it.
pub struct Target {
    sdk: SdkConfig,
    iam_endpoint: String,
    run_id: String,
    emulator: Option<Emulator>,
    names: AtomicU32,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("live", &self.is_live())
            .field("run_id", &self.run_id)
            .finish()
    }
}

impl Target {
    /// The emulator, or live Tigris when `TIGRIS_IT_LIVE=1`.
    ///
    /// # Panics
    /// When live is asked for but credentials are missing (the xtask checks this first and
    /// skips with a message instead), or the emulator cannot start.
    pub async fn new() -> Self {
        let run_id = std::env::var(RUN_ID_VAR).unwrap_or_else(|_| new_run_id());
        assert!(
            run_id.starts_with(RUN_PREFIX),
            "{RUN_ID_VAR} must start with {RUN_PREFIX}"
        );
        if std::env::var(LIVE_VAR).is_ok_and(|v| v == "1") {
            let missing: Vec<_> = LIVE_CREDENTIALS
                .iter()
                .filter(|v| std::env::var(v).is_err())
                .collect();
            assert!(missing.is_empty(), "live run without {missing:?}");
            let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
            let endpoint = env("AWS_ENDPOINT_URL_S3")
                .unwrap_or_else(|| tigris_core::config::DEFAULT_ENDPOINT.into());
            let iam_endpoint = env("TIGRIS_IAM_ENDPOINT")
                .unwrap_or_else(|| tigris_iam::DEFAULT_IAM_ENDPOINT.into());
            let creds = Credentials::new(
                env("AWS_ACCESS_KEY_ID").unwrap_or_default(),
                env("AWS_SECRET_ACCESS_KEY").unwrap_or_default(),
                env("AWS_SESSION_TOKEN"),
                None,
                "environment",
            );
            let sdk = config::builder()
                .endpoint_url(endpoint)
                .credentials(creds)
                .build();
            return Self {
                sdk,
                iam_endpoint,
                run_id,
                emulator: None,
                names: AtomicU32::new(0),
            };
        }
        let emulator = Emulator::start().await.expect("start the emulator");
        let sdk = tigris_test_support::root_sdk_config(&emulator, RetryConfig::standard());
        let iam_endpoint = emulator.iam_endpoint();
        Self {
            sdk,
            iam_endpoint,
            run_id,
            emulator: Some(emulator),
            names: AtomicU32::new(0),
        }
    }

    /// Whether this is live Tigris.
    pub fn is_live(&self) -> bool {
        self.emulator.is_none()
    }

    /// The emulator, for tests that inject faults; `None` live.
    pub fn emulator(&self) -> Option<&Emulator> {
        self.emulator.as_ref()
    }

    /// The SDK configuration (credentials, endpoint, region).
    pub fn sdk(&self) -> &SdkConfig {
        &self.sdk
    }

    /// The IAM endpoint.
    pub fn iam_endpoint(&self) -> &str {
        &self.iam_endpoint
    }

    /// An agent kit on this target.
    ///
    /// # Panics
    /// When the kit cannot be built (no credentials).
    pub fn kit(&self) -> tigris_agent_kit::AgentKit {
        tigris_agent_kit::AgentKit::builder(&self.sdk)
            .iam_endpoint(&self.iam_endpoint)
            .build()
            .expect("agent kit")
    }

    /// An S3 client signed with `key` instead of the target's own credentials.
    pub fn s3_as(&self, key: &tigris_iam::ScopedAccessKey) -> aws_sdk_s3::Client {
        let sdk = self
            .sdk
            .to_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    key.to_credentials(),
                ),
            )
            .build();
        s3_client(&sdk)
    }

    /// An S3 client configured for Tigris.
    pub fn s3(&self) -> aws_sdk_s3::Client {
        s3_client(&self.sdk)
    }

    /// The run id every name starts with.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// A bucket name unique in this run: `{run_id}-{label}-{n}`.
    pub fn bucket(&self, label: &str) -> BucketName {
        let n = self.names.fetch_add(1, Ordering::Relaxed);
        BucketName::new(format!("{}-{label}-{n}", self.run_id))
            .expect("test bucket names are valid")
    }
}

/// Compiles the workspace README's example as a doctest (here, in a crate that is not
/// published, so that no published crate reads a file outside itself).
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct WorkspaceReadmeDoctests;
