//! A ready-made webhook endpoint: binds a local HTTP listener, checks each delivery's
//! `Authorization` header, parses the events, and hands them out as a stream.
//!
//! For coordinators and tests that run next to the agents. Behind a public endpoint, put it
//! behind TLS (a reverse proxy); Tigris calls the URL you configure.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::sync::{mpsc, watch};

use crate::webhook::{ObjectEvent, WebhookAuth, WebhookPayload};

/// Webhook bodies are small JSON documents.
const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Debug, Default)]
struct Counters {
    rejected: AtomicU64,
    pushed_back: AtomicU64,
}

/// A local webhook endpoint that yields the events Tigris delivers to it.
///
/// Deliveries with a wrong or missing `Authorization` get `401`, bodies that are not an event
/// payload `400`, and accepted ones `204` once their events are queued. Dropping the receiver
/// stops the listener.
///
/// ```no_run
/// # async fn _demo() -> Result<(), Box<dyn std::error::Error>> {
/// use tigris_notify::receiver::WebhookReceiver;
/// use tigris_notify::{NotificationConfig, WebhookAuth};
///
/// let mut receiver = WebhookReceiver::bind(
///     "127.0.0.1:0".parse()?,
///     Some(WebhookAuth::bearer("a-long-random-token")),
/// )
/// .await?;
/// let config = NotificationConfig::builder(receiver.url()).token("a-long-random-token").build()?;
/// // ... set `config` on a bucket, write to it ...
/// while let Some(event) = receiver.next().await {
///     println!("{} {}", event.name(), event.object().key());
/// }
/// # drop(config);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct WebhookReceiver {
    url: String,
    events: mpsc::Receiver<ObjectEvent>,
    counters: Arc<Counters>,
    stop: watch::Sender<bool>,
}

impl WebhookReceiver {
    /// Binds `addr` (use port 0 for any free port) and starts serving on the current Tokio
    /// runtime. With `auth`, every delivery must carry matching credentials.
    ///
    /// # Errors
    /// When the address cannot be bound.
    pub async fn bind(addr: SocketAddr, auth: Option<WebhookAuth>) -> std::io::Result<Self> {
        Self::bind_with_capacity(addr, auth, Self::DEFAULT_CAPACITY).await
    }

    /// How many events wait for [`next`](Self::next) by default before deliveries are pushed
    /// back.
    pub const DEFAULT_CAPACITY: usize = 1024;

    /// As [`bind`](Self::bind), holding at most `capacity` (at least 1) events not yet taken
    /// with [`next`](Self::next). A delivery that does not fit is answered `503` and counted in
    /// [`pushed_back`](Self::pushed_back): Tigris delivers again later, so nothing is lost and
    /// memory stays bounded however slow the consumer.
    ///
    /// # Errors
    /// When the address cannot be bound.
    pub async fn bind_with_capacity(
        addr: SocketAddr,
        auth: Option<WebhookAuth>,
        capacity: usize,
    ) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let url = format!("http://{}/", listener.local_addr()?);
        let (tx, events) = mpsc::channel(capacity.max(1));
        let (stop, stopped) = watch::channel(false);
        let counters = Arc::new(Counters::default());
        let state = Arc::new(State {
            auth,
            tx,
            counters: Arc::clone(&counters),
        });
        tokio::spawn(serve(listener, state, stopped));
        Ok(Self {
            url,
            events,
            counters,
            stop,
        })
    }

    /// The URL to configure as the bucket's webhook.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The next event; `None` once the listener has stopped and every event was taken.
    pub async fn next(&mut self) -> Option<ObjectEvent> {
        self.events.recv().await
    }

    /// An event if one is already queued.
    pub fn try_next(&mut self) -> Option<ObjectEvent> {
        self.events.try_recv().ok()
    }

    /// How many deliveries were refused (bad credentials or not an event payload).
    pub fn rejected(&self) -> u64 {
        self.counters.rejected.load(Ordering::Relaxed)
    }

    /// How many deliveries were answered `503` because the queue of untaken events was full.
    pub fn pushed_back(&self) -> u64 {
        self.counters.pushed_back.load(Ordering::Relaxed)
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        // No listener left means it already stopped.
        self.stop.send(true).ok();
    }
}

struct State {
    auth: Option<WebhookAuth>,
    tx: mpsc::Sender<ObjectEvent>,
    counters: Arc<Counters>,
}

async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<State>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let socket = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => socket,
                Err(err) => {
                    tracing::warn!(%err, "webhook receiver: accept failed");
                    continue;
                }
            },
            _ = stop.changed() => return,
        };
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(Arc::clone(&state), req));
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            if let Err(err) = builder
                .serve_connection(TokioIo::new(socket), service)
                .await
            {
                tracing::debug!(%err, "webhook receiver: connection ended with an error");
            }
        });
    }
}

fn answer(status: u16) -> http::Response<Full<Bytes>> {
    let mut resp = http::Response::new(Full::new(Bytes::new()));
    *resp.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    resp
}

async fn handle(
    state: Arc<State>,
    req: http::Request<Incoming>,
) -> Result<http::Response<Full<Bytes>>, Infallible> {
    if let Some(auth) = &state.auth
        && auth.verify(&req).is_err()
    {
        state.counters.rejected.fetch_add(1, Ordering::Relaxed);
        return Ok(answer(401));
    }
    let Ok(body) = Limited::new(req.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    else {
        state.counters.rejected.fetch_add(1, Ordering::Relaxed);
        return Ok(answer(400));
    };
    match WebhookPayload::from_slice(&body.to_bytes()) {
        Ok(payload) => {
            let events = payload.into_events();
            if events.len() > state.tx.max_capacity() {
                // Larger than the whole queue: hand it over as the consumer takes events.
                for event in events {
                    if state.tx.send(event).await.is_err() {
                        break;
                    }
                }
                return Ok(answer(204));
            }
            // All of the payload or none of it, so a redelivery does not duplicate a part.
            let Ok(permits) = state.tx.try_reserve_many(events.len()) else {
                if state.tx.is_closed() {
                    // Nobody wants events any more; acknowledge so Tigris stops retrying.
                    return Ok(answer(204));
                }
                state.counters.pushed_back.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    events = events.len(),
                    "webhook receiver: queue full, delivery answered 503 to be retried"
                );
                return Ok(answer(503));
            };
            for (permit, event) in permits.zip(events) {
                permit.send(event);
            }
            Ok(answer(204))
        }
        Err(_) => {
            state.counters.rejected.fetch_add(1, Ordering::Relaxed);
            Ok(answer(400))
        }
    }
}
