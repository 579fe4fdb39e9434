//! Tigris's own endpoints outside the S3 API: the bundle download, the presign endpoint,
//! soft delete's bucket listing and restore, `PATCH /{bucket}` settings, and the CORS and
//! lifecycle rules it sets beside the S3 calls.

pub(crate) mod bundle;
pub(crate) mod cors;
pub(crate) mod lifecycle;
pub(crate) mod patch;
pub(crate) mod presign;
pub(crate) mod soft_delete;
