//! The receiving side: Tigris's webhook event payload and a check of the `Authorization` header
//! it sends. Framework-agnostic: everything takes bytes or `http` crate types.
//!
//! Tigris delivers at least once and not necessarily in order: make handlers idempotent, and
//! answer 2xx only once an event is safely handled (anything else is retried).

mod auth;
mod event;

pub use auth::WebhookAuth;
pub use event::{EventName, EventObject, ObjectEvent, WebhookPayload};
