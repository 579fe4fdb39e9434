//! Every kit builder names its resources with setters; one left out is a typed error before
//! any request.

mod common;

use common::Env;
use tigris_agent_kit::{Error, ErrorKind};

/// Asserts that `result` is the error for the missing setter `setter`.
fn assert_missing<T: std::fmt::Debug>(result: Result<T, Error>, setter: &str) {
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(err.step().is_none(), "{err}");
    assert!(
        err.to_string()
            .ends_with(&format!("{setter} is required: set it with .{setter}(...)")),
        "{err}"
    );
}

#[tokio::test]
async fn a_builder_without_a_required_setter_fails_before_any_request() {
    let env = Env::start().await;
    let kit = &env.kit;
    let dir = std::env::temp_dir().join("tigris-kit-required-setters");

    assert_missing(kit.create_workspace().send().await, "bucket");
    assert_missing(kit.create_forks().count(2).send().await, "base");
    assert_missing(kit.create_forks().base("b").send().await, "count");
    assert_missing(kit.checkpoint().name("n").send().await, "bucket");
    assert_missing(kit.restore().version("1").send().await, "bucket");
    assert_missing(kit.restore().bucket("b").send().await, "version");
    assert_missing(kit.list_checkpoints().send().await, "bucket");
    assert_missing(kit.diff().send().await, "fork");
    assert_missing(kit.merge().send().await, "fork");
    assert_missing(kit.pull().destination(&dir).send().await, "bucket");
    assert_missing(kit.pull().bucket("b").send().await, "destination");
    assert_missing(kit.lease().key("k").acquire().await, "bucket");
    assert_missing(kit.lease().bucket("b").acquire().await, "key");
    assert_missing(kit.task_queue().prefix("q/").open(), "bucket");

    assert_eq!(env.requests(), 0, "no request was sent");
    assert!(!dir.exists(), "no directory was made");
}
