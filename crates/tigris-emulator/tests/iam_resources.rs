//! IAM actions are authorized against the resources they act on (the user that owns an access
//! key, the policy ARN), as AWS IAM does, and at the emulator's clock.

use aws_sdk_iam::error::ProvideErrorMetadata;
use std::time::Duration;
use tigris_emulator::Emulator;

mod common;
use common::{client_with, iam, iam_with, scoped_key, setup_buckets};

const USER_ARN: &str = "arn:aws:iam::000000000000:user/";

fn code<E: ProvideErrorMetadata>(err: &E) -> Option<String> {
    err.code().map(str::to_owned)
}

#[tokio::test]
async fn a_deny_on_another_keys_user_arn_stops_deleting_that_key() {
    let emu = Emulator::start().await.unwrap();
    let root = iam(&emu);
    let victim = root.create_access_key().send().await.unwrap();
    let victim = victim.access_key().unwrap().access_key_id().to_owned();
    let doc = format!(
        r#"{{"Version":"2012-10-17","Statement":[
        {{"Effect":"Allow","Action":"iam:*","Resource":"*"}},
        {{"Effect":"Deny","Action":"iam:DeleteAccessKey","Resource":"{USER_ARN}{victim}"}}]}}"#
    );
    let (id, secret, _) = scoped_key(&emu, "admin-but", &doc).await;
    let err = iam_with(&emu, &id, &secret)
        .delete_access_key()
        .access_key_id(&victim)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code(&err).as_deref(), Some("AccessDenied"), "{err:?}");
    let listed = root.list_access_keys().send().await.unwrap();
    assert!(
        listed
            .access_key_metadata()
            .iter()
            .any(|k| k.access_key_id() == Some(victim.as_str())),
        "the denied delete went through"
    );
}

#[tokio::test]
async fn a_deny_on_its_own_user_arn_stops_a_key_attaching_policies_to_itself() {
    let emu = Emulator::start().await.unwrap();
    let root = iam(&emu);
    let admin = root
        .create_policy()
        .policy_name("admin")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let admin_arn = admin.policy().unwrap().arn().unwrap().to_owned();
    // The key's own id is needed in its policy, so the policy is attached after the key exists.
    let key = root.create_access_key().send().await.unwrap();
    let key = key.access_key().unwrap();
    let (id, secret) = (key.access_key_id(), key.secret_access_key());
    let doc = format!(
        r#"{{"Version":"2012-10-17","Statement":[
        {{"Effect":"Allow","Action":"iam:*","Resource":"*"}},
        {{"Effect":"Deny","Action":"iam:AttachUserPolicy","Resource":"{USER_ARN}{id}"}}]}}"#
    );
    let own = root
        .create_policy()
        .policy_name("own")
        .policy_document(doc)
        .send()
        .await
        .unwrap();
    root.attach_user_policy()
        .user_name(id)
        .policy_arn(own.policy().unwrap().arn().unwrap())
        .send()
        .await
        .unwrap();
    let err = iam_with(&emu, id, secret)
        .attach_user_policy()
        .user_name(id)
        .policy_arn(&admin_arn)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code(&err).as_deref(), Some("AccessDenied"), "{err:?}");
    let attached = root
        .list_attached_user_policies()
        .user_name(id)
        .send()
        .await
        .unwrap();
    assert_eq!(attached.attached_policies().len(), 1, "{attached:?}");
}

#[tokio::test]
async fn a_deny_on_a_policy_arn_stops_deleting_that_policy_only() {
    let emu = Emulator::start().await.unwrap();
    let root = iam(&emu);
    let mut arns = Vec::new();
    for name in ["guarded", "free"] {
        let p = root
            .create_policy()
            .policy_name(name)
            .policy_document(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
            )
            .send()
            .await
            .unwrap();
        arns.push(p.policy().unwrap().arn().unwrap().to_owned());
    }
    let doc = format!(
        r#"{{"Version":"2012-10-17","Statement":[
        {{"Effect":"Allow","Action":"iam:*","Resource":"*"}},
        {{"Effect":"Deny","Action":"iam:DeletePolicy","Resource":"{}"}}]}}"#,
        arns[0]
    );
    let (id, secret, _) = scoped_key(&emu, "pruner", &doc).await;
    let own = iam_with(&emu, &id, &secret);
    let err = own
        .delete_policy()
        .policy_arn(&arns[0])
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code(&err).as_deref(), Some("AccessDenied"), "{err:?}");
    own.delete_policy()
        .policy_arn(&arns[1])
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_policy_that_expires_stops_iam_and_s3_once_the_emulator_clock_passes_it() {
    let emu = Emulator::start().await.unwrap();
    setup_buckets(&emu).await;
    let until = time::OffsetDateTime::now_utc() + Duration::from_secs(3600);
    let until = until
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let doc = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["iam:ListPolicies","s3:GetObject"],
        "Resource":"*","Condition":{{"DateLessThan":{{"aws:CurrentTime":"{until}"}}}}}}]}}"#
    );
    let (id, secret, _) = scoped_key(&emu, "expiring", &doc).await;
    let (own_iam, own_s3) = (
        iam_with(&emu, &id, &secret),
        client_with(&emu, &id, &secret),
    );
    own_iam.list_policies().send().await.unwrap();
    let read = || own_s3.get_object().bucket("mine").key("seed.txt").send();
    read().await.unwrap();
    emu.advance_clock(Duration::from_secs(2 * 3600));
    let err = own_iam
        .list_policies()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(code(&err).as_deref(), Some("AccessDenied"), "{err:?}");
    let err = read().await.unwrap_err().into_service_error();
    assert_eq!(code(&err).as_deref(), Some("AccessDenied"), "{err:?}");
}

#[tokio::test]
async fn iam_creation_dates_follow_the_emulator_clock() {
    let emu = Emulator::start().await.unwrap();
    let root = iam(&emu);
    let year = Duration::from_secs(365 * 86_400);
    emu.advance_clock(year);
    let key = root.create_access_key().send().await.unwrap();
    let created = key.access_key().unwrap().create_date().unwrap();
    let policy = root
        .create_policy()
        .policy_name("later")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let policy_created = policy.policy().unwrap().create_date().unwrap();
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    for t in [created, policy_created] {
        assert!(
            t.secs() >= wall + year.as_secs() as i64 - 60,
            "created {t:?} is not on the advanced clock"
        );
    }
}
