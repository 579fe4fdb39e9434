//! Read-only views of the store for the console (`crate::console`): what a bucket is, and what
//! a fork changed against its parent. Nothing here changes the store; every function takes
//! `&Store`, and callers hold the lock only for one call.

use std::cmp::Ordering;
use std::time::SystemTime;

use super::{LIVE, ListQuery, Store, StoreError, version_time};
use crate::store::settings::Settings;

/// One live bucket as the console shows it.
#[derive(Debug, Clone)]
pub(crate) struct BucketView {
    pub(crate) name: String,
    pub(crate) created: SystemTime,
    pub(crate) snapshots_enabled: bool,
    /// `(parent, fork point version, the parent's snapshot name at it)`.
    pub(crate) fork: Option<(String, u64, Option<String>)>,
    pub(crate) soft_delete_days: Option<u32>,
    pub(crate) has_lifecycle: bool,
    pub(crate) settings: Settings,
    /// `(version, name)` of each snapshot, oldest first.
    pub(crate) snapshots: Vec<(u64, Option<String>)>,
}

/// An object as a listing shows it, enough to tell whether it changed (as the agent kit's
/// diff compares: ETag and size).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Summary {
    pub(crate) etag: String,
    pub(crate) size: u64,
}

/// One key's change between two states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Added,
    Modified,
    Deleted,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Modified => "modified",
            Self::Deleted => "deleted",
        }
    }

    fn between(before: Option<&Summary>, after: Option<&Summary>) -> Option<Self> {
        match (before, after) {
            (a, b) if a == b => None,
            (None, _) => Some(Self::Added),
            (Some(_), None) => Some(Self::Deleted),
            (Some(_), Some(_)) => Some(Self::Modified),
        }
    }
}

/// One key of a fork diff: what the fork did to it, what the parent did, and whether the two
/// collide (both changed it, to different results).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DiffRow {
    pub(crate) key: String,
    pub(crate) fork: Option<Kind>,
    pub(crate) parent: Option<Kind>,
    pub(crate) conflict: bool,
    /// The size now in the fork; for a deletion the size it had; for a key only the parent
    /// changed, its size in the parent.
    pub(crate) size: u64,
}

/// Keys listed per level and chunk by [`Store::diff_chunk`].
const CHUNK: usize = 500;

impl Store {
    /// Every live bucket in name order.
    pub(crate) fn bucket_views(&self) -> Vec<BucketView> {
        self.names()
            .into_iter()
            .filter_map(|name| self.bucket_view(name).ok())
            .collect()
    }

    /// One live bucket.
    pub(crate) fn bucket_view(&self, name: &str) -> Result<BucketView, StoreError> {
        let b = self.bucket(name)?;
        Ok(BucketView {
            name: b.name.clone(),
            created: b.created,
            snapshots_enabled: b.snapshots_enabled,
            fork: b.fork.as_ref().map(|f| {
                let snapshot = self
                    .buckets
                    .get(&f.parent)
                    .and_then(|p| p.snapshots.get(&f.version).cloned().flatten());
                (f.parent_name.clone(), f.version, snapshot)
            }),
            soft_delete_days: b.soft_delete,
            has_lifecycle: b.lifecycle.is_some(),
            settings: b.settings.clone(),
            snapshots: b.snapshots.iter().map(|(v, n)| (*v, n.clone())).collect(),
        })
    }

    /// The fork point of `fork` and its parent's name: what a diff compares against.
    pub(crate) fn fork_base(&self, fork: &str) -> Result<(String, u64), StoreError> {
        let b = self.bucket(fork)?;
        let point = b
            .fork
            .as_ref()
            .ok_or_else(|| StoreError::Invalid(format!("{fork} is not a fork")))?;
        Ok((point.parent_name.clone(), point.version))
    }

    /// One chunk of the diff of `fork` (whose parent is `parent`, forked at `point`) for the
    /// keys after `after`: the three listings the agent kit walks (the fork now, the parent at
    /// the fork point, the parent now), each read for up to [`CHUNK`] keys, merged for the keys
    /// all three have fully covered. Returns the rows and the last key covered (`None`: done).
    pub(crate) fn diff_chunk(
        &self,
        fork: &str,
        parent: &str,
        point: u64,
        after: Option<&str>,
    ) -> Result<(Vec<DiffRow>, Option<String>), StoreError> {
        let page = |bucket: &str, version: u64| -> Result<_, StoreError> {
            let id = self.bucket_id(bucket)?;
            let listing = self.list_id(
                id,
                &ListQuery {
                    after,
                    max_keys: CHUNK,
                    version,
                    ..ListQuery::default()
                },
            );
            let items: Vec<(String, Summary)> = listing
                .objects
                .into_iter()
                .map(|(k, o)| {
                    let summary = Summary {
                        etag: o.etag.clone(),
                        size: o.size(),
                    };
                    (k, summary)
                })
                .collect();
            Ok((items, listing.is_truncated))
        };
        let (now, then, parent_now) =
            (page(fork, LIVE)?, page(parent, point)?, page(parent, LIVE)?);
        // Keys up to the smallest last key of a truncated listing are complete in all three.
        let bound = [&now, &then, &parent_now]
            .into_iter()
            .filter(|(_, truncated)| *truncated)
            .filter_map(|(items, _)| items.last().map(|(k, _)| k.clone()))
            .min();
        let within = |k: &str| bound.as_deref().is_none_or(|b| k <= b);
        let mut rows = Vec::new();
        let (mut a, mut b, mut c) = (
            now.0.into_iter().peekable(),
            then.0.into_iter().peekable(),
            parent_now.0.into_iter().peekable(),
        );
        loop {
            let key = [a.peek(), b.peek(), c.peek()]
                .into_iter()
                .flatten()
                .map(|(k, _)| k.as_str())
                .filter(|k| within(k))
                .min()
                .map(str::to_owned);
            let Some(key) = key else { break };
            let take = |it: &mut std::iter::Peekable<std::vec::IntoIter<(String, Summary)>>| {
                if it
                    .peek()
                    .is_some_and(|(k, _)| k.cmp(&key) == Ordering::Equal)
                {
                    it.next().map(|(_, s)| s)
                } else {
                    None
                }
            };
            let (ours, base, theirs) = (take(&mut a), take(&mut b), take(&mut c));
            let fork_kind = Kind::between(base.as_ref(), ours.as_ref());
            let parent_kind = Kind::between(base.as_ref(), theirs.as_ref());
            if fork_kind.is_none() && parent_kind.is_none() {
                continue;
            }
            let conflict = fork_kind.is_some() && parent_kind.is_some() && ours != theirs;
            let size = ours
                .as_ref()
                .or(base.as_ref())
                .or(theirs.as_ref())
                .map_or(0, |s| s.size);
            rows.push(DiffRow {
                key,
                fork: fork_kind,
                parent: parent_kind,
                conflict,
                size,
            });
        }
        Ok((rows, bound))
    }

    /// `(visible objects, their bytes)` of `bucket` as of `version`, or `None` when it holds
    /// more than `limit` (counted up to there): a count the console can afford under the lock.
    pub(crate) fn count_objects(&self, bucket: &str, limit: usize) -> Option<(u64, u64)> {
        let id = self.bucket_id(bucket).ok()?;
        let listing = self.list_id(
            id,
            &ListQuery {
                max_keys: limit,
                version: LIVE,
                ..ListQuery::default()
            },
        );
        if listing.is_truncated {
            return None;
        }
        let bytes = listing.objects.iter().map(|(_, o)| o.size()).sum();
        Some((listing.objects.len() as u64, bytes))
    }
}

/// When a version was written, for display.
pub(crate) fn time_of(version: u64) -> SystemTime {
    version_time(version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Object;

    fn obj(s: &str) -> Option<Object> {
        Some(Object::new(
            bytes::Bytes::from(s.to_owned()),
            None,
            Vec::new(),
        ))
    }

    fn diff(s: &Store, fork: &str) -> Vec<DiffRow> {
        let (parent, point) = s.fork_base(fork).unwrap();
        let mut rows = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let (chunk, next) = s
                .diff_chunk(fork, &parent, point, after.as_deref())
                .unwrap();
            rows.extend(chunk);
            match next {
                Some(n) => after = Some(n),
                None => return rows,
            }
        }
    }

    #[test]
    fn a_fork_diff_lists_the_forks_and_the_parents_changes_and_marks_conflicts() {
        let mut s = Store::default();
        s.create_bucket("p", true).unwrap();
        for k in ["keep", "edit", "gone", "both", "same"] {
            s.write("p", k, obj("v0")).unwrap();
        }
        s.fork_bucket("f", "p", None).unwrap();
        s.write("f", "edit", obj("fork")).unwrap();
        s.write("f", "gone", None).unwrap();
        s.write("f", "new", obj("fork")).unwrap();
        s.write("f", "both", obj("fork")).unwrap();
        s.write("p", "both", obj("parent")).unwrap();
        s.write("f", "same", obj("v1")).unwrap();
        s.write("p", "same", obj("v1")).unwrap();
        s.write("p", "theirs", obj("parent")).unwrap();
        let rows = diff(&s, "f");
        let shown: Vec<(&str, Option<Kind>, Option<Kind>, bool)> = rows
            .iter()
            .map(|r| (r.key.as_str(), r.fork, r.parent, r.conflict))
            .collect();
        use Kind::*;
        assert_eq!(
            shown,
            [
                ("both", Some(Modified), Some(Modified), true),
                ("edit", Some(Modified), None, false),
                ("gone", Some(Deleted), None, false),
                ("new", Some(Added), None, false),
                ("same", Some(Modified), Some(Modified), false),
                ("theirs", None, Some(Added), false),
            ]
        );
    }

    #[test]
    fn a_diff_longer_than_a_chunk_is_walked_whole_in_key_order() {
        let mut s = Store::default();
        s.create_bucket("p", true).unwrap();
        for i in 0..(CHUNK * 2 + 7) {
            s.write("p", &format!("p{i:05}"), obj("x")).unwrap();
        }
        s.fork_bucket("f", "p", None).unwrap();
        for i in (0..(CHUNK * 3)).step_by(2) {
            s.write("f", &format!("p{i:05}"), obj("y")).unwrap();
        }
        let rows = diff(&s, "f");
        let expected: Vec<String> = (0..(CHUNK * 3))
            .step_by(2)
            .map(|i| format!("p{i:05}"))
            .collect();
        let keys: Vec<String> = rows.iter().map(|r| r.key.clone()).collect();
        assert_eq!(keys, expected);
    }

    #[test]
    fn a_plain_bucket_has_no_fork_base() {
        let mut s = Store::default();
        s.create_bucket("p", true).unwrap();
        assert!(s.fork_base("p").is_err());
        assert!(s.fork_base("missing").is_err());
    }
}
