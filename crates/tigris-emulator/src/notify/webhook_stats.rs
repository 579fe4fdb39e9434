//! What webhook delivery did, per URL, for the console: recent deliveries (status, attempts),
//! events dropped on a full queue, and how many wait. The notifier (`notify.rs`) reports into
//! it; nothing here changes delivery.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

/// Deliveries kept per URL, newest last.
const RECENT: usize = 20;

/// How one event's delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Delivery {
    pub(crate) at: SystemTime,
    pub(crate) bucket: String,
    pub(crate) key: String,
    pub(crate) event: String,
    pub(crate) attempts: u32,
    /// The last answer's status; `None` when the last attempt got no answer.
    pub(crate) status: Option<u16>,
    /// Whether an attempt got a 2xx.
    pub(crate) delivered: bool,
}

/// One webhook URL's counters.
#[derive(Debug, Clone, Default)]
pub(crate) struct UrlStats {
    pub(crate) queued: u64,
    pub(crate) finished: u64,
    pub(crate) delivered: u64,
    pub(crate) failed: u64,
    pub(crate) dropped: u64,
    pub(crate) recent: VecDeque<Delivery>,
}

impl UrlStats {
    /// Events queued or being delivered now.
    pub(crate) fn depth(&self) -> u64 {
        self.queued.saturating_sub(self.finished)
    }
}

/// Per-URL delivery statistics.
#[derive(Debug, Default)]
pub(crate) struct WebhookStats {
    urls: Mutex<BTreeMap<String, UrlStats>>,
}

/// `(bucket, key, event name)` of a Tigris webhook payload (one event per payload here).
fn describe(body: &[u8]) -> (String, String, String) {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let event = &v["events"][0];
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    (
        text(&event["bucket"]),
        text(&event["object"]["key"]),
        text(&event["eventName"]),
    )
}

impl WebhookStats {
    fn with(&self, url: &str, f: impl FnOnce(&mut UrlStats)) {
        let mut urls = self.urls.lock().unwrap_or_else(PoisonError::into_inner);
        f(urls.entry(url.to_owned()).or_default());
    }

    /// An event entered `url`'s queue.
    pub(crate) fn queued(&self, url: &str) {
        self.with(url, |s| s.queued += 1);
    }

    /// An event for `url` was dropped (its queue was full).
    pub(crate) fn dropped(&self, url: &str) {
        self.with(url, |s| s.dropped += 1);
    }

    /// An event's delivery to `url` ended after `attempts`.
    pub(crate) fn finished(&self, url: &str, body: &[u8], attempts: u32, status: Option<u16>) {
        let (bucket, key, event) = describe(body);
        let delivered = status.is_some_and(|s| (200..300).contains(&s));
        let delivery = Delivery {
            at: SystemTime::now(),
            bucket,
            key,
            event,
            attempts,
            status,
            delivered,
        };
        self.with(url, |s| {
            s.finished += 1;
            if delivered {
                s.delivered += 1;
            } else {
                s.failed += 1;
            }
            if s.recent.len() == RECENT {
                s.recent.pop_front();
            }
            s.recent.push_back(delivery);
        });
    }

    /// Every URL's counters, in URL order.
    pub(crate) fn snapshot(&self) -> Vec<(String, UrlStats)> {
        let urls = self.urls.lock().unwrap_or_else(PoisonError::into_inner);
        urls.iter().map(|(u, s)| (u.clone(), s.clone())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_what_was_queued_and_not_finished_and_recent_keeps_the_newest() {
        let stats = WebhookStats::default();
        let body =
            br#"{"events":[{"eventName":"OBJECT_CREATED_PUT","bucket":"b","object":{"key":"k"}}]}"#;
        for _ in 0..(RECENT + 3) {
            stats.queued("http://h/");
        }
        stats.dropped("http://h/");
        for i in 0..(RECENT + 1) {
            let status = if i == 0 { None } else { Some(200) };
            stats.finished("http://h/", body, 2, status);
        }
        let (url, s) = stats.snapshot().pop().unwrap();
        assert_eq!(url, "http://h/");
        assert_eq!((s.depth(), s.dropped, s.delivered, s.failed), (2, 1, 20, 1));
        assert_eq!(s.recent.len(), RECENT);
        assert!(s.recent.iter().all(|d| d.delivered && d.key == "k"));
        assert_eq!(s.recent[0].event, "OBJECT_CREATED_PUT");
    }
}
