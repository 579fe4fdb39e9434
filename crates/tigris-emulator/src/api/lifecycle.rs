//! Lifecycle rules: one configuration per bucket (`Bucket::lifecycle`, journaled as S3 XML),
//! set by S3's PutBucketLifecycleConfiguration and by the `lifecycle_rules` key of
//! `PATCH /{bucket}` (Tigris's JSON: `{id, transitions: [{storage_class, days|date}],
//! expiration: {days|date, enabled}, filter: {prefix}, status: 1|2}`), read back by
//! GetBucketLifecycleConfiguration and `?metadata` (with the ids the client gave).
//!
//! Both paths are validated as S3 validates a configuration: at most 10 rules (Tigris's
//! limit), ids of at most 36 characters and unique (a rule without one gets one), status
//! `Enabled` or `Disabled`, days of at least one, dates at midnight UTC, transitions to
//! STANDARD_IA, GLACIER or GLACIER_IR. Snapshot-enabled buckets refuse lifecycle rules.

use s3s::dto::{
    BucketLifecycleConfiguration, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter, Timestamp, Transition, TransitionStorageClass,
};
use s3s::{S3Result, s3_error};
use serde_json::{Map, Value, json};

const TRANSITION_CLASSES: [&str; 3] = ["STANDARD_IA", "GLACIER", "GLACIER_IR"];

fn invalid(message: String) -> s3s::S3Error {
    s3_error!(InvalidArgument, "{message}")
}

fn is_midnight(t: &Timestamp) -> bool {
    let t = time::OffsetDateTime::from(t.clone()).to_offset(time::UtcOffset::UTC);
    t.time() == time::Time::MIDNIGHT
}

/// Checks a configuration as S3 does and gives each rule without an id one.
pub(crate) fn validate(config: &mut BucketLifecycleConfiguration) -> S3Result<()> {
    if config.rules.len() > 10 {
        return Err(invalid(
            "A bucket can have at most 10 lifecycle rules".into(),
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, rule) in config.rules.iter_mut().enumerate() {
        let id = rule
            .id
            .get_or_insert_with(|| format!("rule-{}", i + 1))
            .clone();
        if id.is_empty() || id.chars().count() > 36 {
            return Err(invalid(
                "A lifecycle rule ID must be 1 to 36 characters".into(),
            ));
        }
        if !seen.insert(id.clone()) {
            return Err(invalid(format!(
                "Rule ID {id} is used by more than one rule"
            )));
        }
        if ![ExpirationStatus::ENABLED, ExpirationStatus::DISABLED].contains(&rule.status.as_str())
        {
            return Err(s3_error!(
                MalformedXML,
                "Status must be Enabled or Disabled"
            ));
        }
        if let Some(e) = &rule.expiration {
            if e.days.is_some_and(|d| d <= 0) {
                return Err(invalid("Expiration days must be a positive integer".into()));
            }
            if e.date.as_ref().is_some_and(|d| !is_midnight(d)) {
                return Err(invalid("'Date' must be at midnight GMT".into()));
            }
        }
        for t in rule.transitions.iter().flatten() {
            if t.days.is_some_and(|d| d < 0) {
                return Err(invalid("Transition days must not be negative".into()));
            }
            if t.date.as_ref().is_some_and(|d| !is_midnight(d)) {
                return Err(invalid("'Date' must be at midnight GMT".into()));
            }
            if let Some(class) = &t.storage_class
                && !TRANSITION_CLASSES.contains(&class.as_str())
            {
                return Err(invalid(format!(
                    "Transitions go to {}, not {}",
                    TRANSITION_CLASSES.join(", "),
                    class.as_str()
                )));
            }
        }
    }
    Ok(())
}

fn date(value: &Value, what: &str) -> S3Result<Timestamp> {
    let text = value
        .as_str()
        .ok_or_else(|| invalid(format!("{what}.date must be a YYYY-MM-DD string")))?;
    let day = text.get(..10).unwrap_or(text);
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(day, &format)
        .map_err(|_| invalid(format!("{what}.date {text:?} is not YYYY-MM-DD")))?;
    Ok(Timestamp::from(day.midnight().assume_utc()))
}

fn days(value: &Value, what: &str) -> S3Result<i32> {
    value
        .as_u64()
        .and_then(|d| i32::try_from(d).ok())
        .filter(|d| *d > 0)
        .ok_or_else(|| invalid(format!("{what}.days must be a positive integer")))
}

/// The configuration a `lifecycle_rules` value of `PATCH /{bucket}` sets: the whole list,
/// `[]` or `null` removing every rule.
pub(crate) fn from_patch(value: &Value) -> S3Result<Option<BucketLifecycleConfiguration>> {
    let rules = match value {
        Value::Null => return Ok(None),
        Value::Array(rules) if rules.is_empty() => return Ok(None),
        Value::Array(rules) => rules,
        _ => return Err(invalid("lifecycle_rules must be a list".into())),
    };
    let mut out = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let what = format!("lifecycle rule {}", i + 1);
        let Value::Object(rule) = rule else {
            return Err(invalid(format!("{what} must be an object")));
        };
        let id = match rule.get("id") {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) => Some(id.clone()),
            Some(_) => return Err(invalid(format!("{what}: id must be a string"))),
        };
        let status = match rule.get("status").and_then(Value::as_u64) {
            None | Some(1) => ExpirationStatus::from_static(ExpirationStatus::ENABLED),
            Some(2) => ExpirationStatus::from_static(ExpirationStatus::DISABLED),
            Some(n) => return Err(invalid(format!("{what}: status {n} is not 1 or 2"))),
        };
        let when =
            |v: &Map<String, Value>, part: &str| -> S3Result<(Option<i32>, Option<Timestamp>)> {
                let part = format!("{what} {part}");
                match (v.get("days"), v.get("date")) {
                    (Some(d), None) => Ok((Some(days(d, &part)?), None)),
                    (None, Some(d)) => Ok((None, Some(date(d, &part)?))),
                    _ => Err(invalid(format!("{part} needs days or a date, not both"))),
                }
            };
        let expiration = match rule.get("expiration") {
            None | Some(Value::Null) => None,
            Some(Value::Object(e)) => {
                let (days, date) = when(e, "expiration")?;
                Some(LifecycleExpiration {
                    days,
                    date,
                    expired_object_delete_marker: None,
                })
            }
            Some(_) => return Err(invalid(format!("{what}: expiration must be an object"))),
        };
        let transitions = match rule.get("transitions") {
            None | Some(Value::Null) => None,
            Some(Value::Array(list)) => {
                let mut out = Vec::new();
                for t in list {
                    let Value::Object(t) = t else {
                        return Err(invalid(format!("{what}: a transition must be an object")));
                    };
                    let class =
                        t.get("storage_class")
                            .and_then(Value::as_str)
                            .ok_or_else(|| {
                                invalid(format!("{what}: a transition needs a storage_class"))
                            })?;
                    let (days, date) = when(t, "transition")?;
                    out.push(Transition {
                        days,
                        date,
                        storage_class: Some(TransitionStorageClass::from(class.to_owned())),
                    });
                }
                (!out.is_empty()).then_some(out)
            }
            Some(_) => return Err(invalid(format!("{what}: transitions must be a list"))),
        };
        if expiration.is_none() && transitions.is_none() {
            return Err(invalid(format!(
                "{what} has neither an expiration nor a transition"
            )));
        }
        let prefix = match rule.get("filter").and_then(|f| f.get("prefix")) {
            None | Some(Value::Null) => None,
            Some(Value::String(p)) => Some(p.clone()),
            Some(_) => return Err(invalid(format!("{what}: filter.prefix must be a string"))),
        };
        out.push(LifecycleRule {
            abort_incomplete_multipart_upload: None,
            expiration,
            filter: Some(LifecycleRuleFilter {
                prefix: Some(prefix.unwrap_or_default()),
                ..LifecycleRuleFilter::default()
            }),
            id,
            noncurrent_version_expiration: None,
            noncurrent_version_transitions: None,
            prefix: None,
            status,
            transitions,
        });
    }
    let mut config = BucketLifecycleConfiguration { rules: out };
    validate(&mut config)?;
    Ok(Some(config))
}

fn day(t: &Timestamp) -> String {
    let t = time::OffsetDateTime::from(t.clone()).to_offset(time::UtcOffset::UTC);
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

fn when_json(days: Option<i32>, date: Option<&Timestamp>, into: &mut Map<String, Value>) {
    if let Some(d) = days {
        into.insert("days".into(), d.into());
    } else if let Some(d) = date {
        into.insert("date".into(), day(d).into());
    }
}

/// The `lifecycle_rules` field of `?metadata`, in Tigris's JSON.
pub(crate) fn metadata(config: &BucketLifecycleConfiguration) -> Value {
    let rules: Vec<Value> = config
        .rules
        .iter()
        .map(|r| {
            let enabled = r.status.as_str() == ExpirationStatus::ENABLED;
            let mut rule = Map::new();
            rule.insert("id".into(), r.id.clone().unwrap_or_default().into());
            if let Some(t) = r.transitions.as_ref().and_then(|t| t.first()) {
                let mut out = Map::new();
                out.insert(
                    "storage_class".into(),
                    t.storage_class
                        .as_ref()
                        .map(|c| c.as_str().to_owned())
                        .unwrap_or_default()
                        .into(),
                );
                when_json(t.days, t.date.as_ref(), &mut out);
                rule.insert("transitions".into(), json!([out]));
            }
            if let Some(e) = &r.expiration {
                let mut out = Map::new();
                when_json(e.days, e.date.as_ref(), &mut out);
                out.insert("enabled".into(), enabled.into());
                rule.insert("expiration".into(), Value::Object(out));
            }
            let prefix = r
                .filter
                .as_ref()
                .and_then(|f| f.prefix.clone())
                .or_else(|| r.prefix.clone())
                .filter(|p| !p.is_empty());
            if let Some(prefix) = prefix {
                rule.insert("filter".into(), json!({ "prefix": prefix }));
            }
            rule.insert("status".into(), if enabled { 1 } else { 2 }.into());
            Value::Object(rule)
        })
        .collect();
    Value::Array(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tigris_json_round_trips_through_the_stored_configuration() {
        let rules = json!([
            {"id": "a", "transitions": [{"storage_class": "GLACIER", "days": 30}],
             "expiration": {"days": 365, "enabled": true}, "filter": {"prefix": "logs/"}, "status": 1},
            {"id": "b", "expiration": {"date": "2028-01-01", "enabled": false}, "status": 2}
        ]);
        let config = from_patch(&rules).unwrap().unwrap();
        assert_eq!(metadata(&config), rules);
        assert_eq!(from_patch(&json!([])).unwrap(), None);
    }

    #[test]
    fn bad_rules_in_json_are_refused() {
        for bad in [
            json!([{"id": "a", "status": 1}]),
            json!([{"id": "a", "expiration": {"days": 0}}]),
            json!([{"id": "a", "expiration": {"days": 1, "date": "2028-01-01"}}]),
            json!([{"id": "a", "transitions": [{"storage_class": "STANDARD", "days": 1}]}]),
            json!([{"id": "a", "expiration": {"days": 1}}, {"id": "a", "expiration": {"days": 2}}]),
            json!([{"id": "x".repeat(37), "expiration": {"days": 1}}]),
            json!([{"id": "a", "expiration": {"date": "tomorrow"}}]),
            json!({"id": "a"}),
        ] {
            assert!(from_patch(&bad).is_err(), "{bad}");
        }
    }

    mod no_panic {
        //! `lifecycle_rules` of any JSON answers `Ok` or `Err`, and what it accepts reads back.
        use super::super::*;
        use proptest::prelude::*;

        const WORDS: &[&str] = &[
            "id",
            "status",
            "expiration",
            "transitions",
            "storage_class",
            "days",
            "date",
            "enabled",
            "filter",
            "prefix",
            "GLACIER",
            "STANDARD_IA",
            "2028-01-01",
            "2028-02-30",
            "2028-01-01T10:00:00Z",
            "é",
        ];

        proptest! {
            #[test]
            fn patch_values(value in crate::strategies::json(WORDS)) {
                if let Ok(Some(config)) = from_patch(&value) {
                    prop_assert!(!config.rules.is_empty() && config.rules.len() <= 10);
                    let _ = metadata(&config);
                }
            }
        }
    }
}
