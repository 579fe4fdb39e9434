#![cfg_attr(docsrs, feature(doc_cfg))]
//! Per-bucket scoped access keys for Tigris, on `aws-sdk-iam`: create a key that may only act
//! on some buckets with a role (and optionally only until a given time), and revoke it, with
//! nothing left behind when a step fails.
//!
//! # Examples
//! ```no_run
//! # async fn demo(sdk: aws_types::SdkConfig) -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::{Duration, SystemTime};
//! use tigris_iam::{Role, TigrisIam};
//!
//! // `sdk` is the SdkConfig the S3 client was built from: the IAM client shares its
//! // credentials. (`aws_sdk_s3::Config` cannot hand its credentials back, so keep the SdkConfig.)
//! let iam = TigrisIam::new(&sdk);
//! let key = iam
//!     .create_scoped_key()
//!     .name("agent-7")
//!     .bucket("agent-7-workspace".parse()?)
//!     .role(Role::Editor)
//!     .expires_at(SystemTime::now() + Duration::from_secs(3600))
//!     .send()
//!     .await?;
//!
//! // Hand the agent its own credentials: they work on `agent-7-workspace` only.
//! let agent_credentials = key.to_credentials();
//! # drop(agent_credentials);
//!
//! // When the agent is done: detach, delete the policy, delete the key.
//! iam.revoke(&key).await?;
//! # Ok(()) }
//! ```
//!
//! # What it owns
//! A scoped key is three IAM resources on Tigris: an access key, a policy allowing the role's
//! S3 actions on the buckets, and the policy's attachment to the key (Tigris uses the access key
//! id as the IAM user name). This crate creates the three as one operation: if a step fails, the
//! steps already done are undone in reverse, each undo attempted even if another fails, and
//! whatever could not be removed is returned in the error as [`Leftover`]s rather than
//! forgotten. Revoking undoes the three and is idempotent. Expiry is a `DateLessThan` condition
//! on `aws:CurrentTime` in the policy, the only expiry Tigris documents.
//!
//! A request that fails *ambiguously* (a timeout, a dropped connection, a server error: it may
//! have been carried out and only the response lost) is undone as if it had succeeded. The
//! policy is named after the new key's id, so a policy whose creation response was lost is
//! found again by name and deleted ([`Leftover::PolicyNamed`] if that fails); an attachment is
//! detached. The first step, `CreateAccessKey`, is sent without automatic retry (a retry after a
//! lost response makes a second key): after an ambiguous failure the keys created since it was
//! sent are listed; none means it is tried again, some are reported as a
//! [`Leftover::MaybeAccessKey`] with those candidate ids, so no key is ever left unnamed. No
//! policy is attached to such a key, so it grants no access to any bucket.
//!
//! The secret is a [`SecretAccessKey`]: redacted in `Debug`, no `Display`, no `Serialize`, read
//! only through [`SecretAccessKey::expose_secret`].
//!
//! # Crate organization
//! - [`TigrisIam`] / [`TigrisIamBuilder`]: the client, built from an `aws_types::SdkConfig`;
//!   endpoint `https://iam.storageapi.dev`, overridden by the builder (`tigris_ext::config::iam_endpoint_from_env` reads
//!   `$TIGRIS_IAM_ENDPOINT`).
//! - [`CreateScopedKey`]: the builder behind [`TigrisIam::create_scoped_key`].
//! - [`ScopedAccessKey`], [`SecretAccessKey`]: what creation returns.
//! - [`Role`]: `Editor` (`s3:*`) or `ReadOnly` (`s3:GetObject`, `s3:ListBucket`), each
//!   naming only [`SUPPORTED_ACTIONS`].
//! - [`Error`], [`ErrorKind`], [`Operation`], [`Leftover`]: one error type for every call.
//!
//! Bucket names are [`tigris_core::BucketName`]s, validated before any request.

mod bucket_roles;
mod client;
mod create;
pub mod error;
mod key;
mod policy;
mod undo;

pub use bucket_roles::{CreateKeyWithBucketRoles, KeyWithBucketRoles};
pub use client::{DEFAULT_IAM_ENDPOINT, TigrisIam, TigrisIamBuilder};
pub use create::{CreateScopedKey, KEY_CLOCK_MARGIN, MAX_KEY_NAME_LEN};
pub use error::{Error, ErrorKind, Leftover, Operation, Result};
pub use key::{ScopedAccessKey, SecretAccessKey};
pub use policy::{Role, SUPPORTED_ACTIONS, UnknownRole};
pub use tigris_core::BucketName;

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
