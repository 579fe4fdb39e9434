//! A bucket's lifecycle rules: expiry (TTL) and storage-class transitions, as Tigris's own
//! clients set them: [`Client::set_lifecycle_rules`](crate::Client::set_lifecycle_rules); read them
//! with [`Client::get_lifecycle_rules`](crate::Client::get_lifecycle_rules).
//!
//! The rules go in the settings `PATCH /{bucket}` (`lifecycle_rules`, always the whole list),
//! and are read back from `GET /{bucket}?metadata`. Each rule applies to the objects under an
//! optional prefix: they expire (are deleted) a number of days after they were last written,
//! or on a date, and they move to a colder storage class after a number of days, or on a date.
//! Tigris documents that expiry and transitions are not supported on snapshot-enabled buckets;
//! the rules are accepted there (the emulator stores them and never applies them).
//!
//! ```no_run
//! # async fn demo(tigris: tigris_api::Client) -> Result<(), tigris_api::Error> {
//! use tigris_api::set_lifecycle_rules::{LifecycleRule, When};
//! use tigris_headers::bucket_settings::StorageClass;
//!
//! let ttl = LifecycleRule::new().prefix("tmp/").expiration(When::Days(7));
//! let archive = LifecycleRule::new()
//!     .prefix("logs/")
//!     .transition(StorageClass::Glacier, When::Days(30))
//!     .expiration(When::Days(365));
//! tigris.set_lifecycle_rules().bucket("data").rule(ttl).rule(archive).send().await?;
//! for rule in tigris.get_lifecycle_rules().bucket("data").send().await? {
//!     println!("{}: {:?} then {:?}", rule.id(), rule.get_transition(), rule.get_expiration());
//! }
//! # Ok(()) }
//! ```

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value, json};
use tigris_core::transport::SignedTransport;
use tigris_headers::bucket_settings::StorageClass;
use tracing::Instrument;

use crate::error::{Error, Operation, Result};
use crate::wire::{Invalid, bucket_name, patch_bucket};

/// The most lifecycle rules one bucket may have on Tigris.
pub const MAX_LIFECYCLE_RULES: usize = 10;

/// The longest rule id Tigris accepts, in characters.
pub const MAX_RULE_ID_CHARS: usize = 36;

/// A calendar day (UTC), as lifecycle rules name dates (`YYYY-MM-DD`).
///
/// ```
/// use tigris_api::set_lifecycle_rules::LifecycleDate;
///
/// let day: LifecycleDate = "2027-06-01".parse().unwrap();
/// assert_eq!(day.to_string(), "2027-06-01");
/// assert!("2027-02-30".parse::<LifecycleDate>().is_err());
/// assert!(LifecycleDate::new(2027, 13, 1).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LifecycleDate(time::Date);

impl LifecycleDate {
    /// The day `year-month-day`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a day that does not
    /// exist.
    pub fn new(year: i32, month: u8, day: u8) -> Result<Self> {
        let month = time::Month::try_from(month).map_err(|_| bad_date(year, month, day))?;
        time::Date::from_calendar_date(year, month, day)
            .map(Self)
            .map_err(|_| bad_date(year, u8::from(month), day))
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.0.year()
    }

    /// The month, 1 to 12.
    pub fn month(self) -> u8 {
        u8::from(self.0.month())
    }

    /// The day of the month.
    pub fn day(self) -> u8 {
        self.0.day()
    }
}

fn bad_date(year: i32, month: u8, day: u8) -> Error {
    Error::invalid_value(
        "invalid date",
        Invalid(format!("{year:04}-{month:02}-{day:02} is not a day")),
    )
}

impl fmt::Display for LifecycleDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.year(),
            self.month(),
            self.day()
        )
    }
}

impl FromStr for LifecycleDate {
    type Err = Error;

    /// Parses `YYYY-MM-DD`.
    fn from_str(s: &str) -> Result<Self> {
        let parts: Vec<&str> = s.split('-').collect();
        let [y, m, d] = parts.as_slice() else {
            return Err(Error::invalid_value(
                "invalid date",
                Invalid(format!("{s:?} is not YYYY-MM-DD")),
            ));
        };
        let number = |v: &str, len: usize| {
            (v.len() == len && v.bytes().all(|b| b.is_ascii_digit()))
                .then(|| v.parse::<i32>().ok())
                .flatten()
        };
        match (number(y, 4), number(m, 2), number(d, 2)) {
            (Some(y), Some(m), Some(d)) => Self::new(
                y,
                u8::try_from(m).unwrap_or(u8::MAX),
                u8::try_from(d).unwrap_or(u8::MAX),
            ),
            _ => Err(Error::invalid_value(
                "invalid date",
                Invalid(format!("{s:?} is not YYYY-MM-DD")),
            )),
        }
    }
}

/// When a rule acts on an object: a number of days after it was last written (counted to the
/// next UTC midnight, as S3 counts), or on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum When {
    /// This many days after the object was last written (at least one).
    Days(u32),
    /// On this day (UTC midnight).
    Date(LifecycleDate),
}

impl When {
    fn to_wire(self, into: &mut Map<String, Value>) {
        match self {
            Self::Days(d) => into.insert("days".into(), d.into()),
            Self::Date(d) => into.insert("date".into(), d.to_string().into()),
        };
    }

    fn from_wire(v: &Value) -> Option<Self> {
        match (v.get("days").and_then(Value::as_u64), v.get("date")) {
            (Some(d), _) => u32::try_from(d).ok().map(Self::Days),
            (None, Some(Value::String(s))) => {
                // Tigris may answer a full timestamp; its day is what counts.
                s.get(..10).and_then(|d| d.parse().ok()).map(Self::Date)
            }
            _ => None,
        }
    }

    fn problem(self, what: &str) -> Option<String> {
        (self == Self::Days(0)).then(|| format!("{what} after 0 days: days start at 1"))
    }
}

/// One lifecycle rule: which objects (a prefix, or all), whether it is on, and what happens to
/// them: a transition to a colder storage class, an expiry, or both.
///
/// A new rule gets a random id (36 characters, UUID-shaped, as Tigris's clients make them);
/// [`id`](Self::with_id) sets one. Checked when sent ([`validate`](Self::validate) checks it
/// earlier): an expiry or a transition, days of at least one, a transition to `STANDARD_IA`,
/// `GLACIER` or `GLACIER_IR` (not `STANDARD`), a non-empty prefix when one is given, an id of
/// 1 to 36 characters.
///
/// ```
/// use tigris_api::set_lifecycle_rules::{LifecycleRule, When};
/// use tigris_headers::bucket_settings::StorageClass;
///
/// let rule = LifecycleRule::new().transition(StorageClass::GlacierIr, When::Days(30));
/// assert!(rule.validate().is_ok());
/// assert_eq!(rule.id().len(), 36);
/// assert!(LifecycleRule::new().prefix("logs/").validate().is_err()); // does nothing
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LifecycleRule {
    id: String,
    prefix: Option<String>,
    enabled: bool,
    expiration: Option<When>,
    transition: Option<(StorageClass, When)>,
}

impl Default for LifecycleRule {
    fn default() -> Self {
        Self::new()
    }
}

/// A random id in the shape of a UUID v4, as Tigris's clients name new rules.
fn new_rule_id() -> String {
    let mut bytes = [0u8; 16];
    bytes.iter_mut().for_each(|b| *b = fastrand::u8(..));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

impl LifecycleRule {
    /// An enabled rule for the whole bucket, with a new id, that does nothing yet: give it an
    /// [`expiration`](Self::expiration), a [`transition`](Self::transition), or both.
    pub fn new() -> Self {
        Self {
            id: new_rule_id(),
            prefix: None,
            enabled: true,
            expiration: None,
            transition: None,
        }
    }

    /// The same rule with this id (1 to 36 characters; ids are unique within a bucket).
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// Applies the rule only to keys starting with `prefix` (not empty).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Keeps the rule but turns it off (`false`), or on again.
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    /// Deletes objects after this many days, or on this date: a TTL.
    pub fn expiration(mut self, when: When) -> Self {
        self.expiration = Some(when);
        self
    }

    /// Moves objects to `class` (`STANDARD_IA`, `GLACIER`, `GLACIER_IR`) after this many days,
    /// or on this date.
    pub fn transition(mut self, class: StorageClass, when: When) -> Self {
        self.transition = Some((class, when));
        self
    }

    /// The rule's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The key prefix the rule applies to; `None` for the whole bucket.
    pub fn get_prefix(&self) -> Option<&str> {
        self.prefix.as_deref()
    }

    /// Whether the rule is on.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// When objects expire, if they do.
    pub fn get_expiration(&self) -> Option<When> {
        self.expiration
    }

    /// The storage class objects move to, and when, if they do.
    pub fn get_transition(&self) -> Option<(StorageClass, When)> {
        self.transition
    }

    /// Checks the rule as [`SetLifecycleRulesFluentBuilder::send`] does, without sending
    /// anything.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput), saying which value is
    /// wrong (see the type's docs for the rules).
    pub fn validate(&self) -> Result<()> {
        self.problem().map_or(Ok(()), |p| {
            Err(Error::invalid_value(
                "the lifecycle rule is invalid",
                Invalid(p),
            ))
        })
    }

    fn problem(&self) -> Option<String> {
        let chars = self.id.chars().count();
        if chars == 0 || chars > MAX_RULE_ID_CHARS {
            return Some(format!(
                "rule id {:?} is not 1 to {MAX_RULE_ID_CHARS} characters",
                self.id
            ));
        }
        if self.id.chars().any(char::is_control) {
            return Some(format!("rule id {:?} holds a control character", self.id));
        }
        if self.prefix.as_deref() == Some("") {
            return Some("the prefix is empty: leave it unset for the whole bucket".into());
        }
        if self.expiration.is_none() && self.transition.is_none() {
            return Some(format!(
                "rule {:?} has neither an expiration nor a transition",
                self.id
            ));
        }
        if let Some(p) = self.expiration.and_then(|w| w.problem("expiration")) {
            return Some(p);
        }
        if let Some((class, when)) = self.transition {
            if class == StorageClass::Standard {
                return Some(
                    "a transition goes to STANDARD_IA, GLACIER or GLACIER_IR, not STANDARD".into(),
                );
            }
            if let Some(p) = when.problem("transition") {
                return Some(p);
            }
        }
        None
    }

    pub(crate) fn to_wire(&self) -> Value {
        let mut rule = Map::new();
        rule.insert("id".into(), self.id.clone().into());
        if let Some((class, when)) = self.transition {
            let mut t = Map::new();
            t.insert("storage_class".into(), class.as_str().into());
            when.to_wire(&mut t);
            rule.insert("transitions".into(), Value::Array(vec![Value::Object(t)]));
        }
        if let Some(when) = self.expiration {
            let mut e = Map::new();
            when.to_wire(&mut e);
            e.insert("enabled".into(), self.enabled.into());
            rule.insert("expiration".into(), Value::Object(e));
        }
        if let Some(prefix) = &self.prefix {
            rule.insert("filter".into(), json!({ "prefix": prefix }));
        }
        rule.insert("status".into(), if self.enabled { 1 } else { 2 }.into());
        Value::Object(rule)
    }

    /// Reads one rule of `lifecycle_rules`; `None` for a value that is not one.
    pub(crate) fn from_wire(v: &Value) -> Option<Self> {
        let id = v.get("id")?.as_str()?.to_owned();
        let transition = match v.get("transitions") {
            None | Some(Value::Null) => None,
            Some(Value::Array(list)) => match list.first() {
                None => None,
                Some(t) => {
                    let class = t.get("storage_class")?.as_str()?.parse().ok()?;
                    Some((class, When::from_wire(t)?))
                }
            },
            Some(_) => return None,
        };
        let expiration = match v.get("expiration") {
            None | Some(Value::Null) => None,
            Some(e) => Some(When::from_wire(e)?),
        };
        let prefix = v
            .get("filter")
            .and_then(|f| f.get("prefix"))
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
            .map(str::to_owned);
        let enabled = v
            .get("status")
            .and_then(Value::as_u64)
            .is_none_or(|s| s == 1);
        Some(Self {
            id,
            prefix,
            enabled,
            expiration,
            transition,
        })
    }
}

/// Replaces a bucket's lifecycle rules; from
/// [`Client::set_lifecycle_rules`](crate::Client::set_lifecycle_rules).
///
/// Sends `PATCH /{bucket}` with `{"lifecycle_rules": [...]}`: the whole list, as Tigris
/// keeps it. To add a rule, read the rules
/// ([`Client::get_lifecycle_rules`](crate::Client::get_lifecycle_rules)), add it, and send them
/// all; no rule at all removes every rule. Checked first: each rule ([`LifecycleRule`]), ids
/// unique, at most [`MAX_LIFECYCLE_RULES`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let emu = tigris_emulator::Emulator::start().await?;
/// # let sdk = tigris_core::config::builder().endpoint_url(emu.endpoint())
/// #     .credentials(aws_sdk_s3::config::Credentials::new(emu.root_credentials().access_key_id(),
/// #         emu.root_credentials().secret_access_key(), None, None, "doc")).build();
/// # tigris_core::config::s3_client(&sdk).create_bucket().bucket("scratch").send().await?;
/// use tigris_api::set_lifecycle_rules::{LifecycleRule, When};
///
/// let tigris = tigris_api::Client::new(&sdk)?;
/// let ttl = LifecycleRule::new().expiration(When::Days(1));
/// tigris.set_lifecycle_rules().bucket("scratch").rule(ttl.clone()).send().await?;
/// assert_eq!(tigris.get_lifecycle_rules().bucket("scratch").send().await?, [ttl]);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct SetLifecycleRulesFluentBuilder {
    transport: SignedTransport,
    bucket: String,
    rules: Vec<LifecycleRule>,
}

impl SetLifecycleRulesFluentBuilder {
    /// The bucket (required).
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = bucket.as_ref().to_owned();
        self
    }

    /// Adds a rule to the list.
    pub fn rule(mut self, rule: LifecycleRule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Adds rules to the list.
    pub fn rules(mut self, rules: impl IntoIterator<Item = LifecycleRule>) -> Self {
        self.rules.extend(rules);
        self
    }

    /// Checks the rules, then replaces the bucket's rules with them.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for an
    /// invalid bucket name or rule, a repeated id, or more than ten rules; otherwise what
    /// Tigris answers ([`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for an unknown
    /// bucket).
    pub async fn send(self) -> Result<()> {
        let span = tracing::debug_span!("set_lifecycle_rules", bucket = %self.bucket);
        async {
            let operation = Operation::SetLifecycle {
                bucket: self.bucket.clone(),
            };
            let bucket = bucket_name(&self.bucket, || operation.clone())?;
            if self.rules.len() > MAX_LIFECYCLE_RULES {
                return Err(Error::invalid_argument(
                    operation,
                    "a bucket may have at most 10 lifecycle rules",
                ));
            }
            for (i, rule) in self.rules.iter().enumerate() {
                let problem = rule.problem().or_else(|| {
                    self.rules[..i]
                        .iter()
                        .any(|r| r.id == rule.id)
                        .then(|| format!("rule id {:?} is used twice", rule.id))
                });
                if let Some(problem) = problem {
                    return Err(Error::invalid_input(
                        operation,
                        "a lifecycle rule is invalid",
                        Invalid(format!("rule {}: {problem}", i + 1)),
                    ));
                }
            }
            let rules: Vec<Value> = self.rules.iter().map(LifecycleRule::to_wire).collect();
            patch_bucket(
                &self.transport,
                bucket,
                json!({ "lifecycle_rules": rules }),
                &operation,
            )
            .await
        }
        .instrument(span)
        .await
    }
}

impl crate::Client {
    /// Replaces a bucket's lifecycle rules. See [`SetLifecycleRulesFluentBuilder`].
    pub fn set_lifecycle_rules(&self) -> SetLifecycleRulesFluentBuilder {
        SetLifecycleRulesFluentBuilder {
            transport: self.transport.clone(),
            bucket: String::new(),
            rules: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_id_is_shaped_like_a_uuid_v4() {
        let id = new_rule_id();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_ne!(id, new_rule_id());
    }

    #[test]
    fn each_bad_rule_is_refused_with_what_is_wrong() {
        let days = When::Days(3);
        let cases = [
            (LifecycleRule::new(), "neither"),
            (LifecycleRule::new().expiration(When::Days(0)), "0 days"),
            (
                LifecycleRule::new().transition(StorageClass::Standard, days),
                "not STANDARD",
            ),
            (LifecycleRule::new().expiration(days).prefix(""), "prefix"),
            (
                LifecycleRule::new()
                    .expiration(days)
                    .with_id("x".repeat(37)),
                "36",
            ),
            (LifecycleRule::new().expiration(days).with_id(""), "1 to 36"),
        ];
        for (rule, needle) in cases {
            let err = rule.validate().expect_err(needle);
            let why = std::error::Error::source(&err).unwrap().to_string();
            assert!(why.contains(needle), "{why} should mention {needle}");
        }
    }

    #[test]
    fn the_wire_form_is_what_tigris_clients_send_and_reads_back() {
        let rule = LifecycleRule::new()
            .with_id("r1")
            .prefix("logs/")
            .transition(StorageClass::Glacier, When::Days(30))
            .expiration(When::Date("2028-01-01".parse().unwrap()))
            .enabled(false);
        let wire = rule.to_wire();
        assert_eq!(
            wire,
            json!({"id": "r1", "transitions": [{"storage_class": "GLACIER", "days": 30}],
                "expiration": {"date": "2028-01-01", "enabled": false},
                "filter": {"prefix": "logs/"}, "status": 2})
        );
        assert_eq!(LifecycleRule::from_wire(&wire), Some(rule));
        assert_eq!(LifecycleRule::from_wire(&json!({"status": 1})), None);
    }
}
