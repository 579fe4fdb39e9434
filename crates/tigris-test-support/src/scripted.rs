//! A scriptable local HTTP server that records what it receives, and SDK configs for it: for
//! testing transports against exact answers (retries, timeouts, error bodies).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_types::retry::RetryConfig;
use aws_types::SdkConfig;
use aws_types::region::Region;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

/// A request as the test server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The method.
    pub method: http::Method,
    /// The path and query.
    pub uri: http::Uri,
    /// The headers.
    pub headers: http::HeaderMap,
    /// The body.
    pub body: Bytes,
}

type Handler = dyn Fn(usize, &Recorded) -> http::Response<Full<Bytes>> + Send + Sync;

/// An HTTP/1 server on 127.0.0.1 that answers with `handler(index, request)` and records
/// requests and accepted connections.
#[derive(Debug)]
pub struct TestServer {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    /// Starts on a free loopback port, answering with `handler(index, request)`.
    pub async fn start(
        handler: impl Fn(usize, &Recorded) -> http::Response<Full<Bytes>> + Send + Sync + 'static,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve(listener, Arc::new(handler))
    }

    /// Serves on `listener` (for a server that starts late, on a known address).
    pub fn serve(listener: tokio::net::TcpListener, handler: Arc<Handler>) -> Self {
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (conns, reqs) = (Arc::clone(&connections), Arc::clone(&requests));
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                conns.fetch_add(1, Ordering::SeqCst);
                let (handler, reqs) = (Arc::clone(&handler), Arc::clone(&reqs));
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(
                        move |req: http::Request<hyper::body::Incoming>| {
                            let (handler, reqs) = (Arc::clone(&handler), Arc::clone(&reqs));
                            async move {
                                let (parts, body) = req.into_parts();
                                let body = body
                                    .collect()
                                    .await
                                    .map(|b| b.to_bytes())
                                    .unwrap_or_default();
                                let recorded = Recorded {
                                    method: parts.method,
                                    uri: parts.uri,
                                    headers: parts.headers,
                                    body,
                                };
                                let index = {
                                    let mut reqs = reqs.lock().unwrap();
                                    reqs.push(recorded.clone());
                                    reqs.len() - 1
                                };
                                let mut answer = handler(index, &recorded);
                                if let Some(delay) = answer.headers_mut().remove(DELAY_HEADER) {
                                    let ms = delay.to_str().unwrap().parse().unwrap();
                                    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
                                }
                                Ok::<_, Infallible>(answer)
                            }
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(socket), service)
                        .await;
                });
            }
        });
        Self {
            addr,
            connections,
            requests,
            task,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many connections were accepted.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// The requests received so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const DELAY_HEADER: &str = "x-test-delay-ms";

/// `answer`, sent after `ms` milliseconds.
pub fn delayed(ms: u64, mut answer: http::Response<Full<Bytes>>) -> http::Response<Full<Bytes>> {
    answer.headers_mut().insert(DELAY_HEADER, ms.into());
    answer
}

/// An answer with `status` and `body`.
pub fn response(status: u16, body: &str) -> http::Response<Full<Bytes>> {
    http::Response::builder()
        .status(status)
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap()
}

/// An `SdkConfig` as an application would build it for Tigris, with `retry`.
pub fn sdk_config(endpoint: &str, access_key_id: &str, secret_access_key: &str) -> SdkConfig {
    sdk_config_with(
        endpoint,
        access_key_id,
        secret_access_key,
        RetryConfig::standard(),
    )
}

/// As [`sdk_config`], with `retry`.
pub fn sdk_config_with(
    endpoint: &str,
    access_key_id: &str,
    secret_access_key: &str,
    retry: RetryConfig,
) -> SdkConfig {
    SdkConfig::builder()
        .retry_config(retry)
        .behavior_version(
            aws_smithy_runtime_api::client::behavior_version::BehaviorVersion::latest(),
        )
        .http_client(tigris_core::default_http_client())
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            access_key_id,
            secret_access_key,
            None,
            None,
            "tests",
        )))
        .region(Region::new("auto"))
        .endpoint_url(endpoint)
        .build()
}
