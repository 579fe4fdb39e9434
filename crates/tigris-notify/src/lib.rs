#![cfg_attr(docsrs, feature(doc_cfg))]
//! Tigris object notifications (webhooks) for Rust services that use `aws-sdk-s3`: configure
//! them on a bucket, and receive them with typed events and a constant-time auth check.
//!
//! Tigris configures notifications with `PATCH /{bucket}`, an endpoint outside the S3 API,
//! sent through the workspace's signed transport ([`SignedTransport`], from `tigris-core`),
//! built from the same [`SdkConfig`](aws_types::SdkConfig) as the S3 client: its HTTP client,
//! retry and timeout settings apply.
//!
//! # Examples
//! Configure a webhook, then check and parse what Tigris sends to it:
//! ```no_run
//! # async fn _demo(sdk: &aws_types::SdkConfig, request: http::Request<bytes::Bytes>) -> Result<(), Box<dyn std::error::Error>> {
//! use tigris_notify::{NotificationConfig, Notifications, SignedTransport, WebhookPayload};
//!
//! let notifications = Notifications::new(SignedTransport::new(sdk)?);
//! let config = NotificationConfig::builder("https://agents.example.com/tigris-events")
//!     .filter(r#"WHERE `key` REGEXP "^results/""#)
//!     .token("a-long-random-token")
//!     .build()?; // validated here, before any request
//! notifications.set(&"agent-results".parse()?, &config).await?;
//!
//! // In the webhook handler (any framework that gives you `http` types):
//! let auth = config.webhook_auth().expect("the config has auth");
//! auth.verify(&request)?; // answer 401 on error
//! for event in WebhookPayload::from_slice(request.body())? {
//!     println!("{} {} ({} bytes)", event.name(), event.object().key(), event.object().size());
//! }
//! # Ok(()) }
//! ```
//!
//! # Crate organization
//! - [`SignedTransport`]: the signed transport, re-exported from `tigris-core`.
//! - [`Notifications`] and [`NotificationConfig`]: set and clear a bucket's notifications.
//! - [`webhook`]: the receiving side, [`WebhookPayload`] / [`ObjectEvent`] / [`EventName`] and
//!   [`WebhookAuth`]; `examples/webhook_receiver.rs` is a complete receiver on hyper.
//! - [`receiver::WebhookReceiver`]: a ready-made local webhook endpoint yielding typed events.
//! - [`WebhookToken`] / [`WebhookPassword`]: the webhook secrets, redacted in `Debug`.
//! - [`error`]: [`Error`] and [`ErrorKind`] (the workspace's, from `tigris-core`).
//!
//! # Tigris vs S3
//! S3's `PutBucketNotificationConfiguration` is not supported by Tigris; its notifications are
//! plain HTTP POSTs of JSON to one URL per bucket, optionally filtered with a SQL-like `WHERE`
//! clause, authenticated with a bearer token or basic auth, delivered at least once and possibly
//! out of order.
#![doc(test(attr(deny(warnings))))]

pub mod error;
pub mod webhook;

mod notifications;
pub mod receiver;
mod secret;

pub use error::{Error, ErrorKind, Result};
pub use notifications::{NotificationConfig, NotificationConfigBuilder, Notifications};
pub use secret::{WebhookPassword, WebhookToken};
pub use tigris_core::transport::SignedTransport;
pub use webhook::{EventName, EventObject, ObjectEvent, WebhookAuth, WebhookPayload};

/// Keeps the README's example compiling.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
