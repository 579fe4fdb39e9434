//! What a fork changed since its fork point, what its parent changed since then, and where the
//! two collide: computed from listings, so it works the same on Tigris and on the emulator.

use tigris_core::BucketName;
use tigris_headers::SnapshotVersion;
use tigris_headers::prelude::*;

use crate::error::{Error, Operation, Result, Step};
use crate::kit::AgentKit;
use crate::types::{Change, Conflict, ForkDiff, ObjectSummary};
use crate::validate;

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
/// let diff = kit.diff().fork("datasets-exp").send().await?;
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
    fork: Option<String>,
    page_size: Option<i32>,
}

impl DiffFork {
    pub(crate) fn new(kit: AgentKit) -> Self {
        Self {
            kit,
            fork: None,
            page_size: None,
        }
    }

    /// The fork to diff against its parent (required).
    pub fn fork(mut self, fork: impl AsRef<str>) -> Self {
        self.fork = Some(fork.as_ref().to_owned());
        self
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
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request for no
    /// [`fork`](Self::fork), an invalid name or page size, and for a bucket that is not a fork;
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for an unknown bucket; otherwise the
    /// failed request ([`Step::ReadForkPoint`] or [`Step::ListObjects`]).
    #[tracing::instrument(skip_all, fields(fork = ?self.fork))]
    pub async fn send(self) -> Result<ForkDiff> {
        let operation = Operation::Diff {
            fork: self.fork.clone().unwrap_or_default(),
        };
        let raw = validate::required(&operation, "fork", self.fork.as_deref())?;
        let fork = validate::bucket_name(&operation, "fork name", raw)?;
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
    /// Starts computing what a fork changed since its fork point, what its parent changed
    /// meanwhile, and where they conflict. See [`DiffFork`].
    ///
    /// ```no_run
    /// # async fn demo(kit: tigris_agent_kit::AgentKit) -> Result<(), tigris_agent_kit::Error> {
    /// let diff = kit.diff().fork("datasets-exp").send().await?;
    /// println!("{} changes, {} conflicts", diff.fork_changes().len(), diff.conflicts().len());
    /// # Ok(()) }
    /// ```
    pub fn diff(&self) -> DiffFork {
        DiffFork::new(self.clone())
    }
}
