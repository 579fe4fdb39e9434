//! Reads a bucket's lifecycle rules:
//! [`Client::get_lifecycle_rules`](crate::Client::get_lifecycle_rules).

use crate::error::{Error, Operation, Result};
use crate::set_lifecycle_rules::LifecycleRule;

/// Reads a bucket's lifecycle rules; from
/// [`Client::get_lifecycle_rules`](crate::Client::get_lifecycle_rules).
///
/// Reads `GET /{bucket}?metadata` and answers its `lifecycle_rules`, in order, with the ids
/// they were given; empty when there are none.
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct GetLifecycleRulesFluentBuilder {
    client: crate::Client,
    bucket: String,
}

impl GetLifecycleRulesFluentBuilder {
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
    /// `lifecycle_rules` is not a list of rules.
    pub async fn send(self) -> Result<Vec<LifecycleRule>> {
        let operation = Operation::GetLifecycle {
            bucket: self.bucket.clone(),
        };
        let metadata = self
            .client
            .bucket_metadata()
            .bucket(&self.bucket)
            .send()
            .await
            .map_err(|e| e.with_operation(operation.clone()))?;
        if metadata.extra().contains_key("lifecycle_rules") {
            return Err(Error::unexpected_response(
                operation,
                "lifecycle_rules is not a list of lifecycle rules",
            ));
        }
        Ok(metadata.lifecycle_rules().to_vec())
    }
}

impl crate::Client {
    /// Reads a bucket's lifecycle rules. See [`GetLifecycleRulesFluentBuilder`].
    pub fn get_lifecycle_rules(&self) -> GetLifecycleRulesFluentBuilder {
        GetLifecycleRulesFluentBuilder {
            client: self.clone(),
            bucket: String::new(),
        }
    }
}
