//! Bundles: many objects of one bucket fetched as one streamed tar (`POST /{bucket}?bundle`).
//!
//! Reading a thousand small objects costs a thousand round trips with GetObject; a bundle asks
//! for all of them at once and Tigris streams them back as one tar, in request order. The
//! answer is read entry by entry: each [`BundleEntry`] is an [`AsyncRead`] of that object's
//! bytes straight from the connection, so memory stays flat however large the bundle is.
//! Keys that could not be sent (skip mode) are reported by [`BundleStream::skipped`] once the
//! stream is read to its end. A stream that ends early is an error, never a shorter entry.
//!
//! ```no_run
//! # async fn demo(tigris: tigris_api::Client) -> Result<(), Box<dyn std::error::Error>> {
//! use tigris_api::bundle::Compression;
//! use tokio::io::AsyncReadExt;
//!
//! let mut bundle = tigris
//!     .bundle().bucket("datasets")
//!     .keys(["train/0001.json", "train/0002.json"])
//!     .compression(Compression::Zstd)
//!     .send()
//!     .await?;
//! while let Some(mut entry) = bundle.next_entry().await? {
//!     let mut text = String::new();
//!     entry.read_to_string(&mut text).await?;
//!     println!("{}: {} bytes", entry.key(), entry.size());
//! }
//! for skipped in bundle.skipped() {
//!     println!("skipped {} ({})", skipped.key, skipped.reason);
//! }
//! # Ok(()) }
//! ```
//!
//! Reads at a snapshot are not offered: Tigris documents no snapshot header for bundles.

use std::path::{Component, Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{HeaderName, HeaderValue, Method};
use tigris_core::transport::{SignedTransport, TigrisRequest};
use tokio::io::{AsyncBufRead, AsyncRead, AsyncReadExt, ReadBuf};

use crate::error::{Error, Operation, Result};
use crate::wire::bucket_name;

/// The most keys one bundle may name.
pub const MAX_KEYS: usize = 5_000;
/// The largest request body Tigris accepts for a bundle, in bytes.
pub const MAX_REQUEST_BYTES: usize = 5 * 1024 * 1024;
/// The entry in which Tigris reports skipped keys.
pub const ERRORS_ENTRY: &str = "__bundle_errors.json";
/// The largest skip report read.
const MAX_REPORT: u64 = 16 * 1024 * 1024;

/// What Tigris does with a key it cannot send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OnError {
    /// Leave it out and report it in [`BundleStream::skipped`] (the default).
    #[default]
    Skip,
    /// Fail the whole request before anything is streamed; the error lists the missing keys.
    Fail,
}

/// How the tar stream is compressed on the wire (it is decompressed here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Compression {
    /// Plain tar (the default).
    #[default]
    None,
    /// gzip.
    Gzip,
    /// Zstandard.
    Zstd,
}

impl Compression {
    fn wire(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Gzip => "gzip",
            Self::Zstd => "zstd",
        }
    }
}

/// A key Tigris left out of the bundle, and why (`NoSuchKey`, `AccessDenied`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedKey {
    /// The key as requested.
    pub key: String,
    /// Tigris's reason code.
    pub reason: String,
}

/// Builds a bundle request; from [`Client::bundle`](crate::Client::bundle).
///
/// `send()` checks the input first — a valid bucket name, 1 to [`MAX_KEYS`] keys, none empty,
/// a request body of at most [`MAX_REQUEST_BYTES`] — and answers
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) without sending anything.
///
/// ```no_run
/// # async fn demo(tigris: tigris_api::Client) -> Result<(), tigris_api::Error> {
/// use tigris_api::bundle::OnError;
///
/// let bundle = tigris.bundle().bucket("datasets").key("a.json").key("b.json").on_error(OnError::Fail).send().await?;
/// let report = bundle.write_to_dir("/tmp/sandbox").await?;
/// println!("{} files written", report.written.len());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "does nothing until .send() is awaited"]
pub struct BundleFluentBuilder {
    transport: SignedTransport,
    bucket: String,
    keys: Vec<String>,
    on_error: OnError,
    compression: Compression,
}

impl BundleFluentBuilder {
    pub(crate) fn new(transport: SignedTransport, bucket: String) -> Self {
        Self {
            transport,
            bucket,
            keys: Vec::new(),
            on_error: OnError::Skip,
            compression: Compression::None,
        }
    }

    /// The bucket the objects are in (required).
    pub fn bucket(mut self, bucket: impl AsRef<str>) -> Self {
        self.bucket = bucket.as_ref().to_owned();
        self
    }

    /// Adds one key; entries come back in the order keys were added.
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.keys.push(key.into());
        self
    }

    /// Adds keys, in order.
    pub fn keys<I, K>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = K>,
        K: Into<String>,
    {
        self.keys.extend(keys.into_iter().map(Into::into));
        self
    }

    /// Skip (default) or fail on keys that cannot be sent.
    pub fn on_error(mut self, on_error: OnError) -> Self {
        self.on_error = on_error;
        self
    }

    /// Compression on the wire (default none).
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    fn operation(&self) -> Operation {
        Operation::Bundle {
            bucket: self.bucket.clone(),
            keys: self.keys.len(),
        }
    }

    /// The JSON request body, after the checks.
    fn body(&self) -> Result<String> {
        let op = || self.operation();
        bucket_name(&self.bucket, op)?;
        if self.keys.is_empty() || self.keys.len() > MAX_KEYS {
            return Err(Error::invalid_argument(
                op(),
                "a bundle names 1 to 5,000 keys",
            ));
        }
        if self.keys.iter().any(String::is_empty) {
            return Err(Error::invalid_argument(
                op(),
                "bundle keys may not be empty",
            ));
        }
        let body = serde_json::json!({ "keys": self.keys }).to_string();
        if body.len() > MAX_REQUEST_BYTES {
            return Err(Error::invalid_argument(
                op(),
                "the key list is over Tigris's 5 MB request limit; split it",
            ));
        }
        Ok(body)
    }

    /// Sends the request and returns the stream of entries.
    ///
    /// # Errors
    /// Invalid input (before sending); in fail mode a missing key is
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) with code `BundleKeyNotFound`, and
    /// [`Error::missing_keys`] lists them; other service and transport errors as usual.
    pub async fn send(self) -> Result<BundleStream> {
        let body = self.body()?;
        let operation = self.operation();
        let bucket = bucket_name(&self.bucket, || operation.clone())?;
        let on_error = match self.on_error {
            OnError::Skip => "skip",
            OnError::Fail => "fail",
        };
        let request = TigrisRequest::new(Method::POST)
            .bucket(bucket)
            .query_param("bundle", "")
            .header(
                HeaderName::from_static("x-tigris-bundle-format"),
                HeaderValue::from_static("tar"),
            )
            .header(
                HeaderName::from_static("x-tigris-bundle-on-error"),
                HeaderValue::from_static(on_error),
            )
            .header(
                HeaderName::from_static("x-tigris-bundle-compression"),
                HeaderValue::from_static(self.compression.wire()),
            )
            // Reading a bundle changes nothing: safe to retry before the stream starts.
            .idempotent(true)
            .json(body);
        let response = self
            .transport
            .send_streaming(&request)
            .await
            .map_err(|e| Error::from_bundle(operation.clone(), e))?;
        let reader = response.into_body().into_async_read();
        let reader: Box<dyn AsyncBufRead + Send + Unpin> = match self.compression {
            Compression::None => Box::new(reader),
            Compression::Gzip => Box::new(tokio::io::BufReader::new(
                async_compression::tokio::bufread::GzipDecoder::new(reader),
            )),
            Compression::Zstd => Box::new(tokio::io::BufReader::new(
                async_compression::tokio::bufread::ZstdDecoder::new(reader),
            )),
        };
        Ok(BundleStream::new(operation, reader))
    }
}

/// The answer to a bundle request: entries in request order, read one at a time.
///
/// Call [`next_entry`](Self::next_entry) until it answers `None`; an entry not read to its end
/// is skipped over by the next call. After `None`, [`skipped`](Self::skipped) lists the keys
/// left out. If the stream ends before the archive's end marker, `next_entry` or the entry's
/// reads fail with [`ErrorKind::Transient`](crate::ErrorKind::Transient): a bundle is never
/// silently short.
pub struct BundleStream {
    operation: Operation,
    reader: Box<dyn AsyncBufRead + Send + Unpin>,
    remaining: u64,
    padding: u64,
    skipped: Vec<SkippedKey>,
    entries: u64,
    bytes: u64,
    finished: bool,
}

impl std::fmt::Debug for BundleStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BundleStream")
            .field("entries", &self.entries)
            .field("bytes", &self.bytes)
            .field("skipped", &self.skipped)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

/// One object of a bundle: its key, size and bytes (an [`AsyncRead`] that ends after `size`
/// bytes, and fails if the connection ends before).
pub struct BundleEntry<'a> {
    key: String,
    size: u64,
    stream: &'a mut BundleStream,
}

impl std::fmt::Debug for BundleEntry<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BundleEntry")
            .field("key", &self.key)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl BundleEntry<'_> {
    /// The object's key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The object's size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }
}

impl AsyncRead for BundleEntry<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let stream = &mut *self.stream;
        if stream.remaining == 0 || buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        let want = usize::try_from(stream.remaining)
            .unwrap_or(usize::MAX)
            .min(buf.remaining());
        let mut window = ReadBuf::new(buf.initialize_unfilled_to(want));
        match Pin::new(&mut stream.reader).poll_read(cx, &mut window) {
            Poll::Ready(Ok(())) => {
                let n = window.filled().len();
                if n == 0 {
                    return Poll::Ready(Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the bundle stream ended inside an entry",
                    )));
                }
                buf.advance(n);
                stream.remaining -= n as u64;
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

/// What [`BundleStream::write_to_dir`] did.
#[derive(Debug, Clone, Default)]
pub struct WriteReport {
    /// Files written, as paths under the directory.
    pub written: Vec<PathBuf>,
    /// Keys not written because, as paths, they would leave the directory (`..`, absolute
    /// paths, empty segments) or name a directory.
    pub unsafe_keys: Vec<String>,
    /// Keys Tigris left out of the bundle.
    pub skipped: Vec<SkippedKey>,
}

impl BundleStream {
    /// A bundle read from `reader`: a tar stream, then the service's report.
    pub(crate) fn new(operation: Operation, reader: Box<dyn AsyncBufRead + Send + Unpin>) -> Self {
        Self {
            operation,
            reader,
            remaining: 0,
            padding: 0,
            skipped: Vec::new(),
            entries: 0,
            bytes: 0,
            finished: false,
        }
    }

    fn truncated(&self, what: &'static str) -> Error {
        Error::transient(self.operation.clone(), what)
    }

    async fn read_block(&mut self) -> Result<Option<[u8; 512]>> {
        let mut block = [0u8; 512];
        let mut at = 0;
        while at < 512 {
            let n = self
                .reader
                .read(&mut block[at..])
                .await
                .map_err(|e| self.truncated("the bundle stream broke").with_source(e))?;
            if n == 0 {
                return if at == 0 {
                    Ok(None)
                } else {
                    Err(self.truncated("the bundle stream ended inside a tar header"))
                };
            }
            at += n;
        }
        Ok(Some(block))
    }

    async fn skip(&mut self, mut n: u64) -> Result<()> {
        let mut sink = [0u8; 8192];
        while n > 0 {
            let want = usize::try_from(n).unwrap_or(sink.len()).min(sink.len());
            let got = self
                .reader
                .read(&mut sink[..want])
                .await
                .map_err(|e| self.truncated("the bundle stream broke").with_source(e))?;
            if got == 0 {
                return Err(self.truncated("the bundle stream ended inside an entry"));
            }
            n -= got as u64;
        }
        Ok(())
    }

    async fn read_exact_vec(&mut self, n: u64) -> Result<Vec<u8>> {
        let mut data = vec![0u8; usize::try_from(n).unwrap_or(usize::MAX)];
        self.reader.read_exact(&mut data).await.map_err(|e| {
            self.truncated("the bundle stream ended inside an entry")
                .with_source(e)
        })?;
        Ok(data)
    }

    /// The next object, or `None` at the end of the bundle.
    ///
    /// # Errors
    /// [`ErrorKind::Transient`](crate::ErrorKind::Transient) when the stream breaks or ends
    /// before the archive's end; [`ErrorKind::UnexpectedResponse`](crate::ErrorKind::UnexpectedResponse)
    /// when it is not a tar.
    pub async fn next_entry(&mut self) -> Result<Option<BundleEntry<'_>>> {
        if self.finished {
            return Ok(None);
        }
        let rest = self.remaining + self.padding;
        self.skip(rest).await?;
        self.remaining = 0;
        self.padding = 0;
        let mut long_name: Option<String> = None;
        loop {
            let Some(block) = self.read_block().await? else {
                return Err(self.truncated("the bundle stream ended before the end of the archive"));
            };
            if block.iter().all(|b| *b == 0) {
                // The end marker (two zero blocks; the second may be absent in the wild).
                self.finished = true;
                return Ok(None);
            }
            let size = parse_octal(&block[124..136])
                .ok_or_else(|| self.not_tar("a tar header has a bad size"))?;
            let padding = (512 - size % 512) % 512;
            match block[156] {
                b'x' => {
                    if size > MAX_REPORT {
                        return Err(self.not_tar("a PAX header is too large"));
                    }
                    let data = self.read_exact_vec(size).await?;
                    self.skip(padding).await?;
                    long_name = pax_path(&data).or(long_name);
                }
                b'L' => {
                    if size > MAX_REPORT {
                        return Err(self.not_tar("a long-name header is too large"));
                    }
                    let data = self.read_exact_vec(size).await?;
                    self.skip(padding).await?;
                    let name = String::from_utf8_lossy(&data);
                    long_name = Some(name.trim_end_matches('\0').to_owned());
                }
                b'0' | 0 => {
                    let name = match long_name.take() {
                        Some(name) => name,
                        None => header_name(&block),
                    };
                    if name == ERRORS_ENTRY && size <= MAX_REPORT {
                        let data = self.read_exact_vec(size).await?;
                        self.skip(padding).await?;
                        self.skipped.extend(parse_report(&data));
                        continue;
                    }
                    self.remaining = size;
                    self.padding = padding;
                    self.entries += 1;
                    self.bytes += size;
                    return Ok(Some(BundleEntry {
                        key: name,
                        size,
                        stream: self,
                    }));
                }
                _ => {
                    // Directories, links and the like carry no object: skip them.
                    self.skip(size + padding).await?;
                }
            }
        }
    }

    fn not_tar(&self, what: &'static str) -> Error {
        Error::unexpected_response(self.operation.clone(), what)
    }

    /// Keys Tigris left out (skip mode), known once [`next_entry`](Self::next_entry) has
    /// answered `None`.
    pub fn skipped(&self) -> &[SkippedKey] {
        &self.skipped
    }

    /// Entries and object bytes read so far (what Tigris's `x-tigris-bundle-count` and
    /// `x-tigris-bundle-bytes` trailers report, counted here because HTTP clients rarely
    /// surface trailers).
    pub fn counts(&self) -> (u64, u64) {
        (self.entries, self.bytes)
    }

    /// Writes every entry as a file under `dir` (created if missing), streaming each one, and
    /// never outside `dir`: a key that is absolute, has `.`/`..` or empty segments, or ends in
    /// `/` is not written but listed in [`WriteReport::unsafe_keys`].
    ///
    /// # Errors
    /// As [`next_entry`](Self::next_entry), and local I/O errors.
    pub async fn write_to_dir(mut self, dir: impl AsRef<Path>) -> Result<WriteReport> {
        let dir = dir.as_ref().to_owned();
        let io = |op: &Operation, e: std::io::Error| {
            Error::local_io(op.clone(), "writing the bundle to a directory failed", &e)
                .with_source(e)
        };
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| io(&self.operation, e))?;
        let mut report = WriteReport::default();
        let operation = self.operation.clone();
        while let Some(mut entry) = self.next_entry().await? {
            let Some(relative) = safe_relative_path(entry.key()) else {
                report.unsafe_keys.push(entry.key().to_owned());
                continue;
            };
            let path = dir.join(&relative);
            if let Some(parent) = path.parent() {
                tokio::fs::create_dir_all(parent)
                    .await
                    .map_err(|e| io(&operation, e))?;
            }
            let mut file = tokio::fs::File::create(&path)
                .await
                .map_err(|e| io(&operation, e))?;
            let copied = tokio::io::copy(&mut entry, &mut file).await;
            match copied {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    // Never leave a short file that looks complete.
                    drop(file);
                    tokio::fs::remove_file(&path).await.ok();
                    return Err(Error::transient(
                        operation,
                        "the bundle stream ended inside an entry",
                    )
                    .with_source(e));
                }
                Err(e) => {
                    drop(file);
                    tokio::fs::remove_file(&path).await.ok();
                    return Err(io(&operation, e));
                }
            }
            report.written.push(relative);
        }
        report.skipped = self.skipped;
        Ok(report)
    }
}

/// A key as a relative path with only normal segments, or `None` if it could leave the
/// directory or name one.
fn safe_relative_path(key: &str) -> Option<PathBuf> {
    if key.is_empty() || key.ends_with('/') || key.contains('\0') || key.contains('\\') {
        return None;
    }
    let mut out = PathBuf::new();
    for segment in key.split('/') {
        if segment.is_empty() || segment == "." || segment == ".." {
            return None;
        }
        let mut parts = Path::new(segment).components();
        match (parts.next(), parts.next()) {
            (Some(Component::Normal(part)), None) => out.push(part),
            _ => return None,
        }
    }
    Some(out)
}

fn parse_octal(field: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(field).ok()?;
    let text = text.trim_matches(|c: char| c == '\0' || c == ' ');
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

fn header_name(block: &[u8; 512]) -> String {
    let field = |range: std::ops::Range<usize>| {
        let raw = &block[range];
        let end = raw.iter().position(|b| *b == 0).unwrap_or(raw.len());
        String::from_utf8_lossy(&raw[..end]).into_owned()
    };
    let name = field(0..100);
    let prefix = if &block[257..262] == b"ustar" {
        field(345..500)
    } else {
        String::new()
    };
    if prefix.is_empty() {
        name
    } else {
        format!("{prefix}/{name}")
    }
}

/// The `path` record of a PAX extended header.
fn pax_path(data: &[u8]) -> Option<String> {
    let mut rest = data;
    let mut path = None;
    while !rest.is_empty() {
        let space = rest.iter().position(|b| *b == b' ')?;
        let len: usize = std::str::from_utf8(&rest[..space]).ok()?.parse().ok()?;
        if len <= space || len > rest.len() {
            return None;
        }
        let record = &rest[space + 1..len];
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        if let Some(value) = record.strip_prefix(b"path=") {
            path = Some(String::from_utf8_lossy(value).into_owned());
        }
        rest = &rest[len..];
    }
    path
}

pub(crate) fn parse_report(data: &[u8]) -> Vec<SkippedKey> {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return Vec::new();
    };
    value
        .get("skipped")
        .and_then(|s| s.as_array())
        .map(|items| {
            items
                .iter()
                .filter_map(|item| {
                    Some(SkippedKey {
                        key: item.get("key")?.as_str()?.to_owned(),
                        reason: item
                            .get("reason")
                            .and_then(|r| r.as_str())
                            .unwrap_or("unknown")
                            .to_owned(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

impl crate::Client {
    /// Fetches many objects of a bucket as one streamed tar. See [`BundleFluentBuilder`].
    pub fn bundle(&self) -> BundleFluentBuilder {
        BundleFluentBuilder::new(self.transport.clone(), String::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_keys_that_stay_inside_the_directory_become_paths() {
        assert_eq!(
            safe_relative_path("a/b/c.txt"),
            Some(PathBuf::from("a").join("b").join("c.txt"))
        );
        for bad in [
            "",
            "/etc/passwd",
            "../up",
            "a/../../b",
            "a//b",
            "./a",
            "a/.",
            "dir/",
            "a\\..\\b",
            "nul\0",
        ] {
            assert_eq!(safe_relative_path(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn pax_paths_and_octal_sizes_parse() {
        assert_eq!(parse_octal(b"00000000012\0"), Some(10));
        assert_eq!(parse_octal(b"junk"), None);
        let record = b"28 path=some/very/long/name\n";
        assert_eq!(pax_path(record).as_deref(), Some("some/very/long/name"));
        assert_eq!(pax_path(b"99 path=x\n"), None);
    }
}
