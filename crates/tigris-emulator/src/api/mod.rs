//! Tigris's own endpoints outside the S3 API: the bundle download, the presign endpoint,
//! soft delete's bucket listing and restore, and `PATCH /{bucket}` settings.

pub(crate) mod bundle;
pub(crate) mod patch;
pub(crate) mod presign;
pub(crate) mod soft_delete;
