//! Tigris's rename: move an object within a bucket (`CopyObject` with `X-Tigris-Rename: true`).
//!
//! The entry point is [`TigrisClientExt::move_object`](crate::TigrisClientExt::move_object), not
//! `rename_object`: `aws_sdk_s3::Client` already has an inherent `rename_object` (the S3 Express
//! `RenameObject` operation for directory buckets), which would shadow an extension method.

use aws_sdk_s3::Client;
use aws_sdk_s3::operation::copy_object::CopyObjectOutput;
use tracing::Instrument;

use crate::error::{Error, Operation, Result};
use crate::header::{self, AddHeaders};
use crate::names::bucket_name;

/// The longest object key S3 and Tigris accept, in bytes.
const MAX_KEY_BYTES: usize = 1024;

/// Percent-encodes an object key for `x-amz-copy-source`: every byte except the unreserved
/// characters `A-Z a-z 0-9 - _ . ~` and the path separator `/`.
pub(crate) fn encode_key(key: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(key.len());
    for &b in key.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
    out
}

/// Moves (Tigris: renames) an object inside one bucket; from
/// [`TigrisClientExt::move_object`](crate::TigrisClientExt::move_object).
///
/// Sends `CopyObject` with `X-Tigris-Rename: true`: the object moves without its data being
/// copied, and afterwards `to_key` has the contents and `from_key` is gone. Any key works,
/// including spaces, `+`, `?`, `#` and `%`; the copy source is percent-encoded here.
///
/// ```no_run
/// # async fn demo(s3: aws_sdk_s3::Client) -> Result<(), tigris_headers::Error> {
/// use tigris_headers::TigrisClientExt;
///
/// s3.move_object().bucket("datasets").from_key("incoming/report 1.csv").to_key("done/report 1.csv").send().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct MoveObjectFluentBuilder {
    client: Client,
    bucket: String,
    from_key: Option<String>,
    to_key: Option<String>,
}

impl MoveObjectFluentBuilder {
    pub(crate) fn new(client: Client, bucket: String) -> Self {
        Self {
            client,
            bucket,
            from_key: None,
            to_key: None,
        }
    }

    /// The bucket the object is in (required).
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = bucket.as_ref().to_owned();
        self
    }

    /// The object's current key (required).
    pub fn from_key(mut self, key: impl Into<String>) -> Self {
        self.from_key = Some(key.into());
        self
    }

    /// The object's new key (required, different from the current one).
    pub fn to_key(mut self, key: impl Into<String>) -> Self {
        self.to_key = Some(key.into());
        self
    }

    /// Validates the input, then renames the object. Returns the SDK's `CopyObject` output
    /// (ETag of the object under its new key).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for an
    /// invalid bucket name, a missing, empty or over-long key, or identical keys;
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) when the bucket or object does not
    /// exist; otherwise the service's refusal.
    pub async fn send(self) -> Result<CopyObjectOutput> {
        let from = self.from_key.clone().unwrap_or_default();
        let to = self.to_key.clone().unwrap_or_default();
        let span =
            tracing::debug_span!("move_object", bucket = %self.bucket, from = %from, to = %to);
        async {
            let operation = || Operation::RenameObject {
                bucket: self.bucket.clone(),
                from: from.clone(),
                to: to.clone(),
            };
            let bucket = bucket_name(&self.bucket, operation)?;
            let invalid = |reason| Err(Error::invalid_argument(operation(), reason));
            if self.from_key.is_none() || self.to_key.is_none() {
                return invalid("both from_key and to_key must be set");
            }
            if from.is_empty() || to.is_empty() {
                return invalid("object keys must not be empty");
            }
            if from.len() > MAX_KEY_BYTES || to.len() > MAX_KEY_BYTES {
                return invalid("object keys must be at most 1024 bytes long");
            }
            if from == to {
                return invalid("the new key must differ from the current one");
            }
            let output = self
                .client
                .copy_object()
                .bucket(bucket.as_str())
                .key(to.as_str())
                .copy_source(format!("{bucket}/{}", encode_key(&from)))
                .customize()
                .interceptor(AddHeaders::new(header::RENAME, "true"))
                .send()
                .await
                .map_err(|e| Error::from_sdk(operation(), e))?;
            tracing::debug!("object renamed");
            Ok(output)
        }
        .instrument(span)
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_percent_encoded_except_unreserved_and_slash() {
        let cases = [
            ("plain.txt", "plain.txt"),
            ("nested/dir/a-b_c~d.txt", "nested/dir/a-b_c~d.txt"),
            (
                "weird name + and #hash.txt",
                "weird%20name%20%2B%20and%20%23hash.txt",
            ),
            ("a%b?c.txt", "a%25b%3Fc.txt"),
            ("weird name + ?#%.txt", "weird%20name%20%2B%20%3F%23%25.txt"),
            ("k=v&x", "k%3Dv%26x"),
            ("café", "caf%C3%A9"),
            ("tab\tnl\n", "tab%09nl%0A"),
        ];
        for (key, expected) in cases {
            assert_eq!(encode_key(key), expected, "{key:?}");
        }
    }
}
