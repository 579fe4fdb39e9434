//! The console: read-only HTML pages about the emulator's state, served at `/_console/` on the
//! S3 port. `_console` can never be a bucket name (S3 and Tigris names are lowercase letters,
//! digits, `.` and `-`), so the path collides with no bucket or object.
//!
//! Safe by default: only loopback peers are served unless [`ConsoleAccess::AnyPeer`] is chosen;
//! only `GET` and `HEAD` are answered; every value a page renders (bucket names, keys,
//! metadata, policy documents) goes through [`html::escape`]; each answer carries a
//! Content-Security-Policy that allows only the console's own script and stylesheet, served
//! from the binary. No secret is ever read: access key secrets live in the key table, which the
//! console never touches, and webhook tokens are shown masked.
//!
//! State is read through small accessors (`store/view.rs`, `Iam::console_view`,
//! `webhook_stats.rs`), each lock held for one call and never across an await.

pub(crate) mod access;
mod html;
mod pages;
mod tree;

use std::net::{IpAddr, SocketAddr};

use crate::console::access::ConsoleAccess;
use crate::state::Shared;

/// The console's path prefix.
pub(crate) const PREFIX: &str = "/_console";

type Response = http::Response<s3s::Body>;

/// What the browser may load: the console's own script and stylesheet, nothing inline and
/// nothing from elsewhere, no framing.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const STYLE: &str = include_str!("assets/console.css");
const SCRIPT: &str = include_str!("assets/console.js");

/// Serves a console request, or `None` when `req` is not one (another path, or the console
/// is off), so the caller serves it as S3.
pub(crate) fn route<B>(
    shared: &Shared,
    peer: SocketAddr,
    req: &http::Request<B>,
) -> Option<Response> {
    let path = req.uri().path();
    let rest = path.strip_prefix(PREFIX)?;
    if !(rest.is_empty() || rest.starts_with('/')) || shared.console == ConsoleAccess::Off {
        return None;
    }
    if !shared.console.admits(peer.ip()) {
        return Some(text(
            403,
            "the console answers only clients on this machine; start the emulator with \
             --console to serve it to every client\n",
        ));
    }
    if shared.console == ConsoleAccess::Loopback && !is_local_host(req.headers()) {
        // A page elsewhere that rebinds its own name to 127.0.0.1 reaches a loopback port
        // from the user's browser, but with its own name in `Host`.
        return Some(text(
            403,
            "the console answers only requests for localhost or an IP address\n",
        ));
    }
    if req.method() != http::Method::GET && req.method() != http::Method::HEAD {
        let mut resp = text(405, "the console is read-only: GET and HEAD only\n");
        resp.headers_mut().insert(
            http::header::ALLOW,
            http::HeaderValue::from_static("GET, HEAD"),
        );
        return Some(resp);
    }
    let query = Query::parse(req.uri().query().unwrap_or(""));
    Some(match rest {
        "" => {
            let mut resp = text(308, "");
            resp.headers_mut().insert(
                http::header::LOCATION,
                http::HeaderValue::from_static("/_console/"),
            );
            resp
        }
        "/" => page(pages::overview(shared)),
        "/bucket" => page(pages::bucket(shared, &query)),
        "/object" => page(pages::object(shared, &query)),
        "/keys" => page(pages::keys(shared)),
        "/webhooks" => page(pages::webhooks(shared)),
        "/console.css" => asset("text/css; charset=utf-8", STYLE),
        "/console.js" => asset("text/javascript; charset=utf-8", SCRIPT),
        _ => page(Err(pages::NotFound("no such console page".into()))),
    })
}

/// Whether `Host` names this machine by an IP address or `localhost`, not a domain name (which
/// a DNS-rebinding page could point at 127.0.0.1). A request without `Host` (HTTP/1.0) passes:
/// a browser always sends one.
fn is_local_host(headers: &http::HeaderMap) -> bool {
    let Some(host) = headers.get(http::header::HOST) else {
        return true;
    };
    let Ok(host) = host.to_str() else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        // `[::1]:9000`
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name.parse::<IpAddr>().is_ok() || name == "localhost" || name.ends_with(".localhost")
}

/// A page's HTML, or why there is none.
fn page(result: Result<String, pages::NotFound>) -> Response {
    match result {
        Ok(body) => respond(200, "text/html; charset=utf-8", body),
        Err(pages::NotFound(why)) => respond(
            404,
            "text/html; charset=utf-8",
            html::Page::new("Not found").error(&why),
        ),
    }
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    respond(200, content_type, body.to_owned())
}

fn text(status: u16, body: &str) -> Response {
    respond(status, "text/plain; charset=utf-8", body.to_owned())
}

fn respond(status: u16, content_type: &'static str, body: String) -> Response {
    let mut resp = http::Response::new(s3s::Body::from(body));
    *resp.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    let headers = resp.headers_mut();
    let mut set = |name: http::header::HeaderName, value: &'static str| {
        headers.insert(name, http::HeaderValue::from_static(value));
    };
    set(http::header::CONTENT_TYPE, content_type);
    set(http::header::CONTENT_SECURITY_POLICY, CSP);
    set(http::header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(http::header::X_FRAME_OPTIONS, "DENY");
    set(http::header::REFERRER_POLICY, "no-referrer");
    set(http::header::CACHE_CONTROL, "no-store");
    resp
}

/// A query string's parameters, decoded (`+` is a space, as browsers send form fields).
#[derive(Debug, Default)]
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    fn parse(query: &str) -> Self {
        let decode = |s: &str| {
            urlencoding::decode(&s.replace('+', " "))
                .ok()
                .map(|c| c.into_owned())
        };
        Self(
            query
                .split('&')
                .filter(|p| !p.is_empty())
                .filter_map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    Some((decode(k)?, decode(v)?))
                })
                .collect(),
        )
    }

    /// The first value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_console_path_is_no_valid_bucket_name() {
        assert!(!s3s::path::check_bucket_name("_console"));
    }

    #[test]
    fn loopback_access_admits_only_loopback_peers() {
        let access = ConsoleAccess::Loopback;
        for ip in ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"] {
            assert!(access.admits(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "10.0.0.1",
            "192.168.1.2",
            "::ffff:10.0.0.1",
            "2001:db8::1",
            "0.0.0.0",
        ] {
            assert!(!access.admits(ip.parse().unwrap()), "{ip}");
        }
        assert!(ConsoleAccess::AnyPeer.admits("10.0.0.1".parse().unwrap()));
        assert!(!ConsoleAccess::Off.admits("127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn only_ip_addresses_and_localhost_are_local_hosts() {
        let host = |h: &str| {
            let mut headers = http::HeaderMap::new();
            headers.insert(http::header::HOST, h.parse().unwrap());
            is_local_host(&headers)
        };
        for ok in [
            "127.0.0.1:9000",
            "127.0.0.1",
            "[::1]:9000",
            "localhost:9000",
            "LOCALHOST",
            "app.localhost:1",
            "192.0.2.2:9000",
        ] {
            assert!(host(ok), "{ok}");
        }
        for bad in [
            "evil.example:9000",
            "evil.example",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
        ] {
            assert!(!host(bad), "{bad}");
        }
        assert!(is_local_host(&http::HeaderMap::new()));
    }

    #[test]
    fn query_values_are_decoded_once() {
        let q = Query::parse("name=a%2Bb&prefix=x+y%2F&key=%3Cscript%3E&flag&bad=%FF");
        assert_eq!(q.get("name"), Some("a+b"));
        assert_eq!(q.get("prefix"), Some("x y/"));
        assert_eq!(q.get("key"), Some("<script>"));
        assert_eq!(q.get("flag"), Some(""));
        assert_eq!(q.get("bad"), None);
    }
}
