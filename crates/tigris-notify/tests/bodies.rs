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

/// An HTTP client that counts the requests it is given and hands them to the default one.
#[derive(Debug, Clone)]
struct Counting {
    inner: aws_smithy_runtime_api::client::http::SharedHttpClient,
    seen: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

#[derive(Debug)]
struct CountingConnector {
    inner: aws_smithy_runtime_api::client::http::SharedHttpConnector,
    seen: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl aws_smithy_runtime_api::client::http::HttpConnector for CountingConnector {
    fn call(
        &self,
        request: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
    ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
        self.seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.call(request)
    }
}

impl aws_smithy_runtime_api::client::http::HttpClient for Counting {
    fn http_connector(
        &self,
        settings: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
        components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
    ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
        aws_smithy_runtime_api::client::http::SharedHttpConnector::new(CountingConnector {
            inner: self.inner.http_connector(settings, components),
            seen: std::sync::Arc::clone(&self.seen),
        })
    }
}

#[tokio::test]
async fn notifications_go_through_the_sdk_config_http_client() {
    let server = TestServer::start(|_, _| response(200, "{}")).await;
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sdk = sdk_config(&server.endpoint(), "AKIDTEST", "secret")
        .into_builder()
        .http_client(Counting {
            inner: tigris_core::default_http_client(),
            seen: std::sync::Arc::clone(&seen),
        })
        .build();
    let notifications = Notifications::new(SignedTransport::new(&sdk).unwrap());
    let bucket = "my-bucket".parse().unwrap();
    notifications.clear(&bucket).await.unwrap();
    notifications.clear(&bucket).await.unwrap();
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_eq!(server.requests().len(), 2);
}
