//! [`AgentKit`], the shared context every workflow starts from.

use std::fmt;
use std::sync::Arc;

use aws_types::SdkConfig;
use tigris_core::BucketName;
use tigris_iam::TigrisIam;
use tigris_notify::{NotificationConfig, Notifications, SignedTransport};

use crate::error::{Error, Operation, Result, Step};

/// How many forks [`create_forks`](AgentKit::create_forks) makes (and tears down) at once,
/// unless [`AgentKitBuilder::fork_concurrency`] says otherwise.
///
/// 32, so that a set of up to 32 forks is made in one wave: the snapshot, then every fork at
/// once, two round trips in all. Measured with `cargo run --release -p tigris-bench --bin
/// forks` (20 ms per request): `create_forks(32)` takes 5 waves at a concurrency of 8 and
/// one at 32: 114 ms at 8 (2.85x the 40 ms floor), 49 ms at 32 (1.22x), no better at 64
/// (see `docs/benchmarks.md`, forks section). Each fork is one `CreateBucket`
/// (plus three IAM calls with credentials), a small request, so 32 in flight stays well
/// within what one client connection pool and Tigris handle.
pub const DEFAULT_FORK_CONCURRENCY: usize = 32;

/// The Tigris clients the kit's workflows share: S3 (`aws-sdk-s3`), IAM ([`TigrisIam`]) and the
/// signed transport for notifications ([`Notifications`]), all built once from one
/// [`SdkConfig`].
///
/// Cheap to clone (an `Arc`): clones share the clients and their connection pools. The handles
/// it returns ([`Workspace`](crate::Workspace), [`ForkSet`](crate::ForkSet)) hold a clone, so they can tear
/// themselves down.
///
/// ```no_run
/// # async fn demo(sdk: aws_types::SdkConfig) -> Result<(), tigris_agent_kit::Error> {
/// use tigris_agent_kit::AgentKit;
///
/// let kit = AgentKit::builder(&sdk).fork_concurrency(16).build()?;
/// let forks = kit.create_forks().base("datasets").count(32).send().await?;
/// # let _ = forks;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AgentKit {
    inner: Arc<Inner>,
}

struct Inner {
    s3: aws_sdk_s3::Client,
    api: tigris_api::Client,
    iam: TigrisIam,
    notifications: Notifications,
    fork_concurrency: usize,
}

impl fmt::Debug for AgentKit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The clients hold the caller's credentials provider: show only where requests go.
        let Inner {
            s3: _,
            api: _,
            iam,
            notifications,
            fork_concurrency,
        } = &*self.inner;
        f.debug_struct("AgentKit")
            .field("endpoint", &notifications.transport().endpoint())
            .field("iam_endpoint", &iam.endpoint())
            .field("fork_concurrency", fork_concurrency)
            .finish_non_exhaustive()
    }
}

impl AgentKit {
    /// A kit with the default settings; see [`AgentKitBuilder`].
    ///
    /// # Errors
    /// As [`AgentKitBuilder::build`].
    pub fn new(sdk: &SdkConfig) -> Result<Self> {
        Self::builder(sdk).build()
    }

    /// Starts a kit from `sdk`, the same config your S3 client is built from (for Tigris, from
    /// [`tigris_core::config::builder`]).
    pub fn builder(sdk: &SdkConfig) -> AgentKitBuilder {
        AgentKitBuilder {
            sdk: sdk.clone(),
            iam_endpoint: None,
            fork_concurrency: DEFAULT_FORK_CONCURRENCY,
            transport: None,
        }
    }

    /// The S3 client, for reading and writing objects in workspaces and forks.
    pub fn s3(&self) -> &aws_sdk_s3::Client {
        &self.inner.s3
    }

    /// The IAM client scoped credentials are made with.
    pub fn iam(&self) -> &TigrisIam {
        &self.inner.iam
    }

    /// The client for Tigris's own endpoints (fork listing, merge, bundles, bucket settings),
    /// on the same signed transport as [`notifications`](Self::notifications).
    pub fn api(&self) -> &tigris_api::Client {
        &self.inner.api
    }

    /// The notifications client.
    pub fn notifications(&self) -> &Notifications {
        &self.inner.notifications
    }

    /// How many forks are created or torn down at once.
    pub fn fork_concurrency(&self) -> usize {
        self.inner.fork_concurrency
    }

    /// Makes Tigris POST an event to the config's webhook for every matching object change in
    /// the bucket of `target` (a [`Workspace`](crate::Workspace), a [`Fork`](crate::Fork) or a [`BucketName`]), replacing its
    /// previous notification settings.
    ///
    /// The config was validated when it was built (URL scheme and host, token or basic auth),
    /// so an invalid one never gets here.
    ///
    /// ```no_run
    /// # async fn demo(kit: tigris_agent_kit::AgentKit, workspace: tigris_agent_kit::Workspace)
    /// # -> Result<(), tigris_agent_kit::Error> {
    /// use tigris_agent_kit::NotificationConfig;
    ///
    /// let config = NotificationConfig::builder("https://agents.example.com/hook")
    ///     .filter(r#"WHERE `key` REGEXP "^results/""#)
    ///     .token("a-long-random-token")
    ///     .build()?;
    /// kit.set_notifications(&workspace, &config).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for an unknown bucket;
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when Tigris refuses the
    /// filter; otherwise the service's or the transport's failure.
    #[tracing::instrument(skip_all, fields(bucket = %target.bucket()))]
    pub async fn set_notifications<T>(&self, target: &T, config: &NotificationConfig) -> Result<()>
    where
        T: AsBucket + ?Sized,
    {
        let bucket = target.bucket();
        self.inner
            .notifications
            .set(bucket, config)
            .await
            .map_err(|e| {
                let operation = Operation::SetNotifications {
                    bucket: bucket.to_string(),
                };
                Error::from_notify(operation, Some(Step::SetNotifications), e)
            })
    }

    /// Removes the notification settings of the bucket of `target`: Tigris stops calling the
    /// webhook.
    ///
    /// # Errors
    /// As [`set_notifications`](Self::set_notifications).
    #[tracing::instrument(skip_all, fields(bucket = %target.bucket()))]
    pub async fn clear_notifications<T>(&self, target: &T) -> Result<()>
    where
        T: AsBucket + ?Sized,
    {
        let bucket = target.bucket();
        self.inner.notifications.clear(bucket).await.map_err(|e| {
            let operation = Operation::ClearNotifications {
                bucket: bucket.to_string(),
            };
            Error::from_notify(operation, Some(Step::ClearNotifications), e)
        })
    }
}

/// Configures an [`AgentKit`].
///
/// - S3 client: [`tigris_core::config::s3_client`] of the `SdkConfig` (path-style,
///   checksums only when required);
/// - IAM: [`TigrisIam`] with the `SdkConfig`'s credentials, at
///   [`iam_endpoint`](Self::iam_endpoint) if set, else as [`tigris_iam::TigrisIamBuilder`]
///   resolves it (`$TIGRIS_IAM_ENDPOINT`, else `https://iam.storageapi.dev`);
/// - notifications: a [`SignedTransport`] on the `SdkConfig`'s endpoint, unless
///   [`signed_transport`](Self::signed_transport) gives one;
/// - [`fork_concurrency`](Self::fork_concurrency): [`DEFAULT_FORK_CONCURRENCY`].
///
/// ```no_run
/// # fn demo(sdk: &aws_types::SdkConfig) -> Result<(), tigris_agent_kit::Error> {
/// let kit = tigris_agent_kit::AgentKit::builder(sdk)
///     .iam_endpoint("http://127.0.0.1:9000")
///     .fork_concurrency(4)
///     .build()?;
/// # let _ = kit;
/// # Ok(()) }
/// ```
#[must_use = "call build() to get the AgentKit"]
pub struct AgentKitBuilder {
    sdk: SdkConfig,
    iam_endpoint: Option<String>,
    fork_concurrency: usize,
    transport: Option<SignedTransport>,
}

impl fmt::Debug for AgentKitBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentKitBuilder")
            .field("endpoint", &self.sdk.endpoint_url())
            .field("iam_endpoint", &self.iam_endpoint)
            .field("fork_concurrency", &self.fork_concurrency)
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

impl AgentKitBuilder {
    /// Sends IAM requests (scoped credentials) to `endpoint`.
    pub fn iam_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.iam_endpoint = Some(endpoint.into());
        self
    }

    /// How many forks to create (and tear down) at once; at least 1. Each fork is one
    /// `CreateBucket`, plus three IAM calls when it gets credentials.
    pub fn fork_concurrency(mut self, concurrency: usize) -> Self {
        self.fork_concurrency = concurrency;
        self
    }

    /// Uses `transport` for notifications instead of one built from the `SdkConfig`, for
    /// example with other timeouts or retries.
    pub fn signed_transport(mut self, transport: SignedTransport) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Builds the clients.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a fork concurrency of 0;
    /// [`ErrorKind::Configuration`](crate::ErrorKind::Configuration) when the `SdkConfig` has no
    /// credentials provider or its endpoint is not an http(s) URL (the signed transport needs
    /// both).
    pub fn build(self) -> Result<AgentKit> {
        if self.fork_concurrency == 0 {
            return Err(Error::invalid_input(
                Operation::Build,
                "the fork concurrency must be at least 1",
            ));
        }
        let transport = match self.transport {
            Some(transport) => transport,
            None => SignedTransport::new(&self.sdk).map_err(|e| {
                Error::configuration(
                    Operation::Build,
                    "the signed transport for notifications could not be built",
                )
                .with_source(e)
            })?,
        };
        let mut iam = TigrisIam::builder(&self.sdk);
        if let Some(endpoint) = self.iam_endpoint {
            iam = iam.endpoint_url(endpoint);
        }
        Ok(AgentKit {
            inner: Arc::new(Inner {
                s3: tigris_core::config::s3_client(&self.sdk),
                api: tigris_api::Client::from_transport(transport.clone(), &self.sdk),
                iam: iam.build(),
                notifications: Notifications::new(transport),
                fork_concurrency: self.fork_concurrency,
            }),
        })
    }
}

/// Something that names a bucket: a [`BucketName`], a [`Workspace`](crate::Workspace) or a
/// [`Fork`](crate::Fork).
///
/// Lets [`AgentKit::set_notifications`] and [`AgentKit::clear_notifications`] take any of them.
pub trait AsBucket {
    /// The bucket.
    fn bucket(&self) -> &BucketName;
}

impl AsBucket for BucketName {
    fn bucket(&self) -> &BucketName {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::config::Credentials;
    use tigris_core::config;

    const SECRET: &str = "tsec_kit_secret_never_shown";

    fn sdk() -> SdkConfig {
        config::builder()
            .endpoint_url("http://127.0.0.1:1")
            .credentials(Credentials::new("tid_kit", SECRET, None, None, "test"))
            .build()
    }

    #[test]
    fn debug_shows_endpoints_and_no_credentials() {
        let builder = AgentKit::builder(&sdk()).iam_endpoint("http://127.0.0.1:2");
        let kit = AgentKit::builder(&sdk())
            .iam_endpoint("http://127.0.0.1:2")
            .fork_concurrency(3)
            .build()
            .unwrap();
        assert_eq!(
            format!("{kit:?}"),
            "AgentKit { endpoint: \"http://127.0.0.1:1\", iam_endpoint: \"http://127.0.0.1:2\", \
             fork_concurrency: 3, .. }"
        );
        for shown in [
            format!("{kit:?}"),
            format!("{kit:#?}"),
            format!("{builder:?}"),
            format!("{builder:#?}"),
        ] {
            assert!(!shown.contains(SECRET), "{shown}");
        }
    }

    #[test]
    fn zero_fork_concurrency_is_rejected() {
        let err = AgentKit::builder(&sdk())
            .fork_concurrency(0)
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
        assert_eq!(
            err.to_string(),
            "could not set up the agent kit: invalid input: the fork concurrency must be at least 1"
        );
    }

    #[test]
    fn a_config_without_credentials_is_a_configuration_error() {
        let sdk = config::builder().endpoint_url("http://127.0.0.1:1").build();
        let err = AgentKit::new(&sdk).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Configuration);
        assert!(std::error::Error::source(&err).is_some());
    }

    #[test]
    fn the_kit_and_its_futures_can_cross_threads() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<AgentKit>();
    }
}
