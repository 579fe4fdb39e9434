//! SigV4 as Tigris's S3 gateway checks it, for requests sent through another HTTP stack.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http::HeaderMap;
use http::header::{AUTHORIZATION, HeaderName};

use super::ConfigError;

const X_AMZ_SECURITY_TOKEN: HeaderName = HeaderName::from_static("x-amz-security-token");

/// Signs `request` in place for service `s3` in `region` at `time`: single percent-encoding, no
/// path normalisation, `x-amz-content-sha256` of the body signed; `authorization` and
/// `x-amz-security-token` marked sensitive.
pub(super) fn sign_request(
    request: &mut http::Request<Bytes>,
    credentials: &Credentials,
    region: &str,
    time: SystemTime,
) -> Result<(), ConfigError> {
    // A request signed before carries headers that must not feed into the new signature.
    for stale in [
        "authorization",
        "x-amz-date",
        "x-amz-content-sha256",
        "x-amz-security-token",
    ] {
        request.headers_mut().remove(stale);
    }
    if request.uri().authority().is_none() {
        return Err(ConfigError::new(
            "only a request with an absolute URI can be signed",
        ));
    }
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    let identity: Identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("s3")
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| ConfigError::new("could not assemble the signing parameters").with_source(e))?
        .into();
    let signing_error = |e| ConfigError::new("the request could not be signed").with_source(e);
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| Ok((name.as_str(), value.to_str()?)))
        .collect::<Result<Vec<_>, http::header::ToStrError>>()
        .map_err(|e| {
            ConfigError::new("a request header value is not visible ASCII").with_source(e)
        })?;
    let signable = SignableRequest::new(
        request.method().as_str(),
        request.uri().to_string(),
        headers.into_iter(),
        SignableBody::Bytes(request.body()),
    )
    .map_err(signing_error)?;
    let (instructions, _signature) = sign(signable, &params).map_err(signing_error)?.into_parts();
    instructions.apply_to_request_http1x(request);
    mark_sensitive(request.headers_mut());
    Ok(())
}

/// Keeps credentials out of `Debug` output and logs of the headers (and out of HPACK tables).
fn mark_sensitive(headers: &mut HeaderMap) {
    for name in [AUTHORIZATION, X_AMZ_SECURITY_TOKEN] {
        if let http::header::Entry::Occupied(mut entry) = headers.entry(name) {
            for value in entry.iter_mut() {
                value.set_sensitive(true);
            }
        }
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters, as SigV4 canonicalises.
pub(super) fn percent_encode_into(out: &mut String, s: &str) {
    for byte in s.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;
    use http::header::{CONTENT_TYPE, HeaderValue};
    use std::time::Duration;

    fn credentials(token: Option<&str>) -> Credentials {
        Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            token.map(str::to_owned),
            None,
            "test",
        )
    }

    fn patch(body: &'static str) -> http::Request<Bytes> {
        let mut request = http::Request::new(Bytes::from_static(body.as_bytes()));
        *request.method_mut() = Method::PATCH;
        *request.uri_mut() = "http://127.0.0.1:9000/my-bucket".parse().unwrap();
        request
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        request
    }

    #[test]
    fn signing_adds_and_signs_the_payload_hash() {
        let mut request = patch("{}");
        sign_request(
            &mut request,
            &credentials(None),
            "auto",
            SystemTime::UNIX_EPOCH,
        )
        .unwrap();
        let headers = request.headers();
        // SHA-256 of "{}".
        assert_eq!(
            headers["x-amz-content-sha256"],
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert_eq!(headers["x-amz-date"], "19700101T000000Z");
        let auth = headers[AUTHORIZATION].to_str().unwrap();
        assert!(
            auth.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/19700101/auto/s3/aws4_request, "
            ),
            "{auth}"
        );
        assert!(
            auth.contains("SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date,"),
            "{auth}"
        );
        assert!(!headers.contains_key("x-amz-security-token"));
    }

    #[test]
    fn credential_headers_are_sensitive_and_hidden_from_debug() {
        let mut request = patch("{}");
        sign_request(
            &mut request,
            &credentials(Some("session-token-value")),
            "auto",
            SystemTime::now(),
        )
        .unwrap();
        let headers = request.headers();
        assert!(headers[AUTHORIZATION].is_sensitive());
        assert!(headers["x-amz-security-token"].is_sensitive());
        let shown = format!("{headers:?}");
        assert!(!shown.contains("session-token-value"), "{shown}");
        assert!(!shown.contains("Signature="), "{shown}");
    }

    #[test]
    fn re_signing_replaces_the_previous_signature() {
        let mut request = patch("{}");
        sign_request(
            &mut request,
            &credentials(None),
            "auto",
            SystemTime::UNIX_EPOCH,
        )
        .unwrap();
        let first = request.headers()[AUTHORIZATION].clone();
        sign_request(
            &mut request,
            &credentials(None),
            "auto",
            SystemTime::UNIX_EPOCH + Duration::from_secs(60),
        )
        .unwrap();
        assert_eq!(request.headers().get_all(AUTHORIZATION).iter().count(), 1);
        assert_ne!(request.headers()[AUTHORIZATION], first);
        assert_eq!(request.headers()["x-amz-date"], "19700101T000100Z");
    }

    #[test]
    fn relative_uris_cannot_be_signed() {
        let mut request = patch("{}");
        *request.uri_mut() = "/my-bucket".parse().unwrap();
        assert!(sign_request(&mut request, &credentials(None), "auto", SystemTime::now()).is_err());
    }

    #[test]
    fn query_parameters_are_percent_encoded() {
        let mut out = String::new();
        percent_encode_into(&mut out, "a b/ü~");
        assert_eq!(out, "a%20b%2F%C3%BC~");
    }
}
