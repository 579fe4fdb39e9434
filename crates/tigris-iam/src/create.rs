//! Creating a scoped key: CreateAccessKey -> CreatePolicy -> AttachUserPolicy, with rollback.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tigris_core::BucketName;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::client::TigrisIam;
use crate::error::{Error, ErrorKind, Leftover, Operation, Result};
use crate::key::{ScopedAccessKey, SecretAccessKey};
use crate::policy::{PolicyDocument, Role};
use crate::undo::{Undo, UndoLog};

/// The longest key name accepted: it leaves room in the 128-character IAM policy name for the
/// `-policy-` infix and the access key id.
pub const MAX_KEY_NAME_LEN: usize = 64;

/// The longest policy name IAM accepts.
const MAX_POLICY_NAME_LEN: usize = 128;

/// Builds and sends the creation of an access key scoped to one or more buckets.
///
/// Made by [`TigrisIam::create_scoped_key`]. [`send`](Self::send) makes three IAM calls:
/// 1. `CreateAccessKey` (no user name: Tigris creates a key of its own);
/// 2. `CreatePolicy` named `{name}-policy-{access key id}`, allowing the [`Role`]'s actions on
///    `arn:aws:s3:::{bucket}` and `arn:aws:s3:::{bucket}/*` for each bucket, until the expiry if
///    one is set (a `DateLessThan` condition on `aws:CurrentTime`);
/// 3. `AttachUserPolicy` with the access key id as the user name, as Tigris expects.
///
/// The access key id in the policy name keeps it unique: keys created with the same name, even
/// concurrently, never collide on `EntityAlreadyExists`, and a policy can be traced to its key.
/// (The name is cut short if the whole would exceed IAM's 128 characters.)
///
/// If a step fails, what was created is removed again, newest first, every removal attempted;
/// the error's [`leftovers`](Error::leftovers) lists what could not be removed. Retries of
/// individual requests follow the `SdkConfig`'s retry configuration (`CreateAccessKey`'s are
/// made by this crate, see below).
///
/// A step whose request fails *ambiguously* (a timeout, a connection broken after sending, a
/// 5xx other than throttling: the service may have carried it out and only the response was
/// lost) is undone as if it had succeeded:
/// - `CreatePolicy`: the policy name is known and unique to this key, so rollback looks it up
///   (`ListPolicies`, every page, name match at path `/`) and deletes it if it exists. An
///   `EntityAlreadyExists` answer (a retry after a lost response) is treated the same way. If
///   the lookup fails the policy is reported as [`Leftover::PolicyNamed`](crate::Leftover),
///   if the delete fails as [`Leftover::Policy`](crate::Leftover);
/// - `AttachUserPolicy`: rollback detaches first (a no-op if nothing was attached);
/// - `CreateAccessKey`: sent **without** the SDK's automatic retry (a retry after a lost
///   response would make a second key and leave the first unseen). After an ambiguous failure
///   the keys created since the request was sent are listed (`ListAccessKeys`; IAM keys on
///   Tigris have no name or tag to find them by): if there are none, nothing was made and the
///   request is sent again, up to the client's retry attempts; if there are some, the call fails
///   with a [`Leftover::MaybeAccessKey`](crate::Leftover) naming them as the candidates (see
///   there). No policy is attached to such a key, so it grants no access to any bucket.
///
/// ```no_run
/// # async fn demo(iam: tigris_iam::TigrisIam) -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::{Duration, SystemTime};
/// use tigris_iam::Role;
///
/// let key = iam
///     .create_scoped_key()
///     .name("ws-1-key")
///     .bucket("ws-1".parse()?)
///     .bucket("shared-data".parse()?)
///     .role(Role::Editor)
///     .expires_at(SystemTime::now() + Duration::from_secs(3600))
///     .send()
///     .await?;
/// # iam.revoke(&key).await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "nothing is created until send() is awaited"]
pub struct CreateScopedKey {
    iam: TigrisIam,
    name: Option<String>,
    buckets: Vec<BucketName>,
    role: Role,
    expires_at: Option<SystemTime>,
}

/// The input once checked, ready to send.
struct Checked {
    name: String,
    buckets: Vec<BucketName>,
    role: Role,
    /// The expiry to the second, and as RFC 3339 for the policy condition.
    expires_at: Option<(SystemTime, String)>,
}

impl CreateScopedKey {
    pub(crate) fn new(iam: TigrisIam) -> Self {
        Self {
            iam,
            name: None,
            buckets: Vec::new(),
            role: Role::default(),
            expires_at: None,
        }
    }

    /// Names the key (required). The policy is named after it.
    ///
    /// 1 to [`MAX_KEY_NAME_LEN`] characters among ASCII letters, digits and `+=,.@_-`, as IAM
    /// allows in policy names.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Adds a bucket the key may act on (at least one is required; duplicates are ignored).
    pub fn bucket(mut self, bucket: BucketName) -> Self {
        self.buckets.push(bucket);
        self
    }

    /// Adds several buckets, as [`bucket`](Self::bucket) does.
    pub fn buckets(mut self, buckets: impl IntoIterator<Item = BucketName>) -> Self {
        self.buckets.extend(buckets);
        self
    }

    /// What the key may do in its buckets; [`Role::ReadOnly`] unless set.
    pub fn role(mut self, role: Role) -> Self {
        self.role = role;
        self
    }

    /// Makes the policy stop allowing anything at `expires_at`, rounded down to the second.
    ///
    /// The key itself remains until revoked, but is useless after that time. The expiry must
    /// be in the future when [`send`](Self::send) is called.
    pub fn expires_at(mut self, expires_at: SystemTime) -> Self {
        self.expires_at = Some(expires_at);
        self
    }

    /// Creates the key, its policy and the attachment, or none of them.
    ///
    /// # Errors
    /// - [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request when
    ///   the name is missing or invalid, no bucket is given, or the expiry is not in the future;
    /// - otherwise the failed step's error ([`Error::operation`], [`Error::code`]), after
    ///   rollback, with [`Error::leftovers`] listing anything rollback could not remove.
    ///
    /// # Cleanup
    /// On error, everything this call created is removed, or listed in [`Error::leftovers`]
    /// (hand them to [`TigrisIam::clean_up`]), including a policy whose creation failed
    /// ambiguously (see above) and a key whose creation may have succeeded although its answer
    /// was lost ([`Leftover::MaybeAccessKey`](crate::Leftover::MaybeAccessKey), with the keys
    /// that may be it; `clean_up` leaves those to you).
    ///
    /// On success, the key stays until [`TigrisIam::revoke`].
    #[tracing::instrument(
        skip_all,
        fields(name = ?self.name, buckets = self.buckets.len(), role = %self.role, access_key_id)
    )]
    pub async fn send(self) -> Result<ScopedAccessKey> {
        let checked = self.check(SystemTime::now())?;
        let mut log = UndoLog::default();
        match create(&self.iam, &checked, &mut log).await {
            Ok(key) => {
                tracing::debug!("created");
                Ok(key)
            }
            Err(err) => {
                tracing::debug!(operation = ?err.operation(), "rolling back");
                let unwound = log.unwind(self.iam.client()).await;
                Err(err.while_creating(&checked.name, unwound.leftovers))
            }
        }
    }

    fn check(&self, now: SystemTime) -> Result<Checked> {
        let name = self
            .name
            .clone()
            .ok_or_else(|| Error::invalid_input("a scoped key needs a name"))?;
        check_name(&name)?;
        if self.buckets.is_empty() {
            return Err(Error::invalid_input(
                "a scoped key needs at least one bucket",
            ));
        }
        let mut buckets: Vec<BucketName> = Vec::with_capacity(self.buckets.len());
        for bucket in &self.buckets {
            if !buckets.contains(bucket) {
                buckets.push(bucket.clone());
            }
        }
        let expires_at = self
            .expires_at
            .map(|at| check_expiry(at, now))
            .transpose()?;
        Ok(Checked {
            name,
            buckets,
            role: self.role,
            expires_at,
        })
    }
}

async fn create(
    tigris: &TigrisIam,
    checked: &Checked,
    log: &mut UndoLog,
) -> Result<ScopedAccessKey> {
    let iam = tigris.client();
    let (out, sent_at) = create_access_key(tigris).await?;
    // A 2xx without the key: it exists, with an id that did not arrive; find it as for a
    // lost response.
    let incomplete = |missing| async move {
        let err = Error::incomplete_reply(Operation::CreateAccessKey, missing);
        let maybe = match keys_created_since(tigris, sent_at).await {
            Ok((created_after, candidates)) => Leftover::MaybeAccessKey {
                created_after,
                candidates,
            },
            Err(created_after) => Leftover::MaybeAccessKey {
                created_after,
                candidates: Vec::new(),
            },
        };
        err.with_leftover(maybe)
    };
    let Some(access_key) = out.access_key() else {
        return Err(incomplete("access key").await);
    };
    let access_key_id = access_key.access_key_id().to_owned();
    if access_key_id.is_empty() {
        return Err(incomplete("access key id").await);
    }
    log.push(Undo::DeleteAccessKey {
        id: access_key_id.clone(),
    });
    tracing::Span::current().record("access_key_id", access_key_id.as_str());
    let secret = SecretAccessKey::from(access_key.secret_access_key().to_owned());
    if secret.expose_secret().is_empty() {
        return Err(Error::incomplete_reply(
            Operation::CreateAccessKey,
            "secret access key",
        ));
    }

    let policy_name = policy_name(&checked.name, &access_key_id);
    let document = PolicyDocument::scoped(
        &checked.buckets,
        checked.role,
        checked.expires_at.as_ref().map(|(_, s)| s.clone()),
    );
    let created = iam
        .create_policy()
        .policy_name(&policy_name)
        .policy_document(document.to_json())
        .description(format!(
            "tigris-iam: {} on {} bucket(s)",
            checked.role,
            checked.buckets.len()
        ))
        .send()
        .await;
    // The name embeds the new key's id, so only this call can have made a policy by that name:
    // when the request may have succeeded (a lost response, or `EntityAlreadyExists` from a
    // retry of one), or succeeded without an ARN, look it up by name and delete it.
    let delete_by_name = Undo::DeletePolicyNamed {
        name: policy_name.clone(),
    };
    let out = match created {
        Ok(out) => out,
        Err(err) => {
            let err = Error::from_sdk(Operation::CreatePolicy, err);
            if err.may_have_applied() || err.code() == Some("EntityAlreadyExists") {
                log.push(delete_by_name);
            }
            return Err(err);
        }
    };
    let Some(policy_arn) = out
        .policy()
        .and_then(|p| p.arn())
        .filter(|arn| !arn.is_empty())
        .map(str::to_owned)
    else {
        log.push(delete_by_name);
        return Err(Error::incomplete_reply(
            Operation::CreatePolicy,
            "policy ARN",
        ));
    };
    log.push(Undo::DeletePolicy {
        arn: policy_arn.clone(),
    });

    let attached = iam
        .attach_user_policy()
        .user_name(&access_key_id)
        .policy_arn(&policy_arn)
        .send()
        .await;
    if let Err(err) = attached {
        let err = Error::from_sdk(Operation::AttachUserPolicy, err);
        // A timeout or a server failure may come after the attachment was made, and an attached
        // policy cannot be deleted: detach first (a no-op answered NoSuchEntity if it was not).
        if err.may_have_applied() {
            log.push(Undo::DetachUserPolicy {
                user: access_key_id.clone(),
                policy_arn: policy_arn.clone(),
            });
        }
        return Err(err);
    }

    Ok(ScopedAccessKey {
        access_key_id,
        secret,
        policy_name,
        policy_arn,
        buckets: checked.buckets.clone(),
        role: checked.role,
        expires_at: checked.expires_at.as_ref().map(|(at, _)| *at),
    })
}

/// How much earlier than the request's sending time a key found by listing may say it was
/// created: IAM reports creation times to the second, and the service's clock may be behind the
/// client's. A [`Leftover::MaybeAccessKey`] lists the keys created since the sending time less
/// this margin.
pub const KEY_CLOCK_MARGIN: Duration = Duration::from_secs(60);

/// Sends `CreateAccessKey` without the SDK's automatic retry, and retries it here only when
/// nothing can have been created: an SDK retry after a lost response makes a second key, and
/// the first one, whose id never arrived, stays unseen. After a failure that may have created
/// a key, the keys created since the request was sent are listed: none means it is safe to try
/// again (up to the client's retry attempts, with its backoff); any means a key may exist, and
/// the error names it as a [`Leftover::MaybeAccessKey`] with those candidates.
///
/// Returns the output and the time the successful attempt was sent.
async fn create_access_key(
    tigris: &TigrisIam,
) -> Result<(
    aws_sdk_iam::operation::create_access_key::CreateAccessKeyOutput,
    SystemTime,
)> {
    let iam = tigris.client();
    let retry = iam.config().retry_config().cloned();
    let attempts = retry.as_ref().map_or(1, |r| r.max_attempts().max(1));
    let mut backoff = retry
        .as_ref()
        .map_or(Duration::from_millis(100), |r| r.initial_backoff());
    let sleep = iam.config().sleep_impl();
    let mut attempt = 1;
    loop {
        let sent_at = SystemTime::now();
        let in_flight = tigris.received().start();
        let sent = iam
            .create_access_key()
            .customize()
            .config_override(
                aws_sdk_iam::Config::builder()
                    .retry_config(aws_sdk_iam::config::retry::RetryConfig::disabled()),
            )
            .send()
            .await;
        let received = sent
            .as_ref()
            .ok()
            .and_then(|out| out.access_key())
            .map(|k| k.access_key_id().to_owned());
        in_flight.finish(received);
        let err = match sent {
            Ok(out) => return Ok((out, sent_at)),
            Err(e) => Error::from_sdk(Operation::CreateAccessKey, e),
        };
        if err.may_have_applied() {
            match keys_created_since(tigris, sent_at).await {
                Ok((_, candidates)) if candidates.is_empty() => {
                    tracing::debug!("no key was created; the request may be sent again");
                }
                Ok((created_after, candidates)) => {
                    return Err(err.with_leftover(Leftover::MaybeAccessKey {
                        created_after,
                        candidates,
                    }));
                }
                Err(created_after) => {
                    return Err(err.with_leftover(Leftover::MaybeAccessKey {
                        created_after,
                        candidates: Vec::new(),
                    }));
                }
            }
        }
        if err.kind() != ErrorKind::Transient || attempt >= attempts {
            return Err(err);
        }
        attempt += 1;
        if let Some(sleep) = &sleep {
            aws_sdk_iam::config::AsyncSleep::sleep(sleep, backoff).await;
        }
        backoff = backoff.saturating_mul(2).min(Duration::from_secs(20));
    }
}

/// The access keys the `CreateAccessKey` calls of one [`TigrisIam`] (and its clones) received
/// in the last minutes, and how many such calls are in flight: a key found by listing after a
/// lost answer is not the lost one if a concurrent call received it.
#[derive(Debug)]
pub(crate) struct ReceivedKeys(tokio::sync::watch::Sender<Received>);

#[derive(Debug, Default)]
pub(crate) struct Received {
    in_flight: usize,
    /// Ids with when they arrived, oldest first; kept for twice [`KEY_CLOCK_MARGIN`].
    recent: std::collections::VecDeque<(SystemTime, String)>,
}

impl Received {
    /// Whether a call of this client received the key `id` lately.
    pub(crate) fn was_received(&self, id: &str) -> bool {
        self.recent.iter().any(|(_, r)| r == id)
    }
}

impl Default for ReceivedKeys {
    fn default() -> Self {
        Self(tokio::sync::watch::Sender::new(Received::default()))
    }
}

/// One `CreateAccessKey` in flight; dropping it without [`finish`](Self::finish) (a cancelled
/// call) counts it as done with nothing received.
pub(crate) struct InFlight<'a> {
    keys: &'a ReceivedKeys,
    done: bool,
}

impl InFlight<'_> {
    pub(crate) fn finish(mut self, id: Option<String>) {
        self.done = true;
        let now = SystemTime::now();
        self.keys.0.send_modify(|r| {
            r.in_flight -= 1;
            if let Some(id) = id {
                r.recent.push_back((now, id));
            }
            while r.recent.front().is_some_and(|(at, _)| {
                now.duration_since(*at).unwrap_or_default() > 2 * KEY_CLOCK_MARGIN
            }) {
                r.recent.pop_front();
            }
        });
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.keys.0.send_modify(|r| r.in_flight -= 1);
        }
    }
}

impl ReceivedKeys {
    pub(crate) fn start(&self) -> InFlight<'_> {
        self.0.send_modify(|r| r.in_flight += 1);
        InFlight {
            keys: self,
            done: false,
        }
    }

    /// Waits until no call is in flight, then reads what was received.
    pub(crate) async fn settled(&self) -> tokio::sync::watch::Ref<'_, Received> {
        let mut rx = self.0.subscribe();
        // The sender lives as long as `self`, so waiting cannot fail; if it did, read as is.
        if rx.wait_for(|r| r.in_flight == 0).await.is_err() {
            tracing::debug!("received-keys channel closed");
        }
        self.0.borrow()
    }
}

/// The ids of the access keys created at or after `sent_at` less [`KEY_CLOCK_MARGIN`] that no
/// concurrent call of this client received, with that time; `Err(that time)` if listing fails.
async fn keys_created_since(
    tigris: &TigrisIam,
    sent_at: SystemTime,
) -> std::result::Result<(SystemTime, Vec<String>), SystemTime> {
    let iam = tigris.client();
    let created_after = sent_at.checked_sub(KEY_CLOCK_MARGIN).unwrap_or(UNIX_EPOCH);
    // Concurrent creations (the other forks of a set) finish first, so their keys are known.
    drop(tigris.received().settled().await);
    let mut keys = iam.list_access_keys().into_paginator().items().send();
    let mut candidates = Vec::new();
    while let Some(key) = keys.next().await {
        let key = key.map_err(|e| {
            let err = Error::from_sdk(Operation::ListAccessKeys, e);
            tracing::warn!(error = %err, "could not list the access keys to find one whose creation answer was lost");
            created_after
        })?;
        let created = key
            .create_date()
            .and_then(|d| SystemTime::try_from(*d).ok());
        // A key without a creation time cannot be ruled out.
        if created.is_none_or(|c| c >= created_after)
            && let Some(id) = key.access_key_id()
        {
            candidates.push(id.to_owned());
        }
    }
    let received = tigris.received().settled().await;
    candidates.retain(|id| !received.was_received(id));
    Ok((created_after, candidates))
}

pub(crate) fn check_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::invalid_input("the key name is empty"));
    }
    if name.len() > MAX_KEY_NAME_LEN {
        return Err(Error::invalid_input(format!(
            "the key name is {} characters long; the limit is {MAX_KEY_NAME_LEN}",
            name.len()
        )));
    }
    if let Some(c) = name.chars().find(|&c| !is_policy_name_char(c)) {
        return Err(Error::invalid_input(format!(
            "the key name {name:?} contains {c:?}; only ASCII letters, digits and +=,.@_- are allowed"
        )));
    }
    Ok(())
}

fn is_policy_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)
}

/// `{name}-policy-{access key id}`, within IAM's limits whatever the id looks like.
fn policy_name(name: &str, access_key_id: &str) -> String {
    let id: String = access_key_id
        .chars()
        .filter(|&c| is_policy_name_char(c))
        .collect();
    let suffix = format!("-policy-{id}");
    // Both parts are ASCII, so byte lengths are character counts.
    let room = MAX_POLICY_NAME_LEN.saturating_sub(suffix.len());
    let mut policy_name = format!("{}{suffix}", &name[..name.len().min(room)]);
    policy_name.truncate(MAX_POLICY_NAME_LEN);
    policy_name
}

/// The expiry rounded down to the second (so the key never outlives what was asked), and as
/// RFC 3339 in UTC.
fn check_expiry(at: SystemTime, now: SystemTime) -> Result<(SystemTime, String)> {
    let in_the_past = || Error::invalid_input("the expiry is not in the future");
    let secs = at
        .duration_since(UNIX_EPOCH)
        .map_err(|_| in_the_past())?
        .as_secs();
    let at = UNIX_EPOCH + std::time::Duration::from_secs(secs);
    if at <= now {
        return Err(in_the_past());
    }
    let rfc3339 = i64::try_from(secs)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|t| t.format(&Rfc3339).ok())
        .ok_or_else(|| Error::invalid_input("the expiry is too far in the future"))?;
    Ok((at, rfc3339))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use aws_credential_types::Credentials;
    use aws_credential_types::provider::SharedCredentialsProvider;

    use super::*;
    use crate::ErrorKind;

    fn iam() -> TigrisIam {
        let sdk = aws_types::SdkConfig::builder()
            .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "a", "b", None, None, "t",
            )))
            .build();
        TigrisIam::builder(&sdk)
            .endpoint_url("http://127.0.0.1:1")
            .build()
    }

    fn bucket(name: &str) -> BucketName {
        BucketName::new(name).unwrap()
    }

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_900_000_000)
    }

    fn invalid_reason(builder: &CreateScopedKey) -> String {
        let err = builder
            .check(now())
            .err()
            .expect("input should be rejected");
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        err.to_string()
    }

    #[test]
    fn a_name_is_required() {
        let builder = iam().create_scoped_key().bucket(bucket("ws-1"));
        assert_eq!(
            invalid_reason(&builder),
            "invalid input: a scoped key needs a name"
        );
    }

    #[test]
    fn an_empty_name_is_rejected() {
        let builder = iam().create_scoped_key().name("").bucket(bucket("ws-1"));
        assert_eq!(
            invalid_reason(&builder),
            "invalid input: the key name is empty"
        );
    }

    #[test]
    fn names_with_characters_iam_refuses_are_rejected() {
        for name in ["ws 1", "ws/1", "ws:1", "clé", "a\u{0}b"] {
            let builder = iam().create_scoped_key().name(name).bucket(bucket("ws-1"));
            assert!(
                invalid_reason(&builder).contains("only ASCII letters"),
                "{name}"
            );
        }
    }

    #[test]
    fn names_longer_than_the_limit_are_rejected() {
        let ok = iam()
            .create_scoped_key()
            .name("a".repeat(MAX_KEY_NAME_LEN))
            .bucket(bucket("ws-1"));
        assert!(ok.check(now()).is_ok());
        let long = iam()
            .create_scoped_key()
            .name("a".repeat(MAX_KEY_NAME_LEN + 1))
            .bucket(bucket("ws-1"));
        assert_eq!(
            invalid_reason(&long),
            "invalid input: the key name is 65 characters long; the limit is 64"
        );
    }

    #[test]
    fn at_least_one_bucket_is_required() {
        let builder = iam().create_scoped_key().name("ws-1-key");
        assert_eq!(
            invalid_reason(&builder),
            "invalid input: a scoped key needs at least one bucket"
        );
    }

    #[test]
    fn an_expiry_in_the_past_or_now_is_rejected() {
        for at in [
            now() - Duration::from_secs(1),
            now(),
            now() + Duration::from_millis(999),
            UNIX_EPOCH,
        ] {
            let builder = iam()
                .create_scoped_key()
                .name("k")
                .bucket(bucket("ws-1"))
                .expires_at(at);
            assert_eq!(
                invalid_reason(&builder),
                "invalid input: the expiry is not in the future"
            );
        }
    }

    #[test]
    fn the_expiry_is_rounded_down_to_the_second_in_utc() {
        let at = UNIX_EPOCH + Duration::from_millis(1_900_000_001_750);
        let (rounded, text) = check_expiry(at, now()).unwrap();
        assert_eq!(rounded, UNIX_EPOCH + Duration::from_secs(1_900_000_001));
        assert_eq!(text, "2030-03-17T17:46:41Z");
    }

    #[test]
    fn duplicate_buckets_are_kept_once_in_order() {
        let checked = iam()
            .create_scoped_key()
            .name("k")
            .bucket(bucket("b-2"))
            .buckets([bucket("a-1"), bucket("b-2")])
            .check(now())
            .unwrap();
        assert_eq!(checked.buckets, [bucket("b-2"), bucket("a-1")]);
        assert_eq!(
            checked.role,
            Role::ReadOnly,
            "the default is the least privilege"
        );
    }

    #[test]
    fn policy_names_carry_the_key_id_and_fit_iam_limits() {
        assert_eq!(
            policy_name("ws-1-key", "tid_ABC123"),
            "ws-1-key-policy-tid_ABC123"
        );
        let long = policy_name(&"n".repeat(MAX_KEY_NAME_LEN), &"k".repeat(100));
        assert_eq!(long.len(), MAX_POLICY_NAME_LEN);
        assert!(long.ends_with(&format!("-policy-{}", "k".repeat(100))));
        assert_eq!(
            policy_name("k", "id/with:odd*chars"),
            "k-policy-idwithoddchars"
        );
    }
}
