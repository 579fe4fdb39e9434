//! Workspaces against the emulator: every step made to fail, and after each failure nothing is
//! left (or exactly the reported leftover is, for real).

mod common;

use std::error::Error as _;
use std::time::{Duration, SystemTime};

use aws_sdk_s3::config::retry::RetryConfig;
use common::{Env, put_with};
use tigris_agent_kit::{AgentKit, ErrorKind, Leftover, Role, Step};
use tigris_emulator::Fault;
use tigris_headers::TigrisClientExt;

#[tokio::test]
async fn a_workspace_gets_its_ttl_rule_and_credentials_and_teardown_removes_everything() {
    let env = Env::start().await;
    let expires = SystemTime::now() + Duration::from_secs(3600);
    let ws = env
        .kit
        .create_workspace()
        .bucket("ws-full")
        .ttl_days(7)
        .credentials(Role::Editor)
        .credentials_expire_at(expires)
        .send()
        .await
        .unwrap();

    assert!(ws.snapshots_enabled());
    let info = env.s3.bucket_info().bucket("ws-full").send().await.unwrap();
    assert!(info.snapshots_enabled(), "snapshots are on by default");
    let lifecycle = env
        .s3
        .get_bucket_lifecycle_configuration()
        .bucket("ws-full")
        .send()
        .await
        .unwrap();
    let [rule] = lifecycle.rules() else {
        panic!("one rule: {:?}", lifecycle.rules())
    };
    assert_eq!(rule.id(), Some(tigris_agent_kit::TTL_RULE_ID));
    assert_eq!(rule.status().as_str(), "Enabled");
    assert_eq!(rule.filter().and_then(|f| f.prefix()), Some(""));
    assert_eq!(rule.expiration().and_then(|e| e.days()), Some(7));

    let key = ws.credentials().expect("credentials were asked for");
    assert_eq!(key.buckets(), [ws.bucket().clone()]);
    assert_eq!(key.role(), Role::Editor);
    assert!(key.expires_at().is_some());
    let agent = env.s3_as(key);
    put_with(&agent, "ws-full", "notes.txt", "hello")
        .await
        .unwrap();

    ws.teardown().await.unwrap();
    env.assert_only(&[]).await;
    assert_eq!(
        put_with(&agent, "ws-full", "again.txt", "x").await,
        Err("InvalidAccessKeyId".to_owned()),
        "the revoked key is unknown"
    );
}

#[tokio::test]
async fn snapshots_can_be_turned_off() {
    let env = Env::start().await;
    let ws = env
        .kit
        .create_workspace()
        .bucket("ws-plain")
        .snapshots(false)
        .send()
        .await
        .unwrap();
    assert!(!ws.snapshots_enabled());
    assert!(ws.credentials().is_none());
    let info = env
        .s3
        .bucket_info()
        .bucket("ws-plain")
        .send()
        .await
        .unwrap();
    assert!(!info.snapshots_enabled());
    ws.teardown().await.unwrap();
}

#[tokio::test]
async fn a_failed_create_bucket_creates_nothing() {
    let env = Env::start().await;
    env.fail_next("CreateBucket", 503, "ServiceUnavailable");
    let err = env
        .kit
        .create_workspace()
        .bucket("ws-1")
        .ttl_days(1)
        .credentials(Role::Editor)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert_eq!(err.step(), Some(Step::CreateBucket));
    assert_eq!(err.code(), Some("ServiceUnavailable"));
    assert!(err.leftovers().is_empty());
    assert!(err.is_retryable());
    assert_eq!(
        env.emu.faults().count("HeadBucket"),
        1,
        "a 503 may come after the bucket was made: probed"
    );
    assert_eq!(env.emu.faults().count("DeleteBucket"), 0, "nothing to undo");
    assert_eq!(env.emu.faults().count("CreateAccessKey"), 0);
    env.assert_only(&[]).await;
}

// ---------------------------------------------------------------------------------------------
// A lost CreateBucket response: the bucket was made, the client saw an error

#[tokio::test]
async fn a_bucket_whose_creation_response_was_lost_is_deleted_again() {
    let env = Env::start().await;
    env.emu.faults().inject(
        Fault::on("CreateBucket")
            .after_apply()
            .status(500)
            .code("InternalError"),
    );
    let err = env
        .kit
        .create_workspace()
        .bucket("ws-lost")
        .ttl_days(1)
        .credentials(Role::Editor)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.step(), Some(Step::CreateBucket));
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert_eq!(err.code(), Some("InternalError"), "the original cause");
    assert!(err.leftovers().is_empty(), "{err}");
    assert!(err.is_retryable());
    assert_eq!(
        err.to_string(),
        "could not create workspace \"ws-lost\": creating the bucket failed (transient failure, \
         code InternalError); everything it created was removed"
    );
    assert_eq!(env.emu.faults().count("HeadBucket"), 1);
    assert_eq!(env.emu.faults().count("DeleteBucket"), 1);
    assert_eq!(env.emu.faults().count("CreateAccessKey"), 0);
    env.assert_only(&[]).await;
}

#[tokio::test]
async fn a_lost_creation_response_whose_rollback_fails_reports_the_bucket_really_there() {
    let env = Env::start().await;
    env.emu
        .faults()
        .inject(Fault::on("CreateBucket").after_apply());
    env.fail_next("DeleteBucket", 500, "InternalError");
    let err = env
        .kit
        .create_workspace()
        .bucket("ws-stuck")
        .credentials(Role::Editor)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.step(), Some(Step::CreateBucket));
    assert_eq!(err.code(), Some("InternalError"));
    assert_eq!(
        err.leftovers(),
        [Leftover::Bucket {
            bucket: "ws-stuck".parse().unwrap()
        }]
    );
    assert!(!err.is_retryable());
    assert!(
        err.to_string().ends_with("; left behind: bucket ws-stuck"),
        "{err}"
    );
    env.assert_only(&["ws-stuck"]).await;
}

#[tokio::test]
async fn a_lost_creation_response_that_cannot_be_probed_reports_the_bucket() {
    let env = Env::start().await;
    env.emu
        .faults()
        .inject(Fault::on("CreateBucket").after_apply());
    env.fail_next("HeadBucket", 500, "InternalError");
    let err = env
        .kit
        .create_workspace()
        .bucket("ws-unknown")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.step(), Some(Step::CreateBucket));
    assert_eq!(
        err.leftovers(),
        [Leftover::Bucket {
            bucket: "ws-unknown".parse().unwrap()
        }]
    );
    assert_eq!(
        env.emu.faults().count("DeleteBucket"),
        0,
        "not deleted unseen"
    );
    env.assert_only(&["ws-unknown"]).await;
}

#[tokio::test]
async fn with_sdk_retries_a_lost_response_answered_by_a_conflict_is_still_rolled_back() {
    let env = Env::start_with_retry(RetryConfig::standard().with_max_attempts(2), |b| b).await;
    // The first attempt makes the bucket and loses the response; the retry is told the bucket
    // exists.
    env.emu
        .faults()
        .inject(Fault::on("CreateBucket").after_apply());
    let err = env
        .kit
        .create_workspace()
        .bucket("ws-retried")
        .send()
        .await
        .unwrap_err();
    assert_eq!(env.emu.faults().count("CreateBucket"), 2);
    assert_eq!(err.step(), Some(Step::CreateBucket));
    assert_eq!(err.code(), Some("BucketAlreadyOwnedByYou"));
    assert!(err.leftovers().is_empty(), "{err}");
    assert!(
        err.to_string()
            .ends_with("; everything it created was removed"),
        "{err}"
    );
    env.assert_only(&[]).await;
}

#[tokio::test]
async fn a_throttled_create_bucket_is_not_probed() {
    let env = Env::start().await;
    env.fail_next("CreateBucket", 503, "SlowDown");
    let err = env
        .kit
        .create_workspace()
        .bucket("ws-slow")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert!(err.is_retryable());
    assert_eq!(
        env.emu.faults().count("HeadBucket"),
        0,
        "a throttled request was refused"
    );
    env.assert_only(&[]).await;
}

#[tokio::test]
async fn an_unreachable_endpoint_is_transient_and_leaves_nothing_to_report() {
    let env = Env::start().await;
    // Nothing listens on port 1 of loopback: the connection is refused, nothing was sent.
    let sdk = env
        .sdk
        .to_builder()
        .endpoint_url("http://127.0.0.1:1")
        .build();
    let kit = AgentKit::builder(&sdk)
        .iam_endpoint("http://127.0.0.1:1")
        .build()
        .unwrap();
    let err = kit
        .create_workspace()
        .bucket("ws-nowhere")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    assert_eq!(err.step(), Some(Step::CreateBucket));
    assert!(err.leftovers().is_empty(), "{err}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_failed_ttl_step_deletes_the_bucket_again() {
    let env = Env::start().await;
    env.fail_next("PutBucketLifecycleConfiguration", 500, "InternalError");
    let err = env
        .kit
        .create_workspace()
        .bucket("ws-1")
        .ttl_days(1)
        .credentials(Role::Editor)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.step(), Some(Step::PutLifecycle));
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert!(err.leftovers().is_empty());
    assert_eq!(
        err.to_string(),
        "could not create workspace \"ws-1\": setting the TTL lifecycle rule failed (transient \
         failure, code InternalError); everything it created was removed"
    );
    assert_eq!(env.emu.faults().count("DeleteBucket"), 1);
    assert_eq!(
        env.emu.faults().count("CreateAccessKey"),
        0,
        "credentials come after the TTL"
    );
    env.assert_only(&[]).await;
}

#[tokio::test]
async fn a_failure_at_any_credentials_step_deletes_the_bucket_and_every_iam_resource() {
    let env = Env::start().await;
    for (i, operation) in ["CreateAccessKey", "CreatePolicy", "AttachUserPolicy"]
        .into_iter()
        .enumerate()
    {
        env.fail_next(operation, 500, "ServiceFailure");
        let name = format!("ws-iam-{i}");
        let err = env
            .kit
            .create_workspace()
            .bucket(&name)
            .ttl_days(3)
            .credentials(Role::ReadOnly)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.step(), Some(Step::CreateCredentials), "{operation}");
        assert_eq!(err.kind(), ErrorKind::Transient, "{operation}");
        assert_eq!(err.code(), Some("ServiceFailure"), "{operation}");
        assert!(err.leftovers().is_empty(), "{operation}: {err}");
        assert_eq!(err.bucket(), Some(name.as_str()));
        let iam = err
            .source()
            .and_then(|s| s.downcast_ref::<tigris_iam::Error>())
            .expect("the IAM error is the source");
        assert_eq!(iam.operation(), Some(operation));
        env.assert_only(&[]).await;
    }
}

#[tokio::test]
async fn a_rollback_that_cannot_delete_the_bucket_reports_it_and_it_is_really_there() {
    let env = Env::start().await;
    env.fail_next("CreatePolicy", 500, "ServiceFailure");
    env.fail_next("DeleteBucket", 500, "InternalError");
    let err = env
        .kit
        .create_workspace()
        .bucket("ws-stuck")
        .credentials(Role::Editor)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.step(), Some(Step::CreateCredentials));
    assert_eq!(
        err.leftovers(),
        [Leftover::Bucket {
            bucket: "ws-stuck".parse().unwrap()
        }]
    );
    assert!(!err.is_retryable());
    assert!(
        err.to_string().ends_with("; left behind: bucket ws-stuck"),
        "{err}"
    );
    // The leftover is real, and the IAM side was rolled back completely.
    env.assert_only(&["ws-stuck"]).await;
}

#[tokio::test]
async fn iam_rollback_leftovers_are_reported_with_the_bucket_rollback() {
    let env = Env::start().await;
    env.fail_next("AttachUserPolicy", 500, "ServiceFailure");
    env.fail_next("DeletePolicy", 500, "ServiceFailure");
    let err = env
        .kit
        .create_workspace()
        .bucket("ws-half")
        .credentials(Role::Editor)
        .send()
        .await
        .unwrap_err();
    let [Leftover::Iam(tigris_iam::Leftover::Policy { arn })] = err.leftovers() else {
        panic!("one policy left: {:?}", err.leftovers());
    };
    assert_eq!(&env.policies().await, std::slice::from_ref(arn));
    assert_eq!(env.access_keys().await, Vec::<String>::new());
    assert_eq!(
        env.buckets().await,
        Vec::<String>::new(),
        "the bucket was deleted"
    );
}

#[tokio::test]
async fn an_existing_bucket_is_left_alone_when_the_name_is_taken() {
    let env = Env::start().await;
    env.base("taken").await;
    env.put("taken", "keep.txt", "precious").await;
    let err = env
        .kit
        .create_workspace()
        .bucket("taken")
        .credentials(Role::Editor)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(err.step(), Some(Step::CreateBucket));
    assert_eq!(
        env.emu.faults().count("HeadBucket"),
        0,
        "a conflict alone is not ambiguous"
    );
    assert_eq!(env.emu.faults().count("DeleteBucket"), 0);
    assert_eq!(
        env.get("taken", "keep.txt").await.as_deref(),
        Some("precious")
    );
    env.assert_only(&["taken"]).await;
}

#[tokio::test]
async fn teardown_twice_succeeds_both_times() {
    let env = Env::start().await;
    let ws = env
        .kit
        .create_workspace()
        .bucket("ws-twice")
        .credentials(Role::Editor)
        .send()
        .await
        .unwrap();
    env.put("ws-twice", "a.txt", "a").await;
    ws.teardown().await.unwrap();
    ws.teardown().await.unwrap();
    env.assert_only(&[]).await;
}

#[tokio::test]
async fn teardown_deletes_the_bucket_even_when_revoking_fails_and_reports_the_iam_leftover() {
    let env = Env::start().await;
    let ws = env
        .kit
        .create_workspace()
        .bucket("ws-revoke")
        .credentials(Role::Editor)
        .send()
        .await
        .unwrap();
    env.fail_next("DeletePolicy", 500, "ServiceFailure");
    let err = ws.teardown().await.unwrap_err();
    assert_eq!(err.failures().len(), 1, "{err}");
    assert_eq!(err.failures()[0].step(), Some(Step::RevokeCredentials));
    let key = ws.credentials().unwrap();
    assert_eq!(
        err.leftovers(),
        [Leftover::Iam(tigris_iam::Leftover::Policy {
            arn: key.policy_arn().to_owned()
        })]
    );
    assert_eq!(
        env.buckets().await,
        Vec::<String>::new(),
        "the bucket is gone"
    );
    assert_eq!(env.policies().await, [key.policy_arn().to_owned()]);

    // Again: what is gone counts as done, what is left is removed.
    ws.teardown().await.unwrap();
    env.assert_only(&[]).await;
}

#[tokio::test]
async fn a_bucket_that_cannot_be_deleted_is_a_failure_and_a_leftover() {
    let env = Env::start().await;
    let ws = env
        .kit
        .create_workspace()
        .bucket("ws-parent")
        .credentials(Role::Editor)
        .send()
        .await
        .unwrap();
    // A restore is a fork of the workspace: Tigris will not delete a bucket with forks.
    let checkpoint = env
        .kit
        .checkpoint()
        .bucket(ws.bucket())
        .send()
        .await
        .unwrap();
    let restored = env
        .kit
        .restore()
        .bucket(ws.bucket())
        .version(checkpoint.version())
        .send()
        .await
        .unwrap();
    let err = ws.teardown().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(err.code(), Some("BucketHasForks"));
    assert_eq!(err.failures()[0].step(), Some(Step::DeleteBucket));
    assert_eq!(
        err.leftovers(),
        [Leftover::Bucket {
            bucket: ws.bucket().clone()
        }]
    );
    assert_eq!(
        env.access_keys().await,
        Vec::<String>::new(),
        "revoked anyway"
    );

    env.s3
        .delete_bucket()
        .bucket(restored.as_str())
        .send()
        .await
        .unwrap();
    ws.teardown().await.unwrap();
    env.assert_only(&[]).await;
}

#[tokio::test]
async fn a_protected_bucket_is_kept_and_reported_with_its_credentials_revoked() {
    let env = Env::start().await;
    let ws = env
        .kit
        .create_workspace()
        .bucket("ws-protected")
        .credentials(Role::Editor)
        .send()
        .await
        .unwrap();
    env.put("ws-protected", "a.txt", "a").await;
    let tigris = tigris_api::Client::new(&env.sdk).unwrap();
    tigris
        .update_bucket()
        .bucket("ws-protected")
        .delete_protection(true)
        .send()
        .await
        .unwrap();
    // Teardown never turns protection off: that stays the owner's decision.
    let err = ws.teardown().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert_eq!(err.code(), Some("BucketProtected"));
    assert_eq!(err.failures()[0].step(), Some(Step::DeleteBucket));
    assert_eq!(
        err.leftovers(),
        [Leftover::Bucket {
            bucket: ws.bucket().clone()
        }]
    );
    assert_eq!(
        env.access_keys().await,
        Vec::<String>::new(),
        "revoked anyway"
    );
    assert_eq!(env.buckets().await, ["ws-protected"]);

    tigris
        .update_bucket()
        .bucket("ws-protected")
        .delete_protection(false)
        .send()
        .await
        .unwrap();
    ws.teardown().await.unwrap();
    env.assert_only(&[]).await;
}

#[tokio::test]
async fn invalid_input_is_rejected_before_any_request() {
    let env = Env::start().await;
    let past = SystemTime::now() - Duration::from_secs(1);
    let future = SystemTime::now() + Duration::from_secs(60);
    let cases = [
        env.kit.create_workspace().bucket("Not_A_Bucket"),
        env.kit.create_workspace().bucket("ab"),
        env.kit.create_workspace().bucket("a".repeat(64)),
        env.kit.create_workspace().bucket("ws-ttl").ttl_days(0),
        env.kit
            .create_workspace()
            .bucket("ws-ttl")
            .ttl_days(u32::MAX),
        env.kit
            .create_workspace()
            .bucket("ws-exp")
            .credentials(Role::Editor)
            .credentials_expire_at(past),
        env.kit
            .create_workspace()
            .bucket("ws-exp")
            .credentials_expire_at(future),
    ];
    for builder in cases {
        let shown = format!("{builder:?}");
        let err = builder.send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{shown}: {err}");
        assert!(err.step().is_none());
        assert!(err.to_string().contains("invalid input"), "{err}");
    }
    assert_eq!(env.requests(), 0, "no request was sent");
}

#[tokio::test]
async fn debug_output_never_contains_the_secret() {
    let env = Env::start().await;
    let ws = env
        .kit
        .create_workspace()
        .bucket("ws-debug")
        .credentials(Role::Editor)
        .send()
        .await
        .unwrap();
    let secret = ws
        .credentials()
        .unwrap()
        .secret()
        .expose_secret()
        .to_owned();
    assert!(!secret.is_empty());
    let root_secret = env.emu.root_credentials().secret_access_key().to_owned();
    for shown in [
        format!("{ws:?}"),
        format!("{ws:#?}"),
        format!("{:?}", env.kit),
        format!(
            "{:?}",
            env.kit
                .create_workspace()
                .bucket("x")
                .credentials(Role::Editor)
        ),
    ] {
        assert!(!shown.contains(&secret), "{shown}");
        assert!(!shown.contains(&root_secret), "{shown}");
    }
    ws.teardown().await.unwrap();
}

#[tokio::test]
async fn a_server_failure_on_a_taken_name_never_deletes_the_existing_buckets_data() {
    let env = Env::start().await;
    // A plain bucket with data already has the name; the server then fails the create before
    // acting (a 500 before apply). It looks like what the call would make, but it holds data.
    env.kit
        .s3()
        .create_bucket()
        .bucket("mine-already")
        .send()
        .await
        .unwrap();
    env.put("mine-already", "keep.txt", "precious").await;
    env.emu
        .faults()
        .inject(Fault::on("CreateBucket").status(500).code("InternalError"));
    let err = env
        .kit
        .create_workspace()
        .bucket("mine-already")
        .snapshots(false)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.step(), Some(Step::CreateBucket));
    assert!(err.leftovers().is_empty(), "{err}");
    assert_eq!(
        env.emu.faults().count("DeleteBucket"),
        0,
        "a bucket with data is never deleted"
    );
    assert_eq!(
        env.get("mine-already", "keep.txt").await.as_deref(),
        Some("precious")
    );
}
