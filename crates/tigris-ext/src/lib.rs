#![doc = include_str!("../README.md")]
//!
//! # Crate organization
//! Each layer is a module behind a default-on feature, so each keeps its own `Error`:
//! - [`headers`] (feature `headers`): the `X-Tigris-*` options and operations on `aws-sdk-s3`
//!   (snapshots, forks, force delete, rename, soft delete, metadata queries).
//! - [`api`] (feature `api`): Tigris's own endpoints behind one `tigris_api::Client` (fork
//!   listing, merge and rebase, bucket metadata and settings, deleted buckets, account
//!   statistics, bundles, presigning).
//! - [`iam`] (feature `iam`): per-bucket scoped access keys with rollback.
//! - [`notify`] (feature `notify`): object notifications and the webhook receiving side.
//! - [`agent_kit`] (feature `agent-kit`, the default, which enables the three others):
//!   workspaces, parallel forks, checkpoints and coordination for fleets of agents.
//! - [`config`]: the `SdkConfig` for Tigris, explicit or from the environment (always present).
//! - [`prelude`]: the extension traits, for `use tigris_ext::prelude::*;`.
#![cfg_attr(docsrs, feature(doc_cfg))]

/// The `aws-sdk-s3` this release was built against, for callers who want to stay in lockstep.
pub use aws_sdk_s3;
pub use tigris_core::{BucketName, ErrorKind, InvalidBucketName};

pub mod transport {
    //! The signed transport for Tigris's non-S3 endpoints. See [`tigris_core::transport`].
    pub use tigris_core::transport::*;
}

pub mod config;

#[cfg(feature = "headers")]
pub mod headers {
    //! The `X-Tigris-*` options and operations on `aws-sdk-s3`. See [`tigris_headers`].
    pub use tigris_headers::*;
}

#[cfg(feature = "api")]
pub mod api {
    //! Tigris's own endpoints behind one `Client`. See [`tigris_api`].
    pub use tigris_api::*;
}

#[cfg(feature = "iam")]
pub mod iam {
    //! Per-bucket scoped access keys with rollback. See [`tigris_iam`].
    pub use tigris_iam::*;
}

#[cfg(feature = "notify")]
pub mod notify {
    //! Object notifications and webhook events. See [`tigris_notify`].
    pub use tigris_notify::*;
}

#[cfg(feature = "agent-kit")]
pub mod agent_kit {
    //! Workspaces, forks, checkpoints and coordination. See [`tigris_agent_kit`].
    pub use tigris_agent_kit::*;
}

/// The extension traits: `use tigris_ext::prelude::*;` makes the Tigris builder methods appear on
/// `aws-sdk-s3` clients and operations.
pub mod prelude {
    #[cfg(feature = "headers")]
    pub use tigris_headers::prelude::*;
}
