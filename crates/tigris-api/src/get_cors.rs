//! Reads a bucket's CORS rules: [`Client::get_cors`](crate::Client::get_cors).

use crate::bucket_metadata::BucketMetadata;
use crate::error::{Error, Operation, Result};
use crate::set_cors::CorsRule;

/// Reads a bucket's CORS rules; from [`Client::get_cors`](crate::Client::get_cors).
///
/// Reads `GET /{bucket}?metadata` and answers its `cors.rules`, in order; empty when the
/// bucket has none.
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct GetCorsFluentBuilder {
    client: crate::Client,
    bucket: String,
}

impl GetCorsFluentBuilder {
    /// The bucket (required).
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = bucket.as_ref().to_owned();
        self
    }

    /// Reads the rules.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for an
    /// invalid bucket name; [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for an unknown
    /// bucket; [`ErrorKind::UnexpectedResponse`](crate::ErrorKind::UnexpectedResponse) when
    /// `cors` is not a list of rules.
    pub async fn send(self) -> Result<Vec<CorsRule>> {
        let operation = Operation::GetCors {
            bucket: self.bucket.clone(),
        };
        let metadata: BucketMetadata = self
            .client
            .bucket_metadata()
            .bucket(&self.bucket)
            .send()
            .await
            .map_err(|e| e.with_operation(operation.clone()))?;
        if metadata.extra().contains_key("cors") {
            return Err(Error::unexpected_response(
                operation,
                "cors is not a list of CORS rules",
            ));
        }
        Ok(metadata.cors_rules().to_vec())
    }
}

impl crate::Client {
    /// Reads a bucket's CORS rules. See [`GetCorsFluentBuilder`].
    pub fn get_cors(&self) -> GetCorsFluentBuilder {
        GetCorsFluentBuilder {
            client: self.clone(),
            bucket: String::new(),
        }
    }
}
