//! The IAM Query API, as Tigris serves it: access keys are the users (`UserName` = access key
//! id), policies attach to them, and S3 requests signed with those keys are authorized against
//! the attached policies.

pub(crate) mod policy;
pub(crate) mod tables;
mod tigris;

pub(crate) use tigris::{is_whoami, whoami};

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::http::faults::Timing;
use crate::http::sigv4;
use crate::iam::policy::PolicyDocument;
use crate::iam::tables::{Iam, KeyMeta, Policy};
use crate::state::Shared;

const NS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
/// The account id in policy ARNs.
const ACCOUNT: &str = "000000000000";

/// An IAM error: HTTP status, code and message.
#[derive(Debug)]
struct IamError(u16, &'static str, String);

fn no_such_entity(what: String) -> IamError {
    IamError(404, "NoSuchEntity", what)
}

/// Escapes text for an XML element. `\r` becomes a character reference, since XML readers turn
/// a raw one into `\n`; characters XML 1.0 cannot carry at all (most C0 controls, U+FFFE,
/// U+FFFF), which only an error message echoing a refused value can hold, become U+FFFD.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
            '\t' | '\n' => out.push(c),
            '\u{0}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// The largest policy document IAM takes, in characters other than white space (the
/// `PolicySize` quota of a managed policy).
const MAX_POLICY_SIZE: usize = 6144;
/// The longest `PolicyDocument` parameter the IAM API takes at all.
const MAX_POLICY_PARAMETER: usize = 131_072;

/// One parameter constraint from the IAM API reference, checked as AWS checks it.
#[derive(Debug, Clone, Copy)]
struct Constraint {
    /// Shortest and longest allowed value, in characters.
    len: (usize, usize),
    /// The pattern as AWS documents it, quoted in the error message.
    pattern: Option<&'static str>,
    /// Whether a character is allowed (the pattern, for the patterns that are character sets).
    allowed: fn(&str) -> bool,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

/// `[\w+=,.@-]+`: policy and user names.
fn is_name(s: &str) -> bool {
    s.chars().all(is_name_char)
}

/// `((/[A-Za-z0-9\.,\+@=_-]+)*)/`: a path starts and ends with `/`, with no empty segment.
fn is_path(s: &str) -> bool {
    if s == "/" {
        return true;
    }
    s.strip_prefix('/')
        .and_then(|r| r.strip_suffix('/'))
        .is_some_and(|inner| {
            inner
                .split('/')
                .all(|seg| !seg.is_empty() && seg.chars().all(is_name_char))
        })
}

/// `[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*`: descriptions.
fn is_description(s: &str) -> bool {
    s.chars()
        .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7E}' | '\u{A1}'..='\u{FF}'))
}

const POLICY_NAME: Constraint = Constraint {
    len: (1, 128),
    pattern: Some("[\\w+=,.@-]+"),
    allowed: is_name,
};
/// On Tigris the user is the access key id (`tid_` and 24 characters), within this constraint.
const USER_NAME: Constraint = Constraint {
    len: (1, 64),
    pattern: Some("[\\w+=,.@-]+"),
    allowed: is_name,
};
const PATH: Constraint = Constraint {
    len: (1, 512),
    pattern: Some("((/[A-Za-z0-9\\.,\\+@=_-]+)*)/"),
    allowed: is_path,
};
const DESCRIPTION: Constraint = Constraint {
    len: (0, 1000),
    pattern: Some("[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*"),
    allowed: is_description,
};
const POLICY_ARN: Constraint = Constraint {
    len: (20, 2048),
    pattern: None,
    allowed: |_| true,
};
const POLICY_DOCUMENT: Constraint = Constraint {
    len: (1, MAX_POLICY_PARAMETER),
    pattern: None,
    allowed: |_| true,
};

/// Checks parameter `name` against `c`, with AWS's `ValidationError` message when it fails.
fn check(name: &str, value: &str, c: Constraint) -> Result<(), IamError> {
    // A refused document is not echoed whole.
    let shown: String = value.chars().take(256).collect();
    let shown = if shown.len() < value.len() {
        format!("{shown}...")
    } else {
        shown
    };
    let refuse = |constraint: String| {
        Err(IamError(
            400,
            "ValidationError",
            format!(
                "1 validation error detected: Value '{shown}' at '{}' failed to satisfy \
                 constraint: {constraint}",
                lower_camel(name)
            ),
        ))
    };
    let chars = value.chars().count();
    if chars < c.len.0 {
        return refuse(format!(
            "Member must have length greater than or equal to {}",
            c.len.0
        ));
    }
    if chars > c.len.1 {
        return refuse(format!(
            "Member must have length less than or equal to {}",
            c.len.1
        ));
    }
    if !(c.allowed)(value) {
        let pattern = c.pattern.unwrap_or_default();
        return refuse(format!(
            "Member must satisfy regular expression pattern: {pattern}"
        ));
    }
    Ok(())
}

/// AWS names members in validation messages in lower camel case (`policyName`).
fn lower_camel(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|first| first.to_ascii_lowercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// `name` if given, checked against `c`.
fn optional<'a>(
    params: &'a BTreeMap<String, String>,
    name: &str,
    c: Constraint,
) -> Result<Option<&'a str>, IamError> {
    let value = params.get(name).map(String::as_str);
    if let Some(v) = value {
        check(name, v, c)?;
    }
    Ok(value)
}

/// `name`, required and checked against `c`.
fn checked<'a>(
    params: &'a BTreeMap<String, String>,
    name: &str,
    c: Constraint,
) -> Result<&'a str, IamError> {
    let value = required(params, name)?;
    check(name, value, c)?;
    Ok(value)
}

fn iso(t: SystemTime) -> String {
    OffsetDateTime::from(t)
        .replace_nanosecond(0)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .format(&Rfc3339)
        .unwrap_or_default()
}

fn request_id() -> String {
    // Entropy for the id, not a time anything is judged by.
    let seed = format!("{:?}", SystemTime::now());
    hex::encode(&Sha256::digest(seed.as_bytes())[..16])
}

fn xml_response(status: u16, body: String, request_id: &str) -> http::Response<s3s::Body> {
    answer(status, "text/xml", body, request_id)
}

/// A JSON answer (`application/json`).
fn json_response(
    status: u16,
    value: &serde_json::Value,
    request_id: &str,
) -> http::Response<s3s::Body> {
    answer(status, "application/json", value.to_string(), request_id)
}

/// An answer of `status` with `body` of `content_type`, and its `x-amzn-requestid`.
fn answer(
    status: u16,
    content_type: &'static str,
    body: String,
    request_id: &str,
) -> http::Response<s3s::Body> {
    let mut resp = http::Response::new(s3s::Body::from(body));
    *resp.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    if let Ok(id) = http::HeaderValue::from_str(request_id) {
        resp.headers_mut().insert("x-amzn-requestid", id);
    }
    resp
}

/// Whether the request asks for JSON (`Accept: application/json`), as Tigris's own
/// `@tigrisdata/iam` does; the AWS SDKs and CLIs ask for none and read XML.
fn wants_json(headers: &http::HeaderMap) -> bool {
    headers
        .get_all(http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains("application/json"))
}

/// An IAM error in the form the request asks for: JSON `{"Code", "Message", "RequestId"}`
/// (`application/json`) when it accepts JSON, which `@tigrisdata/iam` reads its `Message`
/// from; otherwise the AWS Query XML `ErrorResponse` of [`error_response`].
pub(crate) fn error_answer(
    headers: &http::HeaderMap,
    status: u16,
    code: &str,
    message: &str,
) -> http::Response<s3s::Body> {
    if !wants_json(headers) {
        return error_response(status, code, message);
    }
    let id = request_id();
    let body = serde_json::json!({ "Code": code, "Message": message, "RequestId": id });
    json_response(status, &body, &id)
}

/// An IAM error as AWS Query XML (`ErrorResponse`).
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

/// The SigV4 services an IAM request may be signed for: `iam` (the AWS SDKs) and `s3` (Tigris's
/// own `@tigrisdata/iam`, which signs its IAM calls as `s3`). Either is verified in full.
const SIGNING_SERVICES: &[&str] = &["iam", "s3"];

/// Verifies the request's SigV4 signature (for service `iam` or `s3`); the signing access key,
/// or the error answer.
fn verify(
    shared: &Arc<Shared>,
    parts: &http::request::Parts,
    body: &Bytes,
) -> Result<String, Box<http::Response<s3s::Body>>> {
    let secret = |ak: &str| shared.keys().secret(ak).map(str::to_owned);
    let mut verified = sigv4::verify(parts, body, SIGNING_SERVICES, SystemTime::now(), secret);
    if verified == Err(sigv4::SigError::Skewed) {
        // After a test advanced the emulator's clock, an SDK that corrected its signing time by
        // the `Date` it read signs with the emulator's time: accept either clock.
        verified = sigv4::verify(parts, body, SIGNING_SERVICES, shared.clock().now(), secret);
    }
    verified.map_err(|e| {
        let status = if e == sigv4::SigError::Incomplete {
            400
        } else {
            403
        };
        Box::new(error_answer(&parts.headers, status, e.code(), e.message()))
    })
}

/// Verifies and serves one IAM Query request: the standard actions, and Tigris's own
/// ([`tigris`]), dispatched on `Action` from the query or the body.
pub(crate) fn handle(
    shared: &Arc<Shared>,
    parts: &http::request::Parts,
    body: &Bytes,
) -> http::Response<s3s::Body> {
    let access_key = match verify(shared, parts, body) {
        Ok(key) => key,
        Err(resp) => return *resp,
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
        if failure.drop_connection {
            return crate::http::server::dropped();
        }
        return error_answer(
            &parts.headers,
            failure.status,
            &failure.code,
            "injected by the emulator's fault injection",
        );
    }
    if let Err(IamError(status, code, message)) = authorize(
        shared,
        &access_key,
        &action,
        &params,
        parts.extensions.get::<crate::http::auth::PeerAddr>(),
    ) {
        return error_answer(&parts.headers, status, code, &message);
    }
    let result = dispatch(shared, &action, &params, wants_json(&parts.headers));
    if let Some((failure, Timing::After)) = &injected {
        if failure.drop_connection {
            return crate::http::server::dropped();
        }
        let message = "injected by the emulator's fault injection, after the action ran";
        return error_answer(&parts.headers, failure.status, &failure.code, message);
    }
    match result {
        Ok(tigris::Reply::Xml(result)) => ok_response(&action, result),
        Ok(tigris::Reply::Json(value)) => json_response(200, &value, &request_id()),
        Err(IamError(status, code, message)) => {
            error_answer(&parts.headers, status, code, &message)
        }
    }
}

/// Runs `action`: Tigris's own actions ([`tigris::run`]), else the standard ones ([`run`]),
/// answered in JSON when `json` (the request accepts it) and the action has a JSON form.
fn dispatch(
    shared: &Arc<Shared>,
    action: &str,
    params: &BTreeMap<String, String>,
    json: bool,
) -> Result<tigris::Reply, IamError> {
    if let Some(result) = tigris::run(shared, action, params, json) {
        return result;
    }
    let xml = run(shared, action, params)?;
    Ok(if json {
        tigris::as_json(shared, action, params, xml)
    } else {
        tigris::Reply::Xml(xml)
    })
}

/// Makes an access key (its id is also its user's name) with Tigris's `name` and bucket
/// `roles`, journaled and applied; its (id, secret, creation time).
fn create_key(
    shared: &Shared,
    iam: &mut Iam,
    name: Option<String>,
    roles: Vec<(String, String)>,
) -> Result<(String, String, SystemTime), IamError> {
    let id = format!("tid_{}", iam.token("", 24).to_uppercase());
    let secret = iam.token("tsec_", 40);
    let created = shared.clock().now();
    let key = crate::store::persist::KeyDump {
        id: id.clone(),
        secret: secret.clone(),
        created: crate::store::nanos(created),
        name,
        roles,
    };
    let counter = iam.counter;
    let change = crate::store::persist::IamChange::CreateAccessKey { key, counter };
    commit(shared, iam, change)?;
    Ok((id, secret, created))
}

/// Journals `change`, then applies it to `iam` (whose lock the caller holds, so changes reach
/// the journal in the order they are applied). A change the journal refused is not applied.
fn commit(
    shared: &Shared,
    iam: &mut Iam,
    change: crate::store::persist::IamChange,
) -> Result<(), IamError> {
    shared
        .journal_iam(&change)
        .map_err(|e| IamError(500, "ServiceFailure", format!("the data directory: {e}")))?;
    iam.apply(change, &mut shared.keys())
        .map_err(|e| IamError(500, "ServiceFailure", e))
}

/// The user ARN of `name` (on Tigris an access key id is its user's name).
fn user_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:user/{name}")
}

/// The resources an IAM action acts on, as AWS IAM authorizes them: the user (an access key's
/// actions and attachments name the user that owns the key: `UserName`, else the key itself,
/// else the caller) or the policy ARN. Read from the same parameters the action reads; a
/// listing of every key needs the action on each key it would list. An action with no
/// resource of its own (`ListPolicies`, unknown actions) is checked against `*`.
fn iam_resources(
    iam: &Iam,
    caller: &str,
    action: &str,
    p: &BTreeMap<String, String>,
) -> Vec<String> {
    let param = |name: &str| p.get(name).map(String::as_str).filter(|v| !v.is_empty());
    match action {
        "CreateAccessKey" => vec![user_arn(param("UserName").unwrap_or(caller))],
        "DeleteAccessKey" => vec![user_arn(
            param("UserName").or(param("AccessKeyId")).unwrap_or(caller),
        )],
        // The parameter the listing filters on: `KeyId` for Tigris's detailed listing,
        // `UserName` for the standard one; the other names no key, and all are listed.
        "ListAccessKeys" => match param(if p.contains_key("Detailed") {
            "KeyId"
        } else {
            "UserName"
        }) {
            Some(user) => vec![user_arn(user)],
            None => {
                let mut all: Vec<String> = iam.keys.keys().map(|k| user_arn(k)).collect();
                all.push(user_arn(caller));
                all
            }
        },
        "AttachUserPolicy"
        | "DetachUserPolicy"
        | "ListAttachedUserPolicies"
        | "ListUserPolicies" => {
            vec![user_arn(param("UserName").unwrap_or(caller))]
        }
        // Tigris's own: a new key is the caller's to make, as CreateAccessKey without a user;
        // the others act on the key they name.
        "CreateAccessKeyWithBucketsRole" => vec![user_arn(caller)],
        "RotateAccessKey" => vec![user_arn(param("AccessKeyId").unwrap_or(caller))],
        "UpdateAccessKeyWithBucketsRole" => {
            let id = tigris::req(p)
                .ok()
                .and_then(|r| r["id"].as_str().map(str::to_owned));
            vec![user_arn(id.as_deref().unwrap_or(caller))]
        }
        "CreatePolicy" => {
            let path = param("Path").unwrap_or("/");
            let name = param("PolicyName").unwrap_or("");
            vec![format!("arn:aws:iam::{ACCOUNT}:policy{path}{name}")]
        }
        "GetPolicy" | "DeletePolicy" => vec![param("PolicyArn").unwrap_or("*").to_owned()],
        _ => vec!["*".to_owned()],
    }
}

/// Only the root key, or a key whose attached policies allow `iam:<Action>` on every resource
/// the action acts on ([`iam_resources`]), may call IAM actions. Policies are evaluated at the
/// emulator's clock, as S3 requests are.
fn authorize(
    shared: &Shared,
    access_key: &str,
    action: &str,
    params: &BTreeMap<String, String>,
    peer: Option<&crate::http::auth::PeerAddr>,
) -> Result<(), IamError> {
    if access_key == shared.root_access_key {
        return Ok(());
    }
    let (policies, resources) = {
        let iam = shared.iam();
        (
            iam.policies_of(access_key),
            iam_resources(&iam, access_key, action, params),
        )
    };
    let iam_action = format!("iam:{action}");
    let now = shared.clock().now();
    for resource in &resources {
        let ctx = crate::iam::policy::RequestContext {
            action: &iam_action,
            resource,
            now,
            source_ip: peer.map(|p| p.0.ip()),
        };
        if !crate::iam::policy::allowed(policies.iter().map(|p| &**p), &ctx) {
            // Only the listing of every key has more than one resource: its denial names them
            // all as `user/*`, never a key the caller may not list.
            let named = if resources.len() > 1 {
                user_arn("*")
            } else {
                resource.clone()
            };
            return Err(IamError(
                403,
                "AccessDenied",
                format!(
                    "User {access_key} is not authorized to perform: {iam_action} on resource: {named}"
                ),
            ));
        }
    }
    Ok(())
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
            let user = optional(p, "UserName", USER_NAME)?;
            let (id, secret, created) = create_key(shared, &mut iam, None, Vec::new())?;
            let user = user.unwrap_or(&id);
            Ok(Some(format!(
                "<AccessKey><UserName>{}</UserName><AccessKeyId>{id}</AccessKeyId><Status>Active</Status>\
                 <SecretAccessKey>{secret}</SecretAccessKey><CreateDate>{}</CreateDate></AccessKey>",
                escape(user),
                iso(created)
            )))
        }
        "DeleteAccessKey" => {
            optional(p, "UserName", USER_NAME)?;
            let id = required(p, "AccessKeyId")?;
            if !iam.keys.contains_key(id) {
                return Err(no_such_entity(format!(
                    "The Access Key with id {id} cannot be found"
                )));
            }
            let change = crate::store::persist::IamChange::DeleteAccessKey { id: id.to_owned() };
            commit(shared, &mut iam, change)?;
            Ok(None)
        }
        "ListAccessKeys" => {
            let user = optional(p, "UserName", USER_NAME)?;
            let mut members = String::new();
            for (id, meta) in iam
                .keys
                .iter()
                .filter(|(id, _)| user.is_none_or(|u| u == *id))
            {
                let id = escape(id);
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
            let name = checked(p, "PolicyName", POLICY_NAME)?;
            let text = checked(p, "PolicyDocument", POLICY_DOCUMENT)?;
            let path = optional(p, "Path", PATH)?.unwrap_or("/").to_owned();
            let description = optional(p, "Description", DESCRIPTION)?.map(str::to_owned);
            if text.chars().filter(|c| !c.is_whitespace()).count() > MAX_POLICY_SIZE {
                return Err(IamError(
                    409,
                    "LimitExceeded",
                    format!("Cannot exceed quota for PolicySize: {MAX_POLICY_SIZE}"),
                ));
            }
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
                description,
                created: shared.clock().now(),
                document: Arc::new(document),
                text: text.to_owned(),
            };
            let xml = policy_xml(&iam, &arn, &policy);
            let record = crate::store::persist::PolicyDump {
                arn,
                name: policy.name,
                id: policy.id,
                path: policy.path,
                description: policy.description,
                created: crate::store::nanos(policy.created),
                document: policy.text,
            };
            let counter = iam.counter;
            commit(
                shared,
                &mut iam,
                crate::store::persist::IamChange::CreatePolicy {
                    policy: record,
                    counter,
                },
            )?;
            Ok(Some(format!("<Policy>{xml}</Policy>")))
        }
        "GetPolicy" => {
            let arn = checked(p, "PolicyArn", POLICY_ARN)?;
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
            let arn = checked(p, "PolicyArn", POLICY_ARN)?;
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
            let change = crate::store::persist::IamChange::DeletePolicy {
                arn: arn.to_owned(),
            };
            commit(shared, &mut iam, change)?;
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
            let user = checked(p, "UserName", USER_NAME)?;
            let arn = checked(p, "PolicyArn", POLICY_ARN)?;
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
            let change = crate::store::persist::IamChange::AttachUserPolicy {
                user: user.to_owned(),
                arn: arn.to_owned(),
            };
            commit(shared, &mut iam, change)?;
            Ok(None)
        }
        "DetachUserPolicy" => {
            let user = checked(p, "UserName", USER_NAME)?;
            let arn = checked(p, "PolicyArn", POLICY_ARN)?;
            let attached = iam
                .attachments
                .get(user)
                .is_some_and(|set| set.contains(arn));
            if !attached {
                return Err(no_such_entity(format!(
                    "Policy {arn} is not attached to user {user}"
                )));
            }
            let change = crate::store::persist::IamChange::DetachUserPolicy {
                user: user.to_owned(),
                arn: arn.to_owned(),
            };
            commit(shared, &mut iam, change)?;
            Ok(None)
        }
        "ListAttachedUserPolicies" => {
            let user = checked(p, "UserName", USER_NAME)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn shared() -> Arc<Shared> {
        Arc::new(Shared::new(
            crate::DEFAULT_ACCESS_KEY_ID.to_owned(),
            crate::DEFAULT_SECRET_ACCESS_KEY.to_owned(),
        ))
    }

    /// Whether `xml` can be read back: no character XML 1.0 forbids, no raw `\r`.
    fn xml_safe(xml: &str) -> bool {
        !xml.chars().any(|c| {
            matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\r' | '\u{E}'..='\u{1F}')
                || c == '\u{FFFE}'
                || c == '\u{FFFF}'
        })
    }

    fn body_text(resp: &http::Response<s3s::Body>) -> String {
        let bytes = resp.body().bytes().unwrap_or_default();
        String::from_utf8(bytes.to_vec()).expect("IAM answers UTF-8")
    }

    #[test]
    fn access_key_ids_and_the_root_key_are_valid_user_names() {
        let mut iam = Iam::default();
        let id = format!("tid_{}", iam.token("", 24).to_uppercase());
        for user in [id.as_str(), crate::DEFAULT_ACCESS_KEY_ID] {
            assert!(check("UserName", user, USER_NAME).is_ok(), "{user}");
        }
    }

    #[test]
    fn paths_follow_the_aws_pattern() {
        for ok in ["/", "/a/", "/a/b.c,d+e@f=g_h-i/"] {
            assert!(is_path(ok), "{ok}");
        }
        for bad in ["", "a", "/a", "a/", "//", "/a//", "/é/", "/a b/"] {
            assert!(!is_path(bad), "{bad}");
        }
    }

    #[test]
    fn the_test_signer_is_accepted() {
        let (parts, body) = signed("http://localhost/", b"Action=ListPolicies").into_parts();
        let resp = handle(&shared(), &parts, &body);
        assert_eq!(resp.status(), 200, "{}", body_text(&resp));
    }

    const ACTIONS: &[&str] = &[
        "CreateAccessKey",
        "DeleteAccessKey",
        "ListAccessKeys",
        "CreatePolicy",
        "GetPolicy",
        "DeletePolicy",
        "ListPolicies",
        "AttachUserPolicy",
        "DetachUserPolicy",
        "ListAttachedUserPolicies",
        "CreateAccessKeyWithBucketsRole",
        "UpdateAccessKeyWithBucketsRole",
        "RotateAccessKey",
        "ListUserPolicies",
        "",
    ];

    /// A parameter value: valid, nearly valid, or anything. `$KEY` stands for the newest key.
    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z]{1,3}",
            "(/[a-z]{1,2}){0,2}/",
            "[/a-z.,+@=_ -]{0,6}",
            "arn:aws:iam::000000000000:policy(/[a-z]{1,2}){0,2}/[a-z]{1,3}",
            Just("$KEY".to_owned()),
            Just(r#"{"Statement":{"Effect":"Allow","Action":"iam:*","Resource":"*"}}"#.to_owned()),
            Just(
                r#"{"name":"k","id":"$KEY","buckets_role":[{"bucket":"b-1","role":"Editor"}]}"#
                    .to_owned()
            ),
            req_json(),
            Just("&<>\"'\r\u{1}\u{FFFF}é€".to_owned()),
            "[\\PC\\p{Cc}]{0,8}",
            any::<String>(),
            (0usize..2100).prop_map(|n| "n".repeat(n)),
        ]
    }

    /// A `Req` of Tigris's bucket-role actions: any name and id, and bucket roles that are
    /// valid, nearly valid or anything, sometimes not a list at all.
    fn req_json() -> impl Strategy<Value = String> {
        let text = || {
            prop_oneof![
                Just("$KEY".to_owned()),
                "[a-z0-9.-]{0,8}",
                Just("*".to_owned()),
                any::<String>(),
            ]
        };
        let role = prop_oneof![
            prop::sample::select(tigris::ROLES.to_vec()).prop_map(str::to_owned),
            any::<String>(),
        ];
        let entry = prop_oneof![
            (text(), role).prop_map(|(b, r)| serde_json::json!({"bucket": b, "role": r})),
            any::<i64>().prop_map(|n| serde_json::json!({"bucket": n})),
            Just(serde_json::Value::Null),
        ];
        let roles = prop_oneof![
            prop::collection::vec(entry, 0..4).prop_map(serde_json::Value::from),
            text().prop_map(serde_json::Value::from),
            Just(serde_json::Value::Null),
        ];
        (text(), text(), roles).prop_map(|(name, id, roles)| {
            serde_json::json!({"name": name, "id": id, "buckets_role": roles}).to_string()
        })
    }

    fn params() -> impl Strategy<Value = BTreeMap<String, String>> {
        let name = prop_oneof![
            prop::sample::select(vec![
                "UserName",
                "AccessKeyId",
                "PolicyName",
                "PolicyDocument",
                "PolicyArn",
                "Path",
                "Description",
                "Req",
                "KeyId",
                "Detailed",
                "MaxItems",
                "Marker",
            ])
            .prop_map(str::to_owned),
            any::<String>(),
        ];
        prop::collection::btree_map(name, value(), 0..6)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Sequences of actions with arbitrary parameters, answered in XML or JSON, answer
        /// `Ok` or an IAM error, and whatever they store lists back as readable XML.
        #[test]
        fn every_action_answers_any_parameters(
            steps in prop::collection::vec(
                (prop::sample::select(ACTIONS), params(), any::<bool>()),
                1..8,
            ),
        ) {
            let shared = shared();
            let mut last_key = String::new();
            for (action, mut p, json) in steps {
                for v in p.values_mut() {
                    *v = v.replace("$KEY", &last_key);
                }
                match dispatch(&shared, action, &p, json) {
                    Ok(tigris::Reply::Json(value)) => {
                        if let Some(id) =
                            value["CreateAccessKeyResult"]["AccessKey"]["AccessKeyId"].as_str()
                        {
                            last_key = id.to_owned();
                        }
                    }
                    Ok(tigris::Reply::Xml(None)) => {}
                    Ok(tigris::Reply::Xml(Some(xml))) => {
                        prop_assert!(xml_safe(&xml), "{action}: {xml:?}");
                        if let Some(id) = xml
                            .split_once("<AccessKeyId>")
                            .and_then(|(_, r)| r.split_once('<'))
                            .map(|(id, _)| id.to_owned())
                        {
                            last_key = id;
                        }
                    }
                    Err(IamError(status, code, message)) => {
                        prop_assert!((400..500).contains(&status), "{action}: {status} {code}");
                        let resp = error_response(status, code, &message);
                        prop_assert!(xml_safe(&body_text(&resp)));
                    }
                }
            }
            for action in ["ListPolicies", "ListAccessKeys"] {
                let listed = run(&shared, action, &BTreeMap::new());
                prop_assert!(matches!(&listed, Ok(Some(xml)) if xml_safe(xml)), "{listed:?}");
            }
        }

        /// Whole signed requests with arbitrary bodies and queries: the form parsing, fault
        /// lookup, authorization and the action all answer.
        #[test]
        fn signed_requests_with_any_body_answer(
            body in prop_oneof![
                prop::collection::vec(any::<u8>(), 0..96),
                (prop::sample::select(ACTIONS), params()).prop_map(|(a, p)| {
                    let mut form = format!("Action={}", crate::http::sigv4::uri_encode(a, false));
                    for (k, v) in p {
                        form.push_str(&format!(
                            "&{}={}",
                            crate::http::sigv4::uri_encode(&k, false),
                            crate::http::sigv4::uri_encode(&v, false)
                        ));
                    }
                    form.into_bytes()
                }),
            ],
            query in "[A-Za-z=&%0-9]{0,16}",
        ) {
            let shared = shared();
            let uri = format!("http://localhost/?{query}");
            let (parts, body) = signed(&uri, &body).into_parts();
            let resp = handle(&shared, &parts, &body);
            prop_assert!(resp.status().as_u16() < 500, "{}", resp.status());
            prop_assert!(xml_safe(&body_text(&resp)));
        }
    }

    #[test]
    fn a_change_the_journal_refuses_answers_500_and_is_not_applied() {
        let dir = tempfile::tempdir().unwrap();
        let shared = Arc::new(
            Shared::open(
                crate::DEFAULT_ACCESS_KEY_ID.to_owned(),
                crate::DEFAULT_SECRET_ACCESS_KEY.to_owned(),
                dir.path(),
                false,
            )
            .unwrap(),
        );
        let (parts, body) = signed("http://localhost/", b"Action=CreateAccessKey").into_parts();
        let created = body_text(&handle(&shared, &parts, &body));
        let id = created
            .split_once("<AccessKeyId>")
            .and_then(|(_, r)| r.split_once('<'))
            .map(|(id, _)| id.to_owned())
            .expect("a key was made");
        // Every later journal write fails.
        shared.close();
        let form = format!("Action=DeleteAccessKey&AccessKeyId={id}");
        let (parts, body) = signed("http://localhost/", form.as_bytes()).into_parts();
        let resp = handle(&shared, &parts, &body);
        assert_eq!(resp.status(), 500, "{}", body_text(&resp));
        assert!(shared.keys().secret(&id).is_some(), "the key still signs");
        assert_eq!(shared.iam().inventory().0, vec![id]);
    }

    /// A request signed with the root key, as `aws-sdk-iam` would sign it.
    fn signed(uri: &str, body: &[u8]) -> http::Request<Bytes> {
        use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
        let creds = aws_credential_types::Credentials::new(
            crate::DEFAULT_ACCESS_KEY_ID,
            crate::DEFAULT_SECRET_ACCESS_KEY,
            None,
            None,
            "test",
        );
        let identity = creds.into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region("auto")
            .name("iam")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .expect("signing params")
            .into();
        let mut req = http::Request::post(uri)
            .header("host", "localhost")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Bytes::copy_from_slice(body))
            .expect("request");
        let headers = req
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str(), v.to_str().unwrap_or_default()));
        let signable = SignableRequest::new("POST", uri, headers, SignableBody::Bytes(body))
            .expect("signable");
        let (instructions, _) = sign(signable, &params).expect("signed").into_parts();
        instructions.apply_to_request_http1x(&mut req);
        req
    }
}
