//! The IAM Query API, as Tigris serves it: access keys are the users (`UserName` = access key
//! id), policies attach to them, and S3 requests signed with those keys are authorized against
//! the attached policies.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::faults::Timing;
use crate::policy::PolicyDocument;
use crate::sigv4;
use crate::state::Shared;

const NS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
/// The account id in policy ARNs.
const ACCOUNT: &str = "000000000000";

#[derive(Debug, Clone)]
struct KeyMeta {
    created: SystemTime,
}

#[derive(Debug, Clone)]
pub(crate) struct Policy {
    name: String,
    id: String,
    path: String,
    description: Option<String>,
    created: SystemTime,
    pub(crate) document: Arc<PolicyDocument>,
    /// The document as submitted, for the data directory.
    text: String,
}

/// Keys made through IAM, policies, and which key has which policies attached.
#[derive(Debug, Default)]
pub(crate) struct Iam {
    keys: BTreeMap<String, KeyMeta>,
    policies: BTreeMap<String, Policy>,
    attachments: BTreeMap<String, BTreeSet<String>>,
    counter: u64,
}

impl Iam {
    /// The documents of the policies attached to `user` (shared, not copied: this runs on every
    /// request signed with a scoped key).
    pub(crate) fn policies_of(&self, user: &str) -> Vec<Arc<PolicyDocument>> {
        self.attachments
            .get(user)
            .into_iter()
            .flatten()
            .filter_map(|arn| self.policies.get(arn).map(|p| Arc::clone(&p.document)))
            .collect()
    }

    fn attachment_count(&self, arn: &str) -> usize {
        self.attachments
            .values()
            .filter(|set| set.contains(arn))
            .count()
    }

    fn token(&mut self, prefix: &str, len: usize) -> String {
        self.counter += 1;
        let seed = format!("{}:{:?}", self.counter, SystemTime::now());
        let digest = hex::encode(Sha256::digest(seed.as_bytes()));
        format!("{prefix}{}", &digest[..len])
    }
}

/// An IAM error: HTTP status, code and message.
#[derive(Debug)]
struct IamError(u16, &'static str, String);

fn no_such_entity(what: String) -> IamError {
    IamError(404, "NoSuchEntity", what)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn iso(t: SystemTime) -> String {
    OffsetDateTime::from(t)
        .replace_nanosecond(0)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .format(&Rfc3339)
        .unwrap_or_default()
}

fn request_id() -> String {
    let seed = format!("{:?}", SystemTime::now());
    hex::encode(&Sha256::digest(seed.as_bytes())[..16])
}

fn xml_response(status: u16, body: String, request_id: &str) -> http::Response<s3s::Body> {
    let mut resp = http::Response::new(s3s::Body::from(body));
    *resp.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/xml"),
    );
    if let Ok(id) = http::HeaderValue::from_str(request_id) {
        resp.headers_mut().insert("x-amzn-requestid", id);
    }
    resp
}

pub(crate) fn error_response(status: u16, code: &str, message: &str) -> http::Response<s3s::Body> {
    let kind = if status >= 500 { "Receiver" } else { "Sender" };
    let id = request_id();
    let body = format!(
        "<ErrorResponse xmlns=\"{NS}\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error>\
         <RequestId>{id}</RequestId></ErrorResponse>",
        escape(code),
        escape(message),
    );
    xml_response(status, body, &id)
}

fn ok_response(action: &str, result: Option<String>) -> http::Response<s3s::Body> {
    let result = result
        .map(|r| format!("<{action}Result>{r}</{action}Result>"))
        .unwrap_or_default();
    let id = request_id();
    let body = format!(
        "<{action}Response xmlns=\"{NS}\">{result}<ResponseMetadata><RequestId>{id}</RequestId></ResponseMetadata></{action}Response>"
    );
    xml_response(200, body, &id)
}

fn policy_xml(iam: &Iam, arn: &str, p: &Policy) -> String {
    let mut x = format!(
        "<PolicyName>{}</PolicyName><PolicyId>{}</PolicyId><Arn>{}</Arn><Path>{}</Path>\
         <DefaultVersionId>v1</DefaultVersionId><AttachmentCount>{}</AttachmentCount>\
         <PermissionsBoundaryUsageCount>0</PermissionsBoundaryUsageCount><IsAttachable>true</IsAttachable>\
         <CreateDate>{}</CreateDate><UpdateDate>{}</UpdateDate>",
        escape(&p.name),
        p.id,
        escape(arn),
        escape(&p.path),
        iam.attachment_count(arn),
        iso(p.created),
        iso(p.created)
    );
    if let Some(d) = &p.description {
        let _ = write!(x, "<Description>{}</Description>", escape(d));
    }
    x
}

/// Whether an HTTP request is an IAM Query request (`POST /` with a form body).
pub(crate) fn is_iam_request<B>(req: &http::Request<B>) -> bool {
    req.method() == http::Method::POST
        && req.uri().path() == "/"
        && req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// Verifies and serves one IAM Query request.
pub(crate) fn handle(
    shared: &Arc<Shared>,
    parts: &http::request::Parts,
    body: &Bytes,
) -> http::Response<s3s::Body> {
    let verified = sigv4::verify(parts, body, "iam", SystemTime::now(), |ak| {
        shared.keys().secret(ak).map(str::to_owned)
    });
    let access_key = match verified {
        Ok(key) => key,
        Err(e) => {
            let status = if e == sigv4::SigError::Incomplete {
                400
            } else {
                403
            };
            return error_response(status, e.code(), e.message());
        }
    };
    let mut params: BTreeMap<String, String> =
        sigv4::parse_form(std::str::from_utf8(body).unwrap_or(""))
            .into_iter()
            .collect();
    if let Some(q) = parts.uri.query() {
        params.extend(sigv4::parse_form(q));
    }
    let action = params.get("Action").cloned().unwrap_or_default();
    let injected = shared.faults.on_request(&action, None, &parts.headers);
    if let Some((failure, Timing::Before)) = &injected {
        return error_response(
            failure.status,
            &failure.code,
            "injected by the emulator's fault injection",
        );
    }
    if let Err(IamError(status, code, message)) = authorize(
        shared,
        &access_key,
        &action,
        parts.extensions.get::<crate::auth::PeerAddr>(),
    ) {
        return error_response(status, code, &message);
    }
    let result = run(shared, &action, &params).and_then(|r| persist(shared, &action).map(|()| r));
    if let Some((failure, Timing::After)) = &injected {
        let message = "injected by the emulator's fault injection, after the action ran";
        return error_response(failure.status, &failure.code, message);
    }
    match result {
        Ok(result) => ok_response(&action, result),
        Err(IamError(status, code, message)) => error_response(status, code, &message),
    }
}

/// Records the IAM state in the data directory after an action that changed it.
fn persist(shared: &Shared, action: &str) -> Result<(), IamError> {
    const CHANGES: [&str; 6] = [
        "CreateAccessKey",
        "DeleteAccessKey",
        "CreatePolicy",
        "DeletePolicy",
        "AttachUserPolicy",
        "DetachUserPolicy",
    ];
    if !CHANGES.contains(&action) {
        return Ok(());
    }
    shared
        .persist_iam()
        .map_err(|e| IamError(500, "ServiceFailure", format!("the data directory: {e}")))
}

impl Iam {
    /// Everything IAM keeps, with the secrets of its keys from `keys`.
    pub(crate) fn dump(&self, keys: &crate::state::Keys) -> crate::persist::IamDump {
        use crate::persist::{IamDump, KeyDump, PolicyDump};
        use crate::store::nanos;
        IamDump {
            keys: self
                .keys
                .iter()
                .filter_map(|(id, meta)| {
                    keys.secret(id).map(|secret| KeyDump {
                        id: id.clone(),
                        secret: secret.to_owned(),
                        created: nanos(meta.created),
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

    /// Rebuilds IAM from a dump; the keys and secrets go to `keys`.
    pub(crate) fn restore(
        dump: crate::persist::IamDump,
        keys: &mut crate::state::Keys,
    ) -> Result<Self, String> {
        use crate::store::version_time;
        let mut iam = Self {
            counter: dump.counter,
            ..Self::default()
        };
        for key in dump.keys {
            let created = version_time(key.created);
            iam.keys.insert(key.id.clone(), KeyMeta { created });
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

/// Only the root key, or a key whose attached policies allow `iam:<Action>`, may call IAM
/// actions. The resource is `*`: the emulator has one account and no IAM resource ARNs to scope
/// by.
fn authorize(
    shared: &Shared,
    access_key: &str,
    action: &str,
    peer: Option<&crate::auth::PeerAddr>,
) -> Result<(), IamError> {
    if access_key == shared.root_access_key {
        return Ok(());
    }
    let policies = shared.iam().policies_of(access_key);
    let iam_action = format!("iam:{action}");
    let ctx = crate::policy::RequestContext {
        action: &iam_action,
        resource: "*",
        now: SystemTime::now(),
        source_ip: peer.map(|p| p.0.ip()),
    };
    if crate::policy::allowed(policies.iter().map(|p| &**p), &ctx) {
        Ok(())
    } else {
        Err(IamError(
            403,
            "AccessDenied",
            format!("User {access_key} is not authorized to perform: {iam_action}"),
        ))
    }
}

fn required<'a>(params: &'a BTreeMap<String, String>, name: &str) -> Result<&'a str, IamError> {
    params
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            IamError(
                400,
                "ValidationError",
                format!("The parameter {name} is required"),
            )
        })
}

fn run(
    shared: &Arc<Shared>,
    action: &str,
    p: &BTreeMap<String, String>,
) -> Result<Option<String>, IamError> {
    let mut iam = shared.iam();
    match action {
        "CreateAccessKey" => {
            let id = format!("tid_{}", iam.token("", 24).to_uppercase());
            let secret = iam.token("tsec_", 40);
            let created = SystemTime::now();
            iam.keys.insert(id.clone(), KeyMeta { created });
            shared.keys().insert(id.clone(), secret.clone());
            let user = p.get("UserName").cloned().unwrap_or_else(|| id.clone());
            Ok(Some(format!(
                "<AccessKey><UserName>{}</UserName><AccessKeyId>{id}</AccessKeyId><Status>Active</Status>\
                 <SecretAccessKey>{secret}</SecretAccessKey><CreateDate>{}</CreateDate></AccessKey>",
                escape(&user),
                iso(created)
            )))
        }
        "DeleteAccessKey" => {
            let id = required(p, "AccessKeyId")?;
            if iam.keys.remove(id).is_none() {
                return Err(no_such_entity(format!(
                    "The Access Key with id {id} cannot be found"
                )));
            }
            iam.attachments.remove(id);
            shared.keys().remove(id);
            Ok(None)
        }
        "ListAccessKeys" => {
            let user = p.get("UserName");
            let mut members = String::new();
            for (id, meta) in iam
                .keys
                .iter()
                .filter(|(id, _)| user.is_none_or(|u| u == *id))
            {
                let _ = write!(
                    members,
                    "<member><UserName>{id}</UserName><AccessKeyId>{id}</AccessKeyId><Status>Active</Status>\
                     <CreateDate>{}</CreateDate></member>",
                    iso(meta.created)
                );
            }
            Ok(Some(format!(
                "<AccessKeyMetadata>{members}</AccessKeyMetadata><IsTruncated>false</IsTruncated>"
            )))
        }
        "CreatePolicy" => {
            let name = required(p, "PolicyName")?;
            let text = required(p, "PolicyDocument")?;
            if name.len() > 128
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+=,.@-_".contains(c))
            {
                return Err(IamError(
                    400,
                    "ValidationError",
                    format!("Invalid policy name {name:?}"),
                ));
            }
            let path = p.get("Path").cloned().unwrap_or_else(|| "/".to_owned());
            let arn = format!("arn:aws:iam::{ACCOUNT}:policy{path}{name}");
            if iam.policies.contains_key(&arn) {
                return Err(IamError(
                    409,
                    "EntityAlreadyExists",
                    format!("A policy called {name} already exists"),
                ));
            }
            let document = PolicyDocument::parse(text)
                .map_err(|m| IamError(400, "MalformedPolicyDocument", m))?;
            let id = iam.token("ANPA", 17).to_uppercase();
            let policy = Policy {
                name: name.to_owned(),
                id,
                path,
                description: p.get("Description").cloned(),
                created: SystemTime::now(),
                document: Arc::new(document),
                text: text.to_owned(),
            };
            let xml = policy_xml(&iam, &arn, &policy);
            iam.policies.insert(arn, policy);
            Ok(Some(format!("<Policy>{xml}</Policy>")))
        }
        "GetPolicy" => {
            let arn = required(p, "PolicyArn")?;
            let policy = iam
                .policies
                .get(arn)
                .ok_or_else(|| no_such_entity(format!("Policy {arn} was not found")))?;
            Ok(Some(format!(
                "<Policy>{}</Policy>",
                policy_xml(&iam, arn, policy)
            )))
        }
        "DeletePolicy" => {
            let arn = required(p, "PolicyArn")?;
            if !iam.policies.contains_key(arn) {
                return Err(no_such_entity(format!("Policy {arn} was not found")));
            }
            if iam.attachment_count(arn) > 0 {
                return Err(IamError(
                    409,
                    "DeleteConflict",
                    "Cannot delete a policy attached to entities".into(),
                ));
            }
            iam.policies.remove(arn);
            Ok(None)
        }
        "ListPolicies" => {
            let members: String = iam
                .policies
                .iter()
                .map(|(arn, pol)| format!("<member>{}</member>", policy_xml(&iam, arn, pol)))
                .collect();
            Ok(Some(format!(
                "<Policies>{members}</Policies><IsTruncated>false</IsTruncated>"
            )))
        }
        "AttachUserPolicy" => {
            let user = required(p, "UserName")?;
            let arn = required(p, "PolicyArn")?;
            if !iam.keys.contains_key(user) {
                return Err(no_such_entity(format!(
                    "The user with name {user} cannot be found"
                )));
            }
            if !iam.policies.contains_key(arn) {
                return Err(no_such_entity(format!(
                    "Policy {arn} does not exist or is not attachable"
                )));
            }
            iam.attachments
                .entry(user.to_owned())
                .or_default()
                .insert(arn.to_owned());
            Ok(None)
        }
        "DetachUserPolicy" => {
            let user = required(p, "UserName")?;
            let arn = required(p, "PolicyArn")?;
            let removed = iam
                .attachments
                .get_mut(user)
                .is_some_and(|set| set.remove(arn));
            if !removed {
                return Err(no_such_entity(format!(
                    "Policy {arn} is not attached to user {user}"
                )));
            }
            Ok(None)
        }
        "ListAttachedUserPolicies" => {
            let user = required(p, "UserName")?;
            if !iam.keys.contains_key(user) {
                return Err(no_such_entity(format!(
                    "The user with name {user} cannot be found"
                )));
            }
            let members: String = iam
                .attachments
                .get(user)
                .into_iter()
                .flatten()
                .filter_map(|arn| iam.policies.get(arn).map(|pol| (arn, pol)))
                .map(|(arn, pol)| {
                    format!(
                        "<member><PolicyName>{}</PolicyName><PolicyArn>{}</PolicyArn></member>",
                        escape(&pol.name),
                        escape(arn)
                    )
                })
                .collect();
            Ok(Some(format!(
                "<AttachedPolicies>{members}</AttachedPolicies><IsTruncated>false</IsTruncated>"
            )))
        }
        "" => Err(IamError(
            400,
            "MissingAction",
            "The request is missing the Action parameter".into(),
        )),
        other => Err(IamError(
            400,
            "InvalidAction",
            format!("The action {other} is not valid for this endpoint"),
        )),
    }
}
