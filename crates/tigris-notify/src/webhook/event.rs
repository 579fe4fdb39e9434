//! The event payload Tigris POSTs to a webhook.

use std::fmt;

use serde::{Deserialize, Deserializer};

use crate::error::{Error, ErrorKind, Result};

/// The body of one webhook request: one or more object events.
///
/// ```
/// use tigris_notify::{EventName, WebhookPayload};
/// let body = br#"{"events":[{"eventVersion":"1","eventSource":"tigris","eventName":"OBJECT_CREATED_PUT",
///   "eventTime":"2023-05-15T10:30:00.000Z","bucket":"my-bucket",
///   "object":{"key":"path/to/myfile.txt","size":1024,"eTag":"d41d8cd98f00b204e9800998ecf8427e"}}]}"#;
/// let payload = WebhookPayload::from_slice(body)?;
/// let event = &payload.events()[0];
/// assert_eq!(event.name(), &EventName::ObjectCreatedPut);
/// assert_eq!((event.bucket(), event.object().key(), event.object().size()), ("my-bucket", "path/to/myfile.txt", 1024));
/// # Ok::<(), tigris_notify::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WebhookPayload {
    events: Vec<ObjectEvent>,
}

impl WebhookPayload {
    /// Parses a webhook request body.
    ///
    /// Unknown fields are ignored and unknown event names kept as [`EventName::Unknown`], so a
    /// newer Tigris does not break an older receiver.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when the body is not JSON of that shape (no `events`
    /// array, an event without `eventName`, `bucket` or `object.key`, a size that is not a
    /// non-negative integer).
    pub fn from_slice(body: &[u8]) -> Result<Self> {
        serde_json::from_slice(body).map_err(|e| {
            Error::new(
                ErrorKind::InvalidInput,
                "the webhook body is not a Tigris event payload",
            )
            .with_source(e)
        })
    }

    /// The events, in the order Tigris sent them (not necessarily the order they happened).
    pub fn events(&self) -> &[ObjectEvent] {
        &self.events
    }

    /// The events, owned.
    pub fn into_events(self) -> Vec<ObjectEvent> {
        self.events
    }
}

impl IntoIterator for WebhookPayload {
    type Item = ObjectEvent;
    type IntoIter = std::vec::IntoIter<ObjectEvent>;

    fn into_iter(self) -> Self::IntoIter {
        self.events.into_iter()
    }
}

/// One change to one object.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectEvent {
    #[serde(default)]
    event_version: String,
    #[serde(default)]
    event_source: String,
    event_name: EventName,
    #[serde(default)]
    event_time: String,
    bucket: String,
    object: EventObject,
}

impl ObjectEvent {
    /// What happened.
    pub fn name(&self) -> &EventName {
        &self.event_name
    }

    /// The bucket the object is in.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The object concerned.
    pub fn object(&self) -> &EventObject {
        &self.object
    }

    /// When it happened, as sent (RFC 3339, e.g. `2023-05-15T10:30:00.000Z`); empty if absent.
    pub fn time(&self) -> &str {
        &self.event_time
    }

    /// [`time`](Self::time) parsed; `None` when absent or not RFC 3339.
    pub fn timestamp(&self) -> Option<time::OffsetDateTime> {
        time::OffsetDateTime::parse(
            &self.event_time,
            &time::format_description::well_known::Rfc3339,
        )
        .ok()
    }

    /// The payload version (`"1"`).
    pub fn version(&self) -> &str {
        &self.event_version
    }

    /// Who sent it (`"tigris"`).
    pub fn source(&self) -> &str {
        &self.event_source
    }
}

/// The object an event is about.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct EventObject {
    key: String,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default, rename = "eTag")]
    etag: Option<String>,
}

impl EventObject {
    /// The object key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The size in bytes; `0` when the event carries none (as deletions may not).
    pub fn size(&self) -> u64 {
        self.size.unwrap_or(0)
    }

    /// The entity tag, when the event carries one.
    pub fn etag(&self) -> Option<&str> {
        self.etag.as_deref()
    }
}

/// The kind of change, from the event's `eventName`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventName {
    /// `OBJECT_CREATED_PUT`: a PutObject.
    ObjectCreatedPut,
    /// `OBJECT_CREATED_MULTIPART`: a completed multipart upload.
    ObjectCreatedMultipart,
    /// `OBJECT_CREATED_COPY`: a CopyObject.
    ObjectCreatedCopy,
    /// `OBJECT_DELETED`: a deletion.
    ObjectDeleted,
    /// `OBJECT_TRANSITIONED`: a storage-class transition.
    ObjectTransitioned,
    /// `OBJECT_RENAME`: a rename.
    ObjectRename,
    /// A name this version does not know, kept verbatim.
    Unknown(String),
}

impl EventName {
    /// The name as Tigris spells it, e.g. `OBJECT_CREATED_PUT`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::ObjectCreatedPut => "OBJECT_CREATED_PUT",
            Self::ObjectCreatedMultipart => "OBJECT_CREATED_MULTIPART",
            Self::ObjectCreatedCopy => "OBJECT_CREATED_COPY",
            Self::ObjectDeleted => "OBJECT_DELETED",
            Self::ObjectTransitioned => "OBJECT_TRANSITIONED",
            Self::ObjectRename => "OBJECT_RENAME",
            Self::Unknown(name) => name,
        }
    }

    /// Whether the object now exists with new content (put, multipart, copy).
    pub fn is_created(&self) -> bool {
        matches!(
            self,
            Self::ObjectCreatedPut | Self::ObjectCreatedMultipart | Self::ObjectCreatedCopy
        )
    }
}

impl From<&str> for EventName {
    fn from(name: &str) -> Self {
        match name {
            "OBJECT_CREATED_PUT" => Self::ObjectCreatedPut,
            "OBJECT_CREATED_MULTIPART" => Self::ObjectCreatedMultipart,
            "OBJECT_CREATED_COPY" => Self::ObjectCreatedCopy,
            "OBJECT_DELETED" => Self::ObjectDeleted,
            "OBJECT_TRANSITIONED" => Self::ObjectTransitioned,
            "OBJECT_RENAME" => Self::ObjectRename,
            other => Self::Unknown(other.to_owned()),
        }
    }
}

impl fmt::Display for EventName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Ok(Self::from(name.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCS_EXAMPLE: &str = r#"{"events":[{"eventVersion":"1","eventSource":"tigris","eventName":"OBJECT_CREATED_PUT",
        "eventTime":"2023-05-15T10:30:00.000Z","bucket":"my-bucket",
        "object":{"key":"path/to/myfile.txt","size":1024,"eTag":"d41d8cd98f00b204e9800998ecf8427e"}}]}"#;

    fn event(name: &str, object: &str) -> String {
        format!(
            r#"{{"eventVersion":"1","eventSource":"tigris","eventName":"{name}","eventTime":"2024-01-02T03:04:05Z","bucket":"b1","object":{object}}}"#
        )
    }

    #[test]
    fn the_documented_example_parses() {
        let payload = WebhookPayload::from_slice(DOCS_EXAMPLE.as_bytes()).unwrap();
        let [event] = payload.events() else {
            panic!("one event expected")
        };
        assert_eq!(event.version(), "1");
        assert_eq!(event.source(), "tigris");
        assert_eq!(event.name(), &EventName::ObjectCreatedPut);
        assert_eq!(event.time(), "2023-05-15T10:30:00.000Z");
        assert_eq!(event.timestamp().unwrap().unix_timestamp(), 1_684_146_600);
        assert_eq!(event.bucket(), "my-bucket");
        assert_eq!(event.object().key(), "path/to/myfile.txt");
        assert_eq!(event.object().size(), 1024);
        assert_eq!(
            event.object().etag(),
            Some("d41d8cd98f00b204e9800998ecf8427e")
        );
    }

    #[test]
    fn every_documented_name_maps_to_its_variant_and_back() {
        for (wire, name) in [
            ("OBJECT_CREATED_PUT", EventName::ObjectCreatedPut),
            (
                "OBJECT_CREATED_MULTIPART",
                EventName::ObjectCreatedMultipart,
            ),
            ("OBJECT_CREATED_COPY", EventName::ObjectCreatedCopy),
            ("OBJECT_DELETED", EventName::ObjectDeleted),
            ("OBJECT_TRANSITIONED", EventName::ObjectTransitioned),
            ("OBJECT_RENAME", EventName::ObjectRename),
        ] {
            let body = format!(
                r#"{{"events":[{}]}}"#,
                event(wire, r#"{"key":"k","size":1}"#)
            );
            let payload = WebhookPayload::from_slice(body.as_bytes()).unwrap();
            assert_eq!(payload.events()[0].name(), &name);
            assert_eq!(name.as_str(), wire);
            assert_eq!(name.to_string(), wire);
        }
    }

    #[test]
    fn unknown_names_and_fields_are_kept_or_ignored() {
        let body = format!(
            r#"{{"events":[{}],"extra":true}}"#,
            event(
                "OBJECT_RESTORED",
                r#"{"key":"k","size":5,"eTag":"e","versionId":"v"}"#
            )
        );
        let payload = WebhookPayload::from_slice(body.as_bytes()).unwrap();
        assert_eq!(
            payload.events()[0].name(),
            &EventName::Unknown("OBJECT_RESTORED".into())
        );
        assert!(!payload.events()[0].name().is_created());
    }

    #[test]
    fn deletions_may_omit_size_and_etag() {
        let body = format!(
            r#"{{"events":[{}]}}"#,
            event("OBJECT_DELETED", r#"{"key":"gone.txt"}"#)
        );
        let payload = WebhookPayload::from_slice(body.as_bytes()).unwrap();
        let object = payload.events()[0].object();
        assert_eq!(
            (object.key(), object.size(), object.etag()),
            ("gone.txt", 0, None)
        );
    }

    #[test]
    fn several_events_keep_their_order() {
        let body = format!(
            r#"{{"events":[{},{}]}}"#,
            event("OBJECT_CREATED_PUT", r#"{"key":"a","size":1}"#),
            event("OBJECT_DELETED", r#"{"key":"b"}"#)
        );
        let keys: Vec<_> = WebhookPayload::from_slice(body.as_bytes())
            .unwrap()
            .into_iter()
            .map(|e| e.object().key().to_owned())
            .collect();
        assert_eq!(keys, ["a", "b"]);
    }

    #[test]
    fn sizes_beyond_4_gib_fit() {
        let body = format!(
            r#"{{"events":[{}]}}"#,
            event(
                "OBJECT_CREATED_MULTIPART",
                r#"{"key":"big","size":5000000000}"#
            )
        );
        assert_eq!(
            WebhookPayload::from_slice(body.as_bytes())
                .unwrap()
                .events()[0]
                .object()
                .size(),
            5_000_000_000
        );
    }

    #[test]
    fn malformed_payloads_are_a_typed_error() {
        for body in [
            "",
            "not json",
            "{}",
            r#"{"events":{}}"#,
            r#"{"events":[{"bucket":"b","object":{"key":"k"}}]}"#,
            r#"{"events":[{"eventName":"OBJECT_DELETED","object":{"key":"k"}}]}"#,
            r#"{"events":[{"eventName":"OBJECT_DELETED","bucket":"b","object":{}}]}"#,
            r#"{"events":[{"eventName":"OBJECT_CREATED_PUT","bucket":"b","object":{"key":"k","size":-1}}]}"#,
        ] {
            let err = WebhookPayload::from_slice(body.as_bytes()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{body}");
            assert_eq!(
                err.to_string(),
                "the webhook body is not a Tigris event payload"
            );
        }
    }

    #[test]
    fn an_empty_event_list_is_valid() {
        assert!(
            WebhookPayload::from_slice(br#"{"events":[]}"#)
                .unwrap()
                .events()
                .is_empty()
        );
    }
}
