//! Pulling a bucket into a local directory through bundles, against the emulator.

mod common;

use common::Env;
use tigris_agent_kit::{ErrorKind, Step};
use tigris_emulator::Fault;

fn temp_dir(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("agent-kit-pull-{name}-{}", std::process::id()))
}

#[tokio::test]
async fn a_prefix_lands_in_the_directory_through_several_bundles() {
    let env = Env::start().await;
    env.s3
        .create_bucket()
        .bucket("workspace")
        .send()
        .await
        .unwrap();
    let keys: Vec<String> = (0..35).map(|i| format!("src/{i:05}.txt")).collect();
    for key in &keys {
        env.put("workspace", key, "x").await;
    }
    env.put("workspace", "other/ignored.txt", "no").await;
    env.put("workspace", "src/../../escape.txt", "no").await;
    let dir = temp_dir("prefix");
    let report = env
        .kit
        .pull()
        .bucket("workspace")
        .destination(&dir)
        .prefix("src/")
        .batch_size(10)
        .concurrency(2)
        .send()
        .await
        .unwrap();
    assert_eq!(report.files, 35);
    assert_eq!(report.unsafe_keys, ["src/../../escape.txt"]);
    assert!(report.skipped.is_empty());
    assert_eq!(
        std::fs::read(dir.join("src").join("00034.txt")).unwrap(),
        b"x"
    );
    assert!(!dir.join("other").exists());
    assert!(!dir.parent().unwrap().join("escape.txt").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_failed_bundle_is_the_bundle_step_and_a_bad_name_sends_nothing() {
    let env = Env::start().await;
    env.s3
        .create_bucket()
        .bucket("workspace")
        .send()
        .await
        .unwrap();
    env.put("workspace", "a.txt", "a").await;
    env.emu
        .faults()
        .inject(Fault::on("Bundle").status(503).code("SlowDown").times(5));
    let dir = temp_dir("fail");
    let err = env
        .kit
        .pull()
        .bucket("workspace")
        .destination(&dir)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.step(), Some(Step::Bundle), "{err}");
    let before = env.requests();
    let err = env
        .kit
        .pull()
        .bucket("Not_A_Bucket")
        .destination(&dir)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(env.requests(), before);
    std::fs::remove_dir_all(&dir).ok();
}
