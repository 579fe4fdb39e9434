//! Coordination against the emulator: notifications set through the kit are delivered to a
//! receiver that uses the re-exported webhook types.

mod common;

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use common::Env;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tigris_agent_kit::{
    AgentKit, BucketName, ErrorKind, EventName, NotificationConfig, ObjectEvent, Step, WebhookAuth,
    WebhookPayload,
};
use tokio::sync::mpsc;

/// A webhook receiver on loopback: checks the `Authorization` header, parses the payload and
/// forwards the events.
async fn receiver(auth: WebhookAuth) -> (String, mpsc::UnboundedReceiver<ObjectEvent>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (tx, auth) = (tx.clone(), auth.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |request: http::Request<hyper::body::Incoming>| {
                        let (tx, auth) = (tx.clone(), auth.clone());
                        async move {
                            let status = if auth.verify(&request).is_err() {
                                401
                            } else {
                                let body = request.into_body().collect().await.unwrap().to_bytes();
                                for event in WebhookPayload::from_slice(&body).unwrap() {
                                    tx.send(event).ok();
                                }
                                204
                            };
                            let response = http::Response::builder()
                                .status(status)
                                .body(Full::new(Bytes::new()))
                                .unwrap();
                            Ok::<_, Infallible>(response)
                        }
                    },
                );
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await
                    .ok();
            });
        }
    });
    (url, rx)
}

async fn next(events: &mut mpsc::UnboundedReceiver<ObjectEvent>) -> ObjectEvent {
    tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .expect("an event within 10 s")
        .expect("the receiver runs")
}

#[tokio::test]
async fn events_of_a_workspace_reach_the_webhook_until_cleared() {
    let env = Env::start().await;
    let ws = env
        .kit
        .create_workspace()
        .bucket("ws-events")
        .send()
        .await
        .unwrap();
    let auth = WebhookAuth::bearer("a-long-random-token");
    let (url, mut events) = receiver(auth).await;
    let config = NotificationConfig::builder(url)
        .token("a-long-random-token")
        .build()
        .unwrap();
    env.kit.set_notifications(&ws, &config).await.unwrap();

    env.put("ws-events", "results/1.json", "{}").await;
    let event = next(&mut events).await;
    assert_eq!(event.name(), &EventName::ObjectCreatedPut);
    assert_eq!(event.bucket(), "ws-events");
    assert_eq!(event.object().key(), "results/1.json");

    // A second bucket still notifying the same webhook carries the marker that proves no
    // event for the cleared bucket is on its way (an event is emitted only while its bucket
    // notifies; the marker, put after the clear, arrives first).
    let marker = env
        .kit
        .create_workspace()
        .bucket("ws-events-marker")
        .send()
        .await
        .unwrap();
    env.kit.set_notifications(&marker, &config).await.unwrap();
    env.kit.clear_notifications(ws.bucket()).await.unwrap();
    env.put("ws-events", "results/2.json", "{}").await;
    env.put("ws-events-marker", "marker", "{}").await;
    let event = next(&mut events).await;
    assert_eq!(
        (event.bucket(), event.object().key()),
        ("ws-events-marker", "marker"),
        "no event after clearing: the marker comes next"
    );
    ws.teardown().await.unwrap();
    marker.teardown().await.unwrap();
}

#[tokio::test]
async fn an_unknown_bucket_is_not_found() {
    let env = Env::start().await;
    let config = NotificationConfig::builder("http://127.0.0.1:9/hook")
        .build()
        .unwrap();
    let bucket: BucketName = "nowhere".parse().unwrap();
    let err = env
        .kit
        .set_notifications(&bucket, &config)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.step(), Some(Step::SetNotifications));
    assert_eq!(err.bucket(), Some("nowhere"));
}

#[tokio::test]
async fn a_refused_update_is_reported_with_its_code() {
    let env = Env::start().await;
    let ws = env
        .kit
        .create_workspace()
        .bucket("ws-refused")
        .send()
        .await
        .unwrap();
    env.fail_next("PatchBucket", 403, "AccessDenied");
    let err = env.kit.clear_notifications(&ws).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AccessDenied);
    assert_eq!(err.code(), Some("AccessDenied"));
    assert_eq!(err.step(), Some(Step::ClearNotifications));
    ws.teardown().await.unwrap();
}

#[tokio::test]
async fn an_invalid_config_never_reaches_the_network() {
    let env = Env::start().await;
    async fn configure(kit: &AgentKit, url: &str) -> Result<(), tigris_agent_kit::Error> {
        let config = NotificationConfig::builder(url)
            .token("t")
            .username("u")
            .password("p")
            .build()?;
        kit.set_notifications(&"ws-x".parse::<BucketName>().unwrap(), &config)
            .await
    }
    for url in ["ftp://example.com/hook", "https://example.com/hook"] {
        let err = configure(&env.kit, url).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
    assert_eq!(env.requests(), 0);
}
