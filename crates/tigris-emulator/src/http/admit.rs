//! Admission of a request to one of Tigris's own endpoints: fault injection first, then the
//! peer address, then the policy check, in that order for every route that is not an S3
//! operation (S3 operations go through the same steps in the access hook, `auth.rs`).

use s3s::path::S3Path;
use s3s::{Body, S3Request, S3Result};

use crate::http::auth::{PeerAddr, authorize, injected_error};
use crate::state::Shared;

/// Faults and the policy check, as for an S3 operation named `op` on `path`. An injected
/// failure that drops the connection is arranged here too.
pub(crate) fn admit(
    shared: &Shared,
    req: &S3Request<Body>,
    op: &str,
    path: &S3Path,
) -> S3Result<()> {
    let bucket = match path {
        S3Path::Root => None,
        S3Path::Bucket { bucket } | S3Path::Object { bucket, .. } => Some(&**bucket),
    };
    if let Some((failure, _)) = shared.faults.on_request(op, bucket, &req.headers) {
        shared.drop_later(&req.extensions, &failure);
        return Err(injected_error(&failure));
    }
    let peer = req.extensions.get::<PeerAddr>().map(|p| p.0);
    let access_key = req
        .credentials
        .as_ref()
        .map(|c| c.access_key.clone())
        .unwrap_or_default();
    authorize(shared, &access_key, op, path, &req.headers, peer)
}
