//! Removes what integration runs left behind: buckets (forks first), scoped keys and policies
//! whose names start with a run id.
//!
//! `sweep RUN_ID` removes one run's resources; `sweep --all` every `tigris-it-` resource.
//! It targets the environment's Tigris (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_ENDPOINT_URL_S3`, `TIGRIS_IAM_ENDPOINT`); nothing without the prefix is touched.

use std::process::ExitCode;

use aws_credential_types::Credentials;
use tigris_core::config::{self, s3_client};
use tigris_headers::prelude::*;
use tigris_integration_tests::{LIVE_CREDENTIALS, RUN_PREFIX};

#[tokio::main]
async fn main() -> ExitCode {
    let prefix = match std::env::args().nth(1).as_deref() {
        Some("--all") => RUN_PREFIX.to_owned(),
        Some(id) if id.starts_with(RUN_PREFIX) => format!("{id}-"),
        _ => {
            eprintln!("usage: sweep RUN_ID | --all   (run ids start with {RUN_PREFIX})");
            return ExitCode::from(2);
        }
    };
    let missing: Vec<_> = LIVE_CREDENTIALS
        .iter()
        .filter(|v| std::env::var(v).is_err())
        .collect();
    if !missing.is_empty() {
        eprintln!("sweep: set {missing:?} to reach Tigris");
        return ExitCode::from(2);
    }
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let creds = Credentials::new(
        env("AWS_ACCESS_KEY_ID").unwrap_or_default(),
        env("AWS_SECRET_ACCESS_KEY").unwrap_or_default(),
        env("AWS_SESSION_TOKEN"),
        None,
        "environment",
    );
    let mut config = config::builder().credentials(creds);
    if let Some(endpoint) = env("AWS_ENDPOINT_URL_S3") {
        config = config.endpoint_url(endpoint);
    }
    let sdk = config.build();
    let s3 = s3_client(&sdk);
    let mut failures = 0;

    // Forks must go before their parents: retry the ones refused while children remain.
    let mut pending: Vec<String> = match s3.list_buckets().send().await {
        Ok(out) => out
            .buckets()
            .iter()
            .filter_map(|b| b.name())
            .filter(|n| n.starts_with(&prefix))
            .map(str::to_owned)
            .collect(),
        Err(err) => {
            eprintln!(
                "sweep: cannot list buckets: {}",
                aws_sdk_s3::error::DisplayErrorContext(&err)
            );
            return ExitCode::FAILURE;
        }
    };
    for _pass in 0..5 {
        let mut refused = Vec::new();
        for bucket in pending {
            match s3
                .delete_bucket()
                .bucket(&bucket)
                .force_delete()
                .send()
                .await
            {
                Ok(_) => println!("deleted bucket {bucket}"),
                Err(err) => {
                    eprintln!(
                        "bucket {bucket} not deleted yet: {}",
                        aws_sdk_s3::error::DisplayErrorContext(&err)
                    );
                    refused.push(bucket);
                }
            }
        }
        pending = refused;
        if pending.is_empty() {
            break;
        }
    }
    failures += pending.len();

    // Scoped keys made by tigris-iam carry their key id in the policy name.
    let iam = tigris_iam::TigrisIam::new(&sdk);
    match iam.client().list_policies().send().await {
        Ok(out) => {
            for policy in out.policies() {
                let (Some(name), Some(arn)) = (policy.policy_name(), policy.arn()) else {
                    continue;
                };
                if !name.starts_with(&prefix) {
                    continue;
                }
                let Some(key_id) = name.rsplit_once("-policy-").map(|(_, id)| id.to_owned()) else {
                    continue;
                };
                match iam.revoke_ids(&key_id, arn).await {
                    Ok(()) => println!("revoked key {key_id} and policy {name}"),
                    Err(err) => {
                        failures += 1;
                        eprintln!("policy {name}: {err}");
                    }
                }
            }
        }
        Err(err) => {
            failures += 1;
            eprintln!(
                "sweep: cannot list policies: {}",
                aws_sdk_s3::error::DisplayErrorContext(&err)
            );
        }
    }
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
