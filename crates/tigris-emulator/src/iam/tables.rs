//! The IAM tables: access keys with their secrets ([`Keys`]), and the keys made through IAM,
//! policies and attachments ([`Iam`]), with the pure methods that read them, apply a journaled
//! change and rebuild them from the journal. Below the shared state, which holds them; the
//! handlers in `iam/` take them through it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::SystemTime;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::iam::policy::PolicyDocument;

/// Access keys the emulator accepts, with their secrets.
#[derive(Default)]
pub(crate) struct Keys {
    secrets: HashMap<String, String>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Ids only: secrets never reach logs.
        f.debug_set().entries(self.secrets.keys()).finish()
    }
}

impl Keys {
    pub(crate) fn insert(&mut self, id: String, secret: String) {
        self.secrets.insert(id, secret);
    }

    pub(crate) fn remove(&mut self, id: &str) {
        self.secrets.remove(id);
    }

    pub(crate) fn secret(&self, id: &str) -> Option<&str> {
        self.secrets.get(id).map(String::as_str)
    }
}

/// The policy document a key's bucket roles amount to, evaluated with its attached policies:
/// `Editor` is `s3:*` on the bucket and its objects, `ReadOnly` is `s3:GetObject` and
/// `s3:ListBucket` there (the roles of `tigris-iam`), `NamespaceAdmin` on `*` is every action
/// (S3 and IAM) on everything.
fn role_policy(roles: &[(String, String)]) -> Option<Arc<PolicyDocument>> {
    if roles.is_empty() {
        return None;
    }
    let statements: Vec<Value> = roles
        .iter()
        .map(|(bucket, role)| match role.as_str() {
            "NamespaceAdmin" => json!({"Effect": "Allow", "Action": "*", "Resource": "*"}),
            "Editor" => json!({
                "Effect": "Allow",
                "Action": "s3:*",
                "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
            }),
            _ => json!({
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
            }),
        })
        .collect();
    let text = json!({"Version": "2012-10-17", "Statement": statements}).to_string();
    // Built from checked roles, so it parses; a failure would only withhold access.
    PolicyDocument::parse(&text).ok().map(Arc::new)
}

#[derive(Debug, Clone)]
pub(super) struct KeyMeta {
    pub(super) created: SystemTime,
    /// The name given by Tigris's `CreateAccessKeyWithBucketsRole`.
    pub(super) name: Option<String>,
    /// Tigris's bucket roles, `(bucket, role)`.
    pub(super) roles: Vec<(String, String)>,
    /// The roles as a policy document, evaluated with the attached policies.
    pub(super) role_policy: Option<Arc<PolicyDocument>>,
}

impl KeyMeta {
    pub(super) fn new(
        created: SystemTime,
        name: Option<String>,
        roles: Vec<(String, String)>,
    ) -> Self {
        let role_policy = role_policy(&roles);
        Self {
            created,
            name,
            roles,
            role_policy,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Policy {
    pub(super) name: String,
    pub(super) id: String,
    pub(super) path: String,
    pub(super) description: Option<String>,
    pub(super) created: SystemTime,
    pub(crate) document: Arc<PolicyDocument>,
    /// The document as submitted, for the data directory.
    pub(super) text: String,
}

/// A policy as the console shows it.
#[derive(Debug, Clone)]
pub(crate) struct PolicyView {
    pub(crate) arn: String,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) document: String,
    pub(crate) parsed: Arc<PolicyDocument>,
    pub(crate) attachments: usize,
}

/// Access keys (id, created, attached policies) and policies, for the console.
#[derive(Debug, Clone, Default)]
pub(crate) struct IamView {
    pub(crate) keys: Vec<(String, SystemTime, Vec<PolicyView>)>,
    pub(crate) policies: Vec<PolicyView>,
}

/// Keys made through IAM, policies, and which key has which policies attached.
#[derive(Debug, Default)]
pub(crate) struct Iam {
    pub(super) keys: BTreeMap<String, KeyMeta>,
    pub(super) policies: BTreeMap<String, Policy>,
    pub(super) attachments: BTreeMap<String, BTreeSet<String>>,
    pub(super) counter: u64,
}

impl Iam {
    /// The documents of the policies attached to `user` (shared, not copied: this runs on every
    /// request signed with a scoped key).
    pub(crate) fn policies_of(&self, user: &str) -> Vec<Arc<PolicyDocument>> {
        let roles = self
            .keys
            .get(user)
            .and_then(|meta| meta.role_policy.as_ref().map(Arc::clone));
        self.attachments
            .get(user)
            .into_iter()
            .flatten()
            .filter_map(|arn| self.policies.get(arn).map(|p| Arc::clone(&p.document)))
            .chain(roles)
            .collect()
    }

    /// Access key ids, policy ARNs and `(user, policy ARN)` attachments, each sorted.
    pub(crate) fn inventory(&self) -> (Vec<String>, Vec<String>, Vec<(String, String)>) {
        let attachments = self
            .attachments
            .iter()
            .flat_map(|(user, arns)| arns.iter().map(move |arn| (user.clone(), arn.clone())))
            .collect();
        (
            self.keys.keys().cloned().collect(),
            self.policies.keys().cloned().collect(),
            attachments,
        )
    }

    /// For the console: each access key made through IAM with its creation time and the
    /// policies attached to it, and every policy `(ARN, name, description, document as
    /// submitted, attachments)`. No secret is held here (they are in [`Keys`]).
    pub(crate) fn console_view(&self) -> IamView {
        let policy_of = |arn: &String| {
            self.policies.get(arn).map(|p| PolicyView {
                arn: arn.clone(),
                name: p.name.clone(),
                description: p.description.clone(),
                document: p.text.clone(),
                parsed: Arc::clone(&p.document),
                attachments: self.attachment_count(arn),
            })
        };
        IamView {
            keys: self
                .keys
                .iter()
                .map(|(id, meta)| {
                    let policies = self
                        .attachments
                        .get(id)
                        .into_iter()
                        .flatten()
                        .filter_map(policy_of)
                        .collect();
                    (id.clone(), meta.created, policies)
                })
                .collect(),
            policies: self.policies.keys().filter_map(policy_of).collect(),
        }
    }

    pub(super) fn attachment_count(&self, arn: &str) -> usize {
        self.attachments
            .values()
            .filter(|set| set.contains(arn))
            .count()
    }

    pub(super) fn token(&mut self, prefix: &str, len: usize) -> String {
        self.counter += 1;
        // The wall clock here is entropy for the token, not a time anything is judged by.
        let seed = format!("{}:{:?}", self.counter, SystemTime::now());
        let digest = hex::encode(Sha256::digest(seed.as_bytes()));
        format!("{prefix}{}", &digest[..len])
    }
}

impl Iam {
    /// Everything IAM keeps, with the secrets of its keys from `keys`.
    pub(crate) fn dump(&self, keys: &Keys) -> crate::store::persist::IamDump {
        use crate::store::nanos;
        use crate::store::persist::{IamDump, KeyDump, PolicyDump};
        IamDump {
            keys: self
                .keys
                .iter()
                .filter_map(|(id, meta)| {
                    keys.secret(id).map(|secret| KeyDump {
                        id: id.clone(),
                        secret: secret.to_owned(),
                        created: nanos(meta.created),
                        name: meta.name.clone(),
                        roles: meta.roles.clone(),
                    })
                })
                .collect(),
            policies: self
                .policies
                .iter()
                .map(|(arn, p)| PolicyDump {
                    arn: arn.clone(),
                    name: p.name.clone(),
                    id: p.id.clone(),
                    path: p.path.clone(),
                    description: p.description.clone(),
                    created: nanos(p.created),
                    document: p.text.clone(),
                })
                .collect(),
            attachments: self
                .attachments
                .iter()
                .map(|(user, arns)| (user.clone(), arns.iter().cloned().collect()))
                .collect(),
            counter: self.counter,
        }
    }

    /// Applies one journaled change (live, after it is journaled, and at replay); the keys and
    /// secrets go to `keys`. Errors only for a replayed policy document that does not parse.
    pub(crate) fn apply(
        &mut self,
        change: crate::store::persist::IamChange,
        keys: &mut Keys,
    ) -> Result<(), String> {
        use crate::store::persist::IamChange;
        use crate::store::version_time;
        match change {
            IamChange::CreateAccessKey { key, counter } => {
                self.counter = self.counter.max(counter);
                let created = version_time(key.created);
                let meta = KeyMeta::new(created, key.name, key.roles);
                self.keys.insert(key.id.clone(), meta);
                keys.insert(key.id, key.secret);
            }
            IamChange::SetBucketRoles { id, roles } => {
                if let Some(meta) = self.keys.get_mut(&id) {
                    *meta = KeyMeta::new(meta.created, meta.name.take(), roles);
                }
            }
            IamChange::RotateAccessKey { id, secret } => {
                if self.keys.contains_key(&id) {
                    keys.insert(id, secret.0);
                }
            }
            IamChange::DeleteAccessKey { id } => {
                self.keys.remove(&id);
                self.attachments.remove(&id);
                keys.remove(&id);
            }
            IamChange::CreatePolicy { policy: p, counter } => {
                self.counter = self.counter.max(counter);
                let document = PolicyDocument::parse(&p.document)
                    .map_err(|e| format!("policy {}: {e}", p.arn))?;
                let policy = Policy {
                    name: p.name,
                    id: p.id,
                    path: p.path,
                    description: p.description,
                    created: version_time(p.created),
                    document: Arc::new(document),
                    text: p.document,
                };
                self.policies.insert(p.arn, policy);
            }
            IamChange::DeletePolicy { arn } => {
                self.policies.remove(&arn);
            }
            IamChange::AttachUserPolicy { user, arn } => {
                self.attachments.entry(user).or_default().insert(arn);
            }
            IamChange::DetachUserPolicy { user, arn } => {
                if let Some(set) = self.attachments.get_mut(&user) {
                    set.remove(&arn);
                    if set.is_empty() {
                        self.attachments.remove(&user);
                    }
                }
            }
        }
        Ok(())
    }

    /// The changes that rebuild the state as it is now, one small record each (keys with their
    /// secrets from `keys`, then policies, then attachments): what compaction journals.
    pub(crate) fn checkpoint(&self, keys: &Keys) -> Vec<crate::store::persist::IamChange> {
        use crate::store::persist::IamChange;
        let dump = self.dump(keys);
        let counter = dump.counter;
        let mut changes: Vec<IamChange> = dump
            .keys
            .into_iter()
            .map(|key| IamChange::CreateAccessKey { key, counter })
            .collect();
        changes.extend(
            dump.policies
                .into_iter()
                .map(|policy| IamChange::CreatePolicy { policy, counter }),
        );
        for (user, arns) in dump.attachments {
            changes.extend(arns.into_iter().map(|arn| IamChange::AttachUserPolicy {
                user: user.clone(),
                arn,
            }));
        }
        changes
    }

    /// Replaces the whole state with a dump (what compaction journals); the keys this IAM made
    /// leave `keys`, the dump's come in.
    pub(crate) fn replace_with(
        &mut self,
        dump: crate::store::persist::IamDump,
        keys: &mut Keys,
    ) -> Result<(), String> {
        for id in self.keys.keys() {
            keys.remove(id);
        }
        *self = Self::restore(dump, keys)?;
        Ok(())
    }

    /// Rebuilds IAM from a dump; the keys and secrets go to `keys`.
    pub(crate) fn restore(
        dump: crate::store::persist::IamDump,
        keys: &mut Keys,
    ) -> Result<Self, String> {
        use crate::store::version_time;
        let mut iam = Self {
            counter: dump.counter,
            ..Self::default()
        };
        for key in dump.keys {
            let created = version_time(key.created);
            let meta = KeyMeta::new(created, key.name, key.roles);
            iam.keys.insert(key.id.clone(), meta);
            keys.insert(key.id, key.secret);
        }
        for p in dump.policies {
            let document =
                PolicyDocument::parse(&p.document).map_err(|e| format!("policy {}: {e}", p.arn))?;
            let policy = Policy {
                name: p.name,
                id: p.id,
                path: p.path,
                description: p.description,
                created: version_time(p.created),
                document: Arc::new(document),
                text: p.document,
            };
            iam.policies.insert(p.arn, policy);
        }
        for (user, arns) in dump.attachments {
            iam.attachments.insert(user, arns.into_iter().collect());
        }
        Ok(iam)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_set_makes_a_policy() {
        let doc = role_policy(&[
            ("b-1".to_owned(), "Editor".to_owned()),
            ("b-2".to_owned(), "ReadOnly".to_owned()),
        ]);
        assert!(doc.is_some());
        assert!(role_policy(&[("*".to_owned(), "NamespaceAdmin".to_owned())]).is_some());
        assert!(role_policy(&[]).is_none());
    }
}
