//! Tigris header names the emulator reads and writes (lower case, as on the wire after hyper).

pub(crate) const ENABLE_SNAPSHOT: &str = "x-tigris-enable-snapshot";
pub(crate) const SNAPSHOT: &str = "x-tigris-snapshot";
pub(crate) const SNAPSHOT_VERSION: &str = "x-tigris-snapshot-version";
pub(crate) const FORK_SOURCE_BUCKET: &str = "x-tigris-fork-source-bucket";
pub(crate) const FORK_SOURCE_SNAPSHOT: &str = "x-tigris-fork-source-bucket-snapshot";
pub(crate) const IS_FORK_PARENT: &str = "x-tigris-is-fork-parent";
pub(crate) const FORCE_DELETE: &str = "tigris-force-delete";
pub(crate) const X_FORCE_DELETE: &str = "x-tigris-force-delete";
pub(crate) const RENAME: &str = "x-tigris-rename";
pub(crate) const QUERY: &str = "x-tigris-query";
pub(crate) const MERGE_SOURCE_BUCKET: &str = "x-tigris-merge-source-bucket";
pub(crate) const REBASE: &str = "x-tigris-rebase";
pub(crate) const FORK: &str = "x-tigris-fork";
pub(crate) const SOFT_DELETE: &str = "x-tigris-soft-delete";
pub(crate) const RESTORE_TYPE: &str = "x-tigris-restore-type";
pub(crate) const RESTORE_VERSION: &str = "x-tigris-restore-version";
