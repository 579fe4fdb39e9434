//! A Tigris webhook receiver on plain hyper: checks the `Authorization` header, prints the
//! events, and answers 2xx (handled), 400 (not an event payload) or 401 (bad credentials).
//!
//! ```text
//! TIGRIS_WEBHOOK_TOKEN=a-long-random-token cargo run -p tigris-notify --example webhook_receiver -- 127.0.0.1:8080
//! ```
//! Set `TIGRIS_WEBHOOK_USER` and `TIGRIS_WEBHOOK_PASSWORD` instead for basic auth. Then point a
//! bucket's notifications at `http://127.0.0.1:8080/` with the same secret
//! ([`tigris_notify::Notifications::set`]). Tigris retries anything but 2xx, so the receiver
//! answers 2xx only after it has handled the events.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tigris_notify::{WebhookAuth, WebhookPayload};

/// Webhook bodies are small JSON documents; refuse anything absurd.
const MAX_BODY_BYTES: usize = 1024 * 1024;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let auth = Arc::new(auth_from_env()?);
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    loop {
        let (socket, _) = listener.accept().await?;
        let auth = Arc::clone(&auth);
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |request| handle(Arc::clone(&auth), request));
            if let Err(err) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(socket), service)
                .await
            {
                eprintln!("connection error: {err}");
            }
        });
    }
}

fn auth_from_env() -> Result<WebhookAuth, &'static str> {
    let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
    match (
        var("TIGRIS_WEBHOOK_TOKEN"),
        var("TIGRIS_WEBHOOK_USER"),
        var("TIGRIS_WEBHOOK_PASSWORD"),
    ) {
        (Some(token), None, None) => Ok(WebhookAuth::bearer(token)),
        (None, Some(user), Some(password)) => Ok(WebhookAuth::basic(user, password)),
        _ => Err("set TIGRIS_WEBHOOK_TOKEN, or TIGRIS_WEBHOOK_USER and TIGRIS_WEBHOOK_PASSWORD"),
    }
}

async fn handle(
    auth: Arc<WebhookAuth>,
    request: http::Request<Incoming>,
) -> Result<http::Response<Full<Bytes>>, Infallible> {
    // Check credentials before reading the body, so strangers cannot make us buffer anything.
    if let Err(err) = auth.verify(&request) {
        eprintln!("rejected: {err}");
        return Ok(answer(http::StatusCode::UNAUTHORIZED));
    }
    if request.method() != http::Method::POST {
        return Ok(answer(http::StatusCode::METHOD_NOT_ALLOWED));
    }
    let body = match Limited::new(request.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Ok(answer(http::StatusCode::PAYLOAD_TOO_LARGE)),
    };
    match WebhookPayload::from_slice(&body) {
        Ok(payload) => {
            for event in payload {
                let object = event.object();
                println!(
                    "{} {} {}/{} ({} bytes)",
                    event.time(),
                    event.name(),
                    event.bucket(),
                    object.key(),
                    object.size()
                );
            }
            Ok(answer(http::StatusCode::NO_CONTENT))
        }
        Err(err) => {
            eprintln!("{err}");
            Ok(answer(http::StatusCode::BAD_REQUEST))
        }
    }
}

fn answer(status: http::StatusCode) -> http::Response<Full<Bytes>> {
    let mut response = http::Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}
