//! Whether one object has been copied in from its bucket's shadow:
//! [`Client::object_migrated`](crate::Client::object_migrated).

use http::Method;
use tigris_core::transport::{SignedTransport, TigrisRequest};
use tracing::Instrument;

use crate::error::{Error, Operation, Result};
use crate::wire::{bucket_name, object_key};

/// HeadObject response: `block_shadow` while the object is served from the shadow.
const READ_SOURCE: &str = "x-tigris-read-source";

/// Asks whether one object has been copied in from the shadow; from
/// [`Client::object_migrated`](crate::Client::object_migrated).
///
/// HeadObject: migrated unless Tigris answers `X-Tigris-Read-Source: block_shadow` (compared
/// case-insensitively, as Tigris's clients do). The bucket name and a key of 1 to 1024 bytes
/// are checked before the request.
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct ObjectMigratedFluentBuilder {
    transport: SignedTransport,
    bucket: String,
    key: String,
}

impl ObjectMigratedFluentBuilder {
    /// The shadowed bucket (required).
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = bucket.as_ref().to_owned();
        self
    }

    /// The object key (required).
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self
    }

    /// Sends the HeadObject.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before the request for an
    /// invalid bucket name or key; [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) when
    /// the key is on neither side.
    pub async fn send(self) -> Result<bool> {
        let span = tracing::debug_span!("object_migrated", bucket = %self.bucket);
        async {
            let operation = Operation::Migrate {
                bucket: self.bucket.clone(),
                prefix: self.key.clone(),
            };
            let bucket = bucket_name(&self.bucket, || operation.clone())?;
            object_key(&self.key, || operation.clone())?;
            let request = TigrisRequest::new(Method::HEAD)
                .bucket(bucket)
                .key(self.key.clone())
                .idempotent(true);
            let response = self
                .transport
                .send(&request)
                .await
                .map_err(|e| Error::from_sdk(operation.clone(), e))?;
            Ok(!response
                .headers()
                .get(READ_SOURCE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("block_shadow")))
        }
        .instrument(span)
        .await
    }
}

impl crate::Client {
    /// Whether one object has been copied in from the shadow. See
    /// [`ObjectMigratedFluentBuilder`].
    pub fn object_migrated(&self) -> ObjectMigratedFluentBuilder {
        ObjectMigratedFluentBuilder {
            transport: self.transport.clone(),
            bucket: String::new(),
            key: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ErrorKind;

    /// A client whose endpoint nothing listens on: an answer of any kind but `InvalidInput`
    /// would mean a request was tried.
    fn client() -> crate::Client {
        let sdk = tigris_core::config::builder()
            .endpoint_url("http://127.0.0.1:1")
            .credentials(aws_sdk_s3::config::Credentials::new(
                "a", "b", None, None, "t",
            ))
            .build();
        crate::Client::new(&sdk).unwrap()
    }

    #[tokio::test]
    async fn an_empty_or_over_long_key_is_refused_before_any_request() {
        for key in [String::new(), "k".repeat(crate::wire::MAX_KEY_BYTES + 1)] {
            let err = client()
                .object_migrated()
                .bucket("media")
                .key(key)
                .send()
                .await
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        }
    }
}
