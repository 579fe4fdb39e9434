//! The ready-made webhook receiver keeps memory bounded: a delivery that does not fit its queue
//! is pushed back with 503 (Tigris delivers again), never dropped and never buffered without
//! limit.

use tigris_notify::receiver::WebhookReceiver;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PAYLOAD: &str = r#"{"events":[{"eventVersion":"1","eventSource":"tigris","eventName":"OBJECT_CREATED_PUT","eventTime":"2023-05-15T10:30:00.000Z","bucket":"my-bucket","object":{"key":"k","size":1,"eTag":"x"}}]}"#;

/// POSTs one payload on its own connection and returns the status code.
async fn deliver(url: &str) -> u16 {
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST / HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{PAYLOAD}",
        PAYLOAD.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {answer:?}"))
}

#[tokio::test]
async fn a_full_queue_pushes_deliveries_back_until_events_are_taken() {
    let mut receiver = WebhookReceiver::bind_with_capacity("127.0.0.1:0".parse().unwrap(), None, 1)
        .await
        .unwrap();
    let url = receiver.url().to_owned();
    assert_eq!(deliver(&url).await, 204);
    assert_eq!(deliver(&url).await, 503, "the queue holds one event");
    assert_eq!(receiver.pushed_back(), 1);
    assert_eq!(receiver.next().await.unwrap().object().key(), "k");
    assert_eq!(
        deliver(&url).await,
        204,
        "room again once an event is taken"
    );
    assert!(receiver.try_next().is_some());
    assert!(receiver.try_next().is_none());
}
