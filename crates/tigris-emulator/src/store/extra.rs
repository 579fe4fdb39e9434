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
    /// The storage class a lifecycle transition moved the object to; `None` is the class it
    /// was written with (STANDARD).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) storage_class: Option<String>,
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
