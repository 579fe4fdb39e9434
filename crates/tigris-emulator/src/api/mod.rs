//! Tigris's own endpoints outside the S3 API: the bundle download, the presign endpoint and
//! soft delete's bucket listing and restore.

pub(crate) mod bundle;
pub(crate) mod presign;
pub(crate) mod soft_delete;
