//! Undo as data: each step that created something records its inverse; unwinding runs them in
//! reverse, tries every one, and returns what could not be undone.

use aws_sdk_iam::error::DisplayErrorContext;
use aws_sdk_iam::types::PolicyScopeType;

use crate::error::{Error, Leftover, Operation};

/// The inverse of one IAM step. Each is idempotent: "already gone" counts as done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Undo {
    DeleteAccessKey {
        id: String,
    },
    DeletePolicy {
        arn: String,
    },
    /// Deletes the policy with this name at path `/`, if there is one: for a `CreatePolicy`
    /// that may have succeeded although no ARN came back.
    DeletePolicyNamed {
        name: String,
    },
    DetachUserPolicy {
        user: String,
        policy_arn: String,
    },
}

/// An inverse that failed: why, and what is still there.
struct Failed {
    error: Error,
    leftover: Leftover,
}

impl Undo {
    /// The inverse that removes `leftover`; `None` for one that must not be removed
    /// automatically (a [`Leftover::MaybeAccessKey`]: a candidate may be another caller's).
    fn from_leftover(leftover: &Leftover) -> Option<Self> {
        Some(match leftover.clone() {
            Leftover::AccessKey { id } => Self::DeleteAccessKey { id },
            Leftover::Policy { arn } => Self::DeletePolicy { arn },
            Leftover::PolicyNamed { name } => Self::DeletePolicyNamed { name },
            Leftover::Attachment { user, policy_arn } => {
                Self::DetachUserPolicy { user, policy_arn }
            }
            Leftover::MaybeAccessKey { .. } => return None,
        })
    }

    fn leftover(&self) -> Leftover {
        match self.clone() {
            Self::DeleteAccessKey { id } => Leftover::AccessKey { id },
            Self::DeletePolicy { arn } => Leftover::Policy { arn },
            Self::DeletePolicyNamed { name } => Leftover::PolicyNamed { name },
            Self::DetachUserPolicy { user, policy_arn } => {
                Leftover::Attachment { user, policy_arn }
            }
        }
    }

    /// Inverses must run detach -> delete policy -> delete key: a policy that is still attached
    /// cannot be deleted.
    fn order(&self) -> u8 {
        match self {
            Self::DetachUserPolicy { .. } => 0,
            Self::DeletePolicy { .. } | Self::DeletePolicyNamed { .. } => 1,
            Self::DeleteAccessKey { .. } => 2,
        }
    }

    async fn run(&self, iam: &aws_sdk_iam::Client) -> Result<(), Failed> {
        let failed = |error| Failed {
            error,
            leftover: self.leftover(),
        };
        match self {
            Self::DeleteAccessKey { id } => {
                let sent = iam.delete_access_key().access_key_id(id).send().await;
                gone_is_done(sent.map_err(|e| Error::from_sdk(Operation::DeleteAccessKey, e)))
                    .map_err(failed)
            }
            Self::DeletePolicy { arn } => delete_policy(iam, arn).await.map_err(failed),
            Self::DeletePolicyNamed { name } => {
                let Some(arn) = find_policy(iam, name).await.map_err(failed)? else {
                    tracing::debug!(undo = ?self, "no policy by that name: it was never created");
                    return Ok(());
                };
                // The ARN is known from here on: a failed delete reports the policy by it.
                delete_policy(iam, &arn).await.map_err(|error| Failed {
                    error,
                    leftover: Leftover::Policy { arn },
                })
            }
            Self::DetachUserPolicy { user, policy_arn } => {
                let sent = iam
                    .detach_user_policy()
                    .user_name(user)
                    .policy_arn(policy_arn)
                    .send()
                    .await;
                gone_is_done(sent.map_err(|e| Error::from_sdk(Operation::DetachUserPolicy, e)))
                    .map_err(failed)
            }
        }
    }
}

/// An inverse's result, with "already gone" counted as done.
fn gone_is_done<T>(result: Result<T, Error>) -> Result<(), Error> {
    match result {
        Ok(_) => Ok(()),
        Err(err) if err.is_not_found() => {
            tracing::debug!("already gone");
            Ok(())
        }
        Err(err) => Err(err),
    }
}

async fn delete_policy(iam: &aws_sdk_iam::Client, arn: &str) -> Result<(), Error> {
    let sent = iam.delete_policy().policy_arn(arn).send().await;
    gone_is_done(sent.map_err(|e| Error::from_sdk(Operation::DeletePolicy, e)))
}

/// The ARN of the customer-managed policy named `name` at path `/`, following every page of
/// `ListPolicies`.
async fn find_policy(iam: &aws_sdk_iam::Client, name: &str) -> Result<Option<String>, Error> {
    let mut policies = iam
        .list_policies()
        .scope(PolicyScopeType::Local)
        .path_prefix("/")
        .into_paginator()
        .items()
        .send();
    while let Some(policy) = policies.next().await {
        let policy = policy.map_err(|e| Error::from_sdk(Operation::ListPolicies, e))?;
        // Names are unique per account; the path is checked because the prefix `/` lists all.
        if policy.policy_name() == Some(name) && policy.path().is_none_or(|p| p == "/") {
            return Ok(policy.arn().map(str::to_owned));
        }
    }
    Ok(None)
}

/// What unwinding could not undo: every leftover, and the error of the first failure.
#[derive(Debug, Default)]
pub(crate) struct Unwound {
    pub(crate) leftovers: Vec<Leftover>,
    pub(crate) first_error: Option<Error>,
}

/// The inverses of what has been done so far, in the order it was done.
#[derive(Debug, Default)]
pub(crate) struct UndoLog(Vec<Undo>);

impl UndoLog {
    /// The log of a complete scoped key: unwinding it is a revoke.
    pub(crate) fn for_key(access_key_id: &str, policy_arn: Option<&str>) -> Self {
        let mut log = Self::default();
        log.push(Undo::DeleteAccessKey {
            id: access_key_id.to_owned(),
        });
        if let Some(arn) = policy_arn {
            log.push(Undo::DeletePolicy {
                arn: arn.to_owned(),
            });
            log.push(Undo::DetachUserPolicy {
                user: access_key_id.to_owned(),
                policy_arn: arn.to_owned(),
            });
        }
        log
    }

    /// A log that removes `leftovers`, in an order that can succeed.
    pub(crate) fn for_leftovers(leftovers: &[Leftover]) -> Self {
        let mut undos: Vec<Undo> = leftovers.iter().filter_map(Undo::from_leftover).collect();
        // Unwinding runs the log backwards, so the first to run goes last.
        undos.sort_by_key(|u| std::cmp::Reverse(u.order()));
        Self(undos)
    }

    pub(crate) fn push(&mut self, undo: Undo) {
        self.0.push(undo);
    }

    /// Runs every inverse, newest first; a failed one does not stop the others.
    pub(crate) async fn unwind(self, iam: &aws_sdk_iam::Client) -> Unwound {
        let mut unwound = Unwound::default();
        for undo in self.0.into_iter().rev() {
            match undo.run(iam).await {
                Ok(()) => tracing::debug!(undo = ?undo, "undone"),
                Err(Failed { error, leftover }) => {
                    tracing::warn!(undo = ?undo, error = %DisplayErrorContext(&error), "could not undo; reporting it as a leftover");
                    unwound.leftovers.push(leftover);
                    unwound.first_error.get_or_insert(error);
                }
            }
        }
        unwound
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_log_unwinds_as_detach_then_delete_policy_then_delete_key() {
        let log = UndoLog::for_key("tid_a", Some("arn:p"));
        let order: Vec<_> = log.0.iter().rev().cloned().collect();
        assert_eq!(
            order,
            [
                Undo::DetachUserPolicy {
                    user: "tid_a".to_owned(),
                    policy_arn: "arn:p".to_owned()
                },
                Undo::DeletePolicy {
                    arn: "arn:p".to_owned()
                },
                Undo::DeleteAccessKey {
                    id: "tid_a".to_owned()
                },
            ]
        );
    }

    #[test]
    fn a_key_without_a_policy_only_deletes_the_key() {
        let log = UndoLog::for_key("tid_a", None);
        assert_eq!(
            log.0,
            [Undo::DeleteAccessKey {
                id: "tid_a".to_owned()
            }]
        );
    }

    #[test]
    fn leftovers_are_removed_in_an_order_that_can_succeed() {
        let leftovers = [
            Leftover::AccessKey {
                id: "tid_a".to_owned(),
            },
            Leftover::Policy {
                arn: "arn:p".to_owned(),
            },
            Leftover::Attachment {
                user: "tid_a".to_owned(),
                policy_arn: "arn:p".to_owned(),
            },
            Leftover::PolicyNamed {
                name: "k-policy-tid_b".to_owned(),
            },
        ];
        let log = UndoLog::for_leftovers(&leftovers);
        let run: Vec<Leftover> = log.0.iter().rev().map(Undo::leftover).collect();
        assert_eq!(
            run,
            [
                leftovers[2].clone(),
                leftovers[3].clone(),
                leftovers[1].clone(),
                leftovers[0].clone()
            ]
        );
    }
}
