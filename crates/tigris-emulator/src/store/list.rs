//! Listing: a k-way merge of the levels of a bucket's fork chain, with prefixes and delimiters.

use super::*;

/// The result of a listing page.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    pub(crate) objects: Vec<(String, Arc<Object>)>,
    pub(crate) common_prefixes: Vec<String>,
    pub(crate) is_truncated: bool,
    /// The last key or common prefix returned, to continue after.
    pub(crate) next_marker: Option<String>,
}

/// A listing request.
#[derive(Debug, Default)]
pub(crate) struct ListQuery<'a> {
    pub(crate) prefix: &'a str,
    pub(crate) delimiter: Option<&'a str>,
    /// Exclusive lower bound (marker, start-after or continuation token).
    pub(crate) after: Option<&'a str>,
    pub(crate) max_keys: usize,
    pub(crate) version: u64,
}

impl Store {
    /// Lists `bucket` as of `query.version`, S3 style (prefix, delimiter, marker, page size).
    pub(crate) fn list(&self, bucket: &str, query: &ListQuery<'_>) -> Result<Listing, StoreError> {
        let id = self.bucket_id(bucket)?;
        self.check_version(id, bucket, query.version)?;
        Ok(self.list_id(id, query))
    }
    pub(super) fn list_id(&self, id: BucketId, query: &ListQuery<'_>) -> Listing {
        if query.max_keys == 0 {
            // An empty page that is not truncated: a truncated page would need a continuation
            // token, and there is no key to continue after (S3 answers max-keys=0 the same way).
            return Listing::default();
        }
        let levels = self.levels(id, query.version);
        let start: Bound<&str> = match query.after {
            Some(after) if after >= query.prefix => Bound::Excluded(after),
            _ => Bound::Included(query.prefix),
        };
        let mut cursors: Vec<_> = levels
            .iter()
            .map(|(b, _)| {
                b.objects
                    .range::<str, _>((start, Bound::Unbounded))
                    .map(|(k, _)| k.as_str())
                    .peekable()
            })
            .collect();
        // Continuing after a common prefix skips everything under it.
        let skip_under = query
            .after
            .filter(|a| query.delimiter.is_some_and(|d| a.ends_with(d)));
        let mut listing = Listing::default();
        let mut last_prefix: Option<String> = None;
        let mut count = 0usize;
        // The smallest key any level has next: a k-way merge of sorted cursors.
        while let Some(key) = cursors.iter_mut().filter_map(|c| c.peek().copied()).min() {
            for cursor in &mut cursors {
                if cursor.peek() == Some(&key) {
                    cursor.next();
                }
            }
            if !key.starts_with(query.prefix) {
                break;
            }
            if skip_under.is_some_and(|p| key.starts_with(p)) {
                continue;
            }
            let Some(object) = levels
                .iter()
                .find_map(|(b, cap)| b.resolve_here(key, *cap))
                .flatten()
            else {
                continue;
            };
            let common = query.delimiter.filter(|d| !d.is_empty()).and_then(|d| {
                key[query.prefix.len()..]
                    .find(d)
                    .map(|i| key[..query.prefix.len() + i + d.len()].to_owned())
            });
            if let Some(prefix) = &common
                && last_prefix.as_ref() == Some(prefix)
            {
                continue;
            }
            if count == query.max_keys {
                listing.is_truncated = true;
                break;
            }
            count += 1;
            match common {
                Some(prefix) => {
                    listing.next_marker = Some(prefix.clone());
                    listing.common_prefixes.push(prefix.clone());
                    last_prefix = Some(prefix);
                }
                None => {
                    listing.next_marker = Some(key.to_owned());
                    listing.objects.push((key.to_owned(), Arc::clone(object)));
                }
            }
        }
        if !listing.is_truncated {
            listing.next_marker = None;
        }
        listing
    }
}
