//! The one error type of this crate, and what a failed call can leave behind.

use std::error::Error as StdError;
use std::fmt;

use aws_sdk_iam::config::http::HttpResponse;
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_iam::operation::RequestId;
use tigris_core::error::Classified;

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub use tigris_core::ErrorKind;

/// The IAM API call an [`Error`] comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// `CreateAccessKey`.
    CreateAccessKey,
    /// `CreatePolicy`.
    CreatePolicy,
    /// `AttachUserPolicy`.
    AttachUserPolicy,
    /// `DetachUserPolicy`.
    DetachUserPolicy,
    /// `DeletePolicy`.
    DeletePolicy,
    /// `DeleteAccessKey`.
    DeleteAccessKey,
    /// `ListPolicies`: looking a policy up by name, to remove one whose creation may have
    /// succeeded although the request failed.
    ListPolicies,
    /// `ListAccessKeys`: looking for a key whose `CreateAccessKey` may have succeeded although
    /// the request failed (for a key with bucket roles, Tigris's detailed listing
    /// `POST /?Detailed`).
    ListAccessKeys,
    /// `CreateAccessKeyWithBucketsRole`: Tigris's own action making a key with a role per
    /// bucket.
    CreateAccessKeyWithBucketsRole,
}

impl Operation {
    /// The IAM action name, as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CreateAccessKey => "CreateAccessKey",
            Self::CreatePolicy => "CreatePolicy",
            Self::AttachUserPolicy => "AttachUserPolicy",
            Self::DetachUserPolicy => "DetachUserPolicy",
            Self::DeletePolicy => "DeletePolicy",
            Self::DeleteAccessKey => "DeleteAccessKey",
            Self::ListPolicies => "ListPolicies",
            Self::ListAccessKeys => "ListAccessKeys",
            Self::CreateAccessKeyWithBucketsRole => "CreateAccessKeyWithBucketsRole",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something a failed call created or meant to remove, and could not remove.
///
/// It holds ids only, never secrets. Hand the list to
/// [`TigrisIam::clean_up`](crate::TigrisIam::clean_up) to try again, or remove the resources
/// by other means.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Leftover {
    /// An access key that still exists.
    AccessKey {
        /// The access key id.
        id: String,
    },
    /// A policy that still exists.
    Policy {
        /// The policy ARN.
        arn: String,
    },
    /// A policy that may exist, known only by its name (path `/`): its `CreatePolicy` failed
    /// in a way that may have created it (a timeout, a lost response), and looking it up by
    /// name to remove it failed too.
    ///
    /// The name is unique to the key it was made for (it embeds the access key id), so a
    /// policy with this name is this call's. [`TigrisIam::clean_up`](crate::TigrisIam::clean_up)
    /// looks it up again and deletes it if it exists.
    PolicyNamed {
        /// The policy name.
        name: String,
    },
    /// An access key that may exist although its id never arrived: its `CreateAccessKey`
    /// failed in a way that may have created it (the response was lost, a 5xx, a timeout).
    /// IAM keys on Tigris carry no name or tag, so it is found by time: `candidates` are the
    /// keys `ListAccessKeys` showed created at or after `created_after` (the time the request
    /// was sent, less [`KEY_CLOCK_MARGIN`](crate::KEY_CLOCK_MARGIN)). If it exists it is one
    /// of them; the others, if any, are keys made meanwhile by other calls (a concurrent fork's
    /// key, another client's). An empty list means the listing itself failed: list the keys
    /// created since `created_after` to find it.
    ///
    /// No policy was attached to such a key, so it grants no access to any bucket.
    /// [`TigrisIam::clean_up`](crate::TigrisIam::clean_up) does not delete it (a candidate may
    /// be another caller's key) and keeps reporting it: delete the one that is yours with
    /// `DeleteAccessKey`.
    MaybeAccessKey {
        /// The earliest creation time the key can have.
        created_after: std::time::SystemTime,
        /// Keys created since then, in the listing's order; empty if listing failed.
        candidates: Vec<String>,
    },
    /// A policy that is still attached to an access key.
    Attachment {
        /// The IAM user name, which on Tigris is the access key id.
        user: String,
        /// The attached policy's ARN.
        policy_arn: String,
    },
}

impl fmt::Display for Leftover {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AccessKey { id } => write!(f, "access key {id}"),
            Self::Policy { arn } => write!(f, "policy {arn}"),
            Self::PolicyNamed { name } => write!(f, "policy named {name}"),
            Self::MaybeAccessKey {
                created_after,
                candidates,
            } => {
                let after = time::OffsetDateTime::from(*created_after)
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default();
                if candidates.is_empty() {
                    write!(
                        f,
                        "an access key whose creation answer was lost, created after {after} \
                         (listing the keys failed)"
                    )
                } else {
                    write!(
                        f,
                        "an access key whose creation answer was lost, created after {after}: \
                         one of {}",
                        candidates.join(", ")
                    )
                }
            }
            Self::Attachment { user, policy_arn } => {
                write!(f, "attachment of policy {policy_arn} to {user}")
            }
        }
    }
}

/// What the crate was doing when the error happened; it shapes the `Display` sentence.
#[derive(Debug)]
enum Context {
    /// Rejected before any request.
    Input(String),
    /// The client cannot send the request as configured; nothing was sent.
    Setup(String),
    /// Inside a single request, before any workflow context is added.
    Request,
    Create {
        name: String,
    },
    Revoke {
        access_key_id: String,
    },
    CleanUp,
}

/// Error returned by every `tigris-iam` operation.
///
/// Branch on [`kind`](Self::kind); read the IAM error [`code`](Self::code) and the failed
/// [`operation`](Self::operation) for details. [`leftovers`](Self::leftovers) lists what could
/// not be removed. The underlying SDK error, if any, is the [`source`](StdError::source); the
/// `Display` text never repeats it, so print the whole chain (for example with
/// [`DisplayErrorContext`](aws_sdk_iam::error::DisplayErrorContext)) when logging.
#[derive(Debug)]
pub struct Error(Box<Inner>);

/// Boxed so that `Result<T, Error>` stays small on the happy path.
#[derive(Debug)]
struct Inner {
    kind: ErrorKind,
    context: Context,
    operation: Option<Operation>,
    code: Option<String>,
    request_id: Option<String>,
    status: Option<u16>,
    leftovers: Vec<Leftover>,
    /// Whether the service may have carried out the request although it failed.
    may_have_applied: bool,
    source: Option<BoxError>,
}

impl Error {
    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The IAM call that failed (`"CreateAccessKey"`, `"CreatePolicy"`, ...); `None` when
    /// nothing was sent.
    pub fn operation(&self) -> Option<&'static str> {
        self.0.operation.map(Operation::as_str)
    }

    /// The HTTP status of the service's answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        self.0.status
    }

    /// The error code the service answered with (`NoSuchEntity`, `ServiceFailure`, ...).
    pub fn code(&self) -> Option<&str> {
        self.0.code.as_deref()
    }

    /// The service's request id for the failed call, for support tickets.
    pub fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }

    /// Resources still present because they could not be removed; empty means nothing was left
    /// behind.
    pub fn leftovers(&self) -> &[Leftover] {
        &self.0.leftovers
    }

    /// Whether trying the same call again may succeed: the failure was transient and nothing
    /// was left behind.
    pub fn is_retryable(&self) -> bool {
        self.0.kind == ErrorKind::Transient && self.0.leftovers.is_empty()
    }

    pub(crate) fn invalid_input(reason: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            kind: ErrorKind::InvalidInput,
            context: Context::Input(reason.into()),
            operation: None,
            code: None,
            request_id: None,
            status: None,
            leftovers: Vec::new(),
            may_have_applied: false,
            source: None,
        }))
    }

    /// The client cannot send Tigris's own IAM requests as configured (no credentials provider,
    /// an endpoint that is not an http(s) URL).
    pub(crate) fn configuration(reason: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            kind: ErrorKind::Configuration,
            context: Context::Setup(reason.into()),
            operation: None,
            code: None,
            request_id: None,
            status: None,
            leftovers: Vec::new(),
            may_have_applied: false,
            source: None,
        }))
    }

    /// Classifies a failed request of Tigris's own IAM actions (sent through the signed
    /// transport, answered in JSON).
    pub(crate) fn from_transport(
        operation: Operation,
        err: tigris_core::transport::TransportError,
    ) -> Self {
        let mut classified = Classified::from_sdk(&err);
        let kind = classified.kind();
        let may_have_applied = classified.may_have_applied();
        let code = classified.take_code();
        let request_id = classified.request_id().map(str::to_owned).or_else(|| {
            err.raw_response()
                .and_then(|r| r.headers().get("x-amzn-requestid"))
                .map(str::to_owned)
        });
        Self(Box::new(Inner {
            kind,
            context: Context::Request,
            operation: Some(operation),
            code,
            request_id,
            status: classified.status(),
            leftovers: Vec::new(),
            may_have_applied,
            source: Some(Box::new(err)),
        }))
    }

    /// The service answered 2xx but without a field this crate needs: the request was carried
    /// out.
    pub(crate) fn incomplete_reply(operation: Operation, missing: &'static str) -> Self {
        Self(Box::new(Inner {
            kind: ErrorKind::UnexpectedResponse,
            context: Context::Request,
            operation: Some(operation),
            code: None,
            request_id: None,
            status: None,
            leftovers: Vec::new(),
            may_have_applied: true,
            source: Some(format!("the {operation} reply has no {missing}").into()),
        }))
    }

    /// Classifies an SDK error once, here, so that callers never downcast.
    pub(crate) fn from_sdk<E>(operation: Operation, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
        SdkError<E, HttpResponse>: RequestId,
    {
        let mut classified = Classified::from_sdk(&err);
        let kind = classified.kind();
        let may_have_applied = classified.may_have_applied();
        let code = classified.take_code();
        let request_id = err
            .request_id()
            .or(classified.request_id())
            .map(str::to_owned);
        Self(Box::new(Inner {
            kind,
            context: Context::Request,
            operation: Some(operation),
            code,
            request_id,
            status: classified.status(),
            leftovers: Vec::new(),
            may_have_applied,
            source: Some(Box::new(err)),
        }))
    }

    pub(crate) fn is_not_found(&self) -> bool {
        self.0.kind == ErrorKind::NotFound
    }

    /// Whether the service may have carried out the request even though it failed: the
    /// request timed out, the connection broke after the request was sent, or the server
    /// failed. A definite client-side rejection (4xx), throttling, or a refused connection
    /// means it did not.
    pub(crate) fn may_have_applied(&self) -> bool {
        self.0.may_have_applied
    }

    pub(crate) fn while_creating(mut self, name: &str, leftovers: Vec<Leftover>) -> Self {
        self.0.context = Context::Create {
            name: name.to_owned(),
        };
        self.0.leftovers.extend(leftovers);
        self
    }

    /// Adds a leftover found while the request failed (a key that may exist).
    pub(crate) fn with_leftover(mut self, leftover: Leftover) -> Self {
        self.0.leftovers.push(leftover);
        self
    }

    /// `clean_up` was asked to remove leftovers it must not remove by itself.
    pub(crate) fn left_for_review(leftovers: Vec<Leftover>) -> Self {
        Self(Box::new(Inner {
            kind: ErrorKind::Conflict,
            context: Context::CleanUp,
            operation: None,
            code: None,
            request_id: None,
            status: None,
            leftovers,
            may_have_applied: false,
            source: Some(
                "a possible access key is not deleted automatically: a candidate may be another \
                 caller's key"
                    .into(),
            ),
        }))
    }

    pub(crate) fn while_revoking(mut self, access_key_id: &str, leftovers: Vec<Leftover>) -> Self {
        self.0.context = Context::Revoke {
            access_key_id: access_key_id.to_owned(),
        };
        self.0.leftovers = leftovers;
        self
    }

    pub(crate) fn while_cleaning_up(mut self, leftovers: Vec<Leftover>) -> Self {
        self.0.context = Context::CleanUp;
        self.0.leftovers = leftovers;
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Inner {
            kind,
            context,
            operation,
            code,
            leftovers,
            ..
        } = &*self.0;
        match context {
            Context::Input(reason) => return write!(f, "invalid input: {reason}"),
            Context::Setup(reason) => {
                return write!(f, "cannot send Tigris IAM requests: {reason}");
            }
            Context::Request => f.write_str("IAM request failed")?,
            Context::Create { name } => write!(f, "could not create scoped access key {name:?}")?,
            Context::Revoke { access_key_id } => {
                write!(f, "could not fully revoke access key {access_key_id}")?
            }
            Context::CleanUp => f.write_str("could not remove every leftover")?,
        }
        if let Some(operation) = operation {
            write!(f, ": {operation} failed")?;
        }
        write!(f, " ({kind}")?;
        if let Some(code) = code {
            write!(f, ", code {code}")?;
        }
        f.write_str(")")?;
        if !leftovers.is_empty() {
            f.write_str("; left behind: ")?;
            for (i, leftover) in leftovers.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{leftover}")?;
            }
        } else if matches!(context, Context::Create { .. })
            && !matches!(
                operation,
                Some(Operation::CreateAccessKey | Operation::CreateAccessKeyWithBucketsRole)
            )
        {
            f.write_str("; everything it created was removed")?;
        }
        Ok(())
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0
            .source
            .as_ref()
            .map(|e| e.as_ref() as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_input_reads_as_a_sentence_without_a_source() {
        let err = Error::invalid_input("a scoped key needs at least one bucket");
        assert_eq!(
            err.to_string(),
            "invalid input: a scoped key needs at least one bucket"
        );
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.source().is_none());
        assert!(err.code().is_none());
        assert!(err.operation().is_none());
        assert!(!err.is_retryable());
    }

    #[test]
    fn display_names_the_step_and_the_leftovers_but_not_the_source() {
        let mut err = Error::incomplete_reply(Operation::CreatePolicy, "policy ARN");
        err.0.kind = ErrorKind::Transient;
        err.0.code = Some("ServiceFailure".to_owned());
        let err = err.while_creating(
            "ws-1-key",
            vec![Leftover::AccessKey {
                id: "tid_abc".to_owned(),
            }],
        );
        assert_eq!(
            err.to_string(),
            "could not create scoped access key \"ws-1-key\": CreatePolicy failed (transient failure, code \
             ServiceFailure); left behind: access key tid_abc"
        );
        assert!(!err.to_string().contains("reply has no"));
        assert!(err.source().is_some());
        assert!(!err.is_retryable(), "something was left behind");
    }

    #[test]
    fn a_clean_rollback_says_so() {
        let err = Error::incomplete_reply(Operation::AttachUserPolicy, "x")
            .while_creating("k", Vec::new());
        assert_eq!(
            err.to_string(),
            "could not create scoped access key \"k\": AttachUserPolicy failed (unexpected response); \
             everything it created was removed"
        );
    }

    #[test]
    fn leftovers_display_their_ids() {
        let attachment = Leftover::Attachment {
            user: "tid_a".to_owned(),
            policy_arn: "arn:p".to_owned(),
        };
        assert_eq!(
            attachment.to_string(),
            "attachment of policy arn:p to tid_a"
        );
        assert_eq!(
            Leftover::Policy {
                arn: "arn:p".to_owned()
            }
            .to_string(),
            "policy arn:p"
        );
        assert_eq!(
            Leftover::PolicyNamed {
                name: "k-policy-tid_a".to_owned()
            }
            .to_string(),
            "policy named k-policy-tid_a"
        );
    }

    #[test]
    fn a_key_that_may_exist_is_shown_with_its_candidates_or_its_time() {
        let created_after = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
        let found = Leftover::MaybeAccessKey {
            created_after,
            candidates: vec!["tid_a".to_owned(), "tid_b".to_owned()],
        };
        assert_eq!(
            found.to_string(),
            "an access key whose creation answer was lost, created after 2027-01-15T08:00:00Z: \
             one of tid_a, tid_b"
        );
        let unlisted = Leftover::MaybeAccessKey {
            created_after,
            candidates: Vec::new(),
        };
        assert!(unlisted.to_string().ends_with("(listing the keys failed)"));
        let err = Error::incomplete_reply(Operation::CreateAccessKey, "access key")
            .with_leftover(found)
            .while_creating("k", Vec::new());
        assert!(err.to_string().ends_with("one of tid_a, tid_b"), "{err}");
        assert!(!err.is_retryable());
    }
}
