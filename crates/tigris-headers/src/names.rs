//! Validated names: a string that reaches a Tigris header has been checked first.
//!
//! Tigris does not escape header values it echoes back (a snapshot name comes back inside
//! `<version>; name=<name>`), so the rules here are stricter than "any string".
//!
//! ```
//! use tigris_headers::names::{BucketName, SnapshotName, SnapshotVersion};
//!
//! let bucket: BucketName = "agent-workspace".parse()?;
//! let version: SnapshotVersion = "1792493847118382304".parse()?;
//! let name: SnapshotName = "before-migration".parse()?;
//! assert_eq!(version.as_u64(), 1_792_493_847_118_382_304);
//! assert!("a;b".parse::<SnapshotName>().is_err());
//! # let _ = (bucket, name);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

pub use tigris_core::{BucketName, InvalidBucketName};

/// Which kind of name an [`InvalidName`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NameKind {
    /// A [`SnapshotVersion`].
    SnapshotVersion,
    /// A [`SnapshotName`].
    SnapshotName,
}

impl fmt::Display for NameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SnapshotVersion => "snapshot version",
            Self::SnapshotName => "snapshot name",
        })
    }
}

/// Why a string is not a valid [`SnapshotVersion`] or [`SnapshotName`].
///
/// ```
/// use tigris_headers::names::{NameKind, SnapshotVersion};
///
/// let err = "".parse::<SnapshotVersion>().unwrap_err();
/// assert_eq!(err.kind(), NameKind::SnapshotVersion);
/// assert_eq!(err.to_string(), "invalid snapshot version \"\": it must not be empty");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidName {
    kind: NameKind,
    value: String,
    reason: &'static str,
}

impl InvalidName {
    /// Which kind of name was rejected.
    pub fn kind(&self) -> NameKind {
        self.kind
    }

    /// The rejected value.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The rule it breaks, as a sentence fragment.
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}

impl fmt::Display for InvalidName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {} {:?}: {}", self.kind, self.value, self.reason)
    }
}

impl std::error::Error for InvalidName {}

/// The version of a snapshot: a decimal number of up to 20 digits, kept as the exact string
/// Tigris sent.
///
/// Versions are nanosecond timestamps (about 19 digits), more than an `f64` holds exactly, so
/// they are never handled as floating point; [`as_u64`](Self::as_u64) gives the number.
/// Versions order by their numeric value, which is creation order.
///
/// ```
/// use tigris_headers::SnapshotVersion;
///
/// let v = SnapshotVersion::new("1792493847118382304")?;
/// assert_eq!(v.as_str(), "1792493847118382304");
/// assert_eq!(v.as_u64(), 1792493847118382304);
/// assert!(SnapshotVersion::new("1.5e18").is_err());
/// # Ok::<(), tigris_headers::names::InvalidName>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SnapshotVersion {
    text: String,
    value: u64,
}

impl SnapshotVersion {
    /// Validates `version`: ASCII digits only, not empty, at most `u64::MAX`.
    ///
    /// # Errors
    /// [`InvalidName`] naming the rule the string breaks.
    pub fn new(version: impl Into<String>) -> Result<Self, InvalidName> {
        let text = version.into();
        let reject = |reason| {
            Err(InvalidName {
                kind: NameKind::SnapshotVersion,
                value: text.clone(),
                reason,
            })
        };
        if text.is_empty() {
            return reject("it must not be empty");
        }
        if !text.bytes().all(|b| b.is_ascii_digit()) {
            return reject("it must contain only the digits 0-9");
        }
        match text.parse::<u64>() {
            Ok(value) => Ok(Self { text, value }),
            Err(_) => reject("it is larger than any Tigris snapshot version"),
        }
    }

    /// The version exactly as Tigris sent it.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The version as a number.
    pub fn as_u64(&self) -> u64 {
        self.value
    }
}

impl Ord for SnapshotVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        // The text breaks ties between spellings with leading zeros, so that Ord agrees with Eq.
        self.value
            .cmp(&other.value)
            .then_with(|| self.text.cmp(&other.text))
    }
}

impl PartialOrd for SnapshotVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl From<u64> for SnapshotVersion {
    fn from(value: u64) -> Self {
        Self {
            text: value.to_string(),
            value,
        }
    }
}

/// A label for a snapshot: 1 to 128 characters, without `;`, `=` or control characters, and
/// without leading or trailing whitespace.
///
/// Tigris returns the label inside `<version>; name=<label>` without escaping it, so these
/// characters would make the listing ambiguous; surrounding whitespace would not survive it.
///
/// ```
/// use tigris_headers::SnapshotName;
///
/// let name = SnapshotName::new("nightly 2026-11-25")?;
/// assert_eq!(name.as_str(), "nightly 2026-11-25");
/// for bad in ["", "a;b", "k=v", "line\nbreak", " padded"] {
///     assert!(SnapshotName::new(bad).is_err(), "{bad:?}");
/// }
/// # Ok::<(), tigris_headers::names::InvalidName>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SnapshotName(String);

impl SnapshotName {
    /// The longest name accepted, in characters.
    pub const MAX_LEN: usize = 128;

    /// Validates `name`.
    ///
    /// # Errors
    /// [`InvalidName`] naming the rule the string breaks.
    pub fn new(name: impl Into<String>) -> Result<Self, InvalidName> {
        let name = name.into();
        let reason = if name.is_empty() {
            Some("it must not be empty")
        } else if name.chars().count() > Self::MAX_LEN {
            Some("it must be at most 128 characters long")
        } else if name.contains(';') || name.contains('=') {
            Some("it must not contain ';' or '=', which Tigris uses to delimit the name")
        } else if name.chars().any(char::is_control) {
            Some("it must not contain control characters")
        } else if name.trim() != name {
            Some("it must not start or end with whitespace")
        } else {
            None
        };
        match reason {
            None => Ok(Self(name)),
            Some(reason) => Err(InvalidName {
                kind: NameKind::SnapshotName,
                value: name,
                reason,
            }),
        }
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `FromStr`, `TryFrom<&str>`, `TryFrom<String>`, `AsRef<str>`, `Display` and `Into<String>`,
/// all through `new` and `as_str`.
macro_rules! string_conversions {
    ($name:ident) => {
        impl FromStr for $name {
            type Err = InvalidName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = InvalidName;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                Self::new(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidName;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::new(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.as_str().to_owned()
            }
        }
    };
}

string_conversions!(SnapshotVersion);
string_conversions!(SnapshotName);

/// Validates a bucket name given as a string, for an operation's error context. An unset
/// bucket (`""`) says which setter is missing.
pub(crate) fn bucket_name(
    raw: &str,
    operation: impl FnOnce() -> crate::error::Operation,
) -> crate::Result<BucketName> {
    if raw.is_empty() {
        return Err(crate::Error::invalid_argument(
            operation(),
            "no bucket was given: set it with .bucket(..)",
        ));
    }
    BucketName::new(raw)
        .map_err(|e| crate::Error::invalid_input(operation(), "the bucket name is invalid", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_versions_accept_decimal_strings_only() {
        let cases: &[(&str, Option<&str>)] = &[
            ("0", None),
            ("1792493847118382304", None),
            ("18446744073709551615", None),
            ("", Some("empty")),
            ("18446744073709551616", Some("larger")),
            ("-1", Some("digits")),
            ("+1", Some("digits")),
            ("1.5", Some("digits")),
            ("1e18", Some("digits")),
            (" 42", Some("digits")),
            ("١٢", Some("digits")),
        ];
        for (input, expected) in cases {
            match (SnapshotVersion::new(*input), expected) {
                (Ok(v), None) => assert_eq!(v.as_str(), *input),
                (Err(e), Some(reason)) => {
                    assert!(e.reason().contains(reason), "{input:?}: {}", e.reason());
                    assert_eq!(e.kind(), NameKind::SnapshotVersion);
                    assert_eq!(e.value(), *input);
                }
                (got, want) => panic!("{input:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn snapshot_versions_keep_19_digit_precision() {
        let v: SnapshotVersion = "1792493847118382305".parse().unwrap();
        assert_eq!(v.as_u64(), 1_792_493_847_118_382_305);
        assert_eq!(v.to_string(), "1792493847118382305");
        assert_eq!(
            SnapshotVersion::from(42),
            SnapshotVersion::new("42").unwrap()
        );
    }

    #[test]
    fn snapshot_versions_order_numerically() {
        let small = SnapshotVersion::new("999").unwrap();
        let large = SnapshotVersion::new("1000").unwrap();
        assert!(small < large);
        let padded = SnapshotVersion::new("0999").unwrap();
        assert_ne!(small, padded);
        assert_ne!(small.cmp(&padded), Ordering::Equal);
    }

    #[test]
    fn snapshot_names_reject_what_tigris_would_not_escape() {
        let long = "n".repeat(SnapshotName::MAX_LEN);
        let too_long = "n".repeat(SnapshotName::MAX_LEN + 1);
        let cases: &[(&str, Option<&str>)] = &[
            ("nightly", None),
            ("test snapshot name", None),
            ("café ☕", None),
            (&long, None),
            ("", Some("empty")),
            (&too_long, Some("128")),
            ("a;b", Some("';'")),
            ("k=v", Some("'='")),
            ("tab\there", Some("control")),
            ("nul\0", Some("control")),
            ("del\u{7f}", Some("control")),
            (" lead", Some("whitespace")),
            ("trail ", Some("whitespace")),
        ];
        for (input, expected) in cases {
            match (SnapshotName::new(*input), expected) {
                (Ok(n), None) => assert_eq!(n.as_str(), *input),
                (Err(e), Some(reason)) => {
                    assert!(e.reason().contains(reason), "{input:?}: {}", e.reason());
                    assert_eq!(e.kind(), NameKind::SnapshotName);
                }
                (got, want) => panic!("{input:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn bucket_names_follow_tigris_rules() {
        let cases: &[(&str, bool)] = &[
            ("abc", true),
            ("my-bucket.v2", true),
            ("ab", false),
            ("Upper", false),
            ("a..b", false),
            ("-abc", false),
            ("xn--abc", false),
            ("abc-s3alias", false),
            ("10.0.0.1", false),
            ("under_score", false),
        ];
        for (input, ok) in cases {
            assert_eq!(input.parse::<BucketName>().is_ok(), *ok, "{input:?}");
        }
    }

    #[test]
    fn conversions_round_trip() {
        let name = SnapshotName::try_from("nightly".to_owned()).unwrap();
        assert_eq!(name.as_ref(), "nightly");
        assert_eq!(String::from(name.clone()), "nightly");
        assert_eq!(format!("{name}"), "nightly");
        assert!(SnapshotVersion::try_from("x").is_err());
    }

    #[test]
    fn invalid_names_display_the_value_escaped() {
        let err = SnapshotName::new("a\nb;").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid snapshot name \"a\\nb;\": it must not contain ';' or '=', which Tigris uses to delimit the name"
        );
    }
}
