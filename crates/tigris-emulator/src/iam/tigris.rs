//! Tigris's own IAM actions, as `@tigrisdata/iam` (and through it the `tigris` CLI) calls them:
//! keys with a role per bucket (`CreateAccessKeyWithBucketsRole`,
//! `UpdateAccessKeyWithBucketsRole`), `RotateAccessKey`, the detailed key listing
//! (`POST /?Detailed`), `ListUserPolicies`, JSON answers to the standard policy actions, and the
//! mgmt endpoint's `GET /users/whoami`. Answers are JSON (`application/json`), as that client
//! parses them.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};

use super::{
    ACCOUNT, Iam, IamError, KeyMeta, Policy, USER_NAME, check, checked, iso, no_such_entity,
    optional,
};
use crate::state::Shared;

/// The roles a key may have on a bucket, as Tigris names them. `NamespaceAdmin` only on `*`.
pub(super) const ROLES: [&str; 3] = ["Editor", "ReadOnly", "NamespaceAdmin"];
/// The longest key name taken (Tigris documents none; the emulator's choice).
const MAX_NAME: usize = 128;
/// The most bucket roles one key may have (Tigris documents none; the emulator's choice).
const MAX_ROLES: usize = 100;
/// The organization id the emulator reports (the account id of its ARNs).
pub(super) const NAMESPACE: &str = ACCOUNT;

/// What an action answers: AWS Query XML (the result element, if any) or JSON.
#[derive(Debug)]
pub(super) enum Reply {
    Xml(Option<String>),
    Json(Value),
}

fn invalid(message: impl Into<String>) -> IamError {
    IamError(400, "ValidationError", message.into())
}

/// The JSON request of `CreateAccessKeyWithBucketsRole` / `UpdateAccessKeyWithBucketsRole`:
/// the `Req` form parameter.
pub(super) fn req(p: &BTreeMap<String, String>) -> Result<Value, IamError> {
    let text = p
        .get("Req")
        .filter(|r| !r.is_empty())
        .ok_or_else(|| invalid("The parameter Req is required"))?;
    let value: Value = serde_json::from_str(text)
        .map_err(|e| invalid(format!("Req is not a JSON object: {e}")))?;
    if !value.is_object() {
        return Err(invalid("Req is not a JSON object"));
    }
    Ok(value)
}

/// `buckets_role`: `[{"bucket", "role"}]`, each bucket once, `NamespaceAdmin` alone on `*`.
/// Missing means none. A bucket is a name the emulator could create (s3s's rule, as CreateBucket
/// checks it).
pub(super) fn parse_roles(req: &Value) -> Result<Vec<(String, String)>, IamError> {
    let list = match &req["buckets_role"] {
        Value::Null => return Ok(Vec::new()),
        Value::Array(list) => list,
        _ => return Err(invalid("buckets_role must be a list of {bucket, role}")),
    };
    if list.len() > MAX_ROLES {
        return Err(invalid(format!(
            "a key may have at most {MAX_ROLES} bucket roles"
        )));
    }
    let mut roles: Vec<(String, String)> = Vec::with_capacity(list.len());
    for entry in list {
        let (Some(bucket), Some(role)) = (entry["bucket"].as_str(), entry["role"].as_str()) else {
            return Err(invalid(
                "each buckets_role entry needs a bucket and a role, both strings",
            ));
        };
        if !ROLES.contains(&role) {
            return Err(invalid(format!(
                "role {role:?} is not one of {}",
                ROLES.join(", ")
            )));
        }
        if (bucket == "*") != (role == "NamespaceAdmin") {
            return Err(invalid(
                "the NamespaceAdmin role goes with the bucket \"*\" only, and \"*\" with it only",
            ));
        }
        if bucket != "*" && !s3s::path::check_bucket_name(bucket) {
            return Err(invalid(format!("{bucket:?} is not a valid bucket name")));
        }
        if roles.iter().any(|(b, _)| b == bucket) {
            return Err(invalid(format!(
                "bucket {bucket} is given more than one role"
            )));
        }
        roles.push((bucket.to_owned(), role.to_owned()));
    }
    if roles.len() > 1 && roles.iter().any(|(b, _)| b == "*") {
        return Err(invalid(
            "the bucket \"*\" must be the key's only bucket role",
        ));
    }
    Ok(roles)
}

fn roles_json(roles: &[(String, String)]) -> Value {
    roles
        .iter()
        .map(|(bucket, role)| json!({"bucket": bucket, "role": role}))
        .collect()
}

fn success(message: &str, operation: &str) -> Value {
    json!({"status": "success", "message": message, "operation": operation})
}

/// The key named by the request, which must be one made through IAM.
fn known_key<'a>(iam: &'a Iam, id: &str) -> Result<&'a KeyMeta, IamError> {
    iam.keys
        .get(id)
        .ok_or_else(|| no_such_entity(format!("The Access Key with id {id} cannot be found")))
}

/// Serves the actions of this module; `None` for any other (the standard actions).
pub(super) fn run(
    shared: &Arc<Shared>,
    action: &str,
    p: &BTreeMap<String, String>,
    json: bool,
) -> Option<Result<Reply, IamError>> {
    Some(match action {
        "CreateAccessKeyWithBucketsRole" => create_with_roles(shared, p),
        "UpdateAccessKeyWithBucketsRole" => update_roles(shared, p),
        "RotateAccessKey" => rotate(shared, p),
        "ListAccessKeys" if p.contains_key("Detailed") => list_detailed(shared, p),
        "ListUserPolicies" => list_user_policies(shared, p, json),
        _ => return None,
    })
}

fn create_with_roles(
    shared: &Arc<Shared>,
    p: &BTreeMap<String, String>,
) -> Result<Reply, IamError> {
    let req = req(p)?;
    let name = req["name"]
        .as_str()
        .ok_or_else(|| invalid("Req needs a name"))?;
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME || name.chars().any(char::is_control) {
        return Err(invalid(format!(
            "the key name must be 1 to {MAX_NAME} characters without control characters"
        )));
    }
    let roles = parse_roles(&req)?;
    let (id, secret, created) =
        super::create_key(shared, &mut shared.iam(), Some(name.to_owned()), roles)?;
    Ok(Reply::Json(json!({
        "CreateAccessKeyResult": {"AccessKey": {
            "AccessKeyId": id,
            "SecretAccessKey": secret,
            "UserName": name,
            "Status": "Active",
            "CreateDate": iso(created),
        }}
    })))
}

fn update_roles(shared: &Arc<Shared>, p: &BTreeMap<String, String>) -> Result<Reply, IamError> {
    let req = req(p)?;
    let id = req["id"]
        .as_str()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| invalid("Req needs the key's id"))?;
    check("id", id, USER_NAME)?;
    // The list is the key's whole new set of roles (the client merges before sending).
    let roles = parse_roles(&req)?;
    let mut iam = shared.iam();
    known_key(&iam, id)?;
    let change = crate::store::persist::IamChange::SetBucketRoles {
        id: id.to_owned(),
        roles,
    };
    super::commit(shared, &mut iam, change)?;
    Ok(Reply::Json(success(
        "bucket roles updated",
        "UpdateAccessKeyWithBucketsRole",
    )))
}

fn rotate(shared: &Arc<Shared>, p: &BTreeMap<String, String>) -> Result<Reply, IamError> {
    let id = checked(p, "AccessKeyId", USER_NAME)?;
    let mut iam = shared.iam();
    known_key(&iam, id)?;
    let secret = iam.token("tsec_", 40);
    let change = crate::store::persist::IamChange::RotateAccessKey {
        id: id.to_owned(),
        secret: crate::store::persist::SecretText(secret.clone()),
    };
    super::commit(shared, &mut iam, change)?;
    Ok(Reply::Json(json!({
        "status": "success",
        "message": "access key rotated",
        "rotate_access_key_result": {"id": id, "new_secret": secret},
    })))
}

/// `MaxItems` (1–1000, default 1000).
fn max_items(p: &BTreeMap<String, String>) -> Result<usize, IamError> {
    match p.get("MaxItems") {
        None => Ok(1000),
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| invalid(format!("MaxItems {v:?} is not a number from 1 to 1000"))),
    }
}

/// The detailed listing: every key made through IAM (or the one `KeyId` names), in id order,
/// `MaxItems` a page; `Marker` is the last id of the previous page.
fn list_detailed(shared: &Arc<Shared>, p: &BTreeMap<String, String>) -> Result<Reply, IamError> {
    let key_id = optional(p, "KeyId", USER_NAME)?;
    let marker = p.get("Marker").map(String::as_str).unwrap_or_default();
    let max = max_items(p)?;
    let iam = shared.iam();
    let mut listed = iam
        .keys
        .iter()
        .filter(|(id, _)| key_id.is_none_or(|k| k == *id))
        .filter(|(id, _)| marker.is_empty() || id.as_str() > marker);
    let page: Vec<(&String, &KeyMeta)> = listed.by_ref().take(max).collect();
    let truncated = listed.next().is_some();
    let next = if truncated {
        page.last().map(|(id, _)| id.as_str()).unwrap_or_default()
    } else {
        ""
    };
    let keys: Vec<Value> = page
        .iter()
        .map(|(id, meta)| {
            json!({
                "access_key_id": id,
                "username": meta.name.as_deref().unwrap_or_default(),
                "created_at": iso(meta.created),
                "status": "active",
                "namespace_id": NAMESPACE,
                "buckets_role": roles_json(&meta.roles),
            })
        })
        .collect();
    Ok(Reply::Json(
        json!({"IsTruncated": truncated, "Marker": next, "Keys": keys}),
    ))
}

/// The names of the policies attached to `UserName` (on Tigris, an access key id).
fn list_user_policies(
    shared: &Arc<Shared>,
    p: &BTreeMap<String, String>,
    json: bool,
) -> Result<Reply, IamError> {
    let user = checked(p, "UserName", USER_NAME)?;
    let iam = shared.iam();
    known_key(&iam, user)?;
    let names: Vec<&str> = iam
        .attachments
        .get(user)
        .into_iter()
        .flatten()
        .filter_map(|arn| iam.policies.get(arn).map(|pol| pol.name.as_str()))
        .collect();
    if json {
        return Ok(Reply::Json(json!({
            "ListUserPoliciesResult": {"PolicyNames": names, "IsTruncated": false, "Marker": ""}
        })));
    }
    let members: String = names
        .iter()
        .map(|n| format!("<member>{}</member>", super::escape(n)))
        .collect();
    Ok(Reply::Xml(Some(format!(
        "<PolicyNames>{members}</PolicyNames><IsTruncated>false</IsTruncated>"
    ))))
}

/// A policy as `@tigrisdata/iam` reads it (`Policy` of `CreatePolicyResult`, `GetPolicyResult`,
/// `ListPoliciesResult.Policies`).
fn policy_json(iam: &Iam, arn: &str, p: &Policy) -> Value {
    json!({
        "PolicyName": p.name,
        "PolicyId": p.id,
        "Arn": arn,
        "Path": p.path,
        "DefaultVersionId": "v1",
        "AttachmentCount": iam.attachment_count(arn),
        "IsAttachable": true,
        "CreateDate": iso(p.created),
        "UpdateDate": iso(p.created),
        "Description": p.description.as_deref().unwrap_or_default(),
    })
}

/// The JSON form of a standard action's answer, for a request that accepts JSON: the policy
/// actions' results, and an empty result for the actions that have none. Any other stays XML.
pub(super) fn as_json(
    shared: &Arc<Shared>,
    action: &str,
    p: &BTreeMap<String, String>,
    xml: Option<String>,
) -> Reply {
    let iam = shared.iam();
    let policy = |arn: &str| iam.policies.get(arn).map(|pol| policy_json(&iam, arn, pol));
    let value = match action {
        "CreatePolicy" => {
            let path = p.get("Path").map_or("/", String::as_str);
            let name = p.get("PolicyName").map(String::as_str).unwrap_or_default();
            policy(&format!("arn:aws:iam::{ACCOUNT}:policy{path}{name}"))
                .map(|pol| json!({"CreatePolicyResult": {"Policy": pol}}))
        }
        "GetPolicy" => p
            .get("PolicyArn")
            .and_then(|arn| policy(arn))
            .map(|pol| json!({"GetPolicyResult": {"Policy": pol}})),
        "ListPolicies" => {
            let all: Vec<Value> = iam
                .policies
                .iter()
                .map(|(arn, pol)| policy_json(&iam, arn, pol))
                .collect();
            Some(json!({"ListPoliciesResult": {
                "IsTruncated": false, "Marker": "", "Policies": all
            }}))
        }
        "DeleteAccessKey" | "DeletePolicy" | "AttachUserPolicy" | "DetachUserPolicy"
            if xml.is_none() =>
        {
            Some(json!({}))
        }
        _ => None,
    };
    value.map_or(Reply::Xml(xml), Reply::Json)
}

/// Whether a request is the mgmt endpoint's `GET /users/whoami` as `@tigrisdata/iam` sends it:
/// a GET of that path with `Content-Type: application/json` (which no S3 GetObject carries),
/// so an object `whoami` in a bucket `users` stays reachable through S3.
pub(crate) fn is_whoami<B>(req: &http::Request<B>) -> bool {
    req.method() == http::Method::GET
        && req.uri().path() == "/users/whoami"
        && req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"))
}

/// `GET /users/whoami`, signed like IAM requests: `{"UserId", "NamespaceId"}`, the user being
/// the signing key (on Tigris a key stands for its user).
pub(crate) fn whoami(
    shared: &Arc<Shared>,
    parts: &http::request::Parts,
) -> http::Response<s3s::Body> {
    match super::verify(shared, parts, &bytes::Bytes::new()) {
        Ok(key) => {
            let body = json!({"UserId": key, "NamespaceId": NAMESPACE});
            super::json_response(200, &body, &super::request_id())
        }
        Err(resp) => *resp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(v: Value) -> Result<Vec<(String, String)>, IamError> {
        parse_roles(&json!({ "buckets_role": v }))
    }

    #[test]
    fn roles_are_checked() {
        assert!(
            roles(
                json!([{"bucket": "b-1", "role": "Editor"}, {"bucket": "b-2", "role": "ReadOnly"}])
            )
            .is_ok()
        );
        assert!(roles(json!([{"bucket": "*", "role": "NamespaceAdmin"}])).is_ok());
        assert!(roles(json!([])).unwrap().is_empty());
        for bad in [
            json!([{"bucket": "b-1", "role": "Owner"}]),
            json!([{"bucket": "*", "role": "Editor"}]),
            json!([{"bucket": "b-1", "role": "NamespaceAdmin"}]),
            json!([{"bucket": "B_1", "role": "Editor"}]),
            json!([{"bucket": "b..1", "role": "Editor"}]),
            json!([{"bucket": "b-1", "role": "Editor"}, {"bucket": "b-1", "role": "ReadOnly"}]),
            json!([{"bucket": "b-1"}]),
            json!({"bucket": "b-1", "role": "Editor"}),
        ] {
            assert!(roles(bad.clone()).is_err(), "{bad}");
        }
    }
}
