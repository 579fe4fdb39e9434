//! Removes a bucket's shadow: [`Client::clear_shadow_bucket`](crate::Client::clear_shadow_bucket).

use serde_json::json;
use tigris_core::transport::SignedTransport;
use tracing::Instrument;

use crate::error::{Operation, Result};
use crate::wire::{bucket_name, patch_bucket};

/// Removes a bucket's shadow (`PATCH /{bucket}` with `{"shadow_bucket": {}}`); from
/// [`Client::clear_shadow_bucket`](crate::Client::clear_shadow_bucket). What was already
/// copied in stays; reads stop falling through to the source.
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct ClearShadowBucketFluentBuilder {
    transport: SignedTransport,
    bucket: String,
}

impl ClearShadowBucketFluentBuilder {
    /// The bucket whose shadow to remove (required).
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = bucket.as_ref().to_owned();
        self
    }

    /// Validates the bucket name, then clears the shadow.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for an
    /// invalid bucket name; otherwise what Tigris answers.
    pub async fn send(self) -> Result<()> {
        let span = tracing::debug_span!("clear_shadow_bucket", bucket = %self.bucket);
        async {
            let operation = Operation::SetShadowBucket {
                bucket: self.bucket.clone(),
            };
            let bucket = bucket_name(&self.bucket, || operation.clone())?;
            patch_bucket(
                &self.transport,
                bucket,
                json!({"shadow_bucket": {}}),
                &operation,
            )
            .await
        }
        .instrument(span)
        .await
    }
}

impl crate::Client {
    /// Removes a bucket's shadow. See [`ClearShadowBucketFluentBuilder`].
    pub fn clear_shadow_bucket(&self) -> ClearShadowBucketFluentBuilder {
        ClearShadowBucketFluentBuilder {
            transport: self.transport.clone(),
            bucket: String::new(),
        }
    }
}
