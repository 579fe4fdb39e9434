//! Tigris's `X-Tigris-*` headers as extensions of the official `aws-sdk-s3` client.
//!
//! Everything here extends the S3 client you already use: `use tigris_headers::prelude::*;`
//! and the Tigris options appear on the builders of the operations that support them, and the
//! Tigris operations that are S3 requests with a header appear on `aws_sdk_s3::Client`. Every
//! Tigris header is added to one request only, before signing, so SigV4 covers it; nothing is
//! shared between calls. Tigris's endpoints outside the S3 API are in
//! [`tigris-api`](https://docs.rs/tigris-api).
//!
//! # Examples
//! ```no_run
//! use aws_sdk_s3::config::Credentials;
//! use tigris_core::config::{self, s3_client};
//! use tigris_headers::prelude::*;
//! use tigris_headers::BucketName;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let sdk = config::builder()
//!     .credentials(Credentials::new("tid_...", "tsec_...", None, None, "example"))
//!     .build();
//! let s3 = s3_client(&sdk);
//!
//! s3.create_bucket().bucket("datasets").enable_snapshots().send().await?;
//! let version = s3.create_snapshot().bucket("datasets").name("before-cleanup").send().await?;
//!
//! // Read the bucket as it was, or fork it from that moment.
//! let old = s3.get_object().bucket("datasets").key("model.bin").at_snapshot(&version).send().await?;
//! let source: BucketName = "datasets".parse()?;
//! s3.create_bucket().bucket("datasets-restore").fork_of_snapshot(&source, &version).send().await?;
//!
//! s3.delete_bucket().bucket("datasets-restore").force_delete().send().await?;
//! # let _ = old;
//! # Ok(()) }
//! ```
//!
//! # Crate organization
//! - [`prelude`]: every extension trait, for one glob import.
//! - Options on S3 operations: [`create_bucket`] (snapshots enabled, forks, regions, storage
//!   class, public listing, soft delete), [`read_at_snapshot`] (get,
//!   head and list as of a snapshot), [`consistent_read`] (get and head from the home region,
//!   `X-Tigris-CAS`), [`query`] (list by metadata, `X-Tigris-Query`), [`delete_bucket`]
//!   (force delete).
//! - Tigris operations that are S3 requests with a header, started from [`TigrisClientExt`]:
//!   [`snapshot`] (create, list, delete), [`bucket_info`] (snapshot and fork settings),
//!   [`rename`] (move an object), and restore and purge of soft-deleted objects.
//! - [`soft_delete`]: the retention, the deleted-object views
//!   ([`SoftDeleteViewExt`](soft_delete::SoftDeleteViewExt)), restore and purge.
//! - [`bucket_settings`]: the values bucket settings take (regions, storage class, access).
//! - [`names`]: validated [`BucketName`], [`SnapshotVersion`] and [`SnapshotName`].
//! - [`error`]: the crate's [`Error`] and [`ErrorKind`].
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings), allow(dead_code))))]

pub mod bucket_info;
pub mod bucket_settings;
pub mod client;
pub mod consistent_read;
pub mod create_bucket;
pub mod delete_bucket;
pub mod error;
pub mod names;
pub mod query;
pub mod read_at_snapshot;
pub mod rename;
pub mod snapshot;
pub mod soft_delete;

mod header;

pub use client::TigrisClientExt;
pub use consistent_read::ConsistentReadExt;
pub use create_bucket::CreateBucketExt;
pub use delete_bucket::DeleteBucketExt;
pub use error::{Error, ErrorKind, Result};
pub use names::{BucketName, SnapshotName, SnapshotVersion};
pub use query::MetadataQueryExt;
pub use read_at_snapshot::ReadAtSnapshotExt;

/// The extension traits, for `use tigris_headers::prelude::*;`.
pub mod prelude {
    pub use crate::client::TigrisClientExt;
    pub use crate::consistent_read::ConsistentReadExt;
    pub use crate::create_bucket::CreateBucketExt;
    pub use crate::delete_bucket::DeleteBucketExt;
    pub use crate::query::MetadataQueryExt;
    pub use crate::read_at_snapshot::ReadAtSnapshotExt;
    pub use crate::soft_delete::SoftDeleteViewExt;
}

/// Compiles the README's example as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
