//! Latency figures for the load program: per-kind samples and their percentiles.

use std::collections::BTreeMap;
use std::time::Duration;

/// Request latencies by kind (`PutObject`, `GetObject`, ...), measured in the client.
#[derive(Debug, Default, Clone)]
pub struct Latencies {
    samples: BTreeMap<&'static str, Vec<Duration>>,
}

impl Latencies {
    /// Records one request of `kind` that took `took`.
    pub fn record(&mut self, kind: &'static str, took: Duration) {
        self.samples.entry(kind).or_default().push(took);
    }

    /// Adds every sample of `other`.
    pub fn extend(&mut self, other: Latencies) {
        for (kind, samples) in other.samples {
            self.samples.entry(kind).or_default().extend(samples);
        }
    }

    /// `(kind, requests, p50, p99)` per kind, in name order.
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut l = tigris_reliability::load::Latencies::default();
    /// for ms in 1..=100 {
    ///     l.record("GetObject", Duration::from_millis(ms));
    /// }
    /// let rows = l.summary();
    /// assert_eq!(rows[0], ("GetObject", 100, Duration::from_millis(50), Duration::from_millis(99)));
    /// ```
    pub fn summary(&self) -> Vec<(&'static str, usize, Duration, Duration)> {
        self.samples
            .iter()
            .map(|(kind, samples)| {
                let mut sorted = samples.clone();
                sorted.sort();
                (
                    *kind,
                    sorted.len(),
                    percentile(&sorted, 50),
                    percentile(&sorted, 99),
                )
            })
            .collect()
    }
}

/// The nearest-rank `p`th percentile of sorted samples (zero when empty).
pub fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}
