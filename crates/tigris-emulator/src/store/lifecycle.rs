//! Lifecycle rules applied by the storage clock: an enabled rule's expiration deletes the live
//! objects under its prefix once due, and its transition records the object's new storage
//! class (reported by HeadObject, GetObject and listings). Both are ordinary journaled writes
//! (a delete, or the object rewritten with the same body, ETag and Last-Modified), so they
//! survive a restart. Run when the clock is advanced (`Emulator::advance_clock`).
//!
//! Days count as S3 counts them: from the object's Last-Modified, rounded up to the next
//! midnight UTC; a date is due at its midnight UTC.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use s3s::dto::{ExpirationStatus, Timestamp};

use super::{LIVE, ListQuery, Store, StoreError};

const DAY: u64 = 86_400;

/// When `days` after `written` falls due.
fn due_after(written: SystemTime, days: i32) -> SystemTime {
    let secs = written
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
        .saturating_add(u64::try_from(days).unwrap_or(0).saturating_mul(DAY));
    UNIX_EPOCH + Duration::from_secs(secs.div_ceil(DAY).saturating_mul(DAY))
}

fn due(written: SystemTime, days: Option<i32>, date: Option<&Timestamp>) -> Option<SystemTime> {
    match (days, date) {
        (Some(d), _) => Some(due_after(written, d)),
        (None, Some(t)) => Some(SystemTime::from(time::OffsetDateTime::from(t.clone()))),
        _ => None,
    }
}

/// What one rule does: (prefix, expiry, transition class and timing).
struct Plan {
    prefix: String,
    expire: (Option<i32>, Option<Timestamp>),
    transition: Option<(String, Option<i32>, Option<Timestamp>)>,
}

impl Store {
    /// Applies every enabled lifecycle rule that is due by the storage clock, on buckets
    /// without snapshots.
    pub(crate) fn apply_lifecycle(&mut self) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut work: Vec<(String, Vec<Plan>)> = Vec::new();
        for (id, b) in &self.buckets {
            let Some(config) = &b.lifecycle else {
                continue;
            };
            // Only live buckets: a soft-deleted one keeps its level but not its name.
            if self.by_name.get(&b.name) != Some(id) {
                continue;
            }
            // Tigris documents that expiration and transitions are not supported on
            // snapshot-enabled buckets: their rules are kept but never run.
            if b.snapshots_enabled {
                continue;
            }
            let plans = config
                .rules
                .iter()
                .filter(|r| r.status.as_str() == ExpirationStatus::ENABLED)
                .map(|r| Plan {
                    prefix: r
                        .filter
                        .as_ref()
                        .and_then(|f| f.prefix.clone())
                        .or_else(|| r.prefix.clone())
                        .unwrap_or_default(),
                    expire: r
                        .expiration
                        .as_ref()
                        .map_or((None, None), |e| (e.days, e.date.clone())),
                    transition: r
                        .transitions
                        .as_ref()
                        .and_then(|t| t.first())
                        .and_then(|t| {
                            let class = t.storage_class.as_ref()?.as_str().to_owned();
                            Some((class, t.days, t.date.clone()))
                        }),
                })
                .collect();
            work.push((b.name.clone(), plans));
        }
        for (bucket, plans) in work {
            for plan in plans {
                let mut after: Option<String> = None;
                loop {
                    let page = self.list(
                        &bucket,
                        &ListQuery {
                            prefix: &plan.prefix,
                            delimiter: None,
                            after: after.as_deref(),
                            max_keys: 1000,
                            version: LIVE,
                        },
                    )?;
                    for (key, object) in &page.objects {
                        let written = object.last_modified;
                        if due(written, plan.expire.0, plan.expire.1.as_ref())
                            .is_some_and(|d| d <= now)
                        {
                            self.delete_if_present(&bucket, key)?;
                            continue;
                        }
                        if let Some((class, days, date)) = &plan.transition
                            && object.extra.storage_class.as_deref() != Some(class.as_str())
                            && due(written, *days, date.as_ref()).is_some_and(|d| d <= now)
                        {
                            let class = class.clone();
                            self.update_extra(&bucket, key, |e| e.storage_class = Some(class))?;
                        }
                    }
                    if !page.is_truncated {
                        break;
                    }
                    after = page.next_marker;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_count_to_the_next_midnight_utc() {
        let written = UNIX_EPOCH + Duration::from_secs(10 * DAY + 3600);
        assert_eq!(
            due_after(written, 1),
            UNIX_EPOCH + Duration::from_secs(12 * DAY)
        );
        let midnight = UNIX_EPOCH + Duration::from_secs(10 * DAY);
        assert_eq!(
            due_after(midnight, 2),
            UNIX_EPOCH + Duration::from_secs(12 * DAY)
        );
    }
}
