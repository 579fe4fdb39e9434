//! Rebasing a fork onto its parent's present: [`Client::rebase_fork`](crate::Client::rebase_fork),
//! a `PUT /{fork}` with `X-Tigris-Rebase: true`, sent as not idempotent.

use http::{HeaderName, HeaderValue, Method};
use tigris_core::transport::{SignedTransport, TigrisRequest};
use tigris_headers::SnapshotVersion;
use tracing::Instrument;

use crate::error::{Error, Operation, Result};
use crate::wire::{bucket_name, snapshot_version};

/// Moves a fork's base to its parent's present, keeping the fork's own writes on top; from
/// [`Client::rebase_fork`](crate::Client::rebase_fork).
///
/// Sends `PUT /{fork}` with `X-Tigris-Rebase: true` and returns the
/// `x-tigris-snapshot-version` Tigris answers: the parent version the fork now reads through to.
///
/// ```no_run
/// # async fn demo(tigris: tigris_api::Client) -> Result<(), tigris_api::Error> {
///
/// let base = tigris.rebase_fork().fork("datasets-exp").send().await?;
/// println!("datasets-exp now forks datasets as of {base}");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct RebaseForkFluentBuilder {
    transport: SignedTransport,
    fork: String,
}

impl RebaseForkFluentBuilder {
    pub(crate) fn new(transport: SignedTransport, fork: String) -> Self {
        Self { transport, fork }
    }

    /// The fork to rebase (required).
    pub fn fork(mut self, fork: impl AsRef<str>) -> Self {
        self.fork = fork.as_ref().to_owned();
        self
    }

    /// Validates the name, then rebases and returns the fork's new base version.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for an
    /// invalid name; [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) when the fork does not
    /// exist; otherwise the service's refusal (`InvalidArgument` for a bucket that is no fork).
    pub async fn send(self) -> Result<SnapshotVersion> {
        let span = tracing::debug_span!("rebase_fork", fork = %self.fork);
        async {
            let operation = Operation::RebaseFork {
                fork: self.fork.clone(),
            };
            let fork = bucket_name(&self.fork, || operation.clone())?;
            let request = TigrisRequest::new(Method::PUT)
                .bucket(fork)
                .header(
                    HeaderName::from_static(crate::wire::REBASE),
                    HeaderValue::from_static("true"),
                )
                .idempotent(false);
            let response = self
                .transport
                .send(&request)
                .await
                .map_err(|e| Error::from_sdk(operation.clone(), e))?;
            snapshot_version(&response, &operation)
        }
        .instrument(span)
        .await
    }
}

impl crate::Client {
    /// Moves a fork's base to its parent's present. See [`RebaseForkFluentBuilder`].
    pub fn rebase_fork(&self) -> RebaseForkFluentBuilder {
        RebaseForkFluentBuilder::new(self.transport.clone(), String::new())
    }
}
