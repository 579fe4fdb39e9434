//! Restoring a soft-deleted bucket with its objects:
//! [`Client::restore_bucket`](crate::Client::restore_bucket) (`POST /{bucket}?restore`).

use http::Method;
use tigris_core::transport::{SignedTransport, TigrisRequest};
use tracing::Instrument;

use crate::error::{Error, Operation, Result};
use crate::wire::bucket_name;

/// Restores a soft-deleted bucket with its objects; from
/// [`Client::restore_bucket`](crate::Client::restore_bucket). Sends `POST /{bucket}?restore`.
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct RestoreBucketFluentBuilder {
    transport: SignedTransport,
    bucket: String,
}

impl RestoreBucketFluentBuilder {
    /// The deleted bucket to restore (required).
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = bucket.as_ref().to_owned();
        self
    }

    /// Validates the name, then restores.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for an
    /// invalid name; [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) when no deleted bucket
    /// of that name is in its window; a refusal (`InvalidArgument`) when the bucket is live.
    pub async fn send(self) -> Result<()> {
        let span = tracing::debug_span!("restore_bucket", bucket = %self.bucket);
        async {
            let operation = || Operation::RestoreBucket {
                bucket: self.bucket.clone(),
            };
            let bucket = bucket_name(&self.bucket, operation)?;
            // Repeating a restore that was applied answers InvalidArgument: not idempotent.
            let request = TigrisRequest::new(Method::POST)
                .bucket(bucket)
                .query_param("restore", "");
            self.transport
                .send(&request)
                .await
                .map_err(|e| Error::from_sdk(operation(), e))?;
            tracing::debug!("bucket restored");
            Ok(())
        }
        .instrument(span)
        .await
    }
}

impl crate::Client {
    /// Restores a soft-deleted bucket with its objects. See [`RestoreBucketFluentBuilder`].
    pub fn restore_bucket(&self) -> RestoreBucketFluentBuilder {
        RestoreBucketFluentBuilder {
            transport: self.transport.clone(),
            bucket: String::new(),
        }
    }
}
