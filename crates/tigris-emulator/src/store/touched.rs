//! What a fork, a merge and a rebase do to objects, key by key, as the plain reads and writes
//! they stand for, so the access check can authorize each one (see `auth.rs`). Read-only; the
//! S3 handler asks under the same store lock as the change, so the objects checked are exactly
//! the objects the change exposes or writes.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{BucketId, LIVE, ListQuery, Object, Store, StoreError};

/// One key a merge or a rebase changes in the bucket it writes: a put of the object a reader of
/// the other bucket sees, or a delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Touch {
    Put(String),
    Delete(String),
}

/// Per key, the object a merge puts (or `None`: a delete).
pub(super) type Changes = Vec<(String, Option<Arc<Object>>)>;

impl Store {
    /// Every object under `prefix` a read of `id` at `version` sees, by key.
    pub(super) fn visible(
        &self,
        id: BucketId,
        version: u64,
        prefix: &str,
    ) -> BTreeMap<String, Arc<Object>> {
        let mut out = BTreeMap::new();
        let mut after: Option<String> = None;
        loop {
            let query = ListQuery {
                prefix,
                after: after.as_deref(),
                max_keys: 1000,
                version,
                ..ListQuery::default()
            };
            let page = self.list_id(id, &query);
            out.extend(page.objects);
            if !page.is_truncated {
                return out;
            }
            after = page.next_marker;
        }
    }

    /// The keys a fork of `source` (at `at`, or now) exposes: every object visible there.
    pub(crate) fn fork_exposes(
        &self,
        source: &str,
        at: Option<u64>,
    ) -> Result<Vec<String>, StoreError> {
        let id = self.bucket_id(source)?;
        Ok(self
            .visible(id, at.unwrap_or(LIVE), "")
            .into_keys()
            .collect())
    }

    /// The changes `fork` made since it was made (or last merged) that a merge writes into
    /// `into`, its direct parent: per key the fork's object (a put) or `None` (a delete of what
    /// the parent has). Refuses a bucket that is no fork, or a target that is not its parent.
    pub(crate) fn merge_changes(&self, fork: &str, into: &str) -> Result<Changes, StoreError> {
        let fork_id = self.bucket_id(fork)?;
        let parent_id = self.bucket_id(into)?;
        let Some(point) = &self.buckets[&fork_id].fork else {
            return Err(StoreError::Invalid(format!(
                "{fork} is not a fork, so there is nothing to merge into {into}"
            )));
        };
        if point.parent != parent_id {
            return Err(StoreError::Invalid(format!(
                "{into} is not the parent of {fork}; a fork merges into its direct parent, {}",
                self.buckets[&point.parent].name
            )));
        }
        let merged = point.merged;
        Ok(self.buckets[&fork_id]
            .objects
            .iter()
            .filter_map(|(key, history)| {
                let newest = history.last().filter(|e| e.version > merged)?;
                Some((key.clone(), newest.object.clone()))
            })
            // Deleting what the parent does not have would change nothing.
            .filter(|(key, object)| {
                object.is_some() || self.resolve(parent_id, key, LIVE).is_some()
            })
            .collect())
    }

    /// What a merge of `fork` into `into` writes there, key by key.
    pub(crate) fn merge_touches(&self, fork: &str, into: &str) -> Result<Vec<Touch>, StoreError> {
        Ok(self
            .merge_changes(fork, into)?
            .into_iter()
            .map(|(key, object)| match object {
                Some(_) => Touch::Put(key),
                None => Touch::Delete(key),
            })
            .collect())
    }

    /// The parent of `fork` and what a rebase changes in what the fork shows, key by key: a key
    /// the fork never wrote whose object in the parent differs between the fork's base and the
    /// parent's present is a put (of the parent's present object) or a delete (gone there).
    pub(crate) fn rebase_touches(&self, fork: &str) -> Result<(String, Vec<Touch>), StoreError> {
        let id = self.bucket_id(fork)?;
        let Some(point) = &self.buckets[&id].fork else {
            return Err(StoreError::Invalid(format!(
                "{fork} is not a fork; only a fork can be rebased"
            )));
        };
        let before = self.visible(point.parent, point.version, "");
        let now = self.visible(point.parent, LIVE, "");
        let own = &self.buckets[&id].objects;
        let mut keys: Vec<&String> = before.keys().chain(now.keys()).collect();
        keys.sort_unstable();
        keys.dedup();
        let touches = keys
            .into_iter()
            .filter(|key| !own.contains_key(*key))
            .filter_map(|key| match (before.get(key), now.get(key)) {
                (old, Some(new)) if old.is_none_or(|o| !Arc::ptr_eq(o, new)) => {
                    Some(Touch::Put(key.clone()))
                }
                (Some(_), None) => Some(Touch::Delete(key.clone())),
                _ => None,
            })
            .collect();
        Ok((point.parent_name.clone(), touches))
    }
}
