//! The IAM client, built from the same `SdkConfig` as the S3 client.

use std::fmt;

use aws_sdk_iam::config::Region;
use aws_types::SdkConfig;

use crate::bucket_roles::CreateKeyWithBucketRoles;
use crate::create::CreateScopedKey;
use crate::error::{Leftover, Result};
use crate::key::ScopedAccessKey;
use crate::undo::UndoLog;

/// Tigris's IAM endpoint, used unless [`TigrisIamBuilder::endpoint_url`] says otherwise.
pub use tigris_core::DEFAULT_IAM_ENDPOINT;

use tigris_core::DEFAULT_REGION;

/// Creates and revokes scoped access keys on Tigris IAM.
///
/// Cheap to clone: clones share one connection pool.
///
/// ```no_run
/// # async fn demo(sdk: &aws_types::SdkConfig) {
/// // The same SdkConfig as the S3 client: same credentials, region and HTTP client.
/// let iam = tigris_iam::TigrisIam::new(sdk);
/// assert_eq!(iam.endpoint(), "https://iam.storageapi.dev");
/// # }
/// ```
#[derive(Clone)]
pub struct TigrisIam {
    client: aws_sdk_iam::Client,
    endpoint: String,
    /// The keys this client (and its clones) received lately, to tell a key whose answer was
    /// lost from a concurrent call's.
    received: std::sync::Arc<crate::create::ReceivedKeys>,
    /// Tigris's own IAM actions (JSON answers, signed for `s3`) on the same endpoint, or why
    /// they cannot be sent.
    transport: Result<tigris_core::transport::SignedTransport, String>,
}

impl fmt::Debug for TigrisIam {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The SDK config holds the caller's credentials provider: show only where requests go.
        f.debug_struct("TigrisIam")
            .field("endpoint", &self.endpoint)
            .field("region", &self.client.config().region().map(Region::as_ref))
            .finish_non_exhaustive()
    }
}

impl TigrisIam {
    /// A client for the IAM endpoint resolved as described on [`TigrisIamBuilder`].
    pub fn new(sdk: &SdkConfig) -> Self {
        Self::builder(sdk).build()
    }

    /// Starts a client from `sdk`, to override the endpoint before building it.
    pub fn builder(sdk: &SdkConfig) -> TigrisIamBuilder {
        TigrisIamBuilder {
            config: aws_sdk_iam::config::Builder::from(sdk),
            transport: tigris_core::transport::SignedTransport::builder(sdk),
            sdk_has_region: sdk.region().is_some(),
            sdk_has_http_client: sdk.http_client().is_some(),
            endpoint: None,
        }
    }

    /// The endpoint requests go to.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The underlying `aws-sdk-iam` client, for IAM calls this crate does not wrap.
    pub fn client(&self) -> &aws_sdk_iam::Client {
        &self.client
    }

    pub(crate) fn received(&self) -> &crate::create::ReceivedKeys {
        &self.received
    }

    pub(crate) fn transport(&self) -> Result<&tigris_core::transport::SignedTransport> {
        self.transport
            .as_ref()
            .map_err(|reason| crate::Error::configuration(reason.clone()))
    }

    /// Starts creating an access key scoped to one or more buckets. See [`CreateScopedKey`].
    pub fn create_scoped_key(&self) -> CreateScopedKey {
        CreateScopedKey::new(self.clone())
    }

    /// Starts creating an access key with a role on each of its buckets, in one call to
    /// Tigris's own IAM action. See [`CreateKeyWithBucketRoles`]; [`create_scoped_key`]
    /// (standard AWS IAM) stays the default flow.
    ///
    /// [`create_scoped_key`]: Self::create_scoped_key
    pub fn create_key_with_bucket_roles(&self) -> CreateKeyWithBucketRoles {
        CreateKeyWithBucketRoles::new(self.clone())
    }

    /// Deletes the access key `access_key_id`; any bucket roles it has go with it. A key that
    /// is already gone counts as deleted, so deleting twice succeeds.
    ///
    /// For a [`KeyWithBucketRoles`](crate::KeyWithBucketRoles). A scoped key made by
    /// [`create_scoped_key`](Self::create_scoped_key) also has a policy: use
    /// [`revoke`](Self::revoke) for it.
    ///
    /// ```no_run
    /// # async fn demo(iam: tigris_iam::TigrisIam, key: tigris_iam::KeyWithBucketRoles) -> tigris_iam::Result<()> {
    /// iam.delete_key(key.access_key_id()).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for an empty id, before any
    /// request; otherwise the failed `DeleteAccessKey`, with the key in
    /// [`Error::leftovers`](crate::Error::leftovers).
    #[tracing::instrument(skip_all, fields(access_key_id = %access_key_id))]
    pub async fn delete_key(&self, access_key_id: &str) -> Result<()> {
        if access_key_id.is_empty() {
            return Err(crate::Error::invalid_input("the access key id is empty"));
        }
        let unwound = UndoLog::for_key(access_key_id, None)
            .unwind(&self.client)
            .await;
        match unwound.first_error {
            None => Ok(()),
            Some(err) => Err(err.while_revoking(access_key_id, unwound.leftovers)),
        }
    }

    /// Revokes `key`: detaches its policy, deletes the policy, deletes the key.
    ///
    /// Same as [`revoke_ids`](Self::revoke_ids) with the key's ids.
    ///
    /// # Errors
    /// As [`revoke_ids`](Self::revoke_ids).
    pub async fn revoke(&self, key: &ScopedAccessKey) -> Result<()> {
        self.revoke_ids(key.access_key_id(), key.policy_arn()).await
    }

    /// Revokes a scoped key known by its ids: detach the policy from the key, delete the
    /// policy, delete the key.
    ///
    /// Every step is attempted even when an earlier one fails, and anything already gone counts
    /// as done, so revoking twice, or after part of the key was removed by hand, succeeds.
    ///
    /// # Errors
    /// The first step that failed, with [`Error::leftovers`](crate::Error::leftovers) listing
    /// everything still present.
    #[tracing::instrument(skip_all, fields(access_key_id = %access_key_id))]
    pub async fn revoke_ids(&self, access_key_id: &str, policy_arn: &str) -> Result<()> {
        let unwound = UndoLog::for_key(access_key_id, Some(policy_arn))
            .unwind(&self.client)
            .await;
        match unwound.first_error {
            None => {
                tracing::debug!("revoked");
                Ok(())
            }
            Some(err) => Err(err.while_revoking(access_key_id, unwound.leftovers)),
        }
    }

    /// Tries again to remove what an earlier call left behind
    /// ([`Error::leftovers`](crate::Error::leftovers)), attachments first, then policies, then
    /// keys. Anything already gone counts as removed.
    ///
    /// A [`Leftover::MaybeAccessKey`] is not removed: its candidates may include other callers'
    /// keys, so which one to delete is yours to decide.
    ///
    /// # Errors
    /// The first removal that failed, with [`Error::leftovers`](crate::Error::leftovers)
    /// listing what is still present; or, when everything else was removed but a
    /// [`Leftover::MaybeAccessKey`] was given, an
    /// [`ErrorKind::Conflict`](crate::ErrorKind::Conflict) error listing those.
    #[tracing::instrument(skip_all, fields(leftovers = leftovers.len()))]
    pub async fn clean_up(&self, leftovers: &[Leftover]) -> Result<()> {
        let unwound = UndoLog::for_leftovers(leftovers).unwind(&self.client).await;
        let for_review: Vec<Leftover> = leftovers
            .iter()
            .filter(|l| matches!(l, Leftover::MaybeAccessKey { .. }))
            .cloned()
            .collect();
        match unwound.first_error {
            None if for_review.is_empty() => Ok(()),
            None => Err(crate::Error::left_for_review(for_review)),
            Some(err) => {
                let mut still = unwound.leftovers;
                still.extend(for_review);
                Err(err.while_cleaning_up(still))
            }
        }
    }
}

/// Configures a [`TigrisIam`] client.
///
/// Credentials, retry and timeout settings come from the `SdkConfig`. The rest:
/// - endpoint: [`endpoint_url`](Self::endpoint_url) if set, else [`DEFAULT_IAM_ENDPOINT`]. The
///   `SdkConfig`'s own endpoint is ignored: it is usually the S3 endpoint. Nothing is read from
///   the process environment (`tigris_ext::config::iam_endpoint_from_env` does that);
/// - region: the `SdkConfig`'s, else `auto`;
/// - HTTP client: the `SdkConfig`'s, else HTTPS with rustls and the `ring` provider.
///
/// Standard IAM requests are signed with SigV4 for service `iam`; Tigris's own IAM actions
/// ([`TigrisIam::create_key_with_bucket_roles`]) for service `s3`, as `@tigrisdata/iam` signs
/// them, through a [`SignedTransport`](tigris_core::transport::SignedTransport) on the same
/// `SdkConfig`.
///
/// ```no_run
/// # fn demo(sdk: &aws_types::SdkConfig) {
/// let iam = tigris_iam::TigrisIam::builder(sdk).endpoint_url("http://127.0.0.1:9000").build();
/// # }
/// ```
pub struct TigrisIamBuilder {
    config: aws_sdk_iam::config::Builder,
    transport: tigris_core::transport::SignedTransportBuilder,
    sdk_has_region: bool,
    sdk_has_http_client: bool,
    endpoint: Option<String>,
}

impl fmt::Debug for TigrisIamBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TigrisIamBuilder")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl TigrisIamBuilder {
    /// Sends requests to `endpoint` instead of [`DEFAULT_IAM_ENDPOINT`].
    pub fn endpoint_url(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Builds the client.
    pub fn build(self) -> TigrisIam {
        let endpoint = resolve_endpoint(self.endpoint);
        let transport = self
            .transport
            .endpoint_url(endpoint.clone())
            .build()
            .map_err(|e| e.to_string());
        let mut config = self.config.endpoint_url(endpoint.clone());
        if !self.sdk_has_region {
            config = config.region(Region::from_static(DEFAULT_REGION));
        }
        if !self.sdk_has_http_client {
            config = config.http_client(tigris_core::default_http_client());
        }
        TigrisIam {
            client: aws_sdk_iam::Client::from_conf(config.build()),
            endpoint,
            received: std::sync::Arc::default(),
            transport,
        }
    }
}

fn resolve_endpoint(explicit: Option<String>) -> String {
    explicit
        .filter(|e| !e.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_IAM_ENDPOINT.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_defaults_to_tigris_iam_and_never_reads_the_environment() {
        assert_eq!(resolve_endpoint(None), "https://iam.storageapi.dev");
        assert_eq!(resolve_endpoint(Some("  ".into())), DEFAULT_IAM_ENDPOINT);
        assert_eq!(
            resolve_endpoint(Some("http://explicit".into())),
            "http://explicit"
        );
    }

    fn sdk() -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    aws_credential_types::Credentials::new(
                        "tid_root",
                        "tsec_root_secret",
                        None,
                        None,
                        "test",
                    ),
                ),
            )
            .endpoint_url("https://t3.storage.dev")
            .build()
    }

    #[test]
    fn region_defaults_to_auto_and_the_s3_endpoint_is_not_used() {
        let iam = TigrisIam::builder(&sdk())
            .endpoint_url("http://127.0.0.1:1")
            .build();
        assert_eq!(iam.endpoint(), "http://127.0.0.1:1");
        assert_eq!(
            iam.client().config().region().map(Region::as_ref),
            Some("auto")
        );
    }

    #[test]
    fn region_comes_from_the_sdk_config() {
        let sdk = sdk()
            .into_builder()
            .region(Region::new("eu-west-1"))
            .build();
        let iam = TigrisIam::builder(&sdk)
            .endpoint_url("http://127.0.0.1:1")
            .build();
        assert_eq!(
            iam.client().config().region().map(Region::as_ref),
            Some("eu-west-1")
        );
    }

    #[test]
    fn client_and_builder_debug_show_no_credentials() {
        let builder = TigrisIam::builder(&sdk()).endpoint_url("http://127.0.0.1:1");
        assert_eq!(
            format!("{builder:?}"),
            "TigrisIamBuilder { endpoint: Some(\"http://127.0.0.1:1\"), .. }"
        );
        let iam = builder.build();
        assert_eq!(
            format!("{iam:?}"),
            "TigrisIam { endpoint: \"http://127.0.0.1:1\", region: Some(\"auto\"), .. }"
        );
        assert_eq!(
            format!("{iam:#?}"),
            "TigrisIam {\n    endpoint: \"http://127.0.0.1:1\",\n    region: Some(\n        \"auto\",\n    ),\n    ..\n}"
        );
        let create = iam.create_scoped_key().name("k");
        for shown in [
            format!("{iam:?}"),
            format!("{iam:#?}"),
            format!("{create:?}"),
            format!("{create:#?}"),
        ] {
            assert!(!shown.contains("tsec_root_secret"), "{shown}");
        }
    }
}
