//! `POST /{bucket}?bundle`: many objects answered as one streamed tar.
//!
//! The request names up to 5,000 keys (JSON `{"keys": [...]}` or XML
//! `<Bundle><Object><Key>…</Key></Object></Bundle>`, at most 5 MB). The answer is a tar stream
//! with one entry per key, named by the full key, in request order; keys longer than a tar
//! header holds get a PAX `path` record. In skip mode (the default) missing keys, and keys the
//! signer may not read, are left out and listed in a last entry `__bundle_errors.json`
//! (`{"skipped": [{"key", "reason"}]}`); in fail mode the first such key makes the request fail
//! before anything is streamed (`404 BundleKeyNotFound` listing every missing key, or
//! `403 AccessDenied`). `X-Tigris-Bundle-Compression: gzip|zstd` compresses the stream.
//! Counts are sent as HTTP trailers (`x-tigris-bundle-count`, `-bytes`, `-skipped`) to clients
//! that ask for trailers (`TE: trailers`).
//!
//! Streaming: the objects to send are fixed when the request arrives (cheap handles to the
//! stored versions, no copies); a task then writes headers and each object's bytes into a
//! bounded channel, in slices, so neither the tar nor an entry is assembled in memory.
//!
//! Emulator choices where Tigris documents nothing: a key the signer may not read is skipped
//! with reason `AccessDenied` (fail mode: `403`), and a request whose keys the signer may read
//! none of is `403 AccessDenied` before the bucket is looked up; a key holding a NUL byte is
//! skipped with reason `InvalidKeyName` (a tar name ends at its first NUL, so it would read as
//! another key); reads at a snapshot are not supported (Tigris documents none for bundles).

use std::io::Write;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::Frame;
use s3s::{Body, S3Request, S3Response, S3Result, s3_error};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::store::{LIVE, Object};

/// The most keys one bundle may name.
pub(crate) const MAX_KEYS: usize = 5_000;
/// The largest request body.
pub(crate) const MAX_BODY: usize = 5 * 1024 * 1024;
/// Bytes of object data sent per frame.
const SLICE: usize = 256 * 1024;
/// Frames buffered between the producer and the connection.
const FRAMES_IN_FLIGHT: usize = 8;
/// The entry that lists skipped keys in skip mode.
pub(crate) const ERRORS_ENTRY: &str = "__bundle_errors.json";

/// What to do with a key that cannot be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnError {
    Skip,
    Fail,
}

/// How the tar stream is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    None,
    Gzip,
    Zstd,
}

/// A parsed bundle request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    pub(crate) keys: Vec<String>,
    pub(crate) on_error: OnError,
    pub(crate) compression: Compression,
}

fn header<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// Reads the headers and body of a bundle request; any problem is a 400 before streaming.
pub(crate) fn parse(headers: &http::HeaderMap, body: &[u8]) -> S3Result<Request> {
    match header(headers, "x-tigris-bundle-format") {
        Some(f) if f.eq_ignore_ascii_case("tar") => {}
        Some(other) => {
            return Err(s3_error!(
                InvalidArgument,
                "X-Tigris-Bundle-Format must be tar, got {other:?}"
            ));
        }
        None => {
            return Err(s3_error!(
                InvalidArgument,
                "X-Tigris-Bundle-Format: tar is required"
            ));
        }
    }
    let on_error = match header(headers, "x-tigris-bundle-on-error").map(str::to_ascii_lowercase) {
        None => OnError::Skip,
        Some(v) if v == "skip" => OnError::Skip,
        Some(v) if v == "fail" => OnError::Fail,
        Some(v) => {
            return Err(s3_error!(
                InvalidArgument,
                "X-Tigris-Bundle-On-Error must be skip or fail, got {v:?}"
            ));
        }
    };
    let compression =
        match header(headers, "x-tigris-bundle-compression").map(str::to_ascii_lowercase) {
            None => Compression::None,
            Some(v) if v == "none" => Compression::None,
            Some(v) if v == "gzip" => Compression::Gzip,
            Some(v) if v == "zstd" => Compression::Zstd,
            Some(v) => {
                return Err(s3_error!(
                    InvalidArgument,
                    "X-Tigris-Bundle-Compression must be none, gzip or zstd, got {v:?}"
                ));
            }
        };
    if body.len() > MAX_BODY {
        return Err(s3_error!(
            InvalidArgument,
            "a bundle request body is at most 5 MB"
        ));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| s3_error!(InvalidArgument, "the bundle request body is not UTF-8"))?;
    let keys = if text.trim_start().starts_with('<') {
        xml_keys(text)?
    } else {
        json_keys(text)?
    };
    if keys.is_empty() || keys.len() > MAX_KEYS {
        return Err(s3_error!(
            InvalidArgument,
            "a bundle names 1 to {MAX_KEYS} keys, got {}",
            keys.len()
        ));
    }
    if keys.iter().any(String::is_empty) {
        return Err(s3_error!(InvalidArgument, "bundle keys may not be empty"));
    }
    Ok(Request {
        keys,
        on_error,
        compression,
    })
}

fn json_keys(text: &str) -> S3Result<Vec<String>> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| s3_error!(InvalidArgument, "the bundle request is not JSON: {e}"))?;
    let keys = value
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| s3_error!(InvalidArgument, "the bundle request needs a \"keys\" array"))?;
    keys.iter()
        .map(|k| {
            k.as_str()
                .map(str::to_owned)
                .ok_or_else(|| s3_error!(InvalidArgument, "bundle keys must be strings"))
        })
        .collect()
}

/// `<Bundle><Object><Key>…</Key></Object>…</Bundle>`, with the five XML entities.
fn xml_keys(text: &str) -> S3Result<Vec<String>> {
    let malformed = || {
        s3_error!(
            MalformedXML,
            "the bundle request is not a <Bundle> document"
        )
    };
    let text = text.trim();
    let text = match text.strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").ok_or_else(malformed)?.1.trim_start(),
        None => text,
    };
    let inner = text
        .strip_prefix("<Bundle>")
        .and_then(|t| t.strip_suffix("</Bundle>"))
        .ok_or_else(malformed)?;
    let mut keys = Vec::new();
    let mut rest = inner.trim();
    while !rest.is_empty() {
        let after = rest
            .strip_prefix("<Object>")
            .ok_or_else(malformed)?
            .trim_start();
        let after = after.strip_prefix("<Key>").ok_or_else(malformed)?;
        let (raw, after) = after.split_once("</Key>").ok_or_else(malformed)?;
        let after = after
            .trim_start()
            .strip_prefix("</Object>")
            .ok_or_else(malformed)?;
        keys.push(unescape(raw).ok_or_else(malformed)?);
        rest = after.trim_start();
    }
    Ok(keys)
}

fn unescape(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let (entity, after) = rest[i..].split_once(';')?;
        out.push(match entity {
            "&amp" => '&',
            "&lt" => '<',
            "&gt" => '>',
            "&quot" => '"',
            "&apos" => '\'',
            _ => return None,
        });
        rest = after;
    }
    if rest.contains('<') {
        return None;
    }
    out.push_str(rest);
    Some(out)
}

/// One key's outcome when the request arrives.
pub(crate) enum Entry {
    Found(String, Arc<Object>),
    Skipped(String, &'static str),
}

/// The `404 BundleKeyNotFound` answer of fail mode, listing every missing key.
pub(crate) fn missing_keys_error(missing: &[String]) -> S3Response<Body> {
    let keys: String = missing
        .iter()
        .map(|k| format!("<Key>{}</Key>", escape(k)))
        .collect();
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>BundleKeyNotFound</Code>\
         <Message>The bundle names keys that do not exist</Message>\
         <MissingKeys>{keys}</MissingKeys></Error>"
    );
    let mut resp = S3Response::with_status(Body::from(xml), http::StatusCode::NOT_FOUND);
    resp.headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/xml"),
    );
    resp
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// The streamed answer: a tar of `entries` (and the skip report), compressed as asked.
pub(crate) fn response(entries: Vec<Entry>, compression: Compression) -> S3Response<Body> {
    let (tx, rx) = mpsc::channel(FRAMES_IN_FLIGHT);
    tokio::spawn(produce(entries, compression, tx));
    let mut resp = S3Response::new(Body::http_body(ChannelBody(rx)));
    let content_type = match compression {
        Compression::None => "application/x-tar",
        Compression::Gzip => "application/gzip",
        Compression::Zstd => "application/zstd",
    };
    resp.headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    resp.headers.insert(
        http::header::TRAILER,
        http::HeaderValue::from_static(
            "x-tigris-bundle-count, x-tigris-bundle-bytes, x-tigris-bundle-skipped",
        ),
    );
    resp
}

/// A response body fed by the producer task.
struct ChannelBody(mpsc::Receiver<Result<Frame<Bytes>, s3s::StdError>>);

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = s3s::StdError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0.poll_recv(cx)
    }
}

/// Compresses what the tar writer produces, frame by frame.
enum Encoder {
    None,
    Gzip(flate2::write::GzEncoder<Vec<u8>>),
    Zstd(zstd::stream::write::Encoder<'static, Vec<u8>>),
}

impl Encoder {
    fn new(compression: Compression) -> std::io::Result<Self> {
        Ok(match compression {
            Compression::None => Self::None,
            Compression::Gzip => Self::Gzip(flate2::write::GzEncoder::new(
                Vec::new(),
                flate2::Compression::fast(),
            )),
            Compression::Zstd => Self::Zstd(zstd::stream::write::Encoder::new(Vec::new(), 3)?),
        })
    }

    /// Bytes ready to send after feeding `data`.
    fn feed(&mut self, data: Bytes) -> std::io::Result<Bytes> {
        match self {
            Self::None => Ok(data),
            Self::Gzip(e) => {
                e.write_all(&data)?;
                Ok(Bytes::from(std::mem::take(e.get_mut())))
            }
            Self::Zstd(e) => {
                e.write_all(&data)?;
                Ok(Bytes::from(std::mem::take(e.get_mut())))
            }
        }
    }

    fn finish(self) -> std::io::Result<Bytes> {
        Ok(Bytes::from(match self {
            Self::None => Vec::new(),
            Self::Gzip(e) => e.finish()?,
            Self::Zstd(e) => e.finish()?,
        }))
    }
}

type Sender = mpsc::Sender<Result<Frame<Bytes>, s3s::StdError>>;

async fn produce(entries: Vec<Entry>, compression: Compression, tx: Sender) {
    if let Err(err) = write_all(entries, compression, &tx).await {
        // The client sees the stream end with an error (the connection is reset), never a
        // shorter tar that looks complete.
        tx.send(Err(err.into())).await.ok();
    }
}

async fn send(tx: &Sender, encoder: &mut Encoder, data: Bytes) -> std::io::Result<()> {
    let out = encoder.feed(data)?;
    if !out.is_empty() && tx.send(Ok(Frame::data(out))).await.is_err() {
        return Err(std::io::Error::other("the client went away"));
    }
    Ok(())
}

async fn write_all(
    entries: Vec<Entry>,
    compression: Compression,
    tx: &Sender,
) -> std::io::Result<()> {
    let mut encoder = Encoder::new(compression)?;
    let (mut count, mut bytes) = (0u64, 0u64);
    let mut skipped = Vec::new();
    for entry in entries {
        match entry {
            Entry::Found(key, object) => {
                let size = object.data.len();
                let mtime = object
                    .last_modified
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                send(
                    tx,
                    &mut encoder,
                    Bytes::from(tar_header(&key, size as u64, mtime)),
                )
                .await?;
                let mut at = 0;
                while at < size {
                    let end = (at + SLICE).min(size);
                    send(tx, &mut encoder, object.data.slice(at..end)).await?;
                    at = end;
                }
                send(tx, &mut encoder, padding(size as u64)).await?;
                count += 1;
                bytes += size as u64;
            }
            Entry::Skipped(key, reason) => skipped.push(json!({ "key": key, "reason": reason })),
        }
    }
    let skipped_count = skipped.len() as u64;
    if !skipped.is_empty() {
        let report = Bytes::from(json!({ "skipped": skipped }).to_string());
        let len = report.len() as u64;
        send(
            tx,
            &mut encoder,
            Bytes::from(tar_header(ERRORS_ENTRY, len, 0)),
        )
        .await?;
        send(tx, &mut encoder, report).await?;
        send(tx, &mut encoder, padding(len)).await?;
    }
    // The end of the archive: two zero blocks.
    send(tx, &mut encoder, Bytes::from_static(&[0u8; 1024])).await?;
    let tail = encoder.finish()?;
    if !tail.is_empty() && tx.send(Ok(Frame::data(tail))).await.is_err() {
        return Err(std::io::Error::other("the client went away"));
    }
    let mut trailers = http::HeaderMap::new();
    for (name, value) in [
        ("x-tigris-bundle-count", count),
        ("x-tigris-bundle-bytes", bytes),
        ("x-tigris-bundle-skipped", skipped_count),
    ] {
        trailers.insert(name, http::HeaderValue::from(value));
    }
    tx.send(Ok(Frame::trailers(trailers))).await.ok();
    Ok(())
}

fn padding(size: u64) -> Bytes {
    let pad = (512 - (size % 512) as usize) % 512;
    Bytes::from(vec![0u8; pad])
}

/// The ustar header block(s) of a regular file; a name that does not fit the 100-byte field
/// (or is not ASCII) is carried by a PAX extended header before it.
fn tar_header(name: &str, size: u64, mtime: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(1536);
    let fits = name.len() <= 100 && name.is_ascii();
    if !fits {
        let record = pax_record("path", name);
        out.extend_from_slice(&ustar_block(
            "././@PaxHeader",
            record.len() as u64,
            mtime,
            b'x',
        ));
        out.extend_from_slice(record.as_bytes());
        out.extend_from_slice(&padding(record.len() as u64));
    }
    let short: String = if fits {
        name.to_owned()
    } else {
        // A readable stand-in for readers without PAX support.
        name.chars()
            .filter(char::is_ascii)
            .rev()
            .take(100)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect()
    };
    out.extend_from_slice(&ustar_block(&short, size, mtime, b'0'));
    out
}

/// `"<len> <key>=<value>\n"`, where `<len>` counts the whole record, itself included.
fn pax_record(key: &str, value: &str) -> String {
    let body = format!(" {key}={value}\n");
    let mut len = body.len() + 1;
    while len.to_string().len() + body.len() != len {
        len += 1;
    }
    format!("{len}{body}")
}

fn ustar_block(name: &str, size: u64, mtime: u64, kind: u8) -> [u8; 512] {
    let mut h = [0u8; 512];
    let put = |h: &mut [u8; 512], at: usize, field: &[u8]| {
        h[at..at + field.len()].copy_from_slice(field);
    };
    let octal = |width: usize, value: u64| format!("{value:0w$o}\0", w = width - 1).into_bytes();
    put(&mut h, 0, &name.as_bytes()[..name.len().min(100)]);
    put(&mut h, 100, &octal(8, 0o644));
    put(&mut h, 108, &octal(8, 0));
    put(&mut h, 116, &octal(8, 0));
    put(&mut h, 124, &octal(12, size));
    put(&mut h, 136, &octal(12, mtime));
    h[148..156].fill(b' ');
    h[156] = kind;
    put(&mut h, 257, b"ustar\0");
    put(&mut h, 263, b"00");
    let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
    put(&mut h, 148, format!("{sum:06o}\0 ").as_bytes());
    h
}

/// Resolves the keys against the live bucket, checking read rights per key.
pub(crate) fn resolve(
    store: &crate::store::Store,
    bucket: &str,
    keys: &[String],
    may_read: impl Fn(&str) -> bool,
) -> S3Result<Vec<Entry>> {
    store.bucket(bucket)?;
    Ok(keys
        .iter()
        .map(|key| {
            if !may_read(key) {
                return Entry::Skipped(key.clone(), "AccessDenied");
            }
            // A tar name ends at its first NUL, so `a\0b` would read as an entry `a`.
            if key.contains('\0') {
                return Entry::Skipped(key.clone(), "InvalidKeyName");
            }
            match store.get(bucket, key, LIVE) {
                Ok(object) => Entry::Found(key.clone(), object),
                Err(_) => Entry::Skipped(key.clone(), "NoSuchKey"),
            }
        })
        .collect())
}

/// Serves a bundle request already admitted for the bucket.
pub(crate) fn serve(
    shared: &crate::state::Shared,
    req: &S3Request<Body>,
    bucket: &str,
    body: &[u8],
    may_read: impl Fn(&str) -> bool,
) -> S3Result<S3Response<Body>> {
    let request = parse(&req.headers, body)?;
    // Authorized before the bucket is looked up: a key that may read none of the keys it
    // names learns nothing, not even whether the bucket exists.
    if !request.keys.iter().any(|k| may_read(k)) {
        return Err(s3_error!(
            AccessDenied,
            "Access Denied: s3:GetObject on none of the requested keys of {bucket} is allowed for this key"
        ));
    }
    let entries = resolve(&shared.store(), bucket, &request.keys, may_read)?;
    if request.on_error == OnError::Fail {
        let missing: Vec<String> = entries
            .iter()
            .filter_map(|e| match e {
                Entry::Skipped(k, "NoSuchKey") => Some(k.clone()),
                _ => None,
            })
            .collect();
        if let Some(Entry::Skipped(key, _)) = entries
            .iter()
            .find(|e| matches!(e, Entry::Skipped(_, "AccessDenied")))
        {
            return Err(s3_error!(
                AccessDenied,
                "Access Denied: s3:GetObject on {bucket}/{key} is not allowed for this key"
            ));
        }
        if !missing.is_empty() {
            return Ok(missing_keys_error(&missing));
        }
    }
    Ok(response(entries, request.compression))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, http::HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn requests_parse_from_json_or_xml_and_bad_ones_are_refused() {
        let h = headers(&[("x-tigris-bundle-format", "tar")]);
        let json = parse(&h, br#"{"keys": ["a", "b/c"]}"#).unwrap();
        assert_eq!(json.keys, ["a", "b/c"]);
        assert_eq!(
            (json.on_error, json.compression),
            (OnError::Skip, Compression::None)
        );
        let xml = parse(
            &h,
            b"<?xml version=\"1.0\"?><Bundle><Object><Key>a&amp;b</Key></Object>\
              <Object><Key>c</Key></Object></Bundle>",
        )
        .unwrap();
        assert_eq!(xml.keys, ["a&b", "c"]);
        let too_many = json!({ "keys": vec!["k"; MAX_KEYS + 1] }).to_string();
        for (headers, body) in [
            (headers(&[]), br#"{"keys":["a"]}"#.to_vec()),
            (h.clone(), br#"{"keys":[]}"#.to_vec()),
            (h.clone(), br#"{"keys":[""]}"#.to_vec()),
            (h.clone(), br#"{"keys":[1]}"#.to_vec()),
            (h.clone(), b"<Bundle><Key>a</Key></Bundle>".to_vec()),
            (h.clone(), too_many.into_bytes()),
            (
                headers(&[
                    ("x-tigris-bundle-format", "tar"),
                    ("x-tigris-bundle-compression", "lz4"),
                ]),
                br#"{"keys":["a"]}"#.to_vec(),
            ),
        ] {
            assert!(parse(&headers, &body).is_err());
        }
    }

    #[test]
    fn pax_records_count_their_own_length() {
        for value in ["a", &"k".repeat(95), &"é".repeat(600)] {
            let record = pax_record("path", value);
            let (len, _) = record.split_once(' ').unwrap();
            assert_eq!(len.parse::<usize>().unwrap(), record.len());
        }
    }

    #[test]
    fn headers_have_a_valid_checksum_and_long_names_get_pax() {
        let block = ustar_block("a.txt", 5, 0, b'0');
        let stored = std::str::from_utf8(&block[148..154]).unwrap();
        let mut copy = block;
        copy[148..156].fill(b' ');
        let sum: u32 = copy.iter().map(|b| u32::from(*b)).sum();
        assert_eq!(u32::from_str_radix(stored, 8).unwrap(), sum);
        assert_eq!(tar_header("short", 1, 0).len(), 512);
        let long = tar_header(&"d/".repeat(200), 1, 0);
        assert_eq!(long.len() % 512, 0);
        assert_eq!(long[156], b'x');
    }

    mod no_panic {
        //! The bundle request parser answers `Ok` or `Err` on any headers and body.
        use super::super::*;
        use proptest::prelude::*;

        fn header_value() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("tar".to_owned()),
                Just("skip".to_owned()),
                Just("fail".to_owned()),
                Just("gzip".to_owned()),
                Just("zstd".to_owned()),
                "[ -~]{0,12}",
            ]
        }

        /// JSON and XML bodies near the real shapes, with arbitrary keys and entities.
        fn body() -> impl Strategy<Value = Vec<u8>> {
            let key = prop_oneof![any::<String>(), "[a-z&;<>]{0,12}"];
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..256),
                prop::collection::vec(key.clone(), 0..8)
                    .prop_map(|keys| json!({ "keys": keys }).to_string().into_bytes()),
                prop::collection::vec(key, 0..8).prop_map(|keys| {
                    let objects: String = keys
                        .iter()
                        .map(|k| format!("<Object><Key>{k}</Key></Object>"))
                        .collect();
                    format!("<Bundle>{objects}</Bundle>").into_bytes()
                }),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            #[test]
            fn bundle_requests_parse_or_fail(
                format in header_value(),
                on_error in header_value(),
                compression in header_value(),
                body in body(),
            ) {
                let mut headers = http::HeaderMap::new();
                for (name, value) in [
                    ("x-tigris-bundle-format", format),
                    ("x-tigris-bundle-on-error", on_error),
                    ("x-tigris-bundle-compression", compression),
                ] {
                    if let Ok(v) = http::HeaderValue::from_str(&value) {
                        headers.insert(name, v);
                    }
                }
                let _ = parse(&headers, &body);
            }

            #[test]
            fn tar_headers_are_whole_blocks_for_any_key(key in any::<String>(), size in any::<u32>()) {
                prop_assert_eq!(tar_header(&key, u64::from(size), 0).len() % 512, 0);
            }
        }
    }
}
