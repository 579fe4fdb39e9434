//! Keys with bucket roles (Tigris's `CreateAccessKeyWithBucketsRole`) against the in-process
//! emulator: signed for `s3` and verified, roles enforced on S3, failures leave nothing unnamed.

use aws_sdk_s3::primitives::ByteStream;
use aws_types::sdk_config::RetryConfig;
use tigris_emulator::{Emulator, Fault};
use tigris_iam::{BucketName, ErrorKind, KeyWithBucketRoles, Leftover, Role, TigrisIam};
use tigris_test_support::{root_credentials, root_sdk_config};

struct Harness {
    emu: Emulator,
    iam: TigrisIam,
    root_s3: aws_sdk_s3::Client,
}

/// Retries off, so one injected fault is one failed request.
async fn harness() -> Harness {
    let emu = Emulator::start().await.unwrap();
    let iam = TigrisIam::builder(&root_sdk_config(&emu, RetryConfig::disabled()))
        .endpoint_url(emu.endpoint())
        .build();
    let root_s3 = tigris_test_support::s3_signed_as(&emu, root_credentials(&emu));
    for name in ["edit-me", "read-me", "not-mine"] {
        root_s3.create_bucket().bucket(name).send().await.unwrap();
    }
    Harness { emu, iam, root_s3 }
}

fn bucket(name: &str) -> BucketName {
    name.parse().unwrap()
}

impl Harness {
    /// Creates a key named `name` with `role` on the one bucket `on`.
    async fn create(
        &self,
        name: &str,
        on: &str,
        role: Role,
    ) -> Result<KeyWithBucketRoles, tigris_iam::Error> {
        self.iam
            .create_key_with_bucket_roles()
            .name(name)
            .bucket_role(bucket(on), role)
            .send()
            .await
    }

    /// The access key ids IAM holds.
    async fn keys(&self) -> Vec<String> {
        self.iam
            .client()
            .list_access_keys()
            .send()
            .await
            .unwrap()
            .access_key_metadata()
            .iter()
            .filter_map(|k| k.access_key_id().map(str::to_owned))
            .collect()
    }
}

async fn put(s3: &aws_sdk_s3::Client, bucket: &str) -> bool {
    s3.put_object()
        .bucket(bucket)
        .key("k")
        .body(ByteStream::from_static(b"v"))
        .send()
        .await
        .is_ok()
}

async fn list(s3: &aws_sdk_s3::Client, bucket: &str) -> bool {
    s3.list_objects_v2().bucket(bucket).send().await.is_ok()
}

#[tokio::test]
async fn each_bucket_gets_its_own_role_and_no_other_bucket_is_reachable() {
    let h = harness().await;
    let key = h
        .iam
        .create_key_with_bucket_roles()
        .name("agent")
        .bucket_role(bucket("edit-me"), Role::Editor)
        .bucket_role(bucket("read-me"), Role::ReadOnly)
        .send()
        .await
        .unwrap();
    assert_eq!(key.name(), "agent");
    assert_eq!(
        key.bucket_roles(),
        [
            (bucket("edit-me"), Role::Editor),
            (bucket("read-me"), Role::ReadOnly)
        ]
    );
    assert!(key.created_at().is_some());
    let s3 = tigris_test_support::s3_signed_as(&h.emu, key.to_credentials());
    assert!(put(&s3, "edit-me").await);
    assert!(list(&s3, "read-me").await);
    assert!(!put(&s3, "read-me").await, "ReadOnly may not write");
    assert!(!list(&s3, "not-mine").await, "no role, no access");
    assert!(list(&h.root_s3, "not-mine").await);
}

#[tokio::test]
async fn the_creation_is_one_request() {
    let h = harness().await;
    h.emu.faults().record();
    let _key = h.create("one-call", "edit-me", Role::Editor).await.unwrap();
    assert_eq!(
        h.emu.faults().recorded(),
        ["CreateAccessKeyWithBucketsRole"]
    );
}

#[tokio::test]
async fn delete_key_removes_the_key_and_its_roles_and_deleting_again_succeeds() {
    let h = harness().await;
    let key = h
        .create("short-lived", "edit-me", Role::Editor)
        .await
        .unwrap();
    h.iam.delete_key(key.access_key_id()).await.unwrap();
    assert!(h.keys().await.is_empty());
    let s3 = tigris_test_support::s3_signed_as(&h.emu, key.to_credentials());
    assert!(!put(&s3, "edit-me").await);
    h.iam.delete_key(key.access_key_id()).await.unwrap();
}

#[tokio::test]
async fn bad_input_sends_no_request() {
    let h = harness().await;
    h.emu.faults().record();
    let cases = [
        h.iam
            .create_key_with_bucket_roles()
            .bucket_role(bucket("edit-me"), Role::Editor),
        h.iam.create_key_with_bucket_roles().name("no roles"),
        h.iam.create_key_with_bucket_roles().name("no-roles"),
        h.iam
            .create_key_with_bucket_roles()
            .name("twice")
            .bucket_role(bucket("edit-me"), Role::Editor)
            .bucket_role(bucket("edit-me"), Role::ReadOnly),
    ];
    for case in cases {
        let err = case.send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(err.operation().is_none());
    }
    let err = h.iam.delete_key("").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        h.emu.faults().recorded().is_empty(),
        "no request of any kind: {:?}",
        h.emu.faults().recorded()
    );
}

#[tokio::test]
async fn a_refused_creation_leaves_nothing_and_names_the_action() {
    let h = harness().await;
    h.emu
        .faults()
        .fail_next("CreateAccessKeyWithBucketsRole", 1, 403, "AccessDenied");
    let err = h.create("k", "edit-me", Role::Editor).await.unwrap_err();
    assert_eq!(err.operation(), Some("CreateAccessKeyWithBucketsRole"));
    assert_eq!(err.kind(), ErrorKind::AccessDenied);
    assert!(err.leftovers().is_empty());
    assert_eq!(
        h.emu.faults().count("ListAccessKeys"),
        0,
        "no lookup needed"
    );
    assert!(h.keys().await.is_empty());
}

#[tokio::test]
async fn a_server_failure_before_applying_is_looked_up_and_retryable() {
    let h = harness().await;
    h.emu
        .faults()
        .fail_next("CreateAccessKeyWithBucketsRole", 1, 500, "InternalError");
    let err = h.create("k", "edit-me", Role::Editor).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert_eq!(
        h.emu.faults().count("ListAccessKeys"),
        1,
        "looked up by name"
    );
    assert!(err.leftovers().is_empty(), "{:?}", err.leftovers());
    assert!(err.is_retryable());
    assert!(h.keys().await.is_empty());
}

#[tokio::test]
async fn a_lost_answer_reports_the_created_key_by_name_and_clean_up_leaves_it_to_the_caller() {
    let h = harness().await;
    // A key of another name, made meanwhile: never a candidate.
    let other = h
        .create("someone-else", "read-me", Role::ReadOnly)
        .await
        .unwrap();
    h.emu.faults().inject(
        Fault::on("CreateAccessKeyWithBucketsRole")
            .after_apply()
            .drop_connection(),
    );
    let err = h.create("lost", "edit-me", Role::Editor).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert!(!err.is_retryable(), "a key may exist");
    let [Leftover::MaybeAccessKey { candidates, .. }] = err.leftovers() else {
        panic!("{:?}", err.leftovers());
    };
    let made: Vec<String> = h
        .keys()
        .await
        .into_iter()
        .filter(|id| id != other.access_key_id())
        .collect();
    assert_eq!(candidates, &made, "exactly the key the lost call made");
    assert!(err.to_string().contains(&made[0]), "{err}");
    let review = h.iam.clean_up(err.leftovers()).await.unwrap_err();
    assert_eq!(review.kind(), ErrorKind::Conflict);
    h.iam.delete_key(&made[0]).await.unwrap();
    assert_eq!(h.keys().await, [other.access_key_id().to_owned()]);
}

#[tokio::test]
async fn the_secret_is_never_shown() {
    let h = harness().await;
    let key = h.create("quiet", "edit-me", Role::Editor).await.unwrap();
    let secret = key.secret().expose_secret().to_owned();
    assert!(!format!("{key:?}").contains(&secret));
    assert!(!format!("{key:#?}").contains(&secret));
}
