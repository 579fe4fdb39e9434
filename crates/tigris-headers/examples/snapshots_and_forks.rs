//! Snapshots and forks, end to end, against an embedded emulator:
//! `cargo run -p tigris-headers --example snapshots_and_forks`.

use aws_sdk_s3::config::Credentials;
use aws_sdk_s3::primitives::ByteStream;
use tigris_core::config::{self, s3_client};
use tigris_headers::BucketName;
use tigris_headers::prelude::*;

async fn read(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    let body = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await?
        .body
        .collect()
        .await?;
    Ok(String::from_utf8_lossy(&body.into_bytes()).into_owned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emu = tigris_emulator::Emulator::start().await?;
    let root = emu.root_credentials();
    let sdk = config::builder()
        .endpoint_url(emu.endpoint())
        .credentials(Credentials::new(
            root.access_key_id(),
            root.secret_access_key(),
            None,
            None,
            "example",
        ))
        .build();
    let s3 = s3_client(&sdk);
    println!("emulator at {}", emu.endpoint());

    s3.create_bucket()
        .bucket("notes")
        .enable_snapshots()
        .send()
        .await?;
    s3.put_object()
        .bucket("notes")
        .key("plan.txt")
        .body(ByteStream::from_static(b"draft 1"))
        .send()
        .await?;
    let v1 = s3
        .create_snapshot()
        .bucket("notes")
        .name("first-draft")
        .send()
        .await?;
    println!("snapshot {v1} taken of notes");

    s3.put_object()
        .bucket("notes")
        .key("plan.txt")
        .body(ByteStream::from_static(b"draft 2"))
        .send()
        .await?;
    let old = s3
        .get_object()
        .bucket("notes")
        .key("plan.txt")
        .at_snapshot(&v1)
        .send()
        .await?;
    let old = String::from_utf8_lossy(&old.body.collect().await?.into_bytes()).into_owned();
    println!(
        "now: {:?}; at the snapshot: {old:?}",
        read(&s3, "notes", "plan.txt").await?
    );

    let notes: BucketName = "notes".parse()?;
    s3.create_bucket()
        .bucket("notes-experiment")
        .fork_of_snapshot(&notes, &v1)
        .send()
        .await?;
    s3.put_object()
        .bucket("notes-experiment")
        .key("plan.txt")
        .body(ByteStream::from_static(b"wild idea"))
        .send()
        .await?;
    println!(
        "fork of the snapshot reads {:?}; the parent still reads {:?}",
        read(&s3, "notes-experiment", "plan.txt").await?,
        read(&s3, "notes", "plan.txt").await?
    );
    let info = s3.bucket_info().bucket("notes-experiment").send().await?;
    println!(
        "notes-experiment: fork of {:?} at {:?}, snapshots enabled: {}",
        info.fork_parent().map(BucketName::as_str),
        info.fork_snapshot().map(ToString::to_string),
        info.snapshots_enabled()
    );

    for snapshot in s3
        .list_snapshots()
        .bucket("notes")
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await?
    {
        println!(
            "snapshot {} named {:?}",
            snapshot.version(),
            snapshot.name()
        );
    }
    s3.delete_bucket()
        .bucket("notes-experiment")
        .force_delete()
        .send()
        .await?;
    s3.delete_bucket()
        .bucket("notes")
        .force_delete()
        .send()
        .await?;
    println!("both buckets force-deleted");
    emu.shutdown().await;
    Ok(())
}
