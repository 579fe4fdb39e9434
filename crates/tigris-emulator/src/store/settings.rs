//! Bucket settings: placement, storage class, access, headers, custom domain, delete protection.
//! Set at creation (`X-Tigris-Regions`, `X-Amz-Storage-Class`, `X-Amz-Acl`,
//! `X-Amz-Acl-Public-List-Objects-Enabled` on CreateBucket) or with `PATCH /{bucket}`, read back
//! from `GET /{bucket}?metadata` and the JSON bucket listing. The emulator records them; it is
//! one region with no CDN, so placement, storage class and headers change nothing it serves.

use std::collections::BTreeMap;

use http::HeaderMap;
use s3s::{S3Error, S3Result, s3_error};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// Multi-region placements: each stands alone.
pub(crate) const MULTI_REGIONS: [&str; 2] = ["usa", "eur"];
/// Regions for single- and dual-region placement.
pub(crate) const SINGLE_REGIONS: [&str; 11] = [
    "ams", "fra", "gru", "iad", "jnb", "lhr", "nrt", "ord", "sin", "sjc", "syd",
];
/// Default storage classes a bucket may have.
pub(crate) const STORAGE_CLASSES: [&str; 4] = ["STANDARD", "STANDARD_IA", "GLACIER", "GLACIER_IR"];

/// One bucket's settings. The default is Tigris's: global, STANDARD, private, no extras.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Settings {
    /// Comma-separated region codes; empty means global.
    pub(crate) regions: String,
    /// `None` is STANDARD.
    pub(crate) storage_class: Option<String>,
    pub(crate) cache_control: Option<String>,
    pub(crate) allow_object_acl: bool,
    /// Anonymous reads of objects (`X-Amz-Acl: public-read`).
    pub(crate) public: bool,
    /// Anonymous listing (`X-Amz-Acl-Public-List-Objects-Enabled`).
    pub(crate) public_list: bool,
    pub(crate) custom_domain: Option<String>,
    /// Delete protection: DeleteBucket is refused, force delete included.
    pub(crate) protected: bool,
    /// Headers served with every object (`additional_http_headers`).
    pub(crate) additional_headers: Option<BTreeMap<String, String>>,
    /// The shadow bucket reads fall through to (`shadow_bucket`); see `s3/shadow.rs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) shadow: Option<Box<Shadow>>,
}

/// What `?metadata` shows for a secret, and what a PATCH sends back to keep the stored one.
pub(crate) const MASK: &str = "********";

/// A bucket's shadow: another S3-compatible bucket, reached with its own credentials. `Debug`
/// never shows the secret; `?metadata` masks it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Shadow {
    pub(crate) name: String,
    pub(crate) endpoint: String,
    pub(crate) region: String,
    pub(crate) access_key: String,
    pub(crate) secret_key: String,
    pub(crate) write_through: bool,
}

impl std::fmt::Debug for Shadow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shadow")
            .field("name", &self.name)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key", &self.access_key)
            .field("secret_key", &"**redacted**")
            .field("write_through", &self.write_through)
            .finish()
    }
}

impl Shadow {
    /// The `shadow_bucket` object of `?metadata`, the secret masked.
    pub(crate) fn masked(&self) -> Value {
        json!({
            "access_key": self.access_key,
            "secret_key": MASK,
            "region": self.region,
            "name": self.name,
            "endpoint": self.endpoint,
            "write_through": self.write_through,
        })
    }

    /// The endpoint's `host[:port]`.
    pub(crate) fn authority(&self) -> String {
        self.endpoint
            .parse::<http::Uri>()
            .ok()
            .and_then(|u| u.authority().map(|a| a.as_str().to_ascii_lowercase()))
            .unwrap_or_default()
    }
}

/// Host suffixes of Tigris's endpoints: Tigris refuses them as a shadow source.
const TIGRIS_HOSTS: [&str; 3] = ["storage.dev", "tigris.dev", "storageapi.dev"];

/// `shadow_bucket`: `{}` clears; otherwise the five strings (and `write_through`) Tigris's
/// clients send, checked.
fn parse_shadow(value: &Value) -> S3Result<Option<Box<Shadow>>> {
    let Some(map) = value.as_object() else {
        return Err(invalid("shadow_bucket must be an object".into()));
    };
    if map.is_empty() {
        return Ok(None);
    }
    let text = |key: &str| -> S3Result<String> {
        match map.get(key).and_then(Value::as_str) {
            Some(v) if !v.is_empty() && !v.chars().any(|c| c.is_whitespace() || c.is_control()) => {
                Ok(v.to_owned())
            }
            _ => Err(invalid(format!(
                "shadow_bucket.{key} must be a non-empty string without whitespace"
            ))),
        }
    };
    let write_through = match map.get("write_through") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(invalid("shadow_bucket.write_through must be a bool".into())),
    };
    let endpoint = text("endpoint")?;
    let uri = endpoint
        .parse::<http::Uri>()
        .map_err(|_| invalid(format!("shadow_bucket.endpoint {endpoint:?} is not a URL")))?;
    let host = uri
        .authority()
        .map(|a| a.host().trim_end_matches('.').to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .ok_or_else(|| invalid(format!("shadow_bucket.endpoint {endpoint:?} has no host")))?;
    if TIGRIS_HOSTS
        .iter()
        .any(|t| host == *t || host.ends_with(&format!(".{t}")))
    {
        return Err(invalid("Migration source cannot be Tigris endpoint".into()));
    }
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err(s3_error!(
                NotImplemented,
                "the emulator reaches shadow buckets over plain http only, not {endpoint:?}"
            ));
        }
        _ => {
            return Err(invalid(format!(
                "shadow_bucket.endpoint {endpoint:?} is not an http(s) URL"
            )));
        }
    }
    let name = text("name")?;
    if name.contains('/') {
        return Err(invalid(format!("shadow_bucket.name {name:?} contains '/'")));
    }
    Ok(Some(Box::new(Shadow {
        name,
        endpoint,
        region: text("region")?,
        access_key: text("access_key")?,
        secret_key: text("secret_key")?,
        write_through,
    })))
}

impl Settings {
    pub(crate) fn is_default(&self) -> bool {
        *self == Self::default()
    }

    pub(crate) fn storage_class(&self) -> &str {
        self.storage_class.as_deref().unwrap_or("STANDARD")
    }

    /// The settings fields of `GET /{bucket}?metadata`, in Tigris's wire names.
    pub(crate) fn write_metadata(&self, body: &mut Map<String, Value>) {
        body.insert("storage_class".into(), self.storage_class().into());
        body.insert("object_regions".into(), self.regions.clone().into());
        body.insert(
            "acl_settings".into(),
            json!({ "allow_object_acl": self.allow_object_acl }),
        );
        body.insert(
            "acl_list_objects".into(),
            if self.public_list { "true" } else { "false" }.into(),
        );
        body.insert("protection".into(), json!({ "protected": self.protected }));
        if let Some(c) = &self.cache_control {
            body.insert("cache_control".into(), c.clone().into());
        }
        if let Some(d) = &self.custom_domain {
            body.insert("website".into(), json!({ "domain_name": d }));
        }
        if let Some(h) = &self.additional_headers {
            body.insert("additional_http_headers".into(), json!(h));
        }
        if let Some(shadow) = &self.shadow {
            body.insert("shadow_bucket".into(), shadow.masked());
        }
    }
}

fn invalid(message: String) -> S3Error {
    s3_error!(InvalidArgument, "{message}")
}

/// Checks a comma-separated region list and returns it normalised (trimmed, no empty items).
/// Empty is global, allowed only where `allow_global`. A multi-region code stands alone; a
/// dual-region placement is two different single regions.
pub(crate) fn parse_regions(value: &str, allow_global: bool) -> S3Result<String> {
    let names: Vec<&str> = value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    match names.as_slice() {
        [] if allow_global => Ok(String::new()),
        [] => Err(invalid(
            "X-Tigris-Regions must name at least one region".into(),
        )),
        [one] if MULTI_REGIONS.contains(one) || SINGLE_REGIONS.contains(one) => {
            Ok((*one).to_owned())
        }
        [a, b] if a != b && SINGLE_REGIONS.contains(a) && SINGLE_REGIONS.contains(b) => {
            Ok(format!("{a},{b}"))
        }
        _ => Err(invalid(format!(
            "invalid regions {value:?}: use one of {} alone, or one or two different regions of {}",
            MULTI_REGIONS.join(", "),
            SINGLE_REGIONS.join(", ")
        ))),
    }
}

pub(crate) fn parse_storage_class(value: &str) -> S3Result<String> {
    if STORAGE_CLASSES.contains(&value) {
        Ok(value.to_owned())
    } else {
        Err(invalid(format!(
            "invalid storage class {value:?}: use one of {}",
            STORAGE_CLASSES.join(", ")
        )))
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> S3Result<Option<&'a str>> {
    headers
        .get(name)
        .map(|v| {
            v.to_str()
                .map(str::trim)
                .map_err(|_| invalid(format!("{name} is not ASCII")))
        })
        .transpose()
}

fn flag(value: &str, name: &str) -> S3Result<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid(format!(
            "{name} must be true or false, got {value:?}"
        ))),
    }
}

/// `x-amz-acl`: `public-read` or `private` (other canned ACLs are refused).
fn parse_acl(value: &str) -> S3Result<bool> {
    match value {
        "public-read" => Ok(true),
        "private" => Ok(false),
        _ => Err(invalid(format!(
            "x-amz-acl must be public-read or private, got {value:?}"
        ))),
    }
}

pub(crate) const REGIONS: &str = "x-tigris-regions";
pub(crate) const STORAGE_CLASS: &str = "x-amz-storage-class";
pub(crate) const ACL: &str = "x-amz-acl";
pub(crate) const PUBLIC_LIST: &str = "x-amz-acl-public-list-objects-enabled";

/// The settings a CreateBucket request's headers ask for.
pub(crate) fn from_create_headers(headers: &HeaderMap) -> S3Result<Settings> {
    let mut s = Settings::default();
    if let Some(v) = header(headers, REGIONS)? {
        s.regions = parse_regions(v, false)?;
    }
    if let Some(v) = header(headers, STORAGE_CLASS)? {
        s.storage_class = Some(parse_storage_class(v)?);
    }
    if let Some(v) = header(headers, ACL)? {
        s.public = parse_acl(v)?;
    }
    if let Some(v) = header(headers, PUBLIC_LIST)? {
        s.public_list = flag(v, PUBLIC_LIST)?;
    }
    Ok(s)
}

/// The IAM action each group of settings needs (the emulator's choice; Tigris documents none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum SettingsAction {
    /// `X-Amz-Acl`, `X-Amz-Acl-Public-List-Objects-Enabled`, `acl_settings`: `s3:PutBucketAcl`.
    Acl,
    /// `website`: `s3:PutBucketWebsite`.
    Website,
    /// Placement, storage class, cache control, headers, protection: `s3:PutBucketSettings`.
    Settings,
}

impl SettingsAction {
    /// The operation name the policy check maps to an action.
    pub(crate) fn operation(self) -> &'static str {
        match self {
            Self::Acl => "PutBucketAcl",
            Self::Website => "PutBucketWebsite",
            Self::Settings => "PutBucketSettings",
        }
    }
}

/// The settings changes of one `PATCH /{bucket}`, validated; applied only if all are valid.
#[derive(Debug, Default)]
pub(crate) struct SettingsPatch {
    regions: Option<String>,
    storage_class: Option<String>,
    cache_control: Option<Option<String>>,
    allow_object_acl: Option<bool>,
    public: Option<bool>,
    public_list: Option<bool>,
    custom_domain: Option<Option<String>>,
    protected: Option<bool>,
    additional_headers: Option<Option<BTreeMap<String, String>>>,
    shadow: Option<Option<Box<Shadow>>>,
    /// `type`: 1 turns snapshots on, 0 off (applied by the store, which checks the rules).
    pub(crate) snapshots_enabled: Option<bool>,
    pub(crate) actions: Vec<SettingsAction>,
}

impl SettingsPatch {
    /// Whether the patch changes any setting.
    pub(crate) fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// Reads the header-carried settings.
    pub(crate) fn from_headers(headers: &HeaderMap) -> S3Result<Self> {
        let mut p = Self::default();
        if let Some(v) = header(headers, ACL)? {
            p.public = Some(parse_acl(v)?);
            p.actions.push(SettingsAction::Acl);
        }
        if let Some(v) = header(headers, PUBLIC_LIST)? {
            p.public_list = Some(flag(v, PUBLIC_LIST)?);
            p.actions.push(SettingsAction::Acl);
        }
        Ok(p)
    }

    /// Takes `key` if it is a setting this module owns; `Ok(false)` for other keys.
    pub(crate) fn take(&mut self, key: &str, value: &Value) -> S3Result<bool> {
        let action = match key {
            "object_regions" => {
                let v = value
                    .as_str()
                    .ok_or_else(|| invalid("object_regions must be a string".into()))?;
                self.regions = Some(parse_regions(v, true)?);
                SettingsAction::Settings
            }
            "storage_class" => {
                let v = value
                    .as_str()
                    .ok_or_else(|| invalid("storage_class must be a string".into()))?;
                self.storage_class = Some(parse_storage_class(v)?);
                SettingsAction::Settings
            }
            "cache_control" => {
                let v = value
                    .as_str()
                    .ok_or_else(|| invalid("cache_control must be a string".into()))?;
                if http::HeaderValue::from_str(v).is_err() {
                    return Err(invalid(format!(
                        "cache_control {v:?} is not a valid header value"
                    )));
                }
                self.cache_control = Some((!v.is_empty()).then(|| v.to_owned()));
                SettingsAction::Settings
            }
            "acl_settings" => {
                let v = value
                    .get("allow_object_acl")
                    .and_then(Value::as_bool)
                    .ok_or_else(|| {
                        invalid("acl_settings.allow_object_acl must be a bool".into())
                    })?;
                self.allow_object_acl = Some(v);
                SettingsAction::Acl
            }
            "website" => {
                let v = value
                    .get("domain_name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| invalid("website.domain_name must be a string".into()))?;
                if !v.is_empty() && !is_domain(v) {
                    return Err(invalid(format!("{v:?} is not a domain name")));
                }
                self.custom_domain = Some((!v.is_empty()).then(|| v.to_ascii_lowercase()));
                SettingsAction::Website
            }
            "protection" => {
                let v = value
                    .get("protected")
                    .and_then(Value::as_bool)
                    .ok_or_else(|| invalid("protection.protected must be a bool".into()))?;
                self.protected = Some(v);
                SettingsAction::Settings
            }
            "additional_http_headers" => {
                self.additional_headers = Some(parse_headers(value)?);
                SettingsAction::Settings
            }
            "shadow_bucket" => {
                self.shadow = Some(parse_shadow(value)?);
                SettingsAction::Settings
            }
            "type" => {
                self.snapshots_enabled = Some(match value.as_u64() {
                    Some(0) => false,
                    Some(1) => true,
                    _ => return Err(invalid(format!("type must be 0 or 1, got {value}"))),
                });
                SettingsAction::Settings
            }
            _ => return Ok(false),
        };
        self.actions.push(action);
        Ok(true)
    }

    /// The actions needed, each once.
    pub(crate) fn distinct_actions(&self) -> Vec<SettingsAction> {
        let mut a = self.actions.clone();
        a.sort_unstable();
        a.dedup();
        a
    }

    /// `current` with this patch applied.
    pub(crate) fn apply_to(&self, current: &Settings) -> Settings {
        let mut s = current.clone();
        if let Some(v) = &self.regions {
            s.regions.clone_from(v);
        }
        if let Some(v) = &self.storage_class {
            s.storage_class = Some(v.clone());
        }
        if let Some(v) = &self.cache_control {
            s.cache_control.clone_from(v);
        }
        if let Some(v) = self.allow_object_acl {
            s.allow_object_acl = v;
        }
        if let Some(v) = self.public {
            s.public = v;
        }
        if let Some(v) = self.public_list {
            s.public_list = v;
        }
        if let Some(v) = &self.custom_domain {
            s.custom_domain.clone_from(v);
        }
        if let Some(v) = self.protected {
            s.protected = v;
        }
        if let Some(v) = &self.additional_headers {
            s.additional_headers.clone_from(v);
        }
        if let Some(v) = &self.shadow {
            let mut next = v.clone();
            // A masked secret (as `?metadata` shows it) keeps the stored one.
            if let (Some(n), Some(old)) = (&mut next, &current.shadow)
                && n.secret_key == MASK
            {
                n.secret_key.clone_from(&old.secret_key);
            }
            s.shadow = next;
        }
        s
    }

    /// The shadow endpoint's `host[:port]` this patch sets, if any.
    pub(crate) fn shadow_authority(&self) -> Option<String> {
        self.shadow.as_ref()?.as_ref().map(|s| s.authority())
    }
}

fn is_domain(v: &str) -> bool {
    v.len() <= 253
        && v.contains('.')
        && v.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// `additional_http_headers`: `null` clears; otherwise an object of header names to values.
fn parse_headers(value: &Value) -> S3Result<Option<BTreeMap<String, String>>> {
    let map = match value {
        Value::Null => return Ok(None),
        Value::Object(m) => m,
        _ => {
            return Err(invalid(
                "additional_http_headers must be an object or null".into(),
            ));
        }
    };
    let mut headers = BTreeMap::new();
    for (name, v) in map {
        let v = v
            .as_str()
            .ok_or_else(|| invalid(format!("the value of header {name:?} must be a string")))?;
        if http::HeaderName::from_bytes(name.as_bytes()).is_err()
            || http::HeaderValue::from_str(v).is_err()
        {
            return Err(invalid(format!("{name}: {v:?} is not a valid header")));
        }
        headers.insert(name.clone(), v.to_owned());
    }
    Ok((!headers.is_empty()).then_some(headers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_one_multi_or_one_or_two_singles() {
        assert_eq!(parse_regions("usa", false).unwrap(), "usa");
        assert_eq!(parse_regions(" iad , sjc ", false).unwrap(), "iad,sjc");
        assert_eq!(parse_regions("", true).unwrap(), "");
        for bad in [
            "",
            "mars",
            "usa,eur",
            "usa,iad",
            "iad,iad",
            "iad,sjc,fra",
            "IAD",
        ] {
            assert!(parse_regions(bad, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_shadow_is_checked_masked_in_metadata_and_a_mask_keeps_the_secret() {
        let body = json!({"access_key": "AK", "secret_key": "SK-secret", "region": "auto",
            "name": "src", "endpoint": "http://127.0.0.1:9", "write_through": true});
        let mut p = SettingsPatch::default();
        assert!(p.take("shadow_bucket", &body).unwrap());
        let s = p.apply_to(&Settings::default());
        assert!(!format!("{s:?}").contains("SK-secret"));
        let mut meta = Map::new();
        s.write_metadata(&mut meta);
        assert_eq!(meta["shadow_bucket"]["secret_key"], MASK);
        assert!(!Value::Object(meta).to_string().contains("SK-secret"));
        let mut again = SettingsPatch::default();
        let mut masked = body.clone();
        masked["secret_key"] = MASK.into();
        again.take("shadow_bucket", &masked).unwrap();
        let kept = again.apply_to(&s);
        assert_eq!(kept.shadow.unwrap().secret_key, "SK-secret");
        for bad in [
            json!({"name": "src"}),
            json!({"access_key": "AK", "secret_key": "SK", "region": "auto", "name": "src",
                "endpoint": "https://t3.storage.dev"}),
            json!({"access_key": "AK", "secret_key": "SK", "region": "auto", "name": "src",
                "endpoint": "not a url"}),
            json!([]),
        ] {
            assert!(
                SettingsPatch::default()
                    .take("shadow_bucket", &bad)
                    .is_err(),
                "{bad}"
            );
        }
        let mut clear = SettingsPatch::default();
        clear.take("shadow_bucket", &json!({})).unwrap();
        assert_eq!(clear.apply_to(&s).shadow, None);
    }

    #[test]
    fn a_patch_takes_only_its_own_keys_and_checks_them() {
        let mut p = SettingsPatch::default();
        assert!(p.take("storage_class", &json!("GLACIER")).unwrap());
        assert!(!p.take("object_notifications", &json!({})).unwrap());
        assert!(p.take("storage_class", &json!("COLD")).is_err());
        assert!(
            p.take("website", &json!({"domain_name": "not a domain"}))
                .is_err()
        );
        assert!(
            p.take("additional_http_headers", &json!({"X-A": 1}))
                .is_err()
        );
        assert!(p.take("protection", &json!({"protected": "yes"})).is_err());
        let s = p.apply_to(&Settings::default());
        assert_eq!(s.storage_class(), "GLACIER");
    }

    mod no_panic {
        //! The settings parsers answer `Ok` or `Err` on any input.
        use super::super::*;
        use proptest::prelude::*;

        const WORDS: &[&str] = &[
            "allow_object_acl",
            "domain_name",
            "protected",
            "iad, sjc",
            "fra",
            "GLACIER",
        ];

        proptest! {
            #[test]
            fn region_and_class_names(text in any::<String>(), global in any::<bool>()) {
                let _ = parse_regions(&text, global);
                let _ = parse_storage_class(&text);
            }

            #[test]
            fn patch_values(value in crate::strategies::json(WORDS)) {
                for key in ["object_regions", "storage_class", "cache_control", "acl_settings",
                            "website", "protection", "additional_http_headers", "type",
                            "shadow_bucket"] {
                    let mut patch = SettingsPatch::default();
                    if patch.take(key, &value).is_ok() {
                        let _ = patch.apply_to(&Settings::default());
                    }
                }
            }
        }
    }

    #[test]
    fn settings_parsers_never_panic_on_odd_json() {
        for v in [
            json!(null),
            json!([]),
            json!({"domain_name": null}),
            json!("é,\u{0}"),
            json!({"X\n": "v"}),
            json!({"ok": "v\r\n"}),
        ] {
            for key in [
                "object_regions",
                "storage_class",
                "cache_control",
                "acl_settings",
                "website",
                "protection",
                "additional_http_headers",
            ] {
                let _ = SettingsPatch::default().take(key, &v);
            }
        }
    }
}
