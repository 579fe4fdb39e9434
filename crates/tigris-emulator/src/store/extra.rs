//! What S3 keeps beside an object's body and metadata (stored headers, tags, canned ACL,
//! checksums, multipart part sizes) and beside a bucket's objects (tags, CORS, canned ACL,
//! ownership controls, public access block, policy). Both are journaled with the object or
//! bucket they belong to, so they survive a restart with `--data-dir`.

use serde::{Deserialize, Serialize};

/// Per-object state beyond body, content type and user metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct ObjectExtra {
    /// Stored response headers (`cache-control`, `content-disposition`, `content-encoding`,
    /// `content-language`, `expires`), lower-case names, as the writer sent them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) headers: Vec<(String, String)>,
    /// The object's tag set, in the order it was given.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) tags: Vec<(String, String)>,
    /// Canned ACL (`public-read`, ...); `None` is `private`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) acl: Option<String>,
    /// Checksums the writer asked for, by algorithm (`CRC32`, `CRC32C`, `CRC64NVME`, `SHA1`,
    /// `SHA256`): base64 value, and whether it is a composite of parts (`-N` suffix).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) checksums: Vec<(String, String)>,
    /// Sizes of the parts of a multipart object, in part order; empty for a single PUT.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) parts: Vec<u64>,
    /// The object's storage class when it is not STANDARD: as written (`x-amz-storage-class`,
    /// or the bucket's default tier) or as a lifecycle transition moved it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) storage_class: Option<String>,
    /// The last RestoreObject of an archive-tier (GLACIER) object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) restore: Option<ArchiveRestore>,
}

/// A restore of an archived object: when its readable copy is ready and when it expires, in
/// milliseconds since the Unix epoch by the emulator's clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ArchiveRestore {
    pub(crate) ready_ms: u64,
    pub(crate) expiry_ms: u64,
}

/// Where an archived object's restore stands at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RestoreState {
    /// Not archived (any class but GLACIER): readable, nothing to restore.
    NotArchived,
    /// Archived with no restore, or the restored copy expired.
    Archived,
    /// Restore requested; the copy is not ready yet.
    Ongoing,
    /// The copy is readable until `expiry_ms`.
    Restored { expiry_ms: u64 },
}

/// The archive storage class (Tigris's Archive tier): readable only once restored.
pub(crate) const ARCHIVE_CLASS: &str = "GLACIER";

impl ObjectExtra {
    /// The restore state at `now_ms` (milliseconds since the Unix epoch).
    pub(crate) fn restore_state(&self, now_ms: u64) -> RestoreState {
        if self.storage_class.as_deref() != Some(ARCHIVE_CLASS) {
            return RestoreState::NotArchived;
        }
        match self.restore {
            Some(r) if now_ms >= r.expiry_ms => RestoreState::Archived,
            Some(r) if now_ms < r.ready_ms => RestoreState::Ongoing,
            Some(r) => RestoreState::Restored {
                expiry_ms: r.expiry_ms,
            },
            None => RestoreState::Archived,
        }
    }
}

impl ObjectExtra {
    pub(crate) fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// Per-bucket S3 configuration beyond lifecycle and Tigris's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct BucketExtra {
    /// The bucket's tag set; `None` when it has none (GetBucketTagging answers NoSuchTagSet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tags: Option<Vec<(String, String)>>,
    /// The CORS rules, in order (the first that matches a request applies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cors: Option<Vec<CorsRule>>,
    /// `BucketOwnerEnforced`, `BucketOwnerPreferred` or `ObjectWriter`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ownership: Option<String>,
    /// The public access block: BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy,
    /// RestrictPublicBuckets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) public_access_block: Option<[bool; 4]>,
    /// The bucket policy document as sent (JSON).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) policy: Option<String>,
}

impl BucketExtra {
    pub(crate) fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// One CORS rule as PutBucketCors gave it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct CorsRule {
    pub(crate) id: Option<String>,
    pub(crate) allowed_origins: Vec<String>,
    pub(crate) allowed_methods: Vec<String>,
    pub(crate) allowed_headers: Vec<String>,
    pub(crate) expose_headers: Vec<String>,
    pub(crate) max_age_seconds: Option<i32>,
}
