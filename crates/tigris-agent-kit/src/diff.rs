//! What a fork changed since its fork point, what its parent changed since then, and where the
//! two collide: computed from listings, so it works the same on Tigris and on the emulator.

use std::fmt;

use aws_sdk_s3::types::Object;
use tigris_core::BucketName;
use tigris_headers::SnapshotVersion;
use tigris_headers::prelude::*;

use crate::error::{Error, Operation, Result, Step};
use crate::kit::AgentKit;
use crate::validate;

/// An object as a listing shows it: enough to tell whether it changed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectSummary {
    etag: Option<String>,
    size: u64,
}

impl ObjectSummary {
    /// Its ETag, as listed (quotes included), if the listing had one.
    pub fn etag(&self) -> Option<&str> {
        self.etag.as_deref()
    }

    /// Its size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    fn of(object: &Object) -> Self {
        Self {
            etag: object.e_tag().map(str::to_owned),
            size: object
                .size()
                .and_then(|s| u64::try_from(s).ok())
                .unwrap_or(0),
        }
    }
}

/// How a key changed between two states of a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// The key is new.
    Added,
    /// The key is still there with another ETag (or size).
    Modified,
    /// The key is gone.
    Deleted,
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Added => "added",
            Self::Modified => "modified",
            Self::Deleted => "deleted",
        })
    }
}

/// One changed key: the object before (at the fork point) and after (now).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Change {
    key: String,
    before: Option<ObjectSummary>,
    after: Option<ObjectSummary>,
}

impl Change {
    /// Compares one key's two states; `None` when it did not change.
    fn between(
        key: &str,
        before: Option<&ObjectSummary>,
        after: Option<&ObjectSummary>,
    ) -> Option<Self> {
        if before == after {
            return None;
        }
        Some(Self {
            key: key.to_owned(),
            before: before.cloned(),
            after: after.cloned(),
        })
    }

    /// The object key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Added, modified or deleted.
    pub fn kind(&self) -> ChangeKind {
        match (&self.before, &self.after) {
            (None, _) => ChangeKind::Added,
            (Some(_), None) => ChangeKind::Deleted,
            (Some(_), Some(_)) => ChangeKind::Modified,
        }
    }

    /// The object at the fork point; `None` for an added key.
    pub fn before(&self) -> Option<&ObjectSummary> {
        self.before.as_ref()
    }

    /// The object now; `None` for a deleted key.
    pub fn after(&self) -> Option<&ObjectSummary> {
        self.after.as_ref()
    }

    /// The size now, or for a deleted key the size it had.
    pub fn size(&self) -> u64 {
        self.after
            .as_ref()
            .or(self.before.as_ref())
            .map_or(0, ObjectSummary::size)
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ({} bytes)", self.kind(), self.key, self.size())
    }
}

/// A key both the fork and its parent changed since the fork point, to different results.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Conflict {
    key: String,
    fork: ChangeKind,
    parent: ChangeKind,
}

impl Conflict {
    /// The object key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// What the fork did to it.
    pub fn fork(&self) -> ChangeKind {
        self.fork
    }

    /// What the parent did to it.
    pub fn parent(&self) -> ChangeKind {
        self.parent
    }
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({} in the fork, {} in the parent)",
            self.key, self.fork, self.parent
        )
    }
}

/// What a fork and its parent changed since the fork point; from [`AgentKit::diff`].
///
/// Every list is sorted by key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForkDiff {
    fork: BucketName,
    parent: BucketName,
    fork_point: SnapshotVersion,
    fork_changes: Vec<Change>,
    parent_changes: Vec<Change>,
    conflicts: Vec<Conflict>,
}

impl ForkDiff {
    /// The fork.
    pub fn fork(&self) -> &BucketName {
        &self.fork
    }

    /// The bucket it was forked from.
    pub fn parent(&self) -> &BucketName {
        &self.parent
    }

    /// The parent's version the fork reads through to (its snapshot, moved by a rebase).
    pub fn fork_point(&self) -> &SnapshotVersion {
        &self.fork_point
    }

    /// What the fork changed: fork now against the parent at the fork point. This is what a
    /// merge applies.
    pub fn fork_changes(&self) -> &[Change] {
        &self.fork_changes
    }

    /// What the parent changed: parent now against the parent at the fork point.
    pub fn parent_changes(&self) -> &[Change] {
        &self.parent_changes
    }

    /// The keys both changed, to different results (the same new ETag on both sides, or a
    /// delete on both, is no conflict). A merge refuses them unless told to overwrite.
    pub fn conflicts(&self) -> &[Conflict] {
        &self.conflicts
    }

    /// Whether the fork changed nothing.
    pub fn is_empty(&self) -> bool {
        self.fork_changes.is_empty()
    }
}

/// Computes a [`ForkDiff`]; from [`AgentKit::diff`].
///
/// 1. `HeadBucket` of the fork: its parent and fork point;
/// 2. three `ListObjectsV2` listings walked together in key order: the fork, the parent at the
///    fork point (`X-Tigris-Snapshot-Version`), and the parent now, a page at a time; only the
///    changes are kept, never the listings.
///
/// A fork lists its parent's objects as of the fork point plus its own writes, so comparing
/// it with the parent at the fork point yields exactly the fork's changes; objects are
/// compared by ETag and size.
///
/// ```no_run
/// # async fn demo(kit: tigris_agent_kit::AgentKit) -> Result<(), tigris_agent_kit::Error> {
/// let diff = kit.diff("datasets-exp").send().await?;
/// for change in diff.fork_changes() {
///     println!("{change}"); // "modified model.bin (1024 bytes)"
/// }
/// for conflict in diff.conflicts() {
///     println!("both changed {}", conflict.key());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "nothing is read until send() is awaited"]
pub struct DiffFork {
    kit: AgentKit,
    fork: String,
    page_size: Option<i32>,
}

impl DiffFork {
    pub(crate) fn new(kit: AgentKit, fork: String) -> Self {
        Self {
            kit,
            fork,
            page_size: None,
        }
    }

    /// Asks for at most this many keys per listing page (the service's default, 1000 on
    /// Tigris, unless set; at least 1).
    pub fn page_size(mut self, keys: i32) -> Self {
        self.page_size = Some(keys);
        self
    }

    /// Validates the name, then reads the fork point and walks the listings.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for an
    /// invalid name or page size, and for a bucket that is not a fork;
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for an unknown bucket; otherwise the
    /// failed request ([`Step::ReadForkPoint`] or [`Step::ListObjects`]).
    #[tracing::instrument(skip_all, fields(fork = %self.fork))]
    pub async fn send(self) -> Result<ForkDiff> {
        let operation = Operation::Diff {
            fork: self.fork.clone(),
        };
        let fork = validate::bucket_name(&operation, "fork name", &self.fork)?;
        if self.page_size.is_some_and(|n| n < 1) {
            return Err(Error::invalid_input(
                operation,
                "the page size must be at least 1",
            ));
        }
        diff(&self.kit, &operation, fork, self.page_size).await
    }
}

/// Reads the fork point of `fork` and diffs it; `operation` labels the errors.
pub(crate) async fn diff(
    kit: &AgentKit,
    operation: &Operation,
    fork: BucketName,
    page_size: Option<i32>,
) -> Result<ForkDiff> {
    let info = kit
        .s3()
        .bucket_info()
        .bucket(&fork)
        .send()
        .await
        .map_err(|e| Error::from_headers(operation.clone(), Step::ReadForkPoint, e))?;
    let (Some(parent), Some(fork_point)) = (info.fork_parent(), info.fork_snapshot()) else {
        return Err(Error::invalid_input(
            operation.clone(),
            format!("{fork} is not a fork, so it has no fork point to compare with"),
        ));
    };
    let (parent, fork_point) = (parent.clone(), fork_point.clone());
    let mut now = Listing::new(kit, &fork, None, page_size);
    let mut then = Listing::new(kit, &parent, Some(&fork_point), page_size);
    let mut parent_now = Listing::new(kit, &parent, None, page_size);
    let (mut fork_changes, mut parent_changes, mut conflicts) =
        (Vec::new(), Vec::new(), Vec::new());
    loop {
        futures::future::try_join3(
            now.fill(operation),
            then.fill(operation),
            parent_now.fill(operation),
        )
        .await?;
        let Some(key) = [now.key(), then.key(), parent_now.key()]
            .into_iter()
            .flatten()
            .min()
            .map(str::to_owned)
        else {
            break;
        };
        let (ours, base, theirs) = (now.take(&key), then.take(&key), parent_now.take(&key));
        let ours = Change::between(&key, base.as_ref(), ours.as_ref());
        let theirs = Change::between(&key, base.as_ref(), theirs.as_ref());
        if let (Some(ours), Some(theirs)) = (&ours, &theirs)
            && ours.after != theirs.after
        {
            conflicts.push(Conflict {
                key: key.clone(),
                fork: ours.kind(),
                parent: theirs.kind(),
            });
        }
        fork_changes.extend(ours);
        parent_changes.extend(theirs);
    }
    tracing::debug!(
        fork_changes = fork_changes.len(),
        parent_changes = parent_changes.len(),
        conflicts = conflicts.len(),
        "fork diffed"
    );
    Ok(ForkDiff {
        fork,
        parent,
        fork_point,
        fork_changes,
        parent_changes,
        conflicts,
    })
}

/// One bucket's listing read a page at a time, with the next key in front.
struct Listing<'a> {
    kit: &'a AgentKit,
    bucket: &'a BucketName,
    at: Option<&'a SnapshotVersion>,
    page_size: Option<i32>,
    page: std::vec::IntoIter<(String, ObjectSummary)>,
    head: Option<(String, ObjectSummary)>,
    /// `None` before the first page; `Some(None)` after the last.
    next_token: Option<Option<String>>,
}

impl<'a> Listing<'a> {
    fn new(
        kit: &'a AgentKit,
        bucket: &'a BucketName,
        at: Option<&'a SnapshotVersion>,
        page_size: Option<i32>,
    ) -> Self {
        Self {
            kit,
            bucket,
            at,
            page_size,
            page: Vec::new().into_iter(),
            head: None,
            next_token: None,
        }
    }

    /// Puts the next key in front, reading the next page when this one is used up.
    async fn fill(&mut self, operation: &Operation) -> Result<()> {
        while self.head.is_none() {
            if let Some(entry) = self.page.next() {
                self.head = Some(entry);
                return Ok(());
            }
            let token = match &self.next_token {
                Some(None) => return Ok(()),
                Some(Some(token)) => Some(token.clone()),
                None => None,
            };
            let request = self
                .kit
                .s3()
                .list_objects_v2()
                .bucket(self.bucket.as_str())
                .set_max_keys(self.page_size)
                .set_continuation_token(token.clone());
            let sent = match self.at {
                Some(version) => request.at_snapshot(version).send().await,
                None => request.send().await,
            };
            let out = sent.map_err(|e| Error::from_s3(operation.clone(), Step::ListObjects, e))?;
            let next = out
                .next_continuation_token()
                .filter(|t| !t.is_empty() && Some(*t) != token.as_deref())
                .map(str::to_owned);
            self.next_token = Some(next);
            self.page = out
                .contents()
                .iter()
                .filter_map(|o| Some((o.key()?.to_owned(), ObjectSummary::of(o))))
                .collect::<Vec<_>>()
                .into_iter();
        }
        Ok(())
    }

    fn key(&self) -> Option<&str> {
        self.head.as_ref().map(|(key, _)| key.as_str())
    }

    /// The object at `key`, if it is the one in front.
    fn take(&mut self, key: &str) -> Option<ObjectSummary> {
        if self.key() == Some(key) {
            self.head.take().map(|(_, object)| object)
        } else {
            None
        }
    }
}

impl AgentKit {
    /// Starts computing what `fork` changed since its fork point, what its parent changed
    /// meanwhile, and where they conflict. See [`DiffFork`].
    ///
    /// ```no_run
    /// # async fn demo(kit: tigris_agent_kit::AgentKit) -> Result<(), tigris_agent_kit::Error> {
    /// let diff = kit.diff("datasets-exp").send().await?;
    /// println!("{} changes, {} conflicts", diff.fork_changes().len(), diff.conflicts().len());
    /// # Ok(()) }
    /// ```
    pub fn diff(&self, fork: impl AsRef<str>) -> DiffFork {
        DiffFork::new(self.clone(), fork.as_ref().to_owned())
    }
}
