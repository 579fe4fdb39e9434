//! Tigris snapshots, forks, force delete and rename for the official `aws-sdk-s3` client.
//!
//! Everything here extends the S3 client you already use: `use tigris_headers::prelude::*;`
//! and the Tigris options appear on the builders of the operations that support them, and
//! the Tigris-only operations appear on `aws_sdk_s3::Client`. Every Tigris header is added to
//! one request only, before signing, so SigV4 covers it; nothing is shared between calls.
//!
//! # Examples
//! ```no_run
//! use aws_sdk_s3::config::Credentials;
//! use tigris_headers::config::{s3_client, TigrisConfig};
//! use tigris_headers::prelude::*;
//! use tigris_headers::BucketName;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let sdk = TigrisConfig::builder()
//!     .credentials(Credentials::new("tid_...", "tsec_...", None, None, "example"))
//!     .build();
//! let s3 = s3_client(&sdk);
//!
//! s3.create_bucket().bucket("datasets").enable_snapshots().send().await?;
//! let version = s3.create_snapshot("datasets").name("before-cleanup").send().await?;
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
//! - Options on S3 operations: [`create_bucket`] (snapshots enabled, forks),
//!   [`read_at_snapshot`] (get, head and list as of a snapshot), [`consistent_read`] (get and
//!   head from the home region, `X-Tigris-CAS`), [`query`] (list by metadata,
//!   `X-Tigris-Query`), [`delete_bucket`] (force delete).
//! - Tigris-only operations, started from [`TigrisClientExt`]: [`snapshot`] (create, list,
//!   delete), [`bucket_info`] (snapshot and fork settings), [`rename`] (move an object),
//!   and [`presigned_post`] (browser upload forms, which `aws-sdk-s3` lacks).
//! - Tigris endpoints outside the S3 API, started from [`TigrisTransportExt`] on the
//!   [`SignedTransport`]: [`fork`] (list a bucket's forks, merge a fork into its parent,
//!   rebase a fork), [`bucket_metadata`] (placement, type, lineage, settings),
//!   [`bucket_settings`] (change placement, storage class, access, cache control, custom
//!   domain, delete protection, extra headers; also set at creation through [`create_bucket`]),
//!   [`account`] (the detailed bucket listing and account statistics), [`bundle`]
//!   (many objects as one streamed tar), [`presign`] (GET and PUT URLs up to 90 days, GETs
//!   pinned to a snapshot).
//! - [`soft_delete`]: soft delete on at creation or later, the deleted-object views, restore
//!   and purge of objects, deleted buckets and their restore.
//! - [`config`]: an `SdkConfig` and S3 client set up for Tigris.
//! - [`names`]: validated [`BucketName`], [`SnapshotVersion`] and [`SnapshotName`].
//! - [`error`]: the crate's [`Error`] and [`ErrorKind`].
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings), allow(dead_code))))]

pub mod account;
pub mod bucket_info;
pub mod bucket_metadata;
pub mod bucket_settings;
pub mod bundle;
pub mod client;
pub mod config;
pub mod consistent_read;
pub mod create_bucket;
pub mod delete_bucket;
pub mod error;
pub mod fork;
pub mod names;
pub mod presign;
pub mod presigned_post;
pub mod query;
pub mod read_at_snapshot;
pub mod rename;
pub mod snapshot;
pub mod soft_delete;

mod header;

pub use client::{TigrisClientExt, TigrisTransportExt};
pub use consistent_read::ConsistentReadExt;
pub use create_bucket::CreateBucketExt;
pub use delete_bucket::DeleteBucketExt;
pub use error::{Error, ErrorKind, Result};
pub use names::{BucketName, SnapshotName, SnapshotVersion};
pub use query::MetadataQueryExt;
pub use read_at_snapshot::ReadAtSnapshotExt;
pub use tigris_core::transport::SignedTransport;

/// The extension traits, for `use tigris_headers::prelude::*;`.
pub mod prelude {
    pub use crate::client::{TigrisClientExt, TigrisTransportExt};
    pub use crate::consistent_read::ConsistentReadExt;
    pub use crate::create_bucket::CreateBucketExt;
    pub use crate::delete_bucket::DeleteBucketExt;
    pub use crate::query::MetadataQueryExt;
    pub use crate::read_at_snapshot::ReadAtSnapshotExt;
    pub use crate::soft_delete::{
        SoftDeleteClientExt, SoftDeleteCreateExt, SoftDeleteTransportExt, SoftDeleteViewExt,
    };
}

/// Compiles the README's example as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
