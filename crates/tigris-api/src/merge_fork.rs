//! Merging a fork into its parent: [`Client::merge_fork`](crate::Client::merge_fork), a
//! `PUT /{parent}` with `X-Tigris-Merge-Source-Bucket`, sent as not idempotent: the signed
//! transport does not retry it after a failure that may have come after it was applied.

use http::{HeaderName, Method};
use tigris_core::transport::{SignedTransport, TigrisRequest};
use tigris_headers::SnapshotVersion;
use tracing::Instrument;

use crate::error::{Error, Operation, Result};
use crate::wire::{bucket_name, header_value, snapshot_version};

/// Merges a fork into its direct parent; from
/// [`Client::merge_fork`](crate::Client::merge_fork).
///
/// Sends `PUT /{parent}` with `X-Tigris-Merge-Source-Bucket: <fork>` and returns the
/// `x-tigris-snapshot-version` Tigris answers: a snapshot of the parent with the fork's changes
/// in it. The parent must be the fork's direct parent (else `400 InvalidArgument`). Tigris
/// documents no conflict semantics; the emulator applies, per key the fork changed, the fork's
/// state. Not retried after a failure that may have come after the merge was applied.
///
/// ```no_run
/// # async fn demo(tigris: tigris_api::Client) -> Result<(), tigris_api::Error> {
///
/// let version = tigris.merge_fork().fork("datasets-exp").parent("datasets").send().await?;
/// println!("datasets now includes the experiment, as snapshot {version}");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct MergeForkFluentBuilder {
    transport: SignedTransport,
    fork: String,
    parent: Option<String>,
}

impl MergeForkFluentBuilder {
    pub(crate) fn new(transport: SignedTransport, fork: String) -> Self {
        Self {
            transport,
            fork,
            parent: None,
        }
    }

    /// The fork to merge (required).
    pub fn fork(mut self, fork: impl AsRef<str>) -> Self {
        self.fork = fork.as_ref().to_owned();
        self
    }

    /// The bucket to merge into: the fork's direct parent (required).
    pub fn parent(mut self, parent: impl AsRef<str>) -> Self {
        self.parent = Some(parent.as_ref().to_owned());
        self
    }

    /// Validates both names, then merges and returns the parent's new snapshot version.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for an
    /// invalid name, a missing [`parent`](Self::parent), or a fork merged into itself;
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) when a bucket does not exist;
    /// otherwise the service's refusal (`InvalidArgument` when `parent` is not the fork's parent).
    pub async fn send(self) -> Result<SnapshotVersion> {
        let span = tracing::debug_span!("merge_fork", fork = %self.fork, parent = ?self.parent);
        async {
            let operation = Operation::MergeFork {
                fork: self.fork.clone(),
                parent: self.parent.clone(),
            };
            let fork = bucket_name(&self.fork, || operation.clone())?;
            let Some(parent) = &self.parent else {
                return Err(Error::invalid_argument(
                    operation,
                    "the parent to merge into is missing: set it with .parent(..)",
                ));
            };
            let parent = bucket_name(parent, || operation.clone())?;
            if parent == fork {
                return Err(Error::invalid_argument(
                    operation,
                    "a bucket cannot be merged into itself",
                ));
            }
            let request = TigrisRequest::new(Method::PUT)
                .bucket(parent)
                .header(
                    HeaderName::from_static(crate::wire::MERGE_SOURCE_BUCKET),
                    header_value(fork.as_str(), &operation)?,
                )
                .idempotent(false);
            let response = self
                .transport
                .send(&request)
                .await
                .map_err(|e| Error::from_sdk(operation.clone(), e))?;
            let version = snapshot_version(&response, &operation)?;
            tracing::debug!(%version, "fork merged");
            Ok(version)
        }
        .instrument(span)
        .await
    }
}

impl crate::Client {
    /// Merges a fork into its parent. See [`MergeForkFluentBuilder`].
    pub fn merge_fork(&self) -> MergeForkFluentBuilder {
        MergeForkFluentBuilder::new(self.transport.clone(), String::new())
    }
}
