//! The detailed bucket listing pages as the SDK's paginators do: more than one page, each
//! bucket once, page by page and item by item.

mod common;
use common::TestEnv;

#[tokio::test]
async fn the_detailed_listing_walks_every_page_and_every_bucket_once() {
    let env = TestEnv::start().await;
    for name in ["list-a", "list-b", "list-c", "list-d", "list-e"] {
        env.create_bucket(name).await;
    }
    let pages = env
        .api
        .list_buckets_detailed()
        .max_buckets(2)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .unwrap();
    let sizes: Vec<_> = pages.iter().map(|p| p.buckets.len()).collect();
    assert_eq!(sizes, [2, 2, 1]);
    let names: Vec<_> = env
        .api
        .list_buckets_detailed()
        .max_buckets(2)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.name().to_owned())
        .collect();
    assert_eq!(names, ["list-a", "list-b", "list-c", "list-d", "list-e"]);
}
