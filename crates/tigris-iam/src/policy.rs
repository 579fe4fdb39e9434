//! Roles and the bucket-scoped policy document they become.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use tigris_core::BucketName;

/// The policy actions Tigris accepts (its IAM documentation's full list); a policy naming any
/// other action is refused when it is created. `s3:*` and other wildcards are accepted too.
/// Every [`Role`]'s actions are on this list.
pub const SUPPORTED_ACTIONS: &[&str] = &[
    "s3:AbortMultipartUpload",
    "s3:CreateBucket",
    "s3:DeleteBucket",
    "s3:DeleteObject",
    "s3:DeleteObjectTagging",
    "s3:GetAccelerateConfiguration",
    "s3:GetBucketAcl",
    "s3:GetBucketCORS",
    "s3:GetBucketOwnershipControls",
    "s3:GetBucketPolicyStatus",
    "s3:GetBucketRequestPayment",
    "s3:GetBucketTagging",
    "s3:GetLifecycleConfiguration",
    "s3:GetObject",
    "s3:GetObjectAcl",
    "s3:GetObjectTagging",
    "s3:ListAllMyBuckets",
    "s3:ListBucket",
    "s3:ListBucketMultipartUploads",
    "s3:ListMultipartUploadParts",
    "s3:PutAccelerateConfiguration",
    "s3:PutBucketAcl",
    "s3:PutBucketCORS",
    "s3:PutLifecycleConfiguration",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketTagging",
    "s3:PutObject",
    "s3:PutObjectAcl",
    "s3:PutObjectTagging",
    "s3:RestoreObject",
];

/// What a scoped key may do in its buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Role {
    /// Read objects and list the bucket: `s3:GetObject`, `s3:ListBucket`. The default, as the
    /// least privilege.
    #[default]
    ReadOnly,
    /// Everything in the bucket: `s3:*`.
    Editor,
}

impl Role {
    /// The IAM actions the role allows.
    ///
    /// ```
    /// use tigris_iam::Role;
    /// assert_eq!(Role::Editor.actions(), ["s3:*"]);
    /// ```
    pub fn actions(self) -> &'static [&'static str] {
        match self {
            Self::ReadOnly => &["s3:GetObject", "s3:ListBucket"],
            Self::Editor => &["s3:*"],
        }
    }

    /// The role's name, as Tigris spells it (`Editor`, `ReadOnly`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadOnly => "ReadOnly",
            Self::Editor => "Editor",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a string is not a [`Role`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownRole(String);

impl fmt::Display for UnknownRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown role {:?}: expected \"Editor\" or \"ReadOnly\"",
            self.0
        )
    }
}

impl std::error::Error for UnknownRole {}

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ReadOnly" => Ok(Self::ReadOnly),
            "Editor" => Ok(Self::Editor),
            other => Err(UnknownRole(other.to_owned())),
        }
    }
}

/// An IAM policy document, typed so that no field can be misspelled or mis-escaped.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PolicyDocument {
    version: &'static str,
    statement: Vec<Statement>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Statement {
    effect: Effect,
    action: &'static [&'static str],
    resource: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    condition: Option<Condition>,
}

#[derive(Debug, Serialize)]
enum Effect {
    Allow,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Condition {
    date_less_than: CurrentTime,
}

#[derive(Debug, Serialize)]
struct CurrentTime {
    /// RFC 3339, UTC.
    #[serde(rename = "aws:CurrentTime")]
    current_time: String,
}

impl PolicyDocument {
    /// One statement allowing `role`'s actions on each bucket and every object in it, until
    /// `expires_at` (RFC 3339, UTC) if given.
    pub(crate) fn scoped(buckets: &[BucketName], role: Role, expires_at: Option<String>) -> Self {
        let resource = buckets
            .iter()
            .flat_map(|b| [format!("arn:aws:s3:::{b}"), format!("arn:aws:s3:::{b}/*")])
            .collect();
        let condition = expires_at.map(|current_time| Condition {
            date_less_than: CurrentTime { current_time },
        });
        Self {
            version: "2012-10-17",
            statement: vec![Statement {
                effect: Effect::Allow,
                action: role.actions(),
                resource,
                condition,
            }],
        }
    }

    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string(self)
            .expect("a document of strings and string lists always serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_names_only_actions_tigris_supports() {
        for role in [Role::ReadOnly, Role::Editor] {
            for action in role.actions() {
                let wildcard = action.ends_with('*');
                assert!(
                    wildcard || SUPPORTED_ACTIONS.contains(action),
                    "{role} names {action}, which Tigris refuses"
                );
            }
        }
        assert!(!SUPPORTED_ACTIONS.contains(&"s3:GetBucketLocation"));
    }

    fn bucket(name: &str) -> BucketName {
        BucketName::new(name).unwrap()
    }

    #[test]
    fn editor_policy_allows_everything_in_the_bucket() {
        let doc = PolicyDocument::scoped(&[bucket("ws-1")], Role::Editor, None).to_json();
        assert_eq!(
            doc,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":["arn:aws:s3:::ws-1","arn:aws:s3:::ws-1/*"]}]}"#
        );
    }

    #[test]
    fn read_only_policy_allows_get_list_and_location() {
        let doc = PolicyDocument::scoped(&[bucket("ws-1")], Role::ReadOnly, None).to_json();
        assert_eq!(
            doc,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::ws-1","arn:aws:s3:::ws-1/*"]}]}"#
        );
    }

    #[test]
    fn editor_policy_with_expiry_has_a_current_time_condition() {
        let expiry = Some("2030-01-02T03:04:05Z".to_owned());
        let doc = PolicyDocument::scoped(&[bucket("ws-1")], Role::Editor, expiry).to_json();
        assert_eq!(
            doc,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":["arn:aws:s3:::ws-1","arn:aws:s3:::ws-1/*"],"Condition":{"DateLessThan":{"aws:CurrentTime":"2030-01-02T03:04:05Z"}}}]}"#
        );
    }

    #[test]
    fn read_only_policy_with_expiry_has_a_current_time_condition() {
        let expiry = Some("2030-01-02T03:04:05Z".to_owned());
        let doc = PolicyDocument::scoped(&[bucket("ws-1")], Role::ReadOnly, expiry).to_json();
        assert_eq!(
            doc,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::ws-1","arn:aws:s3:::ws-1/*"],"Condition":{"DateLessThan":{"aws:CurrentTime":"2030-01-02T03:04:05Z"}}}]}"#
        );
    }

    #[test]
    fn several_buckets_share_one_statement() {
        let doc =
            PolicyDocument::scoped(&[bucket("a-1"), bucket("b-2")], Role::ReadOnly, None).to_json();
        let value: serde_json::Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(
            value["Statement"][0]["Resource"],
            serde_json::json!([
                "arn:aws:s3:::a-1",
                "arn:aws:s3:::a-1/*",
                "arn:aws:s3:::b-2",
                "arn:aws:s3:::b-2/*"
            ])
        );
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in [Role::Editor, Role::ReadOnly] {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        let err = "Admin".parse::<Role>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown role \"Admin\": expected \"Editor\" or \"ReadOnly\""
        );
        assert_eq!(Role::default(), Role::ReadOnly);
    }
}
