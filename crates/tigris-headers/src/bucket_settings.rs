//! Bucket settings: placement, default storage class, access, cache control, custom domain,
//! delete protection and extra headers. Set them at creation with the [`CreateBucketExt`]
//! options ([`regions`](crate::CreateBucketExt::regions),
//! [`storage_class`](crate::CreateBucketExt::storage_class),
//! [`public_listing`](crate::CreateBucketExt::public_listing)), change them later with
//! `tigris_api::Client::update_bucket`, and read them back with
//! `tigris_api::Client::bucket_metadata`.
//!
//! [`CreateBucketExt`]: crate::CreateBucketExt

use std::fmt;
use std::str::FromStr;

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
    /// The `x-amz-acl` value that sets this access (`public-read` or `private`).
    ///
    /// ```
    /// assert_eq!(tigris_headers::bucket_settings::Access::Public.acl(), "public-read");
    /// ```
    pub fn acl(self) -> &'static str {
        match self {
            Self::Public => "public-read",
            Self::Private => "private",
        }
    }
}
