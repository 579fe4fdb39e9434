//! One-stop configuration: an `SdkConfig` for Tigris from the environment or explicit values.

use std::fmt;

use aws_credential_types::Credentials;
use aws_types::SdkConfig;

pub use tigris_core::DEFAULT_IAM_ENDPOINT;
pub use tigris_core::config::{
    DEFAULT_ENDPOINT, DEFAULT_REGION, TigrisConfigBuilder, builder, default_http_client, s3_client,
    s3_config,
};

/// The environment variable naming the IAM endpoint, read by [`iam_endpoint_from_env`] (and by
/// nothing else: library builders never read the process environment).
pub const IAM_ENDPOINT_VAR: &str = "TIGRIS_IAM_ENDPOINT";

/// Environment variables read by [`from_env`], in order of preference for each setting.
pub const ACCESS_KEY_VARS: [&str; 2] = ["AWS_ACCESS_KEY_ID", "TIGRIS_STORAGE_ACCESS_KEY_ID"];
/// See [`ACCESS_KEY_VARS`].
pub const SECRET_KEY_VARS: [&str; 2] =
    ["AWS_SECRET_ACCESS_KEY", "TIGRIS_STORAGE_SECRET_ACCESS_KEY"];
/// See [`ACCESS_KEY_VARS`].
pub const ENDPOINT_VARS: [&str; 3] = [
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL",
    "TIGRIS_STORAGE_ENDPOINT",
];

/// The credentials [`from_env`] needs are not all set.
///
/// Names the missing variables, never any value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingCredentials {
    missing: Vec<&'static str>,
}

impl MissingCredentials {
    /// The variables to set (one of each group).
    pub fn missing(&self) -> &[&'static str] {
        &self.missing
    }
}

impl fmt::Display for MissingCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Tigris credentials are not set: set {}",
            self.missing.join(" and ")
        )
    }
}

impl std::error::Error for MissingCredentials {}

fn first(vars: &[&str], get: &impl Fn(&str) -> Option<String>) -> Option<String> {
    vars.iter()
        .find_map(|v| get(v).filter(|s| !s.trim().is_empty()))
}

/// Reads Tigris settings through `get` (the environment, in [`from_env`]).
///
/// # Errors
/// [`MissingCredentials`] when no access key or secret is set.
pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<SdkConfig, MissingCredentials> {
    let access = first(&ACCESS_KEY_VARS, &get);
    let secret = first(&SECRET_KEY_VARS, &get);
    let (Some(access), Some(secret)) = (access.clone(), secret.clone()) else {
        let mut missing = Vec::new();
        if access.is_none() {
            missing.push("AWS_ACCESS_KEY_ID (or TIGRIS_STORAGE_ACCESS_KEY_ID)");
        }
        if secret.is_none() {
            missing.push("AWS_SECRET_ACCESS_KEY (or TIGRIS_STORAGE_SECRET_ACCESS_KEY)");
        }
        return Err(MissingCredentials { missing });
    };
    let token = get("AWS_SESSION_TOKEN").filter(|t| !t.is_empty());
    let endpoint = first(&ENDPOINT_VARS, &get).unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
    let region = first(&["AWS_REGION", "AWS_DEFAULT_REGION"], &get)
        .unwrap_or_else(|| DEFAULT_REGION.to_owned());
    Ok(builder()
        .endpoint_url(endpoint)
        .region(region)
        .credentials(Credentials::new(access, secret, token, None, "environment"))
        .build())
}

/// An `SdkConfig` for Tigris from the standard AWS variables or the `TIGRIS_STORAGE_*` ones:
/// endpoint `https://t3.storage.dev` and region `auto` unless set; the S3 client built from it
/// with [`s3_client`] uses `WhenRequired` checksums, as Tigris needs.
///
/// ```no_run
/// let sdk = tigris_ext::config::from_env()?;
/// let s3 = tigris_ext::config::s3_client(&sdk);
/// # drop(s3);
/// # Ok::<(), tigris_ext::config::MissingCredentials>(())
/// ```
///
/// # Errors
/// [`MissingCredentials`] naming the variables to set.
pub fn from_env() -> Result<SdkConfig, MissingCredentials> {
    from_lookup(|name| std::env::var(name).ok())
}

/// The IAM endpoint named by `$TIGRIS_IAM_ENDPOINT` ([`IAM_ENDPOINT_VAR`]), or
/// [`DEFAULT_IAM_ENDPOINT`] when it is unset or empty. Hand it to
/// `TigrisIam::builder(..).endpoint_url(..)` or `AgentKit::builder(..).iam_endpoint(..)`.
///
/// ```no_run
/// let iam = tigris_ext::config::iam_endpoint_from_env();
/// assert!(iam.starts_with("http"));
/// ```
pub fn iam_endpoint_from_env() -> String {
    iam_endpoint_from_lookup(|name| std::env::var(name).ok())
}

/// [`iam_endpoint_from_env`] reading through `get`.
pub fn iam_endpoint_from_lookup(get: impl Fn(&str) -> Option<String>) -> String {
    first(&[IAM_ENDPOINT_VAR], &get).unwrap_or_else(|| DEFAULT_IAM_ENDPOINT.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn missing_variables_are_named_without_values() {
        let err = from_lookup(lookup(&[("AWS_SECRET_ACCESS_KEY", "very-secret")])).unwrap_err();
        assert_eq!(err.missing().len(), 1);
        assert!(err.to_string().contains("AWS_ACCESS_KEY_ID"));
        assert!(!err.to_string().contains("very-secret"));
    }

    #[test]
    fn tigris_variables_and_defaults_apply() {
        let sdk = from_lookup(lookup(&[
            ("TIGRIS_STORAGE_ACCESS_KEY_ID", "tid_x"),
            ("TIGRIS_STORAGE_SECRET_ACCESS_KEY", "tsec_y"),
        ]))
        .unwrap();
        assert_eq!(sdk.endpoint_url(), Some(DEFAULT_ENDPOINT));
        assert_eq!(sdk.region().map(|r| r.as_ref()), Some(DEFAULT_REGION));
        let sdk = from_lookup(lookup(&[
            ("AWS_ACCESS_KEY_ID", "a"),
            ("AWS_SECRET_ACCESS_KEY", "b"),
            ("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000"),
        ]))
        .unwrap();
        assert_eq!(sdk.endpoint_url(), Some("http://127.0.0.1:9000"));
    }

    #[test]
    fn the_iam_endpoint_comes_from_its_variable_or_the_default() {
        assert_eq!(iam_endpoint_from_lookup(lookup(&[])), DEFAULT_IAM_ENDPOINT);
        assert_eq!(
            iam_endpoint_from_lookup(lookup(&[(IAM_ENDPOINT_VAR, " ")])),
            DEFAULT_IAM_ENDPOINT
        );
        assert_eq!(
            iam_endpoint_from_lookup(lookup(&[(IAM_ENDPOINT_VAR, "http://127.0.0.1:9000")])),
            "http://127.0.0.1:9000"
        );
    }
}
