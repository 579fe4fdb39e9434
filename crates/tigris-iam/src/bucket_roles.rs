//! Tigris's own IAM call: an access key with a role per bucket, made in one request
//! (`CreateAccessKeyWithBucketsRole`), and the detailed key listing that finds such a key again.
//!
//! These requests go to the IAM endpoint as `@tigrisdata/iam` sends them: `POST` with a form
//! body, `Accept: application/json`, SigV4 for service `s3`, through the crate's
//! [`SignedTransport`], and answer JSON.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderValue, Method};
use serde_json::{Value, json};
use tigris_core::BucketName;
use tigris_core::transport::{SignedTransport, TigrisRequest};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::client::TigrisIam;
use crate::create::{KEY_CLOCK_MARGIN, check_name};
use crate::error::{Error, Leftover, Operation, Result};
use crate::key::SecretAccessKey;
use crate::policy::Role;
use crate::undo::{Undo, UndoLog};

/// The most pages of the detailed key listing read while looking for a key whose creation
/// answer was lost (1000 keys a page): a listing that does not end is not followed forever.
const MAX_LISTING_PAGES: usize = 1000;

/// Builds and sends the creation of an access key with a role on each of its buckets, in one
/// call to Tigris's own IAM action `CreateAccessKeyWithBucketsRole`.
///
/// Made by [`TigrisIam::create_key_with_bucket_roles`]. Unlike
/// [`create_scoped_key`](TigrisIam::create_scoped_key) (the default flow: `CreateAccessKey`,
/// `CreatePolicy`, `AttachUserPolicy`, standard AWS IAM), there is no policy: Tigris binds the
/// roles to the key itself, so each bucket may have its own role, the key carries its name, and
/// deleting the key removes its roles with it. There is no expiry either (Tigris's roles have
/// none); use `create_scoped_key` for a key that stops working at a given time.
///
/// Input is checked before any request: a name (the same rules as `create_scoped_key`'s), at
/// least one bucket, and no bucket given two different roles (the same role twice counts once).
///
/// The request is not retried after a failure that may have created the key (a timeout, a
/// broken connection, a 5xx): a retry would make a second key. The keys with this name created
/// since the request was sent are then listed (`POST /?Detailed`): none means nothing was made
/// and the error is [retryable](Error::is_retryable); some are reported as a
/// [`Leftover::MaybeAccessKey`] with those candidates. A 2xx answer without the key's id is
/// handled the same way; one with the id but without the secret deletes the key again (or
/// reports it as [`Leftover::AccessKey`]). So a failed call never leaves a key unnamed.
///
/// ```no_run
/// # async fn demo(iam: tigris_iam::TigrisIam) -> Result<(), Box<dyn std::error::Error>> {
/// use tigris_iam::Role;
///
/// let key = iam
///     .create_key_with_bucket_roles()
///     .name("agent-7")
///     .bucket_role("agent-7-workspace".parse()?, Role::Editor)
///     .bucket_role("shared-data".parse()?, Role::ReadOnly)
///     .send()
///     .await?;
/// let credentials = key.to_credentials();
/// # drop(credentials);
/// // When the agent is done: the key goes, its roles with it.
/// iam.delete_key(key.access_key_id()).await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "nothing is created until send() is awaited"]
pub struct CreateKeyWithBucketRoles {
    iam: TigrisIam,
    name: Option<String>,
    roles: Vec<(BucketName, Role)>,
}

/// The input once checked.
#[derive(Debug)]
struct Checked {
    name: String,
    roles: Vec<(BucketName, Role)>,
}

impl CreateKeyWithBucketRoles {
    pub(crate) fn new(iam: TigrisIam) -> Self {
        Self {
            iam,
            name: None,
            roles: Vec::new(),
        }
    }

    /// Names the key (required): 1 to [`MAX_KEY_NAME_LEN`](crate::MAX_KEY_NAME_LEN)
    /// characters among ASCII letters, digits and `+=,.@_-`. Tigris shows it in key listings.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Gives the key `role` on `bucket` (at least one is required).
    pub fn bucket_role(mut self, bucket: BucketName, role: Role) -> Self {
        self.roles.push((bucket, role));
        self
    }

    /// Adds several bucket roles, as [`bucket_role`](Self::bucket_role) does.
    pub fn bucket_roles(mut self, roles: impl IntoIterator<Item = (BucketName, Role)>) -> Self {
        self.roles.extend(roles);
        self
    }

    /// Creates the key with its roles, or nothing.
    ///
    /// # Errors
    /// - [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before any request when
    ///   the name is missing or invalid, no bucket role is given, or a bucket is given two
    ///   different roles;
    /// - [`ErrorKind::Configuration`](crate::ErrorKind::Configuration) before any request when
    ///   the client has no credentials provider or its endpoint is not an http(s) URL;
    /// - otherwise the failed request's error ([`Error::operation`] is
    ///   `CreateAccessKeyWithBucketsRole`, [`Error::code`]), with [`Error::leftovers`] naming a
    ///   key that may have been created (see above).
    ///
    /// On success the key stays until [`TigrisIam::delete_key`].
    #[tracing::instrument(
        skip_all,
        fields(name = ?self.name, buckets = self.roles.len(), access_key_id)
    )]
    pub async fn send(self) -> Result<KeyWithBucketRoles> {
        let checked = self.check()?;
        let transport = self.iam.transport()?;
        let mut log = UndoLog::default();
        match create(&self.iam, transport, &checked, &mut log).await {
            Ok(key) => {
                tracing::debug!("created");
                Ok(key)
            }
            Err(err) => {
                let unwound = log.unwind(self.iam.client()).await;
                Err(err.while_creating(&checked.name, unwound.leftovers))
            }
        }
    }

    fn check(&self) -> Result<Checked> {
        let name = self
            .name
            .clone()
            .ok_or_else(|| Error::invalid_input("a key with bucket roles needs a name"))?;
        check_name(&name)?;
        if self.roles.is_empty() {
            return Err(Error::invalid_input(
                "a key with bucket roles needs at least one bucket role",
            ));
        }
        let mut roles: Vec<(BucketName, Role)> = Vec::with_capacity(self.roles.len());
        for (bucket, role) in &self.roles {
            match roles.iter().find(|(b, _)| b == bucket) {
                Some((_, kept)) if kept == role => {}
                Some((_, kept)) => {
                    return Err(Error::invalid_input(format!(
                        "bucket {bucket} is given two roles, {kept} and {role}; a key has one \
                         role per bucket"
                    )));
                }
                None => roles.push((bucket.clone(), *role)),
            }
        }
        Ok(Checked { name, roles })
    }
}

/// The form body `@tigrisdata/iam` sends: `Req=<the JSON request>`.
fn create_request(checked: &Checked, req_uuid: &str) -> TigrisRequest {
    let roles: Vec<Value> = checked
        .roles
        .iter()
        .map(|(bucket, role)| json!({ "bucket": bucket.as_str(), "role": role.as_str() }))
        .collect();
    let req = json!({ "req_uuid": req_uuid, "name": checked.name, "buckets_role": roles });
    form_request("CreateAccessKeyWithBucketsRole")
        .body(format!("Req={}", urlencoding::encode(&req.to_string())))
}

/// A `POST /?Action={action}` with a form body, asking for JSON.
fn form_request(action: &str) -> TigrisRequest {
    TigrisRequest::new(Method::POST)
        .query_param("Action", action)
        .header(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        )
        .header(ACCEPT, HeaderValue::from_static("application/json"))
        .idempotent(false)
}

async fn create(
    iam: &TigrisIam,
    transport: &SignedTransport,
    checked: &Checked,
    log: &mut UndoLog,
) -> Result<KeyWithBucketRoles> {
    let operation = Operation::CreateAccessKeyWithBucketsRole;
    let request = create_request(checked, &req_uuid());
    let sent_at = SystemTime::now();
    let in_flight = iam.received().start();
    let sent = transport.send(&request).await;
    let answer = sent.as_ref().ok().map(|r| parse_created(r.body()));
    in_flight.finish(
        answer
            .as_ref()
            .and_then(|a| a.as_ref().ok())
            .map(|a| a.id.clone()),
    );
    let answer = match (sent, answer) {
        (Ok(_), Some(Ok(answer))) => answer,
        (Ok(_), _) => {
            // A 2xx without the key's id: the key exists, under an id that did not arrive.
            let err = Error::incomplete_reply(operation, "access key id");
            let (created_after, candidates) = keys_named_since(iam, transport, checked, sent_at)
                .await
                .unwrap_or_else(|created_after| (created_after, Vec::new()));
            return Err(err.with_leftover(Leftover::MaybeAccessKey {
                created_after,
                candidates,
            }));
        }
        (Err(e), _) => {
            let err = Error::from_transport(operation, e);
            if !err.may_have_applied() {
                return Err(err);
            }
            return Err(
                match keys_named_since(iam, transport, checked, sent_at).await {
                    Ok((_, candidates)) if candidates.is_empty() => {
                        tracing::debug!("no key by that name was created");
                        err
                    }
                    Ok((created_after, candidates)) => {
                        err.with_leftover(Leftover::MaybeAccessKey {
                            created_after,
                            candidates,
                        })
                    }
                    Err(created_after) => err.with_leftover(Leftover::MaybeAccessKey {
                        created_after,
                        candidates: Vec::new(),
                    }),
                },
            );
        }
    };
    log.push(Undo::DeleteAccessKey {
        id: answer.id.clone(),
    });
    tracing::Span::current().record("access_key_id", answer.id.as_str());
    let Some(secret) = answer.secret else {
        return Err(Error::incomplete_reply(operation, "secret access key"));
    };
    Ok(KeyWithBucketRoles {
        access_key_id: answer.id,
        secret,
        name: checked.name.clone(),
        bucket_roles: checked.roles.clone(),
        created_at: answer.created_at,
    })
}

/// What a `CreateAccessKeyWithBucketsRole` answer says.
#[derive(Debug)]
struct Created {
    id: String,
    secret: Option<SecretAccessKey>,
    created_at: Option<SystemTime>,
}

/// `{"CreateAccessKeyResult": {"AccessKey": {AccessKeyId, SecretAccessKey, UserName,
/// CreateDate}}}`; `Err` when there is no id.
fn parse_created(body: &[u8]) -> std::result::Result<Created, ()> {
    let value: Value = serde_json::from_slice(body).map_err(|_| ())?;
    let key = &value["CreateAccessKeyResult"]["AccessKey"];
    let id = key["AccessKeyId"]
        .as_str()
        .filter(|id| !id.is_empty())
        .ok_or(())?
        .to_owned();
    let secret = key["SecretAccessKey"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(|s| SecretAccessKey::from(s.to_owned()));
    let created_at = key["CreateDate"].as_str().and_then(parse_time);
    Ok(Created {
        id,
        secret,
        created_at,
    })
}

fn parse_time(text: &str) -> Option<SystemTime> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(SystemTime::from)
}

/// The keys this call may have made: those with its name created since the request was sent
/// (less [`KEY_CLOCK_MARGIN`]) that no concurrent call of this client received, with that
/// time; `Err(that time)` if listing failed.
async fn keys_named_since(
    iam: &TigrisIam,
    transport: &SignedTransport,
    checked: &Checked,
    sent_at: SystemTime,
) -> std::result::Result<(SystemTime, Vec<String>), SystemTime> {
    let created_after = sent_at.checked_sub(KEY_CLOCK_MARGIN).unwrap_or(UNIX_EPOCH);
    // Concurrent creations finish first, so their keys are known.
    drop(iam.received().settled().await);
    let candidates: Vec<String> = match list_detailed(transport).await {
        Ok(keys) => keys
            .into_iter()
            .filter(|k| k.name == checked.name)
            // A key without a readable creation time cannot be ruled out.
            .filter(|k| k.created_at.is_none_or(|at| at >= created_after))
            .map(|k| k.id)
            .collect(),
        Err(err) => {
            tracing::warn!(error = %err, "could not list the access keys to find one whose creation answer was lost");
            return Err(created_after);
        }
    };
    let received = iam.received().settled().await;
    let candidates = candidates
        .into_iter()
        .filter(|id| !received.was_received(id))
        .collect();
    Ok((created_after, candidates))
}

/// One key of the detailed listing.
#[derive(Debug)]
struct Listed {
    id: String,
    name: String,
    created_at: Option<SystemTime>,
}

/// Every key of the detailed listing (`POST /?Detailed`, `Action=ListAccessKeys`), page by
/// page.
async fn list_detailed(transport: &SignedTransport) -> Result<Vec<Listed>> {
    let operation = Operation::ListAccessKeys;
    let mut keys = Vec::new();
    let mut marker = String::new();
    for _ in 0..MAX_LISTING_PAGES {
        let mut body = "Action=ListAccessKeys&MaxItems=1000".to_owned();
        if !marker.is_empty() {
            body.push_str("&Marker=");
            body.push_str(&urlencoding::encode(&marker));
        }
        let request = TigrisRequest::new(Method::POST)
            .query_param("Detailed", "")
            .header(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            )
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            // A listing changes nothing: it may be repeated.
            .idempotent(true)
            .body(body);
        let answer = transport
            .send(&request)
            .await
            .map_err(|e| Error::from_transport(operation, e))?;
        let (listed, next) = parse_listing_page(answer.body())
            .ok_or_else(|| Error::incomplete_reply(operation, "JSON body"))?;
        keys.extend(listed);
        match next {
            Some(next) if next != marker => marker = next,
            _ => return Ok(keys),
        }
    }
    Ok(keys)
}

/// One page of the detailed listing: `{"Keys": [{access_key_id, username, created_at}],
/// "IsTruncated", "Marker"}`. Entries without an id are skipped; the marker of the next page
/// is `Some` only when the page says it is truncated and gives one. `None` for a body that is
/// not JSON.
fn parse_listing_page(body: &[u8]) -> Option<(Vec<Listed>, Option<String>)> {
    let page: Value = serde_json::from_slice(body).ok()?;
    let listed = page["Keys"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let keys = listed
        .iter()
        .filter_map(|k| {
            Some(Listed {
                id: k["access_key_id"].as_str()?.to_owned(),
                name: k["username"].as_str().unwrap_or_default().to_owned(),
                created_at: k["created_at"].as_str().and_then(parse_time),
            })
        })
        .collect();
    let next = page["Marker"]
        .as_str()
        .filter(|m| !m.is_empty() && page["IsTruncated"].as_bool() == Some(true))
        .map(str::to_owned);
    Some((keys, next))
}

/// A random version 4 UUID for `req_uuid`, as `@tigrisdata/iam` sends one per request.
fn req_uuid() -> String {
    let mut bits = fastrand::u128(..);
    bits = (bits & !(0xF << 76)) | (0x4 << 76);
    bits = (bits & !(0x3 << 62)) | (0x2 << 62);
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// An access key with a role on each of its buckets, made by
/// [`TigrisIam::create_key_with_bucket_roles`].
///
/// The key stays valid until [`TigrisIam::delete_key`] removes it; dropping this value does not.
/// `Debug` shows everything but the secret.
#[derive(Clone)]
#[must_use = "the key stays valid until it is deleted with TigrisIam::delete_key"]
pub struct KeyWithBucketRoles {
    access_key_id: String,
    secret: SecretAccessKey,
    name: String,
    bucket_roles: Vec<(BucketName, Role)>,
    created_at: Option<SystemTime>,
}

impl KeyWithBucketRoles {
    /// The access key id.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The secret access key.
    pub fn secret(&self) -> &SecretAccessKey {
        &self.secret
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Each bucket the key may act on, with its role there, in the order given.
    pub fn bucket_roles(&self) -> &[(BucketName, Role)] {
        &self.bucket_roles
    }

    /// When Tigris says it made the key, if it said.
    pub fn created_at(&self) -> Option<SystemTime> {
        self.created_at
    }

    /// The key as SDK credentials, for example for an `aws-sdk-s3` client used by an agent.
    pub fn to_credentials(&self) -> Credentials {
        Credentials::new(
            self.access_key_id.clone(),
            self.secret.expose_secret().to_owned(),
            None,
            None,
            "tigris-iam",
        )
    }
}

impl fmt::Debug for KeyWithBucketRoles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            access_key_id,
            secret,
            name,
            bucket_roles,
            created_at,
        } = self;
        f.debug_struct("KeyWithBucketRoles")
            .field("access_key_id", access_key_id)
            .field("secret", secret)
            .field("name", name)
            .field("bucket_roles", bucket_roles)
            .field("created_at", created_at)
            .finish()
    }
}

#[cfg(test)]
mod tests {
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

    fn invalid_reason(builder: &CreateKeyWithBucketRoles) -> String {
        let err = builder.check().expect_err("input should be rejected");
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        err.to_string()
    }

    #[test]
    fn a_name_is_required() {
        let builder = iam()
            .create_key_with_bucket_roles()
            .bucket_role(bucket("ws-1"), Role::Editor);
        assert_eq!(
            invalid_reason(&builder),
            "invalid input: a key with bucket roles needs a name"
        );
    }

    #[test]
    fn names_follow_the_scoped_key_rules() {
        for name in ["", "two words", "clé", &"k".repeat(65)] {
            let builder = iam()
                .create_key_with_bucket_roles()
                .name(name)
                .bucket_role(bucket("ws-1"), Role::Editor);
            invalid_reason(&builder);
        }
    }

    #[test]
    fn at_least_one_bucket_role_is_required() {
        let builder = iam().create_key_with_bucket_roles().name("k");
        assert_eq!(
            invalid_reason(&builder),
            "invalid input: a key with bucket roles needs at least one bucket role"
        );
    }

    #[test]
    fn a_bucket_with_two_roles_is_rejected() {
        let builder = iam()
            .create_key_with_bucket_roles()
            .name("k")
            .bucket_role(bucket("ws-1"), Role::Editor)
            .bucket_role(bucket("ws-1"), Role::ReadOnly);
        assert_eq!(
            invalid_reason(&builder),
            "invalid input: bucket ws-1 is given two roles, Editor and ReadOnly; a key has one \
             role per bucket"
        );
    }

    #[test]
    fn a_bucket_repeated_with_its_role_counts_once_in_order() {
        let checked = iam()
            .create_key_with_bucket_roles()
            .name("k")
            .bucket_role(bucket("b-2"), Role::ReadOnly)
            .bucket_roles([
                (bucket("a-1"), Role::Editor),
                (bucket("b-2"), Role::ReadOnly),
            ])
            .check()
            .unwrap();
        assert_eq!(
            checked.roles,
            [
                (bucket("b-2"), Role::ReadOnly),
                (bucket("a-1"), Role::Editor)
            ]
        );
    }

    #[test]
    fn the_request_is_the_form_tigris_iam_sends() {
        let checked = Checked {
            name: "agent".to_owned(),
            roles: vec![
                (bucket("ws-1"), Role::Editor),
                (bucket("data"), Role::ReadOnly),
            ],
        };
        let request = create_request(&checked, "00000000-0000-4000-8000-000000000000");
        assert_eq!(request.method(), Method::POST);
        assert!(!request.is_idempotent(), "a retry would make a second key");
        let debug = format!("{request:?}");
        assert!(debug.contains("CreateAccessKeyWithBucketsRole"), "{debug}");
        let expected = json!({
            "req_uuid": "00000000-0000-4000-8000-000000000000",
            "name": "agent",
            "buckets_role": [
                {"bucket": "ws-1", "role": "Editor"},
                {"bucket": "data", "role": "ReadOnly"},
            ],
        });
        let encoded = format!("Req={}", urlencoding::encode(&expected.to_string()));
        assert!(
            debug.contains(&format!("{:?}", bytes_of(&encoded))),
            "{debug}"
        );
    }

    fn bytes_of(s: &str) -> bytes::Bytes {
        bytes::Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn req_uuids_are_version_4() {
        let id = req_uuid();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        assert_ne!(id, req_uuid());
    }

    #[test]
    fn an_answer_without_an_id_is_incomplete_and_one_without_a_secret_is_kept_apart() {
        assert!(parse_created(b"{}").is_err());
        assert!(parse_created(b"not json").is_err());
        let no_secret = parse_created(
            br#"{"CreateAccessKeyResult":{"AccessKey":{"AccessKeyId":"tid_A","CreateDate":"2026-12-03T20:00:00Z"}}}"#,
        )
        .unwrap();
        assert_eq!(no_secret.id, "tid_A");
        assert!(no_secret.secret.is_none());
        assert_eq!(
            no_secret.created_at,
            Some(UNIX_EPOCH + std::time::Duration::from_secs(1_796_328_000))
        );
    }

    #[test]
    fn debug_hides_the_secret() {
        let key = KeyWithBucketRoles {
            access_key_id: "tid_A".to_owned(),
            secret: SecretAccessKey::from("tsec_hidden".to_owned()),
            name: "k".to_owned(),
            bucket_roles: vec![(bucket("ws-1"), Role::Editor)],
            created_at: None,
        };
        for shown in [format!("{key:?}"), format!("{key:#?}")] {
            assert!(!shown.contains("tsec_hidden"), "{shown}");
            assert!(shown.contains("tid_A"), "{shown}");
        }
    }

    #[test]
    fn a_listing_page_gives_its_keys_and_the_next_marker_only_when_truncated() {
        let (keys, next) = parse_listing_page(
            br#"{"Keys":[{"access_key_id":"tid_A","username":"k","created_at":"2026-12-03T20:00:00Z"},
                {"username":"no id"}],"IsTruncated":true,"Marker":"tid_A"}"#,
        )
        .unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!((keys[0].id.as_str(), keys[0].name.as_str()), ("tid_A", "k"));
        assert!(keys[0].created_at.is_some());
        assert_eq!(next.as_deref(), Some("tid_A"));
        for last in [
            r#"{"Keys":[],"IsTruncated":false,"Marker":"m"}"#,
            r#"{"Keys":[],"IsTruncated":true,"Marker":""}"#,
            r#"{"Keys":null}"#,
        ] {
            assert_eq!(
                parse_listing_page(last.as_bytes()).unwrap().1,
                None,
                "{last}"
            );
        }
        assert!(parse_listing_page(b"not json").is_none());
    }

    /// Any JSON with the answers' keys, nested.
    fn answer_shaped() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            ".{0,8}".prop_map(Value::from),
            Just(Value::from("2026-12-03T20:00:00Z")),
        ];
        leaf.prop_recursive(4, 32, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map(
                    prop::sample::select(
                        &[
                            "Keys",
                            "IsTruncated",
                            "Marker",
                            "access_key_id",
                            "username",
                            "created_at",
                            "CreateAccessKeyResult",
                            "AccessKey",
                            "AccessKeyId",
                            "SecretAccessKey",
                            "CreateDate",
                        ][..]
                    )
                    .prop_map(str::to_owned),
                    inner,
                    0..4,
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_never_panic_the_answer_parsers(body in proptest::collection::vec(proptest::arbitrary::any::<u8>(), 0..256)) {
            let _ = parse_listing_page(&body);
            let _ = parse_created(&body);
        }

        #[test]
        fn any_answer_shaped_json_never_panics_the_answer_parsers(value in answer_shaped()) {
            let body = serde_json::to_vec(&value).unwrap();
            let _ = parse_listing_page(&body);
            let _ = parse_created(&body);
        }
    }
}
