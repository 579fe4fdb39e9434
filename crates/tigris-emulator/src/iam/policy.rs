//! IAM policy documents: parsing (as CreatePolicy validates them) and evaluation (as S3
//! requests signed with scoped keys are authorized).
//!
//! Semantics follow AWS IAM for what Tigris supports: `Allow`/`Deny` statements with `Action` /
//! `NotAction` and `Resource` / `NotResource` lists (`*` and `?` wildcards), the date conditions
//! on `aws:CurrentTime` and `IpAddress` / `NotIpAddress` on `aws:SourceIp`. An explicit deny wins;
//! no matching allow is an implicit deny.

use std::net::IpAddr;
use std::time::SystemTime;

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A parsed policy document.
#[derive(Debug, Clone)]
pub(crate) struct PolicyDocument {
    statements: Vec<Statement>,
}

#[derive(Debug, Clone)]
struct Statement {
    allow: bool,
    actions: Patterns,
    resources: Patterns,
    conditions: Vec<Condition>,
}

#[derive(Debug, Clone)]
struct Patterns {
    negated: bool,
    patterns: Vec<String>,
}

#[derive(Debug, Clone)]
enum Condition {
    Date {
        op: DateOp,
        values: Vec<OffsetDateTime>,
    },
    Ip {
        negated: bool,
        networks: Vec<(IpAddr, u8)>,
    },
}

#[derive(Debug, Clone, Copy)]
enum DateOp {
    Equals,
    NotEquals,
    LessThan,
    LessThanEquals,
    GreaterThan,
    GreaterThanEquals,
}

/// What a request is, for evaluation.
#[derive(Debug)]
pub(crate) struct RequestContext<'a> {
    pub(crate) action: &'a str,
    pub(crate) resource: &'a str,
    pub(crate) now: SystemTime,
    pub(crate) source_ip: Option<IpAddr>,
}

/// Matches `text` against a pattern with `*` (any run) and `?` (any one character).
pub(crate) fn glob(pattern: &str, text: &str, case_insensitive: bool) -> bool {
    let norm = |s: &str| {
        if case_insensitive {
            s.to_ascii_lowercase()
        } else {
            s.to_owned()
        }
    };
    let (p, t): (Vec<char>, Vec<char>) = (
        norm(pattern).chars().collect(),
        norm(text).chars().collect(),
    );
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        // A `*` in the pattern is a wildcard even where the text holds a `*` too.
        if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn strings(v: &Value, what: &str) -> Result<Vec<String>, String> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("{what} entries must be strings"))
            })
            .collect(),
        _ => Err(format!("{what} must be a string or a list of strings")),
    }
}

fn parse_time(s: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(s, &Rfc3339)
        .or_else(|_| {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            time::Date::parse(s, format).map(|d| d.midnight().assume_utc())
        })
        .map_err(|_| format!("{s:?} is not an ISO 8601 date"))
}

fn parse_network(s: &str) -> Result<(IpAddr, u8), String> {
    let (addr, bits) = s.split_once('/').unwrap_or((s, ""));
    let ip: IpAddr = addr
        .parse()
        .map_err(|_| format!("{s:?} is not an IP address or CIDR block"))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits = if bits.is_empty() {
        max
    } else {
        bits.parse()
            .map_err(|_| format!("bad prefix length in {s:?}"))?
    };
    if bits > max {
        return Err(format!("bad prefix length in {s:?}"));
    }
    Ok((ip, bits))
}

fn in_network(ip: IpAddr, (net, bits): (IpAddr, u8)) -> bool {
    let (a, b, width) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) as u128, u32::from(b) as u128, 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        _ => return false,
    };
    if bits == 0 {
        return true;
    }
    let shift = width - u32::from(bits);
    (a >> shift) == (b >> shift)
}

fn parse_conditions(v: &Value) -> Result<Vec<Condition>, String> {
    let Value::Object(ops) = v else {
        return Err("Condition must be an object".into());
    };
    let mut out = Vec::new();
    for (op, keys) in ops {
        let Value::Object(keys) = keys else {
            return Err(format!("Condition {op} must be an object"));
        };
        for (key, values) in keys {
            let values = strings(values, "Condition values")?;
            let date_op = match op.as_str() {
                "DateEquals" => Some(DateOp::Equals),
                "DateNotEquals" => Some(DateOp::NotEquals),
                "DateLessThan" => Some(DateOp::LessThan),
                "DateLessThanEquals" => Some(DateOp::LessThanEquals),
                "DateGreaterThan" => Some(DateOp::GreaterThan),
                "DateGreaterThanEquals" => Some(DateOp::GreaterThanEquals),
                _ => None,
            };
            if let Some(op) = date_op {
                if !key.eq_ignore_ascii_case("aws:CurrentTime") {
                    return Err(format!(
                        "only aws:CurrentTime is supported in date conditions, got {key}"
                    ));
                }
                let values = values
                    .iter()
                    .map(|v| parse_time(v))
                    .collect::<Result<_, _>>()?;
                out.push(Condition::Date { op, values });
                continue;
            }
            let negated = match op.as_str() {
                "IpAddress" => false,
                "NotIpAddress" => true,
                other => return Err(format!("unsupported condition operator {other}")),
            };
            if !key.eq_ignore_ascii_case("aws:SourceIp") {
                return Err(format!("IP conditions take aws:SourceIp, got {key}"));
            }
            let networks = values
                .iter()
                .map(|v| parse_network(v))
                .collect::<Result<_, _>>()?;
            out.push(Condition::Ip { negated, networks });
        }
    }
    Ok(out)
}

fn patterns(
    stmt: &serde_json::Map<String, Value>,
    name: &str,
    what: &str,
) -> Result<Patterns, String> {
    let not = format!("Not{name}");
    match (stmt.get(name), stmt.get(&not)) {
        (Some(v), None) => Ok(Patterns {
            negated: false,
            patterns: strings(v, name)?,
        }),
        (None, Some(v)) => Ok(Patterns {
            negated: true,
            patterns: strings(v, &not)?,
        }),
        (Some(_), Some(_)) => Err(format!("a statement cannot have both {name} and {not}")),
        (None, None) => Err(format!("a statement needs {name} or {not} ({what})")),
    }
}

impl PolicyDocument {
    /// Parses and validates a document, with messages fit for `MalformedPolicyDocument`.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let doc: Value =
            serde_json::from_str(text).map_err(|e| format!("the policy is not valid JSON: {e}"))?;
        let statements = match doc.get("Statement") {
            Some(Value::Array(s)) => s.clone(),
            Some(s @ Value::Object(_)) => vec![s.clone()],
            _ => return Err("the policy needs a Statement".into()),
        };
        let mut parsed = Vec::new();
        for stmt in &statements {
            let Value::Object(stmt) = stmt else {
                return Err("each Statement must be an object".into());
            };
            let allow = match stmt.get("Effect").and_then(Value::as_str) {
                Some("Allow") => true,
                Some("Deny") => false,
                _ => return Err("Effect must be Allow or Deny".into()),
            };
            let actions = patterns(stmt, "Action", "which actions")?;
            if let Some(bad) = actions.patterns.iter().find(|a| {
                let a = a.to_ascii_lowercase();
                !(a == "*" || a.starts_with("s3:") || a.starts_with("iam:"))
            }) {
                return Err(format!(
                    "unsupported action {bad:?}: only s3: and iam: actions are supported"
                ));
            }
            let resources = patterns(stmt, "Resource", "which buckets and objects")?;
            let conditions = stmt
                .get("Condition")
                .map(parse_conditions)
                .transpose()?
                .unwrap_or_default();
            parsed.push(Statement {
                allow,
                actions,
                resources,
                conditions,
            });
        }
        Ok(Self { statements: parsed })
    }
}

impl Patterns {
    fn matches(&self, value: &str, case_insensitive: bool) -> bool {
        self.patterns
            .iter()
            .any(|p| glob(p, value, case_insensitive))
            != self.negated
    }
}

impl Condition {
    fn holds(&self, ctx: &RequestContext<'_>) -> bool {
        match self {
            Self::Date { op, values } => {
                let now = OffsetDateTime::from(ctx.now);
                let test = |v: &OffsetDateTime| match op {
                    DateOp::Equals => now == *v,
                    DateOp::NotEquals => now != *v,
                    DateOp::LessThan => now < *v,
                    DateOp::LessThanEquals => now <= *v,
                    DateOp::GreaterThan => now > *v,
                    DateOp::GreaterThanEquals => now >= *v,
                };
                match op {
                    DateOp::NotEquals => values.iter().all(test),
                    _ => values.iter().any(test),
                }
            }
            Self::Ip { negated, networks } => match ctx.source_ip {
                Some(ip) => networks.iter().any(|n| in_network(ip, *n)) != *negated,
                None => false,
            },
        }
    }
}

impl Statement {
    fn applies(&self, ctx: &RequestContext<'_>) -> bool {
        self.actions.matches(ctx.action, true)
            && self.resources.matches(ctx.resource, false)
            && self.conditions.iter().all(|c| c.holds(ctx))
    }
}

/// Whether the policies together allow the request: any explicit deny refuses, otherwise an
/// allow is needed.
pub(crate) fn allowed<'a>(
    policies: impl IntoIterator<Item = &'a PolicyDocument>,
    ctx: &RequestContext<'_>,
) -> bool {
    let mut allow = false;
    for stmt in policies.into_iter().flat_map(|p| &p.statements) {
        if stmt.applies(ctx) {
            if !stmt.allow {
                return false;
            }
            allow = true;
        }
    }
    allow
}

/// The IAM action an S3 operation needs.
pub(crate) fn s3_action(operation: &str) -> String {
    let action = match operation {
        "GetObject" | "HeadObject" => "GetObject",
        "PutObject"
        | "CopyObject"
        | "CreateMultipartUpload"
        | "UploadPart"
        | "UploadPartCopy"
        | "CompleteMultipartUpload" => "PutObject",
        "DeleteObject" | "DeleteObjects" => "DeleteObject",
        "ListObjects" | "ListObjectsV2" | "HeadBucket" | "ListForks" | "GetBucketMetadata" => {
            "ListBucket"
        }
        "ListBuckets" => "ListAllMyBuckets",
        "ListParts" => "ListMultipartUploadParts",
        "ListMultipartUploads" => "ListBucketMultipartUploads",
        "GetBucketLifecycleConfiguration" => "GetLifecycleConfiguration",
        "PutBucketLifecycleConfiguration" | "DeleteBucketLifecycle" => "PutLifecycleConfiguration",
        "PatchBucket" => "PutBucketNotification",
        "PutBucketSoftDelete" => "PutBucketVersioning",
        "ListObjectVersions" => "ListBucketVersions",
        "ListDeletedBuckets" => "ListAllMyBuckets",
        "RestoreBucket" => "CreateBucket",
        // IAM has no delete action for these sub-resources: removing one is a put, as on AWS.
        "GetBucketCors" => "GetBucketCORS",
        "PutBucketCors" | "DeleteBucketCors" => "PutBucketCORS",
        "DeleteBucketTagging" => "PutBucketTagging",
        "DeleteBucketOwnershipControls" => "PutBucketOwnershipControls",
        "GetPublicAccessBlock" => "GetBucketPublicAccessBlock",
        "PutPublicAccessBlock" | "DeletePublicAccessBlock" => "PutBucketPublicAccessBlock",
        other => other,
    };
    format!("s3:{action}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn sub_resource_deletes_need_the_put_action_iam_names() {
        for (operation, action) in [
            ("PutBucketCors", "s3:PutBucketCORS"),
            ("DeleteBucketCors", "s3:PutBucketCORS"),
            ("GetBucketCors", "s3:GetBucketCORS"),
            ("DeleteBucketTagging", "s3:PutBucketTagging"),
            (
                "DeleteBucketOwnershipControls",
                "s3:PutBucketOwnershipControls",
            ),
            ("DeletePublicAccessBlock", "s3:PutBucketPublicAccessBlock"),
            ("GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock"),
            ("PutObjectTagging", "s3:PutObjectTagging"),
        ] {
            assert_eq!(s3_action(operation), action, "{operation}");
        }
    }

    fn ctx<'a>(action: &'a str, resource: &'a str) -> RequestContext<'a> {
        RequestContext {
            action,
            resource,
            now: SystemTime::now(),
            source_ip: None,
        }
    }

    fn doc(json: &str) -> PolicyDocument {
        PolicyDocument::parse(json).unwrap()
    }

    const READ_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
        "Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}]}"#;

    #[test]
    fn globs_match_like_iam() {
        assert!(glob("s3:*", "s3:GetObject", true));
        assert!(glob("s3:get*", "s3:GetObject", true));
        assert!(glob("arn:aws:s3:::b/*", "arn:aws:s3:::b/dir/key", false));
        assert!(!glob("arn:aws:s3:::b/*", "arn:aws:s3:::b2/key", false));
        assert!(glob("arn:aws:s3:::b?", "arn:aws:s3:::b2", false));
        assert!(!glob("arn:aws:s3:::B", "arn:aws:s3:::b", false));
        // Keys may hold `*` and `?` themselves; the pattern's wildcards still match them.
        assert!(glob("arn:aws:s3:::b/*", "arn:aws:s3:::b/*x", false));
        assert!(glob("*", "*\u{a1}", false));
        assert!(glob("a*b", "a*?b", false));
    }

    #[test]
    fn read_only_allows_reads_of_its_bucket_only() {
        let p = [doc(READ_ONLY)];
        assert!(allowed(&p, &ctx("s3:GetObject", "arn:aws:s3:::b/k")));
        assert!(allowed(&p, &ctx("s3:ListBucket", "arn:aws:s3:::b")));
        assert!(!allowed(&p, &ctx("s3:PutObject", "arn:aws:s3:::b/k")));
        assert!(!allowed(&p, &ctx("s3:GetObject", "arn:aws:s3:::other/k")));
    }

    #[test]
    fn explicit_deny_wins_over_allow() {
        let deny =
            doc(r#"{"Statement":{"Effect":"Deny","Action":"s3:DeleteObject","Resource":"*"}}"#);
        let all = doc(r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#);
        assert!(!allowed(
            [&all, &deny],
            &ctx("s3:DeleteObject", "arn:aws:s3:::b/k")
        ));
        assert!(allowed(
            [&all, &deny],
            &ctx("s3:GetObject", "arn:aws:s3:::b/k")
        ));
    }

    #[test]
    fn date_conditions_expire_access() {
        let until = |t: OffsetDateTime| {
            let t = t.format(&Rfc3339).unwrap();
            doc(&format!(
                r#"{{"Statement":{{"Effect":"Allow","Action":"s3:*","Resource":"*",
                "Condition":{{"DateLessThan":{{"aws:CurrentTime":"{t}"}}}}}}}}"#
            ))
        };
        let now = OffsetDateTime::now_utc();
        assert!(allowed(
            [&until(now + Duration::from_secs(60))],
            &ctx("s3:GetObject", "x")
        ));
        assert!(!allowed(
            [&until(now - Duration::from_secs(60))],
            &ctx("s3:GetObject", "x")
        ));
    }

    #[test]
    fn ip_conditions_match_cidr_blocks() {
        let p = doc(
            r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*",
            "Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}}}"#,
        );
        let mut c = ctx("s3:GetObject", "x");
        c.source_ip = Some("127.0.0.1".parse().unwrap());
        assert!(allowed([&p], &c));
        c.source_ip = Some("10.0.0.1".parse().unwrap());
        assert!(!allowed([&p], &c));
    }

    #[test]
    fn malformed_documents_are_refused_with_a_reason() {
        for (bad, why) in [
            ("not json", "JSON"),
            (
                r#"{"Statement":[{"Effect":"Maybe","Action":"s3:*","Resource":"*"}]}"#,
                "Effect",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Resource":"*"}]}"#,
                "Action",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}"#,
                "unsupported action",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"a":"b"}}}]}"#,
                "unsupported condition",
            ),
        ] {
            let err = PolicyDocument::parse(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn operations_map_to_actions() {
        assert_eq!(s3_action("HeadObject"), "s3:GetObject");
        assert_eq!(s3_action("ListObjectsV2"), "s3:ListBucket");
        assert_eq!(s3_action("CreateBucket"), "s3:CreateBucket");
    }

    mod no_panic {
        //! Policy documents parse or are refused, and parsed ones evaluate, whatever the text.
        use super::super::*;
        use proptest::prelude::*;
        use serde_json::json;

        fn strings() -> impl Strategy<Value = Value> {
            let s = prop_oneof![
                "(s3|iam|S3|ec2):[A-Za-z*?]{0,6}",
                "arn:aws:s3:::[a-z*?/]{0,6}",
                Just("*".to_owned()),
                "[0-9]{1,3}(\\.[0-9]{1,3}){0,4}(/[0-9]{0,3})?",
                "[0-9a-f:]{0,12}(/[0-9]{0,3})?",
                "20[0-9]{2}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2}))?",
                any::<String>(),
            ];
            prop_oneof![
                s.clone().prop_map(Value::String),
                prop::collection::vec(s.prop_map(Value::String), 0..3).prop_map(Value::Array),
                Just(Value::Null),
                any::<i64>().prop_map(|n| json!(n)),
            ]
        }

        fn condition() -> impl Strategy<Value = Value> {
            let op = prop::sample::select(vec![
                "DateLessThan",
                "DateGreaterThanEquals",
                "DateNotEquals",
                "DateEquals",
                "IpAddress",
                "NotIpAddress",
                "StringLike",
            ]);
            let key =
                prop::sample::select(vec!["aws:CurrentTime", "aws:SourceIp", "AWS:sourceip", "x"]);
            prop::collection::vec((op, key, strings()), 0..3).prop_map(|c| {
                let mut ops = serde_json::Map::new();
                for (op, key, v) in c {
                    ops.insert(op.to_owned(), json!({ key: v }));
                }
                Value::Object(ops)
            })
        }

        fn statement() -> impl Strategy<Value = Value> {
            (
                prop::sample::select(vec!["Allow", "Deny", "allow", ""]),
                prop::sample::select(vec!["Action", "NotAction", "Actions"]),
                strings(),
                prop::sample::select(vec!["Resource", "NotResource", "Resources"]),
                strings(),
                prop::option::of(condition()),
            )
                .prop_map(|(effect, a, actions, r, resources, condition)| {
                    let mut s = json!({"Effect": effect, a: actions, r: resources});
                    if let Some(c) = condition {
                        s["Condition"] = c;
                    }
                    s
                })
        }

        fn document() -> impl Strategy<Value = String> {
            prop_oneof![
                prop::collection::vec(statement(), 0..3)
                    .prop_map(|s| json!({"Version": "2012-10-17", "Statement": s}).to_string()),
                statement().prop_map(|s| json!({"Statement": s}).to_string()),
                any::<String>(),
                "[{}\\[\\]\":,a-zA-Z0-9 ]{0,40}",
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            #[test]
            fn documents_parse_or_fail_and_evaluate(
                text in document(),
                action in prop_oneof!["s3:[A-Za-z]{0,8}", any::<String>()],
                resource in prop_oneof!["arn:aws:s3:::[a-z/]{0,8}", any::<String>()],
                ip in any::<Option<std::net::IpAddr>>(),
                secs in any::<u32>(),
            ) {
                if let Ok(doc) = PolicyDocument::parse(&text) {
                    let ctx = RequestContext {
                        action: &action,
                        resource: &resource,
                        now: SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(u64::from(secs) * 4),
                        source_ip: ip,
                    };
                    let _ = allowed([&doc], &ctx);
                }
            }

            #[test]
            fn globs_answer_any_pattern(p in any::<String>(), t in any::<String>(), ci in any::<bool>()) {
                let _ = glob(&p, &t, ci);
                prop_assert!(glob(&t.replace(['*', '?'], ""), &t.replace(['*', '?'], ""), false));
                prop_assert!(glob("*", &t, ci));
                let prefix = p.replace(['*', '?'], "");
                let (pattern, text) = (format!("{prefix}*"), format!("{prefix}{t}"));
                prop_assert!(glob(&pattern, &text, false));
            }
        }
    }
}
