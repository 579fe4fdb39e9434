//! Notifications against a scripted local HTTP server: the documented request bodies.

mod common;

use common::{TestServer, response, sdk_config};
use http::Method;
use tigris_notify::{NotificationConfig, Notifications, SignedTransport};

#[tokio::test]
async fn notifications_set_and_clear_send_the_documented_bodies() {
    let server =
        TestServer::start(|_, _| response(200, r#"{"Bucket":"my-bucket","Update":"success"}"#))
            .await;
    let notifications = Notifications::new(
        SignedTransport::new(&sdk_config(&server.endpoint(), "AKIDTEST", "secret")).unwrap(),
    );
    let bucket = "my-bucket".parse().unwrap();
    let config = NotificationConfig::builder("https://hooks.example.com/t")
        .token("tok")
        .build()
        .unwrap();
    notifications.set(&bucket, &config).await.unwrap();
    notifications.clear(&bucket).await.unwrap();

    let requests = server.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.method == Method::PATCH && r.uri.path() == "/my-bucket")
    );
    let bodies: Vec<serde_json::Value> = requests
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(
        bodies,
        [
            serde_json::json!({"object_notifications": {"enabled": true, "web_hook": "https://hooks.example.com/t",
                                                        "filter": "", "auth": {"token": "tok"}}}),
            serde_json::json!({"object_notifications": {}}),
        ]
    );
}
