//! Shared test set-up for the workspace's crates: in one call, an in-process
//! [`Emulator`] (SigV4 verified, over loopback), a root [`SdkConfig`] built with
//! `tigris_core::config::builder()`, root S3 and IAM clients and, with the feature
//! `agent-kit`, an agent kit.
//!
//! Layered by features, so a crate's tests build only the layers below it: the base needs
//! only `tigris-core` and the emulator; `notify` adds [`WebhookSink`] (on `tigris-notify`);
//! `agent-kit` adds the kit to [`TestEnv`] and the clients signing as its scoped keys.
//!
//! ```no_run
//! # async fn demo() {
//! let env = tigris_test_support::TestEnv::start().await;
//! env.s3.list_buckets().send().await.unwrap();
//! # }
//! ```

pub mod scripted;

use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::{Credentials, Intercept};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_types::SdkConfig;
#[cfg(feature = "agent-kit")]
use tigris_agent_kit::{AgentKit, AgentKitBuilder, ScopedAccessKey};
pub use tigris_core::config::default_http_client;
use tigris_core::config::{self, s3_client, s3_config};
pub use tigris_emulator::Emulator;

/// A running emulator, a root SDK configuration, root clients and a kit on it.
#[derive(Debug)]
pub struct TestEnv {
    /// The emulator; dropping the environment stops it.
    pub emu: Emulator,
    /// Root configuration (root credentials, the emulator's endpoint).
    pub sdk: SdkConfig,
    /// S3 as root.
    pub s3: aws_sdk_s3::Client,
    /// IAM as root.
    pub iam: aws_sdk_iam::Client,
    /// An agent kit built from [`TestEnv::sdk`].
    #[cfg(feature = "agent-kit")]
    pub kit: AgentKit,
}

#[cfg(feature = "agent-kit")]
type Configure = Box<dyn FnOnce(AgentKitBuilder) -> AgentKitBuilder>;

/// Options for [`TestEnv`]; [`TestEnv::builder`].
pub struct TestEnvBuilder {
    retry: RetryConfig,
    wrap_http: Option<Box<dyn FnOnce(SharedHttpClient) -> SharedHttpClient>>,
    #[cfg(feature = "agent-kit")]
    configure_kit: Option<Configure>,
}

impl std::fmt::Debug for TestEnvBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestEnvBuilder")
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl TestEnvBuilder {
    /// The SDK's retries (default: disabled, so one injected fault is one failed step).
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// Wraps the default HTTP client (rustls + ring), e.g. to count requests.
    pub fn wrap_http_client(
        mut self,
        wrap: impl FnOnce(SharedHttpClient) -> SharedHttpClient + 'static,
    ) -> Self {
        self.wrap_http = Some(Box::new(wrap));
        self
    }

    #[cfg(feature = "agent-kit")]
    /// Customises the kit's builder (after the IAM endpoint is set to the emulator's).
    pub fn configure_kit(
        mut self,
        configure: impl FnOnce(AgentKitBuilder) -> AgentKitBuilder + 'static,
    ) -> Self {
        self.configure_kit = Some(Box::new(configure));
        self
    }

    /// Starts the emulator and builds the clients.
    pub async fn start(self) -> TestEnv {
        let emu = Emulator::start()
            .await
            .expect("emulator starts on loopback");
        let mut http = default_http_client();
        if let Some(wrap) = self.wrap_http {
            http = wrap(http);
        }
        let sdk = root_sdk_config_with(&emu, self.retry, http);
        #[cfg(feature = "agent-kit")]
        let kit = {
            let mut kit = AgentKit::builder(&sdk).iam_endpoint(emu.endpoint());
            if let Some(configure) = self.configure_kit {
                kit = configure(kit);
            }
            kit.build().expect("the kit builds")
        };
        let iam = aws_sdk_iam::Client::from_conf(
            aws_sdk_iam::config::Builder::from(&sdk)
                .endpoint_url(emu.endpoint())
                .build(),
        );
        TestEnv {
            s3: s3_client(&sdk),
            emu,
            sdk,
            iam,
            #[cfg(feature = "agent-kit")]
            kit,
        }
    }
}

impl TestEnv {
    /// Defaults: retries disabled, the default HTTP client, the kit as built by default.
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    /// Options before starting.
    pub fn builder() -> TestEnvBuilder {
        TestEnvBuilder {
            retry: RetryConfig::disabled(),
            wrap_http: None,
            #[cfg(feature = "agent-kit")]
            configure_kit: None,
        }
    }

    /// How many authenticated requests reached the emulator so far.
    pub fn requests(&self) -> u64 {
        self.emu.faults().total()
    }

    /// A root S3 client whose every request also passes through `interceptor`.
    pub fn s3_with(&self, interceptor: impl Intercept + 'static) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(s3_config(&self.sdk).interceptor(interceptor).build())
    }

    /// An S3 client signing as `key` (retries disabled).
    #[cfg(feature = "agent-kit")]
    pub fn s3_as(&self, key: &ScopedAccessKey) -> aws_sdk_s3::Client {
        self.s3_signed_as(key.to_credentials())
    }

    /// An S3 client on the emulator signing with `credentials` (retries disabled).
    pub fn s3_signed_as(&self, credentials: Credentials) -> aws_sdk_s3::Client {
        s3_signed_as(&self.emu, credentials)
    }

    /// A root S3 client (the emulator's root credentials) for an endpoint where nothing
    /// listens, without retries: any request that is sent fails to connect.
    pub async fn s3_for_closed_port(&self) -> aws_sdk_s3::Client {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let endpoint = format!("http://{}", listener.local_addr().expect("local addr"));
        drop(listener);
        s3_client(
            &config::builder()
                .endpoint_url(endpoint)
                .credentials(root_credentials(&self.emu))
                .retry_config(RetryConfig::disabled())
                .build(),
        )
    }

    /// Creates `bucket` as root (plain `CreateBucket`), or panics.
    pub async fn create_bucket(&self, bucket: &str) {
        self.s3
            .create_bucket()
            .bucket(bucket)
            .send()
            .await
            .unwrap_or_else(|e| panic!("create bucket {bucket}: {e:?}"));
    }

    /// Writes `body` to `bucket`/`key` as root, or panics.
    pub async fn put(&self, bucket: &str, key: &str, body: &str) {
        put(&self.s3, bucket, key, body).await;
    }

    /// The body of `bucket`/`key` as UTF-8, read as root, or panics.
    pub async fn get(&self, bucket: &str, key: &str) -> String {
        get(&self.s3, bucket, key).await
    }

    /// The keys of the first listing page of `bucket` (up to 1,000), read as root.
    pub async fn keys(&self, bucket: &str) -> Vec<String> {
        let out = self
            .s3
            .list_objects_v2()
            .bucket(bucket)
            .send()
            .await
            .unwrap_or_else(|e| panic!("list {bucket}: {e:?}"));
        out.contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_owned))
            .collect()
    }
}

/// Writes `body` to `bucket`/`key` with `s3`, or panics.
pub async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: &str) {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(body.as_bytes().to_vec().into())
        .send()
        .await
        .unwrap_or_else(|e| panic!("put {bucket}/{key}: {e:?}"));
}

/// The body of `bucket`/`key` read with `s3`, as UTF-8, or panics.
pub async fn get(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> String {
    let out = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get {bucket}/{key}: {e:?}"));
    body_string(out.body).await
}

/// A whole body as UTF-8, or panics.
pub async fn body_string(body: aws_sdk_s3::primitives::ByteStream) -> String {
    String::from_utf8(body.collect().await.expect("body").to_vec()).expect("utf-8 body")
}

/// The root `SdkConfig` for `emu` as a user builds one with `tigris_core::config::builder()` (the default HTTP
/// client), with `retry`.
pub fn root_sdk_config(emu: &Emulator, retry: RetryConfig) -> SdkConfig {
    root_sdk_config_with(emu, retry, default_http_client())
}

fn root_sdk_config_with(emu: &Emulator, retry: RetryConfig, http: SharedHttpClient) -> SdkConfig {
    config::builder()
        .endpoint_url(emu.endpoint())
        .credentials(root_credentials(emu))
        .retry_config(retry)
        .http_client(http)
        .build()
}

/// An S3 client on `emu` signing with `credentials` (retries disabled).
pub fn s3_signed_as(emu: &Emulator, credentials: Credentials) -> aws_sdk_s3::Client {
    s3_client(
        &config::builder()
            .endpoint_url(emu.endpoint())
            .credentials(credentials)
            .retry_config(RetryConfig::disabled())
            .build(),
    )
}

/// The emulator's root credentials as SDK credentials.
pub fn root_credentials(emu: &Emulator) -> Credentials {
    let root = emu.root_credentials();
    Credentials::new(
        root.access_key_id(),
        root.secret_access_key(),
        None,
        None,
        "test",
    )
}

/// A webhook endpoint on loopback for tests, on [`tigris_notify::receiver::WebhookReceiver`]
/// with bearer-token auth.
///
/// [`assert_no_more_events`](Self::assert_no_more_events) checks that nothing else arrived
/// without sleeping: it writes a marker object to a bucket whose notifications point here and
/// waits for the marker's event. The emulator delivers one key's events in order, but events
/// of different keys go through up to 8 lanes per URL at once, so the check can miss a stray
/// event of another key still in flight; it never reports one that did not arrive.
#[cfg(feature = "notify")]
#[derive(Debug)]
pub struct WebhookSink {
    receiver: tigris_notify::receiver::WebhookReceiver,
    markers: u32,
}

/// How long a test waits for an event that should come before it fails.
#[cfg(feature = "notify")]
const EVENT_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

#[cfg(feature = "notify")]
const SINK_TOKEN: &str = "test-support-webhook-token";

#[cfg(feature = "notify")]
impl WebhookSink {
    /// Listens on a free loopback port.
    pub async fn start() -> Self {
        let receiver = tigris_notify::receiver::WebhookReceiver::bind(
            "127.0.0.1:0".parse().expect("a socket address"),
            Some(tigris_notify::WebhookAuth::bearer(SINK_TOKEN)),
        )
        .await
        .expect("the webhook sink binds on loopback");
        Self {
            receiver,
            markers: 0,
        }
    }

    /// The notification settings that deliver here (URL and token).
    pub fn config(&self) -> tigris_notify::NotificationConfig {
        tigris_notify::NotificationConfig::builder(self.receiver.url())
            .token(SINK_TOKEN)
            .build()
            .expect("a valid notification config")
    }

    /// The next event; fails the test when none comes within 10 s.
    pub async fn next_event(&mut self) -> tigris_notify::ObjectEvent {
        tokio::time::timeout(EVENT_WAIT, self.receiver.next())
            .await
            .expect("an event within 10 s")
            .expect("the webhook sink is running")
    }

    /// The first event matching `wanted`; the events before it are returned too, in order.
    pub async fn wait_for(
        &mut self,
        wanted: impl Fn(&tigris_notify::ObjectEvent) -> bool,
    ) -> (tigris_notify::ObjectEvent, Vec<tigris_notify::ObjectEvent>) {
        let mut before = Vec::new();
        loop {
            let event = self.next_event().await;
            if wanted(&event) {
                return (event, before);
            }
            before.push(event);
        }
    }

    /// Writes a marker object to `marker_bucket` (whose notifications must point at this sink)
    /// and waits for its event; fails the test if any other event arrives first.
    pub async fn assert_no_more_events(&mut self, s3: &aws_sdk_s3::Client, marker_bucket: &str) {
        self.markers += 1;
        let key = format!("test-support-marker-{}", self.markers);
        s3.put_object()
            .bucket(marker_bucket)
            .key(&key)
            .body(aws_sdk_s3::primitives::ByteStream::from_static(b"marker"))
            .send()
            .await
            .expect("the marker object is written");
        let (_, before) = self
            .wait_for(|e| e.bucket() == marker_bucket && e.object().key() == key)
            .await;
        assert!(
            before.is_empty(),
            "unexpected events before the marker: {before:?}"
        );
    }
}

/// An answer to [`unsigned_request`]: status, headers (names lower-cased) and body.
#[derive(Debug, Clone)]
pub struct RawAnswer {
    /// The HTTP status.
    pub status: u16,
    /// The headers, names lower-cased, in the order sent.
    pub headers: Vec<(String, String)>,
    /// The body as sent (the request closes the connection, so it is read to the end).
    pub body: Vec<u8>,
}

impl RawAnswer {
    /// The first value of header `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request with no credentials, as a browser or `curl` sends it, to a full
/// `http://` URL (a presigned URL, a public object): `method`, `headers`, `body` with its
/// `Content-Length`, and `Connection: close`.
///
/// # Errors
/// An I/O error when the URL is not `http://host[:port]/...`, the connection fails, or the
/// answer has no complete head.
pub async fn unsigned_request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> std::io::Result<RawAnswer> {
    use std::io::{Error, ErrorKind, Read, Write};
    let malformed = |what: &str| Error::new(ErrorKind::InvalidData, what.to_owned());
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| malformed("not an http:// URL"))?;
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (host, path) = (host.to_owned(), path.to_owned());
    let extra: String = headers
        .iter()
        .map(|(n, v)| format!("{n}: {v}\r\n"))
        .collect();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let answer = tokio::task::spawn_blocking(move || {
        let mut conn = std::net::TcpStream::connect(&host)?;
        conn.write_all(head.as_bytes())?;
        conn.write_all(&body)?;
        let mut answer = Vec::new();
        conn.read_to_end(&mut answer)?;
        Ok::<_, Error>(answer)
    })
    .await
    .map_err(Error::other)??;
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| malformed("the answer has no complete head"))?;
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| malformed("the answer has no status line"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok(RawAnswer {
        status,
        headers,
        body: answer[split + 4..].to_vec(),
    })
}
