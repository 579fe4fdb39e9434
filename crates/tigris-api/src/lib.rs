//! Tigris's own endpoints, outside the S3 API, behind one [`Client`].
//!
//! `aws-sdk-s3` (with [`tigris-headers`](https://docs.rs/tigris-headers) for the `X-Tigris-*`
//! options) covers the S3 API. Tigris also serves endpoints of its own: JSON bucket listings,
//! bucket metadata and settings, deleted buckets, account statistics, many objects as one tar
//! bundle, and a presign endpoint. This crate reaches them through one [`Client`], built from
//! the same `SdkConfig`, with the SDK's shape: a method per operation, named setters, `.send()`
//! for one answer, and `into_paginator()` for listings.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use aws_sdk_s3::config::Credentials;
//!
//! let sdk = tigris_core::config::builder()
//!     .credentials(Credentials::new("tid_...", "tsec_...", None, None, "example"))
//!     .build();
//! let tigris = tigris_api::Client::new(&sdk)?;
//!
//! let mut forks = tigris.list_forks().bucket("datasets").into_paginator().items().send();
//! while let Some(fork) = forks.try_next().await? {
//!     println!("{} forked from {:?}", fork.name(), fork.snapshot());
//! }
//! let merged = tigris.merge_fork().fork("datasets-exp").parent("datasets").send().await?;
//! let link = tigris.presign_url().bucket("datasets").key("train.csv").send().await?;
//! # let _ = (merged, link);
//! # Ok(()) }
//! ```
//!
//! # Operations
//! | operation | call | wire |
//! | --- | --- | --- |
//! | list a bucket's forks | [`list_forks`](Client::list_forks) | `GET /` + `X-Tigris-Fork` |
//! | merge a fork into its parent | [`merge_fork`](Client::merge_fork) | `PUT /{parent}` + `X-Tigris-Merge-Source-Bucket` |
//! | rebase a fork | [`rebase_fork`](Client::rebase_fork) | `PUT /{fork}` + `X-Tigris-Rebase` |
//! | bucket metadata | [`bucket_metadata`](Client::bucket_metadata) | `GET /{bucket}?metadata` |
//! | change bucket settings (soft delete included) | [`update_bucket`](Client::update_bucket) | `PATCH /{bucket}` |
//! | detailed bucket listing | [`list_buckets_detailed`](Client::list_buckets_detailed) | `GET /` (JSON) |
//! | deleted buckets | [`list_deleted_buckets`](Client::list_deleted_buckets) | `GET /?OnlyDeleted=true` |
//! | restore a deleted bucket | [`restore_bucket`](Client::restore_bucket) | `POST /{bucket}?restore` |
//! | account statistics | [`account_stats`](Client::account_stats) | `GET /` (JSON) + `IncludeStats=true`, summed over the pages |
//! | many objects as one tar | [`bundle`](Client::bundle) | `POST /{bucket}?bundle` |
//! | presigned GET/PUT URL | [`presign_url`](Client::presign_url) | `POST /?func=presign` |
//! | browser upload form | [`presigned_post`](Client::presigned_post) | signed locally, no request |
//!
//! # Crate organization
//! One module per operation, named after the `Client` method and adding its own
//! `impl Client` with that method, its builder, its paginator if it lists, and the types it
//! answers with: [`list_forks`], [`merge_fork`], [`rebase_fork`], [`bucket_metadata`],
//! [`update_bucket`], [`list_buckets_detailed`], [`list_deleted_buckets`], [`restore_bucket`],
//! [`account_stats`], [`bundle`], [`presign`] (`presign_url`), [`presigned_post`]. An
//! operation added later gets its own file the same way. [`error`] holds the crate's
//! [`Error`]; the wire helpers the operations share are private.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings), allow(dead_code))))]

pub mod account_stats;
pub mod bucket_metadata;
pub mod bundle;
mod client;
pub mod error;
pub mod list_buckets_detailed;
pub mod list_deleted_buckets;
pub mod list_forks;
pub mod merge_fork;
pub mod presign;
pub mod presigned_post;
pub mod rebase_fork;
pub mod restore_bucket;
pub mod update_bucket;
mod wire;

#[cfg(test)]
mod no_panic;

pub use client::Client;
pub use error::{Error, ErrorKind, Result};
pub use tigris_core::pagination::PaginationStream;

/// Compiles the README's example as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
