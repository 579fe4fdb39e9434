//! The shared set-up for this crate's tests: tigris-test-support's environment with the SDK's
//! standard retries (as a user has), a `tigris_api::Client` on it, and small S3 helpers.
#![allow(dead_code, unreachable_pub)]

use std::ops::Deref;

use aws_sdk_s3::config::retry::RetryConfig;
use tigris_headers::prelude::*;
use tigris_headers::{BucketName, SnapshotVersion};

pub(crate) struct TestEnv {
    env: tigris_test_support::TestEnv,
    /// The client under test, as root.
    pub(crate) api: tigris_api::Client,
}

impl Deref for TestEnv {
    type Target = tigris_test_support::TestEnv;

    fn deref(&self) -> &Self::Target {
        &self.env
    }
}

impl TestEnv {
    pub(crate) async fn start() -> Self {
        let env = tigris_test_support::TestEnv::builder()
            .retry(RetryConfig::standard())
            .start()
            .await;
        let api = tigris_api::Client::new(&env.sdk).expect("the API client builds");
        Self { env, api }
    }

    pub(crate) async fn create_snapshot_bucket(&self, bucket: &str) -> BucketName {
        self.s3
            .create_bucket()
            .bucket(bucket)
            .enable_snapshots()
            .send()
            .await
            .expect("create snapshot bucket");
        bucket.parse().expect("valid bucket name")
    }

    pub(crate) async fn snapshot(&self, bucket: &str) -> SnapshotVersion {
        self.s3
            .create_snapshot()
            .bucket(bucket)
            .send()
            .await
            .expect("create snapshot")
    }
}

/// An answer to [`raw`]: status, headers (names lower-cased) and body.
pub(crate) struct RawAnswer {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl RawAnswer {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request with no credentials (a browser, or `curl`), to a full `http://` URL.
pub(crate) async fn raw(
    method: &'static str,
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> RawAnswer {
    let url = url.to_owned();
    let extra: String = headers
        .iter()
        .map(|(n, v)| format!("{n}: {v}\r\n"))
        .collect();
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let rest = url.strip_prefix("http://").expect("the emulator serves plain http");
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let mut conn = std::net::TcpStream::connect(host).unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        conn.write_all(head.as_bytes()).unwrap();
        conn.write_all(&body).unwrap();
        let mut answer = Vec::new();
        conn.read_to_end(&mut answer).unwrap();
        let split = answer
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a complete head");
        let head = String::from_utf8_lossy(&answer[..split]).into_owned();
        let mut lines = head.lines();
        let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        RawAnswer {
            status,
            headers,
            body: answer[split + 4..].to_vec(),
        }
    })
    .await
    .unwrap()
}
