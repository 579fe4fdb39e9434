//! Every parser of Tigris's answers takes any bytes, or any JSON, XML or tar shaped like the
//! answer (the bucket metadata's CORS, lifecycle and shadow blocks included), and returns a
//! value or a typed error: never a panic. So do the checks of caller input that parse it
//! (lifecycle dates, CORS and lifecycle rules): a value, or `InvalidInput`.

use proptest::prelude::*;
use serde_json::Value;

use crate::error::Operation;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        Just(Value::from("2026-01-02T03:04:05Z")),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("Buckets".to_owned()),
                    Just("Bucket".to_owned()),
                    Just("Name".to_owned()),
                    Just("ForkInfo".to_owned()),
                    Just("Parents".to_owned()),
                    Just("BucketName".to_owned()),
                    Just("Snapshot".to_owned()),
                    Just("ContinuationToken".to_owned()),
                    Just("Stats".to_owned()),
                    Just("SoftDeleteInfo".to_owned()),
                    Just("RetentionDays".to_owned()),
                    Just("regions".to_owned()),
                    Just("soft_delete".to_owned()),
                    prop::sample::select(RULE_KEYS).prop_map(str::to_owned),
                    ".{0,6}",
                ],
                inner,
                0..5,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The keys of the metadata's `cors`, `lifecycle_rules` and `shadow_bucket` blocks.
const RULE_KEYS: &[&str] = &[
    "cors",
    "rules",
    "allowedOrigin",
    "allowedMethods",
    "allowedHeaders",
    "exposeHeaders",
    "maxAge",
    "lifecycle_rules",
    "id",
    "status",
    "filter",
    "prefix",
    "expiration",
    "days",
    "date",
    "transitions",
    "storage_class",
    "shadow_bucket",
    "name",
    "endpoint",
    "region",
    "access_key",
    "secret_key",
    "write_through",
];

/// A metadata answer whose `cors`, `lifecycle_rules` and `shadow_bucket` hold rule-shaped
/// values (lists of objects with the rules' keys), or anything at all.
fn metadata_shaped() -> impl Strategy<Value = Value> {
    let rule = prop::collection::btree_map(
        prop::sample::select(RULE_KEYS).prop_map(str::to_owned),
        json_value(),
        0..6,
    )
    .prop_map(|m| Value::Object(m.into_iter().collect()))
    .boxed();
    let rules = prop_oneof![
        prop::collection::vec(rule.clone(), 0..4).prop_map(Value::from),
        json_value(),
    ]
    .boxed();
    (rules.clone(), rules, prop_oneof![rule, json_value()]).prop_map(|(cors, lifecycle, shadow)| {
        serde_json::json!({
            "cors": {"rules": cors},
            "lifecycle_rules": lifecycle,
            "shadow_bucket": shadow,
        })
    })
}

fn parse_all(body: &[u8]) {
    let bucket = || "b".to_owned();
    let _ = crate::list_forks::parse_page(body, &Operation::ListForks { bucket: bucket() });
    let _ = crate::list_buckets_detailed::parse_page(body, true, &Operation::ListBuckets);
    let _ = crate::bucket_metadata::BucketMetadata::parse(
        body,
        true,
        &Operation::BucketMetadata { bucket: bucket() },
    );
    let _ = crate::list_deleted_buckets::parse_deleted_page(body);
    let _ = crate::bundle::parse_report(body);
    let _ = crate::acl_xml::access_of(&String::from_utf8_lossy(body));
}

proptest! {
    #[test]
    fn any_bytes_never_panic_a_parser(body in prop::collection::vec(any::<u8>(), 0..512)) {
        parse_all(&body);
    }

    #[test]
    fn any_answer_shaped_json_never_panics_a_parser(value in json_value()) {
        parse_all(&serde_json::to_vec(&value).unwrap());
    }

    #[test]
    fn any_rule_shaped_metadata_never_panics_its_parser(value in metadata_shaped()) {
        parse_all(&serde_json::to_vec(&value).unwrap());
    }

    #[test]
    fn any_grant_shaped_acl_never_panics_its_parser(
        body in "(<AccessControlPolicy>)?(<Grant>(<URI>.{0,8}</URI>)?(<Permission>(READ|FULL_CONTROL|.{0,4})</Permission>)?(</Grant>)?){0,4}.{0,8}",
    ) {
        let _ = crate::acl_xml::access_of(&body);
    }
}

/// One tar header block with `name`, a size field of `size` (octal text, or raw bytes), and
/// `typeflag`, followed by `data`.
fn tar_member(name: &[u8], size: &[u8], typeflag: u8, ustar: bool, data: &[u8]) -> Vec<u8> {
    let mut block = vec![0u8; 512];
    let name = &name[..name.len().min(100)];
    block[..name.len()].copy_from_slice(name);
    let size = &size[..size.len().min(12)];
    block[124..124 + size.len()].copy_from_slice(size);
    block[156] = typeflag;
    if ustar {
        block[257..262].copy_from_slice(b"ustar");
    }
    block.extend_from_slice(data);
    block
}

fn tar_shaped() -> impl Strategy<Value = Vec<u8>> {
    let member = (
        prop::collection::vec(any::<u8>(), 0..40),
        prop_oneof![
            (0u64..2_000).prop_map(|n| format!("{n:o}").into_bytes()),
            Just(b"77777777777".to_vec()),
            Just(b"7777777777777777777777".to_vec()),
            prop::collection::vec(any::<u8>(), 0..12),
        ],
        prop_oneof![
            Just(b'0'),
            Just(0),
            Just(b'x'),
            Just(b'L'),
            Just(b'5'),
            any::<u8>()
        ],
        any::<bool>(),
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..1_200),
            Just(b"27 path=../../etc/passwd\n".to_vec()),
            Just(br#"{"skipped": [{"key": "a", "reason": "gone"}]}"#.to_vec()),
        ],
    )
        .prop_map(|(name, size, flag, ustar, data)| tar_member(&name, &size, flag, ustar, &data));
    (prop::collection::vec(member, 0..4), any::<bool>()).prop_map(|(members, end)| {
        let mut out = members.concat();
        if end {
            out.extend_from_slice(&[0u8; 1024]);
        }
        out
    })
}

/// Reads a whole bundle from `body` as a client does, every entry to its end.
fn read_bundle(body: Vec<u8>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    runtime.block_on(async move {
        let operation = Operation::Bundle {
            bucket: "b".into(),
            keys: 1,
        };
        let reader = Box::new(std::io::Cursor::new(body));
        let mut stream = crate::bundle::BundleStream::new(operation, reader);
        while let Ok(Some(mut entry)) = stream.next_entry().await {
            let _ = entry.key();
            let mut sink = Vec::new();
            if tokio::io::AsyncReadExt::read_to_end(&mut entry, &mut sink)
                .await
                .is_err()
            {
                break;
            }
        }
        let _ = stream.skipped();
    });
}

proptest! {
    #[test]
    fn any_bundle_body_reads_without_panicking(body in prop::collection::vec(any::<u8>(), 0..2_048)) {
        read_bundle(body);
    }

    #[test]
    fn any_tar_shaped_bundle_reads_without_panicking(body in tar_shaped()) {
        read_bundle(body);
    }

    #[test]
    fn any_bundle_error_body_gives_its_keys_without_panicking(
        body in prop_oneof![
            ".{0,200}",
            "(<MissingKeys>)?(<Key>.{0,8}(</Key>)?){0,4}(&(amp|lt|gt|quot|apos);)?.{0,8}",
        ],
    ) {
        let _ = crate::error::xml_keys(&body);
    }
}

proptest! {
    /// Caller input: any text as a lifecycle date, and any numbers as its parts, give a date
    /// or an `InvalidInput` error.
    #[test]
    fn any_lifecycle_date_input_is_a_date_or_invalid_input(
        text in prop_oneof![".{0,16}", "[0-9]{0,5}-[0-9]{0,3}-[0-9]{0,3}"],
        year in any::<i32>(),
        month in any::<u8>(),
        day in any::<u8>(),
    ) {
        use crate::set_lifecycle_rules::LifecycleDate;
        for parsed in [text.parse::<LifecycleDate>(), LifecycleDate::new(year, month, day)] {
            if let Err(err) = parsed {
                prop_assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
            }
        }
    }

    /// Caller input: any strings in a CORS rule or a lifecycle rule are accepted or refused
    /// with `InvalidInput` by `validate`.
    #[test]
    fn any_rule_input_is_valid_or_invalid_input(
        strings in prop::collection::vec(prop_oneof![".{0,12}", "[*a-z:/.]{0,12}"], 6),
        days in any::<u32>(),
        max_age in any::<u64>(),
    ) {
        use crate::set_cors::CorsRule;
        use crate::set_lifecycle_rules::{LifecycleRule, When};
        let cors = CorsRule::new()
            .allowed_origin(strings[0].clone())
            .allowed_methods([strings[1].clone()])
            .allowed_header(strings[2].clone())
            .expose_header(strings[3].clone())
            .max_age(std::time::Duration::from_secs(max_age));
        let lifecycle = LifecycleRule::new()
            .with_id(strings[4].clone())
            .prefix(strings[5].clone())
            .expiration(When::Days(days));
        for checked in [cors.validate(), lifecycle.validate()] {
            if let Err(err) = checked {
                prop_assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
            }
        }
    }
}
