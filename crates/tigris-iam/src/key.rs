//! The secret half of an access key, and the scoped key handed back to callers.

use std::fmt;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use tigris_core::BucketName;
use zeroize::Zeroizing;

use crate::Role;

const REDACTED: &str = "** redacted **";

/// The secret half of an access key.
///
/// Its `Debug` is redacted, it has no `Display` and no `Serialize`, and its memory is zeroed on
/// drop. [`expose_secret`](Self::expose_secret) is the only way to read it.
///
/// ```
/// use tigris_iam::SecretAccessKey;
/// let secret = SecretAccessKey::from("tsec_example".to_owned());
/// assert_eq!(format!("{secret:?}"), "SecretAccessKey(** redacted **)");
/// assert_eq!(secret.expose_secret(), "tsec_example");
/// ```
#[derive(Clone)]
pub struct SecretAccessKey(Zeroizing<String>);

impl SecretAccessKey {
    /// The secret itself. Hand it to a credentials provider; never log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl From<String> for SecretAccessKey {
    fn from(secret: String) -> Self {
        Self(Zeroizing::new(secret))
    }
}

impl fmt::Debug for SecretAccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretAccessKey({REDACTED})")
    }
}

/// An access key that may only act on its buckets, with its role, until its expiry.
///
/// Made by [`TigrisIam::create_scoped_key`](crate::TigrisIam::create_scoped_key). The key stays
/// valid until [`TigrisIam::revoke`](crate::TigrisIam::revoke) removes it (or until its expiry,
/// after which it is useless but still present); dropping this value does not revoke it. To
/// revoke later from another process, keep [`access_key_id`](Self::access_key_id) and
/// [`policy_arn`](Self::policy_arn) and call [`TigrisIam::revoke_ids`](crate::TigrisIam::revoke_ids).
///
/// `Debug` shows everything but the secret.
#[derive(Clone)]
#[must_use = "the key stays valid until it is revoked with TigrisIam::revoke"]
pub struct ScopedAccessKey {
    pub(crate) access_key_id: String,
    pub(crate) secret: SecretAccessKey,
    pub(crate) policy_name: String,
    pub(crate) policy_arn: String,
    pub(crate) buckets: Vec<BucketName>,
    pub(crate) role: Role,
    pub(crate) expires_at: Option<SystemTime>,
}

impl ScopedAccessKey {
    /// The access key id; on Tigris also the IAM user name the policy is attached to.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The secret access key.
    pub fn secret(&self) -> &SecretAccessKey {
        &self.secret
    }

    /// The name of the policy that scopes the key.
    pub fn policy_name(&self) -> &str {
        &self.policy_name
    }

    /// The ARN of the policy that scopes the key.
    pub fn policy_arn(&self) -> &str {
        &self.policy_arn
    }

    /// The buckets the key may act on.
    pub fn buckets(&self) -> &[BucketName] {
        &self.buckets
    }

    /// What the key may do in its buckets.
    pub fn role(&self) -> Role {
        self.role
    }

    /// When the policy stops allowing anything, to the second; `None` if it never does.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }

    /// The key as SDK credentials, for example for an `aws-sdk-s3` client used by an agent.
    ///
    /// The credentials carry the key's expiry, if any. They are redacted in `Debug` too.
    pub fn to_credentials(&self) -> Credentials {
        Credentials::new(
            self.access_key_id.clone(),
            self.secret.expose_secret().to_owned(),
            None,
            self.expires_at,
            "tigris-iam",
        )
    }
}

impl fmt::Debug for ScopedAccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field fails to compile here until someone decides whether
        // it is secret.
        let Self {
            access_key_id,
            secret: _,
            policy_name,
            policy_arn,
            buckets,
            role,
            expires_at,
        } = self;
        f.debug_struct("ScopedAccessKey")
            .field("access_key_id", access_key_id)
            .field("secret", &format_args!("{REDACTED}"))
            .field("policy_name", policy_name)
            .field("policy_arn", policy_arn)
            .field("buckets", buckets)
            .field("role", role)
            .field("expires_at", expires_at)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "tsec_not-a-real-secret";

    fn key(expires_at: Option<SystemTime>) -> ScopedAccessKey {
        ScopedAccessKey {
            access_key_id: "tid_example".to_owned(),
            secret: SecretAccessKey::from(SECRET.to_owned()),
            policy_name: "ws-1-key-policy-tid_example".to_owned(),
            policy_arn: "arn:aws:iam::000000000000:policy/ws-1-key-policy-tid_example".to_owned(),
            buckets: vec![BucketName::new("ws-1").unwrap()],
            role: Role::Editor,
            expires_at,
        }
    }

    #[test]
    fn secret_debug_is_pinned_and_redacted() {
        let secret = SecretAccessKey::from(SECRET.to_owned());
        assert_eq!(format!("{secret:?}"), "SecretAccessKey(** redacted **)");
        assert_eq!(format!("{secret:#?}"), "SecretAccessKey(** redacted **)");
        assert_eq!(secret.expose_secret(), SECRET);
    }

    #[test]
    fn scoped_key_debug_is_pinned_and_redacted() {
        let key = key(None);
        assert_eq!(
            format!("{key:?}"),
            "ScopedAccessKey { access_key_id: \"tid_example\", secret: ** redacted **, policy_name: \
             \"ws-1-key-policy-tid_example\", policy_arn: \
             \"arn:aws:iam::000000000000:policy/ws-1-key-policy-tid_example\", buckets: [BucketName(\"ws-1\")], \
             role: Editor, expires_at: None }"
        );
        assert_eq!(
            format!("{key:#?}"),
            r#"ScopedAccessKey {
    access_key_id: "tid_example",
    secret: ** redacted **,
    policy_name: "ws-1-key-policy-tid_example",
    policy_arn: "arn:aws:iam::000000000000:policy/ws-1-key-policy-tid_example",
    buckets: [
        BucketName(
            "ws-1",
        ),
    ],
    role: Editor,
    expires_at: None,
}"#
        );
    }

    #[test]
    fn no_debug_form_of_a_secret_holder_contains_the_secret() {
        let key = key(Some(SystemTime::UNIX_EPOCH));
        let shown = [
            format!("{key:?}"),
            format!("{key:#?}"),
            format!("{:?}", key.secret()),
            format!("{:#?}", key.secret()),
            format!("{:?}", key.to_credentials()),
            format!("{:#?}", key.to_credentials()),
        ];
        for text in shown {
            assert!(!text.contains(SECRET), "{text}");
            assert!(!text.contains("not-a-real"), "{text}");
        }
    }

    #[test]
    fn credentials_carry_the_key_and_its_expiry() {
        let expiry = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(2_000_000_000);
        let creds = key(Some(expiry)).to_credentials();
        assert_eq!(creds.access_key_id(), "tid_example");
        assert_eq!(creds.secret_access_key(), SECRET);
        assert_eq!(creds.session_token(), None);
        assert_eq!(creds.expiry(), Some(expiry));
    }
}
