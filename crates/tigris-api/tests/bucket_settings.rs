//! Bucket settings, creation options and account views through this crate's builders, against
//! the emulator: what is set reads back, bad input sends nothing, delete protection holds.

use aws_sdk_s3::config::Credentials;
use aws_sdk_s3::primitives::ByteStream;
use tigris_api::ErrorKind;
use tigris_api::bucket_metadata::BucketType;
use tigris_api::update_bucket::SoftDeleteSetting;
use tigris_core::config;
use tigris_headers::bucket_settings::{Access, MultiRegion, Region, Regions, StorageClass};
use tigris_headers::prelude::*;

mod common;
use common::TestEnv;

fn transport(env: &TestEnv) -> tigris_api::Client {
    env.api.clone()
}

#[tokio::test]
async fn every_setting_sent_reads_back_through_bucket_metadata() {
    let env = TestEnv::start().await;
    env.s3
        .create_bucket()
        .bucket("assets")
        .send()
        .await
        .unwrap();
    let tigris = transport(&env);
    tigris
        .update_bucket()
        .bucket("assets")
        .regions(Regions::dual(Region::Iad, Region::Fra).unwrap())
        .storage_class(StorageClass::GlacierIr)
        .cache_control("max-age=3600")
        .access(Access::Public)
        .public_listing(true)
        .allow_object_acl(true)
        .custom_domain("cdn.example.com")
        .delete_protection(true)
        .additional_header("X-Content-Type-Options", "nosniff")
        .send()
        .await
        .unwrap();
    let m = tigris
        .bucket_metadata()
        .bucket("assets")
        .send()
        .await
        .unwrap();
    assert_eq!(m.regions(), ["iad", "fra"]);
    assert_eq!(m.storage_class(), Some("GLACIER_IR"));
    assert_eq!(m.cache_control(), Some("max-age=3600"));
    assert!(m.public_listing());
    assert!(m.allow_object_acl());
    assert_eq!(m.custom_domain(), Some("cdn.example.com"));
    assert!(m.delete_protection());
    assert_eq!(
        m.additional_headers(),
        [("X-Content-Type-Options".to_owned(), "nosniff".to_owned())]
    );
    let page = tigris.list_buckets_detailed().send().await.unwrap();
    assert_eq!(page.buckets[0].is_public(), Some(true));

    // A later update changes only what it sets.
    tigris
        .update_bucket()
        .bucket("assets")
        .regions(MultiRegion::Eur)
        .clear_additional_headers()
        .cache_control("")
        .send()
        .await
        .unwrap();
    let m = tigris
        .bucket_metadata()
        .bucket("assets")
        .send()
        .await
        .unwrap();
    assert_eq!(m.regions(), ["eur"]);
    assert!(m.additional_headers().is_empty());
    assert_eq!(m.cache_control(), None);
    assert_eq!(m.storage_class(), Some("GLACIER_IR"));
    assert!(m.delete_protection());
    tigris
        .update_bucket()
        .bucket("assets")
        .regions(Regions::Global)
        .send()
        .await
        .unwrap();
    assert!(
        tigris
            .bucket_metadata()
            .bucket("assets")
            .send()
            .await
            .unwrap()
            .regions()
            .is_empty()
    );
}

#[tokio::test]
async fn creation_options_place_the_bucket_and_set_its_class() {
    let env = TestEnv::start().await;
    env.s3
        .create_bucket()
        .bucket("archive")
        .regions(Regions::dual(Region::Iad, Region::Sjc).unwrap())
        .storage_class(StorageClass::StandardIa)
        .public_listing(false)
        .send()
        .await
        .unwrap();
    env.s3
        .create_bucket()
        .bucket("snaps")
        .enable_snapshots()
        .regions(Region::Syd)
        .send()
        .await
        .unwrap();
    env.s3
        .create_bucket()
        .bucket("world")
        .regions(Regions::Global)
        .send()
        .await
        .unwrap();
    let tigris = transport(&env);
    let m = tigris
        .bucket_metadata()
        .bucket("archive")
        .send()
        .await
        .unwrap();
    assert_eq!(m.regions(), ["iad", "sjc"]);
    assert_eq!(m.storage_class(), Some("STANDARD_IA"));
    let m = tigris
        .bucket_metadata()
        .bucket("snaps")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (m.regions(), m.snapshots_enabled()),
        (&["syd".to_owned()][..], true)
    );
    let page = tigris.list_buckets_detailed().send().await.unwrap();
    let names: Vec<&str> = page.buckets.iter().map(|b| b.name()).collect();
    assert_eq!(names, ["archive", "snaps", "world"]);
    assert_eq!(page.buckets[1].bucket_type(), Some(BucketType::Snapshot));
    assert_eq!(page.buckets[0].bucket_type(), Some(BucketType::Regular));
    assert!(page.buckets[2].regions().is_empty());
    assert_eq!(page.buckets[0].is_public(), Some(false));
}

#[tokio::test]
async fn bad_or_contradictory_settings_send_no_request() {
    let env = TestEnv::start().await;
    env.s3
        .create_bucket()
        .bucket("assets")
        .send()
        .await
        .unwrap();
    let tigris = transport(&env);
    let before = env.requests();
    let cases = [
        tigris.update_bucket().bucket("assets"),
        tigris.update_bucket().bucket("no"),
        tigris
            .update_bucket()
            .bucket("assets")
            .storage_class(StorageClass::Glacier)
            .storage_class(StorageClass::Standard),
        tigris
            .update_bucket()
            .bucket("assets")
            .access(Access::Public)
            .access(Access::Private),
        tigris
            .update_bucket()
            .bucket("assets")
            .regions(Region::Iad)
            .regions(MultiRegion::Usa),
        tigris
            .update_bucket()
            .bucket("assets")
            .cache_control("max-age=1\r\nX-Evil: 1"),
        tigris
            .update_bucket()
            .bucket("assets")
            .additional_header("Bad Name", "v"),
        tigris
            .update_bucket()
            .bucket("assets")
            .additional_header("X-A", "line\nbreak"),
        tigris
            .update_bucket()
            .bucket("assets")
            .additional_header("X-A", "1")
            .additional_header("X-A", "2"),
        tigris
            .update_bucket()
            .bucket("assets")
            .additional_header("X-A", "1")
            .clear_additional_headers(),
        tigris
            .update_bucket()
            .bucket("assets")
            .soft_delete(SoftDeleteSetting::Enabled { retention_days: 6 }),
        tigris
            .update_bucket()
            .bucket("assets")
            .soft_delete(SoftDeleteSetting::Enabled { retention_days: 91 }),
    ];
    for case in cases {
        let err = case.send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
    for max in [0, 10_001] {
        let err = tigris
            .list_buckets_detailed()
            .max_buckets(max)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
    assert_eq!(env.requests(), before, "nothing reached the emulator");
    assert_eq!(env.emu.faults().count("PatchBucket"), 0);
    // The same values set once are fine.
    tigris
        .update_bucket()
        .bucket("assets")
        .storage_class(StorageClass::Glacier)
        .storage_class(StorageClass::Glacier)
        .send()
        .await
        .unwrap();
    assert_eq!(env.emu.faults().count("PatchBucket"), 1);
}

#[tokio::test]
async fn names_that_are_not_regions_or_classes_do_not_parse() {
    assert_eq!("iad,sjc".parse::<Regions>().unwrap().to_string(), "iad,sjc");
    for bad in [
        "mars",
        "usa,eur",
        "usa,iad",
        "iad,iad",
        "iad,sjc,fra",
        "IAD",
    ] {
        assert!(bad.parse::<Regions>().is_err(), "{bad}");
    }
    assert!(Regions::dual(Region::Fra, Region::Fra).is_err());
    for class in StorageClass::ALL {
        assert_eq!(class.as_str().parse::<StorageClass>().unwrap(), *class);
    }
    let err = "COLD".parse::<StorageClass>().unwrap_err();
    assert!(err.to_string().contains("STANDARD_IA"), "{err}");
}

#[tokio::test]
async fn a_protected_bucket_refuses_force_delete_until_protection_is_off() {
    let env = TestEnv::start().await;
    env.s3.create_bucket().bucket("vault").send().await.unwrap();
    env.s3
        .put_object()
        .bucket("vault")
        .key("k")
        .body(ByteStream::from_static(b"v"))
        .send()
        .await
        .unwrap();
    let tigris = transport(&env);
    tigris
        .update_bucket()
        .bucket("vault")
        .delete_protection(true)
        .send()
        .await
        .unwrap();
    let err = env
        .s3
        .delete_bucket()
        .bucket("vault")
        .force_delete()
        .send()
        .await
        .unwrap_err();
    let classified = tigris_core::error::Classified::from_sdk(&err);
    assert_eq!(classified.code(), Some("BucketProtected"));
    assert_eq!(classified.kind(), ErrorKind::Conflict);
    assert!(
        tigris
            .bucket_metadata()
            .bucket("vault")
            .send()
            .await
            .is_ok()
    );
    tigris
        .update_bucket()
        .bucket("vault")
        .delete_protection(false)
        .send()
        .await
        .unwrap();
    env.s3
        .delete_bucket()
        .bucket("vault")
        .force_delete()
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn account_stats_sum_every_page_of_the_listing() {
    let env = TestEnv::start().await;
    // 51 buckets: two pages of 50.
    for i in 0..51 {
        let bucket = format!("bucket-{i:02}");
        env.s3.create_bucket().bucket(&bucket).send().await.unwrap();
        env.s3
            .put_object()
            .bucket(&bucket)
            .key("k")
            .body(ByteStream::from(vec![0u8; i + 1]))
            .send()
            .await
            .unwrap();
    }
    let tigris = transport(&env);
    let before = env.emu.faults().count("ListBuckets");
    let stats = tigris.account_stats().send().await.unwrap();
    assert_eq!(env.emu.faults().count("ListBuckets") - before, 2);
    assert_eq!(stats.active_buckets, 51);
    assert_eq!(stats.total_unique_objects, 51);
    assert_eq!(stats.total_objects, 51);
    assert_eq!(stats.total_storage_bytes, (1..=51).sum::<u64>());
    let first = tigris
        .list_buckets_detailed()
        .max_buckets(50)
        .send()
        .await
        .unwrap();
    assert_eq!(first.buckets.len(), 50);
    let rest = tigris
        .list_buckets_detailed()
        .continuation_token(first.continuation_token.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.buckets[0].name(), "bucket-50");
    assert_eq!(rest.continuation_token, None);
}

#[tokio::test]
async fn forks_in_the_listing_carry_their_lineage() {
    let env = TestEnv::start().await;
    env.s3
        .create_bucket()
        .bucket("base")
        .enable_snapshots()
        .send()
        .await
        .unwrap();
    env.s3
        .create_bucket()
        .bucket("base-exp")
        .fork_of(&"base".parse().unwrap())
        .send()
        .await
        .unwrap();
    let tigris = transport(&env);
    let page = tigris
        .list_buckets_detailed()
        .only_forks()
        .send()
        .await
        .unwrap();
    assert_eq!(page.buckets.len(), 1);
    assert_eq!(page.buckets[0].fork_parents()[0].bucket().as_str(), "base");
    let all = tigris.list_buckets_detailed().send().await.unwrap();
    assert!(all.buckets[0].has_children());
}

#[tokio::test]
async fn a_key_without_settings_rights_is_refused() {
    let env = tigris_test_support::TestEnv::start().await;
    env.s3
        .create_bucket()
        .bucket("shared")
        .send()
        .await
        .unwrap();
    let key = env.iam.create_access_key().send().await.unwrap();
    let key = key.access_key().unwrap();
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
        "Action":["s3:GetObject","s3:PutObject","s3:ListBucket","s3:PutBucketAcl"],
        "Resource":["arn:aws:s3:::shared","arn:aws:s3:::shared/*"]}]}"#;
    let policy = env
        .iam
        .create_policy()
        .policy_name("objects-only")
        .policy_document(doc)
        .send()
        .await
        .unwrap();
    env.iam
        .attach_user_policy()
        .user_name(key.access_key_id())
        .policy_arn(policy.policy().unwrap().arn().unwrap())
        .send()
        .await
        .unwrap();
    let sdk = config::builder()
        .endpoint_url(env.emu.endpoint())
        .credentials(Credentials::new(
            key.access_key_id(),
            key.secret_access_key(),
            None,
            None,
            "test",
        ))
        .build();
    let tigris = tigris_api::Client::new(&sdk).unwrap();
    for update in [
        tigris
            .update_bucket()
            .bucket("shared")
            .delete_protection(true),
        tigris
            .update_bucket()
            .bucket("shared")
            .storage_class(StorageClass::Glacier),
        tigris
            .update_bucket()
            .bucket("shared")
            .custom_domain("a.example.com"),
    ] {
        let err = update.send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AccessDenied, "{err}");
    }
    tigris
        .update_bucket()
        .bucket("shared")
        .allow_object_acl(true)
        .send()
        .await
        .unwrap();
    let err = tigris.list_buckets_detailed().send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AccessDenied, "{err}");
    let root = tigris_api::Client::new(&env.sdk).unwrap();
    let m = root
        .bucket_metadata()
        .bucket("shared")
        .send()
        .await
        .unwrap();
    assert!(!m.delete_protection());
    assert!(m.allow_object_acl());
}

/// What the released clients send, byte for byte as in their 0.8.0 / 3.21.0 sources, is what
/// this crate reads back: the wire shapes agree.
#[tokio::test]
async fn settings_sent_as_the_released_clients_send_them_read_back_here() {
    use http::{HeaderName, HeaderValue, Method};
    use tigris_core::transport::TigrisRequest;
    let env = TestEnv::start().await;
    env.s3
        .create_bucket()
        .bucket("shared")
        .send()
        .await
        .unwrap();
    let tigris = transport(&env);
    let patch = |headers: &[(&'static str, &'static str)], body: &str| {
        let mut request = TigrisRequest::new(Method::PATCH)
            .bucket("shared".parse().unwrap())
            .json(body.to_owned());
        for (name, value) in headers {
            request = request.header(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        request
    };
    // tigris-boto3-ext update_bucket(access="public", public_list_objects=True,
    // allow_object_acl=True, default_storage_class="STANDARD_IA", regions=["iad", "sjc"],
    // cache_control="max-age=60", custom_domain="cdn.example.com", nosniff=True).
    let python = patch(
        &[
            ("x-amz-acl", "public-read"),
            ("x-amz-acl-public-list-objects-enabled", "true"),
        ],
        r#"{"acl_settings": {"allow_object_acl": true}, "storage_class": "STANDARD_IA", "object_regions": "iad,sjc", "cache_control": "max-age=60", "website": {"domain_name": "cdn.example.com"}, "additional_http_headers": {"X-Content-Type-Options": "nosniff"}}"#,
    );
    tigris.transport().send(&python).await.unwrap();
    let m = tigris
        .bucket_metadata()
        .bucket("shared")
        .send()
        .await
        .unwrap();
    assert_eq!(m.regions(), ["iad", "sjc"]);
    assert_eq!(m.storage_class(), Some("STANDARD_IA"));
    assert_eq!(m.cache_control(), Some("max-age=60"));
    assert_eq!(m.custom_domain(), Some("cdn.example.com"));
    assert!(m.allow_object_acl() && m.public_listing());
    assert_eq!(m.additional_headers().len(), 1);
    let entry = &tigris.list_buckets_detailed().send().await.unwrap().buckets[0];
    assert_eq!(entry.is_public(), Some(true));
    assert_eq!(entry.regions(), ["iad", "sjc"]);

    // @tigrisdata/storage updateBucket({ access: 'private', disableDirectoryListing: true,
    // locations: { type: 'multi', values: 'usa' }, enableDeleteProtection: true,
    // enableAdditionalHeaders: false }).
    let node = patch(
        &[
            ("x-amz-acl", "private"),
            ("x-amz-acl-public-list-objects-enabled", "false"),
        ],
        r#"{"object_regions":"usa","protection":{"protected":true},"additional_http_headers":null}"#,
    );
    tigris.transport().send(&node).await.unwrap();
    let m = tigris
        .bucket_metadata()
        .bucket("shared")
        .send()
        .await
        .unwrap();
    assert_eq!(m.regions(), ["usa"]);
    assert!(m.delete_protection() && !m.public_listing());
    assert!(m.additional_headers().is_empty());
    assert_eq!(m.storage_class(), Some("STANDARD_IA"));
    let entry = &tigris.list_buckets_detailed().send().await.unwrap().buckets[0];
    assert_eq!(entry.is_public(), Some(false));
}

#[tokio::test]
async fn snapshots_can_be_turned_on_later_but_not_off_for_a_fork_parent() {
    let env = TestEnv::start().await;
    env.s3.create_bucket().bucket("later").send().await.unwrap();
    let tigris = transport(&env);
    tigris
        .update_bucket()
        .bucket("later")
        .snapshots_enabled(true)
        .send()
        .await
        .unwrap();
    assert!(
        env.s3
            .bucket_info()
            .bucket("later")
            .send()
            .await
            .unwrap()
            .snapshots_enabled()
    );
    env.s3
        .create_bucket()
        .bucket("later-fork")
        .fork_of(&"later".parse().unwrap())
        .send()
        .await
        .unwrap();
    let err = tigris
        .update_bucket()
        .bucket("later")
        .snapshots_enabled(false)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(
        tigris
            .bucket_metadata()
            .bucket("later")
            .send()
            .await
            .unwrap()
            .snapshots_enabled()
    );
}
