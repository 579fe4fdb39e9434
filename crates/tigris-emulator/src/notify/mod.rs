//! Object notifications: webhook delivery (the `PATCH /{bucket}` endpoint that sets them is
//! `api/patch.rs`).
//!
//! Delivery happens off the request path. Events for one webhook URL are spread over
//! [`LANES`] delivery lanes by their bucket and object key, each lane a bounded queue drained by
//! its own task, so up to [`LANES`] requests are in flight per URL, on kept-alive connections
//! (one pooled HTTP/1.1 client, [`LANES`] idle connections kept per host).
//!
//! Order: the events of one object key (in one bucket) go through one lane, so a webhook
//! receives them in the order they happened, each delivered (or given up) before the next is
//! sent. Events of different keys are delivered concurrently, in no particular order (Tigris
//! does not order them either).
//!
//! Each event is POSTed at least once, retried with backoff on any non-2xx answer or transport
//! error (a receiver's `503` is its push-back: the lane waits and sends again), each attempt
//! bounded by a 10 s timeout. Memory is bounded: a URL's lanes hold [`QUEUE_CAPACITY`] events
//! in all by default (`webhook_queue_capacity`). The emulator never blocks or fails the S3
//! request that caused an event: the event is emitted after the write is applied, and S3 has
//! no way to refuse a write for its notifications, so the emulator cannot push back on the
//! writer. When a lane is full the new event is dropped, counted (`dropped_webhook_events`)
//! and logged with its bucket and key. Only `http://` webhooks are delivered (the emulator has
//! no TLS client); an `https://` one is accepted and logged.

pub(crate) mod webhook_stats;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use s3s::{S3Result, s3_error};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::store::Object;
use crate::store::query::{Query, Subject};

/// How long one delivery attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// Delivery attempts per event, the first included.
const ATTEMPTS: u32 = 5;
/// The wait before the first retry; it doubles after each.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// Events waiting for one webhook URL (over all its lanes) before new ones are dropped.
pub(crate) const QUEUE_CAPACITY: usize = 8192;
/// Delivery lanes per webhook URL: requests in flight at once.
pub(crate) const LANES: usize = 8;

/// The Tigris event names the emulator emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventName {
    Put,
    Multipart,
    Copy,
    Delete,
    Rename,
}

impl EventName {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Put => "OBJECT_CREATED_PUT",
            Self::Multipart => "OBJECT_CREATED_MULTIPART",
            Self::Copy => "OBJECT_CREATED_COPY",
            Self::Delete => "OBJECT_DELETED",
            Self::Rename => "OBJECT_RENAME",
        }
    }
}

/// A parsed filter: the query grammar of [`crate::store::query`] (one grammar, one parser for
/// filters and `X-Tigris-Query`), with `Event-Type` and without `ORDER BY`; empty matches
/// everything.
#[derive(Debug, Clone, Default)]
struct Filter(Query);

impl Filter {
    /// Parses filters such as ``WHERE `key` REGEXP "..." AND `Event-Type` = "..."``.
    fn parse(text: &str) -> Result<Self, String> {
        let query = Query::parse(text)?;
        if query.order_by.is_some() {
            return Err("a filter cannot have ORDER BY".into());
        }
        Ok(Self(query))
    }

    fn matches(&self, key: &str, event: EventName, object: Option<&Object>) -> bool {
        self.0.matches(&Subject {
            key,
            object,
            event: Some(event.as_str()),
        })
    }
}

#[derive(Clone)]
enum Auth {
    None,
    Token(String),
    Basic(String, String),
}

impl Auth {
    fn header(&self) -> Option<String> {
        match self {
            Self::None => None,
            Self::Token(t) => Some(format!("Bearer {t}")),
            Self::Basic(u, p) => Some(format!(
                "Basic {}",
                base64_encode(format!("{u}:{p}").as_bytes())
            )),
        }
    }
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::None => "None",
            Self::Token(_) => "Token(** redacted **)",
            Self::Basic(..) => "Basic(** redacted **)",
        })
    }
}

fn base64_encode(data: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// `enabled: false` keeps the settings but delivers nothing.
    enabled: bool,
    url: http::Uri,
    filter: Filter,
    auth: Auth,
    /// The `object_notifications` value it was parsed from, for the data directory.
    source: Value,
}

pub(crate) fn invalid(msg: impl std::fmt::Display) -> s3s::S3Error {
    s3_error!(InvalidArgument, "{msg}")
}

/// What the metadata endpoint shows in place of a stored token or basic-auth password; sent
/// back in a `PATCH` it means "keep the stored secret", as Tigris does.
const MASK: &str = "********";

/// Parses the `object_notifications` value; `None` clears (an empty object).
pub(crate) fn parse_config(v: &Value) -> S3Result<Option<Config>> {
    let Value::Object(map) = v else {
        return Err(invalid("object_notifications must be an object"));
    };
    if map.is_empty() {
        return Ok(None);
    }
    let enabled = match map.get("enabled") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(on)) => *on,
        Some(_) => return Err(invalid("enabled must be true or false")),
    };
    for key in map.keys() {
        if !["enabled", "web_hook", "filter", "auth"].contains(&key.as_str()) {
            return Err(invalid(format!(
                "unknown object_notifications field {key:?}"
            )));
        }
    }
    let url = map
        .get("web_hook")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("web_hook is required"))?;
    let uri: http::Uri = url
        .parse()
        .map_err(|_| invalid(format!("web_hook is not a URL: {url:?}")))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none_or(str::is_empty) {
        return Err(invalid("web_hook must be an http or https URL with a host"));
    }
    let filter = match map.get("filter") {
        None | Some(Value::Null) => Filter::default(),
        Some(Value::String(f)) => {
            Filter::parse(f).map_err(|e| invalid(format!("invalid filter: {e}")))?
        }
        Some(_) => return Err(invalid("filter must be a string")),
    };
    let auth = match map.get("auth") {
        None | Some(Value::Null) => Auth::None,
        Some(Value::Object(a)) if a.is_empty() => Auth::None,
        Some(Value::Object(a)) => {
            let get = |k: &str| {
                a.get(k)
                    .and_then(Value::as_str)
                    .filter(|s| !s.trim().is_empty())
            };
            match (get("token"), get("basic_user"), get("basic_pass")) {
                (Some(t), None, None) => Auth::Token(t.to_owned()),
                (None, Some(u), Some(p)) => Auth::Basic(u.to_owned(), p.to_owned()),
                (Some(_), _, _) => {
                    return Err(invalid("auth: token and basic auth cannot be combined"));
                }
                _ => {
                    return Err(invalid(
                        "auth: basic_user and basic_pass must be provided together",
                    ));
                }
            }
        }
        Some(_) => return Err(invalid("auth must be an object")),
    };
    Ok(Some(Config {
        enabled,
        url: uri,
        filter,
        auth,
        source: v.clone(),
    }))
}

/// Resolves an `object_notifications` value against the stored `current` settings, as the
/// official clients send it back after reading `?metadata`: a masked `token` or `basic_pass`
/// ([`MASK`]) takes the stored secret, and a value of only `enabled` switches the stored
/// settings on or off. Fails when a masked secret has no stored secret of the same kind.
fn resolve(value: Value, current: Option<&Config>) -> S3Result<Value> {
    let Value::Object(mut map) = value else {
        return Err(invalid("object_notifications must be an object"));
    };
    if let (Some(Value::Bool(on)), true) = (map.get("enabled"), map.len() == 1) {
        let Some(current) = current else {
            return Err(invalid(
                "there are no notification settings to switch on or off; send web_hook",
            ));
        };
        let mut kept = current.source.clone();
        kept["enabled"] = Value::Bool(*on);
        return Ok(kept);
    }
    if let Some(Value::Object(auth)) = map.get_mut("auth") {
        for (field, what) in [("token", "token"), ("basic_pass", "basic-auth password")] {
            if auth.get(field).and_then(Value::as_str) != Some(MASK) {
                continue;
            }
            let stored = match current.map(|c| &c.auth) {
                Some(Auth::Token(t)) if field == "token" => t.clone(),
                Some(Auth::Basic(_, p)) if field == "basic_pass" => p.clone(),
                _ => {
                    return Err(invalid(format!(
                        "auth.{field} is the mask {MASK:?} but no {what} is stored to keep"
                    )));
                }
            };
            auth.insert(field.to_owned(), Value::String(stored));
        }
    }
    Ok(Value::Object(map))
}

/// Whether `value` is only `{"enabled": bool}`: a switch of the stored settings.
pub(crate) fn is_switch(value: &Value) -> bool {
    value
        .as_object()
        .is_some_and(|m| m.len() == 1 && m.get("enabled").is_some_and(Value::is_boolean))
}

/// One delivery lane of a webhook URL: its bounded queue of events.
type Lane = tokio::sync::mpsc::Sender<(Config, Bytes)>;

/// Per-bucket notification settings, the delivery client and the lanes of each webhook URL.
#[derive(Debug)]
pub(crate) struct Notifier {
    configs: Mutex<HashMap<String, Config>>,
    client: OnceLock<Client<HttpConnector, Full<Bytes>>>,
    /// The lanes of each webhook URL.
    queues: Mutex<HashMap<String, Vec<Lane>>>,
    capacity: AtomicUsize,
    dropped: AtomicU64,
    /// Event times of deletions read the emulator's clock.
    clock: crate::clock::Clock,
    /// What delivery did, per URL, for the console.
    pub(crate) stats: std::sync::Arc<crate::notify::webhook_stats::WebhookStats>,
}

impl Default for Notifier {
    fn default() -> Self {
        Self {
            configs: Mutex::default(),
            client: OnceLock::new(),
            queues: Mutex::default(),
            capacity: AtomicUsize::new(QUEUE_CAPACITY),
            dropped: AtomicU64::new(0),
            clock: crate::clock::Clock::default(),
            stats: std::sync::Arc::default(),
        }
    }
}

impl Notifier {
    /// Sets the per-URL queue size for queues created from now on.
    pub(crate) fn set_capacity(&self, capacity: usize) {
        self.capacity.store(capacity.max(1), Ordering::Relaxed);
    }

    /// Events dropped because their webhook's queue was full.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Puts the event in its key's lane of its URL, starting the URL's lanes the first time.
    fn enqueue(&self, bucket: &str, key: &str, config: Config, body: Bytes) {
        use std::hash::{Hash, Hasher};
        let url = config.url.to_string();
        let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        let lanes = queues.entry(url.clone()).or_insert_with(|| {
            let per_lane = self.capacity.load(Ordering::Relaxed).div_ceil(LANES).max(1);
            let client = self
                .client
                .get_or_init(|| {
                    Client::builder(TokioExecutor::new())
                        .pool_max_idle_per_host(LANES)
                        .pool_idle_timeout(Duration::from_secs(90))
                        .build_http()
                })
                .clone();
            (0..LANES)
                .map(|_| {
                    let (tx, rx) = tokio::sync::mpsc::channel(per_lane);
                    tokio::spawn(drain(
                        client.clone(),
                        rx,
                        std::sync::Arc::clone(&self.stats),
                    ));
                    tx
                })
                .collect()
        });
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (bucket, key).hash(&mut hasher);
        let lane = &lanes[(hasher.finish() % lanes.len() as u64) as usize];
        match lane.try_send((config, body)) {
            Ok(()) => self.stats.queued(&url),
            Err(tokio::sync::mpsc::error::TrySendError::Full(_)) => {
                self.stats.dropped(&url);
                let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                tracing::warn!(
                    bucket,
                    key,
                    url,
                    dropped,
                    "webhook lane full ({} events): event dropped",
                    lane.max_capacity()
                );
            }
            Err(tokio::sync::mpsc::error::TrySendError::Closed(_)) => {
                // The lanes ended (their runtime is gone); new ones start with the next event.
                queues.remove(&url);
            }
        }
    }

    fn configs(&self) -> std::sync::MutexGuard<'_, HashMap<String, Config>> {
        self.configs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Resolves masked secrets and enable-only updates in a `PATCH /{bucket}` JSON body
    /// against the bucket's stored settings (see [`resolve`]); other keys pass unchanged.
    pub(crate) fn resolve_body(&self, bucket: &str, body: &[u8]) -> S3Result<Vec<u8>> {
        let settings: Value = serde_json::from_slice(body)
            .map_err(|e| invalid(format!("the body is not valid JSON: {e}")))?;
        let Value::Object(mut settings) = settings else {
            return Err(invalid("the body must be a JSON object"));
        };
        if let Some(value) = settings.remove("object_notifications") {
            let resolved = resolve(value, self.configs().get(bucket))?;
            parse_config(&resolved)?;
            settings.insert("object_notifications".into(), resolved);
        }
        Ok(Value::Object(settings).to_string().into_bytes())
    }

    /// Applies a `PATCH /{bucket}` JSON body.
    pub(crate) fn apply(&self, bucket: &str, body: &[u8]) -> S3Result<()> {
        let body = self.resolve_body(bucket, body)?;
        let settings: Value = serde_json::from_slice(&body)
            .map_err(|e| invalid(format!("the body is not valid JSON: {e}")))?;
        let Value::Object(settings) = settings else {
            return Err(invalid("the body must be a JSON object"));
        };
        for (key, value) in &settings {
            match key.as_str() {
                "object_notifications" => match parse_config(value)? {
                    Some(config) => {
                        self.configs().insert(bucket.to_owned(), config);
                    }
                    None => {
                        self.configs().remove(bucket);
                    }
                },
                other => {
                    return Err(s3_error!(
                        NotImplemented,
                        "the emulator does not support the bucket setting {other:?}"
                    ));
                }
            }
        }
        Ok(())
    }

    pub(crate) fn set_clock(&mut self, clock: crate::clock::Clock) {
        self.clock = clock;
    }

    /// Queues the event for delivery if `bucket` has notifications configured and the filter
    /// selects it. Returns at once.
    pub(crate) fn emit(&self, bucket: &str, key: &str, event: EventName, object: Option<&Object>) {
        let Some(config) = self.configs().get(bucket).cloned() else {
            return;
        };
        if !config.enabled || !config.filter.matches(key, event, object) {
            return;
        }
        let time =
            OffsetDateTime::from(object.map_or_else(|| self.clock.now(), |o| o.last_modified));
        let millis = time
            .replace_nanosecond(time.millisecond() as u32 * 1_000_000)
            .unwrap_or(time);
        let event_time = millis
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let payload = json!({"events": [{
            "eventVersion": "1",
            "eventSource": "tigris",
            "eventName": event.as_str(),
            "eventTime": event_time,
            "bucket": bucket,
            "object": {
                "key": key,
                "size": object.map_or(0, Object::size),
                "eTag": object.map(|o| o.etag.clone()).unwrap_or_default(),
            },
        }]});
        if config.url.scheme_str() != Some("http") {
            tracing::warn!(bucket, url = %config.url, "the emulator delivers only to http:// webhooks; event dropped");
            return;
        }
        self.enqueue(bucket, key, config, Bytes::from(payload.to_string()));
    }

    /// `PATCH` bodies that rebuild the current settings, bucket by bucket.
    pub(crate) fn checkpoint(&self) -> Vec<(String, String)> {
        let mut bodies: Vec<_> = self
            .configs()
            .iter()
            .map(|(bucket, config)| {
                let body = json!({ "object_notifications": config.source }).to_string();
                (bucket.clone(), body)
            })
            .collect();
        bodies.sort();
        bodies
    }

    /// The `object_notifications` settings of `bucket` as the metadata endpoint shows them:
    /// `{enabled, web_hook, filter, auth?}`, with the token and the basic-auth password masked
    /// as Tigris does, and `auth` left out when there is none (the official CLI cannot read
    /// `auth: null`).
    pub(crate) fn masked(&self, bucket: &str) -> Option<Value> {
        let configs = self.configs();
        let config = configs.get(bucket)?;
        let text = |field: &str| {
            config
                .source
                .get(field)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let mut shown = json!({
            "enabled": config.enabled,
            "web_hook": text("web_hook"),
            "filter": text("filter"),
        });
        match &config.auth {
            Auth::None => {}
            Auth::Token(_) => shown["auth"] = json!({ "token": MASK }),
            Auth::Basic(user, _) => {
                shown["auth"] = json!({ "basic_user": user, "basic_pass": MASK })
            }
        }
        Some(shown)
    }

    /// Drops a deleted bucket's settings.
    pub(crate) fn forget(&self, bucket: &str) {
        self.configs().remove(bucket);
    }
}

/// Delivers one lane's events in order until the lane's sender is gone.
async fn drain(
    client: Client<HttpConnector, Full<Bytes>>,
    mut queue: tokio::sync::mpsc::Receiver<(Config, Bytes)>,
    stats: std::sync::Arc<crate::notify::webhook_stats::WebhookStats>,
) {
    while let Some((config, body)) = queue.recv().await {
        let (attempts, status) = deliver(&client, &config, body.clone()).await;
        stats.finished(&config.url.to_string(), &body, attempts, status);
    }
}

/// Delivers one event; returns the attempts made and the last answer's status.
async fn deliver(
    client: &Client<HttpConnector, Full<Bytes>>,
    config: &Config,
    body: Bytes,
) -> (u32, Option<u16>) {
    let mut backoff = FIRST_BACKOFF;
    let mut status = None;
    for attempt in 1..=ATTEMPTS {
        let mut req =
            http::Request::post(config.url.clone()).header("content-type", "application/json");
        if let Some(auth) = config.auth.header() {
            req = req.header("authorization", auth);
        }
        let Ok(req) = req.body(Full::new(body.clone())) else {
            return (attempt - 1, None);
        };
        let answer = tokio::time::timeout(ATTEMPT_TIMEOUT, client.request(req)).await;
        status = answer
            .as_ref()
            .ok()
            .and_then(|r| r.as_ref().ok())
            .map(|r| r.status().as_u16());
        match answer {
            Ok(Ok(resp)) if resp.status().is_success() => return (attempt, status),
            Ok(Ok(resp)) => {
                tracing::debug!(attempt, status = %resp.status(), "webhook refused the event")
            }
            Ok(Err(err)) => tracing::debug!(attempt, %err, "webhook unreachable"),
            Err(_) => tracing::debug!(attempt, "webhook timed out"),
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
    }
    tracing::warn!(url = %config.url, "webhook delivery gave up after {ATTEMPTS} attempts");
    (ATTEMPTS, status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_with_non_ascii_outside_quotes_are_refused_not_panics() {
        for text in [
            "WHERE `key` é",
            "WHERE `key` REGEXP \"a\" éAND `key` = \"b\"",
            "WHERE `key` REGEXé \"a\"",
            "WHERE `k€y` REGEXP \"a\" AND é",
            "WHERE é AND ",
            "WHEREé",
        ] {
            let _ = Filter::parse(text);
        }
        assert!(
            Filter::parse("WHERE `key` REGEXP \"é\" AND `Event-Type` = \"OBJECT_CREATED_PUT\"")
                .is_ok()
        );
    }

    #[test]
    fn filters_parse_and_select() {
        let f = Filter::parse(
            r#"WHERE `key` REGEXP "^results/" AND `Event-Type` = "OBJECT_CREATED_PUT""#,
        )
        .unwrap();
        assert!(f.matches("results/a", EventName::Put, None));
        assert!(!f.matches("results/a", EventName::Delete, None));
        assert!(!f.matches("other/a", EventName::Put, None));
        let f = Filter::parse(r#"WHERE `Event-Type` = "OBJECT_DELETED""#).unwrap();
        assert!(f.matches("x", EventName::Delete, None));
        assert!(
            Filter::parse("")
                .unwrap()
                .matches("anything", EventName::Copy, None)
        );
        assert!(Filter::parse(r#"WHERE `key` LIKE "x""#).is_err());
        assert!(Filter::parse(r#"WHERE `key` = "x" ORDER BY `key`"#).is_err());
        assert!(Filter::parse("key = 1").is_err());
        assert!(Filter::parse(r#"WHERE `key` REGEXP "(""#).is_err());
    }

    #[test]
    fn configs_validate_url_and_auth() {
        let ok = json!({"enabled": true, "web_hook": "http://127.0.0.1:9/h", "filter": "", "auth": {"token": "t"}});
        assert!(parse_config(&ok).unwrap().is_some());
        assert!(parse_config(&json!({})).unwrap().is_none());
        for bad in [
            json!({"enabled": true, "web_hook": "ftp://x/h"}),
            json!({"enabled": true}),
            json!({"enabled": true, "web_hook": "http://x/h", "auth": {"token": "t", "basic_user": "u"}}),
            json!({"enabled": true, "web_hook": "http://x/h", "auth": {"basic_user": "u"}}),
            json!({"enabled": true, "web_hook": "http://x/h", "filter": "nonsense"}),
        ] {
            assert!(parse_config(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn basic_auth_is_base64_and_debug_redacts() {
        let auth = Auth::Basic("user".into(), "pass".into());
        assert_eq!(auth.header().as_deref(), Some("Basic dXNlcjpwYXNz"));
        assert!(!format!("{auth:?}").contains("pass"));
        assert_eq!(base64_encode(b"ab"), "YWI=");
        assert_eq!(base64_encode(b"a"), "YQ==");
    }

    mod no_panic {
        //! The filter and settings parsers answer `Ok` or `Err` on any input.
        use super::super::*;
        use proptest::prelude::*;

        /// Filters built from the grammar's pieces, right and wrong, so every branch runs.
        fn filter() -> impl Strategy<Value = String> {
            let field = prop_oneof![
                Just("`key`".to_owned()),
                Just("`Event-Type`".to_owned()),
                Just("`k€y`".to_owned()),
                Just("`".to_owned()),
                Just(String::new()),
                any::<String>().prop_map(|f| format!("`{f}`")),
            ];
            let op = prop_oneof![
                Just("="),
                Just("!="),
                Just(" REGEXP "),
                Just("regexp"),
                Just("REGEXé"),
                Just("RE"),
                Just(""),
            ];
            let value = prop_oneof![
                "[a-z^$.*/()\\[\\]{}0-9,é]{0,12}",
                Just("OBJECT_CREATED_PUT".to_owned()),
                any::<String>(),
            ];
            let quote = prop_oneof![Just("\""), Just("'"), Just("")];
            let clause = (field, op, quote.clone(), value, quote)
                .prop_map(|(f, o, q1, v, q2)| format!("{f} {o} {q1}{v}{q2}"));
            let joiner =
                prop::sample::select(vec![" AND ", " and ", "AND", " ANDé ", " AND  ", " OR "]);
            (
                prop::sample::select(vec!["WHERE ", "where ", "WHERE", "WHEREé", "", "  WHERE\t"]),
                prop::collection::vec((clause, joiner), 0..4),
            )
                .prop_map(|(prefix, clauses)| {
                    let mut s = prefix.to_owned();
                    for (c, j) in clauses {
                        s.push_str(&c);
                        s.push_str(j);
                    }
                    s
                })
        }

        fn json() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(|n| json!(n)),
                any::<String>().prop_map(Value::String),
                filter().prop_map(Value::String),
                prop::sample::select(vec![
                    "http://127.0.0.1:9/h",
                    "https://x/h",
                    "http://",
                    "ftp://x",
                    "http://[::1",
                    "http://é/"
                ])
                .prop_map(|u| Value::String(u.to_owned())),
            ];
            leaf.prop_recursive(3, 24, 6, |inner| {
                let key = prop_oneof![
                    prop::sample::select(vec![
                        "enabled",
                        "web_hook",
                        "filter",
                        "auth",
                        "token",
                        "basic_user",
                        "basic_pass",
                        "object_notifications",
                    ])
                    .prop_map(str::to_owned),
                    any::<String>(),
                ];
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                    prop::collection::btree_map(key, inner, 0..5)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            #[test]
            fn filters_parse_or_fail(text in prop_oneof![any::<String>(), filter()]) {
                if let Ok(f) = Filter::parse(&text) {
                    let _ = f.matches("a/b", EventName::Put, None);
                }
            }

            #[test]
            fn notification_configs_parse_or_fail(v in json()) {
                let _ = parse_config(&v);
                let _ = parse_config(&json!({"enabled": true, "web_hook": "http://127.0.0.1:9/h", "filter": v}));
                let _ = parse_config(&json!({"web_hook": "http://127.0.0.1:9/h", "auth": v}));
            }

            #[test]
            fn settings_bodies_apply_or_fail(
                v in json(),
                bytes in prop::collection::vec(any::<u8>(), 0..128),
            ) {
                let notifier = Notifier::default();
                let _ = notifier.apply("b", json!({"object_notifications": v}).to_string().as_bytes());
                let _ = notifier.apply("b", v.to_string().as_bytes());
                let _ = notifier.apply("b", &bytes);
            }
        }
    }
}
