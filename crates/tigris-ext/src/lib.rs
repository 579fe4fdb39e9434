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
//!
//! # Every operation
//! | operation | crate | call |
//! | --- | --- | --- |
//! | Tigris configuration | `tigris-core` | `config::builder()…build()`, `config::s3_client(&sdk)`, `config::from_env()` |
//! | create with snapshots / fork / regions / storage class / public listing / soft delete | `tigris-headers` | `s3.create_bucket().bucket(b).enable_snapshots()` / `.fork_of(&src)` / `.fork_of_snapshot(&src, &v)` / `.regions(r)` / `.storage_class(c)` / `.public_listing(true)` / `.enable_soft_delete(r)` |
//! | force delete | `tigris-headers` | `s3.delete_bucket().bucket(b).force_delete()` |
//! | read at a snapshot | `tigris-headers` | `s3.get_object()…at_snapshot(&v)` (also head, list) |
//! | consistent read | `tigris-headers` | `s3.get_object()…consistent_read()` |
//! | metadata query | `tigris-headers` | `s3.list_objects_v2()…query(&q)` |
//! | deleted views | `tigris-headers` | `s3.list_objects_v2()…soft_deleted()`, `s3.list_object_versions()…soft_deleted()` |
//! | take / list / delete a snapshot | `tigris-headers` | `s3.create_snapshot().bucket(b)`, `s3.list_snapshots().bucket(b).into_paginator()`, `s3.delete_snapshot().bucket(b).version(v)` |
//! | bucket info | `tigris-headers` | `s3.bucket_info().bucket(b)` |
//! | rename | `tigris-headers` | `s3.move_object().bucket(b).from_key(x).to_key(y)` |
//! | restore / purge a deleted object | `tigris-headers` | `s3.restore_deleted_object().bucket(b).key(k)`, `s3.purge_deleted_object().bucket(b).key(k).version_id(v)` |
//! | list forks | `tigris-api` | `tigris.list_forks().bucket(b).into_paginator()` |
//! | merge / rebase a fork | `tigris-api` | `tigris.merge_fork().fork(f).parent(p)`, `tigris.rebase_fork().fork(f)` |
//! | bucket metadata | `tigris-api` | `tigris.bucket_metadata().bucket(b)` |
//! | change bucket settings (soft delete included) | `tigris-api` | `tigris.update_bucket().bucket(b)…` |
//! | detailed / deleted bucket listing | `tigris-api` | `tigris.list_buckets_detailed().into_paginator()`, `tigris.list_deleted_buckets().into_paginator()` |
//! | restore a deleted bucket | `tigris-api` | `tigris.restore_bucket().bucket(b)` |
//! | account statistics | `tigris-api` | `tigris.account_stats()` |
//! | bundle | `tigris-api` | `tigris.bundle().bucket(b).keys(ks)` |
//! | presigned URL / POST form | `tigris-api` | `tigris.presign_url().bucket(b).key(k)`, `tigris.presigned_post().bucket(b).key(k)` |
//! | scoped access key | `tigris-iam` | `TigrisIam::new(&sdk).create_scoped_key()…` |
//! | object notifications | `tigris-notify` | `Notifications::new(transport).set(&b, &config)`, `.clear(&b)`; `WebhookPayload::from_slice` |
//! | workspaces, forks, checkpoints, merge, pull, leases, queues | `tigris-agent-kit` | `AgentKit::new(&sdk)?.create_workspace().bucket(..)`, `.create_forks().base(..).count(n)`, `.checkpoint().bucket(..)`, `.restore().bucket(..).version(v)`, `.list_checkpoints().bucket(..).into_paginator()`, `.diff().fork(..)`, `.merge().fork(..)`, `.pull().bucket(..).destination(dir)`, `.lease().bucket(..).key(k)`, `.task_queue().bucket(..).prefix(p)` |
//!
//! `s3` is `config::s3_client(&sdk)` with `use tigris_ext::prelude::*;`; `tigris` is
//! `tigris_ext::api::Client::new(&sdk)?`.
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
