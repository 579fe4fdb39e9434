//! Removes a bucket's CORS rules: [`Client::clear_cors`](crate::Client::clear_cors).

use serde_json::json;
use tigris_core::transport::SignedTransport;
use tracing::Instrument;

use crate::error::{Operation, Result};
use crate::wire::{bucket_name, patch_bucket};

/// Removes every CORS rule of a bucket; from [`Client::clear_cors`](crate::Client::clear_cors).
///
/// Sends `PATCH /{bucket}` with `{"cors": null}`. Clearing a bucket without rules succeeds.
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct ClearCorsFluentBuilder {
    transport: SignedTransport,
    bucket: String,
}

impl ClearCorsFluentBuilder {
    /// The bucket (required).
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = bucket.as_ref().to_owned();
        self
    }

    /// Clears the rules.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for an
    /// invalid bucket name; [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for an unknown
    /// bucket.
    pub async fn send(self) -> Result<()> {
        let span = tracing::debug_span!("clear_cors", bucket = %self.bucket);
        async {
            let operation = Operation::ClearCors {
                bucket: self.bucket.clone(),
            };
            let bucket = bucket_name(&self.bucket, || operation.clone())?;
            patch_bucket(&self.transport, bucket, json!({ "cors": null }), &operation).await
        }
        .instrument(span)
        .await
    }
}

impl crate::Client {
    /// Removes a bucket's CORS rules. See [`ClearCorsFluentBuilder`].
    pub fn clear_cors(&self) -> ClearCorsFluentBuilder {
        ClearCorsFluentBuilder {
            transport: self.transport.clone(),
            bucket: String::new(),
        }
    }
}
