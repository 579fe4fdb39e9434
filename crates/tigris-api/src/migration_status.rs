//! What a shadowed bucket still has to copy:
//! [`Client::migration_status`](crate::Client::migration_status). Two key-ordered ListObjectsV2
//! walks, `X-Tigris-List-Source: shadow` and `X-Tigris-List-Source: tigris`, joined by key.

use std::cmp::Ordering;

use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output;
use tracing::Instrument;

use crate::error::{Error, Operation, Result};
use crate::wire::{MAX_KEY_BYTES, bucket_name};

/// ListObjectsV2: which side of a shadowed bucket to list (`tigris` or `shadow`).
const LIST_SOURCE: &str = "x-tigris-list-source";

/// Where the keys of a shadowed bucket are: from [`MigrationStatusFluentBuilder::send`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct MigrationStatus {
    migrated: u64,
    pub(crate) remaining: Vec<(String, i64)>,
}

impl MigrationStatus {
    /// Objects under the prefix in the shadow bucket.
    pub fn in_shadow(&self) -> u64 {
        self.migrated + self.remaining()
    }

    /// Of those, how many are in Tigris too.
    pub fn migrated(&self) -> u64 {
        self.migrated
    }

    /// How many are only in the shadow.
    pub fn remaining(&self) -> u64 {
        self.remaining.len() as u64
    }

    /// The keys only in the shadow, in key order.
    pub fn remaining_keys(&self) -> impl Iterator<Item = &str> {
        self.remaining.iter().map(|(k, _)| k.as_str())
    }

    /// Bytes of the objects only in the shadow.
    pub fn remaining_bytes(&self) -> u64 {
        self.remaining
            .iter()
            .map(|(_, size)| u64::try_from(*size).unwrap_or(0))
            .sum()
    }

    /// Whether nothing is left to copy.
    pub fn is_complete(&self) -> bool {
        self.remaining.is_empty()
    }
}

pub(crate) fn check_prefix(prefix: &str, operation: &Operation) -> Result<()> {
    if prefix.len() > MAX_KEY_BYTES {
        return Err(Error::invalid_argument(
            operation.clone(),
            "the prefix is longer than 1024 bytes",
        ));
    }
    Ok(())
}

/// One side's listing, a page at a time.
struct Side {
    s3: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
    source: &'static str,
    token: Option<String>,
    page: std::vec::IntoIter<(String, i64)>,
    done: bool,
}

impl Side {
    fn new(s3: &aws_sdk_s3::Client, bucket: &str, prefix: &str, source: &'static str) -> Self {
        Self {
            s3: s3.clone(),
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
            source,
            token: None,
            page: Vec::new().into_iter(),
            done: false,
        }
    }

    async fn next(&mut self, operation: &Operation) -> Result<Option<(String, i64)>> {
        loop {
            if let Some(item) = self.page.next() {
                return Ok(Some(item));
            }
            if self.done {
                return Ok(None);
            }
            let source = self.source;
            let mut call = self
                .s3
                .list_objects_v2()
                .bucket(&self.bucket)
                .set_continuation_token(self.token.take());
            if !self.prefix.is_empty() {
                call = call.prefix(&self.prefix);
            }
            let out: ListObjectsV2Output = call
                .customize()
                .mutate_request(move |r| {
                    r.headers_mut().insert(LIST_SOURCE, source);
                })
                .send()
                .await
                .map_err(|e| Error::from_sdk(operation.clone(), e))?;
            let items: Vec<(String, i64)> = out
                .contents()
                .iter()
                .filter_map(|o| Some((o.key()?.to_owned(), o.size().unwrap_or(0))))
                .collect();
            self.token = out.next_continuation_token().map(str::to_owned);
            self.done = self.token.is_none() || !out.is_truncated().unwrap_or(false);
            self.page = items.into_iter();
        }
    }
}

/// Joins the two listings by key.
pub(crate) async fn status(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    operation: &Operation,
) -> Result<MigrationStatus> {
    let mut shadow = Side::new(s3, bucket, prefix, "shadow");
    let mut tigris = Side::new(s3, bucket, prefix, "tigris");
    let mut status = MigrationStatus::default();
    let mut t = tigris.next(operation).await?;
    while let Some((key, size)) = shadow.next(operation).await? {
        // Both listings are in key order (byte order, as S3 sorts them).
        while let Some((tk, _)) = &t
            && tk.as_bytes().cmp(key.as_bytes()) == Ordering::Less
        {
            t = tigris.next(operation).await?;
        }
        if t.as_ref().is_some_and(|(tk, _)| *tk == key) {
            status.migrated += 1;
        } else {
            status.remaining.push((key, size));
        }
    }
    Ok(status)
}

/// Counts what a shadowed bucket still has to copy under a prefix; from
/// [`Client::migration_status`](crate::Client::migration_status).
///
/// Two key-ordered listings (`X-Tigris-List-Source: shadow` and `tigris`) joined by key. The
/// bucket name and a prefix of at most 1024 bytes are checked before any request.
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct MigrationStatusFluentBuilder {
    s3: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
}

impl MigrationStatusFluentBuilder {
    /// The shadowed bucket (required).
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = bucket.as_ref().to_owned();
        self
    }

    /// Only keys under this prefix (default: all).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Lists both sides and joins them.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for an
    /// invalid bucket name or prefix; otherwise the listings' errors (for example a shadow that
    /// cannot be reached).
    pub async fn send(self) -> Result<MigrationStatus> {
        let span = tracing::debug_span!("migration_status", bucket = %self.bucket);
        async {
            let operation = Operation::Migrate {
                bucket: self.bucket.clone(),
                prefix: self.prefix.clone(),
            };
            bucket_name(&self.bucket, || operation.clone())?;
            check_prefix(&self.prefix, &operation)?;
            status(&self.s3, &self.bucket, &self.prefix, &operation).await
        }
        .instrument(span)
        .await
    }
}

impl crate::Client {
    /// Counts what a shadowed bucket still has to copy. See [`MigrationStatusFluentBuilder`].
    pub fn migration_status(&self) -> MigrationStatusFluentBuilder {
        MigrationStatusFluentBuilder {
            s3: self.s3.clone(),
            bucket: String::new(),
            prefix: String::new(),
        }
    }
}
