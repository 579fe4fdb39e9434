//! The crate's one error type: what the kit was doing, which step failed, the kind of failure,
//! and what is still there because it could not be removed.
//!
//! ```no_run
//! # async fn demo(kit: tigris_agent_kit::AgentKit) {
//! use tigris_agent_kit::{ErrorKind, Role};
//!
//! match kit.create_workspace().bucket("agent-7").ttl_days(1).credentials(Role::Editor).send().await {
//!     Ok(workspace) => println!("workspace {}", workspace.bucket()),
//!     Err(e) if e.kind() == ErrorKind::InvalidInput => eprintln!("{e}"),
//!     Err(e) => {
//!         eprintln!("{e}");
//!         for leftover in e.leftovers() {
//!             eprintln!("still there: {leftover}");
//!         }
//!     }
//! }
//! # }
//! ```

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use tigris_core::error::Classified;

use crate::types::Merge;

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// The message of a source error shared by several callers.
#[derive(Debug)]
struct Shared(String);

impl fmt::Display for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for Shared {}

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub use tigris_core::ErrorKind;

mod leftover;
mod step;

pub use leftover::Leftover;
pub(crate) use step::Operation;
pub use step::Step;

/// How many failures and leftovers `Display` names before summarising the rest.
const SHOWN: usize = 5;

/// The error of every operation in this crate.
///
/// - [`kind`](Self::kind) to branch on; [`step`](Self::step) and [`code`](Self::code) for
///   details;
/// - [`leftovers`](Self::leftovers): what is still there because it could not be removed
///   (empty means nothing was left behind);
/// - [`failures`](Self::failures): for a call that made several attempts (a teardown, a fork
///   set where no fork could be made), one error per failed attempt;
/// - [`source()`](StdError::source): the lower-level error (from `aws-sdk-s3`,
///   [`tigris_headers`], [`tigris_iam`] or [`tigris_notify`]), never repeated in `Display`.
///
/// `Display` is one sentence naming the bucket and the failed step; it never contains a
/// secret. Print the whole chain (for example with
/// [`DisplayErrorContext`](aws_sdk_s3::error::DisplayErrorContext)) when logging.
#[derive(Debug)]
pub struct Error(Box<Inner>);

#[derive(Debug)]
struct Inner {
    kind: ErrorKind,
    operation: Operation,
    step: Option<Step>,
    reason: Option<Cow<'static, str>>,
    code: Option<String>,
    status: Option<u16>,
    request_id: Option<String>,
    leftovers: Vec<Leftover>,
    failures: Vec<Error>,
    /// The keys a refused merge would have overwritten.
    conflicts: Vec<String>,
    /// A merge that was applied before a later step failed.
    merge: Option<Box<Merge>>,
    /// Whether something was created and then removed again by rollback.
    rolled_back: bool,
    /// Who holds the lease or claim this call could not take or keep, when known.
    holder: Option<String>,
    source: Option<BoxError>,
}

impl Error {
    fn new(kind: ErrorKind, operation: Operation) -> Self {
        Self(Box::new(Inner {
            kind,
            operation,
            step: None,
            reason: None,
            code: None,
            status: None,
            request_id: None,
            leftovers: Vec::new(),
            failures: Vec::new(),
            conflicts: Vec::new(),
            merge: None,
            rolled_back: false,
            holder: None,
            source: None,
        }))
    }

    /// What kind of failure this is. For an error that gathers several
    /// [`failures`](Self::failures), the kind of the first.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The kit call that failed (`"CreateWorkspace"`, `"Merge"`, `"AcquireLease"`, ...).
    pub fn operation(&self) -> Option<&'static str> {
        Some(self.0.operation.name())
    }

    /// The HTTP status of the service's answer to the failed step, when there was one.
    pub fn status(&self) -> Option<u16> {
        self.0.status
    }

    /// The request id the service gave for the failed step, for support requests.
    pub fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }

    /// The step that failed; `None` for input rejected before any request, and for an error
    /// that gathers several [`failures`](Self::failures) (each has its own).
    pub fn step(&self) -> Option<Step> {
        self.0.step
    }

    /// The bucket the failed call was about (for a fork set, the base bucket).
    pub fn bucket(&self) -> Option<&str> {
        self.0.operation.bucket()
    }

    /// The error code the service answered with (`NoSuchBucket`, `BucketHasForks`,
    /// `EntityAlreadyExists`, ...), when it answered with one.
    pub fn code(&self) -> Option<&str> {
        self.0.code.as_deref()
    }

    /// Everything still present because it could not be removed, including what the
    /// individual [`failures`](Self::failures) left. Empty means nothing was left behind.
    pub fn leftovers(&self) -> &[Leftover] {
        &self.0.leftovers
    }

    /// One error per failed attempt when the call made several (teardowns, a fork set where no
    /// fork could be made); empty otherwise.
    pub fn failures(&self) -> &[Error] {
        &self.0.failures
    }

    /// The keys both the fork and its parent changed, when a merge or a promotion was refused
    /// for them ([`ErrorKind::Conflict`]); see [`OnConflict`](crate::OnConflict).
    pub fn conflicts(&self) -> &[String] {
        &self.0.conflicts
    }

    /// The merge that was applied, when a [promotion](crate::ForkSet::promote) merged the
    /// winner and then failed to tear the set down: the base has the fork's changes (undo
    /// with [`AgentKit::restore`](crate::AgentKit::restore) of
    /// [`Merge::checkpoint`]), and [`leftovers`](Self::leftovers) says what remains of the set.
    pub fn merge(&self) -> Option<&Merge> {
        self.0.merge.as_deref()
    }

    /// Whether this is a lease or task claim the caller held and no longer holds: another agent
    /// took it over after it lapsed, or it was released. A [renew](crate::Lease::renew), a
    /// [completion](crate::ClaimedTask::complete) or a [failure](crate::ClaimedTask::fail) by a
    /// holder that lost its lease is refused with this error
    /// ([`ErrorKind::PreconditionFailed`]); the holder must stop working on what the lease
    /// protected.
    pub fn is_lease_lost(&self) -> bool {
        self.0.kind == ErrorKind::PreconditionFailed
            && matches!(
                self.0.operation,
                Operation::RenewLease { .. }
                    | Operation::ReleaseLease { .. }
                    | Operation::RenewClaim { .. }
                    | Operation::CompleteTask { .. }
                    | Operation::FailTask { .. }
            )
    }

    /// The owner named in the lease object that this call found in its way: the holder of a
    /// lease [`acquire`](crate::LeaseBuilder::acquire) could not take
    /// ([`ErrorKind::Conflict`]), or the agent that took over a lost lease.
    pub fn lease_holder(&self) -> Option<&str> {
        self.0.holder.as_deref()
    }

    /// Whether trying the same call again may succeed: the failure was transient and nothing
    /// was left behind.
    pub fn is_retryable(&self) -> bool {
        self.0.kind == ErrorKind::Transient && self.0.leftovers.is_empty()
    }

    pub(crate) fn invalid_input(
        operation: Operation,
        reason: impl Into<Cow<'static, str>>,
    ) -> Self {
        let mut err = Self::new(ErrorKind::InvalidInput, operation);
        err.0.reason = Some(reason.into());
        err
    }

    pub(crate) fn configuration(operation: Operation, reason: &'static str) -> Self {
        let mut err = Self::new(ErrorKind::Configuration, operation);
        err.0.reason = Some(reason.into());
        err
    }

    /// A transient failure outside the SDK's request (reading a response body).
    pub(crate) fn transient(operation: Operation, step: Step) -> Self {
        let mut err = Self::new(ErrorKind::Transient, operation);
        err.0.step = Some(step);
        err
    }

    /// The service answered successfully but with something the kit cannot use.
    pub(crate) fn unexpected(operation: Operation, step: Step, reason: &'static str) -> Self {
        let mut err = Self::new(ErrorKind::UnexpectedResponse, operation);
        err.0.step = Some(step);
        err.0.reason = Some(reason.into());
        err
    }

    /// A lease held by `holder` (`Conflict`) or lost to `holder` (`PreconditionFailed`).
    pub(crate) fn lease(
        kind: ErrorKind,
        operation: Operation,
        step: Step,
        holder: Option<String>,
        reason: String,
    ) -> Self {
        let mut err = Self::new(kind, operation);
        err.0.step = Some(step);
        err.0.holder = holder;
        err.0.reason = Some(reason.into());
        err
    }

    /// A merge refused because both sides changed `keys`.
    pub(crate) fn conflicting(operation: Operation, keys: Vec<String>) -> Self {
        let mut err = Self::new(ErrorKind::Conflict, operation);
        let mut reason = format!(
            "the fork and its parent both changed {} key{} since the fork point: ",
            keys.len(),
            if keys.len() == 1 { "" } else { "s" }
        );
        for (i, key) in keys.iter().take(SHOWN).enumerate() {
            if i > 0 {
                reason.push_str(", ");
            }
            reason.push_str(&format!("{key:?}"));
        }
        if keys.len() > SHOWN {
            reason.push_str(&format!(" and {} more", keys.len() - SHOWN));
        }
        reason.push_str(" (merge with OnConflict::Overwrite to keep the fork's versions)");
        err.0.reason = Some(reason.into());
        err.0.conflicts = keys;
        err
    }

    /// Notes the merge that was applied before this failure.
    pub(crate) fn with_merge(mut self, merge: Merge) -> Self {
        self.0.merge = Some(Box::new(merge));
        self
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.0.source = Some(source.into());
        self
    }

    /// A failed `aws-sdk-s3` request, classified once, here.
    pub(crate) fn from_s3<E>(
        operation: Operation,
        step: Step,
        err: SdkError<E, HttpResponse>,
    ) -> Self
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        let mut classified = Classified::from_sdk(&err);
        let kind = classified.kind();
        let code = classified.take_code();
        let mut out = Self::new(kind, operation);
        out.0.step = Some(step);
        out.0.code = code;
        out.0.status = classified.status();
        out.0.request_id = classified.request_id().map(str::to_owned);
        out.with_source(err)
    }

    /// A failed `tigris-headers` call.
    pub(crate) fn from_headers(
        operation: Operation,
        step: Step,
        err: tigris_headers::Error,
    ) -> Self {
        let mut out = Self::new(err.kind(), operation);
        out.0.step = Some(step);
        out.0.code = err.code().map(str::to_owned);
        out.0.status = err.status();
        out.0.request_id = err.request_id().map(str::to_owned);
        out.with_source(err)
    }

    /// A failed `tigris-api` call.
    pub(crate) fn from_api(operation: Operation, step: Step, err: tigris_api::Error) -> Self {
        let mut out = Self::new(err.kind(), operation);
        out.0.step = Some(step);
        out.0.code = err.code().map(str::to_owned);
        out.0.status = err.status();
        out.0.request_id = err.request_id().map(str::to_owned);
        out.with_source(err)
    }

    /// A failed `tigris-iam` call; its leftovers become this error's.
    pub(crate) fn from_iam(operation: Operation, step: Step, err: tigris_iam::Error) -> Self {
        let mut out = Self::new(err.kind(), operation);
        out.0.step = Some(step);
        out.0.code = err.code().map(str::to_owned);
        out.0.status = err.status();
        out.0.request_id = err.request_id().map(str::to_owned);
        out.0.leftovers = err.leftovers().iter().cloned().map(Leftover::Iam).collect();
        out.with_source(err)
    }

    /// A failed `tigris-notify` call.
    pub(crate) fn from_notify(
        operation: Operation,
        step: Option<Step>,
        err: tigris_notify::Error,
    ) -> Self {
        let mut out = Self::new(err.kind(), operation);
        out.0.step = step;
        out.0.code = err.code().map(str::to_owned);
        out.0.status = err.status();
        out.0.request_id = err.request_id().map(str::to_owned);
        out.with_source(err)
    }

    /// Several failed attempts as one error: the first failure's kind, every failure, and every
    /// leftover (the failures' and `leftovers`).
    pub(crate) fn aggregate(
        operation: Operation,
        failures: Vec<Error>,
        leftovers: Vec<Leftover>,
    ) -> Self {
        debug_assert!(!failures.is_empty());
        let kind = failures.first().map_or(ErrorKind::Service, Error::kind);
        let mut out = Self::new(kind, operation);
        out.0.code = failures.first().and_then(|f| f.0.code.clone());
        for failure in &failures {
            push_unique(&mut out.0.leftovers, failure.leftovers().iter().cloned());
        }
        push_unique(&mut out.0.leftovers, leftovers);
        out.0.failures = failures;
        out
    }

    /// The same failure for another caller of a shared request (a queue's group commit):
    /// the kind, step, reason, code, leftovers and holder, under `operation`, with the shared
    /// error as its source.
    pub(crate) fn clone_for(operation: &Operation, shared: &std::sync::Arc<Error>) -> Self {
        let mut err = Self::new(shared.0.kind, operation.clone());
        err.0.step = shared.0.step;
        err.0.reason = shared.0.reason.clone();
        err.0.code = shared.0.code.clone();
        err.0.leftovers = shared.0.leftovers.clone();
        err.0.holder = shared.0.holder.clone();
        err.0.source = shared
            .0
            .source
            .as_ref()
            .map(|s| -> BoxError { Box::new(Shared(s.to_string())) });
        err
    }

    /// Adds what rollback could not remove.
    pub(crate) fn with_leftovers(mut self, leftovers: Vec<Leftover>) -> Self {
        push_unique(&mut self.0.leftovers, leftovers);
        self
    }

    /// Notes that rollback ran; `Display` then says whether it removed everything.
    pub(crate) fn rolled_back(mut self) -> Self {
        self.0.rolled_back = true;
        self
    }

    /// Whether the thing the request was about is already gone.
    pub(crate) fn is_not_found(&self) -> bool {
        self.0.kind == ErrorKind::NotFound
    }

    /// The step, kind and code, as in "deleting the bucket failed (conflict, code
    /// BucketHasForks)".
    fn fmt_cause(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.0;
        match inner.step {
            Some(step) => {
                write!(f, "{step} failed ({}", inner.kind)?;
                if let Some(code) = &inner.code {
                    write!(f, ", code {code}")?;
                }
                f.write_str(")")?;
            }
            None => {
                write!(f, "{}", inner.kind)?;
                if let Some(code) = &inner.code {
                    write!(f, " (code {code})")?;
                }
            }
        }
        if let Some(reason) = &inner.reason {
            write!(f, ": {reason}")?;
        }
        Ok(())
    }
}

fn push_unique(into: &mut Vec<Leftover>, leftovers: impl IntoIterator<Item = Leftover>) {
    for leftover in leftovers {
        if !into.contains(&leftover) {
            into.push(leftover);
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.0;
        write!(f, "could not {}: ", inner.operation)?;
        if inner.failures.is_empty() {
            self.fmt_cause(f)?;
        } else {
            let n = inner.failures.len();
            write!(f, "{n} step{} failed: ", if n == 1 { "" } else { "s" })?;
            for (i, failure) in inner.failures.iter().take(SHOWN).enumerate() {
                if i > 0 {
                    f.write_str("; ")?;
                }
                if let Some(bucket) = failure.bucket() {
                    write!(f, "for {bucket:?}, ")?;
                }
                failure.fmt_cause(f)?;
            }
            if n > SHOWN {
                write!(f, "; and {} more", n - SHOWN)?;
            }
        }
        if !inner.leftovers.is_empty() {
            f.write_str("; left behind: ")?;
            for (i, leftover) in inner.leftovers.iter().take(SHOWN).enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{leftover}")?;
            }
            if inner.leftovers.len() > SHOWN {
                write!(f, " and {} more", inner.leftovers.len() - SHOWN)?;
            }
        } else if inner.rolled_back {
            f.write_str("; everything it created was removed")?;
        }
        Ok(())
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match &self.0.source {
            Some(source) => Some(source.as_ref() as &(dyn StdError + 'static)),
            None => self
                .0
                .failures
                .first()
                .map(|e| e as &(dyn StdError + 'static)),
        }
    }
}

impl From<tigris_notify::Error> for Error {
    /// For `?` on [`NotificationConfigBuilder::build`](crate::NotificationConfigBuilder::build).
    fn from(err: tigris_notify::Error) -> Self {
        Self::from_notify(Operation::NotificationConfig, None, err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tigris_core::BucketName;
    use tigris_headers::SnapshotVersion;

    fn bucket(name: &str) -> BucketName {
        name.parse().unwrap()
    }

    fn step_error(bucket: &str, step: Step, kind: ErrorKind, code: Option<&str>) -> Error {
        let mut err = Error::new(
            kind,
            Operation::TeardownFork {
                bucket: bucket.to_owned(),
            },
        );
        err.0.step = Some(step);
        err.0.code = code.map(str::to_owned);
        err
    }

    #[test]
    fn invalid_input_reads_as_a_sentence() {
        let err = Error::invalid_input(
            Operation::CreateWorkspace {
                bucket: "ws-1".into(),
            },
            "the TTL must be at least one day",
        );
        assert_eq!(
            err.to_string(),
            "could not create workspace \"ws-1\": invalid input: the TTL must be at least one day"
        );
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(err.bucket(), Some("ws-1"));
        assert!(err.step().is_none());
        assert!(err.source().is_none());
        assert!(!err.is_retryable());
    }

    #[test]
    fn a_failed_step_names_the_step_kind_code_and_rollback() {
        let mut err = Error::new(
            ErrorKind::Transient,
            Operation::CreateWorkspace {
                bucket: "ws-1".into(),
            },
        );
        err.0.step = Some(Step::PutLifecycle);
        err.0.code = Some("InternalError".into());
        let clean = err.with_source("the lower error").rolled_back();
        assert_eq!(
            clean.to_string(),
            "could not create workspace \"ws-1\": setting the TTL lifecycle rule failed (transient \
             failure, code InternalError); everything it created was removed"
        );
        assert!(clean.is_retryable());
        let dirty = clean.with_leftovers(vec![Leftover::Bucket {
            bucket: bucket("ws-1"),
        }]);
        assert_eq!(
            dirty.to_string(),
            "could not create workspace \"ws-1\": setting the TTL lifecycle rule failed (transient \
             failure, code InternalError); left behind: bucket ws-1"
        );
        assert!(!dirty.is_retryable(), "something was left behind");
        assert!(dirty.source().is_some());
    }

    #[test]
    fn aggregates_list_every_failure_and_gather_leftovers_once() {
        let iam = Leftover::Iam(tigris_iam::Leftover::AccessKey { id: "tid_a".into() });
        let a = step_error(
            "f-0",
            Step::RevokeCredentials,
            ErrorKind::AccessDenied,
            None,
        )
        .with_leftovers(vec![iam.clone()]);
        let b = step_error(
            "f-1",
            Step::DeleteBucket,
            ErrorKind::Conflict,
            Some("BucketHasForks"),
        )
        .with_leftovers(vec![Leftover::Bucket {
            bucket: bucket("f-1"),
        }]);
        let snapshot = Leftover::Snapshot {
            bucket: bucket("base"),
            version: SnapshotVersion::from(42),
        };
        let err = Error::aggregate(
            Operation::TeardownForks {
                base: "base".into(),
            },
            vec![a, b],
            vec![snapshot.clone(), iam.clone()],
        );
        assert_eq!(
            err.to_string(),
            "could not fully tear down the forks of \"base\": 2 steps failed: for \"f-0\", revoking \
             the credentials failed (access denied); for \"f-1\", deleting the bucket failed \
             (conflict, code BucketHasForks); left behind: access key tid_a, bucket f-1, snapshot 42 \
             of bucket base"
        );
        assert_eq!(err.kind(), ErrorKind::AccessDenied);
        assert_eq!(err.failures().len(), 2);
        assert_eq!(err.leftovers().len(), 3);
        assert!(err.source().is_some(), "the first failure is the source");
    }

    #[test]
    fn long_lists_are_summarised() {
        let failures = (0..7)
            .map(|i| {
                step_error(
                    &format!("f-{i}"),
                    Step::DeleteBucket,
                    ErrorKind::Transient,
                    None,
                )
            })
            .collect();
        let leftovers = (0..7)
            .map(|i| Leftover::Bucket {
                bucket: bucket(&format!("f-{i}")),
            })
            .collect();
        let err = Error::aggregate(
            Operation::TeardownForks {
                base: "base".into(),
            },
            failures,
            leftovers,
        );
        let shown = err.to_string();
        assert!(shown.contains("7 steps failed"), "{shown}");
        assert!(shown.contains("; and 2 more;"), "{shown}");
        assert!(shown.ends_with("bucket f-4 and 2 more"), "{shown}");
    }

    #[test]
    fn leftovers_display_their_ids() {
        assert_eq!(
            Leftover::Snapshot {
                bucket: bucket("b-1"),
                version: SnapshotVersion::from(7)
            }
            .to_string(),
            "snapshot 7 of bucket b-1"
        );
        assert_eq!(
            Leftover::from(tigris_iam::Leftover::Policy {
                arn: "arn:p".into()
            })
            .to_string(),
            "policy arn:p"
        );
    }

    #[test]
    fn errors_can_cross_threads() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<Error>();
    }
}
