//! Bundles on the signed transport against the emulator: order, skip report, fail mode,
//! compression, writing to a directory safely, and a stream cut mid-entry.

use aws_sdk_s3::primitives::ByteStream;
use tigris_api::ErrorKind;
use tigris_api::bundle::{Compression, OnError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod common;
use common::TestEnv;

async fn env_with_objects() -> (TestEnv, tigris_api::Client, Vec<u8>) {
    let env = TestEnv::start().await;
    env.s3.create_bucket().bucket("data").send().await.unwrap();
    let big: Vec<u8> = (0..300_007u32).map(|i| (i % 253) as u8).collect();
    for (key, body) in [
        ("a.txt", b"alpha".to_vec()),
        ("dir/big.bin", big.clone()),
        ("../escape.txt", b"nope".to_vec()),
    ] {
        env.s3
            .put_object()
            .bucket("data")
            .key(key)
            .body(ByteStream::from(body))
            .send()
            .await
            .unwrap();
    }
    let tigris = tigris_api::Client::new(&env.sdk).unwrap();
    (env, tigris, big)
}

#[tokio::test]
async fn entries_stream_in_request_order_with_the_skipped_keys_reported() {
    let (_env, tigris, big) = env_with_objects().await;
    for compression in [Compression::None, Compression::Gzip, Compression::Zstd] {
        let mut bundle = tigris
            .bundle()
            .bucket("data")
            .keys(["dir/big.bin", "missing", "a.txt"])
            .compression(compression)
            .send()
            .await
            .unwrap();
        let mut got = Vec::new();
        while let Some(mut entry) = bundle.next_entry().await.unwrap() {
            let mut data = Vec::new();
            entry.read_to_end(&mut data).await.unwrap();
            assert_eq!(data.len() as u64, entry.size());
            got.push((entry.key().to_owned(), data));
        }
        assert_eq!(got.len(), 2, "{compression:?}");
        assert_eq!(got[0], ("dir/big.bin".to_owned(), big.clone()));
        assert_eq!(got[1], ("a.txt".to_owned(), b"alpha".to_vec()));
        let skipped: Vec<_> = bundle
            .skipped()
            .iter()
            .map(|s| (s.key.as_str(), s.reason.as_str()))
            .collect();
        assert_eq!(skipped, [("missing", "NoSuchKey")]);
        assert_eq!(bundle.counts(), (2, big.len() as u64 + 5));
    }
}

#[tokio::test]
async fn an_entry_left_unread_is_skipped_over() {
    let (_env, tigris, _) = env_with_objects().await;
    let mut bundle = tigris
        .bundle()
        .bucket("data")
        .keys(["dir/big.bin", "a.txt"])
        .send()
        .await
        .unwrap();
    let first = bundle.next_entry().await.unwrap().unwrap();
    assert_eq!(first.key(), "dir/big.bin");
    let mut second = bundle.next_entry().await.unwrap().unwrap();
    let mut text = String::new();
    second.read_to_string(&mut text).await.unwrap();
    assert_eq!((second.key(), text.as_str()), ("a.txt", "alpha"));
    assert!(bundle.next_entry().await.unwrap().is_none());
}

#[tokio::test]
async fn fail_mode_is_a_not_found_error_listing_the_missing_keys() {
    let (_env, tigris, _) = env_with_objects().await;
    let err = tigris
        .bundle()
        .bucket("data")
        .keys(["a.txt", "gone-1", "gone-2"])
        .on_error(OnError::Fail)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.code(), Some("BundleKeyNotFound"));
    assert_eq!(err.missing_keys(), ["gone-1", "gone-2"]);
}

#[tokio::test]
async fn bad_input_is_refused_before_any_request() {
    let (env, tigris, _) = env_with_objects().await;
    let before = env.requests();
    let too_many: Vec<String> = (0..5001).map(|i| format!("k{i}")).collect();
    for builder in [
        tigris.bundle().bucket("data"),
        tigris.bundle().bucket("data").keys(too_many),
        tigris.bundle().bucket("data").key(""),
        tigris.bundle().bucket("No_Such").key("a"),
        tigris
            .bundle()
            .bucket("data")
            .key("k".repeat(1024 * 1024))
            .keys(["k".repeat(4 * 1024 * 1024)]),
    ] {
        let err = builder.send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
    assert_eq!(env.requests(), before);
}

#[tokio::test]
async fn writing_to_a_directory_never_leaves_it() {
    let (_env, tigris, big) = env_with_objects().await;
    let dir = std::env::temp_dir().join(format!("bundle-test-{}", std::process::id()));
    let sandbox = dir.join("sandbox");
    let report = tigris
        .bundle()
        .bucket("data")
        .keys(["a.txt", "dir/big.bin", "../escape.txt", "missing"])
        .send()
        .await
        .unwrap()
        .write_to_dir(&sandbox)
        .await
        .unwrap();
    assert_eq!(report.unsafe_keys, ["../escape.txt"]);
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(std::fs::read(sandbox.join("a.txt")).unwrap(), b"alpha");
    assert_eq!(
        std::fs::read(sandbox.join("dir").join("big.bin")).unwrap(),
        big
    );
    assert!(!dir.join("escape.txt").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Reads one request (head and a Content-Length body) so the answer does not race it.
async fn read_request(sock: &mut tokio::net::TcpStream) {
    let mut seen = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let Ok(n) = sock.read(&mut chunk).await else {
            return;
        };
        if n == 0 {
            return;
        }
        seen.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&seen).to_ascii_lowercase();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if seen.len() >= end + 4 + length {
                return;
            }
        }
    }
}

/// A server that answers a bundle with the first `cut` bytes of a real tar and then closes the
/// connection, though its Content-Length promised more.
async fn cut_server(tar: Vec<u8>, cut: usize) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            read_request(&mut sock).await;
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\nContent-Length: {}\r\n\r\n",
                tar.len()
            );
            sock.write_all(head.as_bytes()).await.ok();
            sock.write_all(&tar[..cut]).await.ok();
            sock.shutdown().await.ok();
        }
    });
    endpoint
}

#[tokio::test]
async fn a_stream_cut_inside_an_entry_is_an_error_not_a_short_entry() {
    let (env, tigris, _) = env_with_objects().await;
    // A real tar from the emulator, replayed cut off by a server of our own.
    let _ = &tigris;
    let raw = raw_tar(&env).await;
    let endpoint = cut_server(raw.clone(), 100_000).await;
    let sdk = env.sdk.to_builder().endpoint_url(endpoint).build();
    let cut = tigris_api::Client::new(&sdk).unwrap();
    let mut bundle = cut
        .bundle()
        .bucket("data")
        .key("dir/big.bin")
        .send()
        .await
        .unwrap();
    let mut entry = bundle.next_entry().await.unwrap().unwrap();
    let mut data = Vec::new();
    let err = entry.read_to_end(&mut data).await.unwrap_err();
    assert!(
        data.len() < 300_007,
        "a short entry must not read as complete"
    );
    assert!(
        matches!(
            err.kind(),
            std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::Other
        ),
        "{err:?}"
    );
    // Cut inside a header: next_entry fails instead of answering "no more entries".
    let endpoint = cut_server(raw, 300).await;
    let sdk = env.sdk.to_builder().endpoint_url(endpoint).build();
    let cut = tigris_api::Client::new(&sdk).unwrap();
    let mut bundle = cut
        .bundle()
        .bucket("data")
        .key("dir/big.bin")
        .send()
        .await
        .unwrap();
    let err = bundle.next_entry().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
}

/// The emulator's raw tar answer for `dir/big.bin`.
async fn raw_tar(env: &TestEnv) -> Vec<u8> {
    let tigris = tigris_api::Client::new(&env.sdk).unwrap();
    let request = tigris_core::transport::TigrisRequest::new(http::Method::POST)
        .bucket("data".parse().unwrap())
        .query_param("bundle", "")
        .header(
            http::HeaderName::from_static("x-tigris-bundle-format"),
            http::HeaderValue::from_static("tar"),
        )
        .json(r#"{"keys":["dir/big.bin"]}"#);
    tigris
        .transport()
        .send(&request)
        .await
        .unwrap()
        .into_body()
        .to_vec()
}
