//! IAM parameters are validated as AWS validates them (`400 ValidationError`), and every value
//! the emulator echoes comes back through `aws-sdk-iam` exactly as it was sent.

use aws_sdk_iam::error::ProvideErrorMetadata;
use tigris_emulator::Emulator;

mod common;
use common::iam;

const DOCUMENT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;

fn code<E: ProvideErrorMetadata>(e: &E) -> Option<String> {
    e.code().map(str::to_owned)
}

/// Lists policies and returns their names: the listing must parse whatever was refused before.
async fn policy_names(iam: &aws_sdk_iam::Client) -> Vec<String> {
    iam.list_policies()
        .send()
        .await
        .expect("ListPolicies parses")
        .policies()
        .iter()
        .filter_map(|p| p.policy_name().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_description_with_xml_special_characters_comes_back_exactly() {
    let emu = Emulator::start().await.unwrap();
    let iam = iam(&emu);
    let description = "a & b <c> \"d\" 'e' ]]> &amp; tab\tand\r\nlines, caf\u{e9}";
    let created = iam
        .create_policy()
        .policy_name("special")
        .path("/team-a/x.y/")
        .description(description)
        .policy_document(DOCUMENT)
        .send()
        .await
        .unwrap();
    let created = created.policy().unwrap();
    assert_eq!(created.description(), Some(description));
    let arn = created.arn().unwrap();
    assert_eq!(arn, "arn:aws:iam::000000000000:policy/team-a/x.y/special");

    let got = iam.get_policy().policy_arn(arn).send().await.unwrap();
    assert_eq!(got.policy().unwrap().description(), Some(description));
    assert_eq!(got.policy().unwrap().path(), Some("/team-a/x.y/"));
    let listed = iam.list_policies().send().await.unwrap();
    let listed = listed
        .policies()
        .iter()
        .find(|p| p.arn() == Some(arn))
        .expect("listed");
    assert_eq!(listed.description(), Some(description));
    emu.shutdown().await;
}

#[tokio::test]
async fn an_error_echoing_a_control_character_still_parses() {
    let emu = Emulator::start().await.unwrap();
    let iam = iam(&emu);
    let err = iam
        .get_policy()
        .policy_arn("arn:aws:iam::000000000000:policy/\u{1}nope<&>")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("NoSuchEntity"), "{err:?}");
    emu.shutdown().await;
}

#[tokio::test]
async fn a_description_with_a_control_character_is_a_validation_error() {
    let emu = Emulator::start().await.unwrap();
    let iam = iam(&emu);
    for description in ["bell\u{1}", "nul\u{0}", "escape\u{1b}[0m", "euro \u{20ac}"] {
        let err = iam
            .create_policy()
            .policy_name("controlled")
            .description(description)
            .policy_document(DOCUMENT)
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            code(&err).as_deref(),
            Some("ValidationError"),
            "{description:?}: {err:?}"
        );
    }
    let err = iam
        .create_policy()
        .policy_name("long")
        .description("d".repeat(1001))
        .policy_document(DOCUMENT)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("ValidationError"));
    assert_eq!(policy_names(&iam).await, Vec::<String>::new());
    emu.shutdown().await;
}

#[tokio::test]
async fn a_malformed_path_is_a_validation_error() {
    let emu = Emulator::start().await.unwrap();
    let iam = iam(&emu);
    let long = format!("/{}/", "p".repeat(511));
    for path in [
        "",
        "team",
        "/team",
        "team/",
        "//",
        "/a//b/",
        "/sp ace/",
        "/bell\u{1}/",
        "/caf\u{e9}/",
        "/<x>/",
        &long,
    ] {
        let err = iam
            .create_policy()
            .policy_name("pathed")
            .path(path)
            .policy_document(DOCUMENT)
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            code(&err).as_deref(),
            Some("ValidationError"),
            "{path:?}: {err:?}"
        );
    }
    assert_eq!(policy_names(&iam).await, Vec::<String>::new());
    for (name, path) in [("root", "/"), ("nested", "/a/b-c/d_e.f,g+h@i=j/")] {
        iam.create_policy()
            .policy_name(name)
            .path(path)
            .policy_document(DOCUMENT)
            .send()
            .await
            .unwrap();
    }
    assert_eq!(policy_names(&iam).await.len(), 2);
    emu.shutdown().await;
}

#[tokio::test]
async fn names_and_arns_outside_the_iam_constraints_are_validation_errors() {
    let emu = Emulator::start().await.unwrap();
    let iam = iam(&emu);
    for name in ["", "sp ace", "caf\u{e9}", "a/b", &"n".repeat(129)] {
        let err = iam
            .create_policy()
            .policy_name(name)
            .policy_document(DOCUMENT)
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            code(&err).as_deref(),
            Some("ValidationError"),
            "{name:?}: {err:?}"
        );
    }
    let created = iam
        .create_policy()
        .policy_name("n".repeat(128))
        .policy_document(DOCUMENT)
        .send()
        .await
        .unwrap();
    let arn = created.policy().unwrap().arn().unwrap().to_owned();

    let key = iam.create_access_key().send().await.unwrap();
    let key_id = key.access_key().unwrap().access_key_id().to_owned();
    for user in ["sp ace", "caf\u{e9}", &"u".repeat(65)] {
        let err = iam
            .attach_user_policy()
            .user_name(user)
            .policy_arn(&arn)
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            code(&err).as_deref(),
            Some("ValidationError"),
            "{user:?}: {err:?}"
        );
    }
    let err = iam
        .attach_user_policy()
        .user_name(&key_id)
        .policy_arn("arn:aws:iam::short")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("ValidationError"));
    let err = iam
        .get_policy()
        .policy_arn(format!(
            "arn:aws:iam::000000000000:policy/{}",
            "n".repeat(2048)
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("ValidationError"));

    // Access key ids are the user names and stay within the constraint.
    iam.attach_user_policy()
        .user_name(&key_id)
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    let keys = iam
        .list_access_keys()
        .user_name(&key_id)
        .send()
        .await
        .unwrap();
    assert_eq!(keys.access_key_metadata().len(), 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_policy_over_the_size_quota_is_refused_and_white_space_does_not_count() {
    let emu = Emulator::start().await.unwrap();
    let iam = iam(&emu);
    let padded = |resource: &str, pad: usize| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject",{}"Resource":"arn:aws:s3:::{resource}"}}]}}"#,
            " ".repeat(pad)
        )
    };
    let base = padded("", 0).len();
    let too_big = padded(&"b".repeat(6145 - base), 0);
    assert_eq!(too_big.len(), 6145);
    let err = iam
        .create_policy()
        .policy_name("big")
        .policy_document(too_big)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err).as_deref(), Some("LimitExceeded"), "{err:?}");

    let spacious = padded(&"b".repeat(6144 - base), 10_000);
    iam.create_policy()
        .policy_name("spacious")
        .policy_document(spacious)
        .send()
        .await
        .unwrap();
    assert_eq!(policy_names(&iam).await, vec!["spacious".to_owned()]);
    emu.shutdown().await;
}
