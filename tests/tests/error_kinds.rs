//! One answer is one reading everywhere: the same service answers (codes and statuses,
//! throttling, a refused connection), fed through every crate's public error path, give the same
//! `tigris_core::ErrorKind`, and every crate's `Error` reads them through the same accessors
//! (`kind`, `operation`, `code`, `status`, `request_id`, `is_retryable`).

use aws_credential_types::Credentials;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_types::SdkConfig;
use tigris_agent_kit::AgentKit;
use tigris_core::config;
use tigris_core::{BucketName, ErrorKind};
use tigris_emulator::{Emulator, Fault};
use tigris_headers::prelude::*;
use tigris_iam::{Role, TigrisIam};
use tigris_notify::{Notifications, SignedTransport};

/// (status, code, the kind every crate must report).
const ANSWERS: &[(u16, &str, ErrorKind)] = &[
    (404, "NoSuchBucket", ErrorKind::NotFound),
    (403, "AccessDenied", ErrorKind::AccessDenied),
    (403, "SignatureDoesNotMatch", ErrorKind::AccessDenied),
    (409, "BucketAlreadyExists", ErrorKind::Conflict),
    (412, "PreconditionFailed", ErrorKind::PreconditionFailed),
    (400, "InvalidArgument", ErrorKind::InvalidInput),
    (400, "MalformedXML", ErrorKind::InvalidInput),
    (503, "SlowDown", ErrorKind::Transient),
    (500, "InternalError", ErrorKind::Transient),
    (502, "BadGateway", ErrorKind::Transient),
    (400, "SomethingTigrisAddsLater", ErrorKind::Service),
    (418, "Teapot", ErrorKind::Service),
];

fn sdk(endpoint: &str, emu: &Emulator) -> SdkConfig {
    let root = emu.root_credentials();
    config::builder()
        .endpoint_url(endpoint)
        .credentials(Credentials::new(
            root.access_key_id(),
            root.secret_access_key(),
            None,
            None,
            "test",
        ))
        .retry_config(RetryConfig::disabled())
        .build()
}

/// What one crate's `Error` says through the accessor table every crate implements.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reading {
    kind: ErrorKind,
    has_operation: bool,
    code: Option<String>,
    status: Option<u16>,
    is_retryable: bool,
}

/// Reads an error of any crate through the shared accessors.
macro_rules! reading {
    ($err:expr) => {{
        let err = $err;
        Reading {
            kind: err.kind(),
            has_operation: err.operation().is_some(),
            code: err.code().map(str::to_owned),
            status: err.status(),
            // Read through every crate too; its value is the answer's own (the emulator's IAM
            // answers carry one in the body, its injected S3 faults none), so it is not compared.
            is_retryable: {
                let _: Option<&str> = err.request_id();
                err.is_retryable()
            },
        }
    }};
}

/// The kind each crate reports for one failing request on `endpoint`; `inject` arms the fault
/// for the operation each path sends first.
async fn kinds_through_every_crate(
    emu: &Emulator,
    endpoint: &str,
    inject: impl Fn(&str),
) -> Vec<(&'static str, ErrorKind)> {
    readings_through_every_crate(emu, endpoint, inject)
        .await
        .into_iter()
        .map(|(name, reading)| (name, reading.kind))
        .collect()
}

/// What each crate's error reads for one failing request on `endpoint`.
async fn readings_through_every_crate(
    emu: &Emulator,
    endpoint: &str,
    inject: impl Fn(&str),
) -> Vec<(&'static str, Reading)> {
    let sdk = sdk(endpoint, emu);
    let s3 = tigris_core::config::s3_client(&sdk);
    let bucket: BucketName = "kinds-bucket".parse().unwrap();
    let mut kinds = Vec::new();

    inject("CreateBucket");
    let err = s3
        .create_snapshot()
        .bucket(bucket.as_str())
        .send()
        .await
        .unwrap_err();
    kinds.push(("tigris-headers", reading!(err)));

    inject("CreateAccessKey");
    let iam = TigrisIam::builder(&sdk).endpoint_url(endpoint).build();
    let err = iam
        .create_scoped_key()
        .name("kinds-key")
        .bucket(bucket.clone())
        .role(Role::ReadOnly)
        .send()
        .await
        .unwrap_err();
    kinds.push(("tigris-iam", reading!(err)));

    inject("PatchBucket");
    let notifications = Notifications::new(SignedTransport::new(&sdk).unwrap());
    let err = notifications.clear(&bucket).await.unwrap_err();
    kinds.push(("tigris-notify", reading!(err)));

    inject("PatchBucket");
    let api = tigris_api::Client::new(&sdk).unwrap();
    let err = api
        .update_bucket()
        .bucket(bucket.as_str())
        .cache_control("max-age=60")
        .send()
        .await
        .unwrap_err();
    kinds.push(("tigris-api", reading!(err)));

    inject("CreateBucket");
    let kit = AgentKit::builder(&sdk)
        .iam_endpoint(endpoint)
        .build()
        .unwrap();
    let err = kit
        .create_workspace()
        .bucket("kinds-ws")
        .send()
        .await
        .unwrap_err();
    kinds.push(("tigris-agent-kit", reading!(err)));
    kinds
}

#[tokio::test]
async fn the_same_service_answer_is_the_same_kind_in_every_crate() {
    let emu = Emulator::start().await.unwrap();
    let root = sdk(&emu.endpoint(), &emu);
    tigris_core::config::s3_client(&root)
        .create_bucket()
        .bucket("kinds-bucket")
        .enable_snapshots()
        .send()
        .await
        .unwrap();
    for &(status, code, expected) in ANSWERS {
        let kinds = kinds_through_every_crate(&emu, &emu.endpoint(), |operation| {
            emu.faults().clear();
            emu.faults()
                .inject(Fault::on(operation).status(status).code(code));
        })
        .await;
        for (crate_name, kind) in kinds {
            assert_eq!(kind, expected, "{crate_name} for {status} {code}");
        }
    }
}

#[tokio::test]
async fn a_refused_connection_is_transient_in_every_crate() {
    let emu = Emulator::start().await.unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let kinds = kinds_through_every_crate(&emu, &closed, |_| {}).await;
    assert_eq!(kinds.len(), 5);
    for (crate_name, kind) in kinds {
        assert_eq!(kind, ErrorKind::Transient, "{crate_name}");
    }
    assert_eq!(emu.faults().total(), 0, "nothing reached the emulator");
}

#[tokio::test]
async fn every_crate_reads_the_same_answer_through_the_same_accessors() {
    let emu = Emulator::start().await.unwrap();
    let root = sdk(&emu.endpoint(), &emu);
    tigris_core::config::s3_client(&root)
        .create_bucket()
        .bucket("kinds-bucket")
        .enable_snapshots()
        .send()
        .await
        .unwrap();
    for (status, code, retryable) in [(403, "AccessDenied", false), (503, "SlowDown", true)] {
        let readings = readings_through_every_crate(&emu, &emu.endpoint(), |operation| {
            emu.faults().clear();
            emu.faults()
                .inject(Fault::on(operation).status(status).code(code));
        })
        .await;
        let names: Vec<_> = readings.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            names,
            [
                "tigris-headers",
                "tigris-iam",
                "tigris-notify",
                "tigris-api",
                "tigris-agent-kit"
            ]
        );
        let first = readings[0].1.clone();
        assert_eq!(first.code.as_deref(), Some(code));
        assert_eq!(first.status, Some(status));
        assert_eq!(first.is_retryable, retryable);
        assert!(first.has_operation);
        for (crate_name, reading) in &readings {
            assert_eq!(reading, &first, "{crate_name} for {status} {code}");
        }
    }
}
