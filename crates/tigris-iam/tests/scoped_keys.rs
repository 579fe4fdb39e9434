//! Scoped keys against the in-process emulator: signatures verified, policies enforced on S3.

use std::error::Error as _;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_s3::config::{BehaviorVersion, Region};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_types::SdkConfig;
use aws_types::sdk_config::RetryConfig;
use tigris_emulator::{Emulator, Fault};
use tigris_iam::{BucketName, ErrorKind, Leftover, Role, ScopedAccessKey, TigrisIam};

// ---------------------------------------------------------------------------------------------
// Harness

struct Harness {
    emu: Emulator,
    iam: TigrisIam,
    /// S3 as root, to set up buckets and check what scoped keys did.
    root_s3: aws_sdk_s3::Client,
}

/// The SdkConfig a user would share between S3 and IAM. No HTTP client: `TigrisIam` builds its
/// own. Retries off, so one injected fault is one failed step.
fn sdk_config(emu: &Emulator, retry: RetryConfig) -> SdkConfig {
    let root = emu.root_credentials();
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("auto"))
        .retry_config(retry)
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            root.access_key_id(),
            root.secret_access_key(),
            None,
            None,
            "emulator-root",
        )))
        .build()
}

fn s3_client(emu: &Emulator, credentials: Credentials) -> aws_sdk_s3::Client {
    tigris_test_support::s3_signed_as(emu, credentials)
}

async fn harness_with(retry: RetryConfig) -> Harness {
    let emu = Emulator::start().await.unwrap();
    let iam = TigrisIam::builder(&sdk_config(&emu, retry))
        .endpoint_url(emu.endpoint())
        .build();
    let root = emu.root_credentials();
    let root_s3 = s3_client(
        &emu,
        Credentials::new(
            root.access_key_id(),
            root.secret_access_key(),
            None,
            None,
            "emulator-root",
        ),
    );
    Harness { emu, iam, root_s3 }
}

async fn harness() -> Harness {
    harness_with(RetryConfig::disabled()).await
}

fn bucket(name: &str) -> BucketName {
    name.parse().unwrap()
}

impl Harness {
    async fn create_bucket(&self, name: &str) {
        self.root_s3
            .create_bucket()
            .bucket(name)
            .send()
            .await
            .unwrap();
    }

    async fn put_as_root(&self, bucket: &str, key: &str, body: &str) {
        self.root_s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(body.as_bytes().to_vec()))
            .send()
            .await
            .unwrap();
    }

    fn s3_as(&self, key: &ScopedAccessKey) -> aws_sdk_s3::Client {
        s3_client(&self.emu, key.to_credentials())
    }

    async fn key(&self, name: &str, buckets: &[&str], role: Role) -> ScopedAccessKey {
        self.iam
            .create_scoped_key()
            .name(name)
            .buckets(buckets.iter().map(|b| bucket(b)))
            .role(role)
            .send()
            .await
            .unwrap()
    }

    /// Access key ids and policy ARNs that exist in the emulator's IAM, as root sees them.
    async fn iam_contents(&self) -> (Vec<String>, Vec<String>) {
        let iam = self.iam.client();
        let keys = iam.list_access_keys().send().await.unwrap();
        let policies = iam.list_policies().send().await.unwrap();
        (
            keys.access_key_metadata()
                .iter()
                .filter_map(|k| k.access_key_id().map(str::to_owned))
                .collect(),
            policies
                .policies()
                .iter()
                .filter_map(|p| p.arn().map(str::to_owned))
                .collect(),
        )
    }

    async fn assert_iam_is_empty(&self) {
        assert_eq!(
            self.iam_contents().await,
            (Vec::new(), Vec::new()),
            "nothing may be left behind"
        );
    }
}

async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<(), String> {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from_static(b"data"))
        .send()
        .await
        .map(drop)
        .map_err(|e| e.code().unwrap_or("no code").to_owned())
}

async fn get(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<String, String> {
    match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(out) => Ok(String::from_utf8(out.body.collect().await.unwrap().to_vec()).unwrap()),
        Err(e) => Err(e.code().unwrap_or("no code").to_owned()),
    }
}

async fn list(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<Vec<String>, String> {
    match s3.list_objects_v2().bucket(bucket).send().await {
        Ok(out) => Ok(out
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_owned))
            .collect()),
        Err(e) => Err(e.code().unwrap_or("no code").to_owned()),
    }
}

async fn delete(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<(), String> {
    s3.delete_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map(drop)
        .map_err(|e| e.code().unwrap_or("no code").to_owned())
}

fn denied<T: std::fmt::Debug>(result: Result<T, String>) {
    assert_eq!(result.unwrap_err(), "AccessDenied");
}

// ---------------------------------------------------------------------------------------------
// What a key may do

#[tokio::test]
async fn read_only_key_lists_and_reads_its_bucket() {
    let h = harness().await;
    h.create_bucket("ws-1").await;
    h.put_as_root("ws-1", "notes.txt", "hello").await;
    let key = h.key("ws-1-key", &["ws-1"], Role::ReadOnly).await;
    let s3 = h.s3_as(&key);

    assert_eq!(list(&s3, "ws-1").await.unwrap(), ["notes.txt"]);
    assert_eq!(get(&s3, "ws-1", "notes.txt").await.unwrap(), "hello");
}

#[tokio::test]
async fn read_only_key_cannot_write_or_delete_in_its_bucket() {
    let h = harness().await;
    h.create_bucket("ws-1").await;
    h.put_as_root("ws-1", "notes.txt", "hello").await;
    let key = h.key("ws-1-key", &["ws-1"], Role::ReadOnly).await;
    let s3 = h.s3_as(&key);

    denied(put(&s3, "ws-1", "new.txt").await);
    denied(delete(&s3, "ws-1", "notes.txt").await);
    assert_eq!(get(&h.root_s3, "ws-1", "notes.txt").await.unwrap(), "hello");
}

#[tokio::test]
async fn read_only_key_cannot_touch_another_bucket() {
    let h = harness().await;
    h.create_bucket("ws-1").await;
    h.create_bucket("other").await;
    h.put_as_root("other", "secret.txt", "not yours").await;
    let key = h.key("ws-1-key", &["ws-1"], Role::ReadOnly).await;
    let s3 = h.s3_as(&key);

    denied(list(&s3, "other").await);
    denied(get(&s3, "other", "secret.txt").await);
    denied(put(&s3, "other", "x").await);
    denied(delete(&s3, "other", "secret.txt").await);
}

#[tokio::test]
async fn editor_key_writes_only_its_bucket() {
    let h = harness().await;
    h.create_bucket("ws-1").await;
    h.create_bucket("other").await;
    let key = h.key("ws-1-key", &["ws-1"], Role::Editor).await;
    let s3 = h.s3_as(&key);

    put(&s3, "ws-1", "out.txt").await.unwrap();
    assert_eq!(get(&s3, "ws-1", "out.txt").await.unwrap(), "data");
    delete(&s3, "ws-1", "out.txt").await.unwrap();
    assert_eq!(list(&s3, "ws-1").await.unwrap(), Vec::<String>::new());

    denied(put(&s3, "other", "out.txt").await);
    denied(list(&s3, "other").await);
    assert_eq!(
        list(&h.root_s3, "other").await.unwrap(),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn key_for_two_buckets_works_on_both_and_nowhere_else() {
    let h = harness().await;
    for b in ["ws-a", "ws-b", "other"] {
        h.create_bucket(b).await;
    }
    let key = h.key("two-buckets", &["ws-a", "ws-b"], Role::Editor).await;
    assert_eq!(key.buckets(), [bucket("ws-a"), bucket("ws-b")]);
    let s3 = h.s3_as(&key);

    for b in ["ws-a", "ws-b"] {
        put(&s3, b, "k").await.unwrap();
        assert_eq!(get(&s3, b, "k").await.unwrap(), "data");
    }
    denied(put(&s3, "other", "k").await);
}

#[tokio::test]
async fn expired_key_is_denied() {
    let h = harness().await;
    h.create_bucket("ws-1").await;
    h.put_as_root("ws-1", "notes.txt", "hello").await;
    let key = h
        .iam
        .create_scoped_key()
        .name("short-lived")
        .bucket(bucket("ws-1"))
        .role(Role::ReadOnly)
        .expires_at(SystemTime::now() + Duration::from_secs(3))
        .send()
        .await
        .unwrap();
    let expires_at = key.expires_at().expect("the key has an expiry");
    let s3 = h.s3_as(&key);
    assert_eq!(
        get(&s3, "ws-1", "notes.txt").await.unwrap(),
        "hello",
        "valid before its expiry"
    );

    // Past the expiry (whole seconds in the policy) by the emulator's clock.
    h.emu.advance_clock(
        expires_at
            .duration_since(SystemTime::now())
            .unwrap_or_default()
            + Duration::from_millis(1100),
    );
    denied(get(&s3, "ws-1", "notes.txt").await);
    denied(list(&s3, "ws-1").await);
}

#[tokio::test]
async fn created_key_has_its_policy_attached_under_its_own_id() {
    let h = harness().await;
    h.create_bucket("ws-1").await;
    let key = h.key("ws-1-key", &["ws-1"], Role::Editor).await;

    assert!(
        key.access_key_id().starts_with("tid_"),
        "{}",
        key.access_key_id()
    );
    assert!(key.secret().expose_secret().starts_with("tsec_"));
    assert_eq!(
        key.policy_name(),
        format!("ws-1-key-policy-{}", key.access_key_id())
    );
    assert_eq!(key.role(), Role::Editor);
    assert_eq!(key.expires_at(), None);
    let attached = h
        .iam
        .client()
        .list_attached_user_policies()
        .user_name(key.access_key_id())
        .send()
        .await
        .unwrap();
    let arns: Vec<_> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn())
        .collect();
    assert_eq!(arns, [key.policy_arn()]);
    let shown = format!("{key:?}{key:#?}");
    assert!(!shown.contains(key.secret().expose_secret()), "{shown}");
}

#[tokio::test]
async fn keys_with_the_same_name_do_not_collide() {
    let h = harness().await;
    h.create_bucket("ws-1").await;
    let first = h.key("same-name", &["ws-1"], Role::ReadOnly).await;
    let second = h.key("same-name", &["ws-1"], Role::Editor).await;

    assert_ne!(first.policy_arn(), second.policy_arn());
    denied(put(&h.s3_as(&first), "ws-1", "k").await);
    put(&h.s3_as(&second), "ws-1", "k").await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// Validation

#[tokio::test]
async fn bad_input_sends_no_request() {
    let h = harness().await;
    let past = SystemTime::now() - Duration::from_secs(60);
    let attempts = [
        h.iam.create_scoped_key().name("no-buckets"),
        h.iam.create_scoped_key().bucket(bucket("ws-1")),
        h.iam.create_scoped_key().name("").bucket(bucket("ws-1")),
        h.iam
            .create_scoped_key()
            .name("has spaces")
            .bucket(bucket("ws-1")),
        h.iam
            .create_scoped_key()
            .name("expired")
            .bucket(bucket("ws-1"))
            .expires_at(past),
    ];
    for attempt in attempts {
        let err = attempt.send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(err.operation().is_none());
        assert!(err.leftovers().is_empty());
    }
    assert_eq!(h.emu.faults().count("CreateAccessKey"), 0);
    assert_eq!(h.emu.faults().total(), 0, "no request of any kind");
}

#[tokio::test]
async fn missing_credentials_is_a_configuration_error() {
    let h = harness().await;
    let sdk = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .build();
    let iam = TigrisIam::builder(&sdk)
        .endpoint_url(h.emu.endpoint())
        .build();
    let err = iam
        .create_scoped_key()
        .name("k")
        .bucket(bucket("ws-1"))
        .send()
        .await
        .unwrap_err();

    assert_eq!(
        err.kind(),
        ErrorKind::Configuration,
        "{err}: {:?}",
        err.source()
    );
    assert_eq!(err.operation(), Some("CreateAccessKey"));
    assert_eq!(h.emu.faults().total(), 0);
}

#[tokio::test]
async fn an_unreachable_endpoint_is_transient() {
    let h = harness().await;
    let sdk = sdk_config(&h.emu, RetryConfig::disabled());
    // Nothing listens on port 1 of loopback.
    let iam = TigrisIam::builder(&sdk)
        .endpoint_url("http://127.0.0.1:1")
        .build();
    let err = iam
        .create_scoped_key()
        .name("k")
        .bucket(bucket("ws-1"))
        .send()
        .await
        .unwrap_err();

    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    assert!(err.is_retryable());
    assert!(err.code().is_none());
    assert!(
        !err.to_string().contains("may have been created"),
        "a refused connection sent nothing: {err}"
    );
}

// ---------------------------------------------------------------------------------------------
// Rollback

#[tokio::test]
async fn failure_at_create_access_key_creates_nothing() {
    let h = harness().await;
    h.emu
        .faults()
        .fail_next("CreateAccessKey", 1, 503, "ServiceUnavailable");
    let err = h
        .iam
        .create_scoped_key()
        .name("k")
        .bucket(bucket("ws-1"))
        .send()
        .await
        .unwrap_err();

    assert_eq!(err.operation(), Some("CreateAccessKey"));
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert!(err.is_retryable());
    assert_eq!(h.emu.faults().count("CreatePolicy"), 0);
    h.assert_iam_is_empty().await;
}

#[tokio::test]
async fn failure_at_create_policy_leaves_nothing() {
    let h = harness().await;
    h.emu
        .faults()
        .fail_next("CreatePolicy", 1, 500, "ServiceFailure");
    let err = h
        .iam
        .create_scoped_key()
        .name("ws-1-key")
        .bucket(bucket("ws-1"))
        .send()
        .await
        .unwrap_err();

    assert_eq!(err.operation(), Some("CreatePolicy"));
    assert_eq!(err.code(), Some("ServiceFailure"));
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert!(err.leftovers().is_empty(), "{:?}", err.leftovers());
    assert!(err.source().is_some(), "the SDK error is the source");
    assert_eq!(
        err.to_string(),
        "could not create scoped access key \"ws-1-key\": CreatePolicy failed (transient failure, code \
         ServiceFailure); everything it created was removed"
    );
    assert_eq!(h.emu.faults().count("DeleteAccessKey"), 1);
    h.assert_iam_is_empty().await;
}

#[tokio::test]
async fn failure_at_attach_leaves_nothing() {
    let h = harness().await;
    h.emu
        .faults()
        .fail_next("AttachUserPolicy", 1, 500, "ServiceFailure");
    let err = h
        .iam
        .create_scoped_key()
        .name("ws-1-key")
        .bucket(bucket("ws-1"))
        .send()
        .await
        .unwrap_err();

    assert_eq!(err.operation(), Some("AttachUserPolicy"));
    assert_eq!(err.code(), Some("ServiceFailure"));
    assert!(err.leftovers().is_empty(), "{:?}", err.leftovers());
    assert_eq!(h.emu.faults().count("DeletePolicy"), 1);
    assert_eq!(h.emu.faults().count("DeleteAccessKey"), 1);
    h.assert_iam_is_empty().await;
}

#[tokio::test]
async fn a_rejected_attach_is_not_detached() {
    let h = harness().await;
    h.emu
        .faults()
        .fail_next("AttachUserPolicy", 1, 403, "AccessDenied");
    let err = h
        .iam
        .create_scoped_key()
        .name("k")
        .bucket(bucket("ws-1"))
        .send()
        .await
        .unwrap_err();

    assert_eq!(err.kind(), ErrorKind::AccessDenied);
    assert!(err.leftovers().is_empty());
    assert_eq!(
        h.emu.faults().count("DetachUserPolicy"),
        0,
        "a 4xx means nothing was attached"
    );
    h.assert_iam_is_empty().await;
}

#[tokio::test]
async fn failed_undo_is_reported_as_a_leftover_that_really_remains() {
    let h = harness().await;
    h.emu
        .faults()
        .fail_next("AttachUserPolicy", 1, 500, "ServiceFailure");
    h.emu
        .faults()
        .fail_next("DeletePolicy", 1, 500, "ServiceFailure");
    let err = h
        .iam
        .create_scoped_key()
        .name("ws-1-key")
        .bucket(bucket("ws-1"))
        .send()
        .await
        .unwrap_err();

    assert_eq!(
        err.operation(),
        Some("AttachUserPolicy"),
        "the original cause, not the undo's"
    );
    assert_eq!(err.code(), Some("ServiceFailure"));
    let (keys, policies) = h.iam_contents().await;
    assert_eq!(keys, Vec::<String>::new(), "the key itself was removed");
    assert_eq!(policies.len(), 1);
    assert_eq!(
        err.leftovers(),
        [Leftover::Policy {
            arn: policies[0].clone()
        }]
    );
    assert!(
        err.to_string()
            .ends_with(&format!("left behind: policy {}", policies[0])),
        "{err}"
    );
    assert!(!err.is_retryable());

    h.iam.clean_up(err.leftovers()).await.unwrap();
    h.assert_iam_is_empty().await;
}

#[tokio::test]
async fn every_undo_is_attempted_even_when_one_fails() {
    let h = harness().await;
    h.emu
        .faults()
        .fail_next("AttachUserPolicy", 1, 500, "ServiceFailure");
    h.emu
        .faults()
        .fail_next("DeletePolicy", 1, 500, "ServiceFailure");
    h.emu
        .faults()
        .fail_next("DeleteAccessKey", 1, 500, "ServiceFailure");
    let err = h
        .iam
        .create_scoped_key()
        .name("k")
        .bucket(bucket("ws-1"))
        .send()
        .await
        .unwrap_err();

    let (keys, policies) = h.iam_contents().await;
    assert_eq!((keys.len(), policies.len()), (1, 1));
    assert_eq!(
        err.leftovers(),
        [
            Leftover::Policy {
                arn: policies[0].clone()
            },
            Leftover::AccessKey {
                id: keys[0].clone()
            }
        ]
    );
    h.iam.clean_up(err.leftovers()).await.unwrap();
    h.assert_iam_is_empty().await;
}

// ---------------------------------------------------------------------------------------------
// Rollback after a lost response: the request was carried out, the client saw an error

/// The name of the one policy left in IAM, from its ARN.
fn policy_name_of(arn: &str) -> String {
    arn.rsplit('/').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_policy_whose_creation_response_was_lost_is_found_by_name_and_deleted() {
    let h = harness().await;
    h.emu.faults().inject(
        Fault::on("CreatePolicy")
            .after_apply()
            .status(500)
            .code("InternalError"),
    );
    let err = h
        .iam
        .create_scoped_key()
        .name("ws-1-key")
        .bucket(bucket("ws-1"))
        .send()
        .await
        .unwrap_err();

    assert_eq!(err.operation(), Some("CreatePolicy"));
    assert_eq!(err.code(), Some("InternalError"));
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert!(err.leftovers().is_empty(), "{:?}", err.leftovers());
    assert_eq!(
        err.to_string(),
        "could not create scoped access key \"ws-1-key\": CreatePolicy failed (transient failure, code \
         InternalError); everything it created was removed"
    );
    assert_eq!(h.emu.faults().count("ListPolicies"), 1, "looked up by name");
    assert_eq!(h.emu.faults().count("DeletePolicy"), 1);
    assert_eq!(h.emu.faults().count("DeleteAccessKey"), 1);
    h.assert_iam_is_empty().await;
}

#[tokio::test]
async fn a_lost_policy_that_cannot_be_looked_up_is_reported_by_name_and_cleaned_up_later() {
    let h = harness().await;
    h.emu
        .faults()
        .inject(Fault::on("CreatePolicy").after_apply());
    h.emu
        .faults()
        .fail_next("ListPolicies", 1, 500, "ServiceFailure");
    let err = h
        .iam
        .create_scoped_key()
        .name("ws-1-key")
        .bucket(bucket("ws-1"))
        .send()
        .await
        .unwrap_err();

    assert_eq!(
        err.operation(),
        Some("CreatePolicy"),
        "the original cause, not the lookup's"
    );
    let (keys, policies) = h.iam_contents().await;
    assert_eq!(keys, Vec::<String>::new(), "the key itself was removed");
    assert_eq!(policies.len(), 1, "the policy is really there");
    let name = policy_name_of(&policies[0]);
    assert!(name.starts_with("ws-1-key-policy-tid_"), "{name}");
    assert_eq!(
        err.leftovers(),
        [Leftover::PolicyNamed { name: name.clone() }]
    );
    assert!(
        err.to_string()
            .ends_with(&format!("; left behind: policy named {name}")),
        "{err}"
    );
    assert!(!err.is_retryable());

    h.iam.clean_up(err.leftovers()).await.unwrap();
    h.assert_iam_is_empty().await;
}

#[tokio::test]
async fn a_lost_policy_found_but_not_deletable_is_reported_by_arn() {
    let h = harness().await;
    h.emu
        .faults()
        .inject(Fault::on("CreatePolicy").after_apply());
    h.emu
        .faults()
        .fail_next("DeletePolicy", 1, 500, "ServiceFailure");
    let err = h
        .iam
        .create_scoped_key()
        .name("ws-1-key")
        .bucket(bucket("ws-1"))
        .send()
        .await
        .unwrap_err();

    assert_eq!(err.operation(), Some("CreatePolicy"));
    let (keys, policies) = h.iam_contents().await;
    assert_eq!(keys, Vec::<String>::new());
    assert_eq!(policies.len(), 1);
    assert_eq!(
        err.leftovers(),
        [Leftover::Policy {
            arn: policies[0].clone()
        }]
    );

    h.iam.clean_up(err.leftovers()).await.unwrap();
    h.assert_iam_is_empty().await;
}

#[tokio::test]
async fn a_retry_answered_entity_already_exists_after_a_lost_response_leaves_nothing() {
    // The SDK retries the 500; the retry finds the policy the first attempt made.
    let h = harness_with(RetryConfig::standard().with_max_attempts(2)).await;
    h.emu
        .faults()
        .inject(Fault::on("CreatePolicy").after_apply());
    let err = h
        .iam
        .create_scoped_key()
        .name("k")
        .bucket(bucket("ws-1"))
        .send()
        .await
        .unwrap_err();

    assert_eq!(h.emu.faults().count("CreatePolicy"), 2);
    assert_eq!(err.operation(), Some("CreatePolicy"));
    assert_eq!(err.code(), Some("EntityAlreadyExists"));
    assert!(err.leftovers().is_empty(), "{:?}", err.leftovers());
    h.assert_iam_is_empty().await;
}

#[tokio::test]
async fn an_attachment_whose_response_was_lost_is_detached_and_nothing_is_left() {
    let h = harness().await;
    h.emu.faults().inject(
        Fault::on("AttachUserPolicy")
            .after_apply()
            .status(500)
            .code("ServiceFailure"),
    );
    let err = h
        .iam
        .create_scoped_key()
        .name("ws-1-key")
        .bucket(bucket("ws-1"))
        .send()
        .await
        .unwrap_err();

    assert_eq!(err.operation(), Some("AttachUserPolicy"));
    assert_eq!(err.code(), Some("ServiceFailure"));
    assert!(err.leftovers().is_empty(), "{:?}", err.leftovers());
    assert!(
        err.to_string()
            .ends_with("; everything it created was removed"),
        "{err}"
    );
    assert_eq!(h.emu.faults().count("DetachUserPolicy"), 1);
    assert_eq!(h.emu.faults().count("DeletePolicy"), 1);
    assert_eq!(h.emu.faults().count("DeleteAccessKey"), 1);
    h.assert_iam_is_empty().await;
}

#[tokio::test]
async fn a_key_whose_creation_response_was_lost_is_named_as_a_leftover_with_its_id() {
    for lost in [
        Fault::on("CreateAccessKey").after_apply(),
        Fault::on("CreateAccessKey").after_apply().drop_connection(),
    ] {
        // Retries on: they must not make a second key that hides the first.
        let h = harness_with(RetryConfig::standard().with_max_attempts(3)).await;
        h.emu.faults().inject(lost);
        let err = h
            .iam
            .create_scoped_key()
            .name("k")
            .bucket(bucket("ws-1"))
            .send()
            .await
            .unwrap_err();

        assert_eq!(err.operation(), Some("CreateAccessKey"));
        assert_eq!(
            h.emu.faults().count("CreateAccessKey"),
            1,
            "never sent twice"
        );
        assert_eq!(h.emu.faults().count("CreatePolicy"), 0);
        let (keys, policies) = h.iam_contents().await;
        assert_eq!(keys.len(), 1, "the key the service made");
        assert_eq!(policies, Vec::<String>::new(), "with no policy");
        let [Leftover::MaybeAccessKey { candidates, .. }] = err.leftovers() else {
            panic!("one possible key: {:?}", err.leftovers())
        };
        assert_eq!(candidates, &keys, "the error names the key");
        assert!(err.to_string().contains(&keys[0]), "{err}");
        assert!(!err.is_retryable());
        // clean_up leaves it to the caller (a candidate may be someone else's), and says so.
        let kept = h.iam.clean_up(err.leftovers()).await.unwrap_err();
        assert_eq!(kept.kind(), ErrorKind::Conflict);
        assert_eq!(kept.leftovers(), err.leftovers());
        assert_eq!(h.iam_contents().await.0, keys);
    }
}

#[tokio::test]
async fn a_create_access_key_that_made_nothing_is_retried_after_checking() {
    // A 500 or a dropped connection before the key is made: the listing finds no new key, so
    // sending again is safe and the call succeeds with one key.
    for failed in [
        Fault::on("CreateAccessKey")
            .status(500)
            .code("ServiceFailure"),
        Fault::on("CreateAccessKey").drop_connection(),
        Fault::on("CreateAccessKey").status(503).code("SlowDown"),
    ] {
        let h = harness_with(RetryConfig::standard().with_max_attempts(3)).await;
        h.create_bucket("ws-1").await;
        h.emu.faults().inject(failed);
        let key = h.key("k", &["ws-1"], Role::Editor).await;
        assert_eq!(h.emu.faults().count("CreateAccessKey"), 2);
        assert_eq!(h.iam_contents().await.0, [key.access_key_id().to_owned()]);
    }
}

#[tokio::test]
async fn transient_failures_are_retried_by_the_sdk_config() {
    let h = harness_with(RetryConfig::standard().with_max_attempts(3)).await;
    h.create_bucket("ws-1").await;
    h.emu
        .faults()
        .fail_next("CreatePolicy", 1, 500, "ServiceFailure");
    let key = h.key("k", &["ws-1"], Role::Editor).await;

    assert_eq!(h.emu.faults().count("CreatePolicy"), 2);
    put(&h.s3_as(&key), "ws-1", "k").await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// Revoke

#[tokio::test]
async fn revoked_key_is_gone_and_denied() {
    let h = harness().await;
    h.create_bucket("ws-1").await;
    let key = h.key("k", &["ws-1"], Role::Editor).await;
    let s3 = h.s3_as(&key);
    put(&s3, "ws-1", "k").await.unwrap();

    h.iam.revoke(&key).await.unwrap();
    h.assert_iam_is_empty().await;
    let code = put(&s3, "ws-1", "k").await.unwrap_err();
    assert!(
        ["InvalidAccessKeyId", "AccessDenied"].contains(&code.as_str()),
        "{code}"
    );
}

#[tokio::test]
async fn revoking_twice_is_fine() {
    let h = harness().await;
    let key = h.key("k", &["ws-1"], Role::ReadOnly).await;

    h.iam.revoke(&key).await.unwrap();
    h.iam.revoke(&key).await.unwrap();
    h.assert_iam_is_empty().await;
}

#[tokio::test]
async fn revoking_after_the_key_was_deleted_by_hand_is_fine() {
    let h = harness().await;
    let key = h.key("k", &["ws-1"], Role::ReadOnly).await;
    h.iam
        .client()
        .delete_access_key()
        .access_key_id(key.access_key_id())
        .send()
        .await
        .unwrap();

    h.iam.revoke(&key).await.unwrap();
    h.assert_iam_is_empty().await;
}

#[tokio::test]
async fn revoking_after_the_policy_was_detached_by_hand_is_fine() {
    let h = harness().await;
    let key = h.key("k", &["ws-1"], Role::ReadOnly).await;
    h.iam
        .client()
        .detach_user_policy()
        .user_name(key.access_key_id())
        .policy_arn(key.policy_arn())
        .send()
        .await
        .unwrap();

    h.iam
        .revoke_ids(key.access_key_id(), key.policy_arn())
        .await
        .unwrap();
    h.assert_iam_is_empty().await;
}

#[tokio::test]
async fn revoke_attempts_every_step_and_reports_what_remains() {
    let h = harness().await;
    let key = h.key("k", &["ws-1"], Role::ReadOnly).await;
    h.emu
        .faults()
        .fail_next("DeletePolicy", 1, 500, "ServiceFailure");

    let err = h.iam.revoke(&key).await.unwrap_err();
    assert_eq!(err.operation(), Some("DeletePolicy"));
    assert_eq!(err.code(), Some("ServiceFailure"));
    assert_eq!(
        err.leftovers(),
        [Leftover::Policy {
            arn: key.policy_arn().to_owned()
        }]
    );
    assert_eq!(
        h.iam_contents().await,
        (Vec::new(), vec![key.policy_arn().to_owned()]),
        "the key was still deleted"
    );

    h.iam.revoke(&key).await.unwrap();
    h.assert_iam_is_empty().await;
}
