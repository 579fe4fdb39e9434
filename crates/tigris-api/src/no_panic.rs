//! Every parser of Tigris's answers takes any bytes, or any JSON shaped like the answer, and
//! returns a value or a typed error: never a panic.

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
                    ".{0,6}",
                ],
                inner,
                0..5,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
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
}
