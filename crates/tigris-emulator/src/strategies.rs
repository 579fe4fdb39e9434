//! Proptest strategies shared by the no-panic tests of the parsers of client input.

use proptest::prelude::*;
use serde_json::Value;

/// Any JSON a client could send, a few levels deep. Object keys and strings are drawn from
/// `words` (the names and values the parser under test looks for) as often as from any text,
/// so generated values reach past the first check.
pub(crate) fn json(words: &'static [&'static str]) -> impl Strategy<Value = Value> {
    let word = move || {
        prop_oneof![
            prop::sample::select(words).prop_map(str::to_owned),
            any::<String>(),
        ]
    };
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        word().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(word(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
