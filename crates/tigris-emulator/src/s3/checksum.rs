//! Checksums as S3 has them: a writer's `x-amz-checksum-{crc32,crc32c,crc64nvme,sha1,sha256}`
//! header and `Content-MD5` are verified against the body (`400 BadDigest`), the checksum is
//! stored with the object and answered on reads that ask for it (`x-amz-checksum-mode:
//! ENABLED`). A multipart object's checksum is the composite of its parts' (`…-N`) or, for a
//! CRC with `ChecksumType` `FULL_OBJECT`, the CRC of the whole body.
//!
//! Only headers are claims: a presigned URL carries, in its query, the checksum of the body it
//! was presigned with (the empty body, for an SDK presigning an UploadPart), which is no claim
//! about the body later sent with it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use http::HeaderMap;
use s3s::crypto::Checksum as _;
use s3s::{S3Result, s3_error};

/// The algorithms S3 offers, by the name its headers and XML use.
pub(crate) const ALGORITHMS: [&str; 5] = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"];

/// `FULL_OBJECT` or `COMPOSITE`, as `x-amz-checksum-type` says.
pub(crate) const FULL_OBJECT: &str = "FULL_OBJECT";
pub(crate) const COMPOSITE: &str = "COMPOSITE";

/// The raw digest of `data` by `algorithm` (one of [`ALGORITHMS`]).
fn digest(algorithm: &str, data: &[u8]) -> Option<Vec<u8>> {
    Some(match algorithm {
        "CRC32" => s3s::crypto::Crc32::checksum(data).to_vec(),
        "CRC32C" => s3s::crypto::Crc32c::checksum(data).to_vec(),
        "CRC64NVME" => s3s::crypto::Crc64Nvme::checksum(data).to_vec(),
        "SHA1" => s3s::crypto::Sha1::checksum(data).to_vec(),
        "SHA256" => s3s::crypto::Sha256::checksum(data).to_vec(),
        _ => return None,
    })
}

/// The base64 checksum of `data` by `algorithm`.
pub(crate) fn compute(algorithm: &str, data: &[u8]) -> Option<String> {
    digest(algorithm, data).map(|d| B64.encode(d))
}

/// The algorithm name for `name` in any case (`sha256` → `SHA256`), if S3 offers it.
pub(crate) fn algorithm(name: &str) -> Option<&'static str> {
    ALGORITHMS
        .into_iter()
        .find(|a| a.eq_ignore_ascii_case(name))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The checksum a write's headers claim for its body: (algorithm, base64 value). More than one
/// is `400 InvalidRequest`, as on S3.
pub(crate) fn claimed(headers: &HeaderMap) -> S3Result<Option<(&'static str, String)>> {
    let mut found = None;
    for algorithm in ALGORITHMS {
        let name = format!("x-amz-checksum-{}", algorithm.to_ascii_lowercase());
        if let Some(value) = header(headers, &name) {
            if found.is_some() {
                return Err(s3_error!(
                    InvalidRequest,
                    "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
                ));
            }
            found = Some((algorithm, value.trim().to_owned()));
        }
    }
    Ok(found)
}

/// The algorithm a write names without a value (`x-amz-sdk-checksum-algorithm`), if any.
fn named(headers: &HeaderMap) -> Option<&'static str> {
    header(headers, "x-amz-sdk-checksum-algorithm").and_then(algorithm)
}

fn bad_digest(algorithm: &str) -> s3s::S3Error {
    s3_error!(
        BadDigest,
        "The {algorithm} you specified did not match the calculated checksum."
    )
}

/// Verifies a write's body against its `Content-MD5` (by `md5`, the body's hex MD5, computed
/// as it was read) and `x-amz-checksum-*` headers and answers the checksum to keep with it: the
/// claimed one, or the one it (or `default`, an upload's algorithm) names, computed.
pub(crate) fn verify(
    headers: &HeaderMap,
    data: &[u8],
    md5: &str,
    default: Option<&str>,
) -> S3Result<Option<(String, String)>> {
    check_md5(headers, md5)?;
    if let Some((algorithm, value)) = claimed(headers)? {
        let actual = compute(algorithm, data).unwrap_or_default();
        if actual != value {
            return Err(bad_digest(algorithm));
        }
        return Ok(Some((algorithm.to_owned(), value)));
    }
    let wanted = named(headers).or_else(|| default.and_then(algorithm));
    Ok(wanted.and_then(|a| compute(a, data).map(|v| (a.to_owned(), v))))
}

/// `Content-MD5` against `md5`, the body's hex MD5: not the base64 of 16 bytes is `400
/// InvalidDigest`, another body's `400 BadDigest`.
pub(crate) fn check_md5(headers: &HeaderMap, md5: &str) -> S3Result<()> {
    let Some(claim) = headers.get("content-md5") else {
        return Ok(());
    };
    let claim = claim
        .to_str()
        .ok()
        .and_then(|c| B64.decode(c.trim()).ok())
        .filter(|c| c.len() == 16)
        .ok_or_else(|| s3_error!(InvalidDigest, "The Content-MD5 you specified was invalid."))?;
    if hex::encode(claim) != md5 {
        return Err(s3_error!(
            BadDigest,
            "The Content-MD5 you specified did not match what we received."
        ));
    }
    Ok(())
}

/// A multipart object's composite checksum: the checksum of the parts' raw checksums, then
/// `-N`. `None` when a part's value is not base64.
pub(crate) fn composite(algorithm: &str, parts: &[String]) -> Option<String> {
    let mut raw = Vec::new();
    for part in parts {
        raw.extend(B64.decode(part).ok()?);
    }
    Some(format!("{}-{}", compute(algorithm, &raw)?, parts.len()))
}

/// The type of a stored checksum value: a composite one ends `-N`.
pub(crate) fn kind(value: &str) -> &'static str {
    if value.contains('-') {
        COMPOSITE
    } else {
        FULL_OBJECT
    }
}

/// Sets the field of `$out` for checksum `$algorithm` to `$value` (every S3 output with
/// checksums names them alike).
macro_rules! set_checksum {
    ($out:expr, $algorithm:expr, $value:expr) => {{
        let value: String = $value;
        match $algorithm {
            "CRC32" => $out.checksum_crc32 = Some(value),
            "CRC32C" => $out.checksum_crc32c = Some(value),
            "CRC64NVME" => $out.checksum_crc64nvme = Some(value),
            "SHA1" => $out.checksum_sha1 = Some(value),
            "SHA256" => $out.checksum_sha256 = Some(value),
            _ => {}
        }
    }};
}
pub(crate) use set_checksum;

/// Sets `$out`'s checksum fields and `checksum_type` from an object's stored `(algorithm,
/// value)` pairs (`ObjectExtra::checksums`).
macro_rules! set_stored_checksums {
    ($out:expr, $checksums:expr) => {{
        for (algorithm, value) in $checksums {
            $out.checksum_type = Some(s3s::dto::ChecksumType::from_static(
                $crate::s3::checksum::kind(value),
            ));
            $crate::s3::checksum::set_checksum!($out, algorithm.as_str(), value.clone());
        }
    }};
}
pub(crate) use set_stored_checksums;

/// The checksum field of `$part` for `$algorithm` (inputs and outputs name them alike).
macro_rules! get_checksum {
    ($part:expr, $algorithm:expr) => {
        match $algorithm {
            "CRC32" => $part.checksum_crc32.as_deref(),
            "CRC32C" => $part.checksum_crc32c.as_deref(),
            "CRC64NVME" => $part.checksum_crc64nvme.as_deref(),
            "SHA1" => $part.checksum_sha1.as_deref(),
            "SHA256" => $part.checksum_sha256.as_deref(),
            _ => None,
        }
    };
}
pub(crate) use get_checksum;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_matches_known_values() {
        // 1024 bytes of `A`: values from ceph/s3-tests and Python's zlib/hashlib.
        let data = vec![b'A'; 1024];
        for (algorithm, value) in [
            ("CRC32", "tzf7Gg=="),
            ("CRC32C", "9mB6kg=="),
            ("CRC64NVME", "Qeh8oXvGiSo="),
            ("SHA1", "dGw/TShsUx4GXor3bgrAhogxxrQ="),
            ("SHA256", "arcu6553sHVAiX4MjW0j7I7vD4w6R+Gz9Ok0Q9lTa+0="),
        ] {
            assert_eq!(
                compute(algorithm, &data).as_deref(),
                Some(value),
                "{algorithm}"
            );
        }
    }

    #[test]
    fn a_composite_is_the_checksum_of_the_part_checksums() {
        // ceph/s3-tests: three 5 MiB parts of `A`, `B` and `C`.
        let parts = [
            "275VF5loJr1YYawit0XSHREhkFXYkkPKGuoK0x9VKxI=".to_owned(),
            "mrHwOfjTL5Zwfj74F05HOQGLdUb7E5szdCbxgUSq6NM=".to_owned(),
            "Vw7oB/nKQ5xWb3hNgbyfkvDiivl+U+/Dft48nfJfDow=".to_owned(),
        ];
        assert_eq!(
            composite("SHA256", &parts).as_deref(),
            Some("uWBwpe1dxI4Vw8Gf0X9ynOdw/SS6VBzfWm9giiv1sf4=-3")
        );
        assert_eq!(composite("SHA256", &["not base64!".to_owned()]), None);
    }

    #[test]
    fn two_checksum_headers_are_refused() {
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-checksum-crc32", "AAAAAA==".parse().unwrap());
        headers.insert("x-amz-checksum-sha1", "AAAAAA==".parse().unwrap());
        assert!(claimed(&headers).is_err());
    }

    mod no_panic {
        //! A write's checksum headers, whatever their values, are verified or refused.
        use super::super::*;
        use md5::Digest as _;
        use proptest::prelude::*;

        const NAMES: &[&str] = &[
            "content-md5",
            "x-amz-checksum-crc32",
            "x-amz-checksum-crc32c",
            "x-amz-checksum-crc64nvme",
            "x-amz-checksum-sha1",
            "x-amz-checksum-sha256",
            "x-amz-sdk-checksum-algorithm",
        ];

        fn value() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("1B2M2Y8AsgTpgAmY7PhCfg==".to_owned()),
                Just("AAAAAA==".to_owned()),
                Just("sha256".to_owned()),
                "[A-Za-z0-9+/=-]{0,48}",
                any::<String>(),
            ]
        }

        proptest! {
            #[test]
            fn write_headers(
                headers in prop::collection::vec((prop::sample::select(NAMES), value()), 0..4),
                data in prop::collection::vec(any::<u8>(), 0..64),
                default in proptest::option::of(value()),
            ) {
                let mut map = HeaderMap::new();
                for (name, value) in &headers {
                    if let Ok(v) = http::HeaderValue::from_bytes(value.as_bytes()) {
                        map.append(*name, v);
                    }
                }
                let md5 = hex::encode(md5::Md5::digest(&data));
                let _ = verify(&map, &data, &md5, default.as_deref());
            }

            #[test]
            fn composites(algorithm in value(), parts in prop::collection::vec(value(), 0..4)) {
                if let Some(total) = composite(&algorithm, &parts) {
                    prop_assert_eq!(kind(&total), COMPOSITE);
                }
                let _ = kind(&algorithm);
            }
        }
    }
}
