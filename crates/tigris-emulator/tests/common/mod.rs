//! Clients for the emulator, built the way a user of the AWS SDK would.
#![allow(dead_code, unreachable_pub)]

use aws_credential_types::Credentials;
use aws_sdk_s3::config::{BehaviorVersion, Region, RequestChecksumCalculation};
use aws_sdk_s3::primitives::ByteStream;
use tigris_emulator::Emulator;

pub fn http_client() -> aws_sdk_s3::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

pub fn client_with(emu: &Emulator, access_key: &str, secret: &str) -> aws_sdk_s3::Client {
    client_at(&emu.endpoint(), access_key, secret)
}

/// An S3 client for an emulator reached by endpoint (e.g. one running as a child process).
pub fn client_at(endpoint: &str, access_key: &str, secret: &str) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(http_client())
        .region(Region::new("auto"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .credentials_provider(Credentials::new(access_key, secret, None, None, "test"))
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

pub fn client(emu: &Emulator) -> aws_sdk_s3::Client {
    let root = emu.root_credentials();
    client_with(emu, root.access_key_id(), root.secret_access_key())
}

pub fn iam_with(emu: &Emulator, access_key: &str, secret: &str) -> aws_sdk_iam::Client {
    iam_at(&emu.endpoint(), access_key, secret)
}

/// An IAM client for an emulator reached by endpoint.
pub fn iam_at(endpoint: &str, access_key: &str, secret: &str) -> aws_sdk_iam::Client {
    let conf = aws_sdk_iam::Config::builder()
        .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
        .http_client(http_client())
        .region(aws_sdk_iam::config::Region::new("auto"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(access_key, secret, None, None, "test"))
        .build();
    aws_sdk_iam::Client::from_conf(conf)
}

pub fn iam(emu: &Emulator) -> aws_sdk_iam::Client {
    let root = emu.root_credentials();
    iam_with(emu, root.access_key_id(), root.secret_access_key())
}

/// An Allow policy for `actions` on `bucket` and its objects, with an optional condition.
pub fn policy(actions: &[&str], bucket: &str, condition: Option<&str>) -> String {
    let actions = actions
        .iter()
        .map(|a| format!("\"{a}\""))
        .collect::<Vec<_>>()
        .join(",");
    let condition = condition
        .map(|c| format!(",\"Condition\":{c}"))
        .unwrap_or_default();
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":[{actions}],
            "Resource":["arn:aws:s3:::{bucket}","arn:aws:s3:::{bucket}/*"]{condition}}}]}}"#
    )
}

/// Creates a key with one policy attached, the Tigris way (the key id is the user name).
pub async fn scoped_key(emu: &Emulator, name: &str, document: &str) -> (String, String, String) {
    let iam = iam(emu);
    let key = iam.create_access_key().send().await.unwrap();
    let key = key.access_key().unwrap();
    let policy = iam
        .create_policy()
        .policy_name(name)
        .policy_document(document)
        .send()
        .await
        .unwrap();
    let arn = policy.policy().unwrap().arn().unwrap().to_owned();
    iam.attach_user_policy()
        .user_name(key.access_key_id())
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    (
        key.access_key_id().to_owned(),
        key.secret_access_key().to_owned(),
        arn,
    )
}

/// Buckets `mine` and `theirs`, each with `seed.txt`.
pub async fn setup_buckets(emu: &Emulator) {
    let root = client(emu);
    for b in ["mine", "theirs"] {
        root.create_bucket().bucket(b).send().await.unwrap();
        root.put_object()
            .bucket(b)
            .key("seed.txt")
            .body(ByteStream::from_static(b"seed"))
            .send()
            .await
            .unwrap();
    }
}

/// Signs `req` (the headers it has, and `body`) with `key` (id, secret) for service `s3`,
/// region `auto`, now, as `settings` say: in its headers, or in its query for a presigned URL.
pub fn sign(
    req: &mut http::Request<()>,
    key: (&str, &str),
    body: aws_sigv4::http_request::SignableBody<'_>,
    settings: aws_sigv4::http_request::SigningSettings,
) {
    use aws_sigv4::http_request::{SignableRequest, sign};
    let identity = Credentials::new(key.0, key.1, None, None, "test").into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("auto")
        .name("s3")
        .time(std::time::SystemTime::now())
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let uri = req.uri().to_string();
    let signable = SignableRequest::new(
        req.method().as_str(),
        &uri,
        req.headers()
            .iter()
            .map(|(k, v)| (k.as_str(), v.to_str().unwrap())),
        body,
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    instructions.apply_to_request_http1x(req);
}

/// Sends a request signed for service `s3`, region `auto` with `key` (id, secret), the way the
/// released Tigris clients sign their non-S3 calls (`x-amz-content-sha256` over the body).
pub async fn signed_request(
    emu: &Emulator,
    key: (&str, &str),
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> http::Response<hyper::body::Incoming> {
    use aws_sigv4::http_request::{
        PayloadChecksumKind, PercentEncodingMode, SignableBody, SigningSettings,
        UriPathNormalizationMode,
    };
    let uri = format!("{}{path_and_query}", emu.endpoint());
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    let mut builder = http::Request::builder().method(method).uri(&uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let mut req = builder.body(()).unwrap();
    sign(&mut req, key, SignableBody::Bytes(body), settings);
    let req = req.map(|()| http_body_util::Full::new(bytes::Bytes::copy_from_slice(body)));
    hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http()
        .request(req)
        .await
        .unwrap()
}

/// Starts the `tigris-emulator` binary with `args` and waits for its `ready: <endpoint>` line;
/// answers (child, endpoint, the banner lines before it). Reading blocks until the line arrives
/// or the process exits (EOF); no timers involved.
pub async fn spawn_binary<I, S>(args: I) -> (std::process::Child, String, Vec<String>)
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tigris-emulator"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (banner, endpoint) = tokio::task::spawn_blocking(move || {
        let mut banner = Vec::new();
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(endpoint) = line.strip_prefix("ready: ") {
                return (banner, endpoint.to_owned());
            }
            banner.push(line);
        }
        panic!("the emulator exited before it was ready: {banner:?}");
    })
    .await
    .unwrap();
    (child, endpoint, banner)
}
