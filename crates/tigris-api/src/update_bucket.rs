//! Changes a bucket's settings: [`Client::update_bucket`](crate::Client::update_bucket), the one
//! settings `PATCH`, soft delete included.

use http::{HeaderName, HeaderValue, Method};
use serde_json::{Map, Value, json};
use tigris_core::transport::{SignedTransport, TigrisRequest};
use tigris_headers::bucket_settings::{Access, Regions, StorageClass};
use tracing::Instrument;

use crate::error::{Error, Operation, Result};
use crate::wire::bucket_name;

/// Soft-delete settings to send: on with a retention of 7 to 90 days, or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SoftDeleteSetting {
    /// Deleted objects stay recoverable for this many days (7 to 90).
    Enabled {
        /// Retention in days.
        retention_days: u32,
    },
    /// On, with the retention the bucket already has (or Tigris's default).
    EnabledKeepingRetention,
    /// Deletes are final.
    Disabled,
}

/// The soft-delete retention range Tigris accepts, in days.
pub const SOFT_DELETE_RETENTION_DAYS: std::ops::RangeInclusive<u32> = 7..=90;

/// Why a setting given to [`UpdateBucketFluentBuilder`] was refused.
#[derive(Debug)]
struct InvalidSetting(String);

impl std::fmt::Display for InvalidSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidSetting {}

const ACL: &str = "x-amz-acl";
const PUBLIC_LIST: &str = "x-amz-acl-public-list-objects-enabled";

/// Changes a bucket's settings with `PATCH /{bucket}`; from
/// [`Client::update_bucket`](crate::Client::update_bucket).
///
/// Only the settings set on the builder are sent; everything else stays as it is. Every value
/// is checked before the request: an empty builder, a setting given twice with different
/// values, an invalid header or cache-control value and
/// a soft-delete retention outside 7..=90 days are [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput)
/// errors and send nothing.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let emu = tigris_emulator::Emulator::start().await?;
/// # let sdk = tigris_core::config::builder().endpoint_url(emu.endpoint())
/// #     .credentials(aws_sdk_s3::config::Credentials::new(emu.root_credentials().access_key_id(),
/// #         emu.root_credentials().secret_access_key(), None, None, "doc")).build();
/// # let s3 = tigris_core::config::s3_client(&sdk);
/// # s3.create_bucket().bucket("assets").send().await?;
/// use tigris_headers::bucket_settings::{Region, Regions, StorageClass};
///
/// let tigris = tigris_api::Client::new(&sdk)?;
/// tigris
///     .update_bucket().bucket("assets")
///     .regions(Regions::dual(Region::Iad, Region::Fra)?)
///     .storage_class(StorageClass::StandardIa)
///     .cache_control("max-age=3600")
///     .send()
///     .await?;
/// let metadata = tigris.bucket_metadata().bucket("assets").send().await?;
/// assert_eq!(metadata.regions(), ["iad", "fra"]);
/// assert_eq!(metadata.storage_class(), Some("STANDARD_IA"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct UpdateBucketFluentBuilder {
    transport: SignedTransport,
    bucket: String,
    body: Map<String, Value>,
    headers: Vec<(&'static str, String)>,
    extra_headers: Option<Map<String, Value>>,
    problems: Vec<String>,
}

impl UpdateBucketFluentBuilder {
    pub(crate) fn new(transport: SignedTransport, bucket: String) -> Self {
        Self {
            transport,
            bucket,
            body: Map::new(),
            headers: Vec::new(),
            extra_headers: None,
            problems: Vec::new(),
        }
    }

    /// The bucket to change (required).
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = bucket.as_ref().to_owned();
        self
    }

    fn set(mut self, key: &'static str, value: Value) -> Self {
        match self.body.get(key) {
            Some(old) if *old != value => self
                .problems
                .push(format!("{key} is set twice, to {old} and {value}")),
            _ => {
                self.body.insert(key.to_owned(), value);
            }
        }
        self
    }

    fn set_header(mut self, name: &'static str, value: &str) -> Self {
        match self.headers.iter().find(|(n, _)| *n == name) {
            Some((_, old)) if old != value => self
                .problems
                .push(format!("{name} is set twice, to {old} and {value}")),
            Some(_) => {}
            None => self.headers.push((name, value.to_owned())),
        }
        self
    }

    /// Moves the bucket's data: [`Regions::Global`] returns it to global placement
    /// (`object_regions`).
    pub fn regions(self, regions: impl Into<Regions>) -> Self {
        self.set("object_regions", regions.into().to_string().into())
    }

    /// The storage class new objects get (`storage_class`).
    pub fn storage_class(self, class: StorageClass) -> Self {
        self.set("storage_class", class.as_str().into())
    }

    /// The `Cache-Control` served with objects; `""` clears it (`cache_control`).
    pub fn cache_control(self, value: impl Into<String>) -> Self {
        let value = value.into();
        let mut this = self;
        if HeaderValue::from_str(&value).is_err() {
            this.problems.push(format!(
                "cache control {value:?} is not a valid header value"
            ));
        }
        this.set("cache_control", value.into())
    }

    /// Whether anonymous requests may read objects (`X-Amz-Acl`). Read it back from the
    /// detailed listing ([`BucketEntry::is_public`](crate::list_buckets_detailed::BucketEntry::is_public));
    /// the metadata does not carry it.
    pub fn access(self, access: Access) -> Self {
        self.set_header(ACL, access.acl())
    }

    /// Whether anonymous requests may list a public bucket
    /// (`X-Amz-Acl-Public-List-Objects-Enabled`).
    pub fn public_listing(self, enabled: bool) -> Self {
        self.set_header(PUBLIC_LIST, if enabled { "true" } else { "false" })
    }

    /// Whether objects may carry their own ACLs (`acl_settings`).
    pub fn allow_object_acl(self, allow: bool) -> Self {
        self.set("acl_settings", json!({ "allow_object_acl": allow }))
    }

    /// The custom domain the bucket is served on; `""` removes it (`website`). Tigris checks
    /// that the domain's CNAME points at it.
    pub fn custom_domain(self, domain: impl Into<String>) -> Self {
        self.set("website", json!({ "domain_name": domain.into() }))
    }

    /// Delete protection: while on, DeleteBucket is refused, force delete included
    /// (`protection`).
    pub fn delete_protection(self, protected: bool) -> Self {
        self.set("protection", json!({ "protected": protected }))
    }

    /// Adds a header served with every object (`additional_http_headers`), for example
    /// `X-Content-Type-Options: nosniff`. Call once per header.
    pub fn additional_header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        let (name, value) = (name.as_ref(), value.as_ref());
        if HeaderName::from_bytes(name.as_bytes()).is_err() || HeaderValue::from_str(value).is_err()
        {
            self.problems
                .push(format!("{name}: {value:?} is not a valid header"));
        }
        let headers = self.extra_headers.get_or_insert_with(Map::new);
        match headers.get(name) {
            Some(old) if old.as_str() != Some(value) => self.problems.push(format!(
                "header {name} is set twice, to {old} and {value:?}"
            )),
            _ => {
                headers.insert(name.to_owned(), value.into());
            }
        }
        self
    }

    /// Removes every additional header (`additional_http_headers: null`).
    pub fn clear_additional_headers(self) -> Self {
        let mut this = self;
        if this.extra_headers.as_ref().is_some_and(|h| !h.is_empty()) {
            this.problems
                .push("additional headers are both added and cleared".to_owned());
        }
        this.extra_headers = Some(Map::new());
        this
    }

    /// Turns snapshots on or off (`type`: 1 or 0). Tigris refuses to turn them on for a bucket
    /// with lifecycle rules or the GLACIER storage class, and off for a fork or a bucket with
    /// forks; existing snapshots are kept while off and readable again once back on.
    pub fn snapshots_enabled(self, enabled: bool) -> Self {
        self.set("type", u8::from(enabled).into())
    }

    /// Soft delete on (retention 7 to 90 days) or off (`soft_delete`).
    pub fn soft_delete(self, setting: SoftDeleteSetting) -> Self {
        let mut this = self;
        let value = match setting {
            SoftDeleteSetting::Enabled { retention_days } => {
                if !SOFT_DELETE_RETENTION_DAYS.contains(&retention_days) {
                    this.problems.push(format!(
                        "a soft-delete retention of {retention_days} days is outside 7..=90"
                    ));
                }
                json!({ "enabled": true, "retention_days": retention_days })
            }
            SoftDeleteSetting::EnabledKeepingRetention => json!({ "enabled": true }),
            SoftDeleteSetting::Disabled => json!({ "enabled": false }),
        };
        this.set("soft_delete", value)
    }

    /// Checks every setting, then sends the ones set.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for an
    /// invalid bucket name, no setting at all or an invalid or contradictory one (see the type's
    /// docs); otherwise what Tigris answers: [`ErrorKind::NotFound`](crate::ErrorKind::NotFound)
    /// for an unknown bucket, [`ErrorKind::AccessDenied`](crate::ErrorKind::AccessDenied) for a
    /// key without the rights, [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for
    /// a value Tigris refuses (an unverified custom domain, for example).
    pub async fn send(self) -> Result<()> {
        let span = tracing::debug_span!("update_bucket", bucket = %self.bucket);
        async {
            let operation = Operation::UpdateBucket {
                bucket: self.bucket.clone(),
            };
            let bucket = bucket_name(&self.bucket, || operation.clone())?;
            if let Some(problem) = self.problems.first() {
                return Err(Error::invalid_input(
                    operation,
                    "a setting is invalid",
                    InvalidSetting(problem.clone()),
                ));
            }
            let mut body = self.body;
            if let Some(headers) = self.extra_headers {
                let value = if headers.is_empty() {
                    Value::Null
                } else {
                    Value::Object(headers)
                };
                body.insert("additional_http_headers".into(), value);
            }
            if body.is_empty() && self.headers.is_empty() {
                return Err(Error::invalid_argument(
                    operation,
                    "nothing to update: set at least one setting",
                ));
            }
            let mut request = TigrisRequest::new(Method::PATCH)
                .bucket(bucket)
                .header(
                    http::header::ACCEPT,
                    HeaderValue::from_static("application/json"),
                )
                .json(Value::Object(body).to_string())
                .idempotent(true);
            for (name, value) in &self.headers {
                let value = HeaderValue::from_str(value).map_err(|e| {
                    Error::invalid_input(operation.clone(), "a header value is invalid", e)
                })?;
                request = request.header(HeaderName::from_static(name), value);
            }
            self.transport
                .send(&request)
                .await
                .map_err(|e| Error::from_sdk(operation.clone(), e))?;
            Ok(())
        }
        .instrument(span)
        .await
    }
}

impl crate::Client {
    /// Changes the settings of a bucket, only those set on the builder. See [`UpdateBucketFluentBuilder`].
    pub fn update_bucket(&self) -> UpdateBucketFluentBuilder {
        UpdateBucketFluentBuilder::new(self.transport.clone(), String::new())
    }
}
