//! What the transport sends and what it answers.

use aws_smithy_types::byte_stream::ByteStream;
use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::{HeaderMap, Method, StatusCode};

use crate::BucketName;

use super::signing::percent_encode_into;

/// A request to one of Tigris's non-S3 endpoints: method, optional bucket (path-style), query,
/// extra headers and body. Send it with [`SignedTransport::send`](super::SignedTransport::send).
///
/// ```
/// use tigris_core::transport::TigrisRequest;
/// let request = TigrisRequest::new(http::Method::PATCH)
///     .bucket("my-bucket".parse()?)
///     .json(r#"{"object_notifications":{}}"#);
/// assert_eq!(request.path(), "/my-bucket");
/// assert!(request.is_idempotent());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct TigrisRequest {
    pub(super) method: Method,
    pub(super) bucket: Option<BucketName>,
    pub(super) key: Option<String>,
    pub(super) query: Vec<(String, String)>,
    pub(super) headers: HeaderMap,
    pub(super) body: Bytes,
    pub(super) idempotent: bool,
}

impl TigrisRequest {
    /// A request for `/` with no body. `POST` requests are taken as not idempotent (see
    /// [`idempotent`](Self::idempotent)); every other method as idempotent.
    pub fn new(method: Method) -> Self {
        let idempotent = method != Method::POST;
        Self {
            method,
            bucket: None,
            key: None,
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            idempotent,
        }
    }

    /// Targets `/{bucket}`.
    pub fn bucket(mut self, bucket: BucketName) -> Self {
        self.bucket = Some(bucket);
        self
    }

    /// Targets the object `/{bucket}/{key}` (with [`bucket`](Self::bucket) set; alone it is
    /// ignored). The key is percent-encoded as S3 signs it, `/` kept.
    ///
    /// ```
    /// use tigris_core::transport::TigrisRequest;
    /// let request = TigrisRequest::new(http::Method::HEAD)
    ///     .bucket("my-bucket".parse()?)
    ///     .key("dir/a file.txt");
    /// assert_eq!(request.path(), "/my-bucket/dir/a%20file.txt");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Appends a query parameter; both parts are percent-encoded. An empty value gives a bare
    /// `?name`, as in `?metadata`.
    pub fn query_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// Adds a header, signed with the rest.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }

    /// Sets a JSON body and `Content-Type: application/json`.
    pub fn json(mut self, body: impl Into<Bytes>) -> Self {
        self.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        self.body = body.into();
        self
    }

    /// Sets the body as is.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Whether the request may be repeated when it is not known to have failed before reaching
    /// Tigris (a timeout, a broken connection, a 5xx). A request that is not idempotent is
    /// retried only when it surely did nothing: throttled, or the connection was refused.
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = idempotent;
        self
    }

    /// Whether the request is retried after failures that may have come after it was applied.
    pub fn is_idempotent(&self) -> bool {
        self.idempotent
    }

    /// The HTTP method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path, `/`, `/{bucket}` or `/{bucket}/{key}` (the key percent-encoded).
    pub fn path(&self) -> String {
        let mut path = format!("/{}", self.bucket_str().unwrap_or_default());
        if let (Some(_), Some(key)) = (&self.bucket, &self.key) {
            for segment in key.split('/') {
                path.push('/');
                percent_encode_into(&mut path, segment);
            }
        }
        path
    }

    /// The path and the percent-encoded query, as sent.
    pub(super) fn path_and_query(&self) -> String {
        let mut uri = self.path();
        for (i, (name, value)) in self.query.iter().enumerate() {
            uri.push(if i == 0 { '?' } else { '&' });
            percent_encode_into(&mut uri, name);
            if !value.is_empty() {
                uri.push('=');
                percent_encode_into(&mut uri, value);
            }
        }
        uri
    }

    pub(super) fn bucket_str(&self) -> Option<&str> {
        self.bucket.as_ref().map(BucketName::as_str)
    }
}

/// A successful answer, its body read into memory.
#[derive(Debug, Clone)]
pub struct TigrisResponse {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: Bytes,
}

impl TigrisResponse {
    /// The HTTP status (2xx).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The body, owned.
    pub fn into_body(self) -> Bytes {
        self.body
    }
}

/// A successful answer whose body is still streaming: read it with
/// [`ByteStream::next`](aws_smithy_types::byte_stream::ByteStream::next) or
/// `into_async_read()`, so that no more than one chunk is in memory at a time.
#[derive(Debug)]
pub struct StreamingResponse {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: ByteStream,
}

impl StreamingResponse {
    /// The HTTP status (2xx).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body stream, taking it out of the response.
    pub fn into_body(self) -> ByteStream {
        self.body
    }

    /// Status, headers and body stream.
    pub fn into_parts(self) -> (StatusCode, HeaderMap, ByteStream) {
        (self.status, self.headers, self.body)
    }
}
