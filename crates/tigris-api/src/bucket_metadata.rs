//! A bucket's Tigris metadata from `GET /{bucket}?metadata`: placement, type, fork lineage,
//! soft delete, notifications and more. `tigris_headers::bucket_info` is the cheaper
//! HeadBucket variant when the snapshot and fork flags are all you need.

use std::time::SystemTime;

use http::{HeaderValue, Method};
use serde_json::{Map, Value};
use tigris_core::transport::{SignedTransport, TigrisRequest};
use tracing::Instrument;

use crate::error::{Error, Operation, Result};
use crate::list_forks::ForkParent;
use crate::wire::bucket_name;
use crate::wire::{parse_fork_info, timestamp};

/// What kind of bucket Tigris says it is (`type` in the metadata).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BucketType {
    /// `0`: no snapshots.
    Regular,
    /// `1`: snapshots enabled; it can be snapshotted and forked.
    Snapshot,
    /// A value this crate does not know.
    Other(i64),
}

/// Soft delete: whether deleted objects stay recoverable, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SoftDelete {
    /// Whether soft delete is on.
    pub enabled: bool,
    /// How many days deleted objects are kept, when Tigris says.
    pub retention_days: Option<u32>,
}

/// How webhook deliveries authenticate. Tigris masks the secrets on readback, so only the kind
/// (and the basic-auth user) is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotificationAuth {
    /// No `Authorization` header.
    None,
    /// A bearer token.
    Token,
    /// Basic auth as this user.
    Basic {
        /// The user name, if Tigris shows it.
        user: Option<String>,
    },
}

/// The bucket's object-notification (webhook) settings, secrets masked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NotificationSettings {
    /// Whether events are delivered.
    pub enabled: bool,
    /// The webhook URL.
    pub url: Option<String>,
    /// The event filter.
    pub filter: Option<String>,
    /// How deliveries authenticate.
    pub auth: NotificationAuth,
}

/// Size estimates, present when asked for with [`BucketMetadataFluentBuilder::with_size`].
/// Tigris updates them asynchronously; they can trail recent writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SizeEstimate {
    /// Objects (current versions).
    pub objects: Option<u64>,
    /// Bytes of those objects.
    pub bytes: Option<u64>,
    /// Objects counting every retained version.
    pub objects_all_versions: Option<u64>,
}

/// A bucket's Tigris metadata; from [`BucketMetadataFluentBuilder::send`].
///
/// Fields this crate does not model (lifecycle rules, CORS, shares, ...) are kept as JSON in
/// [`extra`](Self::extra), so a new Tigris field never makes the call fail.
///
/// ```no_run
/// # async fn demo(tigris: tigris_api::Client) -> Result<(), tigris_api::Error> {
///
/// let metadata = tigris.bucket_metadata().bucket("datasets").send().await?;
/// if metadata.has_children() {
///     println!("datasets has forks; delete them first");
/// }
/// println!("regions: {:?} (empty = global)", metadata.regions());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct BucketMetadata {
    name: Option<String>,
    created: Option<SystemTime>,
    bucket_type: BucketType,
    storage_class: Option<String>,
    regions: Vec<String>,
    has_children: bool,
    fork_parents: Vec<ForkParent>,
    soft_delete: SoftDelete,
    allow_object_acl: bool,
    cache_control: Option<String>,
    custom_domain: Option<String>,
    public_listing: bool,
    delete_protection: bool,
    additional_headers: Vec<(String, String)>,
    notifications: Option<NotificationSettings>,
    size: Option<SizeEstimate>,
    extra: Map<String, Value>,
}

impl BucketMetadata {
    /// The bucket's name, as Tigris reports it.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// When the bucket was created.
    pub fn created(&self) -> Option<SystemTime> {
        self.created
    }

    /// The bucket type (`type`).
    pub fn bucket_type(&self) -> BucketType {
        self.bucket_type
    }

    /// Whether the bucket can be snapshotted and forked (type 1).
    pub fn snapshots_enabled(&self) -> bool {
        self.bucket_type == BucketType::Snapshot
    }

    /// The default storage class for new objects (`STANDARD`, `STANDARD_IA`, `GLACIER`, ...).
    pub fn storage_class(&self) -> Option<&str> {
        self.storage_class.as_deref()
    }

    /// The regions objects are placed in; empty means global.
    pub fn regions(&self) -> &[String] {
        &self.regions
    }

    /// Whether other buckets were forked from this one. Tigris refreshes this asynchronously,
    /// so it can lag a new fork; [`list_forks`](crate::Client::list_forks) is current.
    pub fn has_children(&self) -> bool {
        self.has_children
    }

    /// Where this bucket was forked from, direct parent first; empty for a bucket that is no
    /// fork.
    pub fn fork_parents(&self) -> &[ForkParent] {
        &self.fork_parents
    }

    /// Soft-delete settings.
    pub fn soft_delete(&self) -> SoftDelete {
        self.soft_delete
    }

    /// Whether per-object ACLs are allowed.
    pub fn allow_object_acl(&self) -> bool {
        self.allow_object_acl
    }

    /// The default `Cache-Control` of served objects.
    pub fn cache_control(&self) -> Option<&str> {
        self.cache_control.as_deref()
    }

    /// The custom domain the bucket is served on.
    pub fn custom_domain(&self) -> Option<&str> {
        self.custom_domain.as_deref()
    }

    /// Whether anonymous requests may list the bucket (`acl_list_objects`).
    pub fn public_listing(&self) -> bool {
        self.public_listing
    }

    /// Whether delete protection is on: DeleteBucket is refused, force delete included.
    pub fn delete_protection(&self) -> bool {
        self.delete_protection
    }

    /// Headers served with every object (`additional_http_headers`), in name order.
    pub fn additional_headers(&self) -> &[(String, String)] {
        &self.additional_headers
    }

    /// The object-notification settings, with secrets masked; `None` when none are set.
    pub fn notifications(&self) -> Option<&NotificationSettings> {
        self.notifications.as_ref()
    }

    /// Size estimates, when asked for with [`BucketMetadataFluentBuilder::with_size`].
    pub fn size(&self) -> Option<SizeEstimate> {
        self.size
    }

    /// Every other field of the answer, as JSON.
    pub fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }

    pub(crate) fn parse(body: &[u8], with_size: bool, operation: &Operation) -> Result<Self> {
        let unexpected = |reason| Error::unexpected_response(operation.clone(), reason);
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| unexpected("the response body is not the expected JSON").with_source(e))?;
        let Value::Object(mut map) = value else {
            return Err(unexpected("the response body is not a JSON object"));
        };
        let mut take = |key: &str| map.remove(key).filter(|v| !v.is_null());
        let string = |v: Option<Value>| match v {
            Some(Value::String(s)) if !s.is_empty() => Some(s),
            _ => None,
        };
        let name = string(take("name"));
        let created = timestamp(take("created_at").as_ref());
        let bucket_type = match take("type") {
            None => BucketType::Regular,
            Some(v) => match v.as_i64() {
                Some(0) => BucketType::Regular,
                Some(1) => BucketType::Snapshot,
                Some(n) => BucketType::Other(n),
                None => return Err(unexpected("type is not a number")),
            },
        };
        let storage_class = string(take("storage_class"));
        let regions = string(take("object_regions"))
            .map(|r| {
                r.split(',')
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let (has_children, fork_parents) = parse_fork_info(take("ForkInfo").as_ref(), operation)?;
        let soft_delete = take("soft_delete")
            .map(|v| SoftDelete {
                enabled: v.get("enabled").and_then(Value::as_bool).unwrap_or(false),
                retention_days: v
                    .get("retention_days")
                    .and_then(Value::as_u64)
                    .and_then(|d| u32::try_from(d).ok()),
            })
            .unwrap_or_default();
        let allow_object_acl = take("acl_settings")
            .and_then(|v| v.get("allow_object_acl").and_then(Value::as_bool))
            .unwrap_or(false);
        let cache_control = string(take("cache_control"));
        let custom_domain = string(
            take("website")
                .as_ref()
                .and_then(|w| w.get("domain_name"))
                .cloned(),
        );
        let public_listing = match take("acl_list_objects") {
            Some(Value::Bool(b)) => b,
            Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
            _ => false,
        };
        let delete_protection = take("protection")
            .and_then(|v| v.get("protected").and_then(Value::as_bool))
            .unwrap_or(false);
        let mut additional_headers: Vec<(String, String)> = match take("additional_http_headers") {
            Some(Value::Object(h)) => h
                .into_iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k, v.to_owned())))
                .collect(),
            _ => Vec::new(),
        };
        additional_headers.sort();
        let notifications = take("object_notifications")
            .filter(|v| v.as_object().is_some_and(|m| !m.is_empty()))
            .map(|v| parse_notifications(&v));
        let size = if with_size {
            let mut number = |key: &str| take(key).and_then(|v| v.as_u64());
            Some(SizeEstimate {
                objects: number("estimated_unique_rows"),
                bytes: number("estimated_size"),
                objects_all_versions: number("estimated_rows"),
            })
        } else {
            None
        };
        Ok(Self {
            name,
            created,
            bucket_type,
            storage_class,
            regions,
            has_children,
            fork_parents,
            soft_delete,
            allow_object_acl,
            cache_control,
            custom_domain,
            public_listing,
            delete_protection,
            additional_headers,
            notifications,
            size,
            extra: map,
        })
    }
}

fn parse_notifications(v: &Value) -> NotificationSettings {
    let text = |key: &str| {
        v.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let auth = match v.get("auth").and_then(Value::as_object) {
        Some(a) if a.contains_key("token") => NotificationAuth::Token,
        Some(a) if a.contains_key("basic_user") => NotificationAuth::Basic {
            user: a
                .get("basic_user")
                .and_then(Value::as_str)
                .map(str::to_owned),
        },
        _ => NotificationAuth::None,
    };
    NotificationSettings {
        enabled: v.get("enabled").and_then(Value::as_bool).unwrap_or(true),
        url: text("web_hook"),
        filter: text("filter"),
        auth,
    }
}

/// Reads a bucket's Tigris metadata; from
/// [`Client::bucket_metadata`](crate::Client::bucket_metadata).
///
/// Sends `GET /{bucket}?metadata` (with `&with-size=true` when asked) with
/// `Accept: application/json`.
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct BucketMetadataFluentBuilder {
    transport: SignedTransport,
    bucket: String,
    with_size: bool,
}

impl BucketMetadataFluentBuilder {
    pub(crate) fn new(transport: SignedTransport, bucket: String) -> Self {
        Self {
            transport,
            bucket,
            with_size: false,
        }
    }

    /// The bucket to read (required).
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = bucket.as_ref().to_owned();
        self
    }

    /// Also asks for size estimates (more work for Tigris; off by default).
    pub fn with_size(mut self) -> Self {
        self.with_size = true;
        self
    }

    /// Validates the bucket name, then reads the metadata.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for an
    /// invalid bucket name; [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) when the bucket
    /// does not exist; [`ErrorKind::UnexpectedResponse`](crate::ErrorKind::UnexpectedResponse)
    /// for a body that is not a JSON object or a known field of the wrong shape.
    pub async fn send(self) -> Result<BucketMetadata> {
        let span = tracing::debug_span!("bucket_metadata", bucket = %self.bucket);
        async {
            let operation = Operation::BucketMetadata {
                bucket: self.bucket.clone(),
            };
            let bucket = bucket_name(&self.bucket, || operation.clone())?;
            let mut request = TigrisRequest::new(Method::GET)
                .bucket(bucket)
                .query_param("metadata", "")
                .header(
                    http::header::ACCEPT,
                    HeaderValue::from_static("application/json"),
                );
            if self.with_size {
                request = request.query_param("with-size", "true");
            }
            let response = self
                .transport
                .send(&request)
                .await
                .map_err(|e| Error::from_sdk(operation.clone(), e))?;
            BucketMetadata::parse(response.body(), self.with_size, &operation)
        }
        .instrument(span)
        .await
    }
}

impl crate::Client {
    /// Reads the Tigris metadata of a bucket. See [`BucketMetadataFluentBuilder`].
    pub fn bucket_metadata(&self) -> BucketMetadataFluentBuilder {
        BucketMetadataFluentBuilder::new(self.transport.clone(), String::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: &Value, with_size: bool) -> Result<BucketMetadata> {
        BucketMetadata::parse(
            v.to_string().as_bytes(),
            with_size,
            &Operation::BucketMetadata {
                bucket: "b1".into(),
            },
        )
    }

    #[test]
    fn known_fields_are_typed_and_unknown_ones_kept() {
        let m = parse(
            &json!({"name": "b1", "type": 1, "object_regions": "iad, fra", "storage_class": "STANDARD_IA",
                "ForkInfo": {"HasChildren": true, "Parents": null},
                "soft_delete": {"enabled": true, "retention_days": 9},
                "acl_settings": {"allow_object_acl": true}, "cache_control": "max-age=60",
                "website": {"domain_name": "cdn.example.com"},
                "object_notifications": {"enabled": true, "web_hook": "https://h", "auth": {"token": "****"}},
                "lifecycle_rules": [{"id": "x"}], "estimated_size": 5}),
            true,
        )
        .unwrap();
        assert!(m.snapshots_enabled());
        assert_eq!(m.regions(), ["iad", "fra"]);
        assert_eq!(m.storage_class(), Some("STANDARD_IA"));
        assert!(m.has_children());
        assert!(m.fork_parents().is_empty());
        assert_eq!(m.soft_delete().retention_days, Some(9));
        assert!(m.allow_object_acl());
        assert_eq!(m.cache_control(), Some("max-age=60"));
        assert_eq!(m.custom_domain(), Some("cdn.example.com"));
        assert_eq!(m.notifications().unwrap().auth, NotificationAuth::Token);
        assert_eq!(m.size().unwrap().bytes, Some(5));
        assert!(m.extra().contains_key("lifecycle_rules"));
        assert!(!m.extra().contains_key("estimated_size"));
    }

    #[test]
    fn an_empty_object_is_a_regular_global_bucket() {
        let m = parse(&json!({}), false).unwrap();
        assert_eq!(m.bucket_type(), BucketType::Regular);
        assert!(m.regions().is_empty());
        assert_eq!(m.notifications(), None);
        assert_eq!(m.size(), None);
        assert_eq!(
            parse(&json!({"type": 7}), false).unwrap().bucket_type(),
            BucketType::Other(7)
        );
    }

    #[test]
    fn a_body_that_is_not_an_object_is_an_unexpected_response() {
        for body in [json!([]), json!({"type": "snapshot"})] {
            let err = parse(&body, false).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::UnexpectedResponse);
        }
    }
}
