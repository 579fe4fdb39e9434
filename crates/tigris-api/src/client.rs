//! [`Client`]: the one handle on Tigris's endpoints outside the S3 API.

use aws_types::SdkConfig;
use tigris_core::transport::SignedTransport;

use crate::error::{Error, Result};

/// The client for Tigris's own endpoints, built from the same `SdkConfig` as the S3 client.
///
/// Each operation is a method returning a fluent builder with named setters that ends in
/// `.send().await`, as in `aws-sdk-s3`; listings also have `into_paginator()`. Every request
/// is signed with SigV4 for service `s3` on the `SdkConfig`'s HTTP client, retry and timeout
/// settings. Cloning is cheap and shares the connection pool.
///
/// ```no_run
/// # async fn demo(sdk: &aws_types::SdkConfig) -> Result<(), tigris_api::Error> {
/// let tigris = tigris_api::Client::new(sdk)?;
/// let metadata = tigris.bucket_metadata().bucket("datasets").send().await?;
/// println!("{:?} in {:?}", metadata.bucket_type(), metadata.regions());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    pub(crate) transport: SignedTransport,
    pub(crate) sdk: SdkConfig,
    /// The S3 client the operations built on S3 calls (multipart, migration) share, made once
    /// from `sdk` so its identity cache and connection pool outlive one call.
    pub(crate) s3: aws_sdk_s3::Client,
}

impl Client {
    /// A client for the endpoint, region and credentials of `sdk`.
    ///
    /// # Errors
    /// [`ErrorKind::Configuration`](crate::ErrorKind::Configuration) when `sdk` has no
    /// credentials provider, its endpoint is not an http(s) URL, or its region is empty.
    pub fn new(sdk: &SdkConfig) -> Result<Self> {
        let transport = SignedTransport::new(sdk).map_err(Error::from_config)?;
        Ok(Self::from_transport(transport, sdk))
    }

    /// A client on a transport already set up (its own endpoint, retries or timeouts); `sdk`
    /// supplies the credentials presigned POST forms are signed with and the S3 client the
    /// operations built on S3 calls (multipart uploads, migration) send with.
    pub fn from_transport(transport: SignedTransport, sdk: &SdkConfig) -> Self {
        Self {
            transport,
            sdk: sdk.clone(),
            s3: tigris_core::config::s3_client(sdk),
        }
    }

    /// The signed transport the client sends with.
    pub fn transport(&self) -> &SignedTransport {
        &self.transport
    }
}
