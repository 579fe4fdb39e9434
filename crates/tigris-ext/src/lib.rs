#![doc = include_str!("../README.md")]
//!
//! # Crate organization
//! Each layer is a module behind a default-on feature, so each keeps its own `Error`:
//! - [`headers`] (feature `headers`): snapshots, forks, force delete, rename on `aws-sdk-s3`.
//! - [`iam`] (feature `iam`): per-bucket scoped access keys with rollback.
//! - [`notify`] (feature `notify`): object notifications and the webhook receiving side.
//! - [`agent_kit`] (feature `agent-kit`, the default, which enables the three others):
//!   workspaces, parallel forks, checkpoints and coordination for fleets of agents.
//! - [`config`]: one `SdkConfig` for Tigris from the environment.
//! - [`prelude`]: the extension traits, for `use tigris_ext::prelude::*;`.
#![cfg_attr(docsrs, feature(doc_cfg))]

/// The `aws-sdk-s3` this release was built against, for callers who want to stay in lockstep.
pub use aws_sdk_s3;
pub use tigris_core::{BucketName, ErrorKind, InvalidBucketName};

pub mod transport {
    //! The signed transport for Tigris's non-S3 endpoints. See [`tigris_core::transport`].
    pub use tigris_core::transport::*;
}

#[cfg(feature = "headers")]
pub mod config;

#[cfg(feature = "headers")]
pub mod headers {
    //! Snapshots, forks, force delete and rename on `aws-sdk-s3` operations. See [`tigris_headers`].
    pub use tigris_headers::*;
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
