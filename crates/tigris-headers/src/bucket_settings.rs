//! Bucket settings: placement, default storage class, access, cache control, custom domain,
//! delete protection and extra headers. Set them at creation with the [`CreateBucketExt`]
//! options ([`regions`](crate::CreateBucketExt::regions),
//! [`storage_class`](crate::CreateBucketExt::storage_class),
//! [`public_listing`](crate::CreateBucketExt::public_listing)), change them later with
//! [`TigrisTransportExt::update_bucket`](crate::TigrisTransportExt::update_bucket), and read them
//! back with [`bucket_metadata`](crate::TigrisTransportExt::bucket_metadata).
//!
//! [`CreateBucketExt`]: crate::CreateBucketExt

use std::fmt;
use std::str::FromStr;

use http::{HeaderName, HeaderValue, Method};
use serde_json::{Map, Value, json};
use tigris_core::transport::{SignedTransport, TigrisRequest};
use tracing::Instrument;

use crate::error::{Error, Operation, Result};
use crate::snapshot::bucket_name;

/// Why a region, placement or storage class name was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidSetting(String);

impl fmt::Display for InvalidSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidSetting {}

macro_rules! names {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in the order Tigris documents them.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The name on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = InvalidSetting;

            fn from_str(s: &str) -> std::result::Result<Self, InvalidSetting> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| {
                    let known: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    InvalidSetting(format!(
                        "{s:?} is not a {}: use one of {}",
                        stringify!($name),
                        known.join(", ")
                    ))
                })
            }
        }
    };
}

names! {
    /// A Tigris region for single- or dual-region placement.
    ///
    /// ```
    /// use tigris_headers::bucket_settings::Region;
    /// let r: Region = "iad".parse().unwrap();
    /// assert_eq!(r, Region::Iad);
    /// assert!("mars".parse::<Region>().is_err());
    /// ```
    Region {
        /// Amsterdam.
        Ams = "ams",
        /// Frankfurt.
        Fra = "fra",
        /// São Paulo.
        Gru = "gru",
        /// Ashburn, Virginia.
        Iad = "iad",
        /// Johannesburg.
        Jnb = "jnb",
        /// London.
        Lhr = "lhr",
        /// Tokyo.
        Nrt = "nrt",
        /// Chicago.
        Ord = "ord",
        /// Singapore.
        Sin = "sin",
        /// San Jose, California.
        Sjc = "sjc",
        /// Sydney.
        Syd = "syd",
    }
}

names! {
    /// A multi-region placement: data kept in several regions of one area.
    MultiRegion {
        /// The United States.
        Usa = "usa",
        /// Europe.
        Eur = "eur",
    }
}

names! {
    /// The storage class new objects get unless the upload names one.
    ///
    /// ```
    /// use tigris_headers::bucket_settings::StorageClass;
    /// assert_eq!("STANDARD_IA".parse::<StorageClass>().unwrap(), StorageClass::StandardIa);
    /// assert!("standard".parse::<StorageClass>().is_err());
    /// ```
    StorageClass {
        /// Frequently read data (the default).
        Standard = "STANDARD",
        /// Infrequent access.
        StandardIa = "STANDARD_IA",
        /// Archive; objects must be restored before they are read.
        Glacier = "GLACIER",
        /// Archive with instant retrieval.
        GlacierIr = "GLACIER_IR",
    }
}

/// Where a bucket's data lives.
///
/// ```
/// use tigris_headers::bucket_settings::{MultiRegion, Region, Regions};
///
/// assert_eq!(Regions::dual(Region::Iad, Region::Sjc).unwrap().to_string(), "iad,sjc");
/// assert!(Regions::dual(Region::Iad, Region::Iad).is_err());
/// assert_eq!("usa".parse::<Regions>().unwrap(), Regions::Multi(MultiRegion::Usa));
/// assert_eq!("".parse::<Regions>().unwrap(), Regions::Global);
/// assert!("usa,iad".parse::<Regions>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Regions {
    /// Global placement: data follows its readers (Tigris's default).
    Global,
    /// One multi-region area.
    Multi(MultiRegion),
    /// One region.
    Single(Region),
    /// Two different regions, made with [`Regions::dual`].
    Dual(DualRegions),
}

/// Two different regions; only [`Regions::dual`] makes one, so one region twice cannot be
/// expressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DualRegions(Region, Region);

impl DualRegions {
    /// The two regions, in the order given.
    pub fn regions(self) -> (Region, Region) {
        (self.0, self.1)
    }
}

impl Regions {
    /// Two different regions.
    ///
    /// # Errors
    /// When `a` and `b` are the same region.
    pub fn dual(a: Region, b: Region) -> std::result::Result<Self, InvalidSetting> {
        if a == b {
            return Err(InvalidSetting(format!(
                "a dual-region placement needs two different regions, got {a} twice"
            )));
        }
        Ok(Self::Dual(DualRegions(a, b)))
    }

    /// Whether this is global placement.
    pub fn is_global(self) -> bool {
        self == Self::Global
    }
}

impl fmt::Display for Regions {
    /// The wire form: comma-separated codes, empty for global.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Global => Ok(()),
            Self::Multi(m) => f.write_str(m.as_str()),
            Self::Single(r) => f.write_str(r.as_str()),
            Self::Dual(DualRegions(a, b)) => write!(f, "{a},{b}"),
        }
    }
}

impl FromStr for Regions {
    type Err = InvalidSetting;

    /// Parses the wire form (`""`, `"usa"`, `"iad"`, `"iad,sjc"`; spaces around codes are
    /// ignored).
    fn from_str(s: &str) -> std::result::Result<Self, InvalidSetting> {
        let codes: Vec<&str> = s
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        match codes.as_slice() {
            [] => Ok(Self::Global),
            [one] => match one.parse::<MultiRegion>() {
                Ok(m) => Ok(Self::Multi(m)),
                Err(_) => one.parse::<Region>().map(Self::Single).map_err(|_| {
                    InvalidSetting(format!(
                        "{one:?} is neither a region nor a multi-region area"
                    ))
                }),
            },
            [a, b] => Self::dual(a.parse()?, b.parse()?),
            _ => Err(InvalidSetting(format!(
                "{s:?} names more than two regions; use a multi-region area instead"
            ))),
        }
    }
}

impl From<Region> for Regions {
    fn from(r: Region) -> Self {
        Self::Single(r)
    }
}

impl From<MultiRegion> for Regions {
    fn from(m: MultiRegion) -> Self {
        Self::Multi(m)
    }
}

/// Who may read a bucket's objects without credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Access {
    /// Anyone may read objects (`X-Amz-Acl: public-read`).
    Public,
    /// Only signed requests (`X-Amz-Acl: private`, the default).
    Private,
}

impl Access {
    fn acl(self) -> &'static str {
        match self {
            Self::Public => "public-read",
            Self::Private => "private",
        }
    }
}

/// Soft-delete settings to send: on with a retention of 7 to 90 days, or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SoftDeleteSetting {
    /// Deleted objects stay recoverable for this many days (7 to 90).
    Enabled {
        /// Retention in days.
        retention_days: u32,
    },
    /// Deletes are final.
    Disabled,
}

/// The soft-delete retention range Tigris accepts, in days.
pub const SOFT_DELETE_RETENTION_DAYS: std::ops::RangeInclusive<u32> = 7..=90;

const ACL: &str = "x-amz-acl";
const PUBLIC_LIST: &str = "x-amz-acl-public-list-objects-enabled";

/// Changes a bucket's settings with `PATCH /{bucket}`; from
/// [`TigrisTransportExt::update_bucket`](crate::TigrisTransportExt::update_bucket).
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
/// # let sdk = tigris_headers::config::TigrisConfig::builder().endpoint_url(emu.endpoint())
/// #     .credentials(aws_sdk_s3::config::Credentials::new(emu.root_credentials().access_key_id(),
/// #         emu.root_credentials().secret_access_key(), None, None, "doc")).build();
/// # let s3 = tigris_headers::config::s3_client(&sdk);
/// # s3.create_bucket().bucket("assets").send().await?;
/// use tigris_headers::bucket_settings::{Region, Regions, StorageClass};
/// use tigris_headers::{SignedTransport, TigrisTransportExt};
///
/// let tigris = SignedTransport::new(&sdk)?;
/// tigris
///     .update_bucket("assets")
///     .regions(Regions::dual(Region::Iad, Region::Fra)?)
///     .storage_class(StorageClass::StandardIa)
///     .cache_control("max-age=3600")
///     .send()
///     .await?;
/// let metadata = tigris.bucket_metadata("assets").send().await?;
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
    /// detailed listing ([`BucketEntry::is_public`](crate::account::BucketEntry::is_public));
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
