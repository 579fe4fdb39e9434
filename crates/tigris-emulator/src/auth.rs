//! Authentication (SigV4 secrets from the key table) and the per-request access hook.

use std::sync::Arc;

use http::StatusCode;
use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::{S3Auth, SecretKey};
use s3s::{S3Error, S3ErrorCode, S3Result, s3_error};

use crate::faults::InjectedFailure;
use crate::state::Shared;

/// Looks secrets up in the emulator's key table, so keys made at run time sign at once.
#[derive(Debug, Clone)]
pub(crate) struct KeyTable(pub(crate) Arc<Shared>);

#[async_trait::async_trait]
impl S3Auth for KeyTable {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        let keys = self.0.keys();
        let secret = keys.secret(access_key).ok_or_else(|| {
            s3_error!(InvalidAccessKeyId, "The access key ID you provided does not exist in our records")
        })?;
        Ok(SecretKey::from(secret))
    }
}

/// Turns an injected failure into the S3 error the client will see.
pub(crate) fn injected_error(failure: &InjectedFailure) -> S3Error {
    let code = S3ErrorCode::from_bytes(failure.code.as_bytes()).unwrap_or(S3ErrorCode::InternalError);
    let mut err = S3Error::with_message(code, "injected by the emulator's fault injection");
    err.set_status_code(StatusCode::from_u16(failure.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    err
}

/// Runs after the signature is verified and the operation is known: counts the request and
/// applies injected faults.
#[derive(Debug, Clone)]
pub(crate) struct AccessHook(pub(crate) Arc<Shared>);

#[async_trait::async_trait]
impl S3Access for AccessHook {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        if cx.credentials().is_none() {
            return Err(s3_error!(AccessDenied, "Signature is required"));
        }
        if let Some(failure) = self.0.faults.on_request(cx.s3_op().name()) {
            return Err(injected_error(&failure));
        }
        Ok(())
    }
}
