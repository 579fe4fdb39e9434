//! Webhook bodies come from the internet: parsing any bytes, or any JSON shaped like an event,
//! returns a payload or a typed error and never panics.

use proptest::prelude::*;
use tigris_notify::{ErrorKind, WebhookPayload};

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        ".{0,12}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("events".to_owned()),
                    Just("eventName".to_owned()),
                    Just("bucket".to_owned()),
                    Just("object".to_owned()),
                    Just("key".to_owned()),
                    Just("size".to_owned()),
                    Just("eventTime".to_owned()),
                    ".{0,6}",
                ],
                inner,
                0..5,
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn any_bytes_parse_or_are_invalid_input(body in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Err(err) = WebhookPayload::from_slice(&body) {
            prop_assert_eq!(err.kind(), ErrorKind::InvalidInput);
        }
    }

    #[test]
    fn any_event_shaped_json_parses_or_is_invalid_input(value in json_value()) {
        let body = serde_json::to_vec(&value).unwrap();
        if let Err(err) = WebhookPayload::from_slice(&body) {
            prop_assert_eq!(err.kind(), ErrorKind::InvalidInput);
        }
    }
}
