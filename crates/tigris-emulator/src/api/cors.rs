//! CORS: one rule set per bucket (`BucketExtra::cors`), set by S3's PutBucketCors and by the
//! `cors` key of `PATCH /{bucket}` (Tigris's JSON), read back by GetBucketCors and
//! `?metadata`, and applied to preflight `OPTIONS` requests and to the answers of requests
//! that carry an `Origin`.
//!
//! Matching follows S3: rules in order, the first whose origins match the `Origin` (one `*`
//! in a rule's origin stands for any text) and whose methods hold the method asked for (the
//! preflight's `Access-Control-Request-Method`, else the request's own) answers; for a
//! preflight, every requested header must be allowed too. A preflight needs no signature (a
//! browser cannot sign one) and reveals whether the bucket exists (`404`, where S3 answers `403
//! AccessForbidden` "CORSResponse: Bucket not found", which tells as much) and whether its rules
//! allow the request, nothing else.

use http::{HeaderMap, HeaderValue, Method, StatusCode};
use s3s::{S3Result, s3_error};
use serde_json::{Value, json};

use crate::state::Shared;
use crate::store::CorsRule;

/// The methods a rule in Tigris's JSON may allow (Tigris's clients accept these and `*`).
const JSON_METHODS: [&str; 9] = [
    "GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT",
];

fn invalid(message: String) -> s3s::S3Error {
    s3_error!(InvalidArgument, "{message}")
}

fn strings(rule: &Value, key: &str) -> S3Result<Vec<String>> {
    match rule.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| invalid(format!("cors {key} must hold strings")))
            })
            .collect(),
        Some(_) => Err(invalid(format!("cors {key} must be a list of strings"))),
    }
}

/// The rules a `cors` value of `PATCH /{bucket}` sets: `null`, `{}` or no rules clears them.
pub(crate) fn from_patch(value: &Value) -> S3Result<Option<Vec<CorsRule>>> {
    let rules = match value {
        Value::Null => return Ok(None),
        Value::Object(map) => match map.get("rules") {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Array(rules)) => rules,
            Some(_) => return Err(invalid("cors.rules must be a list".into())),
        },
        _ => return Err(invalid("cors must be an object or null".into())),
    };
    let mut out = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let origins = strings(rule, "allowedOrigin")?;
        let methods = strings(rule, "allowedMethods")?;
        if origins.is_empty() || methods.is_empty() {
            return Err(invalid(format!(
                "cors rule {}: needs allowedOrigin and allowedMethods",
                i + 1
            )));
        }
        if let Some(m) = methods
            .iter()
            .find(|m| *m != "*" && !JSON_METHODS.contains(&m.as_str()))
        {
            return Err(invalid(format!("cors rule {}: invalid method {m}", i + 1)));
        }
        let max_age = match rule.get("maxAge") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_u64()
                    .and_then(|n| i32::try_from(n).ok())
                    .filter(|n| *n > 0)
                    .ok_or_else(|| {
                        invalid(format!(
                            "cors rule {}: maxAge must be a positive integer",
                            i + 1
                        ))
                    })?,
            ),
        };
        out.push(CorsRule {
            id: None,
            allowed_origins: origins,
            allowed_methods: methods,
            allowed_headers: strings(rule, "allowedHeaders")?,
            expose_headers: strings(rule, "exposeHeaders")?,
            max_age_seconds: max_age,
        });
    }
    check_limits(&out).map_err(invalid)?;
    Ok((!out.is_empty()).then_some(out))
}

/// S3's limits on a rule set, whichever way it comes in (Tigris's JSON or S3's XML): at most
/// 100 rules, and at most one `*` in an origin.
pub(crate) fn check_limits(rules: &[CorsRule]) -> Result<(), String> {
    if rules.len() > 100 {
        return Err("a bucket may have at most 100 CORS rules".into());
    }
    for (i, rule) in rules.iter().enumerate() {
        if rule
            .allowed_origins
            .iter()
            .any(|o| o.matches('*').count() > 1)
        {
            return Err(format!("cors rule {}: an origin may hold one `*`", i + 1));
        }
    }
    Ok(())
}

/// The `cors` field of `?metadata`, in Tigris's JSON names.
pub(crate) fn metadata(rules: &[CorsRule]) -> Value {
    let rules: Vec<Value> = rules
        .iter()
        .map(|r| {
            let mut rule = json!({
                "allowedOrigin": r.allowed_origins,
                "allowedMethods": r.allowed_methods,
                "allowedHeaders": r.allowed_headers,
                "exposeHeaders": r.expose_headers,
            });
            if let Some(age) = r.max_age_seconds {
                rule["maxAge"] = age.into();
            }
            rule
        })
        .collect();
    json!({ "rules": rules })
}

/// Whether `pattern` (with at most one `*` standing for any text) matches `value`;
/// header names compare without case.
fn wildcard(pattern: &str, value: &str, fold_case: bool) -> bool {
    let (p, v) = if fold_case {
        (pattern.to_ascii_lowercase(), value.to_ascii_lowercase())
    } else {
        (pattern.to_owned(), value.to_owned())
    };
    match p.split_once('*') {
        None => p == v,
        Some((head, tail)) => {
            v.len() >= head.len() + tail.len() && v.starts_with(head) && v.ends_with(tail)
        }
    }
}

/// The first rule allowing `origin` to use `method` (and, for a preflight, `headers`).
fn matching<'a>(
    rules: &'a [CorsRule],
    origin: &str,
    method: &str,
    headers: &[String],
) -> Option<&'a CorsRule> {
    rules.iter().find(|r| {
        r.allowed_origins.iter().any(|o| wildcard(o, origin, false))
            && r.allowed_methods.iter().any(|m| m == "*" || m == method)
            && headers.iter().all(|h| {
                r.allowed_headers
                    .iter()
                    .any(|a| wildcard(a, h.trim(), true))
            })
    })
}

/// The CORS answer headers of `rule` for `origin`.
fn allow(headers: &mut HeaderMap, rule: &CorsRule, origin: &str, requested: &[String]) {
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    };
    let any_origin = rule.allowed_origins.iter().any(|o| o == "*");
    set(
        "access-control-allow-origin",
        if any_origin {
            "*".into()
        } else {
            origin.into()
        },
    );
    set(
        "access-control-allow-methods",
        rule.allowed_methods.join(", "),
    );
    if !requested.is_empty() {
        set("access-control-allow-headers", requested.join(", "));
    }
    if !rule.expose_headers.is_empty() {
        set(
            "access-control-expose-headers",
            rule.expose_headers.join(", "),
        );
    }
    if let Some(age) = rule.max_age_seconds {
        set("access-control-max-age", age.to_string());
    }
    headers.insert(http::header::VARY, HeaderValue::from_static("Origin"));
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The bucket of a path-style URL path, if it names one.
fn bucket_of(path: &str) -> Option<&str> {
    path.trim_start_matches('/')
        .split('/')
        .next()
        .filter(|b| !b.is_empty())
}

fn answer(status: StatusCode, code: &str, message: &str) -> http::Response<s3s::Body> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    let mut resp = http::Response::new(s3s::Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    resp
}

/// Answers a preflight `OPTIONS /{bucket}[/{key}]`: 400 without `Origin` or
/// `Access-Control-Request-Method`, 404 for a missing bucket, 403 when no rule allows it, else
/// 200 with the rule's headers. `None` for requests that are not a bucket preflight.
pub(crate) fn preflight(
    shared: &Shared,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Option<http::Response<s3s::Body>> {
    if method != Method::OPTIONS {
        return None;
    }
    let bucket = bucket_of(path)?;
    let (Some(origin), Some(asked)) = (
        header(headers, "origin"),
        header(headers, "access-control-request-method"),
    ) else {
        return Some(answer(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Insufficient information. Origin request header needed.",
        ));
    };
    let requested: Vec<String> = header(headers, "access-control-request-headers")
        .map(|h| {
            h.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let rules = match shared.store().bucket(bucket) {
        Ok(b) => b.extra.cors.clone().unwrap_or_default(),
        Err(_) => {
            return Some(answer(
                StatusCode::NOT_FOUND,
                "NoSuchBucket",
                "The specified bucket does not exist",
            ));
        }
    };
    let Some(rule) = matching(&rules, origin, asked, &requested) else {
        return Some(answer(
            StatusCode::FORBIDDEN,
            "AccessForbidden",
            "CORSResponse: This CORS request is not allowed.",
        ));
    };
    let mut resp = http::Response::new(s3s::Body::empty());
    allow(resp.headers_mut(), rule, origin, &requested);
    Some(resp)
}

/// Adds the CORS headers of the first matching rule to the answer of a request that carries an
/// `Origin` (whatever its status, as S3 does).
pub(crate) fn decorate(
    shared: &Shared,
    method: &Method,
    path: &str,
    request: &HeaderMap,
    response: &mut HeaderMap,
) {
    let (Some(origin), Some(bucket)) = (header(request, "origin"), bucket_of(path)) else {
        return;
    };
    let asked = header(request, "access-control-request-method").unwrap_or(method.as_str());
    let rules = match shared.store().bucket(bucket) {
        Ok(b) => match &b.extra.cors {
            Some(rules) => rules.clone(),
            None => return,
        },
        Err(_) => return,
    };
    if let Some(rule) = matching(&rules, origin, asked, &[]) {
        allow(response, rule, origin, &[]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(origins: &[&str], methods: &[&str]) -> CorsRule {
        CorsRule {
            allowed_origins: origins.iter().map(|s| s.to_string()).collect(),
            allowed_methods: methods.iter().map(|s| s.to_string()).collect(),
            ..CorsRule::default()
        }
    }

    #[test]
    fn one_star_in_an_origin_stands_for_any_text() {
        assert!(wildcard("*suffix", "foo.suffix", false));
        assert!(wildcard("start*end", "startend", false));
        assert!(!wildcard("start*end", "0start12end", false));
        assert!(wildcard("prefix*", "prefix.suffix", false));
        assert!(!wildcard("prefix*", "bla.prefix", false));
        assert!(wildcard("X-Amz-*", "x-amz-date", true));
    }

    #[test]
    fn the_first_rule_matching_origin_and_method_answers() {
        let rules = [rule(&["*.put"], &["PUT"]), rule(&["*"], &["GET"])];
        assert_eq!(
            matching(&rules, "a.put", "PUT", &[]).map(|r| &r.allowed_methods[0]),
            Some(&"PUT".to_owned())
        );
        assert_eq!(
            matching(&rules, "a.put", "GET", &[]).map(|r| &r.allowed_methods[0]),
            Some(&"GET".to_owned())
        );
        assert!(matching(&rules, "a.put", "DELETE", &[]).is_none());
        assert!(matching(&rules, "x", "GET", &["x-custom".into()]).is_none());
    }

    #[test]
    fn patch_json_reads_rules_and_null_clears() {
        let rules = from_patch(&json!({"rules": [{"allowedOrigin": ["https://a"],
            "allowedMethods": ["GET"], "allowedHeaders": [], "exposeHeaders": ["ETag"],
            "maxAge": 60}]}))
        .unwrap()
        .unwrap();
        assert_eq!(rules[0].max_age_seconds, Some(60));
        assert_eq!(
            metadata(&rules)["rules"][0]["exposeHeaders"],
            json!(["ETag"])
        );
        assert_eq!(from_patch(&Value::Null).unwrap(), None);
        assert_eq!(from_patch(&json!({"rules": []})).unwrap(), None);
        for bad in [
            json!({"rules": [{"allowedOrigin": ["*"], "allowedMethods": ["FETCH"]}]}),
            json!({"rules": [{"allowedOrigin": [], "allowedMethods": ["GET"]}]}),
            json!({"rules": [{"allowedOrigin": ["*"], "allowedMethods": ["GET"], "maxAge": 0}]}),
            json!("x"),
        ] {
            assert!(from_patch(&bad).is_err(), "{bad}");
        }
    }

    mod no_panic {
        //! The CORS parsers and matchers answer on any input: rules from Tigris's JSON, and rules
        //! as S3's XML may hold them (any origins, several `*` included), met by any request.
        use super::super::*;
        use proptest::prelude::*;

        const WORDS: &[&str] = &[
            "rules",
            "allowedOrigin",
            "allowedMethods",
            "allowedHeaders",
            "exposeHeaders",
            "maxAge",
            "*",
            "GET",
            "FETCH",
            "https://a.example",
            "https://*.example",
            "**",
            "x-amz-*",
        ];

        fn texts() -> impl Strategy<Value = Vec<String>> {
            prop::collection::vec(
                prop_oneof![
                    prop::sample::select(WORDS).prop_map(str::to_owned),
                    "[a-zA-Z*.:/ -]{0,10}",
                    any::<String>(),
                ],
                0..4,
            )
        }

        fn rule() -> impl Strategy<Value = CorsRule> {
            (
                texts(),
                texts(),
                texts(),
                texts(),
                proptest::option::of(any::<i32>()),
            )
                .prop_map(|(origins, methods, headers, expose, age)| CorsRule {
                    id: None,
                    allowed_origins: origins,
                    allowed_methods: methods,
                    allowed_headers: headers,
                    expose_headers: expose,
                    max_age_seconds: age,
                })
        }

        proptest! {
            #[test]
            fn patch_values(value in crate::strategies::json(WORDS)) {
                if let Ok(Some(rules)) = from_patch(&value) {
                    prop_assert!(!rules.is_empty() && rules.len() <= 100);
                    let _ = metadata(&rules);
                }
            }

            #[test]
            fn requests_meet_any_rules(
                rules in prop::collection::vec(rule(), 0..4),
                origin in prop_oneof![prop::sample::select(WORDS).prop_map(str::to_owned), any::<String>()],
                method in prop_oneof![prop::sample::select(WORDS).prop_map(str::to_owned), any::<String>()],
                requested in texts(),
                path in any::<String>(),
            ) {
                let _ = bucket_of(&path);
                if let Some(rule) = matching(&rules, &origin, &method, &requested) {
                    allow(&mut HeaderMap::new(), rule, &origin, &requested);
                }
            }
        }
    }
}
