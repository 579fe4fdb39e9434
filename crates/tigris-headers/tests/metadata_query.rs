//! `X-Tigris-Query` on ListObjectsV2 against the emulator: filtering, ordering, pagination, and
//! local validation that sends nothing.

mod common;

use aws_sdk_s3::primitives::ByteStream;
use common::TestEnv;
use tigris_headers::ErrorKind;
use tigris_headers::prelude::*;
use tigris_headers::query::{MetadataQuery, QueryField};

async fn seed(env: &TestEnv) {
    env.create_bucket("media").await;
    for (key, content_type, size) in [
        ("a.png", "image/png", 30),
        ("b.txt", "text/plain", 10),
        ("c.png", "image/png", 20),
        ("d.jpg", "image/jpeg", 40),
        ("e.png", "image/png", 5),
    ] {
        env.s3
            .put_object()
            .bucket("media")
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(vec![b'x'; size]))
            .send()
            .await
            .unwrap();
    }
}

fn keys(out: &aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output) -> Vec<String> {
    out.contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_query_lists_only_matching_objects() {
    let env = TestEnv::start().await;
    seed(&env).await;
    let q = MetadataQuery::builder()
        .filter(QueryField::ContentType.is_in(["image/png", "image/jpeg"]))
        .filter(QueryField::ContentLength.ge(20_u64))
        .build()
        .unwrap();
    let out = env
        .s3
        .list_objects_v2()
        .bucket("media")
        .query(&q)
        .send()
        .await
        .unwrap();
    assert_eq!(keys(&out), ["a.png", "c.png", "d.jpg"]);

    // Grammatical, but only the server judges a value against its field's type.
    let raw: MetadataQuery = "WHERE `Last-Modified` > \"yesterday\"".parse().unwrap();
    let err = env
        .s3
        .list_objects_v2()
        .bucket("media")
        .query(&raw)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(400));
}

#[tokio::test]
async fn order_by_sorts_and_pages_follow_the_order() {
    let env = TestEnv::start().await;
    seed(&env).await;
    let q: MetadataQuery = "WHERE `Content-Type` = \"image/png\" ORDER BY `Content-Length` DESC"
        .parse()
        .unwrap();
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let out = env
            .s3
            .list_objects_v2()
            .bucket("media")
            .max_keys(2)
            .set_continuation_token(token)
            .query(&q)
            .send()
            .await
            .unwrap();
        seen.extend(keys(&out));
        token = out.next_continuation_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, ["a.png", "c.png", "e.png"]);
}

#[tokio::test]
async fn unordered_query_pages_by_key() {
    let env = TestEnv::start().await;
    seed(&env).await;
    let q = MetadataQuery::builder()
        .filter(QueryField::Key.ne("b.txt"))
        .build()
        .unwrap();
    let first = env
        .s3
        .list_objects_v2()
        .bucket("media")
        .max_keys(3)
        .query(&q)
        .send()
        .await
        .unwrap();
    assert_eq!(keys(&first), ["a.png", "c.png", "d.jpg"]);
    assert_eq!(first.is_truncated(), Some(true));
    let second = env
        .s3
        .list_objects_v2()
        .bucket("media")
        .max_keys(3)
        .continuation_token(first.next_continuation_token().unwrap())
        .query(&q)
        .send()
        .await
        .unwrap();
    assert_eq!(keys(&second), ["e.png"]);
    assert_eq!(second.is_truncated(), Some(false));
}

#[tokio::test]
async fn queries_outside_the_grammar_fail_before_any_request() {
    let env = TestEnv::start().await;
    let before = env.requests();
    for bad in [
        "",
        "   ",
        "WHERE `Size` > 1",
        "`key` = \"a\"",
        "WHERE `key` = \"a",
        "WHERE `key` =",
        "WHERE `key` REGEXP \"(\"",
        "WHERE `key` REGEXP 3",
        "WHERE `key` = \"a\" OR `key` = \"b\"",
        "WHERE `key` LIKE \"a%\"",
        "WHERE `key` IN (\"a\", \"b\"",
        "WHERE `key` NOT (\"a\")",
        "WHERE `Content-Length` ! 3",
        "WHERE `key` = \"a\" AND",
        "ORDER `key`",
        "ORDER BY `key` DESC `key`",
        "WHERE `key` = \"a\"; DROP",
    ] {
        let err = bad.parse::<MetadataQuery>().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}: {err}");
    }
    let err = MetadataQuery::builder().build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(env.requests(), before);
}
