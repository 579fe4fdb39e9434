//! The console at `/_console/`: loopback only by default, read-only, a Content-Security-Policy
//! on every answer, every rendered value escaped, no secret on any page. (The browser test that
//! drives a fleet and loads the pages in Chromium is `tests/tests/console_browser.rs`.)

mod common;

use std::net::SocketAddr;

use aws_sdk_s3::primitives::ByteStream;
use tigris_emulator::{ConsoleAccess, Emulator};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Sends one raw HTTP/1.1 request to `addr` and returns the whole response.
async fn raw(addr: SocketAddr, method: &str, path: &str) -> String {
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    socket.read_to_end(&mut response).await.unwrap();
    String::from_utf8(response).unwrap()
}

async fn get(emu: &Emulator, path: &str) -> String {
    raw(emu.local_addr(), "GET", path).await
}

fn header<'a>(response: &'a str, name: &str) -> Option<&'a str> {
    let head = response.split("\r\n\r\n").next()?;
    head.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

const SCRIPT_KEY: &str = "<script>alert(1)</script>";

#[tokio::test]
async fn the_console_answers_loopback_clients_with_a_content_security_policy() {
    let emu = Emulator::start().await.unwrap();
    let url = emu.console_url().unwrap();
    assert_eq!(url, format!("{}/_console/", emu.endpoint()));
    for path in [
        "/_console/",
        "/_console/keys",
        "/_console/webhooks",
        "/_console/console.css",
        "/_console/console.js",
    ] {
        let resp = get(&emu, path).await;
        assert!(resp.starts_with("HTTP/1.1 200"), "{path}: {resp}");
        let csp = header(&resp, "content-security-policy").unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"));
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(header(&resp, "x-content-type-options"), Some("nosniff"));
    }
    let resp = get(&emu, "/_console").await;
    assert!(resp.starts_with("HTTP/1.1 308"), "{resp}");
    assert_eq!(header(&resp, "location"), Some("/_console/"));
    assert!(
        get(&emu, "/_console/nope")
            .await
            .starts_with("HTTP/1.1 404")
    );
}

#[tokio::test]
async fn every_method_but_get_and_head_is_refused_and_changes_nothing() {
    let emu = Emulator::start().await.unwrap();
    let s3 = common::client(&emu);
    s3.create_bucket().bucket("data").send().await.unwrap();
    let before = emu.inventory();
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        for path in ["/_console/", "/_console/bucket?name=data", "/_console/keys"] {
            let resp = raw(emu.local_addr(), method, path).await;
            assert!(resp.starts_with("HTTP/1.1 405"), "{method} {path}: {resp}");
            assert_eq!(header(&resp, "allow"), Some("GET, HEAD"));
        }
    }
    assert!(
        raw(emu.local_addr(), "HEAD", "/_console/")
            .await
            .starts_with("HTTP/1.1 200")
    );
    assert_eq!(emu.inventory(), before);
}

#[tokio::test]
async fn keys_and_metadata_render_as_text_never_as_markup() {
    let emu = Emulator::start().await.unwrap();
    let s3 = common::client(&emu);
    s3.create_bucket().bucket("data").send().await.unwrap();
    s3.put_object()
        .bucket("data")
        .key(SCRIPT_KEY)
        .metadata("note", "\"><img src=x onerror=alert(2)>")
        .content_type("text/html")
        .body(ByteStream::from_static(b"<b onclick=alert(3)>hi</b>"))
        .send()
        .await
        .unwrap();
    let encoded = urlencoding::encode(SCRIPT_KEY);
    // The key holds a `/`: the bucket's top level shows `<script>alert(1)</` as a folder.
    let top = get(&emu, "/_console/bucket?name=data").await;
    assert!(top.contains(">&lt;script&gt;alert(1)&lt;/</a>"), "{top}");
    let folder = urlencoding::encode("<script>alert(1)</");
    let bucket = get(&emu, &format!("/_console/bucket?name=data&prefix={folder}")).await;
    let object = get(&emu, &format!("/_console/object?bucket=data&key={encoded}")).await;
    for page in [&top, &bucket, &object] {
        assert!(page.starts_with("HTTP/1.1 200"), "{page}");
        assert!(!page.contains("<script>alert"), "{page}");
    }
    assert!(bucket.contains(">script&gt;</a>"), "{bucket}");
    assert!(
        object.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{object}"
    );
    assert!(
        bucket.contains(&format!("key={encoded}")),
        "links carry the key encoded"
    );
    assert!(object.contains("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"));
    assert!(
        object.contains("&lt;b onclick=alert(3)&gt;hi&lt;/b&gt;"),
        "the preview is text"
    );
    assert!(!object.contains("<img") && !object.contains("<b onclick"));
}

#[tokio::test]
async fn no_page_shows_a_secret() {
    let emu = Emulator::builder()
        .credentials("root-id", "root-secret-do-not-show")
        .start()
        .await
        .unwrap();
    common::setup_buckets(&emu).await;
    let (id, secret, _) =
        common::scoped_key(&emu, "mine-rw", &common::policy(&["s3:*"], "mine", None)).await;
    let body = br#"{"object_notifications":{"enabled":true,"web_hook":"http://127.0.0.1:9/hook?sig=query-secret","auth":{"token":"webhook-token-secret"}}}"#;
    let resp = common::signed_request(
        &emu,
        ("root-id", "root-secret-do-not-show"),
        "PATCH",
        "/mine",
        &[("content-type", "application/json")],
        body,
    )
    .await;
    assert!(resp.status().is_success(), "{}", resp.status());
    common::client(&emu)
        .put_object()
        .bucket("mine")
        .key("k")
        .body(ByteStream::from_static(b"v"))
        .send()
        .await
        .unwrap();
    let mut seen = String::new();
    for path in [
        "/_console/",
        "/_console/bucket?name=mine",
        "/_console/object?bucket=mine&key=k",
        "/_console/keys",
        "/_console/webhooks",
    ] {
        let page = get(&emu, path).await;
        assert!(page.starts_with("HTTP/1.1 200"), "{path}: {page}");
        for shown in [
            secret.as_str(),
            "root-secret-do-not-show",
            "webhook-token-secret",
            "query-secret",
        ] {
            assert!(!page.contains(shown), "{path} shows a secret");
        }
        seen.push_str(&page);
    }
    // The pages do show who may do what: the key, its policy, its bucket.
    assert!(seen.contains(&id) && seen.contains("mine-rw"));
    assert!(seen.contains("http://127.0.0.1:9/hook?****"));
}

#[tokio::test]
async fn keys_show_what_their_policies_allow_on_each_bucket() {
    let emu = Emulator::start().await.unwrap();
    common::setup_buckets(&emu).await;
    let (id, ..) = common::scoped_key(
        &emu,
        "reader",
        &common::policy(&["s3:GetObject", "s3:ListBucket"], "mine", None),
    )
    .await;
    let page = get(&emu, "/_console/keys").await;
    let card = page.split(&format!("data-key-id=\"{id}\"")).nth(1).unwrap();
    let card = card.split("</div>").next().unwrap();
    assert!(
        card.contains("name=mine") && !card.contains("name=theirs"),
        "{card}"
    );
    assert!(card.contains(">list<") && card.contains(">read<"));
    assert!(!card.contains(">write<") && !card.contains(">delete<"));
}

#[tokio::test]
async fn a_console_turned_off_is_not_served() {
    let emu = Emulator::builder()
        .console(ConsoleAccess::Off)
        .start()
        .await
        .unwrap();
    assert_eq!(emu.console_url(), None);
    let resp = get(&emu, "/_console/").await;
    assert!(!resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(header(&resp, "content-security-policy").is_none());
}

/// This machine's address on its default route, if it has one that is not loopback.
fn non_loopback_address() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    // Connecting a UDP socket sends nothing; it only picks the local address of the route.
    socket.connect("192.0.2.200:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[tokio::test]
async fn a_client_from_another_address_is_refused_unless_every_peer_is_allowed() {
    let Some(ip) = non_loopback_address() else {
        eprintln!("skipped: this machine has no non-loopback address to connect from");
        return;
    };
    for (access, status) in [
        (ConsoleAccess::Loopback, "HTTP/1.1 403"),
        (ConsoleAccess::AnyPeer, "HTTP/1.1 200"),
    ] {
        let emu = Emulator::builder()
            .bind(SocketAddr::new(ip, 0))
            .console(access)
            .start()
            .await
            .unwrap();
        let resp = raw(emu.local_addr(), "GET", "/_console/").await;
        assert!(resp.starts_with(status), "{access:?}: {resp}");
    }
}

#[tokio::test]
async fn the_binary_prints_the_console_url_and_no_console_turns_it_off() {
    let (mut child, endpoint, banner) = common::spawn_binary(["--port", "0"]).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let expected = format!("console: {endpoint}/_console/ (this machine only)");
    assert!(banner.iter().any(|l| l.contains(&expected)), "{banner:?}");
    let (mut child, _, banner) = common::spawn_binary(["--port", "0", "--no-console"]).await;
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        banner.iter().any(|l| l.contains("console: off")),
        "{banner:?}"
    );
}

#[tokio::test]
async fn objects_are_browsed_and_read_at_a_snapshot() {
    let emu = Emulator::start().await.unwrap();
    let s3 = common::client(&emu);
    s3.create_bucket()
        .bucket("snaps")
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("x-tigris-enable-snapshot", "true");
        })
        .send()
        .await
        .unwrap();
    let put = |key: &'static str, body: &'static str| {
        s3.put_object()
            .bucket("snaps")
            .key(key)
            .body(ByteStream::from_static(body.as_bytes()))
            .send()
    };
    put("doc.txt", "first words").await.unwrap();
    let root = emu.root_credentials();
    let taken = common::signed_request(
        &emu,
        (root.access_key_id(), root.secret_access_key()),
        "PUT",
        "/snaps",
        &[("x-tigris-snapshot", "true; name=before")],
        b"",
    )
    .await;
    let version = taken.headers()["x-tigris-snapshot-version"]
        .to_str()
        .unwrap()
        .to_owned();
    put("doc.txt", "second words").await.unwrap();
    put("later.txt", "only now").await.unwrap();

    let then = get(
        &emu,
        &format!("/_console/object?bucket=snaps&key=doc.txt&at={version}"),
    )
    .await;
    assert!(
        then.contains("first words") && !then.contains("second words"),
        "{then}"
    );
    let now = get(&emu, "/_console/object?bucket=snaps&key=doc.txt").await;
    assert!(now.contains("second words"), "{now}");
    let listing = get(&emu, &format!("/_console/bucket?name=snaps&at={version}")).await;
    let objects = listing.split("id=\"objects\"").nth(1).unwrap();
    assert!(
        objects.contains(">doc.txt<") && !objects.contains(">later.txt<"),
        "{objects}"
    );
    assert!(listing.contains(&format!(
        "<option value=\"{version}\" selected>before ({version})</option>"
    )));
    let missing = get(
        &emu,
        &format!("/_console/object?bucket=snaps&key=later.txt&at={version}"),
    )
    .await;
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
}

#[tokio::test]
async fn a_webhook_that_never_answers_is_shown_given_up_after_every_attempt() {
    let emu = Emulator::start().await.unwrap();
    let s3 = common::client(&emu);
    s3.create_bucket().bucket("hooked").send().await.unwrap();
    // A port nothing listens on: every attempt is refused.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let body = format!(
        r#"{{"object_notifications":{{"enabled":true,"web_hook":"http://127.0.0.1:{port}/gone"}}}}"#
    );
    let root = emu.root_credentials();
    let resp = common::signed_request(
        &emu,
        (root.access_key_id(), root.secret_access_key()),
        "PATCH",
        "/hooked",
        &[("content-type", "application/json")],
        body.as_bytes(),
    )
    .await;
    assert!(resp.status().is_success(), "{}", resp.status());
    s3.put_object()
        .bucket("hooked")
        .key("k1")
        .body(ByteStream::from_static(b"v"))
        .send()
        .await
        .unwrap();
    // Delivery retries with backoff in the background; wait until the page reports the end.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let page = loop {
        let page = get(&emu, "/_console/webhooks").await;
        if page.contains(">gave up<") {
            break page;
        }
        assert!(std::time::Instant::now() < deadline, "{page}");
        tokio::task::yield_now().await;
    };
    let url = format!("http://127.0.0.1:{port}/gone");
    assert!(page.contains(&format!("data-url=\"{url}\"")), "{page}");
    assert!(
        page.contains("<b>1</b> given up") && page.contains("<b>0</b> queued"),
        "{page}"
    );
    assert!(
        page.contains("<td>k1</td><td>5</td><td>no answer</td>"),
        "{page}"
    );
}

#[tokio::test]
async fn a_request_for_another_host_name_is_refused_so_dns_rebinding_reads_nothing() {
    let emu = Emulator::start().await.unwrap();
    let mut socket = tokio::net::TcpStream::connect(emu.local_addr())
        .await
        .unwrap();
    let request =
        "GET /_console/ HTTP/1.1\r\nHost: rebound.example:9000\r\nConnection: close\r\n\r\n";
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    socket.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8(response).unwrap();
    assert!(response.starts_with("HTTP/1.1 403"), "{response}");
    let by_name = format!("localhost:{}", emu.local_addr().port());
    let mut socket = tokio::net::TcpStream::connect(emu.local_addr())
        .await
        .unwrap();
    let request =
        format!("GET /_console/ HTTP/1.1\r\nHost: {by_name}\r\nConnection: close\r\n\r\n");
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    socket.read_to_end(&mut response).await.unwrap();
    assert!(
        String::from_utf8(response)
            .unwrap()
            .starts_with("HTTP/1.1 200")
    );
}
